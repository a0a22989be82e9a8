"""Roles, the signed-in actor and the password rules (pure)."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from enum import StrEnum
from importlib.resources import files

from painpath.kit.errors import InvalidInput, Problem

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
# A dose change or taper needs the password and code proven within this time (ASVS 5 7.5.3).
STEP_UP_MINUTES = 5
# How long an administrator's break-glass access to one patient's record lasts.
BREAK_GLASS_MINUTES = 30
# How long a password-reset link works (it works once).
RESET_TOKEN_MINUTES = 30


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
    # Patients an administrator may read now, each through a recorded break-glass reason.
    break_glass_patients: frozenset[uuid.UUID] = frozenset()

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


EASY_TO_GUESS = (
    "this password is one of the most common passwords, so it is easy to guess: "
    "choose another (a few unrelated words make a good one)"
)


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (auth/data/common-passwords.txt), lower case."""
    text = (files("painpath.auth") / "data" / "common-passwords.txt").read_text("utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def is_common_password(password: str) -> bool:
    """True when the password, ignoring case and surrounding spaces, is on the list."""
    return password.strip().lower() in common_passwords()


def check_password_policy(password: str, field: str = "password") -> None:
    """At least 12 characters, any characters, never truncated, not a common password."""
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
    if is_common_password(password):
        raise InvalidInput(EASY_TO_GUESS, [Problem(field, EASY_TO_GUESS)])


def normalise_email(email: str) -> str:
    return email.strip().lower()


def session_idle_limit_minutes(role: Role, clinician_minutes: int, patient_minutes: int) -> int:
    """Clinicians and admins time out sooner than patients."""
    return patient_minutes if role is Role.PATIENT else clinician_minutes
