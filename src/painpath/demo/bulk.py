"""Loading a large synthetic population fast: PostgreSQL ``COPY``, SQLite ``executemany``.

The demo loader (:mod:`painpath.demo.service`) goes through the services one record at
a time, which is right for ten patients and far too slow for 100,000. This module
writes the same records as plain rows, a batch of patients at a time, so memory stays
bounded whatever the population:

- PostgreSQL: one ``COPY … FROM STDIN`` per table per batch (psycopg's ``copy``), one
  transaction per batch;
- SQLite: SQLAlchemy Core ``executemany`` per table per batch, one transaction per batch.

What it writes for each patient mirrors the demo loader: an account (with the one
password hash the caller gives, so no per-patient argon2 work: bulk accounts cannot
sign in until their password is set), the patient, the care team, a referral to the
specialist where the history says so, the care episode, the duloxetine prescription
with its dose steps and taper plan, and the diary, dose events, side-effect reports
(triaged), questionnaire responses (scored) and therapy sessions, plus the alerts the
demo raises (PHQ-9 item 9, repeated missed doses, taper in progress, worse on
treatment). It writes no audit events: a bulk load is an import, not an access.

Histories come from :mod:`painpath.demo.generator`. The demo draws 90–270 days of
history per patient; :func:`histories` gives every patient exactly ``days`` days (a
year of daily diaries for the benchmarks) with the generator's own pain, dose,
side-effect, questionnaire and therapy models.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, Table

from painpath.db import Base
from painpath.demo import generator as gen
from painpath.demo.generator import PatientHistory, stable_id

# Tables in the order their foreign keys need.
TABLES = (
    "users",
    "clinicians",
    "patients",
    "care_team_members",
    "referrals",
    "care_episodes",
    "prescriptions",
    "dose_steps",
    "taper_plans",
    "diary_entries",
    "dose_events",
    "side_effect_reports",
    "questionnaire_responses",
    "therapy_sessions",
    "alerts",
)
# The patient's own day-to-day records (what grows with time).
DAILY_TABLES = ("diary_entries", "dose_events")
JSON_COLUMNS = {
    "patients": ("conditions",),
    "care_episodes": ("symptoms", "pain_sites"),
    "prescriptions": ("warnings_accepted", "dose_times"),
    "taper_plans": ("steps", "warnings"),
    "questionnaire_responses": ("answers", "subscales", "flags"),
}
PHQ9_ALERT_SOURCE = "clinical/reference.md §3.2 PHQ-9 item 9 follow-up; §1.7 suicidal thoughts"


@dataclass(frozen=True)
class StaffMember:
    """A clinician written by the bulk loader (no second factor: it cannot sign in)."""

    clinician_id: uuid.UUID
    user_id: uuid.UUID
    email: str
    name: str
    kind: str = "gp"


@dataclass(frozen=True)
class TeamMember:
    clinician_id: uuid.UUID
    role: str  # gp | pain-specialist


# For one patient: the care team, the prescriber last.
TeamFor = Callable[[PatientHistory], Sequence[TeamMember]]


@dataclass
class LoadStats:
    patients: int = 0
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "patients": self.patients,
            "rows": dict(self.rows),
            "total_rows": self.total_rows,
            "seconds": round(self.seconds, 2),
            "rows_per_second": round(self.rows_per_second),
        }


# ----------------------------------------------------------------- histories


def histories(
    seed: int,
    today: date,
    count: int,
    *,
    first: int = 0,
    days: int | Callable[[int], int] | None = None,
) -> Iterator[PatientHistory]:
    """Patients ``first`` … ``first + count − 1`` from the generator. With ``days`` (a
    number, or a function of the patient's index), each has exactly that many days of
    history: a baseline diary of 14–21 days, then treatment (none yet if ``days`` is
    shorter than the baseline: the patient starts duloxetine in the coming days).

    Deterministic for (seed, index, today, days), like the generator itself.
    """
    if days is None:
        yield from gen.generate_patients(seed, today, count, first=first)
        return
    for index in range(first, first + count):
        length = days(index) if callable(days) else days
        if length < 14:
            raise ValueError("a history needs at least 14 days (the baseline diary)")
        yield _history(seed, today, index, length)


def _history(seed: int, today: date, index: int, days: int) -> PatientHistory:
    """The generator's patient ``index`` with ``days`` days of history."""
    rng = random.Random(f"patient:{seed}:{index}:{days}")
    first_name = gen.FIRST_NAMES[rng.randrange(len(gen.FIRST_NAMES))]
    last_name = gen.LAST_NAMES[rng.randrange(len(gen.LAST_NAMES))]
    name = f"{first_name} {last_name}"
    account = gen.Account(
        "patient",
        f"patient{index + 1}@painpath.example",
        f"bulk-{seed}-{index}",  # never used: bulk accounts share a hash nobody knows
        name,
        key=f"patient{index}",
    )
    baseline_days = rng.randint(14, 21)
    start = today - timedelta(days=days - baseline_days)
    condition = rng.choice(["chronic-low-back-pain", "sciatica", "both"])
    symptoms = ["low back pain"]
    if condition != "chronic-low-back-pain":
        symptoms += rng.sample(["leg pain", "tingling", "numbness", "weakness"], k=2)
    kind = gen._pick_kind(rng)
    steps = [
        gen.DoseStepSpec(start, Decimal(30), "titration: 30 mg once daily for 7 days"),
        gen.DoseStepSpec(
            start + timedelta(days=7), Decimal(60), "titration: then 60 mg once daily"
        ),
    ]
    h = PatientHistory(
        index=index,
        patient_id=stable_id(seed, "patient", index),
        account=account,
        name=name,
        date_of_birth=date(
            today.year - rng.randint(28, 78), rng.randint(1, 12), rng.randint(1, 28)
        ),
        condition=condition,
        onset_date=start - timedelta(days=rng.randint(100, 900)),
        symptoms=symptoms,
        response_kind=kind,
        baseline_pain=rng.uniform(5.5, 8.0),
        start=start,
        prescription_id=stable_id(seed, "prescription", index),
        steps=steps,
        referred_to_specialist=condition != "chronic-low-back-pain" or index % 3 == 0,
    )
    if kind in ("none", "worse") and (today - start).days > 100:
        taper_start = today - timedelta(days=rng.randint(5, 12))
        h.tapering_from = taper_start
        h.steps += [
            gen.DoseStepSpec(taper_start, Decimal(30), "taper: no meaningful benefit"),
            gen.DoseStepSpec(taper_start + timedelta(days=14), Decimal(0), "taper: stop"),
        ]
    gen._diary(h, rng, seed, today, baseline_days)
    gen._doses(h, rng, seed, today)
    gen._side_effects(h, rng, seed)
    gen._questionnaires(h, rng, seed, today, baseline_days)
    gen._therapies(h, rng, seed, today)
    return h


# ------------------------------------------------------------------ rows


class _Rows:
    """The rows of one batch, per table (column order as in ``columns``)."""

    def __init__(self) -> None:
        self.data: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLES}

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        self.data[table].append(row)

    def clear(self) -> None:
        for rows in self.data.values():
            rows.clear()

    @property
    def count(self) -> int:
        return sum(len(r) for r in self.data.values())


