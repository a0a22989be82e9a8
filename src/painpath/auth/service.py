"""Accounts, sign-in and sessions.

Sign-in checks the password (argon2id) and, for accounts with a second factor,
a TOTP code that may not be replayed. A session is a random token whose SHA-256
is stored server-side, so logging out or disabling an account takes effect on
the next request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import update
from sqlalchemy.orm import Session

from painpath.audit import service as audit
from painpath.auth import repository
from painpath.auth.domain import (
    Actor,
    Role,
    check_password_policy,
    normalise_email,
    session_idle_limit_minutes,
)
from painpath.auth.models import User, UserSession
from painpath.auth.passwords import hash_password, verify_password
from painpath.config import Settings
from painpath.kit.errors import Conflict, InvalidInput, Problem, Unauthorized

BAD_CREDENTIALS = "the email, password or code is not right"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    db: Session,
    *,
    email: str,
    password: str,
    role: Role,
    display_name: str,
    totp_secret: str | None = None,
) -> User:
    email = normalise_email(email)
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise InvalidInput("the email address is not valid", [Problem("email", "not valid")])
    check_password_policy(password)
    if repository.user_by_email(db, email) is not None:
        raise Conflict(f"an account with the email {email} already exists")
    if role is not Role.PATIENT and totp_secret is None:
        totp_secret = pyotp.random_base32()
    user = User(
        email=email,
        password_hash=hash_password(password),
        role=role.value,
        display_name=display_name,
        totp_secret=totp_secret,
    )
    db.add(user)
    db.flush()
    return user


@dataclass(frozen=True)
class SignedIn:
    token: str
    actor: Actor
    expires_at: datetime


def _check_totp(user: User, code: str | None, now: datetime) -> bool:
    if user.totp_secret is None:
        return True
    if not code or not code.strip().isdigit():
        return False
    totp = pyotp.TOTP(user.totp_secret)
    current = int(now.timestamp()) // totp.interval
    for step in (current - 1, current, current + 1):
        if secrets.compare_digest(totp.generate_otp(step), code.strip()):
            if user.totp_last_step is not None and step <= user.totp_last_step:
                return False  # a code may be used once
            user.totp_last_step = step
            return True
    return False


def login(
    db: Session,
    settings: Settings,
    *,
    email: str,
    password: str,
    totp: str | None,
    now: datetime,
    request_id: str | None = None,
) -> SignedIn:
    """Sign in; every failure gives the same message, whatever was wrong."""
    user = repository.user_by_email(db, normalise_email(email))
    ok, new_hash = verify_password(password, user.password_hash if user else None)
    if user is None or not ok or not user.is_active or not _check_totp(user, totp, now):
        raise Unauthorized(BAD_CREDENTIALS)
    if new_hash is not None:
        user.password_hash = new_hash
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=settings.session_absolute_hours)
    row = UserSession(
        token_hash=hash_token(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=expires,
    )
    db.add(row)
    db.flush()
    actor = _actor_for(db, user, row)
    audit.record(
        db,
        actor,
        action="sign-in",
        resource_type="session",
        resource_id=str(row.id),
        request_id=request_id,
        now=now,
    )
    return SignedIn(token=token, actor=actor, expires_at=expires)


def _actor_for(db: Session, user: User, row: UserSession | None) -> Actor:
    role = Role(user.role)
    return Actor(
        user_id=user.id,
        role=role,
        display_name=user.display_name,
        patient_id=repository.patient_id_for_user(db, user.id) if role is Role.PATIENT else None,
        clinician_id=(
            repository.clinician_id_for_user(db, user.id) if role is Role.CLINICIAN else None
        ),
        session_id=row.id if row else None,
        csrf_token=row.csrf_token if row else "",
    )


def authenticate(db: Session, settings: Settings, token: str, now: datetime) -> Actor | None:
    """The actor for a session token, or None if it is unknown, revoked or timed out."""
    row = repository.session_by_token_hash(db, hash_token(token))
    if row is None or row.revoked_at is not None or now >= row.expires_at:
        return None
    user = repository.user_by_id(db, row.user_id)
    if user is None or not user.is_active:
        return None
    idle = session_idle_limit_minutes(
        Role(user.role),
        settings.session_idle_minutes_clinician,
        settings.session_idle_minutes_patient,
    )
    if now - row.last_seen_at > timedelta(minutes=idle):
        row.revoked_at = now
        return None
    if now - row.last_seen_at > timedelta(seconds=30):
        row.last_seen_at = now
    return _actor_for(db, user, row)


def logout(db: Session, actor: Actor, now: datetime) -> None:
    if actor.session_id is None:
        return
    db.execute(update(UserSession).where(UserSession.id == actor.session_id).values(revoked_at=now))
