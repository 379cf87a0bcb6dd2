"""The sidebar at its default 250 px and at a wide 600 px, light and dark: nothing that should stay
whole breaks (the status, details() times, words of the code samples), and a wide panel uses its
room. Screenshots in ui-tests/artifacts/layout-*.png, to look at."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from labserver import Lab
from notebooks import PANEL, SIDEBAR_TAB, open_sidebar, row, toasts_hidden
from playwright.sync_api import FloatRect, Locator, Page, Route, expect
from test_a11y import OpenSession, open_session  # noqa: F401 (the fixture, shared)

#: For each word (a run without spaces) of the element's text: on how many lines it is drawn.
#: Breaks the page offers on purpose (<wbr>) split text nodes, so each piece is measured alone.
WORD_LINES = """(element) => {
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  const broken = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const match of node.data.matchAll(/\\S+/g)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
      if (tops.size > 1) broken.push(match[0]);
    }
  }
  return broken;
}"""


def _width(page: Page, width: int) -> None:
    """Drag the handle between the left sidebar and the main area, as a user would."""
    panel = page.locator(PANEL)
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first
    box, start = handle.bounding_box(), panel.bounding_box()
    assert box
    assert start
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(start["x"] + width, box["y"] + box["height"] / 2, steps=4)
    page.mouse.up()
    page.wait_for_function(
        "([selector, width]) => Math.abs("
        "document.querySelector(selector).getBoundingClientRect().width - width) < 12",
        arg=[PANEL, width],
    )


def _theme(page: Page, name: str, light: bool) -> None:
    page.evaluate(
        f"window.jupyterapp.commands.execute('apputils:change-theme', {{theme: '{name}'}})"
    )
    expect(page.locator(f"body[data-jp-theme-light='{str(light).lower()}']")).to_have_count(1)
    expect(page.locator("#jupyterlab-splash")).to_have_count(0)


def _one_line(locator: Locator) -> bool:
    lines: int = locator.evaluate(
        "e => { const r = document.createRange(); r.selectNodeContents(e);"
        " return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; }"
    )
    return lines == 1


def _left_of_panel(page: Page) -> FloatRect:
    """From the window's left edge to the sidebar's right one: not the empty main area."""
    box = page.locator(PANEL).bounding_box()
    assert box is not None
    viewport = page.viewport_size
    assert viewport is not None
    return {"x": 0, "y": 0, "width": box["x"] + box["width"] + 8, "height": viewport["height"]}


def _shoot(page: Page, session: Locator, path: str) -> None:
    """The panel from the row's top (its summary, facts and first jobs), then its details."""
    session.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.locator(PANEL).evaluate("panel => { panel.scrollTop -= 48; }")  # under the toolbar
    with toasts_hidden(page):
        page.screenshot(path=path.replace(".png", "-top.png"))
        session.locator(".jp-SessionMonitor-detailsBlock").scroll_into_view_if_needed()
        page.screenshot(path=path)


def _check_narrow(page: Page, session: Locator) -> None:
    assert abs(page.locator(PANEL).bounding_box()["width"] - 250) < 12  # type: ignore[index]
    assert _one_line(session.get_by_test_id("session-status"))
    times = session.locator(".jp-SessionMonitor-detailList dd.jp-mod-time")
    expect(times.first).to_be_visible()
    for index in range(times.count()):
        assert _one_line(times.nth(index)), times.nth(index).inner_text()
    # Each job's Cancel: an icon with a name and a tooltip; no room for the word.
    cancel = session.locator(".jp-SessionMonitor-jobCancel").first
    expect(cancel).to_have_attribute("aria-label", re.compile(r"^Cancel job \w{8}$"))
    expect(cancel).to_have_attribute("title", re.compile(r"^Cancel job \w{8}$"))
    expect(cancel.locator(".jp-SessionMonitor-jobCancelLabel")).to_be_hidden()
    # The row's buttons: each on one line and inside the row; one that does not fit goes to
    # the next line whole ("Cancel session…" was cut in two past the panel's edge).
    for button in session.locator(".jp-SessionMonitor-actions button").all():
        assert _one_line(button), button.inner_text()
    overflow = session.evaluate(
        """row => {
          const edge = row.getBoundingClientRect().right;
          return [...row.querySelectorAll('.jp-SessionMonitor-actions button')]
            .map(b => b.getBoundingClientRect().right - edge);
        }"""
    )
    assert max(overflow) <= 1, overflow


