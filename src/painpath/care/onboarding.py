"""Joining PainPath: a clinician invites a patient, the patient sets a password and
consents, then records their back-pain episode after the red-flag screen.

The red-flag screen comes first: any positive answer stops the flow with the urgent
instructions (clinical/reference.md §2.5) and alerts the care team at once.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from painpath.alerts.service import raise_alert
from painpath.audit import service as audit
from painpath.auth import service as auth_service
from painpath.auth.domain import Actor, Role, check_password_policy, normalise_email
from painpath.auth.models import User
from painpath.care.models import (
    CareEpisode,
    CareTeamMember,
    Clinician,
    Consent,
    Invitation,
    Notification,
    Patient,
)
from painpath.care.service import authorize_patient, patient_today, record_access, record_denied
from painpath.config import Settings
from painpath.kit.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from painpath.kit.records import Ctx
from painpath.questionnaires.domain import advice_for, load_instruments, score
from painpath.questionnaires.models import QuestionnaireResponse

INVITATION_DAYS = 7
CHRONIC_WEEKS = 12  # seed article; NICE NG59 scope
CONSENT_VERSION = "2026-11"
CONSENT_TEXT = (
    "I agree that PainPath keeps what I record (diary, doses, side effects and "
    "questionnaires) and that my care team can see it to look after me. I can withdraw "
    "this at any time."
)
CONDITIONS = {
    "chronic-low-back-pain": "Chronic low back pain",
    "sciatica": "Sciatica",
    "both": "Both",
}
PAIN_SITES = ("lower back", "buttock", "left leg", "right leg", "foot")
SYMPTOMS = ("tingling", "numbness", "weakness")
INVALID_LINK = (
    "This invitation link is not valid any more: it may have expired or been used already. "
    "Ask your care team for a new one."
)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Invited:
    patient_id: uuid.UUID
    token: str
    expires_at: datetime


def invite_patient(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    *,
    name: str,
    email: str,
    date_of_birth: date | None,
) -> Invited:
    """Create the patient record in the clinician's care and a single-use invitation."""
    if not actor.is_clinician or actor.clinician_id is None:
        raise Forbidden("only clinicians invite patients")
    problems = []
    name = name.strip()
    email = normalise_email(email)
    if not name:
        problems.append(Problem("name", "enter the patient's full name"))
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        problems.append(Problem("email", "enter an email address like name@example.com"))
    if date_of_birth and date_of_birth >= ctx.now.date():
        problems.append(Problem("date_of_birth", "the date of birth must be in the past"))
    if problems:
        raise InvalidInput("check the details", problems)
    if db.scalars(select(User.id).where(User.email == email)).first() is not None:
        raise Conflict("someone already has a PainPath account with this email address")
    clinician = db.get(Clinician, actor.clinician_id)
    patient = Patient(id=uuid.uuid4(), name=name, date_of_birth=date_of_birth)
    db.add(patient)
    db.flush()
    db.add(
        CareTeamMember(
            patient_id=patient.id,
            clinician_id=actor.clinician_id,
            role=clinician.kind if clinician else "gp",
            added_at=ctx.now,
        )
    )
    token = secrets.token_urlsafe(32)
    expires = ctx.now + timedelta(days=INVITATION_DAYS)
    db.add(
        Invitation(
            patient_id=patient.id,
            email=email,
            token_hash=_hash(token),
            created_by=actor.user_id,
            created_at=ctx.now,
            expires_at=expires,
        )
    )
    db.flush()
    audit.record(
        db,
        actor,
        action="invite",
        resource_type="patient",
        resource_id=str(patient.id),
        patient_id=patient.id,
        request_id=ctx.request_id,
        now=ctx.now,
    )
    return Invited(patient_id=patient.id, token=token, expires_at=expires)


def open_invitation(db: Session, token: str, now: datetime) -> Invitation:
    invitation = db.scalars(
        select(Invitation).where(Invitation.token_hash == _hash(token))
    ).one_or_none()
    if invitation is None or invitation.used_at is not None or now >= invitation.expires_at:
        raise NotFound(INVALID_LINK)
    return invitation


