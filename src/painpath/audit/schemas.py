"""What a patient sees of the audit trail: who looked at or changed their record."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class AccessRead(BaseModel):
    id: int
    occurred_at: datetime
    who: str
    role: str
    action: str
    resource_type: str
    outcome: str
    reason: str | None = None


class AccessPage(BaseModel):
    items: list[AccessRead]
    next: str | None
