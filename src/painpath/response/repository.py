"""Queries the "does it help?" analysis and the charts need: for one patient, and for
many at a time (the caseload's outcomes), as plain columns.

Every query takes the patients' ids and filters on them, so a caller can never read
another patient's rows by passing a foreign record id.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    ARRAY,
    String,
    Uuid,
    any_,
    bindparam,
    case,
    cast,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from painpath.care.models import OtherMedicine, Patient
from painpath.diary.models import DiaryEntry, TherapySession
from painpath.medication.models import DoseEvent, DoseStep, Prescription, TaperPlan
from painpath.questionnaires.models import QuestionnaireResponse


def patient(db: Session, patient_id: uuid.UUID) -> Patient | None:
    return db.get(Patient, patient_id)


def prescription(
    db: Session, patient_id: uuid.UUID, prescription_id: uuid.UUID
) -> Prescription | None:
    return db.scalars(
        select(Prescription).where(
            Prescription.id == prescription_id, Prescription.patient_id == patient_id
        )
    ).one_or_none()


def prescriptions(db: Session, patient_id: uuid.UUID) -> Sequence[Prescription]:
    return db.scalars(
        select(Prescription)
        .where(Prescription.patient_id == patient_id)
        .order_by(Prescription.created_at, Prescription.id)
    ).all()


def dose_steps(
    db: Session, patient_id: uuid.UUID, prescription_id: uuid.UUID
) -> Sequence[DoseStep]:
    return db.scalars(
        select(DoseStep)
        .join(Prescription, Prescription.id == DoseStep.prescription_id)
        .where(Prescription.patient_id == patient_id, DoseStep.prescription_id == prescription_id)
        .order_by(DoseStep.start, DoseStep.created_at, DoseStep.id)
    ).all()


def all_dose_steps(db: Session, patient_id: uuid.UUID) -> Sequence[tuple[DoseStep, str]]:
    """Every dose step of every prescription of the patient, with the medicine's name."""
    rows = db.execute(
        select(DoseStep, Prescription.medicine)
        .join(Prescription, Prescription.id == DoseStep.prescription_id)
        .where(Prescription.patient_id == patient_id)
        .order_by(DoseStep.start, DoseStep.created_at)
    ).all()
    return [(step, medicine) for step, medicine in rows]


def diary_pain(
    db: Session, patient_id: uuid.UUID, *, start: date | None = None, end: date | None = None
) -> Sequence[tuple[date, int]]:
    query = select(DiaryEntry.date, DiaryEntry.pain).where(DiaryEntry.patient_id == patient_id)
    if start is not None:
        query = query.where(DiaryEntry.date >= start)
    if end is not None:
        query = query.where(DiaryEntry.date <= end)
    return [(d, p) for d, p in db.execute(query.order_by(DiaryEntry.date)).all()]


def taken_doses(
    db: Session, patient_id: uuid.UUID, prescription_id: uuid.UUID, *, since: datetime
) -> Sequence[tuple[date | None, datetime]]:
    """(scheduled for, taken at) of the doses recorded as taken or late for the
    prescription (or for no prescription)."""
    rows = db.execute(
        select(DoseEvent.scheduled_for, DoseEvent.taken_at)
        .where(
            DoseEvent.patient_id == patient_id,
            or_(DoseEvent.prescription_id == prescription_id, DoseEvent.prescription_id.is_(None)),
            DoseEvent.status.in_(("taken", "late")),
            DoseEvent.taken_at >= since,
        )
        .order_by(DoseEvent.taken_at)
    ).all()
    return [(scheduled, taken) for scheduled, taken in rows]


def therapy_sessions(
    db: Session, patient_id: uuid.UUID, *, end: date | None = None
) -> Sequence[TherapySession]:
    query = select(TherapySession).where(TherapySession.patient_id == patient_id)
    if end is not None:
        query = query.where(TherapySession.date <= end)
    return db.scalars(query.order_by(TherapySession.date, TherapySession.id)).all()


def pain_medicines(db: Session, patient_id: uuid.UUID) -> Sequence[OtherMedicine]:
    return db.scalars(
        select(OtherMedicine)
        .where(
            OtherMedicine.patient_id == patient_id,
            OtherMedicine.is_pain_medicine.is_(True),
            OtherMedicine.started_on.is_not(None),
        )
        .order_by(OtherMedicine.started_on, OtherMedicine.id)
    ).all()


