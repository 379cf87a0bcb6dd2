"""The "money" change pushed to the pages: the rate, the instances' allowance and the notebooks'
budgets, at most every half second, and at once when an instance's risk changes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from jupyter_session_monitor.engine.ports import TrackedSessions
from jupyter_session_monitor.policies.budgets import BudgetKeeper
from jupyter_session_monitor.policies.instances import InstanceWatch

#: Seconds within which changes of the money figures are pushed as one.
FLUSH_SECONDS = 0.5


def _risks(money: dict[str, Any]) -> dict[str, bool]:
    """Whether each instance's allowance is at risk, as pushed to the pages."""
    return {str(v.get("instance")): bool(v.get("at_risk")) for v in money.get("instances") or []}


class MoneyFeed:
    def __init__(
        self,
        engine: TrackedSessions,
        instances: InstanceWatch,
        budgets: BudgetKeeper,
        emit: Callable[[dict[str, Any]], None],
    ) -> None:
        self.engine = engine
        self.instances = instances
        self.budgets = budgets
        self._emit = emit  # the engine's change feed
        self._flush: asyncio.TimerHandle | None = None
        self._risk_pushed: dict[str, bool] = {}

    def view(self) -> dict[str, Any]:
        """The rate, the instances' allowance and the notebooks' budgets."""
        return {
            "rate": self.engine.rate.as_json(),
            "instances": self.instances.views(),
            "notebook_budgets": self.budgets.notebook_views(),
        }

    def changed(self) -> None:
        """Instance readings or notebook budgets changed: one "money" change, at most every
        half second."""
        if self._flush is None and not self.engine.stopped:
            loop = asyncio.get_running_loop()
            self._flush = loop.call_later(FLUSH_SECONDS, self._push)

    def _push(self) -> None:
        self._flush = None
        money = self.view()
        self._risk_pushed = _risks(money)
        self._emit(
            {
                "kind": "money",
                "session_id": "",
                "session": None,
                "polled": None,
                "money": money,
            }
        )

    def worst_case_changed(self) -> None:
        """A session opened, closed, started, stopped accepting jobs or was forgotten: the
        instances' worst case moved. Their risk is recomputed from the last reading at once, and
        pushed if it changed (not at the next reading, minutes later)."""
        if self.engine.stopped or not self.instances.readings:
            return
        if _risks({"instances": self.instances.views()}) != self._risk_pushed:
            self.changed()

    def stop(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
