"""Queries for patients and care teams, always scoped to what the actor may see."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from painpath.auth.domain import Actor
from painpath.care.models import CareTeamMember, Clinician, Patient


def _visible_patients(actor: Actor) -> Select[Patient]:
    query = select(Patient)
    if actor.is_patient:
        return query.where(Patient.id == actor.patient_id)
    if actor.is_clinician:
        return query.join(CareTeamMember, CareTeamMember.patient_id == Patient.id).where(
            CareTeamMember.clinician_id == actor.clinician_id,
            CareTeamMember.removed_at.is_(None),
        )
    return query.where(Patient.id.is_(None))  # admins read no clinical record


def visible_patient(db: Session, actor: Actor, patient_id: uuid.UUID) -> Patient | None:
    return db.scalars(_visible_patients(actor).where(Patient.id == patient_id)).one_or_none()


def list_visible_patients(
    db: Session, actor: Actor, *, after: str | None, limit: int
) -> Sequence[Patient]:
    query = _visible_patients(actor).order_by(Patient.name, Patient.id)
    if after is not None:
        name, _, pid = after.partition("|")
        query = query.where(
            (Patient.name > name) | ((Patient.name == name) & (Patient.id > uuid.UUID(pid)))
        )
    return db.scalars(query.limit(limit)).all()


def all_patients(db: Session) -> Sequence[Patient]:
    return db.scalars(select(Patient).order_by(Patient.name, Patient.id)).all()


def care_team(db: Session, patient_id: uuid.UUID) -> Sequence[tuple[CareTeamMember, Clinician]]:
    rows = db.execute(
        select(CareTeamMember, Clinician)
        .join(Clinician, Clinician.id == CareTeamMember.clinician_id)
        .where(CareTeamMember.patient_id == patient_id, CareTeamMember.removed_at.is_(None))
        .order_by(Clinician.name)
    ).all()
    return [(m, c) for m, c in rows]