def _check_wide(page: Page, session: Locator) -> None:
    # The status beside the backend, the facts in two columns, key and value side by side, and
    # the job's Cancel with its word.
    # Boxes compared are read in one script run: other tests' sessions may change the list
    # above between two reads, moving the row.
    apart = session.evaluate(
        """row => {
          const top = selector => row.querySelector(selector).getBoundingClientRect().top;
          return top('[data-testid="session-status"]') - top('.jp-SessionMonitor-backend');
        }"""
    )
    assert abs(apart) < 8, apart
    columns = session.locator(".jp-SessionMonitor-info").evaluate(
        "e => getComputedStyle(e).gridTemplateColumns.split(' ').length"
    )
    assert columns == 2
    dt, dd = session.evaluate(
        """row => ['dt', 'dd'].map(tag => {
          const box = row.querySelector(`.jp-SessionMonitor-detailList ${tag}`)
            .getBoundingClientRect();
          return {x: box.x, y: box.y};
        })"""
    )
    assert abs(dt["y"] - dd["y"]) < 4, (dt, dd)
    assert dd["x"] > dt["x"], (dt, dd)
    expect(session.locator(".jp-SessionMonitor-jobCancelLabel").first).to_have_text("Cancel")


def test_rows_at_250_and_600_px_in_light_and_dark(
    page: Page,
    lab: Lab,
    open_session: OpenSession,  # noqa: F811 (the fixture imported above)
    screenshot_path: Callable[[str], str],
) -> None:
    session_id, _ = open_session(20)
    page.goto(lab.lab_url())
    expect(page.locator(SIDEBAR_TAB)).to_be_visible(timeout=60_000)
    open_sidebar(page)
    session: Locator = row(page, session_id)
    session.locator(".jp-SessionMonitor-expand").click()
    expect(session.locator(".jp-SessionMonitor-jobCancel").first).to_be_visible(timeout=20_000)
    session.locator(".jp-SessionMonitor-detailsBlock summary").click()
    session.scroll_into_view_if_needed()

    _check_narrow(page, session)
    _shoot(page, session, screenshot_path("layout-250-light"))
    _theme(page, "JupyterLab Dark", light=False)
    try:
        _check_narrow(page, session)
        _shoot(page, session, screenshot_path("layout-250-dark"))
        _width(page, 600)
        _check_wide(page, session)
        _shoot(page, session, screenshot_path("layout-600-dark"))
    finally:
        _theme(page, "JupyterLab Light", light=True)
    _check_wide(page, session)
    _shoot(page, session, screenshot_path("layout-600-light"))


def test_empty_state_code_wraps_between_words_at_250_px(
    page: Page, lab: Lab, screenshot_path: Callable[[str], str]
) -> None:
    # A server with no session yet: the snapshot says none, and no change is pushed.
    def no_sessions(route: Route) -> None:
        answer = route.fetch()
        body = answer.json()
        route.fulfill(response=answer, body=json.dumps({**body, "sessions": []}))

    page.route(re.compile(r".*/session-monitor/api/sessions(\?.*)?$"), no_sessions)
    page.route_web_socket(re.compile(r".*/api/events/subscribe.*"), lambda ws: None)
    page.goto(lab.lab_url())
    expect(page.locator(SIDEBAR_TAB)).to_be_visible(timeout=60_000)
    open_sidebar(page)
    samples = page.locator(f"{PANEL} .jp-SessionMonitor-code")
    expect(samples).to_have_count(3)

    for index in range(3):
        sample = samples.nth(index)
        assert sample.evaluate(WORD_LINES) == [], sample.inner_text()
        assert sample.evaluate("e => e.scrollWidth <= e.clientWidth"), sample.inner_text()
    # The long command did need a line break: at a dot, not inside a name.
    command = samples.nth(2)
    assert command.evaluate("e => e.getBoundingClientRect().height") > 30
    expect(command).to_have_text("python -m jupyter_session_monitor.emulator serve --port 8765")
    page.locator(PANEL).screenshot(path=screenshot_path("layout-empty-250"))


