"""The numbers the monitor serves are the service's, within a stated bound (issue: job counts stale
while jobs waited in the queue, a confirmation promising "0 queued jobs").

A real jupyter_server with the extension, real kernels, the unmodified client and the emulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from qiskit_ibm_runtime import SamplerV2 as Sampler
from qiskit_ibm_runtime import Session

from tests.harness import Harness, bell, ghz
from tests.kernels import NotebookKernel
from tests.test_monitor_api import api, in_thread, until, view

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

Fetch = Callable[..., Awaitable[Any]]


async def view_when(
    fetch: Fetch, session_id: str, condition: Callable[[dict[str, Any]], bool]
) -> dict[str, Any] | None:
    """The session's view once it is tracked and meets ``condition``; None before."""
    status, body = await api(fetch, "GET", f"sessions/{session_id}")
    return body if status == 200 and condition(body) else None


def job_list_reads(harness: Harness, session_id: str, since: float = 0.0) -> int:
    """Job-list calls the service answered for ``session_id`` (the request log has no query
    string, so every job-list call counts: each test runs one session at a time)."""
    del session_id
    return sum(
        1
        for r in harness.requests()
        if r["method"] == "GET"
        and r["path"].rstrip("/").endswith("/jobs")
        and datetime.fromisoformat(r["time"]).timestamp() >= since
    )


def open_behind_a_busy_session(harness: Harness) -> tuple[Session, Session, Any]:
    """Two sessions on one backend: the first holds it with a long job, the second waits."""
    backend = harness.service().backend("ibmq_manila")
    holder = Session(backend=backend)
    Sampler(mode=holder).run([bell(backend)], shots=5)
    waiting = Session(backend=backend)
    return holder, waiting, backend


# ---------------------------------------------------------------- fresh job lists


@pytest.mark.intervals(poll_busy_interval=5.0, poll_active_interval=0.5, poll_idle_interval=30.0)
async def test_jobs_queued_behind_another_session_are_counted_within_one_active_interval(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch
) -> None:
    # A session tracked by id (opened elsewhere): nothing reports its submissions, so only a
    # poll can see them. Its jobs wait behind another session's; its own body does not change.
    harness = make_emulator(time_scale=0.02, job_seconds=3000)  # a job runs 60 s
    holder, waiting, backend = await in_thread(lambda: open_behind_a_busy_session(harness))
    await api(jp_fetch, "POST", "sessions", {"session_id": waiting.session_id})
    await until(lambda: view_when(jp_fetch, waiting.session_id, lambda v: v["stale"] is False))

    sampler = Sampler(mode=waiting)
    submitted_at = time.monotonic()
    await in_thread(lambda: [sampler.run([bell(backend)], shots=5) for _ in range(12)])

    counted = await until(
        lambda: view_when(
            jp_fetch, waiting.session_id, lambda v: v["jobs_summary"]["QUEUED"] == 12
        ),
        within=10,
    )
    # Bound: the active interval (0.5 s) after the last submission, plus the calls themselves.
    assert time.monotonic() - submitted_at < 12 * 0.5 + 3
    assert counted["status"] == "Pending"  # still waiting for the backend: the body is unchanged
    await in_thread(holder.cancel)
    await in_thread(waiting.cancel)


