"""Report every remote Qiskit Runtime session this kernel opens to the Jupyter server.

``install()`` adds an import hook that waits until user code imports ``qiskit_ibm_runtime``
(a kernel that never does pays nothing), then wraps ``Session.__init__`` (``Batch`` and ``with``
included) and ``Session.from_id``. Reports go from a background thread, so a busy or slow server
never delays the user's cell; the session's own calls are not touched.

Every job submission, ``close()`` and ``cancel()`` is reported too, so the monitor reads the job
list at once instead of at its next poll. Reports of one session are coalesced: at most one per
``REPORT_SPACING`` seconds, the latest one winning, so a burst of 40 submissions costs the
monitor a handful of job-list reads, not 40. Reports go straight to the server, never through a
proxy named in the kernel's environment (they carry the kernel secret and maybe a token).
"""

from __future__ import annotations

import functools
import importlib.abc
import inspect
import logging
import os
import sys
import threading
import time
from types import ModuleType
from typing import Any

from jupyter_session_monitor.protocol import (
    ENV_SECRET,
    ENV_URL,
)

from .client import kernel_id, post

__all__ = [
    "install",
    "installed",
    "opened_sessions",
    "remember",
]

TARGET = "qiskit_ibm_runtime"

log = logging.getLogger("jupyter_session_monitor.kernel")

_installed = False
_patched = False
_local_mode_said = False
#: Seconds between two reports of the same session (a burst of submissions is coalesced).
REPORT_SPACING = 0.3

_pending: dict[str, dict[str, Any]] = {}  # session id -> its latest unsent report
_pending_changed = threading.Condition()
_reporter: threading.Thread | None = None
_opened: list[Any] = []  # this kernel's remote sessions, oldest first (for %session)
_opened_lock = threading.Lock()


def opened_sessions() -> list[Any]:
    """The remote sessions this kernel opened or attached, oldest first."""
    with _opened_lock:
        return list(_opened)


def remember(session: Any) -> None:
    """Add a session to this kernel's list, once per id: a later report (a re-attach, close())
    replaces the object but keeps its place, so "most recent" means most recently opened."""
    session_id = getattr(session, "_session_id", None)
    if session_id is None:
        return
    with _opened_lock:
        for index, known in enumerate(_opened):
            if getattr(known, "_session_id", None) == session_id:
                _opened[index] = session
                return
        _opened.append(session)


def is_batch(session: Any) -> bool:
    """A ``Batch`` (a subclass of ``Session``), by name: the hook never imports qiskit itself."""
    return type(session).__name__ == "Batch"


def installed() -> bool:
    return _installed


def install() -> None:
    """Idempotent: watch for ``qiskit_ibm_runtime`` (patch at once if it is already imported)."""
    global _installed
    if _installed:
        return
    _installed = True
    if TARGET in sys.modules and hasattr(sys.modules[TARGET], "Session"):
        _patch(sys.modules[TARGET])
    else:
        sys.meta_path.insert(0, _Finder())


