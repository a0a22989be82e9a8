"""Alert rules for the care team (pure): what raises an alert, how urgent it is, and why.

Each rule has an id, an urgency and its source (``clinical/reference.md`` sections,
guidelines, or "design" when it is a PainPath choice built from sourced facts).
Evaluators take plain values and return a :class:`Cause` (or None): the cause key makes
an alert unique for a patient, so the same data sent twice raises one alert.

Left out on purpose: a blood-pressure threshold rule. ``clinical/reference.md`` §1.8 and
§1.11 say to monitor blood pressure (especially in the first month) and act on a
sustained increase, but give no numeric threshold, so PainPath does not invent one.

Pure: standard library only; no database, web, clock or randomness.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final, Literal

Urgency = Literal["emergency", "urgent", "routine"]
URGENCIES: Final[tuple[Urgency, ...]] = ("emergency", "urgent", "routine")
URGENCY_RANK: Final[dict[str, int]] = {u: i for i, u in enumerate(URGENCIES)}
ALERT_STATUSES: Final = ("open", "acknowledged", "resolved")
# Alerts still waiting for someone: open ones, and acknowledged ones not yet resolved.
ACTIVE_STATUSES: Final = ("open", "acknowledged")

MISSED_DOSE_WINDOW_DAYS: Final = 7
MISSED_DOSE_THRESHOLD: Final = 3
# A follow-up still "scheduled" this many days after its due date is overdue for an alert
# (design choice: a week lets the clinician record an appointment that did take place).
FOLLOW_UP_GRACE_DAYS: Final = 7
# Withdrawal symptoms are watched from the first taper step until two weeks after the last
# (medicines knowledge file, taper.watch_days; reference §1.9: symptoms appear within days
# and usually resolve in 1-2 weeks).
TAPER_WATCH_DAYS: Final = 14


@dataclass(frozen=True)
class Rule:
    id: str
    urgency: Urgency
    title: str
    source: str


RED_FLAG_CAUDA_EQUINA = Rule(
    "red-flag-cauda-equina",
    "emergency",
    "Possible cauda equina syndrome on the red-flag screen",
    "clinical/reference.md §2.5 (NICE CKS Sciatica red flags; GIRFT national CES pathway; "
    "BMJ Best Practice: immediate hospital referral, MRI within 4 hours) [V]",
)
RED_FLAG = Rule(
    "red-flag",
    "urgent",
    "Red-flag answer on the red-flag screen (possible cancer, infection or fracture)",
    "clinical/reference.md §2.5, other red flags (NHS Gloucestershire G-Care pathway, "
    "CKS-derived; NICE NG59 1.1.1) [V]",
)
PHQ9_ITEM9 = Rule(
    "phq9-item9",
    "urgent",
    "PHQ-9 item 9 answered above 0 (thoughts of self-harm)",
    "clinical/reference.md §3.2 PHQ-9 item 9 follow-up (design rule from the item's "
    "meaning [V]); §1.7 suicidal thoughts: same-day help, alert the clinician [V]",
)
SIDE_EFFECT = Rule(
    "side-effect",
    "urgent",
    "Side effect triaged urgent or emergency",
    "clinical/reference.md §1.7 serious reactions that need urgent action; medicines "
    "knowledge triage (urgent and emergency reports reach the care team at once)",
)
STOPPED_ON_OWN = Rule(
    "stopped-on-own",
    "urgent",
    "The patient reports stopping the medicine on their own",
    "clinical/reference.md §1.9: NICE NG222 1.4.13-1.4.15 (stopping abruptly can cause "
    "withdrawal, within days) and NG215 (do not stop abruptly) [V]; same-day contact is "
    "a design choice",
)
MISSED_DOSES = Rule(
    "missed-doses",
    "routine",
    f"{MISSED_DOSE_THRESHOLD} or more doses missed in {MISSED_DOSE_WINDOW_DAYS} days",
    "NICE NG222 1.4.14: missed doses can cause withdrawal symptoms (clinical/reference.md "
    "§1.10) [V]; the 3-in-7-days threshold is a PainPath design rule",
)
WITHDRAWAL_IN_TAPER = Rule(
    "withdrawal-in-taper",
    "routine",
    "Possible withdrawal symptoms during a taper",
    "clinical/reference.md §1.9: NICE NG222 1.4.18 (monitor for withdrawal), 1.4.21 (mild: "
    "reassure and monitor), 1.4.22 (severe: consider restarting the previous dose, then "
    "reduce more slowly) [V]; SmPC 4.8 withdrawal symptoms [V]",
)
NON_RESPONSE = Rule(
    "non-response",
    "routine",
    "No meaningful benefit at the review point",
    "clinical/reference.md §1.3 (SmPC: evaluate response after 2 months [P]; design: stop "
    "if there is no meaningful benefit), §3.1 (IMMPACT, Dworkin 2008: a 30% reduction is "
    "moderately important [V]), §4 (stop/continue decision by about 8-12 weeks)",
)
OVERDUE_FOLLOW_UP = Rule(
    "overdue-follow-up",
    "routine",
    "A follow-up is overdue",
    "clinical/reference.md §1.11 (monitoring schedule) and §1.3 (reassess benefit "
    "regularly); the 7-day grace period is a PainPath design choice",
)

BLOOD_PRESSURE = Rule(
    "blood-pressure",
    "urgent",
    "A recorded blood pressure at or above the level the care team set",
    "clinical/reference.md §1.8 (SmPC 4.4: duloxetine is associated with raised blood "
    "pressure and hypertensive crisis; monitoring recommended, especially in the first "
    "month; a sustained increase needs dose reduction or gradual discontinuation [V]) and "
    "§1.7 (marked rise: urgent review [V]); the alert level is the care team's, set per "
    "patient: the reference gives no number",
)

RULES: Final[dict[str, Rule]] = {
    r.id: r
    for r in (
        RED_FLAG_CAUDA_EQUINA,
        RED_FLAG,
        PHQ9_ITEM9,
        SIDE_EFFECT,
        STOPPED_ON_OWN,
        MISSED_DOSES,
        WITHDRAWAL_IN_TAPER,
        NON_RESPONSE,
        OVERDUE_FOLLOW_UP,
        BLOOD_PRESSURE,
    )
}


@dataclass(frozen=True)
class Cause:
    """One reason for an alert; ``key`` is unique per patient (one alert per cause)."""

    rule: str
    key: str
    urgency: Urgency
    summary: str
    source: str


def _cause(rule: Rule, key: str, summary: str, urgency: Urgency | None = None) -> Cause:
    return Cause(rule.id, f"{rule.id}:{key}", urgency or rule.urgency, summary, rule.source)


def urgency_rank(urgency: str) -> int:
    """0 for the most urgent; unknown urgencies sort last."""
    return URGENCY_RANK.get(urgency, len(URGENCIES))


def alert_order(urgency: str, created_at: datetime) -> tuple[int, datetime]:
    """Most urgent first, then the one waiting longest."""
    return urgency_rank(urgency), created_at


# --------------------------------------------------------------------- questionnaires

SELF_HARM_FLAG: Final = "self-harm"
CAUDA_EQUINA_FLAG: Final = "cauda-equina"
RED_FLAG_FLAG: Final = "red-flag"


def questionnaire_causes(response_id: str, instrument: str, flags: Collection[str]) -> list[Cause]:
    """Red-flag answers and PHQ-9 item 9 above 0, from a scored response's flags."""
    causes: list[Cause] = []
    if CAUDA_EQUINA_FLAG in flags:
        causes.append(
            _cause(
                RED_FLAG_CAUDA_EQUINA,
                response_id,
                "Red-flag screen: possible cauda equina syndrome. The patient was told to go "
                "to A&E now; check they have been seen today.",
            )
        )
    elif RED_FLAG_FLAG in flags:
        causes.append(
            _cause(
                RED_FLAG,
                response_id,
                "Red-flag screen: an answer suggests possible cancer, infection or fracture. "
                "Assess the patient promptly.",
            )
        )
    if SELF_HARM_FLAG in flags:
        causes.append(
            _cause(
                PHQ9_ITEM9,
                response_id,
                f"{instrument.upper()} item 9 answered above 0 (thoughts of self-harm): "
                "contact the patient today.",
            )
        )
    return causes


