"""The tracked sessions: list, track, read, forget, close, cancel, close all, their timelines
and the history export."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from jupyter_session_monitor.domain import receipts
from jupyter_session_monitor.domain.models import AccountRef
from jupyter_session_monitor.protocol import derive
from jupyter_session_monitor.server import requests

from .base import (
    REFRESH_WITHIN_SECONDS,
    MonitorAPIError,
    MonitorHandler,
)


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
        body = self.json_body(requests.TRACK)
        session = await self.monitor.track(body["session_id"], AccountRef(name=body.get("account")))
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


class CloseAllHandler(MonitorHandler):
    """``POST sessions/close-all``: close (or with ``{"action": "cancel"}`` cancel) every open
    session this server monitors. 202 with what was closed and what could not be."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body(requests.CLOSE_ALL, optional=True)
        action, only = body.get("action", "close"), body.get("session_ids")
        self.send(await self.monitor.close_all(action, self.username, only), 202)
