"""The request bodies the API reads, as JSON Schemas, and :func:`check`, which holds a body to one.

The schemas are the ones ``docs/openapi.yaml`` publishes (``tests/test_openapi.py`` compares
them, so neither can change alone). Validation is ``jsonschema``'s (Draft 2020-12, the dialect
of OpenAPI 3.1), with two things it leaves open made strict: an integer is a JSON integer (not
``1.0``, not ``true``), and a Qiskit Runtime id matches its pattern whole (``format:
runtime-id``; a regex ``$`` would let a trailing newline through).

A refusal is the error contract's ``bad_request`` with one sentence about the first thing wrong:
an unknown field (all of them, and what is allowed), else the message the schema gives the field
(``x-message``; ``{name}`` is the field's name), so a script's author learns what to send.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from jsonschema.validators import extend

from jupyter_session_monitor.domain.errors import MonitorError
from jupyter_session_monitor.domain.models import BUDGET_ACTIONS

Schema = dict[str, Any]

_RUNTIME_ID_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
_RUNTIME_ID = re.compile(_RUNTIME_ID_PATTERN.strip("^$"))

#: A Qiskit Runtime id (of a session or a job).
RUNTIME_ID: Schema = {
    "type": "string",
    "pattern": _RUNTIME_ID_PATTERN,
    "format": "runtime-id",
    "x-message": "'{name}' must be a Qiskit Runtime id: 1-128 letters, digits, '-', '_', '.' "
    "or ':'.",
}

#: ``POST sessions``: track a session by id.
TRACK: Schema = {
    "type": "object",
    "required": ["session_id"],
    "additionalProperties": False,
    "properties": {
        "session_id": RUNTIME_ID,
        "account": {
            "type": ["string", "null"],
            "pattern": r"\S",
            "x-message": "'account' must be a saved account's name, or null.",
        },
    },
}

#: ``POST sessions/close-all``: close (or cancel) every open session, or only those listed.
CLOSE_ALL: Schema = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "action": {
            "type": "string",
            "enum": ["close", "cancel"],
            "default": "close",
            "x-message": "'action' must be 'close' or 'cancel'.",
        },
        "session_ids": {
            "type": "array",
            "maxItems": 10_000,
            "items": RUNTIME_ID,
            "x-message": "'session_ids' must be a list of session ids.",
        },
    },
}

_POSITIVE = {
    "type": ["number", "null"],
    "exclusiveMinimum": 0,
    "x-message": "'{name}' must be a positive number.",
}
_BUDGET_FIELDS: Schema = {
    "seconds": _POSITIVE,
    "amount": _POSITIVE,
    "action": {
        "type": "string",
        "enum": list(BUDGET_ACTIONS),
        "default": "notify",
        "x-message": f"'action' must be one of {', '.join(BUDGET_ACTIONS)}.",
    },
    "threshold": {
        "type": "number",
        "exclusiveMinimum": 0,
        "maximum": 1,
        "default": 0.8,
        "x-message": "'threshold' must be a share of the budget: above 0, at most 1.",
    },
}
#: Exactly one of ``seconds`` and ``amount`` is a number.
_ONE_SIZE: Schema = {
    "oneOf": [
        {"required": ["seconds"], "properties": {"seconds": {"type": "number"}}},
        {"required": ["amount"], "properties": {"amount": {"type": "number"}}},
    ],
    "x-message": "Give exactly one of 'seconds' (billed time) or 'amount' (money at the rate set "
    "for this server).",
}

#: ``PUT sessions/{id}/budget``.
BUDGET: Schema = {
    "type": "object",
    "additionalProperties": False,
    "properties": _BUDGET_FIELDS,
    "allOf": [_ONE_SIZE],
}

NOTEBOOK_PATH: Schema = {
    "type": "string",
    "minLength": 1,
    "maxLength": 4096,
    "pattern": r"\S",
    "x-message": "'notebook_path' must be a notebook's path (as in the sidebar).",
}

#: ``DELETE notebook-budgets?notebook_path=``: the query, as an object.
NOTEBOOK_PATH_QUERY: Schema = {
    "type": "object",
    "required": ["notebook_path"],
    "properties": {"notebook_path": NOTEBOOK_PATH},
}

#: ``PUT notebook-budgets``.
NOTEBOOK_BUDGET: Schema = {
    **BUDGET,
    "required": ["notebook_path"],
    "properties": {**_BUDGET_FIELDS, "notebook_path": NOTEBOOK_PATH},
}

#: ``PUT billing``: the rate per billed second and its currency (null removes each).
RATE: Schema = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "rate_per_second": {
            "type": ["number", "null"],
            "minimum": 0,
            "x-message": "'rate_per_second' must be a non-negative number, or null.",
        },
        "currency": {
            "type": ["string", "null"],
            "maxLength": 8,
            "pattern": r"\S",
            "x-message": "'currency' must be a short label such as 'USD', or null.",
        },
    },
}

_TEXT_OR_NULL = {"type": ["string", "null"], "x-message": "'{name}' must be a string or null."}
_CELL: Schema = {
    "type": ["object", "null"],
    "additionalProperties": False,
    "properties": {
        "id": {
            "type": ["string", "null"],
            "maxLength": 128,
            "x-message": "A cell's 'id' must be a short string.",
        },
        "execution_count": {
            "type": ["integer", "null"],
            "x-message": "A cell's 'execution_count' is an integer.",
        },
    },
    "x-message": "A cell is {{'id': string or null, 'execution_count': integer}}.",
}

#: ``POST kernel-registrations``: what the kernel hook reports. Fields it does not know are
#: ignored (the hook also sends ``mode`` and ``backend``, and a newer hook may send more).
REGISTRATION: Schema = {
    "type": "object",
    "required": ["session_id"],
    "properties": {
        "session_id": RUNTIME_ID,
        "kernel_id": _TEXT_OR_NULL,
        "account": {
            "type": ["object", "null"],
            "properties": {
                "name": _TEXT_OR_NULL,
                "channel": _TEXT_OR_NULL,
                "instance": _TEXT_OR_NULL,
                "url": _TEXT_OR_NULL,
            },
            "x-message": "'account' must be an object.",
        },
        "token": _TEXT_OR_NULL,
        "run": {
            "type": ["object", "null"],
            "required": ["notebook", "runner", "pid"],
            "properties": {
                "notebook": {
                    "type": "string",
                    "pattern": "^/",
                    "maxLength": 4096,
                    "x-message": "'run.notebook' must be an absolute path.",
                },
                "runner": {
                    "type": "string",
                    "maxLength": 80,
                    "x-message": "'run.runner' must be a short text.",
                },
                "pid": {
                    "type": "integer",
                    "minimum": 1,
                    "x-message": "'run.pid' must be a process id.",
                },
            },
            "x-message": "'run' must be an object: the notebook, the runner and its pid.",
        },
        "cell": _CELL,
        "job_cells": {
            "type": ["object", "null"],
            "maxProperties": 1000,
            "propertyNames": RUNTIME_ID,
            "additionalProperties": _CELL,
            "x-message": "'job_cells' must map job ids to cells.",
        },
    },
}

_KERNEL_ID = {
    "type": "string",
    "minLength": 1,
    "x-message": "'kernel_id' is required: the asking kernel's id.",
}
_OPS = ("views", "set_budget", "close_all")


def _op(
    name: str, fields: Schema, required: Iterable[str] = (), also: Iterable[Schema] = ()
) -> Schema:
    """One branch of a kernel request: when ``op`` is ``name``, these fields and no others."""
    then: Schema = {
        "additionalProperties": False,
        "properties": {"kernel_id": _KERNEL_ID, "op": {"const": name}, **fields},
    }
    if required:
        then["required"] = list(required)
    if also:
        then["allOf"] = list(also)
    return {"if": {"properties": {"op": {"const": name}}}, "then": then}


#: ``POST kernel-requests``: what a kernel's magics ask, one schema per ``op``.
KERNEL_REQUEST: Schema = {
    "type": "object",
    "required": ["kernel_id", "op"],
    "properties": {
        "kernel_id": _KERNEL_ID,
        "op": {
            "type": "string",
            "enum": list(_OPS),
            "x-message": f"'op' must be one of: {', '.join(_OPS)}.",
        },
    },
    "allOf": [
        _op(
            "views",
            {
                "session_ids": {
                    "type": "array",
                    "maxItems": 1000,
                    "items": {"type": "string"},
                    "x-message": "'session_ids' must be a list of ids.",
                },
                "fresh": {"type": "boolean", "x-message": "'fresh' must be true or false."},
            },
            required=["session_ids"],
        ),
        _op(
            "set_budget",
            {"session_id": RUNTIME_ID, **_BUDGET_FIELDS},
            required=["session_id"],
            also=[_ONE_SIZE],
        ),
        _op(
            "close_all",
            {
                **CLOSE_ALL["properties"],
                "dry_run": {"type": "boolean", "x-message": "'dry_run' must be true or false."},
            },
        ),
    ],
}
#: Every request body schema, by name (what ``tests/test_openapi.py`` compares with the document).
SCHEMAS: dict[str, Schema] = {
    "TrackRequest": TRACK,
    "CloseAllRequest": CLOSE_ALL,
    "BudgetRequest": BUDGET,
    "NotebookBudgetRequest": NOTEBOOK_BUDGET,
    "RateRequest": RATE,
    "NotebookPathQuery": NOTEBOOK_PATH_QUERY,
    "KernelRegistration": REGISTRATION,
    "KernelRequest": KERNEL_REQUEST,
}


def _strict_integer(_checker: Any, instance: Any) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


_FORMATS = FormatChecker(formats=())


def _runtime_id(value: object) -> bool:
    return not isinstance(value, str) or _RUNTIME_ID.fullmatch(value) is not None


_FORMATS.checks("runtime-id")(_runtime_id)


_Validator = extend(  # type: ignore[no-untyped-call]
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _strict_integer),
)
_VALIDATORS = {
    id(schema): _Validator(schema, format_checker=_FORMATS) for schema in SCHEMAS.values()
}


def check(schema: Schema, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` if it satisfies ``schema`` (one of :data:`SCHEMAS`), else a ``bad_request``
    naming the first thing wrong with it."""
    errors = list(_VALIDATORS[id(schema)].iter_errors(body))
    if not errors:
        return body
    unknown = [error for error in errors if _unknown_fields(error)]
    raise MonitorError(400, "bad_request", _say(schema, (unknown or errors)[0]))


