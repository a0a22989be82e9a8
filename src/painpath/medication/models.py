"""Prescriptions with their dose steps, dose-change requests, dose events,
side-effect reports and taper plans."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from painpath.db import Base, UtcDateTime, new_id, utcnow
from painpath.kit.columns import ClientCreated, JsonType, patient_fk

Dose = Numeric(10, 3)


class Prescription(ClientCreated, Base):
    __tablename__ = "prescriptions"

    patient_id: Mapped[uuid.UUID] = patient_fk()
    prescriber_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("clinicians.id"))
    episode_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("care_episodes.id", ondelete="SET NULL"), default=None
    )
    medicine: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="active")
    off_label: Mapped[bool] = mapped_column(default=True)
    indication: Mapped[str | None] = mapped_column(String(200), default=None)
    override_reason: Mapped[str | None] = mapped_column(Text, default=None)
    warnings_accepted: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    dose_times: Mapped[list[str]] = mapped_column(JsonType, default=list)  # local "HH:MM"
    stopped_on: Mapped[date | None] = mapped_column(Date, default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    steps: Mapped[list[DoseStep]] = relationship(
        lazy="raise", order_by="DoseStep.start", cascade="all, delete-orphan"
    )


class DoseStep(Base):
    """From ``start`` the planned daily dose is ``daily_dose_mg`` (a titration is several)."""

    __tablename__ = "dose_steps"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    prescription_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("prescriptions.id", ondelete="CASCADE"), index=True
    )
    start: Mapped[date] = mapped_column(Date)
    daily_dose_mg: Mapped[Decimal] = mapped_column(Dose)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    changed_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DoseChangeRequest(ClientCreated, Base):
    """A patient asks for a dose change; only a clinician decides."""

    __tablename__ = "dose_change_requests"

    patient_id: Mapped[uuid.UUID] = patient_fk()
    prescription_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("prescriptions.id", ondelete="CASCADE"), index=True
    )
    requested_dose_mg: Mapped[Decimal | None] = mapped_column(Dose, default=None)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    decision_note: Mapped[str | None] = mapped_column(Text, default=None)


class DoseEvent(ClientCreated, Base):
    __tablename__ = "dose_events"
    # A patient's doses in a time window (adherence, the doses of a course): migration 0005.
    __table_args__ = (Index("ix_dose_events_patient_id_taken_at", "patient_id", "taken_at"),)

    patient_id: Mapped[uuid.UUID] = patient_fk()
    prescription_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("prescriptions.id", ondelete="SET NULL"), index=True, default=None
    )
    status: Mapped[str] = mapped_column(String(8))  # taken | missed | late
    taken_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    dose_mg: Mapped[Decimal | None] = mapped_column(Dose, default=None)
    scheduled_for: Mapped[date | None] = mapped_column(Date, default=None)


class SideEffectReport(ClientCreated, Base):
    __tablename__ = "side_effect_reports"

    patient_id: Mapped[uuid.UUID] = patient_fk()
    prescription_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("prescriptions.id", ondelete="SET NULL"), default=None
    )
    symptom: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    severity: Mapped[str] = mapped_column(String(16))
    started_on: Mapped[date] = mapped_column(Date)
    triage_level: Mapped[str] = mapped_column(String(16))
    triage_advice: Mapped[str] = mapped_column(Text)
    pathway: Mapped[str | None] = mapped_column(String(32), default=None)
    outcome: Mapped[str | None] = mapped_column(String(32), default=None)
    resolved_on: Mapped[date | None] = mapped_column(Date, default=None)


class TaperPlan(ClientCreated, Base):
    __tablename__ = "taper_plans"

    patient_id: Mapped[uuid.UUID] = patient_fk()
    prescription_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("prescriptions.id", ondelete="CASCADE"), index=True
    )
    start: Mapped[date] = mapped_column(Date)
    weeks: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="active")
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class TaperPlanRevision(Base):
    """Every accepted version of a taper plan, so no edit is ever lost."""

    __tablename__ = "taper_plan_revisions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    taper_plan_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("taper_plans.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    changed_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
