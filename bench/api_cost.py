"""Qiskit Runtime API calls per session-minute: the monitor against the straightforward loop.

Scenario "busy": one active session runs 20 jobs on the emulator. Scenario "idle": one open
session with no job, tracked by id (opened elsewhere, so the monitor polls it every active
interval to see a submission nobody reports). Three browser tabs watch it:

- baseline, "public-API loop": each tab refreshes every ``--interval`` seconds with what a notebook
  widget would call: ``session.status()``, ``session.details()``, ``service.jobs(session_id=...)``
  and ``job.status()`` for each job (the public job list drops states);
- the monitor: a real Jupyter server polls the session; the three tabs read ``GET sessions`` from
  the server at the same cadence.

Both watch the same session over the same window; the emulator's request log counts the calls.
With ``--before REV`` the monitor is measured a second time, in the same run, with the code of an
older commit (a temporary git worktree first on the server's PYTHONPATH).

Run: .venv/bin/python bench/api_cost.py [--window 40] [--interval 2] [--before 80214d0]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import threading
import time
import urllib.request
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jupyter_session_monitor.emulator import EmulatorConfig
from jupyter_session_monitor.emulator.runner import running_emulator
from tests.server import running_server

JOBS = 20
TABS = 3


def _counts(emulator_url: str, since: int) -> int:
    with urllib.request.urlopen(f"{emulator_url}/emulator/requests", timeout=30) as response:  # noqa: S310
        log = json.loads(response.read())
    runtime = [r for r in log[since:] if "/experimental/api/v1/" in r["path"]]
    return len(runtime)


def _log_length(emulator_url: str) -> int:
    with urllib.request.urlopen(f"{emulator_url}/emulator/requests", timeout=30) as response:  # noqa: S310
        return len(json.loads(response.read()))


def _start_jobs(service: object, busy: bool) -> tuple[object, list[object]]:
    from qiskit import QuantumCircuit
    from qiskit.transpiler import generate_preset_pass_manager
    from qiskit_ibm_runtime import SamplerV2, Session

    backend = service.backend("ibmq_manila")  # type: ignore[attr-defined]
    if not busy:
        return Session(backend=backend), []
    circuit = QuantumCircuit(1)
    circuit.h(0)
    circuit.measure_all()
    isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(circuit)
    session = Session(backend=backend)
    sampler = SamplerV2(mode=session)
    jobs = [sampler.run([isa], shots=10) for _ in range(JOBS)]
    return session, jobs


def _run_tabs(tab: object) -> None:
    """Run the tabs side by side until each has watched for the whole window."""
    threads = [threading.Thread(target=tab) for _ in range(TABS)]  # type: ignore[arg-type]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def measure_public_loop(emulator_url: str, window: float, interval: float, busy: bool) -> float:
    from qiskit_ibm_runtime import QiskitRuntimeService

    service = QiskitRuntimeService()
    session, _ = _start_jobs(service, busy)
    stop = time.monotonic() + window
    start_index = _log_length(emulator_url)

    def tab() -> None:
        tab_service = QiskitRuntimeService()
        while time.monotonic() < stop:
            session.status()  # type: ignore[attr-defined]
            session.details()  # type: ignore[attr-defined]
            for job in tab_service.jobs(session_id=session.session_id, limit=100):  # type: ignore[attr-defined]
                job.status()
            time.sleep(interval)

    start_index = _log_length(emulator_url)
    _run_tabs(tab)
    calls = _counts(emulator_url, start_index)
    session.cancel()  # type: ignore[attr-defined]
    return calls / (window / 60)


def measure_monitor(
    emulator_url: str,
    window: float,
    interval: float,
    workdir: Path,
    busy: bool,
    code: Path | None = None,
) -> float:
    """``code``: a checkout whose package the server imports instead of this one."""
    from qiskit_ibm_runtime import QiskitRuntimeService

    service = QiskitRuntimeService()
    session, _ = _start_jobs(service, busy)
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(code), *filter(None, [env.get("PYTHONPATH")])])
    workdir.mkdir()
    with running_server(sys.executable, workdir, env=env) as (url, token):

        def call(method: str, path: str, body: object = None) -> object:
            request = urllib.request.Request(  # noqa: S310
                f"{url}session-monitor/api/{path}",
                data=None if body is None else json.dumps(body).encode(),
                method=method,
                headers={"Authorization": f"token {token}"},
            )
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return json.loads(response.read() or b"null")

        call("POST", "sessions", {"session_id": session.session_id})  # type: ignore[attr-defined]
        stop = time.monotonic() + window
        start_index = _log_length(emulator_url)

        def tab() -> None:
            while time.monotonic() < stop:
                call("GET", "sessions")
                time.sleep(interval)

        _run_tabs(tab)
        calls = _counts(emulator_url, start_index)
    session.cancel()  # type: ignore[attr-defined]
    return calls / (window / 60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=40.0, help="seconds watched per variant")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between tab refreshes")
    parser.add_argument(
        "--scenario", choices=("busy", "idle", "both"), default="both", help="which session"
    )
    parser.add_argument(
        "--before", default="", help="also measure the monitor with this commit's code"
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    os.environ["USAGE_DATA_OPT_OUT"] = "True"
    scenarios = ["busy", "idle"] if args.scenario == "both" else [args.scenario]
    rows: list[tuple[str, str, float]] = []
    with contextlib.ExitStack() as stack:
        scratch = stack.enter_context(tempfile.TemporaryDirectory())
        code = None
        if args.before:
            from bench.freshness import checkout_at

            code = stack.enter_context(checkout_at(args.before))
        os.environ["HOME"] = scratch
        for scenario in scenarios:
            busy = scenario == "busy"
            # Jobs take 1.5 * window / 20 s each, so the session stays busy through the window.
            config = EmulatorConfig(job_seconds=1.5 * args.window / JOBS)
            with running_emulator(config) as emulator:
                os.environ.update(emulator.emulator.client_environment())
                url = emulator.emulator.url
                window, interval = args.window, args.interval
                rows.append(
                    (scenario, "public-API loop", measure_public_loop(url, window, interval, busy))
                )
                workdir = Path(scratch) / f"{scenario}-this"
                rows.append(
                    (
                        scenario,
                        "session monitor",
                        measure_monitor(url, window, interval, workdir, busy),
                    )
                )
                if code is not None:
                    workdir = Path(scratch) / f"{scenario}-before"
                    calls = measure_monitor(url, window, interval, workdir, busy, code)
                    rows.append((scenario, f"monitor at {args.before}", calls))
    title = f"API calls per session-minute, {TABS} tabs refreshing every {args.interval:g} s"
    print(f"{title} ({args.window:g} s per variant)")
    print(f"{'session':<8} {'variant':<22} {'calls/min':>10} {'vs public loop':>15}")
    baseline = {scenario: calls for scenario, variant, calls in rows if variant.startswith("pub")}
    for scenario, variant, calls in rows:
        ratio = calls / baseline[scenario]
        fewer = f" ({1 / ratio:.0f}x fewer)" if 0 < ratio < 1 else ""
        print(f"{scenario:<8} {variant:<22} {calls:>10.0f} {ratio:>14.3f}x{fewer}")


if __name__ == "__main__":
    main()
