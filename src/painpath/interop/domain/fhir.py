"""FHIR R4 mapping of everything about one patient, both ways (pure).

FHIR is a boundary: the domain model is ours, and this module turns a
:class:`~painpath.interop.domain.records.PatientData` into a FHIR R4 ``Bundle``
(``type: collection``) and back. The Bundle is validated with the R4B models of
``fhir.resources`` (R4B is the R4-compatible package; the default one is R5).

Resources and where each comes from
-----------------------------------
==========================  ===========================================================
Patient                     the patient (NHS number when recorded; time zone and the
                            prescribing facts as PainPath extensions)
Practitioner                the clinicians the records point to (prescribers, reviewers)
Condition                   care episodes: SNOMED CT 278860009 chronic low back pain,
                            23056005 sciatica (both [P] in clinical/reference.md §3.3:
                            read in code repositories, check the UK edition)
MedicationRequest           prescriptions, the titration as ``dosageInstruction`` steps
                            each bounded by ``timing.repeat.boundsPeriod`` (as in HL7's
                            tapering example); taper plans as ``intent: plan`` requests
                            with one bounded step per taper step and ``priorPrescription``
MedicationAdministration    dose events: taken (completed), late (completed + extension),
                            missed (not-done)
MedicationStatement         other medicines the patient takes
Observation                 diary entries (LOINC 72514-3 pain 0-10 NRS [P], the other
                            diary values as components with PainPath codes), questionnaire
                            scores (the instrument's LOINC total code, e.g. PEG 91147-9 [P],
                            PHQ-9 44261-6 [V], GAD-7 70274-6 [V]; PainPath codes where
                            LOINC has none), blood pressure (LOINC 85354-9 panel with
                            8480-6 / 8462-4 and 8867-4 pulse, the FHIR R4 vital-signs
                            profile's codes)
Questionnaire               the definition of each instrument answered (item wording only
                            where its licence allows, else the short label)
QuestionnaireResponse       the answers
AdverseEvent                side-effect reports with their triage
CarePlan                    the patient's care plan settings, pointing to the follow-ups
                            and the medicine requests
Appointment                 follow-ups (a due date, so the whole local day)
Procedure                   therapy sessions (exercise, physiotherapy, acupuncture ...)
ClinicalImpression          review decisions with their reason
Flag                        alerts for the care team
Provenance                  who recorded each record and when
==========================  ===========================================================

Ids: every resource made from a record uses the record's UUID as its ``id`` and as an
``identifier`` (``urn:ietf:rfc:3986``), so importing the same Bundle twice updates the
same rows and never duplicates them. Resources derived from a record (a score
Observation, a Provenance) get a UUID made from the record's (UUID version 5).
What FHIR has no element for (the triage of a side effect, the diary's "late" mark)
travels in PainPath extensions, so export → import → export is lossless.

Not mapped: clinical notes, referrals, dose-change requests, consents, invitations and
notifications (they stay in PainPath; the patient's data download lists them as such).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from painpath.interop.domain.records import PatientData, Row
from painpath.kit.errors import InvalidInput
from painpath.medication.domain.prescribing import find_medicine
from painpath.medication.domain.schedule import regimen_for
from painpath.questionnaires.domain import Instrument, load_instruments, score

BASE = "https://painpath.example/fhir"
EXT = f"{BASE}/StructureDefinition/"
CODES = f"{BASE}/CodeSystem/"
USER_SYSTEM = f"{BASE}/NamingSystem/user-id"
URN = "urn:ietf:rfc:3986"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ATC = "http://www.whocc.no/atc"
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
DERIVED = uuid.UUID("0d6b8a52-54a1-4c0e-9a52-3f6f3c1b7e21")
# An imported record whose Provenance names the patient as author: the service puts
# the patient's own account here (or nothing when the patient has no account).
PATIENT_AUTHOR = uuid.UUID(int=1)

# SNOMED CT concepts, clinical/reference.md §3.3. Both are [P]: read in several code
# repositories, not in the SNOMED browser; check the preferred terms in the UK edition.
CONDITION_CODES: dict[str, tuple[tuple[str, str], ...]] = {
    "chronic-low-back-pain": (("278860009", "Chronic low back pain"),),
    "sciatica": (("23056005", "Sciatica"),),
    "both": (("278860009", "Chronic low back pain"), ("23056005", "Sciatica")),
}
CONDITION_TEXT = {
    "chronic-low-back-pain": "Chronic low back pain",
    "sciatica": "Sciatica",
    "both": "Chronic low back pain with sciatica",
}
# LOINC 72514-3, clinical/reference.md §3.2 [P] (a LOINC mirror and FHIR code repositories).
PAIN_NRS = ("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported")
DIARY_COMPONENTS = (
    ("worst_pain", "worst-pain", "Worst pain in the last 24 hours (0-10)"),
    ("sleep_interference", "sleep-interference", "Pain interference with sleep (0-10)"),
    ("activity_minutes", "activity-minutes", "Minutes of physical activity"),
    ("mood", "mood", "Mood (0 very low - 10 very good)"),
)
# FHIR R4 vital-signs profile codes (hl7.org/fhir/R4/observation-vitalsigns.html).
BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")
SYSTOLIC = ("8480-6", "Systolic blood pressure")
DIASTOLIC = ("8462-4", "Diastolic blood pressure")
PULSE = ("8867-4", "Heart rate")

PRESCRIPTION_STATUS = {"active": "active", "tapering": "active", "stopped": "stopped"}
TAPER_STATUS = {
    "active": "active",
    "held": "on-hold",
    "completed": "completed",
    "cancelled": "cancelled",
    "withdrawn": "cancelled",
    "superseded": "cancelled",
}
DOSE_STATUS = {"taken": "completed", "late": "completed", "missed": "not-done"}
FOLLOW_UP_STATUS = {"scheduled": "booked", "done": "fulfilled", "cancelled": "cancelled"}
EPISODE_STATUS = {"active": "active", "resolved": "resolved"}
ALERT_STATUS = {"open": "active", "acknowledged": "active", "resolved": "inactive"}
AE_OUTCOME = {
    "resolved": "resolved",
    "recovering": "recovering",
    "ongoing": "ongoing",
    "not-resolved": "ongoing",
    "resolved-with-sequelae": "resolvedWithSequelae",
    "fatal": "fatal",
}
# Records the patient writes (diary, doses ...): without a known author, the patient.
PATIENT_AUTHORED = frozenset(
    {"diary", "dose_events", "questionnaires", "side_effects", "therapy_sessions", "other"}
)


# ---------------------------------------------------------------- small helpers


def derived_id(kind: str, record_id: uuid.UUID | str) -> str:
    """A stable UUID for a resource derived from a record (score, provenance)."""
    return str(uuid.uuid5(DERIVED, f"{kind}:{record_id}"))


def _ref(kind: str, rid: object) -> dict[str, str]:
    return {"reference": f"{kind}/{rid}"}


def _identifier(rid: object) -> list[dict[str, str]]:
    return [{"system": URN, "value": f"urn:uuid:{rid}"}]


def _ext(name: str, key: str, value: Any) -> dict[str, Any]:
    return {"url": EXT + name, key: value}


def _dt(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _num(value: Decimal | int | float | str) -> Decimal | int:
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return int(number)
    return number.normalize()


def _mg(value: Decimal | int) -> dict[str, Any]:
    return {"value": _num(value), "unit": "mg", "system": UCUM, "code": "mg"}


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


def _coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def _pp(kind: str, code: str, display: str | None = None) -> dict[str, Any]:
    """A CodeableConcept from one of PainPath's own code systems."""
    return {"coding": [_coding(CODES + kind, code, display)], "text": display or code}


def _medicine(name: str) -> dict[str, Any]:
    """The medicine as text with its ATC code where the knowledge base has one."""
    concept: dict[str, Any] = {"text": name}
    try:
        atc = find_medicine(name).atc_code
    except InvalidInput:
        atc = None
    if atc is not None:
        concept["coding"] = [_coding(ATC, atc.value, name)]
    return concept