COLUMNS: dict[str, tuple[str, ...]] = {
    "users": (
        "id",
        "email",
        "password_hash",
        "role",
        "display_name",
        "totp_secret",
        "is_active",
        "created_at",
        "password_changed_at",
    ),
    "clinicians": ("id", "user_id", "name", "kind"),
    "patients": (
        "id",
        "user_id",
        "name",
        "date_of_birth",
        "timezone",
        "created_at",
        "conditions",
    ),
    "care_team_members": ("id", "patient_id", "clinician_id", "role", "added_at"),
    "referrals": (
        "id",
        "patient_id",
        "from_clinician_id",
        "to_clinician_id",
        "reason",
        "status",
        "decided_at",
        "created_at",
    ),
    "care_episodes": (
        "id",
        "patient_id",
        "condition",
        "onset_date",
        "symptoms",
        "pain_sites",
        "status",
        "created_at",
        "created_by",
    ),
    "prescriptions": (
        "id",
        "patient_id",
        "prescriber_id",
        "episode_id",
        "medicine",
        "status",
        "off_label",
        "indication",
        "warnings_accepted",
        "dose_times",
        "version",
        "updated_at",
        "created_at",
    ),
    "dose_steps": ("id", "prescription_id", "start", "daily_dose_mg", "reason", "created_at"),
    "taper_plans": (
        "id",
        "patient_id",
        "prescription_id",
        "start",
        "weeks",
        "status",
        "steps",
        "warnings",
        "note",
        "version",
        "updated_at",
        "created_at",
    ),
    "diary_entries": (
        "id",
        "patient_id",
        "date",
        "pain",
        "worst_pain",
        "sleep_interference",
        "activity_minutes",
        "mood",
        "late",
        "updated_at",
        "created_at",
        "created_by",
    ),
    "dose_events": (
        "id",
        "patient_id",
        "prescription_id",
        "status",
        "taken_at",
        "dose_mg",
        "scheduled_for",
        "created_at",
        "created_by",
    ),
    "side_effect_reports": (
        "id",
        "patient_id",
        "prescription_id",
        "symptom",
        "severity",
        "started_on",
        "triage_level",
        "triage_advice",
        "pathway",
        "created_at",
        "created_by",
    ),
    "questionnaire_responses": (
        "id",
        "patient_id",
        "instrument",
        "instrument_version",
        "answers",
        "total",
        "band",
        "subscales",
        "flags",
        "completed_at",
        "created_at",
        "created_by",
    ),
    "therapy_sessions": (
        "id",
        "patient_id",
        "date",
        "kind",
        "minutes",
        "pain_before",
        "pain_after",
        "created_at",
        "created_by",
    ),
    "alerts": (
        "id",
        "patient_id",
        "rule",
        "cause_key",
        "urgency",
        "status",
        "summary",
        "source",
        "created_at",
        "version",
    ),
}


