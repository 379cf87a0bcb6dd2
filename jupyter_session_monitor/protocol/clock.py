"""How far the service's clock is from this machine's, from the ``Date`` header of its answers.

Every deadline the monitor predicts is the service's own timestamps plus durations, in the
service's clock; it is compared with this machine's. Two clocks minutes apart would count every
countdown down minutes wrong. A ``Date`` header is the service's time, truncated to the second,
at some moment between sending the request and receiving the answer, so each answer bounds the
offset (service minus host):

    date - received  <  offset  <  date + 1 - sent

The bounds of the recent answers, intersected, pin the offset to a fraction of a second after a
few answers, without assuming the network is symmetric; the estimate is the middle of what they
allow, or 0 while they allow 0 (two well-set clocks are not made to differ by the header's whole
seconds). One answer that contradicts the others (a stale cached answer, a server behind the same
address with another clock) is set aside; ``SWITCH`` in a row that agree with each other and not
with the window (the host's clock was set, or the service's) start a new window. Pure: no I/O,
safe from any thread.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

#: Answers whose bounds are intersected (the newest ones).
WINDOW = 32
#: Answers in a row that contradict the window and agree with each other: a clock was set.
SWITCH = 3


class ClockOffset:
    """The service's clock minus this host's, in seconds; 0 until an answer had a ``Date``."""

    def __init__(self, window: int = WINDOW) -> None:
        self._bounds: deque[tuple[float, float]] = deque(maxlen=window)
        # Answers in a row that contradict the window: a new window once SWITCH of them agree.
        self._rivals: list[tuple[float, float]] = []
        self._lock = threading.Lock()
        self._estimate = 0.0
        self._known = False

    @property
    def seconds(self) -> float:
        return self._estimate

    @property
    def known(self) -> bool:
        return self._known

    def observe(self, date: float, sent: float, received: float) -> None:
        """One answer: its ``Date`` (epoch seconds) and when this host sent the request and
        received the answer (epoch seconds of this host's clock)."""
        if received < sent:
            return
        low, high = date - received, date + 1.0 - sent
        with self._lock:
            lows = max([low, *(b[0] for b in self._bounds)])
            highs = min([high, *(b[1] for b in self._bounds)])
            if lows <= highs:
                self._bounds.append((low, high))
                self._rivals.clear()
            else:
                # It contradicts the window: set aside, unless it is the SWITCH-th in a row that
                # agree with each other (a clock was set): then they are the new window.
                rivals = [*self._rivals, (low, high)]
                if max(r[0] for r in rivals) > min(r[1] for r in rivals):
                    rivals = [(low, high)]  # they contradict each other too: start again
                self._rivals = rivals
                if len(rivals) < SWITCH:
                    return
                self._bounds.clear()
                self._bounds.extend(rivals)
                self._rivals = []
                lows, highs = max(r[0] for r in rivals), min(r[1] for r in rivals)
            # 0 (the clocks agree) while every answer allows it, so a well-set clock is not moved
            # by the header's whole seconds; else the middle of what they allow.
            self._estimate = 0.0 if lows <= 0.0 <= highs else (lows + highs) / 2.0
            self._known = True

    def observe_header(self, value: str | None, sent: float, received: float) -> None:
        if not value:
            return
        try:
            date = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return
        if date.tzinfo is None:  # an HTTP date is GMT
            return
        self.observe(date.timestamp(), sent, received)


def response_hook(offset: ClockOffset) -> Callable[..., Any]:
    """A ``requests`` response hook that feeds ``offset`` from every answer's ``Date``."""

    def hook(response: Any, *args: Any, **kwargs: Any) -> Any:
        received = time.time()
        elapsed = getattr(response, "elapsed", None)
        sent = received - elapsed.total_seconds() if elapsed is not None else received
        offset.observe_header(response.headers.get("Date"), sent, received)
        return response

    hook.clock_offset = offset  # type: ignore[attr-defined]
    return hook


def watch(session: Any, offset: ClockOffset) -> bool:
    """Feed ``offset`` from every answer a ``requests`` session receives (once per session).
    False when ``session`` has no response hooks (then the offset stays as it is)."""
    hooks = getattr(session, "hooks", None)
    if not isinstance(hooks, dict):
        return False
    listed = hooks.setdefault("response", [])
    if not isinstance(listed, list):
        return False
    if any(getattr(h, "clock_offset", None) is offset for h in listed):
        return True
    listed.append(response_hook(offset))
    return True
