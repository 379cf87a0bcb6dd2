"""Status, details, deadlines and end reasons derived from the service's answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jupyter_session_monitor.protocol import derive

CASES = json.loads((Path(__file__).parent / "cases" / "deadlines.json").read_text())["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_deadlines_table(case: dict[str, Any]) -> None:
    result = derive.deadlines(
        case["body"],
        pending_jobs=case["pending_jobs"],
        any_job=case["any_job"],
        no_job_close_seconds=case["no_job_close_seconds"],
    )

    assert result.as_json() == case["expected"]


@pytest.mark.parametrize(
    ("state", "accepting", "status"),
    [
        ("open", True, "Pending"),
        ("inactive", True, "Pending"),
        ("active", True, "In progress, accepting new jobs"),
        ("pending_inactive", False, "In progress, accepting new jobs"),
        ("active", False, "In progress, not accepting new jobs"),
        ("pending_closed", True, "In progress, not accepting new jobs"),
        ("closed", False, "Closed"),
    ],
)
def test_status_is_worded_like_session_status(state: str, accepting: bool, status: str) -> None:
    assert derive.status_of(state, accepting) == status


def test_status_matches_the_client_for_every_state() -> None:
    # The client's own mapping is the reference: compare on every state the service has.
    from unittest.mock import patch

    from qiskit_ibm_runtime import Session

    for state in ("open", "active", "inactive", "pending_inactive", "pending_closed", "closed"):
        for accepting in (True, False):
            session = Session.__new__(Session)
            body = {"state": state, "accepting_jobs": accepting}
            with patch.object(Session, "details", return_value=body):
                assert derive.status_of(state, accepting) == session.status()


def test_details_have_the_clients_fifteen_keys() -> None:
    body = {field: f"v-{field}" for field in derive.DETAILS_KEYS} | {
        "state_reason": "x",
        "user_id": "u",
    }

    details = derive.details_of(body)

    assert len(details) == 15
    assert details["max_time"] == "v-max_ttl"
    assert details["interactive_timeout"] == "v-interactive_ttl"
    assert details["usage_time"] == "v-elapsed_time"
    assert "state_reason" not in details


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ({"state": {"status": "Queued"}}, "QUEUED"),
        ({"state": {"status": "Running"}}, "RUNNING"),
        ({"state": {"status": "Completed"}}, "DONE"),
        ({"state": {"status": "Failed", "reason": "bad"}}, "ERROR"),
        ({"state": {"status": "Cancelled"}}, "CANCELLED"),
        ({"state": {"status": "Cancelled", "reason_code": 1305}}, "ERROR"),
        ({"status": "Completed"}, "DONE"),
    ],
)
def test_job_status_is_worded_like_job_status(raw: dict[str, Any], status: str) -> None:
    assert derive.job_status(raw) == status


CLOSED = {
    "state": "closed",
    "accepting_jobs": False,
    "max_ttl": 100,
    "timestamps": [{"status": "open", "timestamp": "2026-01-01T12:00:00Z"}],
}


@pytest.mark.parametrize(
    ("body", "action", "reason"),
    [
        ({**CLOSED, "state": "active", "accepting_jobs": True}, None, None),
        (
            {**CLOSED, "started_at": "2026-01-01T12:00:10Z", "closed_at": "2026-01-01T12:00:20Z"},
            "cancel",
            "cancelled",
        ),
        (
            {**CLOSED, "started_at": "2026-01-01T12:00:10Z", "closed_at": "2026-01-01T12:00:20Z"},
            "close",
            "closed",
        ),
        (
            {**CLOSED, "started_at": "2026-01-01T12:00:10Z", "closed_at": "2026-01-01T12:01:50Z"},
            None,
            "max_ttl",
        ),
        ({**CLOSED, "started_at": None, "closed_at": "2026-01-01T12:30:00Z"}, None, "idle_timeout"),
        (
            {
                **CLOSED,
                "started_at": "2026-01-01T12:00:10Z",
                "closed_at": "2026-01-01T12:00:20Z",
                "state_reason": "Session was cancelled by the user.",
            },
            None,
            "cancelled",
        ),
        (
            {
                **CLOSED,
                "started_at": "2026-01-01T12:00:10Z",
                "closed_at": "2026-01-01T12:00:20Z",
                "state_reason": "Session was closed by the user.",
            },
            None,
            "closed",
        ),
        (
            {
                **CLOSED,
                "accepting_jobs": None,
                "started_at": "2026-01-01T12:00:10Z",
                "closed_at": "2026-01-01T12:00:20Z",
            },
            None,
            "unknown",
        ),
    ],
)
def test_end_reason(body: dict[str, Any], action: str | None, reason: str | None) -> None:
    assert derive.end_reason(body, action=action, no_job_close_seconds=1800) == reason
