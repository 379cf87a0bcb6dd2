"""Receipts in the notebook (issue #12, section 6): ``%session receipt [ID]`` and the receipt that
ends a ``%%session`` cell which closed its session.

The receipt is the monitor's (``views`` answers it next to each session), so these tests run real
kernels started by a real server, the unmodified client and the emulator with real durations; the
headless ones run the magics in an IPython shell no server started.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from jupyter_session_monitor.kernel import hook
from jupyter_session_monitor.kernel.magics import SessionMagics
from tests.harness import Harness
from tests.kernels import NotebookKernel
from tests.test_magics_money import BELL
from tests.test_money import advance
from tests.test_monitor_api import Fetch, api, until, view_if

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

Open = Callable[[str], Awaitable[NotebookKernel]]


class Output:
    """What one cell printed, and the rich outputs it displayed (each display's data by MIME type;
    the live widget of a ``%%session`` cell left out)."""

    def __init__(self, out: str, rich: list[dict[str, Any]]) -> None:
        self.out = out
        self.lines = out.splitlines()
        self.rich = rich


async def run(kernel: NotebookKernel, code: str) -> Output:
    """Execute ``code`` in the notebook's kernel; fails on an error in the cell."""
    out: list[str] = []
    rich: list[dict[str, Any]] = []
    errors: list[str] = []

    def collect(message: dict[str, Any]) -> None:
        kind, content = message["header"]["msg_type"], message["content"]
        if kind == "stream" and content["name"] == "stdout":
            out.append(content["text"])
        elif kind in ("display_data", "execute_result"):
            if "application/vnd.jupyter.widget-view+json" not in content["data"]:
                rich.append(content["data"])
        elif kind == "error":
            errors.append("\n".join(content["traceback"]))

    reply = await kernel.client.execute_interactive(code, output_hook=collect, timeout=120)
    assert reply["content"]["status"] == "ok", errors
    return Output("".join(out), rich)


async def served_receipt(fetch: Fetch, session_id: str) -> dict[str, Any]:
    status, answer = await api(fetch, "GET", f"sessions/{session_id}/receipt")
    assert status == 200, answer
    result: dict[str, Any] = answer
    return result


CLOSED = "Closed session {}: it accepts no new jobs; jobs already queued still run."


async def test_session_receipt_shows_a_closed_sessions_receipt_as_markdown_and_text(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch, open_notebook: Open
) -> None:
    make_emulator(time_scale=1.0, job_seconds=0.1)
    await api(jp_fetch, "PUT", "billing", {"rate_per_second": 0.5, "currency": "USD"})
    kernel = await open_notebook("receipt.ipynb")
    opened = await run(
        kernel,
        BELL + "manila = service.backend('ibmq_manila')\n"
        "session = Session(backend=manila)\n"
        "jobs = [SamplerV2(mode=session).run([isa_for(manila)]) for _ in range(2)]\n"
        "[job.result() for job in jobs]\n"
        "session.close()\n"
        "print(session.session_id)\n",
    )
    session_id = opened.lines[-1]
    await until(
        lambda: view_if(
            jp_fetch,
            session_id,
            lambda v: v["status"] == "Closed" and v["jobs_summary"]["DONE"] == 2,
        )
    )

    shown = await run(kernel, "%session receipt")

    assert shown.out == ""  # a display, nothing printed
    (data,) = shown.rich
    text, markdown = data["text/plain"], data["text/markdown"]
    served = await served_receipt(jp_fetch, session_id)
    assert served["receipt"]["final"] is True
    assert (text, markdown) == (served["text"], served["markdown"])  # the monitor's, as it is
    assert text.splitlines()[0] == "Receipt"
    assert re.search(rf"^  Session +{session_id}$", text, re.MULTILINE), text
    assert re.search(r"^  Jobs +2 done$", text, re.MULTILINE), text
    assert re.search(r"^  Billed +\d", text, re.MULTILINE), text
    assert re.search(r"^  Cost +\d+\.\d+ USD at 0\.50 per billed second$", text, re.MULTILINE)
    assert markdown.startswith("**Qiskit Runtime session receipt**")
    assert f"| Session | {session_id} |" in markdown
    assert "| Jobs | 2 done |" in markdown
    assert "| Billed |" in markdown


async def test_a_session_cell_ends_with_the_final_receipt_of_the_session_it_closed(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch, open_notebook: Open
) -> None:
    make_emulator(time_scale=1.0, job_seconds=0.1)
    kernel = await open_notebook("cell-receipt.ipynb")

    cell = await run(
        kernel,
        "%%session --backend ibmq_manila --tags vqe\n"
        + BELL
        + "sampler = SamplerV2()  # the cell's session\n"
        "job = sampler.run([isa_for(sampler._backend)])\n"
        "job.result()\n"
        "print(job.session_id)\n",
    )

    session_id = cell.lines[0]
    closed = cell.lines.index(CLOSED.format(session_id))
    printed = "\n".join(cell.lines[closed + 1 :])  # after the closing, to the cell's end
    served = await served_receipt(jp_fetch, session_id)
    assert served["receipt"]["final"] is True
    assert printed == served["text"]  # one block, the monitor's text of the closed session
    assert printed.splitlines()[0] == "Receipt"  # final, not "so far"
    assert re.search(rf"^  Session +{session_id}$", printed, re.MULTILINE), printed
    assert re.search(r"^  Ended +closed \(graceful\)$", printed, re.MULTILINE), printed
    assert re.search(r"^  Jobs +1 done$", printed, re.MULTILINE), printed
    assert re.search(r"^  Billed +\d", printed, re.MULTILINE), printed
    assert "    vqe: 1 job," in printed
    assert cell.rich == []  # printed, not displayed: one block of text


