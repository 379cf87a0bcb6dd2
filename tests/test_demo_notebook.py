"""The demo notebook runs top to bottom in a kernel the server started (magics loaded by the
server's start-up hook, and able to ask the server), against the emulator with the time scale and
instance allowance `./dev demo` gives it; the monitor then lists exactly the sessions it opened,
under that notebook, in the states the notebook left them, and the money section shows what its
text says: billed time and cost, a budget that closed its session, the fit-check line, close-all.
It also runs headless, with nbclient and no server at all."""

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

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo" / "sessions.ipynb"
Fetch = Callable[..., Awaitable[Any]]

#: The rate the test enters where the notebook asks the user to set one ("Set a rate…").
RATE = 1.6


def demo_setting(name: str) -> float:
    """The default `./dev demo` gives the emulator for ``name`` (``${NAME:-x}`` or ``${NAME-x}``):
    the notebook runs here as it runs there. The fit-check cell needs the demo's time scale: at
    it, the client submits jobs faster than they run, so they queue."""
    found = re.search(rf"\$\{{{name}:?-([\d.]+)\}}", (ROOT / "dev").read_text())
    assert found, f"./dev demo no longer sets {name}"
    return float(found.group(1))


async def run(kernel: NotebookKernel, code: str) -> tuple[str, list[str]]:
    """Execute ``code``; return its stdout and the questions it asked through ``input()``, each
    answered N (the user keeps the abandoned session for the sidebar). Fails on an error."""
    out: list[str] = []
    prompts: list[str] = []
    errors: list[str] = []

    def collect(message: dict[str, Any]) -> None:
        kind, content = message["header"]["msg_type"], message["content"]
        if kind == "stream" and content["name"] == "stdout":
            out.append(content["text"])
        elif kind == "error":
            errors.append("\n".join(content["traceback"]))

    def answer(message: dict[str, Any]) -> None:
        prompts.append(message["content"]["prompt"])
        kernel.client.input("n")

    reply = await kernel.client.execute_interactive(
        code, output_hook=collect, stdin_hook=answer, allow_stdin=True, timeout=120
    )
    assert reply["content"]["status"] == "ok", errors
    return "".join(out), prompts


