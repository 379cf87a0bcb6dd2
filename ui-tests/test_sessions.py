"""The session list in a real JupyterLab, against the emulator: a notebook opens a session and the
sidebar follows it; Close and Cancel go through the buttons and their confirmations."""

from __future__ import annotations

import re
from collections.abc import Callable

from labserver import Lab
from notebooks import (
    PANEL,
    open_sidebar,
    row,
    run_notebook,
    session_code,
    toasts_hidden,
    write_notebook,
)
from playwright.sync_api import Page, expect

from tests.harness import Harness


def closed_row(page: Page, session_id: str):  # type: ignore[no-untyped-def]
    """The session's row under "Recently closed" (opening the group), once it has closed."""
    toggle = page.locator(f'{PANEL} [data-group="closed"] .jp-SessionMonitor-groupToggle')
    expect(toggle).to_be_visible(timeout=30_000)
    if toggle.get_attribute("aria-expanded") == "false":
        toggle.click()
    ended = page.locator(f'{PANEL} [data-group="closed"] [data-session-id="{session_id}"]')
    expect(ended).to_be_visible(timeout=30_000)
    return ended


def _seconds(countdown: str) -> int:
    """'max TTL left 47:58' -> 2878."""
    match = re.search(r"(\d+):(\d\d)(?::(\d\d))?", countdown)
    assert match, countdown
    parts = [int(p) for p in match.groups() if p is not None]
    total = 0
    for part in parts:
        total = total * 60 + part
    return total


def test_a_notebook_session_appears_under_its_notebook_and_ticks(
    page: Page, lab: Lab, screenshot_path: Callable[[str], str]
) -> None:
    write_notebook(lab, "vqe.ipynb", session_code(jobs=4, tags=["vqe", "iteration-1"]))
    session_id = run_notebook(page, lab, "vqe.ipynb")
    open_sidebar(page)

    group = page.locator(f'{PANEL} [data-group="notebook:vqe.ipynb"]')
    session = group.locator(f'[data-session-id="{session_id}"]')
    expect(session).to_be_visible(timeout=20_000)
    expect(group.locator(".jp-SessionMonitor-notebookLink")).to_have_text("vqe.ipynb")
    expect(session.locator(".jp-SessionMonitor-backend")).to_have_text("ibmq_manila")
    expect(session.locator(".jp-SessionMonitor-mode")).to_have_text("session")

    # Once the first job runs, the max TTL (8 h, scaled: 48 min) counts down every second
    # (only rows on screen tick: bring it into view, as a user scrolling to it would).
    session.scroll_into_view_if_needed()
    countdown = session.locator('[data-kind="max_ttl"] [data-testid="countdown-text"]').first
    expect(countdown).to_contain_text("max TTL left", timeout=20_000)
    first = countdown.inner_text()
    expect(countdown).not_to_have_text(first, timeout=5_000)
    assert _seconds(countdown.inner_text()) < _seconds(first)

    # Expanded: the jobs move from queued/running to done, with their tags as text.
    session.get_by_role("button", name=re.compile(f"Session {session_id[:8]}")).click()
    statuses = session.get_by_test_id("job-status")
    expect(statuses).to_have_count(4, timeout=20_000)
    expect(statuses.filter(has_text=re.compile("QUEUED|RUNNING")).first).to_be_visible()
    # Only this notebook's sessions (other tests' sessions share the server).
    search = page.get_by_label("Filter sessions by id, backend or tag")
    search.fill("vqe.ipynb")
    expect(page.locator(f"{PANEL} [data-group]")).to_have_count(1)
    with toasts_hidden(page):
        page.screenshot(path=screenshot_path("sidebar-light"))
    search.fill("")
    expect(statuses.filter(has_text="DONE")).to_have_count(4, timeout=30_000)
    expect(session.get_by_test_id("job-counts")).to_have_text("4 done")
    expect(session.locator(".jp-SessionMonitor-tag").first).to_have_text("vqe")

    # Idle after its last job: the interactive TTL (6 s scaled) counts down, then it deactivates.
    expect(session.locator('[data-kind="interactive_ttl"]').first).to_contain_text(
        "deactivates in", timeout=10_000
    )
    expect(session.locator('[data-kind="inactive"]').first).to_have_text(
        "inactive — a job submitted now waits in the queue", timeout=20_000
    )
    expect(session.get_by_test_id("session-status")).to_have_text("Pending")
    # The timeline draws the four jobs and the inactive band; its state changes list opens.
    picture = session.get_by_test_id("timeline-picture")
    expect(picture).to_have_attribute("data-jobs", "4", timeout=10_000)
    expect(picture.locator(".jp-SessionMonitor-band.jp-mod-inactive")).to_have_count(
        1, timeout=10_000
    )
    session.locator(".jp-SessionMonitor-timeline summary").click()
    expect(session.locator(".jp-SessionMonitor-timeline li").first).to_be_visible()


