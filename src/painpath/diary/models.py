"""The daily pain diary and therapy sessions."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, Date, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from painpath.db import Base, UtcDateTime, utcnow
from painpath.kit.columns import ClientCreated, patient_fk


class DiaryEntry(ClientCreated, Base):
    """One day's diary; ``date`` is the patient's local date, ``pain`` the 24-hour average."""

    __tablename__ = "diary_entries"
    __table_args__ = (UniqueConstraint("patient_id", "date", name="uq_diary_entries_patient_date"),)

    patient_id: Mapped[uuid.UUID] = patient_fk()
    date: Mapped[date] = mapped_column(Date)
    pain: Mapped[int] = mapped_column(Integer)
    worst_pain: Mapped[int | None] = mapped_column(Integer, default=None)
    sleep_interference: Mapped[int | None] = mapped_column(Integer, default=None)
    activity_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    mood: Mapped[int | None] = mapped_column(Integer, default=None)
    notes: Mapped[str | None] = mapped_column(Text, default=None)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class TherapySession(ClientCreated, Base):
    """Exercise, physiotherapy, mindfulness or a complementary therapy."""

    __tablename__ = "therapy_sessions"

    patient_id: Mapped[uuid.UUID] = patient_fk()
    date: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    pain_before: Mapped[int | None] = mapped_column(Integer, default=None)
    pain_after: Mapped[int | None] = mapped_column(Integer, default=None)
    programme_done: Mapped[bool | None] = mapped_column(Boolean, default=None)
    notes: Mapped[str | None] = mapped_column(Text, default=None)
