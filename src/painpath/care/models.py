"""Patients, clinicians, care teams, referrals, care episodes, reviews and follow-ups."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from painpath.db import Base, UtcDateTime, new_id, utcnow
from painpath.kit.columns import ClientCreated, JsonType, patient_fk


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), unique=True, default=None
    )
    name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date | None] = mapped_column(Date, default=None)
    nhs_number: Mapped[str | None] = mapped_column(String(10), default=None)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Recorded clinical facts the prescribing checks use (None = not recorded).
    conditions: Mapped[list[str]] = mapped_column(JsonType, default=list)
    renal_crcl_ml_min: Mapped[int | None] = mapped_column(Integer, default=None)
    hepatic_impairment: Mapped[bool | None] = mapped_column(default=None)
    bp_uncontrolled: Mapped[bool | None] = mapped_column(default=None)
    # The reading (mmHg) at or above which a blood pressure raises an alert; set by the
    # care team per patient (None: no alert).
    bp_alert_systolic: Mapped[int | None] = mapped_column(Integer, default=None)
    bp_alert_diastolic: Mapped[int | None] = mapped_column(Integer, default=None)
    # Compare-and-set counter for changes to the facts above (the ETag's version).
    facts_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Clinician(Base):
    __tablename__ = "clinicians"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))  # gp | pain-specialist | other
    organisation: Mapped[str | None] = mapped_column(String(200), default=None)


class CareTeamMember(Base):
    """Which clinician looks after which patient (removed members keep their row)."""

    __tablename__ = "care_team_members"
    __table_args__ = (UniqueConstraint("patient_id", "clinician_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    patient_id: Mapped[uuid.UUID] = patient_fk()
    clinician_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("clinicians.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(32))  # gp | pain-specialist
    added_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class Referral(ClientCreated, Base):
    __tablename__ = "referrals"

    patient_id: Mapped[uuid.UUID] = patient_fk()
    from_clinician_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("clinicians.id"))
    to_clinician_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("clinicians.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    decision_note: Mapped[str | None] = mapped_column(Text, default=None)


class CareEpisode(ClientCreated, Base):
    """One episode of back pain: condition, onset and symptoms."""

    __tablename__ = "care_episodes"

    patient_id: Mapped[uuid.UUID] = patient_fk()
    condition: Mapped[str] = mapped_column(String(40))  # chronic-low-back-pain | sciatica | both
    onset_date: Mapped[date] = mapped_column(Date)
    symptoms: Mapped[list[str]] = mapped_column(JsonType, default=list)
    pain_sites: Mapped[list[str]] = mapped_column(JsonType, default=list)
    status: Mapped[str] = mapped_column(String(16), default="active")


class OtherMedicine(ClientCreated, Base):
    """A medicine the patient takes besides the prescribed course (interaction checks)."""

    __tablename__ = "other_medicines"

    patient_id: Mapped[uuid.UUID] = patient_fk()
    name: Mapped[str] = mapped_column(String(200))
    started_on: Mapped[date | None] = mapped_column(Date, default=None)
    stopped_on: Mapped[date | None] = mapped_column(Date, default=None)
    is_pain_medicine: Mapped[bool] = mapped_column(default=False)


class Review(ClientCreated, Base):
    """A clinical decision about a treatment course, with the data the clinician saw."""

    __tablename__ = "reviews"

    patient_id: Mapped[uuid.UUID] = patient_fk()
    prescription_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("prescriptions.id", ondelete="CASCADE"), index=True
    )
    clinician_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("clinicians.id"))
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)


class FollowUp(ClientCreated, Base):
    __tablename__ = "follow_ups"

    patient_id: Mapped[uuid.UUID] = patient_fk()
    due: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    clinician_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("clinicians.id"), default=None
    )
    notes: Mapped[str | None] = mapped_column(Text, default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)


class CarePlan(Base):
    """Per-patient settings: questionnaire schedule, follow-up defaults, reminder choices."""

    __tablename__ = "care_plans"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    patient_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("patients.id", ondelete="CASCADE"), unique=True
    )
    settings: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Invitation(Base):
    """A single-use, expiring link a clinician sends to a new patient."""

    __tablename__ = "invitations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    patient_id: Mapped[uuid.UUID] = patient_fk()
    email: Mapped[str] = mapped_column(String(320))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class Consent(Base):
    """What the patient agreed to about their data; withdrawable."""

    __tablename__ = "consents"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    patient_id: Mapped[uuid.UUID] = patient_fk()
    kind: Mapped[str] = mapped_column(String(64))
    text_version: Mapped[str] = mapped_column(String(32))
    given_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class ClinicalNote(ClientCreated, Base):
    __tablename__ = "clinical_notes"

    patient_id: Mapped[uuid.UUID] = patient_fk()
    clinician_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("clinicians.id"))
    text: Mapped[str] = mapped_column(Text)


class BloodPressureReading(ClientCreated, Base):
    __tablename__ = "blood_pressure_readings"

    patient_id: Mapped[uuid.UUID] = patient_fk()
    measured_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    systolic: Mapped[int] = mapped_column(Integer)
    diastolic: Mapped[int] = mapped_column(Integer)
    pulse: Mapped[int | None] = mapped_column(Integer, default=None)


class Notification(Base):
    """Something waiting for a person in the app (advice, an answer to a request)."""

    __tablename__ = "notifications"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    patient_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("patients.id", ondelete="CASCADE"), default=None
    )
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
