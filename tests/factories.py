"""Small builders for test data, written through the same services as the product."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pyotp
from sqlalchemy.orm import Session

from painpath.auth.domain import Role
from painpath.care.service import add_to_care_team, create_account

PASSWORD = "correct horse battery staple"


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
