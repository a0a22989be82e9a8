"""Prescriptions, dose events, side-effect reports, taper plans, dose-change requests and
other medicines as clients send and read them.

Doses are exact: whole mg or an exact decimal, never a float. In JSON a whole dose is
a number (``60``) and a fractional one the exact decimal as text (``"12.5"``), as the
``painpath taper plan`` command prints them.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer


def _dose_out(value: Decimal) -> int | str:
    number = Decimal(value)
    if number == number.to_integral_value():
        return int(number)
    return format(number.normalize(), "f")


DoseMg = Annotated[
    Decimal,
    Field(ge=0, le=10000, max_digits=10, decimal_places=3),
    PlainSerializer(_dose_out, return_type=int | str, when_used="json"),
]
DoseTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["08:00"])]
Text = Annotated[str, Field(min_length=1, max_length=2000)]

PRESCRIPTION_STATUSES = ("active", "tapering", "stopped")
DOSE_STATUSES = ("taken", "missed", "late")
SEVERITIES = ("mild", "moderate", "severe")
TRIAGE_LEVELS = ("self-care", "routine", "urgent", "emergency")
REQUEST_KINDS = ("change", "stopped-on-my-own")


class ScheduleStepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: date
    daily_dose_mg: DoseMg


class ScheduleStepRead(BaseModel):
    start: date
    daily_dose_mg: DoseMg


class DoseChangeRead(BaseModel):
    """One DoseStep row as written: what was planned from when, who decided and why."""

    start: date
    daily_dose_mg: DoseMg
    reason: str | None
    changed_by: uuid.UUID | None
    changed_by_name: str | None
    recorded_at: datetime
    superseded: bool = Field(
        description="replaced by a later change before it took effect (kept for the record)"
    )


class WarningRead(BaseModel):
    code: str
    message: str
    source: str
    blocking: bool
    overridable: bool = True
    severity: str | None = None
    verification: str | None = None


class PrescriptionCreate(BaseModel):
    """A prescription; a titration is several schedule steps (e.g. 30 mg, then 60 mg)."""

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    medicine: str = Field(min_length=1, max_length=64, examples=["duloxetine"])
    schedule: list[ScheduleStepIn] = Field(min_length=1, max_length=20)
    override_reason: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description="why the prescriber accepts the blocking warnings (recorded and audited)",
    )
    dose_times: list[DoseTime] = Field(default_factory=list, max_length=4)
    indication: str | None = Field(
        default=None,
        max_length=200,
        description="what it is for; defaults to the condition of the patient's care episode",
    )
    plan_follow_ups: bool = Field(
        default=False,
        description="also plan the default follow-ups from the first dose (about 2 and 4 "
        "weeks, a 12-week response review, then every 3 months); the prescribing page "
        "ticks it by default",
    )


class PrescriptionUpdate(BaseModel):
    """A change to a prescription. A new schedule takes effect from its first step's
    date (today or later): earlier planned doses are never rewritten."""

    model_config = ConfigDict(extra="forbid")

    schedule: list[ScheduleStepIn] | None = Field(default=None, min_length=1, max_length=20)
    reason: str | None = Field(default=None, min_length=1, max_length=2000)
    status: Literal["active", "stopped"] | None = Field(
        default=None,
        description=(
            "'stopped' only after a taper has reached 0 mg, or with an override_reason: "
            "never stop abruptly"
        ),
    )
    dose_times: list[DoseTime] | None = Field(default=None, max_length=4)
    override_reason: str | None = Field(default=None, min_length=1, max_length=2000)


class PrescriptionRead(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    prescriber_id: uuid.UUID
    medicine: str
    status: str
    indication: str | None
    off_label: bool
    off_label_notes: list[WarningRead] = Field(
        description="licensing and NICE position for this indication, with sources"
    )
    override_reason: str | None
    warnings_accepted: list[WarningRead] = Field(
        description="every warning shown when it was prescribed or changed (blocking ones "
        "were accepted with the override reason)"
    )
    dose_times: list[str]
    stopped_on: date | None
    schedule: list[ScheduleStepRead] = Field(description="the schedule now in force")
    dose_changes: list[DoseChangeRead] = Field(description="every dose step ever written")
    current_daily_dose_mg: DoseMg = Field(description="planned on the patient's today")
    version: int
    created_at: datetime
    updated_at: datetime


class PrescriptionPage(BaseModel):
    items: list[PrescriptionRead]
    next: str | None


class DoseEventCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    status: Literal["taken", "missed", "late"]
    taken_at: AwareDatetime = Field(
        description="when it was taken (or, for a missed dose, when it was due); with a time zone"
    )
    prescription_id: uuid.UUID | None = None


class MissedDoseAdviceRead(BaseModel):
    take_now: bool | None
    advice: str
    source: str


class DoseEventRead(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    prescription_id: uuid.UUID | None
    status: str
    taken_at: datetime
    dose_mg: DoseMg | None
    scheduled_for: date | None
    created_at: datetime
    missed_dose_advice: MissedDoseAdviceRead | None = None


class DoseEventPage(BaseModel):
    items: list[DoseEventRead]
    next: str | None


class AdherenceRead(BaseModel):
    start: date
    end: date
    days_planned: int
    days_covered: int
    days_missed: int
    proportion: float | None = Field(description="proportion of planned days covered (PDC)")
    percent: int | None
    method: str


class SideEffectReportCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    symptom: str = Field(min_length=1, max_length=200)
    severity: Literal["mild", "moderate", "severe"]
    started_on: date
    description: str | None = Field(default=None, max_length=2000)
    prescription_id: uuid.UUID | None = None


class TriageRead(BaseModel):
    level: str
    advice: str
    pathway: str | None
    source: str | None = None


class SideEffectReportRead(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    prescription_id: uuid.UUID | None
    symptom: str
    description: str | None
    severity: str
    started_on: date
    triage: TriageRead
    care_team_alerted: bool
    created_at: datetime


class SideEffectReportPage(BaseModel):
    items: list[SideEffectReportRead]
    next: str | None


class TaperPlanCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    prescription_id: uuid.UUID
    start: date
    weeks: int = Field(ge=1, le=104)
    reason: str | None = Field(default=None, max_length=2000)


class TaperPlanUpdate(BaseModel):
    """Hold a step (extend it) or slow the plan (back to the previous dose, then smaller
    steps) when withdrawal symptoms are reported (NICE NG222 1.4.17, 1.4.22)."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["hold", "slow"]
    on: date
    reason: str = Field(min_length=1, max_length=2000)
    days: int = Field(default=7, ge=1, le=84, description="hold: days to extend the step by")