def _evening(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 20, 0, tzinfo=UTC)


class _PatientRows:
    """Turns one history into rows (what the demo loader stores, without the services)."""

    def __init__(self, seed: int, now: datetime, password_hash: str) -> None:
        from painpath.medication.domain.triage import triage
        from painpath.questionnaires.domain import load_instruments, score

        self.seed = seed
        self.now = now
        self.password_hash = password_hash
        self.instruments = load_instruments()
        self._score = score
        self.triage = triage
        self._scores: dict[tuple[str, tuple[int, ...]], Any] = {}

    def score(self, instrument: str, answers: tuple[int, ...]) -> Any:
        """The instrument's own scoring, remembered (weekly PEGs repeat their answers)."""
        key = (instrument, answers)
        found = self._scores.get(key)
        if found is None:
            if len(self._scores) > 50_000:
                self._scores.clear()
            found = self._scores[key] = self._score(instrument, list(answers))
        return found

    def add(self, rows: _Rows, h: PatientHistory, team: Sequence[TeamMember]) -> None:
        seed, now, pid = self.seed, self.now, h.patient_id
        uid = stable_id(seed, "user", h.index)
        rows.add(
            "users",
            (uid, h.account.email, self.password_hash, "patient", h.name, None, True, now, now),
        )
        rows.add("patients", (pid, uid, h.name, h.date_of_birth, "Europe/London", now, []))
        for k, member in enumerate(team):
            rows.add(
                "care_team_members",
                (stable_id(seed, "team", h.index, k), pid, member.clinician_id, member.role, now),
            )
        gp = team[0].clinician_id
        prescriber = team[-1].clinician_id
        if h.referred_to_specialist and len(team) > 1:
            decided = now - timedelta(days=(now.date() - h.start).days + 7)
            rows.add(
                "referrals",
                (
                    stable_id(seed, "referral", h.index),
                    pid,
                    gp,
                    prescriber,
                    "Persistent pain despite first-line management; please advise.",
                    "accepted",
                    decided,
                    decided,
                ),
            )
        episode = stable_id(seed, "episode", h.index)
        sites = ["lower back"] + (["left leg"] if h.condition != "chronic-low-back-pain" else [])
        rows.add(
            "care_episodes",
            (episode, pid, h.condition, h.onset_date, h.symptoms, sites, "active", now, uid),
        )
        rx = h.prescription_id
        start_at = _evening(h.start - timedelta(days=1))
        rows.add(
            "prescriptions",
            (
                rx,
                pid,
                prescriber,
                episode,
                "duloxetine",
                "tapering" if h.tapering_from else "active",
                True,
                h.condition,
                [],
                ["08:00"],
                1,
                start_at,
                start_at,
            ),
        )
        for i, step in enumerate(h.steps):
            rows.add(
                "dose_steps",
                (
                    stable_id(seed, "dose-step", h.index, i),
                    rx,
                    step.start,
                    step.daily_dose_mg,
                    step.reason,
                    start_at,
                ),
            )
        if h.tapering_from:
            taper = [
                {
                    "start": s.start.isoformat(),
                    "daily_dose_mg": str(s.daily_dose_mg),
                    "reason": s.reason,
                }
                for s in h.steps
                if s.start >= h.tapering_from
            ]
            taper_at = _evening(h.tapering_from - timedelta(days=1))
            rows.add(
                "taper_plans",
                (
                    stable_id(seed, "taper", h.index),
                    pid,
                    rx,
                    h.tapering_from,
                    4,
                    "active",
                    taper,
                    [],
                    "No meaningful benefit at the 12-week review; tapering off.",
                    1,
                    taper_at,
                    taper_at,
                ),
            )
        diary = rows.data["diary_entries"]
        for d in h.diary:
            at = _evening(d.date)
            diary.append(
                (
                    d.id,
                    pid,
                    d.date,
                    d.pain,
                    d.worst_pain,
                    d.sleep_interference,
                    d.activity_minutes,
                    d.mood,
                    False,
                    at,
                    at,
                    uid,
                )
            )
        doses = rows.data["dose_events"]
        for e in h.doses:
            doses.append(
                (e.id, pid, rx, e.status, e.taken_at, e.dose_mg, e.taken_at.date(), e.taken_at, uid)
            )
        for s in h.side_effects:
            result = self.triage(s.symptom, s.severity)
            rows.add(
                "side_effect_reports",
                (
                    s.id,
                    pid,
                    rx,
                    s.symptom,
                    s.severity,
                    s.started_on,
                    result.level,
                    result.advice,
                    result.pathway,
                    _evening(s.started_on),
                    uid,
                ),
            )
        for q in h.questionnaires:
            scored = self.score(q.instrument, q.answers)
            rows.add(
                "questionnaire_responses",
                (
                    q.id,
                    pid,
                    q.instrument,
                    self.instruments[q.instrument].version,
                    list(q.answers),
                    Decimal(str(scored.total)),
                    scored.band,
                    dict(scored.subscales),
                    list(scored.flags),
                    q.completed_at,
                    q.completed_at,
                    uid,
                ),
            )
            if "self-harm" in scored.flags:
                self._alert(
                    rows,
                    h,
                    "phq9-item9",
                    f"phq9-item9:{q.id}",
                    "urgent",
                    "PHQ-9 item 9 answered above 0 (thoughts of self-harm): contact the "
                    "patient today.",
                    PHQ9_ALERT_SOURCE,
                    q.completed_at,
                )
        for t in h.therapies:
            rows.add(
                "therapy_sessions",
                (
                    t.id,
                    pid,
                    t.date,
                    t.kind,
                    t.minutes,
                    t.pain_before,
                    t.pain_after,
                    _evening(t.date),
                    uid,
                ),
            )
        self._demo_alerts(rows, h)

    def _alert(
        self,
        rows: _Rows,
        h: PatientHistory,
        rule: str,
        cause: str,
        urgency: str,
        summary: str,
        source: str,
        at: datetime,
    ) -> None:
        rows.add(
            "alerts",
            (
                stable_id(self.seed, "alert", h.index, cause),
                h.patient_id,
                rule,
                cause,
                urgency,
                "open",
                summary,
                source,
                at,
                1,
            ),
        )

    def _demo_alerts(self, rows: _Rows, h: PatientHistory) -> None:
        now = self.now
        week_ago = now - timedelta(days=7)
        missed = [d for d in h.doses[-10:] if d.status == "missed" and d.taken_at >= week_ago]
        if len(missed) >= 3:
            self._alert(
                rows,
                h,
                "missed-doses",
                f"missed-doses:{now.date().isoformat()}",
                "routine",
                f"{len(missed)} doses missed in the last 7 days.",
                "NICE NG222 1.4.14: missed doses can cause withdrawal symptoms",
                now,
            )
        if h.tapering_from:
            self._alert(
                rows,
                h,
                "taper-in-progress",
                f"taper:{h.tapering_from.isoformat()}",
                "routine",
                "Taper in progress: check for withdrawal symptoms at each step.",
                "Duloxetine SmPC 4.2/4.4: reduce gradually over at least 1–2 weeks",
                _evening(h.tapering_from),
            )
        if h.response_kind == "worse":
            self._alert(
                rows,
                h,
                "non-response",
                f"non-response:{h.prescription_id}",
                "routine",
                "Pain is higher than at baseline on duloxetine: review whether to continue.",
                "IMMPACT (Dworkin 2008); duloxetine SmPC: evaluate response after 2 months",
                now - timedelta(days=1),
            )


