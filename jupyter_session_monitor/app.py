"""The jupyter_server extension: configuration and wiring.

This is the only module that knows how jupyter_server starts an extension. Options are traitlets, so
they can be set as ``--SessionMonitorApp.<option>=...`` or in ``jupyter_server_config.py`` and are
listed by ``jupyter server --help-all``.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from jupyter_core.paths import jupyter_data_dir
from jupyter_server.extension.application import ExtensionApp
from tornado.ioloop import IOLoop
from traitlets import Bool, Float, Int, Unicode, default

from ._version import __version__
from .handlers import API_PREFIX, handlers
from .kernel import hook
from .monitor import MonitorConfig, SessionMonitor
from .poller import Intervals
from .runtime import RuntimeGateway
from .store import Store


class SessionMonitorApp(ExtensionApp):
    """Tracks the Qiskit Runtime sessions that this server's notebooks open."""

    name = "jupyter_session_monitor"
    description = "Monitor and control Qiskit Runtime sessions opened from notebooks."
    version = __version__

    # Loaded as one extension among others by JupyterLab's server; never the main app.
    load_other_extensions = True

    db_path = Unicode(
        help="SQLite file of the session registry (history survives server restarts).",
    ).tag(config=True)

    @default("db_path")
    def _default_db_path(self) -> str:
        return str(Path(jupyter_data_dir()) / "session_monitor" / "registry.sqlite")

    poll_busy_interval = Float(2.0, help="Seconds between polls while jobs queue or run.").tag(
        config=True
    )
    poll_active_interval = Float(
        5.0, help="Seconds between polls of an active session with no job pending."
    ).tag(config=True)
    poll_idle_interval = Float(
        30.0, help="Seconds between polls of an open (no job yet) or inactive session."
    ).tag(config=True)
    max_backoff = Float(300.0, help="Longest wait between polls after repeated failures.").tag(
        config=True
    )
    request_timeout = Float(
        20.0, help="Seconds to wait for one call to the Qiskit Runtime service (it has none)."
    ).tag(config=True)
    max_workers = Int(4, help="Threads making calls to the Qiskit Runtime service.").tag(
        config=True
    )
    no_job_close_seconds = Float(
        1800.0,
        help="A session with no job closes this long after it opens (the service's 30-minute "
        "rule; set it to match an emulator's --time-scale).",
    ).tag(config=True)
    retention_days = Float(
        30.0, help="Closed sessions older than this are pruned from the registry at start."
    ).tag(config=True)

    inject_kernel_hook = Bool(
        True,
        help="Give Python kernels started by this server the hook that reports the sessions they "
        "open (through PYTHONSTARTUP). Off: only kernels that run "
        "'%load_ext jupyter_session_monitor' report.",
    ).tag(config=True)

    monitor: SessionMonitor | None = None

    def initialize_settings(self) -> None:
        store = Store(self.db_path)
        gateway = RuntimeGateway(max_workers=self.max_workers, request_timeout=self.request_timeout)
        config = MonitorConfig(
            intervals=Intervals(
                busy=self.poll_busy_interval,
                active=self.poll_active_interval,
                idle=self.poll_idle_interval,
                error_max=self.max_backoff,
            ),
            no_job_close_seconds=self.no_job_close_seconds,
            retention=timedelta(days=self.retention_days),
        )
        self.monitor = SessionMonitor(store, gateway, config)
        self.settings["session_monitor"] = self.monitor
        self.settings["session_monitor_kernel_secret"] = secrets.token_urlsafe(32)
        self._prepare_kernel_environment()
        # Start on the server's loop as soon as it runs (also where the start hook is not called).
        IOLoop.current().add_callback(self.monitor.start)

    def _prepare_kernel_environment(self) -> None:
        """Kernels inherit this process's environment: tell them where and how to register."""
        os.environ[hook.ENV_SECRET] = self.settings["session_monitor_kernel_secret"]
        self._publish_url()
        if not self.inject_kernel_hook:
            return
        startup = str(Path(__file__).parent / "kernel" / "startup.py")
        current = os.environ.get("PYTHONSTARTUP")
        if current and current != startup:
            os.environ["JUPYTER_SESSION_MONITOR_USER_STARTUP"] = current  # still run, after ours
        os.environ["PYTHONSTARTUP"] = startup

    def _publish_url(self) -> None:
        if self.serverapp is not None and not self.serverapp.sock:
            os.environ[hook.ENV_URL] = self.serverapp.connection_url

    def initialize_handlers(self) -> None:
        self.handlers.extend(handlers())

    async def _start_jupyter_server_extension(self, serverapp: object) -> None:
        assert self.monitor is not None
        self._publish_url()  # the port is final once the server listens
        await self.monitor.start()
        # Runs on the event loop once the server is listening (jupyter_server binds its socket in
        # an earlier loop callback), so tools and tests can take this line as "ready".
        self.log.info("Qiskit session monitor %s is serving %s", __version__, API_PREFIX)

    async def stop_extension(self) -> None:
        if self.monitor is not None:
            await self.monitor.stop()
