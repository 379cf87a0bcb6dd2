"""Sessions opened by plain notebook code are tracked under their notebook, with no extra line.

Real kernels started through the server's REST API (as JupyterLab starts them), the real client,
the emulator, the monitor's REST API.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.harness import Harness
from tests.kernels import NotebookKernel
from tests.test_monitor_api import api, until

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

Fetch = Callable[..., Awaitable[Any]]

OPEN_SESSION = """
from qiskit_ibm_runtime import QiskitRuntimeService, Session
service = QiskitRuntimeService()
session = Session(backend=service.backend("ibmq_manila"))
print(session.session_id)
"""


@pytest.fixture
def harness(make_emulator: Callable[..., Harness]) -> Harness:
    return make_emulator(time_scale=0.02)


async def listed(fetch: Fetch, count: int) -> list[dict[str, Any]] | None:
    _, body = await api(fetch, "GET", "sessions")
    return body["sessions"] if len(body["sessions"]) >= count else None


async def test_a_notebooks_session_is_tracked_under_the_notebook(
    harness: Harness, jp_fetch: Fetch, open_notebook: Any
) -> None:
    kernel = await open_notebook("analysis/vqe.ipynb")

    stdout, _ = await kernel.run(OPEN_SESSION)

    (tracked,) = await until(lambda: listed(jp_fetch, 1))
    assert tracked["id"] == stdout.strip()
    assert tracked["notebook_path"] == "analysis/vqe.ipynb"
    assert tracked["kernel_id"] == kernel.kernel_id
    assert (tracked["source"], tracked["mode"], tracked["backend"]) == (
        "kernel",
        "dedicated",
        "ibmq_manila",
    )
    assert tracked["account"]["channel"] == "ibm_quantum_platform"
    assert tracked["account"]["instance"].startswith("crn:")
    assert tracked["status"] == "Pending"
    await kernel.run("session.close()")


async def test_every_usual_way_of_opening_is_seen(
    harness: Harness, jp_fetch: Fetch, open_notebook: Any
) -> None:
    kernel = await open_notebook("patterns.ipynb")

    stdout, _ = await kernel.run(
        OPEN_SESSION
        + """
from qiskit_ibm_runtime import Batch
with Session(backend=service.backend("ibmq_kolkata")) as managed:
    print(managed.session_id)
batch = Batch(backend=service.backend("ibmq_manila"))
print(batch.session_id)
again = Session.from_id(session.session_id, service)
"""
    )

    opened = stdout.split()
    sessions = await until(lambda: listed(jp_fetch, 3))
    by_id = {s["id"]: s for s in sessions}
    assert sorted(by_id) == sorted(opened)  # from_id of a tracked session adds no duplicate
    assert by_id[opened[2]]["mode"] == "batch"
    assert by_id[opened[1]]["backend"] == "ibmq_kolkata"
    assert {s["notebook_path"] for s in sessions} == {"patterns.ipynb"}


async def test_local_testing_mode_says_once_that_there_is_nothing_to_monitor(
    harness: Harness, jp_fetch: Fetch, open_notebook: Any
) -> None:
    kernel = await open_notebook("local.ipynb")

    _, stderr = await kernel.run(
        """
from qiskit_ibm_runtime import Session
from qiskit_ibm_runtime.fake_provider import FakeManilaV2
for _ in range(2):
    with Session(backend=FakeManilaV2()):
        pass
