"""What every emulator route shares: the service's constants, faults applied before a request is
handled, JSON bodies, and errors in the service's own shapes (never a traceback)."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tornado import httputil, web

from .model import Service, ServiceError

if TYPE_CHECKING:
    from .server import Emulator

RUNTIME_PREFIX = "/experimental/api/v1"
CATALOG_PREFIX = "/catalog/api/v1"
API_KEY = "emulator-api-key"
ACCOUNT_ID = "emulator0account"
USER_ID = "IBMid-emulator-user"
MAX_BODY_BYTES = 64 * 1024 * 1024
TOKEN_LIFETIME = 3600
PLANS = {
    "premium": {"id": "emulator-premium-plan", "display": "Premium", "pricing": "paid"},
    "open": {"id": "emulator-open-plan", "display": "Open", "pricing": "free"},
}


def utc_now() -> datetime:
    return datetime.now(UTC)


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


class EmulatorHandler(web.RequestHandler):
    """Faults, JSON bodies and the service's error shapes, for every route."""

    emulator: Emulator
    _lost_answer: int | None = None  # a status fault "after": the work is done, this is answered

    def initialize(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.set_default_headers()  # tornado sets the headers before initialize() runs

    def check_xsrf_cookie(self) -> None:  # an API for programs, as the real service
        return None

    def set_default_headers(self) -> None:
        # The ``Date`` header follows the service's clock (``--clock-offset``), as a real
        # server's follows its own. A test's advance (POST /emulator/clock) is time passing for
        # the service's rules only, not a clock set wrong: the header does not follow it.
        emulator = getattr(self, "emulator", None)
        if emulator is not None:
            self.set_header("Date", httputil.format_timestamp(emulator.wall_clock()))

    async def prepare(self) -> None:
        length = int(self.request.headers.get("Content-Length", "0") or 0)
        if length > MAX_BODY_BYTES:
            raise ServiceError(413, f"The request body exceeds {MAX_BODY_BYTES} bytes.", 1502)
        if self.request.path.startswith("/emulator/"):
            return
        fault = self.emulator.faults.match(self.request.method or "", self.request.path)
        if fault is None:
            return
        if fault.kind == "latency":
            await asyncio.sleep(fault.delay())
        elif fault.kind == "hang":
            await self.emulator.faults.hang()
        elif fault.kind == "token_expiry":
            raise ServiceError(401, "Invalid credentials: the access token has expired.", 1201)
        elif fault.kind == "status" and fault.after:
            self._lost_answer = fault.status  # as a proxy failing after the service acted
        elif fault.kind == "status":
            if fault.retry_after is not None:
                self.set_header("Retry-After", str(fault.retry_after))
            raise ServiceError(
                fault.status, f"Injected fault: HTTP {fault.status}.", 1000 + fault.status
            )

    def finish(self, chunk: Any = None) -> Any:
        status, self._lost_answer = self._lost_answer, None
        if status is not None and self.get_status() < 400:
            self.clear()
            self.set_status(status)
            self.set_header("Content-Type", "application/json")
            body = {
                "errors": [{"code": 1000 + status, "message": f"Injected fault: HTTP {status}."}]
            }
            return super().finish(json.dumps(body))
        return super().finish(chunk)

    def json_body(self) -> dict[str, Any]:
        try:
            body = json.loads(self.request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise ServiceError(400, "The request body is not valid JSON.", 1200) from None
        if not isinstance(body, dict):
            raise ServiceError(400, "The request body must be a JSON object.", 1200)
        return body

    def send(self, body: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    def _handle_request_exception(self, e: BaseException) -> None:
        if isinstance(e, ServiceError):
            if self._finished:
                return
            self.clear_header("Content-Type")
            self.send(
                {
                    "errors": [
                        {
                            "code": e.code or 1000 + e.status,
                            "message": e.message,
                            "solution": "",
                            "more_info": "https://cloud.ibm.com/apidocs/quantum-computing#error-handling",
                        }
                    ],
                    "trace": secrets.token_hex(10),
                },
                e.status,
            )
            return
        super()._handle_request_exception(e)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(
            json.dumps(
                {
                    "errors": [
                        {"code": 1000 + status_code, "message": self._reason, "solution": ""}
                    ],
                    "trace": secrets.token_hex(10),
                }
            )
        )


class RuntimeHandler(EmulatorHandler):
    """Routes of the runtime API: a valid bearer token is required, as on the real service."""

    async def prepare(self) -> None:
        await super().prepare()
        auth = self.request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip()
        if not auth.startswith("Bearer ") or not self.emulator.token_valid(token):
            raise ServiceError(401, "Invalid credentials.", 1201)

    @property
    def service(self) -> Service:
        return self.emulator.service
