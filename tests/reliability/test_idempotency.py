"""R-2: idempotent creation on every POST route that takes a client-made id.

The routes come from the application's own OpenAPI description, so a new route with an
``id`` in its body is tested as soon as it exists (and fails until it has a case below).
For each route, against a live server on SQLite and on PostgreSQL:

* the same id and body again: 200, the same body, and no new row anywhere (the same JSON;
  not always the same bytes, since PostgreSQL's JSONB keeps object keys in its own order);
* the same id with another body: 422 on the field ``id``, nothing written;
* two requests with the same new id at the same moment (three rounds): one is created
  (201), the other gets the same record (200) or a 409, never a 5xx, and the database
  changes exactly as for one request;
* another patient's scope (their own patient, their own credentials) reusing the id:
  refused (4xx), never the first patient's record;
* no id: 422 on the field ``id``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2 as httpx
import pytest

from tests.reliability.harness import World, at_once, london_today, openapi

P = "/api/v1/patients/{patient_id}"
Body = dict[str, Any]


def client_id_posts() -> list[str]:
    """Every POST route whose JSON body has a client-made ``id``, from the OpenAPI."""
    spec = openapi()
    schemas = spec["components"]["schemas"]
    found = []
    for path, operations in spec["paths"].items():
        post = operations.get("post")
        if not post:
            continue
        content = post.get("requestBody", {}).get("content", {})
        ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
        props = schemas.get(ref.rsplit("/", 1)[-1], {}).get("properties", {})
        if "id" in props:
            found.append(path)
    return sorted(found)


def other_posts() -> list[str]:
    spec = openapi()
    with_id = set(client_id_posts())
    return sorted(p for p, ops in spec["paths"].items() if "post" in ops and p not in with_id)


def _today(n: int = 0) -> str:
    return (london_today() - timedelta(days=n)).isoformat()


def _rx(w: World) -> str:
    return str(w.population.prescriptions[w.patient_a])


@dataclass(frozen=True)
class Case:
    writer: str  # who creates it for patient A
    other: str  # who tries the same id for patient B
    make: Callable[[World, int], Body]  # the n-th new record's body (a new id each time)
    change: Callable[[Body], Body]  # the same id, another body


def _new_id() -> str:
    return str(uuid.uuid4())


CASES: dict[str, Case] = {
    f"{P}/diary-entries": Case(
        "patient",
        "other_patient",
        lambda w, n: {"id": _new_id(), "date": _today(n), "pain": 4, "notes": "stiff"},
        lambda b: {**b, "pain": 5},
    ),
    f"{P}/therapy-sessions": Case(
        "patient",
        "other_patient",
        lambda w, n: {"id": _new_id(), "date": _today(), "kind": "exercise", "minutes": 20 + n},
        lambda b: {**b, "minutes": b["minutes"] + 100},
    ),
    f"{P}/dose-events": Case(
        "patient",
        "other_patient",
        lambda w, n: {
            "id": _new_id(),
            "status": "taken",
            "taken_at": (datetime.now(UTC) - timedelta(minutes=30 + n)).isoformat(),
        },
        lambda b: {**b, "status": "late"},
    ),
    f"{P}/side-effect-reports": Case(
        "patient",
        "other_patient",
        lambda w, n: {
            "id": _new_id(),
            "symptom": "nausea",
            "severity": "mild",
            "started_on": _today(1),
            "description": f"after breakfast {n}",
        },
        lambda b: {**b, "description": "after dinner"},
    ),
    f"{P}/questionnaire-responses": Case(
        "patient",
        "other_patient",
        lambda w, n: {"id": _new_id(), "instrument": "phq9", "answers": [1] * 8 + [1]},
        lambda b: {**b, "answers": [2, *b["answers"][1:]]},
    ),
    f"{P}/other-medicines": Case(
        "patient",
        "other_patient",
        lambda w, n: {"id": _new_id(), "name": "paracetamol", "is_pain_medicine": True},
        lambda b: {**b, "name": "ibuprofen"},
    ),
    f"{P}/blood-pressure-readings": Case(
        "patient",
        "other_patient",
        lambda w, n: {
            "id": _new_id(),
            "measured_at": "2026-01-05T08:30:00+00:00",
            "systolic": 120 + n % 40,
            "diastolic": 80,
        },
        lambda b: {**b, "systolic": b["systolic"] + 1},
    ),
    f"{P}/dose-change-requests": Case(
        "patient",
        "other_patient",
        lambda w, n: {
            "id": _new_id(),
            "prescription_id": w.new_prescription(),
            "kind": "change",
            "requested_dose_mg": 60,
            "reason": "the pain is no better",
        },
        lambda b: {**b, "reason": "the pain is worse"},
    ),
    f"{P}/prescriptions": Case(
        "clinician",
        "other_clinician",
        lambda w, n: {
            "id": _new_id(),
            "medicine": "duloxetine",
            "schedule": [{"start": _today(), "daily_dose_mg": 30}],
            "dose_times": ["08:00"],
            "indication": "sciatica",
            "override_reason": f"course {n} for a reliability test",
        },
        lambda b: {**b, "indication": "chronic low back pain"},
    ),
    f"{P}/taper-plans": Case(
        "clinician",
        "other_clinician",
        lambda w, n: {
            "id": _new_id(),
            "prescription_id": w.new_prescription(),
            "start": _today(-2),
            "weeks": 4,
        },
        lambda b: {**b, "weeks": 6},
    ),
    f"{P}/follow-ups": Case(
        "clinician",
        "other_clinician",
        lambda w, n: {"id": _new_id(), "due": f"2031-01-{n + 1:02d}", "kind": "review"},
        lambda b: {**b, "kind": "phone call"},
    ),
    f"{P}/reviews": Case(
        "clinician",
        "other_clinician",
        lambda w, n: {
            "id": _new_id(),
            "prescription_id": _rx(w),
            "decision": "continue",
            "reason": f"helping (review {n})",
        },
        lambda b: {**b, "reason": "not helping"},
    ),
    f"{P}/notes": Case(
        "clinician",
        "other_clinician",
        lambda w, n: {"id": _new_id(), "text": f"Seen in clinic ({n})."},
        lambda b: {**b, "text": "Telephone consultation."},
    ),
    f"{P}/referrals": Case(
        "clinician",
        "other_clinician",
        lambda w, n: {
            "id": _new_id(),
            "to_clinician_id": str(w.spare_clinician(n)),
            "reason": "persistent sciatica: please advise",
        },
        lambda b: {**b, "reason": "second opinion"},
    ),
    f"{P}/break-glass": Case(
        "admin",
        "admin",
        lambda w, n: {"id": _new_id(), "reason": f"care team unreachable, patient in A&E ({n})"},
        lambda b: {**b, "reason": "another reason for the same grant"},
    ),
}

# POST routes without a client-made id, and why that is safe.
WITHOUT_ID = {
    "/api/v1/auth/login": "signs in; creates a session, not a record",
    "/api/v1/auth/logout": "ends the session; repeating it changes nothing",
    "/api/v1/auth/step-up": "re-authenticates the session; repeating it changes nothing",
    "/api/v1/auth/password": "sets the password; the same password twice is the same state",
    "/api/v1/auth/password-reset": "sends a reset email; answers the same for everyone",
    "/api/v1/auth/password-reset/confirm": "the one-time token is the idempotency key",
    "/api/v1/me/erase": "erasure is idempotent: a second request finds nothing left",
    f"{P}/care-team": "membership is keyed by (patient, clinician): a repeat is a 409",
}

ROUTES = client_id_posts()


def body_for(world: World, route: str) -> Body:
    n = world.counters.get(route, 0)
    world.counters[route] = n + 1
    return CASES[route].make(world, n)


def url(world: World, route: str, patient: str = "a") -> str:
    pid = world.patient_a if patient == "a" else world.patient_b
    return world.server.base_url + route.replace("{patient_id}", str(pid))


def changed(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {t: after[t] - before.get(t, 0) for t in after if after[t] != before.get(t, 0)}


def create(world: World, route: str) -> tuple[Body, httpx.Response, dict[str, int]]:
    """A new record for patient A: (body, response, the rows it added per table)."""
    case = CASES[route]
    body = body_for(world, route)
    before = world.row_counts()
    r = world.request("POST", case.writer, url(world, route), json=body)
    assert r.status_code == 201, f"{route}: {r.status_code} {r.text}"
    return body, r, changed(before, world.row_counts())


def test_every_client_id_route_has_a_case() -> None:
    assert set(ROUTES) == set(CASES), (
        f"routes without a case here: {sorted(set(ROUTES) - set(CASES))}; "
        f"cases for routes that are gone: {sorted(set(CASES) - set(ROUTES))}"
    )


def test_every_other_post_route_says_why_it_needs_no_id() -> None:
    missing = [p for p in other_posts() if p not in WITHOUT_ID]
    assert missing == [], f"POST routes with neither a client-made id nor a reason: {missing}"


@pytest.mark.parametrize("route", ROUTES)
def test_a_replay_returns_the_same_record_and_writes_nothing(world: World, route: str) -> None:
    if route not in CASES:
        pytest.fail(f"no case for {route}: add one to CASES")
    body, first, added = create(world, route)
    assert added, f"{route}: the create wrote nothing"
    before = world.row_counts()
    for _ in range(2):
        again = world.request("POST", CASES[route].writer, url(world, route), json=body)
        assert again.status_code == 200, f"{route}: {again.status_code} {again.text}"
        assert again.json() == first.json(), f"{route}: the replay's body differs"
    assert world.row_counts() == before, f"{route}: a replay wrote rows"


@pytest.mark.parametrize("route", ROUTES)
def test_the_same_id_with_another_body_is_refused(world: World, route: str) -> None:
    if route not in CASES:
        pytest.fail(f"no case for {route}: add one to CASES")
    body, first, _ = create(world, route)
    before = world.row_counts()
    other = CASES[route].change(body)
    assert other != body and other["id"] == body["id"]
    r = world.request("POST", CASES[route].writer, url(world, route), json=other)
    assert r.status_code == 422, f"{route}: {r.status_code} {r.text}"
    assert "id" in [e["field"] for e in r.json().get("errors", [])], r.text
    assert world.row_counts() == before
    again = world.request("POST", CASES[route].writer, url(world, route), json=body)
    assert again.status_code == 200 and again.json() == first.json()


@pytest.mark.parametrize("route", ROUTES)
def test_concurrent_duplicates_make_one_record(world: World, route: str) -> None:
    if route not in CASES:
        pytest.fail(f"no case for {route}: add one to CASES")
    _, _, one = create(world, route)
    writer = CASES[route].writer
    for _round in range(3):
        body = body_for(world, route)
        before = world.row_counts()
        world.proved_just_now()
        request = ("POST", url(world, route), {"json": body, "headers": world.headers[writer]})
        results = at_once([request, request])
        responses = [r for r in results if isinstance(r, httpx.Response)]
        assert len(responses) == 2, results
        statuses = sorted(r.status_code for r in responses)
        assert statuses in ([200, 201], [201, 409]), (
            f"{route}: {statuses} {[r.text[:200] for r in responses]}"
        )
        made = next(r for r in responses if r.status_code == 201)
        for r in responses:
            if r.status_code == 200:
                assert r.json() == made.json()
        assert changed(before, world.row_counts()) == one, f"{route}: not one record's rows"


@pytest.mark.parametrize("route", ROUTES)
def test_another_patients_scope_cannot_reuse_the_id(world: World, route: str) -> None:
    if route not in CASES:
        pytest.fail(f"no case for {route}: add one to CASES")
    body, first, _ = create(world, route)
    before = world.row_counts()
    r = world.request("POST", CASES[route].other, url(world, route, "b"), json=body)
    assert 400 <= r.status_code < 500, f"{route}: {r.status_code} {r.text}"
    assert str(world.patient_a) not in r.text and first.text not in r.text
    assert world.row_counts() == before


@pytest.mark.parametrize("route", ROUTES)
def test_a_body_without_an_id_is_refused(world: World, route: str) -> None:
    if route not in CASES:
        pytest.fail(f"no case for {route}: add one to CASES")
    body = body_for(world, route)
    del body["id"]
    before = world.row_counts()
    r = world.request("POST", CASES[route].writer, url(world, route), json=body)
    assert r.status_code == 422, f"{route}: {r.status_code} {r.text}"
    assert "id" in [e["field"] for e in r.json().get("errors", [])], r.text
    assert world.row_counts() == before
