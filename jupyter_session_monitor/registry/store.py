"""The registry: the only module that speaks SQL.

SQLite in WAL mode (readers never block the writer; several servers may share one file), each
change in its own short transaction, so a ``kill -9`` loses nothing that was committed. The schema
is versioned with ``PRAGMA user_version`` and the migrations of ``migrations.py``, applied in order
at open.
Credentials are never stored: accounts are kept by name and identity only.

Writes go through ``writer.py``: never more than 100 ms on the event loop, queued in order
behind another process's lock.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jupyter_session_monitor.domain.models import (
    JobRecord,
    TrackedSession,
    Transition,
)
from jupyter_session_monitor.domain.notebooks import notebook_file
from jupyter_session_monitor.protocol.derive import iso, parse_time

from .budgets import BudgetRows
from .migrations import MIGRATIONS
from .rows import alive, job_of, session_of
from .writer import LOOP_WAIT_MS, START_WAIT_MS, Writer


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Audit:
    """An audit row, to settle later; its id is known once it is written."""

    id: int | None = None


class Store(BudgetRows):
    def __init__(self, path: Path | str, server_id: str | None = None) -> None:
        #: The server this store writes for: its rows are the ones it loads and may change.
        self.server_id = server_id
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute(f"PRAGMA busy_timeout={START_WAIT_MS}")
        self._writes = Writer(self._db, self.path)
        self._write = self._writes.write
        self._answer = self._writes.answer
        self._transaction = self._writes.transaction
        self._migrate()
        self._db.execute(f"PRAGMA busy_timeout={LOOP_WAIT_MS}")

    @property
    def behind(self) -> bool:
        """Writes are queued: what the file says lags what this server knows."""
        return self._writes.behind

    @property
    def queued(self) -> int:
        """How many writes wait for the registry."""
        return self._writes.queued

    def flush(self, timeout: float) -> bool:
        """Wait (in a thread, not on the loop) until the queued writes are written."""
        return self._writes.flush(timeout)

    def close(self) -> None:
        self._writes.close()
        self._db.close()

    def _execute(self, what: str, sql: str, params: tuple[Any, ...]) -> None:
        """One statement, its parameters taken now (the objects they come from may change)."""
        self._write(what, lambda db: db.execute(sql, params))

    def _execute_many(self, what: str, sql: str, rows: list[tuple[Any, ...]]) -> None:
        self._write(what, lambda db: db.executemany(sql, rows))

    @property
    def schema_version(self) -> int:
        version: int = self._db.execute("PRAGMA user_version").fetchone()[0]
        return version

    def _migrate(self) -> None:
        with self._transaction():
            current = self.schema_version
            if current > len(MIGRATIONS):
                raise RuntimeError(
                    f"The session monitor database {self.path} has schema version {current}, "
                    f"newer than this version understands ({len(MIGRATIONS)}). Upgrade "
                    "jupyter_session_monitor, or point SessionMonitorApp.db_path elsewhere."
                )
            for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
                for statement in filter(str.strip, script.split(";")):
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version={version}")

    # ------------------------------------------------------------------ sessions

    def save_session(self, session: TrackedSession) -> None:
        body = session.body or {}
        self._execute(
            f"session {session.id}",
            """
            INSERT INTO sessions (id, account_name, channel, instance, url, source, kernel_id,
                notebook_path, mode, backend, tracked_at, body, last_polled_at, orphaned,
                last_action, closed_at, not_found, server_id, cell, job_cells, billed_rate)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET
                account_name=excluded.account_name, channel=excluded.channel,
                instance=excluded.instance, url=excluded.url, source=excluded.source,
                kernel_id=excluded.kernel_id, notebook_path=excluded.notebook_path,
                mode=excluded.mode, backend=excluded.backend, body=excluded.body,
                last_polled_at=excluded.last_polled_at, orphaned=excluded.orphaned,
                last_action=excluded.last_action, closed_at=excluded.closed_at,
                not_found=excluded.not_found, cell=excluded.cell,
                job_cells=excluded.job_cells, billed_rate=excluded.billed_rate
            WHERE sessions.server_id IS NULL OR sessions.server_id = excluded.server_id
            """,
            (
                session.id,
                session.account.name,
                session.account.channel,
                session.account.instance,
                session.account.url,
                session.source,
                session.kernel_id,
                session.notebook_path,
                session.mode,
                session.backend,
                iso(session.tracked_at),
                json.dumps(session.body) if session.body is not None else None,
                iso(session.last_polled_at),
                int(session.orphaned),
                session.last_action,
                body.get("closed_at"),
                int(session.not_found),
                self.server_id,
                json.dumps(session.cell) if session.cell is not None else None,
                json.dumps(session.job_cells) if session.job_cells else None,
                json.dumps(session.billed_rate) if session.billed_rate is not None else None,
            ),
        )

    def save_jobs(self, session_id: str, jobs: list[JobRecord]) -> None:
        if not jobs:
            return
        self._execute_many(
            f"{len(jobs)} jobs of session {session_id}",
            """
            INSERT INTO jobs (id, session_id, program_id, status, tags, created, usage_seconds,
                reason, estimated_seconds, started, finished)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET status=excluded.status, tags=excluded.tags,
                usage_seconds=excluded.usage_seconds, reason=excluded.reason,
                estimated_seconds=excluded.estimated_seconds,
                started=COALESCE(excluded.started, jobs.started),
                finished=COALESCE(excluded.finished, jobs.finished)
            """,
            [
                (
                    j.id,
                    session_id,
                    j.program_id,
                    j.status,
                    json.dumps(j.tags),
                    j.created,
                    j.usage_seconds,
                    None if j.reason is None else json.dumps(j.reason),
                    j.estimated_seconds,
                    j.started,
                    j.finished,
                )
                for j in jobs
            ],
        )

    def add_transition(self, session_id: str, transition: Transition) -> None:
        self._execute(
            f"a transition of session {session_id}",
            "INSERT INTO transitions (session_id, at, state, accepting_jobs, status) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                session_id,
                iso(transition.at),
                transition.state,
                None if transition.accepting_jobs is None else int(transition.accepting_jobs),
                transition.status,
            ),
        )

    def transitions(self, session_id: str) -> list[Transition]:
        rows = self._db.execute(
            "SELECT at, state, accepting_jobs, status FROM transitions "
            "WHERE session_id=? ORDER BY id",
            (session_id,),
        ).fetchall()
        return [
            Transition(
                at=parse_time(row["at"]) or _now(),
                state=row["state"],
                accepting_jobs=None
                if row["accepting_jobs"] is None
                else bool(row["accepting_jobs"]),
                status=row["status"],
            )
            for row in rows
        ]

    def delete_jobs(self, session_id: str, job_ids: list[str]) -> None:
        """Jobs the service no longer lists (deleted there)."""
        self._execute_many(
            f"the removal of {len(job_ids)} jobs of session {session_id}",
            "DELETE FROM jobs WHERE session_id=? AND id=?",
            [(session_id, i) for i in job_ids],
        )

    def forget(self, session_id: str) -> bool | None:
        """Remove the session's row (its jobs, timeline and budget too); whether there was one,
        or None when the write is queued."""

        def write(db: sqlite3.Connection) -> bool:
            db.execute("DELETE FROM budgets WHERE scope='session' AND target=?", (session_id,))
            return db.execute("DELETE FROM sessions WHERE id=?", (session_id,)).rowcount > 0

        return self._write(f"forgetting session {session_id}", write)

    def load_sessions(self, only: Collection[str] | None = None) -> list[TrackedSession]:
        """This server's sessions (all of them when the store belongs to no server); with
        ``only``, just those of them."""
        if self.server_id is None:
            rows = self._db.execute("SELECT * FROM sessions")
        else:
            rows = self._db.execute("SELECT * FROM sessions WHERE server_id=?", (self.server_id,))
        sessions = [session_of(row) for row in rows if only is None or row["id"] in only]
        by_id = {s.id: s for s in sessions}
        for row in self._db.execute("SELECT * FROM jobs ORDER BY created, id"):
            if row["session_id"] in by_id:
                by_id[row["session_id"]].jobs.append(job_of(row))
        return sessions

    def prune(self, closed_before: datetime) -> int | None:
        """Forget sessions that closed before the given time (their jobs and timeline too).
        ``closed_at`` is the service's text ("Z", an offset, or none, with or without
        milliseconds), so it is compared as a time, not as a string. How many (None when the
        write is queued)."""

        def write(db: sqlite3.Connection) -> int:
            old = [
                row["id"]
                for row in db.execute(
                    "SELECT id, closed_at FROM sessions WHERE closed_at IS NOT NULL"
                ).fetchall()
                if (closed := parse_time(row["closed_at"])) is not None and closed < closed_before
            ]
            db.executemany("DELETE FROM sessions WHERE id=?", [(i,) for i in old])
            return len(old)

        return self._write("the removal of sessions past the retention", write)

    def setting(self, key: str) -> Any:
        row = self._db.execute("SELECT value FROM settings WHERE key=?", (key,)).fetchone()
        return None if row is None else json.loads(row["value"])

    def set_setting(self, key: str, value: Any) -> None:
        if value is None:
            self._execute(f"the setting {key}", "DELETE FROM settings WHERE key=?", (key,))
        else:
            self._execute(
                f"the setting {key}",
                "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)",
                (key, json.dumps(value)),
            )

    # ------------------------------------------------------------------ servers

    def register_server(
        self,
        *,
        host: str,
        pid: int,
        url: str | None,
        root_dir: str | None = None,
        wait_ms: int = START_WAIT_MS,
    ) -> None:
        """Say this server is alive, then adopt the sessions of servers that are gone (and of
        rows written before servers were recorded). At start, it may wait ``START_WAIT_MS``."""
        assert self.server_id is not None
        now = iso(_now())

        def claim(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO servers (id, host, pid, url, started_at, heartbeat_at, root_dir) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (self.server_id, host, pid, url, now, now, root_dir),
            )
            self._adopt(db, host)

        self._answer("this server's start", claim, wait_ms=wait_ms)

    def adopt_from_gone(self, host: str) -> list[str]:
        """Take over the sessions of servers that are gone (dead, or stopped) since: returns
        their ids, for the monitor to load and watch (``RegistryBusy``: not now)."""
        assert self.server_id is not None
        return self._answer(
            "the adoption of gone servers' sessions", lambda db: self._adopt(db, host)
        )

    def _adopt(self, db: sqlite3.Connection, host: str) -> list[str]:
        adopted: list[str] = []
        for row in db.execute(
            "SELECT DISTINCT s.server_id AS owner, v.host, v.pid, v.heartbeat_at "
            "FROM sessions s LEFT JOIN servers v ON v.id = s.server_id "
            "WHERE s.server_id IS NULL OR s.server_id != ?",
            (self.server_id,),
        ).fetchall():
            if row["owner"] is not None and alive(row, host):
                continue
            if row["owner"] is None:
                adopted += [
                    r["id"] for r in db.execute("SELECT id FROM sessions WHERE server_id IS NULL")
                ]
                db.execute(
                    "UPDATE sessions SET server_id=? WHERE server_id IS NULL",
                    (self.server_id,),
                )
            else:
                adopted += [
                    r["id"]
                    for r in db.execute(
                        "SELECT id FROM sessions WHERE server_id=?", (row["owner"],)
                    )
                ]
                db.execute(
                    "UPDATE sessions SET server_id=? WHERE server_id=?",
                    (self.server_id, row["owner"]),
                )
                db.execute("DELETE FROM servers WHERE id=?", (row["owner"],))
        return adopted

    def heartbeat(self) -> bool:
        """Say this server is alive; False if its record is gone: another server took it for
        gone (a heartbeat late by more than SERVER_STALE_SECONDS) and adopted its sessions.
        ``RegistryBusy`` when the registry cannot be written now."""
        return self._answer(
            "this server's heartbeat",
            lambda db: (
                db.execute(
                    "UPDATE servers SET heartbeat_at=? WHERE id=?", (iso(_now()), self.server_id)
                ).rowcount
                > 0
            ),
        )

    def own_session_ids(self) -> set[str]:
        """The sessions the registry says this server monitors."""
        rows = self._db.execute("SELECT id FROM sessions WHERE server_id=?", (self.server_id,))
        return {row["id"] for row in rows}

    def unregister_server(self) -> None:
        """A clean stop: the next server to start adopts this one's sessions at once."""
        self._execute("this server's stop", "DELETE FROM servers WHERE id=?", (self.server_id,))

    def owner_elsewhere(self, session_id: str, host: str) -> dict[str, Any] | None:
        """The live server, other than this one, that monitors ``session_id``; None if none."""
        row = self._db.execute(
            "SELECT v.id, v.host, v.pid, v.url, v.started_at, v.heartbeat_at FROM sessions s "
            "JOIN servers v ON v.id = s.server_id WHERE s.id=? AND s.server_id != ?",
            (session_id, self.server_id or ""),
        ).fetchone()
        if row is None or not alive(row, host):
            return None
        return dict(row)

    def notebook_sessions_elsewhere(self, notebook: str, host: str) -> list[TrackedSession]:
        """The sessions other live servers of the registry monitor that were opened from the
        notebook file ``notebook`` (an absolute path: each server's notebook paths are relative
        to its own folder), as those servers last saved them, jobs included."""
        rows = self._db.execute(
            "SELECT s.*, v.root_dir AS server_root, v.host AS server_host, v.pid AS server_pid, "
            "v.heartbeat_at AS server_heartbeat FROM sessions s JOIN servers v "
            "ON v.id = s.server_id WHERE s.server_id != ? AND s.notebook_path IS NOT NULL "
            "AND v.root_dir IS NOT NULL",
            (self.server_id or "",),
        ).fetchall()
        sessions = [
            session_of(row)
            for row in rows
            if notebook_file(row["server_root"], row["notebook_path"]) == notebook
            and alive(
                {
                    "host": row["server_host"],
                    "pid": row["server_pid"],
                    "heartbeat_at": row["server_heartbeat"],
                },
                host,
            )
        ]
        by_id = {s.id: s for s in sessions}
        if by_id:
            marks = ",".join("?" * len(by_id))
            for row in self._db.execute(
                f"SELECT * FROM jobs WHERE session_id IN ({marks}) ORDER BY created, id",  # noqa: S608 (marks only)
                list(by_id),
            ):
                by_id[row["session_id"]].jobs.append(job_of(row))
        return sessions

    # ------------------------------------------------------------------ audit

    def record_action(
        self, *, user: str | None, action: str, target: str, result: str, detail: str | None = None
    ) -> Audit:
        """Add an audit row (stamped now, even when the write is queued); the ``Audit`` settles
        its result later."""
        audit = Audit()
        row = (iso(_now()), user, action, target, result, detail)

        def write(db: sqlite3.Connection) -> None:
            cursor = db.execute(
                "INSERT INTO actions (at, user, action, target, result, detail) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                row,
            )
            audit.id = int(cursor.lastrowid or 0)

        self._write(f"the audit of the {action} of {target}", write)
        return audit

    def settle_action(self, audit: Audit, result: str, detail: str | None = None) -> None:
        """The outcome of an action recorded as "requested" before it was made (written after
        that row, so its id is known by then)."""
        self._write(
            "an action's outcome",
            lambda db: db.execute(
                "UPDATE actions SET result=?, detail=COALESCE(?, detail) WHERE id=?",
                (result, detail, audit.id),
            ),
        )

    def actions(self, target: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT at, user, action, target, result, detail FROM actions"
        rows = (
            self._db.execute(query + " WHERE target=? ORDER BY id", (target,))
            if target
            else self._db.execute(query + " ORDER BY id")
        )
        return [dict(row) for row in rows]
