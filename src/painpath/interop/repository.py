"""Queries of the interop area: read everything about one patient, write an imported
patient back (upsert by id), and erase a patient's account.

Every query is scoped to one patient id; the service has authorised the caller.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, inspect, select
from sqlalchemy.orm import Session

from painpath.alerts.models import Alert
from painpath.audit import repository as audit_repository
from painpath.audit.models import AuditEvent
from painpath.auth.models import User
from painpath.care.models import (
    BloodPressureReading,
    CareEpisode,
    CarePlan,
    Clinician,
    FollowUp,
    OtherMedicine,
    Patient,
    Review,
)
from painpath.diary.models import DiaryEntry, TherapySession
from painpath.interop.domain.records import PatientData, Row
from painpath.medication.models import (
    DoseEvent,
    DoseStep,
    Prescription,
    SideEffectReport,
    TaperPlan,
)
from painpath.questionnaires.models import QuestionnaireResponse


def row(obj: Any) -> Row:
    """A model instance as a dict of its columns (attribute names)."""
    return {attr.key: getattr(obj, attr.key) for attr in inspect(obj).mapper.column_attrs}


def patient(db: Session, patient_id: uuid.UUID) -> Patient | None:
    return db.get(Patient, patient_id)


def patient_of_user(db: Session, user_id: uuid.UUID) -> Patient | None:
    return db.scalars(select(Patient).where(Patient.user_id == user_id)).one_or_none()


def _rows(db: Session, model: Any, patient_id: uuid.UUID, *order: Any) -> list[Row]:
    query = select(model).where(model.patient_id == patient_id).order_by(*order, model.id)
    return [row(obj) for obj in db.scalars(query)]


def load_prescriptions(db: Session, patient_id: uuid.UUID) -> list[Row]:
    """The patient's prescriptions, each with its dose ``steps``."""
    prescriptions = _rows(db, Prescription, patient_id, Prescription.created_at)
    steps: dict[uuid.UUID, list[Row]] = {rx["id"]: [] for rx in prescriptions}
    if steps:
        query = (
            select(DoseStep)
            .where(DoseStep.prescription_id.in_(list(steps)))
            .order_by(DoseStep.start, DoseStep.created_at, DoseStep.id)
        )
        for step in db.scalars(query):
            steps[step.prescription_id].append(row(step))
    for rx in prescriptions:
        rx["steps"] = steps[rx["id"]]
    return prescriptions


def course_choices(db: Session, patient_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Row]]:
    """For many patients at once (the caseload's outcomes): each patient's prescriptions
    as ``load_prescriptions`` orders them, with what choosing the current one reads (id,
    status, created_at and the steps' start and daily_dose_mg). Two statements."""
    if not patient_ids:
        return {}
    query = (
        select(
            Prescription.id, Prescription.patient_id, Prescription.status, Prescription.created_at
        )
        .where(Prescription.patient_id.in_(list(patient_ids)))
        .order_by(Prescription.patient_id, Prescription.created_at, Prescription.id)
    )
    out: dict[uuid.UUID, list[Row]] = {}
    by_id: dict[uuid.UUID, Row] = {}
    for rx_id, pid, status, created_at in db.execute(query).all():
        rx: Row = {"id": rx_id, "status": status, "created_at": created_at, "steps": []}
        out.setdefault(pid, []).append(rx)
        by_id[rx_id] = rx
    if by_id:
        steps = (
            select(DoseStep.prescription_id, DoseStep.start, DoseStep.daily_dose_mg)
            .where(DoseStep.prescription_id.in_(list(by_id)))
            .order_by(DoseStep.start, DoseStep.created_at, DoseStep.id)
        )
        for rx_id, start, dose in db.execute(steps).all():
            by_id[rx_id]["steps"].append({"start": start, "daily_dose_mg": dose})
    return out


def load_patient_data(db: Session, p: Patient) -> PatientData:
    """Every record of one patient that the FHIR export, the report and the data
    download are made from."""
    pid = p.id
    prescriptions = load_prescriptions(db, pid)
    care_plan = db.scalars(select(CarePlan).where(CarePlan.patient_id == pid)).one_or_none()
    data = PatientData(
        patient=row(p),
        episodes=_rows(db, CareEpisode, pid, CareEpisode.onset_date),
        prescriptions=prescriptions,
        taper_plans=_rows(db, TaperPlan, pid, TaperPlan.start),
        dose_events=_rows(db, DoseEvent, pid, DoseEvent.taken_at),
        other_medicines=_rows(db, OtherMedicine, pid, OtherMedicine.created_at),
        diary=_rows(db, DiaryEntry, pid, DiaryEntry.date),
        therapy_sessions=_rows(db, TherapySession, pid, TherapySession.date),
        questionnaires=_rows(db, QuestionnaireResponse, pid, QuestionnaireResponse.completed_at),
        side_effects=_rows(db, SideEffectReport, pid, SideEffectReport.started_on),
        follow_ups=_rows(db, FollowUp, pid, FollowUp.due),
        care_plan=row(care_plan) if care_plan is not None else None,
        reviews=_rows(db, Review, pid, Review.created_at),
        blood_pressure=_rows(db, BloodPressureReading, pid, BloodPressureReading.measured_at),
        alerts=_rows(db, Alert, pid, Alert.created_at),
    )
    data.clinicians = _clinicians(db, data)
    return data


