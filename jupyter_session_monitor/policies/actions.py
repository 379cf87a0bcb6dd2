"""What the monitor changes at the service on a user's behalf: close, cancel, cancel one job.

Every action is audited before the service is asked ("requested") and settled after: accepted,
failed (the service refused: nothing changed) or unknown (the request may have been carried out:
the monitor looks at once and the list shows the outcome)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from jupyter_session_monitor.domain.errors import MonitorError
from jupyter_session_monitor.domain.models import AccountRef, TrackedSession
from jupyter_session_monitor.engine.ports import TrackedSessions
from jupyter_session_monitor.protocol import derive
from jupyter_session_monitor.registry.store import Store
from jupyter_session_monitor.service.runtime import RuntimeCallError, RuntimeGateway

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


#: Failures after which an action's outcome is not known: the request may have reached the
#: service and been carried out (no answer in time, a 5xx from it or a proxy, a dropped
#: connection). The others are refusals: the service did not act.
OUTCOME_UNKNOWN = frozenset({"timeout", "service_error", "unreachable"})

Call = Callable[[AccountRef, str], Awaitable[None]]


class Actions:
    def __init__(self, engine: TrackedSessions, gateway: RuntimeGateway, store: Store) -> None:
        self.engine = engine
        self.gateway = gateway
        self.store = store  # the audit of every action

    async def close(self, session_id: str, user: str | None) -> TrackedSession:
        """Graceful close: no new jobs; queued jobs still run. Idempotent."""
        return await self._act(session_id, user, "close", self.gateway.close)

    async def cancel(self, session_id: str, user: str | None) -> TrackedSession:
        """Cancel queued jobs and end the session. Idempotent."""
        return await self._act(session_id, user, "cancel", self.gateway.cancel)

    async def _act(
        self, session_id: str, user: str | None, action: str, call: Call
    ) -> TrackedSession:
        engine, store = self.engine, self.store
        session = engine.get(session_id)
        if session.not_found:
            raise MonitorError(
                409,
                "not_found",
                f"The Qiskit Runtime service no longer knows session '{session_id}', so it cannot "
                "be closed or cancelled (there is nothing left to bill). Forget removes it from "
                "the list.",
            )
        if session.closed:
            store.record_action(
                user=user, action=action, target=session_id, result="already closed"
            )
            return session
        counts = derive.jobs_summary(j.status for j in session.jobs)
        seen = f"queued={counts['QUEUED']} running={counts['RUNNING']}"
        # Audited before the service is asked: a server killed meanwhile leaves "requested",
        # which says honestly that the outcome is not known.
        audit = store.record_action(
            user=user, action=action, target=session_id, result="requested", detail=seen
        )
        try:
            await call(session.account, session_id)
        except RuntimeCallError as error:
            unknown = error.kind in OUTCOME_UNKNOWN
            if unknown:  # shown at once: it may or may not have been carried out; look
                self._pending(session, action, "unknown")
                engine.poll_soon(session_id)
            outcome, detail = ("unknown" if unknown else "failed"), f"{seen}; {error.message}"
            store.settle_action(audit, outcome, detail)
            if unknown:  # the request may have reached the service and been carried out
                raise MonitorError(
                    504 if error.kind == "timeout" else 502,
                    error.kind,
                    f"{error.message} The request may have reached the service, so the session "
                    "may or may not have closed. The monitor is checking; the list shows the "
                    "outcome in a moment.",
                ) from None
            raise MonitorError(502, error.kind, f"{error.message} Nothing was changed.") from None
        session.last_action = action
        self._pending(session, action, "accepted")
        engine.poll_soon(session_id)  # confirm it by a read
        # The service acted: that is the answer, whatever the registry says. A registry locked
        # by another process queues the writes (the store's writer writes them once it is free),
        # never a 500 that would make the user think nothing happened.
        store.save_session(session)
        store.settle_action(audit, "accepted")
        return session

    def _pending(self, session: TrackedSession, action: str, state: str) -> None:
        """Say on every surface at once what was sent, until a read confirms it (throttled or
        hanging reads must not leave the page saying "Pending" with a Close button)."""
        session.pending_action = {"action": action, "state": state, "at": derive.iso(_now()) or ""}
        self.engine.changed(session.id)

    async def cancel_job(self, job_id: str, user: str | None) -> TrackedSession:
        session = next(
            (s for s in self.engine.sessions.values() if any(j.id == job_id for j in s.jobs)), None
        )
        if session is None:
            raise MonitorError(404, "not_found", f"Job '{job_id}' is not in a tracked session.")
        job = next(j for j in session.jobs if j.id == job_id)
        if job.status in derive.FINAL_JOB_STATUSES:
            raise MonitorError(
                409, "conflict", f"Job '{job_id}' is already {job.status} and cannot be cancelled."
            )
        try:
            await self.gateway.cancel_job(session.account, job_id)
        except RuntimeCallError as error:
            self.store.record_action(
                user=user, action="cancel_job", target=job_id, result="failed", detail=error.message
            )
            if error.status == 409:
                raise MonitorError(
                    409, "conflict", f"Job '{job_id}' can no longer be cancelled."
                ) from None
            raise MonitorError(
                502, error.kind, f"Could not cancel the job: {error.message}"
            ) from None
        self.store.record_action(user=user, action="cancel_job", target=job_id, result="accepted")
        self.engine.poll_soon(session.id)
        return session
