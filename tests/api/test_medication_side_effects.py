"""Side-effect reports: triage at once, urgent and emergency ones alert the care team once."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from painpath.alerts.models import Alert
from tests.api.conftest import Cast
from tests.api.conftest import login as sign_in
from tests.factories import Person

_TOKENS: dict[str, dict[str, str]] = {}


def login(client: TestClient, who: Person) -> dict[str, str]:
    """Sign in once per person (a clinician's security code is refused if used twice)."""
    if who.email not in _TOKENS:
        _TOKENS[who.email] = sign_in(client, who)
    return _TOKENS[who.email]


def today() -> date:
    return datetime.now(UTC).astimezone(ZoneInfo("Europe/London")).date()


def url(cast: Cast, who: str = "a") -> str:
    patient = cast.patient_a if who == "a" else cast.patient_b
    return f"/api/v1/patients/{patient.patient_id}/side-effect-reports"


def alerts_for(db: Session, patient_id: uuid.UUID | None) -> list[Alert]:
    db.expire_all()
    return list(db.scalars(select(Alert).where(Alert.patient_id == patient_id)).all())


def test_difficulty_passing_urine_is_an_emergency_raised_once(
    client: TestClient, cast: Cast, db: Session
) -> None:
    patient = login(client, cast.patient_a)
    body = {
        "id": str(uuid.uuid4()),
        "symptom": "difficulty passing urine",
        "severity": "mild",
        "started_on": today().isoformat(),
    }
    first = client.post(url(cast), json=body, headers=patient)
    assert first.status_code == 201, first.text
    report = first.json()
    assert report["triage"]["level"] == "emergency"
    assert report["triage"]["pathway"] == "cauda-equina"
    assert "A&E" in report["triage"]["advice"] and "999" in report["triage"]["advice"]
    assert "cauda equina" in report["triage"]["advice"]
    assert report["triage"]["source"]
    assert report["care_team_alerted"] is True
    again = client.post(url(cast), json=body, headers=patient)
    assert again.status_code == 200 and again.json()["id"] == report["id"]
    alerts = alerts_for(db, cast.patient_a.patient_id)
    assert len(alerts) == 1
    assert alerts[0].urgency == "emergency"
    assert report["id"] in alerts[0].cause_key


def test_a_symptom_hidden_in_the_description_is_still_triaged(
    client: TestClient, cast: Cast, db: Session
) -> None:
    patient = login(client, cast.patient_a)
    response = client.post(
        url(cast),
        json={
            "id": str(uuid.uuid4()),
            "symptom": "something else",
            "description": "numb between my legs since this morning",
            "severity": "moderate",
            "started_on": today().isoformat(),
        },
        headers=patient,
    )
    assert response.status_code == 201
    assert response.json()["triage"]["level"] == "emergency"
    assert len(alerts_for(db, cast.patient_a.patient_id)) == 1


def test_a_mild_common_side_effect_is_self_care_without_an_alert(
    client: TestClient, cast: Cast, db: Session
) -> None:
    patient = login(client, cast.patient_a)
    response = client.post(
        url(cast),
        json={
            "id": str(uuid.uuid4()),
            "symptom": "nausea",
            "severity": "mild",
            "started_on": (today() - timedelta(days=2)).isoformat(),
            "description": "<script>alert(1)</script>",
        },
        headers=patient,
    )
    assert response.status_code == 201
    report = response.json()
    assert report["triage"]["level"] == "self-care"
    assert report["care_team_alerted"] is False
    assert report["description"] == "<script>alert(1)</script>"
    assert alerts_for(db, cast.patient_a.patient_id) == []
    listed = client.get(url(cast), headers=login(client, cast.gp)).json()["items"]
    assert [r["id"] for r in listed] == [report["id"]]


def test_only_the_patient_reports_and_others_cannot_see(client: TestClient, cast: Cast) -> None:
    body = {
        "id": str(uuid.uuid4()),
        "symptom": "headache",
        "severity": "mild",
        "started_on": today().isoformat(),
    }
    gp = login(client, cast.gp)
    assert client.post(url(cast), json=body, headers=gp).status_code == 403
    patient = login(client, cast.patient_a)
    assert client.post(url(cast, "b"), json=body, headers=patient).status_code == 404
    future = client.post(
        url(cast),
        json={**body, "started_on": (today() + timedelta(days=2)).isoformat()},
        headers=patient,
    )
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "started_on"
    bad = client.post(url(cast), json={**body, "severity": "awful"}, headers=patient)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "severity"
