"""Queries the "does it help?" analysis and the charts need (always for one patient).

Every query takes the patient's id and filters on it, so a caller can never read
another patient's rows by passing a foreign record id.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from painpath.care.models import OtherMedicine, Patient
from painpath.diary.models import DiaryEntry, TherapySession
from painpath.medication.models import DoseEvent, DoseStep, Prescription, TaperPlan
from painpath.questionnaires.models import QuestionnaireResponse


def patient(db: Session, patient_id: uuid.UUID) -> Patient | None:
    return db.get(Patient, patient_id)


def prescription(
    db: Session, patient_id: uuid.UUID, prescription_id: uuid.UUID
) -> Prescription | None:
    return db.scalars(
        select(Prescription).where(
            Prescription.id == prescription_id, Prescription.patient_id == patient_id
        )
    ).one_or_none()


def prescriptions(db: Session, patient_id: uuid.UUID) -> Sequence[Prescription]:
    return db.scalars(
        select(Prescription)
        .where(Prescription.patient_id == patient_id)
        .order_by(Prescription.created_at, Prescription.id)
    ).all()


def dose_steps(
    db: Session, patient_id: uuid.UUID, prescription_id: uuid.UUID
) -> Sequence[DoseStep]:
    return db.scalars(
        select(DoseStep)
        .join(Prescription, Prescription.id == DoseStep.prescription_id)
        .where(Prescription.patient_id == patient_id, DoseStep.prescription_id == prescription_id)
        .order_by(DoseStep.start, DoseStep.created_at)
    ).all()


def all_dose_steps(db: Session, patient_id: uuid.UUID) -> Sequence[tuple[DoseStep, str]]:
    """Every dose step of every prescription of the patient, with the medicine's name."""
    rows = db.execute(
        select(DoseStep, Prescription.medicine)
        .join(Prescription, Prescription.id == DoseStep.prescription_id)
        .where(Prescription.patient_id == patient_id)
        .order_by(DoseStep.start, DoseStep.created_at)
    ).all()
    return [(step, medicine) for step, medicine in rows]


def diary_pain(
    db: Session, patient_id: uuid.UUID, *, start: date | None = None, end: date | None = None
) -> Sequence[tuple[date, int]]:
    query = select(DiaryEntry.date, DiaryEntry.pain).where(DiaryEntry.patient_id == patient_id)
    if start is not None:
        query = query.where(DiaryEntry.date >= start)
    if end is not None:
        query = query.where(DiaryEntry.date <= end)
    return [(d, p) for d, p in db.execute(query.order_by(DiaryEntry.date)).all()]


def taken_doses(
    db: Session, patient_id: uuid.UUID, prescription_id: uuid.UUID, *, since: datetime
) -> Sequence[DoseEvent]:
    """Doses recorded as taken or late for the prescription (or for no prescription)."""
    return db.scalars(
        select(DoseEvent)
        .where(
            DoseEvent.patient_id == patient_id,
            or_(DoseEvent.prescription_id == prescription_id, DoseEvent.prescription_id.is_(None)),
            DoseEvent.status.in_(("taken", "late")),
            DoseEvent.taken_at >= since,
        )
        .order_by(DoseEvent.taken_at)
    ).all()


def therapy_sessions(
    db: Session, patient_id: uuid.UUID, *, end: date | None = None
) -> Sequence[TherapySession]:
    query = select(TherapySession).where(TherapySession.patient_id == patient_id)
    if end is not None:
        query = query.where(TherapySession.date <= end)
    return db.scalars(query.order_by(TherapySession.date, TherapySession.id)).all()


def pain_medicines(db: Session, patient_id: uuid.UUID) -> Sequence[OtherMedicine]:
    return db.scalars(
        select(OtherMedicine)
        .where(
            OtherMedicine.patient_id == patient_id,
            OtherMedicine.is_pain_medicine.is_(True),
            OtherMedicine.started_on.is_not(None),
        )
        .order_by(OtherMedicine.started_on)
    ).all()


def questionnaire_responses(
    db: Session, patient_id: uuid.UUID, instruments: Sequence[str]
) -> Sequence[QuestionnaireResponse]:
    return db.scalars(
        select(QuestionnaireResponse)
        .where(
            QuestionnaireResponse.patient_id == patient_id,
            QuestionnaireResponse.instrument.in_(list(instruments)),
        )
        .order_by(QuestionnaireResponse.completed_at, QuestionnaireResponse.id)
    ).all()


def taper_plans(db: Session, patient_id: uuid.UUID) -> Sequence[TaperPlan]:
    return db.scalars(
        select(TaperPlan)
        .where(TaperPlan.patient_id == patient_id)
        .order_by(TaperPlan.start, TaperPlan.id)
    ).all()
