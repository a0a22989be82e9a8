"""No query per patient, per row or per record: the caseload page, the patient list API
and the Today page run the same number of SQL statements however much there is to show
(counted through the real application on both databases)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from painpath.alerts.service import raise_alert
from painpath.app import create_app
from painpath.auth.domain import Role
from painpath.care.models import CareTeamMember, FollowUp, Notification, Patient
from painpath.config import Settings
from painpath.diary.models import DiaryEntry
from painpath.medication.models import DoseEvent, DoseStep, Prescription
from painpath.questionnaires.models import QuestionnaireResponse
from tests.conftest import Database
from tests.factories import PASSWORD, Person, person


@pytest.fixture()
def app_client(
    migrated_db: Database, session_factory: sessionmaker[Session]
) -> Iterator[TestClient]:
    settings = Settings(database_url=migrated_db.url)
    app = create_app(settings, engine=migrated_db.engine, session_factory=session_factory)
    with TestClient(app) as c:
        yield c


@contextmanager
def counting(database: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statement = str(args[2])
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            statements.append(statement)  # the test's own transaction is not the page's

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(database.engine, "before_cursor_execute", count)


def sign_in(client: TestClient, who: Person) -> dict[str, str]:
    body = {"email": who.email, "password": PASSWORD}
    code = who.totp()
    if code:
        body["totp"] = code
    response = client.post("/api/v1/auth/login", json=body)
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _course(db: Session, patient_id: uuid.UUID, prescriber: uuid.UUID, days: int) -> uuid.UUID:
    """A duloxetine prescription with its titration, started ``days`` + 14 days ago."""
    rx = uuid.uuid4()
    db.add(
        Prescription(
            id=rx,
            patient_id=patient_id,
            prescriber_id=prescriber,
            medicine="duloxetine",
            dose_times=["08:00"],
        )
    )
    db.flush()
    start = datetime.now(UTC).date() - timedelta(days=days + 14)
    db.add(DoseStep(prescription_id=rx, start=start, daily_dose_mg=Decimal(30)))
    db.add(DoseStep(prescription_id=rx, start=start + timedelta(days=7), daily_dose_mg=60))
    return rx


def _records(db: Session, patient_id: uuid.UUID, rx: uuid.UUID, first: int, last: int) -> None:
    """Diary and doses for the days ``first`` … ``last`` before today, a questionnaire
    every week, a follow-up and an alert."""
    now = datetime.now(UTC)
    today = now.date()
    for back in range(first, last + 1):
        db.add(
            DiaryEntry(
                id=uuid.uuid4(),
                patient_id=patient_id,
                date=today - timedelta(days=back),
                pain=4 + back % 3,
            )
        )
        db.add(
            DoseEvent(
                id=uuid.uuid4(),
                patient_id=patient_id,
                prescription_id=rx,
                status="taken" if back % 9 else "missed",
                taken_at=now - timedelta(days=back),
                scheduled_for=today - timedelta(days=back),
            )
        )
        if back % 7 == 0:
            db.add(
                QuestionnaireResponse(
                    id=uuid.uuid4(),
                    patient_id=patient_id,
                    instrument="peg",
                    instrument_version="1",
                    answers=[5, 5, 5],
                    total=5,
                    completed_at=now - timedelta(days=back),
                )
            )
    db.add(FollowUp(id=uuid.uuid4(), patient_id=patient_id, due=today, kind="4-week review"))
    raise_alert(
        db,
        patient_id=patient_id,
        rule="missed-doses",
        cause_key=f"missed:{patient_id}:{first}",
        urgency="routine",
        summary="Doses missed.",
        source="test",
        now=now,
    )


def add_patients(db: Session, clinician: Person, first: int, count: int) -> None:
    assert clinician.clinician_id is not None
    for i in range(first, first + count):
        pid = uuid.uuid4()
        db.add(Patient(id=pid, name=f"Patient {i:03d}", date_of_birth=date(1970, 1, 1)))
        db.flush()
        db.add(CareTeamMember(patient_id=pid, clinician_id=clinician.clinician_id, role="gp"))
        days = 10 + i % 20
        rx = _course(db, pid, clinician.clinician_id, days)
        _records(db, pid, rx, 1, days)
    db.commit()


def statements_for(
    client: TestClient, database: Database, url: str, headers: dict[str, str]
) -> tuple[int, str]:
    client.get(url, headers=headers)  # first use: nothing lazily loaded counts
    with counting(database) as statements:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return len(statements), response.text


def test_the_caseload_page_and_the_patient_list_do_not_query_per_patient(
    app_client: TestClient, migrated_db: Database, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as db:
        gp = person(db, Role.CLINICIAN, "Dr Counted")
        add_patients(db, gp, 0, 3)
    headers = sign_in(app_client, gp)
    page_few, html = statements_for(app_client, migrated_db, "/caseload", headers)
    assert "Patient 002" in html
    api_few, body = statements_for(app_client, migrated_db, "/api/v1/patients", headers)
    assert "Patient 002" in body

    with session_factory() as db:
        add_patients(db, gp, 3, 27)
    page_many, html = statements_for(app_client, migrated_db, "/caseload", headers)
    assert "Patient 029" in html and "Patient 000" in html
    api_many, body = statements_for(app_client, migrated_db, "/api/v1/patients", headers)
    assert "Patient 029" in body

    assert page_many == page_few, "the caseload page queries once per patient"
    assert api_many == api_few, "the patient list queries once per patient"
    # sign-in checks, the page's own queries and the audit event
    assert page_few <= 20 and api_few <= 10


def _today_patient(
    session_factory: sessionmaker[Session],
) -> tuple[Person, Person, uuid.UUID]:
    with session_factory() as db:
        gp = person(db, Role.CLINICIAN, "Dr Today")
        patient = person(db, Role.PATIENT, "Tess Today")
        assert patient.patient_id and gp.clinician_id
        db.add(
            CareTeamMember(patient_id=patient.patient_id, clinician_id=gp.clinician_id, role="gp")
        )
        rx = _course(db, patient.patient_id, gp.clinician_id, 90)
        _records(db, patient.patient_id, rx, 1, 3)
        db.commit()
    return gp, patient, rx


def test_the_today_page_does_not_query_per_record(
    app_client: TestClient, migrated_db: Database, session_factory: sessionmaker[Session]
) -> None:
    _gp, patient, rx = _today_patient(session_factory)
    assert patient.patient_id
    headers = sign_in(app_client, patient)
    few, html = statements_for(app_client, migrated_db, "/today", headers)
    assert "Today" in html

    with session_factory() as db:
        # three months more of diary, doses and questionnaires, and advice waiting
        _records(db, patient.patient_id, rx, 4, 90)
        for n in range(4):
            db.add(
                Notification(
                    user_id=patient.user_id,
                    patient_id=patient.patient_id,
                    kind="advice",
                    title=f"Advice {n}",
                    body="Take your dose with food.",
                )
            )
        db.commit()
    many, html = statements_for(app_client, migrated_db, "/today", headers)
    assert "Advice 3" in html
    assert many == few, "the Today page queries once per record"


def test_the_today_page_does_not_query_per_course(
    app_client: TestClient, migrated_db: Database, session_factory: sessionmaker[Session]
) -> None:
    gp, patient, _rx = _today_patient(session_factory)
    assert patient.patient_id and gp.clinician_id
    headers = sign_in(app_client, patient)
    one_course, _ = statements_for(app_client, migrated_db, "/today", headers)
    with session_factory() as db:
        _course(db, patient.patient_id, gp.clinician_id, 30)  # a second medicine
        db.commit()
    two_courses, _ = statements_for(app_client, migrated_db, "/today", headers)
    assert two_courses == one_course, "the Today page queries once per course"


@pytest.mark.parametrize("role", [Role.PATIENT, Role.CLINICIAN])
def test_a_signed_in_request_finds_its_actor_in_one_statement(
    app_client: TestClient,
    migrated_db: Database,
    session_factory: sessionmaker[Session],
    role: Role,
) -> None:
    """Every request with a session starts by finding the session, its account and the
    account's patient or clinician: one joined statement, not three."""
    from painpath.auth import service
    from painpath.auth.service import hash_token

    with session_factory() as db:
        who = person(db, role, "Counted")
        db.commit()
    token = sign_in(app_client, who)["Authorization"].removeprefix("Bearer ")
    with session_factory() as db, counting(migrated_db) as statements:
        actor = service.authenticate(db, Settings(), token, datetime.now(UTC))
    assert actor is not None and actor.role is role
    assert (actor.patient_id or actor.clinician_id) is not None
    assert len(statements) == 1, statements
    assert hash_token(token) not in str(statements)  # bound as a parameter
