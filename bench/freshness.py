"""Freshness of job counts: how soon after a submission the monitor's views count the job.

A real Jupyter server with the extension (the app's default poll intervals: busy 2 s, active 5 s,
idle 30 s), real kernels started through its REST API (``POST api/sessions``, as JupyterLab
starts them), the unmodified client and the emulator in this process. The emulator runs at real
time with 30-minute jobs, so a job holds its backend for the whole run: a session on
``ibmq_manila`` holds that backend with one running job, and the sessions measured below wait
behind it (their jobs stay queued and their own session body does not change).

Scenarios, each measured from the moment ``sampler.run(...)`` returned (a wall-clock timestamp
taken in the submitting process) to the moment the server's REST view
(``GET session-monitor/api/sessions/{id}``, read every 20 ms) lists the job, and to the moment a
pushed change (``api/events/subscribe``) whose view lists it arrives:

- ``kernel, own backend``: a notebook's session on a free backend; its first job runs (and holds
  the backend), later ones queue in the session;
- ``kernel, behind another``: a notebook's session waiting behind the holder;
- ``tracked by id``: a session opened by this process (no kernel reports it) and tracked with
  ``POST session-monitor/api/sessions``, waiting behind the holder. Each job is cancelled once
  counted and the next one is submitted at a random moment of the poll cycle once the view shows
  no job pending, so every submission finds the session with no pending job (the slowest case);
- ``burst``: a notebook cell submits 40 jobs to a session waiting behind the holder. Measured:
  how long after the cell returns the REST view says 40 queued, whether it ever says another
  number after that, and how many job-list reads the service answered meanwhile.

Baseline, in the same run: the same scenarios against the code of ``--before`` (a temporary git
worktree; the server runs with it first on PYTHONPATH, and so do its kernels, whose start-up hook
the server injects from its own package; both are checked). Waits are capped: a job the old code
has not counted within ``--cap`` seconds ends that series.

Run: .venv/bin/python bench/freshness.py [--submissions 20] [--before 80214d0] [--cap 35]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jupyter_session_monitor.emulator import EmulatorConfig  # noqa: E402
from jupyter_session_monitor.emulator.runner import running_emulator  # noqa: E402
from tests.server import running_server  # noqa: E402

#: The commit before "every poll reads the job list; kernels report every submission".
BEFORE = "80214d0"
#: Defaults of SessionMonitorApp, which this benchmark does not change.
ACTIVE_INTERVAL = 5.0
BURST = 40
SCHEMA_SUFFIX = "session_changes/v1"


@contextlib.contextmanager
def checkout_at(revision: str) -> Iterator[Path]:
    """A temporary git worktree of ``revision`` of this repository, removed on exit."""
    scratch = Path(tempfile.mkdtemp(prefix="bench-code-"))
    tree = scratch / "tree"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(tree), revision],
        check=True,
    )
    try:
        yield tree
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False
        )
        shutil.rmtree(scratch, ignore_errors=True)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


# ---------------------------------------------------------------- the server, seen from outside


class Server:
    def __init__(self, url: str, token: str, workdir: Path) -> None:
        self.url, self.token, self.workdir = url, token, workdir

    def request(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        request = urllib.request.Request(  # noqa: S310 (loopback)
            f"{self.url}{path}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, None

    def view(self, session_id: str) -> dict[str, Any] | None:
        status, body = self.request("GET", f"session-monitor/api/sessions/{session_id}")
        return body if status == 200 else None

    def wait_view(self, session_id: str, test: Any, within: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            view = self.view(session_id)
            if view is not None and test(view):
                return view
            time.sleep(0.05)
        raise RuntimeError(f"session {session_id}: condition not met within {within} s")


class Kernel:
    """A notebook's kernel started through ``POST api/sessions``, run with a blocking client."""

    def __init__(self, server: Server, name: str) -> None:
        from jupyter_client.blocking.client import BlockingKernelClient

        status, model = server.request(
            "POST",
            "api/sessions",
            {"path": name, "type": "notebook", "name": name, "kernel": {"name": "python3"}},
        )
        assert status == 201, status
        connection = server.workdir / "server-runtime" / f"kernel-{model['kernel']['id']}.json"
        self.client = BlockingKernelClient(connection_file=str(connection))
        self.client.load_connection_file()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def run(self, code: str) -> str:
        out: list[str] = []
        errors: list[str] = []

        def collect(message: dict[str, Any]) -> None:
            kind, content = message["header"]["msg_type"], message["content"]
            if kind == "stream" and content["name"] == "stdout":
                out.append(content["text"])
            elif kind == "error":
                errors.append("\n".join(content["traceback"]))

        reply = self.client.execute_interactive(code, output_hook=collect, timeout=120)
        if reply["content"]["status"] != "ok":
            raise RuntimeError("".join(errors))
        return "".join(out)

    def close(self) -> None:
        self.client.stop_channels()


