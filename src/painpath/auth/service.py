"""Accounts, sign-in, sessions, password changes and resets, step-up re-authentication.

Sign-in checks the password (argon2id) and, for accounts with a second factor,
a TOTP code that may not be replayed. A session is a random token whose SHA-256
is stored server-side, so logging out, changing the password or disabling an
account takes effect on the next request.

Throttles (``kit.security.Throttles``; the attempts are counted in the database, so
every server process sees the same counts) hold back guessing:
after 10 failed attempts on one account in 15 minutes, that account is only tried
again with a correct second-factor code or from a device it signed in from before,
so a stranger cannot lock its owner out; after 30 failures from one address in a
minute, that address waits. At most 4 password hashes are checked at once.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

import pyotp
from sqlalchemy import update
from sqlalchemy.orm import Session

from painpath.audit import service as audit
from painpath.auth import repository
from painpath.auth.domain import (
    BREAK_GLASS_MINUTES,
    RESET_TOKEN_MINUTES,
    STEP_UP_MINUTES,
    Actor,
    Role,
    check_password_policy,
    normalise_email,
    session_idle_limit_minutes,
)
from painpath.auth.models import PasswordReset, User, UserSession
from painpath.auth.passwords import hash_password, verify_password
from painpath.config import Settings
from painpath.kit.errors import Conflict, InvalidInput, Problem, Unauthorized
from painpath.kit.ratelimit import Window
from painpath.kit.security import ServiceBusy, StepUpRequired, Throttles, TooManyRequests

log = logging.getLogger("painpath.auth")

BAD_CREDENTIALS = "the email, password or code is not right"
THROTTLED = (
    "too many sign-in attempts: wait a few minutes and try again. If you have a security "
    "code, entering it with your password still works"
)
BUSY = "PainPath is busy checking sign-ins: try again in a few seconds"
SESSION = "session"
T = TypeVar("T")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _account_key(email: str) -> str:
    return "account:" + hash_token(normalise_email(email))


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
    # The "known device" cookie to keep on this device (see the module docstring).
    device_token: str | None = None


def _check_totp(user: User, code: str | None, now: datetime) -> bool:
    if user.totp_secret is None:
        return True
    if not code or not code.strip().isdecimal():
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


def _hashing(throttles: Throttles | None, work: Callable[[], T]) -> T:
    """Run a password-hash check through the bounded gate (503 when it stays full)."""
    if throttles is None:
        return work()
    with throttles.hashing.enter() as admitted:
        if not admitted:
            raise ServiceBusy(BUSY)
        return work()


def _held_back(db: Session, window: Window, key: str, now: datetime) -> int | None:
    """Seconds to wait when ``key`` has used up ``window`` (counted in the database, so
    every server process sees the same attempts), else None."""
    times = repository.throttle_times(db, window.scope, hash_token(key), window.since(now))
    return window.retry_after(times, now) if window.exceeded(times) else None


def _count(db: Session, throttles: Throttles, window: Window, key: str, now: datetime) -> None:
    """Count one attempt. Kept even when the request's transaction rolls back (a
    refused sign-in does), like the audit event of a refused access."""
    key_hash, forget = hash_token(key), now - throttles.longest

    def write(session: Session) -> None:
        repository.add_throttle_event(session, window.scope, key_hash, now, forget_before=forget)

    db.info.setdefault("kept_writes", []).append(write)


def _check_address(
    db: Session, throttles: Throttles | None, address: str | None, now: datetime
) -> None:
    if throttles is not None and address:
        wait = _held_back(db, throttles.address, address, now)
        if wait is not None:
            raise TooManyRequests(THROTTLED, wait)


def _check_account(db: Session, throttles: Throttles | None, key: str, now: datetime) -> None:
    if throttles is not None:
        wait = _held_back(db, throttles.account, key, now)
        if wait is not None:
            raise TooManyRequests(THROTTLED, wait)


def _failed(
    db: Session,
    throttles: Throttles | None,
    account_key: str,
    address: str | None,
    now: datetime,
) -> None:
    if throttles is None:
        return
    _count(db, throttles, throttles.account, account_key, now)
    if address:
        _count(db, throttles, throttles.address, address, now)


def login(
    db: Session,
    settings: Settings,
    *,
    email: str,
    password: str,
    totp: str | None,
    now: datetime,
    request_id: str | None = None,
    address: str | None = None,
    device_token: str | None = None,
    previous_token: str | None = None,
    throttles: Throttles | None = None,
) -> SignedIn:
    """Sign in; every failure gives the same message, whatever was wrong.

    ``previous_token`` (the session the request came with, if any) is ended, so a
    session identifier planted before sign-in is never promoted (rotation).
    """
    _check_address(db, throttles, address, now)
    account_key = _account_key(email)
    user = repository.user_by_email(db, normalise_email(email))
    known = bool(
        user is not None
        and device_token
        and repository.known_device(db, user.id, hash_token(device_token))
    )
    second_factor_checked = False
    wait = None
    if throttles is not None and not known:
        wait = _held_back(db, throttles.account, account_key, now)
    if wait is not None:
        # Held back: only a correct second-factor code lets a password be tried now.
        if user is None or user.totp_secret is None or not _check_totp(user, totp, now):
            log.warning("sign-in held back by the account throttle")
            raise TooManyRequests(THROTTLED, wait)
        second_factor_checked = True
    stored = user.password_hash if user else None
    ok, new_hash = _hashing(throttles, lambda: verify_password(password, stored))
    if (
        user is None
        or not ok
        or not user.is_active
        or not (second_factor_checked or _check_totp(user, totp, now))
    ):
        _failed(db, throttles, account_key, address, now)
        log.info("sign-in refused")
        raise Unauthorized(BAD_CREDENTIALS)
    if new_hash is not None:
        user.password_hash = new_hash
    if previous_token:
        _end_session(db, previous_token, now)
    token = secrets.token_urlsafe(32)
    device = device_token if known and device_token else secrets.token_urlsafe(32)
    expires = now + timedelta(hours=settings.session_absolute_hours)
    row = UserSession(
        token_hash=hash_token(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=expires,
        reauth_at=now,
        device_hash=hash_token(device),
    )
    db.add(row)
    db.flush()
    actor = _actor_for(db, user, row, now)
    audit.record(
        db,
        actor,
        action="sign-in",
        resource_type=SESSION,
        resource_id=str(row.id),
        request_id=request_id,
        now=now,
    )
    return SignedIn(token=token, actor=actor, expires_at=expires, device_token=device)


def _end_session(db: Session, token: str, now: datetime) -> None:
    db.execute(
        update(UserSession)
        .where(UserSession.token_hash == hash_token(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def _actor_for(
    db: Session,
    user: User,
    row: UserSession | None,
    now: datetime,
    *,
    ids: tuple[uuid.UUID | None, uuid.UUID | None] | None = None,
) -> Actor:
    """``ids``: the account's patient and clinician ids when already read (else queried)."""
    role = Role(user.role)
    break_glass: frozenset[uuid.UUID] = frozenset()
    if role is Role.ADMIN:
        since = now - timedelta(minutes=BREAK_GLASS_MINUTES)
        break_glass = repository.break_glass_patients(db, user.id, since)
    if ids is None:
        ids = (
            repository.patient_id_for_user(db, user.id) if role is Role.PATIENT else None,
            repository.clinician_id_for_user(db, user.id) if role is Role.CLINICIAN else None,
        )
    patient_id, clinician_id = ids
    return Actor(
        user_id=user.id,
        role=role,
        display_name=user.display_name,
        patient_id=patient_id if role is Role.PATIENT else None,
        clinician_id=clinician_id if role is Role.CLINICIAN else None,
        session_id=row.id if row else None,
        csrf_token=row.csrf_token if row else "",
        break_glass_patients=break_glass,
    )


