"""A synthetic population of PainPath patients, deterministic for a seed (pure).

Each patient has chronic low back pain or sciatica, a baseline diary before
duloxetine, the usual titration (30 mg for 7 days, then 60 mg: the design default
in clinical/reference.md §1.3), a daily pain course and the records around it.

How the courses are drawn, and why:
- Response on duloxetine in the pooled CLBP trials (Alev 2017, J Pain Res
  10:1723–31; reference §4): 59.7% reached a ≥30% reduction and 48.6% a ≥50%
  reduction. Patients are drawn as substantial responders (48.6%), moderate
  (59.7 − 48.6 = 11.1%), minimal or no change (30%) and worse (10.3%).
- Side effects in the first weeks with the US pooled label frequencies
  (reference §1.6): nausea 23%, dry mouth 13%, somnolence 10%, dizziness 9%,
  constipation 9%, insomnia 9%, hyperhidrosis 6%.
- Questionnaires at the product's default schedule: PHQ-9, GAD-7 and RMDQ at
  baseline and every 4 weeks, PEG weekly, STarT Back at the start of the episode.

The generator streams one patient at a time, so 100,000 patients take bounded
memory. It never reads the clock: ``today`` is passed in.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

NAMESPACE = uuid.UUID("3f1d6c52-2d0e-4c8e-9a55-8c1f0e5b7a11")
LONDON = ZoneInfo("Europe/London")

ResponseKind = Literal["substantial", "moderate", "minimal", "none", "worse"]

# (kind, share, relative reduction reached on treatment)
RESPONSE_MIX: tuple[tuple[ResponseKind, float, float], ...] = (
    ("substantial", 0.486, 0.58),
    ("moderate", 0.111, 0.38),
    ("minimal", 0.15, 0.18),
    ("none", 0.15, 0.02),
    ("worse", 0.103, -0.15),
)
SIDE_EFFECTS: tuple[tuple[str, float], ...] = (
    ("nausea", 0.23),
    ("dry mouth", 0.13),
    ("somnolence", 0.10),
    ("dizziness", 0.09),
    ("constipation", 0.09),
    ("insomnia", 0.09),
    ("hyperhidrosis", 0.06),
)
FIRST_NAMES = (
    "Alice",
    "Bilal",
    "Chloe",
    "David",
    "Eleanor",
    "Farah",
    "George",
    "Hannah",
    "Imran",
    "Jessica",
    "Kwame",
    "Laura",
    "Mohammed",
    "Niamh",
    "Oliver",
    "Priya",
    "Rhys",
    "Sophie",
    "Tomasz",
    "Una",
    "Victor",
    "Wendy",
    "Yusuf",
    "Zara",
)
LAST_NAMES = (
    "Adams",
    "Begum",
    "Clarke",
    "Davies",
    "Evans",
    "Fraser",
    "Green",
    "Hughes",
    "Iqbal",
    "Jones",
    "Khan",
    "Lewis",
    "Morgan",
    "Nowak",
    "Okafor",
    "Patel",
    "Quinn",
    "Roberts",
    "Singh",
    "Taylor",
    "Walker",
    "Young",
)
THERAPIES = ("physiotherapy", "exercise", "mindfulness", "acupuncture", "massage", "tens")


def stable_id(seed: int, *parts: object) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, ":".join([str(seed), *map(str, parts)]))


@dataclass(frozen=True)
class Account:
    role: Literal["patient", "clinician", "admin"]
    email: str
    password: str
    display_name: str
    totp_secret: str | None = None
    clinician_kind: str | None = None
    key: str = ""


@dataclass(frozen=True)
class Diary:
    id: uuid.UUID
    date: date
    pain: int
    worst_pain: int
    sleep_interference: int
    activity_minutes: int
    mood: int


@dataclass(frozen=True)
class Dose:
    id: uuid.UUID
    status: Literal["taken", "missed", "late"]
    taken_at: datetime
    dose_mg: Decimal


@dataclass(frozen=True)
class SideEffect:
    id: uuid.UUID
    symptom: str
    severity: Literal["mild", "moderate", "severe"]
    started_on: date


@dataclass(frozen=True)
class Questionnaire:
    id: uuid.UUID
    instrument: str
    answers: tuple[int, ...]
    completed_at: datetime


@dataclass(frozen=True)
class Therapy:
    id: uuid.UUID
    date: date
    kind: str
    minutes: int
    pain_before: int | None
    pain_after: int | None


@dataclass(frozen=True)
class DoseStepSpec:
    start: date
    daily_dose_mg: Decimal
    reason: str


@dataclass
class PatientHistory:
    index: int
    patient_id: uuid.UUID
    account: Account
    name: str
    date_of_birth: date
    condition: str
    onset_date: date
    symptoms: list[str]
    response_kind: ResponseKind
    baseline_pain: float
    start: date
    prescription_id: uuid.UUID
    steps: list[DoseStepSpec]
    diary: list[Diary] = field(default_factory=list)
    doses: list[Dose] = field(default_factory=list)
    side_effects: list[SideEffect] = field(default_factory=list)
    questionnaires: list[Questionnaire] = field(default_factory=list)
    therapies: list[Therapy] = field(default_factory=list)
    tapering_from: date | None = None
    referred_to_specialist: bool = False


def _password(rng: random.Random, role: str, seed: int) -> str:
    letters = "abcdefghjkmnpqrstuvwxyz23456789"
    tail = "".join(rng.choice(letters) for _ in range(10))
    return f"demo-{role}-{seed}-{tail}"


def _totp_secret(seed: int, key: str) -> str:
    digest = hashlib.sha256(f"painpath-demo:{seed}:{key}".encode()).digest()
    return base64.b32encode(digest[:20]).decode()


def staff_accounts(seed: int) -> list[Account]:
    """The demo GP, pain specialist and administrator."""
    rng = random.Random(f"staff:{seed}")
    return [
        Account(
            "clinician",
            "gp@painpath.example",
            _password(rng, "gp", seed),
            "Dr Asha Mensah",
            _totp_secret(seed, "gp"),
            "gp",
            "gp",
        ),
        Account(
            "clinician",
            "specialist@painpath.example",
            _password(rng, "specialist", seed),
            "Dr Rowan Ellis",
            _totp_secret(seed, "specialist"),
            "pain-specialist",
            "specialist",
        ),
        Account(
            "admin",
            "admin@painpath.example",
            _password(rng, "admin", seed),
            "Sam Admin",
            _totp_secret(seed, "admin"),
            None,
            "admin",
        ),
    ]


def _pick_kind(rng: random.Random) -> ResponseKind:
    roll = rng.random()
    acc = 0.0
    for kind, share, _ in RESPONSE_MIX:
        acc += share
        if roll < acc:
            return kind
    return RESPONSE_MIX[-1][0]


def _reduction(kind: ResponseKind) -> float:
    return next(r for k, _, r in RESPONSE_MIX if k == kind)


def _at(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def _clamp(value: float) -> int:
    return max(0, min(10, round(value)))


def generate_patients(
    seed: int,
    today: date,
    count: int,
    *,
    first: int = 0,
    kinds: list[ResponseKind] | None = None,
) -> Iterator[PatientHistory]:
    """Patients ``first`` … ``first + count − 1``; each depends only on (seed, index, today)."""
    for index in range(first, first + count):
        kind = kinds[index % len(kinds)] if kinds else None
        yield _patient(seed, today, index, kind)


def _patient(seed: int, today: date, index: int, forced: ResponseKind | None) -> PatientHistory:
    rng = random.Random(f"patient:{seed}:{index}")
    first_name = FIRST_NAMES[rng.randrange(len(FIRST_NAMES))]
    last_name = LAST_NAMES[rng.randrange(len(LAST_NAMES))]
    name = f"{first_name} {last_name}"
    pid = stable_id(seed, "patient", index)
    account = Account(
        "patient",
        f"patient{index + 1}@painpath.example",
        _password(rng, "patient", seed) + str(index),
        name,
        key=f"patient{index}",
    )
    history_days = rng.randint(90, 270)
    baseline_days = rng.randint(14, 21)
    start = today - timedelta(days=history_days - baseline_days)
    condition = rng.choice(["chronic-low-back-pain", "sciatica", "both"])
    onset = start - timedelta(days=rng.randint(100, 900))
    symptoms = ["low back pain"]
    if condition != "chronic-low-back-pain":
        symptoms += rng.sample(["leg pain", "tingling", "numbness", "weakness"], k=2)
    kind = forced or _pick_kind(rng)
    baseline = rng.uniform(5.5, 8.0)
    steps = [
        DoseStepSpec(start, Decimal(30), "titration: 30 mg once daily for 7 days"),
        DoseStepSpec(start + timedelta(days=7), Decimal(60), "titration: then 60 mg once daily"),
    ]
    history = PatientHistory(
        index=index,
        patient_id=pid,
        account=account,
        name=name,
        date_of_birth=date(
            today.year - rng.randint(28, 78), rng.randint(1, 12), rng.randint(1, 28)
        ),
        condition=condition,
        onset_date=onset,
        symptoms=symptoms,
        response_kind=kind,
        baseline_pain=baseline,
        start=start,
        prescription_id=stable_id(seed, "prescription", index),
        steps=steps,
        referred_to_specialist=condition != "chronic-low-back-pain" or index % 3 == 0,
    )
    # A non-responder with a long course is tapering off (NICE NG222: reduce stepwise).
    treated_days = (today - start).days
    if kind in ("none", "worse") and treated_days > 100:
        taper_start = today - timedelta(days=rng.randint(5, 12))
        history.tapering_from = taper_start
        history.steps += [
            DoseStepSpec(taper_start, Decimal(30), "taper: no meaningful benefit"),
            DoseStepSpec(taper_start + timedelta(days=14), Decimal(0), "taper: stop"),
        ]
    _diary(history, rng, seed, today, baseline_days)
    _doses(history, rng, seed, today)
    _side_effects(history, rng, seed)
    _questionnaires(history, rng, seed, today, baseline_days)
    _therapies(history, rng, seed, today)
    return history


def planned_dose(history: PatientHistory, day: date) -> Decimal:
    dose = Decimal(0)
    for step in history.steps:
        if step.start <= day:
            dose = step.daily_dose_mg
    return dose if day >= history.start else Decimal(0)


def _diary(
    h: PatientHistory, rng: random.Random, seed: int, today: date, baseline_days: int
) -> None:
    reduction = _reduction(h.response_kind)
    completion = rng.uniform(0.75, 0.97)
    noise = 0.0
    day = h.start - timedelta(days=baseline_days)
    while day < today:
        noise = 0.6 * noise + rng.gauss(0, 0.7)
        t = (day - h.start).days
        effect = reduction * (1 - math.exp(-t / 12)) if t >= 0 else 0.0
        if h.tapering_from and day >= h.tapering_from:
            effect = max(effect, 0.0) * 0.5
        mean = h.baseline_pain * (1 - effect)
        if rng.random() < completion:
            pain = _clamp(mean + noise)
            h.diary.append(
                Diary(
                    id=stable_id(seed, "diary", h.index, day.isoformat()),
                    date=day,
                    pain=pain,
                    worst_pain=_clamp(pain + rng.uniform(0.5, 2.5)),
                    sleep_interference=_clamp(pain - 1 + rng.gauss(0, 1)),
                    activity_minutes=max(0, int(rng.gauss(40 + (7 - pain) * 6, 15))),
                    mood=_clamp(10 - pain + rng.gauss(0, 1.2)),
                )
            )
        day += timedelta(days=1)


def _doses(h: PatientHistory, rng: random.Random, seed: int, today: date) -> None:
    missed_rate = rng.choice([0.03, 0.05, 0.08, 0.2])
    day = h.start
    while day < today:
        dose = planned_dose(h, day)
        if dose > 0:
            roll = rng.random()
            status: Literal["taken", "missed", "late"]
            if roll < missed_rate:
                status, at = "missed", _at(day, 8, 0)
            elif roll < missed_rate + 0.04:
                status, at = "late", _at(day, 13, rng.randint(0, 59))
            else:
                status, at = "taken", _at(day, 8, rng.randint(0, 40))
            h.doses.append(
                Dose(stable_id(seed, "dose", h.index, day.isoformat()), status, at, dose)
            )
        day += timedelta(days=1)


def _side_effects(h: PatientHistory, rng: random.Random, seed: int) -> None:
    for symptom, rate in SIDE_EFFECTS:
        if rng.random() < rate:
            severity: Literal["mild", "moderate"] = "mild" if rng.random() < 0.7 else "moderate"
            h.side_effects.append(
                SideEffect(
                    stable_id(seed, "side-effect", h.index, symptom),
                    symptom,
                    severity,
                    h.start + timedelta(days=rng.randint(1, 14)),
                )
            )


def _answers(rng: random.Random, n: int, low: int, high: int, level: float) -> tuple[int, ...]:
    """``n`` answers in [low, high] centred on ``level`` (a 0–1 fraction of the range)."""
    span = high - low
    return tuple(
        max(low, min(high, round(low + span * level + rng.gauss(0, span * 0.2)))) for _ in range(n)
    )


def _questionnaires(
    h: PatientHistory, rng: random.Random, seed: int, today: date, baseline_days: int
) -> None:
    first_day = h.start - timedelta(days=baseline_days)
    reduction = _reduction(h.response_kind)
    distress = rng.uniform(0.1, 0.45)

    def add(instrument: str, day: date, answers: tuple[int, ...]) -> None:
        h.questionnaires.append(
            Questionnaire(
                stable_id(seed, "questionnaire", h.index, instrument, day.isoformat()),
                instrument,
                answers,
                _at(day, 19, rng.randint(0, 59)),
            )
        )

    add("startback", first_day, (*_answers(rng, 8, 0, 1, 0.5), rng.randint(1, 4)))
    day = first_day
    while day < today:
        t = (day - h.start).days
        effect = reduction * (1 - math.exp(-t / 12)) if t >= 0 else 0.0
        level = max(0.0, min(1.0, h.baseline_pain / 10 * (1 - effect)))
        add("peg", day, _answers(rng, 3, 0, 10, level))
        if (day - first_day).days % 28 == 0:
            phq = list(_answers(rng, 9, 0, 3, distress * (1 - effect / 2)))
            phq[8] = 0
            add("phq9", day, tuple(phq))
            add("gad7", day, _answers(rng, 7, 0, 3, distress))
            add("rmdq", day, _answers(rng, 24, 0, 1, level * 0.8))
        day += timedelta(days=7)
    if h.index % 10 == 2:
        # One demo patient in ten answers PHQ-9 item 9 above 0 on their latest PHQ-9, so
        # the care team's self-harm alert and the crisis signposting can be seen.
        last = max(i for i, q in enumerate(h.questionnaires) if q.instrument == "phq9")
        q = h.questionnaires[last]
        h.questionnaires[last] = Questionnaire(
            q.id, q.instrument, (*q.answers[:8], 1), q.completed_at
        )


def _therapies(h: PatientHistory, rng: random.Random, seed: int, today: date) -> None:
    if rng.random() < 0.6:
        kind = rng.choice(THERAPIES)
        day = h.start + timedelta(days=rng.randint(-10, 40))
        n = rng.randint(3, 8)
        for i in range(n):
            if day >= today:
                break
            before = _clamp(h.baseline_pain + rng.gauss(-1, 1))
            h.therapies.append(
                Therapy(
                    stable_id(seed, "therapy", h.index, i),
                    day,
                    kind,
                    rng.choice([20, 30, 45, 60]),
                    before,
                    _clamp(before - rng.uniform(0, 2)),
                )
            )
            day += timedelta(days=7)
