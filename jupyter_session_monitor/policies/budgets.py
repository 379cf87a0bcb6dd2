"""Budgets that act: a limit on billed seconds (or money, at the server's rate) for one session or
for the sessions of one notebook; a warning at a threshold; at 100 % notify, close or cancel.

Enforced by the server, with no browser open, and kept in the registry so that a restarted
server neither repeats nor forgets a warning or an action. The monitor acts only on what the
service reported: the billed time read at the last poll. Between polls the figure is
extrapolated only to decide when to read again (a poll is brought forward to the moment the
budget would be crossed), never to act.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from jupyter_session_monitor import metrics
from jupyter_session_monitor.domain import billing
from jupyter_session_monitor.domain.budgets import acted, counted, definition, describe, state
from jupyter_session_monitor.domain.errors import MonitorError
from jupyter_session_monitor.domain.models import (
    BUDGET_NOTEBOOK,
    BUDGET_SESSION,
    Budget,
    TrackedSession,
)
from jupyter_session_monitor.domain.notebooks import notebook_file
from jupyter_session_monitor.engine.ports import TrackedSessions
from jupyter_session_monitor.policies.actions import Actions
from jupyter_session_monitor.registry.store import Store
from jupyter_session_monitor.registry.writer import RegistryBusy

log = logging.getLogger(__name__)

#: How an outcome begins when the budget closed or cancelled nothing (by itself).
NOT_ACTED = ("nothing left", "notified")

#: Who the audit names when a budget acts.
BUDGET_USER = "session-monitor (budget)"
#: Never re-check a budget sooner than this after the last check (seconds).
MIN_CHECK_SECONDS = 0.5


def key_of(budget: Budget) -> tuple[str, str]:
    return budget.scope, budget.target


def _now() -> datetime:
    return datetime.now(UTC)


class BudgetKeeper:
    def __init__(
        self,
        engine: TrackedSessions,
        store: Store,
        actions: Actions,
        *,
        host: str,
        root_dir: str | None = None,
    ) -> None:
        self.engine = engine
        self.store = store  # the budgets, their outcomes and the audit
        self.actions = actions  # what a budget does when reached
        self.host = host  # this server's, in the registry: its sessions are not "elsewhere"
        self.root_dir = root_dir  # this server's notebook folder
        self.budgets: dict[tuple[str, str], Budget] = {}
        self._timers: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self._retries: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self._acting: set[tuple[str, str]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopped = False
        self._synced = float("-inf")
        self._elsewhere: dict[str, tuple[float, list[TrackedSession]]] = {}
        self.on_change: Callable[[], None] = lambda: None  # notebook budgets changed

    def load(self) -> None:
        for budget in self.store.load_budgets():
            self.budgets[(budget.scope, budget.target)] = budget
        self._synced = time.monotonic()

    #: Budgets are the registry's (every server of it sees the same): read again at most this
    #: often while sessions are polled, and always before acting.
    SYNC_SECONDS = 1.0

    def sync(self, *, force: bool = False) -> None:
        """Take the registry's budgets: those another server of it set, replaced or removed.
        Returns at once if they were read less than ``SYNC_SECONDS`` ago, unless ``force``, and
        while the file lags this server's own queued writes (it would undo them)."""
        recent = not force and time.monotonic() - self._synced < self.SYNC_SECONDS
        if self._stopped or recent or self.store.behind:
            return
        self._synced = time.monotonic()
        stored = {(b.scope, b.target): b for b in self.store.load_budgets()}
        for key in [k for k in self.budgets if k not in stored]:
            gone = self.budgets.pop(key)
            timer = self._timers.pop(key, None)
            if timer is not None:
                timer.cancel()
            log.info("Budget for %s '%s' was removed by another server", *key)
            self._changed(gone)
        for key, budget in stored.items():
            held = self.budgets.get(key)
            if held is not None and state(held) == state(budget):
                continue
            self.budgets[key] = budget
            self._changed(budget)
            if held is None or definition(held) != definition(budget):
                self.check(budget)

    def stop(self) -> None:
        self._stopped = True
        for timer in [*self._timers.values(), *self._retries.values()]:
            timer.cancel()
        self._timers.clear()
        self._retries.clear()

    #: While the registry cannot answer, a budget is checked again this often (no poll may come).
    RETRY_SECONDS = 1.0

    def _retry_later(self, budget: Budget) -> None:
        key = key_of(budget)
        if not self._stopped and key not in self._retries:
            loop = asyncio.get_running_loop()
            self._retries[key] = loop.call_later(self.RETRY_SECONDS, self._retry, key)

    def _retry(self, key: tuple[str, str]) -> None:
        self._retries.pop(key, None)
        if not self._stopped and (held := self.budgets.get(key)) is not None:
            self.check(held)

    # ------------------------------------------------------------------ what applies

    def for_session(self, session: TrackedSession) -> Budget | None:
        own = self.budgets.get((BUDGET_SESSION, session.id))
        return own if own is not None else self.for_notebook(session)

    def for_notebook(self, session: TrackedSession) -> Budget | None:
        """The notebook budget of the notebook file that opened ``session``, if any."""
        if not session.notebook_path:
            return None
        for budget in self.budgets.values():
            if budget.scope == BUDGET_NOTEBOOK and self._applies(budget, session):
                return budget
        return None

    def _applies(self, budget: Budget, session: TrackedSession) -> bool:
        """Whether ``session`` (of this server) was opened from the budget's notebook file: its
        path relative to this server's folder, the budget's to the folder of the server that
        set it. Another folder's ``n.ipynb`` is another notebook."""
        if not session.notebook_path:
            return False
        own = self.root_dir
        if budget.root_dir is None or own is None:
            return session.notebook_path == budget.target
        return notebook_file(own, session.notebook_path) == notebook_file(
            budget.root_dir, budget.target
        )

    def ours(self, budget: Budget) -> bool:
        """A budget this server shows: a session's, or a notebook's of this server's folder."""
        own = self.root_dir
        if budget.scope != BUDGET_NOTEBOOK or budget.root_dir is None or own is None:
            return True
        return notebook_file(own, budget.target) == notebook_file(budget.root_dir, budget.target)

    def members(self, budget: Budget) -> list[TrackedSession]:
        """The sessions of this server a budget counts, and may act on: the session, or the
        notebook's sessions that were not already closed when the budget was set."""
        if budget.scope == BUDGET_SESSION:
            session = self.engine.sessions.get(budget.target)
            return [] if session is None else [session]
        return [
            s
            for s in self.engine.sessions.values()
            if self._applies(budget, s) and counted(budget, s)
        ]

    def elsewhere(self, budget: Budget, *, fresh: bool = False) -> list[TrackedSession]:
        """The sessions of a notebook budget's notebook file that other live servers of the
        registry monitor: counted (as those servers last saved them), never acted on here.
        Read from the registry at most every ``SYNC_SECONDS`` unless ``fresh``."""
        root = budget.root_dir or self.root_dir
        if budget.scope != BUDGET_NOTEBOOK or root is None or self.store.server_id is None:
            return []
        now = time.monotonic()
        kept = self._elsewhere.get(budget.target)
        if kept is not None and not fresh and now - kept[0] < self.SYNC_SECONDS:
            return kept[1]
        found = [
            s
            for s in self.store.notebook_sessions_elsewhere(
                notebook_file(root, budget.target), self.host
            )
            if s.id not in self.engine.sessions and counted(budget, s)
        ]
        self._elsewhere[budget.target] = (now, found)
        return found

    def counted(self, budget: Budget) -> list[TrackedSession]:
        # Another server's as last read from the registry, less any this server took since.
        others = [s for s in self.elsewhere(budget) if s.id not in self.engine.sessions]
        return self.members(budget) + others

    def limit_seconds(self, budget: Budget) -> float | None:
        if budget.seconds is not None:
            return budget.seconds
        rate = self.engine.rate.per_second
        if budget.amount is None or not rate:
            return None  # a budget in money with no rate set cannot be evaluated
        return budget.amount / rate

    def spent(self, budget: Budget, now: datetime | None = None) -> float:
        """Billed seconds of the budget's sessions as every surface shows them: as of the last
        read, or extrapolated to ``now`` when given (to plan the next read, never to act)."""
        total = 0.0
        for session in self.counted(budget):
            meter = billing.billing_of(session, self.engine.deadlines(session))
            total += meter.billed if now is None else meter.at(now)[0]
        return total

    def reported(self, budget: Budget) -> float:
        """Billed seconds of the budget's sessions as the service itself reported them: what a
        budget acts on. A batch's running job counts once it is final and its usage reported;
        the monitor's own estimate of its time so far never closes or cancels anything."""
        return sum(
            billing.billing_of(s, self.engine.deadlines(s)).reported for s in self.counted(budget)
        )

    def view(self, budget: Budget) -> dict[str, Any]:
        spent = self.spent(budget)
        limit = self.limit_seconds(budget)
        rate = self.engine.rate
        view = budget.as_json()
        view.update(
            spent_seconds=round(spent, 3),
            reported_seconds=round(self.reported(budget), 3),
            spent_amount=rate.cost(spent),
            limit_seconds=None if limit is None else round(limit, 3),
            used=None if not limit else round(spent / limit, 4),
            # Sessions of the notebook that other servers of the registry monitor: counted.
            elsewhere_session_ids=sorted(
                s.id for s in self.counted(budget) if s.id not in self.engine.sessions
            ),
            currency=rate.currency,
            problem=None
            if limit is not None
            else "This budget is in money but no rate is set for this server: set the rate "
            "per billed second, or give the budget in seconds.",
        )
        return view

    def notebook_views(self) -> list[dict[str, Any]]:
        return [
            self.view(b)
            for b in self.budgets.values()
            if b.scope == BUDGET_NOTEBOOK and self.ours(b)
        ]

    # ------------------------------------------------------------------ changes

    def set(self, scope: str, target: str, spec: dict[str, Any], user: str | None) -> Budget:
        if spec["amount"] is not None and not self.engine.rate.per_second:
            raise MonitorError(
                409,
                "no_rate",
                "A budget in money needs a rate per billed second, and none is set: set one "
                "first (the sidebar's 'Set a rate…'), or give the budget in billed time.",
            )
        previous = self.budgets.get((scope, target))
        budget = Budget(
            scope=scope,
            target=target,
            action=spec["action"],
            set_at=previous.set_at if previous is not None else _now(),
            seconds=spec["seconds"],
            amount=spec["amount"],
            threshold=spec["threshold"],
            root_dir=self.root_dir if scope == BUDGET_NOTEBOOK else None,
        )
        # What was already warned of or done stays so, unless the new budget leaves room again
        # (on the figure the budget acts on: what the service reported).
        spent = self.reported(budget)
        limit = self.limit_seconds(budget) or math.inf
        if previous is not None and spent >= limit * budget.threshold:
            budget.warned_at = previous.warned_at
        if previous is not None and spent >= limit:
            budget.reached_at, budget.outcome = previous.reached_at, previous.outcome
        self.budgets[(scope, target)] = budget
        self.store.save_budget(budget)
        self.store.record_action(
            user=user,
            action="set_budget",
            target=f"{scope}:{target}",
            result="accepted",
            detail=describe(budget),
        )
        self._changed(budget)
        self.check(budget)
        for session in self.members(budget):  # read now, then at a budgeted session's pace
            if not session.closed:
                self.engine.poll_soon(session.id)
        return budget

    def remove(self, scope: str, target: str, user: str | None) -> None:
        budget = self.budgets.pop((scope, target), None)
        if budget is None:
            raise MonitorError(404, "not_found", f"There is no {scope} budget for '{target}'.")
        timer = self._timers.pop((scope, target), None)
        if timer is not None:
            timer.cancel()
        self.store.delete_budget(scope, target)
        self.store.record_action(
            user=user, action="remove_budget", target=f"{scope}:{target}", result="accepted"
        )
        self._changed(budget)

    def forget_session(self, session_id: str) -> None:
        self.budgets.pop((BUDGET_SESSION, session_id), None)
        timer = self._timers.pop((BUDGET_SESSION, session_id), None)
        if timer is not None:
            timer.cancel()

    def rate_changed(self) -> None:
        for budget in list(self.budgets.values()):
            self.check(budget)

    def _changed(self, budget: Budget) -> None:
        for session in self.members(budget):
            self.engine.changed(session.id)
        if budget.scope == BUDGET_NOTEBOOK:
            self.on_change()

    # ------------------------------------------------------------------ enforcement

    def after_poll(self, session: TrackedSession) -> None:
        """A session was read: check the budgets that count it."""
        self.sync()
        own = self.budgets.get((BUDGET_SESSION, session.id))
        if own is not None:
            self.check(own)
        notebook = self.for_notebook(session)
        if notebook is not None:
            self.check(notebook)
            self.on_change()

    def check(self, budget: Budget) -> None:
        """Warn or act on what the service reported; plan the next read for when the
        extrapolated figure would cross the next mark."""
        if self._stopped:
            return
        limit = self.limit_seconds(budget)
        if limit is None:
            return
        spent = self.reported(budget)
        now = _now()
        if budget.warned_at is None and spent >= limit * budget.threshold:
            if not self._record(budget, warned_at=now):
                return
            log.info(
                "Budget for %s '%s': %.0f%% used (%.1f of %.1f billed seconds)",
                budget.scope,
                budget.target,
                100 * spent / limit,
                spent,
                limit,
            )
            self._changed(budget)
        if spent >= limit:
            if budget.reached_at is None:
                outcome = NOT_ACTED[1] if budget.action == "notify" else None
                if not self._record(budget, reached_at=now, outcome=outcome):
                    return
                log.info("Budget for %s '%s' is used up", budget.scope, budget.target)
                self._changed(budget)
            if budget.action != "notify":
                self._enforce(budget)
            return
        self._plan(budget, spent, limit)

    def _plan(self, budget: Budget, spent: float, limit: float) -> None:
        """Read the accruing sessions again when the budget would cross its next mark."""
        key = (budget.scope, budget.target)
        old = self._timers.pop(key, None)
        if old is not None:
            old.cancel()
        accruing = [
            s
            for s in self.members(budget)
            if billing.billing_of(s, self.engine.deadlines(s)).accruing
        ]
        if not accruing:
            return
        mark = limit * budget.threshold if budget.warned_at is None else limit
        # Each accruing session adds one billed second per second; the last read is as of its
        # poll, so the crossing is measured from the extrapolated figure now.
        now = _now()
        extrapolated = self.spent(budget, now)
        if extrapolated >= mark:
            # Past the mark by extrapolation only: the service's figure is what counts, and the
            # regular polls read it; bringing reads forward again and again would not make the
            # service report sooner.
            return
        delay = max(MIN_CHECK_SECONDS, (mark - extrapolated) / len(accruing))
        loop = asyncio.get_running_loop()
        ids = [s.id for s in accruing]
        self._timers[key] = loop.call_later(delay, lambda: self._read_again(ids))

    def _read_again(self, session_ids: list[str]) -> None:
        for session_id in session_ids:
            if session_id in self.engine.sessions:
                self.engine.poll_soon(session_id)

    def _record(self, budget: Budget, **changes: Any) -> bool:
        """Save what ``budget`` warns of or does (``changes`` to its state), and make them, only
        if the registry still holds it. False when another server removed or replaced it
        meanwhile (the registry's budgets are taken: nothing more is done for it), or when the
        registry cannot say now (locked elsewhere: a later check tries again)."""
        try:
            held = self.store.claim_budget_state(dataclasses.replace(budget, **changes))
        except RegistryBusy:
            log.info("Budget for %s '%s' waits: the registry is locked elsewhere", *key_of(budget))
            self._retry_later(budget)
            return False
        if held:
            for name, value in changes.items():
                setattr(budget, name, value)
            return True
        log.info("Budget for %s '%s' changed on another server: not acting on it", *key_of(budget))
        self.sync(force=True)
        return False

    def _enforce(self, budget: Budget) -> None:
        key = (budget.scope, budget.target)
        if key in self._acting:
            return
        # Irreversible: only on a budget the registry still holds (it cannot say while behind).
        if self.store.behind:
            self._retry_later(budget)
            return
        self.sync(force=True)
        held = self.budgets.get(key)
        if held is None or definition(held) != definition(budget):
            return
        # A "cancel" budget also cancels a session the user closed gracefully: its queued jobs
        # still run, and bill, until it drains.
        done_already = {"close", "cancel"} if budget.action == "close" else {"cancel"}
        targets = [
            s
            for s in self.members(budget)
            if not s.closed and not s.not_found and s.last_action not in done_already
        ]
        if not targets:
            if budget.outcome is None:  # say so, rather than nothing for ever
                outcome = f"{NOT_ACTED[0]} to {budget.action}: already closed"
                if self._record(budget, outcome=outcome):
                    self._changed(budget)
            return
        self._acting.add(key)
        task = asyncio.ensure_future(self._act(budget, targets))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _act(self, budget: Budget, targets: list[TrackedSession]) -> None:
        key = (budget.scope, budget.target)
        action = self.actions.close if budget.action == "close" else None
        if budget.action == "cancel":
            action = self.actions.cancel
        assert action is not None
        done, failed = [], []
        try:
            for session in targets:
                try:
                    await action(session.id, BUDGET_USER)
                    done.append(session.id)
                    metrics.BUDGET_ACTIONS.labels(budget.action, "ok").inc()
                except MonitorError as error:
                    failed.append(f"{session.id}: {error.message}")
                    metrics.BUDGET_ACTIONS.labels(budget.action, "failed").inc()
        finally:
            self._acting.discard(key)
        if not self._stopped:
            self.sync(force=True)  # what another server did meanwhile, to add to, not overwrite
        held = self.budgets.get(key)
        if self._stopped or held is None or definition(held) != definition(budget):
            return
        budget = held
        # Made from the registry's own text when the write happens, too (another server may
        # have recorded its own sessions of the notebook meanwhile).
        outcome = functools.partial(acted, budget, done=done, failed=failed)
        budget.outcome = outcome(budget.outcome)
        self.store.update_budget_outcome(budget, outcome)
        log.info("Budget for %s '%s': %s", budget.scope, budget.target, budget.outcome)
        self._changed(budget)
