"""Roles, the signed-in actor and the password rules (pure)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from painpath.kit.errors import InvalidInput, Problem

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024


class Role(StrEnum):
    PATIENT = "patient"
    CLINICIAN = "clinician"
    ADMIN = "admin"


@dataclass(frozen=True)
class Actor:
    """Who is making a request, as the services see them."""

    user_id: uuid.UUID
    role: Role
    display_name: str
    patient_id: uuid.UUID | None = None
    clinician_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    csrf_token: str = ""

    @property
    def is_patient(self) -> bool:
        return self.role is Role.PATIENT

    @property
    def is_clinician(self) -> bool:
        return self.role is Role.CLINICIAN

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


SYSTEM_ACTOR = Actor(user_id=uuid.UUID(int=0), role=Role.ADMIN, display_name="PainPath (system)")


def check_password_policy(password: str, field: str = "password") -> None:
    """At least 12 characters, any characters, never truncated."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"the password must be at least {MIN_PASSWORD_LENGTH} characters long",
            [Problem(field, f"use at least {MIN_PASSWORD_LENGTH} characters")],
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"the password must be at most {MAX_PASSWORD_LENGTH} characters long",
            [Problem(field, f"use at most {MAX_PASSWORD_LENGTH} characters")],
        )


def normalise_email(email: str) -> str:
    return email.strip().lower()


def session_idle_limit_minutes(role: Role, clinician_minutes: int, patient_minutes: int) -> int:
    """Clinicians and admins time out sooner than patients."""
    return patient_minutes if role is Role.PATIENT else clinician_minutes
