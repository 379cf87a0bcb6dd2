"""``%%session`` and ``%session``: run cells in a session, see and control this kernel's sessions.

Loaded with the extension (kernels started by a server with the monitor get it automatically).
Qiskit is imported only when a magic runs. Failures the user can fix (an unknown backend, a
missing account, the Open Plan refusal, a malformed duration or one the plan refuses) become
one-line ``UsageError``s that say what to do, not tracebacks from deep inside the client.
"""

from __future__ import annotations

import argparse
import math
import re
import shlex
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar

from IPython.core import magic_arguments as ipython_arguments
from IPython.core.error import StdinNotImplementedError, UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.display import display

from jupyter_session_monitor.protocol import clock, derive, money_text
from jupyter_session_monitor.protocol.clock import ClockOffset

from . import hook
from .durations import DurationError, format_duration, largest_unit, parse_duration, short_form

USAGE = """\
%session list                   this kernel's sessions
%session status [ID]            Session.status(); billed time, budget and fit-check when the
                                monitor answers
%session details [ID]           Session.details()
%session receipt [ID]           what the session cost: times, how it ended, jobs, billed time,
                                cost ("so far" while it is open), from the session monitor
%session close [ID]             no new jobs; queued jobs still run
%session close --all [--cancel] [--yes]
                                every open session the monitor tracks (after one y/N question
                                unless --yes); --cancel cancels their queued jobs
%session cancel [ID] --yes      cancel queued jobs and end the session
%session watch [ID]             show the live widget
%session attach ID              re-attach with Session.from_id and track it
Without ID: the most recent session of this kernel. An ID may be a unique prefix.
%session? says what each command and option does.
%%session options: --backend NAME | --least-busy, --max-time DURATION, --batch, --tags a,b,
--keep, --account NAME, --budget DURATION | --budget-amount AMOUNT,
--on-budget notify|close|cancel (%%session? says what each does). A %%session cell that
closes its session (no --keep) ends with the session's receipt."""

#: What ``%%session`` accepts, as its refusal of an unknown option lists it.
CELL_OPTIONS = (
    "--backend NAME | --least-busy, --max-time DURATION, --batch, --tags a,b, --keep, "
    "--account NAME, --budget DURATION | --budget-amount AMOUNT, --on-budget notify|close|cancel"
)
#: What the monitor does when a budget is used up (``--on-budget``); notify is the default.
BUDGET_ACTIONS = ("notify", "close", "cancel")
#: How long ``%%session --budget`` waits for the monitor to register a session just opened (the
#: hook reports it from a background thread, retrying for several seconds).
REGISTRATION_WAIT = 15.0
#: How long the end of a ``%%session`` cell waits for the monitor to see its session closed (the
#: receipt final); past it, the receipt says "so far" (queued jobs still running, say).
RECEIPT_WAIT = 10.0
#: Between two questions to the monitor while waiting for that.
RECEIPT_POLL = 0.25


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


@contextmanager
def _numbered_as_this_cell(shell: Any) -> Iterator[None]:
    """The body runs as part of this cell: its traceback names this cell's "In [n]", the one
    the user sees. IPython 9 has moved ``execution_count`` on before the cell runs, and the body
    is compiled under it ("Cell In[3]" under a cell numbered [2]); set back after."""
    kernel = getattr(shell, "kernel", None)
    parent = (kernel.get_parent() if kernel is not None else {}) or {}
    number = hook._running_cell_number(shell, parent.get("content") or {})
    saved = getattr(shell, "execution_count", None)
    if number is None or not isinstance(saved, int) or number == saved:
        yield
        return
    shell.execution_count = number
    try:
        yield
    finally:
        shell.execution_count = saved


def _kind(session: Any) -> str:
    return "batch" if hook.is_batch(session) else "session"


#: Jobs asked for per page of a session's job list (the service may return fewer).
JOB_LIST_LIMIT = 200
#: At most this many jobs read per look (newest first): past it, the counts say "newest N of M".
JOB_READ_MAX = 5000
#: The service closes a session that got no job within 30 minutes of opening. Not in the session's
#: body, so the kernel cannot know another value (the emulator's --time-scale shortens it).
NO_JOB_CLOSE_SECONDS = 1800.0


@dataclass
class _Look:
    """One session as the service sees it now: ``details()`` and its job list."""

    session: Any
    details: dict[str, Any]
    jobs: list[dict[str, Any]]  # the service's job bodies, newest first
    total: int  # jobs in the session (more than ``jobs`` past JOB_READ_MAX)
    clock_offset: float = 0.0  # the service's clock minus this kernel's, seconds

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
        ).shifted(-self.clock_offset)  # on this kernel's clock, as ``now`` is
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
    client = session.service._get_api_client(session._instance)  # as Session's own calls do
    offset = _clock_of(client)  # before details(): its answer's Date counts too
    details = session.details() or {}
    jobs: list[dict[str, Any]] = []
    total: int | None = None
    while len(jobs) < JOB_READ_MAX:  # page by page until the service's count
        answer = client.jobs_get(
            session_id=session.session_id, limit=JOB_LIST_LIMIT, skip=len(jobs)
        )
        page = list(answer.get("jobs") or [])
        jobs.extend(page)
        count = answer.get("count")
        total = count if isinstance(count, int) else None
        if not page or total is None or len(jobs) >= total:
            break
    return _Look(session, details, jobs, total if total is not None else len(jobs), offset.seconds)


