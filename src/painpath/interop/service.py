"""Data leaving and entering PainPath: the appointment report, FHIR R4 export and import,
the calendar, the patient's data download and erasure, Yellow Card summaries and the
caseload audit file. Every read is authorised and audited (action ``export`` for
anything that leaves PainPath); command-line use is audited as the system."""

from __future__ import annotations

import base64
import io
import json
import os
import secrets
import uuid
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from painpath.audit import service as audit
from painpath.auth.domain import SYSTEM_ACTOR, Actor
from painpath.care import service as care_service
from painpath.care.models import Patient
from painpath.care.service import authorize_patient, patient_today, record_access
from painpath.config import Settings
from painpath.interop import report as rendering
from painpath.interop import repository
from painpath.interop.domain.exports import (
    OUTCOME_COLUMNS,
    csv_text,
    diary_csv,
    doses_csv,
    pseudonym,
    readme,
)
from painpath.interop.domain.fhir import PATIENT_AUTHOR, build_bundle, parse_bundle
from painpath.interop.domain.ics import build_calendar
from painpath.interop.domain.records import PatientData, Row
from painpath.interop.domain.report import build_report, current_prescription
from painpath.interop.domain.yellow_card import yellow_card as build_yellow_card
from painpath.kit.errors import Forbidden, InvalidInput, NotFound
from painpath.kit.records import Ctx
from painpath.response import charts
from painpath.response import service as response_service

FHIR = "fhir-bundle"
CALENDAR = "calendar"
REPORT = "appointment-report"
DATA_EXPORT = "patient-data-export"
ERASURE = "patient-account"
YELLOW_CARD = "yellow-card"
OUTCOMES = "caseload-outcomes"
OUTCOMES_PAGE = response_service.BATCH_PATIENTS  # patients per caseload page in the export
ERASE_PHRASE = "erase my account"
KEY_ENV = "PAINPATH_PSEUDONYM_KEY"
KEY_FILE = "pseudonym.key"


def _audit_system(
    db: Session, patient: Patient, ctx: Ctx, *, resource_type: str, action: str, reason: str
) -> None:
    record_access(
        db, SYSTEM_ACTOR, patient, ctx, resource_type=resource_type, action=action, reason=reason
    )


def _patient_for_cli(db: Session, patient_id: uuid.UUID) -> Patient:
    patient = repository.patient(db, patient_id)
    if patient is None:
        raise InvalidInput(f"there is no patient with id {patient_id}", field="patient")
    return patient


# ------------------------------------------------------------------------ FHIR


def _bundle(db: Session, patient: Patient, ctx: Ctx) -> tuple[str, int]:
    data = repository.load_patient_data(db, patient)
    text = build_bundle(data, timestamp=ctx.now)
    return text, len(json.loads(text).get("entry") or [])


def everything(db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID) -> str:
    """``Patient/$everything``: the FHIR R4 Bundle of one patient (JSON text)."""
    patient = authorize_patient(db, actor, patient_id, ctx, resource_type=FHIR, action="export")
    text, count = _bundle(db, patient, ctx)
    record_access(
        db, actor, patient, ctx, resource_type=FHIR, action="export", reason=f"{count} resources"
    )
    return text


def export_fhir(db: Session, ctx: Ctx, patient_id: uuid.UUID) -> tuple[str, int]:
    """The Bundle for the command line (an operator's export; audited as the system)."""
    patient = _patient_for_cli(db, patient_id)
    text, count = _bundle(db, patient, ctx)
    _audit_system(
        db,
        patient,
        ctx,
        resource_type=FHIR,
        action="export",
        reason=f"command line: {count} resources",
    )
    return text, count


