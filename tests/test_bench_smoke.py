"""Every benchmark runs, in a tiny smoke mode (seconds, not minutes), so none of them rots: a
benchmark that no longer starts, or no longer prints its comparison, fails here. The figures are
meaningless at this size; docs/benchmarks.md has the real runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Each benchmark with the smallest arguments that still run every part of it once, and what its
#: output must show.
SMOKE = {
    "startup": (["--rounds", "1"], r"vs baseline"),
    "scale": (["--sessions", "3", "--window", "2"], r"ratio .*\d\.\d+x"),
    "api_cost": (["--window", "4", "--scenario", "idle"], r"\d\.\d+x"),
    "freshness": (["--submissions", "1", "--before", "", "--cap", "20"], r"p50"),
    "recovery": (
        ["--window", "2", "--settle", "1", "--cap", "30", "--faults", "429", "--before", ""],
        r"429",
    ),
    "money": (["--runs", "1", "--parts", "cost"], r"API cost"),
    "realism": (["--scenario", "lag", "--lag", "15", "--after", "2"], r"calls/min in the lag"),
    "registry_lock": (["--hold", "2", "--every", "0.5"], r"this code +\d+\.\d+ s"),
    "sidebar_render": (
        ["--sessions", "20", "--jobs", "2", "--ticks", "2", "--updates", "2", "--rounds", "1"],
        r"p50 ratio naive/optimized",
    ),
}


@pytest.mark.bench
@pytest.mark.parametrize("name", sorted(SMOKE))
def test_the_benchmark_runs_in_smoke_mode(name: str, tmp_path: Path) -> None:
    arguments, shows = SMOKE[name]
    env = {**os.environ, "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / f"{name}.py"), *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert re.search(shows, result.stdout), result.stdout[-2000:]