def _clinicians(db: Session, data: PatientData) -> list[Row]:
    """The clinicians the records point to, by clinician id or by user id."""
    ids: set[uuid.UUID] = {rx["prescriber_id"] for rx in data.prescriptions}
    ids |= {r["clinician_id"] for r in data.reviews}
    ids |= {f["clinician_id"] for f in data.follow_ups if f.get("clinician_id")}
    users: set[uuid.UUID] = set()
    groups: list[list[Row]] = [
        data.episodes,
        data.prescriptions,
        data.taper_plans,
        data.dose_events,
        data.other_medicines,
        data.diary,
        data.therapy_sessions,
        data.questionnaires,
        data.side_effects,
        data.follow_ups,
        data.reviews,
        data.blood_pressure,
    ]
    for group in groups:
        users |= {r["created_by"] for r in group if r.get("created_by")}
    for rx in data.prescriptions:
        users |= {s["changed_by"] for s in rx["steps"] if s.get("changed_by")}
    for a in data.alerts:
        users |= {a[k] for k in ("acknowledged_by", "resolved_by") if a.get(k)}
    if not ids and not users:
        return []
    query = (
        select(Clinician)
        .where(Clinician.id.in_(list(ids)) | Clinician.user_id.in_(list(users)))
        .order_by(Clinician.id)
    )
    return [
        {"id": c.id, "user_id": c.user_id, "name": c.name, "kind": c.kind}
        for c in db.scalars(query)
    ]


# --------------------------------------------------------------------- import


# Not an Argon2 hash, so no password ever verifies against it.
UNUSABLE_HASH = "!imported: no password, this account cannot sign in"


class ForeignRecord(Exception):
    """A record id in the bundle already belongs to another patient."""

    def __init__(self, kind: str, record_id: uuid.UUID) -> None:
        super().__init__(f"{kind} {record_id}")
        self.kind = kind
        self.record_id = record_id


def ensure_clinician(db: Session, c: Row, now: datetime) -> None:
    """Keep an existing clinician; otherwise create one with a disabled account that
    cannot sign in (the clinician's records need a prescriber to point to)."""
    if db.get(Clinician, c["id"]) is not None:
        return
    if db.get(User, c["user_id"]) is None:
        db.add(
            User(
                id=c["user_id"],
                email=f"imported-{c['id']}@painpath.invalid",
                password_hash=UNUSABLE_HASH,
                role="clinician",
                display_name=c["name"],
                is_active=False,
                created_at=now,
                password_changed_at=now,
            )
        )
        db.flush()
    db.add(Clinician(id=c["id"], user_id=c["user_id"], name=c["name"], kind=c["kind"]))
    db.flush()


