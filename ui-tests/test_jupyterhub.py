"""Under a real JupyterHub: each user's single-user server carries the extension under /user/NAME/.
Alice logs in with the browser, a notebook of hers opens a session, her sidebar shows it; Bob's
credentials cannot read or act on it through her server, and his own server neither lists nor
closes it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import MONITOR_ARGS, _write_settings
from hub import Hub, running_hub
from labserver import Lab
from notebooks import (
    PANEL,
    open_sidebar,
    run_all_for_session,
    session_code,
    start_kernel,
    write_notebook,
)
from playwright.sync_api import Browser, Page, expect

from tests.harness import Harness

USERS = ("alice", "bob")
API = "session-monitor/api"
FORBIDDEN = {"error": {"kind": "forbidden", "message": "Forbidden"}}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, emulator: Harness) -> Iterator[Hub]:
    """A hub with two users whose servers run (started through the hub's API) against the
    emulator: the spawner hands its client environment to each server, hence to their kernels."""
    workdir = tmp_path_factory.mktemp("hub")
    with running_hub(
        workdir,
        USERS,
        single_user_args=[
            "--FileContentsManager.delete_to_trash=False",
            "--LabApp.expose_app_in_browser=True",
            *MONITOR_ARGS,
        ],
        environment={"USAGE_DATA_OPT_OUT": "True", **emulator.emulator.client_environment()},
    ) as running:
        for user in USERS:
            _write_settings(running.home(user) / ".lab-settings")
        running.start_servers(USERS)
        yield running


def log_in(page: Page, hub: Hub, user: str) -> None:
    """The hub's login form, as a person fills it in."""
    page.goto(f"{hub.url}hub/login")
    page.locator("#username_input").fill(user)
    page.locator("#password_input").fill(hub.password)
    page.locator("#login_submit").click()
    expect(page).not_to_have_url(re.compile(r"/hub/login"), timeout=30_000)


def call(hub: Hub, method: str, path: str, token: str | None, body: Any = None) -> tuple[int, Any]:
    """A request through the hub's proxy; (status, JSON body or the Location of a redirect)."""
    status, headers, text = hub.request(method, path, token=token, body=body)
    if 300 <= status < 400:
        return status, headers.get("Location")
    try:
        return status, json.loads(text) if text else None
    except ValueError:
        return status, text.decode(errors="replace")[:200]


def emulator_state(emulator: Harness, session_id: str) -> str:
    sessions = emulator.admin("GET", "/emulator/state")["sessions"]
    states = [s["state"] for s in sessions if s["id"] == session_id]
    assert states, f"the emulator does not know {session_id}"
    return str(states[0])


def test_alice_sees_her_session_and_bob_can_neither_see_nor_close_it(
    page: Page,
    browser: Browser,
    hub: Hub,
    emulator: Harness,
    screenshot_path: Callable[[str], str],
) -> None:
    alice_token = hub.user_token("alice", "kernel start from the test")
    bob_token = hub.user_token("bob", "bob's API calls in the test")
    alice = Lab(url=f"{hub.url}user/alice/", token=alice_token, root_dir=hub.home("alice"))
    write_notebook(alice, "hub.ipynb", session_code(jobs=1, tags=["hub"]))
    start_kernel(alice, "hub.ipynb")

    # Alice logs in through the hub's form; her server lets her in through the hub's OAuth.
    log_in(page, hub, "alice")
    page.goto(f"{hub.url}user/alice/lab/tree/hub.ipynb?reset")
    expect(page).to_have_url(re.compile(r"/user/alice/lab/tree/hub\.ipynb"), timeout=60_000)
    expect(page.locator(".jp-NotebookPanel-toolbar .jp-KernelName")).to_have_text(
        "Python 3 (ipykernel)", timeout=60_000
    )
    expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_have_count(
        1, timeout=60_000
    )
    session_id = run_all_for_session(page)

    open_sidebar(page)
    group = page.locator(f'{PANEL} [data-group="notebook:hub.ipynb"]')
    session = group.locator(f'[data-session-id="{session_id}"]')
    expect(session).to_be_visible(timeout=20_000)
    expect(session.get_by_test_id("job-counts")).to_have_text("1 done", timeout=30_000)
    page.screenshot(path=screenshot_path("jupyterhub-alice"))

    # Her own credentials read it through her server: the refusals below are about who asks.
    status, listed = call(hub, "GET", f"user/alice/{API}/sessions", alice_token)
    assert status == 200
    assert session_id in [s["id"] for s in listed["sessions"]]

    # Bob's token, on Alice's server: its hub identity provider does not accept a token without
    # access to this server, so the monitor's authentication refuses him (its JSON 403).
    for method, path in [
        ("GET", f"user/alice/{API}/sessions"),
        ("GET", f"user/alice/{API}/sessions/{session_id}"),
        ("POST", f"user/alice/{API}/sessions/{session_id}/close"),
        ("POST", f"user/alice/{API}/sessions/{session_id}/cancel"),
        ("DELETE", f"user/alice/{API}/sessions/{session_id}"),
        ("POST", f"user/alice/{API}/sessions/close-all"),
    ]:
        status, answer = call(hub, method, path, bob_token, {} if method == "POST" else None)
        assert (status, answer) == (403, FORBIDDEN), (method, path)
    # No credentials at all: refused the same way (a browser page would be sent to log in).
    assert call(hub, "GET", f"user/alice/{API}/sessions", None) == (403, FORBIDDEN)

    # Bob's own server has its own registry: Alice's session is not there, and closing it by its
    # id through his server is refused without a call to the service.
    status, listed = call(hub, "GET", f"user/bob/{API}/sessions", bob_token)
    assert status == 200
    assert session_id not in [s["id"] for s in listed["sessions"]]
    status, answer = call(hub, "POST", f"user/bob/{API}/sessions/{session_id}/close", bob_token, {})
    assert status == 404, answer
    assert answer["error"]["kind"] == "not_found"
    status, answer = call(hub, "POST", f"user/bob/{API}/sessions/close-all", bob_token, {})
    assert status == 202, answer
    assert session_id not in json.dumps(answer)
    assert emulator_state(emulator, session_id) != "closed"
    status, mine = call(hub, "GET", f"user/alice/{API}/sessions/{session_id}", alice_token)
    assert status == 200
    assert mine["state"] != "closed"

    # Bob logged in with the browser: the hub does not let him into Alice's server.
    bob_context = browser.new_context()
    try:
        bob_page = bob_context.new_page()
        log_in(bob_page, hub, "bob")
        response = bob_page.goto(f"{hub.url}user/alice/lab")
        assert response is not None
        assert response.status == 403
        assert "/hub/" in bob_page.url
        api = bob_context.request.get(f"{hub.url}user/alice/{API}/sessions", max_redirects=0)
        assert api.status == 403, (api.status, api.headers)
    finally:
        bob_context.close()

    # Alice closes it from her sidebar-side API: her credentials can act on it.
    status, _ = call(hub, "POST", f"user/alice/{API}/sessions/{session_id}/close", alice_token, {})
    assert status == 202
    # Her sidebar moves it under "Recently closed".
    expect(session).to_have_count(0, timeout=30_000)
    toggle = page.locator(f'{PANEL} [data-group="closed"] .jp-SessionMonitor-groupToggle')
    if toggle.get_attribute("aria-expanded") == "false":
        toggle.click()
    expect(
        page.locator(f'{PANEL} [data-group="closed"] [data-session-id="{session_id}"]')
    ).to_be_visible()
    assert emulator_state(emulator, session_id) == "closed"
