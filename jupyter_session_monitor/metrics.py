"""Prometheus counters, served by jupyter_server's own ``/metrics`` (it exports prometheus_client's
default registry): a hub admin scrapes every user's server and sees what each monitor does.

Module-level (one set per process, whatever number of monitors it starts), and a leaf every layer
may count into. The session gauges are read at scrape time by the server's collector
(``server/metrics.py``).
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

PREFIX = "qiskit_session_monitor"

POLLS = Counter(
    f"{PREFIX}_polls",
    "Reads of a tracked session at the Qiskit Runtime service, by outcome (ok, or the kind of "
    "failure: timeout, unreachable, rate_limited, unauthorized, service, not_found, busy).",
    ["outcome"],
)
API_SECONDS = Histogram(
    f"{PREFIX}_runtime_api_seconds",
    "Time a Qiskit Runtime API call took, from a worker thread starting it to its answer, by "
    "call and outcome (ok or the kind of failure).",
    ["call", "outcome"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 60.0),
)
BUDGET_ACTIONS = Counter(
    f"{PREFIX}_budget_actions",
    "Sessions a budget closed or cancelled (outcome ok), or tried to (outcome failed).",
    ["action", "outcome"],
)
