"""``SessionMonitor`` alone, against a scripted gateway (no service, no server): the rules whose
timing matters, tested fast and deterministically."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from jupyter_session_monitor.domain.errors import MonitorError
from jupyter_session_monitor.domain.models import AccountRef, TrackedSession
from jupyter_session_monitor.engine.monitor import MonitorConfig
from jupyter_session_monitor.engine.poller import Intervals
from jupyter_session_monitor.policies.monitor import SessionMonitor
from jupyter_session_monitor.registry.store import Store
from jupyter_session_monitor.service.runtime import RuntimeCallError


class ScriptedGateway:
    """Answers like the service for one open session with no jobs; counts the calls."""

    def __init__(self) -> None:
        self.session_reads = 0
        self.job_reads = 0
        self.read = asyncio.Event()

    async def session(self, account: AccountRef, session_id: str) -> dict[str, Any]:
        self.session_reads += 1
        self.read.set()
        return {"id": session_id, "state": "open", "accepting_jobs": True, "backend_name": "b"}

    async def session_for_action(self, account: AccountRef, session_id: str) -> dict[str, Any]:
        return await self.session(account, session_id)

    async def session_jobs(
        self, account: AccountRef, session_id: str, *, limit: int, skip: int = 0
    ) -> tuple[list[Any], int]:
        self.job_reads += 1
        return [], 0

    def shutdown(self) -> None:
        pass

    def clock_offset(self, account: AccountRef) -> float:
        return 0.0

    def hold(self) -> asyncio.Event:
        """From now on the session read waits until the returned event is set."""
        release = asyncio.Event()
        original = self.session

        async def held(account: AccountRef, session_id: str) -> dict[str, Any]:
            await release.wait()
            return await original(account, session_id)

        self.session = held  # type: ignore[method-assign]
        return release


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "registry.sqlite")


async def test_a_viewer_arriving_brings_polls_spaced_for_nobody_forward(store: Store) -> None:
    gateway = ScriptedGateway()
    config = MonitorConfig(
        intervals=Intervals(idle=0.5, active=0.5, unwatched_factor=40.0), watched_for=0.3
    )
    monitor = SessionMonitor(store, gateway, config)  # type: ignore[arg-type]
    await monitor.start()
    try:
        await monitor.track("s1", AccountRef())
        await asyncio.sleep(0.4)  # nobody watched: the next poll is planned 20 s out
        gateway.read.clear()
        reads = gateway.session_reads

        monitor.watched_now()  # a page says it is visible

        await asyncio.wait_for(gateway.read.wait(), 2.0)
        assert gateway.session_reads == reads + 1
    finally:
        await monitor.stop()


async def test_a_poll_that_changes_nothing_pushes_no_view(store: Store) -> None:
    gateway = ScriptedGateway()
    monitor = SessionMonitor(store, gateway, MonitorConfig())  # type: ignore[arg-type]
    changes: list[dict[str, Any]] = []
    monitor.subscribe(changes.append)
    await monitor.start()
    try:
        monitor.changes.POLLED_NOTICE_SECONDS = 0.05
        await monitor.track("s1", AccountRef())
        for _ in range(3):
            gateway.read.clear()
            await asyncio.wait_for(monitor.engine._scheduler.poll_now("s1"), 2.0)
        await asyncio.sleep(0.1)
    finally:
        await monitor.stop()
    assert [c["kind"] for c in changes][:1] == ["added"]
    assert "updated" not in [c["kind"] for c in changes[1:]]
    assert changes[-1]["kind"] == "polled" and "s1" in changes[-1]["polled"]


async def test_a_listener_that_raises_does_not_stop_the_poll(store: Store) -> None:
    gateway = ScriptedGateway()
    monitor = SessionMonitor(store, gateway, MonitorConfig())  # type: ignore[arg-type]
    seen: list[str] = []

    def broken(change: dict[str, Any]) -> None:
        raise RuntimeError("a broken listener")

    monitor.subscribe(broken)
    monitor.subscribe(lambda change: seen.append(change["kind"]))
    await monitor.start()
    try:
        await monitor.track("s1", AccountRef())
    finally:
        await monitor.stop()
    assert seen[:1] == ["added"]
    assert monitor.get("s1").body is not None


async def test_forgetting_during_a_poll_in_flight_does_not_bring_it_back(store: Store) -> None:
    gateway = ScriptedGateway()
    monitor = SessionMonitor(store, gateway, MonitorConfig())  # type: ignore[arg-type]
    await monitor.start()
    try:
        await monitor.track("s1", AccountRef())
        release = gateway.hold()
        polled = monitor.engine._scheduler.poll_now("s1")
        await asyncio.sleep(0.05)  # the poll is waiting on the service
        monitor.forget("s1")
        release.set()
        await asyncio.wait_for(polled, 2.0)
    finally:
        await monitor.stop()
    assert "s1" not in monitor.sessions
    assert [s.id for s in Store(store.path).load_sessions()] == []


async def test_a_kernels_report_and_a_users_request_together_track_once(store: Store) -> None:
    gateway = ScriptedGateway()
    release = gateway.hold()
    monitor = SessionMonitor(store, gateway, MonitorConfig())  # type: ignore[arg-type]
    changes: list[dict[str, Any]] = []
    monitor.subscribe(changes.append)
    await monitor.start()
    try:
        by_user = asyncio.ensure_future(monitor.track("s1", AccountRef()))
        by_kernel = asyncio.ensure_future(
            monitor.track(
                "s1", AccountRef(), source="kernel", kernel_id="k1", notebook_path="a.ipynb"
            )
        )
        await asyncio.sleep(0.05)
        release.set()
        await asyncio.gather(by_user, by_kernel)
    finally:
        await monitor.stop()
    assert [c["kind"] for c in changes].count("added") == 1
    session = monitor.sessions["s1"]
    assert (session.kernel_id, session.notebook_path) == ("k1", "a.ipynb")  # nothing lost


async def test_a_first_report_with_its_cell_leaves_no_concurrent_tracker_waiting(
    store: Store,
) -> None:
    # #25 item 8: the first caller left through a ``return`` inside ``try`` when the kernel's
    # report named its cell, so the shared future was never resolved and every concurrent
    # caller (a kernel's retry, discovery, "Track by id") waited for ever.
    gateway = ScriptedGateway()
    release = gateway.hold()
    monitor = SessionMonitor(store, gateway, MonitorConfig())  # type: ignore[arg-type]
    await monitor.start()
    try:
        by_kernel = asyncio.ensure_future(
            monitor.track(
                "s1",
                AccountRef(),
                source="kernel",
                kernel_id="k1",
                notebook_path="a.ipynb",
                cell={"index": 3},
            )
        )
        by_user = asyncio.ensure_future(monitor.track("s1", AccountRef()))
        await asyncio.sleep(0.05)
        release.set()
        first, second = await asyncio.wait_for(asyncio.gather(by_kernel, by_user), 5.0)
    finally:
        await monitor.stop()
    assert first is second and first.cell == {"index": 3}


async def test_a_concurrent_tracker_tries_itself_after_the_first_one_failed(store: Store) -> None:
    # The first caller's failure (its own account refused) is not the second caller's.
    gateway = ScriptedGateway()
    release = gateway.hold()
    original = gateway.session

    async def refuse_the_other_account(account: AccountRef, session_id: str) -> dict[str, Any]:
        if account.name == "other":
            await release.wait()
            raise RuntimeCallError("account", "No saved account named 'other'.")
        return await original(account, session_id)

    gateway.session = refuse_the_other_account  # type: ignore[method-assign]
    monitor = SessionMonitor(store, gateway, MonitorConfig())  # type: ignore[arg-type]
    await monitor.start()
    try:
        refused = asyncio.ensure_future(monitor.track("s1", AccountRef(name="other")))
        await asyncio.sleep(0.05)
        tracked = asyncio.ensure_future(monitor.track("s1", AccountRef()))
        await asyncio.sleep(0.05)
        release.set()
        with pytest.raises(MonitorError) as error:
            await asyncio.wait_for(refused, 5.0)
        session = await asyncio.wait_for(tracked, 5.0)
    finally:
        await monitor.stop()
    assert error.value.kind == "account"
    assert session.id == "s1" and monitor.sessions["s1"].account == AccountRef()


async def test_discovery_goes_on_past_a_session_another_live_server_monitors(
    tmp_path: Path,
) -> None:
    # #25 item 9: one refusal ("elsewhere": a second live server's session) ended the round, so
    # every session listed after it was never found, round after round.
    path = tmp_path / "registry.sqlite"
    other = Store(path, server_id="server-b")  # a live server: this very process
    gateway = ScriptedGateway()

    async def listed(account: AccountRef) -> list[dict[str, Any]]:
        return [{"id": "theirs"}, {"id": "mine-1"}, {"id": "mine-2"}]

    gateway.open_workloads = listed  # type: ignore[attr-defined]
    their_monitor = SessionMonitor(other, gateway, MonitorConfig())  # type: ignore[arg-type]
    await their_monitor.start()
    monitor = SessionMonitor(
        Store(path, server_id="server-a"),
        gateway,  # type: ignore[arg-type]
        MonitorConfig(),
    )
    await monitor.start()
    try:
        await their_monitor.track("theirs", AccountRef())
        assert await monitor.discover() == 2
    finally:
        await monitor.stop()
        await their_monitor.stop()
    assert set(monitor.sessions) == {"mine-1", "mine-2"}


async def test_an_orphan_close_is_armed_again_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "registry.sqlite"
    config = MonitorConfig(orphan_policy="close", orphan_grace_seconds=0.2)
    closed: list[str] = []
    closing = asyncio.Event()

    class Closing(ScriptedGateway):
        async def close(self, account: AccountRef, session_id: str) -> None:
            closed.append(session_id)
            closing.set()

    first = SessionMonitor(Store(path, server_id="a"), Closing(), MonitorConfig())  # type: ignore[arg-type]
    await first.start()
    await first.track("s1", AccountRef(), source="kernel", kernel_id="k1")
    first.kernel_gone("k1", "its kernel restarted")  # flagged; this server's policy: flag only
    await first.stop()

    second = SessionMonitor(Store(path, server_id="b"), Closing(), config)  # type: ignore[arg-type]
    await second.start()
    try:
        await asyncio.wait_for(closing.wait(), 2.0)
    finally:
        await second.stop()
    assert closed == ["s1"]


async def test_the_first_success_brings_the_accounts_other_failing_sessions_back(
    store: Store,
) -> None:
    from jupyter_session_monitor.service.runtime import RuntimeCallError

    gateway = ScriptedGateway()
    failing = True
    original = gateway.session
    reads: list[str] = []

    async def flaky(account: AccountRef, session_id: str) -> dict[str, Any]:
        reads.append(session_id)
        if failing:
            raise RuntimeCallError("unauthorized", "401", 401)
        return await original(account, session_id)

    config = MonitorConfig(intervals=Intervals(error_base=30.0, error_max=30.0))
    monitor = SessionMonitor(store, gateway, config)  # type: ignore[arg-type]
    await monitor.start()
    try:
        for name in ("s1", "s2", "s3", "s4"):
            await monitor.track(name, AccountRef())
        gateway.session = flaky  # type: ignore[method-assign]
        # s4 was not polled during the outage: its success alone must bring the others back.
        for name in ("s1", "s2", "s3"):
            await asyncio.wait_for(monitor.engine._scheduler.poll_now(name), 2.0)
        assert all(monitor.get(n).stale for n in ("s1", "s2", "s3"))  # next tries in 30 s
        failing = False

        await asyncio.wait_for(monitor.engine._scheduler.poll_now("s4"), 2.0)  # one success...

        fresh = asyncio.Event()
        monitor.subscribe(
            lambda change: (
                fresh.set() if not any(monitor.get(n).stale for n in ("s2", "s3")) else None
            )
        )
        await asyncio.wait_for(fresh.wait(), 2.0)  # ...brings the others back, not in 30 s
    finally:
        await monitor.stop()


async def test_a_call_waiting_for_a_thread_is_not_taken_for_a_silent_service() -> None:
    import time as clock

    from jupyter_session_monitor.service.runtime import RuntimeGateway

    gateway = RuntimeGateway(max_workers=1, request_timeout=0.5)

    def quick_call(account: AccountRef, operation: Any, call: str) -> str:
        clock.sleep(0.3)  # the service answers in 0.3 s, well within the 0.5 s deadline
        return "answer"

    gateway._run = quick_call  # type: ignore[method-assign]
    try:
        # One thread, four calls at once: the last waits 0.9 s for the thread.
        answers = await asyncio.gather(
            *(gateway._call(AccountRef(), lambda client: None) for _ in range(4))
        )
    finally:
        gateway.shutdown()
    assert answers == ["answer"] * 4


async def test_an_action_is_audited_before_the_service_is_asked(store: Store) -> None:
    gateway = ScriptedGateway()
    release = asyncio.Event()
    asked = asyncio.Event()

    async def close(account: AccountRef, session_id: str) -> None:
        asked.set()
        await release.wait()

    gateway.close = close  # type: ignore[attr-defined]
    monitor = SessionMonitor(store, gateway, MonitorConfig())  # type: ignore[arg-type]
    await monitor.start()
    try:
        await monitor.track("s1", AccountRef())
        closing = asyncio.ensure_future(monitor.close("s1", "alice"))
        await asyncio.wait_for(asked.wait(), 2.0)

        # A server killed now would leave this row: the outcome honestly unknown.
        in_flight = [(a["action"], a["result"]) for a in store.actions("s1")]
        release.set()
        await closing
    finally:
        await monitor.stop()
    assert in_flight == [("close", "requested")]
    assert [(a["action"], a["result"]) for a in Store(store.path).actions("s1")] == [
        ("close", "accepted")
    ]


async def test_stopping_with_work_in_flight_touches_nothing_after_the_store_closed(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    gateway = ScriptedGateway()
    closes: list[str] = []

    async def close(account: AccountRef, session_id: str) -> None:
        closes.append(session_id)

    gateway.close = close  # type: ignore[attr-defined]
    config = MonitorConfig(orphan_policy="close", orphan_grace_seconds=0.0)
    monitor = SessionMonitor(store, gateway, config)  # type: ignore[arg-type]
    await monitor.start()
    await monitor.track("s1", AccountRef(), kernel_id="k1")
    await monitor.track("s2", AccountRef(), kernel_id="k2")
    monitor.kernel_gone("k2", "restarted")  # an orphan close is due at once
    release = gateway.hold()
    polling = asyncio.ensure_future(monitor.engine._scheduler.poll_now("s1"))  # a read in flight

    await monitor.stop()  # must not raise
    release.set()
    # The server shuts its kernels down after the extensions stopped.
    monitor.kernel_gone("k1", "shut down")
    await asyncio.gather(polling, return_exceptions=True)
    await asyncio.sleep(0)  # any callback still due would run now

    assert closes == []  # the orphan close was not carried out by a stopping server
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    with pytest.raises(Exception, match="closed database"):
        store.save_session(monitor.get("s1"))  # the store is closed: nothing wrote to it


async def test_a_session_with_a_budget_is_read_at_the_active_pace_while_open(
    store: Store,
) -> None:
    from jupyter_session_monitor.domain.models import SOURCE_KERNEL

    gateway = ScriptedGateway()  # an open session with no job yet
    config = MonitorConfig(intervals=Intervals(idle=30.0, active=0.5))
    monitor = SessionMonitor(store, gateway, config)  # type: ignore[arg-type]
    await monitor.start()
    try:
        session = await monitor.track("s1", AccountRef(), source=SOURCE_KERNEL, kernel_id="k1")
        before = monitor.engine.polling.delay(session, 0)
        spec = {"seconds": 60.0, "amount": None, "action": "close", "threshold": 0.8}
        monitor.budgets.set("session", "s1", spec, "alice")
        after = monitor.engine.polling.delay(session, 0)
    finally:
        await monitor.stop()
    # A notebook's session is otherwise read at the idle pace until it runs a job (its kernel
    # reports the first one); with a budget, the first billed seconds must be seen in time.
    assert before is not None and before >= 30.0
    assert after == 0.5


async def test_a_close_the_service_accepted_is_not_an_error_when_the_registry_is_locked(
    tmp_path: Path,
) -> None:
    # #25 item 12: another server held the registry's write lock just after the service closed
    # the session: the answer was a 500 and the audit kept "requested". The service acted: the
    # close succeeds, and the registry gets the writes once the lock is gone.
    path = tmp_path / "registry.sqlite"
    other = sqlite3.connect(path, isolation_level=None)

    class LockedAfterClosing(ScriptedGateway):
        async def close(self, account: AccountRef, session_id: str) -> None:
            other.execute("BEGIN IMMEDIATE")  # another server writes at that moment

    store = Store(path)
    monitor = SessionMonitor(store, LockedAfterClosing(), MonitorConfig())  # type: ignore[arg-type]
    await monitor.start()
    try:
        await monitor.track("s1", AccountRef())
        session = await monitor.close("s1", "someone")
        assert session.last_action == "close"
        assert [a["result"] for a in store.actions("s1")] == ["requested"]  # not written yet
        assert store.behind
        other.execute("ROLLBACK")
        assert await asyncio.to_thread(store.flush, 5.0)
        assert [a["result"] for a in store.actions("s1")] == ["accepted"]
    finally:
        with contextlib.suppress(sqlite3.Error):
            other.execute("ROLLBACK")
        other.close()
        await monitor.stop()


class LoopLag:
    """The longest the event loop went without running a 10 ms ticker (what every other
    request of the Jupyter server waits while the loop is blocked)."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task = asyncio.ensure_future(self._tick())

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.01)
            self.worst = max(self.worst, loop.time() - before - 0.01)

    async def stop(self) -> float:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        return self.worst


