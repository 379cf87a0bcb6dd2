"""Routes under ``/emulator/`` for tests and benchmarks: the request log, faults, a state snapshot,
the service's clock; and the JSON 404 for every other path."""

from __future__ import annotations

from collections.abc import Awaitable

from .base import EmulatorHandler
from .faults import FaultError
from .model import ServiceError
from .wire import session_body

# ---------------------------------------------------------------------- admin


class RequestLogHandler(EmulatorHandler):
    def get(self) -> None:
        self.send([r.as_dict() for r in self.emulator.requests])

    def delete(self) -> None:
        self.emulator.requests.clear()
        self.set_status(204)
        self.finish()


class FaultsHandler(EmulatorHandler):
    def get(self) -> None:
        self.send([f.describe() for f in self.emulator.faults.faults])

    def post(self) -> None:
        try:
            fault = self.emulator.faults.add(self.json_body())
        except FaultError as error:
            raise ServiceError(400, str(error), 1200) from None
        self.send(fault.describe(), 201)

    def delete(self) -> None:
        self.emulator.faults.clear()
        self.set_status(204)
        self.finish()


class StateHandler(EmulatorHandler):
    """A snapshot of every session for people debugging a test (not part of the service's API)."""

    def get(self) -> None:
        now = self.emulator.now()
        self.emulator.service.advance(now)
        self.send(
            {
                "time_scale": self.emulator.config.time_scale,
                "plan": self.emulator.config.plan,
                "sessions": [session_body(s, now) for s in self.emulator.service.sessions.values()],
            }
        )


class ClockHandler(EmulatorHandler):
    """``GET``: the service's time; ``POST {"advance": seconds}``: move it forward, so a test
    reaches a TTL or a job's end at once instead of waiting for it (time never goes back)."""

    def get(self) -> None:
        self._answer()

    def post(self) -> None:
        seconds = self.json_body().get("advance")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise ServiceError(400, "'advance' must be a non-negative number of seconds.", 1200)
        self.emulator.clock_offset += float(seconds)
        self.emulator.service.advance(self.emulator.now())
        self._answer()

    def _answer(self) -> None:
        self.send(
            {
                "now": self.emulator.now().isoformat(timespec="milliseconds"),
                "advanced_seconds": self.emulator.clock_offset - self.emulator.config.clock_offset,
            }
        )


class NotFoundHandler(EmulatorHandler):
    def _missing(self) -> Awaitable[None] | None:
        raise ServiceError(404, f"No route {self.request.method} {self.request.path}.", 1404)

    get = post = put = patch = delete = _missing
