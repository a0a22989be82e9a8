"""Dose-change requests (the patient asks, a clinician decides), stopping on one's own,
and other medicines."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from painpath.alerts.models import Alert
from painpath.care.models import Notification
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


def base(cast: Cast) -> str:
    return f"/api/v1/patients/{cast.patient_a.patient_id}"


def prescribed(client: TestClient, cast: Cast) -> dict[str, Any]:
    gp = login(client, cast.gp)
    response = client.post(
        f"{base(cast)}/prescriptions",
        json={
            "id": str(uuid.uuid4()),
            "medicine": "duloxetine",
            "schedule": [
                {"start": (today() - timedelta(days=30)).isoformat(), "daily_dose_mg": 60}
            ],
        },
        headers=gp,
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def test_a_patient_asks_and_a_clinician_decides_without_changing_the_dose(
    client: TestClient, cast: Cast, db: Session
) -> None:
    rx = prescribed(client, cast)
    patient = login(client, cast.patient_a)
    body = {
        "id": str(uuid.uuid4()),
        "prescription_id": rx["id"],
        "requested_dose_mg": 30,
        "reason": "I feel sick every morning",
    }
    created = client.post(f"{base(cast)}/dose-change-requests", json=body, headers=patient)
    assert created.status_code == 201, created.text
    request = created.json()
    assert request["status"] == "pending" and request["kind"] == "change"
    assert "Keep taking your medicine" in request["next_step"]
    assert (
        client.post(f"{base(cast)}/dose-change-requests", json=body, headers=patient).status_code
        == 200
    )
    gp = login(client, cast.gp)
    assert (
        client.post(
            f"{base(cast)}/dose-change-requests", json={**body, "id": str(uuid.uuid4())}, headers=gp
        ).status_code
        == 403
    )
    url = f"{base(cast)}/dose-change-requests/{request['id']}"
    assert (
        client.patch(url, json={"status": "approved", "note": "ok"}, headers=patient).status_code
        == 403
    )
    decided = client.patch(
        url, json={"status": "approved", "note": "Agreed: drop to 30 mg from Monday."}, headers=gp
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"
    assert "does not change the dose by itself" in decided.json()["next_step"]
    again = client.patch(url, json={"status": "declined", "note": "changed my mind"}, headers=gp)
    assert again.status_code == 409
    still = client.get(f"{base(cast)}/prescriptions/{rx['id']}", headers=gp).json()
    assert still["current_daily_dose_mg"] == 60
    db.expire_all()
    told = db.scalars(
        select(Notification).where(Notification.user_id == cast.patient_a.user_id)
    ).all()
    assert len(told) == 1
    assert told[0].title == "Your dose change request was approved"
    assert "drop to 30 mg from Monday" in told[0].body
    seen = client.get(f"{base(cast)}/dose-change-requests", headers=patient).json()["items"]
    assert seen[0]["decision_note"] == "Agreed: drop to 30 mg from Monday."


def test_stopping_on_my_own_explains_the_risk_and_alerts_the_care_team(
    client: TestClient, cast: Cast, db: Session
) -> None:
    rx = prescribed(client, cast)
    patient = login(client, cast.patient_a)
    body = {
        "id": str(uuid.uuid4()),
        "prescription_id": rx["id"],
        "kind": "stopped-on-my-own",
        "reason": "I did not think it was helping",
    }
    response = client.post(f"{base(cast)}/dose-change-requests", json=body, headers=patient)
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["kind"] == "stopped-on-my-own"
    assert "withdrawal symptoms" in result["advice"]["text"]
    assert "do not restart" in result["advice"]["text"]
    assert "dizziness" in result["advice"]["withdrawal_symptoms"]
    assert "NG215" in result["advice"]["source"]
    client.post(f"{base(cast)}/dose-change-requests", json=body, headers=patient)
    db.expire_all()
    alerts = db.scalars(select(Alert).where(Alert.patient_id == cast.patient_a.patient_id)).all()
    assert len(alerts) == 1 and alerts[0].urgency == "urgent"
    gp = login(client, cast.gp)
    decide = client.patch(
        f"{base(cast)}/dose-change-requests/{result['id']}",
        json={"status": "approved", "note": "x"},
        headers=gp,
    )
    assert decide.status_code == 409
    rx_after = client.get(f"{base(cast)}/prescriptions/{rx['id']}", headers=gp).json()
    assert rx_after["status"] == "active"  # only a prescriber changes it


def test_other_medicines_are_recorded_by_either_and_checked(
    client: TestClient, cast: Cast, db: Session
) -> None:
    prescribed(client, cast)
    patient = login(client, cast.patient_a)
    body = {"id": str(uuid.uuid4()), "name": "tramadol", "is_pain_medicine": True}
    created = client.post(f"{base(cast)}/other-medicines", json=body, headers=patient)
    assert created.status_code == 201, created.text
    item = created.json()
    assert item["recognised_as"] == "tramadol"
    assert {w["severity"] for w in item["interactions"]} == {"serious", "moderate"}
    assert any("serotonin" in w["message"].lower() for w in item["interactions"])
    assert (
        client.post(f"{base(cast)}/other-medicines", json=body, headers=patient).status_code == 200
    )
    unknown = client.post(
        f"{base(cast)}/other-medicines",
        json={"id": str(uuid.uuid4()), "name": "Mystery tonic"},
        headers=login(client, cast.gp),
    )
    assert unknown.status_code == 201 and unknown.json()["recognised_as"] is None
    listed = client.get(f"{base(cast)}/other-medicines", headers=patient).json()["items"]
    assert [i["name"] for i in listed] == ["tramadol", "Mystery tonic"]
    other = login(client, cast.other_gp)
    assert client.get(f"{base(cast)}/other-medicines", headers=other).status_code == 404


def test_a_patient_recording_a_contraindicated_medicine_alerts_the_care_team(
    client: TestClient, cast: Cast, db: Session
) -> None:
    prescribed(client, cast)
    patient = login(client, cast.patient_a)
    body = {"id": str(uuid.uuid4()), "name": "fluvoxamine"}
    created = client.post(f"{base(cast)}/other-medicines", json=body, headers=patient)
    assert created.status_code == 201
    assert [w["severity"] for w in created.json()["interactions"]] == ["contraindicated"]
    client.post(f"{base(cast)}/other-medicines", json=body, headers=patient)
    db.expire_all()
    alerts = db.scalars(select(Alert).where(Alert.patient_id == cast.patient_a.patient_id)).all()
    assert [a.rule for a in alerts] == ["contraindicated-other-medicine"]
