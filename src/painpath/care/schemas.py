"""Read and input models for patients, clinicians, care teams, referrals, follow-ups,
reviews and clinical notes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


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


class ClinicianRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    kind: str
    organisation: str | None


class ClinicianPage(BaseModel):
    items: list[ClinicianRead]
    next: str | None


class CareTeamAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    clinician_id: uuid.UUID
    role: Literal["gp", "pain-specialist", "other"] | None = Field(
        default=None, description="defaults to the clinician's kind"
    )


class CareTeamRead(BaseModel):
    patient_id: uuid.UUID
    patient_name: str
    members: list[CareTeamMemberRead]


class ReferralCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    to_clinician_id: uuid.UUID
    reason: str = Field(min_length=1, max_length=4000)


class ReferralDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["accepted", "declined"]
    note: str | None = Field(default=None, max_length=4000)


class ReferralRead(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    patient_name: str
    from_clinician_id: uuid.UUID
    from_clinician_name: str
    to_clinician_id: uuid.UUID
    to_clinician_name: str
    reason: str
    status: str
    created_at: datetime
    decided_at: datetime | None
    decision_note: str | None


class ReferralPage(BaseModel):
    items: list[ReferralRead]
    next: str | None


class FollowUpCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    due: date
    kind: str = Field(min_length=1, max_length=64)
    notes: str | None = Field(default=None, max_length=4000)


class FollowUpUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["scheduled", "done", "cancelled"] | None = None
    due: date | None = None
    notes: str | None = Field(default=None, max_length=4000)


class FollowUpRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    due: date
    kind: str
    status: str
    notes: str | None
    clinician_id: uuid.UUID | None
    version: int
    created_at: datetime


class FollowUpPage(BaseModel):
    items: list[FollowUpRead]
    next: str | None


class ReviewCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    prescription_id: uuid.UUID
    decision: Literal["continue", "increase", "decrease", "switch", "taper", "stop"]
    reason: str = Field(min_length=1, max_length=4000)
    snapshot: dict[str, Any] | None = Field(
        default=None,
        description="what the clinician's screen showed (kept beside the server's own snapshot)",
    )


class ReviewRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    prescription_id: uuid.UUID
    clinician_id: uuid.UUID
    decision: str
    reason: str
    snapshot: dict[str, Any]
    created_at: datetime


class ReviewPage(BaseModel):
    items: list[ReviewRead]
    next: str | None


class NoteCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    text: str = Field(min_length=1, max_length=10000)


class NoteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    clinician_id: uuid.UUID
    text: str
    created_at: datetime


class NotePage(BaseModel):
    items: list[NoteRead]
    next: str | None


class CareTeamPage(BaseModel):
    items: list[CareTeamRead]
    next: str | None


class ClinicalFactsWrite(BaseModel):
    """The recorded facts the prescribing checks use; ``null`` means not recorded. A
    whole replacement: send every field (GET them first)."""

    model_config = ConfigDict(extra="forbid")

    renal_crcl_ml_min: int | None = Field(
        ge=1, le=250, description="creatinine clearance in mL/min (Cockcroft-Gault)"
    )
    hepatic_impairment: bool | None = Field(description="any liver impairment")
    bp_uncontrolled: bool | None = Field(description="uncontrolled hypertension")
    conditions: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        max_length=30, description="other conditions the contraindication checks read"
    )
    bp_alert_systolic: int | None = Field(
        ge=80,
        le=250,
        description="a recorded systolic reading at or above this (mmHg) alerts the care "
        "team; null for none",
    )
    bp_alert_diastolic: int | None = Field(
        ge=40,
        le=150,
        description="a recorded diastolic reading at or above this (mmHg) alerts the care "
        "team; null for none",
    )


class ClinicalFactsRead(BaseModel):
    patient_id: uuid.UUID
    version: int
    renal_crcl_ml_min: int | None
    hepatic_impairment: bool | None
    bp_uncontrolled: bool | None
    conditions: list[str]
    bp_alert_systolic: int | None
    bp_alert_diastolic: int | None