async def test_a_registry_locked_by_another_process_never_stalls_the_server(
    tmp_path: Path,
) -> None:
    # #25 item 12: every save waited up to the 5 s busy timeout on the event loop while another
    # process (a second server, a backup, a sqlite3 shell) held the registry's write lock: the
    # whole Jupyter server froze, poll after poll. Now the loop waits at most 100 ms once, the
    # writes queue in order, and they all land when the lock is gone.
    class Closing(ScriptedGateway):
        async def close(self, account: AccountRef, session_id: str) -> None:
            pass

    path = tmp_path / "registry.sqlite"
    store = Store(path, server_id="a")
    monitor = SessionMonitor(store, Closing(), MonitorConfig())  # type: ignore[arg-type]
    await monitor.start()
    other = sqlite3.connect(path, isolation_level=None)
    try:
        await monitor.track("s1", AccountRef())
        other.execute("BEGIN IMMEDIATE")
        lag = LoopLag()
        for _ in range(3):
            await monitor.refresh("s1", within=5.0)  # each poll saves the session
        await monitor.close("s1", "someone")
        worst = await lag.stop()

        assert worst < 1.0, f"the event loop was blocked {worst:.2f} s"
        assert store.behind and monitor.sessions["s1"].last_action == "close"
        other.execute("ROLLBACK")
        assert await asyncio.to_thread(store.flush, 10.0)
        reader = Store(path)
        (saved,) = reader.load_sessions()
        assert saved.last_action == "close"
        assert [a["result"] for a in reader.actions("s1")] == ["accepted"]
        reader.close()
    finally:
        with contextlib.suppress(sqlite3.Error):
            other.execute("ROLLBACK")
        other.close()
        await monitor.stop()


