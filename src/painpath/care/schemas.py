"""Read models for patients and clinicians."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel


class CareTeamMemberRead(BaseModel):
    clinician_id: uuid.UUID
    name: str
    role: str


class PatientRead(BaseModel):
    id: uuid.UUID
    name: str
    date_of_birth: date | None
    timezone: str


class PatientDetail(PatientRead):
    care_team: list[CareTeamMemberRead]


class PatientPage(BaseModel):
    items: list[PatientRead]
    next: str | None
