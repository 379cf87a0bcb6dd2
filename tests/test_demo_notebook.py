"""The demo's quick-start notebook runs top to bottom in a real kernel against the emulator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from tests.harness import Harness

DEMO = Path(__file__).resolve().parent.parent / "demo"


def test_quickstart_notebook_runs_against_the_emulator(
    make_emulator: Callable[..., Harness], tmp_path: Path
) -> None:
    harness = make_emulator(time_scale=0.1)  # what ./dev demo uses
    notebook = nbformat.read(DEMO / "quickstart.ipynb", as_version=4)

    # The kernel inherits the environment the fixture set: the emulator, a scratch HOME.
    NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()

    outputs = "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert "while running: In progress, accepting new jobs" in outputs
    assert "after the block: Closed" in outputs
    assert "counts: {" in outputs
    state = harness.admin("GET", "/emulator/state")
    assert [s["state"] for s in state["sessions"]] == ["closed"]
