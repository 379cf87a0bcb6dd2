"""Money: how right the fit-check is at max TTL, how late a budget acts, and what the money
features cost in calls to the service.

A real Jupyter server with the extension, the unmodified client and the emulator in this process
at real time (its clock is never moved, so the server's clock and the service's agree). Sessions
are opened by this process with the client and tracked by id (``POST session-monitor/api/
sessions``); there are three backends, so at most three dedicated sessions run at once.

1. Fit-check accuracy. Sessions of 10, 20 and 40 jobs with a fixed run time per session (0.8,
   0.45 and 0.4 s, so each drains in 8-16 s) and a ``max_time`` (whole seconds, at least
   0.15 s from any job's start) chosen so that about 0 %, 30 % and 70 % of the jobs cannot start.
   Right after the jobs are submitted, ``GET sessions/{id}?fresh=true`` gives the monitor's
   ``fit``; then the session runs to its max TTL in real time and the jobs that failed with the
   max-TTL reason are counted in the emulator's own records. Twice: with the service's estimate
   (``estimated_running_time_seconds``, exact in the emulator) and with it withheld, so the
   monitor's basis is ``observed`` (the median run time of the session's finished jobs). The
   emulator has no switch for withholding it: this benchmark (not the package) wraps the
   emulator's job serialisation in this process so that the job bodies of chosen sessions carry
   no estimate; the real server then computes the fit from what it read. For ``observed`` the
   read waits until one job has finished (the median needs one). Plus two 40-job sessions whose
   run times vary (the emulator's run time is one setting; this benchmark changes it between
   submissions, and each job's estimate is still its exact run time): random 0.15-0.75 s, and
   growing from 0.15 to 0.75 s; for ``observed`` the read waits until five jobs have finished.
   Last, six sessions of 20 jobs of 0.45 s (max TTL 3 s) with the job list answered 0.3 s late
   (an emulator latency fault on ``GET /jobs``): a poll reads the session, then its job list, and
   a job that starts in between is listed as running while the session's ``last_job_started``
   is still the previous job's start.
2. Budget enforcement lag. A session budget in seconds with action ``close``, crossed in real time
   with nobody watching the server (no page, no REST reads), on a server with the default poll
   intervals and on one with the tests' fast intervals (0.2 / 0.3 / 0.5 s). Scenarios: ``idle``
   (one 0.5 s job, then billed idle inside the interactive TTL; the budget is set once the
   session is active), ``busy`` (20 jobs of 0.5 s queued; crossed while they run; a graceful
   close lets them finish), ``before start`` (the budget set on an open session, the job
   submitted 0.5-3 s later: the monitor learns of the start only at its next poll, as for any
   session tracked by id). Measured from the service's side: the crossing is when the session's
   billed time (its active periods, from its state timestamps) reached the budget; the close is
   the server's ``PATCH /sessions/{id}`` in the emulator's request log.
3. API cost. ``GET /instances/usage`` over the default server's life and in a 35 s window in which
   it sees one close, then two at once (closed through its API); the client's own calls (one per
   job submission) are counted apart. And the ``/metrics`` reads of ``GET sessions/{id}/timeline``
   for two 40-job sessions of part 1, on the first and the second request.

Run: .venv/bin/python bench/money.py [--runs 4] [--parts fit,budget,cost] [--seed 12] [--slow 6]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import queue
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jupyter_session_monitor.emulator import EmulatorConfig, wire  # noqa: E402
from jupyter_session_monitor.emulator import api as emulator_api  # noqa: E402
from jupyter_session_monitor.emulator.model import (  # noqa: E402
    FINAL_JOB_STATUSES,
    JobStatus,
    SessionState,
)
from jupyter_session_monitor.emulator.runner import EmulatorThread, running_emulator  # noqa: E402
from tests.harness import bell  # noqa: E402
from tests.server import running_server  # noqa: E402

BACKENDS = ("ibmq_manila", "ibmq_kolkata", "ibm_torino")
FAST = (
    "--SessionMonitorApp.poll_busy_interval=0.2",
    "--SessionMonitorApp.poll_active_interval=0.3",
    "--SessionMonitorApp.poll_idle_interval=0.5",
)
MAX_TTL_REASON = "maximum time to live"
#: An instance allowance far above what the run uses, so the usage readings carry a limit.
INSTANCE_LIMIT = 1_000_000.0

# ---------------------------------------------------------------- estimates withheld


#: Sessions whose job bodies carry no ``estimated_running_time_seconds`` (see the docstring).
WITHHELD: set[str] = set()
_job_body = wire.job_body


def _job_body_maybe_without_estimate(job: Any, service: Any, *, include_params: bool) -> Any:
    body = _job_body(job, service, include_params=include_params)
    if job.session_id in WITHHELD:
        body.pop("estimated_running_time_seconds", None)
    return body


emulator_api.job_body = _job_body_maybe_without_estimate  # type: ignore[attr-defined]


# ---------------------------------------------------------------- the emulator, from inside


class Emulator:
    def __init__(self, thread: EmulatorThread) -> None:
        self.thread = thread
        self.emulator = thread.emulator
        self.submit_lock = threading.Lock()  # the run time is one setting: submit one at a time

    def model(self, read: Callable[[Any], Any]) -> Any:
        """``read(service)`` on the emulator's loop, its state brought up to now first."""

        def run() -> Any:
            service = self.emulator.service
            service.advance(self.emulator.now())
            return read(service)

        return self.thread.call(run)

    def set_run_time(self, seconds: float) -> None:
        service = self.emulator.service
        self.thread.call(
            lambda: setattr(service, "durations", replace(service.durations, job_run=seconds))
        )

    def requests(self) -> list[Any]:
        return self.thread.call(lambda: list(self.emulator.requests))

    def admin(self, method: str, path: str, body: object = None) -> None:
        request = urllib.request.Request(  # noqa: S310 (loopback)
            f"{self.emulator.url}{path}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            response.read()

    def session(self, session_id: str) -> Any:
        return self.model(lambda s: s.sessions[session_id])

    def jobs(self, session_id: str) -> list[Any]:
        jobs: list[Any] = self.model(lambda s: [s.jobs[i] for i in s.sessions[session_id].job_ids])
        return jobs


def wait_for(check: Callable[[], Any], within: float, every: float = 0.02) -> Any:
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


def logged_at(record: Any) -> datetime:
    return datetime.fromisoformat(record.time)


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def active_periods(stamps: list[dict[str, str]], end: datetime) -> list[tuple[datetime, datetime]]:
    """The session's active periods (billed), from its state timestamps, up to ``end``."""
    periods, since = [], None
    for stamp in stamps:
        at = parse_iso(stamp["timestamp"])
        if stamp["status"] == SessionState.ACTIVE:
            since = since or at
        elif since is not None:
            periods.append((since, at))
            since = None
    if since is not None:
        periods.append((since, end))
    return periods


def billed_at(stamps: list[dict[str, str]], moment: datetime) -> float:
    return sum(
        max(0.0, (min(b, moment) - a).total_seconds()) for a, b in active_periods(stamps, moment)
    )


def crossing_of(stamps: list[dict[str, str]], budget: float, end: datetime) -> datetime | None:
    """When the billed time reached ``budget``."""
    spent = 0.0
    for a, b in active_periods(stamps, end):
        length = (b - a).total_seconds()
        if spent + length >= budget:
            return a + timedelta(seconds=budget - spent)
        spent += length
    return None


# ---------------------------------------------------------------- the server, from outside


class Server:
    def __init__(self, label: str, url: str, token: str) -> None:
        self.label, self.url, self.token = label, url, token

    def request(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        request = urllib.request.Request(  # noqa: S310 (loopback)
            f"{self.url}session-monitor/api/{path}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def track(self, session_id: str) -> None:
        status, body = self.request("POST", "sessions", {"session_id": session_id})
        if status not in (200, 201):
            raise RuntimeError(f"tracking {session_id}: {status} {body}")


class Client:
    """The unmodified client, one per worker thread."""

    def __init__(self, backend_name: str) -> None:
        from qiskit_ibm_runtime import QiskitRuntimeService

        self.service = QiskitRuntimeService()
        self.backend = self.service.backend(backend_name)
        self.isa = bell(self.backend)

    def session(self, max_time: int | None = None) -> Any:
        from qiskit_ibm_runtime import Session

        return Session(backend=self.backend, max_time=max_time)

    def submit(self, emulator: Emulator, session: Any, run_times: list[float]) -> int:
        from qiskit_ibm_runtime import SamplerV2

        sampler = SamplerV2(mode=session)
        with emulator.submit_lock:
            for seconds in run_times:
                emulator.set_run_time(seconds)
                sampler.run([self.isa], shots=5)
        return len(run_times)


def on_backends(clients: list[Client], work: list[Any], run: Callable[[Client, Any], None]) -> None:
    """Run each item of ``work`` on the first free backend (one thread per backend). The clients
    are made beforehand, one after another: made at once in threads, the client crashed the
    interpreter (a segmentation fault) now and then."""
    todo: queue.Queue[Any] = queue.Queue()
    for item in work:
        todo.put(item)
    failures: list[BaseException] = []

    def worker(client: Client) -> None:
        while True:
            try:
                item = todo.get_nowait()
            except queue.Empty:
                return
            try:
                run(client, item)
            except BaseException as error:
                failures.append(error)
                return

    threads = [threading.Thread(target=worker, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


class Counter:
    """The client's job submissions, whose ``GET /instances/usage`` is not the monitor's."""

    def __init__(self) -> None:
        self.submissions = 0
        self._lock = threading.Lock()

    def add(self, count: int) -> None:
        with self._lock:
            self.submissions += count


# ---------------------------------------------------------------- 1. fit-check accuracy


@dataclass
class FitCase:
    name: str
    basis: str  # what the monitor is given: "service_estimate" or "observed" (withheld)
    run_times: list[float]
    target: float  # share of the jobs meant not to start
    finished_first: int  # jobs finished before the read
    max_time: int = 0
    expected: int = 0  # jobs whose start falls at or after max TTL, by the run times
    session_id: str = ""
    fit: dict[str, Any] | None = None
    done_at_read: int = 0
    read_after: float = 0.0  # seconds from the session's start to the read
    failed: int = -1  # failed with the max-TTL reason
    other_failed: int = 0
    first_failed: str | None = None
    job_ids: list[str] = field(default_factory=list)

    @property
    def jobs(self) -> int:
        return len(self.run_times)


def choose_max_time(run_times: list[float], target: float, earliest: float) -> tuple[int, int]:
    """A whole number of seconds, at least 0.15 s from any job's start, that leaves about
    ``target`` of the jobs unstarted; and how many that is."""
    starts = [sum(run_times[:k]) for k in range(len(run_times))]
    best: tuple[float, int, int] | None = None
    for seconds in range(max(1, math.ceil(earliest)), math.ceil(sum(run_times)) + 3):
        if min(abs(seconds - s) for s in starts) < 0.15:
            continue
        failing = sum(1 for s in starts if s >= seconds)
        score = abs(failing / len(starts) - target)
        if best is None or score < best[0]:
            best = (score, seconds, failing)
    assert best is not None
    return best[1], best[2]


def fit_cases(seed: int) -> list[FitCase]:
    cases: list[FitCase] = []
    for basis in ("service_estimate", "observed"):
        for jobs, run_time in ((10, 0.8), (20, 0.45), (40, 0.4)):
            for target in (0.0, 0.3, 0.7):
                cases.append(
                    FitCase(
                        f"{jobs} jobs of {run_time:g} s, ~{target:.0%} fail",
                        basis,
                        [run_time] * jobs,
                        target,
                        1 if basis == "observed" else 0,
                    )
                )
        rng = random.Random(seed)
        shuffled = [round(rng.uniform(0.15, 0.75), 3) for _ in range(40)]
        growing = [round(0.15 + 0.6 * k / 39, 3) for k in range(40)]
        for name, times in (
            ("40 jobs, random 0.15-0.75 s", shuffled),
            ("40 jobs, growing 0.15-0.75 s", growing),
        ):
            cases.append(FitCase(name, basis, times, 0.5, 5 if basis == "observed" else 0))
    for case in cases:
        # Room for the submissions (about 20 ms each) and the finished jobs before the read.
        earliest = 0.03 * case.jobs + sum(case.run_times[: case.finished_first]) + 1.0
        case.max_time, case.expected = choose_max_time(case.run_times, case.target, earliest)
    return cases


def run_fit_case(emulator: Emulator, server: Server, counter: Counter) -> Callable[..., None]:
    def run(client: Client, case: FitCase) -> None:
        session = client.session(max_time=case.max_time)
        case.session_id = session.session_id
        server.track(case.session_id)
        if case.basis == "observed":
            WITHHELD.add(case.session_id)
        counter.add(client.submit(emulator, session, case.run_times))

        def finished() -> bool:
            jobs = emulator.jobs(case.session_id)
            return sum(j.status is JobStatus.COMPLETED for j in jobs) >= case.finished_first

        if not wait_for(finished, 30):
            raise RuntimeError(f"{case.name}: no job finished within 30 s")
        status, view = server.request("GET", f"sessions/{case.session_id}?fresh=true")
        assert status == 200, (status, view)
        case.fit = view["fit"]
        case.done_at_read = sum(j["status"] == "DONE" for j in view["jobs"])
        started = emulator.session(case.session_id).started_at
        case.read_after = (parse_iso(view["last_polled_at"]) - started).total_seconds()

        def all_final() -> bool:
            return all(j.status in FINAL_JOB_STATUSES for j in emulator.jobs(case.session_id))

        if not wait_for(all_final, case.max_time + sum(case.run_times) + 30, every=0.1):
            raise RuntimeError(f"{case.name}: jobs still pending")
        if emulator.session(case.session_id).state is not SessionState.CLOSED:
            session.close()  # all ran before max TTL: free the backend
        jobs = sorted(emulator.jobs(case.session_id), key=lambda j: j.created)
        case.job_ids = [j.id for j in jobs]
        at_max_ttl = [
            j for j in jobs if j.status is JobStatus.FAILED and MAX_TTL_REASON in (j.reason or "")
        ]
        case.failed = len(at_max_ttl)
        case.other_failed = sum(j.status is JobStatus.FAILED for j in jobs) - case.failed
        case.first_failed = at_max_ttl[0].id if at_max_ttl else None

    return run


def fit_part(
    clients: list[Client], emulator: Emulator, server: Server, counter: Counter, seed: int
) -> list[FitCase]:
    cases = fit_cases(seed)
    # Longest first, so that the three backends finish together.
    work = sorted(cases, key=lambda c: -min(c.max_time, sum(c.run_times)))
    on_backends(clients, work, run_fit_case(emulator, server, counter))
    return cases


def slow_list_part(
    clients: list[Client], emulator: Emulator, server: Server, counter: Counter, count: int
) -> list[FitCase]:
    """A poll reads the session, then its job list. With the job list answered 0.3 s late
    (``GET /jobs``, an emulator fault), a job that starts between the two reads is listed as
    running while the session's ``last_job_started`` is still the previous job's start."""
    cases = []
    for index in range(count):
        case = FitCase(
            f"20 jobs of 0.45 s, job list 0.3 s late, #{index + 1}",
            "slow list",
            [0.45] * 20,
            0.7,
            0,
        )
        case.max_time, case.expected = 3, 13
        cases.append(case)
    fault = {"kind": "latency", "route": "/jobs$", "methods": ["GET"], "seconds": 0.3}
    emulator.admin("POST", "/emulator/faults", fault)
    try:
        on_backends(clients, cases, run_fit_case(emulator, server, counter))
    finally:
        emulator.admin("DELETE", "/emulator/faults")
    return cases


# ---------------------------------------------------------------- 2. budget enforcement lag


@dataclass
class BudgetRun:
    server: Server
    scenario: str  # "idle", "busy", "before start"
    budget: float
    session_id: str = ""
    crossing: datetime | None = None
    accepted: datetime | None = None
    billed_at_accept: float | None = None
    billed_final: float | None = None
    outcome: str | None = None
    reads: int = 0  # the server's session reads (GET /sessions/{id}), start to close
    first_read: float | None = None  # seconds from the start to the server's first read

    @property
    def lag(self) -> float | None:
        if self.accepted is None or self.crossing is None:
            return None
        return (self.accepted - self.crossing).total_seconds()

    @property
    def over(self) -> float | None:
        return None if self.billed_at_accept is None else self.billed_at_accept - self.budget


SCENARIOS = ("idle", "busy", "before start")
BUSY_JOBS, BUDGET_JOB_SECONDS = 20, 0.5


def run_budget(emulator: Emulator, counter: Counter, rng: random.Random) -> Callable[..., None]:
    lock = threading.Lock()

    def active(session_id: str) -> bool:
        return emulator.session(session_id).state is SessionState.ACTIVE

    def run(client: Client, run: BudgetRun) -> None:
        server = run.server
        session = client.session()
        run.session_id = session.session_id
        budget = {"seconds": run.budget, "action": "close"}
        if run.scenario == "before start":
            server.track(run.session_id)
            status, body = server.request("PUT", f"sessions/{run.session_id}/budget", budget)
            assert status == 200, (status, body)
            with lock:
                pause = rng.uniform(0.5, 3.0)
            time.sleep(pause)
            counter.add(client.submit(emulator, session, [BUDGET_JOB_SECONDS]))
        else:
            jobs = BUSY_JOBS if run.scenario == "busy" else 1
            counter.add(client.submit(emulator, session, [BUDGET_JOB_SECONDS] * jobs))
            if not wait_for(lambda: active(run.session_id), 10):
                raise RuntimeError("the session did not start")
            server.track(run.session_id)
            status, body = server.request("PUT", f"sessions/{run.session_id}/budget", budget)
            assert status == 200, (status, body)

        def closed() -> bool:
            return emulator.session(run.session_id).state is SessionState.CLOSED

        if not wait_for(closed, run.budget + 70, every=0.05):
            session.cancel()  # the budget did not act: free the backend
            wait_for(closed, 10)

    return run


def budget_part(
    clients: list[Client],
    emulator: Emulator,
    servers: list[Server],
    counter: Counter,
    runs: int,
    seed: int,
) -> list[BudgetRun]:
    rng = random.Random(seed)
    sizes = {"idle": (8.0, 14.0), "busy": (4.0, 7.0), "before start": (8.0, 12.0)}
    work = [
        BudgetRun(server, scenario, round(rng.uniform(*sizes[scenario]), 1))
        for _ in range(runs)
        for scenario in SCENARIOS
        for server in servers
    ]
    emulator.set_run_time(BUDGET_JOB_SECONDS)
    on_backends(clients, work, run_budget(emulator, counter, rng))
    log = emulator.requests()
    for run in work:
        record = emulator.session(run.session_id)
        end = record.closed_at or emulator.emulator.now()
        stamps = list(record.timestamps)
        run.crossing = crossing_of(stamps, run.budget, end)
        patches = [
            logged_at(r)
            for r in log
            if r.method == "PATCH" and r.path.endswith(f"/sessions/{run.session_id}")
        ]
        run.accepted = min(patches) if patches else None
        if run.accepted is not None:
            run.billed_at_accept = billed_at(stamps, run.accepted)
        run.billed_final = record.elapsed(end)
        if record.started_at is not None:
            reads = [
                logged_at(r)
                for r in log
                if r.method == "GET"
                and r.path.endswith(f"/sessions/{run.session_id}")
                and record.started_at <= logged_at(r) <= (run.accepted or end)
            ]
            run.reads = len(reads)
            if reads:
                run.first_read = (min(reads) - record.started_at).total_seconds()
        _, view = run.server.request("GET", f"sessions/{run.session_id}")
        run.outcome = ((view or {}).get("budget") or {}).get("outcome")
    return work


# ---------------------------------------------------------------- 3. API cost


@dataclass
class Cost:
    window: float = 0.0
    window_calls: list[float] = field(default_factory=list)  # seconds after the window opened
    closes: list[float] = field(default_factory=list)  # PATCH times, same origin
    life_minutes: float = 0.0
    life_calls: int = 0
    client_calls: int = 0
    sessions_closed: int = 0
    tracked: list[str] = field(default_factory=list)  # the window's sessions
    timeline: list[tuple[str, int, int, int, float, float]] = field(default_factory=list)


USAGE_PATH = "/instances/usage"


def usage_window(
    clients: list[Client], emulator: Emulator, server: Server, counter: Counter, cost: Cost
) -> None:
    """One close, then two at once 15 s later, through the server's API; no submission in the
    window, so every ``GET /instances/usage`` in it is the monitor's."""
    ids = []
    for client in clients:
        session = client.session()
        counter.add(client.submit(emulator, session, [0.2]))
        ids.append(session.session_id)
    cost.tracked = ids
    for session_id in ids:
        if not wait_for(partial(lambda i: emulator.session(i).started_at, session_id), 10):
            raise RuntimeError("the session did not start")
        server.track(session_id)
    time.sleep(4.0)  # the reading for a newly seen account (2 s after) is done
    opened = datetime.now(UTC)
    cost.window = 35.0
    closes = [[ids[0]], [], [], ids[1:]]  # at 0 s and 15 s (every 5 s a step)
    for step in closes:
        for session_id in step:
            status, body = server.request("POST", f"sessions/{session_id}/close", {})
            assert status in (200, 202), (status, body)
        time.sleep(5.0)
    time.sleep(cost.window - 5.0 * len(closes))
    closed = datetime.now(UTC)
    for record in emulator.requests():
        at = logged_at(record)
        if not opened <= at <= closed:
            continue
        if record.path.endswith(USAGE_PATH):
            cost.window_calls.append((at - opened).total_seconds())
        if record.method == "PATCH" and any(record.path.endswith(f"/{i}") for i in ids):
            cost.closes.append((at - opened).total_seconds())


def timeline_reads(emulator: Emulator, server: Server, cases: list[FitCase], cost: Cost) -> None:
    chosen = [
        c
        for c in cases
        if c.basis == "service_estimate" and c.jobs == 40 and c.target in (0.0, 0.7)
    ]
    for case in chosen:
        counts, times = [], []
        for _ in range(2):
            before = sum(r.path.endswith("/metrics") for r in emulator.requests())
            started = time.monotonic()
            status, body = server.request("GET", f"sessions/{case.session_id}/timeline")
            times.append(time.monotonic() - started)
            assert status == 200, (status, body)
            time.sleep(0.3)  # the log records a request once it is answered
            counts.append(sum(r.path.endswith("/metrics") for r in emulator.requests()) - before)
        label = f"{case.jobs} jobs, {case.jobs - case.failed} ran, {case.failed} failed at max TTL"
        cost.timeline.append((label, case.jobs, counts[0], counts[1], times[0], times[1]))


# ---------------------------------------------------------------- report


def median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def report_fit(cases: list[FitCase], slow: list[FitCase]) -> None:
    print("\n1. Fit-check: predicted at the read against what failed at max TTL")
    print(
        "| session | basis given | max TTL | read after start | done / queued at read "
        "| basis shown | drain predicted / by the run times | predicted to fail "
        "| failed at max TTL | error | first failing job |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for case in cases:
        fit = case.fit or {}
        predicted = fit.get("expected_to_fail")
        error = "-" if predicted is None else f"{predicted - case.failed:+d}"
        first = fit.get("first_failing_job")
        first_text = (
            "-"
            if first is None and case.first_failed is None
            else ("right" if first == case.first_failed else "wrong")
        )
        given = "estimate" if case.basis == "service_estimate" else "withheld"
        drain = fit.get("drain_seconds")
        drain_text = "-" if drain is None else f"{drain:.1f}"
        print(
            f"| {case.name} | {given} | {case.max_time} s | {case.read_after:.2f} s "
            f"| {case.done_at_read} / {fit.get('queued')} | {fit.get('basis')} "
            f"| {drain_text} / {sum(case.run_times) - case.read_after:.1f} s "
            f"| {predicted} | {case.failed} of {case.jobs} | {error} | {first_text} |"
        )
        if case.other_failed:
            print(f"|   ({case.other_failed} failed otherwise) |")
        if case.expected != case.failed:
            print(f"|   (by the run times {case.expected} should have failed) |")
    for basis in ("service_estimate", "observed"):
        errors = [
            abs(c.fit["expected_to_fail"] - c.failed)
            for c in cases
            if c.basis == basis and c.fit and c.fit.get("expected_to_fail") is not None
        ]
        print(
            f"{basis}: {len(errors)} sessions, mean |error| {statistics.fmean(errors):.2f} jobs, "
            f"max {max(errors)}, exact {sum(e == 0 for e in errors)}"
            if errors
            else f"{basis}: no prediction"
        )
    if slow:
        print("\nThe same 20 x 0.45 s session (max TTL 3 s), the job list answered 0.3 s late:")
        for case in slow:
            fit = case.fit or {}
            print(
                f"  #{slow.index(case) + 1}: read {case.read_after:.2f} s after the start, "
                f"drain {fit.get('drain_seconds')} s, predicted {fit.get('expected_to_fail')}, "
                f"failed {case.failed}"
            )
        wrong = sum(1 for c in slow if (c.fit or {}).get("expected_to_fail") != c.failed)
        print(f"  {wrong} of {len(slow)} predictions wrong")


def report_budget(runs: list[BudgetRun]) -> None:
    print("\n2. Budget enforcement (close), nobody watching the server")
    print(
        "| server | scenario | runs | closed by the budget | billed past the budget at the close, "
        "median / max | crossing to close, median / max | billed in the end, past the budget, "
        "median / max |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for label in dict.fromkeys(r.server.label for r in runs):
        for scenario in SCENARIOS:
            group = [r for r in runs if r.server.label == label and r.scenario == scenario]
            if not group:
                continue
            over = [r.over for r in group if r.over is not None]
            lags = [r.lag for r in group if r.lag is not None]
            final = [r.billed_final - r.budget for r in group if r.billed_final is not None]
            acted = sum(1 for r in group if r.outcome and r.outcome.startswith("closed"))
            print(
                f"| {label} | {scenario} | {len(group)} | {acted} "
                f"| {median(over):.2f} / {max(over, default=math.nan):.2f} s "
                f"| {median(lags):.2f} / {max(lags, default=math.nan):.2f} s "
                f"| {median(final):.2f} / {max(final, default=math.nan):.2f} s |"
            )
    for run in runs:
        print(
            f"  {run.server.label:<8} {run.scenario:<13} budget {run.budget:5.1f} s, "
            f"lag {run.lag if run.lag is None else round(run.lag, 2)} s, "
            f"billed at close {run.billed_at_accept and round(run.billed_at_accept, 2)} s, "
            f"in the end {run.billed_final and round(run.billed_final, 2)} s; "
            f"{run.reads} session reads from the start to the close, the first after "
            f"{run.first_read and round(run.first_read, 2)} s; {run.outcome}"
        )


def report_cost(cost: Cost) -> None:
    print("\n3. API cost")
    if cost.life_minutes:
        print(
            f"GET /instances/usage over the default server's life ({cost.life_minutes:.1f} min, "
            f"{cost.sessions_closed} of its sessions closed): {cost.life_calls} by the monitor "
            f"({cost.life_calls / cost.life_minutes:.1f} per minute), and {cost.client_calls} by "
            "the client (one per job submission)"
        )
    if cost.window:
        gaps = []
        for close in cost.closes:
            after = [c - close for c in cost.window_calls if c >= close]
            gaps.append(round(min(after), 2) if after else None)
        print(
            f"window of {cost.window:.0f} s: closes accepted at "
            f"{[round(c, 2) for c in cost.closes]} s; usage read at "
            f"{[round(c, 2) for c in cost.window_calls]} s "
            f"({len(cost.window_calls)} calls, {60 * len(cost.window_calls) / cost.window:.1f} "
            f"per minute); from each close to the next reading {gaps} s"
        )
    if cost.timeline:
        print(
            "| session | job-metrics reads, first request | second request | time, first / second |"
        )
        print("| --- | --- | --- | --- |")
        for label, _, first, second, t1, t2 in cost.timeline:
            print(f"| {label} | {first} | {second} | {1000 * t1:.0f} / {1000 * t2:.0f} ms |")


# ---------------------------------------------------------------- main


@contextlib.contextmanager
def server_at(label: str, workdir: Path, *args: str) -> Iterator[Server]:
    workdir.mkdir()
    with running_server(sys.executable, workdir, *args, env=dict(os.environ)) as (url, token):
        yield Server(label, url, token)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4, help="budget runs per scenario and server")
    parser.add_argument("--parts", default="fit,budget,cost", help="which, comma-separated")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--slow", type=int, default=6, help="sessions with the job list late")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    warnings.simplefilter("ignore")
    os.environ["USAGE_DATA_OPT_OUT"] = "True"
    for name in ("QISKIT_IBM_NAME", "QISKIT_IBM_REGION", "QISKIT_IBM_PLANS_PREFERENCE"):
        os.environ.pop(name, None)
    began = time.monotonic()
    counter = Counter()
    cases: list[FitCase] = []
    slow: list[FitCase] = []
    runs: list[BudgetRun] = []
    cost = Cost()
    config = EmulatorConfig(job_seconds=0.5, instance_limit=INSTANCE_LIMIT)
    with tempfile.TemporaryDirectory() as scratch, running_emulator(config) as thread:
        os.environ["HOME"] = scratch
        os.environ.update(thread.emulator.client_environment())
        emulator = Emulator(thread)
        clients = [Client(name) for name in BACKENDS]
        with server_at("default", Path(scratch) / "default") as default:
            started = datetime.now(UTC)
            if "budget" in parts:
                with server_at(
                    "fast",
                    Path(scratch) / "fast",
                    *FAST,
                    "--SessionMonitorApp.instance_usage_interval=0",
                ) as fast:
                    print("budgets ...", flush=True)
                    runs = budget_part(
                        clients, emulator, [default, fast], counter, args.runs, args.seed
                    )
            if "fit" in parts:
                print("fit-check ...", flush=True)
                cases = fit_part(clients, emulator, default, counter, args.seed)
                slow = slow_list_part(clients, emulator, default, counter, args.slow)
            if "cost" in parts:
                print("API cost ...", flush=True)
                timeline_reads(emulator, default, cases, cost)
                usage_window(clients, emulator, default, counter, cost)
            ended = datetime.now(UTC)
            log = emulator.requests()
            default_ids = [c.session_id for c in cases + slow] + cost.tracked
            default_ids += [r.session_id for r in runs if r.server is default]
        cost.life_minutes = (ended - started).total_seconds() / 60
        usage = sum(1 for r in log if r.path.endswith(USAGE_PATH) and started <= logged_at(r))
        cost.client_calls = counter.submissions
        cost.life_calls = usage - counter.submissions
        ids = [i for i in default_ids if i]
        cost.sessions_closed = sum(emulator.session(i).state is SessionState.CLOSED for i in ids)
    if cases:
        report_fit(cases, slow)
    if runs:
        report_budget(runs)
    report_cost(cost)
    print(f"\n{time.monotonic() - began:.0f} s in all")


if __name__ == "__main__":
    main()
