"""HTTP handlers: parse, validate, authorize, call the domain, serialize. No business logic here.

Every route is authenticated (``@web.authenticated``) and authorized against the
``session-monitor`` resource; jupyter_server's ``JupyterHandler.prepare`` checks the XSRF token of
mutating requests made with cookie credentials. Errors always take the contract's shape
``{"error": {"kind", "message"}}``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import math
import os
import re
from http import HTTPStatus
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from jupyter_server.auth.decorator import allow_unauthenticated, authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from jupyter_session_monitor._version import __version__
from jupyter_session_monitor.domain import receipts
from jupyter_session_monitor.domain.billing import Rate
from jupyter_session_monitor.domain.errors import MonitorError
from jupyter_session_monitor.domain.models import (
    BUDGET_NOTEBOOK,
    BUDGET_SESSION,
    SOURCE_HEADLESS,
    SOURCE_KERNEL,
    AccountRef,
)
from jupyter_session_monitor.policies.budgets import parse_budget
from jupyter_session_monitor.policies.monitor import SessionMonitor
from jupyter_session_monitor.protocol import API_PREFIX, PROOF_HEADER, SECRET_HEADER, derive, proof

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

    def json_body(self, *, optional: bool = False) -> dict[str, Any]:
        """The body as a JSON object (``optional``: an empty body is ``{}``). Size and nesting
        are limited, and every malformed body gets a JSON 4xx, never a 500."""
        raw = self.request.body or b""
        if optional and not raw.strip():
            return {}
        if len(raw) > MAX_BODY_BYTES:
            raise MonitorAPIError(
                413, "too_large", f"The request body is larger than {MAX_BODY_BYTES} bytes."
            )
        if _nesting(raw) > MAX_NESTING:
            raise MonitorAPIError(
                400, "bad_request", f"The request body nests deeper than {MAX_NESTING} levels."
            )
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise MonitorAPIError(
                400, "bad_request", "The request body is not valid JSON."
            ) from None
        if not isinstance(body, dict):
            raise MonitorAPIError(400, "bad_request", "The request body must be a JSON object.")
        return body

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


def _distribution_version(name: str) -> str | None:
    # Metadata only: importing qiskit_ibm_runtime here would slow down JupyterLab's start-up.
    try:
        return version(name)
    except PackageNotFoundError:
        return None


class VersionHandler(MonitorHandler):
    """``GET version``: what is installed, so users and bug reports can tell."""

    @web.authenticated
    @authorized
    def get(self) -> None:
        self.finish(
            {
                "version": __version__,
                "qiskit_ibm_runtime_version": _distribution_version("qiskit-ibm-runtime"),
            }
        )


_SESSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")


def _session_id(value: Any, name: str = "session_id") -> str:
    if not isinstance(value, str) or not _SESSION_ID.fullmatch(value):
        raise MonitorAPIError(
            400,
            "bad_request",
            f"'{name}' must be a Qiskit Runtime id: 1-128 letters, digits, '-', '_', '.' or ':'.",
        )
    return value


class TrackedSessionsHandler(MonitorHandler):
    """``GET sessions``: every tracked session; ``POST sessions``: track one by id."""

    @web.authenticated
    @authorized
    def get(self) -> None:
        self.monitor.watched_now()
        self.send(self.monitor.snapshot())

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body()
        unknown = set(body) - {"session_id", "account"}
        if unknown:
            raise MonitorAPIError(
                400, "bad_request", f"Unknown field(s): {', '.join(sorted(unknown))}."
            )
        session_id = _session_id(body.get("session_id"))
        account = body.get("account")
        if account is not None and (not isinstance(account, str) or not account.strip()):
            raise MonitorAPIError(
                400, "bad_request", "'account' must be a saved account's name, or null."
            )
        session = await self.monitor.track(session_id, AccountRef(name=account))
        self.send(self.monitor.view(session), 201)


class TrackedSessionHandler(MonitorHandler):
    """``GET sessions/{id}``: one session with its jobs and timeline; ``DELETE``: stop tracking."""

    @web.authenticated
    @authorized
    async def get(self, session_id: str) -> None:
        self.monitor.watched_now()
        if self.fresh():
            # A confirmation is about to be shown: read the service now, not at the next poll.
            session = await self.monitor.refresh(session_id, within=REFRESH_WITHIN_SECONDS)
        else:
            session = self.monitor.get(session_id)
        self.send(self.monitor.view(session, with_timeline=True))

    @web.authenticated
    @authorized
    def delete(self, session_id: str) -> None:
        self.monitor.forget(session_id)
        self.set_status(204)
        self.finish()


class ViewerHandler(MonitorHandler):
    """``POST viewers``: a page that shows sessions is visible. Its push channel rarely makes a
    REST call, so pages say so every half minute while visible; polls keep their full pace while
    anybody looks, and polls spaced for "nobody watching" are brought forward."""

    @web.authenticated
    @authorized
    def post(self) -> None:
        self.monitor.watched_now()
        self.set_status(204)
        self.finish()


class SessionActionHandler(MonitorHandler):
    """``POST sessions/{id}/close`` and ``.../cancel``: act through the server, never the kernel."""

    @web.authenticated
    @authorized
    async def post(self, session_id: str, action: str) -> None:
        self.json_body(optional=True)  # nothing is read from it, but it must be an object
        if action == "close":
            session = await self.monitor.close(session_id, self.username)
        else:
            session = await self.monitor.cancel(session_id, self.username)
        self.send(self.monitor.view(session), 202)


class JobCancelHandler(MonitorHandler):
    """``POST jobs/{job_id}/cancel``: cancel one queued or running job; 409 if it is final."""

    @web.authenticated
    @authorized
    async def post(self, job_id: str) -> None:
        self.json_body(optional=True)
        session = await self.monitor.cancel_job(job_id, self.username)
        self.send({"job_id": job_id, "session": self.monitor.view(session)}, 202)


def _optional_text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise MonitorAPIError(400, "bad_request", f"'{key}' must be a string or null.")
    return value


class KernelHandler(MonitorHandler):
    """Base of the routes only this server's kernels call: the per-server secret in a header
    browsers never send (so no XSRF check), and each body signed with the named kernel's key."""

    def check_xsrf_cookie(self) -> None:
        return None

    def check_secret(self, what: str) -> None:
        expected = self.settings["session_monitor_kernel_secret"]
        if not hmac.compare_digest(self.request.headers.get(SECRET_HEADER, ""), expected):
            raise MonitorAPIError(
                403, "forbidden", f"Only kernels started by this Jupyter server can {what}."
            )


