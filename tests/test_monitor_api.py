"""The monitor's REST API on a real jupyter_server, polling the emulator with the real client."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from qiskit_ibm_runtime import SamplerV2 as Sampler
from qiskit_ibm_runtime import Session
from tornado.httpclient import HTTPClientError

from tests.harness import Harness, bell

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

Fetch = Callable[..., Awaitable[Any]]


async def api(fetch: Fetch, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """Call the monitor's API; errors come back as (status, body) instead of raising."""
    try:
        response = await fetch(
            "session-monitor",
            "api",
            *path.split("/"),
            method=method,
            body=None if body is None else (body if isinstance(body, bytes) else json.dumps(body)),
            allow_nonstandard_methods=True,
        )
    except HTTPClientError as error:
        body = error.response.body if error.response is not None else b""
        return error.code, json.loads(body or b"null")
    return response.code, json.loads(response.body) if response.body else None


async def until(check: Callable[[], Awaitable[Any]], within: float = 20.0) -> Any:
    """Await an observable condition through the API (the server polls on its own schedule)."""
    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s: {value!r}")
        await asyncio.sleep(0.1)


async def view(fetch: Fetch, session_id: str) -> dict[str, Any]:
    status, body = await api(fetch, "GET", f"sessions/{session_id}")
    assert status == 200, body
    result: dict[str, Any] = body
    return result


async def in_thread(function: Callable[[], Any]) -> Any:
    # The client blocks; the server under test shares this event loop.
    return await asyncio.get_running_loop().run_in_executor(None, function)


async def opened_with_a_job(
    harness: Harness, *, max_time: int | None = None, shots: int = 10
) -> Session:
    """A session the client opened on ibmq_manila that ran one job (in a thread: the client
    blocks, and the server under test shares this event loop)."""

    def open_and_run() -> Session:
        backend = harness.service().backend("ibmq_manila")
        session = Session(backend=backend, max_time=max_time)
        Sampler(mode=session).run([bell(backend)], shots=shots).result()
        return session

    result: Session = await in_thread(open_and_run)
    return result


@pytest.fixture
def harness(make_emulator: Callable[..., Harness]) -> Harness:
    # Real durations (interactive TTL 60 s) and a job of 0.1 s: a session that just ran a job is
    # still active when the test looks, however slow the machine. Tests that need a TTL to pass
    # move the service's clock (POST /emulator/clock) instead of waiting for it.
    return make_emulator(time_scale=1.0, job_seconds=0.1)


async def test_track_by_id_serves_the_session_view(
    harness: Harness, jp_fetch: Fetch, jp_serverapp: Any
) -> None:
    session = await opened_with_a_job(harness, max_time=600)

    status, tracked = await api(jp_fetch, "POST", "sessions", {"session_id": session.session_id})

    assert status == 201
    assert tracked["id"] == session.session_id
    assert tracked["source"] == "tracked" and tracked["notebook_path"] is None
    assert tracked["status"] == "In progress, accepting new jobs"
    client_details = await in_thread(session.details)  # the client's own 15 keys, read later
    served_usage = tracked["details"].pop("usage_time")
    assert served_usage <= client_details.pop("usage_time")  # usage accrues while active
    assert tracked["details"] == client_details
    first = await until(lambda: view_with_jobs(jp_fetch, session.session_id))
    assert [j["status"] for j in first["jobs"]] == ["DONE"]
    assert first["jobs"][0]["program_id"] == "sampler"
    assert first["jobs"][0]["usage_seconds"] > 0  # the billed quantum time, the job's duration
    assert first["jobs_summary"]["DONE"] == 1
    deadlines = first["deadlines"]
    assert deadlines["max_ttl_at"] is not None and deadlines["idle_close_at"] is None
    _, listing = await api(jp_fetch, "GET", "sessions")
    assert [s["id"] for s in listing["sessions"]] == [session.session_id]
    assert listing["server_time"].endswith("Z")
    await in_thread(session.close)


