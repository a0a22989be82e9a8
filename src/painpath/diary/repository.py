"""Queries for diary entries and therapy sessions (always for one patient)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from painpath.diary.models import DiaryEntry, TherapySession


def diary_entry(db: Session, entry_id: uuid.UUID) -> DiaryEntry | None:
    return db.get(DiaryEntry, entry_id)


def diary_entry_on(db: Session, patient_id: uuid.UUID, day: date) -> DiaryEntry | None:
    return db.scalars(
        select(DiaryEntry).where(DiaryEntry.patient_id == patient_id, DiaryEntry.date == day)
    ).one_or_none()


def diary_entries(
    db: Session,
    patient_id: uuid.UUID,
    *,
    start: date | None,
    end: date | None,
    after: date | None,
    limit: int,
) -> Sequence[DiaryEntry]:
    query = select(DiaryEntry).where(DiaryEntry.patient_id == patient_id)
    if start:
        query = query.where(DiaryEntry.date >= start)
    if end:
        query = query.where(DiaryEntry.date <= end)
    if after:
        query = query.where(DiaryEntry.date > after)
    return db.scalars(query.order_by(DiaryEntry.date).limit(limit)).all()


def therapy_session(db: Session, session_id: uuid.UUID) -> TherapySession | None:
    return db.get(TherapySession, session_id)


def therapy_sessions(
    db: Session,
    patient_id: uuid.UUID,
    *,
    start: date | None,
    end: date | None,
    after: tuple[date, uuid.UUID] | None,
    limit: int,
) -> Sequence[TherapySession]:
    query = select(TherapySession).where(TherapySession.patient_id == patient_id)
    if start:
        query = query.where(TherapySession.date >= start)
    if end:
        query = query.where(TherapySession.date <= end)
    if after:
        day, sid = after
        query = query.where(
            (TherapySession.date > day) | ((TherapySession.date == day) & (TherapySession.id > sid))
        )
    return db.scalars(query.order_by(TherapySession.date, TherapySession.id).limit(limit)).all()