KERNEL_SETUP = """
import json, time
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2, Session

service = QiskitRuntimeService()

def bench_open(name):
    backend = service.backend(name)
    circuit = QuantumCircuit(2); circuit.h(0); circuit.cx(0, 1); circuit.measure_all()
    isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(circuit)
    session = Session(backend=backend)
    return session, SamplerV2(mode=session), isa

def bench_submit(sampler, isa):
    job = sampler.run([isa], shots=5)
    print(json.dumps({"at": time.time(), "job": job.job_id()}))
"""

KERNEL_CHECK = """
import os, json
import jupyter_session_monitor.kernel.hook as _hook
print(json.dumps({"hook": _hook.__file__, "startup": os.environ.get("PYTHONSTARTUP", ""),
                  "installed": _hook.installed(),
                  "coalescing": hasattr(_hook, "REPORT_SPACING")}))
"""


# ---------------------------------------------------------------- observers


@dataclass
class Observation:
    """What the REST view and the push channel showed of one session, with wall-clock times."""

    rest_seen: dict[str, float] = field(default_factory=dict)  # job id -> first listed
    push_seen: dict[str, float] = field(default_factory=dict)
    rest_queued: list[tuple[float, int]] = field(default_factory=list)  # (time, QUEUED)
    pending: int = -1  # QUEUED + RUNNING in the latest REST view


class RestWatcher:
    """Reads ``GET sessions/{id}`` every 20 ms in a thread."""

    def __init__(self, server: Server, session_id: str, seen: Observation) -> None:
        self.server, self.session_id, self.seen = server, session_id, seen
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            view = self.server.view(self.session_id)
            now = time.time()
            if view is not None:
                for job in view["jobs"]:
                    self.seen.rest_seen.setdefault(job["id"], now)
                summary = view["jobs_summary"]
                self.seen.rest_queued.append((now, summary["QUEUED"]))
                self.seen.pending = summary["QUEUED"] + summary["RUNNING"]
            self._stop.wait(0.02)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class PushListener:
    """The server's event socket, as the sidebar subscribes to it; notes which jobs each pushed
    view lists, and counts the monitor's frames by kind."""

    def __init__(self, server: Server) -> None:
        import websocket

        url = server.url.replace("http://", "ws://") + "api/events/subscribe"
        self.socket = websocket.create_connection(
            url, header=[f"Authorization: token {server.token}"], timeout=0.2
        )
        self.observations: dict[str, Observation] = {}
        self.kinds: dict[str, int] = {}
        self.bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import websocket

        while not self._stop.is_set():
            try:
                text = self.socket.recv()
            except websocket.WebSocketTimeoutException:
                continue
            except (websocket.WebSocketException, OSError):
                return
            now = time.time()
            frame = json.loads(text)
            if not str(frame.get("schema_id", "")).endswith(SCHEMA_SUFFIX):
                continue
            self.kinds[frame["kind"]] = self.kinds.get(frame["kind"], 0) + 1
            self.bytes += len(text)
            view = frame.get("session")
            seen = self.observations.get(frame.get("session_id", ""))
            if view is not None and seen is not None:
                for job in view["jobs"]:
                    seen.push_seen.setdefault(job["id"], now)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.socket.close()


# ---------------------------------------------------------------- scenarios


@dataclass
class Series:
    name: str
    target: float
    rest: list[float] = field(default_factory=list)
    push: list[float] = field(default_factory=list)
    submitted: int = 0
    missed: int = 0  # not counted within the cap (the series then stops)


