"""The REST API of the server extension, through a real jupyter_server (pytest-jupyter)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import qiskit_ibm_runtime
from tornado.httpclient import HTTPClientError

import jupyter_session_monitor

from .routes import monitor_routes

REPO = Path(__file__).resolve().parent.parent


async def test_version_reports_package_and_client_versions(jp_fetch: Any) -> None:
    response = await jp_fetch("session-monitor", "api", "version")

    assert response.code == 200
    body = json.loads(response.body)
    package_json = json.loads((REPO / "package.json").read_text())
    assert body == {
        "version": package_json["version"],
        "qiskit_ibm_runtime_version": qiskit_ibm_runtime.__version__,
    }


async def test_version_refuses_unauthenticated_request(jp_fetch: Any) -> None:
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("session-monitor", "api", "version", headers={"Authorization": ""})

    assert caught.value.code == 403
    assert caught.value.response is not None
    error = json.loads(caught.value.response.body)["error"]
    assert error["kind"] == "forbidden"
    assert "version" not in json.loads(caught.value.response.body)


async def test_unknown_api_path_is_a_json_404_naming_it(jp_fetch: Any) -> None:
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("session-monitor", "api", "no-such-thing")

    assert caught.value.code == 404
    assert caught.value.response is not None
    assert json.loads(caught.value.response.body) == {
        "error": {
            "kind": "not_found",
            "message": "There is no session monitor API route 'no-such-thing'.",
        }
    }


def test_route_inventory_finds_the_monitor_routes(jp_serverapp: Any) -> None:
    # Guards the test below against passing vacuously on an empty list.
    patterns = {route.pattern for route in monitor_routes(jp_serverapp.web_app)}

    assert any(pattern.endswith("/session-monitor/api/version$") for pattern in patterns)


async def test_every_monitor_route_refuses_unauthenticated_access(
    jp_serverapp: Any, jp_fetch: Any
) -> None:
    # Every route this extension registers, now and later, is probed with every method it serves.
    probed = []
    for route in monitor_routes(jp_serverapp.web_app):
        assert route.methods, f"{route.pattern} serves no method"
        # Every route lives under the monitor's prefix; jp_fetch adds the server's base_url.
        _base, sep, rest = route.sample_path.partition("/session-monitor/")
        assert sep, f"{route.pattern} is outside {{base_url}}session-monitor/"
        for method in route.methods:
            body = b"{}" if method in ("POST", "PUT", "PATCH") else None
            with pytest.raises(HTTPClientError) as caught:
                await jp_fetch(
                    "session-monitor",
                    rest,
                    method=method,
                    body=body,
                    headers={"Authorization": ""},
                    allow_nonstandard_methods=True,
                )
            assert caught.value.code == 403, f"{method} {route.sample_path}"
            probed.append((method, route.pattern))

    assert len(probed) >= 2


async def _login_cookie(jp_fetch: Any) -> str:
    """Log in the way a browser does (token once), and return the login cookie it is given."""
    response = await jp_fetch("session-monitor", "api", "version")
    cookies = response.headers.get_list("Set-Cookie")
    login = [c.split(";", 1)[0] for c in cookies if c.startswith("username-")]
    assert login, f"no login cookie among {cookies}"
    return login[0]


async def test_cross_site_post_with_login_cookie_is_refused(jp_fetch: Any) -> None:
    cookie = await _login_cookie(jp_fetch)

    # A forged cross-site request carries the victim's cookie but cannot know the XSRF token.
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch(
            "session-monitor",
            "api",
            "sessions",
            method="POST",
            body=b"{}",
            headers={"Authorization": "", "Cookie": cookie},
        )

    assert caught.value.code == 403


async def test_every_mutating_route_refuses_cross_site_requests(
    jp_serverapp: Any, jp_fetch: Any
) -> None:
    # A page on another site can make the browser send the login cookie, never the XSRF token.
    cookie = await _login_cookie(jp_fetch)
    probed = []
    for route in monitor_routes(jp_serverapp.web_app):
        if route.pattern.endswith("/kernel-registrations$"):
            continue  # kernels authenticate with a secret header, which browsers never send
        _base, _sep, rest = route.sample_path.partition("/session-monitor/")
        for method in set(route.methods) - {"GET"}:
            with pytest.raises(HTTPClientError) as caught:
                await jp_fetch(
                    "session-monitor",
                    rest,
                    method=method,
                    body=b"{}" if method != "DELETE" else None,
                    headers={"Authorization": "", "Cookie": cookie},
                    allow_nonstandard_methods=True,
                )
            assert caught.value.code == 403, f"{method} {route.pattern}"
            probed.append((method, route.pattern))

    # Not vacuous: track, forget, close/cancel, job cancel and the catch-all were all probed.
    assert sum(1 for method, pattern in probed if "close|cancel" in pattern) == 1
    assert len(probed) >= 7


async def test_same_site_post_with_xsrf_token_reaches_the_route(jp_fetch: Any) -> None:
    # The positive control for the test above: the same request with the XSRF token passes the
    # check and reaches the routing (the catch-all answers 404 until a real POST route exists).
    cookie = await _login_cookie(jp_fetch)
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch(
            "session-monitor",
            "api",
            "no-such-route",
            method="POST",
            body=b"{}",
            headers={
                "Authorization": "",
                "Cookie": f"{cookie}; _xsrf=same-site-token",
                "X-XSRFToken": "same-site-token",
            },
        )

    assert caught.value.code == 404


def test_loading_the_server_extension_does_not_import_qiskit() -> None:
    # JupyterLab's start-up must not pay for the Qiskit client: it is imported lazily.
    probe = (
        "import sys, jupyter_session_monitor as m;"
        "[p['app'] for p in m._jupyter_server_extension_points()];"
        "import jupyter_session_monitor.server.handlers;"
        "print(sorted(n for n in sys.modules if n.partition('.')[0].startswith('qiskit')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"


def test_labextension_paths_point_at_the_built_extension() -> None:
    (path,) = jupyter_session_monitor._jupyter_labextension_paths()
    package_dir = Path(jupyter_session_monitor.__file__).parent

    built = json.loads((package_dir / path["src"] / "package.json").read_text())
    assert built["name"] == path["dest"] == "jupyter-session-monitor"