async def test_a_server_starts_on_a_registry_locked_for_a_moment(tmp_path: Path) -> None:
    # Review of #25 item 12: the start's housekeeping write queued behind a lock, and the
    # server's own record, which needs the registry's answer, was then refused at once: the
    # monitor stayed half-started (no heartbeat, no polling) for good.
    path = tmp_path / "registry.sqlite"
    Store(path).close()  # the file exists, as another server of it made it
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    store = Store(path, server_id="a")
    monitor = SessionMonitor(store, ScriptedGateway(), MonitorConfig())  # type: ignore[arg-type]
    other.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.5, other.execute, ("ROLLBACK",))  # the loop waits meanwhile
    release.start()
    try:
        await monitor.start()  # waits out the lock (up to 5 s at start), then starts

        assert monitor.engine._heartbeat is not None
        await monitor.track("s1", AccountRef())
        assert "s1" in monitor.sessions
    finally:
        release.cancel()
        with contextlib.suppress(sqlite3.Error):
            other.execute("ROLLBACK")
        other.close()
        await monitor.stop()


async def test_tracking_goes_on_while_registry_writes_are_queued(tmp_path: Path) -> None:
    # Review of #25 item 12: tracking asked the registry to adopt gone servers' sessions first,
    # and that was refused while writes were queued: every kernel's report got a 503.
    path = tmp_path / "registry.sqlite"
    store = Store(path, server_id="a")
    monitor = SessionMonitor(store, ScriptedGateway(), MonitorConfig())  # type: ignore[arg-type]
    await monitor.start()
    other = sqlite3.connect(path, isolation_level=None)
    try:
        await monitor.track("s1", AccountRef())
        other.execute("BEGIN IMMEDIATE")
        await monitor.refresh("s1", within=2.0)  # its save queues
        assert store.behind

        await monitor.track("s2", AccountRef())

        assert "s2" in monitor.sessions
        other.execute("ROLLBACK")
        assert await asyncio.to_thread(store.flush, 10.0)
        assert {s.id for s in Store(path).load_sessions()} == {"s1", "s2"}
    finally:
        with contextlib.suppress(sqlite3.Error):
            other.execute("ROLLBACK")
        other.close()
        await monitor.stop()