@dataclass
class Burst:
    cell_seconds: float = 0.0
    counted_after: float | None = None  # seconds after the cell returned, or None
    wrong_after_settling: int = 0  # REST readings other than 40 once it said 40
    readings_after_settling: int = 0
    reads: int = 0  # job-list calls the service answered, cell start to settled (or cap)
    counts_seen: list[int] = field(default_factory=list)  # distinct QUEUED values, in order


def wait_counted(seen: Observation, job_id: str, cap: float) -> bool:
    """Wait until the REST view lists the job (at most ``cap`` s), then for the push (5 s)."""
    deadline = time.monotonic() + cap
    while job_id not in seen.rest_seen:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    deadline = time.monotonic() + 5.0
    while job_id not in seen.push_seen and time.monotonic() < deadline:
        time.sleep(0.01)
    return True


def record(series: Series, seen: Observation, job_id: str, at: float, cap: float) -> bool:
    series.submitted += 1
    if not wait_counted(seen, job_id, cap):
        series.missed += 1
        return False
    series.rest.append(seen.rest_seen[job_id] - at)
    if job_id in seen.push_seen:
        series.push.append(seen.push_seen[job_id] - at)
    return True


def kernel_series(
    server: Server,
    push: PushListener,
    kernel: Kernel,
    name: str,
    backend: str,
    target: float,
    submissions: int,
    cap: float,
) -> Series:
    series = Series(name, target)
    variable = f"s_{backend}"
    session_id = kernel.run(
        f"{variable}, sampler_{variable}, isa_{variable} = bench_open({backend!r})\n"
        f"print({variable}.session_id)"
    ).strip()
    server.wait_view(session_id, lambda v: v["last_polled_at"] is not None)
    seen = push.observations.setdefault(session_id, Observation())
    watcher = RestWatcher(server, session_id, seen)
    try:
        for _ in range(submissions):
            time.sleep(random.uniform(0.3, 1.0))
            line = kernel.run(f"bench_submit(sampler_{variable}, isa_{variable})")
            submitted = json.loads(line)
            if not record(series, seen, submitted["job"], submitted["at"], cap):
                break
    finally:
        watcher.stop()
        kernel.run(f"{variable}.cancel()")
    return series


def tracked_series(
    server: Server, push: PushListener, isa: Any, backend: Any, submissions: int, cap: float
) -> Series:
    from qiskit_ibm_runtime import SamplerV2, Session

    series = Series("tracked by id, behind another", ACTIVE_INTERVAL + 0.5)
    session = Session(backend=backend)
    status, _ = server.request(
        "POST", "session-monitor/api/sessions", {"session_id": session.session_id}
    )
    assert status in (200, 201), status
    server.wait_view(session.session_id, lambda v: v["stale"] is False)
    seen = push.observations.setdefault(session.session_id, Observation())
    watcher = RestWatcher(server, session.session_id, seen)
    sampler = SamplerV2(mode=session)
    try:
        for _ in range(submissions):
            # No job pending in the monitor's view, then a random moment of the poll cycle.
            deadline = time.monotonic() + cap
            while seen.pending != 0 and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(random.uniform(0.0, ACTIVE_INTERVAL))
            job = sampler.run([isa], shots=5)
            at = time.time()
            if not record(series, seen, job.job_id(), at, cap):
                break
            job.cancel()
    finally:
        watcher.stop()
        session.cancel()
    return series


def burst(server: Server, kernel: Kernel, emulator_url: str, cap: float) -> Burst:
    result = Burst()
    session_id = kernel.run(
        "s_burst, sampler_burst, isa_burst = bench_open('ibmq_manila')\nprint(s_burst.session_id)"
    ).strip()
    server.wait_view(session_id, lambda v: v["last_polled_at"] is not None)
    seen = Observation()
    watcher = RestWatcher(server, session_id, seen)
    time.sleep(1.0)
    started = time.time()
    kernel.run(f"jobs_burst = [sampler_burst.run([isa_burst], shots=5) for _ in range({BURST})]")
    returned = time.time()
    result.cell_seconds = returned - started
    deadline = returned + cap
    settled: float | None = None
    while time.time() < deadline:
        settled = next((t for t, n in seen.rest_queued if t >= returned and n == BURST), None)
        if settled is not None:
            break
        time.sleep(0.02)
    if settled is not None:
        result.counted_after = settled - returned
        time.sleep(5.0)  # then watch it for 5 s more
    watcher.stop()
    end = settled if settled is not None else deadline
    for _, queued in seen.rest_queued:
        if not result.counts_seen or result.counts_seen[-1] != queued:
            result.counts_seen.append(queued)
    if settled is not None:
        after = [n for t, n in seen.rest_queued if t >= settled]
        result.readings_after_settling = len(after)
        result.wrong_after_settling = sum(1 for n in after if n != BURST)
    result.reads = job_list_reads(emulator_url, started, end)
    kernel.run("s_burst.cancel()")
    return result


