"""``billing`` alone: the fit-check's arithmetic on records with explicit times (no service)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jupyter_session_monitor.domain import billing
from jupyter_session_monitor.domain.models import AccountRef, JobRecord, TrackedSession
from jupyter_session_monitor.protocol import derive

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> str:
    return derive.iso(T0 + timedelta(seconds=seconds)) or ""


def session_with(
    jobs: list[JobRecord], *, last_job_started: float, max_ttl_in: float
) -> tuple[TrackedSession, derive.Deadlines]:
    session = TrackedSession(
        id="s1",
        account=AccountRef(),
        source="tracked",
        tracked_at=T0,
        body={"state": "active", "last_job_started": at(last_job_started), "max_ttl": 3600},
        last_polled_at=T0 + timedelta(seconds=100),
        jobs=jobs,
    )
    deadlines = derive.Deadlines(
        max_ttl_at=T0 + timedelta(seconds=100 + max_ttl_in),
        interactive_ttl_at=None,
        idle_close_at=None,
    )
    return session, deadlines


def job(index: int, status: str, usage: float | None = None, estimate: float | None = None):  # type: ignore[no-untyped-def]
    return JobRecord(
        id=f"j{index:02d}",
        session_id="s1",
        program_id="sampler",
        status=status,
        tags=[],
        created=at(index),
        usage_seconds=usage,
        estimated_seconds=estimate,
    )


def test_without_an_estimate_growing_run_times_are_not_forecast_from_the_short_early_ones() -> None:
    # Finished jobs ran 1, 1, 1, 2, 10 s (an optimizer whose circuits grew); 10 wait.
    done = [job(i, "DONE", usage) for i, usage in enumerate([1, 1, 1, 2, 10])]
    queued = [job(10 + i, "QUEUED") for i in range(10)]
    session, deadlines = session_with(
        [*done, job(5, "RUNNING"), *queued], last_job_started=100, max_ttl_in=60
    )

    fit = billing.fit_of(session, deadlines)

    assert fit is not None and fit["basis"] == "observed"
    # At the median (1 s) all 10 would fit in 60 s; at the latest run time (10 s) only 5 start.
    assert fit["expected_to_fail"] == 5


def test_a_running_job_past_its_estimate_counts_a_whole_run() -> None:
    # The session body was read before the job now running started: last_job_started is the
    # previous job's, 30 s ago, for jobs of 10 s. The running job is not about to end.
    queued = [job(i, "QUEUED", estimate=10.0) for i in range(1, 4)]
    session, deadlines = session_with(
        [job(0, "RUNNING", estimate=10.0), *queued], last_job_started=70, max_ttl_in=25
    )

    fit = billing.fit_of(session, deadlines)

    assert fit is not None and fit["drain_seconds"] == 40.0  # 10 for it, 3 x 10 queued
    assert fit["expected_to_fail"] == 1  # they start at 10, 20 and 30 s: the last one fails


def test_a_running_job_paired_with_the_previous_jobs_start_counts_from_the_last_end() -> None:
    # #25 item 2: the body (read before the job list) says the last job started at 0 and ended
    # at 95; the list shows a job running, which started after that read. Its time so far is
    # at most 100 - 95, not 100: a batch's billed time (and the budget) never takes the
    # previous job's hours for the running one's.
    session, deadlines = session_with(
        [job(0, "DONE", 95.0), job(1, "RUNNING")], last_job_started=0, max_ttl_in=600
    )
    session.mode = "batch"
    assert session.body is not None
    session.body["last_job_completed"] = at(95)

    meter = billing.billing_of(session, deadlines)

    assert meter.billed == 95.0 + 5.0
    assert meter.reported == 95.0  # the service reported the finished job's usage only


def test_a_running_job_counts_from_the_services_clock_put_on_the_servers() -> None:
    # The service's clock 600 s ahead: its job started at "690", which is 90 here; read at 100.
    session, deadlines = session_with([job(0, "RUNNING")], last_job_started=690, max_ttl_in=600)
    session.mode, session.clock_offset = "batch", 600.0

    assert billing.billing_of(session, deadlines).billed == 10.0


def test_the_fit_check_counts_wall_clock_run_times_not_quantum_seconds() -> None:
    # #25 item 5: 4 finished jobs used 2 quantum seconds each (the service's estimate for the
    # queued ones too) but held the session 10 s each, wall clock (compilation, transfer,
    # classical steps). 10 queued, 60 s to the max TTL: in quantum seconds all 10 "fit"; in
    # wall-clock time only 5 start (the running one ends at 10 s).
    done = []
    for i in range(4):
        finished = job(i, "DONE", usage=2.0, estimate=2.0)
        finished.started, finished.finished = at(10 * i), at(10 * i + 10)
        done.append(finished)
    queued = [job(10 + i, "QUEUED", estimate=2.0) for i in range(10)]
    session, deadlines = session_with(
        [*done, job(4, "RUNNING", estimate=2.0), *queued], last_job_started=100, max_ttl_in=60
    )

    fit = billing.fit_of(session, deadlines)

    assert fit is not None and fit["basis"] == "wall_clock"
    assert fit["expected_to_fail"] == 5
    # Without the metrics timestamps: the service's quantum estimate, and the words say so.
    for finished in done:
        finished.started = finished.finished = None
    fit = billing.fit_of(session, deadlines)
    assert fit is not None and fit["basis"] == "service_estimate" and fit["expected_to_fail"] == 0


def test_a_closing_sessions_worst_case_is_its_drain_not_its_max_ttl() -> None:
    # #26 item 2: after Close with 4 jobs queued (10 s each, wall clock), the row said "up to
    # 48 min if left open until its max TTL"; a session that accepts no more jobs ends when its
    # queue drains: 5 s left of the running one, then 40 s.
    done = job(0, "DONE", usage=10.0, estimate=10.0)
    done.started, done.finished = at(80), at(90)
    queued = [job(10 + i, "QUEUED", estimate=10.0) for i in range(4)]
    session, deadlines = session_with(
        [done, job(1, "RUNNING", estimate=10.0), *queued], last_job_started=95, max_ttl_in=2880
    )
    assert session.body is not None
    session.body.update(accepting_jobs=False, elapsed_time=100.0)

    meter = billing.billing_of(session, deadlines)

    assert meter.worst_until == "drain"
    assert meter.worst_case == 100.0 + 5.0 + 40.0
    # Still accepting jobs: the max TTL bounds it, as before.
    session.body["accepting_jobs"] = True
    meter = billing.billing_of(session, deadlines)
    assert meter.worst_until == "max_ttl" and meter.worst_case == 100.0 + 2880.0


def test_a_close_accepted_and_not_read_back_yet_counts_as_closing() -> None:
    # The service accepted Close; the last read (before it) still says it accepts jobs.
    session, deadlines = session_with(
        [job(0, "DONE", usage=1.0)], last_job_started=0, max_ttl_in=2880
    )
    assert session.body is not None
    session.body.update(accepting_jobs=True, elapsed_time=100.0)
    session.pending_action = {"action": "close", "state": "accepted", "at": at(100)}

    meter = billing.billing_of(session, deadlines)

    assert (meter.worst_until, meter.worst_case) == ("drain", 100.0)  # nothing pending


def test_a_close_whose_answer_never_came_does_not_count_as_closing() -> None:
    session, deadlines = session_with(
        [job(0, "DONE", usage=1.0)], last_job_started=0, max_ttl_in=2880
    )
    assert session.body is not None
    session.body.update(accepting_jobs=True, elapsed_time=100.0)
    session.pending_action = {"action": "close", "state": "unknown", "at": at(100)}

    meter = billing.billing_of(session, deadlines)

    assert (meter.worst_until, meter.worst_case) == ("max_ttl", 100.0 + 2880.0)
