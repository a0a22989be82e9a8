"""A Yellow Card summary of one side-effect report (pure).

The MHRA Yellow Card scheme (yellowcard.mhra.gov.uk) collects reports of suspected
adverse drug reactions from patients and healthcare professionals. Its forms ask, in
general terms, about the suspected medicine, the reaction, the dates, the outcome,
other medicines taken and who is reporting. This summary fills those general
categories with what PainPath holds, ready to copy into the form. The field names
here are PainPath's own, not the MHRA's; nothing is invented: what we do not record
(for example sex, weight, batch numbers, test results) is listed as "not recorded"
for the reporter to add on the form itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from painpath.care.domain import Step, dose_on, first_dose_day
from painpath.interop.domain.records import Row
from painpath.kit.errors import InvalidInput
from painpath.medication.domain.prescribing import find_medicine
from painpath.medication.domain.schedule import format_mg

SUBMIT_URL = "https://yellowcard.mhra.gov.uk"
NOT_RECORDED = (
    "the patient's sex, height and weight",
    "the brand, batch number and manufacturer of the medicine",
    "test results and other relevant medical history",
    "the reporter's contact details",
)
SCHEME_NOTE = (
    "Grouped under the general categories the MHRA Yellow Card scheme asks about. The "
    "names of these fields are PainPath's, not the MHRA's; submit on the Yellow Card "
    "website or app, where the form asks for more."
)


def _route(medicine: str) -> str | None:
    try:
        med = find_medicine(medicine)
    except InvalidInput:
        return None
    if not med.forms:
        return None
    form = med.forms[0].form
    return f"by mouth ({form})" if "capsule" in form or "tablet" in form else form


def yellow_card(
    report: Row,
    *,
    patient: Row,
    prescription: Row | None,
    other_prescriptions: Sequence[Row],
    other_medicines: Sequence[Row],
    reporter_role: str,
    today: date,
) -> dict[str, Any]:
    """The summary; ``reporter_role`` is the role of whoever makes it."""
    suspected: dict[str, Any] | None = None
    if prescription is not None:
        steps = [
            Step(s["start"], Decimal(s["daily_dose_mg"])) for s in prescription.get("steps") or []
        ]
        dose = dose_on(steps, report["started_on"])
        first = first_dose_day(steps)
        suspected = {
            "name": prescription["medicine"],
            "daily_dose_when_reaction_started": f"{format_mg(dose)} mg a day" if dose else None,
            "route": _route(prescription["medicine"]),
            "started_on": first.isoformat() if first else None,
            "stopped_on": prescription["stopped_on"].isoformat()
            if prescription.get("stopped_on")
            else None,
            "indication": prescription.get("indication"),
            "off_label": bool(prescription.get("off_label")),
        }
    born = patient.get("date_of_birth")
    age = None
    if born is not None:
        on = report["started_on"]
        age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    others = [
        {
            "name": rx["medicine"],
            "started_on": min(s["start"] for s in rx["steps"]).isoformat()
            if rx.get("steps")
            else None,
            "stopped_on": rx["stopped_on"].isoformat() if rx.get("stopped_on") else None,
        }
        for rx in other_prescriptions
    ] + [
        {
            "name": m["name"],
            "started_on": m["started_on"].isoformat() if m.get("started_on") else None,
            "stopped_on": m["stopped_on"].isoformat() if m.get("stopped_on") else None,
        }
        for m in other_medicines
        if m.get("stopped_on") is None or m["stopped_on"] >= report["started_on"]
    ]
    resolved = report.get("resolved_on")
    return {
        "report_id": str(report["id"]),
        "scheme": "MHRA Yellow Card",
        "submit_at": SUBMIT_URL,
        "note": SCHEME_NOTE,
        "prepared_on": today.isoformat(),
        "patient": {
            "initials": "".join(part[0].upper() for part in str(patient["name"]).split() if part),
            "age_when_reaction_started": age,
        },
        "suspected_medicine": suspected,
        "reaction": {
            "what_happened": report["symptom"],
            "description": report.get("description"),
            "severity": report["severity"],
            "started_on": report["started_on"].isoformat(),
            "triage": report["triage_level"],
            "advice_given": report["triage_advice"],
        },
        "outcome": {
            "status": report.get("outcome") or ("recovered" if resolved else "not recorded"),
            "resolved_on": resolved.isoformat() if resolved else None,
        },
        "other_medicines": others,
        "reporter": {
            "type": "healthcare professional" if reporter_role == "clinician" else "patient",
        },
        "not_recorded": list(NOT_RECORDED),
    }