def import_fhir(db: Session, ctx: Ctx, text: str | bytes) -> dict[str, Any]:
    """Read a Bundle into the database, updating records with the same id (so the same
    bundle twice changes nothing) and creating the patient if needed (without an
    account). Clinicians the records point to and that this database does not know are
    created with disabled accounts. Returns counts."""
    data = parse_bundle(text)
    for clinician in data.clinicians:
        repository.ensure_clinician(db, clinician, ctx.now)
    existing = repository.patient(db, data.patient["id"])
    values = dict(data.patient)
    values["user_id"] = existing.user_id if existing else None
    if existing is None:
        values["created_at"] = ctx.now
    patient = repository.upsert_patient(db, values)
    users = _referenced_users(data)
    known = repository.existing_user_ids(db, users - {PATIENT_AUTHOR})

    def user(value: uuid.UUID | None) -> uuid.UUID | None:
        if value == PATIENT_AUTHOR:
            return patient.user_id
        return value if value in known else None

    created = updated = 0

    def put(kind: str, row: Row) -> None:
        nonlocal created, updated
        for key in ("created_by", "changed_by", "acknowledged_by", "resolved_by"):
            if key in row:
                row[key] = user(row[key])
        try:
            fresh = repository.upsert(db, kind, patient.id, row)
        except repository.ForeignRecord as exc:
            raise InvalidInput(
                f"the record {exc.record_id} ({kind}) belongs to another patient here: "
                "nothing was imported",
                field="bundle",
            ) from None
        created, updated = created + fresh, updated + (not fresh)

    for row in data.episodes:
        put("episodes", row)
    for rx in data.prescriptions:
        steps = rx.pop("steps")
        put("prescriptions", rx)
        for step in steps:
            step["changed_by"] = user(step.get("changed_by"))
        repository.replace_steps(db, rx["id"], steps)
    for kind, rows in (
        ("taper_plans", data.taper_plans),
        ("dose_events", data.dose_events),
        ("other_medicines", data.other_medicines),
        ("therapy_sessions", data.therapy_sessions),
        ("side_effects", data.side_effects),
        ("follow_ups", data.follow_ups),
        ("reviews", data.reviews),
        ("blood_pressure", data.blood_pressure),
    ):
        for row in rows:
            put(kind, row)
    for row in data.diary:
        clash = repository.diary_on(db, patient.id, row)
        if clash is not None:
            raise InvalidInput(
                f"the patient already has another diary entry ({clash}) for "
                f"{row['date'].isoformat()}: nothing was imported",
                field="bundle",
            )
        put("diary", row)
    for row in data.questionnaires:  # scored again from the answers by the parser
        put("questionnaires", row)
    for row in data.alerts:
        clash = repository.alert_with_cause(db, patient.id, row)
        if clash is not None:
            raise InvalidInput(
                f"the patient already has an alert ({clash}) for the same cause: nothing was "
                "imported",
                field="bundle",
            )
        put("alerts", row)
    if data.care_plan is not None:
        repository.upsert_care_plan(db, patient.id, data.care_plan)
    counts = data.counts()
    resources = sum(counts.values())
    _audit_system(
        db,
        patient,
        ctx,
        resource_type=FHIR,
        action="import",
        reason=f"command line: {created} created, {updated} updated",
    )
    return {
        "patient_id": str(patient.id),
        "created": created,
        "updated": updated,
        "records": resources,
        "patient_created": existing is None,
    }


def _referenced_users(data: PatientData) -> set[uuid.UUID]:
    users: set[uuid.UUID] = set()
    groups = [
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
        data.alerts,
    ]
    for group in groups:
        for row in group:
            for key in ("created_by", "acknowledged_by", "resolved_by"):
                if row.get(key):
                    users.add(row[key])
            for step in row.get("steps") or []:
                if step.get("changed_by"):
                    users.add(step["changed_by"])
    return users


# ------------------------------------------------------------------------ calendar


def _calendar(db: Session, patient: Patient, ctx: Ctx) -> bytes:
    data = repository.load_patient_data(db, patient)
    return build_calendar(
        timezone=patient.timezone,
        now=ctx.now,
        today=patient_today(patient, ctx),
        follow_ups=data.follow_ups,
        prescriptions=data.prescriptions,
        taper_plans=data.taper_plans,
    )


def calendar(db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID) -> bytes:
    """Follow-ups, dose times and taper steps as an .ics file."""
    patient = authorize_patient(db, actor, patient_id, ctx, resource_type=CALENDAR, action="export")
    body = _calendar(db, patient, ctx)
    record_access(db, actor, patient, ctx, resource_type=CALENDAR, action="export")
    return body


def export_calendar(db: Session, ctx: Ctx, patient_id: uuid.UUID) -> tuple[bytes, int]:
    patient = _patient_for_cli(db, patient_id)
    body = _calendar(db, patient, ctx)
    events = body.count(b"BEGIN:VEVENT")
    _audit_system(
        db,
        patient,
        ctx,
        resource_type=CALENDAR,
        action="export",
        reason=f"command line: {events} events",
    )
    return body, events


# ------------------------------------------------------------------------ the report


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


def _response_chart(data: PatientData, result: dict[str, Any]) -> tuple[str | None, str | None]:
    windows = result.get("windows") or {}
    course = result.get("course") or {}
    base = windows.get("baseline")
    if not base or not course.get("start"):
        return None, None
    treat = windows.get("treatment")
    first = date.fromisoformat(base["from"])
    last = date.fromisoformat(treat["to"]) if treat else date.fromisoformat(result["today"])
    chart_data = charts.ResponseChartData(
        diary=[(d["date"], float(d["pain"])) for d in data.diary if first <= d["date"] <= last],
        start=date.fromisoformat(course["start"]),
        baseline=(first, date.fromisoformat(base["to"])),
        baseline_mean=result.get("baseline_mean") if result.get("baseline_days") else None,
        assessment=(date.fromisoformat(treat["from"]), date.fromisoformat(treat["to"]))
        if treat
        else None,
        assessment_mean=result.get("treatment_mean") if result.get("treatment_days") else None,
        target_dose_reached=date.fromisoformat(course["target_dose_reached"])
        if course.get("target_dose_reached")
        else None,
    )
    return _data_uri(charts.response_chart(chart_data)), charts.response_chart_alt(chart_data)


