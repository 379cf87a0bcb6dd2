"""Accessibility audit of what this extension draws (axe-core in the page), and its keyboard paths.

The audits are scoped to our own DOM: the sidebar panel, our dialog bodies and the widget card.
JupyterLab's own page, audited whole, has findings that are not ours (axe-core 4.12, JupyterLab
4.7): `region` (moderate) on `.jp-skiplink-wrapper`, `empty-heading` (minor) on the launcher's
`.jp-Launcher-cwd > h3`, `image-redundant-alt` (minor) on the launcher cards' icons. None is
serious or critical.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from labserver import Lab
from notebooks import (
    PANEL,
    SIDEBAR_TAB,
    open_sidebar,
    row,
    run_notebook,
    widget_cell,
    write_notebook,
)
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.harness import Harness, bell

AXE = Axe()
SEVERE = {"serious", "critical"}
DIALOG_BODY = ".jp-Dialog .jp-Dialog-body"

#: Opens a session from a script with N jobs (tags: one list per job, in turn), tracked by id:
#: its id and its jobs' ids.
OpenSession = Callable[..., tuple[str, list[str]]]


def audit(page: Page, *selectors: str) -> dict[str, Any]:
    """axe-core on our DOM only; fails on any serious or critical violation. Returns the results.

    JupyterLab's <body> has `overflow: hidden` and no height (everything in it is absolutely
    positioned): axe-core then takes all text for clipped and checks no colour contrast at all
    (axe-core issue #4539). Lifting the overflow while axe runs changes nothing on screen and lets
    it check every text node.
    """
    page.evaluate("document.body.style.overflow = 'visible'")
    try:
        results = AXE.run(page, context={"include": [[s] for s in selectors]}, options={})
    finally:
        page.evaluate("document.body.style.overflow = ''")
    found = [v for v in results.response["violations"] if v["impact"] in SEVERE]
    response: dict[str, Any] = results.response
    assert not found, "\n".join(
        f"{v['impact']} {v['id']} ({v['help']}): "
        + "; ".join(f"{n['target']} {n.get('failureSummary', '')}" for n in v["nodes"][:8])
        for v in found
    )
    return response


def contrast_checked(response: dict[str, Any]) -> list[str]:
    """The elements whose colour contrast axe measured and found sufficient."""
    return [
        " ".join(node["target"])
        for rule in response["passes"]
        if rule["id"] == "color-contrast"
        for node in rule["nodes"]
    ]


def track(lab: Lab, session_id: str) -> None:
    body = json.dumps({"session_id": session_id}).encode()
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"{lab.url}session-monitor/api/sessions", data=body, method="POST"
    )
    request.add_header("Authorization", f"token {lab.token}")
    request.add_header("Content-Type", "application/json")
    urllib.request.urlopen(request, timeout=30).close()  # noqa: S310


@pytest.fixture(scope="module")
def open_session(
    lab: Lab, emulator: Harness, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OpenSession]:
    """Opens a session from a script (not a notebook), submits `jobs` jobs, tracks it by id.
    Fast: no kernel. Returns the session id and its job ids. The sessions are cancelled at the
    end of the module: their jobs queue ahead of later ones on the same backend."""
    from qiskit_ibm_runtime import SamplerV2, Session

    opened: list[Any] = []

    def start(
        jobs: int, tags: list[list[str]] | None = None, backend_name: str = "ibmq_kolkata"
    ) -> tuple[str, list[str]]:
        tag_sets = tags or [["a11y", "optimizer-b"]]
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
            for key, value in emulator.emulator.client_environment().items():
                patch.setenv(key, value)
            backend = emulator.service().backend(backend_name)
            session = Session(backend=backend)
            sampler = SamplerV2(mode=session)
            circuit = bell(backend)
            submitted = []
            for index in range(jobs):
                sampler.options.environment.job_tags = tag_sets[index % len(tag_sets)]
                submitted.append(sampler.run([circuit]))
        opened.append(session)
        track(lab, session.session_id)
        return session.session_id, [job.job_id() for job in submitted]

    yield start
    for session in opened:
        session.cancel()


def _sidebar(page: Page, lab: Lab, session_id: str) -> Locator:
    page.goto(lab.lab_url())
    expect(page.locator(SIDEBAR_TAB)).to_be_visible(timeout=60_000)
    # The restored layout activates the launcher (taking focus) once: let that happen first.
    expect(page.locator(".jp-Launcher")).to_be_focused(timeout=30_000)
    open_sidebar(page)
    session: Locator = row(page, session_id)
    expect(session).to_be_visible(timeout=20_000)
    return session


def _theme(page: Page, name: str, light: bool) -> None:
    page.evaluate(
        f"window.jupyterapp.commands.execute('apputils:change-theme', {{theme: '{name}'}})"
    )
    expect(page.locator(f"body[data-jp-theme-light='{str(light).lower()}']")).to_have_count(1)
    expect(page.locator("#jupyterlab-splash")).to_have_count(0)  # the theme has loaded


def test_sidebar_with_an_expanded_row_passes_axe_in_light_and_dark(
    page: Page, lab: Lab, open_session: OpenSession
) -> None:
    session_id, _ = open_session(6)
    session = _sidebar(page, lab, session_id)
    session.locator(".jp-SessionMonitor-expand").click()
    expect(session.get_by_test_id("job-status")).to_have_count(6, timeout=20_000)
    expect(session.get_by_test_id("timeline-picture")).to_be_visible(timeout=10_000)
    session.locator(".jp-SessionMonitor-detailsBlock summary").click()
    expect(session.locator(".jp-SessionMonitor-detailList")).to_be_visible()

    # axe measures what is on screen: the panel is audited at several scroll positions.
    light = _audit_panel(page, session)
    assert any('[aria-label="Job tags"]' in target for target in light), light  # once too pale
    assert any("jp-SessionMonitor-backend" in target for target in light), light
    assert any("jp-SessionMonitor-detailList" in target for target in light), light

    _theme(page, "JupyterLab Dark", light=False)
    try:
        dark = _audit_panel(page, session)
        assert any('[aria-label="Job tags"]' in target for target in dark), dark
    finally:
        _theme(page, "JupyterLab Light", light=True)


def _audit_panel(page: Page, session: Locator) -> list[str]:
    """The panel audited scrolled to its top, to the row, to the row's details and to its bottom
    (other tests' sessions may be listed too); what had its contrast checked."""
    checked = []
    panel = page.locator(PANEL)
    for scroll in (
        "panel => { panel.scrollTop = 0; }",
        "(panel, row) => { row.scrollIntoView({block: 'start'}); panel.scrollTop -= 48; }",
        "(panel, row) => row.querySelector('.jp-SessionMonitor-detailsBlock').scrollIntoView()",
        "panel => { panel.scrollTop = panel.scrollHeight; }",
    ):
        panel.evaluate(scroll, session.element_handle())
        checked += contrast_checked(audit(page, PANEL))
    return checked


def _tab_sequence(page: Page, start: Locator, inside: Locator) -> list[str]:
    """What Tab reaches from `start` while focus stays inside `inside` (accessible names)."""
    start.focus()
    names = []
    for _ in range(60):
        names.append(
            page.evaluate(
                "() => { const e = document.activeElement;"
                " return e.getAttribute('aria-label') || e.textContent.trim(); }"
            )
        )
        page.keyboard.press("Tab")
        if not inside.evaluate("(row) => row.contains(document.activeElement)"):
            break
    return names


def test_every_row_action_works_from_the_keyboard_and_focus_comes_back(
    page: Page,
    context: BrowserContext,
    lab: Lab,
    open_session: OpenSession,
) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    session_id, jobs = open_session(12)
    short = session_id[:8]
    session = _sidebar(page, lab, session_id)
    expand = session.locator(".jp-SessionMonitor-expand")

    # Expanded with the keyboard.
    expand.focus()
    page.keyboard.press("Enter")
    expect(expand).to_have_attribute("aria-expanded", "true")
    last_job = jobs[-1]
    job_cancel = session.get_by_role("button", name=f"Cancel job {last_job[:8]}")
    expect(job_cancel).to_be_visible(timeout=20_000)
    expect(session.get_by_test_id("timeline-picture")).to_be_visible(timeout=10_000)

    # Every action of the row is on the Tab path, in reading order.
    names = _tab_sequence(page, expand, session)
    expected = [
        re.compile(f"^Session {short} on ibmq_kolkata"),
        re.compile(f"^Copy session id {session_id}$"),
        re.compile(f"^Close session {short}$"),
        re.compile(f"^Budget for session {short}$"),
        re.compile(f"^Cancel session {short}$"),
        re.compile(f"^Cancel job {last_job[:8]}$"),
        re.compile(r"^details\(\)$"),
        re.compile(r"^Receipt so far…$"),
        re.compile(r"^State changes$"),
    ]
    position = 0
    for pattern in expected:
        while position < len(names) and not pattern.search(names[position]):
            position += 1
        assert position < len(names), (pattern.pattern, "\n".join(names))

    # Copy works from the keyboard (its tooltip says so).
    copy = session.get_by_role("button", name=f"Copy session id {session_id}")
    copy.focus()
    page.keyboard.press("Enter")
    expect(copy).to_have_attribute("title", "Copied")

    # Each dialog opens from the keyboard, passes axe, and gives focus back when dismissed.
    dialog = page.locator(".jp-Dialog")
    for name, words in [
        (f"Close session {short}", "Close: no new jobs"),
        (f"Cancel session {short}", "Cancel:"),
        (f"Budget for session {short}", "When it is used up"),
        ("Receipt so far…", "Receipt so far"),
    ]:
        button = session.get_by_role("button", name=name, exact=True)
        button.focus()
        page.keyboard.press("Enter")
        expect(dialog).to_contain_text(words, timeout=10_000)
        if name.startswith(("Close", "Cancel")):
            expect(dialog.get_by_test_id("confirm-freshness")).to_contain_text(
                "As the service said", timeout=10_000
            )
            # The safe choice has the focus (#26 item 9): Enter keeps the session.
            expect(dialog.get_by_role("button", name="Keep it")).to_be_focused()
            audit(page, DIALOG_BODY)
        page.keyboard.press("Escape")
        expect(dialog).to_have_count(0)
        expect(button).to_be_focused()

    # A job's Cancel, confirmed: the job ends and its button goes; focus goes to the row.
    job_cancel.focus()
    page.keyboard.press("Enter")
    expect(dialog).to_contain_text("The queued job will not run.")
    audit(page, DIALOG_BODY)
    dialog.get_by_role("button", name="Cancel job").focus()
    page.keyboard.press("Enter")
    expect(session.locator(f'[data-job-id="{last_job}"] [data-testid="job-status"]')).to_have_text(
        "CANCELLED", timeout=20_000
    )
    expect(job_cancel).to_have_count(0)
    expect(expand).to_be_focused()

    # Collapsed again with Space.
    page.keyboard.press("Space")
    expect(expand).to_have_attribute("aria-expanded", "false")


WIDGET_CELL = widget_cell(tag="a11y-widget", jobs=2)


def test_session_widget_passes_axe(page: Page, lab: Lab) -> None:
    write_notebook(lab, "a11y-widget.ipynb", WIDGET_CELL)
    session_id = run_notebook(page, lab, "a11y-widget.ipynb")
    card = page.locator(f'.jp-OutputArea .jp-SessionMonitor-card[data-session-id="{session_id}"]')
    expect(card.get_by_test_id("job-counts")).to_be_visible(timeout=20_000)
    expect(card.get_by_test_id("timeline-picture")).to_be_visible(timeout=20_000)

    checked = contrast_checked(audit(page, ".jp-SessionMonitor-card"))
    assert any("jp-SessionMonitor-backend" in target for target in checked), checked
    card.get_by_role("button", name=f"Cancel session {session_id[:8]}").click()
    page.locator(".jp-Dialog").get_by_role("button", name="Cancel session").click()


def test_opening_the_monitor_from_the_palette_moves_focus_into_it(page: Page, lab: Lab) -> None:
    # #26 item 9: the command left focus in the notebook, 17 Tabs away from the sidebar.
    page.goto(lab.lab_url())
    page.evaluate("async () => { await window.jupyterapp?.restored; }")
    main = page.locator(".jp-Launcher").first
    expect(main).to_be_focused(timeout=20_000)  # where the user is: the main area
    page.evaluate("void window.jupyterapp.commands.execute('jupyter-session-monitor:open')")
    focused = page.locator(f"{PANEL} input").first
    expect(focused).to_be_focused(timeout=10_000)
    # Its focus ring: 2 px, set off from the control.
    ring = focused.evaluate(
        "e => { const s = getComputedStyle(e); return [s.outlineWidth, s.outlineOffset]; }"
    )
    assert ring == ["2px", "2px"], ring
