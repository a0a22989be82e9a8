"""The evidence data (``evidence.yaml``): trials, pooled analyses, bottom line.

Loads the packaged YAML, checks the parts that calculations use, turns each trial's
discontinuation-for-adverse-events counts into a log risk ratio (duloxetine vs
placebo) and pools them with the random-effects meta-analysis. Published pooled
estimates are passed through exactly as published.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from painpath.kit.errors import ConfigurationError
from painpath.response.domain.meta import PooledEstimate, PoolMethod, log_risk_ratio, pool

EVIDENCE_FILE = "evidence.yaml"


@dataclass(frozen=True)
class EventCounts:
    """Discontinuations for adverse events in one trial, duloxetine vs placebo."""

    study_id: str
    study: str
    events_duloxetine: int
    n_duloxetine: int
    events_placebo: int
    n_placebo: int
    duloxetine_arm: str
    derived_from_percentages: bool
    label: str
    source: str


@dataclass(frozen=True)
class StudyEffect:
    """One study's log risk ratio and its sampling variance."""

    study_id: str
    study: str
    yi: float
    vi: float
    derived_from_percentages: bool
    label: str


@dataclass(frozen=True)
class Evidence:
    """The parsed evidence file (``raw`` keeps every field for display)."""

    version: int
    raw: dict[str, Any]
    discontinuation: tuple[EventCounts, ...]


def _require(mapping: Any, key: str, where: str) -> Any:
    if not isinstance(mapping, dict) or key not in mapping:
        raise ConfigurationError(f"{EVIDENCE_FILE}: {where} has no {key!r}")
    return mapping[key]


def _count(mapping: Any, key: str, where: str) -> int:
    value = _require(mapping, key, where)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(f"{EVIDENCE_FILE}: {where}.{key} must be a whole number ≥ 0")
    return value


def parse_evidence(text: str) -> Evidence:
    """Parse and check evidence YAML text (raises :class:`ConfigurationError`)."""
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ConfigurationError(f"{EVIDENCE_FILE}: the top level must be a mapping")
    version = _require(data, "version", "the file")
    trials = _require(data, "trials", "the file")
    if not isinstance(trials, list):
        raise ConfigurationError(f"{EVIDENCE_FILE}: trials must be a list")
    counts: list[EventCounts] = []
    for index, trial in enumerate(trials):
        where = f"trials[{index}]"
        study_id = str(_require(trial, "id", where))
        block = trial.get("discontinuation_for_adverse_events")
        if block is None:
            continue
        where = f"{study_id}.discontinuation_for_adverse_events"
        dulox = _require(block, "duloxetine", where)
        placebo = _require(block, "placebo", where)
        item = EventCounts(
            study_id=study_id,
            study=str(_require(trial, "name", f"trials[{index}]")),
            events_duloxetine=_count(dulox, "events", f"{where}.duloxetine"),
            n_duloxetine=_count(dulox, "n", f"{where}.duloxetine"),
            events_placebo=_count(placebo, "events", f"{where}.placebo"),
            n_placebo=_count(placebo, "n", f"{where}.placebo"),
            duloxetine_arm=str(dulox.get("arm", "duloxetine")),
            derived_from_percentages=bool(_require(block, "derived_from_percentages", where)),
            label=str(_require(block, "label", where)),
            source=str(_require(block, "source", where)),
        )
        if item.events_duloxetine > item.n_duloxetine or item.events_placebo > item.n_placebo:
            raise ConfigurationError(f"{EVIDENCE_FILE}: {where} has more events than people")
        counts.append(item)
    return Evidence(version=int(version), raw=data, discontinuation=tuple(counts))


@lru_cache(maxsize=1)
def load_evidence() -> Evidence:
    """The evidence file shipped with PainPath."""
    text = resources.files("painpath.response").joinpath(EVIDENCE_FILE).read_text("utf-8")
    return parse_evidence(text)


def discontinuation_effects(evidence: Evidence | None = None) -> list[StudyEffect]:
    """Log risk ratios (duloxetine vs placebo) of stopping for adverse events."""
    chosen = evidence or load_evidence()
    effects: list[StudyEffect] = []
    for c in chosen.discontinuation:
        yi, vi = log_risk_ratio(c.events_duloxetine, c.n_duloxetine, c.events_placebo, c.n_placebo)
        effects.append(
            StudyEffect(c.study_id, c.study, yi, vi, c.derived_from_percentages, c.label)
        )
    return effects


def pooled_discontinuation(
    method: PoolMethod = PoolMethod.REML, evidence: Evidence | None = None
) -> PooledEstimate:
    """Random-effects pooled log risk ratio of stopping for adverse events."""
    effects = discontinuation_effects(evidence)
    return pool([e.yi for e in effects], [e.vi for e in effects], method)


def evidence_view(method: PoolMethod = PoolMethod.REML) -> dict[str, Any]:
    """Everything ``evidence show`` prints: the data as published plus our pooling."""
    evidence = load_evidence()
    effects = discontinuation_effects(evidence)
    pooled = pooled_discontinuation(method, evidence)
    by_id = {c.study_id: c for c in evidence.discontinuation}
    return {
        "version": evidence.version,
        "bottom_line": evidence.raw.get("bottom_line", []),
        "trials": evidence.raw.get("trials", []),
        "pooled_analyses": evidence.raw.get("pooled_analyses", []),
        "meta_analyses": evidence.raw.get("meta_analyses", []),
        "references": evidence.raw.get("references", []),
        "discontinuation_for_adverse_events": {
            "what": (
                "Stopping because of adverse events, duloxetine vs placebo: risk ratio per "
                "trial and pooled by PainPath's random-effects meta-analysis"
            ),
            "studies": [
                {
                    "study": e.study,
                    "duloxetine": f"{by_id[e.study_id].events_duloxetine}/"
                    f"{by_id[e.study_id].n_duloxetine}",
                    "placebo": f"{by_id[e.study_id].events_placebo}/{by_id[e.study_id].n_placebo}",
                    "yi": e.yi,
                    "vi": e.vi,
                    "risk_ratio": math.exp(e.yi),
                    "derived_from_percentages": e.derived_from_percentages,
                    "label": e.label,
                }
                for e in effects
            ],
            "pooled": {
                **pooled.to_json(),
                "scale": "log risk ratio",
                "risk_ratio": math.exp(pooled.estimate),
                "risk_ratio_ci": [math.exp(pooled.ci_low), math.exp(pooled.ci_high)],
                "risk_ratio_pi": [math.exp(pooled.pi_low), math.exp(pooled.pi_high)],
            },
            "published_for_comparison": (
                "RR 2.31 (1.81 to 2.94), 9 RCTs in OA or CLBP (Osteoarthritis Cartilage 2020)"
            ),
        },
    }
