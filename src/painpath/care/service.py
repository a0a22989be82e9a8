"""What people do with patient records; every read is authorised and audited."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from painpath.audit import service as audit
from painpath.auth import service as auth_service
from painpath.auth.domain import Actor, Role
from painpath.care import repository
from painpath.care.domain import (
    ADHERENCE_DAYS,
    BASELINE_DAYS,
    FOLLOW_UP_STATUSES,
    QUESTIONNAIRE_DAYS,
    RECENT_PAIN_DAYS,
    REFERRAL_STATUSES,
    Adherence,
    FollowUpDue,
    Step,
    adherence,
    baseline_pain,
    days_on_treatment,
    default_follow_ups,
    dose_on,
    first_dose_day,
    format_mg,
    mean,
    next_follow_up,
    percent_change,
    recent_pain,
)
from painpath.care.models import (
    CareTeamMember,
    ClinicalNote,
    Clinician,
    FollowUp,
    Patient,
    Referral,
    Review,
)
from painpath.care.schemas import (
    CareTeamAdd,
    CareTeamMemberRead,
    CareTeamRead,
    ClinicalFactsRead,
    ClinicalFactsWrite,
    ClinicianRead,
    FollowUpCreate,
    FollowUpRead,
    FollowUpUpdate,
    NoteCreate,
    NoteRead,
    PatientDetail,
    PatientRead,
    ReferralCreate,
    ReferralDecision,
    ReferralRead,
    ReviewCreate,
    ReviewRead,
)
from painpath.kit.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    Problem,
)
from painpath.kit.pagination import Page, check_limit, decode_cursor, encode_cursor
from painpath.kit.records import Ctx, body_hash, check_if_match, etag, is_replay, stale_record
from painpath.medication.models import Prescription

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
    rows = repository.list_visible_patients(db, actor, after=_name_cursor(cursor), limit=limit + 1)
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
    """Put a clinician in a patient's care team (a removed member is brought back)."""
    member = repository.team_membership(db, patient_id, clinician_id)
    if member is not None:
        if member.removed_at is not None:
            member.removed_at, member.added_at, member.role = None, now, role
            db.flush()
        return member
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


# =============================================================== the clinician workspace

CLINICIAN_ONLY = frozenset({"clinician"})
CLINICIAN = "clinician"
CARE_TEAM = "care-team"
REFERRAL = "referral"
FOLLOW_UP = "follow-up"
REVIEW = "review"
NOTE = "clinical-note"
CASELOAD = "caseload"
RECORD = "patient-record"
FOLLOW_UP_NAMESPACE = uuid.UUID("6b0f3f1e-4a53-4f4e-9d7b-3c2d8a1e5f60")
ROLE_FOR_KIND = {"gp": "gp", "pain-specialist": "pain-specialist"}


def record_denied(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    *,
    action: str,
    resource_type: str,
    reason: str,
    patient_id: uuid.UUID | None = None,
    resource_id: str | None = None,
) -> None:
    """Audit a refused read or change (kept through the request's rollback)."""
    audit.record(
        db,
        actor,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        patient_id=patient_id,
        outcome="denied",
        request_id=ctx.request_id,
        now=ctx.now,
        reason=reason,
    )


def _clinicians_only(
    db: Session, actor: Actor, patient: Patient, ctx: Ctx, resource_type: str, action: str
) -> None:
    """Some records (reviews, clinical notes) are read by the care team's clinicians only."""
    if not actor.is_clinician:
        record_denied(
            db,
            actor,
            ctx,
            action=action,
            resource_type=resource_type,
            patient_id=patient.id,
            reason=f"only clinicians {action} {resource_type}s",
        )
        raise Forbidden(f"only the care team's clinicians can {action} these records")


def _name_cursor(cursor: str | None) -> tuple[str, uuid.UUID] | None:
    """The (name, id) after which the patient list goes on."""
    text = decode_cursor(cursor)
    if text is None:
        return None
    name, _, pid = text.rpartition("|")
    try:
        return name, uuid.UUID(pid)
    except ValueError:
        raise InvalidInput("the cursor is not valid", field="cursor") from None


def _time_cursor(created: datetime, record_id: uuid.UUID) -> str:
    return encode_cursor(f"{created.isoformat()}|{record_id}")


def _parse_time_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    text = decode_cursor(cursor)
    if not text:
        return None
    try:
        created, rid = text.split("|")
        return datetime.fromisoformat(created), uuid.UUID(rid)
    except ValueError:
        raise InvalidInput("the cursor is not valid", field="cursor") from None


# ------------------------------------------------------------------------ clinicians


def list_clinicians(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    *,
    kind: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[ClinicianRead]:
    """Clinicians to choose from (a specialist to refer to, a team member to add)."""
    if actor.is_patient:
        record_denied(db, actor, ctx, action="list", resource_type=CLINICIAN, reason="patients")
        raise Forbidden("only clinicians and administrators can list clinicians")
    if kind is not None and kind not in CLINICIAN_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(CLINICIAN_KINDS)}", field="kind")
    check_limit(limit)
    text = decode_cursor(cursor)
    after = None
    if text:
        name, _, cid = text.rpartition("|")
        try:
            after = (name, uuid.UUID(cid))
        except ValueError:
            raise InvalidInput("the cursor is not valid", field="cursor") from None
    rows = repository.clinicians(db, kind=kind, after=after, limit=limit + 1)
    items = [ClinicianRead.model_validate(c) for c in rows[:limit]]
    nxt = (
        encode_cursor(f"{rows[limit - 1].name}|{rows[limit - 1].id}") if len(rows) > limit else None
    )
    return Page(items=items, next_cursor=nxt)


# ------------------------------------------------------------- care teams (admins)


def _team(db: Session, patient: Patient) -> CareTeamRead:
    return CareTeamRead(
        patient_id=patient.id,
        patient_name=patient.name,
        members=[
            CareTeamMemberRead(clinician_id=c.id, name=c.name, role=m.role)
            for m, c in repository.care_team(db, patient.id)
        ],
    )


