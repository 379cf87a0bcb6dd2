"""Notebook 7: the same extension, in Notebook's own shell. A session opened from a notebook shows
in the sidebar of the notebook view, in the tree view's Running tab (with Close), and its
`%%session` widget renders in the cell output."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import MONITOR_ARGS, server_environment
from labserver import Lab
from notebooks import printed_id, run_all_for_session, widget_cell, write_notebook
from playwright.sync_api import Page, expect

from tests.harness import Harness
from tests.server import running_server

# Headless-safe: the load is harmless (and silent) where the server already gave the kernel the
# magics. %%session must be the first line of its cell, so the load has a cell of its own.
LOAD = "%load_ext jupyter_session_monitor"
CELL = widget_cell(tag="notebook7", jobs=2)


KERNEL_CONNECTED = """() => {
  const kernel = window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel;
  return kernel?.connectionStatus === 'connected';
}"""


# A second session, left open: "Close All" in the Running tab closes it.
LEFT_OPEN = """\
from qiskit_ibm_runtime import QiskitRuntimeService, Session
left = Session(backend=QiskitRuntimeService().backend("ibmq_manila"))
print("LEFT OPEN", left.session_id)
"""


@pytest.fixture(scope="module")
def notebook7(tmp_path_factory: pytest.TempPathFactory, emulator: Harness) -> Iterator[Lab]:
    """A Notebook 7 server (`python -m notebook`) with the extension, against the emulator."""
    base = tmp_path_factory.mktemp("notebook7")
    with running_server(
        sys.executable,
        base,
        "--FileContentsManager.delete_to_trash=False",
        "--JupyterNotebookApp.expose_app_in_browser=True",
        *MONITOR_ARGS,
        env=server_environment(base, emulator),
        app="notebook",
    ) as (url, token):
        yield Lab(url=url, token=token, root_dir=Path(base))


def test_notebook7_shows_the_session_in_its_sidebar_widget_and_running_tab(
    page: Page, notebook7: Lab, screenshot_path: Callable[[str], str]
) -> None:
    write_notebook(notebook7, "nb7.ipynb", LOAD, CELL, LEFT_OPEN)
    page.goto(f"{notebook7.url}notebooks/nb7.ipynb?token={notebook7.token}")
    # Notebook starts the kernel itself; run the cells once the notebook is connected to it.
    page.wait_for_function(KERNEL_CONNECTED, timeout=60_000)
    session_id = run_all_for_session(page)
    left_id = printed_id(page, "LEFT OPEN")

    # The widget renders from the page's store, as in JupyterLab.
    # The load said nothing ("already loaded" would be noise in every headless-safe notebook).
    expect(page.locator(".jp-Cell").first.locator(".jp-OutputArea-output")).to_have_count(0)
    card = page.locator(f'.jp-OutputArea .jp-SessionMonitor-card[data-session-id="{session_id}"]')
    expect(card.get_by_test_id("job-counts")).to_have_text("2 done", timeout=30_000)

    # The sidebar is in Notebook's left area: the command opens it there.
    page.evaluate("void window.jupyterapp.commands.execute('jupyter-session-monitor:open')")
    panel = page.locator("#jp-session-monitor")
    expect(panel).to_be_visible()
    session_row = panel.locator(f'[data-session-id="{session_id}"]')
    expect(session_row).to_be_visible()
    expect(panel.get_by_role("region", name="nb7.ipynb")).to_contain_text(session_id[:8])
    page.screenshot(path=screenshot_path("notebook7-notebook"))

    # The tree view's Running tab lists it beside the kernel; its shut-down asks first.
    page.goto(f"{notebook7.url}tree?token={notebook7.token}")
    page.get_by_role("tab", name="Running").click()
    section = page.get_by_role("region", name="Qiskit Runtime sessions")
    item = section.locator(f'.jp-RunningSessions-item[data-context="{session_id}"]')
    expect(item).to_contain_text(f"nb7.ipynb · {session_id[:8]}", timeout=20_000)
    page.screenshot(path=screenshot_path("notebook7-running"))
    item.hover()
    shutdown = item.locator(".jp-RunningSessions-itemShutdown")
    expect(shutdown).to_have_attribute("title", "Close…")
    shutdown.click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Close: no new jobs")
    dialog.get_by_role("button", name="Close session").click()
    expect(item).to_have_count(0, timeout=30_000)

    # "Close All" is the sidebar's Close all: the panel's own question says what comes next, then
    # the monitor's confirmation lists the open session before anything is closed.
    other = section.locator(f'.jp-RunningSessions-item[data-context="{left_id}"]')
    expect(other).to_have_count(1)
    page.locator(".jp-RunningSessions-shutdownAll").filter(has_text="Close All").click()
    first = page.locator(".jp-Dialog")
    expect(first).to_contain_text("lists them before anything is closed")
    first.get_by_role("button", name="Close All", exact=True).click()
    listing = page.locator(".jp-Dialog").filter(has_text="Close all open sessions?")
    expect(listing).to_contain_text(left_id[:8], timeout=20_000)
    listing.get_by_role("button", name="Close all", exact=True).click()
    expect(other).to_have_count(0, timeout=30_000)
