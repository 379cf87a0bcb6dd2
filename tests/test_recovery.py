"""The monitor under a service that hangs, throttles or forgets its logins: actions still go
through, the words say what happened, and polling comes back promptly once the fault clears.

A real jupyter_server with the extension, the unmodified client, the emulator's faults.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from qiskit_ibm_runtime import Session

from tests.harness import Harness
from tests.test_freshness import view_when
from tests.test_monitor_api import api, in_thread, until

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

Fetch = Callable[..., Awaitable[Any]]


async def tracked_sessions(harness: Harness, fetch: Fetch, count: int) -> list[Session]:
    def open_them() -> list[Session]:
        backend = harness.service().backend("ibmq_kolkata")
        return [Session(backend=backend) for _ in range(count)]

    sessions = await in_thread(open_them)
    for session in sessions:
        status, body = await api(fetch, "POST", "sessions", {"session_id": session.session_id})
        assert status == 201, body
    return sessions


@pytest.mark.intervals(max_workers=2, request_timeout=3.0)
async def test_a_close_goes_through_while_every_poll_hangs(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch
) -> None:
    harness = make_emulator(time_scale=0.02)
    sessions = await tracked_sessions(harness, jp_fetch, 4)
    fault = {"kind": "hang", "route": "/sessions/", "methods": ["GET"]}
    await in_thread(lambda: harness.admin("POST", "/emulator/faults", fault))
    try:
        # Every poll thread is now stuck in a session GET (4 sessions, 2 threads).
        await until(
            lambda: view_when(jp_fetch, sessions[0].session_id, lambda v: v["stale"]), within=15
        )
        started = time.monotonic()

        status, body = await api(jp_fetch, "POST", f"sessions/{sessions[1].session_id}/close", {})

        assert status == 202, body
        assert time.monotonic() - started < 3.0  # its own thread: not behind the hung polls
    finally:
        await in_thread(lambda: harness.admin("DELETE", "/emulator/faults"))
    await until(
        lambda: view_when(jp_fetch, sessions[1].session_id, lambda v: v["state"] == "closed")
    )
    for session in sessions:
        await in_thread(session.close)


@pytest.mark.intervals(request_timeout=3.0, max_backoff=30.0)
async def test_a_429_with_retry_after_is_called_rate_limited_and_waited_out(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch
) -> None:
    harness = make_emulator(time_scale=0.02)
    [session] = await tracked_sessions(harness, jp_fetch, 1)
    fault = {
        "kind": "status",
        "status": 429,
        "retry_after": 2,
        "route": "/sessions/",
        "methods": ["GET"],
    }
    await in_thread(lambda: harness.admin("POST", "/emulator/faults", fault))

    limited = await until(
        lambda: view_when(jp_fetch, session.session_id, lambda v: v["stale"]), within=10
    )
    assert limited["error"]["kind"] == "rate_limited"  # not a "timeout" of a sleeping thread
    assert "asked to wait 2 s" in limited["error"]["message"]
    await in_thread(lambda: harness.admin("DELETE", "/emulator/faults"))
    cleared = time.monotonic()

    await until(lambda: view_when(jp_fetch, session.session_id, lambda v: not v["stale"]))
    # Back within the Retry-After (2 s) plus its jitter (1 s) plus a poll: not after a backoff.
    assert time.monotonic() - cleared < 2 + 1 + 1.5
    await in_thread(session.close)


@pytest.mark.intervals(request_timeout=3.0)
async def test_after_the_service_forgot_its_logins_the_monitor_logs_in_again(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch
) -> None:
    harness = make_emulator(time_scale=0.02)
    sessions = await tracked_sessions(harness, jp_fetch, 2)
    for session in sessions:
        await until(lambda s=session: view_when(jp_fetch, s.session_id, lambda v: not v["stale"]))
    polled = {
        s.session_id: (await view_when(jp_fetch, s.session_id, lambda v: True))["last_polled_at"]  # type: ignore[index]
        for s in sessions
    }

    harness.emulator.tokens.clear()  # as a restarted service: every login it gave is gone

    for session in sessions:
        fresh = await until(
            lambda s=session: view_when(
                jp_fetch,
                s.session_id,
                lambda v: not v["stale"] and v["last_polled_at"] > polled[s.session_id],
            ),
            within=10,  # before: "unauthorized" until the cached login's hour was up
        )
        assert fresh["error"] is None
    logins = [r for r in await in_thread(harness.requests) if r["path"] == "/identity/token"]
    assert logins  # it logged in again
    for session in sessions:  # the test's own client still holds the forgotten login
        assert (await api(jp_fetch, "POST", f"sessions/{session.session_id}/close", {}))[0] == 202
