"""Money: budgets (of a session, of a notebook), receipts, the instances' allowance and the rate."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from jupyter_session_monitor.domain.billing import Rate
from jupyter_session_monitor.domain.models import BUDGET_NOTEBOOK, BUDGET_SESSION
from jupyter_session_monitor.server import requests

from .base import MonitorHandler, receipt_answer


class SessionBudgetHandler(MonitorHandler):
    """``PUT sessions/{id}/budget``: set (or replace) the session's budget; ``DELETE``: remove
    it. The answer is the session's view, whose ``budget`` shows it."""

    @web.authenticated
    @authorized
    def put(self, session_id: str) -> None:
        spec = requests.budget_spec(self.json_body(requests.BUDGET))
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


class ReceiptHandler(MonitorHandler):
    """``GET sessions/{id}/receipt``: what the session cost, as data, plain text and Markdown
    (``final`` false while it is still open)."""

    @web.authenticated
    @authorized
    def get(self, session_id: str) -> None:
        self.send(receipt_answer(self.monitor.view(self.monitor.get(session_id))))


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
        body = self.json_body(requests.NOTEBOOK_BUDGET)
        spec = requests.budget_spec(body)
        budget = self.monitor.budgets.set(
            BUDGET_NOTEBOOK, body["notebook_path"], spec, self.username
        )
        self.send(self.monitor.budgets.view(budget))

    @web.authenticated
    @authorized
    def delete(self) -> None:
        path = requests.check(
            requests.NOTEBOOK_PATH_QUERY,
            {"notebook_path": self.get_query_argument("notebook_path", None)},
        )["notebook_path"]
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
        body = self.json_body(requests.RATE)
        rate, currency = body.get("rate_per_second"), body.get("currency")
        self.monitor.set_rate(
            Rate(None if rate is None else float(rate), currency and currency.strip()),
            self.username,
        )
        self.send(self.monitor.rate.as_json())
