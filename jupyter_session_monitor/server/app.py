"""The jupyter_server extension: configuration and wiring.

This is the only module that knows how jupyter_server starts an extension. Options are traitlets, so
they can be set as ``--SessionMonitorApp.<option>=...`` or in ``jupyter_server_config.py`` and are
listed by ``jupyter server --help-all``.
"""

from __future__ import annotations

import math
import os
import re
import secrets
import stat
import tempfile
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_data_dir, jupyter_runtime_dir
from jupyter_server.extension.application import ExtensionApp
from tornado.ioloop import IOLoop
from traitlets import Bool, Enum, Float, Int, Unicode, default

from jupyter_session_monitor._version import __version__
from jupyter_session_monitor.engine.monitor import MonitorConfig
from jupyter_session_monitor.engine.poller import Intervals
from jupyter_session_monitor.policies.monitor import SessionMonitor
from jupyter_session_monitor.protocol import API_PREFIX, ENV_SECRET, ENV_URL, SESSION_CHANGES_ID
from jupyter_session_monitor.registry.store import Store
from jupyter_session_monitor.server import metrics
from jupyter_session_monitor.service.runtime import RuntimeGateway

from .handlers import handlers

#: File system types (as /proc/self/mounts names them) on which SQLite's WAL mode is not safe: its
#: shared-memory index and the file locks do not work reliably across a network.
NETWORK_FILESYSTEMS = frozenset(
    {
        "nfs", "nfs4", "cifs", "smb3", "smbfs", "afs", "ncpfs", "coda",
        "lustre", "gpfs", "beegfs", "ceph", "glusterfs", "9p", "davfs", "orangefs",
        "fuse.sshfs", "fuse.ceph-fuse", "fuse.cephfs", "fuse.glusterfs", "fuse.s3fs",
        "fuse.gcsfuse", "fuse.juicefs", "fuse.rclone", "fuse.lxcfs-remote",
    }
)  # fmt: skip

#: Prefix of the environment variables that give image-wide defaults (see ``ENV_SETTINGS``).
ENV_PREFIX = "JUPYTER_SESSION_MONITOR_"

_MOUNT_ESCAPE = re.compile(r"\\([0-7]{3})")


class SettingError(ValueError):
    """A setting the monitor cannot start with; the message says which and what to do."""


def mount_of(path: str, mounts: str) -> tuple[str, str] | None:
    """(mount point, file system type) of the mount holding ``path``: the longest mount point that
    is a prefix of it in ``mounts``, a table in the format of /proc/self/mounts."""
    target = str(Path(path).expanduser().resolve())
    best: tuple[str, str] | None = None
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        # Spaces, tabs, newlines and backslashes in mount points are octal escapes (\040 ...).
        point = _MOUNT_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), fields[1])
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        # Later lines win at equal length: a mount stacked over another hides it.
        if inside and (best is None or len(point) >= len(best[0])):
            best = (point, fields[2])
    return best


def network_filesystem(path: str, mounts: str | None = None) -> str | None:
    """The network file system type that ``path`` lives on, or None (local, or not known: no
    mounts table outside Linux). ``mounts``: the table's text (default: /proc/self/mounts)."""
    if mounts is None:
        try:
            mounts = Path("/proc/self/mounts").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
    found = mount_of(path, mounts)
    if found is None or found[1] not in NETWORK_FILESYSTEMS:
        return None
    return found[1]


def local_registry_path() -> str:
    """Where the registry goes when its default folder is on a network file system: this user's
    Jupyter runtime folder when that is local (XDG_RUNTIME_DIR usually is), else a private folder
    of this user under the temporary directory."""
    runtime = Path(jupyter_runtime_dir()) / "session_monitor"
    if network_filesystem(str(runtime)) is None:
        return str(runtime / "registry.sqlite")
    folder = Path(tempfile.gettempdir()) / f"jupyter-session-monitor-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise SettingError(
            f"{folder} exists but is not a private folder of this user; the session monitor "
            "will not keep its registry there. Set SessionMonitorApp.db_path (or "
            f"{ENV_PREFIX}DB_PATH) to a file on local disk."
        )
    return str(folder / "registry.sqlite")


