"""``SessionMonitor``: the engine with its policies, the one object the server talks to.

It builds the engine (``engine/``) and the policies, hands each policy the narrow view of the
engine it needs (``TrackedSessions``) and the engine the hooks that reach the policies
(``EngineHooks``), and offers the handlers and the app what they call. Nothing it builds receives
it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from jupyter_session_monitor.domain import billing
from jupyter_session_monitor.domain.errors import MonitorError
from jupyter_session_monitor.domain.models import (
    BUDGET_SESSION,
    SOURCE_HEADLESS,
    SOURCE_KERNEL,
    KernelReport,
    TrackedSession,
)
from jupyter_session_monitor.engine.changes import ChangeFeed
from jupyter_session_monitor.engine.monitor import Engine, MonitorConfig
from jupyter_session_monitor.engine.ports import EngineHooks
from jupyter_session_monitor.policies.actions import Actions
from jupyter_session_monitor.policies.budgets import BudgetKeeper
from jupyter_session_monitor.policies.instances import InstanceWatch
from jupyter_session_monitor.policies.money import MoneyFeed
from jupyter_session_monitor.policies.orphans import OrphanWatch
from jupyter_session_monitor.registry.store import Store
from jupyter_session_monitor.service.runtime import RuntimeGateway

#: The keys of a session's body whose change moves the instances' worst case.
WORST_CASE_KEYS = ("state", "accepting_jobs", "started_at")


class _Policies(EngineHooks):
    """What the engine's events mean for each policy."""

    def __init__(
        self,
        orphans: OrphanWatch,
        budgets: BudgetKeeper,
        instances: InstanceWatch,
        money: MoneyFeed,
    ) -> None:
        self.orphans = orphans
        self.budgets = budgets
        self.instances = instances
        self.money = money

    def started(self) -> None:
        self.budgets.load()
        self.instances.start()

    async def stopping(self) -> None:
        self.orphans.stop()
        self.budgets.stop()
        self.money.stop()
        await self.instances.stop()

    def loaded(self, session: TrackedSession) -> None:
        if session.orphaned and not session.closed:
            self.orphans.arm(session)  # the grace period starts again

    def adopted(self) -> None:
        self.budgets.sync(force=True)

    def added(self, session: TrackedSession) -> None:
        self.instances.account_seen(session.account)
        self.money.worst_case_changed()

    def reclaimed(self, session_id: str) -> None:
        self.orphans.disarm(session_id)

    def kernel_missing(self, session: TrackedSession) -> None:
        self.orphans.mark(session, "its kernel is gone")

    def let_go(self, session_id: str) -> None:
        self.orphans.disarm(session_id)
        self.budgets.forget_session(session_id)
        self.money.worst_case_changed()

    def polled(self, session: TrackedSession, previous: dict[str, Any], was_closed: bool) -> None:
        self.budgets.after_poll(session)
        if session.closed and not was_closed:
            self.instances.session_closed()
        body = session.body or {}
        if any(previous.get(k) != body.get(k) for k in WORST_CASE_KEYS):
            self.money.worst_case_changed()

    def rate_changed(self) -> None:
        self.budgets.rate_changed()
        self.money.changed()

    def budget_view(self, session: TrackedSession) -> dict[str, Any] | None:
        budget = self.budgets.for_session(session)
        return None if budget is None else self.budgets.view(budget)

    def budgeted(self, session: TrackedSession) -> bool:
        return self.budgets.for_session(session) is not None