def authenticate(db: Session, settings: Settings, token: str, now: datetime) -> Actor | None:
    """The actor for a session token, or None if it is unknown, revoked or timed out."""
    found = repository.signed_in(db, hash_token(token))
    if found is None:
        return None
    row, user, patient_id, clinician_id = found
    if row.revoked_at is not None or now >= row.expires_at or not user.is_active:
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
    return _actor_for(db, user, row, now, ids=(patient_id, clinician_id))


def logout(db: Session, actor: Actor, now: datetime) -> None:
    if actor.session_id is None:
        return
    db.execute(update(UserSession).where(UserSession.id == actor.session_id).values(revoked_at=now))


# ------------------------------------------------------------------- step-up


def _prove(
    db: Session,
    actor: Actor,
    *,
    password: str,
    totp: str | None,
    now: datetime,
    throttles: Throttles | None,
    address: str | None,
) -> User:
    """The actor's account if the password (and code, where the account has one) is right."""
    _check_address(db, throttles, address, now)
    user = repository.user_by_id(db, actor.user_id)
    if user is None:
        raise Unauthorized("sign in first")
    key = _account_key(user.email)
    _check_account(db, throttles, key, now)
    ok, _ = _hashing(throttles, lambda: verify_password(password, user.password_hash))
    if not ok or not _check_totp(user, totp, now):
        _failed(db, throttles, key, address, now)
        raise Unauthorized("the password or code is not right")
    return user