async def test_writes_waiting_for_the_registry_are_a_metric(tmp_path: Path) -> None:
    # An admin sees a registry that lags (another process holding its lock) on /metrics.
    from jupyter_session_monitor.server.metrics import MonitorCollector

    path = tmp_path / "registry.sqlite"
    store = Store(path, server_id="a")
    monitor = SessionMonitor(store, ScriptedGateway(), MonitorConfig())  # type: ignore[arg-type]
    await monitor.start()
    other = sqlite3.connect(path, isolation_level=None)

    def queued() -> float:
        (family,) = [
            f
            for f in MonitorCollector(monitor).collect()
            if f.name == "qiskit_session_monitor_registry_queued_writes"
        ]
        return float(family.samples[0].value)

    try:
        await monitor.track("s1", AccountRef())
        assert queued() == 0
        other.execute("BEGIN IMMEDIATE")
        await monitor.refresh("s1", within=2.0)
        assert queued() >= 1
        other.execute("ROLLBACK")
        assert await asyncio.to_thread(store.flush, 10.0)
        assert queued() == 0
    finally:
        with contextlib.suppress(sqlite3.Error):
            other.execute("ROLLBACK")
        other.close()
        await monitor.stop()


class BilledGateway(ScriptedGateway):
    """An active dedicated session whose billed time the test sets."""

    def __init__(self) -> None:
        super().__init__()
        self.elapsed = 0.0
        self.closed: list[str] = []

    async def session(self, account: AccountRef, session_id: str) -> dict[str, Any]:
        self.session_reads += 1
        self.read.set()
        return {
            "id": session_id,
            "state": "active",
            "accepting_jobs": True,
            "backend_name": "b",
            "mode": "dedicated",
            "elapsed_time": self.elapsed,
        }

    async def close(self, account: AccountRef, session_id: str) -> None:
        self.closed.append(session_id)


async def test_a_budget_removed_on_another_server_is_never_acted_on(tmp_path: Path) -> None:
    # #25 item 6: budgets were read once at start; a budget removed on server B was still
    # enforced by server A, and A could write it back.
    path = tmp_path / "registry.sqlite"
    gateway = BilledGateway()
    a = SessionMonitor(Store(path, server_id="a"), gateway, MonitorConfig())  # type: ignore[arg-type]
    b = SessionMonitor(Store(path, server_id="b"), ScriptedGateway(), MonitorConfig())  # type: ignore[arg-type]
    await a.start()
    try:
        await a.track("s1", AccountRef())
        a.budgets.set(
            "session",
            "s1",
            {"seconds": 10.0, "amount": None, "action": "close", "threshold": 0.8},
            "someone",
        )
        await b.start()
        b.budgets.remove("session", "s1", "someone else")  # B holds the registry's budgets too

        gateway.elapsed = 60.0  # far over the old budget
        await a.refresh("s1", within=2.0)  # a poll, and the budget check that follows it
        await asyncio.gather(*a.budgets._tasks)  # an action it may have started

        assert gateway.closed == []
        assert a.budgets.for_session(a.sessions["s1"]) is None
        assert a.store.load_budgets() == []  # and A did not write it back
    finally:
        await b.stop()
        await a.stop()