def _report(db: Session, patient: Patient, ctx: Ctx) -> dict[str, Any]:
    data = repository.load_patient_data(db, patient)
    today = patient_today(patient, ctx)
    rx = current_prescription(data.prescriptions)
    result: dict[str, Any] | None = None
    chart = alt = None
    if rx is not None:
        try:
            result = response_service.course_result(db, patient.id, rx["id"], today)
        except NotFound:
            result = None
        if result is not None:
            chart, alt = _response_chart(data, result)
    return build_report(data, today=today, response=result, chart_data_uri=chart, chart_alt=alt)


def report(db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID) -> dict[str, Any]:
    """The appointment report's content (the print page), for the patient themself and
    the clinicians in their care team."""
    patient = authorize_patient(db, actor, patient_id, ctx, resource_type=REPORT, action="read")
    content = _report(db, patient, ctx)
    record_access(db, actor, patient, ctx, resource_type=REPORT, action="read")
    return content


def report_pdf(db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID) -> bytes:
    patient = authorize_patient(db, actor, patient_id, ctx, resource_type=REPORT, action="export")
    pdf = rendering.render_pdf({"report": _report(db, patient, ctx)})
    record_access(db, actor, patient, ctx, resource_type=REPORT, action="export", reason="pdf")
    return pdf


def export_report_pdf(db: Session, ctx: Ctx, patient_id: uuid.UUID) -> bytes:
    patient = _patient_for_cli(db, patient_id)
    pdf = rendering.render_pdf({"report": _report(db, patient, ctx)})
    _audit_system(
        db, patient, ctx, resource_type=REPORT, action="export", reason="command line: pdf"
    )
    return pdf


# ------------------------------------------------------------------------ Yellow Card


def yellow_card(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID, report_id: uuid.UUID
) -> dict[str, Any]:
    """A Yellow Card summary of one side-effect report of the patient."""
    patient = authorize_patient(
        db,
        actor,
        patient_id,
        ctx,
        resource_type=YELLOW_CARD,
        action="read",
        resource_id=str(report_id),
    )
    data = repository.load_patient_data(db, patient)
    found = next((r for r in data.side_effects if r["id"] == report_id), None)
    if found is None:
        raise NotFound("no such side-effect report")
    rx_id = found.get("prescription_id")
    suspected = next((p for p in data.prescriptions if p["id"] == rx_id), None)
    if suspected is None:
        suspected = current_prescription(data.prescriptions)
    others = [p for p in data.prescriptions if suspected is None or p["id"] != suspected["id"]]
    summary = build_yellow_card(
        found,
        patient=data.patient,
        prescription=suspected,
        other_prescriptions=[p for p in others if p["status"] != "stopped"],
        other_medicines=data.other_medicines,
        reporter_role=actor.role.value,
        today=patient_today(patient, ctx),
    )
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=YELLOW_CARD,
        action="read",
        resource_id=str(report_id),
    )
    return summary


# ------------------------------------------------------------------------ caseload CSV


def caseload_outcomes_csv(db: Session, actor: Actor, ctx: Ctx) -> str:
    """The clinician's own caseload as CSV for clinical audit: figures only, no names
    and no free text (patients are identified by their PainPath id)."""
    if not actor.is_clinician or actor.clinician_id is None:
        audit.record(
            db,
            actor,
            action="export",
            resource_type=OUTCOMES,
            outcome="denied",
            request_id=ctx.request_id,
            now=ctx.now,
            reason="not a clinician",
        )
        raise Forbidden("only clinicians can export their caseload's outcomes")
    rows: list[list[Any]] = []
    page = 1
    while True:
        # One audit event for the whole export (below), none per page; the pages of 400
        # patients are also the chunks "does it help?" reads together.
        caseload = care_service.caseload_page_for_export(
            db, actor, ctx, page=page, per_page=OUTCOMES_PAGE
        )
        ids = [entry.patient_id for entry in caseload.entries]
        courses: list[tuple[uuid.UUID, uuid.UUID]] = []
        for pid, prescriptions in repository.course_choices(db, ids).items():
            rx = current_prescription(prescriptions)
            if rx is not None:
                courses.append((pid, rx["id"]))
        results = response_service.course_results(db, courses, now=ctx.now)
        categories = {pid: result["category"] for (pid, _), result in results.items()}
        for entry in caseload.entries:
            category = categories.get(entry.patient_id)
            adh = entry.adherence
            follow = entry.next_follow_up
            rows.append(
                [
                    entry.patient_id,
                    entry.medicine,
                    entry.prescription_status,
                    (entry.daily_dose or "").removesuffix(" mg") or None,
                    entry.days_on_treatment,
                    entry.baseline_pain,
                    entry.recent_pain,
                    entry.pain_change_percent,
                    category,
                    adh.taken_days if adh else None,
                    adh.planned_days if adh else None,
                    adh.percent if adh else None,
                    entry.open_alerts,
                    entry.worst_urgency,
                    follow.due.isoformat() if follow else None,
                    follow.overdue if follow else None,
                    entry.questionnaires_28_days,
                ]
            )
        if page >= caseload.pages:
            break
        page += 1
    audit.record(
        db,
        actor,
        action="export",
        resource_type=OUTCOMES,
        request_id=ctx.request_id,
        now=ctx.now,
        reason=f"{len(rows)} patients",
    )
    return csv_text(OUTCOME_COLUMNS, rows)


