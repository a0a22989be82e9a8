"""The storage rules every area relies on, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from painpath.auth.domain import Role
from painpath.diary.models import DiaryEntry
from painpath.medication.models import DoseEvent
from tests.factories import person


def test_times_keep_their_instant_on_both_engines(db: Session) -> None:
    patient = person(db, Role.PATIENT, "Tess Time")
    assert patient.patient_id
    at = datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=1)))
    event = DoseEvent(id=uuid.uuid4(), patient_id=patient.patient_id, status="taken", taken_at=at)
    db.add(event)
    db.flush()
    db.expire_all()
    stored = db.scalars(select(DoseEvent.taken_at).where(DoseEvent.id == event.id)).one()
    assert stored == at
    assert stored.tzinfo is not None
    assert stored.utcoffset() == timedelta(0)


def test_naive_times_are_refused(db: Session) -> None:
    patient = person(db, Role.PATIENT, "Nia Naive")
    assert patient.patient_id
    db.add(
        DoseEvent(
            id=uuid.uuid4(),
            patient_id=patient.patient_id,
            status="taken",
            taken_at=datetime(2026, 1, 1, 8, 0),  # noqa: DTZ001 (the point of the test)
        )
    )
    with pytest.raises(StatementError, match="naive datetime refused"):
        db.flush()


def test_one_diary_entry_per_patient_per_date(db: Session) -> None:
    patient = person(db, Role.PATIENT, "Dee Diary")
    assert patient.patient_id
    day = date(2026, 11, 1)
    db.add(DiaryEntry(id=uuid.uuid4(), patient_id=patient.patient_id, date=day, pain=5))
    db.flush()
    db.add(DiaryEntry(id=uuid.uuid4(), patient_id=patient.patient_id, date=day, pain=6))
    with pytest.raises(IntegrityError):
        db.flush()


def test_foreign_keys_are_enforced(db: Session) -> None:
    db.add(DiaryEntry(id=uuid.uuid4(), patient_id=uuid.uuid4(), date=date(2026, 1, 1), pain=3))
    with pytest.raises(IntegrityError):
        db.flush()


def test_durable_settings_are_on(db: Session) -> None:
    if db.get_bind().dialect.name == "sqlite":
        assert db.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.execute(text("PRAGMA synchronous")).scalar() == 2
        assert db.execute(text("PRAGMA foreign_keys")).scalar() == 1
    else:
        assert db.execute(text("SHOW fsync")).scalar() == "on"
        assert db.execute(text("SHOW synchronous_commit")).scalar() == "on"


def test_utc_now_is_aware() -> None:
    from painpath.db import utcnow

    assert utcnow().tzinfo is UTC
