"""The SQLite registry: migrations, durability across kill -9, pruning, no credentials."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jupyter_session_monitor.domain.models import AccountRef, JobRecord, TrackedSession, Transition
from jupyter_session_monitor.registry.migrations import MIGRATIONS
from jupyter_session_monitor.registry.store import Store

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def tracked(session_id: str, **changes: object) -> TrackedSession:
    session = TrackedSession(
        id=session_id,
        account=AccountRef(name="work", channel="ibm_quantum_platform", instance="crn:x"),
        source="kernel",
        tracked_at=NOW,
        kernel_id="k1",
        notebook_path="analysis/vqe.ipynb",
        mode="dedicated",
        backend="ibm_torino",
        body={"id": session_id, "state": "active", "closed_at": None},
    )
    for key, value in changes.items():
        setattr(session, key, value)
    return session


def test_a_new_database_is_migrated_to_the_latest_version(tmp_path: Path) -> None:
    store = Store(tmp_path / "monitor.sqlite")

    assert store.schema_version == len(MIGRATIONS)
    assert store.load_sessions() == []


def test_a_version_1_database_keeps_its_jobs_when_migrated(tmp_path: Path) -> None:
    path = tmp_path / "monitor.sqlite"
    raw = sqlite3.connect(path, isolation_level=None)
    raw.executescript(MIGRATIONS[0] + ";PRAGMA user_version=1;")
    raw.execute("INSERT INTO sessions (id, source, tracked_at) VALUES ('s1', 'kernel', 'x')")
    raw.execute(
        "INSERT INTO jobs (id, session_id, program_id, status, tags, created) "
        "VALUES ('j1', 's1', 'sampler', 'DONE', '[]', NULL)"
    )
    raw.close()

    store = Store(path)
    (session,) = store.load_sessions()

    assert store.schema_version == len(MIGRATIONS)
    assert [(j.id, j.usage_seconds) for j in session.jobs] == [("j1", None)]
    store.save_jobs("s1", [JobRecord("j1", "s1", "sampler", "DONE", [], None, 2.5)])
    assert [j.usage_seconds for j in Store(path).load_sessions()[0].jobs] == [2.5]


def test_sessions_jobs_and_timeline_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "monitor.sqlite"
    store = Store(path)
    store.save_session(tracked("s1"))
    store.save_jobs(
        "s1", [JobRecord("j1", "s1", "sampler", "RUNNING", ["a"], "2026-01-01T12:00:01Z")]
    )
    store.save_jobs("s1", [JobRecord("j1", "s1", "sampler", "DONE", ["a"], "2026-01-01T12:00:01Z")])
    store.add_transition("s1", Transition(NOW, "active", True, "In progress, accepting new jobs"))
    store.close()

    reopened = Store(path)
    (session,) = reopened.load_sessions()

    assert session.notebook_path == "analysis/vqe.ipynb"
    assert session.account == AccountRef("work", "ibm_quantum_platform", "crn:x", None)
    assert [(j.id, j.status, j.tags) for j in session.jobs] == [("j1", "DONE", ["a"])]
    assert [t.state for t in reopened.transitions("s1")] == ["active"]


def test_each_write_is_committed_as_it_is_made_so_a_killed_server_keeps_all_of_them(
    tmp_path: Path,
) -> None:
    # What this proves: every save is its own committed transaction (no batching left in the
    # process's memory), so a server killed right after its last write loses none. A process
    # crash cannot lose committed SQLite pages anyway (the OS has them); a power loss, with
    # synchronous=NORMAL in WAL mode, may lose the last transactions, which this does not test.
    path = tmp_path / "monitor.sqlite"
    writer = f"""
import os, signal, sys
sys.path.insert(0, {str(Path(__file__).parent.parent)!r})
from tests.test_store import tracked
from jupyter_session_monitor.registry.store import Store
store = Store({str(path)!r})
for n in range(50):
    store.save_session(tracked(f"s{{n}}"))