def _look_of(session: Any, view: dict[str, Any]) -> _Look:
    """The monitor's read of a session as a look: its ``details()`` and jobs, the ones its
    billing and fit-check figures come from (so one output never mixes two reads)."""
    jobs = [j for j in view.get("jobs") or [] if isinstance(j, dict)]
    offset = view.get("service_clock_offset_seconds")
    return _Look(
        session,
        dict(view.get("details") or {}),
        jobs,
        len(jobs),
        float(offset) if isinstance(offset, int | float) else 0.0,
    )


def _clock_of(client: Any) -> ClockOffset:
    """How far the service's clock is from this kernel's, from the Date of the answers that
    ``client`` receives (watched from its first use by a magic on)."""
    offset = getattr(client, "_session_monitor_clock", None)
    if not isinstance(offset, ClockOffset):
        offset = ClockOffset()
        with suppress(AttributeError):
            client._session_monitor_clock = offset
    clock.watch(getattr(client, "_session", None), offset)
    return offset


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


# ---------------------------------------------------------------------- money (issue #12)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _money(amount: float, currency: str | None) -> str:
    """``3.5, "USD"`` -> ``3.50 USD``, in the currency's decimals, as the sidebar writes it."""
    return money_text(amount, currency)


def _percent(share: float) -> str:
    """``0.8`` -> ``80 %``, as the sidebar writes shares."""
    return f"{round(share * 100)} %"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _bare_seconds_note(typed: str | None) -> str | None:
    """``a bare number is seconds; write 5m for 5 minutes``: what a duration of plain digits
    means, said because it is rarely what was meant; ``None`` for one with a unit."""
    if typed is None or not typed.strip().isdigit():
        return None
    number = int(typed)
    return (
        f"a bare number is seconds; write {number}m for {number} minute{'s' if number != 1 else ''}"
    )


def _billed_now(view: dict[str, Any], now: datetime) -> tuple[float, float]:
    """(billed, of which idle) seconds now: the monitor's figures as of its last read of the
    service, plus the time since while the service is still billing, no further than its
    ``accrues_until`` (as the sidebar counts)."""
    meter = view.get("billing") or {}
    billed = _number(meter.get("billed_seconds")) or 0.0
    idle = _number(meter.get("billed_idle_seconds")) or 0.0
    as_of = derive.parse_time(view.get("last_polled_at"))
    if not meter.get("accruing") or as_of is None:
        return billed, idle
    until = derive.parse_time(meter.get("accrues_until"))
    end = min(now, until) if until is not None else now
    extra = max(0.0, (end - as_of).total_seconds())
    return billed + extra, idle + (extra if meter.get("idle_accruing") else 0.0)


def _billing_line(view: dict[str, Any], now: datetime) -> str | None:
    """``billed 2m 5s so far (of which 1m idle), 1.04 USD; up to 35m (17.50 USD) if left open
    until max TTL``; ``None`` when the monitor has no billing for it."""
    meter = view.get("billing")
    if not isinstance(meter, dict):
        return None
    billed, idle = _billed_now(view, now)
    rate, currency = _number(meter.get("rate_per_second")), meter.get("currency")
    text = f"billed {format_duration(billed)} so far"
    if idle >= 1:
        text += f" (of which {format_duration(idle)} idle)"
    if rate is not None and _number(meter.get("cost")) is not None:
        text += f", {_money(billed * rate, currency)}"
    worst = _number(meter.get("max_billed_seconds"))
    if view.get("status") != derive.CLOSED and worst is not None and worst > billed + 0.5:
        text += f"; up to {format_duration(worst)}"
        max_cost = _number(meter.get("max_cost"))
        if max_cost is not None:
            text += f" ({_money(max_cost, currency)})"
        if meter.get("max_billed_until") == "drain":
            text += ": it accepts no more jobs and ends when its queue has run"
        else:
            text += " if left open until max TTL"
    return text


_BUDGET_THEN = {
    "notify": "at 100 % a notification",
    "close": "at 100 % the monitor closes {it} (queued jobs still run)",
    "cancel": "at 100 % the monitor cancels {it} (queued jobs are cancelled)",
}


def _budget_size(budget: dict[str, Any], typed: str | None = None) -> str:
    """``10m of billed time`` or ``12.50 USD (about 2h 5m of billed time at the server's
    rate)``."""
    seconds, amount = _number(budget.get("seconds")), _number(budget.get("amount"))
    if seconds is not None:
        unit = largest_unit(typed) if typed else "d"
        return f"{format_duration(seconds, unit)} of billed time"
    limit = _number(budget.get("limit_seconds"))
    size = _money(amount or 0.0, budget.get("currency"))
    if limit is None:
        return size
    return f"{size} (about {format_duration(limit)} of billed time at the server's rate)"


def _budget_line(view: dict[str, Any]) -> str | None:
    """``budget 10m of billed time: 45 % used; a warning at 80 %, at 100 % the monitor closes it
    (queued jobs still run)``, or what happened once warned or reached."""
    budget = view.get("budget")
    if not isinstance(budget, dict):
        return None
    notebook = budget.get("scope") == "notebook"
    text = f"budget {_budget_size(budget)}"
    if notebook:
        text += f" for the sessions of {budget.get('target')}"
    problem = budget.get("problem")
    if problem:
        return f"{text}: {problem}"
    used = _number(budget.get("used"))
    if used is not None:
        text += f": {_percent(used)} used"
    if budget.get("reached"):
        outcome = budget.get("outcome")
        if outcome:
            return f"{text}; reached: {outcome}"
        return f"{text}; reached: {budget.get('action')} under way"
    threshold = _number(budget.get("threshold")) or 0.8
    action = str(budget.get("action"))
    then = _BUDGET_THEN.get(action, f"at 100 %: {action}").format(it="them" if notebook else "it")
    if budget.get("warned"):
        return f"{text} (warned at {_percent(threshold)}); {then}"
    return f"{text}; a warning at {_percent(threshold)}, {then}"


