"""Dose schedules: what dose is planned on a date, and how to take it.

A prescription's schedule is a list of steps, each ``(start, daily_dose_mg)`` with an
optional ``end`` (the last day of that step, inclusive; after it nothing is planned
until the next step). A step runs until the next step starts. Doses are whole mg
(``int``) or exact ``Decimal`` values, never floats.

How a daily dose is taken comes from the medicine's whole-unit strengths: a single
capsule once a day, two capsules together once a day, or (above the medicine's
divided-dose threshold, e.g. 60 mg for duloxetine) the same evenly divided dose twice
a day. A dose that cannot be made from whole capsules has no regimen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from itertools import combinations_with_replacement, pairwise
from typing import Any

from painpath.kit.errors import InvalidInput, Problem
from painpath.medication.domain.knowledge import MedicineKnowledge, normalise_name

Dose = int | Decimal
ZERO = Decimal(0)
_COUNT_WORDS = {1: "one", 2: "two", 3: "three", 4: "four"}


def to_dose(value: object, field: str = "daily_dose_mg") -> Decimal:
    """An exact dose in mg from an ``int``, ``Decimal`` or numeric text; floats are refused."""
    if isinstance(value, (bool, float)):
        raise InvalidInput(
            "a dose must be whole mg or an exact decimal, never a float", field=field
        )
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise InvalidInput(f"not a number of mg: {value!r}", field=field) from None
    else:
        raise InvalidInput("a dose must be a number of mg", field=field)
    if not number.is_finite():
        raise InvalidInput("a dose must be a finite number of mg", field=field)
    if number < 0:
        raise InvalidInput("a dose cannot be negative", field=field)
    return number


def format_mg(dose: Decimal | int) -> str:
    """``60`` for whole mg, ``12.5`` otherwise (no exponent, no trailing zeros)."""
    number = Decimal(dose)
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


def dose_json(dose: Decimal) -> int | str:
    """A dose for JSON output: an integer when whole, else the exact decimal as text."""
    return int(dose) if dose == dose.to_integral_value() else format_mg(dose)


@dataclass(frozen=True)
class ScheduleStep:
    start: date
    daily_dose_mg: Decimal
    end: date | None = None

    def covers(self, on: date) -> bool:
        return self.start <= on and (self.end is None or on <= self.end)


@dataclass(frozen=True)
class Schedule:
    """Validated steps, in date order (build with :func:`build_schedule`)."""

    steps: tuple[ScheduleStep, ...]

    def to_list(self) -> list[dict[str, Any]]:
        return [
            {
                "start": s.start.isoformat(),
                "daily_dose_mg": dose_json(s.daily_dose_mg),
                **({"end": s.end.isoformat()} if s.end else {}),
            }
            for s in self.steps
        ]


StepInput = ScheduleStep | tuple[date, Dose] | tuple[date, Dose, date | None] | Mapping[str, Any]


def build_schedule(steps: Iterable[StepInput]) -> Schedule:
    """Check and normalise schedule steps.

    Steps must start on strictly increasing dates; an ``end`` may not be before its
    ``start`` nor reach the next step's start. Problems name the field, such as
    ``schedule[1].start``.
    """
    parsed: list[ScheduleStep] = []
    problems: list[Problem] = []
    for i, raw in enumerate(steps):
        where = f"schedule[{i}]"
        try:
            parsed.append(_step(raw, where))
        except InvalidInput as exc:
            problems.extend(exc.problems or [Problem(where, exc.message)])
    if problems:
        raise InvalidInput("the dose schedule is not valid", problems)
    if not parsed:
        raise InvalidInput("a schedule needs at least one step", field="schedule")
    for i, (a, b) in enumerate(pairwise(parsed)):
        if b.start <= a.start:
            problems.append(
                Problem(
                    f"schedule[{i + 1}].start",
                    "steps must start on later dates than the step before",
                )
            )
        elif a.end is not None and a.end >= b.start:
            problems.append(
                Problem(f"schedule[{i}].end", "a step must end before the next step starts")
            )
    if problems:
        raise InvalidInput("the dose schedule is not valid", problems)
    return Schedule(tuple(parsed))


def _step(raw: StepInput, where: str) -> ScheduleStep:
    start: object
    dose: object
    end: object = None
    if isinstance(raw, ScheduleStep):
        start, dose, end = raw.start, raw.daily_dose_mg, raw.end
    elif isinstance(raw, Mapping):
        start, dose, end = raw.get("start"), raw.get("daily_dose_mg"), raw.get("end")
    elif isinstance(raw, tuple) and len(raw) in (2, 3):
        start, dose = raw[0], raw[1]
        end = raw[2] if len(raw) == 3 else None
    else:
        raise InvalidInput("a step is (start, daily_dose_mg[, end])", field=where)
    if not isinstance(start, date):
        raise InvalidInput("must be a date", field=f"{where}.start")
    if end is not None and not isinstance(end, date):
        raise InvalidInput("must be a date", field=f"{where}.end")
    if end is not None and end < start:
        raise InvalidInput("must not be before the step's start", field=f"{where}.end")
    return ScheduleStep(start, to_dose(dose, f"{where}.daily_dose_mg"), end)


def _as_schedule(schedule: Schedule | Sequence[StepInput]) -> Schedule:
    return schedule if isinstance(schedule, Schedule) else build_schedule(schedule)


def planned_dose(schedule: Schedule | Sequence[StepInput], on: date) -> Decimal:
    """The daily dose planned on ``on``: 0 before the first step and after an end."""
    current: ScheduleStep | None = None
    for step in _as_schedule(schedule).steps:
        if step.start <= on:
            current = step
        else:
            break
    if current is None or not current.covers(on):
        return ZERO
    return current.daily_dose_mg


# -------------------------------------------------------------- how to take a dose


@dataclass(frozen=True)
class DoseRegimen:
    """How a daily dose is taken with whole units of the available strengths."""

    daily_dose_mg: Decimal
    times_per_day: int
    units_each_time: tuple[int, ...]
    unit: str
    text: str

    @property
    def units_per_day(self) -> int:
        return len(self.units_each_time) * self.times_per_day


def _unit_word(medicine: MedicineKnowledge) -> str:
    return medicine.forms[0].form.split()[-1] if medicine.forms else "dose"


def _describe(units: tuple[int, ...], times: int, unit: str, daily: Decimal) -> str:
    counts: dict[int, int] = {}
    for strength in units:
        counts[strength] = counts.get(strength, 0) + 1
    parts = [
        f"{_COUNT_WORDS.get(n, str(n))} {s} mg {unit}{'s' if n > 1 else ''}"
        for s, n in sorted(counts.items(), reverse=True)
    ]
    what = " and ".join(parts)
    together = " together" if len(units) > 1 else ""
    if times == 1:
        text = f"{what}{together} once a day"
    else:
        text = f"{what}{together} {_COUNT_WORDS.get(times, str(times))} times a day"
        if times == 2:
            text = f"{what}{together} twice a day"
    if len(units) > 1 or times > 1:
        total = len(units) * times
        text += f" ({total} {unit}s, {format_mg(daily)} mg a day)"
    return text


def dose_options(medicine: MedicineKnowledge) -> dict[Decimal, DoseRegimen]:
    """Every daily dose that can be taken with whole units, with the simplest regimen.

    Once a day: one unit, or two units together, up to the divided-dose threshold.
    Above the threshold (when the medicine has one): the same one- or two-unit dose
    twice a day (evenly divided doses).
    """
    strengths = medicine.whole_strengths_mg
    if not strengths:
        return {}
    threshold = medicine.divided_doses.above_daily_mg if medicine.divided_doses else None
    unit = _unit_word(medicine)
    per_time: dict[Decimal, tuple[int, ...]] = {}
    for count in (1, 2):
        for combo in combinations_with_replacement(sorted(strengths, reverse=True), count):
            total = Decimal(sum(combo))
            if total not in per_time:
                per_time[total] = combo
    options: dict[Decimal, DoseRegimen] = {}
    for total, combo in sorted(per_time.items(), key=lambda kv: (len(kv[1]), kv[0])):
        if (threshold is None or total <= threshold) and total not in options:
            options[total] = DoseRegimen(total, 1, combo, unit, _describe(combo, 1, unit, total))
    if threshold is not None:
        for each, combo in sorted(per_time.items(), key=lambda kv: (len(kv[1]), kv[0])):
            daily = each * 2
            if each <= threshold < daily and daily not in options:
                options[daily] = DoseRegimen(
                    daily, 2, combo, unit, _describe(combo, 2, unit, daily)
                )
    return dict(sorted(options.items()))


def regimen_for(medicine: MedicineKnowledge, daily_dose_mg: Dose) -> DoseRegimen | None:
    """How to take ``daily_dose_mg`` with whole units, or None if it cannot be made."""
    return dose_options(medicine).get(to_dose(daily_dose_mg))


def administration_text(medicine: MedicineKnowledge) -> str:
    return medicine.forms[0].administration if medicine.forms else ""


@dataclass(frozen=True)
class DayDose:
    on: date
    daily_dose_mg: Decimal
    regimen: DoseRegimen | None
    instructions: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.on.isoformat(),
            "daily_dose_mg": dose_json(self.daily_dose_mg),
            "times_per_day": self.regimen.times_per_day if self.regimen else 0,
            "instructions": self.instructions,
        }


def todays_dose(
    schedule: Schedule | Sequence[StepInput], on: date, medicine: MedicineKnowledge
) -> DayDose:
    """The planned dose on ``on`` and how to take it with the available strengths."""
    dose = planned_dose(schedule, on)
    if dose == 0:
        return DayDose(on, dose, None, f"No {medicine.name} is planned for this day.")
    regimen = regimen_for(medicine, dose)
    if regimen is None:
        return DayDose(
            on,
            dose,
            None,
            f"{format_mg(dose)} mg a day cannot be made up from whole {_unit_word(medicine)}s of "
            f"{medicine.name}; ask your prescriber or pharmacist how to take it.",
        )
    text = f"Take {regimen.text}."
    if administration_text(medicine):
        text += f" {administration_text(medicine)}"
    return DayDose(on, dose, regimen, text)


def titration_schedule(medicine: MedicineKnowledge, start: date, condition: str) -> Schedule:
    """The knowledge file's default titration for ``condition``, starting on ``start``."""
    wanted = normalise_name(condition)
    for titration in medicine.titrations:
        if wanted in {normalise_name(t) for t in titration.condition_terms}:
            return build_schedule(
                ScheduleStep(start + timedelta(days=s.day), s.daily_dose_mg)
                for s in titration.steps
            )
    raise InvalidInput(
        f"no default titration of {medicine.name} for {condition!r} in the knowledge file",
        field="condition",
    )


