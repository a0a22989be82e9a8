"""Alerts as clinicians read and change them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class AlertRead(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    patient_name: str
    rule: str
    urgency: str
    status: str
    summary: str
    source: str
    created_at: datetime
    acknowledged_by: uuid.UUID | None
    acknowledged_at: datetime | None
    resolved_by: uuid.UUID | None
    resolved_at: datetime | None
    note: str | None
    version: int


class AlertPage(BaseModel):
    items: list[AlertRead]
    next: str | None


class AlertUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["acknowledged", "resolved"]
    note: str | None = Field(default=None, max_length=4000)


class RuleRead(BaseModel):
    id: str
    urgency: str
    title: str
    source: str
