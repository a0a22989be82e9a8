"""The service functions other areas call for schedules, on both databases:
``due_questionnaires`` and ``completion_rates`` from stored responses, the care plan,
the current episode and review follow-ups."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from painpath.auth.domain import Role
from painpath.care.models import CareEpisode, CarePlan, FollowUp
from painpath.questionnaires.models import QuestionnaireResponse
from painpath.questionnaires.service import completion_rates, due_questionnaires
from tests.factories import person

LONDON = ZoneInfo("Europe/London")


def today() -> date:
    return datetime.now(UTC).astimezone(LONDON).date()


def answered(db: Session, patient_id: uuid.UUID, code: str, on: date, hour: int = 12) -> None:
    db.add(
        QuestionnaireResponse(
            id=uuid.uuid4(),
            patient_id=patient_id,
            instrument=code,
            instrument_version="1.0.0",
            answers=[0],
            total=Decimal(0),
            band=None,
            subscales={},
            flags=[],
            completed_at=datetime.combine(on, time(hour), tzinfo=LONDON),
        )
    )


def new_patient(db: Session) -> uuid.UUID:
    who = person(db, Role.PATIENT, "Sched Patient")
    assert who.patient_id is not None
    return who.patient_id


def test_due_today_follows_the_default_schedule(db: Session) -> None:
    pid = new_patient(db)
    t = today()
    start = t - timedelta(days=30)
    for code in ("phq9", "gad7", "rmdq", "peg", "startback"):
        answered(db, pid, code, start)
    answered(db, pid, "peg", t - timedelta(days=3))
    db.add(
        CareEpisode(
            id=uuid.uuid4(),
            patient_id=pid,
            condition="sciatica",
            onset_date=t - timedelta(days=400),
        )
    )
    db.flush()
    due = due_questionnaires(db, pid, t)
    assert [(d["code"], d["kind"], d["due"]) for d in due] == [
        ("gad7", "periodic", start + timedelta(days=28)),
        ("phq9", "periodic", start + timedelta(days=28)),
        ("rmdq", "periodic", start + timedelta(days=28)),
    ]
    assert due[1]["name"] == "Patient Health Questionnaire-9 (PHQ-9)"
    assert due[1]["title"] == "Mood (PHQ-9)"
    assert due[1]["reason"] == "Every 4 weeks"


def test_a_new_episode_review_and_care_plan_change_what_is_due(db: Session) -> None:
    pid = new_patient(db)
    t = today()
    answered(db, pid, "startback", t - timedelta(days=60))
    for code in ("phq9", "gad7", "rmdq", "peg"):
        answered(db, pid, code, t - timedelta(days=2))
    db.add_all(
        [
            CareEpisode(
                id=uuid.uuid4(),
                patient_id=pid,
                condition="chronic-low-back-pain",
                onset_date=t - timedelta(days=500),
                status="closed",
            ),
            CareEpisode(
                id=uuid.uuid4(),
                patient_id=pid,
                condition="sciatica",
                onset_date=t - timedelta(days=10),
            ),
            FollowUp(id=uuid.uuid4(), patient_id=pid, due=t + timedelta(days=5), kind="Review"),
            FollowUp(
                id=uuid.uuid4(),
                patient_id=pid,
                due=t + timedelta(days=2),
                kind="medication review",
                status="cancelled",
            ),
            FollowUp(id=uuid.uuid4(), patient_id=pid, due=t + timedelta(days=1), kind="phone call"),
        ]
    )
    db.flush()
    due = {d["code"]: d for d in due_questionnaires(db, pid, t)}
    assert set(due) == {"startback", "pgic"}
    assert due["startback"]["kind"] == "episode-start"
    assert due["pgic"]["review"] == t + timedelta(days=5)
    db.add(
        CarePlan(
            id=uuid.uuid4(),
            patient_id=pid,
            settings={
                "questionnaires": {"pgic": False, "sleep": {"every_days": 7, "at_baseline": True}}
            },
        )
    )
    db.flush()
    assert {d["code"] for d in due_questionnaires(db, pid, t)} == {"startback", "sleep"}


def test_a_broken_care_plan_falls_back_to_the_defaults(db: Session) -> None:
    pid = new_patient(db)
    db.add(CarePlan(id=uuid.uuid4(), patient_id=pid, settings={"questionnaires": {"x": 1}}))
    db.flush()
    assert {d["code"] for d in due_questionnaires(db, pid, today())} == {
        "peg",
        "phq9",
        "gad7",
        "rmdq",
    }


def test_completion_rates_over_12_weeks(db: Session) -> None:
    pid = new_patient(db)
    t = today()
    first = t - timedelta(days=83)
    for weeks in (0, 4):  # done at baseline and at 4 weeks, missed at 8 weeks
        for code in ("phq9", "gad7"):
            answered(db, pid, code, first + timedelta(weeks=weeks))
    for week in range(12):
        if week not in (3, 4):
            answered(db, pid, "peg", first + timedelta(weeks=week))
    db.flush()
    rates = completion_rates(db, pid, t)
    assert rates["phq9"] == {
        "name": "Patient Health Questionnaire-9 (PHQ-9)",
        "due": 3,
        "completed": 2,
        "rate": 0.67,
    }
    assert (rates["peg"]["due"], rates["peg"]["completed"]) == (12, 10)
    assert rates["rmdq"]["completed"] == 0 and rates["rmdq"]["due"] == 3
    assert rates["pgic"] == {
        "name": "Patient Global Impression of Change (PGIC)",
        "due": 0,
        "completed": 0,
        "rate": None,
    }
    short = completion_rates(db, pid, t, days=28)
    assert (short["phq9"]["due"], short["phq9"]["completed"]) == (1, 0)


def test_times_count_on_the_patients_own_calendar(db: Session) -> None:
    pid = new_patient(db)
    t = today()
    # 00:30 local on day t-7 is still the evening before in UTC during summer time
    answered(db, pid, "peg", t - timedelta(days=7), hour=0)
    answered(db, pid, "peg", t - timedelta(days=14), hour=23)
    for code in ("phq9", "gad7", "rmdq"):
        answered(db, pid, code, t - timedelta(days=1))
    db.flush()
    due = due_questionnaires(db, pid, t)
    assert [(d["code"], d["due"]) for d in due] == [("peg", t)]
    assert due_questionnaires(db, pid, t - timedelta(days=1)) == []
