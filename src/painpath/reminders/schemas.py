"""Reminder preferences as clients send and read them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

TimeOfDay = Annotated[
    str,
    Field(
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
        description="local time of day, 24-hour clock HH:MM",
        examples=["08:00"],
    ),
]
SwitchableKind = Literal["dose", "diary", "questionnaire"]


class ReminderPreferencesUpdate(BaseModel):
    """The whole set of choices (PUT replaces it; a field left out takes its default).

    Quiet hours hold back emails (not in-app reminders); give both ends or neither.
    ``dose_times`` empty means the prescription's times (else 08:00). Alerts left open,
    dose changes and appointments cannot be switched off.
    """

    model_config = ConfigDict(extra="forbid")

    in_app: bool = True
    email: bool = True
    quiet_start: TimeOfDay | None = "22:00"
    quiet_end: TimeOfDay | None = "07:00"
    dose_times: list[TimeOfDay] = Field(default_factory=list, max_length=4)
    diary_time: TimeOfDay = "19:00"
    notice_time: TimeOfDay = Field(
        default="09:00",
        description="when questionnaire, appointment and dose-change reminders come",
    )
    kinds_off: list[SwitchableKind] = Field(default_factory=list, max_length=3)
    timezone: str | None = Field(
        default=None,
        max_length=64,
        description="clinicians: the time zone for your reminders, e.g. Europe/London "
        "(null: the service's default). Patients' reminders follow the zone on their record.",
    )


class ReminderPreferencesRead(BaseModel):
    in_app: bool
    email: bool
    quiet_start: str | None
    quiet_end: str | None
    dose_times: list[str]
    diary_time: str
    notice_time: str
    kinds_off: list[str]
    switchable_kinds: list[str]
    timezone: str | None
    is_default: bool = Field(description="true until the person saves their own choices")
    version: int
