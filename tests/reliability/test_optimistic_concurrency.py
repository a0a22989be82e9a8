"""R-3: records edited after creation carry an ETag; a change must send it back.

Every PATCH or PUT route that takes If-Match (found in the OpenAPI description) has a case
here. For each, against a live server on SQLite and on PostgreSQL: GET gives an ETag; a
change with it succeeds and moves it; a change without it is 428 (alerts: CONTRACT.md lets
a clinician acknowledge without one, so only a stale ETag is refused) and a stale one 412,
and neither changes anything. Then two editors race: in each round both read the same
version and both send a change at the same moment; exactly one wins, the other is told
(412), and every accepted change is kept - for prescriptions, as dose steps with their
reasons (many rounds), for the others through their version and audit trail.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import select

from painpath.audit.models import AuditEvent
from painpath.medication.models import DoseStep
from tests.factories import in_care_team
from tests.reliability.harness import World, at_once, login, london_today, openapi

P = "/api/v1/patients/{patient_id}"
Body = dict[str, Any]


@dataclass(frozen=True)
class Editable:
    who: str  # who changes it
    make: Callable[[World], str]  # makes one; its URL
    change: Callable[[Body, int], Body]  # the n-th change, given the record as read
    rounds: int  # how many changes one record can take
    if_match_required: bool = True
    resource: str = ""  # audit resource type


def _make_follow_up(w: World) -> str:
    body = {"id": str(uuid.uuid4()), "due": "2031-03-01", "kind": "review"}
    r = w.request("POST", "clinician", f"{w.base()}/follow-ups", json=body)
    assert r.status_code == 201, r.text
    return f"{w.base()}/follow-ups/{body['id']}"


def _make_prescription(w: World) -> str:
    return f"{w.base()}/prescriptions/{w.new_prescription()}"


def _make_taper(w: World) -> str:
    body = {
        "id": str(uuid.uuid4()),
        "prescription_id": w.new_prescription(),
        "start": (london_today() + timedelta(days=2)).isoformat(),
        "weeks": 4,
    }
    r = w.request("POST", "clinician", f"{w.base()}/taper-plans", json=body)
    assert r.status_code == 201, r.text
    return f"{w.base()}/taper-plans/{body['id']}"


def _make_alert(w: World) -> str:
    """An alert raised the way alerts are raised: a PHQ-9 with item 9 above 0."""
    before = _alert_ids(w)
    body = {"id": str(uuid.uuid4()), "instrument": "phq9", "answers": [1] * 9}
    r = w.request("POST", "patient", f"{w.base()}/questionnaire-responses", json=body)
    assert r.status_code == 201, r.text
    (new,) = _alert_ids(w) - before
    return f"{w.server.base_url}/api/v1/alerts/{new}"


def _alert_ids(w: World) -> set[str]:
    r = w.request("GET", "clinician", f"{w.base()}/alerts", params={"limit": 100})
    assert r.status_code == 200, r.text
    return {a["id"] for a in r.json()["items"]}


def _schedule_change(item: Body, n: int) -> Body:
    return {
        "schedule": [{"start": london_today().isoformat(), "daily_dose_mg": 30 + 30 * (n % 2)}],
        "reason": f"change {n}",
        "override_reason": "a second course, for a reliability test",
    }


CASES: dict[str, Editable] = {
    f"{P}/prescriptions/{{prescription_id}}": Editable(
        "clinician", _make_prescription, _schedule_change, 20, resource="prescription"
    ),
    f"{P}/taper-plans/{{plan_id}}": Editable(
        "clinician",
        _make_taper,
        lambda item, n: {
            "action": "hold",
            "on": item["steps"][0]["start"],
            "reason": f"withdrawal symptoms ({n})",
            "days": 1,
        },
        20,
        resource="taper-plan",
    ),
    f"{P}/follow-ups/{{follow_up_id}}": Editable(
        "clinician",
        _make_follow_up,
        lambda item, n: {"due": f"2031-04-{n % 28 + 1:02d}", "notes": f"moved ({n})"},
        20,
        resource="follow-up",
    ),
    "/api/v1/alerts/{alert_id}": Editable(
        "clinician",
        _make_alert,
        lambda item, n: {
            "status": "acknowledged" if item["status"] == "open" else "resolved",
            "note": f"phoned the patient ({n})",
        },
        2,
        if_match_required=False,
        resource="alert",
    ),
    f"{P}/clinical-facts": Editable(
        "clinician",
        lambda w: f"{w.base()}/clinical-facts",
        lambda item, n: {
            "renal_crcl_ml_min": 40 + n % 150,
            "hepatic_impairment": False,
            "bp_uncontrolled": False,
            "conditions": [],
            "bp_alert_systolic": None,
            "bp_alert_diastolic": None,
        },
        20,
        resource="",
    ),
    f"{P}/questionnaire-schedule": Editable(
        "clinician",
        lambda w: f"{w.base()}/questionnaire-schedule",
        lambda item, n: {"instruments": {"peg": {"every_days": 7 + n % 20, "at_baseline": True}}},
        20,
        resource="",
    ),
    "/api/v1/me/reminder-preferences": Editable(
        "patient",
        lambda w: f"{w.server.base_url}/api/v1/me/reminder-preferences",
        lambda item, n: {"diary_time": f"{18 + n % 4}:{(n * 7) % 60:02d}", "email": False},
        20,
        resource="",
    ),
}

# Changes without If-Match, and why they need none.
WITHOUT_IF_MATCH = {
    ("patch", "/api/v1/referrals/{referral_id}"): "accept or decline once: a second is a 409",
    ("patch", f"{P}/diary-entries/{{entry_id}}"): "only the patient, only today's entry",
    ("patch", f"{P}/dose-change-requests/{{request_id}}"): "decided once: a second is a 409",
    ("delete", f"{P}/care-team/{{clinician_id}}"): "removing a member twice is a 404",
}


def if_match_routes() -> list[str]:
    found = []
    for path, ops in openapi()["paths"].items():
        for method in ("patch", "put"):
            op = ops.get(method)
            if op and any(
                p.get("in") == "header" and p["name"].lower() == "if-match"
                for p in op.get("parameters", [])
            ):
                found.append(path)
    return sorted(found)


def other_change_routes() -> list[tuple[str, str]]:
    tagged = set(if_match_routes())
    return sorted(
        (method, path)
        for path, ops in openapi()["paths"].items()
        for method in ("patch", "put", "delete")
        if method in ops and path not in tagged
    )


ROUTES = if_match_routes()


@pytest.fixture(scope="session")
def two(world: World) -> Iterator[World]:
    """A second clinician in patient A's care team (signed in as ``second_clinician``) and a
    second session of patient A (``patient_again``)."""
    second = world.population.clinicians[10]
    with world.fresh.factory()() as db:
        in_care_team(db, world.population.patients[0], second)
        db.commit()
    world.headers["second_clinician"] = login(world.server.base_url, second)
    world.headers["patient_again"] = login(world.server.base_url, world.population.patients[0])
    yield world


def rival(who: str) -> str:
    return "patient_again" if who == "patient" else "second_clinician"


def read(w: World, who: str, url: str) -> tuple[Body, str]:
    r = w.request("GET", who, url)
    assert r.status_code == 200, r.text
    tag = r.headers.get("etag")
    assert tag, f"GET {url} gave no ETag"
    body: Body = r.json()
    return body, tag


PUT_ROUTES = (
    "/reminder-preferences",
    "/questionnaire-schedule",
    "/clinical-facts",
)  # whole replacements


def method_for(url: str) -> str:
    return "PUT" if url.endswith(PUT_ROUTES) else "PATCH"


def change(w: World, case: Editable, url: str, body: Body, tag: str | None) -> httpx.Response:
    method = method_for(url)
    headers = {"If-Match": tag} if tag else {}
    return w.request(method, case.who, url, json=body, headers=headers)


def test_every_if_match_route_has_a_case() -> None:
    assert set(ROUTES) == set(CASES), sorted(set(ROUTES) ^ set(CASES))


def test_every_other_change_route_says_why_it_needs_no_if_match() -> None:
    missing = [r for r in other_change_routes() if r not in WITHOUT_IF_MATCH]
    assert missing == [], f"changes with neither If-Match nor a reason: {missing}"


@pytest.mark.parametrize("route", ROUTES)
def test_a_change_needs_the_current_etag(world: World, route: str) -> None:
    if route not in CASES:
        pytest.fail(f"no case for {route}: add one to CASES")
    case = CASES[route]
    url = case.make(world)
    item, tag = read(world, case.who, url)

    missing = change(world, case, url, case.change(item, 0), None)
    if case.if_match_required:
        assert missing.status_code == 428, missing.text
        assert read(world, case.who, url) == (item, tag), "a refused change changed the record"
        done = change(world, case, url, case.change(item, 0), tag)
    else:
        done = missing
    assert done.status_code == 200, done.text
    after, new_tag = read(world, case.who, url)
    assert new_tag != tag
    if done.headers.get("etag"):
        assert done.headers["etag"] == new_tag

    stale = change(world, case, url, case.change(after, 1), tag)
    assert stale.status_code == 412, stale.text
    assert "changed by someone else" in stale.json()["detail"]
    assert read(world, case.who, url) == (after, new_tag), "a stale change changed the record"


@pytest.mark.parametrize("route", ROUTES)
def test_racing_editors_lose_no_change(two: World, route: str) -> None:
    """Both editors read the same version, then both change it at the same moment."""
    if route not in CASES:
        pytest.fail(f"no case for {route}: add one to CASES")
    w = two
    case = CASES[route]
    url = case.make(w)
    first, _ = read(w, case.who, url)
    rounds = min(case.rounds, 10)
    accepted: list[str] = []
    for n in range(rounds):
        item, tag = read(w, case.who, url)
        w.proved_just_now()
        bodies = {
            case.who: case.change(item, 2 * n),
            rival(case.who): case.change(item, 2 * n + 1),
        }
        method = method_for(url)
        answers = at_once(
            [
                (method, url, {"json": b, "headers": {**w.headers[who], "If-Match": tag}})
                for who, b in bodies.items()
            ]
        )
        results = dict(zip(bodies, answers, strict=True))
        got = {k: v for k, v in results.items() if isinstance(v, httpx.Response)}
        assert len(got) == 2, results
        statuses = sorted(r.status_code for r in got.values())
        assert statuses == [200, 412], (
            f"round {n}: {[(r.status_code, r.text) for r in got.values()]}"
        )
        winner = next(k for k, r in got.items() if r.status_code == 200)
        accepted.append(str(bodies[winner].get("reason") or bodies[winner].get("note") or ""))
        if n + 1 >= case.rounds:
            break
    final, _ = read(w, case.who, url)
    if "version" in first:
        assert final["version"] == first["version"] + len(accepted), "a change was lost"
    with w.fresh.factory()() as db:
        if case.resource:
            record_id = url.rsplit("/", 1)[-1]
            updates = db.scalars(
                select(AuditEvent.reason).where(
                    AuditEvent.resource_type == case.resource,
                    AuditEvent.resource_id == record_id,
                    AuditEvent.action == "update",
                    AuditEvent.outcome == "allowed",
                )
            ).all()
            assert len(updates) == len(accepted), updates
        if case.resource == "prescription":
            reasons = db.scalars(
                select(DoseStep.reason).where(
                    DoseStep.prescription_id == uuid.UUID(url.rsplit("/", 1)[-1]),
                    DoseStep.reason.is_not(None),
                )
            ).all()
            assert sorted(r for r in reasons if r.startswith("change ")) == sorted(accepted)
        if case.resource == "taper-plan":
            steps = final["steps"]
            assert steps[0]["end"] is not None
            held = (
                date.fromisoformat(steps[0]["end"]) - date.fromisoformat(first["steps"][0]["end"])
            ).days
            assert held == len(accepted), "a hold was lost"