def test_cancel_through_the_button_states_the_consequence_and_ends_the_session(
    page: Page, lab: Lab, emulator: Harness
) -> None:
    write_notebook(lab, "cancel.ipynb", session_code(jobs=5))
    session_id = run_notebook(page, lab, "cancel.ipynb")
    open_sidebar(page)
    session = row(page, session_id)
    expect(session.get_by_test_id("job-counts")).to_contain_text("queued", timeout=20_000)

    session.get_by_role("button", name=f"Cancel session {session_id[:8]}").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text(f"Cancel session {session_id[:8]}?")
    expect(dialog).to_contain_text(re.compile(r"Cancel: \d+ queued jobs? will be cancelled"))
    dialog.get_by_role("button", name="Cancel session").click()

    # It moves under "Recently closed" with its end reason.
    ended = closed_row(page, session_id)
    expect(ended.get_by_test_id("end-reason")).to_have_text(
        re.compile(r"Cancelled: it ended at once; \d+ jobs? (was|were) cancelled\.")
    )
    expect(ended.get_by_test_id("job-counts")).to_contain_text("cancelled")
    expect(ended.get_by_role("button", name=re.compile("Cancel session"))).to_have_count(0)
    state = emulator.admin("GET", "/emulator/state")
    assert any(s["id"] == session_id and s["state"] == "closed" for s in state["sessions"])


def test_close_through_the_button_lets_queued_jobs_finish(page: Page, lab: Lab) -> None:
    write_notebook(lab, "close.ipynb", session_code(jobs=5))
    session_id = run_notebook(page, lab, "close.ipynb")
    open_sidebar(page)
    session = row(page, session_id)
    expect(session.get_by_test_id("job-counts")).to_contain_text("queued", timeout=20_000)

    session.get_by_role("button", name=f"Close session {session_id[:8]}").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text(
        re.compile(r"Close: no new jobs; \d+ queued jobs? will still run")
    )
    dialog.get_by_role("button", name="Close session").click()

    # It stops accepting jobs at once (Close disappears, Cancel stays), then drains and closes.
    expect(session.get_by_test_id("session-status")).to_have_text(
        "In progress, not accepting new jobs", timeout=10_000
    )
    expect(session.get_by_role("button", name=re.compile("Close session"))).to_have_count(0)
    ended = closed_row(page, session_id)
    expect(ended.get_by_test_id("end-reason")).to_have_text(
        "Closed: it stopped accepting jobs and its jobs finished."
    )
    expect(ended.get_by_test_id("job-counts")).to_have_text("5 done")


def test_a_tag_with_markup_is_rendered_as_text(page: Page, lab: Lab) -> None:
    hostile = "<img src=x onerror=alert(1)>"
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    write_notebook(lab, "tags.ipynb", session_code(jobs=1, tags=[hostile]))
    session_id = run_notebook(page, lab, "tags.ipynb")
    open_sidebar(page)
    session = row(page, session_id)
    session.get_by_role("button", name=re.compile(f"Session {session_id[:8]}")).click()

    tags = session.locator(".jp-SessionMonitor-tag")  # in the row's facts and the job table
    expect(tags).to_have_text([hostile, hostile], timeout=20_000)
    assert page.locator(f"{PANEL} img").count() == 0
    # The filter matches tags too.
    page.get_by_label("Filter sessions by id, backend or tag").fill("onerror")
    expect(page.locator(f"{PANEL} [data-session-id]")).to_have_count(1)
    page.get_by_label("Filter sessions by id, backend or tag").fill("")
    assert dialogs == []
