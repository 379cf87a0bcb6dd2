"""What the monitor derives from the service's session body and job list, as pure functions.

Served to every client so they all agree: ``status`` exactly as ``Session.status()`` words it,
``details`` exactly as ``Session.details()`` names it, the three deadlines, the end reason and the
job counts. The deadline rules are tested against ``tests/cases/deadlines.json``, the same table
the browser's timer math is tested against.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

#: The four status strings of ``Session.status()``, the user's vocabulary.
PENDING = "Pending"
ACCEPTING = "In progress, accepting new jobs"
NOT_ACCEPTING = "In progress, not accepting new jobs"
CLOSED = "Closed"

#: ``GET /sessions/{id}`` field -> ``Session.details()`` key (the 15 keys it returns).
DETAILS_KEYS: dict[str, str] = {
    "id": "id",
    "backend_name": "backend_name",
    "interactive_ttl": "interactive_timeout",
    "max_ttl": "max_time",
    "active_ttl": "active_timeout",
    "state": "state",
    "accepting_jobs": "accepting_jobs",
    "last_job_started": "last_job_started",
    "last_job_completed": "last_job_completed",
    "started_at": "started_at",
    "closed_at": "closed_at",
    "activated_at": "activated_at",
    "mode": "mode",
    "elapsed_time": "usage_time",
    "timestamps": "timestamps",
}

JOB_STATUSES = ("QUEUED", "RUNNING", "DONE", "ERROR", "CANCELLED")
FINAL_JOB_STATUSES = frozenset({"DONE", "ERROR", "CANCELLED"})
_API_JOB_STATUS = {
    "QUEUED": "QUEUED",
    "RUNNING": "RUNNING",
    "COMPLETED": "DONE",
    "FAILED": "ERROR",
    "CANCELLED": "CANCELLED",
}
#: The service's reason code for a job cancelled because it ran too long: the client says ERROR.
RAN_TOO_LONG = 1305

END_REASONS = ("closed", "cancelled", "max_ttl", "idle_timeout", "unknown")


def status_of(state: str | None, accepting_jobs: bool | None) -> str:
    """``Session.status()``'s mapping of the raw state."""
    state = (state or "").lower()
    if state in ("open", "inactive"):
        return PENDING
    if (state == "active" and accepting_jobs) or state == "pending_inactive":
        return ACCEPTING
    if (state == "active" and not accepting_jobs) or state == "pending_closed":
        return NOT_ACCEPTING
    return state.capitalize()


def details_of(body: Mapping[str, Any]) -> dict[str, Any]:
    """``Session.details()`` of a raw session body: the same 15 keys, the same names."""
    return {key: body.get(field) for field, key in DETAILS_KEYS.items()}


def parse_time(value: Any) -> datetime | None:
    """The service's ISO-8601 timestamps (``Z`` or offset; naive means UTC)."""
    if not value or not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)  # Python 3.11 reads "Z" and every ISO form
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def created_at(body: Mapping[str, Any]) -> datetime | None:
    """When the session was opened: its first ``open`` timestamp (the body has no other)."""
    explicit = parse_time(body.get("created_at"))
    if explicit is not None:
        return explicit
    for entry in body.get("timestamps") or []:
        if isinstance(entry, Mapping) and entry.get("status") == "open":
            return parse_time(entry.get("timestamp"))
    return None


def job_status(raw_job: Mapping[str, Any]) -> str:
    """A job's status as the client names it (``job.status()``)."""
    state = raw_job.get("state") or {}
    status = str(state.get("status") or raw_job.get("status") or "").upper()
    mapped = _API_JOB_STATUS.get(status, status or "QUEUED")
    code = state.get("reason_code") or state.get("reasonCode")
    if mapped == "CANCELLED" and code == RAN_TOO_LONG:
        return "ERROR"
    return mapped


def job_usage(raw_job: Mapping[str, Any]) -> float | None:
    """The quantum seconds a finished job was billed; ``None`` while it is queued or running."""
    if job_status(raw_job) not in FINAL_JOB_STATUSES:
        return None
    seconds = (raw_job.get("usage") or {}).get("seconds")
    return float(seconds) if isinstance(seconds, int | float) else None


