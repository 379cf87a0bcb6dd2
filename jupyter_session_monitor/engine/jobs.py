"""A session's job list, read from the service and merged into what is known, and when each job
ran (its metrics): what a poll reads besides the session's body.

``JobLists`` keeps what it needs to read little: which sessions' lists were read since start, when
the final jobs' usage was last read again (the service reports usage periodically), and which
jobs' metrics are not worth asking again yet.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from jupyter_session_monitor.domain import views
from jupyter_session_monitor.domain.models import JobRecord, TrackedSession
from jupyter_session_monitor.protocol import derive
from jupyter_session_monitor.registry.store import Store
from jupyter_session_monitor.service.runtime import RuntimeCallError, RuntimeGateway

log = logging.getLogger(__name__)

#: Jobs asked for per page of a session's job list (the service may return fewer).
JOB_PAGE_SIZE = 200
#: At most this many pages per job-list read (a 20,000-job session at 200 a page): a service
#: that never reaches its own ``count`` must not hold a poll for ever.
JOB_PAGES_MAX = 100


def _now() -> datetime:
    return datetime.now(UTC)


class JobLists:
    def __init__(
        self,
        gateway: RuntimeGateway,
        store: Store,
        sessions: Mapping[str, TrackedSession],
        changed: Callable[[str], None],
        *,
        idle_interval: float,
        usage_settle_seconds: float,
    ) -> None:
        self.gateway = gateway
        self.store = store
        self._sessions = sessions  # the engine's tracked sessions: a read may outlive one
        self._changed = changed
        self.idle_interval = idle_interval
        self.usage_settle_seconds = usage_settle_seconds
        self._synced: set[str] = set()  # sessions whose job list was read since start
        # When each session's final jobs not settled yet were last read again (monotonic), and
        # when that read began (this server's clock): a job's usage is settled only once read
        # after its settle moment.
        self._usage_read: dict[str, float] = {}
        self._usage_read_at: dict[str, datetime] = {}
        self._reading_times: set[str] = set()  # sessions whose job times are being read
        # Jobs whose metrics could not say when they ran: not read again before this moment
        # (monotonic; never for a job the service has no metrics of).
        self._no_times: dict[str, float] = {}
        self._background: set[asyncio.Future[None]] = set()

    def _settles_in(self, session: TrackedSession, now: datetime | None = None) -> float | None:
        return views.usage_settles_in(session, now or _now(), self.usage_settle_seconds)

    def synced(self, session_id: str) -> None:
        """The session's whole list (what could change of it) was read."""
        self._synced.add(session_id)

    def forget(self, session: TrackedSession) -> None:
        """The session is not watched here any more."""
        for job in session.jobs:
            self._no_times.pop(job.id, None)
        self._synced.discard(session.id)
        self._usage_read.pop(session.id, None)
        self._usage_read_at.pop(session.id, None)

    def stop(self) -> None:
        for reading in list(self._background):
            reading.cancel()

    #: At most this many job-metrics reads per timeline request (each job's are read once).
    TIMELINE_READS = 200
    #: A job whose metrics read failed (not a 404) is asked again this much later, not at
    #: every poll.
    TIMES_RETRY_SECONDS = 60.0
    #: ... and one the service has no metrics for (404), or whose metrics do not say when it
    #: ran, this much later (its metrics may come after its status).
    TIMES_ABSENT_SECONDS = 600.0

    def times_missing(self, job: JobRecord) -> bool:
        """A final job whose run times are not known yet and may be read now."""
        if job.status not in derive.FINAL_JOB_STATUSES or job.finished is not None:
            return False
        return time.monotonic() >= self._no_times.get(job.id, 0.0)

    async def times(self, session: TrackedSession, newest: int | None = None) -> None:
        """Fill in when each final job ran (``started``/``finished``) from the service's job
        metrics, for the timeline. A final job's times never change, so each is read once and
        kept in the registry; jobs still queued or running are not read (the session body's
        ``last_job_started`` says when the running one started)."""
        missing = [j for j in session.jobs if self.times_missing(j)]
        missing = missing[-newest:] if newest else missing[: self.TIMELINE_READS]

        async def read(job: JobRecord) -> None:
            try:
                metrics = await self.gateway.job_metrics(session.account, job.id)
            except RuntimeCallError as error:
                log.info("Could not read the metrics of job %s: %s", job.id, error.message)
                # The service has none for it (404: much later), or failed (a while later).
                wait = (
                    self.TIMES_ABSENT_SECONDS
                    if error.kind == "not_found"
                    else self.TIMES_RETRY_SECONDS
                )
                self._no_times[job.id] = time.monotonic() + wait
                return
            stamps = metrics.get("timestamps") or {}
            job.started = stamps.get("running") or job.started  # None: it never ran
            job.finished = stamps.get("finished") or job.finished
            if job.finished is None:  # its metrics do not say (yet): ask again much later
                self._no_times[job.id] = time.monotonic() + self.TIMES_ABSENT_SECONDS

        if missing:
            await asyncio.gather(*(read(j) for j in missing))
            if session.id in self._sessions:  # not forgotten meanwhile
                self.store.save_jobs(session.id, missing)

    #: Finished jobs whose wall-clock run times (the service's metrics) the fit-check reads.
    FIT_JOB_TIMES = 5

    def wall_times_soon(self, session: TrackedSession) -> None:
        """Jobs are queued: read when the latest finished jobs ran (each job's metrics once, in
        the background), so the fit-check estimates in wall-clock time, as the max TTL counts."""
        if session.closed or session.id in self._reading_times:
            return
        if not any(j.status == "QUEUED" for j in session.jobs):
            return
        done = [j for j in session.jobs if j.status == "DONE"][-self.FIT_JOB_TIMES :]
        if not any(self.times_missing(j) for j in done):
            return

        async def read() -> None:
            try:
                if session.id not in self._sessions:
                    return  # forgotten meanwhile
                await self.times(session, newest=self.FIT_JOB_TIMES)
                if session.id in self._sessions:
                    self._changed(session.id)
            finally:
                self._reading_times.discard(session.id)

        self._reading_times.add(session.id)
        task = asyncio.ensure_future(read())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def needed(
        self, session: TrackedSession, previous: dict[str, Any], body: dict[str, Any]
    ) -> bool:
        """Whether this poll must read the job list. It is skipped only when it provably cannot
        have changed: the session was already closed at the last read (no job can be submitted
        to a closed session), every job it listed then was final, and their usage settled."""
        if session.id not in self._synced:
            return True
        closed_before = str(previous.get("state") or "") == "closed"
        closed_now = str(body.get("state") or "") == "closed"
        # Usage settled already at the last read (``last_polled_at`` is still that read's): the
        # poll just after they settle reads the jobs once more.
        return not (
            closed_before
            and closed_now
            and views.jobs_final(session)
            and not self._settles_in(session, session.last_polled_at)
        )

    async def read(self, session: TrackedSession) -> tuple[list[dict[str, Any]], int, bool]:
        """Every job of the session whose state can have changed since the last read, paging
        until the service's ``count`` (a page may hold fewer jobs than asked for).

        Oldest first: a final job's status never changes, and its usage is final once settled
        (``usage_settle_seconds`` after it was read final), so the jobs final from the oldest on
        (the *settled* prefix; settled ones only, once every idle interval) are not read again:
        the read starts at the last of them, which must come back first (otherwise jobs were
        deleted or listed in another order, and the whole list is read again). A 1,000-job
        batch costs ceil(jobs not final / page) calls a poll, and the pages of its jobs not
        settled once every idle interval.
        Returns the jobs read, where in the list they start, and whether this was the whole list
        (read from the first job to ``count``): then a job known here and not in it was deleted
        at the service."""
        settled = 0
        # Final jobs whose usage may still be reported are read again at most every idle
        # interval, not at every poll: a 1,000-job batch would read its whole list each time.
        clock, now = time.monotonic(), _now()
        usage = (
            session.closed  # read at the idle interval anyway, and once after they settle
            or clock - self._usage_read.get(session.id, -math.inf) >= self.idle_interval
        )
        # A job is settled once a read that began after its settle moment has read it.
        before = self._usage_read_at.get(session.id)
        if usage:
            self._usage_read[session.id], self._usage_read_at[session.id] = clock, now
        if session.id in self._synced:
            settle = self.usage_settle_seconds
            for job in session.jobs:  # oldest first
                if job.status not in derive.FINAL_JOB_STATUSES or (
                    usage and not views.job_settled(job, session, before, settle)
                ):
                    break
                settled += 1
        skip = max(0, settled - 1)  # one job of overlap: the check that the prefix still holds
        jobs, count = await self._jobs_from(session, skip)
        if settled and (not jobs or str(jobs[0].get("id")) != session.jobs[settled - 1].id):
            log.info("The job list of session %s changed: reading all of it", session.id)
            skip = 0
            jobs, count = await self._jobs_from(session, 0)
        return jobs, skip, skip == 0 and len(jobs) >= count

    async def _jobs_from(
        self, session: TrackedSession, skip: int
    ) -> tuple[list[dict[str, Any]], int]:
        jobs: list[dict[str, Any]] = []
        count = skip
        for _ in range(JOB_PAGES_MAX):
            page, count = await self.gateway.session_jobs(
                session.account, session.id, limit=JOB_PAGE_SIZE, skip=skip + len(jobs)
            )
            jobs.extend(page)
            if not page or skip + len(jobs) >= count:
                break
        else:
            log.warning(
                "The job list of session %s did not end after %d pages (%d of %d jobs read)",
                session.id,
                JOB_PAGES_MAX,
                skip + len(jobs),
                count,
            )
        return jobs, count

    def apply(
        self,
        session: TrackedSession,
        raw_jobs: list[dict[str, Any]],
        *,
        skip: int = 0,
        whole: bool = False,
    ) -> None:
        """Merge what was read (the list from position ``skip``) into the session's jobs, kept in
        the service's own order: jobs created in the same millisecond keep the places the
        service gives them, so the next read's overlap check finds the job it expects (sorted
        here by time and id, two such jobs could swap and make every poll read the whole list).
        ``whole``: the service's whole list, so a job known here and not in it was deleted there
        (kept, it would stay "queued" and break the next read's overlap check too)."""
        jobs = views.job_records(session.id, raw_jobs)
        known = {j.id: j for j in session.jobs}
        if whole:
            listed = {j.id for j in jobs}
            gone = [i for i in known if i not in listed]
            if gone:
                for job_id in gone:
                    del known[job_id]
                self.store.delete_jobs(session.id, gone)
        now = _now()
        for job in jobs:  # the job list does not say when a job ran: keep what metrics said
            before = known.get(job.id)
            if before is not None:
                job.started, job.finished = before.started, before.finished
            if job.status in derive.FINAL_JOB_STATUSES:
                was_final = before is not None and before.status in derive.FINAL_JOB_STATUSES
                job.final_seen = before.final_seen if was_final and before else now
        read = {j.id for j in jobs}
        earlier = [known[j.id] for j in session.jobs[:skip] if j.id in known and j.id not in read]
        # Known but not in this read: reported by a kernel before the service listed them, or
        # past a read cut short.
        later = [known[j.id] for j in session.jobs[skip:] if j.id in known and j.id not in read]
        session.jobs = earlier + jobs + later
        self.store.save_jobs(session.id, jobs)

    _jobs_final = staticmethod(views.jobs_final)
