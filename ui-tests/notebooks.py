"""Notebooks the browser tests run, and how to run them in the page."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import nbformat
from labserver import Lab
from playwright.sync_api import Page, expect

SIDEBAR_TAB = '.jp-SideBar.jp-mod-left [data-id="jp-session-monitor"]'
PANEL = "#jp-session-monitor"


def session_code(
    *,
    jobs: int,
    backend: str = "ibmq_manila",
    max_time: str | int | None = None,
    tags: list[str] | None = None,
) -> str:
    """A cell that opens a session the documented way and submits ``jobs`` sampler jobs."""
    max_time_arg = "" if max_time is None else f", max_time={max_time!r}"
    return f"""\
import warnings
warnings.filterwarnings("ignore", message="The (Sampler|Estimator)V2 class is deprecated")
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2, Session

service = QiskitRuntimeService()
backend = service.backend({backend!r})
circuit = QuantumCircuit(2)
circuit.h(0)
circuit.cx(0, 1)
circuit.measure_all()
isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(circuit)
session = Session(backend=backend{max_time_arg})
sampler = SamplerV2(mode=session)
sampler.options.environment.job_tags = {tags or []!r}
jobs = [sampler.run([isa]) for _ in range({jobs})]
print("SESSION", session.session_id)
"""


@contextmanager
def toasts_hidden(page: Page) -> Iterator[None]:
    """For a screenshot of what a test is about: the notifications of other tests' sessions
    (they share the server) hidden meanwhile, not dismissed."""
    hidden = ".jp-toastContainer, .Toastify__toast-container, .Toastify__toast"
    style = page.add_style_tag(content=f"{hidden} {{ visibility: hidden !important; }}")
    try:
        yield
    finally:
        style.evaluate("node => node.remove()")


def widget_cell(*, tag: str, jobs: int) -> str:
    """A `%%session` cell (its live widget in the output) that keeps its session open and
    submits ``jobs`` sampler jobs to it."""
    return f"""\
%%session --backend ibmq_manila --keep --tags {tag}
import warnings
warnings.filterwarnings("ignore", message="The (Sampler|Estimator)V2 class is deprecated")
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import SamplerV2
circuit = QuantumCircuit(2)
circuit.h(0)
circuit.cx(0, 1)
circuit.measure_all()
sampler = SamplerV2()
isa = generate_preset_pass_manager(backend=sampler._backend, optimization_level=1).run(circuit)
jobs = [sampler.run([isa]) for _ in range({jobs})]
print("SESSION", jobs[0].session_id)
"""


def write_notebook(lab: Lab, name: str, *cells: str) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nbformat.write(notebook, lab.root_dir / name)


def api(lab: Lab, method: str, path: str, body: Any = None) -> Any:
    """A call to the monitor's REST API as the server's owner; its JSON answer."""
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"{lab.url}session-monitor/api/{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"token {lab.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        text = response.read()
    return json.loads(text) if text else None


def start_kernel(lab: Lab, name: str) -> str:
    """Start the notebook's kernel through the server's sessions API (as Lab does on open), so
    opening the notebook never depends on the kernel picker. Returns the kernel id."""
    body = json.dumps({"path": name, "type": "notebook", "kernel": {"name": "python3"}})
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"{lab.url}api/sessions", data=body.encode(), method="POST"
    )
    request.add_header("Authorization", f"token {lab.token}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        kernel_id: str = json.loads(response.read())["kernel"]["id"]
    return kernel_id


def run_notebook(page: Page, lab: Lab, name: str) -> str:
    """Open the notebook in Lab, run every cell, return the session id its output prints."""
    start_kernel(lab, name)
    page.goto(lab.lab_url(f"lab/tree/{name}"))
    expect(page.locator(SIDEBAR_TAB)).to_be_visible(timeout=60_000)
    # The notebook is attached to its running kernel once the toolbar names it and says Idle.
    expect(page.locator(".jp-NotebookPanel-toolbar .jp-KernelName")).to_have_text(
        "Python 3 (ipykernel)", timeout=60_000
    )
    expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_have_count(
        1, timeout=60_000
    )
    return run_all_for_session(page)


def run_all_for_session(page: Page) -> str:
    """Run every cell of the open notebook (JupyterLab or Notebook 7); return the session id its
    output prints (`SESSION <id>`)."""
    # Not awaited: the command's promise settles only when every cell has run.
    page.evaluate("void window.jupyterapp.commands.execute('notebook:run-all-cells')")
    return printed_id(page, "SESSION")


def printed_id(page: Page, marker: str) -> str:
    """The id a cell printed after ``marker`` (one such output in the page)."""
    output = page.locator(".jp-OutputArea-output").filter(has_text=re.compile(rf"{marker} \S+"))
    expect(output).to_have_count(1, timeout=60_000)
    match = re.search(rf"{marker} (\S+)", output.inner_text())
    assert match, output.inner_text()
    return match.group(1)


def open_sidebar(page: Page) -> None:
    # After a reload Lab restores its layout, which may show the sidebar itself: look once that
    # is done, or a click on its tab would hide what the restore just showed.
    page.evaluate("async () => { await window.jupyterapp?.restored; }")
    if not page.locator(PANEL).is_visible():
        page.locator(SIDEBAR_TAB).click()
    expect(page.locator(PANEL)).to_be_visible()


def row(page: Page, session_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f'{PANEL} [data-session-id="{session_id}"]')