class TaperStepRead(BaseModel):
    start: date
    end: date | None
    daily_dose_mg: DoseMg
    instructions: str | None


class TaperRevisionRead(BaseModel):
    version: int
    status: str
    reason: str | None
    changed_by: uuid.UUID | None
    changed_at: datetime
    steps: list[TaperStepRead]


class TaperPlanRead(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    prescription_id: uuid.UUID
    medicine: str
    start: date
    weeks: int
    status: str
    steps: list[TaperStepRead]
    warnings: list[dict[str, Any]]
    withdrawal_symptoms: list[str]
    note: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    revisions: list[TaperRevisionRead] = Field(default_factory=list)


class TaperPlanPage(BaseModel):
    items: list[TaperPlanRead]
    next: str | None


class DoseChangeRequestCreate(BaseModel):
    """A patient asks for a dose change, or tells the care team they stopped on their own
    (``kind: "stopped-on-my-own"``: they get the withdrawal-risk explanation and the care
    team is alerted)."""

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    prescription_id: uuid.UUID
    kind: Literal["change", "stopped-on-my-own"] = "change"
    requested_dose_mg: DoseMg | None = None
    reason: str = Field(min_length=1, max_length=2000)


class DoseChangeDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["approved", "declined"]
    note: str = Field(min_length=1, max_length=2000)


class AdviceRead(BaseModel):
    text: str
    withdrawal_symptoms: list[str]
    source: str


class DoseChangeRequestRead(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    prescription_id: uuid.UUID
    kind: str
    requested_dose_mg: DoseMg | None
    reason: str
    status: str
    decided_by: uuid.UUID | None
    decided_at: datetime | None
    decision_note: str | None
    created_at: datetime
    advice: AdviceRead | None = None
    next_step: str | None = None


class DoseChangeRequestPage(BaseModel):
    items: list[DoseChangeRequestRead]
    next: str | None


class OtherMedicineCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    name: str = Field(min_length=1, max_length=200)
    started_on: date | None = None
    stopped_on: date | None = None
    is_pain_medicine: bool = False


class OtherMedicineRead(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    name: str
    recognised_as: str | None = Field(description="the generic name PainPath matched, if any")
    started_on: date | None
    stopped_on: date | None
    is_pain_medicine: bool
    created_at: datetime
    interactions: list[WarningRead] = Field(
        default_factory=list, description="with the patient's current prescriptions"
    )


class OtherMedicinePage(BaseModel):
    items: list[OtherMedicineRead]
    next: str | None


class BloodPressureCreate(BaseModel):
    """One blood pressure reading (at home or in clinic)."""

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    measured_at: datetime = Field(description="when it was measured (with a time zone)")
    systolic: int = Field(ge=50, le=300, description="mmHg")
    diastolic: int = Field(ge=30, le=200, description="mmHg")
    pulse: int | None = Field(default=None, ge=20, le=250, description="beats a minute")


class BloodPressureRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    measured_at: datetime
    systolic: int
    diastolic: int
    pulse: int | None
    created_at: datetime
    above_alert_level: bool = Field(
        default=False,
        description="at or above the level the care team set: they have been alerted",
    )


class BloodPressurePage(BaseModel):
    items: list[BloodPressureRead]
    next: str | None
