"""What the sidebar and the widget say is what the service says, at the moment it matters: a
confirmation's numbers while jobs drain, a failed job's reason, a session the service no longer
knows, and a cell's widget after a kernel restart and a page reload."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from labserver import Lab
from notebooks import (
    PANEL,
    SIDEBAR_TAB,
    api,
    open_sidebar,
    row,
    run_notebook,
    session_code,
    write_notebook,
)
from playwright.sync_api import Page, expect

from tests.harness import Harness


def _queued(text: str) -> int:
    match = re.search(r"(\d+) queued", text)
    return int(match.group(1)) if match else 0


def test_a_cancel_confirmation_counts_the_queue_as_it_drains(
    page: Page, lab: Lab, screenshot_path: Callable[[str], str]
) -> None:
    # 12 jobs of 2 s each: one runs, the rest wait; the queue shrinks every 2 s.
    write_notebook(lab, "drain.ipynb", session_code(jobs=12))
    session_id = run_notebook(page, lab, "drain.ipynb")
    open_sidebar(page)
    session = row(page, session_id)
    expect(session.get_by_test_id("job-counts")).to_contain_text("queued", timeout=20_000)

    session.get_by_role("button", name=f"Cancel session {session_id[:8]}").click()
    dialog = page.locator(".jp-Dialog")
    sentence = dialog.get_by_test_id("confirm-consequence")
    expect(sentence).to_contain_text(re.compile(r"\d+ queued jobs? will be cancelled"))
    expect(dialog.get_by_test_id("confirm-freshness")).to_contain_text(
        "As the service said at", timeout=10_000
    )
    first = sentence.inner_text()
    assert _queued(first) > 0, first
    # The row behind the dialog and the dialog agree (one store); and the dialog follows the
    # queue while it is open instead of keeping the number it opened with.
    expect(sentence).not_to_have_text(first, timeout=15_000)
    assert _queued(sentence.inner_text()) < _queued(first)
    page.screenshot(path=screenshot_path("confirm-live"))
    shown = _queued(sentence.inner_text())
    dialog.get_by_role("button", name="Cancel session").click()

    end = page.locator(f'{PANEL} [data-session-id="{session_id}"]').get_by_test_id("end-reason")
    toggle = page.locator(f'{PANEL} [data-group="closed"] .jp-SessionMonitor-groupToggle')
    expect(toggle).to_be_visible(timeout=30_000)
    if toggle.get_attribute("aria-expanded") == "false":
        toggle.click()
    expect(end).to_contain_text("Cancelled: it ended at once;", timeout=30_000)
    match = re.search(r"(\d+) jobs? (?:was|were) cancelled", end.inner_text())
    assert match, end.inner_text()
    # A job may start between the confirmation and the service's cancel: never more than shown.
    assert shown - 1 <= int(match.group(1)) <= shown


WIDE = """\
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2, Session

backend = QiskitRuntimeService().backend("ibm_torino")
ghz = QuantumCircuit(22)
ghz.h(0)
for qubit in range(1, 22):
    ghz.cx(qubit - 1, qubit)