class _Finder(importlib.abc.MetaPathFinder):
    """Finds nothing itself: asks the finders after it for ``qiskit_ibm_runtime`` (an editable
    install's finder included, not only the path finder) and wraps the loader it gets, so the
    package is patched once it has run. It leaves ``sys.meta_path`` as it is while the import
    system walks it (removing itself then could make importlib skip the next finder); it steps
    aside once it has done its work."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != TARGET or _patched or getattr(self, "_searching", False):
            return None
        self._searching = True  # the finders below may import; do not recurse into this
        try:
            spec = None
            later = sys.meta_path[sys.meta_path.index(self) + 1 :] if self in sys.meta_path else []
            for finder in later:
                find = getattr(finder, "find_spec", None)
                spec = find(fullname, path, target) if find is not None else None
                if spec is not None:
                    break
        finally:
            self._searching = False
        loader = getattr(spec, "loader", None)
        real_exec = getattr(loader, "exec_module", None)
        if spec is None or real_exec is None:
            return spec  # not found, or a loader this hook does not know how to wrap

        finder = self

        def exec_module(module: ModuleType) -> None:
            real_exec(module)
            _patch(module)
            if finder in sys.meta_path:  # the import system is done walking it by now
                sys.meta_path.remove(finder)

        try:
            loader.exec_module = exec_module  # type: ignore[union-attr]
        except Exception:  # a loader that refuses new attributes: the import goes on unhooked
            _say_off("its loader cannot be wrapped")
        return spec


_originals: dict[str, Any] = {}


def uninstall() -> None:
    """Undo ``install()`` (tests: the hook must not outlive the test that installed it)."""
    global _installed, _patched
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _Finder)]
    if _patched:
        package = sys.modules[TARGET]
        package.Session.__init__ = _originals["session_init"]
        package.Session.from_id = _originals["from_id"]
        package.QiskitRuntimeService.__init__ = _originals["service_init"]
        for name in ("close", "cancel", "_run"):
            setattr(package.Session, name, _originals[name])
    _installed = _patched = False


#: Attributes of the client the hook wraps; a release without one of them is not monitored.
REQUIRED = (
    ("Session", "__init__"),
    ("Session", "from_id"),
    ("Session", "_run"),
    ("Session", "close"),
    ("Session", "cancel"),
    ("QiskitRuntimeService", "__init__"),
)


def _say_off(why: str) -> None:
    print(
        f"jupyter-session-monitor: sessions of this kernel are not monitored ({why}); "
        "qiskit_ibm_runtime works as usual.",
        file=sys.stderr,
    )


def _patch(package: ModuleType) -> None:
    """Wrap the client's session class; never raises, so ``import qiskit_ibm_runtime`` always
    succeeds (with a client release the hook does not know, monitoring is off, said once)."""
    global _patched
    if _patched:
        return
    missing = [
        f"{owner}.{name}"
        for owner, name in REQUIRED
        if not hasattr(getattr(package, owner, None), name)
    ]
    if missing:
        _say_off(f"this qiskit-ibm-runtime has no {', '.join(missing)}")
        return
    try:
        _wrap(package)
    except Exception as error:
        _say_off(f"{type(error).__name__}: {error}")
    else:
        _patched = True


def _wrap(package: ModuleType) -> None:
    session_class = package.Session
    service_class = package.QiskitRuntimeService
    original_init = session_class.__init__
    original_from_id = inspect.getattr_static(session_class, "from_id").__func__
    original_service_init = service_class.__init__
    _originals.update(
        session_init=original_init,
        from_id=inspect.getattr_static(session_class, "from_id"),
        service_init=original_service_init,
    )

    @functools.wraps(original_init)
    def session_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        if kwargs.get("create_new", True) is not False:
            _report(self)

    @functools.wraps(original_from_id)
    def from_id(cls: Any, *args: Any, **kwargs: Any) -> Any:
        session = original_from_id(cls, *args, **kwargs)
        _report(session)
        return session

    @functools.wraps(original_service_init)
    def service_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_service_init(self, *args, **kwargs)
        # The client forgets which saved account it loaded; the monitor polls with the same one.
        self._session_monitor_account_name = kwargs.get("name")

    session_class.__init__ = session_init
    session_class.from_id = classmethod(from_id)
    service_class.__init__ = service_init

    # Report again when something changes that the monitor would otherwise see only at its
    # next poll: every job submitted (the job list changed), close() and cancel().
    def reporting_again(name: str) -> None:
        original = getattr(session_class, name)
        _originals[name] = original

        @functools.wraps(original)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            result = original(self, *args, **kwargs)
            _report(self, quiet=True, job=result if name == "_run" else None)
            return result

        setattr(session_class, name, wrapper)

    for name in ("_run", "close", "cancel"):
        reporting_again(name)


def _running_cell_number(shell: Any, request: dict[str, Any]) -> int | None:
    """The "In [n]" of the cell running now. IPython stores a cell's input under its number
    before running it, but moves ``execution_count`` on before the cell runs in IPython 9 and
    after it in IPython 8: the stored inputs (one per number, from 1) tell it the same in both.
    None for an execution that is not stored (silent, or ``store_history`` false)."""
    if request.get("silent") or request.get("store_history") is False:
        return None
    inputs = getattr(getattr(shell, "history_manager", None), "input_hist_raw", None)
    if not isinstance(inputs, list) or len(inputs) < 2:
        return None
    return len(inputs) - 1


def _current_cell() -> dict[str, Any] | None:
    """The notebook cell running now: its id (JupyterLab sends ``cellId`` with each execution)
    and its execution count; None outside IPython."""
    try:
        ipython_module = sys.modules.get("IPython")
        shell = ipython_module.get_ipython() if ipython_module is not None else None
        if shell is None:
            return None
        kernel = getattr(shell, "kernel", None)
        parent = (kernel.get_parent() if kernel is not None else {}) or {}
        cell_id = (parent.get("metadata") or {}).get("cellId")
        return {
            "id": cell_id if isinstance(cell_id, str) else None,
            "execution_count": _running_cell_number(shell, parent.get("content") or {}),
        }
    except Exception:
        return None


def _report(session: Any, *, quiet: bool = False, job: Any = None) -> None:
    global _local_mode_said
    try:
        session_id = getattr(session, "_session_id", None)
        service = getattr(session, "_service", None)
        if session_id is None or service is None or getattr(service, "is_local", False):
            if not _local_mode_said and not quiet:
                _local_mode_said = True
                print(
                    "jupyter-session-monitor: local testing mode (a fake backend or Aer) opens no "
                    "remote session, so there is nothing to monitor.",
                    file=sys.stderr,
                )
            return
        remember(session)
        url, secret = os.environ.get(ENV_URL), os.environ.get(ENV_SECRET)
        if not url or not secret:
            return  # not started by a server with the monitor: nobody to tell
        account = service._account
        name = getattr(service, "_session_monitor_account_name", None)
        payload = {
            "kernel_id": kernel_id(),
            "session_id": session_id,
            "mode": "batch" if is_batch(session) else "dedicated",
            "backend": getattr(session._backend, "name", None),
            "account": {
                "name": name,
                "channel": account.channel,
                "instance": getattr(session, "_instance", None) or account.instance,
                "url": account.url,
            },
        }
        run = headless_run()
        if run is not None:
            # Not a kernel the server started (papermill or nbclient from one of its terminals):
            # the server tracks it under the notebook being run, with its own login, and takes
            # no token from it.
            payload["run"] = dict(run)  # a copy: the cached answer stays as it was
        elif name is None:
            payload["token"] = account.token  # to the server's memory only, over loopback
        cell = _current_cell()
        with _pending_changed:
            earlier = _pending.get(session_id, {}).get("payload", {})
            # The cell that opened (or attached) it, said by the opening report only; kept if
            # that report is coalesced with a later one.
            opened_in = cell if not quiet else earlier.get("cell")
            if opened_in is not None:
                payload["cell"] = opened_in
            # Which cell submitted each job; reports coalesced into one keep every job's cell.
            job_cells = dict(earlier.get("job_cells", {}))
            job_id = _job_id(job)
            if job_id is not None and cell is not None:
                job_cells[job_id] = cell
            if job_cells:
                payload["job_cells"] = job_cells
            _pending[session_id] = {"url": url, "secret": secret, "payload": payload}
            _pending_changed.notify()
        _start_reporter()
    except Exception:  # the user's session must never fail because of the monitor
        log.exception("jupyter-session-monitor could not report a session")


@functools.cache  # the parent and the environment do not change: /proc is read once
def headless_run() -> dict[str, Any] | None:
    """What runs this kernel when no Jupyter server started it for a notebook: the notebook
    being run, the runner (papermill, jupyter-execute, jupyter-nbconvert, a script) and this
    process's id, read from the parent process (the runner started the kernel). None for a
    kernel a server started for a notebook (it has ``JPY_SESSION_NAME``), where the parent names
    no notebook, or where ``/proc`` cannot tell."""
    if os.environ.get("JPY_SESSION_NAME"):
        return None
    parent = os.getppid()
    try:
        with open(f"/proc/{parent}/cmdline", "rb") as cmdline:
            args = [arg.decode(errors="replace") for arg in cmdline.read().split(b"\0") if arg]
        cwd = os.readlink(f"/proc/{parent}/cwd")
    except OSError:
        return None
    notebook = next((arg for arg in args[1:] if arg.endswith(".ipynb")), None)
    if notebook is None:
        return None
    runner = "unknown"
    rest = list(args)
    while rest:  # skip the interpreter and its flags: `python -u -m papermill`
        head = rest.pop(0)
        if head == "-m" and rest:
            runner = rest.pop(0)
            break
        if os.path.basename(head).startswith("python") or head.startswith("-"):
            continue
        runner = os.path.basename(head)  # papermill, jupyter-execute, jupyter-nbconvert, a script
        break
    return {
        "notebook": os.path.normpath(os.path.join(cwd, notebook)),
        "runner": runner[:80],
        "pid": os.getpid(),
    }


def _job_id(job: Any) -> str | None:
    try:
        value = job.job_id() if job is not None else None
    except Exception:
        return None
    return value if isinstance(value, str) else None


def _start_reporter() -> None:
    global _reporter
    if _reporter is None or not _reporter.is_alive():
        _reporter = threading.Thread(
            target=_send_reports, name="session-monitor-reporter", daemon=True
        )
        _reporter.start()


def _send_reports() -> None:
    sent_at: dict[str, float] = {}  # session id -> when its last report was sent
    while True:
        with _pending_changed:
            while True:
                now = time.monotonic()
                due = [s for s in _pending if now - sent_at.get(s, -1e9) >= REPORT_SPACING]
                if due:
                    session_id = due[0]
                    report = _pending.pop(session_id)
                    break
                soonest = min(
                    (sent_at.get(s, now) + REPORT_SPACING - now for s in _pending), default=None
                )
                _pending_changed.wait(soonest)
        sent_at[session_id] = time.monotonic()
        for attempt in range(5):
            try:
                post(report)
                break
            except Exception as error:
                if attempt == 4:
                    log.warning("jupyter-session-monitor could not register a session: %s", error)
                else:
                    time.sleep(0.5 * 2**attempt)