def budget_spec(body: dict[str, Any]) -> dict[str, Any]:
    """A checked budget body (:data:`BUDGET` or a kernel's ``set_budget``) as the budget
    keeper takes it: both sizes (one of them None), the action and threshold, defaults filled."""
    seconds, amount = body.get("seconds"), body.get("amount")
    return {
        "seconds": None if seconds is None else float(seconds),
        "amount": None if amount is None else float(amount),
        "action": body.get("action", _BUDGET_FIELDS["action"]["default"]),
        "threshold": float(body.get("threshold", _BUDGET_FIELDS["threshold"]["default"])),
    }


def _unknown_fields(error: ValidationError) -> bool:
    return error.validator == "additionalProperties" and error.validator_value is False


def _say(schema: Schema, error: ValidationError) -> str:
    """One sentence for the person who sent the body."""
    where: Schema = error.schema if isinstance(error.schema, dict) else {}
    if _unknown_fields(error):
        known = sorted(where.get("properties", {}))
        unknown = sorted(set(error.instance) - set(known))
        return f"Unknown field(s): {', '.join(unknown)}. Allowed: {', '.join(known)}."
    message: str | None = None
    node: Any = schema
    for part in error.absolute_schema_path:
        if isinstance(node, dict):
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int):
            node = node[part]  # a branch of allOf or oneOf
        else:
            break
        if isinstance(node, dict) and "x-message" in node:
            message = node["x-message"]
    path = [part for part in error.absolute_path if isinstance(part, str)]
    if error.validator == "required":
        missing = next(name for name in error.validator_value if name not in error.instance)
        wanted = where.get("properties", {}).get(missing, {})
        message, path = wanted.get("x-message", "'{name}' is required."), [*path, missing]
    name = ".".join(path) or "body"
    # The template is ours; the name (which may hold a sender's braces) is only an argument.
    return message.format(name=name) if message else f"'{name}' is not valid."
