"""Drug interaction checks against the medicines knowledge.

Names are resolved case-insensitively through generic names, aliases and brand names;
class names such as "NSAIDs" or "triptans" match the whole interaction rule. Names that
cannot be resolved are reported in ``unknown``, never silently dropped, and pairs that no
compiled knowledge file covers are reported in ``not_checked``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from painpath.kit.errors import InvalidInput, Problem
from painpath.medication.domain.knowledge import (
    SEVERITIES,
    InteractionRule,
    KnowledgeBase,
    MedicineKnowledge,
    load_knowledge,
    normalise_name,
)

SEVERITY_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class Interaction:
    """One interaction between two of the listed drugs."""

    drugs: tuple[str, str]
    severity: str
    effect: str
    action: str
    source: str
    verification: str
    rule: str
    rationale: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "drugs": list(self.drugs),
            "severity": self.severity,
            "effect": self.effect,
            "action": self.action,
            "source": self.source,
            "verification": self.verification,
            "rule": self.rule,
            "rationale": self.rationale,
        }


@dataclass(frozen=True)
class InteractionResult:
    interactions: tuple[Interaction, ...]
    unknown: tuple[str, ...]
    duplicates: tuple[tuple[str, ...], ...] = ()
    not_checked: tuple[tuple[str, str], ...] = ()

    @property
    def worst_severity(self) -> str | None:
        return self.interactions[0].severity if self.interactions else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "interactions": [i.to_dict() for i in self.interactions],
            "unknown": list(self.unknown),
            "duplicates": [list(d) for d in self.duplicates],
            "not_checked": [list(p) for p in self.not_checked],
        }


@dataclass(frozen=True)
class _Entry:
    given: str
    canonical: str | None
    class_rules: tuple[str, ...]

    @property
    def label(self) -> str:
        return self.canonical or self.given


def check_interactions(
    drugs: Sequence[str], knowledge: KnowledgeBase | None = None
) -> InteractionResult:
    """Interactions between every pair of ``drugs``, most severe first.

    Raises :class:`InvalidInput` (field ``drugs``) for an empty name.
    """
    kb = knowledge or load_knowledge()
    entries: list[_Entry] = []
    unknown: list[str] = []
    problems = [
        Problem(field=f"drugs[{i}]", message="a drug name must not be empty")
        for i, name in enumerate(drugs)
        if not name.strip()
    ]
    if problems:
        raise InvalidInput("a drug name must not be empty", problems)
    for name in drugs:
        given = name.strip()
        canonical = kb.resolve_drug(given)
        class_rules = () if canonical else kb.class_terms(given)
        if canonical is None and not class_rules:
            if given not in unknown:
                unknown.append(given)
            continue
        entries.append(_Entry(given, canonical, class_rules))

    duplicates: list[tuple[str, ...]] = []
    by_canonical: dict[str, list[str]] = {}
    for entry in entries:
        if entry.canonical:
            by_canonical.setdefault(entry.canonical, []).append(entry.given)
    for names in by_canonical.values():
        if len(names) > 1:
            duplicates.append(tuple(names))

    found: list[Interaction] = []
    not_checked: list[tuple[str, str]] = []
    seen_pairs: set[frozenset[str]] = set()
    for a, b in combinations(entries, 2):
        if a.canonical and a.canonical == b.canonical:
            continue
        pair_key = frozenset((a.label, b.label))
        if pair_key in seen_pairs:
            continue
        seen_pairs.add(pair_key)
        covered = False
        for first, second in ((a, b), (b, a)):
            medicine = kb.medicine(first.canonical) if first.canonical else None
            if medicine is None or not medicine.compiled:
                continue
            covered = True
            for rule in _matching_rules(medicine, second):
                found.append(
                    Interaction(
                        drugs=(medicine.name, second.label),
                        severity=rule.severity,
                        effect=rule.effect,
                        action=rule.action,
                        source=rule.source,
                        verification=rule.verification,
                        rule=rule.id,
                        rationale=rule.rationale,
                    )
                )
        if not covered and not (a.canonical is None and b.canonical is None):
            not_checked.append((a.label, b.label))

    found.sort(key=lambda i: (SEVERITY_RANK[i.severity], i.drugs))
    return InteractionResult(
        interactions=tuple(found),
        unknown=tuple(unknown),
        duplicates=tuple(duplicates),
        not_checked=tuple(not_checked),
    )


def _matching_rules(medicine: MedicineKnowledge, other: _Entry) -> list[InteractionRule]:
    matches: list[InteractionRule] = []
    for rule in medicine.interactions:
        if f"{medicine.name}:{rule.id}" in other.class_rules or (
            other.canonical is not None
            and any(
                normalise_name(member.name) == normalise_name(other.canonical)
                for member in rule.members
            )
        ):
            matches.append(rule)
    return matches
