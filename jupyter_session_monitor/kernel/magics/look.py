"""A session as the kernel reads it itself (``Session.status()``, ``details()``, its jobs) and how
``%session status`` / ``details`` print it, when no server can be asked or besides what it says."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jupyter_session_monitor.kernel import hook
from jupyter_session_monitor.kernel.durations import (
    format_duration,
)
from jupyter_session_monitor.protocol import clock, derive
from jupyter_session_monitor.protocol.clock import ClockOffset


def session_kind(session: Any) -> str:
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
        return "batch" if mode == "batch" else "session" if mode else session_kind(self.session)

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


def look_at(session: Any) -> _Look:
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


def look_of(session: Any, view: dict[str, Any]) -> _Look:
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


def utc_now() -> datetime:
    return datetime.now(UTC)


_SECONDS = ("interactive_timeout", "max_time", "active_timeout", "usage_time")


#: Failed jobs whose reason ``%session details`` fetches (each costs the client a few requests).
FAILED_SHOWN = 10


def print_details(details: dict[str, Any]) -> None:
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


def print_jobs(look: _Look) -> None:
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