def test_what_is_scrolled_to_stops_below_the_sticky_toolbar(
    page: Page,
    lab: Lab,
    open_session: OpenSession,  # noqa: F811 (the fixture imported above)
) -> None:
    long_one, _ = open_session(16)
    target, _ = open_session(2)  # listed above the long one (newest first)
    page.goto(lab.lab_url())
    expect(page.locator(SIDEBAR_TAB)).to_be_visible(timeout=60_000)
    open_sidebar(page)
    panel = page.locator(PANEL)
    toolbar = panel.locator(".jp-SessionMonitor-toolbar")
    expanded: Locator = row(page, long_one)
    expanded.locator(".jp-SessionMonitor-expand").click()
    expect(expanded.locator("tr[data-job-id]")).to_have_count(16, timeout=20_000)

    def below_toolbar(element: Locator) -> bool:
        bar, box = toolbar.bounding_box(), element.bounding_box()
        assert bar
        assert box
        return box["y"] >= bar["y"] + bar["height"] - 1

    # "Show in sidebar" from the bottom of the list: the row's first line is not under the bar.
    panel.evaluate("panel => { panel.scrollTop = panel.scrollHeight; }")
    page.evaluate(
        "id => window.jupyterapp.commands.execute('jupyter-session-monitor:show', {id})", target
    )
    shown: Locator = row(page, target)
    expect(shown.locator(".jp-SessionMonitor-expand")).to_be_focused()
    page.wait_for_function(
        "panel => panel.scrollTop < panel.scrollHeight - panel.clientHeight - 1",
        arg=panel.element_handle(),
    )
    assert below_toolbar(shown.locator(".jp-SessionMonitor-summary"))

    # A group header reached with the keyboard from below shows whole.
    panel.evaluate("panel => { panel.scrollTop = panel.scrollHeight; }")
    header = panel.locator('[data-group="elsewhere"] .jp-SessionMonitor-groupHeader')
    header.locator(".jp-SessionMonitor-groupToggle").focus()
    assert below_toolbar(header)


#: The statuses of the listed jobs, read in one go (the queue moves while a test looks).
LISTED_STATUSES = (
    "rows => rows.map(r => r.querySelector('[data-testid=\"job-status\"]').textContent)"
)


