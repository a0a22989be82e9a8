"""Calling any route as any actor, against patient A's records or a missing target."""

from __future__ import annotations

import uuid
from typing import Any

import httpx2 as httpx

from tests.security.routes import RouteInfo, example, fill_path, form_example
from tests.security.world import ANON, CSRF, World

OWN = "own"
MISSING = "missing"
ALLOWED_STATUSES = frozenset({400, 409, 412, 422, 428})
# Form values some pages need to get past their own input checks to the access check.
FORM_OVERRIDES: dict[str, dict[str, str]] = {
    "/alerts/{alert_id}": {"status": "acknowledged", "version": "1"},
    "/referrals/{referral_id}": {"status": "accepted", "decision": "accepted"},
    "/step-up": {"next": "/today"},
}
FORM_HINTS = {"version": "1", "date_of_birth": "1980-01-01", "name": "Test Person"}


def outcome(status: int, location: str | None = None) -> str:
    """The outcome class of a response: "ok" (passed authorisation), "home" (sent back
    to the start page: an HTML page for another role), or the refusal status."""
    if 300 <= status < 400 and location is not None and location.split("?")[0] in ("/", ""):
        return "home"
    if status in (401, 403, 404):
        return str(status)
    if status >= 500:
        return "5xx"
    if status < 400 or status in ALLOWED_STATUSES:
        return "ok"
    return str(status)


def missing_param(route: RouteInfo) -> str | None:
    """The path parameter to replace with an unknown id for the "missing" target."""
    params = route.params
    if "patient_id" in params:
        return "patient_id"
    ids = [p for p in params if p.endswith("_id")]
    return ids[-1] if ids else None


def call(
    world: World,
    route: RouteInfo,
    actor: str,
    target: str = OWN,
    *,
    ids: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    body: Any = None,
) -> httpx.Response:
    ids = dict(ids or world.a)
    extra: dict[str, str] = {}
    if target == MISSING:
        name = missing_param(route)
        assert name, f"{route.method} {route.path} has no id to make missing"
        extra[name] = str(uuid.uuid4())
    path = fill_path(route, ids, extra)
    sent = {"Cookie": f"painpath_csrf={CSRF}", "Accept": "application/json"}
    if not route.in_schema:
        sent["Accept"] = "text/html"
    if actor != ANON:
        sent.update(world.headers(actor))
    sent.update(headers or {})
    kwargs: dict[str, Any] = {}
    if route.method in ("POST", "PUT", "PATCH", "DELETE"):
        if body is not None:
            kwargs["json"] = body
        elif route.json_schema is not None:
            spec = world.client.app.openapi()  # type: ignore[attr-defined]
            data = example(route.json_schema, spec["components"]["schemas"], ids)
            if isinstance(data, dict) and "totp" in route.json_schema_props(spec):
                data["totp"] = world.totp(actor)
            kwargs["json"] = data
        elif route.form_fields or not route.in_schema:
            form = form_example(
                route.form_fields,
                {**FORM_HINTS, "email": f"new.{uuid.uuid4().hex[:8]}@test.example", **ids},
            )
            form.update(FORM_OVERRIDES.get(route.path, {}))
            if "totp" in form:
                form["totp"] = world.totp(actor) or ""
            kwargs["data"] = form
    world.client.cookies.clear()
    return world.client.request(route.method, path, headers=sent, follow_redirects=False, **kwargs)
