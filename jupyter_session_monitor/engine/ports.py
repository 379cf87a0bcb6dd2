"""The engine as its collaborators see it: two narrow interfaces, one each way.

``TrackedSessions`` is what a policy may read of the engine and ask of it (implemented by
``Engine``); ``EngineHooks`` is what the engine tells the policies and asks them (implemented by
the monitor that composes them, ``policies/monitor.py``). Neither side gets the other whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from jupyter_session_monitor.domain.billing import Rate
from jupyter_session_monitor.domain.models import TrackedSession
from jupyter_session_monitor.protocol import derive


class TrackedSessions(Protocol):
    """The tracked sessions, and the few things a policy may ask about them."""

    @property
    def sessions(self) -> Mapping[str, TrackedSession]: ...

    @property
    def stopped(self) -> bool:
        """The engine stopped: nothing may be scheduled, nor the registry written, any more."""
        ...

    @property
    def rate(self) -> Rate:
        """The price of one billed second now (the registry's setting)."""
        ...

    def get(self, session_id: str) -> TrackedSession:
        """The session, or a 404 ``MonitorError``."""
        ...

    def deadlines(self, session: TrackedSession) -> derive.Deadlines: ...

    def poll_soon(self, session_id: str) -> None:
        """Read the session now rather than at its next planned poll."""
        ...

    def changed(self, session_id: str) -> None:
        """The session's view may have changed: push it if it did."""
        ...

    def save(self, session: TrackedSession) -> None:
        """Write the session's row (after a policy changed it)."""
        ...

    def note(self, session: TrackedSession, status: str) -> None:
        """An entry of the session's timeline that is not a change of its state."""
        ...


class EngineHooks:
    """What the engine tells the policies as it works, and the two things it asks them (a
    session's budget, for its view and its polling pace). Every hook does nothing here."""

    def started(self) -> None:
        """The registry was loaded: the sessions are in; polling begins."""

    async def stopping(self) -> None:
        """The engine is stopping: end every timer and task (the registry is still open)."""

    def loaded(self, session: TrackedSession) -> None:
        """A session was taken in from the registry (at start, or from a server that is gone)."""

    def adopted(self) -> None:
        """Sessions of a server that is gone were taken over."""

    def added(self, session: TrackedSession) -> None:
        """A session was tracked, read once from the service."""

    def reclaimed(self, session_id: str) -> None:
        """An orphaned session was reported again by a kernel: it is not orphaned any more."""

    def kernel_missing(self, session: TrackedSession) -> None:
        """A poll found that the kernel which opened the open session no longer exists."""

    def let_go(self, session_id: str) -> None:
        """The session is not watched here any more (forgotten, or taken by another server)."""

    def polled(self, session: TrackedSession, previous: dict[str, Any], was_closed: bool) -> None:
        """A poll read the session (``previous``: its body before)."""

    def rate_changed(self) -> None:
        """The rate changed (set here, or by another server of the registry)."""

    def budget_view(self, session: TrackedSession) -> dict[str, Any] | None:
        """The budget that applies to the session, as its view shows it."""
        return None

    def budgeted(self, session: TrackedSession) -> bool:
        """A budget applies to the session (it is polled at the active pace)."""
        return False
