"""Queries for prescriptions, dose steps, dose events, side-effect reports, taper plans,
dose-change requests and other medicines (always for one patient).

Changes to records edited by several people (prescriptions, taper plans, dose-change
decisions) go through a conditional UPDATE on the version (or status) read before: of
two writers racing on the same version exactly one succeeds, the other is told so.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from painpath.auth.models import User
from painpath.care.models import (
    BloodPressureReading,
    CareEpisode,
    Notification,
    OtherMedicine,
    Patient,
)
from painpath.medication.models import (
    DoseChangeRequest,
    DoseEvent,
    DoseStep,
    Prescription,
    SideEffectReport,
    TaperPlan,
    TaperPlanRevision,
)

Keyset = tuple[datetime, uuid.UUID]
LIVE_STATUSES = ("active", "tapering")


def patient(db: Session, patient_id: uuid.UUID) -> Patient | None:
    return db.get(Patient, patient_id)


def active_episode(db: Session, patient_id: uuid.UUID) -> CareEpisode | None:
    return db.scalars(
        select(CareEpisode)
        .where(CareEpisode.patient_id == patient_id, CareEpisode.status == "active")
        .order_by(CareEpisode.created_at.desc(), CareEpisode.id)
        .limit(1)
    ).first()


def user_names(db: Session, user_ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    rows = db.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()
    return {uid: name for uid, name in rows}


def _after(model: Any, after: Keyset | None) -> Any:
    if after is None:
        return None
    when, rid = after
    return (model.created_at > when) | ((model.created_at == when) & (model.id > rid))


def _changed(result: Any) -> bool:
    return cast(CursorResult[Any], result).rowcount == 1


# ------------------------------------------------------------------ prescriptions


def prescription(db: Session, prescription_id: uuid.UUID) -> Prescription | None:
    return db.get(Prescription, prescription_id)


def prescriptions(
    db: Session, patient_id: uuid.UUID, *, after: Keyset | None, limit: int
) -> Sequence[Prescription]:
    query = select(Prescription).where(Prescription.patient_id == patient_id)
    condition = _after(Prescription, after)
    if condition is not None:
        query = query.where(condition)
    return db.scalars(query.order_by(Prescription.created_at, Prescription.id).limit(limit)).all()


def live_prescriptions(db: Session, patient_id: uuid.UUID) -> Sequence[Prescription]:
    """Prescriptions being taken or tapered (not stopped)."""
    return db.scalars(
        select(Prescription)
        .where(Prescription.patient_id == patient_id, Prescription.status.in_(LIVE_STATUSES))
        .order_by(Prescription.created_at, Prescription.id)
    ).all()


def all_prescriptions(db: Session, patient_id: uuid.UUID) -> Sequence[Prescription]:
    return db.scalars(
        select(Prescription)
        .where(Prescription.patient_id == patient_id)
        .order_by(Prescription.created_at, Prescription.id)
    ).all()


def dose_steps(
    db: Session, prescription_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[DoseStep]]:
    ids = list(prescription_ids)
    out: dict[uuid.UUID, list[DoseStep]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = db.scalars(
        select(DoseStep)
        .where(DoseStep.prescription_id.in_(ids))
        .order_by(DoseStep.created_at, DoseStep.start, DoseStep.id)
    ).all()
    for row in rows:
        out[row.prescription_id].append(row)
    return out


def claim_prescription_version(
    db: Session, prescription_id: uuid.UUID, expected: int, now: datetime
) -> bool:
    """Move the prescription from ``expected`` to the next version; False if it moved."""
    result = db.execute(
        update(Prescription)
        .where(Prescription.id == prescription_id, Prescription.version == expected)
        .values(version=expected + 1, updated_at=now)
    )
    return _changed(result)


# ------------------------------------------------------------------- dose events


def dose_event(db: Session, event_id: uuid.UUID) -> DoseEvent | None:
    return db.get(DoseEvent, event_id)


def dose_events(
    db: Session,
    patient_id: uuid.UUID,
    *,
    start: datetime | None,
    end: datetime | None,
    after: Keyset | None,
    limit: int,
) -> Sequence[DoseEvent]:
    query = select(DoseEvent).where(DoseEvent.patient_id == patient_id)
    if start:
        query = query.where(DoseEvent.taken_at >= start)
    if end:
        query = query.where(DoseEvent.taken_at < end)
    if after:
        when, rid = after
        query = query.where(
            (DoseEvent.taken_at > when) | ((DoseEvent.taken_at == when) & (DoseEvent.id > rid))
        )
    return db.scalars(query.order_by(DoseEvent.taken_at, DoseEvent.id).limit(limit)).all()


def dose_events_between(
    db: Session, patient_id: uuid.UUID, start: datetime, end: datetime
) -> Sequence[DoseEvent]:
    return db.scalars(
        select(DoseEvent)
        .where(
            DoseEvent.patient_id == patient_id,
            DoseEvent.taken_at >= start,
            DoseEvent.taken_at < end,
        )
        .order_by(DoseEvent.taken_at, DoseEvent.id)
    ).all()


# ------------------------------------------------------------ side-effect reports


def side_effect_report(db: Session, report_id: uuid.UUID) -> SideEffectReport | None:
    return db.get(SideEffectReport, report_id)


def side_effect_reports(
    db: Session,
    patient_id: uuid.UUID,
    *,
    start: date | None,
    end: date | None,
    after: Keyset | None,
    limit: int,
) -> Sequence[SideEffectReport]:
    query = select(SideEffectReport).where(SideEffectReport.patient_id == patient_id)
    if start:
        query = query.where(SideEffectReport.started_on >= start)
    if end:
        query = query.where(SideEffectReport.started_on <= end)
    condition = _after(SideEffectReport, after)
    if condition is not None:
        query = query.where(condition)
    return db.scalars(
        query.order_by(SideEffectReport.created_at, SideEffectReport.id).limit(limit)
    ).all()


def medicines_of(db: Session, prescription_ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    ids = {i for i in prescription_ids if i is not None}
    if not ids:
        return {}
    rows = db.execute(
        select(Prescription.id, Prescription.medicine).where(Prescription.id.in_(ids))
    ).all()
    return {pid: medicine for pid, medicine in rows}


# ------------------------------------------------------------------ taper plans


def taper_plan(db: Session, plan_id: uuid.UUID) -> TaperPlan | None:
    return db.get(TaperPlan, plan_id)


def taper_plans(
    db: Session, patient_id: uuid.UUID, *, after: Keyset | None, limit: int
) -> Sequence[TaperPlan]:
    query = select(TaperPlan).where(TaperPlan.patient_id == patient_id)
    condition = _after(TaperPlan, after)
    if condition is not None:
        query = query.where(condition)
    return db.scalars(query.order_by(TaperPlan.created_at, TaperPlan.id).limit(limit)).all()


def active_taper_plan(db: Session, prescription_id: uuid.UUID) -> TaperPlan | None:
    return db.scalars(
        select(TaperPlan)
        .where(TaperPlan.prescription_id == prescription_id, TaperPlan.status == "active")
        .order_by(TaperPlan.created_at.desc(), TaperPlan.id)
        .limit(1)
    ).first()


def active_taper_plans(
    db: Session, prescription_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, TaperPlan]:
    """The active taper plan of each prescription that has one, in one query (what
    :func:`active_taper_plan` gives for one, without a query per prescription)."""
    if not prescription_ids:
        return {}
    plans = db.scalars(
        select(TaperPlan)
        .where(TaperPlan.prescription_id.in_(prescription_ids), TaperPlan.status == "active")
        .order_by(TaperPlan.created_at.desc(), TaperPlan.id)
    ).all()
    out: dict[uuid.UUID, TaperPlan] = {}
    for plan in plans:
        out.setdefault(plan.prescription_id, plan)  # the newest, as active_taper_plan
    return out


def taper_revisions(db: Session, plan_id: uuid.UUID) -> Sequence[TaperPlanRevision]:
    return db.scalars(
        select(TaperPlanRevision)
        .where(TaperPlanRevision.taper_plan_id == plan_id)
        .order_by(TaperPlanRevision.version, TaperPlanRevision.changed_at)
    ).all()


def claim_taper_version(db: Session, plan_id: uuid.UUID, expected: int, now: datetime) -> bool:
    """Move the plan from ``expected`` to the next version; False if someone else did."""
    result = db.execute(
        update(TaperPlan)
        .where(TaperPlan.id == plan_id, TaperPlan.version == expected)
        .values(version=expected + 1, updated_at=now)
    )
    return _changed(result)


# ---------------------------------------------------------- dose-change requests


def dose_change_request(db: Session, request_id: uuid.UUID) -> DoseChangeRequest | None:
    return db.get(DoseChangeRequest, request_id)


def dose_change_requests(
    db: Session,
    patient_id: uuid.UUID,
    *,
    status: str | None,
    after: Keyset | None,
    limit: int,
) -> Sequence[DoseChangeRequest]:
    query = select(DoseChangeRequest).where(DoseChangeRequest.patient_id == patient_id)
    if status:
        query = query.where(DoseChangeRequest.status == status)
    condition = _after(DoseChangeRequest, after)
    if condition is not None:
        query = query.where(condition)
    return db.scalars(
        query.order_by(DoseChangeRequest.created_at, DoseChangeRequest.id).limit(limit)
    ).all()


def decide_request(
    db: Session,
    request_id: uuid.UUID,
    *,
    status: str,
    decided_by: uuid.UUID,
    decided_at: datetime,
    note: str,
) -> bool:
    """Record a decision on a pending request; False if it was decided meanwhile."""
    result = db.execute(
        update(DoseChangeRequest)
        .where(DoseChangeRequest.id == request_id, DoseChangeRequest.status == "pending")
        .values(status=status, decided_by=decided_by, decided_at=decided_at, decision_note=note)
    )
    return _changed(result)


def notifications(
    db: Session, user_id: uuid.UUID, patient_id: uuid.UUID, kinds: Sequence[str], limit: int
) -> Sequence[Notification]:
    return db.scalars(
        select(Notification)
        .where(
            Notification.user_id == user_id,
            Notification.patient_id == patient_id,
            Notification.kind.in_(kinds),
        )
        .order_by(Notification.created_at.desc(), Notification.id)
        .limit(limit)
    ).all()


# ---------------------------------------------------------------- other medicines


def other_medicine(db: Session, medicine_id: uuid.UUID) -> OtherMedicine | None:
    return db.get(OtherMedicine, medicine_id)


def other_medicines(
    db: Session, patient_id: uuid.UUID, *, after: Keyset | None, limit: int
) -> Sequence[OtherMedicine]:
    query = select(OtherMedicine).where(OtherMedicine.patient_id == patient_id)
    condition = _after(OtherMedicine, after)
    if condition is not None:
        query = query.where(condition)
    return db.scalars(query.order_by(OtherMedicine.created_at, OtherMedicine.id).limit(limit)).all()


def current_other_medicines(
    db: Session, patient_id: uuid.UUID, on: date
) -> Sequence[OtherMedicine]:
    """Other medicines taken on ``on`` (not yet stopped)."""
    return db.scalars(
        select(OtherMedicine)
        .where(
            OtherMedicine.patient_id == patient_id,
            (OtherMedicine.stopped_on.is_(None)) | (OtherMedicine.stopped_on > on),
        )
        .order_by(OtherMedicine.created_at, OtherMedicine.id)
    ).all()


def blood_pressure(db: Session, reading_id: uuid.UUID) -> BloodPressureReading | None:
    return db.get(BloodPressureReading, reading_id)


def blood_pressures(
    db: Session, patient_id: uuid.UUID, *, after: Keyset | None, limit: int
) -> Sequence[BloodPressureReading]:
    query = select(BloodPressureReading).where(BloodPressureReading.patient_id == patient_id)
    condition = _after(BloodPressureReading, after)
    if condition is not None:
        query = query.where(condition)
    return db.scalars(
        query.order_by(BloodPressureReading.created_at, BloodPressureReading.id).limit(limit)
    ).all()


def latest_blood_pressures(
    db: Session, patient_id: uuid.UUID, limit: int
) -> list[BloodPressureReading]:
    """The latest ``limit`` readings by when they were measured, oldest first."""
    rows = db.scalars(
        select(BloodPressureReading)
        .where(BloodPressureReading.patient_id == patient_id)
        .order_by(BloodPressureReading.measured_at.desc(), BloodPressureReading.id)
        .limit(limit)
    ).all()
    return list(reversed(rows))
