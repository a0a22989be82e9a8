"""Taper plans: reduce a dose stepwise to 0 mg using only whole-capsule doses.

Rules (from the knowledge file, NICE NG222 1.4.17-1.4.22 and the SmPC):

* each step is the achievable whole-capsule dose nearest to a proportion of the
  previous dose (about 50% lower; about 25% lower at or below the low-dose threshold),
  ties going to the higher dose (the gentler step); the last step is 0 mg;
* the reduction steps together last at least the medicine's minimum taper (2 weeks
  for duloxetine). **A shorter request is stretched to the minimum** and the plan
  carries a ``shorter-than-minimum`` warning (we never hand out a plan that is faster
  than the SmPC allows, and we do not refuse, so the person is never left with an
  abrupt stop);
* every reduction step lasts whole weeks, at least ``step_weeks_minimum``; if the
  requested weeks cannot hold every step the plan is stretched with a
  ``stretched-for-steps`` warning; spare weeks go to the lowest doses (slower at the end);
* the 0 mg step tells the person to stop and lists the withdrawal symptoms to watch for
  during the watch period (``watch_days``);
* from the lowest strength there is no smaller whole-capsule step: the plan is the 0 mg
  step alone with a ``no-lower-strength`` warning.

``hold_step`` extends the current step when withdrawal symptoms are reported (resolve
symptoms before the next step, NG222 1.4.17); ``slow_step`` goes back to the previous
dose and continues in the smallest whole-capsule steps, each twice as long (NG222 1.4.22).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from math import ceil
from typing import Any

from painpath.kit.errors import InvalidInput
from painpath.medication.domain.knowledge import (
    KnowledgeBase,
    MedicineKnowledge,
    TaperRules,
    Withdrawal,
    load_knowledge,
)
from painpath.medication.domain.prescribing import find_medicine
from painpath.medication.domain.schedule import (
    ZERO,
    Dose,
    administration_text,
    dose_json,
    dose_options,
    format_mg,
    to_dose,
)

MAX_WEEKS = 104
MAX_HOLD_DAYS = 84


@dataclass(frozen=True)
class TaperStep:
    start: date
    end: date
    daily_dose_mg: Decimal
    instructions: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "daily_dose_mg": dose_json(self.daily_dose_mg),
            "instructions": self.instructions,
        }


@dataclass(frozen=True)
class TaperWarning:
    code: str
    message: str
    source: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "source": self.source}


@dataclass(frozen=True)
class TaperPlan:
    medicine: str
    from_dose_mg: Decimal
    steps: tuple[TaperStep, ...]
    warnings: tuple[TaperWarning, ...]
    withdrawal_symptoms: tuple[str, ...]
    source: str

    @property
    def reduction_days(self) -> int:
        """Days from the first step to the day before the 0 mg step."""
        return (self.steps[-1].start - self.steps[0].start).days

    def to_dict(self) -> dict[str, Any]:
        return {
            "medicine": self.medicine,
            "from_dose_mg": dose_json(self.from_dose_mg),
            "steps": [s.to_dict() for s in self.steps],
            "warnings": [w.to_dict() for w in self.warnings],
            "withdrawal_symptoms": list(self.withdrawal_symptoms),
            "source": self.source,
        }


def _compiled(medicine: str, kb: KnowledgeBase) -> MedicineKnowledge:
    med = find_medicine(medicine, kb)
    if not med.compiled or med.taper is None or med.withdrawal is None:
        raise InvalidInput(
            f"PainPath cannot plan a taper of {med.name}: {med.not_compiled_reason}",
            field="medicine",
        )
    return med


def _rules(med: MedicineKnowledge) -> TaperRules:
    if med.taper is None:
        raise InvalidInput(f"no taper rules for {med.name} in the knowledge file", field="medicine")
    return med.taper


def _withdrawal(med: MedicineKnowledge) -> Withdrawal:
    if med.withdrawal is None:
        raise InvalidInput(
            f"no withdrawal facts for {med.name} in the knowledge file", field="medicine"
        )
    return med.withdrawal


def _weeks(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("must be a whole number of weeks", field=field)
    if value < 1:
        raise InvalidInput("must be at least 1 week", field=field)
    if value > MAX_WEEKS:
        raise InvalidInput(f"must be at most {MAX_WEEKS} weeks", field=field)
    return value


def reduction_ladder(med: MedicineKnowledge, dose: Decimal) -> list[Decimal]:
    """The doses below ``dose`` that a taper steps through (0 mg not included)."""
    rules = _rules(med)
    options = sorted(dose_options(med))
    ladder: list[Decimal] = []
    current = dose
    while True:
        lower = [d for d in options if d < current]
        if not lower:
            return ladder
        if current <= rules.low_dose_at_or_below_mg:
            fraction = rules.low_dose_reduction_fraction
        else:
            fraction = rules.reduction_fraction
        target = current * (1 - fraction)
        current = min(lower, key=lambda d: (abs(d - target), -d))
        ladder.append(current)


def plan_taper(
    medicine: str,
    dose_mg: Dose,
    weeks: int,
    start: date,
    *,
    knowledge: KnowledgeBase | None = None,
) -> TaperPlan:
    """A taper from ``dose_mg`` a day to 0 mg over ``weeks`` weeks, starting ``start``.

    Raises :class:`InvalidInput` naming ``medicine``, ``dose_mg``, ``weeks`` or
    ``start`` when one cannot be used (unknown or not compiled medicine, a dose that is
    not achievable with whole capsules, weeks below 1 or above 104).
    """
    kb = knowledge or load_knowledge()
    med = _compiled(medicine, kb)
    weeks = _weeks(weeks, "weeks")
    if not isinstance(start, date):
        raise InvalidInput("must be a date", field="start")
    dose = to_dose(dose_mg, "dose_mg")
    options = dose_options(med)
    if dose <= 0 or dose not in options:
        available = ", ".join(format_mg(d) for d in options)
        raise InvalidInput(
            f"{format_mg(dose)} mg a day cannot be taken with whole {med.forms[0].form}s of "
            f"{med.name}; achievable daily doses: {available} mg",
            field="dose_mg",
        )

    rules = _rules(med)
    warnings: list[TaperWarning] = []
    if med.max_daily_dose and dose > med.max_daily_dose.daily_mg:
        warnings.append(
            TaperWarning(
                "above-maximum",
                f"The current dose of {format_mg(dose)} mg a day is above the maximum of "
                f"{format_mg(med.max_daily_dose.daily_mg)} mg a day.",
                med.max_daily_dose.source,
            )
        )
    ladder = reduction_ladder(med, dose)
    total_weeks = weeks
    if not ladder:
        warnings.append(
            TaperWarning(
                "no-lower-strength",
                f"{format_mg(dose)} mg is the lowest whole-{_unit(med)} dose of {med.name} and "
                f"{_unit(med)}s must not be opened, so there is no smaller step before stopping. "
                "Watch closely for withdrawal symptoms; if they are severe, going back to "
                f"{format_mg(dose)} mg and discussing a slower plan with the prescriber may be "
                "considered.",
                f"{med.forms[0].source}; {rules.source}",
            )
        )
        return _plan(med, dose, [_stop_step(med, start, dose)], warnings)

    if weeks < rules.minimum_weeks:
        total_weeks = rules.minimum_weeks
        warnings.append(
            TaperWarning(
                "shorter-than-minimum",
                f"{weeks} week{'s' if weeks != 1 else ''} is shorter than the minimum taper of "
                f"{rules.minimum_weeks} weeks; the plan was stretched to {rules.minimum_weeks} "
                f"weeks. {rules.minimum_text}",
                rules.minimum_source,
            )
        )
    needed = len(ladder) * rules.step_weeks_minimum
    if total_weeks < needed:
        warnings.append(
            TaperWarning(
                "stretched-for-steps",
                f"{len(ladder)} reduction steps of at least {rules.step_weeks_minimum} week each "
                f"need {needed} weeks; the plan was stretched from {total_weeks} to {needed} "
                "weeks.",
                rules.source,
            )
        )
        total_weeks = needed
    base, extra = divmod(total_weeks, len(ladder))
    lengths = [base + (1 if i >= len(ladder) - extra else 0) for i in range(len(ladder))]

    steps: list[TaperStep] = []
    day = start
    previous = dose
    for step_dose, step_weeks in zip(ladder, lengths, strict=True):
        end = day + timedelta(days=7 * step_weeks - 1)
        steps.append(TaperStep(day, end, step_dose, _step_text(med, step_dose, previous)))
        day = end + timedelta(days=1)
        previous = step_dose
    steps.append(_stop_step(med, day, previous))
    return _plan(med, dose, steps, warnings)


def _plan(
    med: MedicineKnowledge, dose: Decimal, steps: list[TaperStep], warnings: list[TaperWarning]
) -> TaperPlan:
    rules = _rules(med)
    return TaperPlan(
        medicine=med.name,
        from_dose_mg=dose,
        steps=tuple(steps),
        warnings=tuple(warnings),
        withdrawal_symptoms=_withdrawal(med).symptoms,
        source=f"{rules.source}; {rules.minimum_source}",
    )


def _unit(med: MedicineKnowledge) -> str:
    return med.forms[0].form.split()[-1]


def _step_text(med: MedicineKnowledge, dose: Decimal, previous: Decimal) -> str:
    regimen = dose_options(med)[dose]
    if dose < previous:
        head = f"Reduce from {format_mg(previous)} mg to {format_mg(dose)} mg a day"
    elif dose > previous:
        head = (
            f"Go back up from {format_mg(previous)} mg to {format_mg(dose)} mg a day "
            "(agreed with your prescriber because of withdrawal symptoms)"
        )
    else:
        head = f"Stay on {format_mg(dose)} mg a day"
    return (
        f"{head}: take {regimen.text}. {administration_text(med)} Do not move to the next step "
        "until any withdrawal symptoms have settled; tell your care team if they are hard to bear."
    )


def _stop_step(med: MedicineKnowledge, start: date, previous: Decimal) -> TaperStep:
    watch = _rules(med).watch_days
    symptoms = "; ".join(_withdrawal(med).symptoms)
    text = (
        f"Stop taking {med.name}: take no more {_unit(med)}s from today. Over the next {watch} "
        f"days watch for withdrawal symptoms: {symptoms}. They are usually mild and settle within "
        "1-2 weeks. If they are severe or do not settle, contact your care team: going back to "
        f"the previous dose ({format_mg(previous)} mg a day) and reducing more slowly may be "
        "considered. Do not restart on your own."
    )
    return TaperStep(start, start + timedelta(days=watch - 1), ZERO, text)


def _covering(plan: TaperPlan, on: date, field: str) -> int:
    for i, step in enumerate(plan.steps):
        if step.start <= on <= step.end:
            return i
    raise InvalidInput(
        f"{on.isoformat()} is not within the taper plan "
        f"({plan.steps[0].start.isoformat()} to {plan.steps[-1].end.isoformat()})",
        field=field,
    )


def hold_step(
    plan: TaperPlan, on: date, days: int = 7, *, knowledge: KnowledgeBase | None = None
) -> TaperPlan:
    """Extend the step in effect on ``on`` by ``days``; later steps move back.

    For withdrawal symptoms during a reduction step (NG222 1.4.17: resolve symptoms
    before the next step). Holding the 0 mg step is refused: use :func:`slow_step`.
    """
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_HOLD_DAYS:
        raise InvalidInput(
            f"must be a whole number of days from 1 to {MAX_HOLD_DAYS}", field="days"
        )
    med = _compiled(plan.medicine, knowledge or load_knowledge())
    i = _covering(plan, on, "on")
    if plan.steps[i].daily_dose_mg == 0:
        raise InvalidInput(
            f"{med.name} has already been stopped on this plan, so there is no step to hold; "
            "if withdrawal symptoms are severe, use a slower plan that goes back to the previous "
            "dose (NICE NG222 1.4.22)",
            field="on",
        )
    shift = timedelta(days=days)
    steps = list(plan.steps[:i])
    steps.append(replace(plan.steps[i], end=plan.steps[i].end + shift))
    steps += [replace(s, start=s.start + shift, end=s.end + shift) for s in plan.steps[i + 1 :]]
    warning = TaperWarning(
        "step-held",
        f"The {format_mg(plan.steps[i].daily_dose_mg)} mg step was extended by {days} days "
        f"from {on.isoformat()} because of withdrawal symptoms.",
        "NICE NG222 1.4.17 (resolve symptoms before the next step) (reference.md §1.9)",
    )
    return replace(plan, steps=tuple(steps), warnings=(*plan.warnings, warning))


def slow_step(
    plan: TaperPlan, from_date: date, *, knowledge: KnowledgeBase | None = None
) -> TaperPlan:
    """From ``from_date`` go back to the previous dose, then reduce in smaller steps.

    For severe withdrawal symptoms (NG222 1.4.22; SmPC: resume the previous dose, then
    decrease more gradually). The new steps use every whole-capsule dose below the
    previous dose, each lasting twice as long as the step that caused symptoms (at least
    2 weeks). The dose increase needs the prescriber's agreement: the plan says so.
    """
    med = _compiled(plan.medicine, knowledge or load_knowledge())
    i = _covering(plan, from_date, "from_date")
    current = plan.steps[i]
    previous = plan.from_dose_mg if i == 0 else plan.steps[i - 1].daily_dose_mg
    if i > 0 and current.daily_dose_mg == 0:
        previous = plan.steps[i - 1].daily_dose_mg
    kept = list(plan.steps[:i])
    if from_date > current.start:
        kept.append(replace(current, end=from_date - timedelta(days=1)))
    current_days = (current.end - current.start).days + 1
    if current.daily_dose_mg == 0 and i > 0:
        current_days = (plan.steps[i - 1].end - plan.steps[i - 1].start).days + 1
    step_weeks = max(2, ceil(2 * current_days / 7))

    doses = [previous, *sorted((d for d in dose_options(med) if d < previous), reverse=True)]
    last = kept[-1].daily_dose_mg if kept else plan.from_dose_mg
    steps = kept
    day = from_date
    for dose in doses:
        end = day + timedelta(days=7 * step_weeks - 1)
        steps.append(TaperStep(day, end, dose, _step_text(med, dose, last)))
        day = end + timedelta(days=1)
        last = dose
    steps.append(_stop_step(med, day, last))
    warning = TaperWarning(
        "previous-dose-restarted",
        f"From {from_date.isoformat()} the plan goes back to {format_mg(previous)} mg a day and "
        f"then reduces in smaller steps of {step_weeks} weeks each. Going back up needs the "
        "prescriber's agreement.",
        "NICE NG222 1.4.22; duloxetine SmPC 4.2 (resume the previous dose, then decrease more "
        "gradually) (reference.md §1.9)",
    )
    return replace(plan, steps=tuple(steps), warnings=(*plan.warnings, warning))