def _headless_run(value: Any) -> dict[str, Any] | None:
    """A registration's ``run``: the notebook a headless runner executes, and its kernel's pid."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise MonitorAPIError(400, "bad_request", "'run' must be an object.")
    notebook, runner, pid = value.get("notebook"), value.get("runner"), value.get("pid")
    if not isinstance(notebook, str) or not notebook.startswith("/") or len(notebook) > 4096:
        raise MonitorAPIError(400, "bad_request", "'run.notebook' must be an absolute path.")
    if not isinstance(runner, str) or len(runner) > 80:
        raise MonitorAPIError(400, "bad_request", "'run.runner' must be a short text.")
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        raise MonitorAPIError(400, "bad_request", "'run.pid' must be a process id.")
    return {"notebook": notebook, "runner": runner, "pid": pid}


def _cell(value: Any) -> dict[str, Any] | None:
    """A notebook cell as a kernel reports it: ``{"id": str|null, "execution_count": int|null}``."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"id", "execution_count"}:
        raise MonitorAPIError(
            400, "bad_request", "A cell is {'id': string or null, 'execution_count': integer}."
        )
    cell_id, count = value.get("id"), value.get("execution_count")
    if cell_id is not None and (not isinstance(cell_id, str) or len(cell_id) > 128):
        raise MonitorAPIError(400, "bad_request", "A cell's 'id' must be a short string.")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
        raise MonitorAPIError(400, "bad_request", "A cell's 'execution_count' is an integer.")
    if cell_id is None and count is None:
        return None
    return {"id": cell_id, "execution_count": count}