async def test_a_budget_waits_while_the_registry_is_locked_and_acts_once_it_answers(
    tmp_path: Path,
) -> None:
    # #25 item 12 with item 6: a budget acts only on what the registry still holds. While
    # another process holds its lock the registry cannot say (and this server's own writes
    # queue), so nothing is closed; once it answers, the budget acts, without waiting for a
    # poll that may never come (polls are ten minutes apart here).
    path = tmp_path / "registry.sqlite"
    gateway = BilledGateway()
    slow = Intervals(busy=600, active=600, idle=600, closing=600)
    monitor = SessionMonitor(Store(path, server_id="a"), gateway, MonitorConfig(intervals=slow))  # type: ignore[arg-type]
    await monitor.start()
    other = sqlite3.connect(path, isolation_level=None)
    try:
        await monitor.track("s1", AccountRef())
        monitor.budgets.set(
            "session",
            "s1",
            {"seconds": 10.0, "amount": None, "action": "close", "threshold": 0.8},
            "someone",
        )
        other.execute("BEGIN IMMEDIATE")
        gateway.elapsed = 60.0

        await monitor.refresh("s1", within=2.0)
        await asyncio.gather(*monitor.budgets._tasks)
        assert gateway.closed == []
        budget = monitor.budgets.for_session(monitor.sessions["s1"])
        assert budget is not None and budget.reached_at is None  # not claimed: tried again

        reads = gateway.session_reads
        other.execute("ROLLBACK")
        for _ in range(200):  # the budget's own retry, within a second or two
            if gateway.closed:
                break
            await asyncio.sleep(0.05)
        await asyncio.gather(*monitor.budgets._tasks)
        assert gateway.closed == ["s1"]
        assert gateway.session_reads <= reads + 1  # not a poll's doing (a close reads once)
    finally:
        with contextlib.suppress(sqlite3.Error):
            other.execute("ROLLBACK")
        other.close()
        await monitor.stop()


async def test_a_rate_set_on_another_server_is_taken_at_the_next_poll(tmp_path: Path) -> None:
    from jupyter_session_monitor.domain.billing import Rate

    path = tmp_path / "registry.sqlite"
    gateway = BilledGateway()
    a = SessionMonitor(Store(path, server_id="a"), gateway, MonitorConfig())  # type: ignore[arg-type]
    b = SessionMonitor(Store(path, server_id="b"), ScriptedGateway(), MonitorConfig())  # type: ignore[arg-type]
    await a.start()
    await b.start()
    try:
        await a.track("s1", AccountRef())
        b.set_rate(Rate(1.6, "USD"), "someone")
        a._rate_synced = float("-inf")  # not wait out the once-a-second limit
        await a.refresh("s1", within=2.0)
        assert a.rate == Rate(1.6, "USD")
        assert a.view(a.sessions["s1"])["billing"]["rate_per_second"] == 1.6
    finally:
        await b.stop()
        await a.stop()


async def test_a_notebook_budget_counts_the_notebooks_sessions_on_every_server(
    tmp_path: Path,
) -> None:
    # #25 item 6: each server counted only its own sessions of the notebook, so two servers
    # doubled the limit. Both servers serve one folder; each holds one session of n.ipynb,
    # billed 6 s: 12 s together, over the 10 s budget, and each closes its own (only).
    path = tmp_path / "registry.sqlite"
    folder = tmp_path / "notebooks"
    folder.mkdir()
    config = MonitorConfig(root_dir=str(folder))
    gateway_a, gateway_b = BilledGateway(), BilledGateway()
    gateway_a.elapsed = gateway_b.elapsed = 6.0
    a = SessionMonitor(Store(path, server_id="a"), gateway_a, config)  # type: ignore[arg-type]
    b = SessionMonitor(Store(path, server_id="b"), gateway_b, config)  # type: ignore[arg-type]
    # A third server with another folder: its n.ipynb is another notebook, never counted.
    other = tmp_path / "elsewhere"
    other.mkdir()
    gateway_c = BilledGateway()
    gateway_c.elapsed = 100.0
    c = SessionMonitor(
        Store(path, server_id="c"),
        gateway_c,  # type: ignore[arg-type]
        MonitorConfig(root_dir=str(other)),
    )
    for monitor in (a, b, c):
        await monitor.start()
    try:
        await c.track("s3", AccountRef(), source="kernel", kernel_id="k3", notebook_path="n.ipynb")
        await a.track("s1", AccountRef(), source="kernel", kernel_id="k1", notebook_path="n.ipynb")
        a.budgets.set(
            "notebook",
            "n.ipynb",
            {"seconds": 10.0, "amount": None, "action": "close", "threshold": 0.8},
            "someone",
        )
        await asyncio.gather(*a.budgets._tasks)
        assert gateway_a.closed == []  # 6 s of 10: this server's session alone is under it

        await b.track("s2", AccountRef(), source="kernel", kernel_id="k2", notebook_path="n.ipynb")
        b.budgets.sync(force=True)
        await b.refresh("s2", within=2.0)  # B's poll, and its budget check
        await asyncio.gather(*b.budgets._tasks)
        view = b.budgets.view(b.budgets.budgets[("notebook", "n.ipynb")])
        assert view["elsewhere_session_ids"] == ["s1"]
        assert view["reported_seconds"] == pytest.approx(12.0)
        assert gateway_b.closed == ["s2"]  # its own only: s1 is A's to close

        a.budgets._elsewhere.clear()
        a.budgets.sync(force=True)
        await a.refresh("s1", within=2.0)
        await asyncio.gather(*a.budgets._tasks)
        assert gateway_a.closed == ["s1"]
        # C's n.ipynb is another notebook (another folder): polled, it neither counts towards
        # the budget nor is closed by it (review: it was, matched by the relative path).
        c.budgets.sync(force=True)
        await c.refresh("s3", within=2.0)
        await asyncio.gather(*c.budgets._tasks)
        assert gateway_c.closed == []
        assert c.budgets.for_session(c.sessions["s3"]) is None
        assert c.budgets.notebook_views() == []
        outcome = a.store.load_budgets()[0].outcome
        assert outcome is not None and "s1" in outcome and "s2" in outcome, outcome
    finally:
        for monitor in (c, b, a):
            await monitor.stop()


def a_server_that_died(path: Path) -> Store:
    """Server "a" of the registry, which monitored session s1 from a.ipynb and then died (its
    process is gone)."""
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    store = Store(path, server_id="a")
    store.register_server(host=socket.gethostname(), pid=int(gone.stdout), url=None)
    store.save_session(
        TrackedSession(
            id="s1",
            account=AccountRef(),
            source="kernel",
            tracked_at=datetime.now(UTC),
            kernel_id="k-a",
            notebook_path="a.ipynb",
            body={"id": "s1", "state": "active", "accepting_jobs": True},
        )
    )
    return store