async def test_a_session_tracked_late_has_the_services_own_history_in_its_timeline(
    harness: Harness, jp_fetch: Fetch
) -> None:
    session = await opened_with_a_job(harness, max_time=600)
    # Opened and active before this server hears of it (#14 item 9): its timeline starts with
    # the service's own timestamps, not with "tracked now".
    status, _ = await api(jp_fetch, "POST", "sessions", {"session_id": session.session_id})
    assert status == 201

    _, full = await api(jp_fetch, "GET", f"sessions/{session.session_id}")
    stamps = full["details"]["timestamps"]
    timeline = full["timeline"]
    assert [t["at"] for t in timeline[:2]] == [s["timestamp"] for s in stamps[:2]]
    assert [t["status"] for t in timeline[:2]] == ["Pending", "In progress, accepting new jobs"]
    assert timeline[0]["at"] < full["tracked_at"]
    await in_thread(session.close)


async def test_the_interactive_ttl_passing_shows_as_inactive_with_no_deadline_left(
    harness: Harness, jp_fetch: Fetch
) -> None:
    session = await opened_with_a_job(harness)
    await api(jp_fetch, "POST", "sessions", {"session_id": session.session_id})
    active = await until(lambda: view_with_jobs(jp_fetch, session.session_id))
    assert active["deadlines"]["interactive_ttl_at"] is not None

    await in_thread(lambda: harness.admin("POST", "/emulator/clock", {"advance": 61}))
    response = await jp_fetch(
        "session-monitor", "api", "sessions", session.session_id, params={"fresh": "true"}
    )
    fresh = json.loads(response.body)

    assert fresh["details"]["state"] == "inactive" and fresh["status"] == "Pending"
    assert fresh["deadlines"]["interactive_ttl_at"] is None
    assert fresh["deadlines"]["max_ttl_at"] is not None  # the max TTL still runs
    await in_thread(session.close)


async def view_with_jobs(fetch: Fetch, session_id: str) -> dict[str, Any] | None:
    current = await view(fetch, session_id)
    return current if current["jobs"] else None


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [
        (b"{nope", 400, "bad_request"),
        ([1, 2], 400, "bad_request"),
        ({}, 400, "bad_request"),
        ({"session_id": "../etc"}, 400, "bad_request"),
        ({"session_id": "abc", "colour": "red"}, 400, "bad_request"),
        ({"session_id": "abc", "account": 7}, 400, "bad_request"),
        ({"session_id": "no-such-session"}, 404, "not_found"),
        ({"session_id": "abc", "account": "no-such-saved-account"}, 400, "account"),
    ],
)
async def test_tracking_refuses_bad_input_with_a_clear_error(
    harness: Harness, jp_fetch: Fetch, body: Any, status: int, kind: str
) -> None:
    got, answer = await api(jp_fetch, "POST", "sessions", body)

    assert got == status
    assert answer["error"]["kind"] == kind and answer["error"]["message"]
    _, listing = await api(jp_fetch, "GET", "sessions")
    assert listing["sessions"] == []  # nothing half-tracked


async def test_unknown_session_routes_are_404(harness: Harness, jp_fetch: Fetch) -> None:
    for method, path in (
        ("GET", "sessions/nope"),
        ("DELETE", "sessions/nope"),
        ("POST", "sessions/nope/close"),
        ("POST", "jobs/nope/cancel"),
    ):
        status, body = await api(jp_fetch, method, path, {} if method == "POST" else None)
        assert (status, body["error"]["kind"]) == (404, "not_found"), (method, path)


