"""Queries for alerts and for the data the alert rules read (always scoped to a patient,
or to a clinician's active care teams)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, and_, case, func, or_, select, update
from sqlalchemy.orm import Session

from painpath.alerts.domain import ACTIVE_STATUSES, URGENCY_RANK
from painpath.alerts.models import Alert
from painpath.auth.models import User
from painpath.care.models import CareTeamMember, FollowUp, Patient
from painpath.diary.models import DiaryEntry
from painpath.medication.models import (
    DoseEvent,
    DoseStep,
    Prescription,
    SideEffectReport,
    TaperPlan,
)
from painpath.questionnaires.models import QuestionnaireResponse

RANK = case(URGENCY_RANK, value=Alert.urgency, else_=len(URGENCY_RANK))


def by_cause(db: Session, patient_id: uuid.UUID, cause_key: str) -> Alert | None:
    return db.scalars(
        select(Alert).where(Alert.patient_id == patient_id, Alert.cause_key == cause_key)
    ).one_or_none()


def active_for_rule(db: Session, patient_id: uuid.UUID, rule: str) -> Alert | None:
    return db.scalars(
        select(Alert)
        .where(
            Alert.patient_id == patient_id,
            Alert.rule == rule,
            Alert.status.in_(ACTIVE_STATUSES),
        )
        .limit(1)
    ).first()


def alert(db: Session, alert_id: uuid.UUID) -> Alert | None:
    return db.get(Alert, alert_id)


def patient(db: Session, patient_id: uuid.UUID) -> Patient | None:
    return db.get(Patient, patient_id)


def in_active_care_team(db: Session, patient_id: uuid.UUID, clinician_id: uuid.UUID) -> bool:
    return (
        db.scalars(
            select(CareTeamMember.id).where(
                CareTeamMember.patient_id == patient_id,
                CareTeamMember.clinician_id == clinician_id,
                CareTeamMember.removed_at.is_(None),
            )
        ).first()
        is not None
    )


def caseload_alerts(
    db: Session,
    clinician_id: uuid.UUID,
    statuses: Sequence[str],
    *,
    after: tuple[int, datetime, uuid.UUID] | None,
    limit: int,
) -> Sequence[tuple[Alert, str]]:
    """Alerts of the patients in the clinician's active care teams: most urgent first,
    then the one waiting longest."""
    query = (
        select(Alert, Patient.name)
        .join(Patient, Patient.id == Alert.patient_id)
        .join(
            CareTeamMember,
            and_(
                CareTeamMember.patient_id == Alert.patient_id,
                CareTeamMember.clinician_id == clinician_id,
                CareTeamMember.removed_at.is_(None),
            ),
        )
        .where(Alert.status.in_(statuses))
    )
    if after is not None:
        rank, created, aid = after
        query = query.where(
            or_(
                rank < RANK,
                and_(RANK.in_((rank,)), Alert.created_at > created),
                and_(RANK.in_((rank,)), Alert.created_at == created, Alert.id > aid),
            )
        )
    rows = db.execute(query.order_by(RANK, Alert.created_at, Alert.id).limit(limit)).all()
    return [(a, name) for a, name in rows]


def patient_alerts(
    db: Session,
    patient_id: uuid.UUID,
    statuses: Sequence[str],
    *,
    after: tuple[int, datetime, uuid.UUID] | None,
    limit: int,
) -> Sequence[Alert]:
    query = select(Alert).where(Alert.patient_id == patient_id, Alert.status.in_(statuses))
    if after is not None:
        rank, created, aid = after
        query = query.where(
            or_(
                rank < RANK,
                and_(RANK.in_((rank,)), Alert.created_at > created),
                and_(RANK.in_((rank,)), Alert.created_at == created, Alert.id > aid),
            )
        )
    return db.scalars(query.order_by(RANK, Alert.created_at, Alert.id).limit(limit)).all()


def user_names(db: Session, user_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not user_ids:
        return {}
    rows = db.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all()
    return {uid: name for uid, name in rows}


# ------------------------------------------------------------- what the rules read


def responses_since(
    db: Session, patient_id: uuid.UUID, since: datetime
) -> Sequence[QuestionnaireResponse]:
    return db.scalars(
        select(QuestionnaireResponse).where(
            QuestionnaireResponse.patient_id == patient_id,
            QuestionnaireResponse.completed_at >= since,
        )
    ).all()


def side_effects_since(
    db: Session, patient_id: uuid.UUID, since: date
) -> Sequence[SideEffectReport]:
    return db.scalars(
        select(SideEffectReport).where(
            SideEffectReport.patient_id == patient_id, SideEffectReport.started_on >= since
        )
    ).all()


def taper_plans(db: Session, patient_id: uuid.UUID) -> Sequence[TaperPlan]:
    return db.scalars(
        select(TaperPlan).where(TaperPlan.patient_id == patient_id, TaperPlan.status != "cancelled")
    ).all()


def dose_events_since(db: Session, patient_id: uuid.UUID, since: datetime) -> Sequence[DoseEvent]:
    return db.scalars(
        select(DoseEvent).where(DoseEvent.patient_id == patient_id, DoseEvent.taken_at >= since)
    ).all()


def current_prescriptions(db: Session, patient_id: uuid.UUID) -> Sequence[Prescription]:
    return db.scalars(
        select(Prescription).where(
            Prescription.patient_id == patient_id,
            Prescription.status.in_(("active", "tapering")),
        )
    ).all()


def dose_steps(db: Session, prescription_ids: Sequence[uuid.UUID]) -> Sequence[DoseStep]:
    if not prescription_ids:
        return []
    return db.scalars(
        select(DoseStep)
        .where(DoseStep.prescription_id.in_(prescription_ids))
        .order_by(DoseStep.start)
    ).all()


def diary_points(
    db: Session, patient_id: uuid.UUID, first: date, last: date
) -> Sequence[tuple[date, int]]:
    rows = db.execute(
        select(DiaryEntry.date, DiaryEntry.pain).where(
            DiaryEntry.patient_id == patient_id,
            DiaryEntry.date >= first,
            DiaryEntry.date <= last,
        )
    ).all()
    return [(d, p) for d, p in rows]


def follow_ups_scheduled(db: Session, patient_id: uuid.UUID) -> Sequence[FollowUp]:
    return db.scalars(
        select(FollowUp).where(FollowUp.patient_id == patient_id, FollowUp.status == "scheduled")
    ).all()


# --------------------------------------------------------- scheduled, all patients


def missed_dose_events_since(
    db: Session, since: datetime
) -> Sequence[tuple[uuid.UUID, str, DoseEvent]]:
    """Dose events since ``since`` of patients with at least one missed dose then."""
    with_missed = (
        select(DoseEvent.patient_id)
        .where(DoseEvent.taken_at >= since, DoseEvent.status == "missed")
        .distinct()
        .scalar_subquery()
    )
    rows = db.execute(
        select(Patient.id, Patient.timezone, DoseEvent)
        .join(DoseEvent, DoseEvent.patient_id == Patient.id)
        .where(DoseEvent.taken_at >= since, Patient.id.in_(with_missed))
    ).all()
    return [(pid, tz, e) for pid, tz, e in rows]


def follow_ups_due_before(db: Session, before: date) -> Sequence[tuple[str, FollowUp]]:
    """Scheduled follow-ups due before ``before``, with the patient's time zone."""
    rows = db.execute(
        select(Patient.timezone, FollowUp)
        .join(FollowUp, FollowUp.patient_id == Patient.id)
        .where(FollowUp.status == "scheduled", FollowUp.due < before)
    ).all()
    return [(tz, f) for tz, f in rows]


def for_rule(db: Session, patient_id: uuid.UUID, rule: str) -> Sequence[Alert]:
    return db.scalars(select(Alert).where(Alert.patient_id == patient_id, Alert.rule == rule)).all()


def claim_alert_version(db: Session, alert_id: uuid.UUID, expected: int) -> bool:
    """Move the alert from ``expected`` to the next version; False if it moved."""
    result = db.execute(
        update(Alert)
        .where(Alert.id == alert_id, Alert.version == expected)
        .values(version=expected + 1)
    )
    return cast(CursorResult[Any], result).rowcount == 1


def patients_with_active_courses_started_between(
    db: Session, first: date, last: date
) -> Sequence[Patient]:
    """Patients with an active course whose first dose step falls between the dates (one
    query for all of them)."""
    started = func.min(DoseStep.start)
    courses = (
        select(Prescription.patient_id)
        .join(DoseStep, DoseStep.prescription_id == Prescription.id)
        .where(Prescription.status == "active")
        .group_by(Prescription.id, Prescription.patient_id)
        .having(started >= first, started <= last)
    )
    return db.scalars(select(Patient).where(Patient.id.in_(courses)).order_by(Patient.id)).all()
