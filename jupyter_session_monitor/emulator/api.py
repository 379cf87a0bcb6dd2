"""The Qiskit Runtime REST API as the client uses it, plus IAM, Global Search and Global Catalog."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from . import execution
from .base import (
    PLANS,
    TOKEN_LIFETIME,
    EmulatorHandler,
    RuntimeHandler,
)
from .model import REASON_CODE_RAN_TOO_LONG, JobStatus, ServiceError, iso
from .wire import job_body, job_metrics, reported_job, reported_session, session_body

# ---------------------------------------------------------------------- identity and instances


class IamTokenHandler(EmulatorHandler):
    def post(self) -> None:
        apikey = self.get_body_argument("apikey", default="")
        grant = self.get_body_argument("grant_type", default="")
        if grant != "urn:ibm:params:oauth:grant-type:apikey":
            self.send({"errorCode": "BXNIM0103E", "errorMessage": "Unsupported grant type"}, 400)
            return
        if apikey != self.emulator.config.api_key:
            self.send(
                {"errorCode": "BXNIM0415E", "errorMessage": "Provided API key could not be found."},
                400,
            )
            return
        token, expires = self.emulator.issue_token()
        self.send(
            {
                "access_token": token,
                "refresh_token": "not_supported",
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME,
                "expiration": expires,
                "scope": "ibm openid",
            }
        )


class GlobalSearchHandler(EmulatorHandler):
    def post(self) -> None:
        emulator = self.emulator
        self.send(
            {
                "items": [
                    {
                        "crn": emulator.instance_crn,
                        "name": f"emulator-{emulator.config.plan}",
                        "service_plan_unique_id": emulator.plan["id"],
                        "doc": {
                            "extensions": {
                                "virtual_private_endpoints": {},
                                "backends": emulator.catalog.names,
                            }
                        },
                        "tags": [],
                    }
                ],
                "limit": 100,
            }
        )


class CatalogHandler(EmulatorHandler):
    def get(self, plan_id: str) -> None:
        plan = next((p for p in PLANS.values() if p["id"] == plan_id), None)
        if plan is None:
            self.send({"message": f"Catalog entry {plan_id} not found."}, 404)
            return
        self.send(
            {
                "id": plan_id,
                "name": plan["display"].lower(),
                "overview_ui": {"en": {"display_name": plan["display"]}},
                "metadata": {"pricing": {"type": plan["pricing"]}},
            }
        )


# ---------------------------------------------------------------------- backends and usage


class BackendsHandler(RuntimeHandler):
    def get(self) -> None:
        catalog = self.emulator.catalog
        mocks = self.get_query_argument("include_mocks", default="false").lower() == "true"
        names = catalog.all_names if mocks else catalog.names
        self.send({"devices": [catalog.summary(name, self._queue_length(name)) for name in names]})

    def _queue_length(self, backend: str) -> int:
        self.service.advance(self.emulator.now())
        return sum(1 for j in self.service.jobs.values() if j.backend == backend and not j.final)


class BackendHandler(BackendsHandler):
    def get(self, name: str, what: str) -> None:  # type: ignore[override]
        catalog = self.emulator.catalog
        if name not in catalog.all_names:
            raise ServiceError(404, f"Backend {name} not found.", 1216)
        calibration_id = self.get_query_argument("calibration_id", default=None)
        if calibration_id is not None and what in ("configuration", "properties"):
            # The snapshots carry no calibration ids: none is known, as a retired one would not be.
            raise ServiceError(
                404, f"Calibration {calibration_id} not found for backend {name}.", 1216
            )
        if what == "configuration":
            self.send(catalog.configuration(name))
        elif what == "properties":
            self.send(catalog.properties(name))
        else:
            self.send(
                {
                    "backend_name": name,
                    "backend_version": catalog.configuration(name).get("backend_version", "1.0.0"),
                    "state": True,
                    "status": "active",
                    "message": "available",
                    "length_queue": self._queue_length(name),
                }
            )


class UsageHandler(RuntimeHandler):
    def get(self) -> None:
        now = self.emulator.now()
        service = self.service
        service.advance(now)
        used = service.consumed(now, self.emulator.reported_at(now))
        limit = service.durations.instance_limit
        start, end = service.period(now)
        self.send(
            {
                "instance_id": self.emulator.instance_crn,
                "plan_id": self.emulator.plan["id"],
                "usage_consumed_seconds": round(used, 3),
                "usage_limit_seconds": None if limit is None else round(limit, 3),
                "usage_allocation_seconds": None,
                "usage_remaining_seconds": None
                if limit is None
                else round(max(0.0, limit - used), 3),
                "usage_limit_reached": service.limit_reached(now),
                "usage_period": {"start_time": iso(start), "end_time": iso(end)},
            }
        )


# ---------------------------------------------------------------------- sessions


class SessionsHandler(RuntimeHandler):
    def post(self) -> None:
        body = self.json_body()
        if self.emulator.config.plan == "open":
            raise ServiceError(
                403, "You are not authorized to run a session when using the open plan.", 1352
            )
        backend = body.get("backend")
        if not isinstance(backend, str) or not backend:
            raise ServiceError(400, "A backend is required to create a session.", 1211)
        mode = body.get("mode", "dedicated")
        max_ttl = body.get("max_ttl")
        if max_ttl is not None and (
            isinstance(max_ttl, bool) or not isinstance(max_ttl, int | float)
        ):
            raise ServiceError(400, "max_ttl must be a number of seconds.", 1218)
        session = self.service.create_session(
            backend=backend,
            mode=str(mode),
            instance=self.emulator.instance_crn,
            # A requested max_ttl is scaled like every other duration.
            max_ttl=None if max_ttl is None else float(max_ttl) * self.emulator.config.time_scale,
            now=self.emulator.now(),
        )
        self.send(
            {
                "id": session.id,
                "mode": session.mode,
                "backend_name": session.backend,
                "max_ttl": round(session.max_ttl),
            },
            200,
        )


class SessionHandler(RuntimeHandler):
    def get(self, session_id: str) -> None:
        now = self.emulator.now()
        self.send(reported_session(self.emulator, self.service.session(session_id, now), now))

    def patch(self, session_id: str) -> None:
        body = self.json_body()
        if body.get("accepting_jobs") is not False:
            raise ServiceError(400, 'Only {"accepting_jobs": false} can be set on a session.', 1200)
        self.service.stop_accepting(session_id, self.emulator.now())
        self.set_status(204)
        self.finish()


class SessionCloseHandler(RuntimeHandler):
    def delete(self, session_id: str) -> None:
        self.service.cancel_session(session_id, self.emulator.now())
        self.set_status(204)
        self.finish()


class WorkloadsHandler(RuntimeHandler):
    def get(self) -> None:
        now = self.emulator.now()
        self.service.advance(now)
        mode = self.get_query_argument("mode", default=None)
        limit = int(self.get_query_argument("limit", default="50"))
        workloads: list[dict[str, Any]] = []
        if mode in (None, "session", "batch"):
            for s in self.service.sessions.values():
                if mode is None or (mode == "batch") == (s.mode == "batch"):
                    workloads.append(
                        {
                            "id": s.id,
                            "mode": "batch" if s.mode == "batch" else "session",
                            "backend": s.backend,
                            "status": s.state.value,
                            "created_at": session_body(s, now)["created_at"],
                            "tags": [],
                            "usage_seconds": round(s.elapsed_at(self.emulator.reported_at(now))),
                        }
                    )
        if mode in (None, "job"):
            for j in self.service.jobs.values():
                if j.session_id is None:
                    body = job_body(j, self.service, include_params=False)
                    workloads.append(
                        {
                            "id": j.id,
                            "mode": "job",
                            "backend": j.backend,
                            "status": j.status.value,
                            "created_at": body["created"],
                            "tags": j.tags,
                        }
                    )
        workloads.sort(key=lambda w: w["created_at"] or "", reverse=True)
        self.send({"workloads": workloads[:limit], "count": len(workloads)})


# ---------------------------------------------------------------------- jobs


def _tags(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise ServiceError(400, "tags must be a list of strings.", 1200)
    return value


def _moment(value: str | None, name: str) -> datetime | None:
    """An ISO-8601 query value (``2025-01-02T03:04:05.678+00:00`` as the client sends it, or with
    ``Z``); without an offset it is taken as UTC."""
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ServiceError(400, f"{name} must be an ISO-8601 date and time.", 1200) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class JobsHandler(RuntimeHandler):
    async def post(self) -> None:
        body = self.json_body()
        program_id = body.get("program_id")
        if not isinstance(program_id, str) or not program_id:
            raise ServiceError(400, "program_id is required.", 1200)
        params = body.get("params")
        if not isinstance(params, dict):
            raise ServiceError(400, "params must be a JSON object.", 1200)
        session_id = body.get("session_id")
        backend = body.get("backend")
        tags = _tags(body.get("tags"))
        cost = body.get("cost")  # max_execution_time, seconds
        if cost is not None and (isinstance(cost, bool) or not isinstance(cost, int | float)):
            raise ServiceError(400, "cost (max_execution_time) must be a number of seconds.", 1200)
        # Check the session and backend before spending time on the simulation.
        now = self.emulator.now()
        session = None if session_id is None else self.service.session(str(session_id), now)
        device = backend if isinstance(backend, str) else session.backend if session else None
        catalog = self.emulator.catalog
        coupling: list[list[int]] = []
        if device in catalog.all_names:
            coupling = catalog.configuration(device).get("coupling_map") or []
        failure: str | None = None
        result_text: str | None = None
        try:
            decoded = execution.validate(program_id, params)
            loop = asyncio.get_running_loop()
            result_text = await loop.run_in_executor(
                self.emulator.executor, execution.execute, program_id, decoded, coupling
            )
        except execution.ExecutionError as error:
            failure = str(error)
        except Exception as error:  # the reference primitives refused the input
            failure = f"The job could not be executed: {type(error).__name__}: {error}"
        job = self.service.submit_job(
            program_id=program_id,
            backend=backend if isinstance(backend, str) else None,
            session_id=str(session_id) if session_id is not None else None,
            tags=tags,
            params=params,
            now=self.emulator.now(),
            private=bool(body.get("private", False)),
            max_seconds=None if cost is None else float(cost) * self.emulator.config.time_scale,
        )
        job.result_text = result_text
        if failure is not None:
            self.service.fail_job(
                job.id, failure, execution.REASON_CODE_INVALID_INPUT, self.emulator.now()
            )
        self.send({"id": job.id, "backend": job.backend, "session_id": job.session_id}, 200)

    def get(self) -> None:
        now = self.emulator.now()
        self.service.advance(now)
        jobs = list(self.service.jobs.values())
        session_id = self.get_query_argument("session_id", default=None)
        if session_id is not None:
            jobs = [j for j in jobs if j.session_id == session_id]
        pending = self.get_query_argument("pending", default=None)
        if pending is not None:
            want_pending = pending.lower() == "true"
            jobs = [j for j in jobs if (not j.final) == want_pending]
        program = self.get_query_argument("program", default=None)
        if program is not None:
            jobs = [j for j in jobs if j.program_id == program]
        backend = self.get_query_argument("backend", default=None)
        if backend is not None:
            jobs = [j for j in jobs if j.backend == backend]
        for tag in self.get_query_arguments("tags"):
            jobs = [j for j in jobs if tag in j.tags]
        # Dry runs (on a mock device) are listed only when asked for, as service.jobs() says.
        if self.get_query_argument("include_mocks", default="false").lower() != "true":
            jobs = [j for j in jobs if j.backend not in self.service.mock_backends]
        # Both bounds inclusive, as the client documents them (it sends UTC ISO-8601), compared at
        # the millisecond precision of ``created``: a job's own creation date selects it.
        after = _moment(self.get_query_argument("created_after", default=None), "created_after")
        if after is not None:
            jobs = [j for j in jobs if _ms(j.created) >= after]
        before = _moment(self.get_query_argument("created_before", default=None), "created_before")
        if before is not None:
            jobs = [j for j in jobs if _ms(j.created) <= before]
        ascending = self.get_query_argument("sort", default="DESC").upper() == "ASC"
        jobs.sort(key=lambda j: (j.created, self.service._order[j.id]), reverse=not ascending)
        try:
            limit = int(self.get_query_argument("limit", default="200"))
            offset = int(self.get_query_argument("offset", default="0"))
        except ValueError:
            raise ServiceError(400, "limit and offset must be integers.", 1200) from None
        if limit < 0 or offset < 0:
            raise ServiceError(400, "limit and offset must not be negative.", 1200)
        page_limit = self.emulator.config.jobs_page_limit
        if page_limit is not None:  # ``--jobs-page-limit``: whatever ``limit`` asks
            limit = min(limit, page_limit)
        page = jobs[offset : offset + limit]
        include_params = self.get_query_argument("exclude_params", default="true").lower() != "true"
        self.send(
            {
                "jobs": [
                    reported_job(self.emulator, j, now, include_params=include_params) for j in page
                ],
                "count": len(jobs),
                "limit": limit,
                "offset": offset,
            }
        )


class JobHandler(RuntimeHandler):
    def get(self, job_id: str) -> None:
        job = self.service.job(job_id, self.emulator.now())
        include_params = (
            self.get_query_argument("exclude_params", default="false").lower() != "true"
        )
        self.send(
            reported_job(self.emulator, job, self.emulator.now(), include_params=include_params)
        )

    def delete(self, job_id: str) -> None:
        self.service.delete_job(job_id, self.emulator.now())
        self.set_status(204)
        self.finish()


class JobDataHandler(RuntimeHandler):
    def get(self, job_id: str, what: str) -> None:
        now = self.emulator.now()
        job = self.service.job(job_id, now)
        if what == "metrics":
            metrics = job_metrics(job, self.service, now)
            seconds = round(job.usage_seconds(self.emulator.reported_at(now)), 3)
            metrics["bss"]["seconds"] = seconds
            metrics["usage"].update(
                quantum_seconds=seconds, seconds=seconds, qpu_charge_time_seconds=seconds
            )
            self.send(metrics)
        elif what == "logs":
            self.set_header("Content-Type", "text/plain")
            self.finish(f"Job {job.id} ({job.program_id}) on {job.backend}: {job.status.value}\n")
        elif job.status is JobStatus.FAILED or job.reason_code == REASON_CODE_RAN_TOO_LONG:
            # The client reads a failed job's error text from its results (and a job cancelled
            # for running too long is an error to it).
            self.set_header("Content-Type", "text/plain")
            self.finish(f"Error: {job.reason or 'the job failed'}")
        else:
            text = self.service.read_results(job_id, now)
            self.set_header("Content-Type", "text/plain")
            self.finish(text)


class JobCancelHandler(RuntimeHandler):
    def post(self, job_id: str) -> None:
        self.service.cancel_job(job_id, self.emulator.now())
        self.set_status(204)
        self.finish()


class JobTagsHandler(RuntimeHandler):
    def put(self, job_id: str) -> None:
        job = self.service.job(job_id, self.emulator.now())
        job.tags = _tags(self.json_body().get("tags"))
        self.set_status(204)
        self.finish()
