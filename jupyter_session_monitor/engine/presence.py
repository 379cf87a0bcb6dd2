"""This server in the registry it may share with other Jupyter servers of the user: its heartbeat,
what it does when another server took it for gone, and taking over the sessions of servers that
are gone."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import TYPE_CHECKING

from jupyter_session_monitor.registry.writer import LOOP_WAIT_MS, RegistryBusy

if TYPE_CHECKING:
    from jupyter_session_monitor.engine.monitor import Engine

log = logging.getLogger(__name__)


class Presence:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def beat_forever(self) -> None:
        while True:
            await asyncio.sleep(self.engine.config.heartbeat_seconds)
            try:
                if not self.engine.store.heartbeat():
                    self._taken_over()
                self.adopt_gone()
            except RegistryBusy:  # locked by another process: the next beat tries again
                log.info("The registry is locked by another process: the heartbeat waits")
            except Exception:  # a locked or unwritable file must not end the heartbeat
                log.exception("Could not record this server's heartbeat in the registry")

    def _taken_over(self) -> None:
        """Another server took this one for gone (its heartbeat was late: a suspended laptop, a
        blocked loop) and adopted its sessions: they are that server's now. This one lets them
        go (never two servers acting on one session), and says it is alive again."""
        owned = self.engine.store.own_session_ids()
        lost = [i for i in self.engine.sessions if i not in owned]
        log.warning(
            "Another Jupyter server took this one for gone and now monitors its %d sessions; "
            "this server lets them go",
            len(lost),
        )
        for session_id in lost:
            self.engine.let_go(session_id)
        self.engine.store.register_server(
            wait_ms=LOOP_WAIT_MS,
            host=self.engine.host,
            pid=os.getpid(),
            url=self.engine.config.server_url,
            root_dir=self.engine.config.root_dir,
        )

    def adopt_gone(self) -> bool:
        """Take over the sessions of servers of this registry that are gone since (died, or
        stopped): they get this server's polling, orphan policy and budgets, as they would at
        its start. True if any was taken."""
        adopted = self.engine.store.adopt_from_gone(self.engine.host)
        if not adopted:
            return False
        for session in self.engine.store.load_sessions(only=set(adopted)):
            if session.id in self.engine.sessions:
                continue
            log.info(
                "Session %s was monitored by a server that is gone: monitored here", session.id
            )
            self.engine.take_in(session)
            self.engine.sessions[session.id] = session
            self.engine.changes.changed(session.id, "added")
            if self.engine.still_changing(session):
                self.engine.poll_soon(session.id)
            self.engine.hooks.loaded(session)
        self.engine.hooks.adopted()
        return True
