"""Event-loop lag and memory while the monitor tracks 200 sessions over a slow service.

The emulator answers every runtime call after a random 50 ms - 2 s. The monitor (its real
scheduler, gateway, store) tracks 200 open sessions in this process. A probe measures how late a
10 ms sleep wakes up on the monitor's event loop: first with nothing tracked (the baseline), then
while the 200 sessions are polled. Memory is the growth of the process's resident set (RSS).

Run: .venv/bin/python bench/scale.py [--sessions 200] [--window 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jupyter_session_monitor.emulator import EmulatorConfig
from jupyter_session_monitor.emulator.runner import running_emulator
from jupyter_session_monitor.models import AccountRef
from jupyter_session_monitor.monitor import MonitorConfig, SessionMonitor
from jupyter_session_monitor.runtime import RuntimeGateway
from jupyter_session_monitor.store import Store


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


async def run(session_ids: list[str], window: float, scratch: Path) -> None:
    monitor = SessionMonitor(
        Store(scratch / "registry.sqlite"),
        RuntimeGateway(max_workers=16, request_timeout=20),
        MonitorConfig(),
    )
    await monitor.start()
    baseline = await lag_probe(min(10.0, window))

    before = rss()
    started = time.monotonic()
    semaphore = asyncio.Semaphore(16)

    async def track(session_id: str) -> None:
        async with semaphore:
            await monitor.track(session_id, AccountRef())

    tracking = asyncio.gather(*(track(s) for s in session_ids))
    loaded = await lag_probe(window)
    await tracking
    tracked_in = time.monotonic() - started
    after = rss()
    polled = sum(1 for s in monitor.sessions.values() if s.last_polled_at is not None)
    await monitor.stop()

    print(f"event-loop lag of a 10 ms sleep (ms), {len(session_ids)} sessions, 50 ms-2 s latency")
    print(f"{'phase':<28} {'p50':>7} {'p99':>7} {'max':>8}")
    print(f"{'baseline (nothing tracked)':<28} {summary(baseline)}")
    print(f"{'tracking + polling':<28} {summary(loaded)}")
    ratio = statistics.median(loaded) / max(statistics.median(baseline), 1e-6)
    print(f"p50 ratio loaded/baseline: {ratio:.2f}x")
    print(
        f"memory: RSS +{(after - before) / 2**20:.1f} MiB for {len(session_ids)} sessions "
        f"({(after - before) / len(session_ids) / 1024:.1f} KiB each, "
        "thread pool and clients included)"
    )
    print(f"all {polled} sessions tracked and polled; tracking took {tracked_in:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--window", type=float, default=30.0)
    args = parser.parse_args()
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
        asyncio.run(run(session_ids, args.window, Path(scratch)))


if __name__ == "__main__":
    main()