# ----------------------------------------------------------------------- side effects


def side_effect_cause(report_id: str, symptom: str, triage_level: str) -> Cause | None:
    """Urgent and emergency side-effect reports reach the care team."""
    if triage_level not in ("urgent", "emergency"):
        return None
    level: Urgency = "emergency" if triage_level == "emergency" else "urgent"
    return _cause(
        SIDE_EFFECT,
        report_id,
        f"Side effect reported: {symptom[:120]} (triage: {triage_level}).",
        level,
    )


def stopped_on_own_cause(report_id: str, reported_on: date) -> Cause:
    """The patient says they stopped the medicine without a taper."""
    return _cause(
        STOPPED_ON_OWN,
        report_id,
        f"The patient reported on {reported_on.isoformat()} that they stopped the medicine on "
        "their own: contact them about withdrawal and a plan (restart or taper).",
    )


def blood_pressure_levels_reached(
    systolic: int, diastolic: int, alert_systolic: int | None, alert_diastolic: int | None
) -> list[str]:
    """Which of the care team's levels the reading reaches, in words (empty: none)."""
    return [
        f"{name} {value} at or above {level}"
        for name, value, level in (
            ("systolic", systolic, alert_systolic),
            ("diastolic", diastolic, alert_diastolic),
        )
        if level is not None and value >= level
    ]


