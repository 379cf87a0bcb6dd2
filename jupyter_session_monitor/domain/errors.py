"""The refusal every part of the monitor answers with, mapped to an HTTP answer by the handlers."""

from __future__ import annotations


class MonitorError(Exception):
    """An action the monitor refuses: HTTP status, a stable kind, a message for people."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message