class SessionMonitor:
    def __init__(
        self,
        store: Store,
        gateway: RuntimeGateway,
        config: MonitorConfig,
        kernel_exists: Callable[[str], bool] = lambda kernel_id: True,
    ) -> None:
        engine = self.engine = Engine(store, gateway, config, kernel_exists)
        self.actions = Actions(engine, gateway, store)
        self.orphans = OrphanWatch(
            engine,
            self.actions.close,
            policy=config.orphan_policy,
            grace_seconds=config.orphan_grace_seconds,
        )
        self.budgets = BudgetKeeper(
            engine, store, self.actions, host=engine.host, root_dir=config.root_dir
        )
        self.instances = InstanceWatch(engine, gateway, config.instance_interval)
        self.money = MoneyFeed(engine, self.instances, self.budgets, engine.changes.emit)
        self.budgets.on_change = self.instances.on_change = self.money.changed
        engine.hooks = _Policies(self.orphans, self.budgets, self.instances, self.money)
        # Tracking by id (``Tracking.track``) and discovery, as the engine does them.
        self.track = engine.tracking.track
        self.discover = engine.tracking.discover
        # Listeners of the push channel's event schema (browser sockets), when the app says.
        self.push_listeners: Callable[[], int] | None = None

    # ------------------------------------------------------------------ the engine's, as is

    @property
    def sessions(self) -> Mapping[str, TrackedSession]:
        return self.engine.sessions

    @property
    def store(self) -> Store:
        return self.engine.store

    @property
    def gateway(self) -> RuntimeGateway:
        return self.engine.gateway

    @property
    def config(self) -> MonitorConfig:
        return self.engine.config

    @property
    def changes(self) -> ChangeFeed:
        return self.engine.changes

    @property
    def rate(self) -> billing.Rate:
        return self.engine.rate

    @property
    def host(self) -> str:
        return self.engine.host

    @property
    def watched(self) -> bool:
        return self.engine.watched

    @property
    def stopped(self) -> bool:
        return self.engine.stopped

    @property
    def version(self) -> int:
        return self.engine.version

    async def start(self) -> None:
        await self.engine.start()

    async def stop(self) -> None:
        await self.engine.stop()

    async def register(self, report: KernelReport) -> TrackedSession:
        """Track a session a kernel of this server (or a headless run it started) reported. A
        token is taken only from a kernel that signed its report, kept while the session is
        tracked, and given back if the registration is refused; a headless run cannot claim a
        session a kernel or a user tracks, and its process is watched for its end."""
        headless = report.run_pid is not None
        if report.token and headless:
            raise MonitorError(
                403,
                "forbidden",
                "A headless run cannot hand over a token: the server reads its sessions "
                "with its own login.",
            )
        if headless:
            existing = self.sessions.get(report.session_id)
            if existing is not None and existing.source != SOURCE_HEADLESS:
                # Only a kernel's own signed report speaks for a kernel's session: a process
                # with the secret must not move it to another notebook, nor have it flagged
                # (and, with orphan_policy "close", closed) when that process ends.
                raise MonitorError(
                    409,
                    "conflict",
                    f"Session '{report.session_id}' is already tracked ({existing.source}); a "
                    "headless run cannot claim it.",
                )
        elif report.token and report.kernel_id is None:
            raise MonitorError(
                403,
                "forbidden",
                "Only a kernel of this server can hand over a token (name its kernel_id and sign "
                "with its key).",
            )
        signed = report.kernel_id is not None
        previous = (
            self.gateway.remember_token(report.account, report.token) if report.token else None
        )
        try:
            session = await self.track(
                report.session_id,
                report.account,
                source=SOURCE_HEADLESS if headless else SOURCE_KERNEL,
                kernel_id=report.kernel_id,
                notebook_path=report.notebook_path,
                cell=report.cell if signed else None,
                job_cells=report.job_cells if signed else None,
            )
            if report.run_pid is not None and session.source == SOURCE_HEADLESS:
                self.orphans.watch_run(session.id, report.run_pid, report.runner or "")
        except Exception:
            if report.token:  # a rejected registration changes nothing
                self.gateway.restore_token(report.account, previous)
            raise
        return session

    def get(self, session_id: str) -> TrackedSession:
        return self.engine.get(session_id)

    def view(self, session: TrackedSession, *, with_timeline: bool = False) -> dict[str, Any]:
        return self.engine.view(session, with_timeline=with_timeline)

    def forget(self, session_id: str) -> None:
        self.engine.forget(session_id)

    async def refresh(self, session_id: str, within: float) -> TrackedSession:
        return await self.engine.refresh(session_id, within)

    async def job_times(self, session_id: str, newest: int | None = None) -> TrackedSession:
        return await self.engine.job_times(session_id, newest)

    def watched_now(self) -> None:
        self.engine.watched_now()

    def subscribe(self, listener: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        return self.engine.subscribe(listener)

    def set_rate(self, rate: billing.Rate, user: str | None) -> None:
        self.engine.set_rate(rate, user)

    # ------------------------------------------------------------------ with the policies

    def snapshot(self) -> dict[str, Any]:
        return {**self.engine.snapshot(), "money": self.money_view()}

    def money_view(self) -> dict[str, Any]:
        """The rate, the instances' allowance and the notebooks' budgets."""
        return self.money.view()

    def kernel_gone(self, kernel_id: str, why: str) -> None:
        self.orphans.kernel_gone(kernel_id, why)

    async def close(self, session_id: str, user: str | None) -> TrackedSession:
        return await self.actions.close(session_id, user)

    async def cancel(self, session_id: str, user: str | None) -> TrackedSession:
        return await self.actions.cancel(session_id, user)

    async def cancel_job(self, job_id: str, user: str | None) -> TrackedSession:
        return await self.actions.cancel_job(job_id, user)

    async def close_all(
        self, action: str, user: str | None, only: list[str] | None = None
    ) -> dict[str, Any]:
        """Close (gracefully) or cancel every open session this server monitors: the ones of its
        notebooks, those tracked by id and, with discovery on, the account's others. With
        ``only``, just those of them (what a confirmation listed), never one opened since."""
        targets = self._open(only)
        act = self.close if action == "close" else self.cancel

        async def one(session_id: str) -> dict[str, Any]:
            try:
                await act(session_id, user)
            except MonitorError as error:
                return {"id": session_id, "ok": False, "kind": error.kind, "message": error.message}
            return {"id": session_id, "ok": True}

        results = await asyncio.gather(*(one(i) for i in targets))
        return {
            "action": action,
            "closed": [r["id"] for r in results if r["ok"]],
            "failed": [
                {k: r[k] for k in ("id", "kind", "message")} for r in results if not r["ok"]
            ],
        }

    async def close_all_preview(
        self, only: list[str] | None, within: float
    ) -> list[dict[str, Any]]:
        """The views of what :meth:`close_all` would close, each read from the service now
        (within ``within`` seconds): a confirmation lists what is open, not what was."""
        fresh = await asyncio.gather(*(self.refresh(i, within) for i in self._open(only)))
        return [self.view(session) for session in fresh if not session.closed]

    async def views(self, session_ids: list[str], *, fresh: float | None) -> list[dict[str, Any]]:
        """The views of those of ``session_ids`` this server tracks (unknown ids are skipped),
        read from the service first when ``fresh`` gives how long that may take."""
        tracked = [i for i in session_ids if i in self.sessions]
        if fresh is not None:
            await asyncio.gather(*(self.refresh(i, fresh) for i in tracked))
        return [self.view(self.sessions[i]) for i in tracked if i in self.sessions]

    def set_kernel_budget(
        self, kernel_id: str, session_id: str, spec: dict[str, Any]
    ) -> TrackedSession:
        """A budget a kernel sets (``%%session --budget``): only on a session it opened."""
        session = self.get(session_id)
        if session.kernel_id != kernel_id:
            raise MonitorError(
                403,
                "forbidden",
                f"Session '{session.id}' was not opened by this kernel: set its budget from the "
                "sidebar.",
            )
        self.budgets.set(BUDGET_SESSION, session.id, spec, f"kernel {kernel_id}")
        return session

    def _open(self, only: list[str] | None) -> list[str]:
        """The sessions this server monitors that are open (of ``only``, when given)."""
        return [
            s.id
            for s in self.sessions.values()
            if not s.closed and not s.not_found and (only is None or s.id in only)
        ]
