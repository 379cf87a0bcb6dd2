"""Injected faults and the request log: what tests and benchmarks use to make the service misbehave
and to count what a client asked of it."""

from __future__ import annotations

import asyncio
import itertools
import random
import re
from dataclasses import dataclass, field
from typing import Any

FAULT_KINDS = ("latency", "hang", "status", "token_expiry")


class FaultError(ValueError):
    """A fault description that cannot be used; the message says which field is wrong."""


@dataclass
class Fault:
    id: int
    kind: str
    route: re.Pattern[str]
    methods: frozenset[str]
    seconds: float = 0.0
    max_seconds: float | None = None  # latency: uniform between seconds and max_seconds
    status: int = 500
    retry_after: int | None = None
    remaining: int | None = None  # None: until cleared
    after: bool = False  # status: the request is carried out, then its answer is replaced

    def delay(self) -> float:
        if self.max_seconds is None or self.max_seconds <= self.seconds:
            return self.seconds
        return random.uniform(self.seconds, self.max_seconds)  # noqa: S311 (not cryptography)

    def matches(self, method: str, path: str) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        return (not self.methods or method in self.methods) and bool(self.route.search(path))

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "route": self.route.pattern,
            "methods": sorted(self.methods),
            "seconds": self.seconds,
            "max_seconds": self.max_seconds,
            "status": self.status,
            "retry_after": self.retry_after,
            "remaining": self.remaining,
            "after": self.after,
        }


def _number(spec: dict[str, Any], name: str, default: float | None) -> float | None:
    value = spec.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise FaultError(f"'{name}' must be a non-negative number")
    return float(value)


@dataclass
class FaultBook:
    faults: list[Fault] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _released: asyncio.Event | None = None

    def add(self, spec: dict[str, Any]) -> Fault:
        kind = spec.get("kind")
        if kind not in FAULT_KINDS:
            raise FaultError(f"'kind' must be one of {', '.join(FAULT_KINDS)}")
        route = spec.get("route", ".*")
        if not isinstance(route, str):
            raise FaultError("'route' must be a regular expression string")
        try:
            pattern = re.compile(route)
        except re.error as error:
            raise FaultError(f"'route' is not a valid regular expression: {error}") from error
        methods = spec.get("methods", [])
        if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
            raise FaultError("'methods' must be a list of HTTP method names")
        status = spec.get("status", 500 if kind == "status" else 401)
        if not isinstance(status, int) or not 400 <= status <= 599:
            raise FaultError("'status' must be an HTTP error status (400-599)")
        retry_after = spec.get("retry_after")
        if retry_after is not None and (
            isinstance(retry_after, bool) or not isinstance(retry_after, int) or retry_after < 0
        ):
            raise FaultError("'retry_after' must be whole seconds (a non-negative integer)")
        count = spec.get("count")
        if count is not None and (not isinstance(count, int) or count < 1):
            raise FaultError("'count' must be a positive integer")
        after = spec.get("after", False)
        if not isinstance(after, bool) or (after and kind != "status"):
            raise FaultError("'after' must be true or false, and only for a 'status' fault")
        fault = Fault(
            id=next(self._ids),
            kind=kind,
            route=pattern,
            methods=frozenset(m.upper() for m in methods),
            seconds=_number(spec, "seconds", 0.0) or 0.0,
            max_seconds=_number(spec, "max_seconds", None),
            status=401 if kind == "token_expiry" else status,
            retry_after=retry_after,
            remaining=count,
            after=after,
        )
        self.faults.append(fault)
        return fault

    def match(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.matches(method, path):
                if fault.remaining is not None:
                    fault.remaining -= 1
                return fault
        return None

    def clear(self) -> None:
        self.faults.clear()
        if self._released is not None:
            self._released.set()  # hung requests go on
            self._released = None

    async def hang(self) -> None:
        """Wait until the faults are cleared (a service that stopped answering)."""
        if self._released is None:
            self._released = asyncio.Event()
        await self._released.wait()