class KernelRegistrationHandler(KernelHandler):
    """``POST kernel-registrations``: a kernel of this server reports a session it opened.

    Authenticated by the per-server secret that only this server's kernels receive (in their
    environment), in a header browsers never send, hence no XSRF check. A token in the body stays
    in the server's memory and is never echoed, logged or stored.
    """

    @allow_unauthenticated
    async def post(self) -> None:
        self.check_secret("register")
        body = self.json_body()
        session_id = _session_id(body.get("session_id"))
        kernel_id = _optional_text(body, "kernel_id")
        account_body = body.get("account") or {}
        if not isinstance(account_body, dict):
            raise MonitorAPIError(400, "bad_request", "'account' must be an object.")
        account = AccountRef(
            name=_optional_text(account_body, "name"),
            channel=_optional_text(account_body, "channel"),
            instance=_optional_text(account_body, "instance"),
            url=_optional_text(account_body, "url"),
        )
        token = _optional_text(body, "token")
        if token and not (account.channel and account.url):
            # Keyed by an empty account, the token would replace the server's default login.
            raise MonitorAPIError(
                400, "bad_request", "A token needs the account's 'channel' and 'url'."
            )
        notebook_path = None
        source = SOURCE_KERNEL
        run = _headless_run(body.get("run"))
        pid = None
        if run is not None and (not kernel_id or kernel_id not in self.kernel_manager):
            # papermill or nbclient from this server's terminal: the kernel is none of the
            # server's, so it cannot sign; the secret shows it is a child of this server.
            if token:
                raise MonitorAPIError(
                    403,
                    "forbidden",
                    "A headless run cannot hand over a token: the server reads its sessions "
                    "with its own login.",
                )
            source, kernel_id, pid = SOURCE_HEADLESS, None, run["pid"]
            notebook_path = self._notebook_path(run["notebook"])
            existing = self.monitor.sessions.get(session_id)
            if existing is not None and existing.source != SOURCE_HEADLESS:
                # Only a kernel's own signed report speaks for a kernel's session: a process
                # with the secret must not move it to another notebook, nor have it flagged
                # (and, with orphan_policy "close", closed) when that process ends.
                raise MonitorAPIError(
                    409,
                    "conflict",
                    f"Session '{session_id}' is already tracked ({existing.source}); a headless "
                    "run cannot claim it.",
                )
        elif kernel_id:
            self._check_signed_by(kernel_id, "registration")
            for model in await self.session_manager.list_sessions():  # type: ignore[no-untyped-call]
                if (model.get("kernel") or {}).get("id") == kernel_id:
                    notebook_path = model.get("path")
        elif token:
            raise MonitorAPIError(
                403,
                "forbidden",
                "Only a kernel of this server can hand over a token (name its kernel_id and sign "
                "with its key).",
            )
        cell = _cell(body.get("cell"))
        raw_cells = body.get("job_cells") or {}
        if not isinstance(raw_cells, dict) or len(raw_cells) > 1000:
            raise MonitorAPIError(400, "bad_request", "'job_cells' must map job ids to cells.")
        job_cells = {
            _session_id(job_id, "job_cells"): cell_of
            for job_id, value in raw_cells.items()
            if (cell_of := _cell(value)) is not None
        }
        previous = self.monitor.gateway.remember_token(account, token) if token else None
        try:
            session = await self.monitor.track(
                session_id,
                account,
                source=source,
                kernel_id=kernel_id,
                notebook_path=notebook_path,
                cell=cell if kernel_id else None,
                job_cells=job_cells if kernel_id else None,
            )
            if pid is not None and run is not None and session.source == SOURCE_HEADLESS:
                self.monitor.orphans.watch_run(session.id, pid, run["runner"])
        except Exception:
            if token:  # a rejected registration changes nothing
                self.monitor.gateway.restore_token(account, previous)
            raise
        self.send({"id": session.id, "notebook_path": session.notebook_path}, 201)

    def _notebook_path(self, absolute: str) -> str:
        """The run's notebook as the file browser names it (relative to the server's root), or
        as given when it lies outside."""
        root = os.path.realpath(self.serverapp.root_dir)
        path = os.path.realpath(absolute)
        if os.path.commonpath([root, path]) == root:
            return os.path.relpath(path, root).replace(os.sep, "/")
        return path