def _admin_patient(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID, action: str
) -> Patient:
    """The patient for an administrator's team change; others get 404 or 403."""
    if actor.is_admin:
        patient = repository.patient(db, patient_id)
        if patient is None:
            record_denied(
                db, actor, ctx, action=action, resource_type=CARE_TEAM, reason="no such patient"
            )
            raise NotFound(NOT_FOUND)
        return patient
    visible = repository.visible_patient(db, actor, patient_id)
    record_denied(
        db,
        actor,
        ctx,
        action=action,
        resource_type=CARE_TEAM,
        patient_id=visible.id if visible else None,
        reason="only administrators manage care teams",
    )
    if visible is None:
        raise NotFound(NOT_FOUND)
    raise Forbidden("only administrators manage care teams")


def get_care_team(db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID) -> CareTeamRead:
    """Who is in the care team: for administrators, the care team and the patient."""
    if actor.is_admin:
        patient = _admin_patient(db, actor, ctx, patient_id, "read")
    else:
        patient = authorize_patient(
            db, actor, patient_id, ctx, resource_type=CARE_TEAM, action="read"
        )
    record_access(db, actor, patient, ctx, resource_type=CARE_TEAM, action="read")
    return _team(db, patient)


def list_care_teams(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    *,
    search: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[CareTeamRead]:
    """Patients' names and care teams, for administrators (no clinical data)."""
    if not actor.is_admin:
        record_denied(db, actor, ctx, action="list", resource_type=CARE_TEAM, reason="not an admin")
        raise Forbidden("only administrators manage care teams")
    check_limit(limit)
    text = decode_cursor(cursor)
    after = None
    if text:
        name, _, pid = text.rpartition("|")
        try:
            after = (name, uuid.UUID(pid))
        except ValueError:
            raise InvalidInput("the cursor is not valid", field="cursor") from None
    rows = repository.patients_by_name(db, search=search or None, after=after, limit=limit + 1)
    page = rows[:limit]
    members: dict[uuid.UUID, list[CareTeamMemberRead]] = {p.id: [] for p in page}
    for m, c in repository.teams_for_patients(db, [p.id for p in page]):
        members[m.patient_id].append(
            CareTeamMemberRead(clinician_id=c.id, name=c.name, role=m.role)
        )
    items = [
        CareTeamRead(patient_id=p.id, patient_name=p.name, members=members[p.id]) for p in page
    ]
    nxt = (
        encode_cursor(f"{rows[limit - 1].name}|{rows[limit - 1].id}") if len(rows) > limit else None
    )
    audit.record(
        db,
        actor,
        action="list",
        resource_type=CARE_TEAM,
        request_id=ctx.request_id,
        now=ctx.now,
        reason=f"{len(items)} care teams",
    )
    return Page(items=items, next_cursor=nxt)


def add_care_team_member(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID, data: CareTeamAdd
) -> CareTeamRead:
    patient = _admin_patient(db, actor, ctx, patient_id, "create")
    clinician = repository.clinician(db, data.clinician_id)
    if clinician is None:
        raise InvalidInput("there is no clinician with this id", field="clinician_id")
    role = data.role or ROLE_FOR_KIND.get(clinician.kind, "other")
    add_to_care_team(db, patient_id=patient.id, clinician_id=clinician.id, role=role, now=ctx.now)
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=CARE_TEAM,
        action="create",
        resource_id=str(clinician.id),
        reason=f"added {role}",
    )
    return _team(db, patient)


def remove_care_team_member(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID, clinician_id: uuid.UUID
) -> None:
    """Take a clinician out of a care team; their next request no longer sees the patient."""
    patient = _admin_patient(db, actor, ctx, patient_id, "delete")
    member = repository.team_membership(db, patient.id, clinician_id)
    if member is None or member.removed_at is not None:
        raise NotFound("this clinician is not in the patient's care team")
    member.removed_at = ctx.now
    db.flush()
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=CARE_TEAM,
        action="delete",
        resource_id=str(clinician_id),
    )


# ------------------------------------------------------------------------ referrals


def _referral_read(row: repository.ReferralRow) -> ReferralRead:
    r, patient_name, from_name, to_name = row
    return ReferralRead(
        id=r.id,
        patient_id=r.patient_id,
        patient_name=patient_name,
        from_clinician_id=r.from_clinician_id,
        from_clinician_name=from_name,
        to_clinician_id=r.to_clinician_id,
        to_clinician_name=to_name,
        reason=r.reason,
        status=r.status,
        created_at=r.created_at,
        decided_at=r.decided_at,
        decision_note=r.decision_note,
    )


def _stored_referral(db: Session, referral_id: uuid.UUID) -> ReferralRead:
    row = repository.referral_row(db, referral_id)
    if row is None:
        raise NotFound("no such referral")
    return _referral_read(row)


def create_referral(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID, data: ReferralCreate
) -> tuple[ReferralRead, bool]:
    """A clinician in the care team refers the patient to another clinician (a specialist)."""
    patient = authorize_patient(
        db, actor, patient_id, ctx, resource_type=REFERRAL, action="create", writers=CLINICIAN_ONLY
    )
    digest = body_hash(data.model_dump(mode="json"))
    existing = repository.referral(db, data.id)
    if is_replay(existing, patient.id, digest):
        return _stored_referral(db, data.id), False
    assert actor.clinician_id is not None  # noqa: S101 - writers are clinicians
    target = repository.clinician(db, data.to_clinician_id)
    if target is None:
        raise InvalidInput("there is no clinician with this id", field="to_clinician_id")
    if target.id == actor.clinician_id:
        raise InvalidInput("you cannot refer a patient to yourself", field="to_clinician_id")
    member = repository.team_membership(db, patient.id, target.id)
    if member is not None and member.removed_at is None:
        raise InvalidInput(
            f"{target.name} is already in this patient's care team", field="to_clinician_id"
        )
    if repository.pending_referral(db, patient.id, target.id) is not None:
        raise Conflict(f"a referral to {target.name} is already waiting for their answer")
    referral = Referral(
        id=data.id,
        patient_id=patient.id,
        from_clinician_id=actor.clinician_id,
        to_clinician_id=target.id,
        reason=data.reason.strip(),
        status="pending",
        body_hash=digest,
        created_by=actor.user_id,
        created_at=ctx.now,
    )
    db.add(referral)
    db.flush()
    record_access(
        db, actor, patient, ctx, resource_type=REFERRAL, action="create", resource_id=str(data.id)
    )
    return _stored_referral(db, referral.id), True


