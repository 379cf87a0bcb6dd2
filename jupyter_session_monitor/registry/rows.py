"""Rows of the registry as records, and whether a recorded server still runs."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import UTC, datetime
from typing import Any

from jupyter_session_monitor.domain.models import AccountRef, JobRecord, TrackedSession
from jupyter_session_monitor.protocol.derive import parse_time

#: A server whose heartbeat is older than this is taken to be gone (its sessions are adopted).
SERVER_STALE_SECONDS = 90.0


def _now() -> datetime:
    return datetime.now(UTC)


def pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: it exists
    return True


def alive(server: sqlite3.Row | dict[str, Any], host: str) -> bool:
    """Whether a recorded server still runs: on this host its process must exist; anywhere its
    heartbeat must be recent."""
    if server["heartbeat_at"] is None:
        return False
    beat = parse_time(server["heartbeat_at"])
    if beat is None or (_now() - beat).total_seconds() > SERVER_STALE_SECONDS:
        return False
    return not (server["host"] == host and not pid_running(int(server["pid"])))


def job_of(row: sqlite3.Row) -> JobRecord:
    return JobRecord(
        id=row["id"],
        session_id=row["session_id"],
        program_id=row["program_id"],
        status=row["status"],
        tags=json.loads(row["tags"]),
        created=row["created"],
        usage_seconds=row["usage_seconds"],
        reason=json.loads(row["reason"]) if row["reason"] else None,
        estimated_seconds=row["estimated_seconds"],
        started=row["started"],
        finished=row["finished"],
    )


def session_of(row: sqlite3.Row) -> TrackedSession:
    return TrackedSession(
        id=row["id"],
        account=AccountRef(row["account_name"], row["channel"], row["instance"], row["url"]),
        source=row["source"],
        tracked_at=parse_time(row["tracked_at"]) or _now(),
        kernel_id=row["kernel_id"],
        notebook_path=row["notebook_path"],
        mode=row["mode"],
        backend=row["backend"],
        body=json.loads(row["body"]) if row["body"] else None,
        last_polled_at=parse_time(row["last_polled_at"]),
        orphaned=bool(row["orphaned"]),
        last_action=row["last_action"],
        not_found=bool(row["not_found"]),
        cell=json.loads(row["cell"]) if row["cell"] else None,
        job_cells=json.loads(row["job_cells"]) if row["job_cells"] else {},
        billed_rate=json.loads(row["billed_rate"]) if row["billed_rate"] else None,
    )
