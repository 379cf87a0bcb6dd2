"""The instance's allowance: what ``service.usage()`` reports (consumed, limit, remaining, period)
for each account with sessions here, read slowly (minutes) and soon after a session closes, and
whether the open sessions could use up what remains before their max TTL.

Between readings the remaining time is projected: what the account's sessions were billed since
the reading (their own meters) is taken off. The projection is labelled as such with the time of
the reading.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from jupyter_session_monitor.domain import billing
from jupyter_session_monitor.domain.models import AccountRef
from jupyter_session_monitor.engine.ports import TrackedSessions
from jupyter_session_monitor.protocol import derive
from jupyter_session_monitor.service.runtime import RuntimeCallError, RuntimeGateway

log = logging.getLogger(__name__)

#: Seconds after a session closes before the instance is read (closes come in bursts).
AFTER_CLOSE_SECONDS = 2.0


def _now() -> datetime:
    return datetime.now(UTC)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


class InstanceWatch:
    def __init__(self, engine: TrackedSessions, gateway: RuntimeGateway, interval: float) -> None:
        self.engine = engine
        self.gateway = gateway
        self.interval = interval
        self.readings: dict[str, dict[str, Any]] = {}  # account key -> the last reading
        self._billed_at_reading: dict[str, dict[str, float]] = {}  # account -> session -> s
        self._accounts: dict[str, AccountRef] = {}
        # Account key -> the instance (its CRN) it was read to be. Accounts named
        # differently (a kernel's explicit CRN, the server's default login) may be one instance:
        # one allowance, which every session billed to it uses.
        self._instance_of: dict[str, str] = {}
        self._task: asyncio.Task[None] | None = None
        self._soon: asyncio.TimerHandle | None = None
        self._reading: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.on_change: Callable[[], None] = lambda: None

    def start(self) -> None:
        if self.interval > 0:
            self._task = asyncio.create_task(self._forever())

    async def stop(self) -> None:
        if self._soon is not None:
            self._soon.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    def in_use(self) -> dict[str, AccountRef]:
        """Accounts with a session here that is open, or that was read before."""
        accounts = {
            s.account.key(): s.account
            for s in self.engine.sessions.values()
            if not s.closed and not s.not_found
        }
        for key in self.readings:
            if key in self._accounts:
                accounts.setdefault(key, self._accounts[key])
        return accounts

    async def _forever(self) -> None:
        while True:
            try:
                await self.read_all()
            except Exception:  # a bug must not end the readings silently
                log.exception("Reading the instances' usage failed unexpectedly")
            await asyncio.sleep(self.interval)

    def account_seen(self, account: AccountRef) -> None:
        """A session of an account not read yet: read its allowance shortly, not in minutes."""
        if account.key() not in self.readings:
            self.session_closed()

    def session_closed(self) -> None:
        """A session closed: what remains changed; read again shortly (closes come in bursts)."""
        if self._soon is None and self.interval > 0:
            loop = asyncio.get_running_loop()
            self._soon = loop.call_later(AFTER_CLOSE_SECONDS, self._read_soon)

    def _read_soon(self) -> None:
        self._soon = None
        task = asyncio.ensure_future(self.read_all())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def read_all(self) -> None:
        accounts = self.in_use()
        if accounts:
            await asyncio.gather(*(self.read(a) for a in accounts.values()))

    async def read(self, account: AccountRef) -> dict[str, Any]:
        key = account.key()
        self._accounts[key] = account
        if key in self._reading:
            return self.readings.get(key, {})
        self._reading.add(key)
        try:
            usage = await self.gateway.instance_usage(account)
        except RuntimeCallError as error:
            reading = dict(self.readings.get(key) or self._empty(account))
            reading["error"] = {"kind": error.kind, "message": error.message}
            self.readings[key] = reading
            self.on_change()
            return reading
        finally:
            self._reading.discard(key)
        now = _now()
        period = usage.get("usage_period") or {}
        limit = _number(usage.get("usage_limit_seconds")) or _number(
            usage.get("usage_allocation_seconds")
        )
        consumed = _number(usage.get("usage_consumed_seconds"))
        remaining = _number(usage.get("usage_remaining_seconds"))
        if remaining is None and limit is not None and consumed is not None:
            remaining = max(0.0, limit - consumed)
        self.readings[key] = {
            "account": account.as_json(),
            "instance": usage.get("instance_id") or account.instance,
            "consumed_seconds": consumed,
            "limit_seconds": limit,
            "remaining_seconds": remaining,
            "limit_reached": bool(usage.get("usage_limit_reached")),
            "period_start": period.get("start_time"),
            "period_end": period.get("end_time"),
            "as_of": derive.iso(now),
            "error": None,
        }
        instance = self.readings[key]["instance"]
        if instance:
            self._instance_of[key] = str(instance)
        group = self._group(key)
        self._billed_at_reading[key] = {
            s.id: self._meter(s).at(now)[0]
            for s in self.engine.sessions.values()
            if self._group(s.account.key()) == group
        }
        self.on_change()
        return self.readings[key]

    @staticmethod
    def _empty(account: AccountRef) -> dict[str, Any]:
        return {
            "account": account.as_json(),
            "instance": account.instance,
            "consumed_seconds": None,
            "limit_seconds": None,
            "remaining_seconds": None,
            "limit_reached": False,
            "period_start": None,
            "period_end": None,
            "as_of": None,
            "error": None,
        }

    def _meter(self, session: Any) -> billing.Billing:
        return billing.billing_of(session, self.engine.deadlines(session))

    def _group(self, key: str) -> str:
        """The instance an account key was read to be; the key itself until it was read."""
        return self._instance_of.get(key) or f"account:{key}"

    def views(self) -> list[dict[str, Any]]:
        """One view per instance (its latest reading, whichever account read it), with the
        projection to now and the worst case of every open session billed to that instance."""
        now = _now()
        latest: dict[str, str] = {}
        for key, reading in self.readings.items():
            group = self._group(key)
            other = latest.get(group)
            if other is None or (reading.get("as_of") or "") > (
                self.readings[other].get("as_of") or ""
            ):
                latest[group] = key
        result = []
        for group, key in latest.items():
            reading = self.readings[key]
            view = dict(reading)
            since = 0.0
            worst = 0.0
            at_reading = self._billed_at_reading.setdefault(key, {})
            for session in self.engine.sessions.values():
                if self._group(session.account.key()) != group:
                    continue
                meter = self._meter(session)
                billed_now = meter.at(now)[0]
                # A session tracked after the reading: what it was billed before is in the
                # service's figure already (or billed since, for less than a reading interval);
                # it counts from now on, not its whole time (a false "at risk" for minutes).
                baseline = at_reading.setdefault(session.id, billed_now)
                since += max(0.0, billed_now - baseline)
                if not session.closed and not session.not_found:
                    worst += max(0.0, meter.worst_case - billed_now)
            remaining = reading.get("remaining_seconds")
            projected = None if remaining is None else max(0.0, remaining - since)
            view["projected_remaining_seconds"] = None if projected is None else round(projected, 3)
            view["open_worst_case_seconds"] = round(worst, 3)
            view["at_risk"] = projected is not None and worst > projected
            result.append(view)
        return result
