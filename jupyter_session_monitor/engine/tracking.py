"""Taking a session in: by id (a kernel's report, the Track form, ``POST sessions``), or found
among the account's open workloads (discovery). One GET checks that the service knows it;
concurrent requests for one id share it; a session another live server of the registry monitors
is refused."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from jupyter_session_monitor.domain.errors import MonitorError
from jupyter_session_monitor.domain.models import (
    SOURCE_DISCOVERED,
    SOURCE_KERNEL,
    SOURCE_TRACKED,
    AccountRef,
    TrackedSession,
)
from jupyter_session_monitor.registry.writer import RegistryBusy
from jupyter_session_monitor.service.runtime import RuntimeCallError

if TYPE_CHECKING:
    from jupyter_session_monitor.engine.monitor import Engine

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


class Tracking:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._tracking: dict[str, asyncio.Future[TrackedSession]] = {}  # tracks in flight

    async def track(
        self,
        session_id: str,
        account: AccountRef,
        *,
        source: str = SOURCE_TRACKED,
        kernel_id: str | None = None,
        notebook_path: str | None = None,
        background: bool = False,
        cell: dict[str, Any] | None = None,
        job_cells: dict[str, dict[str, Any]] | None = None,
    ) -> TrackedSession:
        """Track a session by id, after checking that the service knows it (one GET).
        ``cell``/``job_cells``: the notebook cell that opened it and those that submitted its
        jobs, as its kernel reports them (the first cell reported is the one that opened it).
        ``background`` (discovery): that GET uses the polls' threads, not the user actions'.

        Concurrent calls for one id (a kernel's report and a user's request) share one GET and
        one "added"; a session another live server of this registry monitors is refused."""

        def again() -> Awaitable[TrackedSession]:  # the same call, once the state moved on
            return self.track(
                session_id,
                account,
                source=source,
                kernel_id=kernel_id,
                notebook_path=notebook_path,
                background=background,
                cell=cell,
                job_cells=job_cells,
            )

        in_flight = self._tracking.get(session_id)
        if in_flight is not None and session_id not in self.engine.sessions:
            # Another caller is reading it: wait for that one. Its failure is its own (another
            # account, a refusal for it): this caller then tries with what it was given.
            await asyncio.wait([in_flight])  # never raises its outcome; never cancels it
            if session_id not in self.engine.sessions and session_id in self._tracking:
                return await again()
        existing = self.engine.sessions.get(session_id)
        if existing is not None:
            changed = existing.orphaned and kernel_id is not None
            if changed:
                self.engine.hooks.reclaimed(session_id)
                self.engine.note(existing, "Reported again by a kernel: no longer orphaned")
            for name, value in (("kernel_id", kernel_id), ("notebook_path", notebook_path)):
                if value and getattr(existing, name) != value:
                    setattr(existing, name, value)
                    changed = True
            if cell and existing.cell is None:
                existing.cell = cell
                changed = True
            if job_cells and any(existing.job_cells.get(k) != v for k, v in job_cells.items()):
                existing.job_cells.update(job_cells)
                changed = True
            if changed:
                existing.orphaned = False
                self.engine.store.save_session(existing)
                self.engine.changes.changed(session_id)
            if source == SOURCE_KERNEL and (not existing.closed or existing.not_found):
                # The kernel reports again when it submits the first job, closes or cancels:
                # look now rather than at the next scheduled poll.
                self.engine.poll_soon(session_id)
            return existing
        if self.engine.store.server_id is not None:
            owner = self.engine.store.owner_elsewhere(session_id, self.engine.host)
            if owner is not None:
                raise MonitorError(
                    409,
                    "elsewhere",
                    f"Session '{session_id}' is monitored by another Jupyter server of yours "
                    f"({owner.get('url') or 'process ' + str(owner['pid'])}, started "
                    f"{owner['started_at']}). Use that server's sidebar, or stop it first.",
                )
            try:
                adopted = self.engine.presence.adopt_gone()
            except RegistryBusy:  # the heartbeat adopts it later; tracking goes on meanwhile
                adopted = False
            if adopted and session_id in self.engine.sessions:
                # Its row was a gone server's: taken over with what that server knew of it.
                return await again()
        future: asyncio.Future[TrackedSession] = asyncio.get_running_loop().create_future()
        self._tracking[session_id] = future
        try:
            session = await self._track_new(
                session_id, account, source, kernel_id, notebook_path, background
            )
            future.set_result(session)
        finally:
            # Every waiter is released, whatever happened (a ``return`` inside ``try`` once
            # skipped an ``else:`` and left them waiting for ever); on a failure they try
            # themselves.
            self._tracking.pop(session_id, None)
            if not future.done():
                future.cancel()
        if cell or job_cells:  # what the first report said about its cells
            return await again()
        return session

    async def _track_new(
        self,
        session_id: str,
        account: AccountRef,
        source: str,
        kernel_id: str | None,
        notebook_path: str | None,
        background: bool = False,
    ) -> TrackedSession:
        read = self.engine.gateway.session if background else self.engine.gateway.session_for_action
        try:
            body = await read(account, session_id)
        except RuntimeCallError as error:
            if error.kind == "not_found":
                raise MonitorError(
                    404,
                    "not_found",
                    f"The Qiskit Runtime service does not know session '{session_id}' for this "
                    "account. Check the id and the account.",
                ) from None
            if error.kind == "account":  # the request named an account that cannot be used
                raise MonitorError(400, error.kind, error.message) from None
            raise MonitorError(502, error.kind, error.message) from None
        if session_id in self.engine.sessions:  # tracked while this call was in flight
            return await self.track(
                session_id,
                account,
                source=source,
                kernel_id=kernel_id,
                notebook_path=notebook_path,
            )
        session = TrackedSession(
            id=session_id,
            account=account,
            source=source,
            tracked_at=_now(),
            kernel_id=kernel_id,
            notebook_path=notebook_path,
        )
        self.engine.polling.update_clock(session)
        self.engine.sessions[session_id] = session
        self.engine.polling.apply_body(session, body, _now())
        self.engine.store.save_session(session)
        self.engine.changes.changed(session_id, "added")
        self.engine.hooks.added(session)
        self.engine.poll_soon(session_id)  # fetch its jobs at once
        return session

    async def discover(self) -> int:
        """Track the default account's open sessions that nobody tracks yet (not from a notebook
        here). Returns how many were added."""
        account = AccountRef()
        added = 0
        for workload in await self.engine.gateway.open_workloads(account):
            session_id = str(workload.get("id") or "")
            if not session_id or session_id in self.engine.sessions:
                continue
            try:
                await self.track(session_id, account, source=SOURCE_DISCOVERED, background=True)
            except MonitorError as error:
                # Refused for this one (another live server of this registry monitors it, the
                # service no longer knows it): the others listed after it are still found.
                log.debug("Discovery did not track session %s: %s", session_id, error.message)
                continue
            added += 1
        return added

    async def discover_forever(self, interval: float) -> None:
        while True:
            try:
                await self.discover()
            except (RuntimeCallError, MonitorError) as error:
                log.warning("Listing the account's workloads failed: %s", error)
            except Exception:  # a bug must not end discovery silently
                log.exception("Discovering the account's sessions failed unexpectedly")
            await asyncio.sleep(interval)