def accept_invitation(
    db: Session,
    ctx: Ctx,
    settings: Settings,
    *,
    token: str,
    password: str,
    password_again: str,
    consent: bool,
) -> auth_service.SignedIn:
    """Set the password, record consent, sign the new patient in; the link is spent."""
    invitation = open_invitation(db, token, ctx.now)
    problems = []
    try:
        check_password_policy(password)
    except InvalidInput as exc:
        problems += exc.problems
    if password != password_again:
        problems.append(Problem("password_again", "the two passwords are not the same"))
    if not consent:
        problems.append(
            Problem("consent", "PainPath can only be used if you agree to how your data is used")
        )
    if problems:
        raise InvalidInput("check your answers", problems)
    patient = db.get(Patient, invitation.patient_id)
    if patient is None:
        raise NotFound(INVALID_LINK)
    user = auth_service.create_user(
        db,
        email=invitation.email,
        password=password,
        role=Role.PATIENT,
        display_name=patient.name,
    )
    patient.user_id = user.id
    invitation.used_at = ctx.now
    db.add(
        Consent(
            patient_id=patient.id,
            kind="care-team-data",
            text_version=CONSENT_VERSION,
            given_at=ctx.now,
        )
    )
    db.flush()
    return auth_service.login(
        db,
        settings,
        email=invitation.email,
        password=password,
        totp=None,
        now=ctx.now,
        request_id=ctx.request_id,
    )


def consents(db: Session, actor: Actor, ctx: Ctx) -> list[Consent]:
    if actor.patient_id is None:
        raise Forbidden("only patients have consents")
    items = list(
        db.scalars(
            select(Consent).where(Consent.patient_id == actor.patient_id).order_by(Consent.given_at)
        )
    )
    audit.record(
        db,
        actor,
        action="read",
        resource_type="consent",
        patient_id=actor.patient_id,
        request_id=ctx.request_id,
        now=ctx.now,
    )
    return items


def withdraw_consent(db: Session, actor: Actor, ctx: Ctx, consent_id: uuid.UUID) -> Consent:
    consent = db.get(Consent, consent_id)
    if consent is None or consent.patient_id != actor.patient_id:
        record_denied(
            db,
            actor,
            ctx,
            action="withdraw-consent",
            resource_type="consent",
            resource_id=str(consent_id),
            reason="not the patient's own consent, or no such consent",
        )
        raise NotFound("no such consent")
    if consent.withdrawn_at is None:
        consent.withdrawn_at = ctx.now
        audit.record(
            db,
            actor,
            action="withdraw-consent",
            resource_type="consent",
            resource_id=str(consent.id),
            patient_id=consent.patient_id,
            request_id=ctx.request_id,
            now=ctx.now,
        )
        _tell_the_care_team(db, consent.patient_id, ctx)
    return consent


def _tell_the_care_team(db: Session, patient_id: uuid.UUID, ctx: Ctx) -> None:
    """An in-app message to each clinician of the care team (shown on the caseload)."""
    patient = db.get(Patient, patient_id)
    name = patient.name if patient is not None else "A patient"
    members = db.execute(
        select(Clinician.user_id)
        .join(CareTeamMember, CareTeamMember.clinician_id == Clinician.id)
        .where(CareTeamMember.patient_id == patient_id, CareTeamMember.removed_at.is_(None))
    ).all()
    for (user_id,) in members:
        db.add(
            Notification(
                id=uuid.uuid4(),
                user_id=user_id,
                patient_id=patient_id,
                kind="consent-withdrawn",
                title="A patient withdrew their consent",
                body=f"{name} withdrew their consent to PainPath keeping and sharing what "
                "they record. PainPath has stopped their reminders. Please talk to them "
                "about how they want their care to continue.",
                link=f"/patients/{patient_id}",
                created_at=ctx.now,
            )
        )
    db.flush()


@dataclass(frozen=True)
class RedFlagResult:
    positive: bool
    advice: list[dict[str, Any]]