async def test_demo_notebook_runs_and_the_monitor_lists_its_sessions(
    make_emulator: Callable[..., Harness],
    open_notebook: Callable[[str], Awaitable[NotebookKernel]],
    jp_fetch: Fetch,
) -> None:
    scale = demo_setting("EMULATOR_TIME_SCALE")
    limit = demo_setting("EMULATOR_INSTANCE_LIMIT")
    harness = make_emulator(time_scale=scale, instance_limit=limit)
    notebook = nbformat.read(DEMO, as_version=4)
    kernel = await open_notebook("demo/sessions.ipynb")

    outputs: dict[str, str] = {}  # by cell id
    prompts: dict[str, list[str]] = {}
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and "**Set a rate…**" in cell.source:
            # What the user does there, through the route the sidebar's dialog uses.
            status, _ = await api(jp_fetch, "PUT", "billing", {"rate_per_second": RATE})
            assert status == 200
        elif cell.cell_type == "code":
            outputs[cell.id], prompts[cell.id] = await run(kernel, cell.source)
    text = "\n".join(outputs.values())
    assert "after the block: Closed" in text
    vqe = re.search(r"iterations, energy (-?[\d.]+) \(exact (-?[\d.]+)\)", text)
    assert vqe, text
    assert abs(float(vqe.group(1)) - float(vqe.group(2))) < 0.01  # COBYLA converged
    assert "optimizer-a: best energy" in text and "optimizer-b: best energy" in text
    assert "Closed session" in text  # the %%session cell closed its session
    assert f"max_time: {1500 * scale:g} s (scaled by the emulator)" in text
    abandoned = re.search(r"left open: (\w+)", text)
    assert abandoned, text

    # Money (issue #12). Billed time and cost of the max_time session, idle for its interactive
    # TTL (60 s scaled) after its one job.
    billed = re.search(
        r"\n  billed (\d+)s so far \(of which (\d+)s idle\), (\d+\.\d\d)[;\n]", outputs["5d0a7e31"]
    )
    assert billed, outputs["5d0a7e31"]
    seconds, idle, cost = int(billed.group(1)), int(billed.group(2)), float(billed.group(3))
    assert idle >= int(60 * scale) - 1 and seconds >= idle
    assert seconds <= cost / RATE < seconds + 1

    # A budget that acts: the server closed the cell's session; the service refused the next job.
    cell = outputs["e7b2d953"]
    said = re.search(
        r"Budget for session (\w+): 3s of billed time; a warning at 80 %, at 100 % the monitor "
        r"closes it \(queued jobs still run\)\.",
        cell,
    )
    assert said, cell
    budgeted = said.group(1)
    refused = re.search(r"(\d+) jobs ran; job \d+ was refused: the session is Closed", cell)
    assert refused and 0 < int(refused.group(1)) < 50, cell
    assert re.search(
        rf"\n  budget 3s of billed time: \d+ % used; reached: (closed {budgeted}|close under way)",
        outputs["1f6c8b04"],
    ), outputs["1f6c8b04"]

    async def budget_acted() -> dict[str, Any] | None:
        _, view = await api(jp_fetch, "GET", f"sessions/{budgeted}")
        budget = view["budget"]
        return view if budget["reached"] and budget["outcome"] == f"closed {budgeted}" else None

    acted = await until(budget_acted)
    assert acted["state"] == "closed"
    assert acted["billing"]["billed_seconds"] >= 3

    # The fit-check, before the max TTL; then the session cancelled.
    fit = re.search(
        r"\n  ≈ (\d+) of (\d+) queued jobs will not start before max TTL \(\d\d:\d\d\) and will "
        r"fail\n",
        outputs["b6e9f316"],
    )
    assert fit and 0 < int(fit.group(1)) < int(fit.group(2)) <= 80, outputs["b6e9f316"]
    assert re.search(r"Cancelled session \w+: \d+ queued jobs cancelled", outputs["d2f5c389"])

    # Close all, with --yes: Run All goes to the end without a keypress (#26 item 10); it listed
    # the abandoned session and closed it, the only one left open.
    assert prompts["a8c3e1f7"] == []
    assert abandoned.group(1) in outputs["a8c3e1f7"]
    assert f"Closed 1 session: {abandoned.group(1)}." in outputs["a8c3e1f7"]

    opened = {s["id"]: s for s in harness.admin("GET", "/emulator/state")["sessions"]}
    # with, close(), max_time, VQE, threads, batch, %%session, abandoned, budget, fit-check
    assert len(opened) == 10

    async def settled() -> list[dict[str, Any]] | None:
        _, body = await api(jp_fetch, "GET", "sessions")
        views = body["sessions"]
        closed = [v for v in views if v["state"] == "closed"]
        return views if len(views) == 10 and len(closed) == 10 else None

    views = await until(settled, within=60)
    assert {v["id"] for v in views} == set(opened)
    assert {v["notebook_path"] for v in views} == {"demo/sessions.ipynb"}
    (closed_last,) = [v for v in views if v["id"] == abandoned.group(1)]
    assert closed_last["end_reason"] == "closed"
    assert sorted(v["mode"] for v in views).count("batch") == 1
    tags = {tag for v in views for job in v["jobs"] for tag in job["tags"]}
    assert {"vqe", "optimizer-a", "optimizer-b", "magic"} <= tags

    # The instance allowance ./dev demo sets: a visible share used, none reached, and, with
    # every session closed by the last cell, nothing left open that could use more than is left.
    async def allowance() -> dict[str, Any] | None:
        _, body = await api(jp_fetch, "GET", "instances")
        (reading,) = body["instances"]
        return reading if reading["consumed_seconds"] and not reading["at_risk"] else None

    reading = await until(allowance, within=30)
    assert reading["limit_seconds"] == pytest.approx(limit * scale)
    assert not reading["limit_reached"]
    assert reading["consumed_seconds"] / reading["limit_seconds"] > 0.05, reading


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_demo_notebook_runs_headless_with_nbclient_outside_any_server(
    make_emulator: Callable[..., Harness],
) -> None:
    """papermill/nbclient in a kernel no server started (#13): the demo's `%load_ext` gives it
    the magics; what needs the monitor (a budget, close --all) says so in one line instead of
    failing the run. No stdin: nobody is asked anything."""
    from nbclient import NotebookClient

    # The demo's own time scale: at 0.02 the fit-check cell's max TTL (2.4 s) can end before
    # the client has submitted its 80 jobs on a slow machine, and the service refuses the rest.
    make_emulator(time_scale=demo_setting("EMULATOR_TIME_SCALE"))
    notebook = nbformat.read(DEMO, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3").execute()  # raises on an error

    def printed(cell_id: str) -> str:
        (cell,) = (c for c in notebook.cells if c.get("id") == cell_id)
        return "".join(o.get("text", "") for o in cell.outputs)

    assert "after the block: Closed" in printed("dfa175eb")
    assert "Closed session" in printed("f942f15a")  # the %%session cell closed its session
    assert "no budget set" in printed("e7b2d953") and "cannot be asked" in printed("e7b2d953")
    assert "Nothing was closed." in printed("a8c3e1f7")
    # The first cell's %load_ext loaded the magics quietly.
    first = next(c for c in notebook.cells if c.cell_type == "code")
    assert "%load_ext jupyter_session_monitor" in first.source
    assert not [o for o in first.outputs if o.get("name") == "stderr"]