async def test_a_server_that_dies_has_its_sessions_taken_over_at_the_next_heartbeat(
    tmp_path: Path,
) -> None:
    # #25 item 7: adoption happened only at start: a server that died while this one ran left
    # its open, billing sessions with no polling, no orphan policy and no budget.
    path = tmp_path / "registry.sqlite"
    monitor = SessionMonitor(
        Store(path, server_id="b"),
        ScriptedGateway(),  # type: ignore[arg-type]
        MonitorConfig(heartbeat_seconds=0.05),
        kernel_exists=lambda kernel_id: False,  # k-a was the gone server's kernel
    )
    added = asyncio.Event()
    monitor.subscribe(lambda change: added.set() if change["kind"] == "added" else None)
    await monitor.start()
    try:
        a_server_that_died(path).close()
        await asyncio.wait_for(added.wait(), 5.0)
        session = monitor.sessions["s1"]
        assert session.notebook_path == "a.ipynb"  # what the gone server knew of it
        await monitor.refresh("s1", within=2.0)  # polled here, and its kernel is not here
        assert monitor.sessions["s1"].orphaned
    finally:
        await monitor.stop()


async def test_tracking_a_gone_servers_session_takes_its_row_over(tmp_path: Path) -> None:
    # #25 item 7: tracking it saved nothing (the row's owner check dropped every save).
    path = tmp_path / "registry.sqlite"
    store = Store(path, server_id="b")
    monitor = SessionMonitor(store, ScriptedGateway(), MonitorConfig(heartbeat_seconds=3600))  # type: ignore[arg-type]
    await monitor.start()
    try:
        a_server_that_died(path).close()
        session = await monitor.track(
            "s1", AccountRef(), source="kernel", kernel_id="k-b", notebook_path="b.ipynb"
        )
        assert (session.kernel_id, session.notebook_path) == ("k-b", "b.ipynb")
        (row,) = store._db.execute("SELECT server_id, kernel_id FROM sessions WHERE id='s1'")
        assert (row["server_id"], row["kernel_id"]) == ("b", "k-b")
    finally:
        await monitor.stop()


async def test_a_cancel_budget_cancels_a_session_the_user_closed_gracefully(
    store: Store,
) -> None:
    # #25 item 13: a "cancel" budget skipped a session the user had closed (queued jobs still
    # run and bill until it drains), and its outcome stayed empty.
    cancelled: list[str] = []

    class Cancelling(BilledGateway):
        async def cancel(self, account: AccountRef, session_id: str) -> None:
            cancelled.append(session_id)

    gateway = Cancelling()
    monitor = SessionMonitor(store, gateway, MonitorConfig())  # type: ignore[arg-type]
    await monitor.start()
    try:
        await monitor.track("s1", AccountRef())
        await monitor.close("s1", "someone")  # graceful: its queue drains, billed
        spec = {"seconds": 10.0, "amount": None, "action": "cancel", "threshold": 0.8}
        monitor.budgets.set("session", "s1", spec, "someone")
        gateway.elapsed = 30.0
        await monitor.refresh("s1", within=2.0)
        await asyncio.gather(*monitor.budgets._tasks)
        assert cancelled == ["s1"]
        budget = monitor.budgets.for_session(monitor.sessions["s1"])
        assert budget is not None and budget.outcome == "cancelled s1"
    finally:
        await monitor.stop()


async def test_a_session_tracked_after_the_instance_reading_counts_from_then(
    store: Store,
) -> None:
    # #25 item 13: the projection charged a session tracked after the last reading of the
    # instance's usage with its whole earlier billed time (already in the service's figure),
    # a false "at risk" for minutes.
    class WithUsage(BilledGateway):
        async def instance_usage(self, account: AccountRef) -> dict[str, Any]:
            return {"usage_limit_seconds": 1000.0, "usage_consumed_seconds": 400.0}

    gateway = WithUsage()
    monitor = SessionMonitor(store, gateway, MonitorConfig(instance_interval=0))  # type: ignore[arg-type]
    await monitor.start()
    try:
        await monitor.instances.read(AccountRef())  # 600 s left, nothing tracked yet
        gateway.elapsed = 500.0  # billed 500 s before this server heard of it: in the 400
        await monitor.track("s1", AccountRef())
        (view,) = monitor.instances.views()
        assert view["projected_remaining_seconds"] == pytest.approx(600.0, abs=1.0)
    finally:
        await monitor.stop()


def test_a_silent_service_never_holds_a_thread_past_the_read_timeout() -> None:
    # #25 item 13: the read timeout was set through the client's private attribute only (and
    # the client sends none at all behind a proxy): a service that accepts and never answers
    # held a polling thread until the connection dropped.
    import requests

    from jupyter_session_monitor.service.runtime import RuntimeGateway

    listener = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    port = listener.getsockname()[1]

    class Client:  # what the gateway tunes: the client's requests session
        _session = requests.Session()  # no _timeout attribute here

    gateway = RuntimeGateway(max_workers=1, request_timeout=0.5)
    try:
        gateway._tune(Client())
        outcome: list[BaseException] = []

        def call() -> None:
            try:
                Client._session.get(f"http://127.0.0.1:{port}/api/sessions/s1")
            except requests.exceptions.RequestException as error:
                outcome.append(error)

        caller = threading.Thread(target=call, daemon=True)
        caller.start()
        caller.join(timeout=3.0)
        assert not caller.is_alive(), "the call still waits for the silent service"
        assert outcome and "timed out" in str(outcome[0])
    finally:
        gateway.shutdown()
        listener.close()


async def test_a_closed_session_keeps_the_rate_it_was_billed_at(tmp_path: Path) -> None:
    # #25 item 13: receipts and the history priced past sessions at today's rate.
    from jupyter_session_monitor.domain.billing import Rate

    path = tmp_path / "registry.sqlite"
    gateway = BilledGateway()
    gateway.elapsed = 100.0
    monitor = SessionMonitor(Store(path), gateway, MonitorConfig())  # type: ignore[arg-type]
    await monitor.start()
    try:
        monitor.set_rate(Rate(1.0, "USD"), "someone")
        await monitor.track("open", AccountRef())
        await monitor.track("done", AccountRef())
        original = gateway.session

        async def one_closed(account: AccountRef, session_id: str) -> dict[str, Any]:
            body = await original(account, session_id)
            return {**body, "state": "closed"} if session_id == "done" else body

        gateway.session = one_closed  # type: ignore[method-assign]
        await monitor.refresh("done", within=2.0)
        monitor.set_rate(Rate(2.5, "EUR"), "someone")  # later

        done = monitor.view(monitor.sessions["done"])["billing"]
        still_open = monitor.view(monitor.sessions["open"])["billing"]
        assert (done["cost"], done["currency"]) == (100.0, "USD")
        assert still_open["currency"] == "EUR"
    finally:
        await monitor.stop()
    again = SessionMonitor(Store(path), gateway, MonitorConfig())  # type: ignore[arg-type]
    again.engine.sessions.update({s.id: s for s in again.store.load_sessions()})
    assert again.view(again.sessions["done"])["billing"]["cost"] == 100.0  # kept in the registry
    again.store.close()


