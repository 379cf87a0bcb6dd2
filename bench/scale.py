"""Event-loop lag and memory while the monitor tracks 200 sessions over a slow service.

The emulator answers every runtime call after a random 50 ms - 2 s. The monitor (its real
scheduler, gateway, store) tracks 200 open sessions in this process. A probe measures how late a
10 ms sleep wakes up on the monitor's event loop: first with nothing tracked (the baseline), then
while the 200 sessions are polled. Memory is the growth of the process's resident set (RSS). Also
counted: the changes the monitor emits to its listeners (the push channel) and the runtime calls
the emulator answered, both during the loaded phase.

``--before REV`` measures the code of an older commit too, in the same run (a temporary git
worktree, in a child process that imports the monitor from it: ``--code DIR``).

Run: .venv/bin/python bench/scale.py [--sessions 200] [--window 30] [--before 80214d0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The monitor is imported in main(), from this checkout or from --code.


def rss() -> int:
    """Resident set size of this process, in bytes (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


async def lag_probe(seconds: float) -> list[float]:
    """Milliseconds by which a 10 ms sleep overshoots, sampled for ``seconds``."""
    loop = asyncio.get_running_loop()
    lags: list[float] = []
    stop = loop.time() + seconds
    while loop.time() < stop:
        before = loop.time()
        await asyncio.sleep(0.01)
        lags.append((loop.time() - before - 0.01) * 1000)
    return lags


def summary(lags: list[float]) -> str:
    ordered = sorted(lags)
    p99 = ordered[int(0.99 * (len(ordered) - 1))]
    return f"{statistics.median(ordered):>7.2f} {p99:>7.2f} {ordered[-1]:>8.2f}"


def _log_length(emulator_url: str) -> int:
    with urllib.request.urlopen(f"{emulator_url}/emulator/requests", timeout=30) as response:  # noqa: S310
        return len(json.loads(response.read()))


async def run(
    session_ids: list[str], window: float, scratch: Path, emulator_url: str, watched: bool
) -> None:
    from jupyter_session_monitor.domain.models import AccountRef
    from jupyter_session_monitor.engine.monitor import MonitorConfig
    from jupyter_session_monitor.policies.monitor import SessionMonitor
    from jupyter_session_monitor.registry.store import Store
    from jupyter_session_monitor.service.runtime import RuntimeGateway

    monitor = SessionMonitor(
        Store(scratch / "registry.sqlite"),
        RuntimeGateway(max_workers=16, request_timeout=20),
        MonitorConfig(),
    )
    await monitor.start()
    baseline = await lag_probe(min(10.0, window))

    emitted: Counter[str] = Counter()

    def count(change: dict[str, Any]) -> None:
        emitted[str(change["kind"])] += 1

    monitor.subscribe(count)

    async def phase(probe_seconds: float) -> tuple[list[float], dict[str, int], int, float]:
        """Lag samples, changes emitted and service requests answered over one probe."""
        emitted.clear()
        calls_before = await asyncio.to_thread(_log_length, emulator_url)
        began = time.monotonic()
        lags = await lag_probe(probe_seconds)
        calls = await asyncio.to_thread(_log_length, emulator_url) - calls_before
        return lags, dict(emitted), calls, time.monotonic() - began

    async def watching() -> None:  # as a visible page says every half minute (POST viewers)
        while True:
            monitor.watched_now()
            await asyncio.sleep(10)

    watcher = asyncio.create_task(watching()) if watched else None
    before = rss()
    started = time.monotonic()
    semaphore = asyncio.Semaphore(16)

    async def track(session_id: str) -> None:
        async with semaphore:
            await monitor.track(session_id, AccountRef())

    tracking = asyncio.gather(*(track(s) for s in session_ids))
    loaded = await phase(window)
    tracked_by_then = len(monitor.sessions)
    await tracking
    tracked_in = time.monotonic() - started
    steady = await phase(window)
    after = rss()
    polled = sum(1 for s in monitor.sessions.values() if s.last_polled_at is not None)
    errors = Counter(str((s.error or {}).get("kind")) for s in monitor.sessions.values() if s.stale)
    if watcher is not None:
        watcher.cancel()
    await monitor.stop()

    seen = "a page watching" if watched else "nobody watching"
    print(
        f"event-loop lag of a 10 ms sleep (ms), {len(session_ids)} sessions, 50 ms-2 s latency, "
        f"{seen}"
    )
    print(f"{'phase':<36} {'p50':>7} {'p99':>7} {'max':>8}")
    print(f"{'baseline (nothing tracked)':<36} {summary(baseline)}")
    print(f"{'tracking + polling (first window)':<36} {summary(loaded[0])}")
    print(f"{'polling, all tracked (next window)':<36} {summary(steady[0])}")
    for name, lags in (("tracking", loaded[0]), ("all tracked", steady[0])):
        ratio = statistics.median(lags) / max(statistics.median(baseline), 1e-6)
        print(f"p50 ratio {name}/baseline: {ratio:.2f}x")
    print(
        f"memory: RSS +{(after - before) / 2**20:.1f} MiB for {len(session_ids)} sessions "
        f"({(after - before) / len(session_ids) / 1024:.1f} KiB each, "
        "thread pool and clients included)"
    )
    print(
        f"all {polled} sessions tracked and polled; tracking took {tracked_in:.1f} s "
        f"({tracked_by_then} tracked at the end of the first window)"
    )
    for name, (_, kinds, calls, seconds) in (("first", loaded), ("next", steady)):
        print(
            f"{name} window ({seconds:.0f} s): {sum(kinds.values())} changes emitted to listeners "
            f"{dict(sorted(kinds.items()))}, {calls} requests answered by the service"
        )
    print(f"stale at the end: {sum(errors.values())} {dict(errors)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--window", type=float, default=30.0)
    parser.add_argument("--code", default="", help="import the monitor from this checkout")
    parser.add_argument("--before", default="", help="also measure this commit's code (first)")
    parser.add_argument(
        "--watched", action="store_true", help="a page is watching (polls at full pace)"
    )
    args = parser.parse_args()
    if args.before:
        sys.path.insert(0, str(ROOT))
        from bench.freshness import checkout_at

        with checkout_at(args.before) as tree:
            print(f"--- code at {args.before}", flush=True)
            command = [sys.executable, __file__, "--code", str(tree)]
            command += ["--sessions", str(args.sessions), "--window", str(args.window)]
            command += ["--watched"] if args.watched else []
            subprocess.run(command, check=True)
        print("--- this code", flush=True)
    sys.path.insert(0, args.code or str(ROOT))
    from jupyter_session_monitor.emulator import EmulatorConfig
    from jupyter_session_monitor.emulator.runner import running_emulator

    warnings.simplefilter("ignore")
    os.environ["USAGE_DATA_OPT_OUT"] = "True"
    with tempfile.TemporaryDirectory() as scratch, running_emulator(EmulatorConfig()) as emulator:
        os.environ["HOME"] = scratch
        os.environ.update(emulator.emulator.client_environment())
        from qiskit_ibm_runtime import QiskitRuntimeService, Session

        backend = QiskitRuntimeService().backend("ibmq_manila")
        session_ids = [Session(backend=backend).session_id for _ in range(args.sessions)]
        fault = json.dumps(
            {"kind": "latency", "seconds": 0.05, "max_seconds": 2.0, "route": "/experimental/"}
        ).encode()
        request = urllib.request.Request(  # noqa: S310 (loopback)
            f"{emulator.emulator.url}/emulator/faults", data=fault, method="POST"
        )
        urllib.request.urlopen(request, timeout=10).close()  # noqa: S310
        url = emulator.emulator.url
        asyncio.run(run(session_ids, args.window, Path(scratch), url, args.watched))


if __name__ == "__main__":
    main()
