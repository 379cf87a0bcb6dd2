"""%%session / %session and duration parsing: bad input in words, and the real client against the
emulator through a real IPython shell."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from jupyter_session_monitor.kernel import hook
from jupyter_session_monitor.kernel.durations import (
    ACCEPTED,
    DurationError,
    format_duration,
    parse_duration,
)
from jupyter_session_monitor.kernel.magics import SessionMagics
from tests.harness import Harness, wait_until


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (1500, 1500),
        ("1500", 1500),
        ("25", 25),  # plain digits are seconds, as in the client
        ("25m", 1500),
        ("1h30m", 5400),
        ("2h 10m 20s", 7820),
        ("1d", 86400),
        (" 45S ", 45),
    ],
)
def test_durations_accept_what_qiskit_accepts(value: str | int, seconds: int) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["5 minutes", "1.5h", "m25", "", "0", "-5m", "0m", True])
def test_anything_else_is_a_clear_error_naming_the_accepted_forms(value: Any) -> None:
    with pytest.raises(DurationError) as error:
        parse_duration(value)
    assert ACCEPTED in str(error.value)


@pytest.mark.parametrize(
    ("value", "suggestion"), [("5 minutes", "5m"), ("2 hours", "2h"), ("90 secs", "90s")]
)
def test_a_number_and_a_unit_word_suggest_the_short_form(value: str, suggestion: str) -> None:
    with pytest.raises(DurationError) as error:
        parse_duration(value)
    assert f"write {suggestion}" in str(error.value)
    assert ACCEPTED in str(error.value)


@pytest.mark.parametrize(
    ("seconds", "largest", "text"),
    [
        (5400, "d", "1h 30m"),
        (90061, "d", "1d 1h 1m 1s"),
        (28800, "m", "480m"),
        (28800, "s", "28800s"),
        (575.9, "d", "9m 35s"),  # countdowns round down
        (-3, "d", "0s"),
    ],
)
def test_durations_are_written_as_the_parser_reads_them(
    seconds: float, largest: str, text: str
) -> None:
    assert format_duration(seconds, largest) == text
    if seconds >= 1:
        assert parse_duration(text) == int(seconds)


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    ipython = InteractiveShell.instance()
    ipython.register_magics(SessionMagics)
    yield ipython
    InteractiveShell.clear_instance()


@pytest.fixture
def kernel_sessions(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process as a kernel: the hook installed (reporting to no server), its list fresh."""
    monkeypatch.delenv(hook.ENV_URL, raising=False)
    monkeypatch.delenv(hook.ENV_SECRET, raising=False)
    hook.install()
    hook._opened.clear()
    yield
    hook._opened.clear()
    hook.uninstall()  # later tests in this process open sessions as plain scripts


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("", "name a backend with --backend NAME, or pass --least-busy"),
        ("--backend a --least-busy", "one of them"),
        ("--backend ibm_torino --max-time 5minutes", ACCEPTED),
        ("--backend ibm_torino --colour red", "unknown option '--colour'"),
        ("--backend ibm_torino --max-time 5 minutes", "write --max-time 5m"),
        ("--backend ibm_torino --max-time=2 Hours --keep", "write --max-time 2h"),
        ("--backend ibm_torino --max-time '5 minutes'", "write 5m"),
        ("--backend", "--backend needs a value"),
        ("--backend 'ibm", "No closing quotation"),
        ("--backend ibm_torino --budget 10 minutes", "write --budget 10m"),
        ("--backend ibm_torino --budget 1.5h", ACCEPTED),
        ("--backend ibm_torino --budget-amount 12EUR", "'12EUR' is not an amount"),
        ("--backend ibm_torino --budget-amount -3", "is not an amount"),
        ("--backend ibm_torino --budget 10m --budget-amount 3", "not both"),
        ("--backend ibm_torino --on-budget close", "add --budget DURATION or --budget-amount"),
        ("--backend ibm_torino --budget 10m --on-budget stop", "'stop' is not an action"),
        ("--backend ibm_torino --budget", "--budget needs a value"),
    ],
)
def test_cell_magic_refuses_bad_options_in_one_line(
    shell: InteractiveShell, line: str, words: str
) -> None:
    with pytest.raises(UsageError) as error:
        shell.run_cell_magic("session", line, "print('never runs')")
    assert words in str(error.value)