def job_estimate(raw_job: Mapping[str, Any]) -> float | None:
    """The service's estimate of a job's quantum seconds (what ``job.usage_estimation`` reads),
    when it gave one."""
    seconds = raw_job.get("estimated_running_time_seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        return None
    return float(seconds)


def job_reason(raw_job: Mapping[str, Any]) -> dict[str, Any] | None:
    """Why a job failed or was cancelled, in the service's words: ``{code, message}``; ``None``
    while it is queued, running or done, or when the service gave no reason."""
    if job_status(raw_job) not in ("ERROR", "CANCELLED"):
        return None
    state = raw_job.get("state") or {}
    message = state.get("reason") or state.get("reason_message")
    code = state.get("reason_code") or state.get("reasonCode")
    if not message and code is None:
        return None
    return {
        "code": code if isinstance(code, int) and not isinstance(code, bool) else None,
        "message": str(message or ""),
    }


def jobs_summary(statuses: Iterable[str]) -> dict[str, int]:
    counts = dict.fromkeys(JOB_STATUSES, 0)
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return counts


@dataclass(frozen=True)
class Deadlines:
    max_ttl_at: datetime | None
    interactive_ttl_at: datetime | None
    idle_close_at: datetime | None

    def as_json(self) -> dict[str, str | None]:
        return {
            "max_ttl_at": iso(self.max_ttl_at),
            "interactive_ttl_at": iso(self.interactive_ttl_at),
            "idle_close_at": iso(self.idle_close_at),
        }

    def shifted(self, seconds: float) -> Deadlines:
        """The same moments ``seconds`` later (from the service's clock to this server's: minus
        the service's offset)."""
        if not seconds:
            return self
        by = timedelta(seconds=seconds)
        return Deadlines(
            *(
                m + by if m is not None else None
                for m in (self.max_ttl_at, self.interactive_ttl_at, self.idle_close_at)
            )
        )

    def moments(self) -> list[datetime]:
        return [m for m in (self.max_ttl_at, self.interactive_ttl_at, self.idle_close_at) if m]

    def soonest(self) -> datetime | None:
        moments = self.moments()
        return min(moments) if moments else None


def deadlines(
    body: Mapping[str, Any], *, pending_jobs: int, any_job: bool, no_job_close_seconds: float
) -> Deadlines:
    """When the service will act on its own, from the session body and what the jobs show.

    - ``max_ttl_at``: the session's start (its first job's start) plus ``max_time``;
    - ``interactive_ttl_at``: while active with nothing queued or running, the last job's end plus
      the interactive TTL (then it deactivates, or closes if it no longer accepts jobs);
    - ``idle_close_at``: while no job has been submitted, its opening plus the no-job close.
    """
    state = str(body.get("state") or "").lower()
    if state == "closed" or parse_time(body.get("closed_at")) is not None:
        return Deadlines(None, None, None)
    started = parse_time(body.get("started_at"))
    max_ttl = body.get("max_ttl")
    max_ttl_at = (
        started + timedelta(seconds=float(max_ttl))
        if started is not None and isinstance(max_ttl, int | float)
        else None
    )
    interactive_ttl_at = None
    last_completed = parse_time(body.get("last_job_completed"))
    last_started = parse_time(body.get("last_job_started"))
    ttl = body.get("interactive_ttl")
    idle = pending_jobs == 0 and not (
        last_started and (not last_completed or last_started > last_completed)
    )
    if state == "active" and idle and last_completed is not None and isinstance(ttl, int | float):
        interactive_ttl_at = last_completed + timedelta(seconds=float(ttl))
    idle_close_at = None
    opened = created_at(body)
    if started is None and not any_job and opened is not None:
        idle_close_at = opened + timedelta(seconds=no_job_close_seconds)
    return Deadlines(max_ttl_at, interactive_ttl_at, idle_close_at)


def end_reason(
    body: Mapping[str, Any], *, action: str | None, no_job_close_seconds: float
) -> str | None:
    """Why a closed session ended: ``None`` while it is open.

    ``action`` is what the monitor itself last did to it (``close``/``cancel``), which is
    certain; otherwise the times in the body tell (max TTL reached, the no-job close), then the
    service's ``state_reason`` wording.
    """
    if str(body.get("state") or "").lower() != "closed":
        return None
    if action == "cancel":
        return "cancelled"
    if action == "close":
        return "closed"
    closed = parse_time(body.get("closed_at"))
    started = parse_time(body.get("started_at"))
    max_ttl = body.get("max_ttl")
    slack = 1.0  # the service's clock rounds
    reached_max_ttl = (
        closed is not None
        and started is not None
        and isinstance(max_ttl, int | float)
        and (closed - started).total_seconds() >= float(max_ttl) - slack
    )
    if reached_max_ttl:
        return "max_ttl"
    opened = created_at(body)
    never_ran = closed is not None and opened is not None and started is None
    if never_ran and (closed - opened).total_seconds() >= no_job_close_seconds - slack:  # type: ignore[operator]
        return "idle_timeout"
    reason = str(body.get("state_reason") or "").lower()
    if "cancel" in reason:
        return "cancelled"
    if "maximum" in reason or "max ttl" in reason:
        return "max_ttl"
    if "no job" in reason or "30 minutes" in reason:
        return "idle_timeout"
    if "closed" in reason or body.get("accepting_jobs") is False:
        return "closed"
    return "unknown"
