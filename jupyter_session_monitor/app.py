"""The jupyter_server extension: configuration and wiring.

This is the only module that knows how jupyter_server starts an extension. Options are traitlets, so
they can be set as ``--SessionMonitorApp.<option>=...`` or in ``jupyter_server_config.py`` and are
listed by ``jupyter server --help-all``.
"""

from __future__ import annotations

import os
import secrets
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_data_dir
from jupyter_server.extension.application import ExtensionApp
from tornado.ioloop import IOLoop
from traitlets import Bool, Enum, Float, Int, Unicode, default

from ._version import __version__
from .handlers import handlers
from .monitor import MonitorConfig, SessionMonitor
from .poller import Intervals
from .protocol import API_PREFIX, ENV_SECRET, ENV_URL, SESSION_CHANGES_ID
from .runtime import RuntimeGateway
from .store import Store

#: File systems on which SQLite's locking (and WAL's shared memory) cannot be trusted.
NETWORK_FILESYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "afs", "lustre", "gpfs", "9p"}
)


def network_filesystem_warning(db_path: str, mounts: str = "/proc/mounts") -> str | None:
    """What to tell the admin when the registry would live on a network file system (NFS home
    directories on hubs): SQLite in WAL mode is not safe there."""
    try:
        with open(mounts, encoding="utf-8") as table:
            entries = [line.split()[1:3] for line in table if len(line.split()) >= 3]
    except OSError:
        return None
    target = str(Path(db_path).expanduser().resolve().parent)
    best = ("", "")
    for mount_point, fs_type in entries:
        mount_point = mount_point.replace("\\040", " ")
        inside = target == mount_point or target.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) > len(best[0]):
            best = (mount_point, fs_type)
    if best[1] not in NETWORK_FILESYSTEMS:
        return None
    return (
        f"The session monitor's registry {db_path} is on a network file system ({best[1]}), "
        "where SQLite cannot lock reliably: history may be lost or corrupted when two servers "
        "use it. Set SessionMonitorApp.db_path to a file on local disk (for example under /tmp "
        "or the server's runtime directory)."
    )


SESSION_CHANGES_SCHEMA = Path(__file__).parent / "event_schemas" / "session_changes" / "v1.yaml"
KERNEL_ACTIONS_ID = "https://events.jupyter.org/jupyter_server/kernel_actions/v1"


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

    orphan_policy = Enum(
        ["flag", "close"],
        "flag",
        help="What to do with a session whose kernel restarted, died or shut down: 'flag' it (and "
        "notify), or 'close' it gracefully after orphan_grace_seconds.",
    ).tag(config=True)
    orphan_grace_seconds = Float(
        300.0, help="With orphan_policy='close', how long an orphan may stay open."
    ).tag(config=True)

    discover_workloads = Bool(
        False,
        help="Also track the server's default account's open sessions found through the "
        "service's workload listing (shown as not from a notebook here).",
    ).tag(config=True)
    discovery_interval = Float(
        60.0, help="With discover_workloads, seconds between workload listings."
    ).tag(config=True)

    rate_per_second = Float(
        None,
        allow_none=True,
        help="Price of one billed second of Qiskit Runtime usage, to show costs and enforce "
        "budgets in money. None (the default): only billed time is shown. Take it from your "
        "plan or contract (IBM Quantum's pricing page and your account's billing terms); the "
        "monitor never assumes one. Users can change it from the sidebar (kept in the "
        "registry, which then wins over this default).",
    ).tag(config=True)
    currency = Unicode(
        None, allow_none=True, help="Label shown with costs, such as 'USD' (with rate_per_second)."
    ).tag(config=True)
    instance_usage_interval = Float(
        300.0,
        help="Seconds between readings of each account's instance usage (what service.usage() "
        "reads: consumed, limit, remaining); it is also read soon after a session closes. "
        "0 turns the readings off.",
    ).tag(config=True)

    monitor: SessionMonitor | None = None

    def initialize_settings(self) -> None:
        warning = network_filesystem_warning(self.db_path)
        if warning:
            self.log.warning(warning)
        # A fresh identity per start: the registry scopes rows to it, adopting those of servers
        # that are gone (this one's previous run included).
        store = Store(self.db_path, server_id=uuid.uuid4().hex)
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
            orphan_policy=self.orphan_policy,
            orphan_grace_seconds=self.orphan_grace_seconds,
            discovery_interval=self.discovery_interval if self.discover_workloads else None,
            server_url=self.serverapp.connection_url if self.serverapp is not None else None,
            rate_per_second=self.rate_per_second,
            currency=self.currency,
            instance_interval=self.instance_usage_interval,
        )
        assert self.serverapp is not None
        kernels = self.serverapp.kernel_manager
        self.monitor = SessionMonitor(
            store, gateway, config, kernel_exists=lambda kernel_id: kernel_id in kernels
        )
        self._connect_events()
        self.settings["session_monitor"] = self.monitor
        self.settings["session_monitor_kernel_secret"] = secrets.token_urlsafe(32)
        self._prepare_kernel_environment()
        # Start on the server's loop as soon as it runs (also where the start hook is not called).
        IOLoop.current().add_callback(self.monitor.start)

    def _connect_events(self) -> None:
        """Push every change to browsers; learn of kernel restarts and shutdowns (orphans)."""
        assert self.serverapp is not None
        assert self.monitor is not None
        events = self.serverapp.event_logger
        assert events is not None
        events.register_event_schema(SESSION_CHANGES_SCHEMA)
        monitor = self.monitor

        def push(change: dict[str, object]) -> None:
            events.emit(schema_id=SESSION_CHANGES_ID, data=change)

        monitor.subscribe(push)

        async def on_kernel_action(logger: object, schema_id: str, data: dict[str, Any]) -> None:
            kernel_id = data.get("kernel_id")
            if data.get("status") != "success" or not kernel_id:
                return
            if data.get("action") == "restart":
                monitor.kernel_gone(kernel_id, "its kernel restarted")
            elif data.get("action") == "shutdown":
                monitor.kernel_gone(kernel_id, "its kernel was shut down")

        events.add_listener(schema_id=KERNEL_ACTIONS_ID, listener=on_kernel_action)

    def _prepare_kernel_environment(self) -> None:
        """Kernels inherit this process's environment: tell them where and how to register."""
        os.environ[ENV_SECRET] = self.settings["session_monitor_kernel_secret"]
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
            os.environ[ENV_URL] = self.serverapp.connection_url

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
