"""One poll of a tracked session: read its body (and its job list when it can have changed),
apply what changed, and say when to look next (``poller.next_delay``); failures back off, and
the first success of an account brings its other failing sessions back."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from jupyter_session_monitor import metrics
from jupyter_session_monitor.domain import views
from jupyter_session_monitor.domain.models import SOURCE_KERNEL, TrackedSession, Transition
from jupyter_session_monitor.engine.poller import next_delay
from jupyter_session_monitor.protocol import derive
from jupyter_session_monitor.service.runtime import RuntimeCallError

if TYPE_CHECKING:
    from jupyter_session_monitor.engine.monitor import Engine

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


class Polling:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.failures: dict[str, int] = {}  # session id -> failed polls in a row

    async def poll(self, session_id: str) -> float | None:
        session = self.engine.sessions.get(session_id)
        if session is None:
            return None
        kernel_id = session.kernel_id
        if (
            kernel_id
            and not session.orphaned
            and not session.closed
            and not self.engine.kernel_exists(kernel_id)
        ):
            self.engine.hooks.kernel_missing(session)
        now = _now()
        previous = dict(session.body or {})
        try:
            body = await self.engine.gateway.session(session.account, session_id)
            if self.engine.jobs.needed(session, previous, body):
                raw_jobs, skip, whole = await self.engine.jobs.read(session)
                if session_id not in self.engine.sessions:  # forgotten while the call was in flight
                    return None
                self.engine.jobs.apply(session, raw_jobs, skip=skip, whole=whole)
                self.engine.jobs.synced(session_id)
        except RuntimeCallError as error:
            metrics.POLLS.labels(error.kind).inc()
            if session_id not in self.engine.sessions:
                return None
            failures = self.failures.get(session_id, 0) + 1
            self.failures[session_id] = failures
            if error.kind == "not_found":
                self.not_found(session)
            else:
                first = not session.stale or (session.error or {}).get("kind") != error.kind
                session.stale = True
                session.error = {"kind": error.kind, "message": error.message}
                self.engine.changes.changed(session_id)
                if first:  # a state change is logged once, not every retry
                    log.warning(
                        "Polling session %s failed (%s): %s; retrying by itself",
                        session_id,
                        error.kind,
                        error.message,
                    )
            delay = self.delay(session, failures)
            if delay is not None and error.retry_after is not None:
                # When the service says, not an own guess; jitter so that sessions do not all
                # come back at once.
                delay = max(
                    self.engine.config.intervals.minimum,
                    error.retry_after + random.uniform(0.0, 1.0),  # noqa: S311
                )
            return delay
        metrics.POLLS.labels("ok").inc()
        if session_id not in self.engine.sessions:
            return None
        if self.failures.pop(session_id, None) and session.stale:
            log.info("Polling session %s works again", session_id)
        if self.failures:  # the account answers: its sessions that are backing off try now
            self.bring_back(session)
        if session.not_found:
            log.info("Session %s is known to the service again", session_id)
        session.stale, session.error, session.not_found = False, None, False
        self.update_clock(session)
        self.engine.jobs.wall_times_soon(session)
        self.confirm_action(session, body)
        was_closed = session.closed
        self.apply_body(session, body, _now())
        if session.closed and session.billed_rate is None:
            session.billed_rate = (
                self.engine.rate.as_json()
            )  # its bill is final: priced at this rate
        self.engine.store.save_session(session)
        self.engine.changes.changed(session_id)
        self.engine.sync_rate()
        self.engine.hooks.polled(session, previous, was_closed)
        return self.delay(session, 0, now)

    @staticmethod
    def confirm_action(session: TrackedSession, body: dict[str, Any]) -> None:
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

    #: The clock offset a session keeps changes only by this much (seconds): the estimate
    #: settles by fractions of a second, and each change would be pushed as a changed view.
    CLOCK_STEP = 0.25

    def update_clock(self, session: TrackedSession) -> None:
        offset = self.engine.gateway.clock_offset(session.account)
        if abs(offset - session.clock_offset) >= self.CLOCK_STEP or (
            offset == 0.0 and session.clock_offset != 0.0
        ):
            session.clock_offset = offset

    def bring_back(self, recovered: TrackedSession) -> None:
        """A poll worked again after failures: the other sessions of the same account that are
        backing off are polled now too, rather than each at the end of its own backoff."""
        for session in self.engine.sessions.values():
            if (
                session.id != recovered.id
                and session.account == recovered.account
                and self.failures.get(session.id)
            ):
                self.engine.poll_soon(session.id)

    def not_found(self, session: TrackedSession) -> None:
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
        self.engine.store.save_session(session)
        self.engine.changes.changed(session.id)

    def delay(
        self, session: TrackedSession, failures: int, now: datetime | None = None
    ) -> float | None:
        pending = views.pending_jobs(session)
        return next_delay(
            intervals=self.engine.config.intervals,
            state=session.state,
            pending_jobs=pending,
            closed_jobs_final=views.jobs_final(session),
            deadlines=self.engine.deadlines(session).moments(),
            now=now or _now(),
            failures=failures,
            watched=self.engine.watched,
            submitted_elsewhere=session.source != SOURCE_KERNEL,
            budgeted=self.engine.hooks.budgeted(session),
            settling=self.engine.settles_in(session, now),
        )

    def apply_body(self, session: TrackedSession, body: dict[str, Any], now: datetime) -> None:
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
            self.engine.store.save_session(session)
            for earlier in views.service_history(
                body, before=now, clock_offset=session.clock_offset
            ):
                self.engine.store.add_transition(session.id, earlier)
                old = {"state": earlier.state, "accepting_jobs": earlier.accepting_jobs}
        if (old.get("state"), old.get("accepting_jobs")) != (
            body.get("state"),
            body.get("accepting_jobs"),
        ):
            self.engine.store.save_session(session)  # the timeline references the row
            self.engine.store.add_transition(
                session.id,
                Transition(
                    at=now,
                    state=body.get("state"),
                    accepting_jobs=body.get("accepting_jobs"),
                    status=derive.status_of(body.get("state"), body.get("accepting_jobs")),
                ),
            )
