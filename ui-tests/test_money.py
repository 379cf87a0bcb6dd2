"""Money in a real JupyterLab: the rate set from the sidebar, each session's billed time and cost
(live), a budget set from a row and enforced by the server, the fit-check line, and "Close all"
with its confirmation. Screenshots in light and dark themes and at the sidebar's 250 px minimum.

The emulator is time-scaled (0.1): a job runs 2 s, the interactive TTL is 6 s, and a requested
max_time is scaled too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from labserver import Lab
from notebooks import (
    PANEL,
    api,
    open_sidebar,
    row,
    run_notebook,
    session_code,
    toasts_hidden,
    write_notebook,
)
from playwright.sync_api import Page, expect


@pytest.fixture
def no_rate_after(lab: Lab) -> Iterator[None]:
    """The rate is the server's, shared by every test: put it back."""
    yield
    api(lab, "PUT", "billing", {"rate_per_second": None, "currency": None})


def test_the_rate_and_live_costs_in_light_dark_and_narrow(
    page: Page, lab: Lab, screenshot_path: Callable[[str], str], no_rate_after: None
) -> None:
    # A long name: at 250 px the figures beside it used to squeeze it to "w…".
    name = "walk-through-of-the-costs-of-one-experiment.ipynb"
    write_notebook(lab, name, session_code(jobs=4, tags=["costs"]))
    session_id = run_notebook(page, lab, name)
    open_sidebar(page)
    header = page.locator(PANEL).get_by_test_id("money-header")

    header.get_by_role("button", name="Set a rate…").click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator("input[name=rate]").fill("0.5")
    dialog.locator("input[name=currency]").fill("USD")
    dialog.get_by_role("button", name="Save").click()

    expect(dialog).to_have_count(0)
    assert api(lab, "GET", "billing") == {"rate_per_second": 0.5, "currency": "USD"}
    expect(header.get_by_role("button", name=re.compile(r"Rate 0\.50 USD per s"))).to_be_visible(
        timeout=10_000
    )
    billing = row(page, session_id).get_by_test_id("billing")
    # In the currency's decimals, whatever the amount (#26 item 7: not "0.738 USD").
    expect(billing).to_contain_text(re.compile(r"billed .+ · [\d,]+\.\d\d USD"), timeout=20_000)
    # Live while the service bills it: the figure moves without a new push.
    first = billing.inner_text()
    expect(billing).not_to_have_text(first, timeout=10_000)
    expect(header.get_by_test_id("total-billed")).to_contain_text("USD")
    with toasts_hidden(page):
        page.screenshot(path=screenshot_path("money-light"))

    page.evaluate(
        "window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})"
    )
    try:
        expect(page.locator("body[data-jp-theme-light='false']")).to_have_count(1)
        expect(page.locator("#jupyterlab-splash")).to_have_count(0)
        # The billing text follows the theme's font colour (never dark on dark).
        colour = billing.evaluate("element => getComputedStyle(element).color")
        assert colour not in ("rgb(0, 0, 0)", "rgba(0, 0, 0, 0.87)"), colour
        with toasts_hidden(page):
            page.screenshot(path=screenshot_path("money-dark"))
    finally:
        page.evaluate(
            "window.jupyterapp.commands.execute('apputils:change-theme', "
            "{theme: 'JupyterLab Light'})"
        )
        expect(page.locator("body[data-jp-theme-light='true']")).to_have_count(1)

    # The sidebar at its default (and minimum) width, about 250 px: the money lines wrap
    # inside the panel instead of running out of it.
    panel_box = page.locator(PANEL).bounding_box()
    assert panel_box is not None
    assert panel_box["width"] < 320, panel_box
    for line in (billing, header):
        box = line.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= panel_box["x"] + panel_box["width"] + 1
    # #26 item 8: the notebook's name yields last (its group's figures wrap under it), and each
    # instance is one line at the top, expanding to the whole reading.
    link = page.locator(f'{PANEL} [data-group="notebook:{name}"] .jp-SessionMonitor-notebookLink')
    shown, whole = link.evaluate("e => [e.clientWidth, e.scrollWidth]")
    assert shown >= min(whole, 150), (shown, whole)
    instance = header.locator(".jp-SessionMonitor-instanceToggle").first
    expect(instance).to_be_visible(timeout=20_000)
    box = instance.bounding_box()
    assert box is not None
    assert box["height"] <= 24, box  # one line of text beside a 16 px caret
    instance.click()
    expect(header.get_by_test_id("instance-details")).to_contain_text("used this period")
    instance.click()
    page.locator(PANEL).screenshot(path=screenshot_path("money-narrow"))
    api(lab, "POST", f"sessions/{session_id}/cancel", {})