def list_patient_referrals(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID
) -> list[ReferralRead]:
    patient = authorize_patient(db, actor, patient_id, ctx, resource_type=REFERRAL, action="list")
    items = [_referral_read(r) for r in repository.referrals_of_patient(db, patient.id)]
    record_access(
        db, actor, patient, ctx, resource_type=REFERRAL, action="list", reason=f"{len(items)}"
    )
    return items


def list_referrals(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    *,
    status: str | None = "pending",
    cursor: str | None = None,
    limit: int = 50,
) -> Page[ReferralRead]:
    """Referrals sent to the signed-in clinician (the patient's name and the reason only)."""
    if not actor.is_clinician or actor.clinician_id is None:
        record_denied(
            db, actor, ctx, action="list", resource_type=REFERRAL, reason="not a clinician"
        )
        raise Forbidden("only clinicians receive referrals")
    if status is not None and status not in REFERRAL_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(REFERRAL_STATUSES)}", field="status")
    check_limit(limit)
    rows = repository.referrals_to(
        db, actor.clinician_id, status=status, after=_parse_time_cursor(cursor), limit=limit + 1
    )
    items = [_referral_read(r) for r in rows[:limit]]
    nxt = (
        _time_cursor(rows[limit - 1][0].created_at, rows[limit - 1][0].id)
        if len(rows) > limit
        else None
    )
    # One event for the inbox, like the caseload's list: naming each patient would make
    # the number of events depend on how many referrals are waiting.
    audit.record(
        db,
        actor,
        action="list",
        resource_type=REFERRAL,
        request_id=ctx.request_id,
        now=ctx.now,
        reason=f"referral inbox: {len(items)} referrals",
    )
    return Page(items=items, next_cursor=nxt)


def decide_referral(
    db: Session, actor: Actor, ctx: Ctx, referral_id: uuid.UUID, data: ReferralDecision
) -> ReferralRead:
    """The receiving clinician accepts (and joins the care team) or declines."""
    referral = repository.referral(db, referral_id)
    if (
        referral is None
        or actor.clinician_id is None
        or referral.to_clinician_id != actor.clinician_id
    ):
        record_denied(
            db,
            actor,
            ctx,
            action="update",
            resource_type=REFERRAL,
            resource_id=str(referral_id),
            reason="not a referral to the actor",
        )
        raise NotFound("no such referral")
    if referral.status != "pending":
        raise Conflict(f"this referral was already {referral.status}")
    referral.status = data.status
    referral.decided_at = ctx.now
    referral.decision_note = (data.note or "").strip() or None
    if data.status == "accepted":
        target = repository.clinician(db, actor.clinician_id)
        role = ROLE_FOR_KIND.get(target.kind if target else "", "other")
        add_to_care_team(
            db,
            patient_id=referral.patient_id,
            clinician_id=actor.clinician_id,
            role=role,
            now=ctx.now,
        )
    db.flush()
    audit.record(
        db,
        actor,
        action="update",
        resource_type=REFERRAL,
        resource_id=str(referral.id),
        patient_id=referral.patient_id,
        request_id=ctx.request_id,
        now=ctx.now,
        reason=data.status,
    )
    return _stored_referral(db, referral.id)


# ----------------------------------------------------------------------- follow-ups


def create_follow_up(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID, data: FollowUpCreate
) -> tuple[FollowUpRead, bool]:
    patient = authorize_patient(
        db, actor, patient_id, ctx, resource_type=FOLLOW_UP, action="create", writers=CLINICIAN_ONLY
    )
    digest = body_hash(data.model_dump(mode="json"))
    existing = repository.follow_up(db, data.id)
    if is_replay(existing, patient.id, digest):
        return FollowUpRead.model_validate(existing), False
    item = FollowUp(
        id=data.id,
        patient_id=patient.id,
        due=data.due,
        kind=data.kind.strip(),
        notes=data.notes,
        status="scheduled",
        clinician_id=actor.clinician_id,
        body_hash=digest,
        created_by=actor.user_id,
        created_at=ctx.now,
        version=1,
    )
    db.add(item)
    db.flush()
    record_access(
        db, actor, patient, ctx, resource_type=FOLLOW_UP, action="create", resource_id=str(item.id)
    )
    return FollowUpRead.model_validate(item), True


def schedule_default_follow_ups(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID, start: date
) -> list[FollowUpRead]:
    """The default follow-ups for a course of treatment starting on ``start`` (see
    :func:`painpath.care.domain.default_follow_ups`). Idempotent per start date: calling it
    again for the same start returns the same follow-ups and makes no new ones."""
    patient = authorize_patient(
        db, actor, patient_id, ctx, resource_type=FOLLOW_UP, action="create", writers=CLINICIAN_ONLY
    )
    out = plan_default_follow_ups(db, actor, ctx, patient, start)
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=FOLLOW_UP,
        action="create",
        reason=f"default schedule from {start.isoformat()}",
    )
    return out


def plan_default_follow_ups(
    db: Session, actor: Actor, ctx: Ctx, patient: Patient, start: date
) -> list[FollowUpRead]:
    """The default follow-ups from ``start``, idempotent per start date, without
    authorisation or audit: for a caller that has authorised a clinician and audits the
    whole change (prescribing a new course)."""
    out: list[FollowUpRead] = []
    for planned in default_follow_ups(start):
        fid = uuid.uuid5(FOLLOW_UP_NAMESPACE, f"{patient.id}:{start.isoformat()}:{planned.key}")
        existing = repository.follow_up(db, fid)
        if existing is not None:
            out.append(FollowUpRead.model_validate(existing))
            continue
        body = {"id": str(fid), "due": planned.due.isoformat(), "kind": planned.kind, "notes": None}
        item = FollowUp(
            id=fid,
            patient_id=patient.id,
            due=planned.due,
            kind=planned.kind,
            status="scheduled",
            notes=None,
            clinician_id=actor.clinician_id,
            body_hash=body_hash(body),
            created_by=actor.user_id,
            created_at=ctx.now,
            version=1,
        )
        db.add(item)
        db.flush()
        out.append(FollowUpRead.model_validate(item))
    return out