# ------------------------------------------------------------------ writers


def _text(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _json(value: object) -> str:
    return _text(json.dumps(value, separators=(",", ":")))


_COPY_TEXT: dict[type, Callable[[Any], str]] = {
    str: _text,
    int: str,
    bool: lambda v: "t" if v else "f",
    uuid.UUID: str,
    Decimal: str,
    date: date.isoformat,
    datetime: datetime.isoformat,
    list: _json,
    dict: _json,
}


def copy_text(rows: Iterable[tuple[Any, ...]]) -> bytes:
    """Rows in PostgreSQL's COPY text format (tab-separated, ``\\N`` for NULL)."""
    conv = _COPY_TEXT
    lines = ["\t".join(["\\N" if v is None else conv[type(v)](v) for v in row]) for row in rows]
    lines.append("")
    return "\n".join(lines).encode()


@dataclass(frozen=True)
class _Encoded:
    """One batch ready for COPY: per table, the rows' text and how many there are."""

    tables: dict[str, tuple[bytes, int]]
    patients: int


def _encode(rows: _Rows, patients: int) -> _Encoded:
    return _Encoded(
        {t: (copy_text(rows.data[t]), len(rows.data[t])) for t in TABLES if rows.data[t]},
        patients,
    )


def _copy(conn: Connection, batch: _Encoded, stats: LoadStats) -> None:
    import psycopg

    raw = conn.connection.dbapi_connection
    if not isinstance(raw, psycopg.Connection):
        raise TypeError("COPY needs a psycopg connection")
    with raw.cursor() as cursor:
        for table in TABLES:
            if table not in batch.tables:
                continue
            data, count = batch.tables[table]
            statement = f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN"
            with cursor.copy(statement.encode()) as copy:
                copy.write(data)
            stats.rows[table] += count
    stats.patients += batch.patients


def _executemany(conn: Connection, rows: _Rows, stats: LoadStats) -> None:
    for table in TABLES:
        batch = rows.data[table]
        if batch:
            columns = COLUMNS[table]
            conn.execute(
                _table(table).insert(), [dict(zip(columns, r, strict=True)) for r in batch]
            )
            stats.rows[table] += len(batch)
    rows.clear()


def _table(name: str) -> Table:
    import painpath.models  # noqa: F401  (every table registered)

    return Base.metadata.tables[name]


def load_staff(
    engine: Engine, staff: Iterable[StaffMember], *, password_hash: str, now: datetime
) -> int:
    """Clinicians' accounts and records (no second factor set: they cannot sign in)."""
    rows = _Rows()
    for s in staff:
        rows.add(
            "users",
            (s.user_id, s.email, password_hash, "clinician", s.name, None, True, now, now),
        )
        rows.add("clinicians", (s.clinician_id, s.user_id, s.name, s.kind))
    stats = LoadStats()
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            _copy(conn, _encode(rows, 0), stats)
        else:
            _executemany(conn, rows, stats)
    return stats.total_rows


@dataclass(frozen=True)
class _Job:
    """What a worker process needs to build and encode one batch of patients."""

    seed: int
    today: date
    first: int
    count: int
    days: int | Callable[[int], int] | None
    team: TeamFor
    now: datetime
    password_hash: str


def _build(job: _Job) -> _Encoded:
    builder = _PatientRows(job.seed, job.now, job.password_hash)
    rows = _Rows()
    for h in histories(job.seed, job.today, job.count, first=job.first, days=job.days):
        builder.add(rows, h, job.team(h))
    return _encode(rows, job.count)


def load_population(
    engine: Engine,
    *,
    seed: int,
    today: date,
    count: int,
    first: int = 0,
    days: int | Callable[[int], int] | None = None,
    team: TeamFor,
    password_hash: str,
    now: datetime,
    batch_patients: int = 100,
    workers: int = 1,
    progress: Callable[[LoadStats], None] | None = None,
) -> LoadStats:
    """Write patients ``first`` … ``first + count − 1`` of :func:`histories` in batches
    of ``batch_patients``, one transaction per batch.

    ``team(history)`` names each patient's care team (the prescriber last); those
    clinicians must exist. On PostgreSQL, ``workers`` > 1 generates and encodes the
    batches in that many processes while this one streams them into ``COPY`` (``team``
    must then be picklable). Memory is bounded by a few batches. Returns what was
    written and how fast.
    """
    stats = LoadStats()
    started = time.perf_counter()
    jobs = (
        _Job(
            seed,
            today,
            start,
            min(batch_patients, first + count - start),
            days,
            team,
            now,
            password_hash,
        )
        for start in range(first, first + count, batch_patients)
    )

    def tick() -> None:
        stats.seconds = time.perf_counter() - started
        if progress:
            progress(stats)

    with engine.connect() as conn:
        if engine.dialect.name != "postgresql":
            builder = _PatientRows(seed, now, password_hash)
            rows = _Rows()
            for job in jobs:
                for h in histories(seed, today, job.count, first=job.first, days=days):
                    builder.add(rows, h, team(h))
                with conn.begin():
                    _executemany(conn, rows, stats)
                stats.patients += job.count
                tick()
        elif workers <= 1:
            for job in jobs:
                batch = _build(job)
                with conn.begin():
                    _copy(conn, batch, stats)
                tick()
        else:
            for batch in _parallel(jobs, workers):
                with conn.begin():
                    _copy(conn, batch, stats)
                tick()
    tick()
    return stats


def _parallel(jobs: Iterator[_Job], workers: int) -> Iterator[_Encoded]:
    """The batches in order, built by ``workers`` processes, a bounded number in flight."""
    import multiprocessing
    from collections import deque
    from concurrent.futures import Future, ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        flight: deque[Future[_Encoded]] = deque()
        for job in jobs:
            flight.append(pool.submit(_build, job))
            if len(flight) >= workers * 2:
                yield flight.popleft().result()
        while flight:
            yield flight.popleft().result()


def analyze(engine: Engine) -> None:
    """Refresh the planner's statistics after a bulk load (PostgreSQL ANALYZE)."""
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