def step_up(
    db: Session,
    actor: Actor,
    *,
    password: str,
    totp: str | None,
    now: datetime,
    request_id: str | None = None,
    throttles: Throttles | None = None,
    address: str | None = None,
) -> datetime:
    """Prove the password and code again in this session; returns until when it counts."""
    _prove(db, actor, password=password, totp=totp, now=now, throttles=throttles, address=address)
    row = repository.session_by_id(db, actor.session_id) if actor.session_id else None
    if row is None:
        raise Unauthorized("sign in first")
    row.reauth_at = now
    db.flush()
    audit.record(
        db,
        actor,
        action="step-up",
        resource_type=SESSION,
        resource_id=str(row.id),
        request_id=request_id,
        now=now,
    )
    return now + timedelta(minutes=STEP_UP_MINUTES)


def require_recent_reauth(db: Session, actor: Actor, now: datetime) -> None:
    """Refuse (401 with a step-up challenge) unless the actor proved their password and
    second factor in this session within the last 5 minutes (sign-in counts).

    Call it in a service before a dose change or a taper, after authorising the patient.
    """
    row = repository.session_by_id(db, actor.session_id) if actor.session_id else None
    if (
        row is None
        or row.reauth_at is None
        or now - row.reauth_at > timedelta(minutes=STEP_UP_MINUTES)
    ):
        raise StepUpRequired(
            "confirm it is you before changing a dose: enter your password and security "
            "code again (POST /api/v1/auth/step-up, or the page /step-up), then repeat the "
            "change",
            STEP_UP_MINUTES * 60,
        )


# --------------------------------------------------------- password changes


def _set_password(db: Session, user: User, new_password: str, now: datetime) -> None:
    check_password_policy(new_password, field="new_password")
    user.password_hash = hash_password(new_password)
    user.password_changed_at = now
    repository.use_up_resets(db, user.id, now)
    repository.revoke_sessions(db, user.id, now)
    db.flush()


