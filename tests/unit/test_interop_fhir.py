"""The FHIR R4 mapping on its own: every record kind becomes a valid R4 resource with
the codes of the clinical reference, and comes back unchanged."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.medicationrequest import MedicationRequest

from painpath.interop.domain.fhir import PATIENT_AUTHOR, build_bundle, parse_bundle
from painpath.interop.domain.records import PatientData
from painpath.kit.errors import InvalidInput

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
PID = uuid.UUID("a0000000-0000-4000-8000-000000000001")
USER = uuid.UUID("a0000000-0000-4000-8000-0000000000aa")
DOC = uuid.UUID("d0000000-0000-4000-8000-000000000001")
DOC_USER = uuid.UUID("d0000000-0000-4000-8000-0000000000aa")
RX = uuid.UUID("b0000000-0000-4000-8000-000000000001")
EP = uuid.UUID("c0000000-0000-4000-8000-000000000001")


def uid(n: int) -> uuid.UUID:
    return uuid.UUID(f"e0000000-0000-4000-8000-{n:012d}")


def sample() -> PatientData:
    return PatientData(
        patient={
            "id": PID,
            "user_id": USER,
            "name": "Ann <b>Patient</b>",
            "date_of_birth": date(1970, 5, 17),
            "nhs_number": "9434765919",
            "timezone": "Europe/London",
            "conditions": ["hypertension"],
            "renal_crcl_ml_min": 75,
            "hepatic_impairment": False,
            "bp_uncontrolled": None,
        },
        clinicians=[{"id": DOC, "user_id": DOC_USER, "name": "Dr Care", "kind": "gp"}],
        episodes=[
            {
                "id": EP,
                "condition": "both",
                "onset_date": date(2025, 6, 1),
                "symptoms": ["leg pain", "tingling"],
                "pain_sites": ["lower back", "left leg"],
                "status": "active",
                "created_at": T0,
                "created_by": DOC_USER,
            }
        ],
        prescriptions=[
            {
                "id": RX,
                "prescriber_id": DOC,
                "episode_id": EP,
                "medicine": "duloxetine",
                "status": "tapering",
                "off_label": True,
                "indication": "chronic low back pain",
                "override_reason": None,
                "warnings_accepted": [{"code": "off-label", "message": "ok", "score": 1.5}],
                "dose_times": ["08:00"],
                "stopped_on": None,
                "version": 3,
                "created_at": T0,
                "updated_at": T0,
                "created_by": DOC_USER,
                "steps": [
                    {
                        "start": date(2026, 3, 2),
                        "daily_dose_mg": Decimal("30.000"),
                        "reason": "titration",
                        "changed_by": DOC_USER,
                        "created_at": T0,
                    },
                    {
                        "start": date(2026, 3, 9),
                        "daily_dose_mg": Decimal(120),
                        "reason": "no effect at 60 mg",
                        "changed_by": None,
                        "created_at": T0,
                    },
                    {
                        "start": date(2026, 6, 1),
                        "daily_dose_mg": Decimal("12.5"),
                        "reason": None,
                        "changed_by": None,
                        "created_at": T0,
                    },
                ],
            }
        ],
        taper_plans=[
            {
                "id": uid(1),
                "prescription_id": RX,
                "start": date(2026, 6, 1),
                "weeks": 4,
                "status": "active",
                "steps": [
                    {
                        "start": "2026-06-01",
                        "end": "2026-06-14",
                        "daily_dose_mg": 30,
                        "instructions": "one 30 mg capsule",
                    },
                    {
                        "start": "2026-06-15",
                        "end": "2026-06-28",
                        "daily_dose_mg": 0,
                        "instructions": "stop",
                    },
                ],
                "warnings": [],
                "note": "slowly",
                "version": 1,
                "created_at": T0,
                "updated_at": T0,
                "created_by": DOC_USER,
            }
        ],
        dose_events=[
            {
                "id": uid(2),
                "prescription_id": RX,
                "status": "late",
                "taken_at": T0,
                "dose_mg": Decimal(30),
                "scheduled_for": date(2026, 3, 1),
                "created_at": T0,
                "created_by": USER,
            },
            {
                "id": uid(3),
                "prescription_id": None,
                "status": "missed",
                "taken_at": T0,
                "dose_mg": None,
                "scheduled_for": None,
                "created_at": T0,
                "created_by": None,
            },
        ],
        other_medicines=[
            {
                "id": uid(4),
                "name": "naproxen",
                "started_on": date(2026, 1, 1),
                "stopped_on": None,
                "is_pain_medicine": True,
                "created_at": T0,
                "created_by": USER,
            }
        ],
        diary=[
            {
                "id": uid(5),
                "date": date(2026, 3, 1),
                "pain": 6,
                "worst_pain": 8,
                "sleep_interference": None,
                "activity_minutes": 30,
                "mood": 5,
                "notes": "<script>alert(1)</script>",
                "late": True,
                "created_at": T0,
                "updated_at": T0,
                "created_by": USER,
            }
        ],
        therapy_sessions=[
            {
                "id": uid(6),
                "date": date(2026, 3, 1),
                "kind": "acupuncture",
                "minutes": 45,
                "pain_before": 6,
                "pain_after": 4,
                "programme_done": None,
                "notes": None,
                "created_at": T0,
                "created_by": USER,
            }
        ],
        questionnaires=[
            {
                "id": uid(7),
                "instrument": "phq9",
                "instrument_version": "1.0.0",
                "answers": [1, 1, 1, 1, 1, 1, 1, 1, 1],
                "total": Decimal(9),
                "band": "mild",
                "subscales": {},
                "flags": ["self-harm"],
                "completed_at": T0,
                "created_at": T0,
                "created_by": USER,
            }
        ],
        side_effects=[
            {
                "id": uid(8),
                "prescription_id": RX,
                "symptom": "nausea",
                "description": "after breakfast",
                "severity": "moderate",
                "started_on": date(2026, 3, 3),
                "triage_level": "routine",
                "triage_advice": "take with food",
                "pathway": None,
                "outcome": "resolved",
                "resolved_on": date(2026, 3, 20),
                "created_at": T0,
                "created_by": USER,
            }
        ],
        follow_ups=[
            {
                "id": uid(9),
                "due": date(2026, 3, 29),
                "kind": "4-week review",
                "status": "scheduled",
                "clinician_id": DOC,
                "notes": None,
                "version": 2,
                "created_at": T0,
                "created_by": DOC_USER,
            }
        ],
        care_plan={
            "id": uid(10),
            "patient_id": PID,
            "settings": {"reminders": {"dose": True}},
            "version": 1,
            "updated_at": T0,
        },
        reviews=[
            {
                "id": uid(11),
                "prescription_id": RX,
                "clinician_id": DOC,
                "decision": "increase",
                "reason": "little change",
                "snapshot": {"pain": {"baseline_mean": 7.2}},
                "created_at": T0,
                "created_by": DOC_USER,
            }
        ],
        blood_pressure=[
            {
                "id": uid(12),
                "measured_at": T0,
                "systolic": 132,
                "diastolic": 84,
                "pulse": 70,
                "created_at": T0,
                "created_by": USER,
            }
        ],
        alerts=[
            {
                "id": uid(13),
                "rule": "phq9-item9",
                "cause_key": "phq9:x",
                "urgency": "urgent",
                "status": "acknowledged",
                "summary": "PHQ-9 item 9",
                "source": "reference §3.2",
                "created_at": T0,
                "acknowledged_by": DOC_USER,
                "acknowledged_at": T0,
                "resolved_by": None,
                "resolved_at": None,
                "note": "called",
                "version": 2,
            }
        ],
    )


def resources(text: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (e["resource"]["resourceType"], e["resource"]["id"]): e["resource"]
        for e in json.loads(text)["entry"]
    }


def test_every_record_becomes_a_valid_r4_resource_with_reference_codes() -> None:
    text = build_bundle(sample(), timestamp=T0)
    Bundle.model_validate_json(text)  # validates against the R4B models
    found = resources(text)
    kinds = {kind for kind, _ in found}
    assert kinds >= {
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
    }
    condition = found[("Condition", str(EP))]
    assert {c["code"] for c in condition["code"]["coding"]} >= {"278860009", "23056005"}
    diary = found[("Observation", str(uid(5)))]
    assert diary["code"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "72514-3",
        "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
    }
    assert diary["valueInteger"] == 6 and diary["note"][0]["text"] == "<script>alert(1)</script>"
    scores = [r for (k, _), r in found.items() if k == "Observation" and "derivedFrom" in r]
    assert scores[0]["code"]["coding"][0]["code"] == "44261-6"  # PHQ-9 total
    assert found[("Questionnaire", "phq9")]["url"].endswith("/Questionnaire/phq9")
    assert found[("Patient", str(PID))]["identifier"][1]["value"] == "9434765919"


def test_the_titration_is_dosage_steps_with_bounds_like_hl7s_tapering_example() -> None:
    found = resources(build_bundle(sample(), timestamp=T0))
    request = MedicationRequest.model_validate(found[("MedicationRequest", str(RX))])
    steps = [
        (
            str(d.timing.repeat.boundsPeriod.start),
            str(d.timing.repeat.boundsPeriod.end) if d.timing.repeat.boundsPeriod.end else None,
            d.doseAndRate[0].doseQuantity.value * d.timing.repeat.frequency,
        )
        for d in request.dosageInstruction
    ]
    assert steps == [
        ("2026-03-02", "2026-03-08", Decimal(30)),
        ("2026-03-09", "2026-05-31", Decimal(120)),
        ("2026-06-01", None, Decimal("12.5")),
    ]
    assert request.dosageInstruction[1].timing.repeat.frequency == 2  # 60 mg twice a day
    taper = found[("MedicationRequest", str(uid(1)))]
    assert taper["intent"] == "plan"
    assert taper["priorPrescription"]["reference"] == f"MedicationRequest/{RX}"
    assert taper["dosageInstruction"][-1]["doseAndRate"][0]["doseQuantity"]["value"] == 0


def test_parse_gives_back_the_same_records() -> None:
    original = sample()
    back = parse_bundle(build_bundle(original, timestamp=T0))
    assert back.patient == {k: v for k, v in original.patient.items() if k != "user_id"}
    assert back.clinicians == original.clinicians
    rx = back.prescriptions[0]
    assert [(s["start"], s["daily_dose_mg"], s["reason"]) for s in rx["steps"]] == [
        (date(2026, 3, 2), Decimal(30), "titration"),
        (date(2026, 3, 9), Decimal(120), "no effect at 60 mg"),
        (date(2026, 6, 1), Decimal("12.5"), None),
    ]
    assert rx["steps"][0]["changed_by"] == DOC_USER and rx["created_by"] == DOC_USER
    assert rx["warnings_accepted"] == original.prescriptions[0]["warnings_accepted"]
    assert back.diary[0]["notes"] == "<script>alert(1)</script>" and back.diary[0]["late"]
    assert back.diary[0]["created_by"] == PATIENT_AUTHOR
    assert [e["status"] for e in back.dose_events] == ["late", "missed"]
    assert back.taper_plans[0]["steps"] == original.taper_plans[0]["steps"]
    assert back.questionnaires[0]["answers"] == [1] * 9
    assert back.side_effects[0]["triage_advice"] == "take with food"
    assert back.follow_ups[0]["version"] == 2 and back.follow_ups[0]["clinician_id"] == DOC
    assert back.care_plan and back.care_plan["settings"] == {"reminders": {"dose": True}}
    assert back.reviews[0]["snapshot"] == {"pain": {"baseline_mean": 7.2}}
    assert back.blood_pressure[0]["systolic"] == 132
    assert back.alerts[0]["acknowledged_by"] == DOC_USER
    again = build_bundle(back, timestamp=T0)
    assert resources(again) == resources(build_bundle(original, timestamp=T0))


def test_a_bundle_about_two_patients_or_broken_json_is_refused() -> None:
    bundle = json.loads(build_bundle(sample(), timestamp=T0))
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "Condition":
            entry["resource"]["subject"]["reference"] = f"Patient/{uuid.uuid4()}"
    with pytest.raises(InvalidInput, match="about another patient"):
        parse_bundle(json.dumps(bundle))
    with pytest.raises(InvalidInput, match="not a valid FHIR R4 Bundle"):
        parse_bundle("{not json")
    with pytest.raises(InvalidInput, match="exactly one Patient"):
        parse_bundle(json.dumps({"resourceType": "Bundle", "type": "collection"}))
