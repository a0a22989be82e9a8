""" "Does it help?" for many courses at a time (the caseload's outcomes) gives exactly
what the one-course result gives, on both databases, without a query per patient."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from painpath.care.models import OtherMedicine, Patient
from painpath.demo.service import load_demo
from painpath.medication.models import DoseEvent, Prescription
from painpath.response.service import BATCH_PATIENTS, course_result, course_results
from tests.conftest import Database
from tests.integration.test_query_counts import counting

TODAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)  # already the 26th east of London


def _courses(db: Session) -> list[tuple[uuid.UUID, uuid.UUID]]:
    rows = db.execute(
        select(Prescription.patient_id, Prescription.id).order_by(Prescription.created_at)
    ).all()
    return [(pid, rx) for pid, rx in rows]


def _demo_with_corners(db: Session) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """The demo population, plus what it lacks: a course with no dose plan, another pain
    medicine, a dose for no particular prescription without a scheduled date, and a
    patient in another time zone."""
    load_demo(db, seed=7, today=TODAY)
    courses = _courses(db)
    first, second = courses[0][0], courses[1][0]
    prescriber = db.scalars(select(Prescription.prescriber_id)).first()
    assert prescriber is not None
    db.add(
        Prescription(
            id=uuid.uuid4(),
            patient_id=first,
            prescriber_id=prescriber,
            medicine="duloxetine",
            dose_times=["08:00"],
        )
    )
    db.add(
        OtherMedicine(
            id=uuid.uuid4(),
            patient_id=first,
            name="naproxen",
            started_on=TODAY - timedelta(days=40),
            is_pain_medicine=True,
        )
    )
    for days in range(1, 6):
        db.add(
            DoseEvent(
                id=uuid.uuid4(),
                patient_id=second,
                prescription_id=None,
                status="taken",
                taken_at=datetime.combine(TODAY - timedelta(days=days), time(23, 30), tzinfo=UTC),
            )
        )
    patient = db.get(Patient, second)
    assert patient is not None
    patient.timezone = "Asia/Tokyo"
    db.flush()
    return _courses(db)


def test_the_batch_gives_what_each_course_gives(db: Session) -> None:
    courses = _demo_with_corners(db)
    assert len(courses) >= 10
    expected = {(pid, rx): course_result(db, pid, rx, TODAY) for pid, rx in courses}
    assert any(r["course"]["start"] is None for r in expected.values())  # no dose plan
    assert len({r["category"] for r in expected.values()}) >= 3
    assert course_results(db, courses, today=TODAY) == expected


def test_each_patient_s_today_is_their_own_local_date(db: Session) -> None:
    courses = _demo_with_corners(db)
    expected = {}
    for pid, rx in courses:
        patient = db.get(Patient, pid)
        assert patient is not None
        local_today = NOW.astimezone(ZoneInfo(patient.timezone)).date()
        expected[(pid, rx)] = course_result(db, pid, rx, local_today)
    results = course_results(db, courses, now=NOW)
    assert results == expected
    assert {r["today"] for r in results.values()} == {"2026-11-25", "2026-11-26"}


def test_a_course_that_is_not_the_patient_s_is_left_out(db: Session) -> None:
    load_demo(db, seed=7, today=TODAY, patients=2)
    (a, rx_a), (b, rx_b), *_ = _courses(db)
    assert a != b
    mixed = [(a, rx_b), (a, uuid.uuid4()), (uuid.uuid4(), rx_a), (b, rx_b)]
    results = course_results(db, mixed, today=TODAY)
    assert list(results) == [(b, rx_b)]
    with pytest.raises(ValueError):
        course_results(db, [(b, rx_b)])
    assert course_results(db, [], today=TODAY) == {}


def test_the_batch_does_not_query_per_patient(db: Session, migrated_db: Database) -> None:
    courses = _demo_with_corners(db)
    with counting(migrated_db) as few:
        course_results(db, courses[:2], today=TODAY)
    with counting(migrated_db) as many:
        course_results(db, courses, today=TODAY)
    assert len(many) == len(few) <= 10, many
    # more courses than one chunk: the same statements once per chunk
    setup = 1 if migrated_db.backend == "postgresql" else 0  # SET LOCAL, once
    repeated = courses * (BATCH_PATIENTS // len(courses) + 1)
    assert BATCH_PATIENTS < len(repeated) <= 2 * BATCH_PATIENTS
    with counting(migrated_db) as chunks:
        course_results(db, repeated, today=TODAY)
    assert len(chunks) == setup + 2 * (len(few) - setup), chunks