def questionnaire_responses(
    db: Session, patient_id: uuid.UUID, instruments: Sequence[str]
) -> Sequence[QuestionnaireResponse]:
    return db.scalars(
        select(QuestionnaireResponse)
        .where(
            QuestionnaireResponse.patient_id == patient_id,
            QuestionnaireResponse.instrument.in_(list(instruments)),
        )
        .order_by(QuestionnaireResponse.completed_at, QuestionnaireResponse.id)
    ).all()


def questionnaire_answers(
    db: Session, patient_id: uuid.UUID, instruments: Sequence[str]
) -> Sequence[tuple[str, datetime, Any, str | None, dict[str, Any] | None]]:
    """(instrument, completed at, total, band, subscales) of the patient's responses."""
    rows = db.execute(
        select(
            QuestionnaireResponse.instrument,
            QuestionnaireResponse.completed_at,
            QuestionnaireResponse.total,
            QuestionnaireResponse.band,
            QuestionnaireResponse.subscales,
        )
        .where(
            QuestionnaireResponse.patient_id == patient_id,
            QuestionnaireResponse.instrument.in_(list(instruments)),
        )
        .order_by(QuestionnaireResponse.completed_at, QuestionnaireResponse.id)
    ).all()
    return [(code, at, total, band, sub) for code, at, total, band, sub in rows]


def taper_plans(db: Session, patient_id: uuid.UUID) -> Sequence[TaperPlan]:
    return db.scalars(
        select(TaperPlan)
        .where(TaperPlan.patient_id == patient_id)
        .order_by(TaperPlan.start, TaperPlan.id)
    ).all()


# --- many patients at a time --------------------------------------------------------------
#
# The same rows for a chunk of patients in one statement each, as columns (no ORM
# objects), grouped by patient, each patient's rows in the order the one-patient queries
# give them. Callers pass chunks of a few hundred ids. The large statements (diary, doses,
# questionnaires) return the ids as text and map them back to the caller's ids: building
# a UUID object for each of some 300,000 rows cost more than reading the rows.


def _one_of(db: Session, col: Any, values: Sequence[uuid.UUID]) -> Any:
    """``column IN (values)``; on PostgreSQL ``column = ANY(:array)``: one parameter, so
    the statement stays short and the same for every chunk (psycopg prepares it)."""
    if db.get_bind().dialect.name == "postgresql":
        return col == any_(bindparam(None, list(values), type_=ARRAY(Uuid)))
    return col.in_(values)


def _as_text(col: Any) -> Any:
    return cast(col, String)


def _by_text(ids: Iterable[uuid.UUID]) -> dict[str, uuid.UUID]:
    """Each id under its text forms: PostgreSQL's (with hyphens) and SQLite's (hex)."""
    out: dict[str, uuid.UUID] = {}
    for value in ids:
        out[str(value)] = value
        out[value.hex] = value
    return out


def _grouped(rows: Sequence[Row[Any]]) -> Iterator[tuple[str, Iterator[Any]]]:
    """Rows ordered by the patient's id (as text, first column), a run per patient."""
    return groupby(rows, itemgetter(0))


def no_parallel_plans(db: Session) -> None:
    """The batch statements are index range scans of a few hundred patients each; on
    PostgreSQL starting parallel workers costs more than they save (docs/benchmarks.md),
    so the transaction runs them in one process."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))


def patient_zones(db: Session, patient_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Each patient's time zone."""
    query = select(Patient.id, Patient.timezone).where(_one_of(db, Patient.id, patient_ids))
    return {pid: zone for pid, zone in db.connection().execute(query).all()}


def prescription_rows(
    db: Session, prescription_ids: Sequence[uuid.UUID]
) -> Sequence[tuple[uuid.UUID, uuid.UUID, str, str, bool, date | None]]:
    """(id, patient id, medicine, status, off label, stopped on) of each prescription."""
    query = select(
        Prescription.id,
        Prescription.patient_id,
        Prescription.medicine,
        Prescription.status,
        Prescription.off_label,
        Prescription.stopped_on,
    ).where(_one_of(db, Prescription.id, prescription_ids))
    return [(i, p, m, s, o, e) for i, p, m, s, o, e in db.connection().execute(query).all()]


