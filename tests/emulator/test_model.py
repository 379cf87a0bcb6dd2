"""The emulated service's session and job rules, with explicit times (no clock, no HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jupyter_session_monitor.emulator.model import (
    Durations,
    JobStatus,
    Service,
    ServiceError,
    SessionState,
)
from jupyter_session_monitor.emulator.wire import session_body

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
RULES = Durations(
    interactive_ttl=60, default_max_ttl=600, plan_max_ttl=3600, no_job_close=1800, job_run=10
)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def service() -> Service:
    return Service(["qpu"], RULES, "user")


def submit(svc: Service, session_id: str | None, when: float) -> str:
    job = svc.submit_job(
        program_id="sampler", backend="qpu", session_id=session_id, tags=[], params={}, now=at(when)
    )
    return job.id


def test_session_is_open_until_its_first_job_runs_then_active() -> None:
    svc = service()
    session = svc.create_session(
        backend="qpu", mode="dedicated", instance="i", max_ttl=None, now=at(0)
    )
    assert session.state is SessionState.OPEN and session.started_at is None

    job = submit(svc, session.id, 5)

    assert svc.job(job, at(5)).status is JobStatus.RUNNING
    assert session.state is SessionState.ACTIVE
    assert session.started_at == at(5) == session.activated_at
    assert svc.job(job, at(15)).status is JobStatus.COMPLETED
    assert session.last_job_completed == at(15)


def test_interactive_ttl_deactivates_and_the_next_job_reactivates() -> None:
    svc = service()
    session = svc.create_session(
        backend="qpu", mode="dedicated", instance="i", max_ttl=None, now=at(0)
    )
    submit(svc, session.id, 0)  # runs 0-10

    assert svc.session(session.id, at(69.9)).state is SessionState.ACTIVE
    assert svc.session(session.id, at(70)).state is SessionState.INACTIVE
    assert session.elapsed(at(200)) == 70  # billed from start to deactivation, idle included

    submit(svc, session.id, 100)  # reactivates when it starts

    assert session.state is SessionState.ACTIVE and session.activated_at == at(100)
    assert session.elapsed(at(105)) == 75
    assert [t["status"] for t in session.timestamps] == ["open", "active", "inactive", "active"]


def test_active_session_holds_the_backend_and_its_next_job_goes_first() -> None:
    svc = service()
    session = svc.create_session(
        backend="qpu", mode="dedicated", instance="i", max_ttl=None, now=at(0)
    )
    submit(svc, session.id, 0)  # 0-10
    outsider = submit(svc, None, 1)  # waits: the session holds the QPU

    assert svc.job(outsider, at(30)).status is JobStatus.QUEUED
    second = submit(svc, session.id, 30)  # inside the interactive TTL: runs at once
    assert svc.job(second, at(30)).status is JobStatus.RUNNING
    # After the session deactivates (40 + 60 s), the outsider runs.
    assert svc.job(outsider, at(99)).status is JobStatus.QUEUED
    assert svc.job(outsider, at(100)).status is JobStatus.RUNNING


def test_close_stops_new_jobs_runs_queued_ones_and_closes_when_drained() -> None:
    svc = service()
    session = svc.create_session(
        backend="qpu", mode="dedicated", instance="i", max_ttl=None, now=at(0)
    )
    first, second = submit(svc, session.id, 0), submit(svc, session.id, 0)

    svc.stop_accepting(session.id, at(1))

    assert session.accepting_jobs is False and session.state is SessionState.ACTIVE
    with pytest.raises(ServiceError) as refused:
        submit(svc, session.id, 2)
    assert refused.value.status == 400
    assert svc.job(second, at(20)).status is JobStatus.COMPLETED
    assert svc.job(first, at(20)).status is JobStatus.COMPLETED
    assert session.state is SessionState.CLOSED and session.closed_at == at(20)


def test_close_of_an_idle_session_closes_it_at_once() -> None:
    svc = service()
    session = svc.create_session(
        backend="qpu", mode="dedicated", instance="i", max_ttl=None, now=at(0)
    )

    svc.stop_accepting(session.id, at(3))

    assert session.state is SessionState.CLOSED and session.closed_at == at(3)


def test_cancel_cancels_queued_jobs_and_lets_the_running_one_finish() -> None:
    svc = service()
    session = svc.create_session(
        backend="qpu", mode="dedicated", instance="i", max_ttl=None, now=at(0)
    )
    running, queued = submit(svc, session.id, 0), submit(svc, session.id, 0)

    svc.cancel_session(session.id, at(4))

    assert session.state is SessionState.CLOSED
    assert svc.job(queued, at(4)).status is JobStatus.CANCELLED
    assert svc.job(running, at(4)).status is JobStatus.RUNNING
    assert svc.job(running, at(10)).status is JobStatus.COMPLETED


def test_max_ttl_fails_queued_jobs_and_closes_while_the_running_job_finishes() -> None:
    svc = service()
    session = svc.create_session(
        backend="qpu", mode="dedicated", instance="i", max_ttl=25, now=at(0)
    )
    jobs = [submit(svc, session.id, 0) for _ in range(4)]  # would run 0-10, 10-20, 20-30, 30-40

    svc.advance(at(26))

    statuses = [svc.jobs[j].status for j in jobs]
    assert statuses == [
        JobStatus.COMPLETED,
        JobStatus.COMPLETED,
        JobStatus.RUNNING,
        JobStatus.FAILED,
    ]
    assert "maximum time to live" in (svc.jobs[jobs[3]].reason or "")
    assert session.state is SessionState.CLOSED and session.closed_at == at(25)
    assert "maximum time to live" in (session.state_reason or "")


def test_session_without_any_job_closes_after_thirty_minutes() -> None:
    svc = service()
    session = svc.create_session(
        backend="qpu", mode="dedicated", instance="i", max_ttl=None, now=at(0)
    )

    assert svc.session(session.id, at(1799)).state is SessionState.OPEN
    assert svc.session(session.id, at(1800)).state is SessionState.CLOSED
    assert session.closed_at == at(1800)


def test_batch_does_not_hold_the_backend() -> None:
    svc = service()
    batch = svc.create_session(backend="qpu", mode="batch", instance="i", max_ttl=None, now=at(0))
    submit(svc, batch.id, 0)
    outsider = submit(svc, None, 1)

    assert svc.job(outsider, at(10)).status is JobStatus.RUNNING


@pytest.mark.parametrize(
    ("backend", "mode", "max_ttl", "status"),
    [
        ("nope", "dedicated", None, 404),
        ("qpu", "exclusive", None, 400),
        ("qpu", "dedicated", 3601, 400),
        ("qpu", "dedicated", 0, 400),
    ],
)
def test_invalid_session_requests_are_refused(
    backend: str, mode: str, max_ttl: float | None, status: int
) -> None:
    with pytest.raises(ServiceError) as refused:
        service().create_session(
            backend=backend, mode=mode, instance="i", max_ttl=max_ttl, now=at(0)
        )
    assert refused.value.status == status


def test_cancelling_a_finished_job_is_a_conflict() -> None:
    svc = service()
    job = submit(svc, None, 0)
    svc.advance(at(10))

    with pytest.raises(ServiceError) as refused:
        svc.cancel_job(job, at(11))
    assert refused.value.status == 409


def test_session_body_has_every_field_details_reads() -> None:
    svc = service()
    session = svc.create_session(
        backend="qpu", mode="dedicated", instance="i", max_ttl=None, now=at(0)
    )
    body = session_body(session, at(1))

    for key in (
        "id",
        "backend_name",
        "interactive_ttl",
        "max_ttl",
        "active_ttl",
        "state",
        "accepting_jobs",
        "last_job_started",
        "last_job_completed",
        "started_at",
        "closed_at",
        "activated_at",
        "mode",
        "elapsed_time",
        "timestamps",
        "state_reason",
        "user_id",
    ):
        assert key in body
    assert body["created_at"] == "2026-01-01T12:00:00.000Z"


def test_queue_position_counts_from_one_and_clears_when_running() -> None:
    svc = service()
    first, second, third = (submit(svc, None, 0) for _ in range(3))

    assert svc.queue_position(svc.jobs[first]) is None  # running
    assert svc.queue_position(svc.jobs[second]) == 1
    assert svc.queue_position(svc.jobs[third]) == 2
