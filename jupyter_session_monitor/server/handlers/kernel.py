"""What kernels say and ask: ``kernel-registrations`` (a session opened, a job submitted) and the
magics' signed ``kernel-requests``; only a kernel of this server can sign them."""

from __future__ import annotations

import hmac
import os
from typing import Any

from jupyter_server.auth.decorator import allow_unauthenticated

from jupyter_session_monitor.domain.models import (
    AccountRef,
    KernelReport,
)
from jupyter_session_monitor.protocol import SECRET_HEADER
from jupyter_session_monitor.server import requests

from .base import REFRESH_WITHIN_SECONDS, MonitorAPIError, MonitorHandler, receipt_answer


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


def _cell(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """A checked cell as the registry keeps it: ``None`` when it names nothing."""
    if not value or (value.get("id") is None and value.get("execution_count") is None):
        return None
    return {"id": value.get("id"), "execution_count": value.get("execution_count")}


class KernelRegistrationHandler(KernelHandler):
    """``POST kernel-registrations``: a kernel of this server reports a session it opened.

    Authenticated by the per-server secret that only this server's kernels receive (in their
    environment), in a header browsers never send, hence no XSRF check. A token in the body stays
    in the server's memory and is never echoed, logged or stored.
    """

    @allow_unauthenticated
    async def post(self) -> None:
        self.check_secret("register")
        body = self.json_body(requests.REGISTRATION)
        session_id = body["session_id"]
        kernel_id = body.get("kernel_id") or None  # "" names no kernel
        account_body = body.get("account") or {}
        account = AccountRef(
            name=account_body.get("name"),
            channel=account_body.get("channel"),
            instance=account_body.get("instance"),
            url=account_body.get("url"),
        )
        token = body.get("token")
        if token and not (account.channel and account.url):
            # Keyed by an empty account, the token would replace the server's default login.
            raise MonitorAPIError(
                400, "bad_request", "A token needs the account's 'channel' and 'url'."
            )
        run = body.get("run")
        headless = run is not None and (not kernel_id or kernel_id not in self.kernel_manager)
        notebook_path = None
        if headless:
            # papermill or nbclient from this server's terminal: the kernel is none of the
            # server's, so it cannot sign; the secret shows it is a child of this server.
            assert run is not None
            kernel_id = None
            notebook_path = self._notebook_path(run["notebook"])
        elif kernel_id:
            self._check_signed_by(kernel_id, "registration")
            for model in await self.session_manager.list_sessions():  # type: ignore[no-untyped-call]
                if (model.get("kernel") or {}).get("id") == kernel_id:
                    notebook_path = model.get("path")
        cell = _cell(body.get("cell"))
        job_cells = {
            job_id: cell_of
            for job_id, value in (body.get("job_cells") or {}).items()
            if (cell_of := _cell(value)) is not None
        }
        session = await self.monitor.register(
            KernelReport(
                session_id=session_id,
                account=account,
                token=token,
                kernel_id=kernel_id,
                notebook_path=notebook_path,
                run_pid=run["pid"] if headless and run is not None else None,
                runner=run["runner"] if headless and run is not None else None,
                cell=cell,
                job_cells=job_cells,
            )
        )
        self.send({"id": session.id, "notebook_path": session.notebook_path}, 201)

    def _notebook_path(self, absolute: str) -> str:
        """The run's notebook as the file browser names it (relative to the server's root), or
        as given when it lies outside."""
        root = os.path.realpath(self.serverapp.root_dir)
        path = os.path.realpath(absolute)
        if os.path.commonpath([root, path]) == root:
            return os.path.relpath(path, root).replace(os.sep, "/")
        return path


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
        body = self.json_body(requests.KERNEL_REQUEST)
        kernel_id, op = body["kernel_id"], body["op"]
        self._check_signed_by(kernel_id, "request")
        monitor = self.monitor
        if op == "views":
            fresh = 5.0 if body.get("fresh") is True else None  # read from the service now
            self.send(self._views(await monitor.views(body["session_ids"], fresh=fresh)))
        elif op == "set_budget":
            spec = requests.budget_spec(body)
            session = monitor.set_kernel_budget(kernel_id, body["session_id"], spec)
            self.send(self._views([monitor.view(session)]))
        elif body.get("dry_run"):  # close_all, what it would do
            only = body.get("session_ids")
            views = await monitor.close_all_preview(only, within=REFRESH_WITHIN_SECONDS)
            self.send(self._views(views))
        else:  # close_all (the schema allows no other op)
            action, only = body.get("action", "close"), body.get("session_ids")
            self.send(await monitor.close_all(action, f"kernel {kernel_id}", only), 202)

    def _views(self, views: list[dict[str, Any]]) -> dict[str, Any]:
        """What the magics print from: the views, the money and each session's receipt."""
        return {
            "sessions": views,
            "money": self.monitor.money_view(),
            "receipts": [receipt_answer(view) for view in views],
        }