def job_list_reads(emulator_url: str, start: float, end: float) -> int:
    """Job-list calls (``GET .../jobs``) answered between two wall-clock times. The log has no
    query string, so they are the calls of every tracked session: the burst is run first."""
    with urllib.request.urlopen(f"{emulator_url}/emulator/requests", timeout=30) as response:  # noqa: S310
        log = json.loads(response.read())
    return sum(
        1
        for entry in log
        if entry["method"] == "GET"
        and entry["path"].rstrip("/").endswith("/api/v1/jobs")
        and start <= datetime.fromisoformat(entry["time"]).timestamp() <= end
    )


# ---------------------------------------------------------------- one variant


@dataclass
class Variant:
    label: str
    series: list[Series]
    burst: Burst
    kinds: dict[str, int]
    push_bytes: int
    seconds: float
    code_check: str


def holder_and_circuit(backend_name: str) -> tuple[Any, Any, Any]:
    """A session holding ``backend_name`` with one long running job."""
    from qiskit import QuantumCircuit
    from qiskit.transpiler import generate_preset_pass_manager
    from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2, Session

    backend = QiskitRuntimeService().backend(backend_name)
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(circuit)
    holder = Session(backend=backend)
    job = SamplerV2(mode=holder).run([isa], shots=5)
    deadline = time.monotonic() + 30
    while job.status() != "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.1)
    return holder, backend, isa


def run_variant(
    label: str, scratch: Path, code: Path | None, submissions: int, cap: float
) -> Variant:
    workdir = scratch / label.split()[0]
    workdir.mkdir()
    config = EmulatorConfig(time_scale=1.0, job_seconds=1800.0)  # a job runs 30 minutes
    with running_emulator(config) as emulator:
        os.environ.update(emulator.emulator.client_environment())
        env = dict(os.environ)
        if code is not None:
            env["PYTHONPATH"] = os.pathsep.join(
                [str(code), *filter(None, [os.environ.get("PYTHONPATH")])]
            )
        holder, backend, isa = holder_and_circuit("ibmq_manila")
        started = time.monotonic()
        with running_server(sys.executable, workdir, env=env) as (url, token):
            server = Server(url, token, workdir)
            kernel = Kernel(server, "freshness.ipynb")
            check = json.loads(kernel.run(KERNEL_CHECK))
            viewers, _ = server.request("POST", "session-monitor/api/viewers", {})
            root = str(code if code is not None else ROOT)

            def where(path: str) -> str:
                return "the same checkout" if path.startswith(root) else "ANOTHER checkout"

            code_check = (
                f"server: POST viewers -> {viewers} ({'new' if viewers == 204 else 'old'} "
                f"routes); kernel hook from {where(check['hook'])}, start-up file from "
                f"{where(check['startup'])}, installed={check['installed']}, coalescing "
                f"reports={check['coalescing']}"
            )
            print(f"[{label}] {code_check}", flush=True)
            kernel.run(KERNEL_SETUP)
            push = PushListener(server)
            try:
                print(f"[{label}] burst of {BURST} behind another session", flush=True)
                burst_result = burst(server, kernel, emulator.emulator.url, cap)
                series = []
                for name, backend_name, target in (
                    ("kernel, own backend", "ibmq_kolkata", 1.0),
                    ("kernel, behind another", "ibmq_manila", 1.0),
                ):
                    print(f"[{label}] {name}", flush=True)
                    series.append(
                        kernel_series(
                            server, push, kernel, name, backend_name, target, submissions, cap
                        )
                    )
                print(f"[{label}] tracked by id, behind another", flush=True)
                series.append(tracked_series(server, push, isa, backend, submissions, cap))
            finally:
                push.stop()
                kernel.close()
        holder.cancel()
    return Variant(
        label,
        series,
        burst_result,
        push.kinds,
        push.bytes,
        time.monotonic() - started,
        code_check,
    )