async def test_close_through_the_monitor_reaches_the_service(
    harness: Harness, jp_fetch: Fetch, jp_serverapp: Any
) -> None:
    backend = await in_thread(lambda: harness.service().backend("ibmq_manila"))
    session = await in_thread(lambda: Session(backend=backend))
    await api(jp_fetch, "POST", "sessions", {"session_id": session.session_id})

    status, _ = await api(jp_fetch, "POST", f"sessions/{session.session_id}/close", {})

    assert status == 202
    assert await in_thread(session.status) == "Closed"  # the service itself closed it
    closed = await until(
        lambda: view_if(jp_fetch, session.session_id, lambda v: v["status"] == "Closed")
    )
    assert closed["end_reason"] == "closed"
    assert closed["deadlines"] == {
        "max_ttl_at": None,
        "interactive_ttl_at": None,
        "idle_close_at": None,
    }
    again, _ = await api(jp_fetch, "POST", f"sessions/{session.session_id}/close", {})
    assert again == 202  # idempotent
    audit = jp_serverapp.web_app.settings["session_monitor"].store.actions(session.session_id)
    assert [(a["action"], a["result"]) for a in audit] == [
        ("close", "accepted"),
        ("close", "already closed"),
    ]


async def test_a_close_whose_answer_is_lost_says_the_outcome_is_unknown_and_looks(
    harness: Harness, jp_fetch: Fetch, jp_serverapp: Any
) -> None:
    backend = await in_thread(lambda: harness.service().backend("ibmq_manila"))
    session = await in_thread(lambda: Session(backend=backend))
    await api(jp_fetch, "POST", "sessions", {"session_id": session.session_id})
    # The service closes the session, then a proxy answers 502 (every retry alike).
    await in_thread(
        lambda: harness.admin(
            "POST",
            "/emulator/faults",
            {
                "kind": "status",
                "status": 502,
                "after": True,
                "route": "/sessions/[^/]+$",
                "methods": ["PATCH"],  # what a graceful close sends
            },
        )
    )

    status, body = await api(jp_fetch, "POST", f"sessions/{session.session_id}/close", {})

    assert status == 502
    assert "Nothing was changed" not in body["error"]["message"]
    assert "may or may not have closed" in body["error"]["message"]
    audit = jp_serverapp.web_app.settings["session_monitor"].store.actions(session.session_id)
    assert [(a["action"], a["result"]) for a in audit] == [("close", "unknown")]
    # It looks by itself and shows what happened.
    closed = await until(
        lambda: view_if(jp_fetch, session.session_id, lambda v: v["status"] == "Closed")
    )
    assert closed["accepting_jobs"] is False


async def test_a_refused_close_says_nothing_was_changed(harness: Harness, jp_fetch: Fetch) -> None:
    backend = await in_thread(lambda: harness.service().backend("ibmq_manila"))
    session = await in_thread(lambda: Session(backend=backend))
    await api(jp_fetch, "POST", "sessions", {"session_id": session.session_id})
    await in_thread(
        lambda: harness.admin(
            "POST",
            "/emulator/faults",
            {
                "kind": "status",
                "status": 429,
                "retry_after": 60,
                "route": "/sessions/[^/]+$",
                "methods": ["PATCH"],
            },
        )
    )

    status, body = await api(jp_fetch, "POST", f"sessions/{session.session_id}/close", {})

    assert (status, body["error"]["kind"]) == (502, "rate_limited"), body
    assert "Nothing was changed" in body["error"]["message"]
    await in_thread(lambda: harness.admin("DELETE", "/emulator/faults"))
    assert await in_thread(session.status) == "Pending"  # and indeed still open
    await in_thread(session.close)


async def view_if(
    fetch: Fetch, session_id: str, condition: Callable[[dict[str, Any]], bool]
) -> dict[str, Any] | None:
    """The view once it meets ``condition``; None before, and before the session is tracked (a
    kernel's registration reaches the server a moment after its cell printed the id)."""
    status, current = await api(fetch, "GET", f"sessions/{session_id}")
    if status == 404 and current["error"]["kind"] == "not_found":
        return None
    assert status == 200, current
    return current if condition(current) else None


