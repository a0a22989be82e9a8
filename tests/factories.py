"""Small builders for test data, written through the same services as the product."""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyotp
from sqlalchemy.orm import Session

from painpath.auth.domain import Actor, Role
from painpath.auth.models import UserSession
from painpath.auth.service import hash_token
from painpath.care.service import add_to_care_team, create_account

PASSWORD = "correct horse battery staple"

_TOTP_STEPS: dict[str, int] = {}
_TOTP_LOCK = threading.Lock()


def unused_totp_code(secret: str) -> str:
    """A security code not used before in this test run (PainPath refuses a replayed code,
    and tests sign the same person in several times within 30 seconds).

    PainPath accepts the codes of the previous, current and next 30-second steps. Only the
    current and next steps are handed out: the previous step's code stops working at the
    next step boundary, which a slow sign-in (password hashing on a busy machine, typing
    in a browser) can cross; the current step's code stays valid for 30 seconds more.
    When both are used up, this waits for the next step."""
    totp = pyotp.TOTP(secret)
    while True:
        with _TOTP_LOCK:
            current = int(time.time()) // totp.interval
            step = max(current, _TOTP_STEPS.get(secret, -1) + 1)
            if step <= current + 1:
                _TOTP_STEPS[secret] = step
                return totp.generate_otp(step)
        time.sleep(1)


@dataclass
class Person:
    email: str
    user_id: uuid.UUID
    role: Role
    patient_id: uuid.UUID | None = None
    clinician_id: uuid.UUID | None = None
    totp_secret: str | None = None

    def totp(self, at: datetime | None = None) -> str | None:
        if self.totp_secret is None:
            return None
        return pyotp.TOTP(self.totp_secret).at(at or datetime.now(UTC))


def person(db: Session, role: Role, name: str, *, kind: str = "gp") -> Person:
    email = f"{name.lower().replace(' ', '.')}.{uuid.uuid4().hex[:6]}@test.example"
    out = create_account(
        db, email=email, password=PASSWORD, role=role, name=name, clinician_kind=kind
    )
    return Person(
        email=email,
        user_id=uuid.UUID(out["user_id"]),
        role=role,
        patient_id=uuid.UUID(out["patient_id"]) if "patient_id" in out else None,
        clinician_id=uuid.UUID(out["clinician_id"]) if "clinician_id" in out else None,
        totp_secret=out.get("totp_secret"),
    )


def in_care_team(db: Session, patient: Person, clinician: Person, role: str = "gp") -> None:
    assert patient.patient_id and clinician.clinician_id
    add_to_care_team(
        db,
        patient_id=patient.patient_id,
        clinician_id=clinician.clinician_id,
        role=role,
        now=datetime.now(UTC),
    )


def signed_in_clinician(db: Session, who: Person, name: str, now: datetime | None = None) -> Actor:
    """A clinician's actor with a session that proved the password and code at ``now``
    (as a sign-in does), so dose changes and tapers pass the step-up check."""
    now = now or datetime.now(UTC)
    session = UserSession(
        token_hash=hash_token(secrets.token_urlsafe(32)),
        user_id=who.user_id,
        csrf_token=secrets.token_urlsafe(16),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=12),
        reauth_at=now,
    )
    db.add(session)
    db.flush()
    return Actor(
        user_id=who.user_id,
        role=Role.CLINICIAN,
        display_name=name,
        clinician_id=who.clinician_id,
        session_id=session.id,
    )
