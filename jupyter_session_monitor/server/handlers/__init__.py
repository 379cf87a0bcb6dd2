"""HTTP handlers: parse, validate, authorize, call the monitor, serialize. One module per
resource; ``handlers()`` is the route table."""

from __future__ import annotations

from jupyter_session_monitor.protocol import API_PREFIX

from .base import MonitorHandler
from .kernel import KernelRegistrationHandler, KernelRequestHandler
from .money import (
    BillingHandler,
    InstancesHandler,
    NotebookBudgetsHandler,
    ReceiptHandler,
    SessionBudgetHandler,
)
from .sessions import (
    CloseAllHandler,
    HistoryHandler,
    JobCancelHandler,
    SessionActionHandler,
    TimelineHandler,
    TrackedSessionHandler,
    TrackedSessionsHandler,
    ViewerHandler,
)
from .version import NotFoundHandler, VersionHandler


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
