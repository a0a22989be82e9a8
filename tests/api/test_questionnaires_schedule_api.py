"""The questionnaire schedule of one patient: read by the patient and their care team,
changed only by the care team's clinicians (with the ETag), checked before anything is
stored, and followed by what is due."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from painpath.audit.models import AuditEvent
from painpath.care.models import CarePlan
from tests.api.conftest import Cast, login


def url(cast: Cast) -> str:
    return f"/api/v1/patients/{cast.patient_a.patient_id}/questionnaire-schedule"


def rows(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["code"]: i for i in body["instruments"]}


def due_codes(client: TestClient, cast: Cast, headers: dict[str, str]) -> set[str]:
    due = client.get(
        f"/api/v1/patients/{cast.patient_a.patient_id}/questionnaires-due", headers=headers
    )
    assert due.status_code == 200, due.text
    return {d["code"] for d in due.json()["items"]}


def test_the_defaults_until_the_care_team_changes_them(client: TestClient, cast: Cast) -> None:
    patient = login(client, cast.patient_a)
    read = client.get(url(cast), headers=patient)
    assert read.status_code == 200, read.text
    assert read.headers["etag"] == f'"{cast.patient_a.patient_id}.0"'
    body = read.json()
    assert body["version"] == 0
    by_code = rows(body)
    assert "nrs" not in by_code  # the diary asks for pain every day
    assert set(by_code) == {"gad7", "peg", "pgic", "phq9", "redflags", "rmdq", "sleep", "startback"}
    assert all(r["is_default"] for r in by_code.values())
    assert by_code["peg"] | {"source": ""} == {
        "code": "peg",
        "name": by_code["peg"]["name"],
        "scheduled": True,
        "every_days": 7,
        "at_baseline": True,
        "at_reviews": False,
        "at_episode_start": False,
        "words": "at the start; every 7 days",
        "is_default": True,
        "default_words": "at the start; every 7 days",
        "source": "",
    }
    assert by_code["sleep"]["scheduled"] is False and by_code["sleep"]["words"] == "not scheduled"
    assert "NG59" in by_code["startback"]["source"]
    # a patient reads it but never changes it
    refused = client.put(
        url(cast), json={"instruments": {}}, headers={**patient, "If-Match": read.headers["etag"]}
    )
    assert refused.status_code == 403
    assert client.get(url(cast), headers=login(client, cast.other_gp)).status_code == 404


def test_the_care_team_changes_it_and_what_is_due_follows(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    assert cast.patient_a.patient_id
    with session_factory() as db:  # a care plan with another setting, which must be kept
        db.add(
            CarePlan(
                id=uuid.uuid4(),
                patient_id=cast.patient_a.patient_id,
                settings={"follow_ups": {"note": "kept"}},
            )
        )
        db.commit()
    gp = login(client, cast.gp)
    patient = login(client, cast.patient_a)
    assert {"gad7", "peg", "phq9", "rmdq"} <= due_codes(client, cast, patient)
    read = client.get(url(cast), headers=gp)
    tag = read.headers["etag"]
    change = {
        "instruments": {
            "peg": {"every_days": 14, "at_baseline": True},
            "gad7": {"scheduled": False},
            "sleep": {"every_days": 7, "at_baseline": True},
        }
    }
    assert client.put(url(cast), json=change, headers=gp).status_code == 428
    done = client.put(url(cast), json=change, headers={**gp, "If-Match": tag})
    assert done.status_code == 200, done.text
    assert done.headers["etag"] != tag and done.json()["version"] == read.json()["version"] + 1
    by_code = rows(client.get(url(cast), headers=patient).json())
    assert (by_code["peg"]["every_days"], by_code["peg"]["is_default"]) == (14, False)
    assert by_code["gad7"]["scheduled"] is False and by_code["sleep"]["scheduled"] is True
    assert by_code["phq9"]["is_default"] is True
    due = due_codes(client, cast, patient)
    assert "sleep" in due and "gad7" not in due and "peg" in due
    with session_factory() as db:
        plan = db.scalars(
            select(CarePlan).where(CarePlan.patient_id == cast.patient_a.patient_id)
        ).one()
        assert plan.settings["follow_ups"] == {"note": "kept"}
        assert plan.settings["questionnaires"]["gad7"] is False
        events = db.scalars(
            select(AuditEvent).where(
                AuditEvent.resource_type == "questionnaire-schedule",
                AuditEvent.action == "update",
            )
        ).all()
        assert [e.reason for e in events] == ["version 2: gad7, peg, sleep"]
    # a stale ETag changes nothing; an empty schedule restores the defaults
    stale = client.put(url(cast), json={"instruments": {}}, headers={**gp, "If-Match": tag})
    assert stale.status_code == 412
    assert rows(client.get(url(cast), headers=gp).json())["gad7"]["scheduled"] is False
    reset = client.put(
        url(cast), json={"instruments": {}}, headers={**gp, "If-Match": done.headers["etag"]}
    )
    assert reset.status_code == 200
    assert all(r["is_default"] for r in reset.json()["instruments"])


def test_bad_schedules_say_what_to_fix_and_store_nothing(client: TestClient, cast: Cast) -> None:
    gp = login(client, cast.gp)
    read = client.get(url(cast), headers=gp)
    headers = {**gp, "If-Match": read.headers["etag"]}
    cases = [
        ({"peg": {"every_days": 0}}, "instruments.peg.every_days", ""),
        ({"peg": {"every_days": 400}}, "instruments.peg.every_days", ""),
        ({"peg": {"every_day": 7}}, "instruments.peg.every_day", ""),
        ({"bdi": {"every_days": 7}}, "instruments.bdi", "unknown instrument 'bdi'"),
        ({"nrs": {"every_days": 1}}, "instruments.nrs", "scheduled every day by the diary"),
        ({"sleep": {"scheduled": True}}, "instruments.sleep", "would never fall due"),
    ]
    for instruments, field, words in cases:
        bad = client.put(url(cast), json={"instruments": instruments}, headers=headers)
        assert bad.status_code == 422, (instruments, bad.text)
        errors = bad.json()["errors"]
        assert any(e["field"] == field for e in errors), (field, errors)
        assert words in bad.text
    after = client.get(url(cast), headers=gp)
    assert after.headers["etag"] == read.headers["etag"]
    assert after.json() == read.json()


def test_the_clinicians_page_changes_the_schedule(client: TestClient, cast: Cast) -> None:
    gp = login(client, cast.gp)
    pid = cast.patient_a.patient_id
    record = client.get(f"/patients/{pid}", headers=gp)
    assert f'href="/patients/{pid}/questionnaire-schedule"' in record.text
    page = client.get(f"/patients/{pid}/questionnaire-schedule", headers=gp)
    assert page.status_code == 200
    assert "Questionnaire schedule for Ann Patient" in page.text
    codes = ["gad7", "peg", "pgic", "phq9", "redflags", "rmdq", "sleep", "startback"]
    form: dict[str, Any] = {
        "code": codes,
        "every_days": ["28", "14", "", "28", "", "28", "", ""],
        "scheduled": ["peg", "phq9", "rmdq", "pgic", "startback"],
        "at_baseline": ["peg", "phq9", "rmdq"],
        "at_reviews": ["phq9", "rmdq", "pgic"],
        "at_episode_start": ["startback"],
        "version": "0",
    }
    saved = client.post(
        f"/patients/{pid}/questionnaire-schedule", data=form, headers=gp, follow_redirects=False
    )
    assert saved.status_code == 303, saved.text
    shown = client.get(saved.headers["location"], headers=gp)
    assert "Schedule saved." in shown.text
    by_code = rows(client.get(url(cast), headers=gp).json())
    assert by_code["peg"]["every_days"] == 14 and by_code["gad7"]["scheduled"] is False
    assert [c for c, r in by_code.items() if not r["is_default"]] == ["gad7", "peg"]
    # the page that was open before the save is stale now: told, nothing overwritten
    stale = client.post(
        f"/patients/{pid}/questionnaire-schedule",
        data={**form, "every_days": [""] * 8},
        headers=gp,
    )
    assert stale.status_code == 409 and "changed by someone else" in stale.text
    bad = client.post(
        f"/patients/{pid}/questionnaire-schedule",
        data={**form, "version": "1", "every_days": ["28", "two", "", "28", "", "28", "", ""]},
        headers=gp,
    )
    assert bad.status_code == 422
    assert "PEG" in bad.text and "whole number from 1 to 365" in bad.text
    assert 'value="two"' in bad.text  # what was typed stays in the form
    restored = client.post(
        f"/patients/{pid}/questionnaire-schedule",
        data={**form, "version": "1", "action": "defaults"},
        headers=gp,
    )
    assert restored.status_code == 200 and "PainPath&#39;s defaults restored." in restored.text
    assert all(r["is_default"] for r in client.get(url(cast), headers=gp).json()["instruments"])
    patient = login(client, cast.patient_a)
    sent_home = client.get(
        f"/patients/{pid}/questionnaire-schedule", headers=patient, follow_redirects=False
    )
    assert sent_home.status_code == 303 and sent_home.headers["location"] == "/"
