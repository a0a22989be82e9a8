"""Questionnaire instruments and responses as clients send and read them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class QuestionnaireResponseCreate(BaseModel):
    """Answers to one questionnaire: one whole number per item, in item order.

    The score is always worked out by PainPath: a ``total`` (or any other score field)
    sent by the client is ignored.
    """

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    instrument: str = Field(
        min_length=1, max_length=32, description="instrument code, e.g. phq9 (GET /instruments)"
    )
    # Checked item by item by the scorer, so that an error names the item and the
    # allowed answers (a generic type error would not).
    answers: list[Any] = Field(
        max_length=100,
        description="one whole number per item, in item order",
        json_schema_extra={"items": {"type": "integer"}},
    )


class AdviceRead(BaseModel):
    """What the patient must be shown at once for a flag, with its sources."""

    flag: str
    urgency: str
    title: str
    text: str
    sources: list[str]


class QuestionnaireResponseRead(BaseModel):
    """A stored response with its score (as ``painpath instruments score`` gives it)
    and the advice its flags need (empty when none)."""

    id: uuid.UUID
    patient_id: uuid.UUID
    instrument: str
    instrument_version: str
    answers: list[int]
    total: int | float
    band: str | None
    subscales: dict[str, int | float]
    flags: list[str]
    advice: list[AdviceRead]
    completed_at: datetime
    created_at: datetime


class QuestionnaireResponsePage(BaseModel):
    items: list[QuestionnaireResponseRead]
    next: str | None


class InstrumentSummary(BaseModel):
    code: str
    name: str
    version: str
    items: int
    source: str
    licence: str
    wording_restricted: bool = Field(
        description="true when some item wording may not be shown (only labels are given)"
    )


class InstrumentList(BaseModel):
    items: list[InstrumentSummary]
    next: str | None = None


class DueRead(BaseModel):
    code: str
    name: str
    title: str = Field(description="the name shown to patients")
    kind: str = Field(description="baseline | periodic | review | episode-start")
    reason: str
    due: date
    review: date | None = None


class DueList(BaseModel):
    today: date
    items: list[DueRead]


class CompletionRead(BaseModel):
    name: str
    due: int
    completed: int
    rate: float | None


class CompletionRates(BaseModel):
    days: int
    start: date = Field(serialization_alias="from")
    to: date
    instruments: dict[str, CompletionRead]

    model_config = ConfigDict(serialize_by_alias=True)


class ScheduleRuleWrite(BaseModel):
    """How one instrument is scheduled for this patient."""

    model_config = ConfigDict(extra="forbid")

    scheduled: bool = True
    every_days: int | None = Field(
        default=None, ge=1, le=365, description="again this many days after the last one"
    )
    at_baseline: bool = False
    at_reviews: bool = Field(default=False, description="in the 7 days before each review")
    at_episode_start: bool = False


class ScheduleUpdate(BaseModel):
    """The patient's questionnaire schedule. Instruments not listed follow PainPath's
    defaults; an empty object restores the defaults for all."""

    model_config = ConfigDict(extra="forbid")

    instruments: dict[str, ScheduleRuleWrite] = Field(
        description="instrument code (GET /instruments) to its schedule"
    )


class ScheduleRuleRead(BaseModel):
    code: str
    name: str
    scheduled: bool
    every_days: int | None
    at_baseline: bool
    at_reviews: bool
    at_episode_start: bool
    words: str = Field(description="the schedule in plain words")
    is_default: bool = Field(description="the same as PainPath's default for this instrument")
    default_words: str
    source: str


class ScheduleRead(BaseModel):
    """Which questionnaire is due when for this patient (their care plan's schedule)."""

    patient_id: uuid.UUID
    version: int
    instruments: list[ScheduleRuleRead]
