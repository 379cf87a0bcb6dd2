"""The emulator's HTTP service (tornado): the Qiskit Runtime REST API, IAM, Global Search and
Global Catalog, plus the admin routes under ``/emulator/``.

The unmodified ``qiskit-ibm-runtime`` client reaches it through environment variables only
(``Emulator.client_environment``). Every answer is computed after ``Service.advance(now)``, so
state is exact at the moment of the request without any background timer.
"""

from __future__ import annotations

import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tornado import httpserver, web
from tornado.netutil import bind_sockets

from . import admin, api
from .backends import BACKENDS, BackendCatalog
from .base import (
    ACCOUNT_ID,
    API_KEY,
    CATALOG_PREFIX,
    MAX_BODY_BYTES,
    PLANS,
    RUNTIME_PREFIX,
    TOKEN_LIFETIME,
    USER_ID,
    b64,
    utc_now,
)
from .faults import FaultBook
from .model import Durations, Service

__all__ = ["API_KEY", "RUNTIME_PREFIX", "Emulator", "EmulatorConfig"]


@dataclass
class EmulatorConfig:
    host: str = "127.0.0.1"
    port: int = 0
    time_scale: float = 1.0
    job_seconds: float = 3.0
    plan: str = "premium"
    api_key: str = API_KEY
    instance_limit: float | None = None  # unscaled billed seconds per usage period
    usage_period: float = 30 * 24 * 3600.0  # unscaled
    # Realism (docs/emulator.md), in real seconds, never scaled by ``time_scale``: they describe
    # the service's machinery, not the rules it applies.
    transition_lag: float = 0.0  # TTL deactivation and closes applied this late
    clock_offset: float = 0.0  # the service's clock minus the host's (may be negative)
    usage_report_period: float | None = None  # usage figures refreshed at most this often
    jobs_page_limit: int | None = None  # the most jobs one GET /jobs page returns

    def durations(self) -> Durations:
        return Durations(
            job_run=self.job_seconds,
            instance_limit=self.instance_limit,
            usage_period=self.usage_period,
        ).scaled(self.time_scale)


@dataclass
class RequestRecord:
    method: str
    path: str
    status: int
    time: str
    duration_ms: float
    agent: str = ""  # the User-Agent header

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "time": self.time,
            "duration_ms": self.duration_ms,
            "agent": self.agent,
        }


