"""Prescription checks: dose limits, whole-capsule doses, contraindications,
interactions, cautions and guideline positions, each warning with its source.

A ``blocking`` warning stops the prescription unless a clinician records an override
reason. Two blocking warnings cannot be overridden at all (``overridable=False``): a
medicine whose knowledge is not compiled (PainPath cannot check it) and a dose that
cannot be made from whole capsules.

Conditions are matched by exact term after folding case and punctuation (for example
``"chronic low back pain"``, ``"CLBP"``, ``"hypertension"``); terms PainPath does not
know are reported as ``unrecognised-condition`` rather than ignored. Free-text negation
("no liver disease") is deliberately not interpreted: pass only conditions present.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from painpath.kit.errors import InvalidInput
from painpath.medication.domain.interactions import check_interactions
from painpath.medication.domain.knowledge import (
    KnowledgeBase,
    MedicineKnowledge,
    load_knowledge,
    normalise_name,
)
from painpath.medication.domain.schedule import (
    Dose,
    Schedule,
    StepInput,
    build_schedule,
    dose_options,
    format_mg,
    to_dose,
)

NOT_COMPILED_SOURCE = (
    "PainPath knowledge file {file}: status not_compiled "
    "(clinical reference §2.6: full monograph not yet compiled)"
)


@dataclass(frozen=True)
class PrescribingWarning:
    code: str
    message: str
    source: str
    blocking: bool
    overridable: bool = True
    severity: str | None = None
    verification: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "source": self.source,
            "blocking": self.blocking,
            "overridable": self.overridable,
            "severity": self.severity,
            "verification": self.verification,
        }


Warning = PrescribingWarning  # the name used by callers ("a list of Warning")


def find_medicine(name: str, knowledge: KnowledgeBase | None = None) -> MedicineKnowledge:
    """The medicine's knowledge by name, alias or brand; InvalidInput if unknown."""
    kb = knowledge or load_knowledge()
    medicine = kb.medicine(name) if name.strip() else None
    if medicine is None:
        raise InvalidInput(
            f"unknown medicine {name!r}; PainPath knows {', '.join(kb.names())}", field="medicine"
        )
    return medicine


def check_prescription(
    medicine: str,
    schedule: Schedule | Sequence[StepInput],
    other_medicines: Sequence[str] = (),
    conditions: Sequence[str] = (),
    renal_crcl: Dose | None = None,
    hepatic_impairment: bool | None = None,
    bp_uncontrolled: bool | None = None,
    *,
    initiating: bool = True,
    knowledge: KnowledgeBase | None = None,
) -> list[PrescribingWarning]:
    """Every warning for prescribing ``medicine`` on ``schedule``; blocking ones first.

    ``renal_crcl`` is creatinine clearance in mL/min; ``None`` for the three optional
    measurements means "not recorded" and yields a non-blocking reminder. ``initiating``
    is False when an existing course is changed (contraindications that apply only at
    the start, such as uncontrolled hypertension, then become cautions).
    Raises :class:`InvalidInput` for an unknown medicine or an invalid schedule.
    """
    kb = knowledge or load_knowledge()
    med = find_medicine(medicine, kb)
    steps = schedule if isinstance(schedule, Schedule) else build_schedule(schedule)
    crcl = None if renal_crcl is None else to_dose(renal_crcl, "renal_crcl")
    for field, value in (
        ("hepatic_impairment", hepatic_impairment),
        ("bp_uncontrolled", bp_uncontrolled),
    ):
        if value is not None and not isinstance(value, bool):
            raise InvalidInput("must be true, false or not recorded", field=field)
    given = {normalise_name(c): c.strip() for c in conditions if c.strip()}

    warnings: list[PrescribingWarning] = []
    warnings += _guidance(med, given)
    if not med.compiled:
        warnings.append(
            PrescribingWarning(
                code="not-compiled",
                message=(
                    f"{med.display_name} cannot be prescribed in PainPath: "
                    f"{med.not_compiled_reason}"
                ),
                source=NOT_COMPILED_SOURCE.format(file=med.file),
                blocking=True,
                overridable=False,
            )
        )
        return _ordered(warnings)

    warnings += _dose_checks(med, steps, given)
    warnings += _contraindications(
        med, given, crcl, hepatic_impairment, bp_uncontrolled, initiating
    )
    warnings += _cautions(med, given)
    warnings += _interactions(med, other_medicines, kb)
    known = _known_terms(med)
    warnings += [
        PrescribingWarning(
            code="unrecognised-condition",
            message=(
                f"The condition {original!r} is not in PainPath's {med.name} knowledge, so it was "
                "not checked: check it against the SmPC/BNF yourself."
            ),
            source=f"PainPath knowledge file {med.file}",
            blocking=False,
        )
        for norm, original in given.items()
        if norm not in known
    ]
    return _ordered(warnings)


