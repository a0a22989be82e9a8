"""Queries for accounts and sessions."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from painpath.audit.models import AuditEvent
from painpath.auth.models import PasswordReset, ThrottleEvent, User, UserSession
from painpath.care.models import Clinician, Patient

BREAK_GLASS = "break-glass"


def user_by_email(db: Session, email: str) -> User | None:
    return db.scalars(select(User).where(User.email == email)).one_or_none()


def user_by_id(db: Session, user_id: uuid.UUID) -> User | None:
    return db.get(User, user_id)


def session_by_token_hash(db: Session, token_hash: str) -> UserSession | None:
    return db.scalars(select(UserSession).where(UserSession.token_hash == token_hash)).one_or_none()


def signed_in(
    db: Session, token_hash: str
) -> tuple[UserSession, User, uuid.UUID | None, uuid.UUID | None] | None:
    """The session, its account, and the account's patient or clinician id, in one
    statement (every signed-in request starts here)."""
    row = db.execute(
        select(UserSession, User, Patient.id, Clinician.id)
        .join(User, User.id == UserSession.user_id)
        .outerjoin(Patient, Patient.user_id == User.id)
        .outerjoin(Clinician, Clinician.user_id == User.id)
        .where(UserSession.token_hash == token_hash)
    ).first()
    if row is None:
        return None
    session, user, patient_id, clinician_id = row
    return session, user, patient_id, clinician_id


def patient_id_for_user(db: Session, user_id: uuid.UUID) -> uuid.UUID | None:
    return db.scalars(select(Patient.id).where(Patient.user_id == user_id)).one_or_none()


def clinician_id_for_user(db: Session, user_id: uuid.UUID) -> uuid.UUID | None:
    return db.scalars(select(Clinician.id).where(Clinician.user_id == user_id)).one_or_none()


def session_by_id(db: Session, session_id: uuid.UUID) -> UserSession | None:
    return db.get(UserSession, session_id)


def revoke_sessions(
    db: Session, user_id: uuid.UUID, now: datetime, *, keep: uuid.UUID | None = None
) -> None:
    """End every live session of one account (except ``keep``)."""
    query = update(UserSession).where(
        UserSession.user_id == user_id, UserSession.revoked_at.is_(None)
    )
    if keep is not None:
        query = query.where(UserSession.id != keep)
    db.execute(query.values(revoked_at=now))


def known_device(db: Session, user_id: uuid.UUID, device_hash: str) -> bool:
    """True when this account signed in before from the device with this cookie."""
    found = db.scalars(
        select(UserSession.id)
        .where(UserSession.device_hash == device_hash, UserSession.user_id == user_id)
        .limit(1)
    ).first()
    return found is not None


def reset_by_token_hash(db: Session, token_hash: str) -> PasswordReset | None:
    return db.scalars(
        select(PasswordReset).where(PasswordReset.token_hash == token_hash)
    ).one_or_none()


def use_up_resets(db: Session, user_id: uuid.UUID, now: datetime) -> None:
    """Mark every open reset link of the account as used."""
    db.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )


def break_glass_patients(db: Session, user_id: uuid.UUID, since: datetime) -> frozenset[uuid.UUID]:
    """Patients an administrator opened with a recorded break-glass reason since ``since``."""
    rows = db.scalars(
        select(AuditEvent.patient_id).where(
            AuditEvent.actor_user_id == user_id,
            AuditEvent.action == BREAK_GLASS,
            AuditEvent.outcome == "allowed",
            AuditEvent.occurred_at >= since,
            AuditEvent.patient_id.is_not(None),
        )
    ).all()
    return frozenset(r for r in rows if r is not None)


def patient_exists(db: Session, patient_id: uuid.UUID) -> bool:
    return db.get(Patient, patient_id) is not None


def throttle_times(db: Session, scope: str, key_hash: str, since: datetime) -> list[datetime]:
    """When the counted attempts of one key happened after ``since``, oldest first."""
    return list(
        db.scalars(
            select(ThrottleEvent.at)
            .where(
                ThrottleEvent.scope == scope,
                ThrottleEvent.key_hash == key_hash,
                ThrottleEvent.at > since,
            )
            .order_by(ThrottleEvent.at)
        )
    )


def add_throttle_event(
    db: Session, scope: str, key_hash: str, at: datetime, *, forget_before: datetime
) -> None:
    """Count one attempt, and forget every attempt no window looks at any more."""
    db.execute(delete(ThrottleEvent).where(ThrottleEvent.at < forget_before))
    db.execute(insert(ThrottleEvent).values(scope=scope, key_hash=key_hash, at=at))
