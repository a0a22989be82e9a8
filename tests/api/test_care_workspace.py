"""The clinician workspace through the API: care teams, referrals, follow-ups, reviews
and notes, as CONTRACT.md and issue 6 promise them (both databases)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from painpath.audit.models import AuditEvent
from painpath.auth.domain import Actor, Role
from painpath.care.models import CareTeamMember
from painpath.diary.models import DiaryEntry
from painpath.medication.models import DoseEvent, DoseStep, Prescription
from tests.api.conftest import Cast, login
from tests.factories import Person, person


def factory(client: TestClient) -> sessionmaker[Session]:
    made: sessionmaker[Session] = client.app.state.painpath.factory  # type: ignore[attr-defined]
    return made


def prescribe(
    client: TestClient, patient: Person, prescriber: Person, days_ago: int = 40
) -> uuid.UUID:
    """A duloxetine course started ``days_ago`` days ago (30 mg then 60 mg), with a
    baseline diary, recent diary and a dose log (one missed dose in the last 28 days)."""
    assert patient.patient_id and prescriber.clinician_id
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/London")).date()
    start = today - timedelta(days=days_ago)
    rx = uuid.uuid4()
    with factory(client)() as db:
        db.add(
            Prescription(
                id=rx,
                patient_id=patient.patient_id,
                prescriber_id=prescriber.clinician_id,
                medicine="duloxetine",
                status="active",
            )
        )
        db.flush()
        db.add(DoseStep(prescription_id=rx, start=start, daily_dose_mg=Decimal(30), reason="start"))
        db.add(
            DoseStep(
                prescription_id=rx,
                start=start + timedelta(days=7),
                daily_dose_mg=Decimal(60),
                reason="titration",
            )
        )
        for back in range(1, 15):
            db.add(
                DiaryEntry(
                    id=uuid.uuid4(),
                    patient_id=patient.patient_id,
                    date=start - timedelta(days=back),
                    pain=8,
                )
            )
        for back in range(0, 7):
            db.add(
                DiaryEntry(
                    id=uuid.uuid4(),
                    patient_id=patient.patient_id,
                    date=today - timedelta(days=back),
                    pain=4,
                )
            )
        for back in range(1, 29):
            day = today - timedelta(days=back)
            db.add(
                DoseEvent(
                    id=uuid.uuid4(),
                    patient_id=patient.patient_id,
                    prescription_id=rx,
                    status="missed" if back == 10 else "taken",
                    taken_at=datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=12),
                    scheduled_for=day,
                )
            )
        db.commit()
    return rx


def base(cast: Cast, who: Person | None = None) -> str:
    return f"/api/v1/patients/{(who or cast.patient_a).patient_id}"


def test_a_clinician_outside_the_care_team_gets_404_on_every_route(
    client: TestClient, cast: Cast
) -> None:
    gp = login(client, cast.gp)
    rx = prescribe(client, cast.patient_a, cast.gp)
    fu = client.post(
        f"{base(cast)}/follow-ups",
        json={"id": str(uuid.uuid4()), "due": "2030-01-01", "kind": "review"},
        headers=gp,
    ).json()
    outsider = login(client, cast.other_gp)
    body = {"id": str(uuid.uuid4())}
    calls = [
        ("GET", f"{base(cast)}/follow-ups", None),
        ("POST", f"{base(cast)}/follow-ups", {**body, "due": "2030-01-01", "kind": "x"}),
        ("GET", f"{base(cast)}/follow-ups/{fu['id']}", None),
        ("PATCH", f"{base(cast)}/follow-ups/{fu['id']}", {"status": "done"}),
        ("GET", f"{base(cast)}/reviews", None),
        (
            "POST",
            f"{base(cast)}/reviews",
            {**body, "prescription_id": str(rx), "decision": "continue", "reason": "x"},
        ),
        ("GET", f"{base(cast)}/notes", None),
        ("POST", f"{base(cast)}/notes", {**body, "text": "x"}),
        ("GET", f"{base(cast)}/referrals", None),
        (
            "POST",
            f"{base(cast)}/referrals",
            {**body, "to_clinician_id": str(cast.other_gp.clinician_id), "reason": "x"},
        ),
        ("GET", f"{base(cast)}/alerts", None),
        ("GET", f"{base(cast)}/care-team", None),
        ("POST", f"{base(cast)}/care-team", {"clinician_id": str(cast.other_gp.clinician_id)}),
        ("DELETE", f"{base(cast)}/care-team/{cast.gp.clinician_id}", None),
    ]
    for method, url, payload in calls:
        response = client.request(
            method, url, json=payload, headers={**outsider, "If-Match": '"x"'}
        )
        assert response.status_code == 404, (method, url, response.text)
        assert response.json() == {"detail": "no such patient"}, (method, url)
    # and nothing was written
    assert client.get(f"{base(cast)}/notes", headers=gp).json()["items"] == []


def test_follow_ups_use_etags_and_a_stale_if_match_is_412(client: TestClient, cast: Cast) -> None:
    gp = login(client, cast.gp)
    body = {"id": str(uuid.uuid4()), "due": "2030-03-01", "kind": "4-week review"}
    created = client.post(f"{base(cast)}/follow-ups", json=body, headers=gp)
    assert created.status_code == 201, created.text
    again = client.post(f"{base(cast)}/follow-ups", json=body, headers=gp)
    assert again.status_code == 200 and again.json() == created.json()
    url = f"{base(cast)}/follow-ups/{body['id']}"
    tag = client.get(url, headers=gp).headers["ETag"]
    assert client.patch(url, json={"status": "done"}, headers=gp).status_code == 428
    moved = client.patch(url, json={"due": "2030-03-08"}, headers={**gp, "If-Match": tag})
    assert moved.status_code == 200 and moved.json()["due"] == "2030-03-08"
    assert moved.json()["version"] == 2
    stale = client.patch(url, json={"status": "done"}, headers={**gp, "If-Match": tag})
    assert stale.status_code == 412
    assert "changed by someone else" in stale.json()["detail"]
    item = client.get(url, headers=gp).json()
    assert item["status"] == "scheduled" and item["due"] == "2030-03-08"
    patient = login(client, cast.patient_a)
    listed = client.get(f"{base(cast)}/follow-ups", headers=patient).json()["items"]
    assert [i["kind"] for i in listed] == ["4-week review"]
    refused = client.post(
        f"{base(cast)}/follow-ups", json={**body, "id": str(uuid.uuid4())}, headers=patient
    )
    assert refused.status_code == 403


def test_the_default_follow_up_schedule_is_made_once_per_start(
    client: TestClient, cast: Cast
) -> None:
    from painpath.care.service import schedule_default_follow_ups
    from painpath.kit.records import Ctx

    gp_actor = actor_of(cast.gp)
    assert cast.patient_a.patient_id
    start = date(2030, 1, 6)
    with factory(client)() as db:
        first = schedule_default_follow_ups(
            db, gp_actor, Ctx(now=datetime.now(UTC)), cast.patient_a.patient_id, start
        )
        second = schedule_default_follow_ups(
            db, gp_actor, Ctx(now=datetime.now(UTC)), cast.patient_a.patient_id, start
        )
        db.commit()
    assert [f.id for f in first] == [f.id for f in second]
    assert [(f.due - start).days for f in first[:3]] == [14, 28, 84]
    assert [f.due for f in first[3:]] == [date(2030, 7, 6), date(2030, 10, 6), date(2031, 1, 6)]
    gp = login(client, cast.gp)
    assert len(client.get(f"{base(cast)}/follow-ups", headers=gp).json()["items"]) == 6


def actor_of(who: Person) -> Actor:
    return Actor(
        user_id=who.user_id,
        role=who.role,
        display_name="test",
        patient_id=who.patient_id,
        clinician_id=who.clinician_id,
    )


def test_a_referral_accepted_puts_the_specialist_in_the_care_team(
    client: TestClient, cast: Cast
) -> None:
    with factory(client)() as db:
        specialist = person(db, Role.CLINICIAN, "Dr Spine", kind="pain-specialist")
        db.commit()
    gp = login(client, cast.gp)
    found = client.get("/api/v1/clinicians", params={"kind": "pain-specialist"}, headers=gp)
    assert [c["name"] for c in found.json()["items"]] == ["Dr Spine"]
    body = {
        "id": str(uuid.uuid4()),
        "to_clinician_id": str(specialist.clinician_id),
        "reason": "Persistent sciatica; <b>please</b> advise",
    }
    sent = client.post(f"{base(cast)}/referrals", json=body, headers=gp)
    assert sent.status_code == 201, sent.text
    assert client.post(f"{base(cast)}/referrals", json=body, headers=gp).status_code == 200
    twice = client.post(
        f"{base(cast)}/referrals", json={**body, "id": str(uuid.uuid4())}, headers=gp
    )
    assert twice.status_code == 409

    spec = login(client, specialist)
    inbox = client.get("/api/v1/referrals", params={"status": "pending"}, headers=spec).json()
    assert [(r["patient_name"], r["from_clinician_name"]) for r in inbox["items"]] == [
        ("Ann Patient", "Dr Care Team")
    ]
    # while pending: the referral and the name only, no record
    assert client.get(base(cast), headers=spec).status_code == 404
    assert client.get(f"{base(cast)}/follow-ups", headers=spec).status_code == 404
    # only the receiving clinician decides
    other = login(client, cast.other_gp)
    url = f"/api/v1/referrals/{body['id']}"
    assert client.patch(url, json={"status": "accepted"}, headers=other).status_code == 404
    assert client.patch(url, json={"status": "accepted"}, headers=gp).status_code == 404
    accepted = client.patch(
        url, json={"status": "accepted", "note": "Seen next week"}, headers=spec
    )
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert client.patch(url, json={"status": "declined"}, headers=spec).status_code == 409
    record = client.get(base(cast), headers=spec)
    assert record.status_code == 200
    assert {(m["name"], m["role"]) for m in record.json()["care_team"]} == {
        ("Dr Care Team", "gp"),
        ("Dr Spine", "pain-specialist"),
    }
    assert client.get("/api/v1/referrals", headers=spec).json()["items"] == []


def test_a_declined_referral_leaves_the_team_as_it_was(client: TestClient, cast: Cast) -> None:
    gp = login(client, cast.gp)
    body = {
        "id": str(uuid.uuid4()),
        "to_clinician_id": str(cast.other_gp.clinician_id),
        "reason": "Second opinion",
    }
    assert client.post(f"{base(cast)}/referrals", json=body, headers=gp).status_code == 201
    other = login(client, cast.other_gp)
    declined = client.patch(
        f"/api/v1/referrals/{body['id']}", json={"status": "declined"}, headers=other
    )
    assert declined.status_code == 200
    assert client.get(base(cast), headers=other).status_code == 404
    self_referral = client.post(
        f"{base(cast)}/referrals",
        json={**body, "id": str(uuid.uuid4()), "to_clinician_id": str(cast.gp.clinician_id)},
        headers=gp,
    )
    assert self_referral.status_code == 422
    assert self_referral.json()["errors"][0]["field"] == "to_clinician_id"


def test_an_admin_manages_teams_but_reads_no_clinical_record(
    client: TestClient, cast: Cast
) -> None:
    gp = login(client, cast.gp)
    client.post(
        f"{base(cast)}/notes", json={"id": str(uuid.uuid4()), "text": "Doing well"}, headers=gp
    )
    admin = login(client, cast.admin)
    for url in ("/notes", "/reviews", "/follow-ups", "/alerts", "/referrals", ""):
        response = client.get(f"{base(cast)}{url}", headers=admin)
        assert response.status_code in (403, 404), url
        assert "Doing well" not in response.text
    assert client.get("/api/v1/alerts", headers=admin).status_code == 403
    teams = client.get("/api/v1/care-teams", params={"q": "ann"}, headers=admin)
    assert teams.status_code == 200
    assert [
        (t["patient_name"], [m["name"] for m in t["members"]]) for t in teams.json()["items"]
    ] == [("Ann Patient", ["Dr Care Team"])]
    added = client.post(
        f"{base(cast)}/care-team",
        json={"clinician_id": str(cast.other_gp.clinician_id)},
        headers=admin,
    )
    assert added.status_code == 201
    assert {m["name"] for m in added.json()["members"]} == {"Dr Care Team", "Dr Elsewhere"}
    other = login(client, cast.other_gp)
    assert client.get(f"{base(cast)}/notes", headers=other).status_code == 200
    removed = client.delete(f"{base(cast)}/care-team/{cast.other_gp.clinician_id}", headers=admin)
    assert removed.status_code == 204
    # the removal takes effect on the very next request with the same session
    assert client.get(f"{base(cast)}/notes", headers=other).status_code == 404
    again = client.delete(f"{base(cast)}/care-team/{cast.other_gp.clinician_id}", headers=admin)
    assert again.status_code == 404
    # clinicians cannot manage teams
    refused = client.post(
        f"{base(cast)}/care-team",
        json={"clinician_id": str(cast.other_gp.clinician_id)},
        headers=gp,
    )
    assert refused.status_code == 403
    assert client.get("/api/v1/care-teams", headers=gp).status_code == 403
    with factory(client)() as db:
        rows = db.scalars(
            select(CareTeamMember).where(CareTeamMember.patient_id == cast.patient_a.patient_id)
        ).all()
    assert {r.removed_at is None for r in rows if r.clinician_id == cast.other_gp.clinician_id} == {
        False
    }


def test_a_review_keeps_a_snapshot_of_what_the_clinician_saw(
    client: TestClient, cast: Cast
) -> None:
    rx = prescribe(client, cast.patient_a, cast.gp)
    gp = login(client, cast.gp)
    body = {
        "id": str(uuid.uuid4()),
        "prescription_id": str(rx),
        "decision": "continue",
        "reason": "Pain halved; side effects settled.",
    }
    made = client.post(f"{base(cast)}/reviews", json=body, headers=gp)
    assert made.status_code == 201, made.text
    snap = made.json()["snapshot"]
    assert snap["pain"] == {"baseline_mean": 8.0, "latest_7_day_mean": 4.0, "percent_change": -50}
    assert snap["adherence"]["days_planned"] == 28 and snap["adherence"]["days_taken"] == 27
    assert snap["prescription"]["daily_dose_mg"] == "60.000"
    assert snap["prescription"]["days_on_treatment"] == 41
    helps = snap["does_it_help"]
    assert helps["category"] == "substantial" and helps["percent_change"] == -50.0
    # the 4-week review point has passed: its own result is kept with the decision (two
    # diary days in the 14 days up to it, too few to judge)
    assert [(p["weeks"], p["diary_days"], p["category"]) for p in helps["review_points"]] == [
        (4, 2, "insufficient-data")
    ]
    assert client.post(f"{base(cast)}/reviews", json=body, headers=gp).json() == made.json()
    changed = client.post(f"{base(cast)}/reviews", json={**body, "decision": "stop"}, headers=gp)
    assert changed.status_code == 422 and changed.json()["errors"][0]["field"] == "id"
    bad = client.post(
        f"{base(cast)}/reviews",
        json={**body, "id": str(uuid.uuid4()), "decision": "double it"},
        headers=gp,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "decision"
    wrong_rx = client.post(
        f"{base(cast)}/reviews",
        json={**body, "id": str(uuid.uuid4()), "prescription_id": str(uuid.uuid4())},
        headers=gp,
    )
    assert wrong_rx.status_code == 422
    assert wrong_rx.json()["errors"][0]["field"] == "prescription_id"
    listed = client.get(f"{base(cast)}/reviews", headers=gp).json()["items"]
    assert [r["decision"] for r in listed] == ["continue"]
    patient = login(client, cast.patient_a)
    assert client.post(f"{base(cast)}/reviews", json=body, headers=patient).status_code == 403


def test_notes_are_for_the_care_teams_clinicians_and_audited(
    client: TestClient, cast: Cast
) -> None:
    gp = login(client, cast.gp)
    body = {"id": str(uuid.uuid4()), "text": "<script>alert(1)</script> discussed tapering"}
    assert client.post(f"{base(cast)}/notes", json=body, headers=gp).status_code == 201
    items = client.get(f"{base(cast)}/notes", headers=gp).json()["items"]
    assert [n["text"] for n in items] == [body["text"]]
    patient = login(client, cast.patient_a)
    assert client.get(f"{base(cast)}/notes", headers=patient).status_code == 403
    with factory(client)() as db:
        events = db.scalars(
            select(AuditEvent).where(AuditEvent.resource_type == "clinical-note")
        ).all()
    assert {(e.action, e.outcome) for e in events} >= {
        ("create", "allowed"),
        ("list", "allowed"),
        ("list", "denied"),
    }


@pytest.mark.parametrize("page_size", [2])
def test_lists_follow_next(client: TestClient, cast: Cast, page_size: int) -> None:
    gp = login(client, cast.gp)
    for i in range(5):
        client.post(
            f"{base(cast)}/notes", json={"id": str(uuid.uuid4()), "text": f"note {i}"}, headers=gp
        )
    seen: list[str] = []
    link: str | None = f"{base(cast)}/notes?limit={page_size}"
    while link:
        page = client.get(link, headers=gp).json()
        seen += [n["text"] for n in page["items"]]
        link = page["next"]
    assert sorted(seen) == [f"note {i}" for i in range(5)]
