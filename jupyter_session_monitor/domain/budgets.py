"""Pure facts about a budget record: which sessions it counts, and what it is (to tell whether the
registry still holds the same budget before acting on it)."""

from __future__ import annotations

from typing import Any

from jupyter_session_monitor.domain.models import BUDGET_NOTEBOOK, Budget, TrackedSession
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


def describe(budget: Budget) -> str:
    """A budget in a few words, for the audit."""
    size = f"{budget.seconds:g} s" if budget.seconds is not None else f"{budget.amount:g}"
    return f"{size}, warn at {budget.threshold:.0%}, then {budget.action}"


def acted(budget: Budget, earlier: str | None, *, done: list[str], failed: list[str]) -> str:
    """What a budget's action did, in words, from the outcome recorded ``earlier``: a notebook
    budget's sessions another server of the registry closed stay named (once each); failures
    are only this attempt's."""
    verb = "closed" if budget.action == "close" else "cancelled"
    ids = list(done)
    if budget.scope == BUDGET_NOTEBOOK and (earlier or "").startswith(f"{verb} "):
        named = (earlier or "")[len(verb) + 1 :].split(";", 1)[0]
        ids = list(dict.fromkeys([*(i.strip() for i in named.split(",")), *done]))
    parts = [f"{verb} {', '.join(ids)}"] if ids else []
    if failed:
        parts.append("could not act on " + "; ".join(failed))
    return "; ".join(parts)