os.kill(os.getpid(), signal.SIGKILL)
"""
    result = subprocess.run([sys.executable, "-c", writer], check=False)

    assert result.returncode == -signal.SIGKILL
    assert len(Store(path).load_sessions()) == 50


def test_forgetting_a_session_removes_its_jobs_and_timeline(tmp_path: Path) -> None:
    store = Store(tmp_path / "monitor.sqlite")
    store.save_session(tracked("s1"))
    store.save_jobs("s1", [JobRecord("j1", "s1", "sampler", "DONE", [], None)])
    store.add_transition("s1", Transition(NOW, "closed", False, "Closed"))

    assert store.forget("s1") is True
    assert store.forget("s1") is False
    assert store.load_sessions() == []
    assert store.transitions("s1") == []


def test_prune_drops_only_sessions_closed_before_the_cutoff(tmp_path: Path) -> None:
    store = Store(tmp_path / "monitor.sqlite")
    store.save_session(
        tracked("old", body={"state": "closed", "closed_at": "2025-12-01T00:00:00.000Z"})
    )
    store.save_session(
        tracked("recent", body={"state": "closed", "closed_at": "2026-01-01T11:00:00.000Z"})
    )
    store.save_session(tracked("open"))
    # The service's text varies: "2025-12-26T01:00:00+14:00" is 11:00 UTC on the 25th, before
    # the cutoff, though as text it sorts after it; a time without an offset is UTC.
    store.save_session(
        tracked("east", body={"state": "closed", "closed_at": "2025-12-26T01:00:00+14:00"})
    )
    store.save_session(
        tracked("west", body={"state": "closed", "closed_at": "2025-12-25T06:00:00-08:00"})
    )
    store.save_session(
        tracked("naive", body={"state": "closed", "closed_at": "2025-12-01T11:00:00"})
    )

    removed = store.prune(datetime(2025, 12, 25, 12, tzinfo=UTC))

    assert removed == 3
    assert sorted(s.id for s in store.load_sessions()) == ["open", "recent", "west"]


def test_a_database_from_a_newer_version_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "monitor.sqlite"
    Store(path).close()
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    raw.close()

    with pytest.raises(RuntimeError, match="Upgrade jupyter_session_monitor"):
        Store(path)


def test_the_schema_has_no_place_for_credentials(tmp_path: Path) -> None:
    store = Store(tmp_path / "monitor.sqlite")
    columns = {
        column[1]
        for table in ("sessions", "jobs", "transitions", "actions")
        for column in store._db.execute(f"PRAGMA table_info({table})")
    }

    assert not {c for c in columns if "token" in c or "key" in c or "secret" in c}


def test_actions_are_audited(tmp_path: Path) -> None:
    store = Store(tmp_path / "monitor.sqlite")
    store.record_action(user="alice", action="close", target="s1", result="accepted")

    (entry,) = store.actions("s1")
    assert (entry["user"], entry["action"], entry["result"]) == ("alice", "close", "accepted")
    assert entry["at"].endswith("Z")
    assert os.path.exists(tmp_path / "monitor.sqlite")


# ---------------------------------------------------------------- several servers, one file


def _dead_pid() -> int:
    """The pid of a process that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_each_server_loads_its_own_sessions_and_adopts_only_those_of_servers_that_are_gone(
    tmp_path: Path,
) -> None:
    path = tmp_path / "registry.sqlite"
    legacy = Store(path)  # rows written before servers were recorded belong to nobody
    legacy.save_session(tracked("s-legacy"))
    legacy.close()
    live = Store(path, server_id="live")
    live.register_server(host="here", pid=os.getpid(), url="http://live/")
    live.save_session(tracked("s-live"))
    gone = Store(path, server_id="gone")
    gone.register_server(host="here", pid=_dead_pid(), url="http://gone/")
    gone.save_session(tracked("s-gone"))

    newcomer = Store(path, server_id="new")
    newcomer.register_server(host="here", pid=os.getpid(), url="http://new/")

    assert {s.id for s in newcomer.load_sessions()} == {"s-gone"}  # the legacy row went to live
    assert {s.id for s in live.load_sessions()} == {"s-live", "s-legacy"}
    owner = newcomer.owner_elsewhere("s-live", "here")
    assert owner is not None
    assert (owner["id"], owner["pid"], owner["url"]) == ("live", os.getpid(), "http://live/")
    assert newcomer.owner_elsewhere("s-gone", "here") is None
    # Saving another live server's session changes nothing of its row.
    newcomer.save_session(tracked("s-live", notebook_path="stolen.ipynb"))
    assert next(s for s in live.load_sessions() if s.id == "s-live").notebook_path != "stolen.ipynb"
    for store in (live, gone, newcomer):
        store.close()


def test_a_server_that_stopped_cleanly_or_stopped_beating_is_gone(tmp_path: Path) -> None:
    path = tmp_path / "registry.sqlite"
    stopped = Store(path, server_id="stopped")
    stopped.register_server(host="here", pid=os.getpid(), url=None)
    stopped.save_session(tracked("s-1"))
    stopped.unregister_server()
    silent = Store(path, server_id="silent")
    silent.register_server(host="elsewhere", pid=1, url=None)  # another host: only its beat
    silent.save_session(tracked("s-2"))
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE servers SET heartbeat_at='2020-01-01T00:00:00.000Z' WHERE id='silent'")

    newcomer = Store(path, server_id="new")
    newcomer.register_server(host="here", pid=os.getpid(), url=None)

    assert {s.id for s in newcomer.load_sessions()} == {"s-1", "s-2"}
    for store in (stopped, silent, newcomer):
        store.close()


def test_a_budget_outcome_adds_to_what_the_registry_holds_when_written(tmp_path: Path) -> None:
    # Review of #25 item 12: a notebook budget's outcome was made from this server's copy of the
    # registry, which lags while its writes are queued behind another process's lock: the
    # sessions another server recorded meanwhile were written over. The text is now made from
    # the registry's own when the write happens.
    import time

    from jupyter_session_monitor.domain.models import Budget

    path = tmp_path / "registry.sqlite"
    store = Store(path, server_id="a")
    budget = Budget(
        "notebook", "vqe.ipynb", "close", datetime(2026, 12, 7, tzinfo=UTC), seconds=60.0
    )
    store.save_budget(budget)
    other = sqlite3.connect(path, isolation_level=None, timeout=5.0)
    other.execute("BEGIN IMMEDIATE")  # another server writes; this one's write must wait
    store.update_budget_outcome(
        budget, lambda earlier: f"{earlier}, s1" if earlier else "closed s1"
    )
    assert store.behind
    other.execute("UPDATE budgets SET outcome='closed s2' WHERE target='vqe.ipynb'")
    other.execute("COMMIT")
    deadline = time.monotonic() + 10.0
    while store.behind and time.monotonic() < deadline:
        time.sleep(0.02)

    (held,) = store.load_budgets()
    assert held.outcome == "closed s2, s1"
    other.close()
    store.close()