def red_flag_screen(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID, answers: list[int]
) -> RedFlagResult:
    """Score the red-flag screen, keep it, and alert the care team at once if positive."""
    patient = authorize_patient(
        db,
        actor,
        patient_id,
        ctx,
        resource_type="questionnaire-response",
        action="create",
        writers=frozenset({"patient"}),
    )
    result = score("redflags", answers)
    response = QuestionnaireResponse(
        id=uuid.uuid4(),
        patient_id=patient.id,
        instrument="redflags",
        instrument_version=load_instruments()["redflags"].version,
        answers=list(answers),
        total=result.total,
        band=result.band,
        subscales=dict(result.subscales),
        flags=list(result.flags),
        completed_at=ctx.now,
        created_by=actor.user_id,
        created_at=ctx.now,
    )
    db.add(response)
    db.flush()
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type="questionnaire-response",
        action="create",
        resource_id=str(response.id),
    )
    advice = [a.to_dict() for a in advice_for(result)]
    if "red-flag" in result.flags:
        emergency = "cauda-equina" in result.flags
        raise_alert(
            db,
            patient_id=patient.id,
            rule="red-flag",
            cause_key=f"red-flag:{response.id}",
            urgency="emergency" if emergency else "urgent",
            summary=(
                "Red-flag screen positive at joining"
                + (": possible cauda equina syndrome." if emergency else ".")
            ),
            source="clinical/reference.md §2.5 (NICE CKS Sciatica red flags; GIRFT CES pathway)",
            now=ctx.now,
        )
    return RedFlagResult(positive="red-flag" in result.flags, advice=advice)


def red_flag_screen_passed(db: Session, patient_id: uuid.UUID | None) -> bool:
    """The safety questions come first (clinical/reference.md §2.5): True once the
    patient's latest red-flag screen was answered with no red flag."""
    if patient_id is None:
        return False
    latest = db.scalars(
        select(QuestionnaireResponse)
        .where(
            QuestionnaireResponse.patient_id == patient_id,
            QuestionnaireResponse.instrument == "redflags",
        )
        .order_by(QuestionnaireResponse.completed_at.desc())
        .limit(1)
    ).first()
    return latest is not None and "red-flag" not in (latest.flags or [])


def may_record_episode(db: Session, actor: Actor, ctx: Ctx) -> bool:
    """For the joining pages: whether the patient may record their episode now (a clear
    red-flag screen first); a refusal is audited."""
    if red_flag_screen_passed(db, actor.patient_id):
        return True
    audit.record(
        db,
        actor,
        action="create",
        resource_type="care-episode",
        patient_id=actor.patient_id,
        outcome="denied",
        request_id=ctx.request_id,
        now=ctx.now,
        reason="the red-flag screen is not answered or not clear",
    )
    return False


def record_episode(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient_id: uuid.UUID,
    *,
    condition: str,
    onset_date: date | None,
    pain_sites: list[str],
    symptoms: list[str],
) -> CareEpisode:
    patient = authorize_patient(
        db,
        actor,
        patient_id,
        ctx,
        resource_type="care-episode",
        action="create",
        writers=frozenset({"patient", "clinician"}),
    )
    if actor.is_patient and not red_flag_screen_passed(db, patient.id):
        raise InvalidInput(
            "answer the safety questions first; if any answer was yes, follow the advice "
            "you were given and your care team will be in touch",
            field="red_flags",
        )
    problems = []
    if condition not in CONDITIONS:
        problems.append(Problem("condition", "choose chronic low back pain, sciatica or both"))
    today = patient_today(patient, ctx)
    if onset_date is None:
        problems.append(Problem("onset_date", "enter the date your pain started"))
    elif onset_date > today:
        problems.append(Problem("onset_date", "the date your pain started cannot be in the future"))
    bad_sites = [s for s in pain_sites if s not in PAIN_SITES]
    bad_symptoms = [s for s in symptoms if s not in SYMPTOMS]
    if bad_sites:
        problems.append(Problem("pain_sites", f"unknown place: {', '.join(bad_sites)}"))
    if bad_symptoms:
        problems.append(Problem("symptoms", f"unknown symptom: {', '.join(bad_symptoms)}"))
    if problems or onset_date is None:
        raise InvalidInput("check your answers", problems)
    episode = CareEpisode(
        id=uuid.uuid4(),
        patient_id=patient.id,
        condition=condition,
        onset_date=onset_date,
        symptoms=symptoms,
        pain_sites=pain_sites,
        created_by=actor.user_id,
        created_at=ctx.now,
    )
    db.add(episode)
    db.flush()
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type="care-episode",
        action="create",
        resource_id=str(episode.id),
    )
    return episode


def is_chronic(onset_date: date, today: date) -> bool:
    """Chronic = pain for more than 12 weeks (seed article)."""
    return (today - onset_date).days > CHRONIC_WEEKS * 7
