"""``%%session`` and ``%session``: run cells in a session, see and control this kernel's sessions.

Loaded with the extension (kernels started by a server with the monitor get it automatically).
Qiskit is imported only when a magic runs. Failures the user can fix (an unknown backend, a
missing account, the Open Plan refusal, a malformed duration or one the plan refuses) become
one-line ``UsageError``s that say what to do, not tracebacks from deep inside the client.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.display import display

from jupyter_session_monitor import derive

from . import hook
from .durations import DurationError, format_duration, largest_unit, parse_duration, short_form

USAGE = """\
%session list                   this kernel's sessions
%session status [ID]            Session.status()
%session details [ID]           Session.details()
%session close [ID]             no new jobs; queued jobs still run
%session cancel [ID] --yes      cancel queued jobs and end the session
%session watch [ID]             show the live widget
%session attach ID              re-attach with Session.from_id and track it
Without ID: the most recent session of this kernel. An ID may be a unique prefix."""


def _explain(error: BaseException) -> str | None:
    """A one-line fix for the client errors users cause; None for anything else."""
    name = type(error).__name__
    text = str(error).strip().strip('"')
    lowered = text.lower()
    if name == "QiskitBackendNotFoundError" or "no backend matches" in lowered:
        return f"{text}. List the backends you can use with QiskitRuntimeService().backends()."
    if name == "AccountNotFoundError":
        return (
            f"{text}. Save an account with QiskitRuntimeService.save_account(...), or pass "
            "--account NAME for a saved one."
        )
    if "open plan" in lowered:
        return (
            "This instance is on the Open Plan, which cannot open sessions. Run without "
            "%%session (job mode), use --batch, or use an instance on a paid plan."
        )
    if name in ("IBMNotAuthorizedError", "RequestsApiError") and "401" in lowered:
        return f"The service refused the credentials: {text}. Save a new API key."
    return None


@contextmanager
def _fixable_errors() -> Iterator[None]:
    try:
        yield
    except UsageError:
        raise
    except Exception as error:
        message = _explain(error)
        if message is None:
            raise
        raise UsageError(message) from None


# The service's refusal of a max_ttl, as IBM words it (and the emulator after it).
_MAX_TTL_RANGE = re.compile(
    r"max_ttl\s+([\d.]+)\s+is outside the allowed range of\s+([\d.]+)\s+to\s+([\d.]+)\s+seconds",
    re.IGNORECASE,
)


def _max_time_refusal(error: BaseException, typed: str | None, seconds: int | None) -> str | None:
    """The service's refusal of ``--max-time`` as one line with the plan's limit in the units the
    user typed; ``None`` for any other error."""
    match = _MAX_TTL_RANGE.search(str(error))
    if match is None or typed is None or seconds is None:
        return None
    received, low, high = (float(group) for group in match.groups())
    if received > 0:
        # The service names the max_ttl it received and its range on one scale. Brought back to
        # the seconds that were sent, the range is in the user's terms also where the two differ
        # (the emulator scales every duration by its --time-scale).
        low, high = low * seconds / received, high * seconds / received
    unit = largest_unit(typed)
    if seconds < low:
        return (
            f"%%session: --max-time {typed} is shorter than this instance allows (at least "
            f"{format_duration(round(low), unit)})."
        )
    return (
        f"%%session: --max-time {typed} is longer than this instance's plan allows "
        f"({format_duration(round(high), unit)})."
    )


@contextmanager
def _tagged(session: Any, tags: list[str]) -> Iterator[None]:
    """While the cell runs, every job it submits in ``session`` gets ``tags`` (next to the
    primitive's own).

    Per cell, not per session: a session kept with ``--keep`` and reused by a later cell tags that
    cell's jobs with that cell's ``--tags``, and a cell without ``--tags`` adds none. The wrapper
    is an attribute of this one session object, removed when the cell ends (the class's ``_run``,
    which the hook wraps, shows through again)."""
    if not tags:
        yield
        return
    original = session._run

    def run(*args: Any, **kwargs: Any) -> Any:
        options = kwargs.get("options")
        if isinstance(options, dict):
            existing = list(options.get("job_tags") or [])
            options["job_tags"] = existing + [t for t in tags if t not in existing]
        return original(*args, **kwargs)

    session._run = run
    try:
        yield
    finally:
        if vars(session).get("_run") is run:
            del session._run


def _close(session: Any) -> None:
    session.close()
    print(
        f"Closed session {session.session_id}: it accepts no new jobs; jobs already queued "
        "still run."
    )


def _raise_shown(error: BaseException) -> NoReturn:
    """Fail the ``%%session`` cell with the error its body raised, whose traceback IPython has
    already shown.

    The body ran through ``run_cell``, which shows the traceback and returns; without this, the
    ``%%session`` cell itself would succeed and "Run All" would go on. Raising the body's own
    exception (not a wrapper) keeps what a plain failing cell gives: the kernel's reply names it
    (``ValueError: boom``, as nbclient and papermill report it), ``except``/``%debug`` see the
    real one, and a Ctrl-C stays a ``KeyboardInterrupt``. Its second rendering is one line, not
    the whole traceback again: IPython renders an exception through ``_render_traceback_`` when
    it has one. That hook is set on this instance and removes itself on first use, so a later
    ``%tb`` shows the full traceback.
    """

    def render() -> list[str]:
        vars(error).pop("_render_traceback_", None)
        said = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        return [f"{said} (in the %%session cell; its traceback is above)"]

    with suppress(AttributeError, TypeError):  # one that refuses attributes is shown in full
        error._render_traceback_ = render  # type: ignore[attr-defined]
    raise error


def _kind(session: Any) -> str:
    return "batch" if hook.is_batch(session) else "session"


#: Jobs read per session (newest first), as many as the monitor reads.
JOB_LIST_LIMIT = 200
#: The service closes a session that got no job within 30 minutes of opening. Not in the session's
#: body, so the kernel cannot know another value (the emulator's --time-scale shortens it).
NO_JOB_CLOSE_SECONDS = 1800.0


@dataclass
class _Look:
    """One session as the service sees it now: ``details()`` and its job list."""

    session: Any
    details: dict[str, Any]
    jobs: list[dict[str, Any]]  # the service's job bodies, newest first
    total: int  # jobs in the session (more than ``jobs`` past JOB_LIST_LIMIT)

    @property
    def session_id(self) -> str:
        return str(self.session.session_id)

    @property
    def backend(self) -> str:
        name = self.details.get("backend_name") or getattr(self.session._backend, "name", None)
        return str(name or "?")

    @property
    def mode(self) -> str:
        mode = self.details.get("mode")
        return "batch" if mode == "batch" else "session" if mode else _kind(self.session)

    @property
    def status(self) -> str:
        if not self.details:
            return "unknown"
        return derive.status_of(self.details.get("state"), self.details.get("accepting_jobs"))

    @property
    def counts(self) -> dict[str, int]:
        return derive.jobs_summary(derive.job_status(job) for job in self.jobs)

    def jobs_text(self, *, zeros: bool) -> str:
        """``2 queued, 1 running, 0 done, 0 failed, 0 cancelled`` (without the zeros: ``no jobs``
        when there are none)."""
        counts = self.counts
        words = {"ERROR": "failed"}
        parts = [
            f"{counts[status]} {words.get(status, status.lower())}"
            for status in derive.JOB_STATUSES
            if zeros or counts[status]
        ]
        text = ", ".join(parts) or "no jobs"
        if self.total > len(self.jobs):
            text += f" (newest {len(self.jobs)} of {self.total})"
        return text

    def countdown(self, now: datetime) -> str | None:
        """The soonest thing the service will do on its own, and when; ``None`` once closed."""
        body = {field: self.details.get(key) for field, key in derive.DETAILS_KEYS.items()}
        counts = self.counts
        due = derive.deadlines(
            body,
            pending_jobs=counts["QUEUED"] + counts["RUNNING"],
            any_job=self.total > 0,
            no_job_close_seconds=NO_JOB_CLOSE_SECONDS,
        )
        soonest = due.soonest()
        if soonest is None:
            return None
        left = format_duration((soonest - now).total_seconds())
        if soonest == due.max_ttl_at:
            return f"max TTL in {left}"
        if soonest == due.interactive_ttl_at:
            if self.details.get("accepting_jobs"):
                return f"inactive in {left} unless a job is queued"
            return f"closes in {left}"
        return f"closes in {left} unless a job is submitted"


def _look(session: Any) -> _Look:
    """``details()`` and the session's jobs in one request (the client's own ``jobs()`` would ask
    again for each job's status), as the monitor reads them: the counts agree with the sidebar."""
    details = session.details() or {}
    client = session.service._get_api_client(session._instance)  # as Session's own calls do
    answer = client.jobs_get(session_id=session.session_id, limit=JOB_LIST_LIMIT)
    jobs = list(answer.get("jobs") or [])
    total = answer.get("count")
    return _Look(session, details, jobs, total if isinstance(total, int) else len(jobs))


def _now() -> datetime:
    return datetime.now(UTC)


_SECONDS = ("interactive_timeout", "max_time", "active_timeout", "usage_time")
#: Failed jobs whose reason ``%session details`` fetches (each costs the client a few requests).
FAILED_SHOWN = 10


def _print_details(details: dict[str, Any]) -> None:
    """``Session.details()``, one key per line, durations with their unit, timestamps listed."""
    for key, value in details.items():
        if key == "timestamps" and isinstance(value, list):
            print(f"{key:>20}:")
            for entry in value:
                if isinstance(entry, dict):
                    print(f"{'':>22}{entry.get('timestamp')}  {entry.get('status')}")
            continue
        shown = f"{value} s" if key in _SECONDS and isinstance(value, int | float) else value
        print(f"{key:>20}: {shown}")


def _print_jobs(look: _Look) -> None:
    """The job counts, then the failed jobs with the service's reason (``error_message()``)."""
    print(f"{'jobs':>20}: {look.jobs_text(zeros=True)}")
    failed = [job for job in look.jobs if derive.job_status(job) == "ERROR"]
    if not failed:
        return
    print(f"{'failed jobs':>20}:")
    service = look.session.service
    for body in failed[:FAILED_SHOWN]:
        job_id = str(body.get("id"))
        try:
            message = service.job(job_id).error_message() or "no reason given"
        except Exception as error:  # one unreadable job must not hide the others
            message = f"reason unavailable ({type(error).__name__})"
        # The client words it "Job ID has failed:\nREASON"; the id is on this line already.
        message = message.removeprefix(f"Job {job_id} has failed:").strip()
        first, *more = message.splitlines() or [""]
        print(f"{'':>22}{job_id}  {first}")
        for line in more:
            print(f"{'':>24}{line}")
    if len(failed) > FAILED_SHOWN:
        print(f"{'':>22}and {len(failed) - FAILED_SHOWN} more")


@magics_class
class SessionMagics(Magics):
    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self._kept: dict[str, Any] = {}  # backend name -> session kept open with --keep

    # ------------------------------------------------------------------ %%session

    @cell_magic("session")  # type: ignore[arg-type]
    def session_cell(self, line: str, cell: str) -> None:
        """Run the cell inside a session: %%session --backend NAME | --least-busy [--max-time 25m]
        [--batch] [--tags a,b] [--keep] [--account NAME]"""
        options = self._parse_cell_options(line)
        with _fixable_errors():
            from qiskit_ibm_runtime import Batch, QiskitRuntimeService, Session

            service = (
                QiskitRuntimeService(name=options["account"])
                if options["account"]
                else QiskitRuntimeService()
            )
            if options["backend"]:
                backend = service.backend(options["backend"])
            else:
                backend = service.least_busy(operational=True, simulator=False)
            session = self._reusable(backend.name) if options["keep"] else None
            if session is None:
                kind = Batch if options["batch"] else Session
                try:
                    session = kind(backend=backend, max_time=options["max_time"])
                except Exception as error:
                    refusal = _max_time_refusal(
                        error, options["max_time_text"], options["max_time"]
                    )
                    if refusal is None:
                        raise
                    raise UsageError(refusal) from None
                typed = options["max_time_text"]
                if typed is not None and typed.strip().isdigit():
                    # What max_time=5 means in the client, kept; but rarely what was meant.
                    number = int(typed)
                    print(
                        f"max_time {number} s (a bare number is seconds; write {number}m for "
                        f"{number} minute{'s' if number != 1 else ''})"
                    )
                if options["keep"]:
                    self._kept[backend.name] = session
        self._display(session)
        from qiskit_ibm_runtime.utils.default_session import set_cm_session

        set_cm_session(session)  # primitives created in the cell use it, as inside `with`
        try:
            with _tagged(session, options["tags"]):
                result = self.shell.run_cell(cell)  # type: ignore[union-attr]
        finally:
            set_cm_session(None)
            if not options["keep"]:
                _close(session)  # also after an exception or Ctrl-C in the cell: no orphan
        failure = result.error_before_exec or result.error_in_exec
        if failure is not None:
            _raise_shown(failure)

    def _parse_cell_options(self, line: str) -> dict[str, Any]:
        try:
            words = shlex.split(line)
        except ValueError as error:
            raise UsageError(f"%%session: {error}") from None
        options: dict[str, Any] = {
            "backend": None,
            "least_busy": False,
            "max_time": None,
            "batch": False,
            "tags": [],
            "keep": False,
            "account": None,
        }
        flags = {"--least-busy": "least_busy", "--batch": "batch", "--keep": "keep"}
        valued = {"--backend": "backend", "--max-time": "max_time", "--tags": "tags"}
        valued["--account"] = "account"
        index = 0
        while index < len(words):
            word = words[index]
            name, _, inline = word.partition("=")
            if name in flags and not inline:
                options[flags[name]] = True
            elif name in valued:
                value = inline or (words[index + 1] if index + 1 < len(words) else "")
                if not inline:
                    index += 1
                if not value or value.startswith("--"):
                    raise UsageError(f"%%session: {name} needs a value.")
                following = words[index + 1] if index + 1 < len(words) else ""
                written = short_form(value, following) if name == "--max-time" else None
                if written:  # "--max-time 5 minutes": one duration in two words
                    raise UsageError(
                        f"%%session: --max-time {value} {following}: write --max-time {written}."
                    )
                options[valued[name]] = value
            else:
                raise UsageError(
                    f"%%session: unknown option {word!r}. Options: --backend NAME | --least-busy, "
                    "--max-time DURATION, --batch, --tags a,b, --keep, --account NAME."
                )
            index += 1
        if bool(options["backend"]) == options["least_busy"]:
            raise UsageError(
                "%%session: name a backend with --backend NAME, or pass --least-busy (one of them)."
            )
        options["max_time_text"] = options["max_time"]
        if options["max_time"] is not None:
            try:
                options["max_time"] = parse_duration(options["max_time"])
            except DurationError as error:
                raise UsageError(f"%%session --max-time: {error}") from None
        if isinstance(options["tags"], str):
            options["tags"] = [t.strip() for t in options["tags"].split(",") if t.strip()]
        return options

    def _reusable(self, backend: str) -> Any:
        session = self._kept.get(backend)
        if session is None:
            return None
        if session.status() == "Closed":
            del self._kept[backend]
            return None
        print(
            f"Reusing the open {_kind(session)} {session.session_id} on {backend} (kept by an "
            "earlier %%session --keep); --max-time and --batch apply only to a new one."
        )
        return session

    # ------------------------------------------------------------------ %session

    @line_magic("session")  # type: ignore[arg-type]
    def session_line(self, line: str) -> Any:
        """%session list | status | details | close | cancel --yes | watch | attach ID"""
        try:
            words = shlex.split(line)
        except ValueError as error:
            raise UsageError(f"%session: {error}") from None
        if not words or words[0] in ("help", "-h", "--help"):
            print(USAGE)
            return None
        command, rest = words[0], words[1:]
        yes = "--yes" in rest
        rest = [w for w in rest if w != "--yes"]
        if len(rest) > 1:
            raise UsageError(f"%session {command}: one session id at most.\n{USAGE}")
        ident = rest[0] if rest else None
        with _fixable_errors():
            if command == "list":
                self._list()
                return None
            if command == "attach":
                if ident is None:
                    raise UsageError("%session attach ID: which session? Give its id.")
                return self._attach(ident)
            if command not in ("status", "details", "close", "cancel", "watch"):
                raise UsageError(f"%session: unknown command {command!r}.\n{USAGE}")
            session = self._find(ident)
            if command == "status":
                look = _look(session)
                countdown = look.countdown(_now())
                print(
                    f"{look.mode.capitalize()} {look.session_id} on {look.backend}: "
                    f"{look.status}; jobs: {look.jobs_text(zeros=True)}"
                    + (f"; {countdown}" if countdown else "")
                )
            elif command == "details":
                look = _look(session)
                _print_details(look.details)
                _print_jobs(look)
            elif command == "close":
                _close(session)
            elif command == "cancel":
                self._cancel(session, yes)
            else:
                self._display(session)
        return None

    def _find(self, ident: str | None) -> Any:
        sessions = hook.opened_sessions()
        if not sessions:
            raise UsageError(
                "This kernel has opened no Qiskit Runtime session. Open one (Session(...) or "
                "%%session), or re-attach with %session attach ID."
            )
        if ident is None:
            return sessions[-1]
        found = [s for s in sessions if str(s.session_id).startswith(ident)]
        if len(found) == 1:
            return found[0]
        if not found:
            raise UsageError(
                f"No session of this kernel has an id starting with {ident!r}. "
                f"%session list shows them; %session attach {ident} tracks one from elsewhere."
            )
        raise UsageError(f"{ident!r} matches {len(found)} sessions; give more of the id.")

    def _list(self) -> None:
        sessions = hook.opened_sessions()
        if not sessions:
            print("This kernel has opened no Qiskit Runtime session.")
            return
        default = self._find(None)
        now = _now()
        rows: list[tuple[str, ...]] = [("", "id", "backend", "mode", "status", "jobs", "next")]
        for session in sessions:
            marker = "*" if session is default else ""
            try:
                look = _look(session)
            except Exception as error:  # one unreachable session must not hide the others
                backend = getattr(session._backend, "name", None) or "?"
                status = f"unknown ({type(error).__name__})"
                rows.append(
                    (marker, str(session.session_id), backend, _kind(session), status, "?", "")
                )
                continue
            rows.append(
                (
                    marker,
                    look.session_id,
                    look.backend,
                    look.mode,
                    look.status,
                    look.jobs_text(zeros=False),
                    look.countdown(now) or "",
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(7)]
        for row in rows:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        print(
            "* the default: %session status, details, close, cancel and watch act on it when no "
            "ID is given (this kernel's most recent session)."
        )

    def _cancel(self, session: Any, yes: bool) -> None:
        look = _look(session)
        ident = look.session_id
        if look.status == derive.CLOSED:
            print(f"Session {ident} is already closed: nothing to cancel.")
            return
        counts = look.counts
        queued, running = counts["QUEUED"], counts["RUNNING"]
        finishing = (
            f"{running} running job{'s' if running != 1 else ''} would finish" if running else ""
        )
        if not yes:
            if queued:
                what = (
                    f"Cancelling session {ident} would cancel {queued} queued "
                    f"job{'s' if queued != 1 else ''}"
                    + (f"; {finishing}" if finishing else "")
                    + ", and end the session now."
                )
            else:
                what = (
                    f"Session {ident} has no queued job; cancelling would just end the session now"
                    + (f" ({finishing})." if finishing else ".")
                )
            print(f"Not cancelled. {what} To do it: %session cancel {ident} --yes")
            return
        session.cancel()
        finishes = (
            ""
            if not running
            else "; its running job still finishes"
            if running == 1
            else f"; its {running} running jobs still finish"
        )
        if queued:
            print(
                f"Cancelled session {ident}: {queued} queued job{'s' if queued != 1 else ''} "
                f"cancelled{finishes}; the session ended."
            )
        else:
            print(f"Cancelled session {ident}. No job was queued{finishes}; the session ended.")

    def _attach(self, session_id: str) -> Any:
        from qiskit_ibm_runtime import QiskitRuntimeService, Session

        session = Session.from_id(session_id, QiskitRuntimeService())
        hook.remember(session)  # also when the hook is not installed (reported by from_id if so)
        print(
            f"Attached session {session.session_id} ({session.status()}); it is tracked under "
            "this notebook."
        )
        return None

    def _display(self, session: Any) -> None:
        from jupyter_session_monitor.widget import SessionWidget

        display(SessionWidget(session))  # type: ignore[no-untyped-call]


def register(ipython: Any) -> None:
    ipython.register_magics(SessionMagics)
