"""Blood pressure readings: recorded by the patient or the care team, stored once, and
alerting the care team at once when at or above the level they set for this patient
(PainPath has no level of its own: the clinical reference gives none)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from painpath.alerts.models import Alert
from tests.api.conftest import Cast, login
from tests.api.test_clinical_facts import UNKNOWN


def url(cast: Cast) -> str:
    return f"/api/v1/patients/{cast.patient_a.patient_id}/blood-pressure-readings"


def reading(systolic: int, diastolic: int, **extra: Any) -> dict[str, Any]:
    when = datetime.now(UTC) - timedelta(hours=1)
    return {
        "id": str(uuid.uuid4()),
        "measured_at": when.isoformat(),
        "systolic": systolic,
        "diastolic": diastolic,
        **extra,
    }


def alerts(factory: sessionmaker[Session], cast: Cast) -> list[Alert]:
    with factory() as db:
        return list(
            db.scalars(
                select(Alert).where(
                    Alert.patient_id == cast.patient_a.patient_id, Alert.rule == "blood-pressure"
                )
            ).all()
        )


def set_levels(
    client: TestClient, cast: Cast, gp: dict[str, str], systolic: int, diastolic: int
) -> None:
    facts_url = f"/api/v1/patients/{cast.patient_a.patient_id}/clinical-facts"
    tag = client.get(facts_url, headers=gp).headers["etag"]
    body = {**UNKNOWN, "bp_alert_systolic": systolic, "bp_alert_diastolic": diastolic}
    saved = client.put(facts_url, json=body, headers={**gp, "If-Match": tag})
    assert saved.status_code == 200, saved.text


def test_a_high_reading_alerts_the_care_team_once_only_at_their_level(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    patient = login(client, cast.patient_a)
    gp = login(client, cast.gp)  # once: a security code is good for one sign-in
    very_high = client.post(url(cast), json=reading(190, 115), headers=patient)
    assert very_high.status_code == 201, very_high.text
    assert very_high.json()["above_alert_level"] is False  # no level set: no alert
    assert alerts(session_factory, cast) == []

    set_levels(client, cast, gp, 150, 95)
    body = reading(152, 90, pulse=72)
    made = client.post(url(cast), json=body, headers=patient)
    assert made.status_code == 201 and made.json()["above_alert_level"] is True
    again = client.post(url(cast), json=body, headers=patient)
    assert again.status_code == 200 and again.json() == made.json()
    (alert,) = alerts(session_factory, cast)
    assert alert.urgency == "urgent" and alert.status == "open"
    assert "152/90 mmHg" in alert.summary and "systolic 152 at or above 150" in alert.summary
    assert "§1.8" in alert.source
    below = client.post(url(cast), json=reading(140, 85), headers=patient)
    assert below.json()["above_alert_level"] is False
    assert len(alerts(session_factory, cast)) == 1
    # the care team records one in clinic too; both see the list, newest last
    clinic = client.post(url(cast), json=reading(130, 96), headers=gp)
    assert clinic.status_code == 201 and clinic.json()["above_alert_level"] is True
    assert len(alerts(session_factory, cast)) == 2
    listed = client.get(url(cast), headers=patient).json()["items"]
    assert [(r["systolic"], r["diastolic"]) for r in listed] == [
        (190, 115),
        (152, 90),
        (140, 85),
        (130, 96),
    ]
    assert client.get(url(cast), headers=login(client, cast.other_gp)).status_code == 404


def test_a_reading_that_cannot_be_right_is_refused_with_what_to_fix(
    client: TestClient, cast: Cast
) -> None:
    patient = login(client, cast.patient_a)
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    for body, field, words in (
        (reading(80, 120), "systolic", "right way round"),
        (reading(120, 80, measured_at=future), "measured_at", "in the future"),
        (reading(120, 80, measured_at="2026-01-05T08:30:00"), "measured_at", "time zone"),
        (reading(400, 80), "systolic", ""),
        (reading(120, 10), "diastolic", ""),
        (reading(120, 80, pulse=0), "pulse", ""),
    ):
        bad = client.post(url(cast), json=body, headers=patient)
        assert bad.status_code == 422, (body, bad.text)
        assert any(field in e["field"] for e in bad.json()["errors"]), bad.json()
        assert words in bad.text
    assert client.get(url(cast), headers=patient).json()["items"] == []


def test_the_patient_records_a_reading_on_the_medicine_page(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    patient = login(client, cast.patient_a)
    gp = login(client, cast.gp)
    page = client.get("/medicine", headers=patient)
    assert page.status_code == 200 and "Upper number (systolic, mmHg)" in page.text
    bad = client.post(
        "/medicine/blood-pressure",
        data={"id": str(uuid.uuid4()), "systolic": "abc", "diastolic": "", "pulse": "70"},
        headers=patient,
    )
    assert bad.status_code == 422
    assert "Enter the upper number (systolic) as a whole number from 50 to 300" in bad.text
    assert "Enter the lower number (diastolic)" in bad.text and 'value="abc"' in bad.text
    saved = client.post(
        "/medicine/blood-pressure",
        data={"id": str(uuid.uuid4()), "systolic": "128", "diastolic": "84", "pulse": ""},
        headers=patient,
    )
    assert saved.status_code == 200 and "Thank you: your reading is saved" in saved.text
    set_levels(client, cast, gp, 140, 90)
    high = client.post(
        "/medicine/blood-pressure",
        data={"id": str(uuid.uuid4()), "systolic": "146", "diastolic": "88", "pulse": "77"},
        headers=patient,
    )
    assert "higher than the level your care team set" in high.text
    assert "Your care team has been told" in high.text
    assert len(alerts(session_factory, cast)) == 1
    readings = client.get(url(cast), headers=patient).json()["items"]
    assert [(r["systolic"], r["pulse"]) for r in readings] == [(128, None), (146, 77)]
    shown = client.get(f"/patients/{cast.patient_a.patient_id}/medicine", headers=gp)
    assert "Alert level for this patient: systolic 140 / diastolic 90 mmHg" in shown.text
    assert "<td>146/88</td><td>77</td><td>yes</td>" in shown.text
    assert "<td>128/84</td><td></td><td>no</td>" in shown.text
