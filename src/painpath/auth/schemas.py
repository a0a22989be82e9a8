"""Sign-in and account models."""

from __future__ import annotations

import uuid
from datetime import datetime

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


class StepUpRequest(BaseModel):
    password: str = Field(min_length=1, max_length=1024)
    totp: str | None = Field(default=None, max_length=12)


class StepUpRead(BaseModel):
    valid_until: datetime


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)
    totp: str | None = Field(default=None, max_length=12)


class PasswordResetRequest(BaseModel):
    email: str = Field(min_length=3, max_length=320)


class PasswordResetConfirm(BaseModel):
    token: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=1, max_length=1024)
    totp: str | None = Field(default=None, max_length=12)


class Message(BaseModel):
    detail: str


class BreakGlassCreate(BaseModel):
    id: uuid.UUID
    reason: str = Field(min_length=1, max_length=1000)


class BreakGlassRead(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    expires_at: datetime
