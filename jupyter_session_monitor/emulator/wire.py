"""The service's JSON bodies for sessions, jobs and job metrics, built from the model's records."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from .model import Job, JobStatus, Service, Session, iso

if TYPE_CHECKING:
    from .server import Emulator


def session_body(session: Session, now: datetime) -> dict[str, Any]:
    """``GET /sessions/{id}`` as the service returns it."""
    return {
        "id": session.id,
        "backend_name": session.backend,
        "instance": session.instance,
        "mode": session.mode,
        "state": session.state.value,
        "state_reason": session.state_reason,
        "accepting_jobs": session.accepting_jobs,
        "interactive_ttl": round(session.interactive_ttl),
        "max_ttl": round(session.max_ttl),
        "active_ttl": round(session.max_ttl),
        "created_at": iso(session.created_at),
        "started_at": iso(session.started_at),
        "activated_at": iso(session.activated_at),
        "closed_at": iso(session.closed_at),
        "last_job_started": iso(session.last_job_started),
        "last_job_completed": iso(session.last_job_completed),
        "elapsed_time": round(session.elapsed(now), 3),  # ms: meaningful when time is scaled
        "timestamps": list(session.timestamps),
        "user_id": session.user_id,
    }


def job_body(job: Job, service: Service, *, include_params: bool) -> dict[str, Any]:
    """``GET /jobs/{id}`` (and each entry of the job list)."""
    state: dict[str, Any] = {"status": job.status.value}
    if job.reason is not None and job.status in (JobStatus.FAILED, JobStatus.CANCELLED):
        state["reason"] = job.reason
        if job.reason_code is not None:
            state["reason_code"] = job.reason_code
    body: dict[str, Any] = {
        "id": job.id,
        "backend": job.backend,
        "state": state,
        "status": job.status.value,
        "program": {"id": job.program_id},
        "created": iso(job.created),
        "session_id": job.session_id,
        "tags": list(job.tags),
        "private": job.private,
        "user_id": service.user_id,
        "cost": 0,
        "runtime": "",
        "usage": {"seconds": round(job.usage_seconds(job.finished or job.created), 3)}
        if job.final
        else {"seconds": 0},
        # The service's estimate of the job's quantum seconds (``job.usage_estimation``): here
        # the emulator's own run-time model, so it is exact.
        "estimated_running_time_seconds": round(job.run_seconds, 3),
    }
    if include_params and not job.private:  # a private job's inputs are never returned
        body["params"] = job.params
    return body


def job_metrics(job: Job, service: Service, now: datetime) -> dict[str, Any]:
    return {
        "timestamps": {
            "created": iso(job.created),
            "running": iso(job.started),
            "finished": iso(job.finished),
        },
        # Milliseconds kept, as for a session's elapsed_time: meaningful when time is scaled.
        "bss": {"seconds": round(job.usage_seconds(now), 3)},
        "usage": {
            "quantum_seconds": round(job.usage_seconds(now), 3),
            "seconds": round(job.usage_seconds(now), 3),
            # What ``job.usage()`` reads: 0 until the figure is final, unless ``partial``.
            "qpu_charge_time_seconds": round(job.usage_seconds(now), 3),
            "status": "final" if job.final else "pending",
        },
        "executions": 0,
        "num_circuits": 0,
        "position_in_queue": service.queue_position(job),
        "estimated_start_time": None,
        "estimated_completion_time": None,
        "qiskit_version": "",
        "caller": "qiskit_ibm_runtime",
    }


def reported_session(emulator: Emulator, session: Session, now: datetime) -> dict[str, Any]:
    """``session_body`` with ``elapsed_time`` as last reported (``--usage-report-period``)."""
    body = session_body(session, now)
    reported_at = emulator.reported_at(now)
    if reported_at < now:
        body["elapsed_time"] = round(session.elapsed_at(reported_at), 3)
    return body


def reported_job(
    emulator: Emulator, job: Job, now: datetime, *, include_params: bool
) -> dict[str, Any]:
    """``job_body`` with a final job's ``usage`` as last reported (``--usage-report-period``)."""
    body = job_body(job, emulator.service, include_params=include_params)
    if job.final:
        body["usage"] = {"seconds": round(job.usage_seconds(emulator.reported_at(now)), 3)}
    return body