def _meta(version: int | None = None, updated: datetime | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if version is not None:
        meta["versionId"] = str(version)
    if updated is not None:
        meta["lastUpdated"] = _dt(updated)
    return meta


def _clean(resource: dict[str, Any]) -> dict[str, Any]:
    """Drop empty values (FHIR forbids empty elements)."""
    return {k: v for k, v in resource.items() if v not in (None, [], {}, "")}


# ---------------------------------------------------------------- export


class _Exporter:
    def __init__(self, data: PatientData) -> None:
        self.data = data
        self.pid = data.patient["id"]
        self.subject = _ref("Patient", self.pid)
        self.practitioner_by_user = {c["user_id"]: c["id"] for c in data.clinicians}
        self.patient_user = data.patient.get("user_id")
        self.medicines = {p["id"]: p["medicine"] for p in data.prescriptions}

    def author(self, kind: str, created_by: uuid.UUID | None) -> dict[str, str] | None:
        if created_by is not None and created_by in self.practitioner_by_user:
            return _ref("Practitioner", self.practitioner_by_user[created_by])
        if kind in PATIENT_AUTHORED:
            return self.subject
        return None

    def provenance(
        self, kind: str, row: Row, targets: Sequence[dict[str, str]]
    ) -> dict[str, Any] | None:
        who = self.author(kind, row.get("created_by"))
        if who is None or row.get("created_at") is None:
            return None
        role = "author" if who["reference"].startswith("Patient/") else "enterer"
        return {
            "resourceType": "Provenance",
            "id": derived_id("provenance", row["id"]),
            "target": list(targets),
            "recorded": _dt(row["created_at"]),
            "agent": [
                {
                    "type": {
                        "coding": [
                            _coding(
                                "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                                role,
                            )
                        ]
                    },
                    "who": who,
                }
            ],
        }

    def resources(self) -> list[dict[str, Any]]:
        d = self.data
        out: list[dict[str, Any]] = [self.patient()]
        out += [self.practitioner(c) for c in d.clinicians]
        out += [self.condition(e) for e in d.episodes]
        out += [self.prescription(p) for p in d.prescriptions]
        out += [self.taper(t) for t in d.taper_plans]
        out += [self.dose_event(e) for e in d.dose_events]
        out += [self.other_medicine(m) for m in d.other_medicines]
        out += [self.diary(e) for e in d.diary]
        out += [self.therapy(s) for s in d.therapy_sessions]
        instruments = load_instruments()
        used = sorted({q["instrument"] for q in d.questionnaires})
        out += [questionnaire(instruments[c]) for c in used if c in instruments]
        for q in d.questionnaires:
            out += self.questionnaire_response(q, instruments.get(q["instrument"]))
        out += [self.side_effect(r) for r in d.side_effects]
        out += [self.follow_up(f) for f in d.follow_ups]
        if d.care_plan is not None:
            out.append(self.care_plan(d.care_plan))
        out += [self.review(r) for r in d.reviews]
        out += [self.blood_pressure(b) for b in d.blood_pressure]
        out += [self.alert(a) for a in d.alerts]
        out += self.provenances()
        return [_clean(r) for r in out]

    def provenances(self) -> list[dict[str, Any]]:
        d = self.data
        groups: list[tuple[str, Iterable[Row], Callable[[Row], list[dict[str, str]]]]] = [
            ("episodes", d.episodes, lambda r: [_ref("Condition", r["id"])]),
            ("prescriptions", d.prescriptions, lambda r: [_ref("MedicationRequest", r["id"])]),
            ("taper_plans", d.taper_plans, lambda r: [_ref("MedicationRequest", r["id"])]),
            ("dose_events", d.dose_events, lambda r: [_ref("MedicationAdministration", r["id"])]),
            ("other", d.other_medicines, lambda r: [_ref("MedicationStatement", r["id"])]),
            ("diary", d.diary, lambda r: [_ref("Observation", r["id"])]),
            ("therapy_sessions", d.therapy_sessions, lambda r: [_ref("Procedure", r["id"])]),
            (
                "questionnaires",
                d.questionnaires,
                lambda r: [
                    _ref("QuestionnaireResponse", r["id"]),
                    _ref("Observation", derived_id("score", r["id"])),
                ],
            ),
            ("side_effects", d.side_effects, lambda r: [_ref("AdverseEvent", r["id"])]),
            ("follow_ups", d.follow_ups, lambda r: [_ref("Appointment", r["id"])]),
            ("reviews", d.reviews, lambda r: [_ref("ClinicalImpression", r["id"])]),
            ("blood_pressure", d.blood_pressure, lambda r: [_ref("Observation", r["id"])]),
        ]
        out = []
        for kind, rows, targets in groups:
            for row in rows:
                prov = self.provenance(kind, row, targets(row))
                if prov is not None:
                    out.append(prov)
        return out

    # -- one function per resource type

    def patient(self) -> dict[str, Any]:
        p = self.data.patient
        identifiers = _identifier(p["id"])
        if p.get("nhs_number"):
            identifiers.append({"system": NHS_NUMBER, "value": p["nhs_number"]})
        ext = [_ext("time-zone", "valueCode", p.get("timezone") or "Europe/London")]
        if p.get("conditions"):
            ext.append(_ext("recorded-conditions", "valueString", _json(p["conditions"])))
        if p.get("renal_crcl_ml_min") is not None:
            ext.append(_ext("creatinine-clearance-ml-min", "valueInteger", p["renal_crcl_ml_min"]))
        if p.get("hepatic_impairment") is not None:
            ext.append(_ext("hepatic-impairment", "valueBoolean", p["hepatic_impairment"]))
        if p.get("bp_uncontrolled") is not None:
            ext.append(_ext("uncontrolled-hypertension", "valueBoolean", p["bp_uncontrolled"]))
        return {
            "resourceType": "Patient",
            "id": str(p["id"]),
            "identifier": identifiers,
            "extension": ext,
            "active": True,
            "name": [{"text": p["name"]}],
            "birthDate": p["date_of_birth"].isoformat() if p.get("date_of_birth") else None,
        }

    def practitioner(self, c: Row) -> dict[str, Any]:
        return {
            "resourceType": "Practitioner",
            "id": str(c["id"]),
            "identifier": [
                *_identifier(c["id"]),
                {"system": USER_SYSTEM, "value": str(c["user_id"])},
            ],
            "name": [{"text": c["name"]}],
            "qualification": [{"code": _pp("clinician-kind", c["kind"])}],
        }

    def condition(self, e: Row) -> dict[str, Any]:
        codes = CONDITION_CODES.get(e["condition"], ())
        return {
            "resourceType": "Condition",
            "id": str(e["id"]),
            "identifier": _identifier(e["id"]),
            "extension": [_ext("status", "valueCode", e["status"])],
            "clinicalStatus": {
                "coding": [
                    _coding(
                        "http://terminology.hl7.org/CodeSystem/condition-clinical",
                        EPISODE_STATUS.get(e["status"], "inactive"),
                    )
                ]
            },
            "verificationStatus": {
                "coding": [
                    _coding(
                        "http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed"
                    )
                ]
            },
            "category": [
                {
                    "coding": [
                        _coding(
                            "http://terminology.hl7.org/CodeSystem/condition-category",
                            "problem-list-item",
                        )
                    ]
                }
            ],
            "code": {
                "coding": [_coding(SNOMED, code, display) for code, display in codes]
                + [_coding(CODES + "condition", e["condition"])],
                "text": CONDITION_TEXT.get(e["condition"], e["condition"]),
            },
            "bodySite": [{"text": site} for site in e.get("pain_sites") or []],
            "subject": self.subject,
            "onsetDateTime": e["onset_date"].isoformat(),
            "recordedDate": _dt(e["created_at"]),
            "evidence": [{"code": [{"text": s}]} for s in e.get("symptoms") or []],
        }

    def _dosage(
        self,
        medicine: str,
        index: int,
        start: date,
        end: date | None,
        daily: Decimal,
        times: Sequence[str],
        text: str,
        extension: list[dict[str, Any]],
    ) -> dict[str, Any]:
        per_day = 1
        try:
            regimen = regimen_for(find_medicine(medicine), daily) if daily > 0 else None
        except InvalidInput:
            regimen = None
        if regimen is not None:
            per_day = regimen.times_per_day
        repeat: dict[str, Any] = {
            "boundsPeriod": _clean({"start": start.isoformat(), "end": end and end.isoformat()}),
            "frequency": per_day,
            "period": 1,
            "periodUnit": "d",
        }
        if times and len(times) == per_day:
            repeat["timeOfDay"] = [f"{t}:00" for t in times]
        return _clean(
            {
                "extension": extension,
                "sequence": index + 1,
                "text": text,
                "timing": {"repeat": repeat},
                "doseAndRate": [
                    {
                        "type": {
                            "coding": [
                                _coding(
                                    "http://terminology.hl7.org/CodeSystem/dose-rate-type",
                                    "ordered",
                                )
                            ]
                        },
                        "doseQuantity": _mg(daily / per_day),
                    }
                ],
            }
        )

    def prescription(self, p: Row) -> dict[str, Any]:
        steps = sorted(p.get("steps") or [], key=lambda s: (s["start"], s["created_at"]))
        dosages = []
        for i, s in enumerate(steps):
            later = [n["start"] for n in steps[i + 1 :] if n["start"] > s["start"]]
            end = later[0] - timedelta(days=1) if later else None
            dose = Decimal(s["daily_dose_mg"])
            text = f"{_num(dose)} mg a day from {s['start'].isoformat()}" + (
                f" to {end.isoformat()}" if end else ""
            )
            ext = [_ext("recorded-at", "valueDateTime", _dt(s["created_at"]))]
            if s.get("reason"):
                ext.append(_ext("dose-change-reason", "valueString", s["reason"]))
            changed = s.get("changed_by")
            if changed is not None and changed in self.practitioner_by_user:
                ext.append(
                    _ext(
                        "changed-by",
                        "valueReference",
                        _ref("Practitioner", self.practitioner_by_user[changed]),
                    )
                )
            dosages.append(
                self._dosage(
                    p["medicine"], i, s["start"], end, dose, p.get("dose_times") or [], text, ext
                )
            )
        ext = [
            _ext("status", "valueCode", p["status"]),
            _ext("off-label", "valueBoolean", bool(p["off_label"])),
        ]
        ext += [_ext("dose-time", "valueTime", f"{t}:00") for t in p.get("dose_times") or []]
        if p.get("override_reason"):
            ext.append(_ext("override-reason", "valueString", p["override_reason"]))
        if p.get("warnings_accepted"):
            ext.append(_ext("warnings-accepted", "valueString", _json(p["warnings_accepted"])))
        if p.get("stopped_on"):
            ext.append(_ext("stopped-on", "valueDate", p["stopped_on"].isoformat()))
        return {
            "resourceType": "MedicationRequest",
            "id": str(p["id"]),
            "meta": _meta(p["version"], p.get("updated_at")),
            "identifier": _identifier(p["id"]),
            "extension": ext,
            "status": PRESCRIPTION_STATUS.get(p["status"], "unknown"),
            "intent": "order",
            "medicationCodeableConcept": _medicine(p["medicine"]),
            "subject": self.subject,
            "authoredOn": _dt(p["created_at"]),
            "requester": _ref("Practitioner", p["prescriber_id"]),
            "reasonCode": [{"text": p["indication"]}] if p.get("indication") else None,
            "reasonReference": [_ref("Condition", p["episode_id"])]
            if p.get("episode_id")
            else None,
            "dosageInstruction": dosages,
        }

    def taper(self, t: Row) -> dict[str, Any]:
        medicine = self.medicines.get(t["prescription_id"], "duloxetine")
        dosages = []
        for i, step in enumerate(t.get("steps") or []):
            extra = {k: v for k, v in step.items() if k not in TAPER_STEP_KEYS}
            ext = [_ext("taper-step-extra", "valueString", _json(extra))] if extra else []
            dosages.append(
                self._dosage(
                    medicine,
                    i,
                    date.fromisoformat(str(step["start"])),
                    date.fromisoformat(str(step["end"])) if step.get("end") else None,
                    Decimal(str(step["daily_dose_mg"])),
                    [],
                    str(step.get("instructions") or ""),
                    ext,
                )
            )
        ext = [
            _ext("status", "valueCode", t["status"]),
            _ext("taper-weeks", "valueInteger", t["weeks"]),
            _ext("taper-start", "valueDate", t["start"].isoformat()),
        ]
        if t.get("warnings"):
            ext.append(_ext("taper-warnings", "valueString", _json(t["warnings"])))
        return {
            "resourceType": "MedicationRequest",
            "id": str(t["id"]),
            "meta": _meta(t["version"], t.get("updated_at")),
            "identifier": _identifier(t["id"]),
            "extension": ext,
            "status": TAPER_STATUS.get(t["status"], "unknown"),
            "intent": "plan",
            "medicationCodeableConcept": _medicine(medicine),
            "subject": self.subject,
            "authoredOn": _dt(t["created_at"]),
            "priorPrescription": _ref("MedicationRequest", t["prescription_id"]),
            "note": [{"text": t["note"]}] if t.get("note") else None,
            "dosageInstruction": dosages,
        }

    def dose_event(self, e: Row) -> dict[str, Any]:
        rx = e.get("prescription_id")
        medicine = self.medicines.get(rx) if rx else None
        ext = [_ext("dose-status", "valueCode", e["status"])]
        if e.get("scheduled_for"):
            ext.append(_ext("scheduled-for", "valueDate", e["scheduled_for"].isoformat()))
        return {
            "resourceType": "MedicationAdministration",
            "id": str(e["id"]),
            "identifier": _identifier(e["id"]),
            "extension": ext,
            "status": DOSE_STATUS.get(e["status"], "unknown"),
            "medicationCodeableConcept": _medicine(medicine)
            if medicine
            else {"text": "prescribed medicine"},
            "subject": self.subject,
            "effectiveDateTime": _dt(e["taken_at"]),
            "request": _ref("MedicationRequest", rx) if rx else None,
            "dosage": {"dose": _mg(e["dose_mg"])} if e.get("dose_mg") is not None else None,
        }

    def other_medicine(self, m: Row) -> dict[str, Any]:
        period = _clean(
            {
                "start": m["started_on"].isoformat() if m.get("started_on") else None,
                "end": m["stopped_on"].isoformat() if m.get("stopped_on") else None,
            }
        )
        return {
            "resourceType": "MedicationStatement",
            "id": str(m["id"]),
            "identifier": _identifier(m["id"]),
            "extension": [_ext("pain-medicine", "valueBoolean", bool(m["is_pain_medicine"]))],
            "status": "completed" if m.get("stopped_on") else "active",
            "medicationCodeableConcept": {"text": m["name"]},
            "subject": self.subject,
            "effectivePeriod": period or None,
            "dateAsserted": _dt(m["created_at"]),
        }

    def diary(self, e: Row) -> dict[str, Any]:
        components = []
        for column, code, display in DIARY_COMPONENTS:
            value = e.get(column)
            if value is None:
                continue
            component: dict[str, Any] = {"code": _pp("diary", code, display)}
            if column == "activity_minutes":
                component["valueQuantity"] = {
                    "value": value,
                    "unit": "min",
                    "system": UCUM,
                    "code": "min",
                }
            else:
                component["valueInteger"] = value
            components.append(component)
        return {
            "resourceType": "Observation",
            "id": str(e["id"]),
            "meta": _meta(updated=e.get("updated_at")),
            "identifier": _identifier(e["id"]),
            "extension": [_ext("diary-late", "valueBoolean", bool(e.get("late")))],
            "status": "final",
            "category": [_survey()],
            "code": {
                "coding": [_coding(LOINC, *PAIN_NRS), _coding(CODES + "diary", "diary-entry")],
                "text": "Daily pain diary: average pain over the last 24 hours (0-10)",
            },
            "subject": self.subject,
            "effectiveDateTime": e["date"].isoformat(),
            "issued": _dt(e["created_at"]),
            "valueInteger": e["pain"],
            "note": [{"text": e["notes"]}] if e.get("notes") else None,
            "component": components,
        }

    def therapy(self, s: Row) -> dict[str, Any]:
        ext = []
        if s.get("minutes") is not None:
            ext.append(_ext("minutes", "valueInteger", s["minutes"]))
        if s.get("pain_before") is not None:
            ext.append(_ext("pain-before", "valueInteger", s["pain_before"]))
        if s.get("pain_after") is not None:
            ext.append(_ext("pain-after", "valueInteger", s["pain_after"]))
        if s.get("programme_done") is not None:
            ext.append(_ext("programme-done", "valueBoolean", s["programme_done"]))
        return {
            "resourceType": "Procedure",
            "id": str(s["id"]),
            "identifier": _identifier(s["id"]),
            "extension": ext,
            "status": "completed",
            "code": _pp("therapy", s["kind"], s["kind"]),
            "subject": self.subject,
            "performedDateTime": s["date"].isoformat(),
            "note": [{"text": s["notes"]}] if s.get("notes") else None,
        }

    def questionnaire_response(self, q: Row, instrument: Instrument | None) -> list[dict[str, Any]]:
        answers = list(q.get("answers") or [])
        link_ids = (
            [item.id for item in instrument.items]
            if instrument is not None and len(instrument.items) == len(answers)
            else [str(i + 1) for i in range(len(answers))]
        )
        items = [
            {"linkId": link, "answer": [{"valueInteger": value}]}
            for link, value in zip(link_ids, answers, strict=True)
            if value is not None
        ]
        response = {
            "resourceType": "QuestionnaireResponse",
            "id": str(q["id"]),
            "identifier": _identifier(q["id"])[0],
            "questionnaire": f"{BASE}/Questionnaire/{q['instrument']}|{q['instrument_version']}",
            "status": "completed",
            "subject": self.subject,
            "authored": _dt(q["completed_at"]),
            "author": self.subject,
            "item": items,
        }
        total_code = None
        if instrument is not None:
            total_code = next((c for c in instrument.loinc if c.role == "total"), None)
        code: dict[str, Any] = (
            {
                "coding": [_coding(LOINC, total_code.code, total_code.display)],
                "text": f"{instrument.name if instrument else q['instrument']} score",
            }
            if total_code is not None
            else _pp("score", q["instrument"], f"{q['instrument']} score")
        )
        components = [
            {
                "code": _pp("subscale", f"{q['instrument']}.{name}", name),
                "valueQuantity": {"value": _num(value)},
            }
            for name, value in sorted((q.get("subscales") or {}).items())
            if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)
        ]
        ext = [_ext("score-flag", "valueCode", flag) for flag in q.get("flags") or []]
        score = {
            "resourceType": "Observation",
            "id": derived_id("score", q["id"]),
            "extension": ext,
            "status": "final",
            "category": [_survey()],
            "code": code,
            "subject": self.subject,
            "effectiveDateTime": _dt(q["completed_at"]),
            "valueQuantity": {"value": _num(q["total"]), "unit": "{score}", "system": UCUM},
            "interpretation": [{"text": q["band"]}] if q.get("band") else None,
            "derivedFrom": [_ref("QuestionnaireResponse", q["id"])],
            "component": components,
        }
        return [response, _clean(score)]

    def side_effect(self, r: Row) -> dict[str, Any]:
        ext = [
            _ext("triage-level", "valueCode", r["triage_level"]),
            _ext("triage-advice", "valueString", r["triage_advice"]),
        ]
        if r.get("description"):
            ext.append(_ext("side-effect-description", "valueString", r["description"]))
        if r.get("pathway"):
            ext.append(_ext("triage-pathway", "valueCode", r["pathway"]))
        if r.get("outcome"):
            ext.append(_ext("side-effect-outcome", "valueCode", r["outcome"]))
        if r.get("resolved_on"):
            ext.append(_ext("resolved-on", "valueDate", r["resolved_on"].isoformat()))
        outcome = AE_OUTCOME.get(r.get("outcome") or "")
        rx = r.get("prescription_id")
        return {
            "resourceType": "AdverseEvent",
            "id": str(r["id"]),
            "identifier": _identifier(r["id"])[0],
            "extension": ext,
            "actuality": "actual",
            "event": {"text": r["symptom"]},
            "subject": self.subject,
            "date": r["started_on"].isoformat(),
            "recordedDate": _dt(r["created_at"]),
            "severity": {
                "coding": [
                    _coding(
                        "http://terminology.hl7.org/CodeSystem/adverse-event-severity",
                        r["severity"],
                    )
                ]
            },
            "outcome": {
                "coding": [
                    _coding("http://terminology.hl7.org/CodeSystem/adverse-event-outcome", outcome)
                ]
            }
            if outcome
            else None,
            "suspectEntity": [{"instance": _ref("MedicationRequest", rx)}] if rx else None,
        }

    def follow_up(self, f: Row) -> dict[str, Any]:
        zone = ZoneInfo(self.data.patient.get("timezone") or "Europe/London")
        day_start = datetime.combine(f["due"], time(0), tzinfo=zone)
        day_end = datetime.combine(f["due"] + timedelta(days=1), time(0), tzinfo=zone)
        participants = [{"actor": self.subject, "status": "accepted"}]
        if f.get("clinician_id"):
            participants.append(
                {"actor": _ref("Practitioner", f["clinician_id"]), "status": "accepted"}
            )
        return {
            "resourceType": "Appointment",
            "id": str(f["id"]),
            "meta": _meta(f["version"]),
            "identifier": _identifier(f["id"]),
            "extension": [_ext("status", "valueCode", f["status"])],
            "status": FOLLOW_UP_STATUS.get(f["status"], "proposed"),
            "description": f["kind"],
            "start": _dt(day_start),
            "end": _dt(day_end),
            "requestedPeriod": [{"start": f["due"].isoformat(), "end": f["due"].isoformat()}],
            "created": _dt(f["created_at"]),
            "comment": f.get("notes"),
            "participant": participants,
        }

    def care_plan(self, c: Row) -> dict[str, Any]:
        activities = [
            {"reference": _ref("Appointment", f["id"])}
            for f in sorted(self.data.follow_ups, key=lambda f: (f["due"], str(f["id"])))
        ]
        activities += [
            {"reference": _ref("MedicationRequest", p["id"])} for p in self.data.prescriptions
        ]
        return {
            "resourceType": "CarePlan",
            "id": str(c["id"]),
            "meta": _meta(c["version"], c.get("updated_at")),
            "identifier": _identifier(c["id"]),
            "extension": [_ext("care-plan-settings", "valueString", _json(c.get("settings")))],
            "status": "active",
            "intent": "plan",
            "title": "PainPath care plan: questionnaires, follow-ups and reminders",
            "subject": self.subject,
            "addresses": [_ref("Condition", e["id"]) for e in self.data.episodes] or None,
            "activity": activities,
        }

    def review(self, r: Row) -> dict[str, Any]:
        return {
            "resourceType": "ClinicalImpression",
            "id": str(r["id"]),
            "identifier": _identifier(r["id"]),
            "extension": [
                _ext("review-decision", "valueCode", r["decision"]),
                _ext("review-snapshot", "valueString", _json(r.get("snapshot") or {})),
            ],
            "status": "completed",
            "code": _pp("review-decision", r["decision"], f"Review decision: {r['decision']}"),
            "subject": self.subject,
            "date": _dt(r["created_at"]),
            "assessor": _ref("Practitioner", r["clinician_id"]),
            "summary": r["reason"],
            "supportingInfo": [_ref("MedicationRequest", r["prescription_id"])],
        }

    def blood_pressure(self, b: Row) -> dict[str, Any]:
        components: list[dict[str, Any]] = [
            {
                "code": {"coding": [_coding(LOINC, *SYSTOLIC)]},
                "valueQuantity": _mmhg(b["systolic"]),
            },
            {
                "code": {"coding": [_coding(LOINC, *DIASTOLIC)]},
                "valueQuantity": _mmhg(b["diastolic"]),
            },
        ]
        if b.get("pulse") is not None:
            components.append(
                {
                    "code": {"coding": [_coding(LOINC, *PULSE)]},
                    "valueQuantity": {
                        "value": b["pulse"],
                        "unit": "/min",
                        "system": UCUM,
                        "code": "/min",
                    },
                }
            )
        return {
            "resourceType": "Observation",
            "id": str(b["id"]),
            "identifier": _identifier(b["id"]),
            "status": "final",
            "category": [
                {
                    "coding": [
                        _coding(
                            "http://terminology.hl7.org/CodeSystem/observation-category",
                            "vital-signs",
                        )
                    ]
                }
            ],
            "code": {"coding": [_coding(LOINC, *BP_PANEL)], "text": "Blood pressure"},
            "subject": self.subject,
            "effectiveDateTime": _dt(b["measured_at"]),
            "issued": _dt(b["created_at"]),
            "component": components,
        }

    def alert(self, a: Row) -> dict[str, Any]:
        ext = [
            _ext("status", "valueCode", a["status"]),
            _ext("alert-rule", "valueCode", a["rule"]),
            _ext("alert-cause", "valueString", a["cause_key"]),
            _ext("alert-urgency", "valueCode", a["urgency"]),
            _ext("alert-source", "valueString", a["source"]),
        ]
        for column in ("acknowledged", "resolved"):
            if a.get(f"{column}_at"):
                ext.append(_ext(f"{column}-at", "valueDateTime", _dt(a[f"{column}_at"])))
            user = a.get(f"{column}_by")
            if user is not None and user in self.practitioner_by_user:
                ext.append(
                    _ext(
                        f"{column}-by",
                        "valueReference",
                        _ref("Practitioner", self.practitioner_by_user[user]),
                    )
                )
        if a.get("note"):
            ext.append(_ext("alert-note", "valueString", a["note"]))
        return {
            "resourceType": "Flag",
            "id": str(a["id"]),
            "meta": _meta(a["version"]),
            "identifier": _identifier(a["id"]),
            "extension": ext,
            "status": ALERT_STATUS.get(a["status"], "active"),
            "category": [
                {
                    "coding": [
                        _coding("http://terminology.hl7.org/CodeSystem/flag-category", "clinical")
                    ]
                }
            ],
            "code": {"text": a["summary"]},
            "subject": self.subject,
            "period": _clean({"start": _dt(a["created_at"])}),
        }


