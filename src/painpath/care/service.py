"""What people do with patient records; every read is authorised and audited."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from painpath.audit import service as audit
from painpath.auth import service as auth_service
from painpath.auth.domain import Actor, Role
from painpath.care import repository
from painpath.care.models import CareTeamMember, Clinician, Patient
from painpath.care.schemas import CareTeamMemberRead, PatientDetail, PatientRead
from painpath.kit.errors import Forbidden, InvalidInput, NotFound, Problem
from painpath.kit.pagination import Page, check_limit, decode_cursor, encode_cursor
from painpath.kit.records import Ctx

NOT_FOUND = "no such patient"
CLINICIAN_KINDS = ("gp", "pain-specialist", "other")


def list_patients(
    db: Session,
    actor: Actor,
    *,
    cursor: str | None,
    limit: int,
    request_id: str | None,
    now: datetime,
) -> Page[PatientRead]:
    """A clinician's caseload; a patient sees only themself; admins read no records."""
    if actor.is_admin:
        audit.record(
            db,
            actor,
            action="list",
            resource_type="patient",
            outcome="denied",
            request_id=request_id,
            now=now,
        )
        raise Forbidden("administrators manage accounts and do not read patient records")
    check_limit(limit)
    rows = repository.list_visible_patients(db, actor, after=decode_cursor(cursor), limit=limit + 1)
    items = [PatientRead.model_validate(p, from_attributes=True) for p in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(f"{last.name}|{last.id}")
    audit.record(
        db,
        actor,
        action="list",
        resource_type="patient",
        request_id=request_id,
        now=now,
        reason=f"{len(items)} patients",
    )
    return Page(items=items, next_cursor=next_cursor)


def get_patient(
    db: Session, actor: Actor, patient_id: uuid.UUID, *, request_id: str | None, now: datetime
) -> PatientDetail:
    patient = repository.visible_patient(db, actor, patient_id)
    if patient is None:
        audit.record(
            db,
            actor,
            action="read",
            resource_type="patient",
            resource_id=str(patient_id),
            outcome="denied",
            request_id=request_id,
            now=now,
        )
        raise NotFound(NOT_FOUND)
    team = [
        CareTeamMemberRead(clinician_id=c.id, name=c.name, role=m.role)
        for m, c in repository.care_team(db, patient.id)
    ]
    audit.record(
        db,
        actor,
        action="read",
        resource_type="patient",
        resource_id=str(patient.id),
        patient_id=patient.id,
        request_id=request_id,
        now=now,
    )
    return PatientDetail(
        id=patient.id,
        name=patient.name,
        date_of_birth=patient.date_of_birth,
        timezone=patient.timezone,
        care_team=team,
    )


def create_account(
    db: Session,
    *,
    email: str,
    password: str,
    role: Role,
    name: str,
    clinician_kind: str = "gp",
    date_of_birth: date | None = None,
    patient_id: uuid.UUID | None = None,
    totp_secret: str | None = None,
) -> dict[str, Any]:
    """An account with its patient or clinician record (administration, CLI, demo)."""
    user = auth_service.create_user(
        db,
        email=email,
        password=password,
        role=role,
        display_name=name,
        totp_secret=totp_secret,
    )
    result: dict[str, Any] = {"user_id": str(user.id), "role": role.value, "email": user.email}
    if role is Role.PATIENT:
        patient = Patient(
            id=patient_id or uuid.uuid4(), user_id=user.id, name=name, date_of_birth=date_of_birth
        )
        db.add(patient)
        db.flush()
        result["patient_id"] = str(patient.id)
    elif role is Role.CLINICIAN:
        if clinician_kind not in CLINICIAN_KINDS:
            raise InvalidInput(
                f"clinician kind must be one of {', '.join(CLINICIAN_KINDS)}",
                [Problem("clinician_kind", f"use one of {', '.join(CLINICIAN_KINDS)}")],
            )
        clinician = Clinician(user_id=user.id, name=name, kind=clinician_kind)
        db.add(clinician)
        db.flush()
        result["clinician_id"] = str(clinician.id)
    if user.totp_secret:
        result["totp_secret"] = user.totp_secret
    return result


def add_to_care_team(
    db: Session, *, patient_id: uuid.UUID, clinician_id: uuid.UUID, role: str, now: datetime
) -> CareTeamMember:
    member = CareTeamMember(
        patient_id=patient_id, clinician_id=clinician_id, role=role, added_at=now
    )
    db.add(member)
    db.flush()
    return member


PATIENT_WRITES = "patient"
CLINICIAN_WRITES = "clinician"


def authorize_patient(
    db: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    ctx: Ctx,
    *,
    resource_type: str,
    action: str,
    writers: frozenset[str] = frozenset({"patient", "clinician"}),
    resource_id: str | None = None,
) -> Patient:
    """The patient record if ``actor`` may do ``action`` on it, else an error.

    Reads are allowed to the patient themself and to clinicians in their care team.
    A record the actor may not see is reported as missing (404), so its existence is
    not revealed; a visible record the actor's role may not change is a 403. Every
    decision is audited.
    """
    patient = repository.visible_patient(db, actor, patient_id)
    if patient is None:
        audit.record(
            db,
            actor,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            outcome="denied",
            request_id=ctx.request_id,
            now=ctx.now,
            reason="not in the actor's patients",
        )
        raise NotFound(NOT_FOUND)
    if action not in ("read", "list") and actor.role.value not in writers:
        audit.record(
            db,
            actor,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            patient_id=patient.id,
            outcome="denied",
            request_id=ctx.request_id,
            now=ctx.now,
            reason=f"{actor.role.value} may not {action} {resource_type}",
        )
        raise Forbidden(f"only {' or '.join(sorted(writers))}s can {action} a {resource_type}")
    return patient


def record_access(
    db: Session,
    actor: Actor,
    patient: Patient,
    ctx: Ctx,
    *,
    resource_type: str,
    action: str,
    resource_id: str | None = None,
    reason: str | None = None,
) -> None:
    """Audit an allowed read or change of a patient's data."""
    audit.record(
        db,
        actor,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        patient_id=patient.id,
        request_id=ctx.request_id,
        now=ctx.now,
        reason=reason,
    )


def patient_today(patient: Patient, ctx: Ctx) -> date:
    """The date on the patient's own calendar (their time zone, DST-aware)."""
    return ctx.now.astimezone(ZoneInfo(patient.timezone)).date()
