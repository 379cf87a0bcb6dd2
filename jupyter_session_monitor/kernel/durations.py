"""Durations as ``Session(max_time=...)`` takes them: whole seconds, or hours/minutes/seconds."""

from __future__ import annotations

import re

ACCEPTED = (
    "whole seconds (1500) or days/hours/minutes/seconds such as '25m', '1h30m', '2h 10m 20s', '1d'"
)
_PART = re.compile(r"(\d+)\s*([dhms])", re.IGNORECASE)
_WHOLE = re.compile(r"^\s*(?:\d+\s*[dhms]\s*)+$", re.IGNORECASE)
_UNIT = {"d": 86400, "h": 3600, "m": 60, "s": 1}


class DurationError(ValueError):
    pass


def parse_duration(value: str | int) -> int:
    """Seconds in ``value``; a :class:`DurationError` naming the accepted forms otherwise.

    Stricter than the client's own parser, which ignores anything between the parts it finds
    (``"5 minutes"`` silently becomes 5 seconds there): here every character must belong.
    """
    if isinstance(value, bool):
        raise DurationError(f"{value!r} is not a duration. Use {ACCEPTED}.")
    if isinstance(value, int):
        seconds = value
    else:
        text = str(value).strip()
        if text.isdigit():
            seconds = int(text)
        elif _WHOLE.match(text):
            seconds = sum(int(n) * _UNIT[unit.lower()] for n, unit in _PART.findall(text))
        else:
            raise DurationError(f"{value!r} is not a duration. Use {ACCEPTED}.")
    if seconds <= 0:
        raise DurationError(f"{value!r} is not a positive duration. Use {ACCEPTED}.")
    return seconds
