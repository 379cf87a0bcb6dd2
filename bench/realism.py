"""The monitor against a service that is not exact (#25): this code and an older one, one run.

Three scenarios, each on the in-process emulator with a realism option (docs/emulator.md) and a real
Jupyter server (default intervals, a "tab" reading ``GET sessions`` every 2 s so that it counts as
watched); the emulator's request log counts the runtime calls.

- ``lag``: one session tracked by id ran a job; the service deactivates it ``--lag`` seconds after
  its interactive TTL. Runtime calls per minute between the predicted moment and the late one
  (target: what the active interval allows, 2 calls per 5 s), and how long after the service acted
  the view said so.
- ``clock``: the service's clock at -600, -60, 0, +60 and +600 s from the host's. Countdown error:
  the served ``max_ttl_at`` and ``interactive_ttl_at`` against the true moments on the host's
  clock (the service's own timestamps less the offset).
- ``batch``: a 1,000-job batch tracked by id, the service returning at most ``--page`` jobs a page.
  The counts when the service says all 1,000 are done, calls per minute while they run, and calls
  in the ``--after`` seconds after (0 once polling has ended).
- ``demo``: the demo notebook run top to bottom in a kernel of the server, at the demo's time
  scale and allowance, against an exact service and against one with all four realism options at
  once (transitions 5 s late, its clock 2 min ahead, usage reported every 10 s, 20 jobs a page).
  Cells that failed, the monitor's own calls (its User-Agent) per minute and the most on one
  session in any 10 s, what it closed or cancelled (only the budget cell's session should be),
  and answers of 500 or more from its API to a watching tab or from the service.

With ``--before REV`` each scenario is measured a second time with the code of an older commit (a
temporary git worktree first on the server's PYTHONPATH).

Run: .venv/bin/python bench/realism.py [--scenario lag|clock|batch|all] [--before REV]
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
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jupyter_session_monitor.emulator import EmulatorConfig
from jupyter_session_monitor.emulator.runner import running_emulator
from tests.server import running_server

Call = Callable[..., Any]


def _log(emulator_url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{emulator_url}/emulator/requests", timeout=30) as answer:  # noqa: S310
        log: list[dict[str, Any]] = json.loads(answer.read())
    return log


def runtime_calls(emulator_url: str, start: float, end: float, session_id: str) -> int:
    """Calls about ``session_id`` (its body, and every job list: one session at a time here)
    the service answered between two host times."""
    return sum(
        1
        for r in _log(emulator_url)
        if (r["path"].endswith(f"/sessions/{session_id}") or r["path"].endswith("/jobs"))
        and r["method"] == "GET"
        and start <= datetime.fromisoformat(r["time"]).timestamp() <= end
    )


@contextlib.contextmanager
def monitor(workdir: Path, code: Path | None, errors: list[int] | None = None) -> Iterator[Call]:
    """A Jupyter server with the extension (``code``: an older checkout), and a watching tab."""
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(code), *filter(None, [env.get("PYTHONPATH")])])
    workdir.mkdir(parents=True)
    with running_server(sys.executable, workdir, env=env) as (url, token):

        def call(method: str, path: str, body: object = None) -> Any:
            request = urllib.request.Request(  # noqa: S310
                f"{url}session-monitor/api/{path}",
                data=None if body is None else json.dumps(body).encode(),
                method=method,
                headers={"Authorization": f"token {token}"},
            )
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return json.loads(response.read() or b"null")

        stop = threading.Event()

        def tab() -> None:
            while not stop.wait(2.0):
                try:
                    call("GET", "sessions")
                except urllib.error.HTTPError as error:
                    if errors is not None:
                        errors.append(error.code)
                except Exception:  # noqa: S110 (a server stopping)
                    pass

        watcher = threading.Thread(target=tab, daemon=True)
        watcher.start()
        call.url, call.token = url, token  # type: ignore[attr-defined]
        try:
            yield call
        finally:
            stop.set()
            watcher.join()


def at(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def wait_for(check: Callable[[], Any], within: float, step: float = 0.1) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    return None


def bell(backend: Any) -> Any:
    from qiskit import QuantumCircuit
    from qiskit.transpiler import generate_preset_pass_manager

    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    return generate_preset_pass_manager(backend=backend, optimization_level=1).run(circuit)


# ---------------------------------------------------------------- scenarios


def lag(emulator_url: str, workdir: Path, code: Path | None, seconds: float) -> dict[str, Any]:
    from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2, Session

    backend = QiskitRuntimeService().backend("ibmq_manila")
    session = Session(backend=backend)
    SamplerV2(mode=session).run([bell(backend)]).result()
    with monitor(workdir, code) as call:
        view = call("POST", "sessions", {"session_id": session.session_id})
        due = at(view["deadlines"]["interactive_ttl_at"])
        acted = due + seconds
        shown = wait_for(
            lambda: (
                call("GET", f"sessions/{session.session_id}")["state"] == "inactive" and time.time()
            ),
            within=seconds + 60,
        )
        calls = runtime_calls(emulator_url, due, acted, str(session.session_id))
    session.cancel()
    return {
        "calls_per_minute": calls / (seconds / 60),
        "shown_after": None if not shown else shown - acted,
    }


def clock(workdir: Path, code: Path | None, offset: float) -> dict[str, Any]:
    from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2, Session

    # Interactive TTL 60 s and max TTL 600 s, real time: the session stays active while read.
    with running_emulator(EmulatorConfig(job_seconds=0.1, clock_offset=offset)) as emulator:
        os.environ.update(emulator.emulator.client_environment())
        backend = QiskitRuntimeService().backend("ibmq_manila")
        session = Session(backend=backend, max_time=600)
        SamplerV2(mode=session).run([bell(backend)]).result()
        with monitor(workdir, code) as call:
            view = call("POST", "sessions", {"session_id": session.session_id})
            # Read again once a few answers have settled the estimate.
            time.sleep(6)
            view = call("GET", f"sessions/{session.session_id}")
        details = view["details"]
        true_max = at(details["started_at"]) - offset + 600
        true_idle = at(details["last_job_completed"]) - offset + 60
        session.cancel()
    return {
        "max_ttl_error": at(view["deadlines"]["max_ttl_at"]) - true_max,
        "interactive_ttl_error": at(view["deadlines"]["interactive_ttl_at"]) - true_idle,
    }


def batch(
    emulator_url: str, workdir: Path, code: Path | None, jobs: int, after: float
) -> dict[str, Any]:
    from qiskit_ibm_runtime import Batch, QiskitRuntimeService, SamplerV2

    backend = QiskitRuntimeService().backend("ibmq_manila")
    work = Batch(backend=backend)
    sampler, circuit = SamplerV2(mode=work), bell(backend)
    with monitor(workdir, code) as call:
        call("POST", "sessions", {"session_id": work.session_id})
        started = time.time()
        for _ in range(jobs):
            sampler.run([circuit], shots=5)
        work.close()
        done = wait_for(lambda: work.status() == "Closed", within=600, step=0.5)
        ended = time.time()
        time.sleep(10)  # a few polls after the service's last change
        view = call("GET", f"sessions/{work.session_id}")
        during = runtime_calls(emulator_url, started, ended, str(work.session_id))
        quiet_from = time.time()
        time.sleep(after)
        later = runtime_calls(emulator_url, quiet_from, time.time(), str(work.session_id))
    summary = {k: v for k, v in view["jobs_summary"].items() if v}
    return {
        "closed": bool(done),
        "counts": summary,
        "right": summary == {"DONE": jobs} and view["state"] == "closed",
        "calls_per_minute": during / ((ended - started) / 60),
        "calls_after": later,
    }


DEMO = Path(__file__).resolve().parent.parent / "demo" / "sessions.ipynb"
AGENT = "jupyter-session-monitor/"


def demo(workdir: Path, realism: dict[str, Any]) -> dict[str, Any]:
    import nbformat
    from jupyter_client.blocking.client import BlockingKernelClient

    config = EmulatorConfig(time_scale=0.1, instance_limit=6000, **realism)
    errors: list[int] = []
    failed: list[str] = []
    with running_emulator(config) as emulator:
        os.environ.update(emulator.emulator.client_environment())
        with monitor(workdir, None, errors) as call:
            (workdir / "demo").mkdir()
            (workdir / "demo" / "sessions.ipynb").write_bytes(DEMO.read_bytes())
            request = urllib.request.Request(  # noqa: S310
                f"{call.url}api/sessions",  # type: ignore[attr-defined]
                data=json.dumps(
                    {
                        "path": "demo/sessions.ipynb",
                        "type": "notebook",
                        "name": "sessions.ipynb",
                        "kernel": {"name": "python3"},
                    }
                ).encode(),
                method="POST",
                headers={"Authorization": f"token {call.token}"},  # type: ignore[attr-defined]
            )
            with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
                kernel_id = json.loads(answer.read())["kernel"]["id"]
            client = BlockingKernelClient(
                connection_file=str(workdir / "server-runtime" / f"kernel-{kernel_id}.json")
            )
            client.load_connection_file()
            client.start_channels()
            started = time.time()
            try:
                client.wait_for_ready(timeout=60)
                for cell in nbformat.read(DEMO, as_version=4).cells:  # type: ignore[no-untyped-call]
                    if cell.cell_type == "markdown" and "**Set a rate…**" in cell.source:
                        call("PUT", "billing", {"rate_per_second": 1.6})
                    elif cell.cell_type == "code":
                        reply = client.execute_interactive(
                            cell.source,
                            timeout=300,
                            allow_stdin=False,
                            output_hook=lambda message: None,
                        )
                        if reply["content"]["status"] != "ok":
                            failed.append(cell.get("id", "?"))
            finally:
                client.stop_channels()
            time.sleep(20)  # the polls after the last cell
            ended = time.time()
        log = _log(emulator.emulator.url)
    own = [r for r in log if AGENT in r.get("agent", "")]
    per_session: dict[str, list[float]] = {}
    for r in own:
        parts = r["path"].rstrip("/").split("/")
        if r["method"] == "GET" and len(parts) >= 2 and parts[-2] == "sessions":
            per_session.setdefault(parts[-1], []).append(at(r["time"]))
    burst = max(
        (
            max(sum(1 for u in times if t <= u < t + 10) for t in times)
            for times in per_session.values()
        ),
        default=0,
    )
    acted = sorted(
        {
            r["path"].split("/sessions/")[1].split("/")[0]
            for r in own
            if "/sessions/" in r["path"] and r["method"] in ("PATCH", "DELETE")
        }
    )
    return {
        "failed": failed,
        "calls_per_minute": len(own) / ((ended - started) / 60),
        "burst": burst,
        "acted": acted,
        "api_5xx": sum(1 for code in errors if code >= 500),
        "service_5xx": sum(1 for r in log if r["status"] >= 500),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scenario", choices=("lag", "clock", "batch", "demo", "all"), default="all"
    )
    parser.add_argument("--lag", type=float, default=60.0, help="transition lag, seconds")
    parser.add_argument("--jobs", type=int, default=1000, help="jobs in the batch")
    parser.add_argument("--page", type=int, default=100, help="the service's jobs page limit")
    parser.add_argument("--after", type=float, default=20.0, help="seconds watched after")
    parser.add_argument("--before", default="", help="also measure this commit's code")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    os.environ["USAGE_DATA_OPT_OUT"] = "True"
    scenarios = ["lag", "clock", "batch", "demo"] if args.scenario == "all" else [args.scenario]
    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        os.environ["HOME"] = str(scratch)
        variants: list[tuple[str, Path | None]] = [("this code", None)]
        if args.before:
            from bench.freshness import checkout_at

            variants.append((f"at {args.before}", stack.enter_context(checkout_at(args.before))))

        if "lag" in scenarios:
            print(f"\nA session deactivated {args.lag:g} s late (interactive TTL 3 s, watched)")
            print(f"{'variant':<16} {'calls/min in the lag':>21} {'shown after it acted':>21}")
            config = EmulatorConfig(time_scale=0.05, job_seconds=3, transition_lag=args.lag)
            with running_emulator(config) as emulator:
                os.environ.update(emulator.emulator.client_environment())
                for name, code in variants:
                    row = lag(emulator.emulator.url, scratch / f"lag-{name}", code, args.lag)
                    shown = row["shown_after"]
                    print(
                        f"{name:<16} {row['calls_per_minute']:>21.1f} "
                        f"{'never' if shown is None else f'{shown:.2f} s':>21}"
                    )

        if "clock" in scenarios:
            print("\nCountdown error (served deadline minus the true moment, seconds)")
            print(f"{'variant':<16} {'offset':>7} {'max TTL':>9} {'interactive TTL':>16}")
            for name, code in variants:
                for offset in (-600.0, -60.0, 0.0, 60.0, 600.0):
                    row = clock(scratch / f"clock-{name}-{offset:+g}", code, offset)
                    print(
                        f"{name:<16} {offset:>+7g} {row['max_ttl_error']:>+9.2f} "
                        f"{row['interactive_ttl_error']:>+16.2f}"
                    )

        if "batch" in scenarios:
            print(f"\nA {args.jobs}-job batch, at most {args.page} jobs a page (a job 0.05 s)")
            print(
                f"{'variant':<16} {'counts when all done':<28} {'right':>6} "
                f"{'calls/min running':>18} {f'calls in {args.after:g} s after':>20}"
            )
            for name, code in variants:
                config = EmulatorConfig(job_seconds=0.05, jobs_page_limit=args.page)
                with running_emulator(config) as emulator:
                    os.environ.update(emulator.emulator.client_environment())
                    row = batch(
                        emulator.emulator.url,
                        scratch / f"batch-{name}",
                        code,
                        args.jobs,
                        args.after,
                    )
                counts = ", ".join(f"{v} {k.lower()}" for k, v in row["counts"].items())
                print(
                    f"{name:<16} {counts:<28} {'yes' if row['right'] else 'NO':>6} "
                    f"{row['calls_per_minute']:>18.1f} {row['calls_after']:>20}"
                )

        if "demo" in scenarios:
            print("\nThe demo notebook in a kernel of the server (this code)")
            print(
                f"{'service':<10} {'failed cells':<13} {'calls/min':>10} {'most in 10 s':>13} "
                f"{'closed or cancelled':<24} {'API 5xx':>8} {'service 5xx':>12}"
            )
            realism = {
                "transition_lag": 5.0,
                "clock_offset": 120.0,
                "usage_report_period": 10.0,
                "jobs_page_limit": 20,
            }
            for name, options in (("exact", {}), ("imperfect", realism)):
                row = demo(scratch / f"demo-{name}", options)
                print(
                    f"{name:<10} {len(row['failed']):<13} {row['calls_per_minute']:>10.1f} "
                    f"{row['burst']:>13} {', '.join(row['acted']) or 'none':<24} "
                    f"{row['api_5xx']:>8} {row['service_5xx']:>12}"
                )


if __name__ == "__main__":
    main()
