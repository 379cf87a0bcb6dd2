"""The engine: tracked sessions and their polling.

``Engine`` owns the in-memory view of every tracked session, persists it through ``Store``, polls
through ``RuntimeGateway`` on the ``Scheduler``'s timing, and tells listeners what changed through
its ``ChangeFeed`` (the push channel subscribes). It knows no policy: it tells them what happens
through ``EngineHooks`` and they see it as ``TrackedSessions`` (``ports.py``). Per poll of one
session: one session GET, plus the job list in one call unless the session was already closed at
the last read and every job was final (then the list cannot change).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import random
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from jupyter_session_monitor import metrics
from jupyter_session_monitor.domain import billing, views
from jupyter_session_monitor.domain.errors import MonitorError
from jupyter_session_monitor.domain.models import (
    SOURCE_DISCOVERED,
    SOURCE_KERNEL,
    SOURCE_TRACKED,
    AccountRef,
    JobRecord,
    TrackedSession,
    Transition,
)
from jupyter_session_monitor.protocol import derive
from jupyter_session_monitor.registry.store import Store
from jupyter_session_monitor.service.runtime import RuntimeCallError, RuntimeGateway

from .changes import ChangeFeed
from .poller import Intervals, Scheduler, next_delay
from .ports import EngineHooks

log = logging.getLogger(__name__)

#: Jobs asked for per page of a session's job list (the service may return fewer).
JOB_PAGE_SIZE = 200
#: At most this many pages per job-list read (a 20,000-job session at 200 a page): a service
#: that never reaches its own ``count`` must not hold a poll for ever.
JOB_PAGES_MAX = 100
#: The rate is the registry's: read again at most this often (seconds), while sessions are polled.
RATE_SYNC_SECONDS = 1.0


@dataclass
class MonitorConfig:
    intervals: Intervals = field(default_factory=Intervals)
    no_job_close_seconds: float = 1800.0
    retention: timedelta = timedelta(days=30)
    orphan_policy: str = "flag"  # or "close": close an orphaned session after the grace period
    orphan_grace_seconds: float = 300.0
    watched_for: float = 120.0  # a browser asked within this many seconds: poll at full pace
    discovery_interval: float | None = None  # seconds between workload listings; None: off
    server_url: str | None = None  # recorded with this server's identity in the registry
    heartbeat_seconds: float = 30.0  # how often this server says in the registry it is alive
    rate_per_second: float | None = None  # price of one billed second (default; the API sets it)
    currency: str | None = None
    instance_interval: float = 300.0  # seconds between readings of the instances' usage; 0: off
    #: The server's notebook folder: with it, a notebook budget also counts the sessions other
    #: servers of the registry opened from the same notebook file.
    root_dir: str | None = None
    #: Seconds a closed session's usage figures are read again after it closed and after each
    #: of its jobs ended: the service reports usage periodically, so a figure read at the end
    #: may be that of an earlier report. 0: take the figures read at the end as final.
    usage_settle_seconds: float = 120.0


def _now() -> datetime:
    return datetime.now(UTC)


class Engine:
    def __init__(
        self,
        store: Store,
        gateway: RuntimeGateway,
        config: MonitorConfig,
        kernel_exists: Callable[[str], bool] = lambda kernel_id: True,
        hooks: EngineHooks | None = None,
    ) -> None:
        self.kernel_exists = kernel_exists
        self.hooks = hooks or EngineHooks()
        self.store = store
        self.gateway = gateway
        self.config = config
        self.sessions: dict[str, TrackedSession] = {}
        self._failures: dict[str, int] = {}
        self._jobs_synced: set[str] = set()  # sessions whose job list was fetched since start
        # When each session's final jobs not settled yet were last read again (monotonic), and
        # when that read began (this server's clock): a job's usage is settled only once read
        # after its settle moment.
        self._usage_read: dict[str, float] = {}
        self._usage_read_at: dict[str, datetime] = {}
        self._scheduler = Scheduler(self._poll)
        self.changes = ChangeFeed(self._current_view)
        self.rate = billing.Rate(config.rate_per_second, config.currency)
        self._started = False
        self._stopped = False
        self._last_watched = float("-inf")
        self._rate_synced = float("-inf")
        self._reading_times: set[str] = set()  # sessions whose job times are being read
        # Jobs whose metrics could not say when they ran: not read again before this moment
        # (monotonic; never for a job the service has no metrics of).
        self._no_times: dict[str, float] = {}
        self._background: set[asyncio.Future[None]] = set()
        self._discovery: asyncio.Task[None] | None = None
        self._tracking: dict[str, asyncio.Future[TrackedSession]] = {}  # tracks in flight
        self._heartbeat: asyncio.Task[None] | None = None
        self.host = socket.gethostname()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Load the registry and start polling; idempotent."""
        if self._started:
            return
        self._started = True
        self.store.prune(_now() - self.config.retention)
        if self.store.server_id is not None:
            # Only this server's sessions (and those of servers that are gone) are loaded:
            # another live server's kernels are not this one's to judge, its sessions not
            # this one's to close.
            self.store.register_server(
                host=self.host,
                pid=os.getpid(),
                url=self.config.server_url,
                root_dir=self.config.root_dir,
            )
            self._heartbeat = asyncio.create_task(self._beat_forever())
        for session in self.store.load_sessions():
            self._loaded(session)
            self.sessions[session.id] = session
        saved_rate = self.store.setting("billing")
        if isinstance(saved_rate, dict):  # set through the API: it outlives a restart
            self.rate = billing.Rate(saved_rate.get("rate_per_second"), saved_rate.get("currency"))
        self.hooks.started()
        self._scheduler.start()
        if self.config.discovery_interval is not None:
            self._discovery = asyncio.create_task(
                self._discover_forever(self.config.discovery_interval)
            )
        for session in self.sessions.values():
            if self._still_changing(session):
                self._scheduler.schedule(session.id, 0)
            self.hooks.loaded(session)

    async def stop(self) -> None:
        """Stop everything, in order (nothing may touch the store once it is closed); never
        raises."""
        self._stopped = True
        try:
            await self.hooks.stopping()
        except Exception:
            log.exception("Stopping the session monitor's policies failed")
        for reading in list(self._background):
            reading.cancel()
        self.changes.stop()
        for task in (self._discovery, self._heartbeat):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        try:
            await self._scheduler.stop()
            self.gateway.shutdown()
            if self._started and self.store.server_id is not None:
                self.store.unregister_server()
        except Exception:
            log.exception("Stopping the session monitor failed")
        finally:
            self.store.close()

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(self.config.heartbeat_seconds)
            try:
                if not self.store.heartbeat():
                    self._taken_over()
                self._adopt_gone()
            except Exception:  # a locked or unwritable file must not end the heartbeat
                log.exception("Could not record this server's heartbeat in the registry")

    def _taken_over(self) -> None:
        """Another server took this one for gone (its heartbeat was late: a suspended laptop, a
        blocked loop) and adopted its sessions: they are that server's now. This one lets them
        go (never two servers acting on one session), and says it is alive again."""
        owned = self.store.own_session_ids()
        lost = [i for i in self.sessions if i not in owned]
        log.warning(
            "Another Jupyter server took this one for gone and now monitors its %d sessions; "
            "this server lets them go",
            len(lost),
        )
        for session_id in lost:
            self._let_go(session_id)
        self.store.register_server(
            host=self.host,
            pid=os.getpid(),
            url=self.config.server_url,
            root_dir=self.config.root_dir,
        )

    def _adopt_gone(self) -> bool:
        """Take over the sessions of servers of this registry that are gone since (died, or
        stopped): they get this server's polling, orphan policy and budgets, as they would at
        its start. True if any was taken."""
        adopted = self.store.adopt_from_gone(self.host)
        if not adopted:
            return False
        for session in self.store.load_sessions(only=set(adopted)):
            if session.id in self.sessions:
                continue
            log.info(
                "Session %s was monitored by a server that is gone: monitored here", session.id
            )
            self._loaded(session)
            self.sessions[session.id] = session
            self.changes.changed(session.id, "added")
            if self._still_changing(session):
                self._scheduler.schedule(session.id, 0)
            self.hooks.loaded(session)
        self.hooks.adopted()
        return True

    def watched_now(self) -> None:
        """A browser looked (or says it is visible): keep polling at full pace for a while. When
        nobody was watching, polls spaced for "nobody watching" are brought forward to when they
        would have been due at full pace."""
        was_watched = self.watched
        self._last_watched = time.monotonic()
        if was_watched or not self._started:
            return
        now = _now()
        for session in self.sessions.values():
            planned = self._scheduler.planned(session.id)
            if planned is None or self._failures.get(session.id):
                continue
            delay = self._delay(session, 0, now)
            if delay is None:
                continue
            last = session.last_polled_at
            since = (now - last).total_seconds() if last is not None else delay
            self._scheduler.schedule(session.id, max(0.0, delay - since))

    @property
    def stopped(self) -> bool:
        """``stop()`` was called: nothing may be scheduled, nor the store written, any more."""
        return self._stopped

    @property
    def watched(self) -> bool:
        return time.monotonic() - self._last_watched < self.config.watched_for

    def subscribe(self, listener: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        return self.changes.subscribe(listener)

    @property
    def version(self) -> int:
        return self.changes.version

    def _current_view(self, session_id: str) -> dict[str, Any] | None:
        session = self.sessions.get(session_id)
        return self.view(session) if session is not None else None

    def set_rate(self, rate: billing.Rate, user: str | None) -> None:
        self.rate = rate
        self.store.set_setting("billing", rate.as_json())
        self.store.record_action(
            user=user,
            action="set_rate",
            target="billing",
            result="accepted",
            detail=f"{rate.per_second} {rate.currency or ''}".strip(),
        )
        for session_id in list(self.sessions):
            self.changes.changed(session_id)
        self.hooks.rate_changed()

    def _sync_rate(self) -> None:
        """The rate is the registry's, like the budgets: take one another server of it set (at
        most once a second, while sessions are polled)."""
        now = time.monotonic()
        if now - self._rate_synced < RATE_SYNC_SECONDS:
            return
        self._rate_synced = now
        saved = self.store.setting("billing")
        if not isinstance(saved, dict):
            return
        rate = billing.Rate(saved.get("rate_per_second"), saved.get("currency"))
        if rate == self.rate:
            return
        log.info("The rate was changed on another server: %s", rate.as_json())
        self.rate = rate
        for session_id in list(self.sessions):
            self.changes.changed(session_id)
        self.hooks.rate_changed()

    def poll_soon(self, session_id: str) -> None:
        """Look at the session now rather than at its next planned poll."""
        self._scheduler.schedule(session_id, 0)

    def changed(self, session_id: str) -> None:
        self.changes.changed(session_id)

    def save(self, session: TrackedSession) -> None:
        self.store.save_session(session)

    # ------------------------------------------------------------------ tracking

    async def track(
        self,
        session_id: str,
        account: AccountRef,
        *,
        source: str = SOURCE_TRACKED,
        kernel_id: str | None = None,
        notebook_path: str | None = None,
        background: bool = False,
        cell: dict[str, Any] | None = None,
        job_cells: dict[str, dict[str, Any]] | None = None,
    ) -> TrackedSession:
        """Track a session by id, after checking that the service knows it (one GET).
        ``cell``/``job_cells``: the notebook cell that opened it and those that submitted its
        jobs, as its kernel reports them (the first cell reported is the one that opened it).
        ``background`` (discovery): that GET uses the polls' threads, not the user actions'.

        Concurrent calls for one id (a kernel's report and a user's request) share one GET and
        one "added"; a session another live server of this registry monitors is refused."""

        def again() -> Awaitable[TrackedSession]:  # the same call, once the state moved on
            return self.track(
                session_id,
                account,
                source=source,
                kernel_id=kernel_id,
                notebook_path=notebook_path,
                background=background,
                cell=cell,
                job_cells=job_cells,
            )

        in_flight = self._tracking.get(session_id)
        if in_flight is not None and session_id not in self.sessions:
            # Another caller is reading it: wait for that one. Its failure is its own (another
            # account, a refusal for it): this caller then tries with what it was given.
            await asyncio.wait([in_flight])  # never raises its outcome; never cancels it
            if session_id not in self.sessions and session_id in self._tracking:
                return await again()
        existing = self.sessions.get(session_id)
        if existing is not None:
            changed = existing.orphaned and kernel_id is not None
            if changed:
                self.hooks.reclaimed(session_id)
                self.note(existing, "Reported again by a kernel: no longer orphaned")
            for name, value in (("kernel_id", kernel_id), ("notebook_path", notebook_path)):
                if value and getattr(existing, name) != value:
                    setattr(existing, name, value)
                    changed = True
            if cell and existing.cell is None:
                existing.cell = cell
                changed = True
            if job_cells and any(existing.job_cells.get(k) != v for k, v in job_cells.items()):
                existing.job_cells.update(job_cells)
                changed = True
            if changed:
                existing.orphaned = False
                self.store.save_session(existing)
                self.changes.changed(session_id)
            if source == SOURCE_KERNEL and (not existing.closed or existing.not_found):
                # The kernel reports again when it submits the first job, closes or cancels:
                # look now rather than at the next scheduled poll.
                self._scheduler.schedule(session_id, 0)
            return existing
        if self.store.server_id is not None:
            owner = self.store.owner_elsewhere(session_id, self.host)
            if owner is not None:
                raise MonitorError(
                    409,
                    "elsewhere",
                    f"Session '{session_id}' is monitored by another Jupyter server of yours "
                    f"({owner.get('url') or 'process ' + str(owner['pid'])}, started "
                    f"{owner['started_at']}). Use that server's sidebar, or stop it first.",
                )
            if self._adopt_gone() and session_id in self.sessions:
                # Its row was a gone server's: taken over with what that server knew of it.
                return await again()
        future: asyncio.Future[TrackedSession] = asyncio.get_running_loop().create_future()
        self._tracking[session_id] = future
        try:
            session = await self._track_new(
                session_id, account, source, kernel_id, notebook_path, background
            )
            future.set_result(session)
        finally:
            # Every waiter is released, whatever happened (a ``return`` inside ``try`` once
            # skipped an ``else:`` and left them waiting for ever); on a failure they try
            # themselves.
            self._tracking.pop(session_id, None)
            if not future.done():
                future.cancel()
        if cell or job_cells:  # what the first report said about its cells
            return await again()
        return session

    async def _track_new(
        self,
        session_id: str,
        account: AccountRef,
        source: str,
        kernel_id: str | None,
        notebook_path: str | None,
        background: bool = False,
    ) -> TrackedSession:
        read = self.gateway.session if background else self.gateway.session_for_action
        try:
            body = await read(account, session_id)
        except RuntimeCallError as error:
            if error.kind == "not_found":
                raise MonitorError(
                    404,
                    "not_found",
                    f"The Qiskit Runtime service does not know session '{session_id}' for this "
                    "account. Check the id and the account.",
                ) from None
            if error.kind == "account":  # the request named an account that cannot be used
                raise MonitorError(400, error.kind, error.message) from None
            raise MonitorError(502, error.kind, error.message) from None
        if session_id in self.sessions:  # tracked while this call was in flight
            return await self.track(
                session_id,
                account,
                source=source,
                kernel_id=kernel_id,
                notebook_path=notebook_path,
            )
        session = TrackedSession(
            id=session_id,
            account=account,
            source=source,
            tracked_at=_now(),
            kernel_id=kernel_id,
            notebook_path=notebook_path,
        )
        self._update_clock(session)
        self.sessions[session_id] = session
        self._apply_body(session, body, _now())
        self.store.save_session(session)
        self.changes.changed(session_id, "added")
        self.hooks.added(session)
        self._scheduler.schedule(session_id, 0)  # fetch its jobs at once
        return session

    async def discover(self) -> int:
        """Track the default account's open sessions that nobody tracks yet (not from a notebook
        here). Returns how many were added."""
        account = AccountRef()
        added = 0
        for workload in await self.gateway.open_workloads(account):
            session_id = str(workload.get("id") or "")
            if not session_id or session_id in self.sessions:
                continue
            try:
                await self.track(session_id, account, source=SOURCE_DISCOVERED, background=True)
            except MonitorError as error:
                # Refused for this one (another live server of this registry monitors it, the
                # service no longer knows it): the others listed after it are still found.
                log.debug("Discovery did not track session %s: %s", session_id, error.message)
                continue
            added += 1
        return added

    async def _discover_forever(self, interval: float) -> None:
        while True:
            try:
                await self.discover()
            except (RuntimeCallError, MonitorError) as error:
                log.warning("Listing the account's workloads failed: %s", error)
            except Exception:  # a bug must not end discovery silently
                log.exception("Discovering the account's sessions failed unexpectedly")
            await asyncio.sleep(interval)

    def forget(self, session_id: str) -> None:
        if session_id not in self.sessions:
            raise self._unknown(session_id)
        self._let_go(session_id)
        self.store.forget(session_id)

    def _let_go(self, session_id: str) -> None:
        """Stop watching a session here (its registry row is the caller's business)."""
        session = self.sessions.pop(session_id, None)
        for job in session.jobs if session is not None else []:
            self._no_times.pop(job.id, None)
        self._scheduler.unschedule(session_id)
        self._failures.pop(session_id, None)
        self._jobs_synced.discard(session_id)
        self._usage_read.pop(session_id, None)
        self._usage_read_at.pop(session_id, None)
        self.hooks.let_go(session_id)
        self.changes.changed(session_id, "removed")

    def get(self, session_id: str) -> TrackedSession:
        session = self.sessions.get(session_id)
        if session is None:
            raise self._unknown(session_id)
        return session

    @staticmethod
    def _unknown(session_id: str) -> MonitorError:
        return MonitorError(
            404, "not_found", f"Session '{session_id}' is not tracked by this Jupyter server."
        )

    # ------------------------------------------------------------------ job times

    #: At most this many job-metrics reads per timeline request (each job's are read once).
    TIMELINE_READS = 200
    #: A job whose metrics read failed (not a 404) is asked again this much later, not at
    #: every poll.
    TIMES_RETRY_SECONDS = 60.0
    #: ... and one the service has no metrics for (404), or whose metrics do not say when it
    #: ran, this much later (its metrics may come after its status).
    TIMES_ABSENT_SECONDS = 600.0

    def _times_missing(self, job: JobRecord) -> bool:
        """A final job whose run times are not known yet and may be read now."""
        if job.status not in derive.FINAL_JOB_STATUSES or job.finished is not None:
            return False
        return time.monotonic() >= self._no_times.get(job.id, 0.0)

    async def job_times(self, session_id: str, newest: int | None = None) -> TrackedSession:
        """Fill in when each final job ran (``started``/``finished``) from the service's job
        metrics, for the timeline. A final job's times never change, so each is read once and
        kept in the registry; jobs still queued or running are not read (the session body's
        ``last_job_started`` says when the running one started)."""
        session = self.get(session_id)
        missing = [j for j in session.jobs if self._times_missing(j)]
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
            if session_id in self.sessions:
                self.store.save_jobs(session_id, missing)
        return session

    async def refresh(self, session_id: str, within: float) -> TrackedSession:
        """Read the session and its jobs from the service now (a confirmation is about to be
        shown): returns once a poll that started after this call has ended, or after
        ``within`` seconds with what is known then (``stale`` and ``last_polled_at`` say so)."""
        session = self.get(session_id)
        if self._still_changing(session):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._scheduler.poll_now(session_id)), within)
        return self.get(session_id)

    # ------------------------------------------------------------------ polling

    async def _poll(self, session_id: str) -> float | None:
        session = self.sessions.get(session_id)
        if session is None:
            return None
        kernel_id = session.kernel_id
        if (
            kernel_id
            and not session.orphaned
            and not session.closed
            and not self.kernel_exists(kernel_id)
        ):
            self.hooks.kernel_missing(session)
        now = _now()
        previous = dict(session.body or {})
        try:
            body = await self.gateway.session(session.account, session_id)
            if self._jobs_needed(session, previous, body):
                raw_jobs, skip, whole = await self._read_jobs(session)
                if session_id not in self.sessions:  # forgotten while the call was in flight
                    return None
                self._apply_jobs(session, raw_jobs, skip=skip, whole=whole)
                self._jobs_synced.add(session_id)
        except RuntimeCallError as error:
            metrics.POLLS.labels(error.kind).inc()
            if session_id not in self.sessions:
                return None
            failures = self._failures.get(session_id, 0) + 1
            self._failures[session_id] = failures
            if error.kind == "not_found":
                self._not_found(session)
            else:
                first = not session.stale or (session.error or {}).get("kind") != error.kind
                session.stale = True
                session.error = {"kind": error.kind, "message": error.message}
                self.changes.changed(session_id)
                if first:  # a state change is logged once, not every retry
                    log.warning(
                        "Polling session %s failed (%s): %s; retrying by itself",
                        session_id,
                        error.kind,
                        error.message,
                    )
            delay = self._delay(session, failures)
            if delay is not None and error.retry_after is not None:
                # When the service says, not an own guess; jitter so that sessions do not all
                # come back at once.
                delay = max(
                    self.config.intervals.minimum,
                    error.retry_after + random.uniform(0.0, 1.0),  # noqa: S311
                )
            return delay
        metrics.POLLS.labels("ok").inc()
        if session_id not in self.sessions:
            return None
        if self._failures.pop(session_id, None) and session.stale:
            log.info("Polling session %s works again", session_id)
        if self._failures:  # the account answers: its sessions that are backing off try now
            self._bring_back(session)
        if session.not_found:
            log.info("Session %s is known to the service again", session_id)
        session.stale, session.error, session.not_found = False, None, False
        self._update_clock(session)
        self._wall_times_soon(session)
        self._confirm_action(session, body)
        was_closed = session.closed
        self._apply_body(session, body, _now())
        if session.closed and session.billed_rate is None:
            session.billed_rate = self.rate.as_json()  # its bill is final: priced at this rate
        self.store.save_session(session)
        self.changes.changed(session_id)
        self._sync_rate()
        self.hooks.polled(session, previous, was_closed)
        return self._delay(session, 0, now)

    @staticmethod
    def _confirm_action(session: TrackedSession, body: dict[str, Any]) -> None:
        """A read answered after a close or cancel was sent: it shows the effect (the pending
        action is done), or, for one whose answer never came, that it was not carried out.
        One the service accepted stays pending until a read shows it (a late service)."""
        pending = session.pending_action
        if pending is None:
            return
        closed = str(body.get("state") or "") == "closed"
        done = closed or (pending["action"] == "close" and body.get("accepting_jobs") is False)
        if done or pending["state"] == "unknown":
            session.pending_action = None

    #: Finished jobs whose wall-clock run times (the service's metrics) the fit-check reads.
    FIT_JOB_TIMES = 5

    def _wall_times_soon(self, session: TrackedSession) -> None:
        """Jobs are queued: read when the latest finished jobs ran (each job's metrics once, in
        the background), so the fit-check estimates in wall-clock time, as the max TTL counts."""
        if session.closed or session.id in self._reading_times:
            return
        if not any(j.status == "QUEUED" for j in session.jobs):
            return
        done = [j for j in session.jobs if j.status == "DONE"][-self.FIT_JOB_TIMES :]
        if not any(self._times_missing(j) for j in done):
            return

        async def read() -> None:
            try:
                await self.job_times(session.id, newest=self.FIT_JOB_TIMES)
                if session.id in self.sessions:
                    self.changes.changed(session.id)
            except MonitorError:
                pass  # forgotten meanwhile
            finally:
                self._reading_times.discard(session.id)

        self._reading_times.add(session.id)
        task = asyncio.ensure_future(read())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    #: The clock offset a session keeps changes only by this much (seconds): the estimate
    #: settles by fractions of a second, and each change would be pushed as a changed view.
    CLOCK_STEP = 0.25

    def _update_clock(self, session: TrackedSession) -> None:
        offset = self.gateway.clock_offset(session.account)
        if abs(offset - session.clock_offset) >= self.CLOCK_STEP or (
            offset == 0.0 and session.clock_offset != 0.0
        ):
            session.clock_offset = offset

    def _bring_back(self, recovered: TrackedSession) -> None:
        """A poll worked again after failures: the other sessions of the same account that are
        backing off are polled now too, rather than each at the end of its own backoff."""
        for session in self.sessions.values():
            if (
                session.id != recovered.id
                and session.account == recovered.account
                and self._failures.get(session.id)
            ):
                self._scheduler.schedule(session.id, 0)

    def _not_found(self, session: TrackedSession) -> None:
        """The service answered 404: it no longer knows the session (deleted, or the service was
        reset). It stops counting as open; the monitor keeps checking, slowly, until forgotten."""
        if not session.not_found:
            log.info("The service no longer knows session %s", session.id)
        session.not_found, session.stale = True, False
        session.error = {
            "kind": "not_found",
            "message": "The Qiskit Runtime service no longer knows this session (it was deleted, "
            "or the service was reset). It is not counted as open and cannot be closed from "
            "here; Forget removes it from the list.",
        }
        self.store.save_session(session)
        self.changes.changed(session.id)

    def _delay(
        self, session: TrackedSession, failures: int, now: datetime | None = None
    ) -> float | None:
        pending = views.pending_jobs(session)
        return next_delay(
            intervals=self.config.intervals,
            state=session.state,
            pending_jobs=pending,
            closed_jobs_final=self._jobs_final(session),
            deadlines=self.deadlines(session).moments(),
            now=now or _now(),
            failures=failures,
            watched=self.watched,
            submitted_elsewhere=session.source != SOURCE_KERNEL,
            budgeted=self.hooks.budgeted(session),
            settling=self._settling(session, now),
        )

    def _jobs_needed(
        self, session: TrackedSession, previous: dict[str, Any], body: dict[str, Any]
    ) -> bool:
        """Whether this poll must read the job list. It is skipped only when it provably cannot
        have changed: the session was already closed at the last read (no job can be submitted
        to a closed session), every job it listed then was final, and their usage settled."""
        if session.id not in self._jobs_synced:
            return True
        closed_before = str(previous.get("state") or "") == "closed"
        closed_now = str(body.get("state") or "") == "closed"
        # Usage settled already at the last read (``last_polled_at`` is still that read's): the
        # poll just after they settle reads the jobs once more.
        return not (
            closed_before
            and closed_now
            and self._jobs_final(session)
            and not self._settling(session, session.last_polled_at)
        )

    async def _read_jobs(self, session: TrackedSession) -> tuple[list[dict[str, Any]], int, bool]:
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
            or clock - self._usage_read.get(session.id, -math.inf) >= self.config.intervals.idle
        )
        # A job is settled once a read that began after its settle moment has read it.
        before = self._usage_read_at.get(session.id)
        if usage:
            self._usage_read[session.id], self._usage_read_at[session.id] = clock, now
        if session.id in self._jobs_synced:
            settle = self.config.usage_settle_seconds
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

    def _apply_body(self, session: TrackedSession, body: dict[str, Any], now: datetime) -> None:
        old = session.body or {}
        session.body = body
        session.last_polled_at = now
        if str(body.get("state") or "") != "closed":
            session.closed_seen = None
        elif session.closed_seen is None:
            session.closed_seen = now
        session.mode = body.get("mode") or session.mode
        session.backend = body.get("backend_name") or session.backend
        if not old:
            # The first read: the service's own history of the session (``timestamps``) before
            # this server saw it (tracked by id, discovered, reported late), not "it began now".
            self.store.save_session(session)
            for earlier in views.service_history(
                body, before=now, clock_offset=session.clock_offset
            ):
                self.store.add_transition(session.id, earlier)
                old = {"state": earlier.state, "accepting_jobs": earlier.accepting_jobs}
        if (old.get("state"), old.get("accepting_jobs")) != (
            body.get("state"),
            body.get("accepting_jobs"),
        ):
            self.store.save_session(session)  # the timeline references the row
            self.store.add_transition(
                session.id,
                Transition(
                    at=now,
                    state=body.get("state"),
                    accepting_jobs=body.get("accepting_jobs"),
                    status=derive.status_of(body.get("state"), body.get("accepting_jobs")),
                ),
            )

    def note(self, session: TrackedSession, status: str) -> None:
        """An entry of the session's timeline that is not a change of its state at the service
        (orphaned, taken back by a kernel): the state stays what the service last said."""
        body = session.body or {}
        self.store.add_transition(
            session.id,
            Transition(
                at=_now(),
                state=body.get("state"),
                accepting_jobs=body.get("accepting_jobs"),
                status=status,
            ),
        )

    def _apply_jobs(
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

    def _settling(self, session: TrackedSession, now: datetime | None = None) -> float | None:
        return views.usage_settles_in(session, now or _now(), self.config.usage_settle_seconds)

    def _still_changing(self, session: TrackedSession) -> bool:
        """Whether a read can still change what is known of the session: it is open, a job of
        it is not final, or its usage figures have not settled since."""
        return not session.closed or not self._jobs_final(session) or bool(self._settling(session))

    def _loaded(self, session: TrackedSession) -> None:
        """A session loaded from the registry: if closed, its usage settled if it was last read
        long enough after its close; else (the server stopped within that time) it is read
        again until it settles from now."""
        if not session.closed:
            return
        closed_at = derive.parse_time((session.body or {}).get("closed_at"))
        read = session.last_polled_at
        settle = timedelta(seconds=self.config.usage_settle_seconds)
        if closed_at is not None and read is not None and read >= closed_at + settle:
            session.closed_seen = closed_at
        else:
            session.closed_seen = _now()

    # ------------------------------------------------------------------ views

    def deadlines(self, session: TrackedSession) -> derive.Deadlines:
        return views.deadlines_of(session, self.config.no_job_close_seconds)

    def view(self, session: TrackedSession, *, with_timeline: bool = False) -> dict[str, Any]:
        """The contract's ``SessionView``, with what it costs (``billing``), its ``budget`` and
        whether its queued jobs fit before the max TTL (``fit``)."""
        view = views.session_view(
            session,
            no_job_close_seconds=self.config.no_job_close_seconds,
            timeline=self.store.transitions(session.id) if with_timeline else None,
        )
        deadlines = self.deadlines(session)
        view["billing"] = billing.billing_view(
            billing.billing_of(session, deadlines), self.rate_of(session)
        )
        # The figures are final once the session is closed and they settled since (they may
        # still be read again: the service reports usage periodically).
        # As of the last read: the poll that begins after they settle reads every job again.
        view["billing"]["usage_settled"] = (
            session.closed and self._settling(session, session.last_polled_at) == 0.0
        )
        view["fit"] = billing.fit_of(session, deadlines)
        view["budget"] = self.hooks.budget_view(session)
        return view

    def rate_of(self, session: TrackedSession) -> billing.Rate:
        """The rate a session is priced at: the one in force when it closed, else today's."""
        saved = session.billed_rate
        if session.closed and saved is not None:
            return billing.Rate(saved.get("rate_per_second"), saved.get("currency"))
        return self.rate

    def snapshot(self) -> dict[str, Any]:
        ordered = sorted(self.sessions.values(), key=lambda s: s.tracked_at, reverse=True)
        return {
            "sessions": [self.view(s) for s in ordered],
            "server_time": derive.iso(_now()),
            # The service's clock minus this server's (the default account's; each view has its
            # session's): the deadlines served are already on this server's clock.
            "service_clock_offset_seconds": round(self.gateway.clock_offset(AccountRef()), 3),
            "version": self.version,
        }