async def tracked_with_queued_jobs(
    harness: Harness, fetch: Fetch, count: int
) -> tuple[Session, list[Any]]:
    """A session with ``count`` jobs submitted at once (one runs, the rest queue), tracked and
    with all its jobs listed by the monitor."""

    def submit() -> tuple[Session, list[Any]]:
        backend = harness.service().backend("ibmq_manila")
        session = Session(backend=backend)
        sampler = Sampler(mode=session)
        return session, [sampler.run([bell(backend)], shots=5) for _ in range(count)]

    session, jobs = await in_thread(submit)
    await api(fetch, "POST", "sessions", {"session_id": session.session_id})
    await until(lambda: view_if(fetch, session.session_id, lambda v: len(v["jobs"]) == count))
    return session, jobs


async def test_cancel_through_the_monitor_cancels_queued_jobs(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch
) -> None:
    harness = make_emulator(time_scale=0.02, job_seconds=100)  # a job runs 2 s

    session, jobs = await tracked_with_queued_jobs(harness, jp_fetch, 3)

    status, _ = await api(jp_fetch, "POST", f"sessions/{session.session_id}/cancel", {})

    assert status == 202
    assert [await in_thread(job.status) for job in jobs[1:]] == ["CANCELLED", "CANCELLED"]
    ended = await until(
        lambda: view_if(
            jp_fetch,
            session.session_id,
            lambda v: v["jobs_summary"]["CANCELLED"] == 2 and v["state"] == "closed",
        )
    )
    assert ended["end_reason"] == "cancelled"


async def test_cancel_one_job_then_409_when_final(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch
) -> None:
    harness = make_emulator(time_scale=0.02, job_seconds=100)

    session, jobs = await tracked_with_queued_jobs(harness, jp_fetch, 2)
    queued = jobs[1].job_id()

    status, _ = await api(jp_fetch, "POST", f"jobs/{queued}/cancel", {})
    assert status == 202
    assert await in_thread(jobs[1].status) == "CANCELLED"
    await until(
        lambda: view_if(
            jp_fetch,
            session.session_id,
            lambda v: any(j["id"] == queued and j["status"] == "CANCELLED" for j in v["jobs"]),
        )
    )
    status, body = await api(jp_fetch, "POST", f"jobs/{queued}/cancel", {})
    assert (status, body["error"]["kind"]) == (409, "conflict")
    await in_thread(session.cancel)


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ({"kind": "status", "status": 429}, "rate_limited"),
        ({"kind": "token_expiry"}, "unauthorized"),
        ({"kind": "hang"}, "timeout"),
    ],
)
async def test_failing_service_marks_stale_with_words_and_recovers(
    harness: Harness, jp_fetch: Fetch, fault: dict[str, Any], kind: str
) -> None:
    session = await in_thread(lambda: Session(backend=harness.service().backend("ibmq_manila")))
    await api(jp_fetch, "POST", "sessions", {"session_id": session.session_id})

    await in_thread(
        lambda: harness.admin("POST", "/emulator/faults", {**fault, "route": "/sessions/"})
    )
    stale = await until(lambda: view_if(jp_fetch, session.session_id, lambda v: v["stale"]))

    assert stale["error"]["kind"] == kind
    assert "Qiskit Runtime service" in stale["error"]["message"]
    assert stale["status"] == "Pending"  # the last known state is kept, marked stale
    await in_thread(lambda: harness.admin("DELETE", "/emulator/faults"))
    recovered = await until(
        lambda: view_if(jp_fetch, session.session_id, lambda v: not v["stale"]), within=30
    )
    assert recovered["error"] is None
    await in_thread(session.close)


async def test_forget_stops_tracking_without_closing(harness: Harness, jp_fetch: Fetch) -> None:
    session = await in_thread(lambda: Session(backend=harness.service().backend("ibmq_manila")))
    await api(jp_fetch, "POST", "sessions", {"session_id": session.session_id})

    status, _ = await api(jp_fetch, "DELETE", f"sessions/{session.session_id}")

    assert status == 204
    _, listing = await api(jp_fetch, "GET", "sessions")
    assert listing["sessions"] == []
    assert await in_thread(session.status) == "Pending"  # still open at the service
    await in_thread(session.close)


