"""Qiskit Runtime API calls per session-minute: the monitor against the straightforward loop.

One active session runs 20 jobs on the emulator. Three browser tabs watch it:

- baseline, "public-API loop": each tab refreshes every ``--interval`` seconds with what a notebook
  widget would call: ``session.status()``, ``session.details()``, ``service.jobs(session_id=...)``
  and ``job.status()`` for each job (the public job list drops states);
- the monitor: a real Jupyter server polls the session; the three tabs read ``GET sessions`` from
  the server at the same cadence.

Both watch the same session over the same window; the emulator's request log counts the calls.

Run: .venv/bin/python bench/api_cost.py [--window 40] [--interval 2]
"""

from __future__ import annotations

import argparse
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


def _start_jobs(service: object, seconds_per_job: float) -> tuple[object, list[object]]:
    from qiskit import QuantumCircuit
    from qiskit.transpiler import generate_preset_pass_manager
    from qiskit_ibm_runtime import SamplerV2, Session

    backend = service.backend("ibmq_manila")  # type: ignore[attr-defined]
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


def measure_public_loop(emulator_url: str, window: float, interval: float) -> float:
    from qiskit_ibm_runtime import QiskitRuntimeService

    service = QiskitRuntimeService()
    session, _ = _start_jobs(service, window / JOBS)
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


def measure_monitor(emulator_url: str, window: float, interval: float, workdir: Path) -> float:
    from qiskit_ibm_runtime import QiskitRuntimeService

    service = QiskitRuntimeService()
    session, _ = _start_jobs(service, window / JOBS)
    with running_server(sys.executable, workdir, env=dict(os.environ)) as (url, token):

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
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    os.environ["USAGE_DATA_OPT_OUT"] = "True"
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["HOME"] = scratch
        # Jobs take 1.5 * window / 20 s each, so the session stays busy through the window.
        config = EmulatorConfig(job_seconds=1.5 * args.window / JOBS)
        with running_emulator(config) as emulator:
            os.environ.update(emulator.emulator.client_environment())
            public = measure_public_loop(emulator.emulator.url, args.window, args.interval)
            monitor = measure_monitor(
                emulator.emulator.url, args.window, args.interval, Path(scratch)
            )
    title = f"API calls per session-minute, {JOBS} jobs, {TABS} tabs"
    print(f"{title} refreshing every {args.interval:g} s")
    print(f"{'variant':<22} {'calls/min':>10} {'vs baseline':>12}")
    print(f"{'public-API loop':<22} {public:>10.0f} {1:>11.2f}x")
    print(f"{'session monitor':<22} {monitor:>10.0f} {monitor / public:>11.3f}x")


if __name__ == "__main__":
    main()