# ------------------------------------------------------------------------ the patient's rights


def _own_patient(db: Session, actor: Actor, ctx: Ctx, resource_type: str, action: str) -> Patient:
    patient = repository.patient_of_user(db, actor.user_id) if actor.is_patient else None
    if patient is None:
        audit.record(
            db,
            actor,
            action=action,
            resource_type=resource_type,
            outcome="denied",
            request_id=ctx.request_id,
            now=ctx.now,
            reason="only a patient can do this for their own record",
        )
        raise Forbidden("only a patient can download or erase their own data")
    return patient


def export_my_data(db: Session, actor: Actor, ctx: Ctx) -> tuple[bytes, str]:
    """The patient's own data: a zip with the FHIR bundle, the diary and the doses as
    CSV and a short read-me; recorded in the audit trail. (bytes, file name)"""
    patient = _own_patient(db, actor, ctx, DATA_EXPORT, "export")
    data = repository.load_patient_data(db, patient)
    bundle = build_bundle(data, timestamp=ctx.now)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("fhir-bundle.json", bundle)
        archive.writestr("diary.csv", diary_csv(data.diary))
        archive.writestr("doses.csv", doses_csv(data.dose_events, patient.timezone))
        tables = repository.patient_tables(db, patient.id)
        archive.writestr(
            "records.json", json.dumps(tables, indent=1, default=str, ensure_ascii=False)
        )
        archive.writestr("README.txt", readme(patient.timezone, ctx.now))
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=DATA_EXPORT,
        action="export",
        reason=f"zip: {len(data.diary)} diary entries, {len(data.dose_events)} doses",
    )
    name = f"painpath-data-{patient_today(patient, ctx).isoformat()}.zip"
    return buffer.getvalue(), name


def pseudonym_key(settings: Settings) -> bytes:
    """The secret behind audit pseudonyms: ``PAINPATH_PSEUDONYM_KEY``, else a key file
    made once in the data folder (readable by the owner only)."""
    configured = os.environ.get(KEY_ENV)
    if configured:
        return configured.encode()
    path = Path(settings.data_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()


def erase_my_account(
    db: Session, actor: Actor, ctx: Ctx, *, confirm: str, settings: Settings
) -> dict[str, Any]:
    """Erase the patient's account and clinical records (UK GDPR Art. 17 where lawful;
    see docs/gdpr.md). The audit trail keeps its events with a pseudonym (HMAC of the
    patient id) instead of the patient's and account's ids, re-hashed so the chain still
    verifies, and one last event records the erasure."""
    patient = _own_patient(db, actor, ctx, ERASURE, "delete")
    if not settings.patient_erasure:
        raise Forbidden(
            "your record here is part of your medical record, which your care provider must "
            "keep: ask them about erasing it"
        )
    if confirm.strip().lower() != ERASE_PHRASE:
        raise InvalidInput(f'to erase your account, type "{ERASE_PHRASE}" exactly', field="confirm")
    key_name = pseudonym(pseudonym_key(settings), patient.id)
    counts = repository.load_patient_data(db, patient).counts()
    user_id = patient.user_id
    patient_id = patient.id
    repository.erase_patient(db, patient)
    changed, first, first_sealed = repository.pseudonymise_audit(db, patient_id, user_id, key_name)
    if first_sealed is not None:
        audit.rehash_from(db, first_sealed)
    audit.record(
        db,
        None,
        action="delete",
        resource_type=ERASURE,
        resource_id=key_name[:64],
        request_id=ctx.request_id,
        now=ctx.now,
        reason=(
            f"erased at the patient's request; pseudonym {key_name}; {changed} audit events "
            f"pseudonymised" + (f" and the chain re-hashed from event {first}" if first else "")
        ),
    )
    return {
        "erased": True,
        "pseudonym": key_name,
        "records_deleted": {k: v for k, v in counts.items() if v},
        "audit_events_pseudonymised": changed,
    }