def _state(emulator: Harness, session_id: str) -> dict[str, Any]:
    sessions = emulator.admin("GET", "/emulator/state")["sessions"]
    return next(s for s in sessions if s["id"] == session_id)


CELL = """\
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import SamplerV2
circuit = QuantumCircuit(2); circuit.h(0); circuit.cx(0, 1); circuit.measure_all()
sampler = SamplerV2()  # no mode: the %%session's session, as inside `with Session(...)`
backend = sampler._backend
isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(circuit)
job = sampler.run([isa])
counts = job.result()[0].data.meas.get_counts()
"""


def test_cell_runs_in_a_session_which_closes_when_the_cell_ends(
    shell: InteractiveShell,
    emulator: Harness,
    kernel_sessions: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shell.run_cell_magic("session", "--backend ibmq_manila --max-time 25m --tags vqe,step-1", CELL)

    (session,) = hook.opened_sessions()
    assert shell.user_ns["job"].session_id == session.session_id
    assert set(shell.user_ns["counts"]) <= {"00", "11"}
    body = _state(emulator, session.session_id)
    assert body["accepting_jobs"] is False  # closed when the cell ended
    assert body["max_ttl"] == pytest.approx(1500 * 0.02)  # 25m, scaled by the emulator
    assert set(shell.user_ns["job"].tags) == {"vqe", "step-1"}
    out = capsys.readouterr().out
    assert f"Closed session {session.session_id}" in out
    assert f"Qiskit Runtime session {session.session_id} (ibmq_manila, session)" in out


def test_keep_reuses_the_open_session_and_says_so(
    shell: InteractiveShell,
    emulator: Harness,
    kernel_sessions: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shell.run_cell_magic("session", "--backend ibmq_manila --keep", CELL)
    first = shell.user_ns["job"].session_id
    assert _state(emulator, first)["accepting_jobs"] is True  # kept open

    shell.run_cell_magic("session", "--backend ibmq_manila --keep", CELL)

    assert shell.user_ns["job"].session_id == first
    assert len(hook.opened_sessions()) == 1
    assert f"Reusing the open session {first} on ibmq_manila" in capsys.readouterr().out
    shell.run_line_magic("session", f"close {first[:6]}")
    assert _state(emulator, first)["accepting_jobs"] is False


def test_line_magic_lists_shows_and_cancels_only_with_yes(
    shell: InteractiveShell,
    make_emulator: Callable[..., Harness],
    kernel_sessions: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emulator = make_emulator(time_scale=0.02, job_seconds=500)  # jobs queue behind each other
    shell.run_cell(
        "from qiskit_ibm_runtime import QiskitRuntimeService, Session, SamplerV2\n"
        "from qiskit import QuantumCircuit\n"
        "from qiskit.transpiler import generate_preset_pass_manager\n"
        "backend = QiskitRuntimeService().backend('ibmq_kolkata')\n"
        "c = QuantumCircuit(2); c.h(0); c.cx(0, 1); c.measure_all()\n"
        "isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(c)\n"
        "session = Session(backend=backend)\n"
        "jobs = [SamplerV2(mode=session).run([isa]) for _ in range(3)]\n"
    )
    session = shell.user_ns["session"]
    wait_until(lambda: session.status() == "In progress, accepting new jobs")
    capsys.readouterr()

    shell.run_line_magic("session", "list")
    listing = capsys.readouterr().out
    assert session.session_id in listing and "ibmq_kolkata" in listing
    shell.run_line_magic("session", "details")
    details = capsys.readouterr().out
    assert "backend_name: ibmq_kolkata" in details
    assert re.search(r"max_time: [\d.]+ s\n", details)  # durations with their unit

    shell.run_line_magic("session", "cancel")
    refusal = capsys.readouterr().out
    assert "Not cancelled" in refusal
    assert "2 queued jobs; 1 running job would finish" in refusal
    assert _state(emulator, session.session_id)["state"] != "closed"

    shell.run_line_magic("session", "cancel --yes")
    assert capsys.readouterr().out.strip() == (
        f"Cancelled session {session.session_id}: 2 queued jobs cancelled; its running job still "
        "finishes; the session ended."
    )
    assert _state(emulator, session.session_id)["state"] == "closed"
    shell.run_line_magic("session", "status")
    assert f"{session.session_id} on ibmq_kolkata: Closed; jobs: " in capsys.readouterr().out


def test_line_magic_errors_are_one_line_with_the_fix(
    shell: InteractiveShell, emulator: Harness, kernel_sessions: None
) -> None:
    with pytest.raises(UsageError, match="has opened no Qiskit Runtime session"):
        shell.run_line_magic("session", "status")
    with pytest.raises(UsageError, match="unknown command 'stop'"):
        shell.run_line_magic("session", "stop")
    with pytest.raises(UsageError, match=r"QiskitRuntimeService\(\)\.backends\(\)"):
        shell.run_cell_magic("session", "--backend ibm_nowhere", "pass")
    with pytest.raises(UsageError, match="save_account"):
        shell.run_cell_magic("session", "--backend ibmq_manila --account nobody", "pass")


def test_open_plan_refusal_is_one_line(
    shell: InteractiveShell, make_emulator: Callable[..., Harness], kernel_sessions: None
) -> None:
    make_emulator(time_scale=0.02, plan="open")
    with pytest.raises(UsageError, match="Open Plan"):
        shell.run_cell_magic("session", "--backend ibmq_manila", "pass")


def test_attach_tracks_a_session_from_elsewhere(
    shell: InteractiveShell,
    emulator: Harness,
    kernel_sessions: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from qiskit_ibm_runtime import Session

    from jupyter_session_monitor import SessionWidget
    from jupyter_session_monitor.kernel.magics import session as magics

    elsewhere = Session(backend=emulator.service().backend("ibmq_manila"))
    hook._opened.clear()  # opened "elsewhere": not this kernel's
    shown: list[Any] = []
    monkeypatch.setattr(magics, "display", shown.append)

    shell.run_line_magic("session", f"attach {elsewhere.session_id}")

    assert [s.session_id for s in hook.opened_sessions()] == [elsewhere.session_id]
    assert f"Attached session {elsewhere.session_id}" in capsys.readouterr().out
    shell.run_line_magic("session", "watch")  # the attached one is now this kernel's default
    assert [type(w) for w in shown] == [SessionWidget]
    assert shown[0].session_id == elsewhere.session_id
    shown[0].close()
    elsewhere.close()


def test_widget_carries_only_the_id_and_has_a_readable_snapshot() -> None:
    from jupyter_session_monitor import SessionWidget

    widget = SessionWidget("<b>s1</b>")
    bundle = widget._repr_mimebundle_()

    synced = set(widget.keys) - {"_dom_classes", "layout", "tabbable", "tooltip"}
    assert {k for k in synced if not k.startswith("_")} == {"session_id"}
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == widget.model_id
    # What JupyterLab draws from the id alone, with no live model (after a restart or reload).
    assert bundle["application/vnd.jupyter-session-monitor.session+json"] == {
        "session_id": "<b>s1</b>"
    }
    assert "&lt;b&gt;s1&lt;/b&gt;" in bundle["text/html"]  # an id is text, never markup
    assert "<b>s1</b>" not in bundle["text/html"]
    assert bundle["text/plain"].startswith("Qiskit Runtime session <b>s1</b>.")
    widget.close()


# ---------------------------------------------------------------- issue #10


def test_keep_reuse_tags_each_cells_jobs_with_that_cells_tags(
    shell: InteractiveShell, emulator: Harness, kernel_sessions: None
) -> None:
    shell.run_cell_magic("session", "--backend ibmq_manila --keep --tags first", CELL)
    first = shell.user_ns["job"]
    shell.run_cell_magic("session", "--backend ibmq_manila --keep --tags second,again", CELL)
    second = shell.user_ns["job"]
    shell.run_cell_magic("session", "--backend ibmq_manila --keep", CELL)
    third = shell.user_ns["job"]

    assert first.session_id == second.session_id == third.session_id  # one kept session
    tags = {job.job_id(): set(job.tags) for job in emulator.service().jobs(limit=10)}
    assert tags[first.job_id()] == {"first"}
    assert tags[second.job_id()] == {"second", "again"}  # not the first cell's
    assert tags[third.job_id()] == set()  # nothing left over from earlier cells
    shell.run_line_magic("session", "close")


@pytest.mark.parametrize("raised", ["ValueError('boom')", "KeyboardInterrupt"])
def test_a_failing_cell_fails_the_session_cell_after_the_session_closed(
    shell: InteractiveShell,
    emulator: Harness,
    kernel_sessions: None,
    capsys: pytest.CaptureFixture[str],
    raised: str,
) -> None:
    outer = shell.run_cell(f"%%session --least-busy --batch\nraise {raised}\n")

    assert outer.success is False  # "Run All" stops here, as after any failing cell
    expected = ValueError if raised.startswith("ValueError") else KeyboardInterrupt
    assert isinstance(outer.error_in_exec, expected)  # the cell's own error, not a wrapper
    (batch,) = hook.opened_sessions()
    assert _state(emulator, batch.session_id)["accepting_jobs"] is False
    out = capsys.readouterr().out
    assert out.count("Traceback (most recent call last)") == 1  # shown once, not twice
    assert out.index(f"Closed session {batch.session_id}") < out.rindex(expected.__name__)
    shell.run_line_magic("tb", "")
    assert "Traceback (most recent call last)" in capsys.readouterr().out  # %tb: in full again


def test_a_failing_cell_is_an_error_in_a_real_kernel_shown_once(emulator: Harness) -> None:
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3", startup_timeout=60)
    try:
        events: list[tuple[str, dict[str, Any]]] = []

        def collect(message: dict[str, Any]) -> None:
            if message["header"]["msg_type"] in ("stream", "error"):
                events.append((message["header"]["msg_type"], message["content"]))

        reply = client.execute_interactive("%load_ext jupyter_session_monitor", timeout=60)
        assert reply["content"]["status"] == "ok"
        reply = client.execute_interactive(
            "%%session --least-busy --batch\nprint('in the cell')\nraise ValueError('boom')",
            output_hook=collect,
            timeout=120,
        )
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)

    assert reply["content"]["status"] == "error"  # the notebook marks it failed; Run All stops
    assert (reply["content"]["ename"], reply["content"]["evalue"]) == ("ValueError", "boom")
    errors = [content for kind, content in events if kind == "error"]
    full = [e for e in errors if any("Traceback" in line for line in e["traceback"])]
    assert len(full) == 1  # IPython's traceback of the cell, once
    # It names the cell the user ran: "Cell In[2]" under the prompt [2], not In[3] (#26 item 6).
    shown = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(full[0]["traceback"]))
    assert f"In[{reply['content']['execution_count']}]" in shown, shown
    assert all(len(e["traceback"]) == 1 for e in errors if e not in full)  # then one line at most
    printed = "".join(content.get("text", "") for kind, content in events if kind == "stream")
    closed = re.search(r"Closed session (\S+):", printed)
    assert closed, printed
    assert _state(emulator, closed.group(1))["accepting_jobs"] is False
    kinds = [kind for kind, _ in events]
    closing = next(i for i, (kind, c) in enumerate(events) if "Closed session" in c.get("text", ""))
    assert kinds[closing + 1 :].count("error") == len(errors) - 1  # closed before the cell failed


@pytest.mark.parametrize(
    ("typed", "limit"), [("9h", "8h"), ("540m", "480m"), ("32400", "28800s"), ("1d", "8h")]
)
def test_max_time_beyond_the_plan_is_one_line_naming_the_limit_in_the_users_units(
    shell: InteractiveShell, emulator: Harness, kernel_sessions: None, typed: str, limit: str
) -> None:
    with pytest.raises(UsageError) as error:
        shell.run_cell_magic("session", f"--backend ibmq_manila --max-time {typed}", "pass")

    assert str(error.value) == (
        f"%%session: --max-time {typed} is longer than this instance's plan allows ({limit})."
    )
    assert emulator.admin("GET", "/emulator/state")["sessions"] == []  # nothing left open


def test_a_bare_max_time_is_seconds_and_the_opening_says_so(
    shell: InteractiveShell,
    emulator: Harness,
    kernel_sessions: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shell.run_cell_magic("session", "--backend ibmq_manila --max-time 5", "pass")
    assert "max_time 5 s (a bare number is seconds; write 5m for 5 minutes)" in (
        capsys.readouterr().out
    )
    (session,) = hook.opened_sessions()
    assert _state(emulator, session.session_id)["max_ttl"] == round(5 * 0.02)

    shell.run_cell_magic("session", "--backend ibmq_manila --max-time 25m", "pass")
    assert "bare number" not in capsys.readouterr().out  # a unit says what it means


def test_cancel_says_what_happens_when_no_job_is_queued(
    shell: InteractiveShell,
    emulator: Harness,
    kernel_sessions: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shell.run_cell(
        "from qiskit_ibm_runtime import QiskitRuntimeService, Session\n"
        "session = Session(backend=QiskitRuntimeService().backend('ibmq_manila'))\n"
    )
    session_id = shell.user_ns["session"].session_id
    capsys.readouterr()

    shell.run_line_magic("session", "cancel")
    refusal = capsys.readouterr().out
    assert (
        f"Not cancelled. Session {session_id} has no queued job; cancelling would just end the "
        "session now."
    ) in refusal
    assert _state(emulator, session_id)["state"] != "closed"

    shell.run_line_magic("session", "cancel --yes")
    assert capsys.readouterr().out.strip() == (
        f"Cancelled session {session_id}. No job was queued; the session ended."
    )
    assert _state(emulator, session_id)["state"] == "closed"

    shell.run_line_magic("session", "cancel --yes")
    assert capsys.readouterr().out.strip() == (
        f"Session {session_id} is already closed: nothing to cancel."
    )


def test_status_and_list_give_backend_mode_job_counts_and_the_countdown(
    shell: InteractiveShell,
    make_emulator: Callable[..., Harness],
    kernel_sessions: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_emulator(time_scale=0.02, job_seconds=500)  # a job runs 10 s: the others queue
    shell.run_cell(
        "from qiskit_ibm_runtime import Batch, QiskitRuntimeService, Session, SamplerV2\n"
        "from tests.harness import bell\n"
        "service = QiskitRuntimeService()\n"
        "idle = Batch(backend=service.backend('ibmq_manila'))\n"
        "backend = service.backend('ibmq_kolkata')\n"
        "session = Session(backend=backend)\n"
        "jobs = [SamplerV2(mode=session).run([bell(backend)]) for _ in range(3)]\n"
    )
    idle, session = shell.user_ns["idle"], shell.user_ns["session"]
    wait_until(lambda: session.status() == "In progress, accepting new jobs")
    capsys.readouterr()

    shell.run_line_magic("session", "status")  # the most recent one
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(
        f"Session {session.session_id} on ibmq_kolkata: In progress, accepting new jobs; "
        "jobs: 2 queued, 1 running, 0 done, 0 failed, 0 cancelled; max TTL in "
    )
    assert re.search(r"max TTL in 9m \d+s$", line)  # 8 h scaled by 0.02, just started

    shell.run_line_magic("session", f"status {idle.session_id[:8]}")
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(
        f"Batch {idle.session_id} on ibmq_manila: Pending; "
        "jobs: 0 queued, 0 running, 0 done, 0 failed, 0 cancelled; closes in "
    )
    assert line.endswith(" unless a job is submitted")

    shell.run_line_magic("session", "list")
    header, *rows, footer = capsys.readouterr().out.splitlines()
    assert header.split() == ["id", "backend", "mode", "status", "jobs", "next"]
    (newest,) = (row for row in rows if session.session_id in row)
    (older,) = (row for row in rows if idle.session_id in row)
    assert newest.startswith("* ") and older.startswith("  ")  # the default one, marked
    assert re.search(
        r"ibmq_kolkata +session +In progress, accepting new jobs +2 queued, 1 running +"
        r"max TTL in 9m \d+s$",
        newest,
    )
    assert re.search(r"ibmq_manila +batch +Pending +no jobs +closes in .+ unless", older)
    assert footer.startswith("* ") and "when no ID is given" in footer
    session.cancel()
    idle.cancel()


def test_status_counts_every_job_over_pages_smaller_than_asked(
    shell: InteractiveShell,
    make_emulator: Callable[..., Harness],
    kernel_sessions: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The service returns at most 4 jobs a page: the counts are the session's 11, not a page's.
    make_emulator(time_scale=0.02, job_seconds=500, jobs_page_limit=4)
    shell.run_cell(
        "from qiskit_ibm_runtime import QiskitRuntimeService, Session, SamplerV2\n"
        "from tests.harness import bell\n"
        "backend = QiskitRuntimeService().backend('ibmq_kolkata')\n"
        "session = Session(backend=backend)\n"
        "jobs = [SamplerV2(mode=session).run([bell(backend)]) for _ in range(11)]\n"
    )
    session = shell.user_ns["session"]
    wait_until(lambda: session.status() == "In progress, accepting new jobs")
    capsys.readouterr()

    shell.run_line_magic("session", "status")
    (line,) = capsys.readouterr().out.splitlines()
    assert "jobs: 10 queued, 1 running, 0 done, 0 failed, 0 cancelled;" in line
    assert "newest" not in line
    session.cancel()


@pytest.mark.parametrize("offset", [-600.0, 600.0])
def test_status_counts_down_on_the_kernels_clock_whatever_the_services_says(
    shell: InteractiveShell,
    make_emulator: Callable[..., Harness],
    kernel_sessions: None,
    capsys: pytest.CaptureFixture[str],
    offset: float,
) -> None:
    # The service's clock 10 minutes from the kernel's (#25 item 4): the max TTL (8 h scaled by
    # 0.02: 9 min 36 s) counts down from the session's start, not 10 minutes off.
    make_emulator(time_scale=0.02, job_seconds=500, clock_offset=offset)
    shell.run_cell(
        "from qiskit_ibm_runtime import QiskitRuntimeService, Session, SamplerV2\n"
        "from tests.harness import bell\n"
        "backend = QiskitRuntimeService().backend('ibmq_kolkata')\n"
        "session = Session(backend=backend)\n"
        "job = SamplerV2(mode=session).run([bell(backend)])\n"
    )
    session = shell.user_ns["session"]
    wait_until(lambda: session.status() == "In progress, accepting new jobs")
    capsys.readouterr()

    shell.run_line_magic("session", "status")
    (line,) = capsys.readouterr().out.splitlines()
    assert re.search(r"max TTL in 9m \d+s$", line), line
    session.cancel()


WIDE = """\
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import QiskitRuntimeService, Session, SamplerV2
from tests.harness import bell
backend = QiskitRuntimeService().backend("ibmq_kolkata")
ghz = QuantumCircuit(21)
ghz.h(0)
for qubit in range(20):
    ghz.cx(qubit, qubit + 1)
ghz.measure_all()
wide = generate_preset_pass_manager(backend=backend, optimization_level=1).run(ghz)
session = Session(backend=backend)
good = SamplerV2(mode=session).run([bell(backend)])
bad = SamplerV2(mode=session).run([wide])  # too wide for the emulator: it fails with a reason
"""


def test_details_lists_failed_jobs_with_the_services_reason(
    shell: InteractiveShell,
    emulator: Harness,
    kernel_sessions: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shell.run_cell(WIDE)
    good, bad = shell.user_ns["good"], shell.user_ns["bad"]
    wait_until(lambda: good.status() == "DONE" and bad.status() == "ERROR")
    capsys.readouterr()

    shell.run_line_magic("session", "details")

    out = capsys.readouterr().out
    assert "                jobs: 0 queued, 0 running, 1 done, 1 failed, 0 cancelled\n" in out
    failed = out[out.index("failed jobs:") :]
    assert re.search(rf"{bad.job_id()}  Error code \d+; The circuit acts on \d+ qubits", failed)
    assert good.job_id() not in failed
    shell.user_ns["session"].close()


# ---------------------------------------------------------------- issue #12 (money), headless


def test_every_option_is_in_the_help_and_an_unknown_one_lists_them(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    options = ("--budget DURATION", "--budget-amount AMOUNT", "--on-budget notify|close|cancel")
    with pytest.raises(UsageError) as error:
        shell.run_cell_magic("session", "--backend ibm_torino --budjet 10m", "pass")
    assert all(option in str(error.value) for option in options)
    doc = SessionMagics.session_cell.__doc__ or ""
    assert all(option.split()[0] in doc for option in options)
    shell.run_line_magic("session", "help")
    usage = capsys.readouterr().out
    assert "%session close --all [--cancel] [--yes]" in usage
    assert all(option in usage for option in options)
    for line, words in (
        ("close --all abc", "give no id with it"),
        ("close --cancel", "--cancel goes with --all"),
        ("status --all", "unknown option '--all'"),
    ):
        with pytest.raises(UsageError, match=re.escape(words)):
            shell.run_line_magic("session", line)


def test_a_budget_in_a_kernel_no_monitor_started_is_one_line_and_the_cell_runs(
    shell: InteractiveShell,
    emulator: Harness,
    kernel_sessions: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    outer = shell.run_cell(
        "%%session --backend ibmq_manila --budget 10m --on-budget close\nprint('the cell ran')"
    )

    assert outer.success
    (session,) = hook.opened_sessions()
    lines = capsys.readouterr().out.splitlines()
    said = [line for line in lines if "budget" in line]
    assert said == [
        f"%%session: no budget set on session {session.session_id}: this kernel was not started "
        "by a Jupyter server with the session monitor (a headless run, or another front end), so "
        "the monitor cannot be asked."
    ]
    assert lines.index(said[0]) < lines.index("the cell ran")  # said before the cell ran
    assert _state(emulator, session.session_id)["accepting_jobs"] is False  # closed at its end
    capsys.readouterr()
    shell.run_line_magic("session", "close --all --yes")  # a headless run goes on
    (line,) = capsys.readouterr().out.splitlines()
    assert "cannot be asked" in line and "Nothing was closed" in line
    assert "%session close ID" in line


def test_the_fit_line_says_nothing_without_a_basis_and_at_least_for_a_lower_bound() -> None:
    from jupyter_session_monitor.kernel.magics.money import fit_line

    fit = {
        "queued": 40,
        "expected_to_fail": 14,
        "drain_seconds": 900.0,
        "basis": "observed",
        "max_ttl_at": "2030-01-01T11:42:00Z",
        "first_failing_job": "j27",
        "lower_bound": False,
    }
    line = fit_line({"fit": fit})
    assert line is not None
    assert re.fullmatch(
        r"≈ 14 of 40 queued jobs will not start before max TTL \(\d\d:42\) and will fail", line
    )
    assert (fit_line({"fit": {**fit, "lower_bound": True}}) or "").startswith("at least 14 of 40")
    assert fit_line({"fit": {**fit, "expected_to_fail": 0}}) is None
    no_basis = {**fit, "basis": None, "expected_to_fail": None, "drain_seconds": None}
    assert fit_line({"fit": no_basis}) is None
    assert fit_line({"fit": None}) is None


def test_status_says_a_close_sent_and_not_confirmed_as_the_row_does() -> None:
    # #26 item 1: every surface says at once what was sent, until a read confirms it.
    from jupyter_session_monitor.kernel.magics.money import pending_line

    at = "2026-01-01T06:14:05Z"
    accepted = {
        "status": "Pending",
        "pending_action": {"action": "close", "state": "accepted", "at": at},
    }
    line = pending_line(accepted)
    assert line is not None and re.fullmatch(
        r"Close accepted by the service at \d\d:\d\d:05; not confirmed by a read yet", line
    )
    unknown = {
        "status": "Pending",
        "pending_action": {"action": "cancel", "state": "unknown", "at": at},
    }
    assert "may or may not have ended" in (pending_line(unknown) or "")
    assert pending_line({"status": "Pending", "pending_action": None}) is None
    assert pending_line({**accepted, "status": "Closed"}) is None


def test_status_says_when_its_figures_are_of_an_earlier_read() -> None:
    # Review of #26 item 5: a fresh read that the service did not answer (429, a hang) gave the
    # last view, printed as if it were the service's answer now.
    from jupyter_session_monitor.kernel.magics.money import _stale_line

    view = {
        "stale": True,
        "last_polled_at": "2026-01-01T06:14:05Z",
        "error": {"kind": "rate_limited", "message": "The service is limiting requests (429)."},
    }
    line = _stale_line(view)
    assert line is not None and re.fullmatch(
        r"as read at \d\d:\d\d:05: the service did not answer just now \(.*429.*\)", line
    ), line
    assert _stale_line({**view, "stale": False}) is None
