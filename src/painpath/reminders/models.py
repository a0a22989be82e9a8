"""Reminder preferences and the reminder outbox (the durable schedule of what was sent).

One outbox row is one reminder to one person on one channel. Its ``dedupe_key`` (person,
channel, kind, subject and intended local date/time) is unique, so however often and
however many workers plan the same moment, the row exists once; its ``status`` says
what happened to it:

``pending`` → ``claimed`` (a worker holds a lease; the email has not been handed to the
SMTP server) → ``sending`` (the message is being handed over) → ``sent``; or ``skipped``
(too late, switched off), ``failed`` (refused by the mail server) or ``unknown`` (the
worker died while handing the message over; never sent again, see ``worker.py``).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from painpath.db import Base, UtcDateTime, new_id, utcnow
from painpath.kit.columns import JsonType


class ReminderPreference(Base):
    """One person's reminder choices; absent means the defaults (everything on)."""

    __tablename__ = "reminder_preferences"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    in_app: Mapped[bool] = mapped_column(Boolean, default=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    quiet_start: Mapped[str | None] = mapped_column(String(5), default=None)  # local "HH:MM"
    quiet_end: Mapped[str | None] = mapped_column(String(5), default=None)
    dose_times: Mapped[list[str]] = mapped_column(JsonType, default=list)
    diary_time: Mapped[str] = mapped_column(String(5), default="19:00")
    notice_time: Mapped[str] = mapped_column(String(5), default="09:00")
    kinds_off: Mapped[list[str]] = mapped_column(JsonType, default=list)
    # A clinician's own zone for their reminders (None: the service default); patients'
    # reminders follow the zone on their record.
    timezone: Mapped[str | None] = mapped_column(String(64), default=None)
    email_stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Reminder(Base):
    """One reminder to one person on one channel (the outbox)."""

    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_status_due_at", "status", "due_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    patient_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("patients.id", ondelete="CASCADE"), index=True, default=None
    )
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(8))  # in-app | email
    local_time: Mapped[str] = mapped_column(String(32))  # intended wall clock, "YYYY-MM-DDTHH:MM"
    timezone: Mapped[str] = mapped_column(String(64))
    intended_at: Mapped[datetime] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # What the in-app notification says (email rows carry no text: emails are generic).
    title: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(300), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claim_token: Mapped[str | None] = mapped_column(String(64), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    message_id: Mapped[str | None] = mapped_column(String(200), default=None)
    unsubscribe_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    outcome: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