def list_follow_ups(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient_id: uuid.UUID,
    *,
    start: date | None = None,
    end: date | None = None,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[FollowUpRead]:
    patient = authorize_patient(db, actor, patient_id, ctx, resource_type=FOLLOW_UP, action="list")
    check_limit(limit)
    if start and end and start > end:
        raise InvalidInput("'from' must be on or before 'to'", field="from")
    if status is not None and status not in FOLLOW_UP_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(FOLLOW_UP_STATUSES)}", field="status")
    text = decode_cursor(cursor)
    after = None
    if text:
        day, _, fid = text.partition("|")
        try:
            after = (date.fromisoformat(day), uuid.UUID(fid))
        except ValueError:
            raise InvalidInput("the cursor is not valid", field="cursor") from None
    rows = repository.follow_ups(
        db, patient.id, start=start, end=end, status=status, after=after, limit=limit + 1
    )
    items = [FollowUpRead.model_validate(r) for r in rows[:limit]]
    nxt = None
    if len(rows) > limit:
        last = rows[limit - 1]
        nxt = encode_cursor(f"{last.due.isoformat()}|{last.id}")
    record_access(
        db, actor, patient, ctx, resource_type=FOLLOW_UP, action="list", reason=f"{len(items)}"
    )
    return Page(items=items, next_cursor=nxt)


def _patient_follow_up(db: Session, patient: Patient, follow_up_id: uuid.UUID) -> FollowUp:
    item = repository.follow_up(db, follow_up_id)
    if item is None or item.patient_id != patient.id:
        raise NotFound("no such follow-up")
    return item


def get_follow_up(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID, follow_up_id: uuid.UUID
) -> FollowUpRead:
    patient = authorize_patient(
        db,
        actor,
        patient_id,
        ctx,
        resource_type=FOLLOW_UP,
        action="read",
        resource_id=str(follow_up_id),
    )
    item = _patient_follow_up(db, patient, follow_up_id)
    record_access(
        db, actor, patient, ctx, resource_type=FOLLOW_UP, action="read", resource_id=str(item.id)
    )
    return FollowUpRead.model_validate(item)


def update_follow_up(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient_id: uuid.UUID,
    follow_up_id: uuid.UUID,
    data: FollowUpUpdate,
    *,
    if_match: str | None,
) -> FollowUpRead:
    """Mark a follow-up done or cancelled, or move it (If-Match required)."""
    patient = authorize_patient(
        db,
        actor,
        patient_id,
        ctx,
        resource_type=FOLLOW_UP,
        action="update",
        writers=CLINICIAN_ONLY,
        resource_id=str(follow_up_id),
    )
    item = _patient_follow_up(db, patient, follow_up_id)
    check_if_match(if_match, item.id, item.version)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("status", "") is None or ("due" in changes and changes["due"] is None):
        raise InvalidInput("status and due cannot be empty", field="status")
    if not changes:
        raise InvalidInput("send at least one of status, due or notes", field="status")
    # Compare-and-set: of two changes made from the same version, one wins, one gets 412.
    if not repository.claim_follow_up_version(db, item.id, item.version):
        raise PreconditionFailed(
            "the follow-up was changed by someone else since you read it: reload it, check "
            "the change and try again"
        )
    db.refresh(item)
    for key, value in changes.items():
        setattr(item, key, value)
    if item.status != "scheduled":
        repository.resolve_overdue_alert(db, patient.id, item.id, actor.user_id, ctx.now)
    db.flush()
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=FOLLOW_UP,
        action="update",
        resource_id=str(item.id),
        reason=",".join(sorted(changes)),
    )
    return FollowUpRead.model_validate(item)


# -------------------------------------------------------------------------- reviews

SnapshotExtra = Callable[[Session, Patient, uuid.UUID, date], dict[str, Any] | None]
SNAPSHOT_EXTRAS: dict[str, SnapshotExtra] = {}


def register_snapshot_extra(name: str, extra: SnapshotExtra) -> None:
    """Let another area add to a review's snapshot (e.g. the "does it help?" result):
    ``extra(db, patient, prescription_id, today)`` returns a JSON-ready dict or None;
    it is stored under ``snapshot[name]``."""
    SNAPSHOT_EXTRAS[name] = extra


def _steps(db: Session, prescription_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Step]]:
    out: dict[uuid.UUID, list[Step]] = {pid: [] for pid in prescription_ids}
    for s in repository.dose_steps(db, prescription_ids):
        out[s.prescription_id].append(Step(s.start, Decimal(s.daily_dose_mg)))
    return out


def _local(value: datetime, timezone: str) -> datetime:
    return value.astimezone(ZoneInfo(timezone))


def _dose_day(scheduled: date | None, taken_at: datetime, timezone: str) -> date:
    return scheduled or _local(taken_at, timezone).date()


def compute_snapshot(
    db: Session, patient: Patient, prescription: Prescription, ctx: Ctx
) -> dict[str, Any]:
    """The data a clinician sees when deciding: dose, pain against baseline, adherence,
    side effects and alerts, computed from the records (plus registered extras)."""
    today = patient_today(patient, ctx)
    steps = _steps(db, [prescription.id])[prescription.id]
    first = first_dose_day(steps)
    since = min(first - timedelta(days=BASELINE_DAYS), today) if first else today
    diary = [
        (d.date, d.pain) for d in repository.diary(db, patient.id, since - timedelta(days=1), today)
    ]
    base, recent = baseline_pain(diary, first), recent_pain(diary, today)
    doses = [
        (_dose_day(e.scheduled_for, e.taken_at, patient.timezone), e.status)
        for e in repository.dose_events(
            db, patient.id, ctx.now - timedelta(days=ADHERENCE_DAYS + 2)
        )
        if e.prescription_id in (None, prescription.id)
    ]
    adh = adherence(steps, doses, today)
    side_effects = [
        {
            "symptom": r.symptom,
            "severity": r.severity,
            "started_on": r.started_on.isoformat(),
            "triage": r.triage_level,
        }
        for r in repository.side_effects(db, patient.id)
        if r.prescription_id in (None, prescription.id)
    ][:20]
    alerts = [
        {"rule": a.rule, "urgency": a.urgency, "status": a.status, "summary": a.summary}
        for a in repository.alerts_of_patient(db, patient.id, ("open", "acknowledged"))
    ]
    snapshot: dict[str, Any] = {
        "as_of": today.isoformat(),
        "prescription": {
            "id": str(prescription.id),
            "medicine": prescription.medicine,
            "status": prescription.status,
            "daily_dose_mg": str(dose_on(steps, today)),
            "first_dose": first.isoformat() if first else None,
            "days_on_treatment": days_on_treatment(steps, today),
        },
        "pain": {
            "baseline_mean": base,
            "latest_7_day_mean": recent,
            "percent_change": percent_change(base, recent),
        },
        "adherence": {
            "days_taken": adh.taken_days,
            "days_planned": adh.planned_days,
            "percent": adh.percent,
            "over_days": ADHERENCE_DAYS,
        },
        "side_effects": side_effects,
        "alerts": alerts,
    }
    for name, extra in SNAPSHOT_EXTRAS.items():
        value = extra(db, patient, prescription.id, today)
        if value is not None:
            snapshot[name] = value
    return snapshot


