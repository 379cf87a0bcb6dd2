"""Headless runs (#13): a notebook run by papermill from a terminal of this server is tracked
under that notebook and labelled a headless run; when the run ends with its session open, the
session is flagged orphaned. Real server, real terminal (terminado), real papermill and kernel,
the real client and the emulator."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tests.harness import Harness
from tests.test_monitor_api import api, until

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

Fetch = Callable[..., Awaitable[Any]]

OPENS_AND_LEAVES_OPEN = """\
from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2, Session
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager

backend = QiskitRuntimeService().backend("ibmq_manila")
circuit = QuantumCircuit(1)
circuit.x(0)
circuit.measure_all()
isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(circuit)
session = Session(backend=backend)  # never closed: the run ends with it open
SamplerV2(mode=session).run([isa]).result()
print("SESSION", session.session_id)
"""


async def run_in_terminal(jp_fetch: Fetch, jp_ws_fetch: Any, command: str) -> str:
    """Type ``command`` into a new terminal of the server; return what it printed once it says
    it is done (its exit status follows the marker)."""
    response = await jp_fetch("api", "terminals", method="POST", body="{}")
    name = json.loads(response.body)["name"]
    socket = await jp_ws_fetch("terminals", "websocket", name)
    socket.write_message(json.dumps(["stdin", f"{command}; echo RUN-ENDED-$?\r"]))
    printed = ""
    while "RUN-ENDED-" not in printed.replace("RUN-ENDED-$?", ""):
        message = await socket.read_message()
        assert message is not None, printed
        kind, *content = json.loads(message)
        if kind == "stdout":
            printed += content[0]
    socket.close()
    return printed


async def test_papermill_from_a_terminal_is_tracked_under_its_notebook_as_a_headless_run(
    make_emulator: Callable[..., Harness],
    jp_fetch: Fetch,
    jp_ws_fetch: Any,
    jp_root_dir: Path,
) -> None:
    harness = make_emulator(time_scale=0.02)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("%load_ext jupyter_session_monitor"),
        nbformat.v4.new_code_cell(OPENS_AND_LEAVES_OPEN),
    ]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    (jp_root_dir / "runs").mkdir()
    nbformat.write(notebook, jp_root_dir / "runs" / "vqe.ipynb")

    printed = await run_in_terminal(
        jp_fetch,
        jp_ws_fetch,
        f"cd {jp_root_dir} && {sys.executable} -m papermill --log-level ERROR "
        "runs/vqe.ipynb runs/vqe-out.ipynb",
    )
    assert "RUN-ENDED-0" in printed, printed
    ran = nbformat.read(jp_root_dir / "runs" / "vqe-out.ipynb", as_version=4)
    session_id = "".join(o.get("text", "") for o in ran.cells[1].outputs).split("SESSION ")[1]
    session_id = session_id.split()[0]

    async def orphaned() -> dict[str, Any] | None:
        status, body = await api(jp_fetch, "GET", f"sessions/{session_id}")
        return body if status == 200 and body["orphaned"] else None

    # Tracked under the notebook papermill ran (relative to the server's root), as a headless
    # run; the run's kernel ended with the session open: nobody can reach it now.
    tracked = await until(orphaned)
    assert tracked["notebook_path"] == "runs/vqe.ipynb"
    assert (tracked["source"], tracked["kernel_id"]) == ("headless", None)
    assert tracked["state"] != "closed"
    at_service = next(
        s for s in harness.admin("GET", "/emulator/state")["sessions"] if s["id"] == session_id
    )
    assert at_service["state"] != "closed"  # flagged, not closed (orphan_policy "flag")