def blood_pressure_cause(
    reading_id: str,
    systolic: int,
    diastolic: int,
    measured_on: date,
    alert_systolic: int | None,
    alert_diastolic: int | None,
) -> Cause | None:
    """A reading at or above either level the care team set for this patient; None when
    it is below both, or when no level is set (PainPath has no level of its own)."""
    high = blood_pressure_levels_reached(systolic, diastolic, alert_systolic, alert_diastolic)
    if not high:
        return None
    return _cause(
        BLOOD_PRESSURE,
        reading_id,
        f"Blood pressure {systolic}/{diastolic} mmHg on {measured_on.isoformat()}: "
        f"{' and '.join(high)} (the level set for this patient). Duloxetine can raise blood "
        "pressure: review, and reduce or taper if it stays high; never stop abruptly.",
    )


# ------------------------------------------------------------------------ missed doses


@dataclass(frozen=True)
class DoseObservation:
    """A logged dose on the patient's local calendar."""

    day: date
    status: str  # taken | missed | late


def missed_days(events: Iterable[DoseObservation], first: date, last: date) -> list[date]:
    """Days in [first, last] with a missed dose and no dose taken (on time or late)."""
    missed: set[date] = set()
    taken: set[date] = set()
    for e in events:
        if first <= e.day <= last:
            (missed if e.status == "missed" else taken).add(e.day)
    return sorted(missed - taken)


def missed_doses(events: Iterable[DoseObservation], today: date) -> Cause | None:
    """3 or more days with a missed dose in the 7 days ending today, else None.

    The cause is the first missed day of the window, so the same run of missed doses
    raises one alert; the service also holds back a new one while one is still active.
    """
    first = today - timedelta(days=MISSED_DOSE_WINDOW_DAYS - 1)
    days = missed_days(events, first, today)
    if len(days) < MISSED_DOSE_THRESHOLD:
        return None
    return _cause(
        MISSED_DOSES,
        days[0].isoformat(),
        f"{len(days)} doses missed in the {MISSED_DOSE_WINDOW_DAYS} days to {today.isoformat()} "
        f"(from {days[0].isoformat()}). Missed doses can cause withdrawal symptoms.",
    )


# --------------------------------------------------------------- withdrawal in a taper


@dataclass(frozen=True)
class TaperWindow:
    taper_id: str
    first: date
    last: date  # the last step's start; symptoms are watched for TAPER_WATCH_DAYS after


@dataclass(frozen=True)
class SymptomReport:
    report_id: str
    symptom: str
    severity: str
    started_on: date


