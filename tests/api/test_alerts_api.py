"""Alerts through the API and the rules that raise them (both databases): raised once per
cause however often the same data arrives, ordered by urgency then age, acknowledged or
resolved with a note by the care team only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from painpath.alerts import service
from painpath.alerts.models import Alert
from painpath.audit.models import AuditEvent
from painpath.care.models import FollowUp
from painpath.diary.models import DiaryEntry
from painpath.medication.models import (
    DoseEvent,
    DoseStep,
    Prescription,
    SideEffectReport,
    TaperPlan,
)
from painpath.questionnaires.models import QuestionnaireResponse
from tests.api.conftest import Cast, login
from tests.factories import Person


def factory(client: TestClient) -> sessionmaker[Session]:
    made: sessionmaker[Session] = client.app.state.painpath.factory  # type: ignore[attr-defined]
    return made


def today() -> datetime:
    return datetime.now(UTC)


def local_today() -> datetime:
    return datetime.now(UTC).astimezone(ZoneInfo("Europe/London"))


def evaluate(client: TestClient, who: Person) -> int:
    assert who.patient_id
    with factory(client)() as db:
        raised = service.evaluate_patient_rules(db, who.patient_id, datetime.now(UTC))
        db.commit()
    return len(raised)


def add(client: TestClient, *rows: object) -> None:
    with factory(client)() as db:
        for row in rows:
            db.add(row)
            db.flush()
        db.commit()


def phq9(who: Person, item9: int, response_id: uuid.UUID | None = None) -> QuestionnaireResponse:
    return QuestionnaireResponse(
        id=response_id or uuid.uuid4(),
        patient_id=who.patient_id,
        instrument="phq9",
        instrument_version="1",
        answers=[1, 1, 1, 1, 1, 1, 1, 1, item9],
        total=8 + item9,
        band="mild",
        flags=["self-harm"] if item9 else [],
        completed_at=today(),
    )


def missed(who: Person, days_ago: int) -> DoseEvent:
    day = local_today().date() - timedelta(days=days_ago)
    return DoseEvent(
        id=uuid.uuid4(),
        patient_id=who.patient_id,
        status="missed",
        taken_at=datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=9),
        scheduled_for=day,
    )


def test_the_same_data_twice_raises_one_alert(client: TestClient, cast: Cast) -> None:
    response_id = uuid.uuid4()
    add(client, phq9(cast.patient_a, 2, response_id))
    assert evaluate(client, cast.patient_a) == 1
    assert evaluate(client, cast.patient_a) == 0  # the same response sent again
    add(client, phq9(cast.patient_a, 0))
    assert evaluate(client, cast.patient_a) == 0  # item 9 at 0 raises nothing
    gp = login(client, cast.gp)
    items = client.get("/api/v1/alerts", params={"status": "open"}, headers=gp).json()["items"]
    assert [(a["rule"], a["urgency"], a["patient_name"]) for a in items] == [
        ("phq9-item9", "urgent", "Ann Patient")
    ]
    assert "§3.2" in items[0]["source"]


def test_missed_doses_raise_one_alert_per_run(client: TestClient, cast: Cast) -> None:
    add(client, missed(cast.patient_a, 1), missed(cast.patient_a, 3))
    assert evaluate(client, cast.patient_a) == 0  # two in 7 days: not yet
    add(client, missed(cast.patient_a, 5))
    with factory(client)() as db:
        assert service.evaluate_scheduled_rules(db, datetime.now(UTC)) == 1
        assert service.evaluate_scheduled_rules(db, datetime.now(UTC)) == 0
        db.commit()
    add(client, missed(cast.patient_a, 0))
    assert evaluate(client, cast.patient_a) == 0  # the run is still one active alert
    gp = login(client, cast.gp)
    items = client.get("/api/v1/alerts", headers=gp).json()["items"]
    assert [a["rule"] for a in items] == ["missed-doses"]
    assert items[0]["summary"].startswith("3 doses missed in the 7 days")
    assert "NG222 1.4.14" in items[0]["source"]


def test_side_effects_withdrawal_in_a_taper_and_non_response(
    client: TestClient, cast: Cast
) -> None:
    assert cast.patient_a.patient_id and cast.gp.clinician_id
    day = local_today().date()
    rx = uuid.uuid4()
    start = day - timedelta(days=70)
    rows: list[object] = [
        Prescription(
            id=rx,
            patient_id=cast.patient_a.patient_id,
            prescriber_id=cast.gp.clinician_id,
            medicine="duloxetine",
        ),
        DoseStep(prescription_id=rx, start=start, daily_dose_mg=Decimal(30)),
        DoseStep(prescription_id=rx, start=start + timedelta(days=7), daily_dose_mg=Decimal(60)),
    ]
    for back in range(-14, 70):
        rows.append(
            DiaryEntry(
                id=uuid.uuid4(),
                patient_id=cast.patient_a.patient_id,
                date=start + timedelta(days=back),
                pain=7,
            )
        )
    rows += [
        TaperPlan(
            id=uuid.uuid4(),
            patient_id=cast.patient_a.patient_id,
            prescription_id=rx,
            start=day - timedelta(days=3),
            weeks=2,
            steps=[{"start": (day - timedelta(days=3)).isoformat(), "daily_dose_mg": "30"}],
        ),
        SideEffectReport(
            id=uuid.uuid4(),
            patient_id=cast.patient_a.patient_id,
            symptom="Dizziness and brain zaps",
            severity="severe",
            started_on=day - timedelta(days=1),
            triage_level="urgent",
            triage_advice="contact your care team today",
        ),
        SideEffectReport(
            id=uuid.uuid4(),
            patient_id=cast.patient_a.patient_id,
            symptom="Swollen lips",
            severity="mild",
            started_on=day,
            triage_level="emergency",
            triage_advice="call 999",
        ),
    ]
    add(client, *rows)
    assert evaluate(client, cast.patient_a) == 4
    assert evaluate(client, cast.patient_a) == 0
    gp = login(client, cast.gp)
    items = client.get("/api/v1/alerts", headers=gp).json()["items"]
    found = [(a["rule"], a["urgency"]) for a in items]
    # raised together: most urgent first (same-age alerts in either order)
    assert found[0] == ("side-effect", "emergency")
    assert set(found[1:3]) == {("side-effect", "urgent"), ("withdrawal-in-taper", "urgent")}
    assert found[3] == ("non-response", "routine")
    assert "Swollen lips" in items[0]["summary"]


def test_overdue_follow_ups_are_raised_once_and_settled_when_done(
    client: TestClient, cast: Cast
) -> None:
    fid = uuid.uuid4()
    add(
        client,
        FollowUp(
            id=fid,
            patient_id=cast.patient_a.patient_id,
            due=local_today().date() - timedelta(days=10),
            kind="4-week review",
        ),
        FollowUp(
            id=uuid.uuid4(),
            patient_id=cast.patient_a.patient_id,
            due=local_today().date() - timedelta(days=2),
            kind="within the week's grace",
        ),
    )
    with factory(client)() as db:
        assert service.evaluate_scheduled_rules(db, datetime.now(UTC)) == 1
        assert service.evaluate_scheduled_rules(db, datetime.now(UTC)) == 0
        db.commit()
    gp = login(client, cast.gp)
    [alert] = client.get("/api/v1/alerts", headers=gp).json()["items"]
    assert alert["rule"] == "overdue-follow-up" and "4-week review" in alert["summary"]
    url = f"/api/v1/patients/{cast.patient_a.patient_id}/follow-ups/{fid}"
    tag = client.get(url, headers=gp).headers["ETag"]
    done = client.patch(url, json={"status": "done"}, headers={**gp, "If-Match": tag})
    assert done.status_code == 200
    assert client.get("/api/v1/alerts", headers=gp).json()["items"] == []


def raise_three(client: TestClient, who: Person) -> dict[str, uuid.UUID]:
    now = datetime.now(UTC)
    ids: dict[str, uuid.UUID] = {}
    with factory(client)() as db:
        for key, urgency, age in (
            ("old-routine", "routine", 50),
            ("new-urgent", "urgent", 1),
            ("old-urgent", "urgent", 30),
            ("emergency", "emergency", 2),
        ):
            alert = service.raise_alert(
                db,
                patient_id=who.patient_id,  # type: ignore[arg-type]
                rule="test",
                cause_key=key,
                urgency=urgency,
                summary=key,
                source="test",
                now=now - timedelta(minutes=age),
            )
            ids[key] = alert.id
        db.commit()
    return ids


def test_the_inbox_is_ordered_by_urgency_then_age_and_pages(client: TestClient, cast: Cast) -> None:
    raise_three(client, cast.patient_a)
    raise_three(client, cast.patient_b)  # not in this GP's caseload
    gp = login(client, cast.gp)
    seen: list[str] = []
    link: str | None = "/api/v1/alerts?limit=3"
    while link:
        page = client.get(link, headers=gp).json()
        seen += [a["summary"] for a in page["items"]]
        link = page["next"]
    assert seen == ["emergency", "old-urgent", "new-urgent", "old-routine"]
    patient = login(client, cast.patient_a)
    assert client.get("/api/v1/alerts", headers=patient).status_code == 403
    own = f"/api/v1/patients/{cast.patient_a.patient_id}/alerts"
    assert client.get(own, headers=patient).status_code == 403
    assert len(client.get(own, headers=gp).json()["items"]) == 4
    other = login(client, cast.other_gp)
    assert client.get(own, headers=other).status_code == 404


def test_acknowledge_and_resolve_with_a_note(client: TestClient, cast: Cast) -> None:
    ids = raise_three(client, cast.patient_a)
    url = f"/api/v1/alerts/{ids['emergency']}"
    other = login(client, cast.other_gp)
    assert client.patch(url, json={"status": "acknowledged"}, headers=other).status_code == 404
    patient = login(client, cast.patient_a)
    assert client.patch(url, json={"status": "acknowledged"}, headers=patient).status_code == 404
    missing = client.patch(
        f"/api/v1/alerts/{uuid.uuid4()}", json={"status": "acknowledged"}, headers=other
    )
    assert missing.status_code == 404
    gp = login(client, cast.gp)
    first = client.get(url, headers=gp)
    tag = first.headers["ETag"]
    acked = client.patch(
        url, json={"status": "acknowledged", "note": "Called the patient"}, headers=gp
    )
    assert acked.status_code == 200, acked.text
    body = acked.json()
    assert body["status"] == "acknowledged" and body["version"] == 2
    assert body["note"] == "Acknowledged by Dr Care Team: Called the patient"
    assert body["acknowledged_by"] == str(cast.gp.user_id)
    stale = client.patch(url, json={"status": "resolved"}, headers={**gp, "If-Match": tag})
    assert stale.status_code == 412
    resolved = client.patch(
        url,
        json={"status": "resolved", "note": "Seen in A&E"},
        headers={**gp, "If-Match": acked.headers["ETag"]},
    )
    assert resolved.status_code == 200 and resolved.json()["version"] == 3
    assert resolved.json()["note"].endswith("Resolved by Dr Care Team: Seen in A&E")
    assert client.patch(url, json={"status": "resolved"}, headers=gp).status_code == 409
    bad = client.patch(url, json={"status": "open"}, headers=gp)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"
    open_now = client.get("/api/v1/alerts", headers=gp).json()["items"]
    assert str(ids["emergency"]) not in {a["id"] for a in open_now}
    done = client.get("/api/v1/alerts", params={"status": "resolved"}, headers=gp).json()
    assert [a["id"] for a in done["items"]] == [str(ids["emergency"])]
    with factory(client)() as db:
        events = db.scalars(
            select(AuditEvent).where(
                AuditEvent.resource_type == "alert", AuditEvent.resource_id == str(ids["emergency"])
            )
        ).all()
        stored = db.get(Alert, ids["emergency"])
    assert {(e.action, e.outcome) for e in events} >= {
        ("update", "allowed"),
        ("update", "denied"),
        ("read", "allowed"),
    }
    assert stored is not None and stored.status == "resolved"