def test_a_budget_set_from_the_row_is_enforced_by_the_server(
    page: Page, lab: Lab, screenshot_path: Callable[[str], str]
) -> None:
    write_notebook(lab, "budget.ipynb", session_code(jobs=6, tags=["budget"]))
    session_id = run_notebook(page, lab, "budget.ipynb")
    open_sidebar(page)
    session = row(page, session_id)
    expect(session.get_by_test_id("job-counts")).to_contain_text("queued", timeout=20_000)

    session.get_by_role("button", name=f"Budget for session {session_id[:8]}").click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator("input[name=limit]").fill("4")
    dialog.locator("select[name=unit]").select_option("seconds")
    dialog.locator("select[name=action]").select_option("cancel")
    dialog.locator("input[name=threshold]").fill("50")
    dialog.get_by_role("button", name="Set budget").click()

    budget = session.get_by_test_id("budget")
    expect(budget).to_contain_text("Budget 4 s, then cancel", timeout=10_000)
    assert api(lab, "GET", f"sessions/{session_id}")["budget"]["seconds"] == 4
    # 4 billed seconds pass in about 4 s: the server cancels the session by itself, and the
    # row moves to "Recently closed".
    toggle = page.locator(f'{PANEL} [data-group="closed"] .jp-SessionMonitor-groupToggle')
    expect(toggle).to_be_visible(timeout=30_000)
    if toggle.get_attribute("aria-expanded") == "false":
        toggle.click()
    expect(budget).to_contain_text(f"used up: cancelled {session_id}", timeout=30_000)
    expect(budget).to_have_attribute("data-state", "reached")
    expect(session.get_by_test_id("end-reason")).to_contain_text("Cancelled")
    view = api(lab, "GET", f"sessions/{session_id}")
    assert view["budget"]["reached"]
    assert view["budget"]["spent_seconds"] >= 4
    page.screenshot(path=screenshot_path("budget-reached"))


def test_the_fit_check_says_which_queued_jobs_will_fail(
    page: Page, lab: Lab, screenshot_path: Callable[[str], str]
) -> None:
    # 10 jobs of 2 s and a max TTL of 5 s (50 s scaled): 3 start in time, 7 will fail.
    write_notebook(lab, "fit.ipynb", session_code(jobs=10, max_time=50, tags=["fit"]))
    session_id = run_notebook(page, lab, "fit.ipynb")
    open_sidebar(page)
    fit = row(page, session_id).get_by_test_id("fit")

    expect(fit).to_contain_text(
        re.compile(
            r"≈ \d+ of \d+ queued jobs will not start before the max TTL \(.+\) and will fail"
        ),
        timeout=20_000,
    )
    view = api(lab, "GET", f"sessions/{session_id}")
    if view["fit"] is not None:
        assert view["fit"]["basis"] == "service_estimate"
    page.screenshot(path=screenshot_path("fit-check"))


def test_close_all_lists_what_will_happen_then_closes_every_open_session(
    page: Page, lab: Lab, screenshot_path: Callable[[str], str]
) -> None:
    second = "other = Session(backend=backend)\nprint('OTHER', other.session_id)\n"
    write_notebook(lab, "closeall.ipynb", session_code(jobs=2, tags=["close-all"]), second)
    session_id = run_notebook(page, lab, "closeall.ipynb")
    other = page.locator(".jp-OutputArea-output").filter(has_text=re.compile(r"OTHER \S+"))
    expect(other).to_have_count(1, timeout=60_000)
    other_id = other.inner_text().split()[-1]
    open_sidebar(page)
    expect(row(page, other_id)).to_be_visible(timeout=20_000)

    page.locator(PANEL).get_by_test_id("close-all").click()
    dialog = page.locator(".jp-Dialog")
    listing = dialog.get_by_test_id("close-all-consequence")
    expect(listing.locator(f'[data-session-id="{session_id}"]')).to_be_visible()
    expect(listing.locator(f'[data-session-id="{other_id}"]')).to_be_visible()
    expect(listing).to_contain_text("stop accepting jobs")
    expect(listing).to_contain_text("As the service said just now", timeout=15_000)
    page.screenshot(path=screenshot_path("close-all-confirm"))
    dialog.get_by_role("button", name="Close all").click()

    # The one with no job closes at once (into "Recently closed"); the other stops accepting
    # jobs and closes when its queued job has run.
    toggle = page.locator(f'{PANEL} [data-group="closed"] .jp-SessionMonitor-groupToggle')
    expect(toggle).to_be_visible(timeout=30_000)
    if toggle.get_attribute("aria-expanded") == "false":
        toggle.click()
    for closed in (session_id, other_id):
        expect(row(page, closed).get_by_test_id("session-status")).to_have_text(
            re.compile(r"Closed|In progress, not accepting new jobs"), timeout=30_000
        )
    audit_targets = {s["id"]: s["status"] for s in api(lab, "GET", "sessions")["sessions"]}
    assert audit_targets[other_id] == "Closed"


