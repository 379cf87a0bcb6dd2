"""Routes under ``/emulator/`` for tests and benchmarks: the request log, faults, a state snapshot;
and the JSON 404 for every other path."""

from __future__ import annotations

from collections.abc import Awaitable

from .base import EmulatorHandler, _now
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
        now = _now()
        self.emulator.service.advance(now)
        self.send(
            {
                "time_scale": self.emulator.config.time_scale,
                "plan": self.emulator.config.plan,
                "sessions": [session_body(s, now) for s in self.emulator.service.sessions.values()],
            }
        )


class NotFoundHandler(EmulatorHandler):
    def _missing(self) -> Awaitable[None] | None:
        raise ServiceError(404, f"No route {self.request.method} {self.request.path}.", 1404)

    get = post = put = patch = delete = _missing