# ------------------------------------------------------- dose changes over time


@dataclass(frozen=True)
class RecordedStep:
    """A dose step as it was written. Steps written together (one prescribing or one
    change) share ``recorded_at``; a change takes effect from its earliest step."""

    start: date
    daily_dose_mg: Decimal
    recorded_at: datetime


@dataclass(frozen=True)
class ScheduleHistory:
    schedule: Schedule | None
    superseded: frozenset[int]  # indices of recorded steps replaced before taking effect


def apply_dose_changes(recorded: Sequence[RecordedStep]) -> ScheduleHistory:
    """The schedule in force after every change, oldest change first.

    Each change replaces the planned steps from its earliest start onwards and keeps
    everything before it, so the past is never rewritten; the replaced steps are kept
    (reported as ``superseded``) for the record.
    """
    batches: dict[datetime, list[int]] = {}
    for i, step in enumerate(recorded):
        batches.setdefault(step.recorded_at, []).append(i)
    in_force: dict[date, int] = {}
    for when in sorted(batches):
        indices = batches[when]
        earliest = min(recorded[i].start for i in indices)
        for start in [s for s in in_force if s >= earliest]:
            del in_force[start]
        for i in sorted(indices, key=lambda i: recorded[i].start):
            in_force[recorded[i].start] = i
    kept = set(in_force.values())
    superseded = frozenset(i for i in range(len(recorded)) if i not in kept)
    if not in_force:
        return ScheduleHistory(None, superseded)
    steps = tuple(
        ScheduleStep(start, recorded[i].daily_dose_mg) for start, i in sorted(in_force.items())
    )
    return ScheduleHistory(Schedule(steps), superseded)
