"""docs/openapi.yaml describes what the server really serves.

Each check compares the document with the code, so a route, a method or a field that is added or
removed without updating the document fails here: the registered routes (and which of them are
XSRF-checked or authenticated by the kernel secret), every field of a real ``SessionView`` (nested
objects included), the pushed change against its jupyter_events schema, and the status codes and
bodies of every operation on a live server.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from jupyter_server.base.handlers import JupyterHandler
from qiskit_ibm_runtime import SamplerV2 as Sampler
from qiskit_ibm_runtime import Session
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from tornado.httpclient import HTTPClientError

from jupyter_session_monitor.domain.models import (
    SOURCE_KERNEL,
    AccountRef,
    JobRecord,
    TrackedSession,
)
from jupyter_session_monitor.domain.models import Transition as TransitionRecord
from jupyter_session_monitor.engine.monitor import MonitorConfig
from jupyter_session_monitor.policies.monitor import SessionMonitor
from jupyter_session_monitor.protocol import (
    API_PREFIX,
    PROOF_HEADER,
    SECRET_HEADER,
    SESSION_CHANGES_ID,
    proof,
)
from jupyter_session_monitor.registry.store import Store
from jupyter_session_monitor.server import requests
from jupyter_session_monitor.server.app import SESSION_CHANGES_SCHEMA
from jupyter_session_monitor.service.runtime import RuntimeGateway
from tests.harness import Harness, bell
from tests.test_monitor_api import in_thread, until

from .routes import monitor_routes

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml"
DOC: dict[str, Any] = yaml.safe_load(DOC_PATH.read_text())
DOC_URI = "urn:session-monitor:openapi"
OPERATIONS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)

# ---------------------------------------------------------------------- reading the document


def resolve(node: Any) -> Any:
    """Follow local ``$ref``s (``#/components/...``) until a node that is not one."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = DOC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def object_properties(schema: Any) -> dict[str, Any] | None:
    """The documented properties of an object schema (``allOf`` merged, the object branch of a
    ``oneOf``/``anyOf`` taken); ``None`` when the schema names no properties."""
    schema = resolve(schema)
    found: dict[str, Any] | None = None
    if "properties" in schema:
        found = dict(schema["properties"])
    for part in schema.get("allOf", []):
        more = object_properties(part)
        if more is not None:
            found = {**(found or {}), **more}
    for part in schema.get("oneOf", []) + schema.get("anyOf", []):
        more = object_properties(part)
        if more is not None:
            found = {**(found or {}), **more}
    return found


def array_items(schema: Any) -> Any:
    schema = resolve(schema)
    if "items" in schema:
        return schema["items"]
    for part in schema.get("allOf", []) + schema.get("oneOf", []) + schema.get("anyOf", []):
        items = array_items(part)
        if items is not None:
            return items
    return None


def assert_fields_documented(value: Any, schema: Any, where: str) -> None:
    """Every key of every object in ``value`` is documented, and every documented key is there."""
    if isinstance(value, dict):
        documented = object_properties(schema)
        assert documented is not None, f"{where}: an object, documented without properties"
        assert set(value) == set(documented), (
            f"{where}: served but undocumented {sorted(set(value) - set(documented))}, "
            f"documented but not served {sorted(set(documented) - set(value))}"
        )
        for key, item in value.items():
            assert_fields_documented(item, documented[key], f"{where}.{key}")
    elif isinstance(value, list):
        items = array_items(schema)
        assert items is not None, f"{where}: an array, documented without items"
        for index, item in enumerate(value):
            assert_fields_documented(item, items, f"{where}[{index}]")


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    """A JSON Schema 2020-12 validator (OpenAPI 3.1's dialect) that resolves the document's refs."""
    registry: Registry[Any] = Registry().with_resource(DOC_URI, DRAFT202012.create_resource(DOC))
    return Draft202012Validator(
        schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def assert_conforms(value: Any, schema: Any, where: str) -> None:
    """``value`` has exactly the documented fields and validates against the documented schema."""
    assert_fields_documented(value, schema, where)
    if isinstance(schema, dict) and set(schema) == {"$ref"}:
        schema = {"$ref": DOC_URI + schema["$ref"]}
    errors = [error.message for error in validator(schema).iter_errors(value)]
    assert not errors, f"{where}: {errors}"


def component(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def normalized(path: str) -> str:
    """OpenAPI path templates match whatever their parameters are called."""
    return re.sub(r"\{[^}/]+\}", "{}", path)


def openapi_paths(pattern: str) -> tuple[list[str], bool]:
    """The OpenAPI paths a tornado route pattern serves, relative to the API prefix, and whether
    it is a catch-all (a group that spans path segments cannot be a path parameter)."""
    _base, sep, rest = pattern.partition(API_PREFIX)
    assert sep, f"{pattern} is outside {API_PREFIX}"
    paths, catch_all = [""], False
    for part in re.split(r"(\([^()]*\))", rest.removesuffix("$")):
        group = part[1:-1] if part.startswith("(") else None
        if group is None:
            paths = [path + part.replace("\\", "") for path in paths]
        elif re.fullmatch(r"[\w-]+(\|[\w-]+)*", group):
            paths = [path + literal for path in paths for literal in group.split("|")]
        else:
            catch_all = catch_all or re.fullmatch(group, "a/b") is not None
            paths = [path + "{}" for path in paths]
    return paths, catch_all


def operation(path: str, method: str) -> dict[str, Any]:
    by_template = {normalized(template): item for template, item in DOC["paths"].items()}
    found: dict[str, Any] = by_template[normalized(path)][method]
    return found


# ---------------------------------------------------------------------- (a) routes


def test_documented_operations_are_the_registered_routes(jp_serverapp: Any) -> None:
    registered: set[tuple[str, str]] = set()
    catch_all_methods: set[str] = set()
    routes = monitor_routes(jp_serverapp.web_app)
    for route in routes:
        paths, catch_all = openapi_paths(route.pattern)
        methods = {method.lower() for method in route.methods}
        if catch_all:
            catch_all_methods |= methods
        else:
            registered |= {(path, method) for path in paths for method in methods}
    documented = {
        (normalized(path), method)
        for path, item in DOC["paths"].items()
        for method in item
        if method in OPERATIONS
    }

    assert len(registered) >= 8, registered  # not vacuous
    assert documented == registered, (
        f"registered but undocumented: {sorted(registered - documented)}; "
        f"documented but not registered: {sorted(documented - registered)}"
    )
    assert catch_all_methods, "the catch-all route was not found"
    assert set(DOC["x-unmatched-paths"]["methods"]) == catch_all_methods


def test_documented_xsrf_and_authentication_are_what_the_handlers_do(jp_serverapp: Any) -> None:
    # XSRF: jupyter_server checks mutating requests unless the handler opts out (the kernel route).
    # Authentication: the user's token or cookie, unless the method allows unauthenticated access
    # and checks the kernel secret itself.
    user_auth = {name for requirement in DOC["security"] for name in requirement}
    assert user_auth == {"jupyterToken", "jupyterTokenQuery", "jupyterCookie"}
    checked = 0
    for route in monitor_routes(jp_serverapp.web_app):
        paths, catch_all = openapi_paths(route.pattern)
        if catch_all:
            continue
        opts_out = route.handler.check_xsrf_cookie is not JupyterHandler.check_xsrf_cookie
        for path in paths:
            for method in route.methods:
                op = operation(path, method.lower())
                where = f"{method} {path}"
                xsrf = method != "GET" and not opts_out
                assert op["x-xsrf-checked"] is xsrf, where
                xsrf_param = {"$ref": "#/components/parameters/XSRFToken"}
                assert (xsrf_param in op.get("parameters", [])) is xsrf, where
                by_secret = getattr(
                    getattr(route.handler, method.lower()), "__allow_unauthenticated", False
                )
                security = op.get("security", DOC["security"])
                assert (security == [{"kernelSecret": []}]) is by_secret, where
                assert by_secret == path.endswith(("/kernel-registrations", "/kernel-requests")), (
                    where
                )
                checked += 1
    assert checked >= 8


# ---------------------------------------------------------------------- (b) SessionView


@pytest.fixture
def monitor(tmp_path: Path) -> Iterator[SessionMonitor]:
    # Views, snapshots and changes are computed without calling the service.
    gateway = RuntimeGateway(max_workers=1)
    store = Store(tmp_path / "registry.sqlite")
    yield SessionMonitor(store, gateway, MonitorConfig())
    store.close()
    gateway.shutdown()


def tracked_session(monitor: SessionMonitor) -> TrackedSession:
    """A session with every field filled in: jobs, a timeline entry, a polling error."""
    body = {
        "id": "s-1",
        "backend_name": "ibm_torino",
        "mode": "dedicated",
        "state": "active",
        "state_reason": None,
        "accepting_jobs": True,
        "interactive_ttl": 60,
        "max_ttl": 28800,
        "active_ttl": 28800,
        "created_at": "2026-01-01T11:59:00Z",
        "started_at": "2026-01-01T11:59:30Z",
        "activated_at": "2026-01-01T11:59:30Z",
        "closed_at": None,
        "last_job_started": "2026-01-01T11:59:30Z",
        "last_job_completed": "2026-01-01T11:59:40Z",
        "elapsed_time": 30.0,
        "timestamps": [
            {"status": "open", "timestamp": "2026-01-01T11:59:00Z"},
            {"status": "active", "timestamp": "2026-01-01T11:59:30Z"},
        ],
    }
    session = TrackedSession(
        id="s-1",
        account=AccountRef(name="work", channel="ibm_quantum_platform", instance="crn:x"),
        source=SOURCE_KERNEL,
        tracked_at=NOW,
        kernel_id="k-1",
        notebook_path="analysis/vqe.ipynb",
        mode="dedicated",
        backend="ibm_torino",
        body=body,
        last_polled_at=NOW,
        error={"kind": "timeout", "message": "The service did not answer."},
        stale=True,
        jobs=[
            JobRecord("j-1", "s-1", "sampler", "DONE", ["vqe"], "2026-01-01T11:59:30Z", 2.5),
            JobRecord("j-2", "s-1", "estimator", "QUEUED", [], "2026-01-01T11:59:50Z"),
        ],
    )
    monitor.sessions[session.id] = session
    monitor.store.save_session(session)
    monitor.store.add_transition(
        session.id, TransitionRecord(NOW, "active", True, "In progress, accepting new jobs")
    )
    return session


def test_session_view_fields_are_documented(monitor: SessionMonitor) -> None:
    session = tracked_session(monitor)
    view = monitor.view(session)
    detailed = monitor.view(session, with_timeline=True)

    assert view["jobs"] and view["error"] and detailed["timeline"]  # nested objects are checked
    assert_conforms(view, component("SessionView"), "SessionView")
    assert_conforms(detailed, component("SessionViewWithTimeline"), "SessionViewWithTimeline")
    assert "timeline" not in (object_properties(component("SessionView")) or {})
    assert set(resolve(component("SessionView"))["required"]) == set(view)
    assert not any("token" in name for name in object_properties(component("AccountRef")) or {})


def test_snapshot_is_documented(monitor: SessionMonitor) -> None:
    tracked_session(monitor)

    assert_conforms(monitor.snapshot(), component("Snapshot"), "Snapshot")


#: Words for people, not rules: they may differ between the document and the code.
ANNOTATIONS = {"description", "examples", "writeOnly", "x-message"}

#: Which documented operation takes which of the server's request schemas.
REQUEST_BODIES = {
    ("/sessions", "post"): "TrackRequest",
    ("/sessions/close-all", "post"): "CloseAllRequest",
    ("/sessions/{session_id}/budget", "put"): "BudgetRequest",
    ("/notebook-budgets", "put"): "NotebookBudgetRequest",
    ("/billing", "put"): "RateRequest",
    ("/kernel-registrations", "post"): "KernelRegistration",
    ("/kernel-requests", "post"): "KernelRequest",
}


def rules(schema: Any) -> Any:
    """A schema with its ``$ref``s followed and its annotations for people dropped."""
    schema = resolve(schema)
    if isinstance(schema, dict):
        return {key: rules(value) for key, value in schema.items() if key not in ANNOTATIONS}
    if isinstance(schema, list):
        return [rules(item) for item in schema]
    return schema


@pytest.mark.parametrize("name", sorted(set(requests.SCHEMAS) - {"NotebookPathQuery"}))
def test_request_schemas_are_the_ones_the_server_checks(name: str) -> None:
    # The server validates each body against its schema in server/requests.py; the document
    # publishes the same rules, so neither can change without the other.
    assert rules(component(name)) == rules(requests.SCHEMAS[name])


def test_each_operation_documents_the_body_the_server_checks() -> None:
    for (path, method), name in REQUEST_BODIES.items():
        body = resolve(DOC["paths"][path][method]["requestBody"])
        schema = body["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{name}"}, (path, method)
    removal = DOC["paths"]["/notebook-budgets"]["delete"]["parameters"]
    query = {parameter["name"]: parameter for parameter in map(resolve, removal)}
    assert rules(query["notebook_path"]["schema"]) == rules(requests.NOTEBOOK_PATH)


# ---------------------------------------------------------------------- (c) pushed changes


def test_change_schema_is_the_event_schema() -> None:
    event = yaml.safe_load(SESSION_CHANGES_SCHEMA.read_text())
    change = resolve(component("SessionChange"))
    delivery = DOC["webhooks"]["sessionChange"]["x-delivery"]
    message = object_properties(component("SessionChangeMessage")) or {}

    assert set(change["properties"]) == set(event["properties"])
    assert set(change["required"]) == set(event["required"])
    assert change["properties"]["kind"]["enum"] == event["properties"]["kind"]["enum"]
    assert delivery["schema_id"] == event["$id"] == SESSION_CHANGES_ID
    assert delivery["schema_version"] == str(event["version"])
    assert message["schema_id"]["const"] == SESSION_CHANGES_ID
    assert set(message) == {"schema_id", *event["properties"]}


def test_real_changes_conform_to_the_document_and_the_event_schema(
    monitor: SessionMonitor,
) -> None:
    event_schema = yaml.safe_load(SESSION_CHANGES_SCHEMA.read_text())
    changes: list[dict[str, Any]] = []
    monitor.subscribe(changes.append)
    session = tracked_session(monitor)

    monitor.kernel_gone("k-1", "its kernel restarted")  # an update, with the session's view
    monitor.forget(session.id)  # a removal, without one

    assert [change["kind"] for change in changes] == ["updated", "removed"]
    for change in changes:
        assert_conforms(change, component("SessionChange"), f"change {change['kind']}")
        assert not list(Draft202012Validator(event_schema).iter_errors(change))
        frame = {"schema_id": SESSION_CHANGES_ID, **change}  # as the event WebSocket sends it
        assert_conforms(frame, component("SessionChangeMessage"), "frame")


# ---------------------------------------------------------------------- live responses


async def test_every_operation_answers_as_documented(
    make_emulator: Callable[..., Harness], jp_serverapp: Any, jp_fetch: Any, jp_ws_fetch: Any
) -> None:
    # The real client and the emulator behind the live monitor: two sessions, one with a job
    # running (2 s) and one queued behind it.
    harness = make_emulator(time_scale=0.02, job_seconds=100)

    def submit() -> tuple[str, str, list[str]]:
        backend = harness.service().backend("ibmq_manila")
        busy, other = Session(backend=backend), Session(backend=backend)
        sampler = Sampler(mode=busy)
        jobs = [sampler.run([bell(backend)], shots=5) for _ in range(2)]
        return busy.session_id, other.session_id, [job.job_id() for job in jobs]

    busy_id, other_id, (_running, queued_job) = await in_thread(submit)
    settings = jp_serverapp.web_app.settings
    monitor: SessionMonitor = settings["session_monitor"]
    secret = {SECRET_HEADER: settings["session_monitor_kernel_secret"]}
    seen: set[tuple[str, str, int]] = set()
    bodies: list[bytes] = []

    async def call(
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        template: str | None = None,
        params: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        try:
            response = await jp_fetch(
                "session-monitor",
                "api",
                *path.split("/"),
                params=params,
                method=method,
                body=None if body is None else json.dumps(body),
                headers=headers or {},
                allow_nonstandard_methods=True,
            )
            status, raw = response.code, response.body
        except HTTPClientError as error:
            status = error.code
            raw = error.response.body if error.response is not None else b""
        bodies.append(raw)
        template = template or path
        if template == "no-such-route":
            response_doc = resolve(DOC["x-unmatched-paths"]["response"])
        else:
            responses = operation(f"/{template}", method.lower())["responses"]
            assert str(status) in responses, f"{method} {path}: {status} is not documented"
            response_doc = resolve(responses[str(status)])
        seen.add((method, template, status))
        content = response_doc.get("content")
        if content is None:
            assert raw == b"", f"{method} {path}: {status} is documented without a body"
            return status, None
        value = json.loads(raw)
        assert_conforms(value, content["application/json"]["schema"], f"{method} {path} {status}")
        return status, value

    socket = await jp_ws_fetch("api", "events", "subscribe")
    assert (await call("GET", "version"))[0] == 200
    assert (await call("POST", "sessions", {"session_id": busy_id, "account": None}))[0] == 201
    frame: dict[str, Any] = {}
    async with asyncio.timeout(20):
        while frame.get("schema_id") != SESSION_CHANGES_ID:
            frame = json.loads(await socket.read_message())
    assert_conforms(frame, component("SessionChangeMessage"), "pushed frame")
    socket.close()
    assert (await call("POST", "sessions", {"session_id": "unknown"}))[0] == 404
    assert (await call("POST", "sessions", {"session_id": busy_id, "colour": "red"}))[0] == 400
    assert (await call("GET", "sessions"))[0] == 200
    by_id = "sessions/{id}"

    async def job_listed(status: str) -> bool:
        _, detailed = await call("GET", f"sessions/{busy_id}", template=by_id)
        return any(j["id"] == queued_job and j["status"] == status for j in detailed["jobs"])

    await until(lambda: job_listed("QUEUED"))  # the first poll lists the session's jobs
    assert (await call("GET", "sessions/unknown", template=by_id))[0] == 404
    fresh, maybe = {"fresh": "true"}, {"fresh": "maybe"}
    assert (await call("GET", f"sessions/{busy_id}", template=by_id, params=fresh))[0] == 200
    assert (await call("GET", f"sessions/{busy_id}", template=by_id, params=maybe))[0] == 400
    assert (await call("POST", "viewers", {}))[0] == 204
    cancel_job = "jobs/{id}/cancel"
    assert (await call("POST", f"jobs/{queued_job}/cancel", {}, template=cancel_job))[0] == 202
    await until(lambda: job_listed("CANCELLED"))
    assert (await call("POST", f"jobs/{queued_job}/cancel", {}, template=cancel_job))[0] == 409
    assert (await call("POST", "jobs/j-unknown/cancel", {}, template=cancel_job))[0] == 404
    # Money: the rate, budgets, the instances' allowance.
    assert (await call("GET", "billing"))[0] == 200
    assert (await call("PUT", "billing", {"rate_per_second": -1}))[0] == 400
    assert (await call("PUT", "billing", {"rate_per_second": 0.5, "currency": "USD"}))[0] == 200
    budget = "sessions/{id}/budget"
    status, viewed = await call(
        "PUT", f"sessions/{busy_id}/budget", {"seconds": 600, "action": "close"}, template=budget
    )
    assert status == 200 and viewed["budget"]["seconds"] == 600
    assert (await call("PUT", f"sessions/{busy_id}/budget", {"action": "x"}, template=budget))[
        0
    ] == 400
    assert (await call("PUT", "sessions/unknown/budget", {"seconds": 1}, template=budget))[0] == 404
    assert (await call("DELETE", f"sessions/{busy_id}/budget", template=budget))[0] == 204
    assert (await call("DELETE", f"sessions/{busy_id}/budget", template=budget))[0] == 404
    notebook = {"notebook_path": "vqe.ipynb", "amount": 100, "action": "notify"}
    assert (await call("PUT", "notebook-budgets", notebook))[0] == 200
    assert (await call("PUT", "notebook-budgets", {"amount": 100}))[0] == 400
    assert (await call("GET", "notebook-budgets"))[1]["notebook_budgets"][0]["amount"] == 100
    assert (await call("PUT", "billing", {"rate_per_second": None, "currency": None}))[0] == 200
    assert (await call("PUT", "notebook-budgets", notebook))[0] == 409  # money with no rate
    gone = {"notebook_path": "vqe.ipynb"}
    assert (await call("DELETE", "notebook-budgets", params=gone))[0] == 204
    assert (await call("DELETE", "notebook-budgets", params=gone))[0] == 404
    assert (await call("DELETE", "notebook-budgets"))[0] == 400
    receipt_path, timeline_path = "sessions/{id}/receipt", "sessions/{id}/timeline"
    status, answer = await call("GET", f"sessions/{busy_id}/receipt", template=receipt_path)
    assert status == 200 and answer["receipt"]["session_id"] == busy_id
    assert (await call("GET", "sessions/unknown/receipt", template=receipt_path))[0] == 404
    assert (await call("GET", f"sessions/{busy_id}/timeline", template=timeline_path))[0] == 200
    assert (await call("GET", "sessions/unknown/timeline", template=timeline_path))[0] == 404
    status, history = await call("GET", "history")
    assert status == 200 and busy_id in {row["session_id"] for row in history["sessions"]}
    assert (await call("GET", "history", params={"format": "xml"}))[0] == 400
    assert (await call("GET", "history", params={"since": "yesterday"}))[0] == 400
    status, readings = await call("GET", "instances", params={"fresh": "true"})
    assert status == 200 and readings["instances"][0]["consumed_seconds"] is not None
    assert (await call("GET", "instances", params=maybe))[0] == 400
    for action in ("close", "cancel"):
        template = f"sessions/{{id}}/{action}"
        assert (await call("POST", f"sessions/{busy_id}/{action}", {}, template=template))[0] == 202
        assert (await call("POST", f"sessions/unknown/{action}", {}, template=template))[0] == 404
    environment = harness.emulator.client_environment()
    token = environment["QISKIT_IBM_TOKEN"]
    kernel_id = await jp_serverapp.kernel_manager.start_kernel()
    kernel_key = jp_serverapp.kernel_manager.get_kernel(kernel_id).session.key
    registration = {
        "session_id": other_id,
        "kernel_id": kernel_id,
        "mode": "dedicated",
        "backend": "ibmq_manila",
        "account": {  # what the client in a kernel pointed at the emulator reports
            "name": None,
            "channel": "ibm_quantum_platform",
            "instance": environment["QISKIT_IBM_INSTANCE"],
            "url": environment["QISKIT_IBM_URL"],
        },
        "token": token,  # the emulator's API key, handed over as a kernel would
    }
    signed = {**secret, PROOF_HEADER: proof(kernel_key, json.dumps(registration).encode())}
    assert (await call("POST", "kernel-registrations", registration, secret))[0] == 403  # unsigned
    assert (await call("POST", "kernel-registrations", registration, signed))[0] == 201
    assert token in monitor.gateway._tokens.values()  # kept in the server's memory
    asked = {"kernel_id": kernel_id, "op": "views", "session_ids": [other_id]}
    assert (await call("POST", "kernel-requests", asked, secret))[0] == 403  # unsigned
    signed_ask = {**secret, PROOF_HEADER: proof(kernel_key, json.dumps(asked).encode())}
    status, answer = await call("POST", "kernel-requests", asked, signed_ask)
    assert status == 200 and [v["id"] for v in answer["sessions"]] == [other_id]
    assert (await call("POST", "kernel-registrations", registration))[0] == 403
    elsewhere = {**registration, "kernel_id": "no-such-kernel"}
    assert (await call("POST", "kernel-registrations", elsewhere, secret))[0] == 404
    assert (await call("POST", "kernel-registrations", {"session_id": 7}, secret))[0] == 400
    assert (await call("POST", "sessions/close-all", {"action": "stop"}))[0] == 400
    status, closed_all = await call("POST", "sessions/close-all", {})
    assert status == 202 and other_id in closed_all["closed"]
    assert (await call("DELETE", f"sessions/{busy_id}", template=by_id))[0] == 204
    assert (await call("DELETE", f"sessions/{busy_id}", template=by_id))[0] == 404
    assert (await call("GET", "no-such-route"))[0] == 404

    assert not any(token.encode() in body for body in bodies)
    # Every documented operation was called at least once.
    called = {(method.lower(), normalized(f"/{template}")) for method, template, _ in seen}
    documented = {
        (method, normalized(path))
        for path, item in DOC["paths"].items()
        for method in item
        if method in OPERATIONS
    }
    assert documented <= called, sorted(documented - called)
