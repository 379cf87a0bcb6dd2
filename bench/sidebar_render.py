"""Sidebar rendering cost per 1 s tick and per pushed change, 1,000 sessions x 25 jobs, in Chromium.

A page bundled from the real components (bench/browser/entry.tsx: SessionList with the real
MonitorModel, SessionStore, Ticker and SessionActions, the snapshot from a fake fetch) renders
the store in a sidebar-sized box, the first rows expanded through their buttons. The baseline in
the same page and run is a naive full re-render of the same store (bench/browser/naive.tsx: one
component holding `now`, no memo, no per-row subscription, no visibility gating) with the same
markup: the page counts both variants' elements by tag and classes and the report says where
they differ. Per tick and per change: time from the emission to React's commit plus the style
and layout it forces. The variants alternate over rounds, each from a fresh store with the same
snapshot and changes.

Two cases by default, one page load each: the expanded rows' sessions have 25 jobs like the
others, then 60 (their job tables list 20 with "Show 20 more · Show all 60"); 1 in 10 changes
is to an expanded session.

Run: .venv/bin/python bench/sidebar_render.py [--sessions 1000] [--jobs 25]
     [--expanded-jobs 25 60] [--ticks 40] [--updates 100] [--rounds 2]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import shutil
import statistics
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "bench" / "browser"
BUNDLE = PAGE / "build" / "bench.js"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]


def sources() -> Iterator[Path]:
    """What the bundle is built from: the page and everything under src/ and style/."""
    for folder, patterns in (
        (PAGE, ("*.ts", "*.tsx", "*.mjs", "*.css")),
        (ROOT / "src", ("*.ts", "*.tsx")),
        (ROOT / "style", ("*.css",)),
    ):
        for pattern in patterns:
            for path in folder.rglob(pattern):
                if "__tests__" not in path.parts and "build" not in path.relative_to(folder).parts:
                    yield path


def build(force: bool) -> None:
    """Bundle the page with rspack unless the bundle is newer than every source."""
    if not force and BUNDLE.exists():
        built = BUNDLE.stat().st_mtime
        if all(path.stat().st_mtime <= built for path in sources()):
            print("bundle up to date")
            return
    node = shutil.which("node")
    if node is None:
        sys.exit("Node.js is needed to bundle the benchmark page (it is for `jlpm build` too)")
    subprocess.run([node, str(PAGE / "build.mjs")], cwd=ROOT, check=True)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def end_headers(self) -> None:
        # Cross-origin isolation: performance.now() at 5 us instead of 100 us.
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serving(directory: Path) -> Iterator[str]:
    """A static HTTP server for ``directory`` on a free loopback port, in a thread."""
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[round(q * (len(ordered) - 1))]


def mean(samples: list[dict[str, float]], key: str) -> float:
    return statistics.mean(s[key] for s in samples)


def markup_differences(
    naive: dict[str, int], optimized: dict[str, int]
) -> list[tuple[str, tuple[int, int]]]:
    """Element kinds (tag and classes) whose counts differ, the largest difference first."""
    keys = set(naive) | set(optimized)
    differing = [
        (key, (naive.get(key, 0), optimized.get(key, 0)))
        for key in keys
        if naive.get(key, 0) != optimized.get(key, 0)
    ]
    return sorted(differing, key=lambda item: -abs(item[1][0] - item[1][1]))


def without_urgent(markup: dict[str, int]) -> dict[str, int]:
    """Counts with a countdown's "urgent" class (it comes with time, on screen) left out."""
    counts: dict[str, int] = {}
    for key, count in markup.items():
        plain = key.replace(".jp-mod-urgent", "")
        counts[plain] = counts.get(plain, 0) + count
    return counts


