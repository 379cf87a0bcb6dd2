"""The instance's usage allowance and the jobs' run-time estimates, read through the unmodified
client (``service.usage()``, ``job.usage_estimation``) over HTTP."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import pytest
from qiskit_ibm_runtime import Batch, Session
from qiskit_ibm_runtime import SamplerV2 as Sampler

from tests.harness import Harness, bell

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_usage_has_numbers_consumed_by_a_session_as_billed(
    make_emulator: Callable[..., Harness],
) -> None:
    # Real durations, a job of 0.1 s, a limit of 600 s; the clock is moved, never waited for.
    harness = make_emulator(time_scale=1.0, job_seconds=0.1, instance_limit=600)
    service = harness.service()
    before = service.usage()
    assert before["usage_limit_seconds"] == 600
    assert before["usage_consumed_seconds"] == 0 and before["usage_remaining_seconds"] == 600
    assert before["usage_limit_reached"] is False
    assert before["usage_period"]["start_time"] < before["usage_period"]["end_time"]

    backend = service.backend("ibmq_manila")
    session = Session(backend=backend)
    Sampler(mode=session).run([bell(backend)], shots=10).result()
    harness.admin("POST", "/emulator/clock", {"advance": 61})  # past the interactive TTL

    after = service.usage()
    billed = session.usage()  # the session's own usage_time: active time, idle TTL included
    assert billed is not None and 60.1 <= billed < 62
    assert after["usage_consumed_seconds"] == pytest.approx(billed, abs=0.01)
    assert after["usage_remaining_seconds"] == pytest.approx(600 - billed, abs=0.01)
    session.close()


def test_batch_jobs_are_billed_their_quantum_seconds(make_emulator: Callable[..., Harness]) -> None:
    harness = make_emulator(time_scale=1.0, job_seconds=0.2, instance_limit=600)
    service = harness.service()
    backend = service.backend("ibmq_manila")
    with Batch(backend=backend) as batch:
        jobs = [Sampler(mode=batch).run([bell(backend)], shots=10) for _ in range(3)]
        for job in jobs:
            job.result()

    consumed = service.usage()["usage_consumed_seconds"]
    assert consumed == pytest.approx(sum(job.usage() for job in jobs), abs=0.01)
    assert consumed == pytest.approx(0.6, abs=0.01)


def test_a_reached_limit_holds_jobs_in_the_queue_until_the_next_period(
    make_emulator: Callable[..., Harness],
) -> None:
    # 2 s of allowance per 1000 s period; one job runs 3 s, so it uses it all (and is billed
    # past the limit, as on the service: a running job is not stopped).
    harness = make_emulator(time_scale=1.0, job_seconds=3.0, instance_limit=2, usage_period=1000)
    service = harness.service()
    backend = service.backend("ibmq_manila")
    session = Session(backend=backend)
    sampler = Sampler(mode=session)
    first = sampler.run([bell(backend)], shots=10)
    harness.admin("POST", "/emulator/clock", {"advance": 3.5})
    assert first.status() == "DONE"

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        second = sampler.run([bell(backend)], shots=10)  # accepted, with the client's warning
    assert any("usage limit" in str(w.message) for w in caught)
    usage = service.usage()
    assert usage["usage_limit_reached"] is True and usage["usage_remaining_seconds"] == 0
    harness.admin("POST", "/emulator/clock", {"advance": 30})
    assert second.status() == "QUEUED"  # nothing runs until time is made available
    details = session.details()
    assert details["state"] == "inactive"  # and the session stopped holding (and billing)
    billed = session.usage()
    period = usage["usage_period"]

    harness.admin("POST", "/emulator/clock", {"advance": 1000})  # into the next usage period

    # The held job ran at the start of the new period; the session was billed again, in the
    # new period only (3 s: the job's run, past the 2 s allowance once more).
    assert second.status() == "DONE"
    assert session.usage() == pytest.approx(billed + 3.0, abs=0.01)
    usage = service.usage()
    assert usage["usage_period"]["start_time"] == period["end_time"]
    assert usage["usage_consumed_seconds"] == pytest.approx(3.0, abs=0.01)
    session.close()


def test_jobs_carry_the_services_run_time_estimate(make_emulator: Callable[..., Harness]) -> None:
    harness = make_emulator(time_scale=0.5, job_seconds=4.0)  # a job runs 2 s
    backend = harness.service().backend("ibmq_manila")
    with Batch(backend=backend) as batch:
        job = Sampler(mode=batch).run([bell(backend)], shots=10)
        assert job.usage_estimation == {"quantum_seconds": 2.0}
        job.cancel()
