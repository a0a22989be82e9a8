"""Dose logging, missed-dose advice, adherence and today's doses through the API."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from painpath.medication import service
from tests.api.conftest import Cast
from tests.api.conftest import login as sign_in
from tests.factories import Person

LONDON = ZoneInfo("Europe/London")


_TOKENS: dict[str, dict[str, str]] = {}


def login(client: TestClient, who: Person) -> dict[str, str]:
    """Sign in once per person (a clinician's security code is refused if used twice)."""
    if who.email not in _TOKENS:
        _TOKENS[who.email] = sign_in(client, who)
    return _TOKENS[who.email]


def today() -> date:
    return datetime.now(UTC).astimezone(LONDON).date()


def base(cast: Cast) -> str:
    return f"/api/v1/patients/{cast.patient_a.patient_id}"


def prescribe(client: TestClient, cast: Cast, start: date) -> dict[str, Any]:
    gp = login(client, cast.gp)
    body = {
        "id": str(uuid.uuid4()),
        "medicine": "duloxetine",
        "schedule": [
            {"start": start.isoformat(), "daily_dose_mg": 30},
            {"start": (start + timedelta(days=7)).isoformat(), "daily_dose_mg": 60},
        ],
        "dose_times": ["08:00"],
    }
    response = client.post(f"{base(cast)}/prescriptions", json=body, headers=gp)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def test_a_dose_is_logged_once_with_the_planned_dose(client: TestClient, cast: Cast) -> None:
    rx = prescribe(client, cast, today())
    patient = login(client, cast.patient_a)
    body = {"id": str(uuid.uuid4()), "status": "taken", "taken_at": datetime.now(UTC).isoformat()}
    first = client.post(f"{base(cast)}/dose-events", json=body, headers=patient)
    assert first.status_code == 201, first.text
    event = first.json()
    assert event["prescription_id"] == rx["id"]
    assert event["dose_mg"] == 30
    assert event["scheduled_for"] == today().isoformat()
    assert event["missed_dose_advice"] is None
    again = client.post(f"{base(cast)}/dose-events", json=body, headers=patient)
    assert again.status_code == 200 and again.json() == event
    clash = client.post(
        f"{base(cast)}/dose-events", json={**body, "status": "late"}, headers=patient
    )
    assert clash.status_code == 422 and clash.json()["errors"][0]["field"] == "id"
    listed = client.get(f"{base(cast)}/dose-events", headers=patient).json()["items"]
    assert [e["id"] for e in listed] == [body["id"]]
    gp = login(client, cast.gp)
    refused = client.post(
        f"{base(cast)}/dose-events", json={**body, "id": str(uuid.uuid4())}, headers=gp
    )
    assert refused.status_code == 403
    future = client.post(
        f"{base(cast)}/dose-events",
        json={
            "id": str(uuid.uuid4()),
            "status": "taken",
            "taken_at": (datetime.now(UTC) + timedelta(hours=2)).isoformat(),
        },
        headers=patient,
    )
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "taken_at"


def test_a_missed_dose_gets_the_missed_dose_advice(client: TestClient, cast: Cast) -> None:
    prescribe(client, cast, today() - timedelta(days=10))
    patient = login(client, cast.patient_a)
    body = {"id": str(uuid.uuid4()), "status": "missed", "taken_at": datetime.now(UTC).isoformat()}
    response = client.post(f"{base(cast)}/dose-events", json=body, headers=patient)
    assert response.status_code == 201, response.text
    event = response.json()
    assert event["dose_mg"] == 60
    advice = event["missed_dose_advice"]
    assert "Never take two doses" in advice["advice"]
    assert "NHS website" in advice["source"]
    assert advice["take_now"] in (True, False)


def test_listing_filters_by_date_and_follows_next(client: TestClient, cast: Cast) -> None:
    prescribe(client, cast, today() - timedelta(days=10))
    patient = login(client, cast.patient_a)
    now = datetime.now(UTC)
    for back in range(5):
        client.post(
            f"{base(cast)}/dose-events",
            json={
                "id": str(uuid.uuid4()),
                "status": "taken",
                "taken_at": (now - timedelta(days=back)).isoformat(),
            },
            headers=patient,
        )
    seen: list[str] = []
    link: str | None = f"{base(cast)}/dose-events?limit=2"
    while link:
        page = client.get(link, headers=patient).json()
        seen += [e["taken_at"] for e in page["items"]]
        link = page["next"]
    assert len(seen) == 5 and seen == sorted(seen)
    start = (today() - timedelta(days=1)).isoformat()
    window = client.get(
        f"{base(cast)}/dose-events",
        params={"from": start, "to": today().isoformat()},
        headers=patient,
    ).json()["items"]
    assert {e["scheduled_for"] for e in window} <= {start, today().isoformat()}
    assert len(window) == 2


def test_adherence_is_the_proportion_of_days_covered(
    client: TestClient, cast: Cast, db: Session
) -> None:
    start = today() - timedelta(days=10)
    prescribe(client, cast, start)
    patient = login(client, cast.patient_a)
    local_eight = datetime.combine(today(), datetime.min.time(), tzinfo=LONDON).replace(hour=8)
    plan = {1: "taken", 2: "late", 3: "missed", 4: "taken"}  # days ago -> status
    for back, status in plan.items():
        client.post(
            f"{base(cast)}/dose-events",
            json={
                "id": str(uuid.uuid4()),
                "status": status,
                "taken_at": (local_eight - timedelta(days=back)).isoformat(),
            },
            headers=patient,
        )
    window = {
        "from": (today() - timedelta(days=4)).isoformat(),
        "to": (today() - timedelta(days=1)).isoformat(),
    }
    result = client.get(f"{base(cast)}/adherence", params=window, headers=patient).json()
    assert result["days_planned"] == 4
    assert result["days_covered"] == 3
    assert result["days_missed"] == 1
    assert result["percent"] == 75
    assert cast.patient_a.patient_id
    direct = service.adherence(
        db, cast.patient_a.patient_id, today() - timedelta(days=4), today() - timedelta(days=1)
    )
    assert direct["proportion"] == 0.75
    before = service.adherence(
        db, cast.patient_a.patient_id, start - timedelta(days=5), start - timedelta(days=1)
    )
    assert before["days_planned"] == 0 and before["proportion"] is None
    other = login(client, cast.other_gp)
    assert client.get(f"{base(cast)}/adherence", headers=other).status_code == 404


def test_todays_doses_say_what_to_take_and_whether_it_was_logged(
    client: TestClient, cast: Cast, db: Session
) -> None:
    rx = prescribe(client, cast, today())
    assert cast.patient_a.patient_id
    doses = service.todays_doses(db, cast.patient_a.patient_id, today())
    assert len(doses) == 1
    dose = doses[0]
    assert str(dose["prescription_id"]) == rx["id"]
    assert dose["daily_dose_mg"] == 30
    assert dose["instructions"].startswith("Take one 30 mg capsule once a day.")
    assert dose["dose_times"] == ["08:00"] and dose["logged"] is False
    assert dose["taper_step"] is None
    patient = login(client, cast.patient_a)
    client.post(
        f"{base(cast)}/dose-events",
        json={
            "id": str(uuid.uuid4()),
            "status": "taken",
            "taken_at": datetime.now(UTC).isoformat(),
        },
        headers=patient,
    )
    db.expire_all()
    assert service.todays_doses(db, cast.patient_a.patient_id, today())[0]["logged"] is True
    week_two = service.todays_doses(db, cast.patient_a.patient_id, today() + timedelta(days=7))
    assert week_two[0]["daily_dose_mg"] == 60 and week_two[0]["logged"] is False
