"""History survives the server: a killed server's successor restores it from SQLite and polls on."""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import SamplerV2 as Sampler
from qiskit_ibm_runtime import Session

from tests.harness import Harness, wait_until
from tests.server import running_server

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

FAST = (
    "--SessionMonitorApp.poll_busy_interval=0.2",
    "--SessionMonitorApp.poll_active_interval=0.3",
    "--SessionMonitorApp.poll_idle_interval=0.5",
)


def call(url: str, token: str, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"{url}session-monitor/api/{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"token {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        text = response.read()
    return json.loads(text) if text else None


def test_a_killed_server_loses_nothing(
    make_emulator: Callable[..., Harness], tmp_path: Path
) -> None:
    harness = make_emulator(time_scale=0.02)
    backend = harness.service().backend("ibmq_manila")
    circuit = QuantumCircuit(1)
    circuit.x(0)
    circuit.measure_all()
    isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(circuit)
    finished = Session(backend=backend)
    Sampler(mode=finished).run([isa], shots=5).result()
    still_open = Session(backend=backend)
    env = dict(os.environ)

    with running_server(sys.executable, tmp_path, *FAST, env=env, kill=True) as (url, token):
        for session in (finished, still_open):
            call(url, token, "POST", "sessions", {"session_id": session.session_id})
        call(url, token, "POST", f"sessions/{finished.session_id}/close", {})
        before = wait_until(
            lambda: closed_with_jobs(call(url, token, "GET", f"sessions/{finished.session_id}"))
        )

    with running_server(sys.executable, tmp_path, *FAST, env=env) as (url, token):
        after = call(url, token, "GET", f"sessions/{finished.session_id}")
        listing = call(url, token, "GET", "sessions")
        polled_before = call(url, token, "GET", f"sessions/{still_open.session_id}")[
            "last_polled_at"
        ]
        # The open one is polled again by the new server (wait_until fails the test if not).
        wait_until(
            lambda: (
                call(url, token, "GET", f"sessions/{still_open.session_id}")["last_polled_at"]
                != polled_before
            )
        )

    assert {s["id"] for s in listing["sessions"]} == {finished.session_id, still_open.session_id}
    assert after["jobs"] == before["jobs"]  # the job list, from the database
    assert after["end_reason"] == "closed"  # the action is remembered, so is the reason
    assert [t["state"] for t in after["timeline"]] == [t["state"] for t in before["timeline"]]
    assert after["timeline"][-1]["state"] == "closed"
    still_open.close()


def closed_with_jobs(view: dict[str, Any]) -> dict[str, Any] | None:
    return view if view["state"] == "closed" and view["jobs"] else None