def existing_user_ids(db: Session, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    wanted = list(set(ids))
    if not wanted:
        return set()
    return set(db.scalars(select(User.id).where(User.id.in_(wanted))))


def upsert_patient(db: Session, values: Row) -> Patient:
    p = db.get(Patient, values["id"])
    if p is None:
        p = Patient(**values)
        db.add(p)
    else:
        for key, value in values.items():
            setattr(p, key, value)
    db.flush()
    return p


MODELS: dict[str, Any] = {
    "episodes": CareEpisode,
    "prescriptions": Prescription,
    "taper_plans": TaperPlan,
    "dose_events": DoseEvent,
    "other_medicines": OtherMedicine,
    "diary": DiaryEntry,
    "therapy_sessions": TherapySession,
    "questionnaires": QuestionnaireResponse,
    "side_effects": SideEffectReport,
    "follow_ups": FollowUp,
    "reviews": Review,
    "blood_pressure": BloodPressureReading,
    "alerts": Alert,
}


def upsert(db: Session, kind: str, patient_id: uuid.UUID, values: Row) -> bool:
    """Insert or update one record by its id; True when it was created."""
    model = MODELS[kind]
    obj = db.get(model, values["id"])
    if obj is not None and obj.patient_id != patient_id:
        raise ForeignRecord(kind, values["id"])
    if obj is None:
        db.add(model(**values))
        db.flush()
        return True
    for key, value in values.items():
        setattr(obj, key, value)
    db.flush()
    return False


def replace_steps(db: Session, prescription_id: uuid.UUID, steps: Sequence[Row]) -> None:
    db.execute(delete(DoseStep).where(DoseStep.prescription_id == prescription_id))
    for step in steps:
        db.add(DoseStep(prescription_id=prescription_id, **step))
    db.flush()


def diary_on(db: Session, patient_id: uuid.UUID, values: Row) -> uuid.UUID | None:
    """The id of another diary entry of the patient on the same date, if any."""
    found = db.scalars(
        select(DiaryEntry.id).where(
            DiaryEntry.patient_id == patient_id,
            DiaryEntry.date == values["date"],
            DiaryEntry.id != values["id"],
        )
    ).first()
    return found


def alert_with_cause(db: Session, patient_id: uuid.UUID, values: Row) -> uuid.UUID | None:
    return db.scalars(
        select(Alert.id).where(
            Alert.patient_id == patient_id,
            Alert.cause_key == values["cause_key"],
            Alert.id != values["id"],
        )
    ).first()


def upsert_care_plan(db: Session, patient_id: uuid.UUID, values: Row) -> None:
    current = db.scalars(select(CarePlan).where(CarePlan.patient_id == patient_id)).one_or_none()
    if current is not None and current.id != values["id"]:
        db.delete(current)
        db.flush()
        current = None
    if current is None:
        db.add(CarePlan(**values))
    else:
        for key, value in values.items():
            setattr(current, key, value)
    db.flush()


# --------------------------------------------------------------------- erasure


def erase_patient(db: Session, p: Patient) -> None:
    """Delete the patient row (every clinical table cascades from it) and the account."""
    user_id = p.user_id
    db.execute(delete(Patient).where(Patient.id == p.id))
    if user_id is not None:
        db.execute(delete(User).where(User.id == user_id))
    db.flush()
    db.expunge_all()


def pseudonymise_audit(
    db: Session,
    patient_id: uuid.UUID,
    user_id: uuid.UUID | None,
    pseudonym: str,
) -> tuple[int, int | None, int | None]:
    """Replace the patient's id (and their account's id) in the audit trail by a
    pseudonym. The caller re-hashes the chain from the first changed sealed event.

    Returns (events changed, id of the first changed event, chain position of the first
    changed sealed event)."""
    audit_repository.lock_chain(db)
    match = (AuditEvent.patient_id == patient_id) | (AuditEvent.resource_id == str(patient_id))
    if user_id is not None:
        match = match | (AuditEvent.actor_user_id == user_id)
    events = list(db.scalars(select(AuditEvent).where(match).order_by(AuditEvent.id)))
    if not events:
        return 0, None, None
    for event in events:
        marks = []
        if event.patient_id == patient_id:
            event.patient_id = None
            marks.append("patient")
        if event.resource_id == str(patient_id):
            event.resource_id = pseudonym[:64]
            marks.append("resource")
        if user_id is not None and event.actor_user_id == user_id:
            event.actor_user_id = None
            marks.append("actor")
        note = f"erased {'+'.join(marks)} pseudonym {pseudonym}"
        event.reason = f"{note}; {event.reason}" if event.reason else note
    db.flush()
    sealed = [e.seq for e in events if e.seq is not None]
    return len(events), events[0].id, min(sealed) if sealed else None


# Columns never put in a download: secrets and internal digests.
_HIDDEN_PARTS = ("hash", "token", "secret", "password")
# The care team's clinical notes go out through a subject access request answered by
# the care team, who may apply the serious-harm test first (DPA 2018 Sch. 3 Part 2;
# docs/gdpr.md), not through the self-service download.
WITHHELD_TABLES = frozenset({"clinical_notes"})


def _shown(column: str) -> bool:
    return not any(part in column for part in _HIDDEN_PARTS)


def patient_tables(db: Session, patient_id: uuid.UUID) -> dict[str, list[dict[str, Any]]]:
    """Every row about one patient, table by table: the patient's own row and every row
    of every table that has a ``patient_id`` column (read from the schema, so a new
    table is in the download as soon as it exists), without secret columns and without
    the ``WITHHELD_TABLES``."""
    from painpath import models

    out: dict[str, list[dict[str, Any]]] = {}
    for table in models.Base.metadata.sorted_tables:
        if table.name in WITHHELD_TABLES:
            continue
        if table.name == "patients":
            where = table.c.id == patient_id
        elif "patient_id" in table.c:
            where = table.c.patient_id == patient_id
        else:
            continue
        order = list(table.primary_key.columns)
        rows = db.execute(select(table).where(where).order_by(*order)).mappings().all()
        out[table.name] = [{k: v for k, v in row.items() if _shown(k)} for row in rows]
    return out