async def test_opening_a_session_pushes_the_instance_risk_at_once(store: Store) -> None:
    # #26 item 4: right after a session opened the server's instances view said at risk, but
    # the page heard of it only at the next reading of the instance (minutes later).
    class Nearly(BilledGateway):
        async def session(self, account: AccountRef, session_id: str) -> dict[str, Any]:
            return {**await super().session(account, session_id), "max_ttl": 28800}

        async def instance_usage(self, account: AccountRef) -> dict[str, Any]:
            return {"usage_limit_seconds": 1000.0, "usage_consumed_seconds": 990.0}

    monitor = SessionMonitor(store, Nearly(), MonitorConfig(instance_interval=0))  # type: ignore[arg-type]
    pushed: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    monitor.subscribe(
        lambda change: pushed.put_nowait(change) if change["kind"] == "money" else None
    )
    await monitor.start()
    try:
        await monitor.instances.read(AccountRef())  # the one reading: 10 s left, no session
        first = await asyncio.wait_for(pushed.get(), 2.0)
        assert [v["at_risk"] for v in first["money"]["instances"]] == [False]

        await monitor.track("s1", AccountRef())  # up to 8 h if left open: more than is left

        change = await asyncio.wait_for(pushed.get(), 2.0)
        assert [v["at_risk"] for v in change["money"]["instances"]] == [True]
    finally:
        await monitor.stop()


async def test_a_close_with_no_answer_is_said_so_even_when_the_registry_is_locked(
    tmp_path: Path,
) -> None:
    # The service did not answer in time and another server held the registry's lock: the
    # answer is the honest "may or may not have closed" (504), not a 500 from SQLite.
    path = tmp_path / "registry.sqlite"
    other = sqlite3.connect(path, isolation_level=None)

    class Silent(ScriptedGateway):
        async def close(self, account: AccountRef, session_id: str) -> None:
            other.execute("BEGIN IMMEDIATE")
            raise RuntimeCallError("timeout", "The service did not answer within 3 s.")

    store = Store(path)
    monitor = SessionMonitor(store, Silent(), MonitorConfig())  # type: ignore[arg-type]
    await monitor.start()
    try:
        await monitor.track("s1", AccountRef())
        with pytest.raises(MonitorError) as error:
            await monitor.close("s1", "someone")
        assert (error.value.status, error.value.kind) == (504, "timeout")
        pending = monitor.sessions["s1"].pending_action
        assert pending is not None and (pending["action"], pending["state"]) == (
            "close",
            "unknown",
        )
    finally:
        with contextlib.suppress(sqlite3.Error):
            other.execute("ROLLBACK")
        other.close()
        await monitor.stop()


async def test_a_server_taken_for_gone_lets_its_sessions_go_to_the_one_that_adopted_them(
    tmp_path: Path,
) -> None:
    # Review of #25 item 7: a server whose heartbeat was late (a suspended laptop) had its
    # sessions adopted by another, went on polling and enforcing them, and its saves were
    # dropped: two servers acting on one session.
    path = tmp_path / "registry.sqlite"
    store = Store(path, server_id="a")
    monitor = SessionMonitor(store, ScriptedGateway(), MonitorConfig(heartbeat_seconds=0.05))  # type: ignore[arg-type]
    removed = asyncio.Event()
    monitor.subscribe(lambda change: removed.set() if change["kind"] == "removed" else None)
    await monitor.start()
    try:
        await monitor.track("s1", AccountRef())
        # What server "b" does when it takes "a" for gone: the rows are its own now.
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("UPDATE sessions SET server_id='b' WHERE server_id='a'")
        other.execute("DELETE FROM servers WHERE id='a'")
        other.close()

        await asyncio.wait_for(removed.wait(), 5.0)
        assert "s1" not in monitor.sessions
        assert monitor.engine._scheduler.planned("s1") is None
        (row,) = store._db.execute("SELECT id FROM servers WHERE id='a'")  # alive again
        assert row["id"] == "a"
    finally:
        await monitor.stop()


class TiedJobsGateway(ScriptedGateway):
    """A closing session whose service lists two jobs created in the same millisecond in the
    reverse of their ids' order, and pages by ``skip``; records where each read starts."""

    def __init__(self) -> None:
        super().__init__()
        same = "2026-01-01T12:00:01.000Z"
        self.jobs = [
            {"id": "j1", "status": "Completed", "created": "2026-01-01T12:00:00.000Z"},
            {"id": "jb", "status": "Completed", "created": same},
            {"id": "ja", "status": "Completed", "created": same},
            {"id": "jc", "status": "Queued", "created": "2026-01-01T12:00:02.000Z"},
        ]
        self.skips: list[int] = []

    async def session(self, account: AccountRef, session_id: str) -> dict[str, Any]:
        self.session_reads += 1
        self.read.set()
        return {"id": session_id, "state": "active", "accepting_jobs": False, "backend_name": "b"}

    async def session_jobs(
        self, account: AccountRef, session_id: str, *, limit: int, skip: int = 0
    ) -> tuple[list[Any], int]:
        self.job_reads += 1
        self.skips.append(skip)
        return self.jobs[skip : skip + limit], len(self.jobs)


async def test_jobs_created_in_one_millisecond_keep_the_services_order() -> None:
    # #25: the monitor sorted jobs by (created, id); two jobs created in the same millisecond
    # and listed the other way round failed the overlap check at every poll, so every poll
    # read the whole list (a 1,000-job batch: ten pages every 2 s).
    gateway = TiedJobsGateway()
    config = MonitorConfig(usage_settle_seconds=0.0)  # final jobs are settled at once
    monitor = SessionMonitor(Store(":memory:"), gateway, config)  # type: ignore[arg-type]
    await monitor.start()
    try:
        await monitor.track("s1", AccountRef())
        for _ in range(3):
            await monitor.refresh("s1", within=2.0)
        session = monitor.sessions["s1"]
        assert [j.id for j in session.jobs] == ["j1", "jb", "ja", "jc"]
        # The first read is the whole list; every later one starts at the last settled job.
        assert gateway.skips[0] == 0
        assert set(gateway.skips[1:]) == {2}, gateway.skips
    finally:
        await monitor.stop()