async def test_a_kept_session_prints_no_receipt_and_its_receipt_says_so_far(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch, open_notebook: Open
) -> None:
    make_emulator(time_scale=1.0, job_seconds=0.1)
    kernel = await open_notebook("kept.ipynb")

    kept = await run(kernel, "%%session --backend ibmq_manila --keep\nprint('in the cell')")

    assert kept.out == "in the cell\n"  # the session stays open: no receipt
    latest = "from jupyter_session_monitor.kernel import hook\n"
    latest += "print(hook.opened_sessions()[-1].session_id)"
    session_id = (await run(kernel, latest)).out.strip()

    shown = await run(kernel, "%session receipt")  # asked at once: registration may be pending

    (data,) = shown.rich
    text, markdown = data["text/plain"], data["text/markdown"]
    assert re.fullmatch(r"Receipt so far \(as of [\d-]+ [\d:]+ UTC\)", text.splitlines()[0]), text
    assert re.search(rf"^  Session +{session_id}$", text, re.MULTILINE), text
    assert re.search(r"^  Ended +still open$", text, re.MULTILINE), text
    assert markdown.startswith("**Qiskit Runtime session receipt so far (as of ")
    await run(kernel, "%session close")


async def test_a_session_cell_whose_session_is_still_draining_prints_the_receipt_so_far(
    make_emulator: Callable[..., Harness], jp_fetch: Fetch, open_notebook: Open
) -> None:
    # A job of 30 s left running when the cell ends: close() is graceful, the session stays open
    # until the job is done, and the cell does not wait for it longer than its bound.
    harness = make_emulator(time_scale=1.0, job_seconds=30.0)
    kernel = await open_notebook("draining.ipynb")
    await run(
        kernel, "import jupyter_session_monitor.kernel.magics.money as m; m.RECEIPT_WAIT = 1.0"
    )

    cell = await run(
        kernel,
        "%%session --backend ibmq_manila\n" + BELL + "sampler = SamplerV2()\n"
        "job = sampler.run([isa_for(sampler._backend)])\n"
        "print(job.session_id)\n",
    )

    session_id = cell.lines[0]
    closed = cell.lines.index(CLOSED.format(session_id))
    printed = cell.lines[closed + 1 :]
    assert re.fullmatch(r"Receipt so far \(as of [\d-]+ [\d:]+ UTC\)", printed[0]), cell.out
    assert any(re.fullmatch(r"  Ended +still open", line) for line in printed), cell.out
    assert any(re.fullmatch(r"  Jobs +1 (queued|running)", line) for line in printed), cell.out

    await advance(harness, 40)  # the job finishes, the session closes: the receipt is final
    await until(lambda: view_if(jp_fetch, session_id, lambda v: v["status"] == "Closed"))
    final = await run(kernel, f"%session receipt {session_id[:8]}")
    (data,) = final.rich
    assert data["text/plain"].splitlines()[0] == "Receipt"
    assert re.search(r"^  Jobs +1 done$", data["text/plain"], re.MULTILINE)


# ---------------------------------------------------------------- headless


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    ipython = InteractiveShell.instance()
    ipython.register_magics(SessionMagics)
    yield ipython
    InteractiveShell.clear_instance()


@pytest.fixture
def kernel_sessions(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process as a kernel no server started: the hook installed, reporting to nobody."""
    monkeypatch.delenv(hook.ENV_URL, raising=False)
    monkeypatch.delenv(hook.ENV_SECRET, raising=False)
    hook.install()
    hook._opened.clear()
    yield
    hook._opened.clear()
    hook.uninstall()


def test_headless_a_receipt_is_one_line_why_and_a_session_cell_prints_nothing_more(
    shell: InteractiveShell,
    emulator: Harness,
    kernel_sessions: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    outer = shell.run_cell("%%session --backend ibmq_manila\nprint('the cell ran')")

    assert outer.success
    (session,) = hook.opened_sessions()
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2:] == ["the cell ran", CLOSED.format(session.session_id)]  # as before

    shown = shell.run_cell("%session receipt")

    assert shown.success  # not an error: a headless Run All goes on
    assert capsys.readouterr().out.splitlines() == [
        f"No receipt for session {session.session_id}: this kernel was not started by a Jupyter "
        "server with the session monitor (a headless run, or another front end), so the monitor "
        "cannot be asked."
    ]
    shell.run_line_magic("session", "help")
    assert "%session receipt [ID]" in capsys.readouterr().out
    assert "receipt [ID]    what the session cost" in (SessionMagics.session_line.__doc__ or "")
