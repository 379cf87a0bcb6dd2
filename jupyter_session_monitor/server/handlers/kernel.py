"""What kernels say and ask: ``kernel-registrations`` (a session opened, a job submitted) and the
magics' signed ``kernel-requests``; only a kernel of this server can sign them."""

from __future__ import annotations

import asyncio
import hmac
import os
from typing import Any

from jupyter_server.auth.decorator import allow_unauthenticated

from jupyter_session_monitor.domain.models import (
    BUDGET_SESSION,
    AccountRef,
    KernelReport,
)
from jupyter_session_monitor.protocol import SECRET_HEADER

from .base import (
    REFRESH_WITHIN_SECONDS,
    MonitorAPIError,
    MonitorHandler,
    _optional_text,
    _receipt_answer,
    _session_id,
    _session_ids,
    parse_budget,
)


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
        kernel_id = _optional_text(body, "kernel_id") or None  # "" names no kernel
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
        run = _headless_run(body.get("run"))
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
        raw_cells = body.get("job_cells") or {}
        if not isinstance(raw_cells, dict) or len(raw_cells) > 1000:
            raise MonitorAPIError(400, "bad_request", "'job_cells' must map job ids to cells.")
        job_cells = {
            _session_id(job_id, "job_cells"): cell_of
            for job_id, value in raw_cells.items()
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
