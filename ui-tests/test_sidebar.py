"""The sidebar in a real JupyterLab, in Debian's Chromium."""

from __future__ import annotations

import contextlib
import json
import re
import urllib.request
from collections.abc import Callable
from pathlib import Path

import qiskit_ibm_runtime
from labserver import Lab
from notebooks import open_sidebar, row
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, Route, expect
from test_a11y import OpenSession, open_session  # noqa: F401 (the fixture, shared)

from tests.harness import wait_until

PACKAGE_VERSION = json.loads((Path(__file__).parent.parent / "package.json").read_text())["version"]
SIDEBAR_TAB = '.jp-SideBar.jp-mod-left [data-id="jp-session-monitor"]'


def _open_lab(page: Page, lab: Lab) -> None:
    page.goto(lab.lab_url())
    # The left sidebar is drawn once the application shell has started.
    expect(page.locator(SIDEBAR_TAB)).to_be_visible(timeout=60_000)


def test_sidebar_icon_opens_the_panel_showing_the_versions(
    page: Page, lab: Lab, screenshot_path: Callable[[str], str]
) -> None:
    _open_lab(page, lab)
    panel = page.locator("#jp-session-monitor")
    expect(panel).to_be_hidden()

    tab = page.locator(SIDEBAR_TAB)
    expect(tab).to_have_attribute("title", "Qiskit Session Monitor")
    tab.click()

    expect(panel).to_be_visible()
    expect(panel.get_by_role("heading", level=2)).to_have_text("Qiskit Runtime sessions")
    expect(panel.get_by_test_id("monitor-version")).to_have_text(PACKAGE_VERSION)
    expect(panel.get_by_test_id("runtime-version")).to_have_text(qiskit_ibm_runtime.__version__)
    page.screenshot(path=screenshot_path("sidebar-versions"))


def test_palette_command_opens_the_panel(page: Page, lab: Lab) -> None:
    _open_lab(page, lab)
    panel = page.locator("#jp-session-monitor")
    expect(panel).to_be_hidden()

    # The restored layout activates the launcher once, taking focus (which would close a palette
    # opened before): let that happen first.
    expect(page.locator(".jp-Launcher")).to_be_focused(timeout=30_000)
    # Opened through its command (the shortcut can come before the shell has keyboard focus);
    # the search typed the way the palette reads it, then the item chosen as a user would.
    page.evaluate("window.jupyterapp.commands.execute('apputils:activate-command-palette')")
    search = page.locator(".lm-CommandPalette-input")
    expect(search).to_be_visible()
    search.fill("Open Qiskit Session Monitor")
    palette_item = page.locator(".lm-CommandPalette-item").filter(
        has_text="Open Qiskit Session Monitor"
    )
    expect(palette_item).to_have_count(1)
    palette_item.click()

    expect(panel).to_be_visible()
    expect(panel.get_by_test_id("monitor-version")).to_have_text(PACKAGE_VERSION)


def test_panel_says_when_the_server_cannot_be_reached_and_recovers(
    page: Page, lab: Lab, screenshot_path: Callable[[str], str]
) -> None:
    # The connection to the monitor's API drops (as when the server is down); the rest of Lab loads.
    def drop(route: Route) -> None:
        route.abort("connectionrefused")

    api = re.compile(r".*/session-monitor/api/.*")
    page.route(api, drop)
    # Nor do pushed changes arrive (they would let the panel recover before Retry is pressed):
    # the events socket opens but stays silent.
    page.route_web_socket(re.compile(r".*/api/events/subscribe.*"), lambda ws: None)
    _open_lab(page, lab)
    page.locator(SIDEBAR_TAB).click()
    panel = page.locator("#jp-session-monitor")

    alert = panel.get_by_role("alert")
    expect(alert).to_contain_text("The session monitor is not available.")
    expect(alert).to_contain_text("Cannot reach the Jupyter server")
    expect(panel.get_by_test_id("monitor-version")).to_have_count(0)
    page.screenshot(path=screenshot_path("sidebar-server-down"))

    retry = alert.get_by_role("button", name="Retry")
    expect(retry).to_be_visible()
    page.unroute(api, drop)
    # It comes back by itself (failed reloads are retried with backoff) or at once with Retry,
    # whichever is first: a click may find the alert already gone.
    with contextlib.suppress(PlaywrightError):
        retry.click(timeout=3_000)

    expect(panel.get_by_test_id("monitor-version")).to_have_text(PACKAGE_VERSION)
    expect(panel.get_by_role("alert")).to_have_count(0)