def dose_steps_by_prescription(
    db: Session, prescription_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[date, Decimal]]]:
    """(start, daily dose) of every step of each prescription, in the course's order."""
    query = (
        select(DoseStep.prescription_id, DoseStep.start, DoseStep.daily_dose_mg)
        .where(_one_of(db, DoseStep.prescription_id, prescription_ids))
        .order_by(DoseStep.prescription_id, DoseStep.start, DoseStep.created_at, DoseStep.id)
    )
    out: dict[uuid.UUID, list[tuple[date, Decimal]]] = {}
    for rx, start, dose in db.connection().execute(query).all():
        out.setdefault(rx, []).append((start, dose))
    return out


def _iso_date(db: Session, value: Any) -> Any:
    """A date as its ISO text (YYYY-MM-DD), whatever the server's date style."""
    if db.get_bind().dialect.name == "postgresql":
        return func.to_char(value, "YYYY-MM-DD")
    return cast(value, String)  # SQLite stores dates as ISO text


def _utc_iso_date(db: Session, col: Any) -> Any:
    """The UTC calendar date of a stored timestamp, as ISO text."""
    if db.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", col), "YYYY-MM-DD")
    return func.date(col)  # SQLite stores UTC without an offset


def _joined(values: Any) -> Any:
    """One text of a group's values, comma-separated (in no particular order)."""
    return func.aggregate_strings(values, ",")


def diary_pain_by_patient(
    db: Session, patient_ids: Sequence[uuid.UUID], *, start: date, end: date
) -> dict[uuid.UUID, list[tuple[date, int]]]:
    """(date, pain) of every diary entry from ``start`` to ``end``, by date.

    One row per patient, the entries joined as "YYYY-MM-DD:pain" text: a year of
    2,000 patients is 700,000 entries, and reading them as rows cost three times as
    much as parsing the text."""
    entry = _iso_date(db, DiaryEntry.date) + ":" + cast(DiaryEntry.pain, String)
    query = (
        select(_as_text(DiaryEntry.patient_id), _joined(entry))
        .where(
            _one_of(db, DiaryEntry.patient_id, patient_ids),
            DiaryEntry.date >= start,
            DiaryEntry.date <= end,
        )
        .group_by(DiaryEntry.patient_id)
    )
    ids = _by_text(patient_ids)
    return {
        ids[pid]: [(date.fromisoformat(e[:10]), int(e[11:])) for e in sorted(joined.split(","))]
        for pid, joined in db.connection().execute(query).all()
    }


def taken_dose_days(
    db: Session, courses: Sequence[tuple[uuid.UUID, uuid.UUID, date]]
) -> dict[tuple[uuid.UUID, uuid.UUID], tuple[set[date], list[datetime]]]:
    """For each course (patient id, prescription id, first day), the doses recorded as
    taken or late for that prescription or for none, taken on or after the first day
    (UTC): the dates they were scheduled for, and the times of those without one.

    Those with a scheduled date (nearly all) come one row per patient and prescription,
    joined as "scheduled/taken on (UTC)" dates, as the diary does."""
    if not courses:
        return {}
    patient_ids = list(dict.fromkeys(pid for pid, _, _ in courses))
    prescription_ids = list(dict.fromkeys(rx for _, rx, _ in courses))
    since = datetime.combine(min(first for _, _, first in courses), time(0), tzinfo=UTC)
    where = (
        _one_of(db, DoseEvent.patient_id, patient_ids),
        or_(
            DoseEvent.prescription_id.is_(None),
            _one_of(db, DoseEvent.prescription_id, prescription_ids),
        ),
        DoseEvent.status.in_(("taken", "late")),
        DoseEvent.taken_at >= since,
    )
    pair = _iso_date(db, DoseEvent.scheduled_for) + "/" + _utc_iso_date(db, DoseEvent.taken_at)
    scheduled = (
        select(_as_text(DoseEvent.patient_id), _as_text(DoseEvent.prescription_id), _joined(pair))
        .where(*where, DoseEvent.scheduled_for.is_not(None))
        .group_by(DoseEvent.patient_id, DoseEvent.prescription_id)
    )
    unscheduled = select(
        _as_text(DoseEvent.patient_id),
        _as_text(DoseEvent.prescription_id),
        DoseEvent.taken_at,
        _utc_iso_date(db, DoseEvent.taken_at),
    ).where(*where, DoseEvent.scheduled_for.is_(None))
    ids = _by_text(patient_ids)
    rx_ids = _by_text(prescription_ids)
    joined: dict[uuid.UUID, list[tuple[uuid.UUID | None, str]]] = {}
    for pid, rx, text_ in db.connection().execute(scheduled).all():
        joined.setdefault(ids[pid], []).append((None if rx is None else rx_ids[rx], text_))
    times: dict[uuid.UUID, list[tuple[uuid.UUID | None, datetime, str]]] = {}
    for pid, rx, taken_at, taken_on in db.connection().execute(unscheduled).all():
        times.setdefault(ids[pid], []).append(
            (None if rx is None else rx_ids[rx], taken_at, taken_on)
        )
    out: dict[tuple[uuid.UUID, uuid.UUID], tuple[set[date], list[datetime]]] = {}
    for pid, rx, first in courses:
        first_text = first.isoformat()
        days: set[date] = set()
        for dose_rx, text_ in joined.get(pid, ()):
            if dose_rx is None or dose_rx == rx:
                days.update(
                    date.fromisoformat(e[:10]) for e in text_.split(",") if e[11:] >= first_text
                )
        out[(pid, rx)] = (
            days,
            [
                taken_at
                for dose_rx, taken_at, taken_on in times.get(pid, ())
                if (dose_rx is None or dose_rx == rx) and taken_on >= first_text
            ],
        )
    return out


