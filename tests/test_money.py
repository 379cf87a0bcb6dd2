"""Money safety against the emulator with the unmodified client and a real Jupyter server: the cost
meter checked against the emulator's own accounting, budgets that act with no browser open (and
after a restart), the fit-check before max TTL, the instance allowance, close-all.

Durations are real (interactive TTL 60 s) and the service's clock is moved forward
(``POST /emulator/clock``) where a test needs time to pass, so no figure races a slow machine.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from qiskit_ibm_runtime import Batch, Session
from qiskit_ibm_runtime import SamplerV2 as Sampler

from jupyter_session_monitor.protocol.derive import parse_time
from tests.harness import Harness, bell, wait_until
from tests.server import running_server
from tests.test_monitor_api import Fetch, api, in_thread, opened_with_a_job, until, view_if
from tests.test_server_restart import FAST, call

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

#: The emulator reports seconds with millisecond precision; the monitor rounds to milliseconds.
TOLERANCE = 0.01


async def fresh(fetch: Fetch, session_id: str) -> dict[str, Any]:
    response = await fetch(
        "session-monitor", "api", "sessions", session_id, params={"fresh": "true"}
    )
    view: dict[str, Any] = json.loads(response.body)
    return view


def seconds_between(start: str, end: str) -> float:
    return (parse_time(end) - parse_time(start)).total_seconds()  # type: ignore[operator]


async def advance(harness: Harness, seconds: float) -> None:
    await in_thread(lambda: harness.admin("POST", "/emulator/clock", {"advance": seconds}))


async def test_the_cost_meter_matches_the_services_own_accounting(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch
) -> None:
    harness = make_emulator(time_scale=1.0, job_seconds=2.0)

    def open_and_run() -> tuple[Session, list[Any]]:
        backend = harness.service().backend("ibmq_manila")
        session = Session(backend=backend, max_time=3600)
        sampler = Sampler(mode=session)
        jobs = [sampler.run([bell(backend)], shots=10) for _ in range(2)]
        return session, jobs

    session, jobs = await in_thread(open_and_run)
    await api(jp_fetch, "PUT", "billing", {"rate_per_second": 0.25, "currency": "USD"})
    await api(jp_fetch, "POST", "sessions", {"session_id": session.session_id})
    await advance(harness, 4.5)  # both jobs ran (2 s each); the session idles, billed
    active = await fresh(jp_fetch, session.session_id)
    assert active["billing"]["accruing"] and active["billing"]["idle_accruing"]
    assert active["billing"]["accrues_until"] == active["deadlines"]["interactive_ttl_at"]

    await advance(harness, 61)  # past the interactive TTL: deactivated, no longer billed
    view = await fresh(jp_fetch, session.session_id)

    billed = await in_thread(session.usage)  # the service's usage_time
    quantum = sum([await in_thread(job.usage) for job in jobs])  # each job's billed seconds
    meter = view["billing"]
    assert not meter["accruing"]
    assert meter["billed_seconds"] == pytest.approx(billed, abs=TOLERANCE)
    assert quantum == pytest.approx(4.0, abs=TOLERANCE)
    # Billed with no job running: the idle gap up to the deactivation (60 s interactive TTL).
    assert meter["billed_idle_seconds"] == pytest.approx(billed - quantum, abs=TOLERANCE)
    assert meter["billed_idle_seconds"] == pytest.approx(60.0, abs=TOLERANCE)
    assert meter["cost"] == pytest.approx(0.25 * billed, abs=TOLERANCE)
    assert meter["currency"] == "USD"
    # If left open until its max TTL (3600 s from the first job's start): the worst case.
    # (Measured from the read: the test moved the service's clock, not the server's.)
    until_max_ttl = seconds_between(view["last_polled_at"], view["deadlines"]["max_ttl_at"])
    assert meter["max_billed_seconds"] == pytest.approx(billed + until_max_ttl, abs=TOLERANCE)
    await in_thread(session.close)


async def test_a_budget_closes_the_session_with_no_browser_open(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch, jp_serverapp: Any
) -> None:
    harness = make_emulator(time_scale=1.0, job_seconds=0.5)

    session = await opened_with_a_job(harness)
    await api(jp_fetch, "POST", "sessions", {"session_id": session.session_id})
    status, view = await api(
        jp_fetch,
        "PUT",
        f"sessions/{session.session_id}/budget",
        {"seconds": 30, "action": "close", "threshold": 0.5},
    )
    assert status == 200
    assert view["budget"]["scope"] == "session" and not view["budget"]["reached"]

    await advance(harness, 20)  # 20 of 30 billed seconds: past the 50 % warning
    warned = await until(
        lambda: view_if(jp_fetch, session.session_id, lambda v: v["budget"]["warned"])
    )
    assert not warned["budget"]["reached"] and warned["status"] != "Closed"
    await advance(harness, 15)  # 35 s billed: over budget, still inside the interactive TTL

    # No browser: the server reads the service, sees the budget used up, closes the session.
    reached = await until(
        lambda: view_if(jp_fetch, session.session_id, lambda v: v["budget"]["outcome"] is not None)
    )
    assert reached["budget"]["reached"] and reached["budget"]["spent_seconds"] >= 30
    assert reached["budget"]["outcome"] == f"closed {session.session_id}"
    assert await in_thread(session.status) == "Closed"  # at the service itself
    store = jp_serverapp.web_app.settings["session_monitor"].store
    audit = [(a["user"], a["action"], a["result"]) for a in store.actions(session.session_id)]
    assert audit == [("session-monitor (budget)", "close", "accepted")]


def test_a_budget_set_before_a_restart_is_enforced_after_it(
    make_emulator: Callable[..., Harness], tmp_path: Path
) -> None:
    harness = make_emulator(time_scale=1.0, job_seconds=0.5)
    backend = harness.service().backend("ibmq_manila")
    session = Session(backend=backend)
    Sampler(mode=session).run([bell(backend)], shots=10).result()
    env = dict(os.environ)

    with running_server(sys.executable, tmp_path, *FAST, env=env) as (url, token):
        call(url, token, "POST", "sessions", {"session_id": session.session_id})
        budget = {"seconds": 30, "action": "cancel"}
        call(url, token, "PUT", f"sessions/{session.session_id}/budget", budget)
    # The server is down while the session is billed past its budget.
    harness.admin("POST", "/emulator/clock", {"advance": 40})
    assert session.status() != "Closed"

    with running_server(sys.executable, tmp_path, *FAST, env=env) as (url, token):
        ended = wait_until(
            lambda: (
                view
                if (view := call(url, token, "GET", f"sessions/{session.session_id}"))["status"]
                == "Closed"
                else None
            )
        )
    assert ended["budget"]["reached"] and ended["budget"]["action"] == "cancel"
    assert ended["end_reason"] == "cancelled"
    assert session.status() == "Closed"


async def test_the_fit_check_predicts_which_queued_jobs_fail_at_max_ttl(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch
) -> None:
    # Jobs of 10 s each, a max TTL of 35 s: jobs start at 0, 10, 20, 30 s; the other 6 fail.
    harness = make_emulator(time_scale=1.0, job_seconds=10.0)

    def submit() -> tuple[Session, list[Any]]:
        backend = harness.service().backend("ibmq_manila")
        session = Session(backend=backend, max_time=35)
        sampler = Sampler(mode=session)
        return session, [sampler.run([bell(backend)], shots=5) for _ in range(10)]

    session, jobs = await in_thread(submit)
    await api(jp_fetch, "POST", "sessions", {"session_id": session.session_id})
    view = await fresh(jp_fetch, session.session_id)

    fit = view["fit"]
    assert fit["queued"] == 9 and fit["basis"] == "service_estimate"
    assert fit["expected_to_fail"] == 6
    assert fit["first_failing_job"] == jobs[4].job_id()
    # What is left of the running job (from the service's last_job_started), then 9 jobs of 10 s.
    left = 10.0 - seconds_between(view["details"]["last_job_started"], view["last_polled_at"])
    assert fit["drain_seconds"] == pytest.approx(left + 90.0, abs=TOLERANCE)
    assert fit["max_ttl_at"] == view["deadlines"]["max_ttl_at"]

    await advance(harness, 45)  # past the max TTL
    statuses = [await in_thread(job.status) for job in jobs]
    assert statuses.count("ERROR") == fit["expected_to_fail"]
    assert statuses == ["DONE"] * 4 + ["ERROR"] * 6
    after = await fresh(jp_fetch, session.session_id)
    assert after["fit"] is None  # closed: nothing left to estimate


async def test_no_fit_estimate_without_a_basis(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch, jp_serverapp: Any
) -> None:
    harness = make_emulator(time_scale=1.0, job_seconds=10.0)

    def submit() -> Session:
        backend = harness.service().backend("ibmq_manila")
        session = Session(backend=backend, max_time=35)
        sampler = Sampler(mode=session)
        for _ in range(3):
            sampler.run([bell(backend)], shots=5)
        return session

    session = await in_thread(submit)
    # A service that gives no estimate: the monitor must not guess (no job has finished yet).
    await api(jp_fetch, "POST", "sessions", {"session_id": session.session_id})
    monitor = jp_serverapp.web_app.settings["session_monitor"]
    await until(lambda: view_if(jp_fetch, session.session_id, lambda v: len(v["jobs"]) == 3))
    for job in monitor.get(session.session_id).jobs:
        job.estimated_seconds = None
    view = monitor.view(monitor.get(session.session_id))

    assert view["fit"]["queued"] == 2 and view["fit"]["basis"] is None
    assert view["fit"]["expected_to_fail"] is None and view["fit"]["drain_seconds"] is None
    await in_thread(session.cancel)


async def test_the_instance_allowance_and_the_open_sessions_worst_case(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch
) -> None:
    harness = make_emulator(time_scale=1.0, job_seconds=1.0, instance_limit=600)

    # Its max TTL may bill more than the 600 s left.
    session = await opened_with_a_job(harness, max_time=900, shots=5)
    await api(jp_fetch, "POST", "sessions", {"session_id": session.session_id})
    await advance(harness, 100)  # 1 s job + 60 s idle, then inactive: 61 s billed
    await fresh(jp_fetch, session.session_id)

    response = await jp_fetch("session-monitor", "api", "instances", params={"fresh": "true"})
    (reading,) = json.loads(response.body)["instances"]

    usage = await in_thread(lambda: harness.service().usage())
    assert reading["limit_seconds"] == 600
    assert reading["consumed_seconds"] == pytest.approx(usage["usage_consumed_seconds"], abs=0.01)
    assert reading["remaining_seconds"] == pytest.approx(600 - 61, abs=0.01)
    assert reading["instance"] == usage["instance_id"]
    # Left open, the session may still be billed until its max TTL: more than what remains.
    view = await fresh(jp_fetch, session.session_id)
    until_max_ttl = seconds_between(view["last_polled_at"], view["deadlines"]["max_ttl_at"])
    assert reading["open_worst_case_seconds"] == pytest.approx(until_max_ttl, abs=1.0)
    assert reading["at_risk"] is True
    _, listing = await api(jp_fetch, "GET", "sessions")
    assert listing["money"]["instances"][0]["at_risk"] is True

    await in_thread(session.close)
    await until(lambda: view_if(jp_fetch, session.session_id, lambda v: v["status"] == "Closed"))
    response = await jp_fetch("session-monitor", "api", "instances")
    (after,) = json.loads(response.body)["instances"]
    assert after["at_risk"] is False and after["open_worst_case_seconds"] == 0


async def test_one_instance_reached_through_two_accounts_is_one_allowance(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch, open_notebook: Any
) -> None:
    # A kernel's session names its instance (CRN); one tracked by id uses the server's default
    # login. Both bill the same instance: one allowance, and the worst case of both against it.
    harness = make_emulator(time_scale=1.0, job_seconds=0.5, instance_limit=600)
    kernel = await open_notebook("allowance.ipynb")
    await kernel.run(
        "from qiskit_ibm_runtime import QiskitRuntimeService, Session\n"
        "backend = QiskitRuntimeService().backend('ibmq_manila')\n"
        "session = Session(backend=backend, max_time=400)\n"
        "print(session.session_id)\n"
    )
    by_id = await in_thread(
        lambda: Session(backend=harness.service().backend("ibmq_manila"), max_time=400)
    )
    await api(jp_fetch, "POST", "sessions", {"session_id": by_id.session_id})

    async def both() -> list[dict[str, Any]] | None:
        _, body = await api(jp_fetch, "GET", "sessions")
        return body["sessions"] if len(body["sessions"]) == 2 else None

    views = await until(both)
    assert len({json.dumps(v["account"], sort_keys=True) for v in views}) == 2  # two accounts

    response = await jp_fetch("session-monitor", "api", "instances", params={"fresh": "true"})
    (reading,) = json.loads(response.body)["instances"]

    # Each alone (400 s) fits in the 600 s left; both together may not.
    assert reading["open_worst_case_seconds"] > 600
    assert reading["at_risk"] is True
    await kernel.run("session.close()")
    await in_thread(by_id.close)


async def test_close_all_closes_every_open_session_and_says_so(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch
) -> None:
    harness = make_emulator(time_scale=1.0, job_seconds=0.5)

    def open_sessions(count: int) -> list[Session]:
        backend = harness.service().backend("ibmq_manila")
        return [Session(backend=backend) for _ in range(count)]

    sessions = await in_thread(lambda: open_sessions(2))
    for session in sessions:
        await api(jp_fetch, "POST", "sessions", {"session_id": session.session_id})

    status, result = await api(jp_fetch, "POST", "sessions/close-all", {})

    assert status == 202
    assert sorted(result["closed"]) == sorted(s.session_id for s in sessions)
    assert result["failed"] == []
    for session in sessions:
        assert await in_thread(session.status) == "Closed"


async def test_close_all_closes_only_what_the_confirmation_listed(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch
) -> None:
    harness = make_emulator(time_scale=1.0, job_seconds=0.5)

    def open_sessions(count: int) -> list[Session]:
        backend = harness.service().backend("ibmq_manila")
        return [Session(backend=backend) for _ in range(count)]

    listed, opened_since = await in_thread(lambda: open_sessions(2))
    for session in (listed, opened_since):
        await api(jp_fetch, "POST", "sessions", {"session_id": session.session_id})

    status, result = await api(
        jp_fetch, "POST", "sessions/close-all", {"session_ids": [listed.session_id]}
    )

    assert (status, result["closed"]) == (202, [listed.session_id])
    assert await in_thread(listed.status) == "Closed"
    assert await in_thread(opened_since.status) == "Pending"  # not listed: not touched
    await in_thread(opened_since.close)


async def test_an_accounts_allowance_is_read_soon_after_its_first_session(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch
) -> None:
    harness = make_emulator(time_scale=1.0, job_seconds=0.5, instance_limit=600)
    session = await in_thread(lambda: Session(backend=harness.service().backend("ibmq_manila")))
    _, before = await api(jp_fetch, "GET", "instances")
    assert before["instances"] == []  # nothing read at start: no session of any account yet

    await api(jp_fetch, "POST", "sessions", {"session_id": session.session_id})

    # Read a few seconds later, not at the next reading minutes away.
    async def read() -> dict[str, Any] | None:
        _, answer = await api(jp_fetch, "GET", "instances")
        return answer if answer["instances"] else None

    readings = await until(read, within=10)
    assert readings["instances"][0]["limit_seconds"] == 600
    await in_thread(session.close)


async def test_a_batch_budget_acts_on_usage_the_service_reported_not_on_a_running_jobs_clock(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch
) -> None:
    # #25 item 2: a batch's billed time adds the running job's time since it started, this
    # monitor's own figure; a budget closed the batch on it. The service reports a job's usage
    # once it is final: the budget (2 s) acts only then, though the job's clock passed 2 s long
    # before. The sidebar still shows the running time.
    harness = make_emulator(time_scale=1.0, job_seconds=6)

    def open_batch() -> tuple[Any, Any]:
        backend = harness.service().backend("ibmq_manila")
        batch = Batch(backend=backend)
        return batch, Sampler(mode=batch).run([bell(backend)], shots=5)

    batch, job = await in_thread(open_batch)
    await api(jp_fetch, "POST", "sessions", {"session_id": batch.session_id})
    status, _ = await api(
        jp_fetch, "PUT", f"sessions/{batch.session_id}/budget", {"seconds": 2, "action": "close"}
    )
    assert status == 200

    running = await until(
        lambda: view_if(jp_fetch, batch.session_id, lambda v: v["billing"]["billed_seconds"] >= 3)
    )
    assert running["jobs_summary"]["RUNNING"] == 1  # 3 s shown, nothing reported yet
    assert running["budget"]["reported_seconds"] == 0 and not running["budget"]["reached"]

    closed = await until(
        lambda: view_if(jp_fetch, batch.session_id, lambda v: v["budget"]["outcome"] is not None),
        within=30,
    )
    finished = parse_time((await in_thread(job.metrics))["timestamps"]["finished"])
    reached = parse_time(closed["budget"]["reached_at"])
    assert finished is not None and reached is not None and reached >= finished
    assert closed["budget"]["reported_seconds"] == pytest.approx(6, abs=0.01)
    assert closed["budget"]["outcome"] == f"closed {batch.session_id}"


async def test_a_closing_sessions_worst_case_is_its_queue_not_its_max_ttl(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch
) -> None:
    # #26 item 2: after Close with jobs still queued the row said "up to 48 min ... if left open
    # until its max TTL"; it ends when its queue has run. Jobs of 2 s, 8 h max TTL.
    harness = make_emulator(time_scale=1.0, job_seconds=2.0)

    def open_and_queue() -> Session:
        backend = harness.service().backend("ibmq_manila")
        session = Session(backend=backend)
        sampler, circuit = Sampler(mode=session), bell(backend)
        sampler.run([circuit], shots=5).result()
        for _ in range(6):
            sampler.run([circuit], shots=5)
        return session

    session = await in_thread(open_and_queue)
    await api(jp_fetch, "POST", "sessions", {"session_id": session.session_id})
    status, _ = await api(jp_fetch, "POST", f"sessions/{session.session_id}/close", {})
    assert status == 202  # accepted by the service

    closing = await until(
        lambda: view_if(
            jp_fetch,
            session.session_id,
            lambda v: (
                v["accepting_jobs"] is False
                and v["state"] != "closed"
                and v["billing"]["max_billed_until"] == "drain"
            ),
        )
    )
    meter = closing["billing"]
    # At most the 6 jobs' 2 s each past what was billed, not hours.
    assert meter["max_billed_seconds"] <= meter["billed_seconds"] + 6 * 2.0 + 0.5
    await in_thread(session.cancel)
