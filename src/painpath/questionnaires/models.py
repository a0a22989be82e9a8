"""Stored questionnaire responses with their server-computed scores."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from painpath.db import Base, UtcDateTime, utcnow
from painpath.kit.columns import ClientCreated, JsonType, patient_fk


class QuestionnaireResponse(ClientCreated, Base):
    __tablename__ = "questionnaire_responses"
    # A patient's responses since a date, newest first: migration 0005.
    __table_args__ = (
        Index("ix_questionnaire_responses_patient_id_completed_at", "patient_id", "completed_at"),
    )

    patient_id: Mapped[uuid.UUID] = patient_fk()
    instrument: Mapped[str] = mapped_column(String(32), index=True)
    instrument_version: Mapped[str] = mapped_column(String(32))
    answers: Mapped[list[int]] = mapped_column(JsonType)
    total: Mapped[Any] = mapped_column(Numeric(8, 2))
    band: Mapped[str | None] = mapped_column(String(64), default=None)
    subscales: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    flags: Mapped[list[str]] = mapped_column(JsonType, default=list)
    completed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
