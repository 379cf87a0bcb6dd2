"""The emulated service's state: sessions, jobs and a queue per backend, as a discrete-event model.

Pure logic with explicit time: every method takes ``now`` and ``advance(now)`` applies, in order and
each at its own due time, every transition that fell due since the last call (a job finishing, the
next job starting, interactive-TTL deactivation, max TTL, the 30-minute rule). The HTTP layer calls
``advance`` before it answers, so what the API reports is exact whatever the timer resolution.

Durations here are already scaled (``--time-scale``); the model never reads a clock.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any


class JobStatus(StrEnum):
    QUEUED = "Queued"
    RUNNING = "Running"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELLED = "Cancelled"


#: The service's reason code for a job cancelled at its maximum execution time.
REASON_CODE_RAN_TOO_LONG = 1305

FINAL_JOB_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})


class SessionState(StrEnum):
    OPEN = "open"
    ACTIVE = "active"
    INACTIVE = "inactive"
    CLOSED = "closed"


class ServiceError(Exception):
    """A request the service refuses: HTTP status, the service's error code, and its message."""

    def __init__(self, status: int, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Durations:
    """The service's timing rules, scaled. Seconds."""

    interactive_ttl: float = 60.0
    default_max_ttl: float = 8 * 3600.0
    plan_max_ttl: float = 8 * 3600.0
    no_job_close: float = 30 * 60.0
    job_run: float = 3.0
    batch_interactive_ttl: float = 1.0
    instance_limit: float | None = None  # billed seconds per usage period; None: no limit
    usage_period: float = 30 * 24 * 3600.0

    def scaled(self, factor: float) -> Durations:
        scaled: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            scaled[name] = None if value is None else value * factor
        return Durations(**scaled)


@dataclass
class Job:
    id: str
    program_id: str
    backend: str
    session_id: str | None
    tags: list[str]
    params: dict[str, Any]
    created: datetime
    run_seconds: float
    status: JobStatus = JobStatus.QUEUED
    reason: str | None = None
    reason_code: int | None = None
    started: datetime | None = None
    finished: datetime | None = None
    # Filled by the executor once computed (the encoded result text) or its failure.
    result_text: str | None = None
    # A private job never returns its params, and its results can be read once: the first read
    # deletes them from the service (``EnvironmentOptions.private``).
    private: bool = False
    results_deleted: bool = False
    # ``max_execution_time`` (the request's ``cost``), scaled: a job running longer is cancelled
    # with reason code 1305, which the client reports as an error (RuntimeJobMaxTimeoutError).
    max_seconds: float | None = None

    @property
    def final(self) -> bool:
        return self.status in FINAL_JOB_STATUSES

    def usage_seconds(self, now: datetime) -> float:
        """Quantum seconds used by ``now`` (also a past moment: a periodic report)."""
        if self.started is None or self.started >= now:
            return 0.0
        end = min(self.finished or now, now)
        return max(0.0, (end - self.started).total_seconds())


@dataclass
class Session:
    id: str
    mode: str  # "dedicated" or "batch"
    backend: str
    instance: str
    user_id: str
    interactive_ttl: float
    max_ttl: float
    created_at: datetime
    state: SessionState = SessionState.OPEN
    accepting_jobs: bool = True
    state_reason: str | None = None
    started_at: datetime | None = None
    activated_at: datetime | None = None
    closed_at: datetime | None = None
    last_job_started: datetime | None = None
    last_job_completed: datetime | None = None
    elapsed_before_activation: float = 0.0
    timestamps: list[dict[str, str]] = field(default_factory=list)
    job_ids: list[str] = field(default_factory=list)
    jobs_submitted: int = 0  # deleted jobs count: one was submitted, whatever became of it

    def elapsed(self, now: datetime) -> float:
        """Billed seconds: every active period, idle gaps inside the interactive TTL included."""
        running = 0.0
        if self.state is SessionState.ACTIVE and self.activated_at is not None:
            running = (now - self.activated_at).total_seconds()
        return self.elapsed_before_activation + running

    def elapsed_at(self, moment: datetime) -> float:
        """Billed seconds as they stood at ``moment`` (a periodic report), from the session's
        state timestamps: the active periods up to then."""
        total, active_since = 0.0, None
        for stamp in self.timestamps:
            at = datetime.fromisoformat(stamp["timestamp"])
            if at > moment:
                break
            if stamp["status"] == SessionState.ACTIVE.value:
                active_since = active_since or at
            elif active_since is not None:
                total += (at - active_since).total_seconds()
                active_since = None
        if active_since is not None:
            total += (moment - active_since).total_seconds()
        return total


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Service:
    """All sessions, jobs and backend queues of one emulated instance."""

    def __init__(
        self,
        backends: list[str],
        durations: Durations,
        user_id: str,
        mock_backends: set[str] | None = None,
        transition_lag: float = 0.0,
    ) -> None:
        self.backends = list(backends)
        # ``--transition-lag``: the interactive-TTL deactivation, the no-job close and the max-TTL
        # close are applied this many seconds after they fall due, as by a periodic reaper;
        # until then the session says its old state (jobs keep running, a job can be submitted).
        self.transition_lag = timedelta(seconds=max(0.0, transition_lag))
        # Mock devices run dry runs: no QPU, so nothing on them is billed.
        self.mock_backends = set(mock_backends or ())
        self.durations = durations
        self.user_id = user_id
        self.sessions: dict[str, Session] = {}
        self.jobs: dict[str, Job] = {}
        self._sequence = itertools.count()
        self._order: dict[str, int] = {}  # job id -> submission order (FIFO tie-break)
        self._now: datetime | None = None
        # The instance's usage period: what was billed before it began is not counted in it.
        self.period_start: datetime | None = None
        self._billed_before_period = 0.0

    # ------------------------------------------------------------------ requests

    def create_session(
        self, *, backend: str, mode: str, instance: str, max_ttl: float | None, now: datetime
    ) -> Session:
        self.advance(now)
        if backend not in self.backends:
            raise ServiceError(404, f"Backend {backend} not found.", 1216)
        if mode not in ("dedicated", "batch"):
            raise ServiceError(400, f"Invalid mode '{mode}': use 'dedicated' or 'batch'.", 1217)
        limit = self.durations.plan_max_ttl
        if max_ttl is not None and (max_ttl <= 0 or max_ttl > limit):
            raise ServiceError(
                400,
                f"max_ttl {max_ttl:g} is outside the allowed range of 1 to {limit:g} seconds "
                "for this instance.",
                1218,
            )
        session = Session(
            id=self._new_id(),
            mode=mode,
            backend=backend,
            instance=instance,
            user_id=self.user_id,
            interactive_ttl=(
                self.durations.interactive_ttl
                if mode == "dedicated"
                else self.durations.batch_interactive_ttl
            ),
            max_ttl=max_ttl if max_ttl is not None else self.durations.default_max_ttl,
            created_at=now,
        )
        self._stamp(session, SessionState.OPEN, now)
        self.sessions[session.id] = session
        return session

    def session(self, session_id: str, now: datetime) -> Session:
        self.advance(now)
        try:
            return self.sessions[session_id]
        except KeyError:
            raise ServiceError(404, f"Session {session_id} not found.", 1224) from None

    def stop_accepting(self, session_id: str, now: datetime) -> Session:
        """``close()``: no new jobs; queued and running jobs still run; closes once drained."""
        session = self.session(session_id, now)
        if session.state is SessionState.CLOSED:
            return session
        session.accepting_jobs = False
        if not self._pending_jobs(session):
            self._close(session, now, "Session was closed by the user.")
        self._dispatch(now)
        return session

    def cancel_session(self, session_id: str, now: datetime) -> Session:
        """``cancel()``: cancel queued jobs and end the session; a running job finishes."""
        session = self.session(session_id, now)
        if session.state is SessionState.CLOSED:
            return session
        session.accepting_jobs = False
        for job in self._pending_jobs(session):
            if job.status is JobStatus.QUEUED:
                self._finish(
                    job,
                    JobStatus.CANCELLED,
                    now,
                    "Job was cancelled because its session was cancelled.",
                )
        self._close(session, now, "Session was cancelled by the user.")
        self._dispatch(now)
        return session

    def submit_job(
        self,
        *,
        program_id: str,
        backend: str | None,
        session_id: str | None,
        tags: list[str],
        params: dict[str, Any],
        now: datetime,
        private: bool = False,
        max_seconds: float | None = None,
    ) -> Job:
        self.advance(now)
        session = None
        if session_id is not None:
            session = self.sessions.get(session_id)
            if session is None:
                raise ServiceError(404, f"Session {session_id} not found.", 1224)
            if session.state is SessionState.CLOSED or not session.accepting_jobs:
                raise ServiceError(
                    400,
                    f"Session {session_id} is closed or not accepting new jobs.",
                    1229,
                )
            backend = backend or session.backend
            if backend != session.backend:
                raise ServiceError(
                    400, f"Session {session_id} runs on {session.backend}, not {backend}.", 1226
                )
        if backend is None:
            raise ServiceError(400, "A backend is required.", 1211)
        if backend not in self.backends:
            raise ServiceError(404, f"Backend {backend} not found.", 1216)
        job = Job(
            id=self._new_id(),
            program_id=program_id,
            backend=backend,
            session_id=session_id,
            tags=list(tags),
            params=params,
            created=now,
            run_seconds=self.durations.job_run,
            private=private,
            max_seconds=max_seconds,
        )
        self.jobs[job.id] = job
        self._order[job.id] = next(self._sequence)
        if session is not None:
            session.job_ids.append(job.id)
            session.jobs_submitted += 1
        self._dispatch(now)
        return job

    def job(self, job_id: str, now: datetime) -> Job:
        self.advance(now)
        try:
            return self.jobs[job_id]
        except KeyError:
            raise ServiceError(404, f"Job {job_id} not found.", 1291) from None

    def cancel_job(self, job_id: str, now: datetime) -> Job:
        job = self.job(job_id, now)
        if job.final:
            raise ServiceError(
                409, f"Job {job_id} is in a final state and cannot be cancelled.", 1306
            )
        self._finish(job, JobStatus.CANCELLED, now, "Job was cancelled.")
        self._after_job_end(job, now)
        self._dispatch(now)
        return job

    def delete_job(self, job_id: str, now: datetime) -> None:
        """``DELETE /jobs/{id}``: a queued or finished job is removed (from the queue and from its
        session's job list); a running job is refused, as it cannot be taken off the QPU."""
        job = self.job(job_id, now)
        if job.status is JobStatus.RUNNING:
            raise ServiceError(
                409, f"Job {job_id} is running and cannot be deleted; cancel it first.", 1306
            )
        del self.jobs[job_id]
        self._order.pop(job_id, None)
        session = self.sessions.get(job.session_id) if job.session_id else None
        if session is not None and job_id in session.job_ids:
            session.job_ids.remove(job_id)
            if not job.final:  # a queued job leaving may drain a closing session
                self._after_job_end(job, now)
        self._dispatch(now)

    def read_results(self, job_id: str, now: datetime) -> str:
        """``GET /jobs/{id}/results`` of a completed job: its encoded result. A private job's
        results are deleted once read, so a second read is "not found"."""
        job = self.job(job_id, now)
        if job.results_deleted:
            raise ServiceError(
                404,
                f"The results of private job {job_id} were deleted after they were read.",
                1290,
            )
        if job.status is not JobStatus.COMPLETED or job.result_text is None:
            raise ServiceError(
                404, f"Job {job_id} has no results (status {job.status.value}).", 1290
            )
        text = job.result_text
        if job.private:
            job.result_text, job.results_deleted = None, True
        return text

    def fail_job(self, job_id: str, reason: str, reason_code: int, now: datetime) -> None:
        """The executor could not run the job (bad input, too wide): it fails when it runs."""
        job = self.jobs[job_id]
        job.reason, job.reason_code = reason, reason_code

    def queue_position(self, job: Job) -> int | None:
        if job.status is not JobStatus.QUEUED:
            return None
        queued = sorted(
            (
                j
                for j in self.jobs.values()
                if j.backend == job.backend and j.status is JobStatus.QUEUED
            ),
            key=lambda j: self._order[j.id],
        )
        return 1 + [j.id for j in queued].index(job.id)

    # ------------------------------------------------------------------ instance usage

    def billed(self, now: datetime, *, as_reported: bool = False) -> float:
        """Everything the instance was billed, as the service bills it: a dedicated session its
        active wall-clock time (idle gaps inside the interactive TTL included); a job outside
        one (batch, or no session) its own quantum seconds. Nothing on a mock device."""
        total = sum(
            s.elapsed_at(now) if as_reported else s.elapsed(now)
            for s in self.sessions.values()
            if s.mode == "dedicated" and s.backend not in self.mock_backends
        )
        for job in self.jobs.values():
            if job.backend in self.mock_backends:
                continue
            session = self.sessions.get(job.session_id) if job.session_id else None
            if session is None or session.mode != "dedicated":
                total += job.usage_seconds(now)
        return total

    def period(self, now: datetime) -> tuple[datetime, datetime]:
        if self.period_start is None:
            self.period_start = now
        length = timedelta(seconds=self.durations.usage_period)
        return self.period_start, self.period_start + length

    def consumed(self, now: datetime, reported_at: datetime | None = None) -> float:
        """Billed seconds in the current usage period (as they stood at ``reported_at``)."""
        self.period(now)
        if reported_at is not None and reported_at < now:
            billed = self.billed(reported_at, as_reported=True)
        else:
            billed = self.billed(now)
        return max(0.0, billed - self._billed_before_period)

    def limit_reached(self, now: datetime) -> bool:
        limit = self.durations.instance_limit
        return limit is not None and self.consumed(now) >= limit

    def _new_period(self, now: datetime) -> None:
        self._billed_before_period = self.billed(now)
        self.period_start = now

    # ------------------------------------------------------------------ time

    def next_due(self) -> datetime | None:
        """When the next transition falls due (for the server's timer), or None."""
        candidates = [t for t, _ in self._due_events()]
        return min(candidates) if candidates else None

    def advance(self, now: datetime) -> None:
        """Apply every transition due by ``now``, each at its own time, in time order."""
        if self.period_start is None:
            self.period_start = now  # the instance's first usage period begins
        while True:
            events = [(t, action) for t, action in self._due_events() if t <= now]
            if not events:
                break
            moment, action = min(events, key=lambda e: e[0])
            action(moment)
            self._dispatch(moment)
        self._now = now

    def _due_events(self) -> list[tuple[datetime, Any]]:
        events: list[tuple[datetime, Any]] = []
        if self.durations.instance_limit is not None and self.period_start is not None:
            _, period_end = self.period(self.period_start)
            events.append((period_end, self._new_period))
        for job in self.jobs.values():
            if job.status is JobStatus.RUNNING and job.started is not None:
                if job.max_seconds is not None and job.max_seconds < job.run_seconds:
                    end = job.started + timedelta(seconds=job.max_seconds)
                    events.append((end, lambda t, j=job: self._ran_too_long(j, t)))
                    continue
                end = job.started + timedelta(seconds=job.run_seconds)
                events.append((end, lambda t, j=job: self._complete(j, t)))
        for session in self.sessions.values():
            if session.state is SessionState.CLOSED:
                continue
            if session.started_at is not None:
                deadline = session.started_at + timedelta(seconds=session.max_ttl)
                deadline += self.transition_lag
                events.append((deadline, lambda t, s=session: self._max_ttl(s, t)))
            elif not session.jobs_submitted:
                cutoff = session.created_at + timedelta(seconds=self.durations.no_job_close)
                cutoff += self.transition_lag
                events.append((cutoff, lambda t, s=session: self._no_job_close(s, t)))
            if (
                session.state is SessionState.ACTIVE
                and not self._pending_jobs(session)
                and session.last_job_completed is not None
            ):
                idle_end = session.last_job_completed + timedelta(seconds=session.interactive_ttl)
                idle_end += self.transition_lag
                events.append((idle_end, lambda t, s=session: self._idle(s, t)))
        return events

    # ------------------------------------------------------------------ transitions

    def _dispatch(self, now: datetime) -> None:
        """Start the next job on every free backend (session holders first). Once the instance
        used its allowance for the period, nothing starts until the next period: jobs wait in
        the queue (those running finish, and are billed)."""
        if self.limit_reached(now):
            self._hold_for_limit(now)
            return
        for backend in self.backends:
            if any(
                j.status is JobStatus.RUNNING and j.backend == backend for j in self.jobs.values()
            ):
                continue
            queued = sorted(
                (
                    j
                    for j in self.jobs.values()
                    if j.status is JobStatus.QUEUED and j.backend == backend
                ),
                key=lambda j: self._order[j.id],
            )
            holder = self._holder(backend)
            if holder is not None:
                # An active dedicated session has the QPU to itself until it deactivates.
                queued = [j for j in queued if j.session_id == holder.id]
            if queued:
                self._start(queued[0], now)

    def _hold_for_limit(self, now: datetime) -> None:
        """No time left: a dedicated session with no job running stops holding the QPU (and
        stops being billed) as at the interactive TTL; its queued jobs wait."""
        for session in self.sessions.values():
            if session.mode != "dedicated" or session.state is not SessionState.ACTIVE:
                continue
            if any(j.status is JobStatus.RUNNING for j in self._pending_jobs(session)):
                continue
            self._deactivate(session, now)
            self._stamp(session, SessionState.INACTIVE, now)
            session.state_reason = (
                "The instance reached its usage limit for this period; queued jobs wait until "
                "time is made available."
            )

    def _holder(self, backend: str) -> Session | None:
        for session in self.sessions.values():
            if (
                session.backend == backend
                and session.mode == "dedicated"
                and session.state is SessionState.ACTIVE
            ):
                return session
        return None

    def _start(self, job: Job, now: datetime) -> None:
        job.status, job.started = JobStatus.RUNNING, now
        session = self.sessions.get(job.session_id) if job.session_id else None
        if session is None:
            return
        session.last_job_started = now
        if session.started_at is None:
            session.started_at = now
        if session.state is not SessionState.ACTIVE:
            session.activated_at = now
            self._stamp(session, SessionState.ACTIVE, now)
            session.state_reason = None

    def _complete(self, job: Job, now: datetime) -> None:
        if job.reason_code is not None:
            self._finish(job, JobStatus.FAILED, now, job.reason)
        else:
            self._finish(job, JobStatus.COMPLETED, now, None)
        self._after_job_end(job, now)

    def _ran_too_long(self, job: Job, now: datetime) -> None:
        self._finish(
            job,
            JobStatus.CANCELLED,
            now,
            "Job ran longer than its maximum execution time and was cancelled.",
        )
        job.reason_code = REASON_CODE_RAN_TOO_LONG
        self._after_job_end(job, now)

    def _finish(self, job: Job, status: JobStatus, now: datetime, reason: str | None) -> None:
        job.status, job.finished = status, now
        if job.private:
            job.params = {}  # deleted from the service once the job is done
        if reason is not None:
            job.reason = reason

    def _after_job_end(self, job: Job, now: datetime) -> None:
        session = self.sessions.get(job.session_id) if job.session_id else None
        if session is None or session.state is SessionState.CLOSED:
            return
        if job.started is not None:
            session.last_job_completed = now
        if not session.accepting_jobs and not self._pending_jobs(session):
            self._close(session, now, "Session was closed by the user.")

    def _idle(self, session: Session, now: datetime) -> None:
        # No job queued within the interactive TTL after the last one: deactivate.
        self._deactivate(session, now)
        if session.accepting_jobs:
            self._stamp(session, SessionState.INACTIVE, now)
            session.state_reason = "Interactive timeout expired; the next job waits in the queue."
        else:
            self._close(session, now, "Session was closed by the user.")

    def _max_ttl(self, session: Session, now: datetime) -> None:
        for job in self._pending_jobs(session):
            if job.status is JobStatus.QUEUED:
                self._finish(
                    job,
                    JobStatus.FAILED,
                    now,
                    "The session's maximum time to live was reached before the job ran.",
                )
        self._close(session, now, "Session reached its maximum time to live.")

    def _no_job_close(self, session: Session, now: datetime) -> None:
        self._close(session, now, "Session closed: no job was submitted within 30 minutes.")

    def _deactivate(self, session: Session, now: datetime) -> None:
        if session.state is SessionState.ACTIVE and session.activated_at is not None:
            session.elapsed_before_activation += (now - session.activated_at).total_seconds()

    def _close(self, session: Session, now: datetime, reason: str) -> None:
        self._deactivate(session, now)
        session.accepting_jobs = False
        session.closed_at = now
        session.state_reason = reason
        self._stamp(session, SessionState.CLOSED, now)

    def _stamp(self, session: Session, state: SessionState, now: datetime) -> None:
        session.state = state
        session.timestamps.append({"status": state.value, "timestamp": iso(now) or ""})

    def _pending_jobs(self, session: Session) -> list[Job]:
        return [self.jobs[i] for i in session.job_ids if not self.jobs[i].final]

    def _new_id(self) -> str:
        return uuid.uuid4().hex[:20]