def _prescription_of(db: Session, patient: Patient, prescription_id: uuid.UUID) -> Prescription:
    prescription = repository.prescription(db, patient.id, prescription_id)
    if prescription is None:
        raise InvalidInput("this patient has no prescription with this id", field="prescription_id")
    return prescription


def review_snapshot(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID, prescription_id: uuid.UUID
) -> dict[str, Any]:
    """What the review form shows before the clinician decides."""
    patient = authorize_patient(db, actor, patient_id, ctx, resource_type=REVIEW, action="read")
    _clinicians_only(db, actor, patient, ctx, REVIEW, "read")
    snapshot = compute_snapshot(db, patient, _prescription_of(db, patient, prescription_id), ctx)
    record_access(
        db, actor, patient, ctx, resource_type=REVIEW, action="read", reason="review snapshot"
    )
    return snapshot


def create_review(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID, data: ReviewCreate
) -> tuple[ReviewRead, bool]:
    """Record a review decision with its reason and a snapshot of the data behind it."""
    patient = authorize_patient(
        db, actor, patient_id, ctx, resource_type=REVIEW, action="create", writers=CLINICIAN_ONLY
    )
    digest = body_hash(data.model_dump(mode="json"))
    existing = repository.review(db, data.id)
    if is_replay(existing, patient.id, digest):
        return ReviewRead.model_validate(existing), False
    assert actor.clinician_id is not None  # noqa: S101 - writers are clinicians
    prescription = _prescription_of(db, patient, data.prescription_id)
    snapshot = compute_snapshot(db, patient, prescription, ctx)
    if data.snapshot is not None:
        snapshot["shown"] = data.snapshot
    review = Review(
        id=data.id,
        patient_id=patient.id,
        prescription_id=prescription.id,
        clinician_id=actor.clinician_id,
        decision=data.decision,
        reason=data.reason.strip(),
        snapshot=snapshot,
        body_hash=digest,
        created_by=actor.user_id,
        created_at=ctx.now,
    )
    db.add(review)
    db.flush()
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=REVIEW,
        action="create",
        resource_id=str(review.id),
        reason=data.decision,
    )
    return ReviewRead.model_validate(review), True


