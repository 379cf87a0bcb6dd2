"""What the server extension adds to a Jupyter server's start-up, against a same-run baseline.

Each variant runs in a fresh interpreter, alternating, so disk caches and machine load hit all of
them alike. Reported: median wall time of the imports, and the ratio to the baseline.

- baseline: importing jupyter_server's ServerApp (what every JupyterLab start pays anyway)
- monitor: the baseline plus loading this extension's entry points, app and handlers
- eager-qiskit: the monitor plus importing qiskit_ibm_runtime, which is what an eager import in
  the server extension would cost every JupyterLab start (the design imports it lazily)

Run: .venv/bin/python bench/startup.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

VARIANTS = {
    "baseline": "import jupyter_server.serverapp",
    "monitor": (
        "import jupyter_server.serverapp, jupyter_session_monitor as m;"
        "[p['app'] for p in m._jupyter_server_extension_points()]"
    ),
    "eager-qiskit": (
        "import jupyter_server.serverapp, jupyter_session_monitor as m;"
        "[p['app'] for p in m._jupyter_server_extension_points()];"
        "import qiskit_ibm_runtime"
    ),
}


def _time_once(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    for code in VARIANTS.values():  # warm the disk cache once
        _time_once(code)
    samples: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(args.rounds):
        for name, code in VARIANTS.items():
            samples[name].append(_time_once(code))

    baseline = statistics.median(samples["baseline"])
    print(f"start-up imports, median of {args.rounds} fresh interpreters each")
    print(f"{'variant':<14} {'median ms':>10} {'vs baseline':>12} {'added ms':>9}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(
            f"{name:<14} {median * 1000:>10.0f} {median / baseline:>11.2f}x"
            f" {(median - baseline) * 1000:>9.0f}"
        )


if __name__ == "__main__":
    main()