TAPER_STEP_KEYS = frozenset({"start", "end", "daily_dose_mg", "instructions"})


def _survey() -> dict[str, Any]:
    return {
        "coding": [_coding("http://terminology.hl7.org/CodeSystem/observation-category", "survey")]
    }


def _mmhg(value: int) -> dict[str, Any]:
    return {"value": value, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"}


def questionnaire(instrument: Instrument) -> dict[str, Any]:
    """The definition of an instrument as a FHIR Questionnaire (wording only where its
    licence allows reproducing it; otherwise the item's short label)."""
    items = []
    for item in instrument.items:
        text = item.text if item.text and not item.wording_restricted else item.label
        entry: dict[str, Any] = {"linkId": item.id, "text": text, "required": True}
        if item.options.is_scale:
            entry["type"] = "integer"
        else:
            entry["type"] = "choice"
            entry["answerOption"] = [
                {"valueCoding": _clean({"code": str(value), "display": label})}
                for value, label in item.options.options
            ]
        if item.loinc is not None:
            entry["code"] = [_coding(LOINC, item.loinc.code, item.loinc.display)]
        items.append(entry)
    panel = next((c for c in instrument.loinc if c.role == "panel"), None)
    return _clean(
        {
            "resourceType": "Questionnaire",
            "id": instrument.code,
            "url": f"{BASE}/Questionnaire/{instrument.code}",
            "version": instrument.version,
            "name": instrument.code.upper().replace("-", "_"),
            "title": instrument.name,
            "status": "active",
            "description": instrument.description,
            "copyright": instrument.licence.note,
            "code": [_coding(LOINC, panel.code, panel.display)] if panel else None,
            "item": items,
        }
    )


def build_bundle(data: PatientData, *, timestamp: datetime) -> str:
    """The Bundle as canonical FHIR JSON text, validated against the R4B models."""
    resources = _Exporter(data).resources()
    resources.sort(key=lambda r: (r["resourceType"] != "Patient", r["resourceType"], r["id"]))
    bundle_id = derived_id("bundle", data.patient["id"])
    bundle = {
        "resourceType": "Bundle",
        "id": bundle_id,
        "meta": {"lastUpdated": _dt(timestamp)},
        "identifier": {
            "system": URN,
            "value": f"urn:uuid:{derived_id('bundle', data.patient['id'])}",
        },
        "type": "collection",
        "timestamp": _dt(timestamp),
        "entry": [
            {"fullUrl": f"{BASE}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources
        ],
    }
    try:
        return Bundle.model_validate(bundle).model_dump_json()
    except ValidationError as exc:  # a mapping bug, never the patient's data
        raise ValueError(f"the FHIR bundle does not validate: {exc}") from exc


# ---------------------------------------------------------------- import


def _bad(message: str) -> InvalidInput:
    return InvalidInput(message, field="bundle")


def _uuid(value: object, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise _bad(f"{what}: {value!r} is not a PainPath record id (a UUID)") from None


def _ref_id(reference: Mapping[str, Any] | None, kind: str, what: str) -> uuid.UUID | None:
    if not reference or "reference" not in reference:
        return None
    text = str(reference["reference"])
    prefix = f"{kind}/"
    if not text.startswith(prefix):
        raise _bad(f"{what}: expected a reference to a {kind}, got {text!r}")
    return _uuid(text[len(prefix) :], what)


def _exts(resource: Mapping[str, Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for ext in resource.get("extension") or []:
        url = str(ext.get("url", ""))
        if not url.startswith(EXT):
            continue
        value = next((v for k, v in ext.items() if k.startswith("value")), None)
        out.setdefault(url[len(EXT) :], []).append(value)
    return out


def _one(exts: Mapping[str, list[Any]], name: str, default: Any = None) -> Any:
    values = exts.get(name)
    return values[0] if values else default


def _date(value: object, what: str) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise _bad(f"{what}: {value!r} is not a date") from None


def _datetime(value: object, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise _bad(f"{what}: {value!r} is not a date and time") from None
    if moment.tzinfo is None:
        raise _bad(f"{what}: {value!r} has no time zone")
    return moment.astimezone(UTC)


def _decimal(value: object, what: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise _bad(f"{what}: {value!r} is not a number") from None
    if not number.is_finite():
        raise _bad(f"{what}: {value!r} is not a number")
    return number


def _loads(value: object, what: str) -> Any:
    try:
        return json.loads(str(value))
    except ValueError:
        raise _bad(f"{what}: the extension is not valid JSON") from None


def _version(resource: Mapping[str, Any]) -> int:
    raw = (resource.get("meta") or {}).get("versionId")
    try:
        return int(raw) if raw is not None else 1
    except ValueError:
        raise _bad(f"{resource.get('resourceType')}: versionId {raw!r} is not a number") from None


def _updated(resource: Mapping[str, Any], fallback: datetime) -> datetime:
    raw = (resource.get("meta") or {}).get("lastUpdated")
    return _datetime(raw, "meta.lastUpdated") if raw else fallback


def _dose_json(value: Decimal) -> int | str:
    return int(value) if value == value.to_integral_value() else format(value.normalize(), "f")


class _Importer:
    def __init__(self, resources: list[dict[str, Any]]) -> None:
        patients = [r for r in resources if r["resourceType"] == "Patient"]
        if len(patients) != 1:
            raise _bad(f"the bundle must hold exactly one Patient, it holds {len(patients)}")
        self.resources = resources
        self.patient_resource = patients[0]
        self.pid = _uuid(patients[0].get("id"), "Patient.id")
        self.users: dict[uuid.UUID, uuid.UUID] = {}  # practitioner id -> user id
        self.authors: dict[str, str] = {}  # target reference -> agent reference
        self.recorded: dict[str, datetime] = {}  # target reference -> Provenance.recorded

    def check_subject(self, resource: Mapping[str, Any], key: str = "subject") -> None:
        ref = _ref_id(resource.get(key), "Patient", f"{resource['resourceType']}.{key}")
        if ref != self.pid:
            raise _bad(
                f"{resource['resourceType']}/{resource.get('id')} is about another patient: "
                "a bundle holds one patient's records only"
            )

    def created_by(self, reference: str) -> uuid.UUID | None:
        who = self.authors.get(reference)
        if who and who.startswith("Practitioner/"):
            return self.users.get(_uuid(who.split("/", 1)[1], "Provenance.agent"))
        if who == f"Patient/{self.pid}":
            return PATIENT_AUTHOR
        return None

    def user_of(self, ref: Mapping[str, Any] | None) -> uuid.UUID | None:
        pid = _ref_id(ref, "Practitioner", "reference")
        return self.users.get(pid) if pid else None

    def run(self) -> PatientData:
        by_type: dict[str, list[dict[str, Any]]] = {}
        for r in self.resources:
            by_type.setdefault(r["resourceType"], []).append(r)
        for prov in by_type.get("Provenance", []):
            agents = prov.get("agent") or []
            who = (agents[0].get("who") or {}).get("reference") if agents else None
            for target in prov.get("target") or []:
                if who and target.get("reference"):
                    self.authors[str(target["reference"])] = str(who)
                if prov.get("recorded") and target.get("reference"):
                    self.recorded[str(target["reference"])] = _datetime(
                        prov["recorded"], "Provenance.recorded"
                    )
        data = PatientData(patient=self.patient(self.patient_resource))
        for res in by_type.get("Practitioner", []):
            data.clinicians.append(self.practitioner(res))
        self.users = {c["id"]: c["user_id"] for c in data.clinicians}
        for res in by_type.get("Condition", []):
            data.episodes.append(self.condition(res))
        requests = by_type.get("MedicationRequest", [])
        for res in requests:
            if res.get("intent") == "plan":
                continue
            data.prescriptions.append(self.prescription(res))
        medicines = {p["id"]: p["medicine"] for p in data.prescriptions}
        for res in requests:
            if res.get("intent") == "plan":
                data.taper_plans.append(self.taper(res, medicines))
        for res in by_type.get("MedicationAdministration", []):
            data.dose_events.append(self.dose_event(res))
        for res in by_type.get("MedicationStatement", []):
            data.other_medicines.append(self.other_medicine(res))
        for res in by_type.get("Observation", []):
            codes = {c.get("code") for c in (res.get("code") or {}).get("coding") or []}
            if "diary-entry" in codes:
                data.diary.append(self.diary(res))
            elif BP_PANEL[0] in codes:
                data.blood_pressure.append(self.blood_pressure(res))
            # score Observations are derived from the QuestionnaireResponse: recomputed
        for res in by_type.get("Procedure", []):
            data.therapy_sessions.append(self.therapy(res))
        for res in by_type.get("QuestionnaireResponse", []):
            data.questionnaires.append(self.questionnaire_response(res))
        for res in by_type.get("AdverseEvent", []):
            data.side_effects.append(self.side_effect(res))
        for res in by_type.get("Appointment", []):
            data.follow_ups.append(self.follow_up(res))
        plans = by_type.get("CarePlan", [])
        if len(plans) > 1:
            raise _bad("the bundle holds more than one CarePlan; PainPath keeps one per patient")
        if plans:
            data.care_plan = self.care_plan(plans[0])
        for res in by_type.get("ClinicalImpression", []):
            data.reviews.append(self.review(res))
        for res in by_type.get("Flag", []):
            data.alerts.append(self.alert(res))
        return data

    def patient(self, res: Mapping[str, Any]) -> Row:
        exts = _exts(res)
        nhs = next(
            (i.get("value") for i in res.get("identifier") or [] if i.get("system") == NHS_NUMBER),
            None,
        )
        names = res.get("name") or [{}]
        name = (
            names[0].get("text")
            or " ".join([*(names[0].get("given") or []), names[0].get("family") or ""]).strip()
        )
        if not name:
            raise _bad("Patient.name: the patient has no name")
        conditions = _one(exts, "recorded-conditions")
        return {
            "id": self.pid,
            "name": name,
            "date_of_birth": _date(res["birthDate"], "Patient.birthDate")
            if res.get("birthDate")
            else None,
            "nhs_number": nhs,
            "timezone": _one(exts, "time-zone", "Europe/London"),
            "conditions": _loads(conditions, "recorded-conditions") if conditions else [],
            "renal_crcl_ml_min": _one(exts, "creatinine-clearance-ml-min"),
            "hepatic_impairment": _one(exts, "hepatic-impairment"),
            "bp_uncontrolled": _one(exts, "uncontrolled-hypertension"),
        }

    def practitioner(self, res: Mapping[str, Any]) -> Row:
        cid = _uuid(res.get("id"), "Practitioner.id")
        user = next(
            (i.get("value") for i in res.get("identifier") or [] if i.get("system") == USER_SYSTEM),
            None,
        )
        quals = res.get("qualification") or []
        kind = "other"
        if quals:
            coding = (quals[0].get("code") or {}).get("coding") or [{}]
            kind = coding[0].get("code") or "other"
        return {
            "id": cid,
            "user_id": _uuid(user, "Practitioner.identifier") if user else cid,
            "name": ((res.get("name") or [{}])[0].get("text")) or "Clinician",
            "kind": kind,
        }

    def condition(self, res: Mapping[str, Any]) -> Row:
        self.check_subject(res)
        rid = _uuid(res.get("id"), "Condition.id")
        exts = _exts(res)
        coding = (res.get("code") or {}).get("coding") or []
        own = next((c["code"] for c in coding if c.get("system") == CODES + "condition"), None)
        if own is None:
            snomed = {c.get("code") for c in coding if c.get("system") == SNOMED}
            own = (
                "both"
                if {"278860009", "23056005"} <= snomed
                else "sciatica"
                if "23056005" in snomed
                else "chronic-low-back-pain"
            )
        clinical = ((res.get("clinicalStatus") or {}).get("coding") or [{}])[0].get("code")
        return {
            "id": rid,
            "patient_id": self.pid,
            "condition": own,
            "onset_date": _date(res.get("onsetDateTime"), "Condition.onsetDateTime"),
            "symptoms": [(e.get("code") or [{}])[0].get("text") for e in res.get("evidence") or []],
            "pain_sites": [b.get("text") for b in res.get("bodySite") or []],
            "status": _one(exts, "status", clinical or "active"),
            "created_at": _datetime(res.get("recordedDate"), "Condition.recordedDate"),
            "created_by": self.created_by(f"Condition/{rid}"),
        }

    def _steps(self, res: Mapping[str, Any]) -> list[tuple[dict[str, Any], Decimal, Row]]:
        out = []
        dosages = sorted(res.get("dosageInstruction") or [], key=lambda d: d.get("sequence", 0))
        for d in dosages:
            repeat = (d.get("timing") or {}).get("repeat") or {}
            bounds = repeat.get("boundsPeriod") or {}
            rates = d.get("doseAndRate") or [{}]
            quantity = rates[0].get("doseQuantity") or {}
            what = f"{res['resourceType']}/{res.get('id')} dosage {d.get('sequence')}"
            if quantity.get("unit", "mg") != "mg" and quantity.get("code", "mg") != "mg":
                raise _bad(f"{what}: doses must be in mg")
            daily = _decimal(quantity.get("value"), what) * int(repeat.get("frequency") or 1)
            step: Row = {
                "start": _date(bounds.get("start"), f"{what} boundsPeriod.start"),
                "end": _date(bounds["end"], f"{what} boundsPeriod.end")
                if bounds.get("end")
                else None,
                "text": d.get("text"),
            }
            out.append((step, daily, _exts(d)))
        return out

    def prescription(self, res: Mapping[str, Any]) -> Row:
        self.check_subject(res)
        rid = _uuid(res.get("id"), "MedicationRequest.id")
        exts = _exts(res)
        prescriber = _ref_id(res.get("requester"), "Practitioner", "MedicationRequest.requester")
        if prescriber is None:
            raise _bad(f"MedicationRequest/{rid}: a prescription needs its prescriber (requester)")
        created = _datetime(res.get("authoredOn"), "MedicationRequest.authoredOn")
        steps = []
        for step, daily, dext in self._steps(res):
            changed = _one(dext, "changed-by")
            recorded = _one(dext, "recorded-at")
            steps.append(
                {
                    "start": step["start"],
                    "daily_dose_mg": daily,
                    "reason": _one(dext, "dose-change-reason"),
                    "changed_by": self.user_of(changed) if changed else None,
                    "created_at": _datetime(recorded, "recorded-at") if recorded else created,
                }
            )
        reasons = res.get("reasonReference") or []
        warnings = _one(exts, "warnings-accepted")
        stopped = _one(exts, "stopped-on")
        return {
            "id": rid,
            "patient_id": self.pid,
            "prescriber_id": prescriber,
            "episode_id": _ref_id(reasons[0], "Condition", "reasonReference") if reasons else None,
            "medicine": (res.get("medicationCodeableConcept") or {}).get("text") or "duloxetine",
            "status": _one(exts, "status", "active"),
            "off_label": bool(_one(exts, "off-label", True)),
            "indication": ((res.get("reasonCode") or [{}])[0]).get("text"),
            "override_reason": _one(exts, "override-reason"),
            "warnings_accepted": _loads(warnings, "warnings-accepted") if warnings else [],
            "dose_times": [str(t)[:5] for t in exts.get("dose-time", [])],
            "stopped_on": _date(stopped, "stopped-on") if stopped else None,
            "version": _version(res),
            "created_at": created,
            "updated_at": _updated(res, created),
            "created_by": self.created_by(f"MedicationRequest/{rid}"),
            "steps": steps,
        }

    def taper(self, res: Mapping[str, Any], medicines: Mapping[uuid.UUID, str]) -> Row:
        self.check_subject(res)
        rid = _uuid(res.get("id"), "MedicationRequest.id")
        exts = _exts(res)
        prior = _ref_id(res.get("priorPrescription"), "MedicationRequest", "priorPrescription")
        if prior is None or prior not in medicines:
            raise _bad(
                f"MedicationRequest/{rid}: a taper plan must point to a prescription of the "
                "same bundle (priorPrescription)"
            )
        steps = []
        for step, daily, dext in self._steps(res):
            entry: Row = {
                "start": step["start"].isoformat(),
                "end": step["end"].isoformat() if step["end"] else None,
                "daily_dose_mg": _dose_json(daily),
                "instructions": step["text"] or "",
            }
            extra = _one(dext, "taper-step-extra")
            if extra:
                entry.update(_loads(extra, "taper-step-extra"))
            steps.append(entry)
        created = _datetime(res.get("authoredOn"), "MedicationRequest.authoredOn")
        warnings = _one(exts, "taper-warnings")
        start = _one(exts, "taper-start")
        return {
            "id": rid,
            "patient_id": self.pid,
            "prescription_id": prior,
            "start": _date(start, "taper-start") if start else _date(steps[0]["start"], "start"),
            "weeks": int(_one(exts, "taper-weeks", 0)),
            "status": _one(exts, "status", "active"),
            "steps": steps,
            "warnings": _loads(warnings, "taper-warnings") if warnings else [],
            "note": ((res.get("note") or [{}])[0]).get("text"),
            "version": _version(res),
            "created_at": created,
            "updated_at": _updated(res, created),
            "created_by": self.created_by(f"MedicationRequest/{rid}"),
        }

    def dose_event(self, res: Mapping[str, Any]) -> Row:
        self.check_subject(res)
        rid = _uuid(res.get("id"), "MedicationAdministration.id")
        exts = _exts(res)
        status = _one(exts, "dose-status")
        if status is None:
            status = "missed" if res.get("status") == "not-done" else "taken"
        dose = ((res.get("dosage") or {}).get("dose") or {}).get("value")
        scheduled = _one(exts, "scheduled-for")
        taken = _datetime(res.get("effectiveDateTime"), "MedicationAdministration.effective")
        return {
            "id": rid,
            "patient_id": self.pid,
            "prescription_id": _ref_id(res.get("request"), "MedicationRequest", "request"),
            "status": status,
            "taken_at": taken,
            "dose_mg": _decimal(dose, "dosage.dose") if dose is not None else None,
            "scheduled_for": _date(scheduled, "scheduled-for") if scheduled else None,
            "created_at": self.recorded.get(f"MedicationAdministration/{rid}", taken),
            "created_by": self.created_by(f"MedicationAdministration/{rid}"),
        }

    def other_medicine(self, res: Mapping[str, Any]) -> Row:
        self.check_subject(res)
        rid = _uuid(res.get("id"), "MedicationStatement.id")
        period = res.get("effectivePeriod") or {}
        asserted = _datetime(res.get("dateAsserted"), "MedicationStatement.dateAsserted")
        return {
            "id": rid,
            "patient_id": self.pid,
            "name": (res.get("medicationCodeableConcept") or {}).get("text") or "medicine",
            "started_on": _date(period["start"], "effectivePeriod.start")
            if period.get("start")
            else None,
            "stopped_on": _date(period["end"], "effectivePeriod.end")
            if period.get("end")
            else None,
            "is_pain_medicine": bool(_one(_exts(res), "pain-medicine", False)),
            "created_at": asserted,
            "created_by": self.created_by(f"MedicationStatement/{rid}"),
        }

    def diary(self, res: Mapping[str, Any]) -> Row:
        self.check_subject(res)
        rid = _uuid(res.get("id"), "Observation.id")
        row: Row = {column: None for column, _, _ in DIARY_COMPONENTS}
        by_code = {code: column for column, code, _ in DIARY_COMPONENTS}
        for component in res.get("component") or []:
            coding = (component.get("code") or {}).get("coding") or [{}]
            column = by_code.get(coding[0].get("code"))
            if column is None:
                continue
            value = component.get("valueInteger")
            if value is None:
                value = (component.get("valueQuantity") or {}).get("value")
            row[column] = int(value) if value is not None else None
        pain = res.get("valueInteger")
        if pain is None or not 0 <= int(pain) <= 10:
            raise _bad(f"Observation/{rid}: the diary's average pain must be 0 to 10")
        issued = _datetime(res.get("issued"), "Observation.issued")
        row.update(
            {
                "id": rid,
                "patient_id": self.pid,
                "date": _date(res.get("effectiveDateTime"), "Observation.effectiveDateTime"),
                "pain": int(pain),
                "notes": ((res.get("note") or [{}])[0]).get("text"),
                "late": bool(_one(_exts(res), "diary-late", False)),
                "created_at": issued,
                "updated_at": _updated(res, issued),
                "created_by": self.created_by(f"Observation/{rid}"),
            }
        )
        return row

    def blood_pressure(self, res: Mapping[str, Any]) -> Row:
        self.check_subject(res)
        rid = _uuid(res.get("id"), "Observation.id")
        values: dict[str, int] = {}
        for component in res.get("component") or []:
            code = (((component.get("code") or {}).get("coding")) or [{}])[0].get("code")
            value = (component.get("valueQuantity") or {}).get("value")
            if value is not None:
                values[str(code)] = int(value)
        if SYSTOLIC[0] not in values or DIASTOLIC[0] not in values:
            raise _bad(f"Observation/{rid}: a blood pressure needs systolic and diastolic values")
        return {
            "id": rid,
            "patient_id": self.pid,
            "measured_at": _datetime(res.get("effectiveDateTime"), "Observation.effective"),
            "systolic": values[SYSTOLIC[0]],
            "diastolic": values[DIASTOLIC[0]],
            "pulse": values.get(PULSE[0]),
            "created_at": _datetime(res.get("issued"), "Observation.issued"),
            "created_by": self.created_by(f"Observation/{rid}"),
        }

    def therapy(self, res: Mapping[str, Any]) -> Row:
        self.check_subject(res)
        rid = _uuid(res.get("id"), "Procedure.id")
        exts = _exts(res)
        coding = ((res.get("code") or {}).get("coding")) or [{}]
        day = _date(res.get("performedDateTime"), "Procedure.performedDateTime")
        created = self.recorded.get(f"Procedure/{rid}")
        return {
            "id": rid,
            "patient_id": self.pid,
            "date": day,
            "kind": coding[0].get("code") or "other",
            "minutes": _one(exts, "minutes"),
            "pain_before": _one(exts, "pain-before"),
            "pain_after": _one(exts, "pain-after"),
            "programme_done": _one(exts, "programme-done"),
            "notes": ((res.get("note") or [{}])[0]).get("text"),
            "created_at": created or datetime.combine(day, time(12), tzinfo=UTC),
            "created_by": self.created_by(f"Procedure/{rid}"),
        }

    def questionnaire_response(self, res: Mapping[str, Any]) -> Row:
        self.check_subject(res)
        rid = _uuid(res.get("id"), "QuestionnaireResponse.id")
        canonical = str(res.get("questionnaire") or "")
        url, _, version = canonical.partition("|")
        code = url.rsplit("/", 1)[-1]
        if not code:
            raise _bad(f"QuestionnaireResponse/{rid}: which questionnaire was answered?")
        instrument = load_instruments().get(code)
        if instrument is None:
            raise _bad(f"QuestionnaireResponse/{rid}: PainPath has no questionnaire {code!r}")
        answers_by_link = {
            str(item.get("linkId")): (item.get("answer") or [{}])[0].get("valueInteger")
            for item in res.get("item") or []
        }
        answers = [answers_by_link.get(item.id) for item in instrument.items]
        if all(a is None for a in answers):
            answers = list(answers_by_link.values())  # linked by position (1, 2, ...)
        try:
            result = score(code, answers)
        except InvalidInput as exc:
            raise _bad(f"QuestionnaireResponse/{rid}: {exc.message}") from None
        completed = _datetime(res.get("authored"), "QuestionnaireResponse.authored")
        return {
            "id": rid,
            "patient_id": self.pid,
            "instrument": code,
            "instrument_version": version or instrument.version,
            "answers": [int(a) for a in answers if a is not None],
            "total": Decimal(str(result.total)),
            "band": result.band,
            "subscales": dict(result.subscales),
            "flags": list(result.flags),
            "completed_at": completed,
            "created_at": self.recorded.get(f"QuestionnaireResponse/{rid}", completed),
            "created_by": self.created_by(f"QuestionnaireResponse/{rid}"),
        }

    def side_effect(self, res: Mapping[str, Any]) -> Row:
        self.check_subject(res)
        rid = _uuid(res.get("id"), "AdverseEvent.id")
        exts = _exts(res)
        severity = (((res.get("severity") or {}).get("coding")) or [{}])[0].get("code")
        if severity not in ("mild", "moderate", "severe"):
            raise _bad(f"AdverseEvent/{rid}: severity must be mild, moderate or severe")
        suspects = res.get("suspectEntity") or []
        resolved = _one(exts, "resolved-on")
        return {
            "id": rid,
            "patient_id": self.pid,
            "prescription_id": _ref_id(suspects[0].get("instance"), "MedicationRequest", "suspect")
            if suspects
            else None,
            "symptom": (res.get("event") or {}).get("text") or "unspecified",
            "description": _one(exts, "side-effect-description"),
            "severity": severity,
            "started_on": _date(res.get("date"), "AdverseEvent.date"),
            "triage_level": _one(exts, "triage-level", "routine"),
            "triage_advice": _one(exts, "triage-advice", ""),
            "pathway": _one(exts, "triage-pathway"),
            "outcome": _one(exts, "side-effect-outcome"),
            "resolved_on": _date(resolved, "resolved-on") if resolved else None,
            "created_at": _datetime(res.get("recordedDate"), "AdverseEvent.recordedDate"),
            "created_by": self.created_by(f"AdverseEvent/{rid}"),
        }

    def follow_up(self, res: Mapping[str, Any]) -> Row:
        rid = _uuid(res.get("id"), "Appointment.id")
        patient_seen = False
        clinician = None
        for participant in res.get("participant") or []:
            ref = str((participant.get("actor") or {}).get("reference", ""))
            if ref == f"Patient/{self.pid}":
                patient_seen = True
            elif ref.startswith("Practitioner/"):
                clinician = _uuid(ref.split("/", 1)[1], "Appointment.participant")
        if not patient_seen:
            raise _bad(f"Appointment/{rid} is not this patient's")
        periods = res.get("requestedPeriod") or []
        due = (
            _date(periods[0].get("start"), "requestedPeriod.start")
            if periods
            else _date(res.get("start"), "Appointment.start")
        )
        return {
            "id": rid,
            "patient_id": self.pid,
            "due": due,
            "kind": res.get("description") or "follow-up",
            "status": _one(_exts(res), "status", "scheduled"),
            "clinician_id": clinician,
            "notes": res.get("comment"),
            "version": _version(res),
            "created_at": _datetime(res.get("created"), "Appointment.created"),
            "created_by": self.created_by(f"Appointment/{rid}"),
        }

    def care_plan(self, res: Mapping[str, Any]) -> Row:
        self.check_subject(res)
        settings = _one(_exts(res), "care-plan-settings")
        now_ish = _updated(res, datetime(1970, 1, 1, tzinfo=UTC))
        return {
            "id": _uuid(res.get("id"), "CarePlan.id"),
            "patient_id": self.pid,
            "settings": _loads(settings, "care-plan-settings") if settings else {},
            "version": _version(res),
            "updated_at": now_ish,
        }

    def review(self, res: Mapping[str, Any]) -> Row:
        self.check_subject(res)
        rid = _uuid(res.get("id"), "ClinicalImpression.id")
        exts = _exts(res)
        info = res.get("supportingInfo") or []
        prescription = _ref_id(info[0], "MedicationRequest", "supportingInfo") if info else None
        clinician = _ref_id(res.get("assessor"), "Practitioner", "ClinicalImpression.assessor")
        if prescription is None or clinician is None:
            raise _bad(f"ClinicalImpression/{rid}: a review needs its prescription and assessor")
        snapshot = _one(exts, "review-snapshot")
        return {
            "id": rid,
            "patient_id": self.pid,
            "prescription_id": prescription,
            "clinician_id": clinician,
            "decision": _one(exts, "review-decision", "continue"),
            "reason": res.get("summary") or "",
            "snapshot": _loads(snapshot, "review-snapshot") if snapshot else {},
            "created_at": _datetime(res.get("date"), "ClinicalImpression.date"),
            "created_by": self.created_by(f"ClinicalImpression/{rid}"),
        }

    def alert(self, res: Mapping[str, Any]) -> Row:
        self.check_subject(res)
        rid = _uuid(res.get("id"), "Flag.id")
        exts = _exts(res)
        row: Row = {
            "id": rid,
            "patient_id": self.pid,
            "rule": _one(exts, "alert-rule", "imported"),
            "cause_key": _one(exts, "alert-cause", f"imported:{rid}"),
            "urgency": _one(exts, "alert-urgency", "routine"),
            "status": _one(exts, "status", "open"),
            "summary": (res.get("code") or {}).get("text") or "",
            "source": _one(exts, "alert-source", "imported"),
            "created_at": _datetime((res.get("period") or {}).get("start"), "Flag.period.start"),
            "note": _one(exts, "alert-note"),
            "version": _version(res),
        }
        for column in ("acknowledged", "resolved"):
            at = _one(exts, f"{column}-at")
            row[f"{column}_at"] = _datetime(at, f"{column}-at") if at else None
            by = _one(exts, f"{column}-by")
            row[f"{column}_by"] = self.user_of(by) if by else None
        return row


def parse_bundle(text: str | bytes) -> PatientData:
    """A FHIR R4 Bundle (JSON) back into PainPath rows; anything that cannot be used is
    :class:`InvalidInput` naming the resource and element."""
    try:
        bundle = Bundle.model_validate_json(text)
    except ValidationError as exc:
        errors = exc.errors()
        where = ".".join(str(p) for p in errors[0]["loc"]) if errors else "bundle"
        message = errors[0]["msg"] if errors else str(exc)
        raise _bad(f"not a valid FHIR R4 Bundle: {where or 'bundle'}: {message}") from None
    except ValueError as exc:
        raise _bad(f"not a valid FHIR R4 Bundle: {exc}") from None
    raw = json.loads(bundle.model_dump_json(), parse_float=Decimal)
    resources = [e["resource"] for e in raw.get("entry") or [] if e.get("resource")]
    return _Importer(resources).run()
