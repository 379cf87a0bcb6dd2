"""Under a non-root base URL (as JupyterHub serves each user's server under /user/NAME/) with
``allow_unauthenticated_access=False``: the REST routes and the push channel live under the base
URL and nowhere else, refuse requests without credentials, and a notebook's kernel registers
through the base URL, so its session is tracked and pushed."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from tornado.websocket import websocket_connect

from jupyter_session_monitor.protocol import ENV_URL
from tests.harness import Harness
from tests.routes import monitor_routes
from tests.test_monitor_api import api, until
from tests.test_push import next_change

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

Fetch = Callable[..., Awaitable[Any]]
BASE_URL = "/user/alice/"

OPEN_SESSION = """
from qiskit_ibm_runtime import QiskitRuntimeService, Session
session = Session(backend=QiskitRuntimeService().backend("ibmq_manila"))
print(session.session_id)
"""


@pytest.fixture
def jp_base_url() -> str:
    return BASE_URL


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    server = {**jp_server_config["ServerApp"], "allow_unauthenticated_access": False}
    return {**jp_server_config, "ServerApp": server}


async def test_routes_live_under_the_base_url_only(
    jp_serverapp: Any, jp_fetch: Fetch, jp_http_port: int, jp_auth_header: dict[str, str]
) -> None:
    assert jp_serverapp.base_url == BASE_URL
    assert jp_serverapp.allow_unauthenticated_access is False
    routes = monitor_routes(jp_serverapp.web_app)
    assert routes
    assert all(route.sample_path.startswith(f"{BASE_URL}session-monitor/api/") for route in routes)

    response = await jp_fetch("session-monitor", "api", "version")
    assert response.code == 200

    # The same path without the base URL is not the monitor's (the server's own 404).
    client = AsyncHTTPClient()
    with pytest.raises(HTTPClientError) as caught:
        await client.fetch(
            f"http://localhost:{jp_http_port}/session-monitor/api/version",
            headers=jp_auth_header,
        )
    assert caught.value.code == 404


async def test_every_route_and_the_push_channel_refuse_requests_without_credentials(
    jp_serverapp: Any, jp_fetch: Fetch, jp_http_port: int, http_server_client: Any
) -> None:
    probed = 0
    for route in monitor_routes(jp_serverapp.web_app):
        path = route.sample_path.removeprefix(BASE_URL)
        for method in route.methods:
            body = b"{}" if method in ("POST", "PUT", "PATCH") else None
            with pytest.raises(HTTPClientError) as caught:
                await jp_fetch(
                    *path.split("/"),
                    method=method,
                    body=body,
                    headers={"Authorization": ""},
                    allow_nonstandard_methods=True,
                )
            assert caught.value.code == 403, (method, route.sample_path)
            probed += 1
    assert probed >= 10

    # The push channel is the server's event stream under the same base URL.
    with pytest.raises(HTTPClientError) as refused:
        await websocket_connect(f"ws://localhost:{jp_http_port}{BASE_URL}api/events/subscribe")
    # jupyter_server answers an unauthenticated upgrade with its login redirect, never a socket.
    assert refused.value.code == 302
    assert refused.value.response is not None
    location = refused.value.response.headers["Location"]
    assert location.startswith(f"{BASE_URL}login?next="), location


async def test_a_notebook_session_is_tracked_and_pushed_under_the_base_url(
    make_emulator: Callable[..., Harness],
    jp_fetch: Fetch,
    jp_ws_fetch: Any,
    open_notebook: Any,
) -> None:
    make_emulator(time_scale=0.02)
    socket = await jp_ws_fetch("api", "events", "subscribe")
    kernel = await open_notebook("vqe.ipynb")
    # Kernels find the monitor through the URL it published: the base URL is part of it.
    assert os.environ[ENV_URL].endswith(BASE_URL)

    stdout, _ = await kernel.run(OPEN_SESSION)
    session_id = stdout.strip()

    added = await next_change(socket)
    assert (added["kind"], added["session_id"]) == ("added", session_id)
    assert added["session"]["notebook_path"] == "vqe.ipynb"

    async def listed() -> Any:
        _, body = await api(jp_fetch, "GET", "sessions")
        return [s for s in body["sessions"] if s["id"] == session_id]

    (tracked,) = await until(listed)
    assert tracked["kernel_id"] == kernel.kernel_id

    status, _ = await api(jp_fetch, "POST", f"sessions/{session_id}/close", {})
    assert status == 202
    closed = added
    while closed["session"] is None or closed["session"]["state"] != "closed":
        closed = await next_change(socket)
    assert closed["session_id"] == session_id
    assert closed["version"] > added["version"]
    socket.close()
