"""Diary entries and therapy sessions as clients send and read them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Score = Field(ge=0, le=10)

THERAPY_KINDS = (
    "exercise",
    "physiotherapy",
    "mindfulness",
    "relaxation",
    "yoga",
    "acupuncture",
    "massage",
    "chiropractic",
    "vibration-device",
    "tens",
    "other",
)
TherapyKind = Literal[
    "exercise",
    "physiotherapy",
    "mindfulness",
    "relaxation",
    "yoga",
    "acupuncture",
    "massage",
    "chiropractic",
    "vibration-device",
    "tens",
    "other",
]


class DiaryEntryCreate(BaseModel):
    """One day's diary. ``pain`` is the average pain over the last 24 hours (0–10)."""

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    date: date
    pain: int = Field(ge=0, le=10, description="average pain over the last 24 hours, 0-10")
    worst_pain: int | None = Field(default=None, ge=0, le=10)
    sleep_interference: int | None = Field(default=None, ge=0, le=10)
    activity_minutes: int | None = Field(default=None, ge=0, le=1440)
    mood: int | None = Field(default=None, ge=0, le=10, description="0 very low - 10 very good")
    notes: str | None = Field(default=None, max_length=2000)


class DiaryEntryUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pain: int | None = Field(default=None, ge=0, le=10)
    worst_pain: int | None = Field(default=None, ge=0, le=10)
    sleep_interference: int | None = Field(default=None, ge=0, le=10)
    activity_minutes: int | None = Field(default=None, ge=0, le=1440)
    mood: int | None = Field(default=None, ge=0, le=10)
    notes: str | None = Field(default=None, max_length=2000)


class DiaryEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    date: date
    pain: int
    worst_pain: int | None
    sleep_interference: int | None
    activity_minutes: int | None
    mood: int | None
    notes: str | None
    late: bool
    created_at: datetime
    updated_at: datetime


class DiaryEntryPage(BaseModel):
    items: list[DiaryEntryRead]
    next: str | None


class TherapySessionCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    date: date
    kind: TherapyKind
    minutes: int | None = Field(default=None, ge=0, le=1440)
    pain_before: int | None = Field(default=None, ge=0, le=10)
    pain_after: int | None = Field(default=None, ge=0, le=10)
    programme_done: bool | None = None
    notes: str | None = Field(default=None, max_length=2000)


class TherapySessionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    date: date
    kind: str
    minutes: int | None
    pain_before: int | None
    pain_after: int | None
    programme_done: bool | None
    notes: str | None
    created_at: datetime


class TherapySessionPage(BaseModel):
    items: list[TherapySessionRead]
    next: str | None
