"""Injected faults produce the client's documented behaviour; bad input gets the service's 4xx."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import requests
from qiskit_ibm_runtime import Session
from qiskit_ibm_runtime.api.exceptions import RequestsApiError
from qiskit_ibm_runtime.exceptions import IBMNotAuthorizedError, IBMRuntimeError

from jupyter_session_monitor.emulator.server import API_KEY, RUNTIME_PREFIX
from tests.harness import Harness


def served(harness: Harness, method: str, path_part: str) -> list[int]:
    """Statuses of the requests the emulator served for one route, in order."""
    return [
        r["status"] for r in harness.requests() if r["method"] == method and path_part in r["path"]
    ]


@pytest.fixture
def session(emulator: Harness) -> Session:
    return Session(backend=emulator.service().backend("ibmq_manila"))


def test_5xx_on_get_is_retried_by_the_client_and_recovers(
    emulator: Harness, session: Session
) -> None:
    emulator.admin(
        "POST",
        "/emulator/faults",
        {"kind": "status", "status": 502, "route": "/sessions/", "methods": ["GET"], "count": 2},
    )

    assert session.status() == "Pending"

    assert served(emulator, "GET", f"/sessions/{session.session_id}") == [502, 502, 200]


def test_5xx_on_close_is_not_retried_and_raises(emulator: Harness, session: Session) -> None:
    emulator.admin(
        "POST",
        "/emulator/faults",
        {"kind": "status", "status": 500, "route": "/sessions/", "methods": ["PATCH"]},
    )

    with pytest.raises(IBMRuntimeError, match="Error closing session"):
        session.close()

    assert served(emulator, "PATCH", "/sessions/") == [500]
    emulator.admin("DELETE", "/emulator/faults")
    assert session.details()["accepting_jobs"] is True  # nothing was lost


def test_429_with_retry_after_is_retried(emulator: Harness, session: Session) -> None:
    emulator.admin(
        "POST",
        "/emulator/faults",
        {
            "kind": "status",
            "status": 429,
            "retry_after": 1,
            "route": "/sessions/",
            "methods": ["GET"],
            "count": 1,
        },
    )

    assert session.details()["state"] == "open"

    assert served(emulator, "GET", "/sessions/") == [429, 200]


def test_429_without_retry_after_reaches_the_caller(emulator: Harness, session: Session) -> None:
    emulator.admin(
        "POST",
        "/emulator/faults",
        {"kind": "status", "status": 429, "route": "/sessions/", "methods": ["GET"]},
    )

    with pytest.raises(RequestsApiError) as refused:
        session.details()

    assert refused.value.status_code == 429
    assert served(emulator, "GET", "/sessions/") == [429]


def test_expired_token_raises_not_authorized(emulator: Harness, session: Session) -> None:
    emulator.admin("POST", "/emulator/faults", {"kind": "token_expiry", "route": "/sessions/"})

    with pytest.raises(IBMNotAuthorizedError):
        session.status()


def test_hang_blocks_the_client_until_the_fault_is_cleared(
    emulator: Harness, session: Session
) -> None:
    # The client has no read timeout: a service that stops answering blocks the caller.
    emulator.admin(
        "POST", "/emulator/faults", {"kind": "hang", "route": "/sessions/", "methods": ["GET"]}
    )
    answer: list[Any] = []
    caller = threading.Thread(target=lambda: answer.append(session.status()))
    caller.start()

    caller.join(timeout=1.0)
    assert caller.is_alive() and not answer

    emulator.admin("DELETE", "/emulator/faults")
    caller.join(timeout=10)
    assert answer == ["Pending"]


def test_latency_delays_the_answer(emulator: Harness, session: Session) -> None:
    emulator.admin(
        "POST", "/emulator/faults", {"kind": "latency", "seconds": 0.3, "route": "/sessions/"}
    )

    session.status()

    (record,) = [
        r for r in emulator.requests() if r["method"] == "GET" and "/sessions/" in r["path"]
    ]
    assert record["duration_ms"] >= 300


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "explode"},
        {"kind": "status", "status": 200},
        {"kind": "latency", "seconds": -1},
        {"kind": "hang", "route": "("},
        {"kind": "status", "status": 429, "retry_after": 0.5},
    ],
)
def test_bad_fault_descriptions_are_refused(emulator: Harness, spec: dict[str, Any]) -> None:
    response = requests.post(f"{emulator.url}/emulator/faults", json=spec, timeout=10)

    assert response.status_code == 400
    assert response.json()["errors"][0]["message"]


# ---------------------------------------------------------------------- raw HTTP: bad input


@pytest.fixture
def api(emulator: Harness) -> Callable[..., requests.Response]:
    token = requests.post(
        f"{emulator.url}/identity/token",
        data={"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": API_KEY},
        timeout=10,
    ).json()["access_token"]

    def call(method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return requests.request(
            method, f"{emulator.url}{RUNTIME_PREFIX}{path}", headers=headers, timeout=10, **kwargs
        )

    return call


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("POST", "/sessions", {"data": b"{not json"}, 400),
        ("POST", "/sessions", {"json": ["a list"]}, 400),
        ("POST", "/sessions", {"json": {}}, 400),
        ("POST", "/sessions", {"json": {"backend": "ibm_nowhere"}}, 404),
        ("POST", "/sessions", {"json": {"backend": "ibmq_manila", "mode": "exclusive"}}, 400),
        ("POST", "/sessions", {"json": {"backend": "ibmq_manila", "max_ttl": 10**9}}, 400),
        ("POST", "/sessions", {"json": {"backend": "ibmq_manila", "max_ttl": "long"}}, 400),
        ("GET", "/sessions/no-such-session", {}, 404),
        ("PATCH", "/sessions/no-such-session", {"json": {"accepting_jobs": False}}, 404),
        ("DELETE", "/sessions/no-such-session/close", {}, 404),
        ("GET", "/jobs/no-such-job", {}, 404),
        ("POST", "/jobs/no-such-job/cancel", {}, 404),
        ("POST", "/jobs", {"json": {"program_id": "sampler"}}, 400),
        (
            "POST",
            "/jobs",
            {"json": {"program_id": "sampler", "params": {}, "session_id": "nope"}},
            404,
        ),
        ("GET", "/jobs?limit=many", {}, 400),
        ("GET", "/backends/ibm_nowhere/configuration", {}, 404),
        ("GET", "/no/such/route", {}, 404),
        ("POST", "/sessions", {"data": b"x" * (64 * 1024 * 1024 + 1)}, 413),
    ],
)
def test_bad_requests_get_the_service_error_shape(
    api: Callable[..., requests.Response],
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
) -> None:
    response = api(method, path, **kwargs)

    assert response.status_code == status
    error = response.json()["errors"][0]
    assert isinstance(error["code"], int) and error["message"]
    assert "Traceback" not in response.text


def test_runtime_routes_need_a_valid_token(emulator: Harness) -> None:
    for headers in ({}, {"Authorization": "Bearer forged.token.value"}):
        response = requests.get(
            f"{emulator.url}{RUNTIME_PREFIX}/backends", headers=headers, timeout=10
        )
        assert response.status_code == 401
        assert response.json()["errors"][0]["code"] == 1201


def test_wrong_api_key_is_refused_by_iam(emulator: Harness) -> None:
    response = requests.post(
        f"{emulator.url}/identity/token",
        data={"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": "wrong"},
        timeout=10,
    )

    assert response.status_code == 400
    assert response.json()["errorCode"] == "BXNIM0415E"


def test_request_log_counts_what_the_client_asked(emulator: Harness, session: Session) -> None:
    requests.delete(f"{emulator.url}/emulator/requests", timeout=10)

    session.status()
    session.details()

    log = emulator.requests()
    assert [(r["method"], r["status"]) for r in log] == [("GET", 200), ("GET", 200)]
    assert all(r["path"].endswith(f"/sessions/{session.session_id}") for r in log)


def test_workloads_list_sessions_and_batches(
    emulator: Harness, api: Callable[..., requests.Response]
) -> None:
    backend = emulator.service().backend("ibmq_manila")
    with Session(backend=backend) as dedicated:
        pass
    from qiskit_ibm_runtime import Batch

    with Batch(backend=backend) as batch:
        pass

    sessions = api("GET", "/workloads?mode=session").json()["workloads"]
    batches = api("GET", "/workloads?mode=batch").json()["workloads"]

    assert [w["id"] for w in sessions] == [dedicated.session_id]
    assert [w["id"] for w in batches] == [batch.session_id]
    assert sessions[0]["status"] == "closed"


def test_the_clock_moves_forward_only_and_says_so(emulator: Harness) -> None:
    import urllib.error

    before = emulator.admin("GET", "/emulator/clock")
    after = emulator.admin("POST", "/emulator/clock", {"advance": 90})

    assert after["advanced_seconds"] == before["advanced_seconds"] + 90
    assert after["now"] > before["now"]
    with pytest.raises(urllib.error.HTTPError) as refused:
        emulator.admin("POST", "/emulator/clock", {"advance": -5})
    assert refused.value.code == 400
