"""Advice for a missed dose, from the medicine's knowledge file.

Once-daily dosing (NHS website): take the missed dose when remembered unless the next
dose is less than 12 hours away; then skip it. Never double up. For other frequencies
only the general rule is sourced (US PI: skip if it is almost time for the next dose),
so no hour threshold is applied and ``take_now`` is left undecided.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from painpath.kit.errors import InvalidInput
from painpath.medication.domain.knowledge import KnowledgeBase, MedicineKnowledge, load_knowledge
from painpath.medication.domain.prescribing import find_medicine
from painpath.medication.domain.schedule import Dose, format_mg, to_dose


@dataclass(frozen=True)
class MissedDoseAdvice:
    take_now: bool | None
    advice: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"take_now": self.take_now, "advice": self.advice, "source": self.source}


def missed_dose_advice(
    medicine: str | MedicineKnowledge,
    doses_per_day: int = 1,
    hours_until_next: Dose | None = None,
    *,
    knowledge: KnowledgeBase | None = None,
) -> MissedDoseAdvice:
    """What to do about a forgotten dose.

    ``hours_until_next`` (whole hours or an exact decimal) decides ``take_now`` for a
    once-daily dose; without it the rule is given and ``take_now`` is None.
    """
    med = (
        medicine
        if isinstance(medicine, MedicineKnowledge)
        else find_medicine(medicine, knowledge or load_knowledge())
    )
    rules = med.missed_dose
    if not med.compiled or rules is None:
        raise InvalidInput(
            f"PainPath has no missed-dose advice for {med.name}: {med.not_compiled_reason} "
            "Ask your pharmacist.",
            field="medicine",
        )
    if isinstance(doses_per_day, bool) or doses_per_day not in (1, 2, 3, 4):
        raise InvalidInput("must be 1, 2, 3 or 4 doses a day", field="doses_per_day")
    hours = None if hours_until_next is None else to_dose(hours_until_next, "hours_until_next")
    if hours is not None and hours > 24 / doses_per_day:
        raise InvalidInput(
            f"cannot be more than {24 // doses_per_day} hours for {doses_per_day} dose(s) a day",
            field="hours_until_next",
        )
    tail = f" {rules.note}"
    if doses_per_day != 1:
        return MissedDoseAdvice(None, rules.other + tail, rules.source)
    if hours is None:
        return MissedDoseAdvice(None, rules.once_daily + tail, rules.source)
    threshold = rules.once_daily_threshold_hours
    if hours >= threshold:
        advice = (
            f"Take the missed dose now: your next dose is {format_mg(hours)} hours away "
            f"(at least {threshold} hours). Then carry on as usual."
        )
        take_now = True
    else:
        advice = (
            f"Skip the missed dose: your next dose is only {format_mg(hours)} hours away (less "
            f"than {threshold} hours). Take the next dose at the usual time."
        )
        take_now = False
    advice += " Never take two doses to make up for a forgotten one." + tail
    return MissedDoseAdvice(take_now, advice, rules.source)