# ---------------------------------------------------------------- report


def fmt(values: list[float], fraction: float) -> str:
    return f"{percentile(values, fraction):.2f}" if values else "-"


def report(variants: list[Variant], cap: float) -> None:
    print()
    print("Seconds from sampler.run() returning to the job being listed (REST read every 20 ms)")
    header = (
        f"{'scenario':<30} {'code':<8} {'counted':>9} {'REST p50':>9} {'p95':>6} {'max':>6} "
        f"{'push p50':>9} {'p95':>6} {'target':>7}"
    )
    print(header)
    for index in range(len(variants[0].series)):
        for variant in variants:
            s = variant.series[index]
            counted = f"{len(s.rest)}/{s.submitted}"
            if s.missed:
                print(
                    f"{s.name:<30} {variant.label:<8} {counted:>9}   not counted within {cap:g} s "
                    f"(series stopped){'':>4} <= {s.target:g}"
                )
                continue
            print(
                f"{s.name:<30} {variant.label:<8} {counted:>9} {fmt(s.rest, 0.5):>9} "
                f"{fmt(s.rest, 0.95):>6} {max(s.rest):>6.2f} {fmt(s.push, 0.5):>9} "
                f"{fmt(s.push, 0.95):>6} {'<= ' + format(s.target, 'g'):>7}"
            )
    if len(variants) == 2:
        new, old = variants
        for s_new, s_old in zip(new.series, old.series, strict=True):
            if s_new.rest and s_old.rest and not s_old.missed:
                ratio = statistics.median(s_old.rest) / statistics.median(s_new.rest)
                print(f"{s_new.name}: REST p50 {old.label}/{new.label} = {ratio:.1f}x")
    print()
    print(f"Burst of {BURST} jobs from a notebook cell into a session waiting behind another")
    print(
        f"{'code':<8} {'cell':>7} {'40 queued after':>16} {'wrong after':>12} "
        f"{'job-list reads':>15}  counts seen"
    )
    for variant in variants:
        b = variant.burst
        after = f"{b.counted_after:.2f} s" if b.counted_after is not None else f"> {cap:g} s"
        wrong = f"{b.wrong_after_settling}/{b.readings_after_settling}"
        print(
            f"{variant.label:<8} {b.cell_seconds:>6.2f}s {after:>16} {wrong:>12} {b.reads:>15}  "
            f"{b.counts_seen[:12]}{' ...' if len(b.counts_seen) > 12 else ''}"
        )
    print()
    print("Pushed changes of the monitor over the whole run (all scenarios)")
    for variant in variants:
        total = sum(variant.kinds.values())
        print(
            f"{variant.label:<8} {total} frames in {variant.seconds:.0f} s "
            f"({60 * total / variant.seconds:.0f}/min, {variant.push_bytes / 1024:.0f} KiB): "
            f"{dict(sorted(variant.kinds.items()))}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=20, help="single jobs per scenario")
    parser.add_argument(
        "--before", default=BEFORE, help="the baseline's commit ('' to measure this code only)"
    )
    parser.add_argument(
        "--cap",
        type=float,
        default=35.0,
        help="seconds to wait for a count (the old idle poll interval is 30 s)",
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    os.environ["USAGE_DATA_OPT_OUT"] = "True"
    for name in ("QISKIT_IBM_NAME", "QISKIT_IBM_REGION", "QISKIT_IBM_PLANS_PREFERENCE"):
        os.environ.pop(name, None)
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["HOME"] = scratch
        variants = [run_variant("this", Path(scratch), None, args.submissions, args.cap)]
        if args.before:
            with checkout_at(args.before) as tree:
                variants.append(
                    run_variant(args.before, Path(scratch), tree, args.submissions, args.cap)
                )
    report(variants, args.cap)


if __name__ == "__main__":
    main()
