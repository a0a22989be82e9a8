"""FHIR R4 round trip through the database, on SQLite and PostgreSQL: export every demo
patient, import into an empty database, export again: the same resources (ignoring
meta.lastUpdated); importing the same bundle twice adds nothing."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import painpath.models as m
from painpath import migrate
from painpath.db import make_engine, make_session_factory, unit_of_work
from painpath.demo.service import load_demo
from painpath.interop import service
from painpath.kit.errors import InvalidInput
from painpath.kit.records import Ctx
from tests.conftest import drop_database, fresh_database_url

NOW = datetime(2026, 4, 2, 10, 0, tzinfo=UTC)
TYPES = (
    "Patient",
    "Practitioner",
    "Condition",
    "MedicationRequest",
    "MedicationAdministration",
    "MedicationStatement",
    "Observation",
    "Questionnaire",
    "QuestionnaireResponse",
    "AdverseEvent",
    "CarePlan",
    "Appointment",
    "Procedure",
    "ClinicalImpression",
    "Flag",
    "Provenance",
)


@pytest.fixture()
def empty_db(backend: str, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    url, token = fresh_database_url(backend, tmp_path)
    migrate.upgrade(url)
    engine = make_engine(url, pool_size=2)
    yield make_session_factory(engine)
    engine.dispose()
    drop_database(token)


def normalised(text: str) -> dict[tuple[str, str], dict[str, Any]]:
    out = {}
    for entry in json.loads(text)["entry"]:
        resource = entry["resource"]
        meta = resource.get("meta", {})
        meta.pop("lastUpdated", None)
        if not meta:
            resource.pop("meta", None)
        out[(resource["resourceType"], resource["id"])] = resource
    return out


def counts(db: Session) -> dict[str, int]:
    return {
        t.name: db.execute(select(func.count()).select_from(t)).scalar_one()
        for t in m.Base.metadata.sorted_tables
        if t.name != "audit_events"
    }


def add_clinical_records(db: Session, patient_id: uuid.UUID) -> None:
    """What the demo does not make: a follow-up, a care plan, a review, a blood
    pressure and another medicine."""
    rx = db.scalars(select(m.Prescription).where(m.Prescription.patient_id == patient_id)).first()
    assert rx is not None
    db.add_all(
        [
            m.FollowUp(
                id=uuid.uuid4(),
                patient_id=patient_id,
                due=date(2026, 5, 1),
                kind="12-week response review",
                clinician_id=rx.prescriber_id,
                notes="bring the diary",
                version=2,
            ),
            m.CarePlan(patient_id=patient_id, settings={"questionnaires": {"phq9": 28}}),
            m.Review(
                id=uuid.uuid4(),
                patient_id=patient_id,
                prescription_id=rx.id,
                clinician_id=rx.prescriber_id,
                decision="continue",
                reason="helping; <b>no</b> side effects",
                snapshot={"pain": {"baseline_mean": 7.1, "latest_7_day_mean": 3.0}},
            ),
            m.BloodPressureReading(
                id=uuid.uuid4(),
                patient_id=patient_id,
                measured_at=NOW,
                systolic=128,
                diastolic=82,
                pulse=71,
            ),
            m.OtherMedicine(
                id=uuid.uuid4(),
                patient_id=patient_id,
                name="ibuprofen",
                started_on=date(2026, 1, 5),
                is_pain_medicine=True,
            ),
        ]
    )
    db.flush()


def test_export_import_export_is_lossless_for_every_demo_patient(
    db: Session, empty_db: sessionmaker[Session]
) -> None:
    accounts = load_demo(db, seed=7, today=date(2026, 4, 2), patients=5)
    db.flush()
    first_patient = next(a for a in accounts if a["role"] == "patient")
    add_clinical_records(db, uuid.UUID(first_patient["patient_id"]))
    ctx = Ctx(now=NOW)
    seen: Counter[str] = Counter()
    for account in accounts:
        if account["role"] != "patient":
            continue
        pid = uuid.UUID(account["patient_id"])
        first, count = service.export_fhir(db, ctx, pid)
        Bundle.model_validate_json(first)
        with unit_of_work(empty_db) as target:
            result = service.import_fhir(target, ctx, first)
        assert result["patient_created"] is True and result["updated"] == 0
        with unit_of_work(empty_db) as target:
            again, count_again = service.export_fhir(target, ctx, pid)
        before, after = normalised(first), normalised(again)
        assert count_again == count
        assert before.keys() == after.keys()
        for key in before:
            assert before[key] == after[key], key
        seen.update(kind for kind, _ in before)
    assert set(TYPES) <= set(seen), set(TYPES) - set(seen)
    with unit_of_work(empty_db) as target:
        imported = target.scalar(select(func.count()).select_from(m.Patient))
        accountless = target.scalar(
            select(func.count()).select_from(m.Patient).where(m.Patient.user_id.is_(None))
        )
    assert imported == accountless == 5  # patients created without accounts


def test_importing_the_same_bundle_twice_does_not_duplicate(
    db: Session, empty_db: sessionmaker[Session]
) -> None:
    accounts = load_demo(db, seed=7, today=date(2026, 4, 2), patients=2)
    db.flush()
    pid = uuid.UUID(next(a["patient_id"] for a in accounts if a["role"] == "patient"))
    text, _ = service.export_fhir(db, Ctx(now=NOW), pid)
    with unit_of_work(empty_db) as target:
        service.import_fhir(target, Ctx(now=NOW), text)
    with empty_db() as target:
        once = counts(target)
    with unit_of_work(empty_db) as target:
        second = service.import_fhir(target, Ctx(now=NOW), text)
    with empty_db() as target:
        assert counts(target) == once
    assert second["created"] == 0 and second["updated"] > 0
    assert second["patient_created"] is False
    # into the same database the records came from: updates, never a second copy
    before = counts(db)
    result = service.import_fhir(db, Ctx(now=NOW), text)
    assert result["created"] == 0 and counts(db) == before


def test_a_record_id_of_another_patient_is_refused_and_nothing_is_imported(
    db: Session, empty_db: sessionmaker[Session]
) -> None:
    accounts = load_demo(db, seed=7, today=date(2026, 4, 2), patients=2)
    db.flush()
    a, b = (uuid.UUID(x["patient_id"]) for x in accounts if x["role"] == "patient")
    text_a, _ = service.export_fhir(db, Ctx(now=NOW), a)
    text_b, _ = service.export_fhir(db, Ctx(now=NOW), b)
    bundle_b = json.loads(text_b)
    diary_a = next(
        e["resource"]["id"]
        for e in json.loads(text_a)["entry"]
        if e["resource"]["resourceType"] == "Observation" and "valueInteger" in e["resource"]
    )
    for entry in bundle_b["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Observation" and "valueInteger" in resource:
            resource["id"] = diary_a  # B's entry claims A's record id
            resource["effectiveDateTime"] = "1999-01-01"
            break
    with unit_of_work(empty_db) as target:
        service.import_fhir(target, Ctx(now=NOW), text_a)
    with (
        pytest.raises(InvalidInput, match="belongs to another patient"),
        unit_of_work(empty_db) as target,
    ):
        service.import_fhir(target, Ctx(now=NOW), json.dumps(bundle_b))
    with empty_db() as target:
        assert target.get(m.Patient, b) is None
