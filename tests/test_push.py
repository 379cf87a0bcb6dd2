"""Changes reach browsers on the server's event stream, with a version to detect gaps."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from qiskit_ibm_runtime import Session

from tests.harness import Harness
from tests.test_monitor_api import api, in_thread

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

Fetch = Callable[..., Awaitable[Any]]
SCHEMA = "https://events.jupyter.org/jupyter_session_monitor/session_changes/v1"


async def next_change(socket: Any, within: float = 20.0) -> dict[str, Any]:
    """The next session-monitor event on the stream (other events, e.g. kernel actions, skipped)."""
    async with asyncio.timeout(within):
        while True:
            message = json.loads(await socket.read_message())
            if message.get("schema_id") == SCHEMA:
                return message


async def test_changes_are_pushed_with_increasing_versions(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch, jp_ws_fetch: Any
) -> None:
    harness = make_emulator(time_scale=0.02)
    socket = await jp_ws_fetch("api", "events", "subscribe")
    session = await in_thread(lambda: Session(backend=harness.service().backend("ibmq_manila")))

    await api(jp_fetch, "POST", "sessions", {"session_id": session.session_id})
    added = await next_change(socket)
    await api(jp_fetch, "POST", f"sessions/{session.session_id}/close", {})
    closed = added
    while closed["session"] is None or closed["session"]["state"] != "closed":
        closed = await next_change(socket)
    await api(jp_fetch, "DELETE", f"sessions/{session.session_id}")
    removed = closed
    while removed["kind"] != "removed":
        removed = await next_change(socket)

    assert (added["kind"], added["session_id"]) == ("added", session.session_id)
    assert added["session"]["id"] == session.session_id
    assert closed["session"]["end_reason"] == "closed"
    assert added["version"] < closed["version"] < removed["version"]
    assert removed["session"] is None
    _, snapshot = await api(jp_fetch, "GET", "sessions")
    assert snapshot["version"] == removed["version"]  # a client can tell it is up to date
    socket.close()