async def test_no_more_calls_once_closed_and_final(
    harness: Harness, jp_fetch: Fetch, jp_serverapp: Any
) -> None:
    def closed_session() -> Session:
        backend = harness.service().backend("ibmq_manila")
        with Session(backend=backend) as session:
            Sampler(mode=session).run([bell(backend)], shots=5).result()
        return session

    session = await in_thread(closed_session)
    await api(jp_fetch, "POST", "sessions", {"session_id": session.session_id})
    await until(lambda: view_with_jobs(jp_fetch, session.session_id))
    scheduler = jp_serverapp.web_app.settings["session_monitor"].engine._scheduler

    # The scheduler holds no next poll for it (the last one returned "done")...
    async def unplanned() -> bool:  # on the server's loop, where the scheduler's clock runs
        return scheduler.planned(session.session_id) is None

    await until(unplanned)
    await in_thread(lambda: harness.admin("DELETE", "/emulator/requests"))

    await asyncio.sleep(1.5)  # ...and nothing calls: three idle intervals, asserting nothing

    # The request log has no query string: a job-list call is "/jobs", so count every call to
    # the service (this is the only tracked session).
    calls = [r for r in await in_thread(harness.requests) if "/emulator/" not in r["path"]]
    assert calls == []


async def test_credentials_never_leave_the_server(
    make_emulator: Callable[..., Harness],
    jp_fetch: Fetch,
    jp_serverapp: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    canary = f"canary-{secrets.token_hex(12)}"
    harness = make_emulator(time_scale=0.02, api_key=canary)
    session = await in_thread(lambda: Session(backend=harness.service().backend("ibmq_manila")))

    _, tracked = await api(jp_fetch, "POST", "sessions", {"session_id": session.session_id})
    await api(jp_fetch, "POST", f"sessions/{session.session_id}/close", {})
    await until(lambda: view_if(jp_fetch, session.session_id, lambda v: v["state"] == "closed"))
    _, listing = await api(jp_fetch, "GET", "sessions")
    _, one = await api(jp_fetch, "GET", f"sessions/{session.session_id}")

    for answer in (tracked, listing, one):
        assert canary not in json.dumps(answer)
    assert canary not in caplog.text
    database = Path(jp_serverapp.web_app.settings["session_monitor"].store.path)
    for file in database.parent.glob(database.name + "*"):  # the database, its WAL and index
        assert canary.encode() not in file.read_bytes()


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], request: pytest.FixtureRequest
) -> dict[str, Any]:
    if request.node.get_closest_marker("patient"):
        # Long enough for the client's own retries of a 5xx (about 15 s) to run out first.
        jp_server_config["SessionMonitorApp"]["request_timeout"] = 40.0
    return jp_server_config


@pytest.mark.patient
async def test_a_persistent_5xx_marks_stale_after_the_clients_retries(
    harness: Harness, jp_fetch: Fetch
) -> None:
    session = await in_thread(lambda: Session(backend=harness.service().backend("ibmq_manila")))
    await api(jp_fetch, "POST", "sessions", {"session_id": session.session_id})
    fault = {"kind": "status", "status": 503, "route": "/sessions/", "methods": ["GET"]}
    await in_thread(lambda: harness.admin("POST", "/emulator/faults", fault))

    stale = await until(
        lambda: view_if(jp_fetch, session.session_id, lambda v: v["stale"]), within=60
    )

    assert stale["error"]["kind"] == "service_error"
    assert "503" in stale["error"]["message"]
    retried = [r for r in await in_thread(harness.requests) if r["status"] == 503]
    assert len(retried) >= 6  # the client retried before the monitor saw a failure
    await in_thread(lambda: harness.admin("DELETE", "/emulator/faults"))
    await until(lambda: view_if(jp_fetch, session.session_id, lambda v: not v["stale"]), within=30)
    await in_thread(session.close)