def _stale_line(view: dict[str, Any]) -> str | None:
    """The monitor could not read the service just now: the figures are of its last read."""
    if not view.get("stale"):
        return None
    at = derive.parse_time(view.get("last_polled_at"))
    when = at.astimezone().strftime("%H:%M:%S") if at is not None else "an earlier read"
    why = (view.get("error") or {}).get("message") or "no answer"
    return f"as read at {when}: the service did not answer just now ({_one_line(str(why))})"


def _pending_line(view: dict[str, Any]) -> str | None:
    """A close or cancel the monitor sent that no read has confirmed yet, as the row says it."""
    pending = view.get("pending_action")
    if not isinstance(pending, dict) or view.get("status") == derive.CLOSED:
        return None
    action = str(pending.get("action") or "action").capitalize()
    at = derive.parse_time(pending.get("at"))
    when = at.astimezone().strftime("%H:%M:%S") if at is not None else "?"
    if pending.get("state") == "accepted":
        return f"{action} accepted by the service at {when}; not confirmed by a read yet"
    return (
        f"{action} sent at {when} got no answer: the session may or may not have "
        f"{'closed' if action == 'Close' else 'ended'}; the monitor is checking"
    )


def _fit_line(view: dict[str, Any]) -> str | None:
    """``≈ 6 of 9 queued jobs will not start before max TTL (14:05) and will fail``; ``None``
    when none is expected to fail, or when there is no basis for an estimate."""
    fit = view.get("fit")
    if not isinstance(fit, dict) or fit.get("basis") is None:
        return None
    failing = fit.get("expected_to_fail")
    if not isinstance(failing, int) or isinstance(failing, bool) or failing <= 0:
        return None
    queued = fit.get("queued")
    at = derive.parse_time(fit.get("max_ttl_at"))
    when = f" ({at.astimezone().strftime('%H:%M')})" if at is not None else ""
    estimate = "at least" if fit.get("lower_bound") else "≈"
    return (
        f"{estimate} {failing} of {queued} queued job{'s' if queued != 1 else ''} will not "
        f"start before max TTL{when} and will fail"
    )


def _server_views(session_ids: list[str], *, fresh: bool = False) -> dict[str, dict[str, Any]]:
    """The monitor's views of these sessions by id; empty when the server cannot be asked (a
    headless kernel: the magics then say what the service says, as before) or tracks none.
    ``fresh``: the server reads the service first (within 5 s)."""
    if not session_ids:
        return {}
    try:
        answer = hook.ask_server("views", session_ids=session_ids, fresh=fresh)
    except hook.ServerUnavailable:
        return {}
    views = answer.get("sessions") if isinstance(answer, dict) else None
    return {
        str(v.get("id")): v for v in views or [] if isinstance(v, dict) and v.get("id") is not None
    }


def _await_registration(session_id: str) -> None:
    """Return once the monitor tracks the session this kernel just opened (the hook registers it
    from a background thread); ``ServerUnavailable`` if it cannot be asked or never does."""
    deadline = time.monotonic() + REGISTRATION_WAIT
    while True:
        answer = hook.ask_server("views", session_ids=[session_id])
        views = answer.get("sessions") if isinstance(answer, dict) else None
        if any(isinstance(v, dict) and v.get("id") == session_id for v in views or []):
            return
        if time.monotonic() > deadline:
            raise hook.ServerUnavailable(
                f"the monitor had not registered the session after {REGISTRATION_WAIT:.0f} s"
            )
        time.sleep(0.1)


class Receipt:
    """A session's receipt as the monitor words it, as rich output: the Markdown table in a
    notebook, the plain text in a terminal or any front end without Markdown."""

    def __init__(self, text: str, markdown: str) -> None:
        self.text = text
        self.markdown = markdown

    def _repr_markdown_(self) -> str:
        return self.markdown

    def __repr__(self) -> str:
        return self.text


def _receipt_of(session_id: str) -> dict[str, Any] | None:
    """The monitor's receipt of a session (``{"receipt", "text", "markdown"}``, "so far" while
    it is open); ``None`` while it does not track it. ``ServerUnavailable`` when it cannot be
    asked."""
    answer = hook.ask_server("views", session_ids=[session_id])
    receipts = answer.get("receipts") if isinstance(answer, dict) else None
    for item in receipts or []:
        data = item.get("receipt") if isinstance(item, dict) else None
        if isinstance(data, dict) and data.get("session_id") == session_id:
            return item  # type: ignore[no-any-return]
    return None


def _show_receipt(session: Any) -> None:
    """``%session receipt``: the receipt as rich output; one line when there is none."""
    session_id = str(session.session_id)
    try:
        found = _receipt_of(session_id)
        if found is None:  # opened a moment ago: the hook's report may still be on its way
            _await_registration(session_id)
            found = _receipt_of(session_id)
    except hook.ServerUnavailable as error:
        print(f"No receipt for {_kind(session)} {session_id}: {_one_line(str(error))}.")
        return
    if found is None:
        print(f"No receipt for {_kind(session)} {session_id}: the session monitor has none.")
        return
    text, markdown = str(found.get("text") or ""), str(found.get("markdown") or "")
    display(Receipt(text, markdown))  # type: ignore[no-untyped-call]


