"""What the monitor serves about one tracked session, as pure functions of the record: the
contract's ``SessionView``, its deadlines, and job records read from the service's job list.

No I/O and no state: the monitor hands in the record (and the timeline, when asked for one).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from jupyter_session_monitor.protocol import derive

from .models import JobRecord, TrackedSession, Transition


def pending_jobs(session: TrackedSession) -> int:
    return sum(1 for j in session.jobs if j.status not in derive.FINAL_JOB_STATUSES)


def jobs_final(session: TrackedSession) -> bool:
    return all(j.status in derive.FINAL_JOB_STATUSES for j in session.jobs)


def job_settled(
    job: JobRecord, session: TrackedSession, read: datetime | None, settle: float
) -> bool:
    """A job whose figures can no longer change: final, and read again by a read that began
    ``read`` (None: none since), at least ``settle`` seconds after it was read final (the
    service reports usage periodically: a job's usage may come after its end). A job loaded
    final from the registry counts from the session's close (``closed_seen``)."""
    if job.status not in derive.FINAL_JOB_STATUSES:
        return False
    seen = job.final_seen or session.closed_seen
    if seen is None:
        return True
    return read is not None and (read - seen).total_seconds() >= settle


def usage_settles_in(session: TrackedSession, now: datetime, settle: float) -> float | None:
    """Seconds until a closed session's usage figures (its ``elapsed_time``, its jobs' usage)
    are final: ``settle`` after it was read closed with every job final; 0 once they are, None
    while it is open or a job is not final."""
    if not session.closed or not jobs_final(session):
        return None
    seen = [t for t in [session.closed_seen, *(j.final_seen for j in session.jobs)] if t]
    if not seen:
        return 0.0
    return max(0.0, settle - (now - max(seen)).total_seconds())


def deadlines_of(session: TrackedSession, no_job_close_seconds: float) -> derive.Deadlines:
    """When the service will act on its own, on this server's clock (the service's timestamps
    less its clock offset)."""
    body = session.body or {}
    return derive.deadlines(
        body,
        pending_jobs=pending_jobs(session),
        any_job=bool(session.jobs) or bool(body.get("last_job_started")),
        no_job_close_seconds=no_job_close_seconds,
    ).shifted(-session.clock_offset)


def job_records(session_id: str, raw_jobs: Iterable[dict[str, Any]]) -> list[JobRecord]:
    """The service's job list as records, in its order (oldest first, as it is read)."""
    return [
        JobRecord(
            id=str(raw.get("id")),
            session_id=session_id,
            program_id=str((raw.get("program") or {}).get("id") or ""),
            status=derive.job_status(raw),
            tags=[str(t) for t in raw.get("tags") or []],
            created=raw.get("created"),
            usage_seconds=derive.job_usage(raw),
            reason=derive.job_reason(raw),
            estimated_seconds=derive.job_estimate(raw),
        )
        for raw in raw_jobs
    ]


def session_view(
    session: TrackedSession,
    *,
    no_job_close_seconds: float,
    timeline: list[Transition] | None = None,
) -> dict[str, Any]:
    """The contract's ``SessionView`` (with ``timeline`` when one is given)."""
    body = session.body or {}
    view: dict[str, Any] = {
        "id": session.id,
        "mode": session.mode,
        "backend": session.backend,
        "status": derive.status_of(body.get("state"), body.get("accepting_jobs")),
        "state": body.get("state"),
        "state_reason": body.get("state_reason"),
        "accepting_jobs": body.get("accepting_jobs"),
        "notebook_path": session.notebook_path,
        "kernel_id": session.kernel_id,
        "orphaned": session.orphaned,
        "not_found": session.not_found,
        "source": session.source,
        "account": session.account.as_json(),
        "created_at": derive.iso(derive.created_at(body)),
        "tracked_at": derive.iso(session.tracked_at),
        "details": derive.details_of(body),
        "deadlines": deadlines_of(session, no_job_close_seconds).as_json(),
        "service_clock_offset_seconds": round(session.clock_offset, 3),
        "pending_action": dict(session.pending_action) if session.pending_action else None,
        "usage_seconds": body.get("elapsed_time"),
        "jobs": [{**j.as_json(), "cell": session.job_cells.get(j.id)} for j in session.jobs],
        "cell": session.cell,
        "jobs_summary": derive.jobs_summary(j.status for j in session.jobs),
        "last_polled_at": derive.iso(session.last_polled_at),
        "stale": session.stale,
        "error": session.error,
        "end_reason": derive.end_reason(
            body, action=session.last_action, no_job_close_seconds=no_job_close_seconds
        ),
    }
    if timeline is not None:
        view["timeline"] = [t.as_json() for t in timeline]
    return view


def service_history(
    body: dict[str, Any], *, before: datetime, clock_offset: float = 0.0
) -> list[Transition]:
    """The state changes the service lists in a session's ``timestamps`` before ``before``, as
    timeline entries on this server's clock (``clock_offset``: the service's minus this
    server's). The service does not say when a session stopped accepting jobs: an entry accepts
    jobs unless it is closed."""
    listed: list[tuple[datetime, str]] = []
    for entry in body.get("timestamps") or []:
        if not isinstance(entry, dict):
            continue
        state, at = entry.get("status"), derive.parse_time(entry.get("timestamp"))
        if at is not None:
            at -= timedelta(seconds=clock_offset)
        if isinstance(state, str) and at is not None and at < before:
            listed.append((at, state))
    found: list[Transition] = []
    for at, state in sorted(listed, key=lambda item: item[0]):
        accepting = state.lower() != "closed"
        if found and (found[-1].state, found[-1].accepting_jobs) == (state, accepting):
            continue
        status = derive.status_of(state, accepting)
        found.append(Transition(at=at, state=state, accepting_jobs=accepting, status=status))
    return found
