"""What another process's lock on the registry costs the Jupyter server (#25 item 12).

A second server, a backup or a ``sqlite3`` shell holds the registry's write lock for ``--hold``
seconds while the monitor polls one session every ``--every`` seconds (each poll saves it) and
closes it half-way. Measured on the event loop by a 10 ms ticker: the longest stall, the time it
was blocked in all (ticks late by more than 50 ms), and how many polls and closes came through;
then how long after the lock is gone the registry holds the close.

Each variant runs in its own process, with this code or (``--before REV``) an older commit's
(a temporary git worktree first on its PYTHONPATH), against the same scripted gateway.

Run: .venv/bin/python bench/registry_lock.py [--hold 12] [--every 1] [--before REV]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.freshness import ROOT, checkout_at

#: The scenario, run in a child process (so each variant imports its own code).
DRIVER = r"""
import asyncio, contextlib, json, sqlite3, sys, tempfile, time
from pathlib import Path

from jupyter_session_monitor.domain.models import AccountRef
from jupyter_session_monitor.engine.monitor import MonitorConfig
from jupyter_session_monitor.policies.monitor import SessionMonitor
from jupyter_session_monitor.registry.store import Store

HOLD, EVERY = float(sys.argv[1]), float(sys.argv[2])


class Gateway:
    async def session(self, account, session_id):
        return {"id": session_id, "state": "active", "accepting_jobs": True,
                "backend_name": "b", "mode": "dedicated", "elapsed_time": 1.0}

    async def session_for_action(self, account, session_id):
        return await self.session(account, session_id)

    async def session_jobs(self, account, session_id, *, limit, skip=0):
        return [], 0

    async def close(self, account, session_id):
        pass

    async def instance_usage(self, account):
        return {}

    def clock_offset(self, account):
        return 0.0

    def shutdown(self):
        pass


async def main():
    path = Path(tempfile.mkdtemp()) / "registry.sqlite"
    monitor = SessionMonitor(Store(path, server_id="a"), Gateway(), MonitorConfig())
    await monitor.start()
    await monitor.track("s1", AccountRef())
    other = sqlite3.connect(path, isolation_level=None)
    loop = asyncio.get_running_loop()
    lags = []

    async def tick():
        while True:
            before = loop.time()
            await asyncio.sleep(0.01)
            lags.append(loop.time() - before - 0.01)

    ticker = asyncio.ensure_future(tick())
    other.execute("BEGIN IMMEDIATE")
    start, polls, failed, closed = loop.time(), 0, 0, False
    while loop.time() - start < HOLD:
        try:
            if not closed and loop.time() - start >= HOLD / 2:
                await monitor.close("s1", "bench")
                closed = True
            else:
                await monitor.refresh("s1", within=EVERY)
                polls += 1
        except Exception:
            failed += 1
        await asyncio.sleep(EVERY)
    ticker.cancel()
    other.execute("ROLLBACK")
    released = time.monotonic()
    landed = None
    while time.monotonic() - released < 30:
        row = other.execute("SELECT last_action FROM sessions WHERE id='s1'").fetchone()
        if row and row[0] == "close":
            landed = time.monotonic() - released
            break
        await asyncio.sleep(0.01)
    other.close()
    with contextlib.suppress(Exception):
        await monitor.stop()
    print(json.dumps({
        "worst": max(lags), "blocked": sum(l for l in lags if l > 0.05),
        "polls": polls, "failed": failed, "closed": closed, "landed": landed,
    }))


asyncio.run(main())
"""


def run(code: Path, hold: float, every: float) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(code)}
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(hold), str(every)],
        cwd=code,  # "-c" puts the working directory first on the path
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=hold * 10 + 120,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hold", type=float, default=12.0, help="seconds the lock is held")
    parser.add_argument("--every", type=float, default=1.0, help="seconds between polls")
    parser.add_argument("--before", default="", help="also measure this commit's code")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        variants = [("this code", ROOT)]
        if args.before:
            variants.append((f"at {args.before}", stack.enter_context(checkout_at(args.before))))
        print(f"lock held {args.hold:.0f} s, a poll every {args.every:.1f} s, a close half-way")
        print(
            f"{'variant':<16} {'worst stall':>12} {'blocked in all':>15} {'polls':>6} "
            f"{'failed':>7} {'close in file after':>20}"
        )
        results = {}
        for name, code in variants:
            result = run(code, args.hold, args.every)
            results[name] = result
            landed = "never" if result["landed"] is None else f"{result['landed']:.2f} s"
            print(
                f"{name:<16} {result['worst']:>10.3f} s {result['blocked']:>13.2f} s "
                f"{result['polls']:>6.0f} {result['failed']:>7.0f} {landed:>20}"
            )
        if len(results) == 2:
            mine, older = results.values()
            print(
                f"ratio worst stall before/this: {older['worst'] / max(mine['worst'], 1e-3):.1f}x"
            )


if __name__ == "__main__":
    main()
