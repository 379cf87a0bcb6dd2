"""Recovery after faults: how soon every tracked session is fresh again once the service recovers.

A real Jupyter server with the extension (the app's poll intervals and backoff at their defaults;
``--SessionMonitorApp.request_timeout`` set to ``--request-timeout``, 5 s, instead of 20 s), the
emulator in this process, and six sessions opened by this process with the unmodified client and
tracked by id (``POST session-monitor/api/sessions``). For each fault, on six new sessions: the
server polls them normally for ``--settle`` seconds, the fault is injected and kept for
``--window`` seconds, then cleared. Measured: the seconds from the clearing to every session being
fresh again, i.e. ``GET session-monitor/api/sessions`` (read every 0.2 s, which also tells the
monitor that a page is watching) shows it with ``stale: false`` and a ``last_polled_at`` later than
the clearing; a session's figure is its ``last_polled_at`` (the end of the poll that brought it
back) minus the clearing. Also recorded: the error ``kind`` the sessions showed meanwhile.

Faults (the emulator's ``POST /emulator/faults``):

- ``429``: every session GET (``/sessions/``) answers 429 with ``Retry-After: 10``;
- ``hang``: every session GET hangs until the faults are cleared. During the hang, once every
  session shows stale (every poll has met the hang), a Close of one of the six is timed
  (``POST session-monitor/api/sessions/{id}/close``); the hang is kept on past ``--window``, by
  at most ``HANG_EXTRA`` seconds, if that takes longer, and cleared 2 s after the Close at the
  earliest. The report gives the seconds it was on;
- ``401``: every request answers 401 (``token_expiry``), login included;
- ``restart``: no fault; the emulator's logins are forgotten (``tokens.clear()``, what a restarted
  service does) and the clock starts then: the sessions go stale ("unauthorized") until the
  monitor logs in again.

Baseline, in the same run: the same against the code of ``--before`` (a git worktree in the
temporary directory, removed at the end; the server runs with it first on PYTHONPATH and must
answer 404 to ``POST session-monitor/api/viewers``, a route the old code does not have). Waits
for recovery are capped at ``--cap`` seconds.

Run: .venv/bin/python bench/recovery.py [--window 30] [--cap 300] [--before 80214d0]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jupyter_session_monitor.emulator import EmulatorConfig  # noqa: E402
from jupyter_session_monitor.emulator.runner import EmulatorThread, running_emulator  # noqa: E402
from tests.server import running_server  # noqa: E402

#: The commit before "Recovery: user actions on their own threads; ... Retry-After honoured;
#: a 401 drops the cached login" (and before the job-list reads the other benchmarks compare).
BEFORE = "80214d0"
SESSIONS = 6
FAULTS = ("429", "hang", "401", "restart")
RETRY_AFTER = 10
READ_EVERY = 0.2
#: The hang stays on past the window, by at most this, until the Close has been timed.
HANG_EXTRA = 30.0

FAULT_SPECS: dict[str, dict[str, Any]] = {
    "429": {
        "kind": "status",
        "status": 429,
        "retry_after": RETRY_AFTER,
        "route": "/sessions/",
        "methods": ["GET"],
    },
    "hang": {"kind": "hang", "route": "/sessions/", "methods": ["GET"]},
    "401": {"kind": "token_expiry"},
}


@contextlib.contextmanager
def worktree_at(revision: str) -> Iterator[Path]:
    """A git worktree of ``revision`` at ``<tmp>/recovery-before``, removed on exit."""
    tree = Path(tempfile.gettempdir()) / "recovery-before"
    git = ["git", "-C", str(ROOT), "worktree"]
    if tree.exists():  # left by an interrupted run
        subprocess.run([*git, "remove", "--force", str(tree)], check=False)
        shutil.rmtree(tree, ignore_errors=True)
    subprocess.run([*git, "prune"], check=False)
    subprocess.run([*git, "add", "--detach", "--quiet", str(tree), revision], check=True)
    try:
        yield tree
    finally:
        subprocess.run([*git, "remove", "--force", str(tree)], check=False)
        shutil.rmtree(tree, ignore_errors=True)


def parse_time(text: str | None) -> float | None:
    return None if text is None else datetime.fromisoformat(text).timestamp()


# ---------------------------------------------------------------- the server and the emulator


class Server:
    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token

    def request(
        self, method: str, path: str, body: object = None, timeout: float = 30.0
    ) -> tuple[int, Any]:
        request = urllib.request.Request(  # noqa: S310 (loopback)
            f"{self.url}{path}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            text = error.read()
            try:
                return error.code, json.loads(text or b"null")
            except ValueError:
                return error.code, None

    def views(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        status, body = self.request("GET", "session-monitor/api/sessions")
        assert status == 200, (status, body)
        wanted = set(ids)
        return {v["id"]: v for v in body["sessions"] if v["id"] in wanted}


def admin(emulator: EmulatorThread, method: str, path: str, body: object = None) -> None:
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"{emulator.emulator.url}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310
        pass


# ---------------------------------------------------------------- one fault


@dataclass
class Result:
    fault: str
    code: str
    window: float
    kinds: Counter[str] = field(default_factory=Counter)  # readings of a stale session, by kind
    messages: dict[str, str] = field(default_factory=dict)  # one message per kind
    recovered: list[float] = field(default_factory=list)  # seconds from clearing, per session
    missed: int = 0  # sessions not fresh within the cap
    close_seconds: float | None = None
    close_status: int | None = None
    close_kind: str | None = None
    stale_at_close: int = 0


def open_sessions(service: Any, count: int) -> list[Any]:
    from qiskit_ibm_runtime import Session

    backend = service.backend("ibmq_kolkata")
    return [Session(backend=backend) for _ in range(count)]


def note_kinds(result: Result, views: dict[str, dict[str, Any]]) -> int:
    stale = 0
    for view in views.values():
        if view["stale"] or view.get("error"):
            error = view.get("error") or {}
            kind = str(error.get("kind", "none"))
            result.kinds[kind] += 1
            result.messages.setdefault(kind, str(error.get("message", "")))
            stale += view["stale"]
    return stale


def run_fault(
    server: Server,
    emulator: EmulatorThread,
    service: Any,
    fault: str,
    code: str,
    *,
    window: float,
    settle: float,
    cap: float,
) -> Result:
    result = Result(fault, code, 0.0 if fault == "restart" else window)
    sessions = open_sessions(service, SESSIONS)
    ids = [s.session_id for s in sessions]
    for session_id in ids:
        status, body = server.request(
            "POST", "session-monitor/api/sessions", {"session_id": session_id}
        )
        assert status == 201, (status, body)
    deadline = time.monotonic() + 60
    while True:
        views = server.views(ids)
        if len(views) == SESSIONS and all(
            not v["stale"] and v["last_polled_at"] for v in views.values()
        ):
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"[{code}] {fault}: the six sessions were not polled within 60 s")
        time.sleep(READ_EVERY)
    time.sleep(settle)  # polled normally for a while

    if fault == "restart":
        cleared = time.time()
        emulator.call(emulator.emulator.tokens.clear)  # a restarted service knows no login
    else:
        admin(emulator, "POST", "/emulator/faults", FAULT_SPECS[fault])
        injected = time.monotonic()
        until = window
        while time.monotonic() - injected < until:
            stale = note_kinds(result, server.views(ids))
            elapsed = time.monotonic() - injected
            if fault == "hang" and result.close_seconds is None:
                until = min(window + HANG_EXTRA, max(until, elapsed + 2.0))
            if (
                fault == "hang"
                and result.close_seconds is None
                and (stale == SESSIONS or elapsed >= window + HANG_EXTRA - 2.0)
            ):
                result.stale_at_close = stale
                started = time.monotonic()
                status, body = server.request(
                    "POST", f"session-monitor/api/sessions/{ids[0]}/close", {}, timeout=120
                )
                result.close_seconds = time.monotonic() - started
                result.close_status = status
                if isinstance(body, dict) and status >= 400:
                    error = body.get("error")
                    kind = error.get("kind") if isinstance(error, dict) else body.get("kind")
                    result.close_kind = str(kind or "")
                until = max(window, time.monotonic() - injected + 2.0)
            time.sleep(READ_EVERY)
        admin(emulator, "DELETE", "/emulator/faults")
        cleared = time.time()
        result.window = time.monotonic() - injected

    fresh: dict[str, float] = {}
    deadline = time.monotonic() + cap
    while len(fresh) < SESSIONS and time.monotonic() < deadline:
        views = server.views(ids)
        if fault == "restart":
            note_kinds(result, views)
        for session_id, view in views.items():
            polled = parse_time(view["last_polled_at"])
            if session_id not in fresh and not view["stale"] and polled and polled > cleared:
                fresh[session_id] = polled - cleared
        time.sleep(READ_EVERY)
    result.recovered = sorted(fresh.values())
    result.missed = SESSIONS - len(fresh)
    for session_id in ids:  # the next fault starts with six new sessions
        server.request("DELETE", f"session-monitor/api/sessions/{session_id}")
    return result


# ---------------------------------------------------------------- one code version


def run_version(
    label: str,
    workdir: Path,
    code: Path | None,
    faults: list[str],
    *,
    window: float,
    settle: float,
    cap: float,
    request_timeout: float,
) -> list[Result]:
    from qiskit_ibm_runtime import QiskitRuntimeService

    workdir.mkdir()
    results = []
    with running_emulator(EmulatorConfig()) as emulator:
        os.environ.update(emulator.emulator.client_environment())
        env = dict(os.environ)
        if code is not None:
            env["PYTHONPATH"] = os.pathsep.join(
                [str(code), *filter(None, [os.environ.get("PYTHONPATH")])]
            )
        service = QiskitRuntimeService()
        with running_server(
            sys.executable,
            workdir,
            f"--SessionMonitorApp.request_timeout={request_timeout:g}",
            env=env,
        ) as (url, token):
            server = Server(url, token)
            viewers, _ = server.request("POST", "session-monitor/api/viewers", {})
            expected = 404 if code is not None else 204
            print(
                f"[{label}] POST session-monitor/api/viewers -> {viewers} "
                f"({'old' if viewers == 404 else 'new'} routes)",
                flush=True,
            )
            if viewers != expected:
                raise RuntimeError(f"[{label}] not the expected code: POST viewers -> {viewers}")
            for fault in faults:
                print(f"[{label}] {fault}", flush=True)
                result = run_fault(
                    server,
                    emulator,
                    service,
                    fault,
                    label,
                    window=window,
                    settle=settle,
                    cap=cap,
                )
                print(f"[{label}] {fault}: {describe(result, cap)}", flush=True)
                results.append(result)
    return results


# ---------------------------------------------------------------- report


def kinds_text(result: Result) -> str:
    total = sum(result.kinds.values())
    if not total:
        return "(none seen)"
    return ", ".join(
        f"{kind} {100 * n / total:.0f}%" if len(result.kinds) > 1 else kind
        for kind, n in result.kinds.most_common()
    )


def all_fresh(result: Result) -> float:
    return math.inf if result.missed else max(result.recovered)


def median_fresh(result: Result) -> float:
    values = result.recovered + [math.inf] * result.missed
    return float(statistics.median_low(values)) if result.missed else statistics.median(values)


def seconds(value: float, cap: float) -> str:
    return f"not within {cap:g}" if math.isinf(value) else f"{value:.1f}"


def close_text(result: Result) -> str:
    if result.close_seconds is None:
        return "-"
    kind = f" {result.close_kind}" if result.close_kind else ""
    return f"{result.close_seconds:.2f} s ({result.close_status}{kind})"


def describe(result: Result, cap: float) -> str:
    text = (
        f"kinds {kinds_text(result)}; all fresh {seconds(all_fresh(result), cap)} s, "
        f"p50 {seconds(median_fresh(result), cap)} s, per session "
        f"{[round(v, 1) for v in result.recovered]}"
        + (f" + {result.missed} not within {cap:g} s" if result.missed else "")
    )
    if result.close_seconds is not None:
        text += f"; close {close_text(result)}, {result.stale_at_close}/6 stale at the close"
    for kind, message in result.messages.items():
        text += f"\n    {kind}: {message}"
    return text


def report(results: list[Result], cap: float) -> None:
    print()
    print("Seconds from the fault clearing to every one of six tracked sessions being fresh")
    print(
        f"{'fault':<8} {'code':<8} {'window':>7}  {'kind shown during the fault':<34} "
        f"{'all fresh':>18} {'p50':>18}  close during hang"
    )
    for fault in FAULTS:
        for result in (r for r in results if r.fault == fault):
            print(
                f"{fault:<8} {result.code:<8} {result.window:>6.0f}s  {kinds_text(result):<34} "
                f"{seconds(all_fresh(result), cap):>18} {seconds(median_fresh(result), cap):>18}"
                f"  {close_text(result)}"
            )
    labels = list(dict.fromkeys(r.code for r in results))
    if len(labels) == 2:
        new_label, old_label = labels
        print()
        for fault in FAULTS:
            pair = [r for r in results if r.fault == fault]
            if len(pair) != 2:
                continue
            new, old = (next(r for r in pair if r.code == label) for label in labels)
            parts = []
            for name, measure in (("all fresh", all_fresh), ("p50", median_fresh)):
                a, b = measure(old), measure(new)
                if max(a, b) < 1.0:
                    parts.append(f"{name} both under 1 s")
                elif b < 0.1:
                    parts.append(f"{name} {a:.1f} s against {b:.1f} s")
                elif math.isinf(a):
                    parts.append(f"{name} {old_label}/{new_label} > {cap / b:.0f}x (capped)")
                else:
                    parts.append(f"{name} {old_label}/{new_label} = {a / b:.1f}x")
            if new.close_seconds and old.close_seconds:
                ratio = old.close_seconds / new.close_seconds
                parts.append(f"close {old_label}/{new_label} = {ratio:.0f}x")
            print(f"{fault}: " + ", ".join(parts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=30.0, help="seconds each fault stays on")
    parser.add_argument("--settle", type=float, default=10.0, help="normal polling before a fault")
    parser.add_argument("--cap", type=float, default=300.0, help="longest wait for recovery")
    parser.add_argument("--request-timeout", type=float, default=5.0, help="the app's, in s")
    parser.add_argument("--faults", default=",".join(FAULTS), help="which, comma-separated")
    parser.add_argument(
        "--before", default=BEFORE, help="the baseline's commit ('' to measure this code only)"
    )
    args = parser.parse_args()
    faults = [f for f in args.faults.split(",") if f]
    unknown = set(faults) - set(FAULTS)
    if unknown:
        parser.error(f"unknown fault(s): {', '.join(sorted(unknown))}")
    warnings.simplefilter("ignore")
    os.environ["USAGE_DATA_OPT_OUT"] = "True"
    for name in ("QISKIT_IBM_NAME", "QISKIT_IBM_REGION", "QISKIT_IBM_PLANS_PREFERENCE"):
        os.environ.pop(name, None)
    options = {
        "window": args.window,
        "settle": args.settle,
        "cap": args.cap,
        "request_timeout": args.request_timeout,
    }
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["HOME"] = scratch
        results = run_version("this", Path(scratch) / "this", None, faults, **options)
        if args.before:
            with worktree_at(args.before) as tree:
                results += run_version(
                    args.before, Path(scratch) / "before", tree, faults, **options
                )
    report(results, args.cap)
    print(f"\n{time.monotonic() - started:.0f} s in all")


if __name__ == "__main__":
    main()
