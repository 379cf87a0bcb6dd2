"""The demo notebook runs top to bottom in a kernel the server started (magics loaded by the
server's start-up hook), against the emulator; the monitor then lists exactly the sessions it
opened, under that notebook, in the states the notebook left them."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tests.harness import Harness
from tests.kernels import NotebookKernel
from tests.test_monitor_api import api, until

DEMO = Path(__file__).resolve().parent.parent / "demo" / "sessions.ipynb"
Fetch = Callable[..., Awaitable[Any]]


async def test_demo_notebook_runs_and_the_monitor_lists_its_sessions(
    make_emulator: Callable[..., Harness],
    open_notebook: Callable[[str], Awaitable[NotebookKernel]],
    jp_fetch: Fetch,
) -> None:
    harness = make_emulator(time_scale=0.02)
    notebook = nbformat.read(DEMO, as_version=4)
    kernel = await open_notebook("demo/sessions.ipynb")

    outputs = []
    for cell in notebook.cells:
        if cell.cell_type == "code":
            stdout, _ = await kernel.run(cell.source)  # fails the test on any error
            outputs.append(stdout)
    text = "\n".join(outputs)
    assert "after the block: Closed" in text
    vqe = re.search(r"iterations, energy (-?[\d.]+) \(exact (-?[\d.]+)\)", text)
    assert vqe, text
    assert abs(float(vqe.group(1)) - float(vqe.group(2))) < 0.01  # COBYLA converged
    assert "optimizer-a: best energy" in text and "optimizer-b: best energy" in text
    assert "Closed session" in text  # the %%session cell closed its session
    assert "max_time: 30 s (scaled by the emulator)" in text

    opened = {s["id"]: s for s in harness.admin("GET", "/emulator/state")["sessions"]}
    assert len(opened) == 8  # with, close(), max_time, VQE, threads, batch, %%session, abandoned

    async def settled() -> list[dict[str, Any]] | None:
        _, body = await api(jp_fetch, "GET", "sessions")
        views = body["sessions"]
        closed = [v for v in views if v["state"] == "closed"]
        return views if len(views) == 8 and len(closed) == 7 else None

    views = await until(settled, within=60)
    assert {v["id"] for v in views} == set(opened)
    assert {v["notebook_path"] for v in views} == {"demo/sessions.ipynb"}
    (left_open,) = [v for v in views if v["state"] != "closed"]
    assert left_open["status"] in ("Pending", "In progress, accepting new jobs")
    assert sorted(v["mode"] for v in views).count("batch") == 1
    tags = {tag for v in views for job in v["jobs"] for tag in job["tags"]}
    assert {"vqe", "optimizer-a", "optimizer-b", "magic"} <= tags


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
