"""Queries for questionnaire responses and the facts their schedule depends on
(always for one patient)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from painpath.care.models import CareEpisode, CarePlan, FollowUp, Patient
from painpath.questionnaires.models import QuestionnaireResponse


def patient(db: Session, patient_id: uuid.UUID) -> Patient | None:
    return db.get(Patient, patient_id)


def response(db: Session, response_id: uuid.UUID) -> QuestionnaireResponse | None:
    return db.get(QuestionnaireResponse, response_id)


def patient_response(
    db: Session, patient_id: uuid.UUID, response_id: uuid.UUID
) -> QuestionnaireResponse | None:
    return db.scalars(
        select(QuestionnaireResponse).where(
            QuestionnaireResponse.id == response_id,
            QuestionnaireResponse.patient_id == patient_id,
        )
    ).one_or_none()


def responses(
    db: Session,
    patient_id: uuid.UUID,
    *,
    start: datetime | None,
    end: datetime | None,
    instrument: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> Sequence[QuestionnaireResponse]:
    """Responses completed in [start, end), oldest first, after the keyset ``after``."""
    query = select(QuestionnaireResponse).where(QuestionnaireResponse.patient_id == patient_id)
    if start is not None:
        query = query.where(QuestionnaireResponse.completed_at >= start)
    if end is not None:
        query = query.where(QuestionnaireResponse.completed_at < end)
    if instrument is not None:
        query = query.where(QuestionnaireResponse.instrument == instrument)
    if after is not None:
        at, rid = after
        query = query.where(
            (QuestionnaireResponse.completed_at > at)
            | ((QuestionnaireResponse.completed_at == at) & (QuestionnaireResponse.id > rid))
        )
    order = (QuestionnaireResponse.completed_at, QuestionnaireResponse.id)
    return db.scalars(query.order_by(*order).limit(limit)).all()


def recent_responses(
    db: Session, patient_id: uuid.UUID, *, limit: int
) -> list[QuestionnaireResponse]:
    """The patient's latest ``limit`` responses, oldest first."""
    rows = db.scalars(
        select(QuestionnaireResponse)
        .where(QuestionnaireResponse.patient_id == patient_id)
        .order_by(QuestionnaireResponse.completed_at.desc(), QuestionnaireResponse.id.desc())
        .limit(limit)
    ).all()
    return list(reversed(rows))


def previous_response(
    db: Session, patient_id: uuid.UUID, instrument: str, *, before: datetime
) -> QuestionnaireResponse | None:
    """The patient's last response to ``instrument`` completed before ``before``."""
    return db.scalars(
        select(QuestionnaireResponse)
        .where(
            QuestionnaireResponse.patient_id == patient_id,
            QuestionnaireResponse.instrument == instrument,
            QuestionnaireResponse.completed_at < before,
        )
        .order_by(QuestionnaireResponse.completed_at.desc(), QuestionnaireResponse.id.desc())
        .limit(1)
    ).first()


def completion_times(db: Session, patient_id: uuid.UUID) -> Sequence[tuple[str, datetime]]:
    """(instrument, completed_at) of every response of the patient."""
    rows = db.execute(
        select(QuestionnaireResponse.instrument, QuestionnaireResponse.completed_at).where(
            QuestionnaireResponse.patient_id == patient_id
        )
    ).all()
    return [(row[0], row[1]) for row in rows]


def first_response_at(db: Session, patient_id: uuid.UUID) -> datetime | None:
    value: datetime | None = db.scalar(
        select(func.min(QuestionnaireResponse.completed_at)).where(
            QuestionnaireResponse.patient_id == patient_id
        )
    )
    return value


def care_plan_settings(db: Session, patient_id: uuid.UUID) -> dict[str, Any] | None:
    plan = db.scalars(select(CarePlan).where(CarePlan.patient_id == patient_id)).one_or_none()
    return None if plan is None else dict(plan.settings or {})


def care_plan(db: Session, patient_id: uuid.UUID) -> CarePlan | None:
    return db.scalars(select(CarePlan).where(CarePlan.patient_id == patient_id)).one_or_none()


def claim_care_plan_version(db: Session, plan_id: uuid.UUID, expected: int) -> bool:
    """Compare-and-set on the care plan's version, so two changes at once cannot both win."""
    result = db.execute(
        update(CarePlan)
        .where(CarePlan.id == plan_id, CarePlan.version == expected)
        .values(version=expected + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def current_episode(db: Session, patient_id: uuid.UUID) -> CareEpisode | None:
    """The patient's current (active) care episode: the one that began last."""
    return db.scalars(
        select(CareEpisode)
        .where(CareEpisode.patient_id == patient_id, CareEpisode.status == "active")
        .order_by(CareEpisode.onset_date.desc(), CareEpisode.created_at.desc())
        .limit(1)
    ).first()


def review_dates(db: Session, patient_id: uuid.UUID, *, until: date) -> list[date]:
    """Dates of the patient's review follow-ups (any kind containing "review") up to
    ``until``, leaving out cancelled ones."""
    rows = db.scalars(
        select(FollowUp.due).where(
            FollowUp.patient_id == patient_id,
            func.lower(FollowUp.kind).contains("review"),
            func.lower(FollowUp.status).not_like("%cancel%"),
            FollowUp.due <= until,
        )
    ).all()
    return sorted(set(rows))
