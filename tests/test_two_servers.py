"""Two Jupyter servers of one user on one registry (a second JupyterLab, named servers on a hub):
neither judges nor acts on the other's sessions.

Real servers (subprocesses), a real kernel of the first, the unmodified client, the emulator.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jupyter_client import BlockingKernelClient
from qiskit_ibm_runtime import Session

from tests.harness import Harness, wait_until
from tests.server import running_server

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def call(url: str, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"{url}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"token {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def run_in_kernel(workdir: Path, kernel_id: str, code: str) -> str:
    """Execute ``code`` in a kernel of the server running in ``workdir``; return its stdout."""
    client = BlockingKernelClient(
        connection_file=str(workdir / "server-runtime" / f"kernel-{kernel_id}.json")
    )
    client.load_connection_file()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        out: list[str] = []
        reply = client.execute_interactive(
            code,
            timeout=120,
            output_hook=lambda m: (
                out.append(m["content"].get("text", ""))
                if m["header"]["msg_type"] == "stream"
                else None
            ),
        )
        assert reply["content"]["status"] == "ok", reply["content"]
        return "".join(out)
    finally:
        client.stop_channels()


def test_a_second_server_never_orphans_or_closes_the_first_servers_session(
    make_emulator: Callable[..., Harness], tmp_path: Path
) -> None:
    harness = make_emulator(time_scale=0.02)
    shared = tmp_path / "registry.sqlite"  # the default data dir is the same for both
    options = (
        f"--SessionMonitorApp.db_path={shared}",
        "--SessionMonitorApp.poll_idle_interval=0.3",
        "--SessionMonitorApp.poll_active_interval=0.3",
        "--SessionMonitorApp.orphan_policy=close",
        "--SessionMonitorApp.orphan_grace_seconds=0.3",
    )
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first_dir.mkdir()
    second_dir.mkdir()
    env = dict(os.environ)
    with running_server(sys.executable, first_dir, *options, env=env) as (url_a, token_a):
        _, model = call(
            url_a,
            token_a,
            "POST",
            "api/sessions",
            {"path": "a.ipynb", "type": "notebook", "kernel": {"name": "python3"}},
        )
        out = run_in_kernel(
            first_dir,
            model["kernel"]["id"],
            "from qiskit_ibm_runtime import QiskitRuntimeService, Session\n"
            "session = Session(backend=QiskitRuntimeService().backend('ibmq_manila'))\n"
            "print(session.session_id)\n",
        )
        session_id = out.strip()
        wait_until(
            lambda: (
                call(url_a, token_a, "GET", f"session-monitor/api/sessions/{session_id}")[0] == 200
            )
        )

        with running_server(sys.executable, second_dir, *options, env=env) as (url_b, token_b):
            _, listing = call(url_b, token_b, "GET", "session-monitor/api/sessions")
            status, refused = call(
                url_b, token_b, "POST", "session-monitor/api/sessions", {"session_id": session_id}
            )
            # The second server at work on a session of its own: its loop, scheduler and
            # service client are warm (it read the service twice since)...
            own = Session(backend=harness.service().backend("ibmq_kolkata"))
            call(
                url_b,
                token_b,
                "POST",
                "session-monitor/api/sessions",
                {"session_id": own.session_id},
            )

            def polled(path: str = f"session-monitor/api/sessions/{own.session_id}") -> Any:
                return call(url_b, token_b, "GET", path)[1]["last_polled_at"]

            first = wait_until(polled)
            wait_until(lambda: polled() not in (None, first))
            # ...then a wrong judgement gets many times the grace period (0.3 s) to act: before
            # servers were told apart, the first server's session was closed within it.
            time.sleep(2.0)
            state = harness.admin("GET", "/emulator/state")
            own.close()
            _, seen_by_a = call(url_a, token_a, "GET", f"session-monitor/api/sessions/{session_id}")

    assert session_id not in {s["id"] for s in listing["sessions"]}
    assert status == 409 and refused["error"]["kind"] == "elsewhere"
    assert url_a in refused["error"]["message"]
    assert next(s for s in state["sessions"] if s["id"] == session_id)["state"] != "closed"
    assert seen_by_a["orphaned"] is False and seen_by_a["notebook_path"] == "a.ipynb"