class NoMetricsGateway(TiedJobsGateway):
    """Three jobs done and one queued; the service has no metrics for any job (404)."""

    def __init__(self) -> None:
        super().__init__()
        self.jobs = [
            {"id": f"j{i}", "status": "Completed", "created": f"2026-01-01T12:00:0{i}.000Z"}
            for i in range(3)
        ] + [{"id": "q", "status": "Queued", "created": "2026-01-01T12:00:09.000Z"}]
        self.metrics_reads = 0

    async def job_metrics(self, account: AccountRef, job_id: str) -> dict[str, Any]:
        self.metrics_reads += 1
        raise RuntimeCallError("not_found", f"No metrics for job {job_id}.", status=404)


async def test_a_job_without_metrics_is_asked_for_them_once() -> None:
    # #25: the fit-check reads when the newest finished jobs ran; a job whose metrics the
    # service does not have was asked again at every poll (five calls each 2 s while queued).
    gateway = NoMetricsGateway()
    monitor = SessionMonitor(Store(":memory:"), gateway, MonitorConfig())  # type: ignore[arg-type]
    await monitor.start()
    try:
        await monitor.track("s1", AccountRef())
        for _ in range(4):
            await monitor.refresh("s1", within=2.0)
            await asyncio.gather(*monitor.engine.jobs._background)  # the metrics reads it started
        assert gateway.metrics_reads == 3
    finally:
        await monitor.stop()


class LateUsageGateway(TiedJobsGateway):
    """A closed session of three finished jobs whose usage the service reports when told."""

    def __init__(self) -> None:
        super().__init__()
        self.usage: float | None = None
        self.jobs = [
            {"id": f"j{i}", "status": "Completed", "created": f"2026-01-01T12:00:0{i}.000Z"}
            for i in range(3)
        ]

    async def session(self, account: AccountRef, session_id: str) -> dict[str, Any]:
        self.session_reads += 1
        return {"id": session_id, "state": "closed", "accepting_jobs": False, "backend_name": "b"}

    async def session_jobs(
        self, account: AccountRef, session_id: str, *, limit: int, skip: int = 0
    ) -> tuple[list[Any], int]:
        self.skips.append(skip)
        jobs = [
            {**job, "usage": None if self.usage is None else {"seconds": self.usage}}
            for job in self.jobs
        ]
        return jobs[skip : skip + limit], len(jobs)


async def test_usage_reported_late_in_the_window_is_read_for_every_job() -> None:
    # Review of #25: the read just after the usage settled started at the last job (the others
    # counted as settled by the clock, not by a read after it), so only that job's late usage
    # was read, and the receipt was marked final with the others at 0 s.
    gateway = LateUsageGateway()
    config = MonitorConfig(usage_settle_seconds=0.6)
    monitor = SessionMonitor(Store(":memory:"), gateway, config)  # type: ignore[arg-type]
    await monitor.start()
    try:
        await monitor.track("s1", AccountRef())
        await monitor.refresh("s1", within=2.0)  # inside the window: nothing reported yet
        gateway.usage = 5.0  # reported now, after the last read inside the window
        scheduler = monitor.engine._scheduler
        for _ in range(100):
            await asyncio.sleep(0.05)
            if scheduler.planned("s1") is None and "s1" not in scheduler._running:
                break
        session = monitor.sessions["s1"]
        assert [j.usage_seconds for j in session.jobs] == [5.0, 5.0, 5.0], gateway.skips
        assert monitor.view(session)["billing"]["usage_settled"] is True
    finally:
        await monitor.stop()


async def test_a_restart_within_the_window_reads_the_session_again(tmp_path: Path) -> None:
    # Review of #25: a session closed less than usage_settle_seconds before the server stopped
    # was loaded as settled (from its close) and never read again: the usage the service
    # reported meanwhile was never seen.
    path = tmp_path / "registry.sqlite"
    gateway = LateUsageGateway()
    config = MonitorConfig(usage_settle_seconds=60.0)
    first = SessionMonitor(Store(path), gateway, config)  # type: ignore[arg-type]
    await first.start()
    await first.track("s1", AccountRef())
    await first.stop()

    gateway.usage = 5.0  # reported while the server was down
    again = SessionMonitor(Store(path), gateway, config)  # type: ignore[arg-type]
    await again.start()
    try:
        for _ in range(100):
            await asyncio.sleep(0.05)
            if all(j.usage_seconds for j in again.sessions["s1"].jobs):
                break
        assert [j.usage_seconds for j in again.sessions["s1"].jobs] == [5.0, 5.0, 5.0]
        assert again.view(again.sessions["s1"])["billing"]["usage_settled"] is False
    finally:
        await again.stop()


class RefusingGateway(BilledGateway):
    async def close(self, account: AccountRef, session_id: str) -> None:
        raise RuntimeCallError("forbidden", "This account may not close the session.", status=403)


async def test_a_close_that_keeps_failing_does_not_grow_the_budgets_outcome() -> None:
    # Review of #25: each retry put the earlier outcome in front of the new one, so a close
    # refused at every poll wrote a longer and longer outcome to the registry.
    gateway = RefusingGateway()
    gateway.elapsed = 60.0
    monitor = SessionMonitor(Store(":memory:"), gateway, MonitorConfig())  # type: ignore[arg-type]
    await monitor.start()
    try:
        await monitor.track("s1", AccountRef())
        monitor.budgets.set(
            "session",
            "s1",
            {"seconds": 10.0, "amount": None, "action": "close", "threshold": 0.8},
            "someone",
        )
        for _ in range(4):
            await asyncio.gather(*monitor.budgets._tasks)
            await monitor.refresh("s1", within=2.0)
        await asyncio.gather(*monitor.budgets._tasks)
        outcome = monitor.store.load_budgets()[0].outcome
        assert outcome is not None and outcome.count("could not act") == 1, outcome
    finally:
        await monitor.stop()


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    # #29: urllib3 reads the header (an HTTP date was ignored before, and backed off as usual).
    from email.utils import format_datetime

    from jupyter_session_monitor.service.runtime import _retry_after

    class Answer:
        def __init__(self, value: str) -> None:
            self.headers = {"Retry-After": value}

    def failed(value: str) -> Exception:
        error = Exception("429")
        error.response = Answer(value)  # type: ignore[attr-defined]
        return error

    assert _retry_after(failed("7")) == 7.0
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25.0 <= (_retry_after(failed(later)) or 0.0) <= 31.0
    assert _retry_after(failed("soon")) is None
