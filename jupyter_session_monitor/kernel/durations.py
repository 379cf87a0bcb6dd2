"""Durations as ``Session(max_time=...)`` takes them: whole seconds, or hours/minutes/seconds."""

from __future__ import annotations

import re

ACCEPTED = (
    "whole seconds (1500) or days/hours/minutes/seconds such as '25m', '1h30m', '2h 10m 20s', '1d'"
)
_PART = re.compile(r"(\d+)\s*([dhms])", re.IGNORECASE)
_WHOLE = re.compile(r"^\s*(?:\d+\s*[dhms]\s*)+$", re.IGNORECASE)
_UNIT = {"d": 86400, "h": 3600, "m": 60, "s": 1}
#: A unit written as a word ("5 minutes"): its first letter is the unit the parser takes.
_UNIT_WORD = re.compile(r"^(?:days?|h|hrs?|hours?|mins?|minutes?|secs?|seconds?|d|m|s)$", re.I)
_SPELLED = re.compile(r"^\s*(\d+)\s+(\w+)\s*$")


class DurationError(ValueError):
    pass


def short_form(number: str, word: str) -> str | None:
    """``"5", "minutes"`` -> ``"5m"``: what to write instead; ``None`` if ``word`` is no unit."""
    if not number.isdigit() or not _UNIT_WORD.match(word):
        return None
    return f"{number}{word[0].lower()}"


def parse_duration(value: str | int) -> int:
    """Seconds in ``value``; a :class:`DurationError` naming the accepted forms otherwise.

    Stricter than the client's own parser, which ignores anything between the parts it finds
    (``"5 minutes"`` silently becomes 5 seconds there): here every character must belong, and a
    number followed by a unit word is told its short form.
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
            spelled = _SPELLED.match(text)
            suggestion = spelled and short_form(spelled.group(1), spelled.group(2))
            if suggestion:
                raise DurationError(
                    f"{value!r} is not a duration: write {suggestion} (durations are {ACCEPTED})."
                )
            raise DurationError(f"{value!r} is not a duration. Use {ACCEPTED}.")
    if seconds <= 0:
        raise DurationError(f"{value!r} is not a positive duration. Use {ACCEPTED}.")
    return seconds


def largest_unit(text: str) -> str:
    """The largest unit written in a duration (``"1h30m"`` -> ``"h"``); plain digits are ``"s"``."""
    units = {unit.lower() for _, unit in _PART.findall(text)}
    return max(units, key=_UNIT.__getitem__) if units else "s"


def format_duration(seconds: float, largest: str = "d") -> str:
    """Whole seconds (rounded down) as the parser reads them, no unit above ``largest``:
    ``5400`` -> ``"1h 30m"``, ``28800`` with ``largest="m"`` -> ``"480m"``, ``0.4`` -> ``"0s"``."""
    remaining = max(0, int(seconds))
    parts = []
    for unit, size in _UNIT.items():
        if size > _UNIT[largest]:
            continue
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts) or "0s"