def change_password(
    db: Session,
    actor: Actor,
    *,
    current_password: str,
    new_password: str,
    totp: str | None,
    now: datetime,
    request_id: str | None = None,
    throttles: Throttles | None = None,
    address: str | None = None,
) -> None:
    """Change the password; every session of the account ends, this one included."""
    try:
        user = _prove(
            db,
            actor,
            password=current_password,
            totp=totp,
            now=now,
            throttles=throttles,
            address=address,
        )
    except Unauthorized:
        raise InvalidInput(
            "the current password or code is not right", field="current_password"
        ) from None
    _set_password(db, user, new_password, now)
    audit.record(
        db,
        actor,
        action="password-change",
        resource_type="account",
        resource_id=str(user.id),
        request_id=request_id,
        now=now,
    )


@dataclass(frozen=True)
class ResetMail:
    to: str
    token: str


RESET_SUBJECT = "Reset your PainPath password"
RESET_BAD_LINK = "this link has expired or was already used: ask for a new one"


def reset_email_body(link: str) -> str:
    return (
        "Someone asked to reset the password of your PainPath account.\n\n"
        f"To choose a new password, open this link within {RESET_TOKEN_MINUTES} minutes. "
        "It works once:\n\n"
        f"{link}\n\n"
        "If it was not you, you can ignore this email: your password stays as it is.\n"
    )


def request_password_reset(
    db: Session,
    *,
    email: str,
    now: datetime,
    request_id: str | None = None,
    address: str | None = None,
    throttles: Throttles | None = None,
) -> ResetMail | None:
    """Make a reset link for the account with this email, if there is one.

    The caller answers the same way whether or not an account exists, and sends the
    email after answering, so neither the answer nor its timing tells.
    """
    if throttles is not None:
        key = _account_key(email)
        for window, k in ((throttles.reset_account, key), (throttles.reset_address, address)):
            if not k:
                continue
            wait = _held_back(db, window, k, now)
            if wait is not None:
                raise TooManyRequests("too many reset requests: wait a while and try again", wait)
            _count(db, throttles, window, k, now)
    user = repository.user_by_email(db, normalise_email(email))
    if user is None or not user.is_active:
        return None
    token = secrets.token_urlsafe(32)
    db.add(
        PasswordReset(
            token_hash=hash_token(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(minutes=RESET_TOKEN_MINUTES),
        )
    )
    db.flush()
    audit.record(
        db,
        _actor_for(db, user, None, now),
        action="password-reset-request",
        resource_type="account",
        resource_id=str(user.id),
        request_id=request_id,
        now=now,
    )
    return ResetMail(to=user.email, token=token)


def _open_reset(db: Session, token: str, now: datetime) -> tuple[PasswordReset, User]:
    row = repository.reset_by_token_hash(db, hash_token(token))
    user = repository.user_by_id(db, row.user_id) if row else None
    if row is None or user is None or row.used_at is not None or now >= row.expires_at:
        raise InvalidInput(RESET_BAD_LINK, field="token")
    if not user.is_active:
        raise InvalidInput(RESET_BAD_LINK, field="token")
    return row, user


def reset_needs_code(db: Session, token: str, now: datetime) -> bool:
    """Whether the reset link is usable (else InvalidInput) and needs a security code."""
    _, user = _open_reset(db, token, now)
    return user.totp_secret is not None


def reset_password(
    db: Session,
    *,
    token: str,
    new_password: str,
    totp: str | None,
    now: datetime,
    request_id: str | None = None,
    throttles: Throttles | None = None,
) -> None:
    """Set a new password with a reset link (and the code, for accounts with one).

    The link is spent, every other open link of the account too, and every session ends.
    """
    _, user = _open_reset(db, token, now)
    key = _account_key(user.email)
    _check_account(db, throttles, key, now)
    if not _check_totp(user, totp, now):
        if throttles is not None:
            _count(db, throttles, throttles.account, key, now)
        raise InvalidInput(
            "enter the 6-digit security code from your authenticator app", field="totp"
        )
    _set_password(db, user, new_password, now)
    audit.record(
        db,
        _actor_for(db, user, None, now),
        action="password-reset",
        resource_type="account",
        resource_id=str(user.id),
        request_id=request_id,
        now=now,
    )
