"""Instrument definitions and schedules through the API."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from painpath.care.models import FollowUp
from tests.api.conftest import Cast, login


def test_the_instrument_list_names_every_instrument_with_its_licence(
    client: TestClient, cast: Cast
) -> None:
    headers = login(client, cast.patient_a)
    listed = client.get("/api/v1/instruments", headers=headers)
    assert listed.status_code == 200
    items = {i["code"]: i for i in listed.json()["items"]}
    assert set(items) == {
        "gad7",
        "nrs",
        "peg",
        "pgic",
        "phq9",
        "redflags",
        "rmdq",
        "sleep",
        "startback",
    }
    assert items["phq9"]["items"] == 9 and items["phq9"]["wording_restricted"] is False
    assert items["rmdq"]["items"] == 24 and items["rmdq"]["wording_restricted"] is True
    assert "Keele" in items["startback"]["licence"]


def test_a_definition_shows_wording_only_where_the_licence_allows(
    client: TestClient, cast: Cast
) -> None:
    headers = login(client, cast.patient_a)
    phq9 = client.get("/api/v1/instruments/phq9", headers=headers).json()
    assert phq9["items"][8]["text"].startswith("Thoughts that you would be better off dead")
    assert phq9["licence"]["note"].startswith("© Pfizer")
    startback = client.get("/api/v1/instruments/startback", headers=headers).json()
    assert all(item["text"] is None for item in startback["items"])
    assert all(item["wording_restricted"] is True for item in startback["items"])
    assert startback["items"][0]["label"] == "Back pain has spread down my leg(s)"
    missing = client.get("/api/v1/instruments/bdi", headers=headers)
    assert missing.status_code == 404


def test_instruments_need_a_signed_in_person(client: TestClient) -> None:
    assert client.get("/api/v1/instruments").status_code == 401
    assert client.get("/api/v1/instruments/phq9").status_code == 401


def _today() -> str:
    return datetime.now(UTC).astimezone(ZoneInfo("Europe/London")).date().isoformat()


def test_a_new_patient_has_the_baseline_questionnaires_due(client: TestClient, cast: Cast) -> None:
    headers = login(client, cast.patient_a)
    due_url = f"/api/v1/patients/{cast.patient_a.patient_id}/questionnaires-due"
    due = client.get(due_url, headers=headers)
    assert due.status_code == 200, due.text
    body = due.json()
    assert body["today"] == _today()
    codes = {i["code"]: i for i in body["items"]}
    assert set(codes) == {"peg", "rmdq", "phq9", "gad7"}
    assert codes["phq9"]["kind"] == "baseline"
    assert codes["phq9"]["reason"] == "To see where you are starting from"
    assert codes["phq9"]["name"] == "Patient Health Questionnaire-9 (PHQ-9)"
    # once done, it is no longer due
    responses = f"/api/v1/patients/{cast.patient_a.patient_id}/questionnaire-responses"
    body_phq = {"id": str(uuid.uuid4()), "instrument": "phq9", "answers": [0] * 9}
    assert client.post(responses, json=body_phq, headers=headers).status_code == 201
    after = {i["code"] for i in client.get(due_url, headers=headers).json()["items"]}
    assert after == {"peg", "rmdq", "gad7"}


def test_a_coming_review_makes_pgic_due_and_the_clinician_sees_completion(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    review_day = datetime.now(UTC).astimezone(ZoneInfo("Europe/London")).date()
    review_day += timedelta(days=3)
    with session_factory() as db:
        db.add(
            FollowUp(
                id=uuid.uuid4(),
                patient_id=cast.patient_a.patient_id,
                due=review_day,
                kind="12-week review",
            )
        )
        db.commit()
    gp = login(client, cast.gp)
    base = f"/api/v1/patients/{cast.patient_a.patient_id}"
    due = client.get(f"{base}/questionnaires-due", headers=gp).json()["items"]
    pgic = next(i for i in due if i["code"] == "pgic")
    assert pgic["kind"] == "review"
    assert pgic["review"] == review_day.isoformat()
    assert pgic["reason"].startswith("Before your review on ")
    rates = client.get(f"{base}/questionnaire-completion", headers=gp)
    assert rates.status_code == 200, rates.text
    body = rates.json()
    assert body["days"] == 84 and body["to"] == _today() and "from" in body
    assert set(body["instruments"]) == {"peg", "rmdq", "phq9", "gad7", "startback", "pgic"}
    # the patient joined today: nothing has been due long enough to count yet
    assert body["instruments"]["phq9"] == {
        "name": "Patient Health Questionnaire-9 (PHQ-9)",
        "due": 0,
        "completed": 0,
        "rate": None,
    }
    other = login(client, cast.other_gp)
    assert client.get(f"{base}/questionnaires-due", headers=other).status_code == 404
    assert client.get(f"{base}/questionnaire-completion", headers=other).status_code == 404
    bad = client.get(f"{base}/questionnaire-completion", params={"days": 0}, headers=gp)
    assert bad.status_code == 422