def _print_closing_receipt(session: Any) -> None:
    """The end of a ``%%session`` cell that closed its session: the receipt's text, once the
    monitor has seen the session closed (``final``) or after ``RECEIPT_WAIT`` seconds, whatever
    it has then (its text says "so far"). Nothing where the monitor cannot be asked (a headless
    run prints what it printed before)."""
    session_id = str(session.session_id)
    deadline = time.monotonic() + RECEIPT_WAIT
    found: dict[str, Any] | None = None
    while True:
        try:
            found = _receipt_of(session_id) or found
        except hook.ServerUnavailable:
            if found is None:
                return
            break
        if found is not None and (found.get("receipt") or {}).get("final"):
            break
        if time.monotonic() >= deadline:
            break
        time.sleep(RECEIPT_POLL)
    if found is None:
        print(
            f"No receipt for {_kind(session)} {session_id}: the session monitor had not "
            f"registered it after {RECEIPT_WAIT:.0f} s."
        )
        return
    print(found.get("text") or "")


def _one_line(text: str) -> str:
    return " ".join(str(text).split()).rstrip(".")


def _set_budget(session: Any, options: dict[str, Any]) -> None:
    """The cell's ``--budget``/``--budget-amount`` on its session, at the server (which enforces
    it, also with no browser open). Said in one line either way; never fails the cell."""
    session_id = str(session.session_id)
    kind = _kind(session)
    request: dict[str, Any] = {"action": options["on_budget"] or "notify"}
    if options["budget"] is not None:
        request["seconds"] = options["budget"]
    else:
        request["amount"] = options["budget_amount"]
    note = _bare_seconds_note(options["budget_text"])
    try:
        _await_registration(session_id)
        answer = hook.ask_server("set_budget", session_id=session_id, **request)
    except hook.ServerUnavailable as error:
        print(f"%%session: no budget set on {kind} {session_id}: {_one_line(str(error))}.")
        return
    views = answer.get("sessions") if isinstance(answer, dict) else None
    view = next((v for v in views or [] if isinstance(v, dict)), {})
    given = view.get("budget")
    budget: dict[str, Any] = given if isinstance(given, dict) else dict(request)
    then = _BUDGET_THEN[request["action"]].format(it="it")
    threshold = _number(budget.get("threshold")) or 0.8
    print(
        f"Budget for {kind} {session_id}: {_budget_size(budget, options['budget_text'])}"
        + (f" ({note})" if note else "")
        + f"; a warning at {_percent(threshold)}, {then}."
    )


def _billed_cell(view: dict[str, Any] | None, now: datetime) -> str:
    """``%session list``'s billed column: ``2m 5s`` or ``2m 5s, 1.04 USD``."""
    if view is None or not isinstance(view.get("billing"), dict):
        return ""
    meter = view["billing"]
    billed, _ = _billed_now(view, now)
    rate = _number(meter.get("rate_per_second"))
    if rate is None:
        return format_duration(billed)
    return f"{format_duration(billed)}, {_money(billed * rate, meter.get('currency'))}"


def _budget_cell(view: dict[str, Any] | None) -> str:
    """``%session list``'s budget column: ``45 % of 10m``, ``reached: closed ID``."""
    budget = view.get("budget") if view is not None else None
    if not isinstance(budget, dict):
        return ""
    if budget.get("reached"):
        return f"reached: {budget.get('outcome') or str(budget.get('action')) + ' under way'}"
    used = _number(budget.get("used"))
    size = _budget_size(budget).split(" (")[0].removesuffix(" of billed time")
    return f"{_percent(used)} of {size}" if used is not None else size


def _where(view: dict[str, Any]) -> str:
    """The notebook a session belongs to, or how the monitor knows it."""
    if view.get("notebook_path"):
        return str(view["notebook_path"])
    source = view.get("source")
    if source == "tracked":
        return "(tracked by id)"
    if source == "discovered":
        return "(opened elsewhere)"
    return "(no notebook)"


# ---------------------------------------------------------------------- parsing the magics' lines
#
# Both magics declare their arguments with IPython's magic_arguments: the parser their help
# (%%session?, %session?) is made from is the one that reads their lines. The line is split
# with shlex, as before (parse_argstring splits without POSIX quoting and keeps the quotes in
# the words: --max-time '5 minutes' would reach the parser as "'5"), and argparse's refusals
# become the magics' own one-line messages.

#: ``%%session``'s options that take a value; values may start with "-" (``--budget-amount -3``
#: is refused as an amount, not as a missing value), only an option ends one.
_VALUED = (
    "--backend",
    "--max-time",
    "--tags",
    "--account",
    "--budget",
    "--budget-amount",
    "--on-budget",
)
#: Those of them that are durations: ``--max-time 5 minutes`` is told to write ``5m``.
_DURATIONS = ("--max-time", "--budget")
#: The first lines of ``%%session?`` and ``%session?`` (IPython's prefix adds a "%").
_CELL_USAGE = """\
%(prog)s --backend NAME | --least-busy [--account NAME]
             [--max-time DURATION] [--batch] [--keep] [--tags TAGS]
             [--budget DURATION | --budget-amount AMOUNT] [--on-budget ACTION]"""
