"""The monitor's sessions as Prometheus gauges, computed when Prometheus scrapes: never stale,
free between scrapes. The counters are in ``jupyter_session_monitor/metrics.py``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from jupyter_session_monitor.metrics import PREFIX

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

    from jupyter_session_monitor.policies.monitor import SessionMonitor


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
            f"{PREFIX}_registry_queued_writes",
            "Writes waiting for the registry (another process holds its lock, or it refuses "
            "them): above 0, the file lags what this server knows.",
            self.monitor.store.queued,
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
