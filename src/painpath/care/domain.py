"""Care-pathway rules (pure): the default follow-up schedule and the figures a clinician
sees for each patient (dose, days on treatment, pain against baseline, adherence).

Pure: standard library only; no database, web, clock or randomness (``today`` is passed in).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Final, Literal

REVIEW_DECISIONS: Final = ("continue", "increase", "decrease", "switch", "taper", "stop")
ReviewDecision = Literal["continue", "increase", "decrease", "switch", "taper", "stop"]
FOLLOW_UP_STATUSES: Final = ("scheduled", "done", "cancelled")
REFERRAL_STATUSES: Final = ("pending", "accepted", "declined")

BASELINE_DAYS: Final = 14  # the 14 days before the first dose (CONTRACT: response analyze)
RECENT_PAIN_DAYS: Final = 7
ADHERENCE_DAYS: Final = 28
QUESTIONNAIRE_DAYS: Final = 28


# ------------------------------------------------------------------ follow-up schedule


@dataclass(frozen=True)
class PlannedFollowUp:
    key: str  # stable per start date: makes scheduling idempotent
    due: date
    kind: str
    source: str


SCHEDULE_SOURCE: Final = (
    "clinical/reference.md §1.11 (blood pressure in the first month and after dose "
    "increases [V]; efficacy at baseline, 4-8 weeks, about 12 weeks, then every 3 months "
    "[P]), §1.3 (SmPC: evaluate response after 2 months; reassess regularly), §4 (review "
    "at 2-4 weeks and a stop/continue decision by about 8-12 weeks)"
)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def default_follow_ups(start: date) -> list[PlannedFollowUp]:
    """The follow-ups a new course of treatment gets by default.

    About 2 weeks: side effects and blood pressure; 4 weeks: early review; 12 weeks:
    response review (the "does it help?" decision, within 8-12 weeks); then every 3
    months for the first year (later ones are added at the reviews).
    """
    plan = [
        PlannedFollowUp(
            "2w", start + timedelta(weeks=2), "2-week check: side effects and blood pressure", ""
        ),
        PlannedFollowUp("4w", start + timedelta(weeks=4), "4-week review", ""),
        PlannedFollowUp(
            "12w", start + timedelta(weeks=12), "12-week response review: does it help?", ""
        ),
    ]
    for months in (6, 9, 12):
        plan.append(
            PlannedFollowUp(f"{months}m", add_months(start, months), "3-monthly review", "")
        )
    return [PlannedFollowUp(p.key, p.due, p.kind, SCHEDULE_SOURCE) for p in plan]


# --------------------------------------------------------------------- figures


@dataclass(frozen=True)
class Step:
    start: date
    daily_dose_mg: Decimal


def dose_on(steps: Sequence[Step], day: date) -> Decimal:
    """The planned daily dose on ``day`` (0 before the first step)."""
    dose = Decimal(0)
    for s in sorted(steps, key=lambda s: s.start):
        if s.start <= day:
            dose = s.daily_dose_mg
    return dose


def first_dose_day(steps: Sequence[Step]) -> date | None:
    starts = [s.start for s in steps if s.daily_dose_mg > 0]
    return min(starts) if starts else None


def days_on_treatment(steps: Sequence[Step], today: date) -> int | None:
    first = first_dose_day(steps)
    if first is None or first > today:
        return None
    return (today - first).days + 1


def mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return round(sum(items) / len(items), 1) if items else None


def baseline_pain(diary: Iterable[tuple[date, int]], first_dose: date | None) -> float | None:
    """Mean diary pain in the 14 days before the first dose."""
    if first_dose is None:
        return None
    since = first_dose - timedelta(days=BASELINE_DAYS)
    return mean(p for d, p in diary if since <= d < first_dose)


def recent_pain(diary: Iterable[tuple[date, int]], today: date) -> float | None:
    """Mean diary pain over the latest 7 days (today included)."""
    since = today - timedelta(days=RECENT_PAIN_DAYS - 1)
    return mean(p for d, p in diary if since <= d <= today)


def percent_change(baseline: float | None, current: float | None) -> int | None:
    if baseline is None or current is None or baseline == 0:
        return None
    return round((current - baseline) / baseline * 100)


@dataclass(frozen=True)
class Adherence:
    taken_days: int
    planned_days: int

    @property
    def percent(self) -> int | None:
        if self.planned_days == 0:
            return None
        return round(self.taken_days / self.planned_days * 100)


def adherence(steps: Sequence[Step], doses: Iterable[tuple[date, str]], today: date) -> Adherence:
    """Days with a dose taken (on time or late) ÷ days a dose was planned, over the 28 days
    before today (today's dose may still be to come)."""
    first = today - timedelta(days=ADHERENCE_DAYS)
    planned = {
        first + timedelta(days=i)
        for i in range(ADHERENCE_DAYS)
        if dose_on(steps, first + timedelta(days=i)) > 0
    }
    taken = {d for d, status in doses if status in ("taken", "late") and d in planned}
    return Adherence(len(taken), len(planned))


def format_mg(dose: Decimal) -> str:
    text = f"{dose.normalize():f}"
    return f"{text} mg"


@dataclass(frozen=True)
class FollowUpDue:
    due: date
    kind: str
    overdue: bool


def next_follow_up(follow_ups: Iterable[tuple[date, str, str]], today: date) -> FollowUpDue | None:
    """The earliest scheduled follow-up ((due, kind, status) rows); overdue if it has passed."""
    scheduled = sorted((due, kind) for due, kind, status in follow_ups if status == "scheduled")
    if not scheduled:
        return None
    due, kind = scheduled[0]
    return FollowUpDue(due, kind, due < today)
