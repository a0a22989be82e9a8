"""A-5 (b): server-owned fields can never be set by a client.

For every JSON write (POST/PUT/PATCH) an allowed actor sends a valid body plus every
server-owned field its model does not declare (the patient, the owner, the role, the
version, the timestamps, a deleted flag), set to another patient's or clinician's ids
and to impossible values. Each must be ignored or refused: the answer never carries
them, and nothing of patient B's changes.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from painpath.auth import policy
from painpath.db import Base
from tests.security.driver import call
from tests.security.routes import RouteInfo, all_routes, example
from tests.security.world import ADMIN, SELF, TEAM, World

WRITERS = (SELF, TEAM, ADMIN)
YEAR_2000 = "2000-01-01T00:00:00+00:00"


def hostile(world: World) -> dict[str, Any]:
    b, other = world.b, world.people["clinician-not-in-team"]
    return {
        "patient_id": b["patient_id"],
        "owner_id": str(other.user_id),
        "user_id": str(other.user_id),
        "created_by": str(other.user_id),
        "author_id": str(other.user_id),
        "recorded_by": str(other.user_id),
        "clinician_id": str(other.clinician_id),
        "prescriber_id": str(other.clinician_id),
        "role": "admin",
        "version": 999,
        "created_at": YEAR_2000,
        "updated_at": YEAR_2000,
        "deleted": True,
        "deleted_at": YEAR_2000,
        "body_hash": "0" * 64,
        "is_active": False,
        "triage": {"level": "self-care", "advice": "none"},
        "score": 0,
        "total": 0,
    }


def rows_about(world: World, patient_id: str) -> dict[str, int]:
    """Row counts per table for one patient (every table with a patient_id column)."""
    counts: dict[str, int] = {}
    with world.factory() as db:
        for table in Base.metadata.sorted_tables:
            if "patient_id" in table.c:
                counts[table.name] = int(
                    db.scalar(
                        select(func.count())
                        .select_from(table)
                        .where(table.c.patient_id == uuid.UUID(patient_id))
                    )
                    or 0
                )
    return counts


def _writes(world: World) -> list[tuple[RouteInfo, str]]:
    out = []
    for route in all_routes(world.client.app):  # type: ignore[arg-type]
        if route.method not in ("POST", "PUT", "PATCH") or route.json_schema is None:
            continue
        row = policy.rule_for(route.method, route.path)
        if row is None or route.path.startswith("/api/v1/auth/"):
            continue
        actor = next((a for a in WRITERS if row.expect[a] == "ok"), None)
        if actor is not None:
            out.append((route, actor))
    return out


def _leaks(value: Any, bad: dict[str, Any], path: str = "") -> list[str]:
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in bad and key not in ("triage", "score", "total") and item == bad[key]:
                found.append(f"{path}{key}={item!r}")
            found += _leaks(item, bad, f"{path}{key}.")
    elif isinstance(value, list):
        for item in value:
            found += _leaks(item, bad, path)
    return found


def test_server_owned_fields_are_ignored_or_refused(world: World) -> None:
    writes = _writes(world)
    assert len(writes) >= 20, f"only {len(writes)} JSON writes found"
    spec = world.client.app.openapi()  # type: ignore[attr-defined]
    components = spec["components"]["schemas"]
    bad = hostile(world)
    before = rows_about(world, world.b["patient_id"])
    problems: list[str] = []
    tried = 0
    for route, actor in writes:
        declared = route.json_schema_props(spec)
        body = example(route.json_schema or {}, components, world.a)
        injected = {k: v for k, v in bad.items() if k not in declared}
        if not isinstance(body, dict) or not injected:
            continue
        body.update(injected)
        with world.rolled_back():
            response = call(world, route, actor, body=body)
            tried += 1
            if response.status_code >= 500:
                problems.append(f"{route.method} {route.path}: HTTP {response.status_code}")
                continue
            if response.headers.get("content-type", "").startswith("application/json"):
                leaked = _leaks(response.json(), bad)
                if leaked:
                    problems.append(f"{route.method} {route.path} kept {', '.join(leaked)}")
            after = rows_about(world, world.b["patient_id"])
            if after != before:
                changed = {t: (before[t], after[t]) for t in after if after[t] != before[t]}
                problems.append(f"{route.method} {route.path} changed patient B's rows {changed}")
    assert tried >= 20
    assert not problems, "\n".join(problems)


def test_a_body_cannot_point_at_another_patients_record(world: World) -> None:
    """A-3 (one example per write): a body field naming a record (prescription_id...)
    set to patient B's record, on patient A's path, is refused; nothing is written."""
    spec = world.client.app.openapi()  # type: ignore[attr-defined]
    components = spec["components"]["schemas"]
    before = rows_about(world, world.b["patient_id"])
    problems: list[str] = []
    tried = 0
    for route, actor in _writes(world):
        refs = [
            p
            for p in route.json_schema_props(spec)
            if p not in ("id", "clinician_id") and p in world.b
        ]
        if not refs or "patient_id" not in route.params:
            continue
        body = example(route.json_schema or {}, components, world.a)
        for name in refs:
            body[name] = world.b[name]
        with world.rolled_back():
            response = call(world, route, actor, body=body)
            tried += 1
            if response.status_code < 300 or response.status_code >= 500:
                problems.append(
                    f"{route.method} {route.path} with B's {', '.join(refs)}: "
                    f"HTTP {response.status_code}"
                )
            if rows_about(world, world.b["patient_id"]) != before:
                problems.append(f"{route.method} {route.path} changed patient B's rows")
    assert tried >= 4, f"only {tried} writes name another record"
    assert not problems, "\n".join(problems)
