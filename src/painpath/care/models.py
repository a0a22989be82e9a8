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