def _ordered(warnings: list[PrescribingWarning]) -> list[PrescribingWarning]:
    return sorted(warnings, key=lambda w: (not w.blocking, w.overridable))


def _matches(terms: Sequence[str], given: dict[str, str]) -> list[str]:
    return [given[n] for n in {normalise_name(t) for t in terms} if n in given]


def _known_terms(med: MedicineKnowledge) -> set[str]:
    groups: list[Sequence[str]] = [s.condition_terms for s in med.licensing]
    groups += [t.condition_terms for t in med.titrations]
    groups += [a.condition_terms for a in med.advisory_limits]
    groups += [c.condition_terms for c in med.contraindications]
    groups += [c.condition_terms for c in med.cautions]
    return {normalise_name(t) for group in groups for t in group}


def _guidance(med: MedicineKnowledge, given: dict[str, str]) -> list[PrescribingWarning]:
    out: list[PrescribingWarning] = []
    for statement in med.licensing:
        if _matches(statement.condition_terms, given):
            out.append(
                PrescribingWarning(
                    code="off-label" if statement.code.startswith("off-label") else "guideline",
                    message=statement.text,
                    source=statement.source,
                    blocking=False,
                    verification=statement.verification,
                )
            )
    return out


def _dose_checks(
    med: MedicineKnowledge, schedule: Schedule, given: dict[str, str]
) -> list[PrescribingWarning]:
    out: list[PrescribingWarning] = []
    options = dose_options(med)
    strengths = ", ".join(str(s) for s in med.whole_strengths_mg)
    for step in schedule.steps:
        dose = step.daily_dose_mg
        when = f"from {step.start.isoformat()}"
        if med.max_daily_dose and dose > med.max_daily_dose.daily_mg:
            out.append(
                PrescribingWarning(
                    code="above-maximum",
                    message=(
                        f"{format_mg(dose)} mg a day {when} is above the maximum of "
                        f"{format_mg(med.max_daily_dose.daily_mg)} mg a day. "
                        f"{med.max_daily_dose.text}"
                    ),
                    source=med.max_daily_dose.source,
                    blocking=True,
                    verification=med.max_daily_dose.verification,
                )
            )
        if dose > 0 and dose not in options:
            form = med.forms[0]
            out.append(
                PrescribingWarning(
                    code="dose-not-achievable",
                    message=(
                        f"{format_mg(dose)} mg a day {when} cannot be made from whole "
                        f"{form.form}s ({strengths} mg; {form.administration}) in once-daily or "
                        "evenly divided doses."
                    ),
                    source=form.source,
                    blocking=True,
                    overridable=False,
                    verification=form.verification,
                )
            )
        for limit in med.advisory_limits:
            matched = _matches(limit.condition_terms, given)
            if matched and dose > limit.daily_mg:
                out.append(
                    PrescribingWarning(
                        code=limit.code,
                        message=(
                            f"{format_mg(dose)} mg a day {when} is above the "
                            f"{format_mg(limit.daily_mg)} mg a day advised for "
                            f"{', '.join(sorted(matched))}. {limit.text}"
                        ),
                        source=limit.source,
                        blocking=False,
                        verification=limit.verification,
                    )
                )
    return out


