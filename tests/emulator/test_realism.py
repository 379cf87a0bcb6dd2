"""The emulator's realism options (docs/emulator.md), read through the unmodified client over
HTTP: transitions applied late, a service clock that differs from the host's, usage reported
periodically, and job lists paged at the service's own limit."""

from __future__ import annotations

import email.utils
import time
import urllib.request
from collections.abc import Callable
from datetime import datetime

import pytest
from qiskit_ibm_runtime import Batch, Session
from qiskit_ibm_runtime import SamplerV2 as Sampler

from tests.harness import Harness, bell

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def advance(harness: Harness, seconds: float) -> None:
    harness.admin("POST", "/emulator/clock", {"advance": seconds})


def test_a_transition_lag_applies_the_interactive_ttl_that_much_later(
    make_emulator: Callable[..., Harness],
) -> None:
    harness = make_emulator(time_scale=1.0, job_seconds=0.1, transition_lag=30)
    service = harness.service()
    backend = service.backend("ibmq_manila")
    session = Session(backend=backend)
    Sampler(mode=session).run([bell(backend)], shots=10).result()
    advance(harness, 61)  # past the interactive TTL (60 s): an exact service deactivates
    assert session.status() == "In progress, accepting new jobs"
    assert session.details()["state"] == "active"
    advance(harness, 30)  # the reaper comes by 30 s late
    details = session.details()
    assert details["state"] == "inactive"
    completed = datetime.fromisoformat(details["last_job_completed"])
    deactivated = datetime.fromisoformat(details["timestamps"][-1]["timestamp"])
    assert (deactivated - completed).total_seconds() == pytest.approx(90, abs=0.01)
    session.cancel()


def test_a_transition_lag_delays_the_max_ttl_close_and_the_no_job_close(
    make_emulator: Callable[..., Harness],
) -> None:
    harness = make_emulator(time_scale=1.0, job_seconds=0.1, transition_lag=20)
    service = harness.service()
    backend = service.backend("ibmq_manila")
    idle = Session(backend=backend)  # never gets a job: closed 30 min after it was created
    capped = Session(backend=backend, max_time=100)
    Sampler(mode=capped).run([bell(backend)], shots=10).result()
    advance(harness, 101)  # past the max TTL: an exact service closes the capped session
    assert capped.details()["state"] != "closed"
    advance(harness, 20)
    assert capped.details()["state"] == "closed"
    advance(harness, 1801 - 121)  # past the no-job close of the other one
    assert idle.details()["state"] == "open"
    advance(harness, 20)
    assert idle.details()["state"] == "closed"


def test_the_clock_offset_moves_every_timestamp_and_the_date_header(
    make_emulator: Callable[..., Harness],
) -> None:
    harness = make_emulator(time_scale=1.0, job_seconds=0.1, clock_offset=-600)
    service = harness.service()
    backend = service.backend("ibmq_manila")
    before = time.time()
    session = Session(backend=backend)
    created = datetime.fromisoformat(session.details()["timestamps"][0]["timestamp"]).timestamp()
    assert before - 600 - 1 <= created <= time.time() - 600 + 1

    with urllib.request.urlopen(f"{harness.url}/emulator/clock", timeout=10) as answer:  # noqa: S310
        date = email.utils.parsedate_to_datetime(answer.headers["Date"])
        told = datetime.fromisoformat(__import__("json").loads(answer.read())["now"])
    assert abs(date.timestamp() - (time.time() - 600)) < 2  # whole seconds in the header
    assert abs(told.timestamp() - (time.time() - 600)) < 1
    session.cancel()


def test_usage_figures_are_those_of_the_last_report(
    make_emulator: Callable[..., Harness],
) -> None:
    # Reported every hour (the clock is moved, never waited for): every figure is what it was
    # at the start of the current hour of the service's clock, not what it is now.
    harness = make_emulator(time_scale=1.0, job_seconds=1000, usage_report_period=3600)
    service = harness.service()
    backend = service.backend("ibmq_manila")
    advance(harness, 3600 - time.time() % 3600 + 1)  # one second into a period
    session = Session(backend=backend)
    job = Sampler(mode=session).run([bell(backend)], shots=10)
    advance(harness, 600)  # the job has run 10 minutes: billed live, not reported yet
    live = harness.admin("GET", "/emulator/state")["sessions"][0]["elapsed_time"]
    assert live == pytest.approx(600, abs=2)
    assert session.details()["usage_time"] == 0
    assert service.usage()["usage_consumed_seconds"] == 0

    advance(harness, 3000)  # the next report: the job ran 1000 s, then the 60 s idle TTL
    reported = session.details()["usage_time"]
    assert reported == pytest.approx(1060, abs=0.5)
    assert job.metrics()["usage"]["quantum_seconds"] == pytest.approx(1000, abs=0.01)
    assert service.usage()["usage_consumed_seconds"] == pytest.approx(reported, abs=0.01)
    session.cancel()


def test_a_jobs_page_limit_caps_every_page_and_counts_them_all(
    make_emulator: Callable[..., Harness],
) -> None:
    harness = make_emulator(time_scale=0.01, job_seconds=1, jobs_page_limit=3)
    service = harness.service()
    backend = service.backend("ibmq_manila")
    with Batch(backend=backend) as batch:
        jobs = [Sampler(mode=batch).run([bell(backend)], shots=10) for _ in range(7)]
        api = service._active_api_client
        first = api.jobs_get(session_id=batch.session_id, limit=200)
        assert len(first["jobs"]) == 3 and first["count"] == 7
        last = api.jobs_get(session_id=batch.session_id, limit=200, skip=6)
        assert len(last["jobs"]) == 1
        # The client's own listing pages by itself until it has them all.
        listed = service.jobs(session_id=batch.session_id, limit=None)
        assert sorted(j.job_id() for j in listed) == sorted(j.job_id() for j in jobs)