def _positive(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value <= 0:
        raise ValueError("a number of seconds greater than 0 is required")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise ValueError("a number greater than or equal to 0 is required")
    return value


def _orphan_policy(text: str) -> str:
    if text not in ("flag", "close"):
        raise ValueError("'flag' or 'close' is required")
    return text


def _text(text: str) -> str:
    if not text.strip():
        raise ValueError("a non-empty value is required")
    return text.strip()


#: The settings an admin sets image-wide (a hub's single-user image), each read from
#: JUPYTER_SESSION_MONITOR_<NAME upper-cased> as the traitlet's default: command line and config
#: files still win. An invalid value stops the monitor with a message naming the variable.
ENV_SETTINGS: dict[str, Callable[[str], Any]] = {
    "db_path": _text,
    "poll_busy_interval": _positive,
    "poll_active_interval": _positive,
    "poll_idle_interval": _positive,
    "max_backoff": _positive,
    "orphan_policy": _orphan_policy,
    "orphan_grace_seconds": _non_negative,
    "retention_days": _positive,
    "instance_usage_interval": _non_negative,
    "usage_settle_seconds": _non_negative,
    "rate_per_second": _non_negative,
    "currency": _text,
}


def env_name(trait: str) -> str:
    return ENV_PREFIX + trait.upper()


SESSION_CHANGES_SCHEMA = (
    Path(__file__).parent.parent / "event_schemas" / "session_changes" / "v1.yaml"
)
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

    #: Whether db_path is the built-in default (not set by config, command line or environment):
    #: only that one is moved to local disk when it is on a network file system.
    _db_path_is_builtin = False

    @default("db_path")
    def _default_db_path(self) -> str:
        if env_name("db_path") in os.environ:
            return str(Path(self._from_environment("db_path", "")).expanduser())
        self._db_path_is_builtin = True
        return str(Path(jupyter_data_dir()) / "session_monitor" / "registry.sqlite")

    def _from_environment(self, trait: str, fallback: Any) -> Any:
        """The value of ``trait``'s environment variable, else ``fallback`` (its usual default)."""
        name = env_name(trait)
        text = os.environ.get(name)
        if text is None:
            return fallback
        try:
            return ENV_SETTINGS[trait](text)
        except ValueError as error:
            # Read when jupyter_server loads the extension (it reads every trait first).
            raise self._refusal(
                f"{name}={text!r} is not a valid default for SessionMonitorApp.{trait}: {error}. "
                "Fix or unset the variable (--SessionMonitorApp."
                f"{trait}=... on the command line or in a config file wins over it)."
            ) from None

    def _refusal(self, message: str) -> SettingError:
        """Say in one line why the monitor does not start; jupyter_server then reports the
        extension as not loaded (its routes are absent) and the server runs on."""
        self.log.error("The Qiskit session monitor is not started: %s", message)
        return SettingError(message)

    def _environment_default(self, trait: str) -> Any:
        return self._from_environment(trait, self.traits()[trait].default_value)

    @default("poll_busy_interval")
    def _default_poll_busy_interval(self) -> float:
        return float(self._environment_default("poll_busy_interval"))

    @default("poll_active_interval")
    def _default_poll_active_interval(self) -> float:
        return float(self._environment_default("poll_active_interval"))

    @default("poll_idle_interval")
    def _default_poll_idle_interval(self) -> float:
        return float(self._environment_default("poll_idle_interval"))

    @default("max_backoff")
    def _default_max_backoff(self) -> float:
        return float(self._environment_default("max_backoff"))

    @default("orphan_policy")
    def _default_orphan_policy(self) -> str:
        return str(self._environment_default("orphan_policy"))

    @default("orphan_grace_seconds")
    def _default_orphan_grace_seconds(self) -> float:
        return float(self._environment_default("orphan_grace_seconds"))

    @default("retention_days")
    def _default_retention_days(self) -> float:
        return float(self._environment_default("retention_days"))

    @default("instance_usage_interval")
    def _default_instance_usage_interval(self) -> float:
        return float(self._environment_default("instance_usage_interval"))

    @default("usage_settle_seconds")
    def _default_usage_settle_seconds(self) -> float:
        return float(self._environment_default("usage_settle_seconds"))

    @default("rate_per_second")
    def _default_rate_per_second(self) -> float | None:
        value = self._environment_default("rate_per_second")
        return None if value is None else float(value)

    @default("currency")
    def _default_currency(self) -> str | None:
        value = self._environment_default("currency")
        return None if value is None else str(value)

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
    track_workers = Int(
        16,
        help="Threads making the first read of sessions asked to be tracked (the Track form, "
        "POST sessions, kernels' reports): tracking many at once runs this many reads at a time.",
    ).tag(config=True)
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

    usage_settle_seconds = Float(
        120.0,
        help="Seconds a closed session's usage figures (its billed time, its jobs' quantum "
        "seconds) are read again after it closed and after each of its jobs ended: the service "
        "reports usage periodically, so the figure read at the end may be that of an earlier "
        "report. 0 takes the figures read at the end as final (a service that reports live).",
    ).tag(config=True)

    monitor: SessionMonitor | None = None
    _collector: metrics.MonitorCollector | None = None

    def initialize_settings(self) -> None:
        self._read_settings()
        self.db_path = self._registry_path()
        # A fresh identity per start: the registry scopes rows to it, adopting those of servers
        # that are gone (this one's previous run included).
        store = Store(self.db_path, server_id=uuid.uuid4().hex)
        gateway = RuntimeGateway(
            max_workers=self.max_workers,
            request_timeout=self.request_timeout,
            track_workers=self.track_workers,
        )
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
            root_dir=self.serverapp.root_dir if self.serverapp is not None else None,
            usage_settle_seconds=self.usage_settle_seconds,
        )
        assert self.serverapp is not None
        kernels = self.serverapp.kernel_manager
        self.monitor = SessionMonitor(
            store, gateway, config, kernel_exists=lambda kernel_id: kernel_id in kernels
        )
        self._connect_events()
        self._collector = metrics.register(self.monitor)
        self.settings["session_monitor"] = self.monitor
        self.settings["session_monitor_kernel_secret"] = secrets.token_urlsafe(32)
        self._prepare_kernel_environment()
        # Start on the server's loop as soon as it runs (also where the start hook is not called).
        IOLoop.current().add_callback(self.monitor.start)

    def _read_settings(self) -> None:
        """Read every setting once, so an invalid environment default stops the start here."""
        for trait in ENV_SETTINGS:
            getattr(self, trait)

    def _registry_path(self) -> str:
        """db_path, or where the registry goes instead when the default is on a network file
        system; a path chosen on one is refused (SettingError)."""
        path = self.db_path
        fs_type = network_filesystem(path)
        if fs_type is None:
            return path
        if not self._db_path_is_builtin:
            source = (
                f"{env_name('db_path')} (the default of SessionMonitorApp.db_path)"
                if env_name("db_path") in os.environ and "db_path" not in self._configured()
                else "SessionMonitorApp.db_path"
            )
            raise self._refusal(
                f"its registry {path}, set by {source}, is on a network file system ({fs_type}), "
                "where SQLite's WAL mode can corrupt it or lose history. Set "
                "SessionMonitorApp.db_path to a file on local disk (for example under /tmp or "
                "the Jupyter runtime folder)."
            )
        try:
            fallback = local_registry_path()
        except SettingError as error:
            raise self._refusal(str(error)) from None
        self.log.warning(
            "The session monitor's registry %s is on a network file system (%s), where SQLite's "
            "WAL mode is not safe: using %s on local disk instead. Set SessionMonitorApp.db_path "
            "(or %s) to choose a local path.",
            path,
            fs_type,
            fallback,
            env_name("db_path"),
        )
        return fallback

    def _configured(self) -> set[str]:
        section = self.config.get(type(self).__name__, {})
        return set(section) if isinstance(section, dict) else set()

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
        # For the metrics: the sockets subscribed to these changes on the event bus (jupyter_events
        # keeps its listeners per schema; read defensively, it is not a public attribute).
        monitor.push_listeners = lambda: len(
            getattr(events, "_modified_listeners", {}).get(SESSION_CHANGES_ID, ())
        )

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
        startup = str(Path(__file__).parent.parent / "kernel" / "startup.py")
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
        if self.monitor is None:
            return  # not loaded (a setting refused): the reason was logged then
        self._publish_url()  # the port is final once the server listens
        await self.monitor.start()
        # Runs on the event loop once the server is listening (jupyter_server binds its socket in
        # an earlier loop callback), so tools and tests can take this line as "ready".
        self.log.info("Qiskit session monitor %s is serving %s", __version__, API_PREFIX)

    async def stop_extension(self) -> None:
        if self._collector is not None:
            metrics.unregister(self._collector)
            self._collector = None
        if self.monitor is not None:
            await self.monitor.stop()
