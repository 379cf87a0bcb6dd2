"""What asks for attention in a real JupyterLab: the near-expiry notification (once, across tabs,
with its actions), the status-bar item, and the dark theme."""

from __future__ import annotations

import re
from collections.abc import Callable

from labserver import Lab
from notebooks import (
    PANEL,
    SIDEBAR_TAB,
    open_sidebar,
    row,
    run_notebook,
    session_code,
    toasts_hidden,
    write_notebook,
)
from playwright.sync_api import BrowserContext, Page, expect

TOAST = ".Toastify__toast"


def test_near_expiry_is_notified_once_across_tabs_and_shows_the_session(
    page: Page, context: BrowserContext, lab: Lab, screenshot_path: Callable[[str], str]
) -> None:
    # A second tab of the same browser, already open when the session nears its end, in the
    # background: the user looks at the notebook's tab.
    other = context.new_page()
    other.add_init_script(
        "Object.defineProperty(document, 'visibilityState', {get: () => 'hidden'});"
        "Object.defineProperty(document, 'hidden', {get: () => true});"
    )
    other.goto(lab.lab_url())
    expect(other.locator(SIDEBAR_TAB)).to_be_visible(timeout=60_000)

    # max_time 11 min, scaled: 66 s from the first job; the 1-minute warning is due 6 s later.
    write_notebook(lab, "expiry.ipynb", session_code(jobs=2, max_time="11m"))
    session_id = run_notebook(page, lab, "expiry.ipynb")

    message = re.compile(rf"Session {session_id[:8]} \(expiry.ipynb\) reaches its max TTL at")
    toasts = page.locator(TOAST).filter(has_text=message)
    other_toasts = other.locator(TOAST).filter(has_text=message)
    # The tab the user looks at shows it; the hidden one, which ticks too, does not.
    expect(toasts).to_have_count(1, timeout=30_000)
    # Both tabs keep ticking (the status bar counts down in the other one too); still one toast.
    status = other.locator(".jp-SessionMonitor-statusButton")  # ticks whatever is on screen
    expect(status).to_be_visible()
    before = status.inner_text()
    expect(status).not_to_have_text(before, timeout=5_000)
    expect(status).to_have_class(re.compile("jp-mod-warning"))
    assert (toasts.count(), other_toasts.count()) == (1, 0)

    target = page
    toast = target.locator(TOAST).filter(has_text=message)
    expect(toast.get_by_role("button", name="Close session…")).to_be_visible()
    target.screenshot(path=screenshot_path("notification"))
    toast.get_by_role("button", name="Show in sidebar").click()

    expand = row(target, session_id).locator(".jp-SessionMonitor-expand")
    expect(target.locator(PANEL)).to_be_visible()
    expect(expand).to_have_attribute("aria-expanded", "true")
    expect(expand).to_be_focused()
    other.close()


def test_status_bar_item_opens_the_sidebar(page: Page, lab: Lab) -> None:
    write_notebook(lab, "status.ipynb", session_code(jobs=1))
    run_notebook(page, lab, "status.ipynb")
    status = page.locator(".jp-SessionMonitor-statusButton")
    expect(status).to_have_text(re.compile(r"\d+ sessions? · closes in \d+:\d\d"), timeout=20_000)
    expect(page.locator(PANEL)).to_be_hidden()

    status.click()

    expect(page.locator(PANEL)).to_be_visible()


def test_dark_theme(page: Page, lab: Lab, screenshot_path: Callable[[str], str]) -> None:
    write_notebook(lab, "dark.ipynb", session_code(jobs=3, tags=["dark-theme"]))
    session_id = run_notebook(page, lab, "dark.ipynb")
    open_sidebar(page)
    session = row(page, session_id)
    session.locator(".jp-SessionMonitor-expand").click()
    expect(session.get_by_test_id("job-status")).to_have_count(3, timeout=20_000)

    page.evaluate(
        "window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})"
    )
    try:
        expect(page.locator("body[data-jp-theme-light='false']")).to_have_count(1)
        expect(page.locator("#jupyterlab-splash")).to_have_count(0)  # the theme has loaded
        # Text stays readable: the row's colour follows the theme's font colour.
        colour = session.evaluate("element => getComputedStyle(element).color")
        font = page.evaluate(
            "getComputedStyle(document.body).getPropertyValue('--jp-ui-font-color1').trim()"
        )
        assert colour != "rgb(0, 0, 0)", (colour, font)
        with toasts_hidden(page):
            page.screenshot(path=screenshot_path("sidebar-dark"))
    finally:
        page.evaluate(
            "window.jupyterapp.commands.execute('apputils:change-theme', "
            "{theme: 'JupyterLab Light'})"
        )
        expect(page.locator("body[data-jp-theme-light='true']")).to_have_count(1)
