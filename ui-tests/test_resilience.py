"""The sidebar when the push channel drops, and sessions from elsewhere tracked by id."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from labserver import Lab
from notebooks import (
    PANEL,
    SIDEBAR_TAB,
    open_sidebar,
    run_notebook,
    session_code,
    toasts_hidden,
    write_notebook,
)
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.harness import Harness, bell


def test_a_dropped_push_channel_says_reconnecting_then_recovers(page: Page, lab: Lab) -> None:
    sockets: list[WebSocketRoute] = []

    def through(ws: WebSocketRoute) -> None:
        sockets.append(ws)
        ws.connect_to_server()

    page.route_web_socket(re.compile(r".*/api/events/subscribe.*"), through)
    page.goto(lab.lab_url())
    expect(page.locator(SIDEBAR_TAB)).to_be_visible(timeout=60_000)
    open_sidebar(page)
    banner = page.locator(f"{PANEL} .jp-SessionMonitor-banner")
    expect(page.locator(f"{PANEL} .jp-SessionMonitor-track")).to_be_visible()
    expect(banner).to_have_count(0)
    assert sockets, "the monitor subscribes to the events socket"

    for ws in sockets:
        ws.close()  # a network blip: every events socket of the page drops

    expect(banner).to_have_text(re.compile("Reconnecting to the Jupyter server"))
    # It reconnects by itself (the route lets the new socket through) and reloads the snapshot.
    expect(banner).to_have_count(0, timeout=15_000)


def test_track_by_id_and_cancel_one_job(
    page: Page, lab: Lab, emulator: Harness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from qiskit_ibm_runtime import SamplerV2, Session

    # A session opened by a script elsewhere, with jobs queued behind each other.
    monkeypatch.setenv("HOME", str(tmp_path))
    for key, value in emulator.emulator.client_environment().items():
        monkeypatch.setenv(key, value)
    service = emulator.service()
    backend = service.backend("ibmq_kolkata")
    session = Session(backend=backend)
    sampler = SamplerV2(mode=session)
    circuit = bell(backend)
    # 12 jobs of 2 s: the last is still queued ~22 s later, however slow the machine (with 4,
    # a loaded CI machine found it running by the time the sidebar showed it).
    jobs = [sampler.run([circuit]) for _ in range(12)]
    page.goto(lab.lab_url())
    expect(page.locator(SIDEBAR_TAB)).to_be_visible(timeout=60_000)
    open_sidebar(page)

    form = page.get_by_role("form", name="Track a session by id")
    form.get_by_label("Track a session by id").fill("not-a-session")
    form.get_by_role("button", name="Track").click()
    expect(form.get_by_role("alert")).to_be_visible()
    form.get_by_label("Track a session by id").fill(session.session_id)
    form.get_by_role("button", name="Track").click()

    group = page.locator(f'{PANEL} [data-group="elsewhere"]')
    row = group.locator(f'[data-session-id="{session.session_id}"]')
    expect(row).to_be_visible(timeout=20_000)
    expect(row.locator(".jp-SessionMonitor-expand")).to_have_attribute("aria-expanded", "true")
    last = jobs[-1].job_id()
    cancel = row.get_by_role("button", name=f"Cancel job {last[:8]}")
    expect(cancel).to_be_visible(timeout=20_000)
    cancel.click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("The queued job will not run.")
    dialog.get_by_role("button", name="Cancel job").click()

    expect(row.locator(f'[data-job-id="{last}"] [data-testid="job-status"]')).to_have_text(
        "CANCELLED", timeout=20_000
    )
    assert jobs[-1].status() == "CANCELLED"
    session.cancel()


def test_a_failed_close_is_a_notification_saying_what_to_do(
    page: Page, lab: Lab, emulator: Harness
) -> None:
    write_notebook(lab, "failing.ipynb", session_code(jobs=1))
    session_id = run_notebook(page, lab, "failing.ipynb")
    open_sidebar(page)
    session = page.locator(f'{PANEL} [data-session-id="{session_id}"]')
    expect(session).to_be_visible(timeout=20_000)
    # The service answers every change to a session with 503 for a while.
    emulator.admin(
        "POST",
        "/emulator/faults",
        {"kind": "status", "status": 503, "route": "/sessions/", "methods": ["PATCH"]},
    )
    try:
        session.get_by_role("button", name=f"Close session {session_id[:8]}").click()
        page.locator(".jp-Dialog").get_by_role("button", name="Close session").click()

        toast = page.locator(".Toastify__toast").filter(
            has_text=f"Could not close session {session_id[:8]}"
        )
        expect(toast).to_be_visible(timeout=30_000)
        expect(toast).to_contain_text(re.compile("try again|later|retry", re.IGNORECASE))
        # Nothing was lost: the session is still open, and Close is offered again.
        expect(
            session.get_by_role("button", name=f"Close session {session_id[:8]}")
        ).to_be_enabled()
    finally:
        emulator.admin("DELETE", "/emulator/faults")


def test_a_close_the_service_accepted_shows_at_once_while_reads_are_throttled(
    page: Page, lab: Lab, emulator: Harness, screenshot_path: Callable[[str], str]
) -> None:
    # #26 item 1: the service answered 429 to every read; Close was accepted (the service
    # closed the session), yet for 30 s and more the row said "Pending" with a Close button.
    write_notebook(lab, "throttled.ipynb", session_code(jobs=1))
    session_id = run_notebook(page, lab, "throttled.ipynb")
    open_sidebar(page)
    session = page.locator(f'{PANEL} [data-session-id="{session_id}"]')
    expect(session).to_be_visible(timeout=20_000)
    emulator.admin(
        "POST",
        "/emulator/faults",
        {
            "kind": "status",
            "status": 429,
            "retry_after": 30,
            "route": f"/sessions/{session_id}$",
            "methods": ["GET"],
        },
    )
    try:
        session.get_by_role("button", name=f"Close session {session_id[:8]}").click()
        page.locator(".jp-Dialog").get_by_role("button", name="Close session").click()

        said = session.get_by_test_id("pending-action")
        expect(said).to_have_text(
            re.compile(r"^Close accepted by the service at .+; not confirmed by a read yet\.$"),
            timeout=10_000,
        )
        expect(session.get_by_role("button", name=f"Close session {session_id[:8]}")).to_have_count(
            0
        )
        with toasts_hidden(page):
            page.locator(PANEL).screenshot(path=screenshot_path("close-accepted-throttled"))
    finally:
        emulator.admin("DELETE", "/emulator/faults")
    # The next read that succeeds confirms it: the row says what the service says.
    expect(said).to_have_count(0, timeout=60_000)
