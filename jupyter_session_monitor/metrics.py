"""Prometheus metrics, served by jupyter_server's own ``/metrics`` (it exports prometheus_client's
default registry): a hub admin scrapes every user's server and sees what each monitor does.

Counters and the latency histogram are module-level (one set per process, whatever number of
monitors it starts); the session gauges are read from the running monitor at scrape time by a
collector, so they are never stale and cost nothing between scrapes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

    from .engine.monitor import SessionMonitor

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


class MonitorCollector(Collector):
    """The monitor's sessions as gauges, computed when Prometheus scrapes."""

    def __init__(self, monitor: SessionMonitor) -> None:
        self.monitor = monitor

    def collect(self) -> Iterator[Metric]:
        sessions = list(self.monitor.sessions.values())
        open_ = [s for s in sessions if not s.closed and not s.not_found]
        tracked = GaugeMetricFamily(
            f"{PREFIX}_sessions", "Sessions this server tracks, by state.", labels=["state"]
        )
        tracked.add_metric(["open"], len(open_))
        tracked.add_metric(["orphaned"], sum(1 for s in open_ if s.orphaned))
        tracked.add_metric(["stale"], sum(1 for s in open_ if s.stale))
        tracked.add_metric(["closed"], sum(1 for s in sessions if s.closed))
        tracked.add_metric(["not_found"], sum(1 for s in sessions if s.not_found))
        yield tracked
        yield GaugeMetricFamily(
            f"{PREFIX}_tracked_sessions", "Sessions this server tracks, in all.", len(sessions)
        )
        listeners = self.monitor.push_listeners
        if listeners is not None:
            yield GaugeMetricFamily(
                f"{PREFIX}_push_subscribers",
                "WebSockets subscribed to the monitor's changes on jupyter_server's event bus "
                "(a JupyterLab page holds two: its own event stream and the sidebar's push "
                "channel).",
                listeners(),
            )
        yield GaugeMetricFamily(
            f"{PREFIX}_watched",
            "1 while a browser page showing sessions is visible (polls keep their full pace).",
            1 if self.monitor.watched else 0,
        )

    def describe(self) -> Iterator[Metric]:
        return iter(())  # computed at scrape time: no fixed description to check at registration


def register(monitor: SessionMonitor) -> MonitorCollector:
    collector = MonitorCollector(monitor)
    REGISTRY.register(collector)
    return collector


def unregister(collector: MonitorCollector) -> None:
    with contextlib.suppress(KeyError):  # never registered, or already taken out
        REGISTRY.unregister(collector)
