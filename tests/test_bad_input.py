"""Bad input gets a clear JSON error and changes nothing: nested or oversized bodies, undeclared
methods, ids with control characters, bodies of the wrong shape, a registration with a bogus
token. Expected refusals are logged as one line, not as tracebacks.

A real jupyter_server with the extension; the emulator where a session is needed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from qiskit_ibm_runtime import Session
from tornado.httpclient import HTTPClientError

from tests.harness import Harness
from tests.test_freshness import view_when
from tests.test_monitor_api import api, in_thread, until

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

Fetch = Callable[..., Awaitable[Any]]


async def raw(
    fetch: Fetch, method: str, path: str, body: bytes | None = None, **headers: str
) -> tuple[int, dict[str, str], Any]:
    try:
        response = await fetch(
            "session-monitor",
            "api",
            *path.split("/"),
            method=method,
            body=body,
            headers=headers,
            allow_nonstandard_methods=True,
        )
    except HTTPClientError as error:
        if error.response is None:
            raise
        return error.code, dict(error.response.headers), json.loads(error.response.body)
    return response.code, dict(response.headers), json.loads(response.body or b"null")


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [
        (b"[" * 20_000 + b"]" * 20_000, 400, "bad_request"),  # was a 500
        (json.dumps({"session_id": "x" * 100_000}).encode(), 413, "too_large"),
        (json.dumps({"session_id": "abc\n"}).encode(), 400, "bad_request"),
        (json.dumps({"session_id": "abc\u0000"}).encode(), 400, "bad_request"),
    ],
)
async def test_malformed_bodies_get_a_json_4xx(
    jp_fetch: Fetch, body: bytes, status: int, kind: str
) -> None:
    code, _, answer = await raw(jp_fetch, "POST", "sessions", body)

    assert (code, answer["error"]["kind"]) == (status, kind)


@pytest.mark.parametrize("number", [b"Infinity", b"-Infinity", b"NaN"])
async def test_numbers_json_does_not_have_are_refused_and_change_nothing(
    jp_fetch: Fetch, number: bytes
) -> None:
    # Python's json reads them; a rate of Infinity would make every cost infinite.
    code, _, answer = await raw(jp_fetch, "PUT", "billing", b'{"rate_per_second": ' + number + b"}")

    assert (code, answer["error"]["kind"]) == (400, "bad_request")
    assert "not valid JSON" in answer["error"]["message"]
    assert (await raw(jp_fetch, "GET", "billing"))[2]["rate_per_second"] is None


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "sessions", "GET, POST"),
        ("PATCH", "sessions/abc", "GET, DELETE"),
        ("GET", "sessions/abc/close", "POST"),
        ("DELETE", "viewers", "POST"),
        ("TRACE", "sessions", "GET, POST"),
    ],
)
async def test_an_undeclared_method_is_a_405_that_says_what_is_allowed(
    jp_fetch: Fetch, method: str, path: str, allowed: str
) -> None:
    code, headers, answer = await raw(jp_fetch, method, path, b"{}" if method != "GET" else None)

    assert code == 405
    assert headers["Allow"] == allowed
    assert answer["error"]["kind"] == "method_not_allowed"
    assert allowed in answer["error"]["message"]


async def test_close_refuses_a_body_that_is_not_an_object(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch
) -> None:
    harness = make_emulator(time_scale=0.02)
    session = await in_thread(lambda: Session(backend=harness.service().backend("ibmq_manila")))
    await api(jp_fetch, "POST", "sessions", {"session_id": session.session_id})

    code, _, answer = await raw(
        jp_fetch, "POST", f"sessions/{session.session_id}/close", b"[null, null]"
    )

    assert (code, answer["error"]["kind"]) == (400, "bad_request")
    assert (await view_when(jp_fetch, session.session_id, lambda v: True))["state"] != "closed"  # type: ignore[index]
    await in_thread(session.close)


async def test_a_registration_with_a_bogus_token_changes_nothing(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch, jp_serverapp: Any
) -> None:
    harness = make_emulator(time_scale=0.02)
    session = await in_thread(lambda: Session(backend=harness.service().backend("ibmq_manila")))
    await api(jp_fetch, "POST", "sessions", {"session_id": session.session_id})
    secret = jp_serverapp.web_app.settings["session_monitor_kernel_secret"]
    bogus = {"session_id": session.session_id, "account": {}, "token": "garbage"}
    elsewhere = {
        "session_id": "no-such-session",
        "account": {"channel": "ibm_quantum_platform", "url": "http://127.0.0.1:9/"},
        "token": "garbage",
    }

    first = await raw(
        jp_fetch,
        "POST",
        "kernel-registrations",
        json.dumps(bogus).encode(),
        **{"X-Session-Monitor-Secret": secret},
    )
    second = await raw(
        jp_fetch,
        "POST",
        "kernel-registrations",
        json.dumps(elsewhere).encode(),
        **{"X-Session-Monitor-Secret": secret},
    )

    assert first[0] == 400 and "channel" in first[2]["error"]["message"]
    assert second[0] >= 400
    monitor = jp_serverapp.web_app.settings["session_monitor"]
    assert "garbage" not in monitor.gateway._tokens.values()
    # The default account still works: tracking goes on, the tracked session stays fresh.
    other = await in_thread(lambda: Session(backend=harness.service().backend("ibmq_manila")))
    assert (await api(jp_fetch, "POST", "sessions", {"session_id": other.session_id}))[0] == 201
    await until(lambda: view_when(jp_fetch, session.session_id, lambda v: not v["stale"]))
    for opened in (session, other):
        await in_thread(opened.close)


async def test_expected_refusals_are_logged_in_one_line(
    jp_fetch: Fetch, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        await raw(jp_fetch, "GET", "sessions/not-tracked")
        await raw(jp_fetch, "POST", "sessions/not-tracked/close", b"{}")

    text = caplog.text
    assert "Uncaught exception" not in text and "Traceback" not in text
    assert "404 not_found" in text


async def kernel_with_a_session(
    open_notebook: Callable[[str], Awaitable[Any]], fetch: Fetch
) -> tuple[Any, str, dict[str, Any]]:
    """A notebook's kernel that opened a session, and the session's view once it is tracked."""
    kernel = await open_notebook("own.ipynb")
    stdout, _ = await kernel.run(
        "from qiskit_ibm_runtime import QiskitRuntimeService, Session\n"
        "session = Session(backend=QiskitRuntimeService().backend('ibmq_manila'))\n"
        "print(session.session_id)\n"
    )
    session_id = stdout.strip()
    tracked = await until(lambda: view_when(fetch, session_id, lambda v: True))
    return kernel, session_id, tracked


async def test_a_process_with_the_secret_cannot_speak_for_a_kernel(
    make_emulator: Callable[..., Harness],
    jp_fetch: Fetch,
    jp_serverapp: Any,
    open_notebook: Callable[[str], Awaitable[Any]],
) -> None:
    # A terminal of the server has the secret in its environment, but not a kernel's key.
    make_emulator(time_scale=0.02)
    kernel, session_id, tracked = await kernel_with_a_session(open_notebook, jp_fetch)
    monitor = jp_serverapp.web_app.settings["session_monitor"]
    tokens = dict(monitor.gateway._tokens)
    secret = jp_serverapp.web_app.settings["session_monitor_kernel_secret"]
    impostor = {
        "session_id": session_id,
        "kernel_id": kernel.kernel_id,
        "account": tracked["account"],
        "token": "replaced",
    }

    code, _, answer = await raw(
        jp_fetch,
        "POST",
        "kernel-registrations",
        json.dumps(impostor).encode(),
        **{"X-Session-Monitor-Secret": secret},
    )

    assert code == 403 and "not signed by kernel" in answer["error"]["message"]
    assert monitor.gateway._tokens == tokens
    # Naming no kernel ("") is not a way around the signature: no kernel, no token.
    code, _, answer = await raw(
        jp_fetch,
        "POST",
        "kernel-registrations",
        json.dumps({**impostor, "kernel_id": ""}).encode(),
        **{"X-Session-Monitor-Secret": secret},
    )
    assert code == 403 and "Only a kernel of this server" in answer["error"]["message"]
    assert monitor.gateway._tokens == tokens
    await kernel.run("session.close()")


async def test_a_headless_run_cannot_claim_a_kernels_session(
    make_emulator: Callable[..., Harness],
    jp_fetch: Fetch,
    jp_serverapp: Any,
    open_notebook: Callable[[str], Awaitable[Any]],
) -> None:
    # A process with the secret (a terminal) says a kernel's session is its headless run's: were
    # that believed, the session would move to another notebook and be flagged orphaned (closed,
    # with orphan_policy "close") when that process ends.
    make_emulator(time_scale=0.02)
    kernel, session_id, tracked = await kernel_with_a_session(open_notebook, jp_fetch)
    secret = jp_serverapp.web_app.settings["session_monitor_kernel_secret"]
    claim = {
        "session_id": session_id,
        "account": tracked["account"],
        "run": {"notebook": "/elsewhere/other.ipynb", "runner": "papermill", "pid": 1},
    }

    code, _, answer = await raw(
        jp_fetch,
        "POST",
        "kernel-registrations",
        json.dumps(claim).encode(),
        **{"X-Session-Monitor-Secret": secret},
    )

    assert code == 409 and "cannot claim" in answer["error"]["message"]
    after = await until(lambda: view_when(jp_fetch, session_id, lambda v: True))
    assert (after["notebook_path"], after["source"]) == ("own.ipynb", "kernel")
    assert not after["orphaned"]
    for bad in ("x", {"notebook": "relative.ipynb", "runner": "p", "pid": 5}, {"pid": True}):
        code, _, answer = await raw(
            jp_fetch,
            "POST",
            "kernel-registrations",
            json.dumps({**claim, "run": bad}).encode(),
            **{"X-Session-Monitor-Secret": secret},
        )
        assert code == 400 and "'run" in answer["error"]["message"], answer
    await kernel.run("session.close()")