@dataclass
class Emulator:
    """One emulated Qiskit Runtime instance and its HTTP server."""

    config: EmulatorConfig = field(default_factory=EmulatorConfig)

    def __post_init__(self) -> None:
        self.catalog = BackendCatalog(BACKENDS)
        self.service = Service(
            self.catalog.all_names,
            self.config.durations(),
            USER_ID,
            mock_backends=set(self.catalog.mocks),
            transition_lag=self.config.transition_lag,
        )
        self.faults = FaultBook()
        self.requests: list[RequestRecord] = []
        self.tokens: dict[str, float] = {}  # access token -> expiry (epoch seconds)
        # Seconds the service's clock runs ahead of the real one: ``--clock-offset``, plus what
        # tests moved it forward by (POST /emulator/clock) instead of waiting, so a transition
        # never races a slow CI.
        self.clock_offset = float(self.config.clock_offset)
        self.executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="emulator-exec")
        plan = PLANS[self.config.plan]
        self.instance_crn = (
            f"crn:v1:bluemix:public:quantum-computing:us-east:a/{ACCOUNT_ID}::"
            f"{self.config.plan}-instance"
        )
        self.plan = plan
        self._server: httpserver.HTTPServer | None = None
        self.port = self.config.port

    def wall_clock(self) -> datetime:
        """The service's clock as its ``Date`` header tells it: ``--clock-offset`` from the
        host's, without tests' advances."""
        return utc_now() + timedelta(seconds=self.config.clock_offset)

    def now(self) -> datetime:
        """The service's time: the real time plus what tests advanced it by."""
        return utc_now() + timedelta(seconds=self.clock_offset)

    def reported_at(self, now: datetime) -> datetime:
        """When the usage figures answered at ``now`` were last reported: ``now`` itself, or with
        ``--usage-report-period``, the start of the current period (on the service's clock)."""
        period = self.config.usage_report_period
        if not period:
            return now
        return datetime.fromtimestamp(now.timestamp() // period * period, tz=now.tzinfo)

    # ------------------------------------------------------------------ lifecycle

    def application(self) -> web.Application:
        p, ctx = RUNTIME_PREFIX, {"emulator": self}
        routes: list[tuple[str, type[web.RequestHandler], dict[str, Any]]] = [
            (r"/identity/token", api.IamTokenHandler, ctx),
            (r"/v3/resources/search", api.GlobalSearchHandler, ctx),
            (rf"{CATALOG_PREFIX}/([^/]+)", api.CatalogHandler, ctx),
            (rf"{p}/backends", api.BackendsHandler, ctx),
            (rf"{p}/backends/([^/]+)/(configuration|properties|status)", api.BackendHandler, ctx),
            (rf"{p}/instances/usage", api.UsageHandler, ctx),
            (rf"{p}/sessions", api.SessionsHandler, ctx),
            (rf"{p}/sessions/([^/]+)", api.SessionHandler, ctx),
            (rf"{p}/sessions/([^/]+)/close", api.SessionCloseHandler, ctx),
            (rf"{p}/workloads", api.WorkloadsHandler, ctx),
            (rf"{p}/jobs", api.JobsHandler, ctx),
            (rf"{p}/jobs/([^/]+)", api.JobHandler, ctx),
            (rf"{p}/jobs/([^/]+)/(results|metrics|logs)", api.JobDataHandler, ctx),
            (rf"{p}/jobs/([^/]+)/cancel", api.JobCancelHandler, ctx),
            (rf"{p}/jobs/([^/]+)/tags", api.JobTagsHandler, ctx),
            (r"/emulator/requests", admin.RequestLogHandler, ctx),
            (r"/emulator/faults", admin.FaultsHandler, ctx),
            (r"/emulator/state", admin.StateHandler, ctx),
            (r"/emulator/clock", admin.ClockHandler, ctx),
            (r"/.*", admin.NotFoundHandler, ctx),
        ]
        return web.Application(routes, log_function=self._log_request)

    def start(self) -> None:
        """Listen on the configured host and port (0: a free one); call on the event loop."""
        sockets = bind_sockets(self.config.port, self.config.host)
        self.port = sockets[0].getsockname()[1]
        self._server = httpserver.HTTPServer(
            self.application(), max_body_size=MAX_BODY_BYTES + 1024, idle_connection_timeout=60
        )
        self._server.add_sockets(sockets)

    async def stop(self) -> None:
        self.faults.clear()
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
        self.executor.shutdown(wait=False, cancel_futures=True)

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    def client_environment(self) -> dict[str, str]:
        """The environment with which an unmodified ``QiskitRuntimeService()`` uses this."""
        return {
            "QISKIT_IBM_CHANNEL": "ibm_quantum_platform",
            "QISKIT_IBM_TOKEN": self.config.api_key,
            "QISKIT_IBM_URL": f"{self.url}{RUNTIME_PREFIX}",
            "QISKIT_IBM_INSTANCE": self.instance_crn,
            "IAM_URL": self.url,
            "GLOBAL_SEARCH_URL": self.url,
            "GLOBAL_CATALOG_URL": f"{self.url}{CATALOG_PREFIX}",
        }

    # ------------------------------------------------------------------ helpers

    def _log_request(self, handler: web.RequestHandler) -> None:
        request = handler.request
        if request.path.startswith("/emulator/"):
            return
        self.requests.append(
            RequestRecord(
                method=request.method or "",
                path=request.path,
                status=handler.get_status(),
                time=utc_now().isoformat(timespec="milliseconds"),  # real time: for counting
                duration_ms=round(1000.0 * request.request_time(), 2),
                agent=request.headers.get("User-Agent", ""),
            )
        )

    def issue_token(self) -> tuple[str, int]:
        issued = int(time.time())
        expires = issued + TOKEN_LIFETIME
        header = b64({"alg": "HS256", "typ": "JWT"})
        payload = b64(
            {
                "iat": issued,
                "exp": expires,
                "sub": USER_ID,
                "iam_id": USER_ID,
                "account": {"bss": ACCOUNT_ID},
            }
        )
        token = f"{header}.{payload}.{secrets.token_urlsafe(16)}"
        self.tokens[token] = expires
        return token, expires

    def token_valid(self, token: str) -> bool:
        expiry = self.tokens.get(token)
        return expiry is not None and expiry > time.time()
