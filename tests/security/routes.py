"""Every route of the running application, and a valid request for each.

How routes are found (FastAPI 0.165 wraps included routers in ``_IncludedRouter``
objects, so ``app.routes`` alone does not list them): ``fastapi.routing.
iter_route_contexts(app.routes)`` yields the effective route of every included router
(it is what FastAPI's own OpenAPI generator walks), HTML routes included. The list is
cross-checked against ``app.openapi()["paths"]``, so a JSON route the walk missed
fails the tests too.

Request bodies: JSON bodies are built from the OpenAPI schema (required fields, with
values that pass validation, and ids of the target's records for ``*_id`` fields);
form bodies from the route's declared ``Form`` parameters.
"""

from __future__ import annotations

import re
import typing
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Mount

from tests.factories import PASSWORD
from tests.security.world import CSRF

PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")


@dataclass(frozen=True)
class RouteInfo:
    method: str
    path: str
    in_schema: bool
    form_fields: tuple[tuple[str, Any], ...] = ()
    json_schema: dict[str, Any] | None = field(default=None, hash=False, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    @property
    def params(self) -> list[str]:
        return PARAM.findall(self.path)

    def json_schema_props(self, spec: dict[str, Any]) -> set[str]:
        schema = self.json_schema or {}
        if "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].split("/")[-1]]
        return set(schema.get("properties", {}))


def all_routes(app: FastAPI) -> list[RouteInfo]:
    spec = app.openapi()
    routes: dict[tuple[str, str], RouteInfo] = {}
    for context in iter_route_contexts(app.routes):
        original = context.original_route
        if isinstance(original, Mount):
            routes[("GET", original.path + "/{path}")] = RouteInfo("GET", "/static/{path}", False)
            continue
        path = context.path
        for method in sorted(context.methods or ()):
            if method == "HEAD":
                continue
            form: tuple[tuple[str, Any], ...] = ()
            body_schema = None
            if isinstance(original, APIRoute):
                form = tuple(
                    (p.name, p.field_info.annotation) for p in original.dependant.body_params
                )
                op = spec["paths"].get(path, {}).get(method.lower(), {})
                content = op.get("requestBody", {}).get("content", {})
                if "application/json" in content:
                    body_schema = content["application/json"]["schema"]
                    form = ()
            routes[(method, path)] = RouteInfo(
                method,
                path,
                bool(getattr(context, "include_in_schema", False)),
                form,
                body_schema,
            )
    for path, ops in spec["paths"].items():
        for method in ops:
            assert (method.upper(), path) in routes, (
                f"{method.upper()} {path} is in the OpenAPI document but the route walk "
                "missed it: fix tests/security/routes.py"
            )
    return sorted(routes.values(), key=lambda r: (r.path, r.method))


# ------------------------------------------------------------------ values

TODAY = datetime.now(ZoneInfo("Europe/London")).date()
HINTS: dict[str, Any] = {
    "pain": 5,
    "worst_pain": 6,
    "weeks": 4,
    "days": 7,
    "daily_dose_mg": 30,
    "requested_dose_mg": 30,
    "medicine": "duloxetine",
    "instrument": "peg",
    "answers": [5, 5, 5],
    "email": "nobody@test.example",
    "password": PASSWORD,
    "current_password": PASSWORD,
    "new_password": "a brand new long passphrase",
    "confirm": "not the phrase",
    "reason": "Testing who may do this",
    "symptom": "nausea",
    "kind": "review",
    "text": "A test note",
    "start": (TODAY + timedelta(days=7)).isoformat(),
    "due": (TODAY + timedelta(days=14)).isoformat(),
    "date": TODAY.isoformat(),
    "on": (TODAY + timedelta(days=10)).isoformat(),
    "started_on": TODAY.isoformat(),
    "token": "not-a-real-token",
    "totp": None,
}
PATTERN_CANDIDATES = ("08:00", "2025-01-01", "abc", "1")


def example(
    schema: dict[str, Any], components: dict[str, Any], ids: dict[str, str], name: str = ""
) -> Any:
    """A value that passes ``schema``; ``ids`` maps ``*_id`` names to real record ids."""
    if "$ref" in schema:
        return example(components[schema["$ref"].split("/")[-1]], components, ids, name)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            if name in ids or name in HINTS:
                return ids.get(name, HINTS.get(name))
            return example(options[0], components, ids, name) if options else None
    if "allOf" in schema:
        return example(schema["allOf"][0], components, ids, name)
    if name == "id":
        return str(uuid.uuid4())
    if name in ids:
        return ids[name]
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        required = set(schema.get("required", []))
        out = {}
        for prop, sub in schema.get("properties", {}).items():
            if prop in required or prop in ids:
                out[prop] = example(sub, components, ids, prop)
        return out
    if kind == "array":
        if name in HINTS:
            return HINTS[name]
        count = max(1, schema.get("minItems", 0)) if schema.get("minItems") else 0
        items = schema.get("items", {})
        return [example(items, components, ids, name.rstrip("s")) for _ in range(count)]
    if name in HINTS and HINTS[name] is not None:
        return HINTS[name]
    if kind == "integer" or kind == "number":
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        return max(int(low) + (1 if "exclusiveMinimum" in schema else 0), 1)
    if kind == "boolean":
        return True
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "uuid":
            return str(uuid.uuid4())
        if fmt == "date":
            return TODAY.isoformat()
        if fmt == "date-time":
            return datetime.now(UTC).isoformat()
        if "pattern" in schema:
            for candidate in PATTERN_CANDIDATES:
                if re.search(schema["pattern"], candidate):
                    return candidate
        return (
            "x" * max(schema.get("minLength", 1), 1)
            if schema.get("minLength", 0) > 5
            else ("Test text")
        )
    return "Test text"


def form_example(fields: tuple[tuple[str, Any], ...], ids: dict[str, str]) -> dict[str, str]:
    out = {"csrf_token": CSRF}
    for name, annotation in fields:
        if name == "csrf_token":
            continue
        base = annotation
        if typing.get_origin(base) is typing.Annotated:
            base = typing.get_args(base)[0]
        if name in ids:
            out[name] = ids[name]
        elif name in HINTS and HINTS[name] is not None and not isinstance(HINTS[name], list):
            out[name] = str(HINTS[name])
        elif base is int or "int" in str(base):
            out[name] = "5"
        elif "date" in str(base) or name.endswith(("_on", "date", "day")):
            out[name] = TODAY.isoformat()
        elif base is bool or "bool" in str(base):
            out[name] = "true"
        else:
            out[name] = "Test text"
    return out


def fill_path(route: RouteInfo, ids: dict[str, str], extra: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in extra:
            return extra[name]
        if name in ids:
            return ids[name]
        return {"code": "peg", "slug": "duloxetine", "path": "css/painpath.css"}.get(
            name, "not-a-real-token"
        )

    return PARAM.sub(value, route.path)