ghz.measure_all()
isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(ghz)
session = Session(backend=backend)
job = SamplerV2(mode=session).run([isa], shots=10)
print("SESSION", session.session_id)
"""


def test_a_failed_jobs_reason_is_in_the_job_table(
    page: Page, lab: Lab, screenshot_path: Callable[[str], str]
) -> None:
    write_notebook(lab, "wide.ipynb", WIDE)
    session_id = run_notebook(page, lab, "wide.ipynb")
    open_sidebar(page)
    session = row(page, session_id)
    expect(session.get_by_test_id("job-counts")).to_contain_text("1 failed", timeout=30_000)

    session.locator(".jp-SessionMonitor-expand").click()

    reason = session.get_by_test_id("job-reason")
    expect(reason).to_contain_text("22", timeout=10_000)
    expect(reason).to_contain_text("qubits")
    assert "acts on 22 qubits" in (reason.get_attribute("title") or "")  # all of it on hover
    reason.scroll_into_view_if_needed()
    page.screenshot(path=screenshot_path("job-reason"))
    page.evaluate("void window.jupyterapp.commands.execute('kernelmenu:shutdown')")


def test_a_session_the_service_no_longer_knows_can_be_forgotten(
    page: Page, lab: Lab, emulator: Harness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from qiskit_ibm_runtime import Session

    monkeypatch.setenv("HOME", str(tmp_path))
    for key, value in emulator.emulator.client_environment().items():
        monkeypatch.setenv(key, value)
    session = Session(backend=emulator.service().backend("ibmq_kolkata"))
    session_id = session.session_id
    page.goto(lab.lab_url())
    expect(page.locator(SIDEBAR_TAB)).to_be_visible(timeout=60_000)
    open_sidebar(page)
    form = page.get_by_role("form", name="Track a session by id")
    form.get_by_label("Track a session by id").fill(session_id)
    form.get_by_role("button", name="Track").click()
    expect(row(page, session_id)).to_be_visible(timeout=20_000)
    emulator.admin(
        "POST",
        "/emulator/faults",
        {"kind": "status", "status": 404, "route": f"/sessions/{session_id}$"},
    )
    try:
        lost = page.locator(f'{PANEL} [data-group="lost"] [data-session-id="{session_id}"]')
        expect(lost).to_be_visible(timeout=20_000)
        expect(lost.get_by_test_id("session-status")).to_have_text("Not found at the service")
        expect(lost).to_contain_text("no longer knows this session")
        expect(lost.get_by_role("button", name=re.compile("^Close session"))).to_have_count(0)

        lost.get_by_role("button", name=f"Forget session {session_id[:8]}").click()

        expect(row(page, session_id)).to_have_count(0, timeout=10_000)
    finally:
        emulator.admin("DELETE", "/emulator/faults")
        session.close()


KEPT = """\
%%session --backend ibmq_manila --keep --max-time 5m
print("SESSION", SamplerV2()._mode.session_id)
"""


def _restart_kernel(lab: Lab, kernel_id: str) -> None:
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"{lab.url}api/kernels/{kernel_id}/restart", data=b"{}", method="POST"
    )
    request.add_header("Authorization", f"token {lab.token}")
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        json.loads(response.read())


def test_a_cells_widget_shows_its_max_ttl_and_survives_a_restart_and_reload(
    page: Page, lab: Lab, screenshot_path: Callable[[str], str]
) -> None:
    write_notebook(lab, "kept.ipynb", "from qiskit_ibm_runtime import SamplerV2", KEPT)
    session_id = run_notebook(page, lab, "kept.ipynb")
    card = page.locator(f'.jp-OutputArea .jp-SessionMonitor-card[data-session-id="{session_id}"]')
    expect(card).to_be_visible(timeout=20_000)
    # Set in the cell line, so shown at once (scaled by the emulator: 5 min -> 30 s).
    expect(card.locator('[data-kind^="max_ttl"]')).to_contain_text("max TTL 30 s")
    page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
    expect(page.locator(".jp-mod-dirty")).to_have_count(0, timeout=10_000)
    kernel = api(lab, "GET", f"sessions/{session_id}")["kernel_id"]  # the kernel that opened it

    _restart_kernel(lab, kernel)
    page.reload()

    card = page.locator(f'.jp-OutputArea .jp-SessionMonitor-card[data-session-id="{session_id}"]')
    expect(card).to_be_visible(timeout=60_000)
    expect(page.locator(".jp-Notebook")).not_to_contain_text("Error displaying widget")
    expect(card.get_by_role("button", name=f"Cancel session {session_id[:8]}")).to_be_visible()
    page.screenshot(path=screenshot_path("widget-after-reload"))

    # In the sidebar the session is orphaned (its kernel restarted), and its row still names the
    # notebook that opened it, which the Orphaned group's header cannot.
    open_sidebar(page)
    orphaned = page.locator(f'{PANEL} [data-group="orphaned"]')
    opened_by = row(page, session_id).get_by_test_id("session-notebook")
    expect(orphaned.locator(f'[data-session-id="{session_id}"]')).to_have_count(1, timeout=30_000)
    expect(opened_by).to_have_text("opened by kept.ipynb")
    expect(opened_by.get_by_role("button")).to_have_attribute("title", "Open kept.ipynb")
    card.get_by_role("button", name=f"Cancel session {session_id[:8]}").click()
    page.locator(".jp-Dialog").get_by_role("button", name="Cancel session").click()
    expect(card.get_by_test_id("end-reason")).to_contain_text("Cancelled", timeout=20_000)
