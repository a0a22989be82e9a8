"""Request bodies of the interop area."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class EraseRequest(BaseModel):
    """Erasing an account cannot be undone: the patient types the phrase to confirm."""

    model_config = ConfigDict(extra="forbid")

    confirm: str = Field(
        max_length=100, description='type "erase my account" to confirm the erasure'
    )


class EraseResult(BaseModel):
    erased: bool
    pseudonym: str
    records_deleted: dict[str, int]
    audit_events_pseudonymised: int
