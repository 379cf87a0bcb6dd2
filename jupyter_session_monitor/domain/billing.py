"""Money: what a session has been billed, what it may still be billed, and whether its queued
jobs will start before its max TTL. Pure functions of the record, like ``views``.

Billing follows the service (see docs/architecture.md, "Money"):

- a **dedicated** session is billed its wall-clock time while active, idle gaps inside the
  interactive TTL included: the service's ``elapsed_time`` (``usage_time``) at the last read, plus
  the time since while it is still active (``accruing``);
- a **batch** is billed the quantum seconds of its jobs: their ``usage.seconds`` once final, plus
  the running job's time since it started.

Every figure is as of the last read (the view's ``last_polled_at``); ``accrues_until`` bounds how
far a reader may extrapolate (the interactive-TTL deactivation when nothing is pending, or the max
TTL), so a page that adds the seconds since that read never shows more than the service can have
billed.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from jupyter_session_monitor.protocol import derive

from .models import JobRecord, TrackedSession


@dataclass(frozen=True)
class Rate:
    """The price of one billed second, when the user set one (the server's setting)."""

    per_second: float | None = None
    currency: str | None = None

    def cost(self, seconds: float | None) -> float | None:
        if self.per_second is None or seconds is None:
            return None
        return round(seconds * self.per_second, 6)

    def as_json(self) -> dict[str, Any]:
        return {"rate_per_second": self.per_second, "currency": self.currency}


def _seconds(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _running_since(session: TrackedSession) -> datetime | None:
    """When the job now running started, on this server's clock, if one runs: the service's
    ``last_job_started``, or its ``last_job_completed`` when that is later. A poll reads the body
    before the job list, so a job that started between the two reads is paired with the
    previous job's start (hours before, in a long batch); a session runs one job at a time, so
    the running one cannot have started before the last one ended."""
    if not any(j.status == "RUNNING" for j in session.jobs):
        return None
    body = session.body or {}
    started = derive.parse_time(body.get("last_job_started"))
    if started is None:
        return None
    completed = derive.parse_time(body.get("last_job_completed"))
    if completed is not None and completed > started:
        started = completed
    return started - timedelta(seconds=session.clock_offset)


@dataclass(frozen=True)
class Billing:
    as_of: datetime | None
    billed: float  # seconds, at ``as_of``
    reported: float  # of which the service itself reported (what a budget may act on)
    idle: float  # of which with no job running (dedicated only)
    accruing: bool  # the service is billing it now
    idle_accruing: bool  # ... with no job queued or running
    accrues_until: datetime | None  # extrapolate no further than this
    worst_case: float  # billed if left open until its max TTL, or until a closing one drains
    worst_until: str = "max_ttl"  # "max_ttl", or "drain": it accepts no more jobs

    def at(self, now: datetime) -> tuple[float, float]:
        """(billed, idle) extrapolated to ``now``, within the bound the service sets."""
        if not self.accruing or self.as_of is None:
            return self.billed, self.idle
        end = min(now, self.accrues_until) if self.accrues_until is not None else now
        extra = max(0.0, (end - self.as_of).total_seconds())
        return self.billed + extra, self.idle + (extra if self.idle_accruing else 0.0)


def billing_of(session: TrackedSession, deadlines: derive.Deadlines) -> Billing:
    body = session.body or {}
    as_of = session.last_polled_at
    state = body.get("state")
    closed = state == "closed" or session.not_found
    pending = [j for j in session.jobs if j.status not in derive.FINAL_JOB_STATUSES]
    final_usage = sum(j.usage_seconds or 0.0 for j in session.jobs if j.usage_seconds)
    running_since = _running_since(session)
    running = (
        max(0.0, (as_of - running_since).total_seconds())
        if running_since is not None and as_of is not None
        else 0.0
    )
    if session.mode == "batch":
        # The service reports a job's usage once it is final; the running job's time so far is
        # this monitor's own figure, for display only.
        billed, idle, reported = final_usage + running, 0.0, final_usage
        accruing, idle_accruing = running_since is not None and not closed, False
    else:
        billed = _seconds(body.get("elapsed_time"))
        reported = billed
        idle = max(0.0, min(billed, billed - final_usage - running))
        accruing = state == "active" and not session.not_found
        idle_accruing = accruing and not pending
    until = deadlines.max_ttl_at
    if idle_accruing and deadlines.interactive_ttl_at is not None:
        until = min(filter(None, (until, deadlines.interactive_ttl_at)))
    worst_until = "max_ttl"
    if closed:
        worst = billed
    elif deadlines.max_ttl_at is not None and as_of is not None:
        worst = billed + max(0.0, (deadlines.max_ttl_at - as_of).total_seconds())
    else:  # not started: it may run its whole max TTL once it starts
        worst = billed + _seconds(body.get("max_ttl"))
    sent = session.pending_action or {}
    pending_close = sent.get("action") == "close" and sent.get("state") == "accepted"
    if not closed and (body.get("accepting_jobs") is False or pending_close) and as_of is not None:
        # Closing (or a close the service accepted, not read back yet): it accepts no more jobs
        # and ends when its queue drains (the service closes it then), so its worst case is the
        # drain, capped by the max TTL, when it can be estimated: as the fit-check does, from
        # the same run times.
        drain = _drain_seconds(session, deadlines, pending)
        if drain is not None and billed + drain < worst:
            worst, worst_until = billed + drain, "drain"
    return Billing(
        as_of, billed, reported, idle, accruing, idle_accruing, until, worst, worst_until
    )


def _drain_seconds(
    session: TrackedSession, deadlines: derive.Deadlines, pending: list[JobRecord]
) -> float | None:
    """Seconds from the last read until a closing session's jobs have all run: 0 with none
    pending, the fit-check's estimate with some, None when it has nothing to estimate from."""
    if not pending:
        return 0.0
    fit = fit_of(session, deadlines, with_nothing_queued=True)
    if fit is None or fit.get("basis") is None or fit.get("drain_seconds") is None:
        return None
    return float(fit["drain_seconds"])


def billing_view(billing: Billing, rate: Rate) -> dict[str, Any]:
    """The contract's ``SessionView.billing``."""
    return {
        "billed_seconds": round(billing.billed, 3),
        "billed_idle_seconds": round(billing.idle, 3),
        "max_billed_seconds": round(billing.worst_case, 3),
        "cost": rate.cost(billing.billed),
        "max_cost": rate.cost(billing.worst_case),
        "currency": rate.currency,
        "rate_per_second": rate.per_second,
        "accruing": billing.accruing,
        "idle_accruing": billing.idle_accruing,
        "accrues_until": derive.iso(billing.accrues_until),
        "max_billed_until": billing.worst_until,
    }


# ---------------------------------------------------------------------- fit-check


def _wall_seconds(job: JobRecord) -> float | None:
    """How long a finished job ran, wall clock, from the service's metrics timestamps (both on
    the service's clock: the difference needs no correction); None until they were read."""
    started, finished = derive.parse_time(job.started), derive.parse_time(job.finished)
    if started is None or finished is None or finished < started:
        return None
    return (finished - started).total_seconds()


def fit_of(
    session: TrackedSession, deadlines: derive.Deadlines, *, with_nothing_queued: bool = False
) -> dict[str, Any] | None:
    """Whether the queued jobs start before the max TTL (those that do not, fail). ``None`` when
    nothing is queued or the session is closed; ``basis`` null (and no numbers) when there is
    nothing to estimate run times from, rather than a guess.

    The max TTL counts wall-clock time; the service's estimate (``estimated_running_time_seconds``)
    and a job's ``usage`` are quantum seconds, shorter than the wall-clock time a job holds the
    session. So per job: the wall-clock run time observed in this session (the service's metrics
    timestamps of its finished jobs: the median, or the latest when that is longer), never less
    than the service's estimate (``basis`` ``wall_clock``); without those, the service's
    estimate (``service_estimate``) or else the quantum seconds observed (``observed``): both
    undercount, which the words say.
    The running job's remaining time counts from the service's ``last_job_started``. Jobs start
    one after another; one that would start at or after the max TTL fails. While the session is
    not active its jobs wait in the backend's shared queue too, so the figure is then a lower
    bound (``lower_bound``)."""
    body = session.body or {}
    queued = sorted(
        (j for j in session.jobs if j.status == "QUEUED"), key=lambda j: (j.created or "", j.id)
    )
    if (not queued and not with_nothing_queued) or body.get("state") == "closed":
        return None
    if session.not_found:
        return None
    done = sorted(
        (j for j in session.jobs if j.status == "DONE" and (j.usage_seconds or _wall_seconds(j))),
        key=lambda j: (j.created or "", j.id),
    )
    # Without the service's estimate: the median run time seen, or the latest job's when it is
    # longer (run times that grow through a session, as an optimizer's often do, would otherwise
    # be forecast from the short early ones: a reassuring error, the wrong way for money).
    used = [j.usage_seconds for j in done if j.usage_seconds]
    observed = max(statistics.median(used), used[-1]) if used else None

    walls = [w for w in (_wall_seconds(j) for j in done) if w is not None]
    observed_wall = max(statistics.median(walls), walls[-1]) if walls else None

    def estimate(job_estimate: float | None) -> float | None:
        if observed_wall is not None:
            return max(observed_wall, job_estimate or 0.0)
        return job_estimate if job_estimate is not None else observed

    estimates = [estimate(j.estimated_seconds) for j in queued]
    running_job = next((j for j in session.jobs if j.status == "RUNNING"), None)
    running_estimate = estimate(running_job.estimated_seconds) if running_job else 0.0
    as_of = session.last_polled_at
    lower_bound = body.get("state") != "active"
    result: dict[str, Any] = {
        "queued": len(queued),
        "expected_to_fail": None,
        "drain_seconds": None,
        "basis": None,
        "max_ttl_at": derive.iso(deadlines.max_ttl_at),
        "first_failing_job": None,
        "lower_bound": lower_bound,
    }
    if any(e is None for e in estimates) or running_estimate is None or as_of is None:
        return result
    uses_service = all(j.estimated_seconds is not None for j in queued) and (
        running_job is None or running_job.estimated_seconds is not None
    )
    basis = (
        "wall_clock"
        if observed_wall is not None
        else "service_estimate"
        if uses_service
        else "observed"
    )
    started = _running_since(session)
    remaining = running_estimate
    if running_job is not None and started is not None:
        remaining = running_estimate - (as_of - started).total_seconds()
        if remaining <= 0:
            # Its estimate is used up: either it runs long, or it started after the session
            # body was read (a poll reads the body, then the job list) and ``last_job_started``
            # is the previous job's. Either way it is not about to end: count a whole run.
            remaining = running_estimate
    deadline = deadlines.max_ttl_at
    if deadline is None and body.get("max_ttl"):  # not started: it starts with its first job
        deadline = as_of + timedelta(seconds=_seconds(body.get("max_ttl")))
    clock = as_of + timedelta(seconds=remaining)
    failing = 0
    for job, seconds in zip(queued, estimates, strict=True):
        if deadline is not None and clock >= deadline:
            failing += 1
            if result["first_failing_job"] is None:
                result["first_failing_job"] = job.id
        clock += timedelta(seconds=seconds or 0.0)
    result.update(
        expected_to_fail=failing,
        drain_seconds=round((clock - as_of).total_seconds(), 3),
        basis=basis,
    )
    return result