"""
    )

    assert stderr.count("local testing mode") == 1
    assert "nothing to monitor" in stderr
    _, body = await api(jp_fetch, "GET", "sessions")
    assert body["sessions"] == []


async def test_a_kernel_that_never_imports_qiskit_never_loads_it(
    harness: Harness, open_notebook: Any
) -> None:
    kernel = await open_notebook("plain.ipynb")

    stdout, _ = await kernel.run(
        "import sys\n"
        "from jupyter_session_monitor.kernel import installed\n"
        "print(installed(), sorted(m for m in sys.modules if m.startswith('qiskit')))"
    )

    assert stdout.strip() == "True []"


async def test_the_hook_is_back_after_a_kernel_restart(
    harness: Harness, jp_fetch: Fetch, jp_serverapp: Any, open_notebook: Any
) -> None:
    kernel = await open_notebook("restarted.ipynb")
    first, _ = await kernel.run(OPEN_SESSION)
    await until(lambda: listed(jp_fetch, 1))

    await jp_serverapp.kernel_manager.restart_kernel(kernel.kernel_id)
    kernel.close()
    await kernel.connect()
    second, _ = await kernel.run(OPEN_SESSION)

    sessions = await until(lambda: listed(jp_fetch, 2))
    assert {s["id"] for s in sessions} == {first.strip(), second.strip()}
    assert {s["notebook_path"] for s in sessions} == {"restarted.ipynb"}
    # The first session is out of the restarted kernel's reach: an orphan; the new one is not.
    orphaned = {s["id"]: s["orphaned"] for s in sessions}
    assert orphaned == {first.strip(): True, second.strip(): False}


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({}, {"session_id": "abc"}, 403),
        ({"X-Session-Monitor-Secret": "guess"}, {"session_id": "abc"}, 403),
        ("secret", b"{oops", 400),
        ("secret", {"session_id": "abc", "kernel_id": "no-such-kernel"}, 404),
    ],
)
async def test_registration_refuses_strangers_and_bad_input(
    harness: Harness,
    jp_fetch: Fetch,
    jp_serverapp: Any,
    headers: Any,
    body: Any,
    status: int,
) -> None:
    from tornado.httpclient import HTTPClientError

    if headers == "secret":
        headers = {
            "X-Session-Monitor-Secret": jp_serverapp.web_app.settings[
                "session_monitor_kernel_secret"
            ]
        }
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch(
            "session-monitor",
            "api",
            "kernel-registrations",
            method="POST",
            body=body if isinstance(body, bytes) else json.dumps(body),
            headers={"Authorization": "", **headers},
        )

    assert refused.value.code == status


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], request: pytest.FixtureRequest
) -> dict[str, Any]:
    if request.node.get_closest_marker("no_injection"):
        jp_server_config["SessionMonitorApp"]["inject_kernel_hook"] = False
    if request.node.get_closest_marker("discover_workloads"):
        jp_server_config["SessionMonitorApp"]["discover_workloads"] = True
        jp_server_config["SessionMonitorApp"]["discovery_interval"] = 0.3
    if request.node.get_closest_marker("slow_polls"):
        for name in ("poll_busy_interval", "poll_active_interval", "poll_idle_interval"):
            jp_server_config["SessionMonitorApp"][name] = 60.0
    if request.node.get_closest_marker("close_orphans"):
        jp_server_config["SessionMonitorApp"]["orphan_policy"] = "close"
        jp_server_config["SessionMonitorApp"]["orphan_grace_seconds"] = 0.5
    return jp_server_config


@pytest.mark.slow_polls
async def test_the_first_job_and_close_in_the_kernel_are_seen_at_once(
    jp_fetch: Fetch, open_notebook: Callable[[str], Awaitable[NotebookKernel]], harness: Harness
) -> None:
    kernel = await open_notebook("prompt.ipynb")
    stdout, _ = await kernel.run(OPEN_SESSION)
    session_id = stdout.strip()
    await until(lambda: listed(jp_fetch, 1))

    async def state_is(state: str) -> bool:
        _, body = await api(jp_fetch, "GET", f"sessions/{session_id}")
        return bool(body["state"] == state)

    # Polls are a minute apart here; the kernel's reports make the monitor look at once.
    await kernel.run(
        "from qiskit_ibm_runtime import SamplerV2\n"
        "from qiskit import QuantumCircuit\n"
        "from qiskit.transpiler import generate_preset_pass_manager\n"
        "c = QuantumCircuit(1); c.x(0); c.measure_all()\n"
        "backend = session._backend\n"
        "isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(c)\n"
        "SamplerV2(mode=session).run([isa]).result()\n"
    )
    await until(lambda: state_is("active"), within=10)
    await kernel.run("session.close()")
    await until(lambda: state_is("closed"), within=10)


async def orphans(fetch: Fetch) -> list[dict[str, Any]] | None:
    _, body = await api(fetch, "GET", "sessions")
    found = [s for s in body["sessions"] if s["orphaned"]]
    return found or None


async def test_shutting_the_notebook_down_orphans_its_open_sessions(
    harness: Harness, jp_fetch: Fetch, open_notebook: Any
) -> None:
    kernel = await open_notebook("closed-tab.ipynb")
    opened, _ = await kernel.run(OPEN_SESSION)
    await until(lambda: listed(jp_fetch, 1))

    await jp_fetch("api", "sessions", kernel.model["id"], method="DELETE")

    (orphan,) = await until(lambda: orphans(jp_fetch))
    assert orphan["id"] == opened.strip()
    assert orphan["status"] == "Pending"  # still open at the service: the point of flagging it
    # The session's timeline says when and why (#14 item 9).
    _, full = await api(jp_fetch, "GET", f"sessions/{orphan['id']}")
    assert full["timeline"][-1]["status"] == "Orphaned: its kernel was shut down"
    assert full["timeline"][-1]["state"] == "open"


@pytest.mark.close_orphans
async def test_the_close_policy_closes_orphans_after_the_grace_period(
    harness: Harness, jp_fetch: Fetch, jp_serverapp: Any, open_notebook: Any
) -> None:
    kernel = await open_notebook("forgotten.ipynb")
    opened, _ = await kernel.run(OPEN_SESSION)
    session_id = opened.strip()
    await until(lambda: listed(jp_fetch, 1))

    await jp_serverapp.kernel_manager.restart_kernel(kernel.kernel_id)

    async def closed() -> dict[str, Any] | None:
        _, view = await api(jp_fetch, "GET", f"sessions/{session_id}")
        return view if view["state"] == "closed" else None

    ended = await until(closed)
    assert ended["orphaned"] is True
    assert ended["end_reason"] == "closed"
    audit = jp_serverapp.web_app.settings["session_monitor"].store.actions(session_id)
    assert [(a["user"], a["action"], a["result"]) for a in audit] == [
        ("session-monitor (orphan policy)", "close", "accepted")
    ]


@pytest.mark.no_injection
async def test_without_injection_only_an_explicit_load_ext_reports(
    harness: Harness, jp_fetch: Fetch, open_notebook: Any
) -> None:
    kernel = await open_notebook("manual.ipynb")
    unseen, _ = await kernel.run(OPEN_SESSION)

    seen, _ = await kernel.run("%load_ext jupyter_session_monitor\n" + OPEN_SESSION)

    (tracked,) = await until(lambda: listed(jp_fetch, 1))
    assert tracked["id"] == seen.strip() != unseen.strip()
    assert tracked["notebook_path"] == "manual.ipynb"


async def test_a_token_handed_over_by_a_kernel_never_leaves_the_server(
    make_emulator: Callable[..., Harness],
    jp_fetch: Fetch,
    jp_serverapp: Any,
    jp_ws_fetch: Any,
    open_notebook: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import secrets
    from pathlib import Path

    canary = f"canary-{secrets.token_hex(12)}"
    make_emulator(time_scale=0.02, api_key=canary)  # the kernel's account token is the canary
    events = await jp_ws_fetch("api", "events", "subscribe")
    kernel = await open_notebook("secret.ipynb")

    opened, _ = await kernel.run(OPEN_SESSION)
    await kernel.run("session.close()")

    async def closed() -> dict[str, Any] | None:
        status, view = await api(jp_fetch, "GET", f"sessions/{opened.strip()}")
        return view if status == 200 and view["state"] == "closed" else None

    view = await until(closed)  # the server polled with the handed-over token
    assert view["account"]["name"] is None
    _, listing = await api(jp_fetch, "GET", "sessions")
    assert canary not in json.dumps(view) + json.dumps(listing)
    received = []
    while True:
        try:
            received.append(await asyncio.wait_for(events.read_message(), 0.5))
        except TimeoutError:
            break
    assert received and all(canary not in message for message in received)
    assert canary not in caplog.text
    store = jp_serverapp.web_app.settings["session_monitor"].store
    for file in Path(store.path).parent.glob(Path(store.path).name + "*"):
        assert canary.encode() not in file.read_bytes()
    events.close()


@pytest.fixture
def opened_elsewhere(harness: Harness) -> tuple[str, str]:
    """(open id, closed id): sessions a script opened before the server started, so that the
    monitor's first look at the account never catches the closed one while it was still open."""
    from qiskit_ibm_runtime import Session

    backend = harness.service().backend("ibmq_manila")
    with Session(backend=backend) as finished:
        pass
    return Session(backend=backend).session_id, finished.session_id


@pytest.mark.discover_workloads
async def test_account_wide_discovery_finds_sessions_opened_elsewhere(
    opened_elsewhere: tuple[str, str], jp_fetch: Fetch
) -> None:
    open_id, closed_id = opened_elsewhere

    (found,) = await until(lambda: listed(jp_fetch, 1))
    assert found["id"] == open_id != closed_id
    assert (found["source"], found["notebook_path"], found["kernel_id"]) == (
        "discovered",
        None,
        None,
    )
