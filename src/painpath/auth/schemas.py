"""Sign-in and account models."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field


class LoginRequest(BaseModel):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    totp: str | None = Field(default=None, max_length=12)


class LoginResponse(BaseModel):
    token: str


class MeRead(BaseModel):
    user_id: uuid.UUID
    role: str
    display_name: str
    patient_id: uuid.UUID | None
    clinician_id: uuid.UUID | None
