"""The request schemas refuse what the API refused before they replaced the hand-written
validators, with the same kind and a sentence that names the field (#29), and let through what
the sidebar, the magics and the kernel hook send.

Unit tests of one module; the routes that use it are driven over HTTP in test_bad_input.py,
test_monitor_api.py and test_openapi.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from jupyter_session_monitor.domain.errors import MonitorError
from jupyter_session_monitor.server import requests

RUN = {"notebook": "/home/me/run.ipynb", "runner": "papermill", "pid": 4242}


@pytest.mark.parametrize(
    ("schema", "body", "says"),
    [
        (requests.TRACK, {}, "'session_id' must be a Qiskit Runtime id"),
        (requests.TRACK, {"session_id": "abc\n"}, "'session_id' must be a Qiskit Runtime id"),
        (requests.TRACK, {"session_id": "../etc"}, "'session_id' must be"),
        (requests.TRACK, {"session_id": "x" * 129}, "'session_id' must be"),
        (
            requests.TRACK,
            {"session_id": "abc", "colour": "red"},
            "Unknown field(s): colour. Allowed: account, session_id.",
        ),
        (requests.TRACK, {"session_id": "abc", "account": 7}, "'account' must be"),
        (requests.TRACK, {"session_id": "abc", "account": "  "}, "'account' must be"),
        (requests.BUDGET, {}, "Give exactly one of 'seconds'"),
        (requests.BUDGET, {"seconds": 5, "amount": 3}, "Give exactly one of 'seconds'"),
        (requests.BUDGET, {"seconds": -1}, "'seconds' must be a positive number."),
        (requests.BUDGET, {"amount": 0}, "'amount' must be a positive number."),
        (requests.BUDGET, {"seconds": True}, "'seconds' must be a positive number."),
        (requests.BUDGET, {"seconds": 5, "action": "explode"}, "'action' must be one of"),
        (requests.BUDGET, {"seconds": 5, "threshold": 0}, "'threshold' must be a share"),
        (requests.BUDGET, {"seconds": 5, "threshold": 1.5}, "'threshold' must be a share"),
        (requests.BUDGET, {"seconds": 5, "notebook_path": "a.ipynb"}, "Unknown field(s)"),
        (requests.NOTEBOOK_BUDGET, {"seconds": 5}, "'notebook_path' must be a notebook's path"),
        (requests.NOTEBOOK_BUDGET, {"seconds": 5, "notebook_path": " "}, "'notebook_path'"),
        (requests.RATE, {"rate_per_second": -1}, "'rate_per_second' must be a non-negative"),
        (requests.RATE, {"rate_per_second": "1"}, "'rate_per_second' must be a non-negative"),
        (requests.RATE, {"currency": "DOLLARS-US"}, "'currency' must be a short label"),
        (requests.RATE, {"currency": " "}, "'currency' must be a short label"),
        (requests.CLOSE_ALL, {"action": "destroy"}, "'action' must be 'close' or 'cancel'."),
        (requests.CLOSE_ALL, {"session_ids": "all"}, "'session_ids' must be a list"),
        (requests.CLOSE_ALL, {"session_ids": ["a b"]}, "'session_ids' must be a Qiskit Runtime"),
        (requests.REGISTRATION, {"session_id": "s", "run": "x"}, "'run' must be an object"),
        (
            requests.REGISTRATION,
            {"session_id": "s", "run": {**RUN, "notebook": "r.ipynb"}},
            "'run.notebook'",
        ),
        (requests.REGISTRATION, {"session_id": "s", "run": {**RUN, "pid": True}}, "'run.pid'"),
        (requests.REGISTRATION, {"session_id": "s", "run": {**RUN, "pid": 5.0}}, "'run.pid'"),
        (requests.REGISTRATION, {"session_id": "s", "run": {"pid": 5}}, "'run.notebook'"),
        (requests.REGISTRATION, {"session_id": "s", "account": 3}, "'account' must be an object"),
        (requests.REGISTRATION, {"session_id": "s", "account": {"url": 3}}, "'account.url'"),
        (requests.REGISTRATION, {"session_id": "s", "token": 3}, "'token' must be a string"),
        (requests.REGISTRATION, {"session_id": "s", "cell": 4}, "A cell is {'id'"),
        (requests.REGISTRATION, {"session_id": "s", "cell": {"id": 3}}, "A cell's 'id'"),
        (
            requests.REGISTRATION,
            {"session_id": "s", "cell": {"execution_count": 1.5}},
            "A cell's 'execution_count'",
        ),
        (
            requests.REGISTRATION,
            {"session_id": "s", "job_cells": {"not an id": {"id": "c"}}},
            "'job_cells' must be a Qiskit Runtime id",
        ),
        (
            requests.REGISTRATION,
            {"session_id": "s", "job_cells": {"{j}": {"id": 3}}},
            "'job_cells' must be a Qiskit Runtime id",
        ),
        (requests.KERNEL_REQUEST, {"op": "views"}, "'kernel_id' is required"),
        (requests.KERNEL_REQUEST, {"kernel_id": "", "op": "views"}, "'kernel_id' is required"),
        (requests.KERNEL_REQUEST, {"kernel_id": "k", "op": "nope"}, "'op' must be one of"),
        (requests.KERNEL_REQUEST, {"kernel_id": "k", "op": "views"}, "'session_ids' must be"),
        (
            requests.KERNEL_REQUEST,
            {"kernel_id": "k", "op": "views", "session_ids": [], "fresh": "yes"},
            "'fresh' must be true or false.",
        ),
        (
            requests.KERNEL_REQUEST,
            {"kernel_id": "k", "op": "set_budget", "session_id": "s"},
            "Give exactly one of 'seconds'",
        ),
        (
            requests.KERNEL_REQUEST,
            {"kernel_id": "k", "op": "set_budget", "session_id": "s", "seconds": 5, "to": 1},
            "Unknown field(s): to. Allowed: action, amount, kernel_id, op, seconds, session_id, "
            "threshold.",
        ),
        (
            requests.KERNEL_REQUEST,
            {"kernel_id": "k", "op": "close_all", "action": "destroy"},
            "'action' must be 'close' or 'cancel'.",
        ),
    ],
)
def test_a_bad_body_is_a_bad_request_that_names_the_field(
    schema: requests.Schema, body: dict[str, Any], says: str
) -> None:
    with pytest.raises(MonitorError) as refused:
        requests.check(schema, body)

    assert (refused.value.status, refused.value.kind) == (400, "bad_request")
    assert says in refused.value.message


@pytest.mark.parametrize(
    ("schema", "body"),
    [
        (requests.TRACK, {"session_id": "cu7a3b:2026-12-07.x_1"}),
        (requests.TRACK, {"session_id": "s", "account": None}),
        (requests.BUDGET, {"seconds": 600, "action": "close", "threshold": 0.9}),
        (requests.BUDGET, {"amount": 12.5, "seconds": None}),
        (requests.NOTEBOOK_BUDGET, {"amount": 3, "notebook_path": "work/vqe.ipynb"}),
        (requests.RATE, {"rate_per_second": None, "currency": None}),
        (requests.RATE, {"rate_per_second": 1.6, "currency": "USD"}),
        (requests.CLOSE_ALL, {}),
        (requests.CLOSE_ALL, {"action": "cancel", "session_ids": ["a", "b"]}),
        # What the kernel hook sends, fields the server ignores included.
        (
            requests.REGISTRATION,
            {
                "kernel_id": "",
                "session_id": "s",
                "mode": "batch",
                "backend": "ibm_fez",
                "account": {"name": None, "channel": "ibm_cloud", "instance": None, "url": "u"},
                "token": "t",
                "cell": {"id": None, "execution_count": 3},
                "job_cells": {"j1": {"id": "c1", "execution_count": None}, "j2": None},
                "run": RUN,
            },
        ),
        (requests.KERNEL_REQUEST, {"kernel_id": "k", "op": "views", "session_ids": ["?"]}),
        (
            requests.KERNEL_REQUEST,
            {"kernel_id": "k", "op": "set_budget", "session_id": "s", "amount": 2},
        ),
        (requests.KERNEL_REQUEST, {"kernel_id": "k", "op": "close_all", "dry_run": True}),
    ],
)
def test_what_the_clients_send_is_accepted_as_sent(
    schema: requests.Schema, body: dict[str, Any]
) -> None:
    assert requests.check(schema, body) == body


def test_a_budget_spec_has_its_defaults() -> None:
    assert requests.budget_spec({"seconds": 60}) == {
        "seconds": 60.0,
        "amount": None,
        "action": "notify",
        "threshold": 0.8,
    }
