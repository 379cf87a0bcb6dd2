"""The magics' side of money safety (issue #12): ``%%session --budget``, ``%session close --all``
and the billed time, budget and fit-check in ``%session status`` and ``list``.

The magics ask the Jupyter server that started their kernel (``client.ask_server``, signed with the
kernel's key), so these tests run real kernels started by a real server, the unmodified client and
the emulator with real durations; where time must pass, the emulator's clock is moved forward.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from jupyter_session_monitor.protocol.derive import parse_time
from tests.harness import Harness
from tests.kernels import NotebookKernel
from tests.test_freshness import view_when
from tests.test_money import advance
from tests.test_monitor_api import Fetch, api, in_thread, until, view, view_if

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

Open = Callable[[str], Awaitable[NotebookKernel]]

#: A Bell circuit for the backend ``backend``, as a notebook would build it.
BELL = """\
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import QiskitRuntimeService, Session, SamplerV2
service = QiskitRuntimeService()
circuit = QuantumCircuit(2); circuit.h(0); circuit.cx(0, 1); circuit.measure_all()
def isa_for(backend):
    return generate_preset_pass_manager(backend=backend, optimization_level=1).run(circuit)
"""


class Run:
    """What one cell printed, and the questions it asked through ``input()``."""

    def __init__(self, out: str, prompts: list[str]) -> None:
        self.out = out
        self.prompts = prompts
        self.lines = out.splitlines()


async def run(kernel: NotebookKernel, code: str, answers: tuple[str, ...] = ()) -> Run:
    """Execute ``code`` in the notebook's kernel, answering its ``input()`` prompts with
    ``answers`` in turn; fails on an error in the cell."""
    out: list[str] = []
    prompts: list[str] = []
    errors: list[str] = []
    pending = list(answers)

    def collect(message: dict[str, Any]) -> None:
        kind, content = message["header"]["msg_type"], message["content"]
        if kind == "stream" and content["name"] == "stdout":
            out.append(content["text"])
        elif kind == "error":
            errors.append("\n".join(content["traceback"]))

    def stdin(message: dict[str, Any]) -> None:
        prompts.append(message["content"]["prompt"])
        kernel.client.input(pending.pop(0) if pending else "")

    reply = await kernel.client.execute_interactive(
        code, output_hook=collect, stdin_hook=stdin, allow_stdin=True, timeout=120
    )
    assert reply["content"]["status"] == "ok", errors
    return Run("".join(out), prompts)


def budget_line(result: Run) -> str:
    (line,) = [x for x in result.lines if "budget" in x.lower()]
    return line


# ---------------------------------------------------------------- %%session --budget


async def test_a_cell_budget_in_time_is_set_at_the_server_before_the_cell_runs(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch, open_notebook: Open
) -> None:
    make_emulator(time_scale=1.0, job_seconds=0.1)
    kernel = await open_notebook("budget.ipynb")

    first = await run(
        kernel,
        "%%session --backend ibmq_manila --keep --budget 10m --on-budget close\n"
        "print('in the cell')",
    )

    said = re.fullmatch(
        r"Budget for session (\S+): 10m of billed time; a warning at 80 %, at 100 % the monitor "
        r"closes it \(queued jobs still run\)\.",
        first.lines[0],
    )
    assert said, first.out
    session_id = said.group(1)
    assert first.lines[1:] == ["in the cell"]  # set before the cell ran, and the cell ran
    budget = (await view(jp_fetch, session_id))["budget"]
    assert (budget["scope"], budget["seconds"], budget["action"]) == ("session", 600, "close")

    # The kept session reused: its budget replaced; a bare number is seconds, and it says so;
    # no --on-budget: notify.
    again = await run(kernel, "%%session --backend ibmq_manila --keep --budget 90\npass")
    assert budget_line(again) == (
        f"Budget for session {session_id}: 90s of billed time (a bare number is seconds; write "
        "90m for 90 minutes); a warning at 80 %, at 100 % a notification."
    )
    budget = (await view(jp_fetch, session_id))["budget"]
    assert (budget["seconds"], budget["action"]) == (90, "notify")
    await run(kernel, "%session close")


async def test_a_cell_budget_in_money_needs_the_servers_rate(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch, open_notebook: Open
) -> None:
    make_emulator(time_scale=1.0, job_seconds=0.1)
    kernel = await open_notebook("money.ipynb")
    cell = "%%session --backend ibmq_manila --keep --budget-amount 12.50 --on-budget cancel\n"

    refused = await run(kernel, cell + "print('ran anyway')")

    (line,) = [x for x in refused.lines if x.startswith("%%session:")]
    said = re.fullmatch(r"%%session: no budget set on session (\S+): (.+)\.", line)
    assert said, refused.out
    session_id, why = said.groups()
    assert why.startswith(
        "A budget in money needs a rate per billed second, and none is set"
    )  # the server's
    assert refused.lines[-1] == "ran anyway"
    assert (await view(jp_fetch, session_id))["budget"] is None

    await api(jp_fetch, "PUT", "billing", {"rate_per_second": 0.01, "currency": "EUR"})
    accepted = await run(kernel, cell + "pass")

    assert budget_line(accepted) == (
        f"Budget for session {session_id}: 12.50 EUR (about 20m 50s of billed time at the "
        "server's rate); a warning at 80 %, at 100 % the monitor cancels it (queued jobs are "
        "cancelled)."
    )
    budget = (await view(jp_fetch, session_id))["budget"]
    assert (budget["amount"], budget["seconds"], budget["action"]) == (12.5, None, "cancel")
    await run(kernel, "%session close")


# ---------------------------------------------------------------- %session close --all


async def test_close_all_asks_once_lists_the_sessions_and_closes_them_gracefully(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch, open_notebook: Open
) -> None:
    harness = make_emulator(time_scale=1.0, job_seconds=30.0)
    kernel = await open_notebook("close-all.ipynb")
    opened = await run(
        kernel,
        BELL + "manila = service.backend('ibmq_manila')\n"
        "busy = Session(backend=manila)\n"
        "jobs = [SamplerV2(mode=busy).run([isa_for(manila)]) for _ in range(3)]\n"
        "idle = Session(backend=service.backend('ibmq_kolkata'))\n"
        "print(busy.session_id, idle.session_id)\n",
    )
    busy_id, idle_id = opened.out.split()
    # The kernel reports its sessions from a background thread: 404 until they are tracked.
    await until(
        lambda: view_when(
            jp_fetch,
            busy_id,
            lambda v: v["jobs_summary"]["QUEUED"] == 2 and v["jobs_summary"]["RUNNING"] == 1,
        )
    )
    await until(lambda: view_when(jp_fetch, idle_id, lambda v: v["last_polled_at"] is not None))

    declined = await run(kernel, "%session close --all", answers=("n",))

    assert declined.prompts == ["Close these 2 sessions? [y/N] "]
    assert declined.lines[0] == "Close all: 2 open sessions tracked by the session monitor:"
    assert declined.lines[1].split() == ["id", "backend", "mode", "notebook", "jobs"]
    rows = {line.split()[0]: line.split()[1:] for line in declined.lines[2:4]}
    assert rows == {
        busy_id: ["ibmq_manila", "session", "close-all.ipynb", "2", "queued,", "1", "running"],
        idle_id: ["ibmq_kolkata", "session", "close-all.ipynb", "0", "queued,", "0", "running"],
    }
    assert (
        "Closing is graceful: the sessions accept no new jobs; queued and running jobs still "
        "run." in declined.lines
    )
    assert declined.lines[-1] == "Nothing was changed."
    state = {s["id"]: s for s in harness.admin("GET", "/emulator/state")["sessions"]}
    assert state[busy_id]["accepting_jobs"] and state[idle_id]["accepting_jobs"]
    assert (await run(kernel, "print(busy.status(), '|', idle.status())")).out.strip() == (
        "In progress, accepting new jobs | Pending"
    )

    closed = await run(kernel, "%session close --all --yes")

    assert closed.prompts == []  # --yes: no question
    (said,) = [line for line in closed.lines if line.startswith("Closed 2 sessions: ")]
    assert sorted(said.removeprefix("Closed 2 sessions: ").rstrip(".").split(", ")) == sorted(
        [busy_id, idle_id]
    )
    await advance(harness, 100)  # the queued jobs still run (30 s each), then the session ends
    finished = await run(
        kernel, "print(busy.status(), '|', idle.status(), '|', [j.status() for j in jobs])"
    )
    assert finished.out.strip() == "Closed | Closed | ['DONE', 'DONE', 'DONE']"

    for session_id in (busy_id, idle_id):
        await until(lambda i=session_id: view_if(jp_fetch, i, lambda v: v["status"] == "Closed"))
    nothing = await run(kernel, "%session close --all")
    assert nothing.prompts == []
    assert nothing.out.strip() == (
        "No open session: the session monitor tracks none, so there is nothing to close."
    )

    # One session: "this session", not "these 1 session" (#26 item 7).
    single = await run(kernel, "one = Session(backend=manila)\nprint(one.session_id)\n")
    one_id = single.out.strip()
    await until(lambda: view_when(jp_fetch, one_id, lambda v: v["last_polled_at"] is not None))
    asked = await run(kernel, "%session close --all", answers=("n",))
    assert asked.prompts == ["Close this session? [y/N] "]
    await run(kernel, "one.cancel()")


# ---------------------------------------------------------------- %session status and list


@pytest.mark.intervals(poll_busy_interval=0.5)
async def test_status_and_list_say_what_is_billed_the_budget_and_which_jobs_will_fail(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch, open_notebook: Open
) -> None:
    # Jobs of 10 s each, a max TTL of 35 s: jobs start at 0, 10, 20, 30 s; the other 6 fail.
    make_emulator(time_scale=1.0, job_seconds=10.0)
    await api(jp_fetch, "PUT", "billing", {"rate_per_second": 0.5, "currency": "USD"})
    kernel = await open_notebook("fit.ipynb")
    opened = await run(
        kernel,
        "%%session --backend ibmq_manila --max-time 35 --keep --budget 1m\n"
        + BELL
        + "sampler = SamplerV2()  # the cell's session\n"
        "jobs = [sampler.run([isa_for(sampler._backend)]) for _ in range(10)]\n"
        "print(jobs[0].session_id)\n",
    )
    session_id = opened.lines[-1]
    served = await until(
        lambda: view_if(
            jp_fetch,
            session_id,
            lambda v: len(v["jobs"]) == 10 and (v["fit"] or {}).get("expected_to_fail") == 6,
        )
    )
    max_ttl = parse_time(served["fit"]["max_ttl_at"])
    assert max_ttl is not None
    hh_mm = max_ttl.astimezone().strftime("%H:%M")

    status = await run(kernel, "%session status")

    head, billed, budget, fit = status.lines
    assert head.startswith(f"Session {session_id} on ibmq_manila: In progress, accepting new jobs")
    assert re.fullmatch(
        r"  billed \d+s so far( \(of which \d+s idle\))?, \d+\.\d\d USD; up to 3[45]s "
        r"\(1[67]\.\d\d USD\) if left open "
        r"until max TTL",
        billed,
    ), billed
    assert re.fullmatch(
        r"  budget 1m of billed time: \d+ % used; a warning at 80 %, at 100 % a notification",
        budget,
    ), budget
    assert re.fullmatch(
        rf"  ≈ 6 of [789] queued jobs will not start before max TTL \({hh_mm}\) and will fail",
        fit,
    ), fit

    listing = await run(kernel, "%session list")

    header, row, note, footer = listing.lines
    assert header.split() == ["id", "backend", "mode", "status", "jobs", "next", "billed", "budget"]
    assert re.search(r"max TTL in \d+s +\d+s, \d+\.\d\d USD +\d+ % of 1m$", row), row
    assert re.fullmatch(
        rf"{session_id}: ≈ 6 of [789] queued jobs will not start before max TTL \({hh_mm}\) "
        "and will fail",
        note,
    ), note
    assert footer.startswith("* the default")
    assert (await view(jp_fetch, session_id))["budget"]["seconds"] == 60  # --budget 1m
    await run(kernel, "%session cancel --yes")


@pytest.mark.intervals(poll_busy_interval=60.0, poll_active_interval=60.0, poll_idle_interval=60.0)
async def test_status_counts_and_the_fit_figure_come_from_one_read(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch, open_notebook: Open
) -> None:
    # #26 item 5: "jobs: 75 queued" on one line, "≈ 32 of 67 queued jobs" on the next: the
    # counts were the kernel's own read, the fit figure the server's earlier one. Jobs of 10 s,
    # a max TTL of 35 s; polls a minute apart, and 5 jobs submitted from elsewhere that no
    # kernel reports: only a read made for the magic sees them.
    harness = make_emulator(time_scale=1.0, job_seconds=10.0)
    kernel = await open_notebook("one-read.ipynb")
    opened = await run(
        kernel,
        "%%session --backend ibmq_manila --max-time 35 --keep\n" + BELL + "sampler = SamplerV2()\n"
        "jobs = [sampler.run([isa_for(sampler._backend)]) for _ in range(10)]\n"
        "print(jobs[0].session_id)\n",
    )
    session_id = opened.lines[-1]
    await until(lambda: view_if(jp_fetch, session_id, lambda v: len(v["jobs"]) == 10))

    def from_elsewhere() -> None:
        from qiskit_ibm_runtime import SamplerV2, Session

        from tests.harness import bell

        service = harness.service()
        session = Session.from_id(session_id, service)
        sampler = SamplerV2(mode=session)
        for _ in range(5):
            sampler.run([bell(service.backend("ibmq_manila"))])

    await in_thread(from_elsewhere)

    head, *_, fit = (await run(kernel, "%session status")).lines
    counted = re.search(r"jobs: (\d+) queued, (\d+) running", head)
    figure = re.search(r"≈ \d+ of (\d+) queued jobs will not start", fit)
    assert counted and figure, (head, fit)
    assert int(counted.group(1)) + int(counted.group(2)) == 15, head  # the 5 included
    assert figure.group(1) == counted.group(1), (head, fit)
    await run(kernel, "%session cancel --yes")