def _normalise(text: str) -> str:
    cleaned = "".join(ch if ch.isalnum() else " " for ch in text.casefold())
    return " " + " ".join(cleaned.split()) + " "


def withdrawal_terms(symptoms: Iterable[str], extra: Iterable[str] = ()) -> list[str]:
    """Searchable words from a knowledge file's withdrawal list: "agitation or anxiety"
    gives "agitation" and "anxiety"; "sleep disturbances (insomnia, intense dreams)" gives
    "sleep disturbances", "insomnia" and "intense dreams"."""
    terms: list[str] = []
    for text in [*symptoms, *extra]:
        head, _, inner = text.partition("(")
        parts = [head, *inner.rstrip(")").split(",")]
        for part in parts:
            for piece in part.split(" or "):
                word = piece.strip()
                if word and not word.startswith("especially") and word not in terms:
                    terms.append(word)
    return terms


def is_withdrawal_symptom(symptom: str, terms: Iterable[str]) -> bool:
    """Whether the reported text names one of the medicine's withdrawal symptoms."""
    text = _normalise(symptom)
    return any(_normalise(t) in text for t in terms if t.strip())


def withdrawal_during_taper(
    reports: Iterable[SymptomReport], tapers: Iterable[TaperWindow], terms: Iterable[str]
) -> list[Cause]:
    """A withdrawal symptom that started during a taper (or its watch period)."""
    windows = list(tapers)
    words = list(terms)
    causes: list[Cause] = []
    for r in reports:
        if not is_withdrawal_symptom(r.symptom, words):
            continue
        for w in windows:
            if w.first <= r.started_on <= w.last + timedelta(days=TAPER_WATCH_DAYS):
                severe = r.severity == "severe"
                causes.append(
                    _cause(
                        WITHDRAWAL_IN_TAPER,
                        r.report_id,
                        f"Possible withdrawal symptom during the taper: {r.symptom[:120]} "
                        f"({r.severity}). "
                        + (
                            "Severe: consider going back to the previous dose and reducing "
                            "more slowly."
                            if severe
                            else "Reassure and monitor; resolve symptoms before the next step."
                        ),
                        "urgent" if severe else None,
                    )
                )
                break
    return causes


# ----------------------------------------------------------------------- non-response

NON_RESPONSE_CATEGORIES: Final = frozenset({"minimal", "worse"})


def non_response(prescription_id: str, category: str, percent_change: float | None) -> Cause | None:
    """Less than a 30% reduction in pain (IMMPACT "minimal" or "worse") at the review."""
    if category not in NON_RESPONSE_CATEGORIES:
        return None
    change = "" if percent_change is None else f" ({percent_change:+.0f}% from baseline)"
    return _cause(
        NON_RESPONSE,
        prescription_id,
        f"At the review point the pain diary shows no meaningful benefit{change}: "
        "review whether to continue, or plan a taper.",
    )


# --------------------------------------------------------------------- follow-ups


@dataclass(frozen=True)
class FollowUpObservation:
    follow_up_id: str
    due: date
    kind: str
    status: str


def is_overdue(due: date, status: str, today: date, grace_days: int = 0) -> bool:
    return status == "scheduled" and due < today - timedelta(days=grace_days)


def overdue_follow_ups(follow_ups: Iterable[FollowUpObservation], today: date) -> list[Cause]:
    """Scheduled follow-ups more than the grace period past their due date."""
    return [
        _cause(
            OVERDUE_FOLLOW_UP,
            f.follow_up_id,
            f"Follow-up '{f.kind[:80]}' was due on {f.due.isoformat()} and is not marked done.",
        )
        for f in follow_ups
        if is_overdue(f.due, f.status, today, FOLLOW_UP_GRACE_DAYS)
    ]


# --------------------------------------------------------------- changing an alert


def check_transition(current: str, new: str) -> str | None:
    """None if an alert may go from ``current`` to ``new``, else the reason it may not."""
    if new not in ("acknowledged", "resolved"):
        return "the status must be 'acknowledged' or 'resolved'"
    if current == "resolved":
        return "this alert is already resolved"
    if current == new:
        return f"this alert is already {current}"
    return None
