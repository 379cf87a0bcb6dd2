"""The poll schedule: when each session is polled, and a scheduler that stops when told."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from jupyter_session_monitor.engine.poller import Intervals, Scheduler, next_delay

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
DEFAULT = Intervals()


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"state": "active", "pending_jobs": 2}, DEFAULT.busy),
        ({"state": "active", "pending_jobs": 0}, DEFAULT.active),
        ({"state": "open", "pending_jobs": 0}, DEFAULT.idle),
        ({"state": "inactive", "pending_jobs": 0}, DEFAULT.idle),
        (
            {"state": "inactive", "pending_jobs": 0, "watched": False},
            DEFAULT.idle * DEFAULT.unwatched_factor,
        ),
        ({"state": "closed", "closed_jobs_final": False}, DEFAULT.closing),
        ({"state": "closed", "closed_jobs_final": True}, None),
        # Closed and final, its usage not settled yet (reported periodically): read at the idle
        # interval, and once just after it settles; then no more.
        ({"state": "closed", "closed_jobs_final": True, "settling": 100.0}, DEFAULT.idle),
        (
            {"state": "closed", "closed_jobs_final": True, "settling": 900.0, "watched": False},
            DEFAULT.idle * DEFAULT.unwatched_factor,
        ),
        (
            {"state": "closed", "closed_jobs_final": True, "settling": 3.0},
            3.0 + DEFAULT.after_deadline,
        ),
        ({"state": "closed", "closed_jobs_final": True, "settling": 0.0}, None),
        ({"state": "active", "failures": 1}, DEFAULT.error_base),
        ({"state": "active", "failures": 3}, DEFAULT.error_base * 4),
        ({"state": "active", "failures": 30}, DEFAULT.error_max),
        # A deadline before the next regular poll: poll just after it.
        (
            {"state": "active", "deadlines": [NOW + timedelta(seconds=1)]},
            1 + DEFAULT.after_deadline,
        ),
        # A deadline missed (the service acts late, or its clock is behind): the state's own
        # interval, never a loop of polls at the minimum (issue: five reads a second).
        ({"state": "open", "deadlines": [NOW - timedelta(seconds=5)]}, DEFAULT.idle),
        # This poll is the one just after the deadline and nothing changed yet: one more look
        # (the service's clock is known to a fraction of a second), then the state's interval.
        (
            {"state": "active", "deadlines": [NOW - timedelta(seconds=DEFAULT.after_deadline)]},
            DEFAULT.second_look - DEFAULT.after_deadline,
        ),
        (
            {"state": "active", "deadlines": [NOW - timedelta(seconds=DEFAULT.second_look)]},
            DEFAULT.active,
        ),
        # A missed deadline does not hide the next one still ahead.
        (
            {
                "state": "active",
                "deadlines": [NOW - timedelta(seconds=9), NOW + timedelta(seconds=2)],
            },
            2 + DEFAULT.after_deadline,
        ),
        ({"state": "open", "deadlines": [NOW + timedelta(hours=1)]}, DEFAULT.idle),
        # Nothing reports its submissions (tracked by id): never longer than the active interval.
        ({"state": "inactive", "submitted_elsewhere": True}, DEFAULT.active),
        ({"state": "open", "submitted_elsewhere": True, "watched": False}, DEFAULT.active * 4),
        ({"state": "closed", "submitted_elsewhere": True, "closed_jobs_final": True}, None),
    ],
)
def test_next_delay(settings: dict[str, object], expected: float | None) -> None:
    arguments: dict[str, object] = {
        "intervals": DEFAULT,
        "state": None,
        "pending_jobs": 0,
        "closed_jobs_final": True,
        "deadlines": [],
        "now": NOW,
        "failures": 0,
        "watched": True,
    } | settings

    assert (
        next_delay(**arguments) == pytest.approx(expected)
        if expected
        else next_delay(**arguments) is None
    )  # type: ignore[arg-type]


async def test_scheduler_polls_when_due_and_stops_even_mid_poll() -> None:
    polled: list[str] = []
    stuck = asyncio.Event()

    async def poll(session_id: str) -> float | None:
        polled.append(session_id)
        if session_id == "slow":
            stuck.set()
            await asyncio.Event().wait()  # a call that never answers
        return 0.01 if len(polled) < 5 else None

    scheduler = Scheduler(poll)
    scheduler.start()
    scheduler.schedule("fast", 0)
    scheduler.schedule("slow", 0)
    await asyncio.wait_for(stuck.wait(), 5)

    await asyncio.wait_for(scheduler.stop(), 5)  # must not hang on the stuck poll

    assert polled.count("fast") >= 1 and "slow" in polled