def therapy_sessions_by_patient(
    db: Session, patient_ids: Sequence[uuid.UUID], *, end: date
) -> dict[uuid.UUID, list[tuple[str, date]]]:
    """(kind, date) of every therapy session up to ``end``."""
    query = (
        select(TherapySession.patient_id, TherapySession.kind, TherapySession.date)
        .where(_one_of(db, TherapySession.patient_id, patient_ids), TherapySession.date <= end)
        .order_by(TherapySession.patient_id, TherapySession.date, TherapySession.id)
    )
    out: dict[uuid.UUID, list[tuple[str, date]]] = {}
    for pid, kind, day in db.connection().execute(query).all():
        out.setdefault(pid, []).append((kind, day))
    return out


def pain_medicines_by_patient(
    db: Session, patient_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[str, date, date | None]]]:
    """(name, started on, stopped on) of the other pain medicines with a start date."""
    query = (
        select(
            OtherMedicine.patient_id,
            OtherMedicine.name,
            OtherMedicine.started_on,
            OtherMedicine.stopped_on,
        )
        .where(
            _one_of(db, OtherMedicine.patient_id, patient_ids),
            OtherMedicine.is_pain_medicine.is_(True),
            OtherMedicine.started_on.is_not(None),
        )
        .order_by(OtherMedicine.patient_id, OtherMedicine.started_on, OtherMedicine.id)
    )
    out: dict[uuid.UUID, list[tuple[str, date, date | None]]] = {}
    for pid, name, started, stopped in db.connection().execute(query).all():
        if started is not None:
            out.setdefault(pid, []).append((name, started, stopped))
    return out


def questionnaire_answers_by_patient(
    db: Session, patient_ids: Sequence[uuid.UUID], instruments: Sequence[str]
) -> dict[uuid.UUID, list[tuple[str, datetime, Any, str | None, dict[str, Any] | None]]]:
    """(instrument, completed at, total, band, subscales) of the responses to
    ``instruments``, in the order they were completed; the subscales of PGIC only (the
    analysis reads no other)."""
    query = (
        select(
            _as_text(QuestionnaireResponse.patient_id),
            QuestionnaireResponse.instrument,
            QuestionnaireResponse.completed_at,
            QuestionnaireResponse.total,
            QuestionnaireResponse.band,
            case((QuestionnaireResponse.instrument == "pgic", QuestionnaireResponse.subscales)),
        )
        .where(
            _one_of(db, QuestionnaireResponse.patient_id, patient_ids),
            QuestionnaireResponse.instrument.in_(list(instruments)),
        )
        .order_by(
            QuestionnaireResponse.patient_id,
            QuestionnaireResponse.completed_at,
            QuestionnaireResponse.id,
        )
    )
    ids = _by_text(patient_ids)
    rows = db.connection().execute(query).all()
    return {
        ids[pid]: [(code, at, total, band, sub) for _, code, at, total, band, sub in group]
        for pid, group in _grouped(rows)
    }