@pytest.mark.intervals(poll_busy_interval=60.0, poll_active_interval=60.0, poll_idle_interval=60.0)
async def test_a_burst_from_a_notebook_is_counted_at_once_with_few_job_list_reads(
    make_emulator: Callable[..., Harness],
    jp_fetch: Fetch,
    open_notebook: Callable[[str], Awaitable[NotebookKernel]],
) -> None:
    # Polls are a minute apart: only the kernel's reports can make the count true quickly.
    harness = make_emulator(time_scale=0.02, job_seconds=3000)
    holder, _, _ = await in_thread(lambda: open_behind_a_busy_session(harness))
    kernel = await open_notebook("burst.ipynb")
    stdout, _ = await kernel.run(
        "from qiskit_ibm_runtime import QiskitRuntimeService, Session, SamplerV2\n"
        "from qiskit import QuantumCircuit\n"
        "from qiskit.transpiler import generate_preset_pass_manager\n"
        "service = QiskitRuntimeService()\n"
        "backend = service.backend('ibmq_manila')\n"
        "c = QuantumCircuit(2); c.h(0); c.cx(0, 1); c.measure_all()\n"
        "isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(c)\n"
        "session = Session(backend=backend)\n"
        "print(session.session_id)\n"
    )
    session_id = stdout.strip()
    await until(lambda: view_when(jp_fetch, session_id, lambda v: v["last_polled_at"] is not None))
    before = time.time()

    await kernel.run(
        "sampler = SamplerV2(mode=session)\njobs = [sampler.run([isa]) for _ in range(40)]"
    )
    done_at = time.monotonic()

    counted = await until(
        lambda: view_when(jp_fetch, session_id, lambda v: v["jobs_summary"]["QUEUED"] == 40),
        within=10,
    )
    # Seconds after the cell, not the minute a poll would take (the bound itself, about 1 s, is
    # measured in bench/freshness.py; a loaded CI machine must not make this test flaky).
    assert time.monotonic() - done_at < 8
    assert counted["status"] == "Pending"
    reads = await in_thread(lambda: job_list_reads(harness, session_id, before))
    # Coalesced: far fewer reads than the 40 reports (one each before).
    assert 1 <= reads <= 20, f"{reads} job-list reads for a burst of 40 submissions"
    await kernel.run("session.cancel()")
    await in_thread(holder.cancel)


# ---------------------------------------------------------------- live confirmations


@pytest.mark.intervals(poll_busy_interval=60.0, poll_active_interval=60.0, poll_idle_interval=60.0)
async def test_a_fresh_read_before_a_confirmation_sees_jobs_submitted_since_the_last_poll(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch, jp_serverapp: Any
) -> None:
    harness = make_emulator(time_scale=0.02, job_seconds=3000)
    holder, waiting, backend = await in_thread(lambda: open_behind_a_busy_session(harness))
    await api(jp_fetch, "POST", "sessions", {"session_id": waiting.session_id})
    await until(lambda: view_when(jp_fetch, waiting.session_id, lambda v: v["stale"] is False))
    sampler = Sampler(mode=waiting)
    await in_thread(lambda: [sampler.run([bell(backend)], shots=5) for _ in range(3)])
    assert (await view(jp_fetch, waiting.session_id))["jobs_summary"]["QUEUED"] == 0  # not polled

    response = await jp_fetch(
        "session-monitor", "api", "sessions", waiting.session_id, params={"fresh": "true"}
    )

    assert json.loads(response.body)["jobs_summary"]["QUEUED"] == 3
    status, _ = await api(jp_fetch, "POST", f"sessions/{waiting.session_id}/cancel", {})
    assert status == 202
    monitor = jp_serverapp.web_app.settings["session_monitor"]
    audit = monitor.store.actions(waiting.session_id)
    assert audit[-1]["result"] == "accepted" and audit[-1]["detail"] == "queued=3 running=0"
    await in_thread(holder.cancel)


# ---------------------------------------------------------------- failures explained


async def test_a_failed_jobs_reason_is_served_with_the_job(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch
) -> None:
    harness = make_emulator(time_scale=0.02, job_seconds=5)

    def fail_one() -> tuple[str, str]:
        backend = harness.service().backend("ibm_torino")
        isa = ghz(backend, 22)
        session = Session(backend=backend)
        job = Sampler(mode=session).run([isa], shots=10)
        return session.session_id, job.job_id()

    session_id, job_id = await in_thread(fail_one)
    await api(jp_fetch, "POST", "sessions", {"session_id": session_id})

    failed = await until(
        lambda: view_when(jp_fetch, session_id, lambda v: v["jobs_summary"]["ERROR"] == 1)
    )
    job = next(j for j in failed["jobs"] if j["id"] == job_id)
    assert job["reason"]["code"] is not None
    assert "22" in job["reason"]["message"] and "qubits" in job["reason"]["message"]


# ---------------------------------------------------------------- sessions the service lost