def list_reviews(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient_id: uuid.UUID,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[ReviewRead]:
    patient = authorize_patient(db, actor, patient_id, ctx, resource_type=REVIEW, action="list")
    _clinicians_only(db, actor, patient, ctx, REVIEW, "list")
    check_limit(limit)
    rows = repository.reviews(db, patient.id, after=_parse_time_cursor(cursor), limit=limit + 1)
    items = [ReviewRead.model_validate(r) for r in rows[:limit]]
    nxt = (
        _time_cursor(rows[limit - 1].created_at, rows[limit - 1].id) if len(rows) > limit else None
    )
    record_access(
        db, actor, patient, ctx, resource_type=REVIEW, action="list", reason=f"{len(items)}"
    )
    return Page(items=items, next_cursor=nxt)


# ------------------------------------------------------------------- clinical notes


def create_note(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID, data: NoteCreate
) -> tuple[NoteRead, bool]:
    patient = authorize_patient(
        db, actor, patient_id, ctx, resource_type=NOTE, action="create", writers=CLINICIAN_ONLY
    )
    digest = body_hash(data.model_dump(mode="json"))
    existing = repository.note(db, data.id)
    if is_replay(existing, patient.id, digest):
        return NoteRead.model_validate(existing), False
    assert actor.clinician_id is not None  # noqa: S101 - writers are clinicians
    if not data.text.strip():
        raise InvalidInput("write the note", field="text")
    item = ClinicalNote(
        id=data.id,
        patient_id=patient.id,
        clinician_id=actor.clinician_id,
        text=data.text.strip(),
        body_hash=digest,
        created_by=actor.user_id,
        created_at=ctx.now,
    )
    db.add(item)
    db.flush()
    record_access(
        db, actor, patient, ctx, resource_type=NOTE, action="create", resource_id=str(item.id)
    )
    return NoteRead.model_validate(item), True


def list_notes(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient_id: uuid.UUID,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[NoteRead]:
    patient = authorize_patient(db, actor, patient_id, ctx, resource_type=NOTE, action="list")
    _clinicians_only(db, actor, patient, ctx, NOTE, "list")
    check_limit(limit)
    rows = repository.notes(db, patient.id, after=_parse_time_cursor(cursor), limit=limit + 1)
    items = [NoteRead.model_validate(r) for r in rows[:limit]]
    nxt = (
        _time_cursor(rows[limit - 1].created_at, rows[limit - 1].id) if len(rows) > limit else None
    )
    record_access(
        db, actor, patient, ctx, resource_type=NOTE, action="list", reason=f"{len(items)}"
    )
    return Page(items=items, next_cursor=nxt)


# ------------------------------------------------------------------------- caseload


@dataclass(frozen=True)
class CaseloadEntry:
    patient_id: uuid.UUID
    name: str
    open_alerts: int
    worst_urgency: str | None
    oldest_alert: datetime | None
    medicine: str | None
    prescription_status: str | None
    daily_dose: str | None
    days_on_treatment: int | None
    recent_pain: float | None
    baseline_pain: float | None
    pain_change_percent: int | None
    adherence: Adherence | None
    next_follow_up: FollowUpDue | None
    questionnaires_28_days: int

    @property
    def needs_attention(self) -> bool:
        return self.open_alerts > 0 or bool(self.next_follow_up and self.next_follow_up.overdue)


@dataclass(frozen=True)
class Caseload:
    entries: list[CaseloadEntry]
    total: int
    page: int
    pages: int
    attention_only: bool
    name: str = ""


URGENCY_NAMES = ("emergency", "urgent", "routine")


def caseload(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    *,
    attention_only: bool = False,
    page: int = 1,
    per_page: int = 100,
    name: str = "",
) -> Caseload:
    """Every patient in the clinician's care teams, open alerts first (most urgent, then
    longest waiting), with the figures that say who needs them today. A fixed handful of
    queries for the whole page, however many patients."""
    if not actor.is_clinician or actor.clinician_id is None:
        record_denied(
            db, actor, ctx, action="list", resource_type=CASELOAD, reason="not a clinician"
        )
        raise Forbidden("only clinicians have a caseload")
    out = _caseload_page(db, actor.clinician_id, ctx, attention_only, page, per_page, name)
    audit.record(
        db,
        actor,
        action="list",
        resource_type=CASELOAD,
        request_id=ctx.request_id,
        now=ctx.now,
        reason=f"page {out.page}: {len(out.entries)} patients",
    )
    return out


def caseload_page_for_export(
    db: Session, actor: Actor, ctx: Ctx, *, page: int = 1, per_page: int = 100
) -> Caseload:
    """One page of the clinician's caseload, as :func:`caseload` gives it, without its
    audit event: for an export of the whole caseload that writes one audit event for the
    whole request (the outcomes CSV). The caller records that event, and the refusal
    when the actor is not a clinician."""
    if not actor.is_clinician or actor.clinician_id is None:
        raise Forbidden("only clinicians have a caseload")
    return _caseload_page(db, actor.clinician_id, ctx, False, page, per_page, "")


def _caseload_page(
    db: Session,
    clinician_id: uuid.UUID,
    ctx: Ctx,
    attention_only: bool,
    page: int,
    per_page: int,
    name: str,
) -> Caseload:
    page = max(page, 1)
    name = name.strip()[:100]
    today = ctx.now.astimezone(ZoneInfo("Europe/London")).date()
    rows, total = repository.caseload(
        db,
        clinician_id,
        today=today,
        attention_only=attention_only,
        offset=(page - 1) * per_page,
        limit=per_page,
        name=name or None,
    )
    ids = [r.patient.id for r in rows]
    zones = {r.patient.id: r.patient.timezone for r in rows}
    current: dict[uuid.UUID, Prescription] = {}
    for p in repository.current_prescriptions_for(db, ids):
        current[p.patient_id] = p  # the latest started course wins
    steps = _steps(db, [p.id for p in current.values()])
    firsts = {pid: first_dose_day(steps[p.id]) for pid, p in current.items()}
    baselines = {
        pid: (first - timedelta(days=BASELINE_DAYS), first - timedelta(days=1))
        for pid, first in firsts.items()
        if first is not None
    }
    diary: dict[uuid.UUID, list[tuple[date, int]]] = {pid: [] for pid in ids}
    for pid, day, pain in repository.diary_windows(
        db, ids, today - timedelta(days=RECENT_PAIN_DAYS), baselines
    ):
        diary[pid].append((day, pain))
    doses: dict[uuid.UUID, list[tuple[date, str]]] = {pid: [] for pid in ids}
    for pid, scheduled, taken_at, status in repository.dose_events_for(
        db, ids, ctx.now - timedelta(days=ADHERENCE_DAYS + 2)
    ):
        doses[pid].append((_dose_day(scheduled, taken_at, zones[pid]), status))
    follow_ups: dict[uuid.UUID, list[tuple[date, str, str]]] = {pid: [] for pid in ids}
    for f in repository.scheduled_follow_ups_for(db, ids):
        follow_ups[f.patient_id].append((f.due, f.kind, f.status))
    counts = repository.questionnaire_counts(db, ids, ctx.now - timedelta(days=QUESTIONNAIRE_DAYS))
    entries: list[CaseloadEntry] = []
    for r in rows:
        pid = r.patient.id
        local_today = _local(ctx.now, zones[pid]).date()
        prescription = current.get(pid)
        course = steps.get(prescription.id, []) if prescription else []
        base = baseline_pain(diary[pid], firsts.get(pid))
        recent = recent_pain(diary[pid], local_today)
        entries.append(
            CaseloadEntry(
                patient_id=pid,
                name=r.patient.name,
                open_alerts=r.open_alerts,
                worst_urgency=None if r.worst_rank is None else URGENCY_NAMES[min(r.worst_rank, 2)],
                oldest_alert=r.oldest_alert,
                medicine=prescription.medicine if prescription else None,
                prescription_status=prescription.status if prescription else None,
                daily_dose=format_mg(dose_on(course, local_today)) if prescription else None,
                days_on_treatment=days_on_treatment(course, local_today) if course else None,
                recent_pain=recent,
                baseline_pain=base,
                pain_change_percent=percent_change(base, recent),
                adherence=adherence(course, doses[pid], local_today) if course else None,
                next_follow_up=next_follow_up(follow_ups[pid], local_today),
                questionnaires_28_days=counts.get(pid, 0),
            )
        )
    pages = max(1, -(-total // per_page))
    return Caseload(entries, total, page, pages, attention_only, name)


# ------------------------------------------------------------------- patient record


@dataclass(frozen=True)
class TimelineItem:
    day: date
    at: datetime | None
    kind: str
    text: str
    who: str | None = None


@dataclass(frozen=True)
class Course:
    id: uuid.UUID
    medicine: str
    status: str
    daily_dose: str
    days_on_treatment: int | None
    off_label: bool
    indication: str | None
    steps: list[tuple[date, str, str | None, str | None]]  # start, dose, reason, who


@dataclass(frozen=True)
class DiaryWeek:
    first: date
    last: date
    mean_pain: float | None
    days: int


@dataclass
class PatientRecord:
    patient: Patient
    today: date
    team: list[CareTeamMemberRead]
    referrals: list[ReferralRead]
    courses: list[Course]
    current: Course | None
    snapshot: dict[str, Any] | None
    timeline: list[TimelineItem]
    diary_weeks: list[DiaryWeek]
    questionnaires: list[Any]
    side_effects: list[Any]
    therapies: list[Any]
    alerts: list[Any]
    reviews: list[tuple[ReviewRead, str]]
    follow_ups: list[FollowUpRead]
    taper_plans: list[Any]
    notes: list[tuple[NoteRead, str]]
    user_names: dict[uuid.UUID, str]


DIARY_WEEKS = 12
RECORD_QUESTIONNAIRES = 40
RECORD_THERAPIES = 40


def patient_record(db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID) -> PatientRecord:
    """Everything about one patient for their care team, with one timeline of what
    happened, who did it and why. Audited as one read of the record."""
    patient = authorize_patient(db, actor, patient_id, ctx, resource_type=RECORD, action="read")
    _clinicians_only(db, actor, patient, ctx, RECORD, "read")
    today = patient_today(patient, ctx)
    prescriptions = list(repository.prescriptions(db, patient.id))
    steps_rows = repository.dose_steps(db, [p.id for p in prescriptions])
    episodes = repository.episodes(db, patient.id)
    referrals = [_referral_read(r) for r in repository.referrals_of_patient(db, patient.id)]
    side_effects = list(repository.side_effects(db, patient.id))
    tapers = list(repository.taper_plans(db, patient.id))
    alerts = list(
        repository.alerts_of_patient(db, patient.id, ("open", "acknowledged", "resolved"))
    )
    reviews = [
        ReviewRead.model_validate(r)
        for r in repository.reviews(db, patient.id, after=None, limit=500)
    ]
    notes = [
        NoteRead.model_validate(n) for n in repository.notes(db, patient.id, after=None, limit=500)
    ]
    follow_ups = [
        FollowUpRead.model_validate(f)
        for f in repository.follow_ups(
            db, patient.id, start=None, end=None, status=None, after=None, limit=500
        )
    ]
    users = repository.user_names(
        db,
        {s.changed_by for s in steps_rows if s.changed_by}
        | {a.acknowledged_by for a in alerts if a.acknowledged_by}
        | {a.resolved_by for a in alerts if a.resolved_by}
        | {e.created_by for e in episodes if e.created_by},
    )
    clinicians = repository.clinician_names(
        db,
        {p.prescriber_id for p in prescriptions}
        | {r.clinician_id for r in reviews}
        | {n.clinician_id for n in notes},
    )
    by_prescription: dict[uuid.UUID, list[Step]] = {p.id: [] for p in prescriptions}
    course_steps: dict[uuid.UUID, list[tuple[date, str, str | None, str | None]]] = {
        p.id: [] for p in prescriptions
    }
    prescriber = {p.id: clinicians.get(p.prescriber_id) for p in prescriptions}
    for s in steps_rows:
        by_prescription[s.prescription_id].append(Step(s.start, Decimal(s.daily_dose_mg)))
        who = users.get(s.changed_by) if s.changed_by else prescriber.get(s.prescription_id)
        course_steps[s.prescription_id].append(
            (s.start, format_mg(Decimal(s.daily_dose_mg)), s.reason, who)
        )
    courses = [
        Course(
            id=p.id,
            medicine=p.medicine,
            status=p.status,
            daily_dose=format_mg(dose_on(by_prescription[p.id], today)),
            days_on_treatment=days_on_treatment(by_prescription[p.id], today),
            off_label=p.off_label,
            indication=p.indication,
            steps=course_steps[p.id],
        )
        for p in prescriptions
    ]
    current_rx = next(
        (p for p in reversed(prescriptions) if p.status in ("active", "tapering")), None
    )
    current = next((c for c in courses if current_rx and c.id == current_rx.id), None)
    snapshot = compute_snapshot(db, patient, current_rx, ctx) if current_rx else None

    tz = patient.timezone
    timeline: list[TimelineItem] = []
    for e in episodes:
        timeline.append(
            TimelineItem(
                e.onset_date,
                None,
                "Episode",
                f"{e.condition.replace('-', ' ')} since {e.onset_date:%d %b %Y}"
                + (f": {', '.join(e.symptoms)}" if e.symptoms else ""),
                users.get(e.created_by) if e.created_by else None,
            )
        )
    for r in referrals:
        timeline.append(
            TimelineItem(
                _local(r.created_at, tz).date(),
                r.created_at,
                "Referral",
                f"Referred to {r.to_clinician_name}: {r.reason}",
                r.from_clinician_name,
            )
        )
        if r.decided_at:
            timeline.append(
                TimelineItem(
                    _local(r.decided_at, tz).date(),
                    r.decided_at,
                    "Referral",
                    f"Referral {r.status}" + (f": {r.decision_note}" if r.decision_note else ""),
                    r.to_clinician_name,
                )
            )
    for p in prescriptions:
        extra = " (off-label)" if p.off_label else ""
        if p.override_reason:
            extra += f"; warning accepted: {p.override_reason}"
        timeline.append(
            TimelineItem(
                _local(p.created_at, tz).date(),
                p.created_at,
                "Prescription",
                f"{p.medicine.capitalize()} prescribed{extra}",
                prescriber.get(p.id),
            )
        )
        for start, dose, reason, who in course_steps[p.id]:
            timeline.append(
                TimelineItem(
                    start,
                    None,
                    "Dose change",
                    f"{p.medicine.capitalize()} {dose} a day from {start:%d %b %Y}"
                    + (f" ({reason})" if reason else ""),
                    who,
                )
            )
        if p.stopped_on:
            timeline.append(
                TimelineItem(p.stopped_on, None, "Prescription", f"{p.medicine} stopped", None)
            )
    for report in side_effects:
        timeline.append(
            TimelineItem(
                report.started_on,
                None,
                "Side effect",
                f"{report.symptom} ({report.severity}); triage: {report.triage_level}",
                "patient",
            )
        )
    for t in tapers:
        timeline.append(
            TimelineItem(
                t.start,
                None,
                "Taper plan",
                f"Taper over {t.weeks} weeks ({t.status})" + (f": {t.note}" if t.note else ""),
                None,
            )
        )
    for a in alerts:
        timeline.append(
            TimelineItem(
                _local(a.created_at, tz).date(),
                a.created_at,
                "Alert",
                f"{a.urgency.capitalize()}: {a.summary} ({a.status})",
                None,
            )
        )
    for rv in reviews:
        timeline.append(
            TimelineItem(
                _local(rv.created_at, tz).date(),
                rv.created_at,
                "Review",
                f"Decision: {rv.decision}. {rv.reason}",
                clinicians.get(rv.clinician_id),
            )
        )
    for n in notes:
        timeline.append(
            TimelineItem(
                _local(n.created_at, tz).date(),
                n.created_at,
                "Note",
                n.text,
                clinicians.get(n.clinician_id),
            )
        )
    for f in follow_ups:
        if f.status != "scheduled":
            timeline.append(TimelineItem(f.due, None, "Follow-up", f"{f.kind} ({f.status})", None))
    timeline.sort(
        key=lambda i: (
            i.day,
            i.at or datetime.combine(i.day, datetime.min.time(), ZoneInfo("UTC")),
        ),
        reverse=True,
    )

    first = today - timedelta(days=7 * DIARY_WEEKS - 1)
    entries = repository.diary(db, patient.id, first, today)
    weeks: list[DiaryWeek] = []
    for w in range(DIARY_WEEKS):
        start = first + timedelta(days=7 * w)
        end = start + timedelta(days=6)
        pains = [e.pain for e in entries if start <= e.date <= end]
        weeks.append(DiaryWeek(start, end, mean(pains), len(pains)))
    weeks.reverse()

    record_access(db, actor, patient, ctx, resource_type=RECORD, action="read")
    return PatientRecord(
        patient=patient,
        today=today,
        team=[
            CareTeamMemberRead(clinician_id=c.id, name=c.name, role=m.role)
            for m, c in repository.care_team(db, patient.id)
        ],
        referrals=referrals,
        courses=courses,
        current=current,
        snapshot=snapshot,
        timeline=timeline,
        diary_weeks=weeks,
        questionnaires=list(
            repository.questionnaire_responses(db, patient.id, RECORD_QUESTIONNAIRES)
        ),
        side_effects=side_effects,
        therapies=list(repository.therapy_sessions(db, patient.id, RECORD_THERAPIES)),
        alerts=alerts,
        reviews=[(r, clinicians.get(r.clinician_id, "")) for r in reversed(reviews)],
        follow_ups=follow_ups,
        taper_plans=tapers,
        notes=[(n, clinicians.get(n.clinician_id, "")) for n in reversed(notes)],
        user_names=users,
    )


def current_prescription_id(db: Session, patient_id: uuid.UUID) -> uuid.UUID | None:
    """The patient's latest active or tapering course (for forms that default to it)."""
    rows = [
        p for p in repository.prescriptions(db, patient_id) if p.status in ("active", "tapering")
    ]
    return rows[-1].id if rows else None


# ------------------------------------------------------------------- clinical facts
#
# What the prescribing checks read about the patient (creatinine clearance, liver
# impairment, uncontrolled hypertension, other conditions). The ETag carries the facts'
# own version (migration 0006), and a change is a compare-and-set on it, so two
# clinicians changing the facts at once cannot both win.

FACTS = "clinical-facts"
FACT_FIELDS = (
    "renal_crcl_ml_min",
    "hepatic_impairment",
    "bp_uncontrolled",
    "conditions",
    "bp_alert_systolic",
    "bp_alert_diastolic",
)


def _facts_of(patient: Patient) -> dict[str, Any]:
    return {
        "renal_crcl_ml_min": patient.renal_crcl_ml_min,
        "hepatic_impairment": patient.hepatic_impairment,
        "bp_uncontrolled": patient.bp_uncontrolled,
        "conditions": list(patient.conditions or []),
        "bp_alert_systolic": patient.bp_alert_systolic,
        "bp_alert_diastolic": patient.bp_alert_diastolic,
    }


def _facts_read(patient: Patient) -> ClinicalFactsRead:
    return ClinicalFactsRead(
        patient_id=patient.id, version=patient.facts_version, **_facts_of(patient)
    )


def facts_etag(read: ClinicalFactsRead) -> str:
    return etag(read.patient_id, read.version)


def get_clinical_facts(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID
) -> ClinicalFactsRead:
    """The recorded facts (the patient and their care team read them); audited."""
    return clinical_facts_page(db, actor, ctx, patient_id)[0]


def clinical_facts_page(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID
) -> tuple[ClinicalFactsRead, str]:
    """The recorded facts and the patient's name, for the clinician's page; audited."""
    patient = authorize_patient(db, actor, patient_id, ctx, resource_type=FACTS, action="read")
    record_access(db, actor, patient, ctx, resource_type=FACTS, action="read")
    return _facts_read(patient), patient.name


def update_clinical_facts(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient_id: uuid.UUID,
    data: ClinicalFactsWrite,
    *,
    if_match: str | None,
) -> ClinicalFactsRead:
    """Replace the recorded facts (clinicians in the care team; If-Match: the ETag read
    last). Audited with the names of the facts that changed (never their values)."""
    patient = authorize_patient(
        db,
        actor,
        patient_id,
        ctx,
        resource_type=FACTS,
        action="update",
        writers=CLINICIAN_ONLY,
    )
    old = _facts_of(patient)
    check_if_match(if_match, patient.id, patient.facts_version)
    new = data.model_dump()
    new["conditions"] = list(dict.fromkeys(c.strip() for c in new["conditions"] if c.strip()))
    if not repository.replace_clinical_facts(db, patient.id, patient.facts_version, new):
        raise stale_record()
    db.refresh(patient)
    changed = [name for name in FACT_FIELDS if old[name] != new[name]]
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=FACTS,
        action="update",
        resource_id=str(patient.id),
        reason="changed: " + (", ".join(changed) if changed else "nothing"),
    )
    return _facts_read(patient)
