"""Sessions whose kernel is gone (restarted, shut down, died): flagged as orphaned and, with
``orphan_policy="close"``, closed after a grace period. Only this server's sessions are ever
judged: the monitor loads no other live server's rows."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from jupyter_session_monitor.domain.errors import MonitorError
from jupyter_session_monitor.domain.models import TrackedSession
from jupyter_session_monitor.engine.ports import TrackedSessions

log = logging.getLogger(__name__)


class OrphanWatch:
    def __init__(
        self,
        engine: TrackedSessions,
        close: Callable[[str, str | None], Awaitable[Any]],
        *,
        policy: str = "flag",
        grace_seconds: float = 300.0,
    ) -> None:
        self.engine = engine
        self._close_session = close  # the user action, audited as the orphan policy's
        self.policy = policy  # "flag", or "close" after the grace period
        self.grace_seconds = grace_seconds
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._runs: dict[str, int] = {}  # session id -> pidfd of its headless run's kernel
        self._stopped = False

    def watch_run(self, session_id: str, pid: int, runner: str) -> None:
        """A headless run's kernel (process ``pid``) opened the session: when that process ends
        with the session open, nobody can reach it any more; flag it as orphaned like a session
        whose kernel is gone. The event loop waits on a pidfd (readable once the process ends),
        so nothing polls. Kept in memory only: after a restart of the server such a session is
        not watched."""
        if self._stopped or session_id in self._runs:
            return
        try:
            descriptor = os.pidfd_open(pid)
        except (OSError, AttributeError):  # gone already, or no pidfd here (not Linux)
            return
        loop = asyncio.get_running_loop()

        def ended() -> None:
            self._forget_run(session_id)
            session = self.engine.sessions.get(session_id)
            if (
                self._stopped
                or session is None
                or session.closed
                or session.orphaned
                or session.kernel_id is not None  # a kernel of this server took it over
            ):
                return
            self.mark(session, f"its headless run ({runner}) ended")

        self._runs[session_id] = descriptor
        loop.add_reader(descriptor, ended)

    def _forget_run(self, session_id: str) -> None:
        descriptor = self._runs.pop(session_id, None)
        if descriptor is not None:
            asyncio.get_running_loop().remove_reader(descriptor)
            os.close(descriptor)

    def kernel_gone(self, kernel_id: str, why: str) -> None:
        """The kernel restarted, shut down or died: its open sessions are out of its reach."""
        if self._stopped:  # the server shuts its kernels down after the monitor stopped
            return
        for session in self.engine.sessions.values():
            if session.kernel_id == kernel_id and not session.closed and not session.orphaned:
                self.mark(session, why)

    def mark(self, session: TrackedSession, why: str) -> None:
        session.orphaned = True
        self.engine.save(session)
        self.engine.note(session, f"Orphaned: {why}")
        log.info("Session %s is orphaned (%s)", session.id, why)
        self.engine.changed(session.id)
        self.arm(session)

    def arm(self, session: TrackedSession) -> None:
        """Start the grace period before an orphan close (again, after a server restart)."""
        if self._stopped or self.policy != "close" or session.id in self._timers:
            return
        loop = asyncio.get_running_loop()
        self._timers[session.id] = loop.call_later(
            self.grace_seconds,
            lambda: asyncio.ensure_future(self._close(session.id)),
        )

    def disarm(self, session_id: str) -> None:
        """A kernel took the session back, or it was forgotten: no close."""
        timer = self._timers.pop(session_id, None)
        if timer is not None:
            timer.cancel()

    async def _close(self, session_id: str) -> None:
        self._timers.pop(session_id, None)
        session = self.engine.sessions.get(session_id)
        if self._stopped or session is None or session.closed or not session.orphaned:
            return
        log.info(
            "Closing orphaned session %s (orphan_policy='close', %g s after its kernel was lost)",
            session_id,
            self.grace_seconds,
        )
        try:
            await self._close_session(session_id, "session-monitor (orphan policy)")
        except MonitorError as error:
            log.warning("Could not close orphaned session %s: %s", session_id, error.message)

    def stop(self) -> None:
        self._stopped = True
        for session_id in list(self._runs):
            self._forget_run(session_id)
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