def test_a_long_job_list_puts_the_running_job_first_pages_and_filters_by_status(
    page: Page,
    lab: Lab,
    open_session: OpenSession,  # noqa: F811 (the fixture imported above)
    screenshot_path: Callable[[str], str],
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    # On a backend of its own: the other tests' sessions keep queued jobs on ibmq_kolkata.
    session_id, jobs = open_session(45, backend_name="ibm_torino")
    page.goto(lab.lab_url())
    expect(page.locator(SIDEBAR_TAB)).to_be_visible(timeout=60_000)
    open_sidebar(page)
    session: Locator = row(page, session_id)
    session.locator(".jp-SessionMonitor-expand").click()
    listed = session.locator("tr[data-job-id]")
    expect(listed).to_have_count(20, timeout=20_000)
    expect(session.get_by_test_id("jobs-more")).to_contain_text("Showing 20 of 45 jobs.")

    # Some jobs have finished, one runs, the rest wait: the running one heads the list.
    chips = session.get_by_test_id("job-status-filter")
    expect(chips.get_by_role("button", name=re.compile(r"^\d+ done$"))).to_be_visible(
        timeout=30_000
    )
    expect(listed.first.get_by_test_id("job-status")).to_have_text("RUNNING", timeout=20_000)
    session.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.locator(PANEL).evaluate("panel => { panel.scrollTop -= 48; }")  # under the toolbar
    with toasts_hidden(page):
        page.screenshot(path=screenshot_path("jobs-long-250-light"), clip=_left_of_panel(page))

    # Every job, in the order running, queued (next to run first), finished (latest first).
    session.get_by_role("button", name="Show all 45").click()
    expect(listed).to_have_count(45)
    pairs = listed.evaluate_all(
        "rows => rows.map(r => [r.dataset.jobId,"
        " r.querySelector('[data-testid=\"job-status\"]').textContent])"
    )
    rank = {"RUNNING": 0, "QUEUED": 1}
    ranks = [rank.get(status, 2) for _, status in pairs]
    assert ranks == sorted(ranks), pairs
    queue = [job_id for job_id, status in pairs if status == "QUEUED"]
    assert queue == [job_id for job_id in jobs if job_id in queue], "queue order"
    assert queue  # 2 s a job: most of the 45 still wait

    # A count is a filter: only queued jobs, then all of them again.
    chips.get_by_role("button", name=re.compile(r"^\d+ queued$")).click()
    expect(chips.get_by_role("button", name=re.compile(r"^\d+ queued$"))).to_have_attribute(
        "aria-pressed", "true"
    )
    assert set(listed.evaluate_all(LISTED_STATUSES)) == {"QUEUED"}
    chips.get_by_role("button", name="all 45").click()
    expect(listed).to_have_count(20)

    # Each job id has a copy button that puts the full id on the clipboard.
    first = listed.first
    job_id = first.get_attribute("data-job-id")
    first.get_by_role("button", name=f"Copy job id {job_id}").click()
    expect(first.get_by_role("button", name=f"Copy job id {job_id}")).to_have_attribute(
        "title", "Copied"
    )
    assert page.evaluate("navigator.clipboard.readText()") == job_id

    _theme(page, "JupyterLab Dark", light=False)
    try:
        _width(page, 600)
        session.evaluate("e => e.scrollIntoView({block: 'start'})")
        page.locator(PANEL).evaluate("panel => { panel.scrollTop -= 48; }")
        with toasts_hidden(page):
            page.screenshot(path=screenshot_path("jobs-long-600-dark"), clip=_left_of_panel(page))
    finally:
        _theme(page, "JupyterLab Light", light=True)


def test_a_long_status_is_shown_whole_at_250_px(
    page: Page,
    lab: Lab,
    open_session: OpenSession,  # noqa: F811 (the fixture imported above)
    screenshot_path: Callable[[str], str],
) -> None:
    # Walkthrough: "In progress, not accepting new jo…" at 250 px; the badge clipped its words.
    # The longest status the service's states give, whatever the backend's queue does to this
    # session meanwhile: the snapshot says it, and no change is pushed over it.
    session_id, _ = open_session(2)
    closing = "In progress, not accepting new jobs"

    def as_closing(route: Route) -> None:
        answer = route.fetch()
        body = answer.json()
        for view in body["sessions"]:
            if view["id"] == session_id:
                view.update(state="active", accepting_jobs=False, status=closing)
        route.fulfill(response=answer, body=json.dumps(body))

    page.route(re.compile(r".*/session-monitor/api/sessions(\?.*)?$"), as_closing)
    page.route_web_socket(re.compile(r".*/api/events/subscribe.*"), lambda ws: None)
    page.goto(lab.lab_url())
    expect(page.locator(SIDEBAR_TAB)).to_be_visible(timeout=60_000)
    open_sidebar(page)
    status = row(page, session_id).get_by_test_id("session-status")
    expect(status).to_have_text(closing, timeout=20_000)
    assert abs(page.locator(PANEL).bounding_box()["width"] - 250) < 12  # type: ignore[index]
    assert status.evaluate("e => e.scrollWidth <= e.clientWidth"), "the status is clipped"
    assert status.evaluate(WORD_LINES) == []  # it may wrap, between words only
    row(page, session_id).screenshot(path=screenshot_path("layout-closing-250"))
