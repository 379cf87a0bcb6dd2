"""What ``%session`` does besides status and details: find one of this kernel's sessions, list them,
cancel one, close them all, attach one opened elsewhere."""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError

from jupyter_session_monitor.kernel import client, hook
from jupyter_session_monitor.protocol import derive

from .look import (
    look_at,
    look_of,
    session_kind,
    utc_now,
)
from .money import (
    _where,
    billed_cell,
    budget_cell,
    fit_line,
    one_line,
    plural,
    server_views,
)
from .parsing import (
    ask_user,
)


def find_session(ident: str | None) -> Any:
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


def list_sessions() -> None:
    sessions = hook.opened_sessions()
    if not sessions:
        print("This kernel has opened no Qiskit Runtime session.")
        return
    default = find_session(None)
    now = utc_now()
    # The monitor's figures when it can be asked: what each is billed, its budget, fit-check.
    views = server_views([str(s.session_id) for s in sessions], fresh=True)
    header: tuple[str, ...] = ("", "id", "backend", "mode", "status", "jobs", "next")
    if views:
        header += ("billed", "budget")
    rows: list[tuple[str, ...]] = [header]
    notes: list[str] = []
    for session in sessions:
        marker = "*" if session is default else ""
        view = views.get(str(session.session_id))
        money: tuple[str, ...] = (billed_cell(view, now), budget_cell(view)) if views else ()
        try:
            look = look_of(session, view) if view is not None else look_at(session)
        except Exception as error:  # one unreachable session must not hide the others
            backend = getattr(session._backend, "name", None) or "?"
            status = f"unknown ({type(error).__name__})"
            ident = str(session.session_id)
            rows.append((marker, ident, backend, session_kind(session), status, "?", "", *money))
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
        fit = fit_line(view) if view is not None else None
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


def cancel_session(session: Any, yes: bool) -> None:
    look = look_at(session)
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


def close_all(*, cancel: bool, yes: bool) -> None:
    """Every open session the monitor tracks (this server's notebooks, sessions tracked by id
    and, with discovery on, the account's others): one confirmation listing them, one y/N
    question unless ``yes``, then what was closed and what failed."""
    action = "cancel" if cancel else "close"
    try:
        preview = client.ask_server("close_all", action=action, dry_run=True)
    except client.ServerUnavailable as error:
        # One line, not an error: a notebook run headless (nbclient, papermill) goes on.
        print(
            f"%session close --all asks the session monitor, which cannot be asked: "
            f"{one_line(str(error))}. Nothing was closed. Close this kernel's sessions one "
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
    print(f"{verb} all: {plural(len(views), 'open session')} tracked by the session monitor:")
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        print("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    if cancel:
        print(
            f"Cancelling ends each session now: {plural(queued_total, 'queued job')} "
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
        answer = ask_user(f"{verb} {these}? [y/N] ")
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
        result = client.ask_server("close_all", action=action, session_ids=listed_ids)
    except client.ServerUnavailable as error:
        raise UsageError(
            f"%session close --all: the session monitor did not answer: "
            f"{one_line(str(error))}. Nothing may have been done: %session list shows "
            "where this kernel's sessions are."
        ) from None
    done = [str(i) for i in (result or {}).get("closed") or []]
    failed = [f for f in (result or {}).get("failed") or [] if isinstance(f, dict)]
    past = "Cancelled" if cancel else "Closed"
    if done:
        print(f"{past} {plural(len(done), 'session')}: {', '.join(done)}.")
    for failure in failed:
        print(
            f"Could not {action} {failure.get('id')}: "
            f"{one_line(str(failure.get('message') or failure.get('kind')))}."
        )
    if not done and not failed:
        print("Nothing was open any more: nothing was closed.")


def attach_session(session_id: str) -> Any:
    from qiskit_ibm_runtime import QiskitRuntimeService, Session

    session = Session.from_id(session_id, QiskitRuntimeService())
    hook.remember(session)  # also when the hook is not installed (reported by from_id if so)
    print(
        f"Attached session {session.session_id} ({session.status()}); it is tracked under "
        "this notebook."
    )
    return None