def _contraindications(
    med: MedicineKnowledge,
    given: dict[str, str],
    crcl: Decimal | None,
    hepatic_impairment: bool | None,
    bp_uncontrolled: bool | None,
    initiating: bool,
) -> list[PrescribingWarning]:
    out: list[PrescribingWarning] = []
    kinds = {c.kind for c in med.contraindications}
    for item in med.contraindications:
        reasons = _matches(item.condition_terms, given)
        if item.kind == "hepatic" and hepatic_impairment:
            reasons.append("hepatic impairment recorded")
        if item.kind == "renal" and crcl is not None and crcl < (item.crcl_below or 0):
            reasons.append(f"creatinine clearance {format_mg(crcl)} mL/min")
        if item.kind == "blood_pressure" and bp_uncontrolled:
            reasons.append("blood pressure recorded as uncontrolled")
        if not reasons:
            continue
        applies = item.applies_at == "always" or initiating
        out.append(
            PrescribingWarning(
                code="contraindicated-condition" if applies else "caution-condition",
                message=(
                    f"Contraindicated: {item.text} ({'; '.join(reasons)})"
                    if applies
                    else f"{item.text} ({'; '.join(reasons)}). This contraindication applies when "
                    "starting; for an existing course a sustained rise calls for dose reduction "
                    "or gradual stopping, not an abrupt stop."
                ),
                source=item.source,
                blocking=applies,
                verification=item.verification,
            )
        )
    missing = [
        ("renal", crcl is None, "renal-function-not-recorded", "creatinine clearance"),
        ("hepatic", hepatic_impairment is None, "hepatic-status-not-recorded", "liver status"),
        (
            "blood_pressure",
            bp_uncontrolled is None and initiating,
            "blood-pressure-not-recorded",
            "a recent blood pressure",
        ),
    ]
    for kind, is_missing, code, what in missing:
        if kind in kinds and is_missing:
            item = next(c for c in med.contraindications if c.kind == kind)
            out.append(
                PrescribingWarning(
                    code=code,
                    message=(
                        f"No {what} recorded, so this contraindication was not checked: {item.text}"
                    ),
                    source=item.source,
                    blocking=False,
                    verification=item.verification,
                )
            )
    return out


def _cautions(med: MedicineKnowledge, given: dict[str, str]) -> list[PrescribingWarning]:
    return [
        PrescribingWarning(
            code="caution-condition",
            message=(
                f"{caution.text} (recorded: "
                f"{', '.join(sorted(_matches(caution.condition_terms, given)))})"
            ),
            source=caution.source,
            blocking=False,
            verification=caution.verification,
        )
        for caution in med.cautions
        if _matches(caution.condition_terms, given)
    ]


def _interactions(
    med: MedicineKnowledge, others: Sequence[str], kb: KnowledgeBase
) -> list[PrescribingWarning]:
    names = [o for o in others if o.strip()]
    if not names:
        return []
    result = check_interactions([med.name, *names], kb)
    out: list[PrescribingWarning] = []
    for found in result.interactions:
        if med.name not in found.drugs:
            continue
        other = found.drugs[1] if found.drugs[0] == med.name else found.drugs[0]
        contraindicated = found.severity == "contraindicated"
        out.append(
            PrescribingWarning(
                code="contraindicated-combination" if contraindicated else "interaction",
                message=f"{med.name} + {other} ({found.severity}): {found.effect} {found.action}",
                source=found.source,
                blocking=contraindicated,
                severity=found.severity,
                verification=found.verification,
            )
        )
    for group in result.duplicates:
        if kb.resolve_drug(group[0]) == med.name:
            out.append(
                PrescribingWarning(
                    code="duplicate-medicine",
                    message=(
                        f"{med.name} is already in the medicine list ({', '.join(group[1:])}): "
                        "two courses of the same medicine add up to a double dose."
                    ),
                    source=(
                        f"PainPath knowledge file {med.file} (names and brands); maximum daily dose"
                    ),
                    blocking=True,
                )
            )
    out += [
        PrescribingWarning(
            code="unknown-medicine",
            message=(
                f"{name!r} is not in PainPath's medicines knowledge, so its interactions with "
                f"{med.name} were not checked: check them against the SmPC/BNF."
            ),
            source=f"PainPath knowledge file {med.file}",
            blocking=False,
        )
        for name in result.unknown
    ]
    return out


def guidance_for(
    medicine: str, conditions: Sequence[str], knowledge: KnowledgeBase | None = None
) -> list[PrescribingWarning]:
    """The licensing and guideline statements (off-label, NICE position) that apply to
    ``medicine`` for ``conditions``, each with its source. Unknown medicine: none."""
    kb = knowledge or load_knowledge()
    med = kb.medicine(medicine) if medicine.strip() else None
    if med is None:
        return []
    given = {normalise_name(c): c.strip() for c in conditions if c.strip()}
    return _guidance(med, given)
