"""%%session in a real notebook: the widget in the cell's output follows the session from the
page's store, and Close from the widget ends it; the sidebar agrees."""

from __future__ import annotations

import re
from collections.abc import Callable

from labserver import Lab
from notebooks import (
    PANEL,
    open_sidebar,
    row,
    run_notebook,
    toasts_hidden,
    widget_cell,
    write_notebook,
)
from playwright.sync_api import Page, expect

CELL = widget_cell(tag="widget-demo", jobs=3)


def test_session_cell_shows_a_live_widget_whose_close_ends_the_session(
    page: Page, lab: Lab, screenshot_path: Callable[[str], str]
) -> None:
    write_notebook(lab, "magic.ipynb", CELL)
    session_id = run_notebook(page, lab, "magic.ipynb")

    card = page.locator(f'.jp-OutputArea .jp-SessionMonitor-card[data-session-id="{session_id}"]')
    expect(card).to_be_visible(timeout=20_000)
    counts = card.get_by_test_id("job-counts")
    expect(counts).to_contain_text(re.compile("queued|running"), timeout=20_000)
    expect(counts).to_have_text("3 done", timeout=30_000)
    countdown = card.get_by_test_id("countdown-text").first
    first = countdown.inner_text()
    expect(countdown).not_to_have_text(first, timeout=10_000)
    with toasts_hidden(page):
        page.screenshot(path=screenshot_path("widget"))

    card.get_by_role("button", name=f"Close session {session_id[:8]}").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Close: no new jobs")
    dialog.get_by_role("button", name="Close session").click()

    expect(card.get_by_test_id("end-reason")).to_have_text(
        "Closed: it stopped accepting jobs and its jobs finished.", timeout=20_000
    )
    open_sidebar(page)
    closed = page.locator(f'{PANEL} [data-group="closed"]')
    toggle = closed.locator(".jp-SessionMonitor-groupToggle")
    if toggle.get_attribute("aria-expanded") == "false":
        toggle.click()
    expect(row(page, session_id).get_by_test_id("end-reason")).to_have_text(
        "Closed: it stopped accepting jobs and its jobs finished."
    )


def test_a_150_job_widget_draws_its_queue_as_a_band(
    page: Page, lab: Lab, screenshot_path: Callable[[str], str]
) -> None:
    # #26 item 10: one bar per job drew a tall grey triangle in the cell's output.
    write_notebook(lab, "batch150.ipynb", widget_cell(tag="widget-150", jobs=150))
    session_id = run_notebook(page, lab, "batch150.ipynb")
    card = page.locator(f'.jp-OutputArea .jp-SessionMonitor-card[data-session-id="{session_id}"]')
    picture = card.get_by_test_id("timeline-picture")
    expect(picture).to_have_attribute("data-jobs", "150", timeout=30_000)
    expect(picture.get_by_test_id("queued-band")).to_have_count(1)
    box = picture.bounding_box()
    assert box is not None
    assert box["height"] <= 40, box
    card.scroll_into_view_if_needed()
    with toasts_hidden(page):
        card.screenshot(path=screenshot_path("widget-150"))
    card.get_by_role("button", name=f"Cancel session {session_id[:8]}").click()
    page.locator(".jp-Dialog").get_by_role("button", name="Cancel session").click()
    expect(card.get_by_test_id("end-reason")).to_contain_text("Cancelled", timeout=30_000)