def test_the_timeline_picture_of_a_60_job_session(
    page: Page, lab: Lab, screenshot_path: Callable[[str], str]
) -> None:
    write_notebook(lab, "vqe60.ipynb", session_code(jobs=60, tags=["vqe-60"]))
    session_id = run_notebook(page, lab, "vqe60.ipynb")
    open_sidebar(page)
    session = row(page, session_id)
    expect(session.get_by_test_id("job-counts")).to_contain_text("2 done", timeout=30_000)
    api(lab, "POST", f"sessions/{session_id}/cancel", {})  # the other 57 or so are cancelled
    toggle = page.locator(f'{PANEL} [data-group="closed"] .jp-SessionMonitor-groupToggle')
    expect(toggle).to_be_visible(timeout=30_000)
    if toggle.get_attribute("aria-expanded") == "false":
        toggle.click()
    session.locator(".jp-SessionMonitor-expand").click()

    picture = session.get_by_test_id("timeline-picture")
    expect(picture).to_have_attribute("data-jobs", "60", timeout=20_000)
    # Each job is a bar with its id on hover; the idle gap before the cancel is marked.
    expect(picture.locator("g[data-job-id]")).to_have_count(60)
    assert session_id in (picture.get_attribute("aria-label") or "")
    # #26 item 8: each swatch of the legend stays on its label's line at 250 px.
    items = session.locator(".jp-SessionMonitor-legendItem")
    expect(items).to_have_count(6)
    for item in items.all():
        tops = item.evaluate(
            "e => [e.firstElementChild.getBoundingClientRect(), e.getBoundingClientRect()]"
            ".map(r => r.top + r.height / 2)"
        )
        assert abs(tops[0] - tops[1]) < 6, (item.inner_text(), tops)
    figure = session.locator(".jp-SessionMonitor-timeline")
    figure.scroll_into_view_if_needed()
    figure.screenshot(path=screenshot_path("timeline-60-light"))
    page.evaluate(
        "window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})"
    )
    try:
        expect(page.locator("body[data-jp-theme-light='false']")).to_have_count(1)
        expect(page.locator("#jupyterlab-splash")).to_have_count(0)
        figure.screenshot(path=screenshot_path("timeline-60-dark"))
    finally:
        page.evaluate(
            "window.jupyterapp.commands.execute('apputils:change-theme', "
            "{theme: 'JupyterLab Light'})"
        )
        expect(page.locator("body[data-jp-theme-light='true']")).to_have_count(1)


def test_a_receipt_goes_after_the_cell_that_opened_the_session(
    page: Page, lab: Lab, screenshot_path: Callable[[str], str]
) -> None:
    write_notebook(lab, "receipt.ipynb", session_code(jobs=2, tags=["receipt"]), "x = 1\n")
    session_id = run_notebook(page, lab, "receipt.ipynb")
    open_sidebar(page)
    session = row(page, session_id)
    expect(session.get_by_test_id("job-counts")).to_contain_text("2 done", timeout=30_000)
    api(lab, "POST", f"sessions/{session_id}/close", {})
    toggle = page.locator(f'{PANEL} [data-group="closed"] .jp-SessionMonitor-groupToggle')
    expect(toggle).to_be_visible(timeout=30_000)
    if toggle.get_attribute("aria-expanded") == "false":
        toggle.click()
    session.locator(".jp-SessionMonitor-expand").click()
    expect(session.get_by_test_id("go-to-cell")).to_have_text("Go to cell [1]")

    session.get_by_test_id("receipt-button").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog.get_by_test_id("receipt-text")).to_contain_text(session_id)
    expect(dialog.get_by_test_id("receipt-text")).to_contain_text("2 done")
    page.screenshot(path=screenshot_path("receipt-dialog"))
    dialog.get_by_role("button", name="Insert after its cell").click()

    cells = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")
    expect(cells).to_have_count(3)
    expect(cells.nth(1)).to_have_class(re.compile("jp-MarkdownCell"))
    expect(cells.nth(1)).to_contain_text("Qiskit Runtime session receipt")
    expect(cells.nth(2)).to_contain_text("x = 1")  # after its cell, not at the end

    cells.nth(2).click()
    session.get_by_test_id("go-to-cell").click()
    expect(cells.nth(0)).to_have_class(re.compile("jp-mod-active"))
