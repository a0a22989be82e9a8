"""The clinical facts the prescribing checks read (creatinine clearance, liver
impairment, uncontrolled hypertension, other conditions): recorded by the care team with
the ETag, read by the patient, audited by name, and used by the next prescription."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from painpath.audit.models import AuditEvent
from tests.api.conftest import Cast, login
from tests.api.test_medication_prescriptions import titration

UNKNOWN: dict[str, Any] = {
    "renal_crcl_ml_min": None,
    "hepatic_impairment": None,
    "bp_uncontrolled": None,
    "conditions": [],
    "bp_alert_systolic": None,
    "bp_alert_diastolic": None,
}


def url(cast: Cast) -> str:
    return f"/api/v1/patients/{cast.patient_a.patient_id}/clinical-facts"


def test_the_care_team_records_the_facts_and_prescribing_uses_them(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    patient = login(client, cast.patient_a)
    first = client.get(url(cast), headers=patient)
    assert first.status_code == 200, first.text
    assert first.json() == {"patient_id": str(cast.patient_a.patient_id), "version": 0, **UNKNOWN}
    assert first.headers["etag"] == f'"{cast.patient_a.patient_id}.0"'
    change = {**UNKNOWN, "renal_crcl_ml_min": 25, "bp_uncontrolled": False}
    refused = client.put(
        url(cast), json=change, headers={**patient, "If-Match": first.headers["etag"]}
    )
    assert refused.status_code == 403
    assert client.get(url(cast), headers=login(client, cast.other_gp)).status_code == 404

    gp = login(client, cast.gp)
    assert client.put(url(cast), json=change, headers=gp).status_code == 428
    saved = client.put(url(cast), json=change, headers={**gp, "If-Match": first.headers["etag"]})
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 1 and saved.json()["renal_crcl_ml_min"] == 25
    assert saved.headers["etag"] == f'"{cast.patient_a.patient_id}.1"'
    stale = client.put(url(cast), json=UNKNOWN, headers={**gp, "If-Match": first.headers["etag"]})
    assert stale.status_code == 412
    assert client.get(url(cast), headers=gp).json()["renal_crcl_ml_min"] == 25
    with session_factory() as db:
        reasons = db.scalars(
            select(AuditEvent.reason).where(
                AuditEvent.resource_type == "clinical-facts",
                AuditEvent.action == "update",
                AuditEvent.outcome == "allowed",
            )
        ).all()
    assert reasons == ["changed: renal_crcl_ml_min, bp_uncontrolled"]  # names, never values

    # the next prescription is checked against the recorded clearance (SmPC 4.3: < 30)
    body = {"id": str(uuid.uuid4()), "medicine": "duloxetine", "schedule": titration()}
    blocked = client.post(
        f"/api/v1/patients/{cast.patient_a.patient_id}/prescriptions", json=body, headers=gp
    )
    assert blocked.status_code == 422
    assert "creatinine clearance 25 mL/min" in blocked.json()["detail"]


def test_bad_facts_say_what_to_fix_and_change_nothing(client: TestClient, cast: Cast) -> None:
    gp = login(client, cast.gp)
    read = client.get(url(cast), headers=gp)
    headers = {**gp, "If-Match": read.headers["etag"]}
    for body, field in (
        ({**UNKNOWN, "renal_crcl_ml_min": 0}, "renal_crcl_ml_min"),
        ({**UNKNOWN, "renal_crcl_ml_min": 999}, "renal_crcl_ml_min"),
        ({**UNKNOWN, "hepatic_impairment": "maybe"}, "hepatic_impairment"),
        ({**UNKNOWN, "conditions": [""]}, "conditions"),
        ({**UNKNOWN, "egfr": 40}, "egfr"),
        ({**UNKNOWN, "bp_alert_systolic": 300}, "bp_alert_systolic"),
        ({k: v for k, v in UNKNOWN.items() if k != "bp_alert_diastolic"}, "bp_alert_diastolic"),
        ({k: v for k, v in UNKNOWN.items() if k != "bp_uncontrolled"}, "bp_uncontrolled"),
    ):
        bad = client.put(url(cast), json=body, headers=headers)
        assert bad.status_code == 422, (body, bad.text)
        assert any(field in e["field"] for e in bad.json()["errors"]), (field, bad.json())
    assert client.get(url(cast), headers=gp).json() == read.json()


def test_the_clinicians_page_records_the_facts(client: TestClient, cast: Cast) -> None:
    gp = login(client, cast.gp)
    pid = cast.patient_a.patient_id
    record = client.get(f"/patients/{pid}", headers=gp)
    assert f'href="/patients/{pid}/clinical-facts"' in record.text
    page = client.get(f"/patients/{pid}/clinical-facts", headers=gp)
    assert page.status_code == 200 and "Clinical facts for Ann Patient" in page.text
    form = {
        "renal_crcl_ml_min": "64",
        "hepatic_impairment": "no",
        "bp_uncontrolled": "yes",
        "conditions": "Glaucoma\n\n  glaucoma \nAsthma",
        "version": "0",
    }
    saved = client.post(
        f"/patients/{pid}/clinical-facts", data=form, headers=gp, follow_redirects=False
    )
    assert saved.status_code == 303, saved.text
    shown = client.get(saved.headers["location"], headers=gp)
    assert "Clinical facts saved." in shown.text and 'value="64"' in shown.text
    facts = client.get(url(cast), headers=gp).json()
    assert facts["bp_uncontrolled"] is True and facts["hepatic_impairment"] is False
    assert facts["conditions"] == ["Glaucoma", "glaucoma", "Asthma"]
    prescribe = client.get(f"/patients/{pid}/prescribe", headers=gp)
    assert "64 mL/min" in prescribe.text
    assert f'href="/patients/{pid}/clinical-facts">Record or change these facts' in prescribe.text
    stale = client.post(f"/patients/{pid}/clinical-facts", data=form, headers=gp)
    assert stale.status_code == 409 and "changed by someone else" in stale.text
    bad = client.post(
        f"/patients/{pid}/clinical-facts",
        data={**form, "version": "1", "renal_crcl_ml_min": "sixty"},
        headers=gp,
    )
    assert bad.status_code == 422 and "whole number of mL/min from 1 to 250" in bad.text
    assert 'value="sixty"' in bad.text
    assert client.get(url(cast), headers=gp).json()["renal_crcl_ml_min"] == 64