_LINE_USAGE = "%(prog)s COMMAND [ID] [--all] [--cancel] [--yes]"
_CELL_EPILOG = """\
Durations (--max-time, --budget): 25m, 1h30m, 2h 10m 20s, 1d, or whole seconds; a number and a
unit word ("5 minutes") is refused with the short form to write (5m).

The budget is set on the session (a reused --keep session included) before the cell runs, and
enforced by the Jupyter server's session monitor, also with no browser open. Where it cannot be
set (a kernel not started by such a server, no rate for an amount), the cell says why in one
line and runs all the same.

A cell that closes its session (no --keep) ends with the session's receipt (as %session
receipt, in plain text), once the monitor has seen it closed; after at most 10 s it prints the
receipt so far (queued jobs still running, say). Nothing where the monitor cannot be asked.

%session (list, status, details, receipt, close, cancel, watch, attach) acts on the sessions
afterwards: %session? says how."""
_LINE_EPILOG = """\
Without ID: the most recent session of this kernel. An ID may be a unique prefix of one.
%%session? says how to run a cell in a session."""


# IPython's magic_arguments decorators, typed for mypy (they keep the function they decorate).
_Magic = TypeVar("_Magic", bound=Callable[..., Any])


def magic_arguments(name: str) -> Callable[[_Magic], _Magic]:
    """The magic's parser, made from the decorators below it; its help becomes the docstring.
    Options are spelled out: an abbreviation (--back) is an unknown option, as it always was."""
    make = ipython_arguments.magic_arguments(name)  # type: ignore[no-untyped-call]

    def decorate(function: _Magic) -> _Magic:
        made = make(function)
        made.parser.allow_abbrev = False
        return made  # type: ignore[no-any-return]

    return decorate


def argument(*names: str, **options: Any) -> Callable[[_Magic], _Magic]:
    return ipython_arguments.argument(*names, **options)  # type: ignore[no-untyped-call]


def argument_group(title: str) -> Callable[[_Magic], _Magic]:
    return ipython_arguments.argument_group(title)  # type: ignore[no-untyped-call]


def kwds(**options: Any) -> Callable[[_Magic], _Magic]:
    return ipython_arguments.kwds(**options)  # type: ignore[no-untyped-call]


