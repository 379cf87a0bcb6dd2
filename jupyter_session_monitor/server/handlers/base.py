"""What every route of the API shares: the base handler (authentication, authorization, the
JSON body read within limits and checked against its schema in ``server/requests.py``, the error
contract ``{"error": {"kind", "message"}}``).

Every route is authenticated (``@web.authenticated``) and authorized against the
``session-monitor`` resource; jupyter_server's ``JupyterHandler.prepare`` checks the XSRF token of
mutating requests made with cookie credentials.
"""

from __future__ import annotations

import hmac
import json
from http import HTTPStatus
from typing import Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from jupyter_session_monitor.domain import receipts
from jupyter_session_monitor.domain.errors import MonitorError
from jupyter_session_monitor.policies.monitor import SessionMonitor
from jupyter_session_monitor.protocol import PROOF_HEADER, proof
from jupyter_session_monitor.server import requests

#: The largest request body the API reads (its bodies are a few hundred bytes).
MAX_BODY_BYTES = 64 * 1024
#: The deepest nesting of a request body (its bodies nest two levels).
MAX_NESTING = 32


def _nesting(raw: bytes) -> int:
    """How deep brackets nest in a JSON text, strings skipped (a cheap check before parsing)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def _not_json(constant: str) -> Any:
    """``NaN`` and ``Infinity`` are Python's, not JSON's: such a body is not JSON."""
    raise ValueError(f"{constant} is not JSON")


#: ``GET sessions/{id}?fresh=true`` waits at most this long for the service.
REFRESH_WITHIN_SECONDS = 10.0


#: The resource name checked by jupyter_server's ``Authorizer`` for every monitor route.
AUTH_RESOURCE = "session-monitor"


_KIND_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    429: "rate_limited",
    502: "service_error",
    503: "service_unavailable",
    504: "service_timeout",
}


class MonitorAPIError(web.HTTPError):
    """An error for the client, with a stable machine-readable ``kind`` and a message for people."""

    def __init__(self, status_code: int, kind: str, message: str) -> None:
        super().__init__(status_code, reason=None, log_message=None)
        self.kind = kind
        self.message = message


def _status_phrase(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"


class MonitorHandler(ExtensionHandlerMixin, APIHandler):
    """Base of every monitor route: JSON errors in the contract's shape, never a traceback."""

    auth_resource = AUTH_RESOURCE

    @property
    def monitor(self) -> SessionMonitor:
        monitor: SessionMonitor = self.settings["session_monitor"]
        return monitor

    @property
    def username(self) -> str | None:
        user = self.current_user
        return getattr(user, "username", None) or (user if isinstance(user, str) else None)

    def json_body(
        self, schema: requests.Schema | None = None, *, optional: bool = False
    ) -> dict[str, Any]:
        """The body as a JSON object that satisfies ``schema`` (one of ``requests``'s), if given
        (``optional``: an empty body is ``{}``). Size and nesting are limited, and every
        malformed body gets a JSON 4xx, never a 500."""
        raw = self.request.body or b""
        if optional and not raw.strip():
            return {} if schema is None else requests.check(schema, {})
        if len(raw) > MAX_BODY_BYTES:
            raise MonitorAPIError(
                413, "too_large", f"The request body is larger than {MAX_BODY_BYTES} bytes."
            )
        if _nesting(raw) > MAX_NESTING:
            raise MonitorAPIError(
                400, "bad_request", f"The request body nests deeper than {MAX_NESTING} levels."
            )
        try:
            body = json.loads(raw, parse_constant=_not_json)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise MonitorAPIError(
                400, "bad_request", "The request body is not valid JSON."
            ) from None
        if not isinstance(body, dict):
            raise MonitorAPIError(400, "bad_request", "The request body must be a JSON object.")
        return body if schema is None else requests.check(schema, body)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        # An answer the API meant to give (404, 409, 502 ...) is one line, not a traceback.
        if isinstance(value, MonitorError | MonitorAPIError):
            status = value.status if isinstance(value, MonitorError) else value.status_code
            self.log.info(
                "%s %s -> %s %s: %s",
                self.request.method,
                self.request.path,
                status,
                value.kind,
                value.message,
            )
            return
        super().log_exception(typ, value, tb)

    def send(self, body: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(body))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, MonitorError):
            self.set_status(exc.status)
            kind, message = exc.kind, exc.message
        elif isinstance(exc, MonitorAPIError):
            kind, message = exc.kind, exc.message
        else:
            kind = _KIND_BY_STATUS.get(status_code, "internal" if status_code >= 500 else "error")
            if isinstance(exc, web.HTTPError) and exc.log_message and status_code < 500:
                message = exc.log_message % exc.args if exc.args else exc.log_message
            elif status_code >= 500:
                message = "The session monitor hit an internal error; see the Jupyter server log."
            else:
                message = _status_phrase(status_code)
        if self.get_status() == 405 or status_code == 405:
            self.set_header("Allow", ", ".join(self._allowed()))
            kind = "method_not_allowed"
            message = (
                f"{self.request.method} is not allowed here; this route answers "
                f"{', '.join(self._allowed())}."
            )
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": {"kind": kind, "message": message}}))

    def _check_signed_by(self, kernel_id: str, what: str) -> None:
        """The body must be signed with the named kernel's connection key. The server's secret
        is in the environment of every child of the server (a terminal too); only the kernel
        itself knows its key."""
        if kernel_id not in self.kernel_manager:
            raise MonitorAPIError(404, "not_found", f"No kernel '{kernel_id}' on this server.")
        key = getattr(
            getattr(self.kernel_manager.get_kernel(kernel_id), "session", None), "key", b""
        )
        sent = self.request.headers.get(PROOF_HEADER, "")
        if not key or not hmac.compare_digest(sent, proof(key, self.request.body)):
            raise MonitorAPIError(
                403, "forbidden", f"This {what} is not signed by kernel '{kernel_id}'."
            )

    def fresh(self) -> bool:
        """``?fresh=true``: read the service before answering."""
        value = self.get_query_argument("fresh", "")
        if value not in ("", "0", "1", "true", "false"):
            raise MonitorAPIError(400, "bad_request", "'fresh' must be true or false.")
        return value in ("1", "true")

    def _allowed(self) -> list[str]:
        """The methods this route declares (the ones its class defines)."""
        return [
            method
            for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
            if getattr(type(self), method.lower())
            is not getattr(web.RequestHandler, method.lower())
        ]


def receipt_answer(view: dict[str, Any]) -> dict[str, Any]:
    data = receipts.receipt(view)
    return {
        "receipt": data,
        "text": receipts.receipt_text(data),
        "markdown": receipts.receipt_markdown(data),
    }