def test_the_tag_filter_narrows_an_expanded_job_table(
    page: Page,
    lab: Lab,
    open_session: OpenSession,  # noqa: F811 (the fixture imported above)
) -> None:
    # Two optimizers in one session, told apart by their jobs' tags.
    session_id, jobs = open_session(4, [["optimizer-a"], ["optimizer-b"]])
    _open_lab(page, lab)
    open_sidebar(page)
    session: Locator = row(page, session_id)
    session.locator(".jp-SessionMonitor-expand").click()
    listed = session.locator("tr[data-job-id]")
    expect(listed).to_have_count(4, timeout=20_000)
    hidden = session.get_by_test_id("jobs-hidden")
    expect(hidden).to_have_count(0)

    page.get_by_label("Filter sessions by id, backend or tag").fill("optimizer-a")
    expect(listed).to_have_count(2)
    for job_id in (jobs[0], jobs[2]):
        expect(session.locator(f'tr[data-job-id="{job_id}"]')).to_have_count(1)
    expect(hidden).to_have_text("2 jobs hidden by the filter")

    # A filter the session matches by itself (its backend) lists every job.
    page.get_by_label("Filter sessions by id, backend or tag").fill("kolkata")
    expect(listed).to_have_count(4)
    expect(hidden).to_have_count(0)


def test_the_toolbar_reaches_the_track_form_at_the_top_and_its_error_shows(
    page: Page,
    lab: Lab,
    open_session: OpenSession,  # noqa: F811 (the fixture imported above)
) -> None:
    session_id, _ = open_session(12)
    _open_lab(page, lab)
    open_sidebar(page)
    panel = page.locator("#jp-session-monitor")
    session: Locator = row(page, session_id)
    session.locator(".jp-SessionMonitor-expand").click()
    expect(session.locator("tr[data-job-id]")).to_have_count(12, timeout=20_000)
    # The form sits above the session groups, under the toolbar.
    form = panel.get_by_role("form", name="Track a session by id")
    first_group = panel.locator("[data-group]").first
    assert form.bounding_box()["y"] < first_group.bounding_box()["y"]  # type: ignore[index]

    # From the bottom of a long list, the toolbar's + brings the form back, focused.
    panel.evaluate("panel => { panel.scrollTop = panel.scrollHeight; }")
    panel.get_by_role("button", name="Track a session by id").click()
    field = form.get_by_label("Track a session by id")
    expect(field).to_be_focused()
    expect(field).to_be_in_viewport()
    field.fill("no-such-session")
    page.keyboard.press("Enter")
    error = form.get_by_role("alert")
    expect(error).to_be_visible(timeout=10_000)
    # The whole message is on screen, inside the panel.
    box, bounds = error.bounding_box(), panel.bounding_box()
    assert box
    assert bounds
    assert bounds["y"] <= box["y"]
    assert box["y"] + box["height"] <= bounds["y"] + bounds["height"]


def _saved_view(lab: Lab) -> object:
    """The sidebar's view as the server keeps it in the default workspace, if saved yet."""
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"{lab.url}lab/api/workspaces/default",
        headers={"Authorization": f"token {lab.token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        data = json.loads(response.read()).get("data", {})
    return data.get("jupyter-session-monitor:view")


def test_the_view_is_kept_across_a_reload(
    page: Page,
    lab: Lab,
    open_session: OpenSession,  # noqa: F811 (the fixture imported above)
) -> None:
    session_id, _ = open_session(2)
    _open_lab(page, lab)
    open_sidebar(page)
    panel = page.locator("#jp-session-monitor")
    session: Locator = row(page, session_id)
    session.locator(".jp-SessionMonitor-expand").click()
    panel.get_by_role("button", name="Open", exact=True).click()
    panel.locator('[data-group="elsewhere"] .jp-SessionMonitor-groupToggle').click()
    expect(session).to_have_count(0)  # its group is collapsed
    expected = {"show": "open", "collapsed": ["closed", "elsewhere"], "expanded": [session_id]}
    # Lab writes the workspace a moment after the state changes: wait for it on the server.
    wait_until(lambda: _saved_view(lab) == expected, timeout=15)

    # Reloaded without ?reset: Lab restores its workspace, and the sidebar its view.
    page.goto(f"{lab.url}lab?token={lab.token}")
    expect(page.locator(SIDEBAR_TAB)).to_be_visible(timeout=60_000)
    open_sidebar(page)
    expect(panel.get_by_role("button", name="Open", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    toggle = panel.locator('[data-group="elsewhere"] .jp-SessionMonitor-groupToggle')
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(session.locator(".jp-SessionMonitor-expand")).to_have_attribute("aria-expanded", "true")
