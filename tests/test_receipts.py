"""Receipts, history export, the timeline's job times and per-cell attribution, against the
emulator with the unmodified client, a real Jupyter server and a real kernel."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from qiskit_ibm_runtime import SamplerV2 as Sampler
from qiskit_ibm_runtime import Session

from jupyter_session_monitor.domain import receipts
from tests.harness import Harness, bell
from tests.kernels import NotebookKernel
from tests.test_monitor_api import Fetch, api, in_thread, until, view_if

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


async def closed_with_tagged_jobs(harness: Harness, fetch: Fetch) -> tuple[Session, list[Any]]:
    def run() -> tuple[Session, list[Any]]:
        backend = harness.service().backend("ibmq_manila")
        session = Session(backend=backend)
        jobs = []
        for tag in ("opt-a", "opt-a", "<b>opt|b</b>"):
            sampler = Sampler(mode=session)
            sampler.options.environment.job_tags = [tag]
            jobs.append(sampler.run([bell(backend)], shots=5))
        for job in jobs:
            job.result()
        session.close()
        return session, jobs

    session, jobs = await in_thread(run)
    await api(fetch, "POST", "sessions", {"session_id": session.session_id})
    await until(
        lambda: view_if(
            fetch,
            session.session_id,
            lambda v: v["status"] == "Closed" and v["jobs_summary"]["DONE"] == 3,
        )
    )
    return session, jobs


async def test_a_receipt_says_what_the_session_cost_by_tag(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch
) -> None:
    harness = make_emulator(time_scale=1.0, job_seconds=0.5)
    await api(jp_fetch, "PUT", "billing", {"rate_per_second": 2.0, "currency": "EUR"})
    session, _ = await closed_with_tagged_jobs(harness, jp_fetch)

    status, answer = await api(jp_fetch, "GET", f"sessions/{session.session_id}/receipt")

    assert status == 200
    data = answer["receipt"]
    billed = await in_thread(session.usage)  # what the service billed
    assert data["final"] is True and data["end_reason"] == "closed"
    assert data["billed_seconds"] == pytest.approx(billed, abs=0.01)
    assert data["cost"] == pytest.approx(2.0 * billed, abs=0.02)
    assert data["jobs"]["DONE"] == 3
    by_tag = {entry["tag"]: entry for entry in data["per_tag"]}
    assert by_tag["opt-a"]["jobs"] == 2
    assert by_tag["opt-a"]["quantum_seconds"] == pytest.approx(1.0, abs=0.01)  # 2 x 0.5 s
    assert re.search(rf"Session +{session.session_id}\n", answer["text"])
    assert "EUR at 2.00 per billed second" in answer["text"]
    # A user's tag is text in the Markdown: no HTML, no broken table.
    assert "<b>" not in answer["markdown"]
    assert (
        "\\<b\\>opt\\|b\\<\\/b\\>" in answer["markdown"]
        or "\\<b\\>opt\\|b\\</b\\>" in (answer["markdown"])
    )


async def test_the_history_exports_every_session_as_csv_and_json(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch
) -> None:
    harness = make_emulator(time_scale=1.0, job_seconds=0.5)
    session, _ = await closed_with_tagged_jobs(harness, jp_fetch)

    response = await jp_fetch("session-monitor", "api", "history", params={"format": "csv"})

    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.body.decode())))
    assert [r["session_id"] for r in rows] == [session.session_id]
    assert rows[0]["jobs_done"] == "3" and rows[0]["end_reason"] == "closed"
    billed = await in_thread(session.usage)
    assert float(rows[0]["billed_seconds"]) == pytest.approx(billed, abs=0.01)
    later = await jp_fetch(
        "session-monitor", "api", "history", params={"since": "2999-01-01T00:00:00Z"}
    )
    assert json.loads(later.body) == {"sessions": []}


def test_a_csv_cell_never_runs_as_a_spreadsheet_formula() -> None:
    row = {column: None for column in receipts.HISTORY_COLUMNS}
    row.update(session_id="s1", notebook_path="=HYPERLINK(1)")
    text = receipts.history_csv([row])
    assert "'=HYPERLINK(1)" in text


async def test_the_timeline_reads_each_jobs_times_once(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch
) -> None:
    harness = make_emulator(time_scale=1.0, job_seconds=0.5)
    session, jobs = await closed_with_tagged_jobs(harness, jp_fetch)
    await in_thread(lambda: harness.admin("DELETE", "/emulator/requests"))

    status, first = await api(jp_fetch, "GET", f"sessions/{session.session_id}/timeline")
    status_again, again = await api(jp_fetch, "GET", f"sessions/{session.session_id}/timeline")

    assert (status, status_again) == (200, 200)
    for job in jobs:
        metrics = await in_thread(job.metrics)
        listed = next(j for j in first["jobs"] if j["id"] == job.job_id())
        assert listed["started"] == metrics["timestamps"]["running"]
        assert listed["finished"] == metrics["timestamps"]["finished"]
    assert again["jobs"] == first["jobs"]
    reads = [
        r
        for r in await in_thread(harness.requests)
        if r["path"].endswith("/metrics") and r["method"] == "GET"
    ]
    # Our own three job.metrics() calls, and the monitor's three (once, not twice).
    assert len(reads) == 6, reads
    assert [t["state"] for t in first["timeline"]][-1] == "closed"


async def test_the_cell_that_opened_a_session_and_submitted_each_job(
    make_emulator: Callable[..., Harness],
    jp_fetch: Fetch,
    open_notebook: Callable[[str], Awaitable[NotebookKernel]],
) -> None:
    make_emulator(time_scale=1.0, job_seconds=0.2)
    kernel = await open_notebook("cells.ipynb")
    await kernel.run(
        "from qiskit_ibm_runtime import QiskitRuntimeService, Session, SamplerV2\n"
        "from tests.harness import bell\n"
        "backend = QiskitRuntimeService().backend('ibmq_manila')\n",
        cell_id="setup-cell",
    )
    stdout, _ = await kernel.run(
        "session = Session(backend=backend)\nprint(session.session_id)\n",
        cell_id="open-cell",
    )
    session_id = stdout.strip()
    opened_in = kernel.execution_count
    stdout, _ = await kernel.run(
        "job = SamplerV2(mode=session).run([bell(backend)], shots=5)\nprint(job.job_id())\n",
        cell_id="submit-cell",
    )
    job_id = stdout.strip()
    submitted_in = kernel.execution_count

    async def attributed() -> dict[str, Any] | None:
        status, view = await api(jp_fetch, "GET", f"sessions/{session_id}")
        if status != 200:  # not registered yet
            return None
        found = any(j["id"] == job_id and j["cell"] for j in view["jobs"])
        return view if found and view["cell"] else None

    view = await until(attributed)

    # The notebook's "In [n]" of each cell, as the kernel's reply numbered it.
    assert view["cell"] == {"id": "open-cell", "execution_count": opened_in}
    job = next(j for j in view["jobs"] if j["id"] == job_id)
    assert job["cell"] == {"id": "submit-cell", "execution_count": submitted_in}
    await kernel.run("session.cancel()")


def test_a_receipt_is_final_only_once_no_job_of_it_is_queued_or_running() -> None:
    # #25 item 13: a session closed while its job still runs (a batch is billed for it) was
    # given a final receipt.
    view: dict[str, Any] = {
        "id": "s1",
        "state": "closed",
        "jobs_summary": {"QUEUED": 0, "RUNNING": 1, "DONE": 3, "ERROR": 0, "CANCELLED": 0},
        "billing": {"billed_seconds": 12.0},
    }
    assert receipts.receipt(view)["final"] is False
    view["jobs_summary"] = {**view["jobs_summary"], "RUNNING": 0, "DONE": 4}
    assert receipts.receipt(view)["final"] is True
    assert receipts.receipt({**view, "state": "active"})["final"] is False