def report(results: dict[str, Any]) -> None:
    config = results["config"]
    optimized, naive = results["optimized"], results["naive"]
    stale = "all" if config["staleEvery"] == 1 else f"1 in {config['staleEvery']}"
    focus = (
        f"1 in {config['expandedChangeEvery']} to an expanded row"
        if config["expandedChangeEvery"]
        else "to any row alike"
    )
    print(
        f"{config['sessions']} sessions x {config['jobs']} jobs, {config['expand']} rows "
        f"expanded with {config['expandedJobs']} jobs each, {stale} stale, changes {focus}; "
        f"{config['rounds']} rounds alternating, "
        f"{len(optimized['tick'])} ticks and {len(optimized['update'])} pushed changes "
        f"per variant ({results['seconds']:.0f} s)"
    )
    print(f"\n{'ms':<15} {'variant':<10} {'p50':>7} {'p95':>7} {'max':>7} {'commit p50':>11}")
    ratios = []
    for what, label in (("tick", "per 1 s tick"), ("update", "per change")):
        for name, samples in (("naive", naive[what]), ("optimized", optimized[what])):
            total = [s["total"] for s in samples]
            print(
                f"{label:<15} {name:<10} {statistics.median(total):>7.2f} "
                f"{percentile(total, 0.95):>7.2f} {max(total):>7.2f} "
                f"{statistics.median(s['script'] for s in samples):>11.2f}"
            )
        ratio = {
            key: statistics.median(s[key] for s in naive[what])
            / max(statistics.median(s[key] for s in optimized[what]), 1e-6)
            for key in ("total", "script")
        }
        ratios.append(f"{label} {ratio['total']:.1f}x (commit only {ratio['script']:.1f}x)")
    print(f"p50 ratio naive/optimized: {'; '.join(ratios)}")
    redraws = [s["total"] for s in results.get("timelineRedraws", [])]
    if redraws:
        print(
            f"an expanded row's timeline picture drawn again when its refetched timeline "
            f"arrives ({config['expandedJobs']} jobs; at most 1 per 150 ms per row, not in "
            f"'per change'): p50 {statistics.median(redraws):.2f} "
            f"p95 {percentile(redraws, 0.95):.2f} ms"
        )
    for name, samples in (("naive", naive["update"]), ("optimized", optimized["update"])):
        parts = []
        for label, expanded, shown in (
            ("to an expanded row on screen", True, True),
            ("off screen", True, False),
            ("to a collapsed row", False, None),
        ):
            total = [
                s["total"]
                for s in samples
                if s.get("expanded", False) == expanded
                and (shown is None or s.get("onScreen", False) == shown)
            ]
            if total:
                parts.append(
                    f"{label} ({len(total)}) p50 {statistics.median(total):.2f} "
                    f"p95 {percentile(total, 0.95):.2f}"
                )
        print(f"changes, {name}: {'; '.join(parts)}")
    print(f"\n{'':<34} {'naive':>9} {'optimized':>9}")
    for name, value in (
        ("rows rendered", lambda r: r["rows"]),
        ("DOM elements", lambda r: r["domNodes"]),
        ("listeners on the 1 s tick", lambda r: r["tickListeners"]),
        ("React elements per tick (mean)", lambda r: mean(r["tick"], "elements")),
        ("React elements per change (mean)", lambda r: mean(r["update"], "elements")),
        ("DOM mutations per tick (mean)", lambda r: mean(r["tick"], "mutations")),
        ("DOM mutations per change (mean)", lambda r: mean(r["update"], "mutations")),
    ):
        print(f"{name:<34} {value(naive):>9.0f} {value(optimized):>9.0f}")
    differences = markup_differences(
        without_urgent(naive["markup"]), without_urgent(optimized["markup"])
    )
    urgent = [
        results[name]["markup"].get("div.jp-SessionMonitor-countdown.jp-mod-urgent", 0)
        for name in ("naive", "optimized")
    ]
    if differences:
        print(
            "warning: the variants' markup differs; naive.tsx copies the real row's markup "
            "and needs the same change. Elements (tag.classes) naive / optimized:"
        )
        for key, (in_naive, in_optimized) in differences[:12]:
            print(f"  {key:<60} {in_naive:>6} {in_optimized:>6}")
    else:
        print(
            f"same markup: {optimized['domNodes']} elements with the same tags and classes in "
            "both"
            + (
                f" (urgent countdowns {urgent[0]} / {urgent[1]}: the class follows the time a "
                "countdown last rendered at, and off screen the real list's do not tick)"
                if urgent[0] != urgent[1]
                else ""
            )
        )
    shown = optimized["visibleCountdowns"]
    if naive["visibleCountdowns"] != shown:
        print("warning: the variants show different countdowns on screen:")
        print(f"  naive:     {naive['visibleCountdowns']}")
        print(f"  optimized: {shown}")
    else:
        print(f"same {len(shown)} countdowns on screen in both after the last tick")


def run_case(browser: Any, url: str, query: str) -> dict[str, Any]:
    """One page load: both variants, alternating; the page's results."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(url + query)
    page.wait_for_function(
        "window.__results !== undefined || window.__error !== undefined", timeout=600_000
    )
    failure = page.evaluate("window.__error")
    results: dict[str, Any] = page.evaluate("window.__results")
    page.close()
    for line in errors:
        print(f"page: {line}", file=sys.stderr)
    if failure:
        sys.exit(f"the benchmark page failed: {failure}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=25)
    parser.add_argument(
        "--expanded-jobs",
        type=int,
        nargs="+",
        help="jobs of the expanded rows' sessions, one case each (default: --jobs, then 60)",
    )
    parser.add_argument("--ticks", type=int, default=40, help="per variant and round")
    parser.add_argument("--updates", type=int, default=100, help="per variant and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--expand", type=int, default=5, help="rows expanded (job tables)")
    parser.add_argument(
        "--expanded-change-every",
        type=int,
        default=10,
        help="every n-th pushed change is to an expanded session; 0: any session alike",
    )
    parser.add_argument(
        "--stale-every",
        type=int,
        default=33,
        help="every n-th session is stale; 1: all (service unreachable), 0: none",
    )
    parser.add_argument("--rebuild", action="store_true", help="bundle even if up to date")
    args = parser.parse_args()
    chromium = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not chromium:
        sys.exit("Debian's chromium is needed: apt-get install chromium")
    build(args.rebuild)
    cases = args.expanded_jobs or [args.jobs, 60]
    with serving(PAGE) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_FLAGS, headless=True
        )
        print(f"Chromium {browser.version}, headless, sidebar 300x800 px")
        for expanded_jobs in cases:
            query = (
                f"?sessions={args.sessions}&jobs={args.jobs}&ticks={args.ticks}"
                f"&updates={args.updates}&rounds={args.rounds}&expand={args.expand}"
                f"&expandedJobs={expanded_jobs}"
                f"&expandedChangeEvery={args.expanded_change_every}"
                f"&staleEvery={args.stale_every}"
            )
            print()
            report(run_case(browser, url, query))
        browser.close()


if __name__ == "__main__":
    main()