def _split(line: str, magic: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError as error:  # No closing quotation, ...
        raise UsageError(f"{magic}: {error}") from None


def _joined(words: list[str]) -> list[str]:
    """``%%session``'s words with each valued option and its value as one ``--name=VALUE``, so
    that argparse takes a value starting with "-" (``--max-time -5m`` is then refused as a
    duration); a duration and a unit word after it (``--max-time 5 minutes``) is refused with
    the short form to write."""
    joined: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        name, _, inline = word.partition("=")
        following = words[index + 1] if index + 1 < len(words) else ""
        if name in _VALUED and not inline:
            if not following or following.startswith("--"):
                joined.append(name)  # argparse: expected one argument, said as needs a value
                index += 1
                continue
            inline = following
            index += 1
            following = words[index + 1] if index + 1 < len(words) else ""
        written = short_form(inline, following) if name in _DURATIONS else None
        if written:  # "--max-time 5 minutes": one duration in two words
            raise UsageError(f"%%session: {name} {inline} {following}: write {name} {written}.")
        joined.append(f"{name}={inline}" if name in _VALUED else word)
        index += 1
    return joined


def _dest(option: str) -> str:
    return option.removeprefix("--").replace("-", "_")


def _first(extras: list[str], words: list[str]) -> str:
    """The first of the words argparse did not take, in the order the user typed them."""
    order = {word: index for index, word in reversed(list(enumerate(words)))}

    def typed_at(word: str) -> int:
        return order.get(word, order.get(word.partition("=")[0], len(words)))

    return min(extras, key=typed_at)


_EXPECTED = re.compile(r"argument (--[\w-]+): expected one argument")
_EXPLICIT = re.compile(r"argument (--[\w-]+): ignored explicit argument (.*)")


def _parse(
    magic_function: Any, words: list[str], magic: str, unknown: Callable[[str], str]
) -> tuple[argparse.Namespace, list[str]]:
    """The magic's arguments read by its magic_arguments parser (options and positionals in any
    order), with the words it did not take; its refusals as the magic's one-line messages
    (``unknown`` words the refusal of an unknown option)."""
    parser: argparse.ArgumentParser = magic_function.parser
    try:
        return parser.parse_known_intermixed_args(words)
    except UsageError as error:
        said = str(error)
        expected = _EXPECTED.fullmatch(said)
        if expected:
            raise UsageError(f"{magic}: {expected.group(1)} needs a value.") from None
        explicit = _EXPLICIT.fullmatch(said)
        if explicit:  # --keep=1: a flag takes no value
            name = explicit.group(1)
            raise UsageError(
                unknown(next((w for w in words if w.startswith(f"{name}=")), name))
            ) from None
        raise UsageError(f"{magic}: {_one_line(said)}.") from None


def _ask(prompt: str) -> str | None:
    """The user's answer, lower-cased; ``None`` where this front end cannot ask."""
    try:
        return input(prompt).strip().lower()
    except (StdinNotImplementedError, EOFError):
        return None


@magics_class
class SessionMagics(Magics):
    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self._kept: dict[str, Any] = {}  # backend name -> session kept open with --keep

    # ------------------------------------------------------------------ %%session

    @cell_magic("session")  # type: ignore[arg-type]
    @magic_arguments("%session")  # the name after IPython's "%": the help reads %%session
    @kwds(usage=_CELL_USAGE, epilog=_CELL_EPILOG)
    @argument_group("where the session runs (one of --backend and --least-busy)")
    @argument(
        "--backend",
        metavar="NAME",
        help="the device to open the session on, as QiskitRuntimeService().backend(NAME) names "
        "it (QiskitRuntimeService().backends() lists them)",
    )
    @argument(
        "--least-busy",
        action="store_true",
        help="instead of --backend: the least busy operational device of the account (not a "
        "simulator)",
    )
    @argument(
        "--account",
        metavar="NAME",
        help="a saved account, as QiskitRuntimeService(name=NAME); default: the default saved "
        "account",
    )
    @argument_group("the session")
    @argument(
        "--max-time",
        metavar="DURATION",
        help="the session's maximum time to live, as Session(max_time=...): 25m, 1h30m, "
        "2h 10m 20s, 1d, or whole seconds (a bare number is seconds: write 5m for 5 minutes); "
        "default: the service's, the longest the plan allows. One the plan refuses is one "
        "line naming the plan's limit",
    )
    @argument(
        "--batch",
        action="store_true",
        help="open a Batch instead of a Session (also where the Open Plan refuses sessions)",
    )
    @argument(
        "--keep",
        action="store_true",
        help="leave the session open when the cell ends (no receipt then); a later "
        "%%%%session --keep cell on the same backend reuses it while it is open, and its "
        "--max-time and --batch apply only to a new one. Without --keep the session closes "
        "when the cell ends, also after an error or Ctrl-C",
    )
    @argument(
        "--tags",
        metavar="TAGS",
        help="job tags, comma-separated (a,b), added to every job the cell submits, next to "
        "the primitive's own; per cell: a later cell reusing a --keep session tags its jobs "
        "with its own --tags only",
    )
    @argument_group("budget (set and enforced by the Jupyter server's session monitor)")
    @argument(
        "--budget",
        metavar="DURATION",
        help="a budget on the session's billed time, written as --max-time (10m, 1h30m; a "
        "bare number is seconds)",
    )
    @argument(
        "--budget-amount",
        metavar="AMOUNT",
        help="a budget in money instead: a positive number such as 12.50, no currency sign, "
        "counted in the currency of the rate per billed second set on the Jupyter server; "
        "refused while no rate is set. Not with --budget",
    )
    @argument(
        "--on-budget",
        metavar="ACTION",
        help="what happens at 100 %% of the budget: notify (the default), close (no new jobs; "
        "queued jobs still run) or cancel (queued jobs are cancelled); a warning comes at "
        "80 %%. Needs --budget or --budget-amount",
    )
    def session_cell(self, line: str, cell: str) -> None:
        """Run the cell inside a Qiskit Runtime session (or batch) opened for it.

        Primitives the cell creates without a mode run in it, as inside `with Session(...)`.
        The session is shown as a live widget, and closed when the cell ends unless --keep.
        Bad options are one line saying what to write instead; so are the client's errors a
        user can fix (an unknown backend, a missing account, the Open Plan refusal, a
        --max-time the plan refuses)."""
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
                # What max_time=5 means in the client, kept; but rarely what was meant.
                note = _bare_seconds_note(options["max_time_text"])
                if note:
                    print(f"max_time {options['max_time']} s ({note})")
                if options["keep"]:
                    self._kept[backend.name] = session
        self._display(session)
        if options["budget"] is not None or options["budget_amount"] is not None:
            _set_budget(session, options)
        from qiskit_ibm_runtime.utils.default_session import set_cm_session

        set_cm_session(session)  # primitives created in the cell use it, as inside `with`
        try:
            with _tagged(session, options["tags"]), _numbered_as_this_cell(self.shell):
                result = self.shell.run_cell(cell)  # type: ignore[union-attr]
        finally:
            set_cm_session(None)
            if not options["keep"]:
                _close(session)  # also after an exception or Ctrl-C in the cell: no orphan
        failure = result.error_before_exec or result.error_in_exec
        if not options["keep"] and not isinstance(failure, KeyboardInterrupt):
            # What the session cost (not after Ctrl-C: whoever stopped the cell is not kept
            # waiting; %session receipt shows it).
            _print_closing_receipt(session)
        if failure is not None:
            _raise_shown(failure)

    def _parse_cell_options(self, line: str) -> dict[str, Any]:
        words = _split(line, "%%session")

        def unknown(word: str) -> str:
            return f"%%session: unknown option {word!r}. Options: {CELL_OPTIONS}."

        args, extras = _parse(self.session_cell, _joined(words), "%%session", unknown)
        if extras:
            raise UsageError(unknown(_first(extras, words)))
        options: dict[str, Any] = vars(args)
        for option in _VALUED:
            if options[_dest(option)] == "":  # --backend '' or --backend=
                raise UsageError(f"%%session: {option} needs a value.")
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
        options["tags"] = [t.strip() for t in (options["tags"] or "").split(",") if t.strip()]
        self._parse_budget(options)
        return options

    @staticmethod
    def _parse_budget(options: dict[str, Any]) -> None:
        """``--budget`` (billed time, as ``--max-time``), ``--budget-amount`` (money) and
        ``--on-budget``, checked before anything is opened."""
        options["budget_text"] = options["budget"]
        if options["budget"] is not None and options["budget_amount"] is not None:
            raise UsageError(
                "%%session: give --budget DURATION (billed time) or --budget-amount AMOUNT "
                "(money), not both."
            )
        if options["budget"] is not None:
            try:
                options["budget"] = parse_duration(options["budget"])
            except DurationError as error:
                raise UsageError(f"%%session --budget: {error}") from None
        if options["budget_amount"] is not None:
            typed = options["budget_amount"]
            try:
                amount = float(typed)
            except ValueError:
                amount = math.nan
            if not math.isfinite(amount) or amount <= 0:
                raise UsageError(
                    f"%%session --budget-amount: {typed!r} is not an amount. Write a positive "
                    "number such as 12.50, no currency sign: it is counted in the currency of "
                    "the rate set on the Jupyter server."
                )
            options["budget_amount"] = amount
        action = options["on_budget"]
        if action is not None:
            if action not in BUDGET_ACTIONS:
                raise UsageError(
                    f"%%session --on-budget: {action!r} is not an action. Use notify (the "
                    "default), close (queued jobs still run) or cancel (queued jobs are "
                    "cancelled)."
                )
            if options["budget"] is None and options["budget_amount"] is None:
                raise UsageError(
                    "%%session: --on-budget says what to do when a budget is used up: add "
                    "--budget DURATION or --budget-amount AMOUNT."
                )

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
    @magic_arguments("session")
    @kwds(usage=_LINE_USAGE, epilog=_LINE_EPILOG)
    @argument(
        "command",
        nargs="?",
        metavar="COMMAND",
        help="list, status, details, receipt, close, cancel, watch, attach or help (above); "
        "without one, help",
    )
    @argument(
        "id",
        nargs="?",
        metavar="ID",
        help="the session: its id or a unique prefix of it; default: the most recent session "
        "of this kernel (attach needs one)",
    )
    @argument(
        "--all",
        action="store_true",
        help="with close: every open session the session monitor tracks (this server's "
        "notebooks, sessions tracked by id, the account's others with discovery on), listed "
        "first; give no ID with it",
    )
    @argument(
        "--cancel",
        action="store_true",
        help="with close --all: cancel them instead (their queued jobs are cancelled and each "
        "session ends now; running jobs finish)",
    )
    @argument(
        "--yes",
        action="store_true",
        help="do it without asking: cancel does nothing without it (it says what it would "
        "cancel), close --all asks y/N first unless given (and does nothing where the front "
        "end cannot ask)",
    )
    def session_line(self, line: str) -> Any:
        """See and control the Qiskit Runtime sessions of this kernel.

        Commands:
          list            this kernel's sessions: id, backend, mode, status, jobs and what the
                          service does next; with the session monitor also what each is billed
                          and its budget, and which queued jobs will not start before max TTL.
                          * marks the default session
          status [ID]     Session.status() with job counts and the next deadline; billed time,
                          budget and fit-check when the monitor answers
          details [ID]    Session.details(), then the job counts and the failed jobs with the
                          service's reason
          receipt [ID]    what the session cost: times, how it ended, jobs, billed time, cost
                          ("so far" while it is open), from the session monitor
          close [ID]      no new jobs; queued jobs still run
          close --all [--cancel] [--yes]
                          every open session the monitor tracks (after one y/N question
                          unless --yes); --cancel cancels their queued jobs
          cancel [ID] --yes
                          cancel queued jobs and end the session; without --yes it says what
                          it would cancel and changes nothing
          watch [ID]      show the live widget
          attach ID       re-attach with Session.from_id and track it under this notebook
          help            a summary of these commands and of the %%session options"""
        words = _split(line, "%session")
        if not words or words[0] in ("help", "-h", "--help"):
            print(USAGE)
            return None
        # What the refusals call the command: as typed (options may come before it).
        named = next((word for word in words if not word.startswith("-")), words[0])

        def unknown(word: str) -> str:
            return f"%session {named}: unknown option {word!r}.\n{USAGE}"

        args, extras = _parse(self.session_line, words, "%session", unknown)
        command: str | None = args.command
        ident: str | None = args.id
        # Options that are not this command's: --all and --cancel go with close only.
        unknown_options = [word for word in extras if word.startswith("-")]
        if command != "close":
            unknown_options += [f"--{flag}" for flag in ("all", "cancel") if getattr(args, flag)]
        if unknown_options:
            raise UsageError(unknown(sorted(unknown_options)[0]))
        if command is None:  # only options
            raise UsageError(f"%session: unknown command {named!r}.\n{USAGE}")
        if extras:  # more words than COMMAND and ID
            raise UsageError(f"%session {command}: one session id at most.\n{USAGE}")
        yes = args.yes
        if command == "close" and args.all:
            if ident is not None:
                raise UsageError(
                    "%session close --all closes every open session: give no id with it."
                )
            self._close_all(cancel=args.cancel, yes=yes)
            return None
        if args.cancel:
            raise UsageError(
                "%session close --cancel: --cancel goes with --all; to cancel one session's "
                "queued jobs and end it, %session cancel [ID] --yes."
            )
        with _fixable_errors():
            if command == "list":
                self._list()
                return None
            if command == "attach":
                if ident is None:
                    raise UsageError("%session attach ID: which session? Give its id.")
                return self._attach(ident)
            if command not in ("status", "details", "receipt", "close", "cancel", "watch"):
                raise UsageError(f"%session: unknown command {command!r}.\n{USAGE}")
            session = self._find(ident)
            if command == "status":
                # One read for every figure: the monitor's, read from the service now, whose
                # counts are those its fit-check used; the service's own answer when the server
                # cannot be asked (headless).
                view = _server_views([str(session.session_id)], fresh=True).get(
                    str(session.session_id)
                )
                look = _look_of(session, view) if view is not None else _look(session)
                now = _now()
                countdown = look.countdown(now)
                print(
                    f"{look.mode.capitalize()} {look.session_id} on {look.backend}: "
                    f"{look.status}; jobs: {look.jobs_text(zeros=True)}"
                    + (f"; {countdown}" if countdown else "")
                )
                # What the monitor adds (headless, as before: the service's answer only).
                if view is not None:
                    lines = (
                        _stale_line(view),
                        _pending_line(view),
                        _billing_line(view, now),
                        _budget_line(view),
                        _fit_line(view),
                    )
                    for said in lines:
                        if said:
                            print(f"  {said}")
            elif command == "details":
                look = _look(session)
                _print_details(look.details)
                _print_jobs(look)
            elif command == "receipt":
                _show_receipt(session)
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
        # The monitor's figures when it can be asked: what each is billed, its budget, fit-check.
        views = _server_views([str(s.session_id) for s in sessions], fresh=True)
        header: tuple[str, ...] = ("", "id", "backend", "mode", "status", "jobs", "next")
        if views:
            header += ("billed", "budget")
        rows: list[tuple[str, ...]] = [header]
        notes: list[str] = []
        for session in sessions:
            marker = "*" if session is default else ""
            view = views.get(str(session.session_id))
            money: tuple[str, ...] = (_billed_cell(view, now), _budget_cell(view)) if views else ()
            try:
                look = _look_of(session, view) if view is not None else _look(session)
            except Exception as error:  # one unreachable session must not hide the others
                backend = getattr(session._backend, "name", None) or "?"
                status = f"unknown ({type(error).__name__})"
                ident = str(session.session_id)
                rows.append((marker, ident, backend, _kind(session), status, "?", "", *money))
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
                    *money,
                )
            )
            fit = _fit_line(view) if view is not None else None
            if fit:
                notes.append(f"{look.session_id}: {fit}")
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        for row in rows:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        for note in notes:
            print(note)
        print(
            "* the default: %session status, details, receipt, close, cancel and watch act on it "
            "when no ID is given (this kernel's most recent session)."
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

    def _close_all(self, *, cancel: bool, yes: bool) -> None:
        """Every open session the monitor tracks (this server's notebooks, sessions tracked by id
        and, with discovery on, the account's others): one confirmation listing them, one y/N
        question unless ``yes``, then what was closed and what failed."""
        action = "cancel" if cancel else "close"
        try:
            preview = hook.ask_server("close_all", action=action, dry_run=True)
        except hook.ServerUnavailable as error:
            # One line, not an error: a notebook run headless (nbclient, papermill) goes on.
            print(
                f"%session close --all asks the session monitor, which cannot be asked: "
                f"{_one_line(str(error))}. Nothing was closed. Close this kernel's sessions one "
                "by one with %session close ID (%session list shows them)."
            )
            return
        views = [v for v in (preview or {}).get("sessions") or [] if isinstance(v, dict)]
        if not views:
            print("No open session: the session monitor tracks none, so there is nothing to close.")
            return
        verb = "Cancel" if cancel else "Close"
        rows = [("id", "backend", "mode", "notebook", "jobs")]
        queued_total = 0
        for view in views:
            summary = view.get("jobs_summary") or {}
            queued, running = int(summary.get("QUEUED") or 0), int(summary.get("RUNNING") or 0)
            queued_total += queued
            rows.append(
                (
                    str(view.get("id")),
                    str(view.get("backend") or "?"),
                    "batch" if view.get("mode") == "batch" else "session",
                    _where(view),
                    f"{queued} queued, {running} running",
                )
            )
        print(f"{verb} all: {_plural(len(views), 'open session')} tracked by the session monitor:")
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        for row in rows:
            print("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if cancel:
            print(
                f"Cancelling ends each session now: {_plural(queued_total, 'queued job')} "
                "cancelled; running jobs finish."
            )
        else:
            print(
                "Closing is graceful: the sessions accept no new jobs; queued and running jobs "
                "still run."
            )
        print("(Job counts as the service gave them just now.)")
        if not yes:
            these = "this session" if len(views) == 1 else f"these {len(views)} sessions"
            answer = _ask(f"{verb} {these}? [y/N] ")
            if answer is None:
                print(
                    "Nothing was changed: this front end cannot ask. To do it: "
                    f"%session close --all{' --cancel' if cancel else ''} --yes"
                )
                return
            if answer not in ("y", "yes"):
                print("Nothing was changed.")
                return
        try:
            # Only what was listed: a session opened since the question is not closed unasked.
            listed_ids = [str(v.get("id")) for v in views]
            result = hook.ask_server("close_all", action=action, session_ids=listed_ids)
        except hook.ServerUnavailable as error:
            raise UsageError(
                f"%session close --all: the session monitor did not answer: "
                f"{_one_line(str(error))}. Nothing may have been done: %session list shows "
                "where this kernel's sessions are."
            ) from None
        done = [str(i) for i in (result or {}).get("closed") or []]
        failed = [f for f in (result or {}).get("failed") or [] if isinstance(f, dict)]
        past = "Cancelled" if cancel else "Closed"
        if done:
            print(f"{past} {_plural(len(done), 'session')}: {', '.join(done)}.")
        for failure in failed:
            print(
                f"Could not {action} {failure.get('id')}: "
                f"{_one_line(str(failure.get('message') or failure.get('kind')))}."
            )
        if not done and not failed:
            print("Nothing was open any more: nothing was closed.")

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
        from jupyter_session_monitor.kernel.widget import SessionWidget

        display(SessionWidget(session))  # type: ignore[no-untyped-call]


def register(ipython: Any) -> None:
    """Idempotent: a second `%load_ext` keeps the magics (and what they remember) in place."""
    if "SessionMagics" in ipython.magics_manager.registry:
        return
    ipython.register_magics(SessionMagics)
