"""Scheduling: when each session is polled next, and one asyncio scheduler that does it.

Knows nothing of HTTP or the UI: the monitor hands it a ``poll(session_id)`` coroutine that returns
the delay until that session's next poll (``None``: stop polling it).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Intervals:
    """Seconds between polls of one session (configurable on the app)."""

    busy: float = 2.0  # jobs queued or running
    active: float = 5.0  # active, no job pending: watching for the interactive-TTL deactivation
    idle: float = 30.0  # open (no job yet) or inactive
    closing: float = 2.0  # closed but a job is still finishing
    error_base: float = 5.0  # first retry after a failure, doubling up to error_max
    error_max: float = 300.0
    after_deadline: float = 0.25  # poll this long after a predicted transition
    # ... and once more this long after it, if the first look came too early (the service's
    # clock is known to a fraction of a second, not exactly): then the state's own interval.
    second_look: float = 1.75
    minimum: float = 0.2
    unwatched_factor: float = 4.0  # no browser connected: poll this much less often


def next_delay(
    *,
    intervals: Intervals,
    state: str | None,
    pending_jobs: int,
    closed_jobs_final: bool,
    deadlines: Iterable[datetime | None],
    now: datetime,
    failures: int,
    watched: bool = True,
    submitted_elsewhere: bool = False,
    budgeted: bool = False,
    settling: float | None = None,
) -> float | None:
    """Delay before the next poll; ``None`` once a closed session's jobs are all final and its
    usage figures settled.

    ``settling``: seconds until a closed session's usage figures are final (the service reports
    usage periodically): it is read again at the idle interval, and once just after that.

    ``submitted_elsewhere``: no kernel of this server reports this session's submissions (it was
    tracked by id or discovered), so only a poll can see a new job: while it is open it is polled
    at least every ``active`` interval, whatever its state.

    ``budgeted``: a budget counts this session, and the server must see the billed time cross it
    with nobody watching: polled at least every ``active`` interval while open, never slowed
    down for an unwatched page.

    ``deadlines``: when the service is predicted to act on its own. The session is polled just
    after the soonest one, and once more a little later if the service had not acted yet. One
    that has passed both looks no longer brings polls forward: a service that acts late is seen
    at the state's own interval, never in a loop of polls.
    """
    if failures > 0:
        return float(min(intervals.error_max, intervals.error_base * 2.0 ** (failures - 1)))
    if state == "closed":
        if not closed_jobs_final:
            return intervals.closing
        if not settling or settling <= 0:
            return None
        slow = intervals.idle * (1.0 if watched else intervals.unwatched_factor)
        return max(intervals.minimum, min(slow, settling + intervals.after_deadline))
    if pending_jobs > 0:
        delay = intervals.busy
    elif state == "active":
        delay = intervals.active
    else:
        delay = intervals.idle
    if submitted_elsewhere or budgeted:
        delay = min(delay, intervals.active)
    if not watched and not budgeted:
        delay *= intervals.unwatched_factor
    for deadline in deadlines:
        if deadline is None:
            continue
        ahead = (deadline - now).total_seconds()
        for look in (intervals.after_deadline, intervals.second_look):
            # At most the minimum away: this poll is that look (or a later one), and the service
            # has not acted yet; that look is not made again.
            until = ahead + look
            if intervals.minimum < until:
                delay = min(delay, until)  # just after the predicted transition
                break
    return max(intervals.minimum, delay)


class Scheduler:
    """One task polls every session when it falls due; at most one poll per session at a time."""

    def __init__(self, poll: Callable[[str], Awaitable[float | None]]) -> None:
        self._poll = poll
        self._due: dict[str, float] = {}
        self._running: set[str] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._polls: set[asyncio.Task[None]] = set()
        self._stopping = False
        # Futures of poll_now() callers, handed to the next poll that starts for that session.
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="session-monitor-scheduler")

    async def stop(self) -> None:
        """Stop scheduling, cancel polls in flight, and wait until all of it has ended."""
        # A flag, not only cancel(): the loop then ends by itself even if a cancellation races a
        # wake-up (asyncio.wait_for in Python 3.11 could swallow one; a server shutdown hung).
        self._stopping = True
        self._wake.set()
        for waiting in self._waiters.values():
            for future in waiting:
                future.cancel()
        self._waiters.clear()
        polls = list(self._polls)
        for task in polls:
            task.cancel()
        for task in [*polls, *([self._task] if self._task else [])]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def schedule(self, session_id: str, delay: float) -> None:
        """Poll ``session_id`` after ``delay`` seconds (sooner than already planned wins)."""
        at = asyncio.get_running_loop().time() + max(0.0, delay)
        planned = self._due.get(session_id)
        if planned is None or at < planned:
            self._due[session_id] = at
            self._wake.set()

    def poll_now(self, session_id: str) -> asyncio.Future[None]:
        """Poll ``session_id`` at once; the future resolves when a poll that started after this
        call has ended (a poll already in flight may have read the service too early)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(session_id, []).append(future)
        self.schedule(session_id, 0)
        return future

    def unschedule(self, session_id: str) -> None:
        self._due.pop(session_id, None)
        for future in self._waiters.pop(session_id, []):
            if not future.done():
                future.set_result(None)

    def planned(self, session_id: str) -> float | None:
        at = self._due.get(session_id)
        return None if at is None else at - asyncio.get_running_loop().time()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            now = loop.time()
            for session_id in [
                s for s, at in self._due.items() if at <= now and s not in self._running
            ]:
                del self._due[session_id]
                self._running.add(session_id)
                waiters = self._waiters.pop(session_id, [])
                task = asyncio.create_task(self._poll_one(session_id))
                self._polls.add(task)
                # A callback, not a ``finally`` in the task: a task cancelled before its first
                # step (stop() right after a poll was started) never runs its body, and its
                # waiters would wait for ever.
                task.add_done_callback(functools.partial(self._ended, session_id, waiters))
            waiting = [at for s, at in self._due.items() if s not in self._running]
            self._wake.clear()
            timeout = max(0.0, min(waiting) - loop.time()) if waiting else None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()

    async def _poll_one(self, session_id: str) -> None:
        delay: float | None = None
        try:
            delay = await self._poll(session_id)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug must not stop the other sessions' polling
            log.exception("Polling session %s failed unexpectedly", session_id)
            delay = 60.0
        self._running.discard(session_id)
        if delay is not None and not self._stopping:
            self.schedule(session_id, delay)
        self._wake.set()

    def _ended(
        self, session_id: str, waiters: list[asyncio.Future[None]], task: asyncio.Task[None]
    ) -> None:
        """A poll task ended (or was cancelled, even before it began)."""
        self._polls.discard(task)
        if task.cancelled():  # its body did not say it ended (a new poll may run by now if so)
            self._running.discard(session_id)
        for future in waiters:
            if not future.done():
                future.set_result(None)
