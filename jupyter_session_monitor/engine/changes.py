"""What the monitor tells its listeners (the push channel): one numbered change per session whose
view changed, and polls that changed nothing but their time batched into one small notice."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Listener = Callable[[dict[str, Any]], None]


class ChangeFeed:
    #: Seconds between the batched notices of polls that changed nothing but their time.
    POLLED_NOTICE_SECONDS = 1.0

    def __init__(self, view_of: Callable[[str], dict[str, Any] | None]) -> None:
        self._view_of = view_of  # a session's current view, None once it is not tracked
        self._listeners: list[Listener] = []
        self.version = 0
        # The last view pushed per session, without ``last_polled_at``: a poll that changed
        # nothing else is pushed as a small batched "polled" notice, not as a whole view.
        self._pushed: dict[str, dict[str, Any]] = {}
        self._polled: dict[str, str | None] = {}
        self._flush: asyncio.TimerHandle | None = None

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def changed(self, session_id: str, kind: str = "updated") -> None:
        view = self._view_of(session_id) if kind != "removed" else None
        if view is None:
            self._pushed.pop(session_id, None)
            self._polled.pop(session_id, None)
        else:
            comparable = {k: v for k, v in view.items() if k != "last_polled_at"}
            if kind == "updated" and self._pushed.get(session_id) == comparable:
                self._note_polled(session_id, view["last_polled_at"])
                return
            self._pushed[session_id] = comparable
            self._polled.pop(session_id, None)
        self.emit({"kind": kind, "session_id": session_id, "session": view, "polled": None})

    # Every change carries every field (null when it does not apply): see the event schema.

    def emit(self, change: dict[str, Any]) -> None:
        self.version += 1
        change = {"version": self.version, "polled": None, "money": None, **change}
        for listener in list(self._listeners):
            try:
                listener(change)
            except Exception:  # one broken listener must not stop the poll or the others
                log.exception("A session change listener failed")

    def _note_polled(self, session_id: str, at: str | None) -> None:
        self._polled[session_id] = at
        if self._flush is None:
            loop = asyncio.get_running_loop()
            self._flush = loop.call_later(self.POLLED_NOTICE_SECONDS, self._flush_polled)

    def _flush_polled(self) -> None:
        self._flush = None
        if self._polled:
            polled, self._polled = self._polled, {}
            self.emit({"kind": "polled", "session_id": "", "session": None, "polled": polled})

    def stop(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
