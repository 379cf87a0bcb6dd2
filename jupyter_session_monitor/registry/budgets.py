"""The budgets' rows of the registry (a part of ``Store``): set, claimed before a budget warns or
acts, their outcome, removed, read."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from jupyter_session_monitor.domain.models import Budget
from jupyter_session_monitor.protocol.derive import iso, parse_time

from .writer import Writer

#: One budget, by its whole definition: another server may have replaced it with another.
_THIS_BUDGET = (
    "scope=? AND target=? AND action=? AND set_at=? AND seconds IS ? AND amount IS ? "
    "AND threshold=? AND root_dir IS ?"
)
_SET_STATE = f"UPDATE budgets SET warned_at=?, reached_at=?, outcome=? WHERE {_THIS_BUDGET}"  # noqa: S608 (ours)


def _definition(budget: Budget) -> tuple[Any, ...]:
    return (
        budget.scope,
        budget.target,
        budget.action,
        iso(budget.set_at),
        budget.seconds,
        budget.amount,
        budget.threshold,
        budget.root_dir,
    )


class BudgetRows:
    """Needs the store's loop connection and its writer (``Store`` gives them)."""

    _db: sqlite3.Connection
    _writes: Writer

    def save_budget(self, budget: Budget) -> None:
        row = (
            *_definition(budget)[:7],
            iso(budget.warned_at),
            iso(budget.reached_at),
            budget.outcome,
            budget.root_dir,
        )
        self._writes.write(
            f"the budget of {budget.scope} {budget.target}",
            lambda db: db.execute(
                "INSERT OR REPLACE INTO budgets (scope, target, action, set_at, seconds, amount, "
                "threshold, warned_at, reached_at, outcome, root_dir) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            ),
        )

    def claim_budget_state(self, budget: Budget) -> bool:
        """Record what a budget is about to warn of or do, only if the registry still holds that
        very budget (another server may have removed or replaced it): False if it does not;
        ``RegistryBusy`` if the registry cannot say now (then nothing may be done yet)."""
        state = (iso(budget.warned_at), iso(budget.reached_at), budget.outcome)
        return self._writes.answer(
            f"the claim of the budget of {budget.scope} {budget.target}",
            lambda db: db.execute(_SET_STATE, (*state, *_definition(budget))).rowcount > 0,
        )

    def update_budget_outcome(self, budget: Budget, outcome: Callable[[str | None], str]) -> None:
        """Record what a budget did (after the claim), written now or queued: ``outcome`` makes
        the text from the one the registry holds when the write happens (another server of it
        may have recorded what it did meanwhile, while this one's view of the file lagged)."""
        marks, keys = (iso(budget.warned_at), iso(budget.reached_at)), _definition(budget)

        def write(db: sqlite3.Connection) -> None:
            row = db.execute(f"SELECT outcome FROM budgets WHERE {_THIS_BUDGET}", keys).fetchone()  # noqa: S608 (ours)
            if row is not None:
                db.execute(_SET_STATE, (*marks, outcome(row["outcome"]), *keys))

        self._writes.write(f"the outcome of the budget of {budget.target}", write)

    def delete_budget(self, scope: str, target: str) -> None:
        self._writes.write(
            f"the removal of the budget of {scope} {target}",
            lambda db: db.execute(
                "DELETE FROM budgets WHERE scope=? AND target=?", (scope, target)
            ),
        )

    def load_budgets(self) -> list[Budget]:
        return [
            Budget(
                scope=row["scope"],
                target=row["target"],
                action=row["action"],
                set_at=parse_time(row["set_at"]) or datetime.now(UTC),
                seconds=row["seconds"],
                amount=row["amount"],
                threshold=row["threshold"],
                warned_at=parse_time(row["warned_at"]),
                reached_at=parse_time(row["reached_at"]),
                outcome=row["outcome"],
                root_dir=row["root_dir"],
            )
            for row in self._db.execute("SELECT * FROM budgets ORDER BY set_at")
        ]
