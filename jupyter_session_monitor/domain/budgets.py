"""Pure facts about a budget record: which sessions it counts, and what it is (to tell whether the
registry still holds the same budget before acting on it)."""

from __future__ import annotations

from typing import Any

from jupyter_session_monitor.domain.models import Budget, TrackedSession
from jupyter_session_monitor.protocol import derive


def counted(budget: Budget, session: TrackedSession) -> bool:
    """A notebook budget counts its notebook's sessions not already closed when it was set."""
    closed_at = derive.parse_time((session.body or {}).get("closed_at"))
    return closed_at is None or closed_at >= budget.set_at


def definition(budget: Budget) -> tuple[Any, ...]:
    """What a budget is (as the registry stores it), without what it warned of or did."""
    return (
        budget.scope,
        budget.target,
        budget.action,
        derive.iso(budget.set_at),
        budget.seconds,
        budget.amount,
        budget.threshold,
        budget.root_dir,
    )


def state(budget: Budget) -> tuple[Any, ...]:
    return (
        *definition(budget),
        derive.iso(budget.warned_at),
        derive.iso(budget.reached_at),
        budget.outcome,
    )
