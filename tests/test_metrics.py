"""Prometheus metrics on jupyter_server's own /metrics (#13): what a hub admin scrapes. A real
server with the extension, the unmodified client, the emulator and its faults."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.harness import Harness
from tests.test_monitor_api import api, in_thread, opened_with_a_job, until

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

Fetch = Callable[..., Awaitable[Any]]


async def scrape(fetch: Fetch) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, by name and labels."""
    response = await fetch("metrics", method="GET")
    samples = {}
    for family in text_string_to_metric_families(response.body.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_count_sessions_polls_failures_api_latency_and_budget_actions(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch, jp_ws_fetch: Any
) -> None:
    harness = make_emulator(time_scale=1.0, job_seconds=0.1)
    before = await scrape(jp_fetch)

    session = await opened_with_a_job(harness, max_time=600)
    status, _ = await api(jp_fetch, "POST", "sessions", {"session_id": session.session_id})
    assert status == 201

    async def polled() -> dict[Any, float] | None:
        now = await scrape(jp_fetch)
        polls = value(now, "qiskit_session_monitor_polls_total", outcome="ok")
        return (
            now
            if polls > value(before, "qiskit_session_monitor_polls_total", outcome="ok")
            else None
        )

    now = await until(polled)
    assert value(now, "qiskit_session_monitor_sessions", state="open") == 1
    assert value(now, "qiskit_session_monitor_tracked_sessions") == 1
    # A browser's push channel: a socket on the server's event bus.
    assert value(now, "qiskit_session_monitor_push_subscribers") == 0
    socket = await jp_ws_fetch("api", "events", "subscribe")
    subscribed = await scrape(jp_fetch)
    assert value(subscribed, "qiskit_session_monitor_push_subscribers") == 1
    socket.close()
    calls = "qiskit_session_monitor_runtime_api_seconds_count"
    assert value(now, calls, call="session", outcome="ok") > value(
        before, calls, call="session", outcome="ok"
    )

    # A service answering 429: the polls' failures are counted by kind, and so are the calls.
    fault = {"kind": "status", "status": 429, "route": "/sessions/", "methods": ["GET"]}
    await in_thread(lambda: harness.admin("POST", "/emulator/faults", fault))

    async def failed() -> dict[Any, float] | None:
        now = await scrape(jp_fetch)
        count = value(now, "qiskit_session_monitor_polls_total", outcome="rate_limited")
        baseline = value(before, "qiskit_session_monitor_polls_total", outcome="rate_limited")
        return now if count > baseline else None

    now = await until(failed, within=30)
    assert value(now, calls, call="session", outcome="rate_limited") > 0
    await in_thread(lambda: harness.admin("DELETE", "/emulator/faults"))

    # A budget that closes the session is counted as a budget action.
    status, body = await api(
        jp_fetch,
        "PUT",
        f"sessions/{session.session_id}/budget",
        {"seconds": 0.05, "action": "close"},
    )
    assert status == 200, body

    async def acted() -> dict[Any, float] | None:
        now = await scrape(jp_fetch)
        name = "qiskit_session_monitor_budget_actions_total"
        return (
            now
            if value(now, name, action="close", outcome="ok")
            > value(before, name, action="close", outcome="ok")
            else None
        )

    now = await until(acted, within=30)
    closed = await until(lambda: _closed(jp_fetch, session.session_id), within=30)
    assert closed


async def _closed(fetch: Fetch, session_id: str) -> bool:
    _, body = await api(fetch, "GET", f"sessions/{session_id}")
    return bool(body["state"] == "closed")
