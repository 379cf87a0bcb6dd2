"""Find every HTTP route the session monitor registers on a running jupyter_server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tornado.routing import PathMatches, Router, Rule
from tornado.web import Application, RequestHandler

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Route:
    pattern: str
    handler: type[RequestHandler]
    methods: tuple[str, ...]
    sample_path: str


def _rules(router: Router) -> Iterator[Rule]:
    for rule in getattr(router, "rules", []):
        if isinstance(rule.target, Router):
            yield from _rules(rule.target)
        else:
            yield rule


def _implemented_methods(handler: type[RequestHandler]) -> tuple[str, ...]:
    # RequestHandler answers 405 for methods a subclass does not define.
    return tuple(
        method
        for method in HTTP_METHODS
        if getattr(handler, method.lower()) is not getattr(RequestHandler, method.lower())
    )


def _sample_path(pattern: str) -> str:
    """A concrete path the pattern matches: a group of literal alternatives gets its first one,
    any other group a probe id."""
    out, depth, group = [], 0, ""
    for char in pattern.removesuffix("$"):
        if char == "(":
            depth += 1
            if depth == 1:
                group = ""
                continue
        elif char == ")":
            depth -= 1
            if depth == 0:
                literal = re.fullmatch(r"[\w-]+(\|[\w-]+)*", group)
                out.append(group.split("|")[0] if literal else "probe-id")
                continue
        if depth == 0:
            out.append(char)
        else:
            group += char
    path = "".join(out).replace("\\", "")
    assert re.fullmatch(pattern, path), f"{path!r} does not match {pattern!r}"
    return path


def monitor_routes(app: Application) -> list[Route]:
    routes = []
    for rule in _rules(app.default_router):
        handler = rule.target
        if not (
            isinstance(handler, type) and handler.__module__.startswith("jupyter_session_monitor")
        ):
            continue
        matcher = rule.matcher
        assert isinstance(matcher, PathMatches), f"unexpected matcher for {handler}"
        sample = _sample_path(matcher.regex.pattern)
        routes.append(Route(matcher.regex.pattern, handler, _implemented_methods(handler), sample))
    return routes