class SessionBudgetHandler(MonitorHandler):
    """``PUT sessions/{id}/budget``: set (or replace) the session's budget; ``DELETE``: remove
    it. The answer is the session's view, whose ``budget`` shows it."""

    @web.authenticated
    @authorized
    def put(self, session_id: str) -> None:
        spec = parse_budget(self.json_body())
        if "notebook_path" in self.json_body():
            raise MonitorAPIError(
                400, "bad_request", "A session's budget takes no 'notebook_path'."
            )
        session = self.monitor.get(session_id)
        self.monitor.budgets.set(BUDGET_SESSION, session.id, spec, self.username)
        self.send(self.monitor.view(session))

    @web.authenticated
    @authorized
    def delete(self, session_id: str) -> None:
        self.monitor.get(session_id)
        self.monitor.budgets.remove(BUDGET_SESSION, session_id, self.username)
        self.set_status(204)
        self.finish()


def _notebook_path(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 4096:
        raise MonitorAPIError(
            400, "bad_request", "'notebook_path' must be a notebook's path (as in the sidebar)."
        )
    return value


def _receipt_answer(view: dict[str, Any]) -> dict[str, Any]:
    data = receipts.receipt(view)
    return {
        "receipt": data,
        "text": receipts.receipt_text(data),
        "markdown": receipts.receipt_markdown(data),
    }


class ReceiptHandler(MonitorHandler):
    """``GET sessions/{id}/receipt``: what the session cost, as data, plain text and Markdown
    (``final`` false while it is still open)."""

    @web.authenticated
    @authorized
    def get(self, session_id: str) -> None:
        self.send(_receipt_answer(self.monitor.view(self.monitor.get(session_id))))


class TimelineHandler(MonitorHandler):
    """``GET sessions/{id}/timeline``: the session's view with its transitions, every final
    job's start and end filled in (read from the service's job metrics once per job)."""

    @web.authenticated
    @authorized
    async def get(self, session_id: str) -> None:
        session = await self.monitor.job_times(session_id)
        self.send(self.monitor.view(session, with_timeline=True))


class HistoryHandler(MonitorHandler):
    """``GET history?format=csv|json&since=&until=&notebook=&account=``: the registry's
    sessions, one row each, for a spreadsheet or a script."""

    @web.authenticated
    @authorized
    def get(self) -> None:
        fmt = self.get_query_argument("format", "json")
        if fmt not in ("csv", "json"):
            raise MonitorAPIError(400, "bad_request", "'format' must be csv or json.")
        bounds = {}
        for name in ("since", "until"):
            value = self.get_query_argument(name, None)
            if value is not None and derive.parse_time(value) is None:
                raise MonitorAPIError(
                    400, "bad_request", f"'{name}' must be an ISO-8601 time, e.g. 2026-12-01."
                )
            bounds[name] = value
        views = [self.monitor.view(s) for s in self.monitor.sessions.values()]
        rows = receipts.history_rows(
            views,
            since=bounds["since"],
            until=bounds["until"],
            notebook=self.get_query_argument("notebook", None),
            account=self.get_query_argument("account", None),
        )
        if fmt == "json":
            self.send({"sessions": rows})
            return
        self.set_header("Content-Disposition", 'attachment; filename="qiskit-runtime-sessions.csv"')
        self.finish(receipts.history_csv(rows), set_content_type="text/csv; charset=utf-8")


class NotebookBudgetsHandler(MonitorHandler):
    """``GET notebook-budgets``: every notebook's budget with what it counts so far;
    ``PUT``: set one (``notebook_path`` in the body); ``DELETE ?notebook_path=``: remove it."""

    @web.authenticated
    @authorized
    def get(self) -> None:
        self.send({"notebook_budgets": self.monitor.budgets.notebook_views()})

    @web.authenticated
    @authorized
    def put(self) -> None:
        body = self.json_body()
        path = _notebook_path(body.get("notebook_path"))
        spec = parse_budget(body)
        budget = self.monitor.budgets.set(BUDGET_NOTEBOOK, path, spec, self.username)
        self.send(self.monitor.budgets.view(budget))

    @web.authenticated
    @authorized
    def delete(self) -> None:
        path = _notebook_path(self.get_query_argument("notebook_path", None))
        self.monitor.budgets.remove(BUDGET_NOTEBOOK, path, self.username)
        self.set_status(204)
        self.finish()


class InstancesHandler(MonitorHandler):
    """``GET instances``: each account's instance allowance (``?fresh=true``: read it now)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        if self.fresh():
            await self.monitor.instances.read_all()
        self.send({"instances": self.monitor.instances.views()})


class BillingHandler(MonitorHandler):
    """``GET billing``: the rate per billed second and its currency; ``PUT``: change them (kept
    in the registry; null removes the rate, and then only time is shown)."""

    @web.authenticated
    @authorized
    def get(self) -> None:
        self.send(self.monitor.rate.as_json())

    @web.authenticated
    @authorized
    def put(self) -> None:
        body = self.json_body()
        unknown = set(body) - {"rate_per_second", "currency"}
        if unknown:
            raise MonitorAPIError(
                400, "bad_request", f"Unknown field(s): {', '.join(sorted(unknown))}."
            )
        rate = body.get("rate_per_second")
        if rate is not None and (
            isinstance(rate, bool)
            or not isinstance(rate, int | float)
            or not math.isfinite(rate)
            or rate < 0
        ):
            raise MonitorAPIError(
                400, "bad_request", "'rate_per_second' must be a non-negative number, or null."
            )
        currency = body.get("currency")
        if currency is not None and (
            not isinstance(currency, str) or not 0 < len(currency.strip()) <= 8
        ):
            raise MonitorAPIError(
                400, "bad_request", "'currency' must be a short label such as 'USD', or null."
            )
        self.monitor.set_rate(
            Rate(None if rate is None else float(rate), currency and currency.strip()),
            self.username,
        )
        self.send(self.monitor.rate.as_json())


class CloseAllHandler(MonitorHandler):
    """``POST sessions/close-all``: close (or with ``{"action": "cancel"}`` cancel) every open
    session this server monitors. 202 with what was closed and what could not be."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body(optional=True)
        unknown = set(body) - {"action", "session_ids"}
        if unknown:
            raise MonitorAPIError(
                400, "bad_request", f"Unknown field(s): {', '.join(sorted(unknown))}."
            )
        action = body.get("action", "close")
        if action not in ("close", "cancel"):
            raise MonitorAPIError(400, "bad_request", "'action' must be 'close' or 'cancel'.")
        only = _session_ids(body.get("session_ids"))
        self.send(await self.monitor.close_all(action, self.username, only), 202)


def _session_ids(value: Any) -> list[str] | None:
    """An optional list of session ids: what a confirmation listed."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > 10_000:
        raise MonitorAPIError(400, "bad_request", "'session_ids' must be a list of session ids.")
    return [_session_id(item, "session_ids") for item in value]


class KernelRequestHandler(KernelHandler):
    """``POST kernel-requests``: what a kernel's magics ask of the server. Authenticated like a
    registration (the server's secret, and the body signed with the named kernel's connection
    key), so only this server's kernels can ask, each only for itself:

    - ``{"op": "views", "session_ids": [...]}``: the monitor's views (billing, budget, fit) of
      sessions this server tracks, with their receipts (so far, while open);
    - ``{"op": "set_budget", "session_id", ...budget}``: a budget on a session the kernel opened
      (answered like ``views``, with that session);
    - ``{"op": "close_all", "action": "close"|"cancel", "dry_run": bool, "session_ids"?}``:
      what ``POST sessions/close-all`` does (with ``dry_run``, the views of what it would close,
      read from the service now; with ``session_ids``, only those).
    """

    @allow_unauthenticated
    async def post(self) -> None:
        self.check_secret("ask this")
        body = self.json_body()
        kernel_id = _optional_text(body, "kernel_id")
        if not kernel_id:
            raise MonitorAPIError(400, "bad_request", "'kernel_id' is required.")
        self._check_signed_by(kernel_id, "request")
        op = body.get("op")
        monitor = self.monitor
        if op == "views":
            ids = body.get("session_ids")
            if not isinstance(ids, list) or len(ids) > 1000:
                raise MonitorAPIError(400, "bad_request", "'session_ids' must be a list of ids.")
            tracked = [i for i in ids if isinstance(i, str) and i in monitor.sessions]
            if body.get("fresh") is True:  # read from the service now (within 5 s)
                await asyncio.gather(*(monitor.refresh(i, within=5.0) for i in tracked))
            views = [monitor.view(monitor.sessions[i]) for i in tracked if i in monitor.sessions]
            self.send(
                {
                    "sessions": views,
                    "money": monitor.money_view(),
                    "receipts": [_receipt_answer(v) for v in views],
                }
            )
        elif op == "set_budget":
            session = monitor.get(_session_id(body.get("session_id")))
            if session.kernel_id != kernel_id:
                raise MonitorAPIError(
                    403,
                    "forbidden",
                    f"Session '{session.id}' was not opened by this kernel: set its budget from "
                    "the sidebar.",
                )
            spec = parse_budget(
                {k: v for k, v in body.items() if k not in ("op", "kernel_id", "session_id")}
            )
            monitor.budgets.set(BUDGET_SESSION, session.id, spec, f"kernel {kernel_id}")
            view = monitor.view(session)
            self.send(
                {
                    "sessions": [view],
                    "money": monitor.money_view(),
                    "receipts": [_receipt_answer(view)],
                }
            )
        elif op == "close_all":
            action = body.get("action", "close")
            if action not in ("close", "cancel"):
                raise MonitorAPIError(400, "bad_request", "'action' must be 'close' or 'cancel'.")
            only = _session_ids(body.get("session_ids"))
            if body.get("dry_run"):
                # What a confirmation lists is read from the service now, not the last poll.
                open_now = [
                    s.id
                    for s in monitor.sessions.values()
                    if not s.closed and not s.not_found and (only is None or s.id in only)
                ]
                fresh = await asyncio.gather(
                    *(monitor.refresh(i, within=REFRESH_WITHIN_SECONDS) for i in open_now)
                )
                views = [monitor.view(s) for s in fresh if not s.closed]
                self.send(
                    {
                        "sessions": views,
                        "money": monitor.money_view(),
                        "receipts": [_receipt_answer(v) for v in views],
                    }
                )
            else:
                self.send(await monitor.close_all(action, f"kernel {kernel_id}", only), 202)
        else:
            raise MonitorAPIError(
                400, "bad_request", "'op' must be one of: views, set_budget, close_all."
            )


class NotFoundHandler(MonitorHandler):
    """Any other path under the API prefix: a JSON 404 naming the path, not tornado's HTML page."""

    def _not_found(self, path: str) -> None:
        raise MonitorAPIError(404, "not_found", f"There is no session monitor API route '{path}'.")

    @web.authenticated
    @authorized
    def get(self, path: str) -> None:
        self._not_found(path)

    @web.authenticated
    @authorized
    def post(self, path: str) -> None:
        self._not_found(path)

    @web.authenticated
    @authorized
    def put(self, path: str) -> None:
        self._not_found(path)

    @web.authenticated
    @authorized
    def patch(self, path: str) -> None:
        self._not_found(path)

    @web.authenticated
    @authorized
    def delete(self, path: str) -> None:
        self._not_found(path)


def handlers() -> list[tuple[str, type[MonitorHandler]]]:
    """The monitor's routes, relative to the server's ``base_url``; the catch-all comes last."""
    return [
        (f"{API_PREFIX}/version", VersionHandler),
        (f"{API_PREFIX}/sessions", TrackedSessionsHandler),
        (f"{API_PREFIX}/sessions/close-all", CloseAllHandler),
        (f"{API_PREFIX}/sessions/([^/]+)", TrackedSessionHandler),
        (f"{API_PREFIX}/sessions/([^/]+)/budget", SessionBudgetHandler),
        (f"{API_PREFIX}/sessions/([^/]+)/receipt", ReceiptHandler),
        (f"{API_PREFIX}/sessions/([^/]+)/timeline", TimelineHandler),
        (f"{API_PREFIX}/history", HistoryHandler),
        (f"{API_PREFIX}/notebook-budgets", NotebookBudgetsHandler),
        (f"{API_PREFIX}/instances", InstancesHandler),
        (f"{API_PREFIX}/billing", BillingHandler),
        (f"{API_PREFIX}/sessions/([^/]+)/(close|cancel)", SessionActionHandler),
        (f"{API_PREFIX}/viewers", ViewerHandler),
        (f"{API_PREFIX}/jobs/([^/]+)/cancel", JobCancelHandler),
        (f"{API_PREFIX}/kernel-registrations", KernelRegistrationHandler),
        (f"{API_PREFIX}/kernel-requests", KernelRequestHandler),
        (f"{API_PREFIX}/(.*)", NotFoundHandler),
    ]
