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
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from jupyter_session_monitor.domain import billing, views
from jupyter_session_monitor.domain.errors import MonitorError
from jupyter_session_monitor.domain.models import (
    AccountRef,
    TrackedSession,
    Transition,
)
from jupyter_session_monitor.protocol import derive
from jupyter_session_monitor.registry.store import Store
from jupyter_session_monitor.service.runtime import RuntimeGateway

from .changes import ChangeFeed
from .jobs import JobLists
from .poller import Intervals, Scheduler
from .polling import Polling
from .ports import EngineHooks
from .presence import Presence
from .tracking import Tracking

log = logging.getLogger(__name__)

#: The rate is the registry's: read again at most this often (seconds), while sessions are polled.
RATE_SYNC_SECONDS = 1.0
#: How long a stopping server waits for writes queued behind another process's registry lock.
STOP_FLUSH_SECONDS = 5.0


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
        self.polling = Polling(self)
        self._scheduler = Scheduler(self.polling.poll)
        self.changes = ChangeFeed(self._current_view)
        self.jobs = JobLists(
            gateway,
            store,
            self.sessions,
            self.changes.changed,
            idle_interval=config.intervals.idle,
            usage_settle_seconds=config.usage_settle_seconds,
        )
        self.rate = billing.Rate(config.rate_per_second, config.currency)
        self._started = False
        self._stopped = False
        self._last_watched = float("-inf")
        self._rate_synced = float("-inf")
        self._discovery: asyncio.Task[None] | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self.host = socket.gethostname()
        self.presence = Presence(self)
        self.tracking = Tracking(self)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Load the registry and start polling; idempotent."""
        if self._started:
            return
        if self.store.server_id is not None:
            # Only this server's sessions (and those of servers that are gone) are loaded:
            # another live server's kernels are not this one's to judge, its sessions not
            # this one's to close. First, while nothing is queued: it needs the registry's
            # answer (it may wait START_WAIT_MS for another process's lock, then fails).
            self.store.register_server(
                host=self.host,
                pid=os.getpid(),
                url=self.config.server_url,
                root_dir=self.config.root_dir,
            )
            self._heartbeat = asyncio.create_task(self.presence.beat_forever())
        self._started = True
        self.store.prune(_now() - self.config.retention)
        for session in self.store.load_sessions():
            self.take_in(session)
            self.sessions[session.id] = session
        saved_rate = self.store.setting("billing")
        if isinstance(saved_rate, dict):  # set through the API: it outlives a restart
            self.rate = billing.Rate(saved_rate.get("rate_per_second"), saved_rate.get("currency"))
        self.hooks.started()
        self._scheduler.start()
        if self.config.discovery_interval is not None:
            self._discovery = asyncio.create_task(
                self.tracking.discover_forever(self.config.discovery_interval)
            )
        for session in self.sessions.values():
            if self.still_changing(session):
                self._scheduler.schedule(session.id, 0)
            self.hooks.loaded(session)

    async def stop(self) -> None:
        """Stop everything, in order (nothing may touch the store once it is closed); never
        raises."""
        self._stopped = True
        self.jobs.stop()  # no background read may push a change while the rest stops
        self.changes.stop()
        try:
            await self.hooks.stopping()
        except Exception:
            log.exception("Stopping the session monitor's policies failed")
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
            # Writes queued behind another process's lock get a last chance, off the loop.
            await asyncio.to_thread(self.store.flush, STOP_FLUSH_SECONDS)
        except Exception:
            log.exception("Stopping the session monitor failed")
        finally:
            self.store.close()

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
            if planned is None or self.polling.failures.get(session.id):
                continue
            delay = self.polling.delay(session, 0, now)
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

    def sync_rate(self) -> None:
        """The rate is the registry's, like the budgets: take one another server of it set (at
        most once a second, while sessions are polled)."""
        now = time.monotonic()
        if now - self._rate_synced < RATE_SYNC_SECONDS:
            return
        self._rate_synced = now
        if self.store.behind:  # the file lags this server's own writes (its rate among them)
            return
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

    def forget(self, session_id: str) -> None:
        if session_id not in self.sessions:
            raise self._unknown(session_id)
        self.let_go(session_id)
        self.store.forget(session_id)

    def let_go(self, session_id: str) -> None:
        """Stop watching a session here (its registry row is the caller's business)."""
        session = self.sessions.pop(session_id, None)
        if session is not None:
            self.jobs.forget(session)
        self._scheduler.unschedule(session_id)
        self.polling.failures.pop(session_id, None)
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

    async def job_times(self, session_id: str, newest: int | None = None) -> TrackedSession:
        """Fill in when each final job ran, for the timeline (``JobLists.times``)."""
        session = self.get(session_id)
        await self.jobs.times(session, newest)
        return session

    async def refresh(self, session_id: str, within: float) -> TrackedSession:
        """Read the session and its jobs from the service now (a confirmation is about to be
        shown): returns once a poll that started after this call has ended, or after
        ``within`` seconds with what is known then (``stale`` and ``last_polled_at`` say so)."""
        session = self.get(session_id)
        if self.still_changing(session):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._scheduler.poll_now(session_id)), within)
        return self.get(session_id)

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

    def settles_in(self, session: TrackedSession, now: datetime | None = None) -> float | None:
        return views.usage_settles_in(session, now or _now(), self.config.usage_settle_seconds)

    def still_changing(self, session: TrackedSession) -> bool:
        """Whether a read can still change what is known of the session: it is open, a job of
        it is not final, or its usage figures have not settled since."""
        return not session.closed or not views.jobs_final(session) or bool(self.settles_in(session))

    def take_in(self, session: TrackedSession) -> None:
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
            session.closed and self.settles_in(session, session.last_polled_at) == 0.0
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