async def test_a_session_the_service_no_longer_knows_is_marked_and_can_be_forgotten(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch
) -> None:
    harness = make_emulator(time_scale=0.02)
    session = await in_thread(lambda: Session(backend=harness.service().backend("ibmq_manila")))
    await api(jp_fetch, "POST", "sessions", {"session_id": session.session_id})
    route = f"/sessions/{session.session_id}$"
    await in_thread(
        lambda: harness.admin(
            "POST", "/emulator/faults", {"kind": "status", "status": 404, "route": route}
        )
    )

    lost = await until(lambda: view_when(jp_fetch, session.session_id, lambda v: v["not_found"]))

    assert lost["error"]["kind"] == "not_found" and "Forget" in lost["error"]["message"]
    assert lost["stale"] is False
    status, body = await api(jp_fetch, "POST", f"sessions/{session.session_id}/close", {})
    assert status == 409 and body["error"]["kind"] == "not_found"
    assert (await api(jp_fetch, "DELETE", f"sessions/{session.session_id}"))[0] == 204
    await in_thread(lambda: harness.admin("DELETE", "/emulator/faults"))


# ---------------------------------------------------------------- push only real changes


async def test_a_poll_that_changes_nothing_is_pushed_as_a_small_polled_notice(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch, jp_ws_fetch: Any
) -> None:
    harness = make_emulator(time_scale=0.02)
    session = await in_thread(lambda: Session(backend=harness.service().backend("ibmq_manila")))
    await api(jp_fetch, "POST", "sessions", {"session_id": session.session_id})
    await until(lambda: view_when(jp_fetch, session.session_id, lambda v: v["stale"] is False))
    socket_ = await jp_ws_fetch("api", "events", "subscribe")
    frames: list[dict[str, Any]] = []

    async def collect() -> None:
        while True:
            frame = json.loads(await socket_.read_message())
            if frame.get("schema_id", "").endswith("session_changes/v1"):
                frames.append(frame)

    with contextlib.suppress(TimeoutError):  # six polls at the idle interval of 0.5 s
        await asyncio.wait_for(collect(), 3.0)
    socket_.close()

    kinds = [f["kind"] for f in frames]
    assert "updated" not in kinds, kinds  # the open, idle session did not change
    polled = [f for f in frames if f["kind"] == "polled"]
    assert polled and all(f["session"] is None for f in polled)
    assert session.session_id in polled[-1]["polled"]
    versions = [f["version"] for f in frames]
    assert versions == list(range(versions[0], versions[0] + len(versions)))
    await in_thread(session.close)


# ---------------------------------------------------------------- reports never via a proxy


@pytest.fixture
def listening_proxy() -> Iterator[list[bytes]]:
    """A TCP listener standing for a proxy in the environment: records what reaches it."""
    received: list[bytes] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(1)
                try:
                    received.append(connection.recv(65536))
                except OSError:
                    received.append(b"")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    received.append(f"{server.getsockname()[1]}".encode())  # first item: the port
    yield received
    stop.set()
    thread.join()
    server.close()


async def test_a_kernels_report_never_goes_through_a_proxy_from_its_environment(
    make_emulator: Callable[..., Harness],
    jp_fetch: Fetch,
    open_notebook: Callable[[str], Awaitable[NotebookKernel]],
    listening_proxy: list[bytes],
) -> None:
    import os

    harness = make_emulator(time_scale=0.02)
    port = listening_proxy[0].decode()
    emulator_host = harness.url.split("//", 1)[1].split(":")[0]  # 127.0.0.1; the server: localhost
    # The kernel inherits the server's environment: a proxy for everything but the service.
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        os.environ[name] = f"http://127.0.0.1:{port}"
    os.environ["no_proxy"] = os.environ["NO_PROXY"] = emulator_host
    kernel = await open_notebook("proxied.ipynb")
    stdout, _ = await kernel.run(
        "from qiskit_ibm_runtime import QiskitRuntimeService, Session\n"
        "session = Session(backend=QiskitRuntimeService().backend('ibmq_manila'))\n"
        "print(session.session_id)\n"
    )
    session_id = stdout.strip()

    tracked = await until(lambda: view_when(jp_fetch, session_id, lambda v: True), within=10)

    assert tracked["notebook_path"] == "proxied.ipynb"
    assert listening_proxy[1:] == []  # nothing reached the proxy
    await kernel.run("session.close()")
