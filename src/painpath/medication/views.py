"""HTML routes of the medication area: the patient's "My medicine" page and the
clinician's prescribing and medicine pages for one patient.

Forms are validated here (never a JSON 422 for a form): a problem re-renders the page
with an error summary that names the field.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.responses import Response

from painpath.kit.errors import Conflict, InvalidInput, NotFound, PreconditionFailed, Problem
from painpath.kit.records import etag
from painpath.kit.routes import whole_number
from painpath.kit.security import StepUpRequired
from painpath.kit.web import register_nav, render, transaction
from painpath.medication import service
from painpath.medication.domain.schedule import format_mg
from painpath.medication.schemas import (
    BloodPressureCreate,
    DoseChangeDecision,
    DoseChangeRequestCreate,
    DoseEventCreate,
    OtherMedicineCreate,
    PrescriptionCreate,
    PrescriptionUpdate,
    ScheduleStepIn,
    SideEffectReportCreate,
    TaperPlanCreate,
    TaperPlanUpdate,
)

router = APIRouter(include_in_schema=False)

register_nav("patient", "My medicine", "/medicine", 20)

FormText = Annotated[str, Form()]
STEP_ROWS = 3
# Plain-English names for the side effects in the knowledge file (display only: the
# catalogue name is what is sent and triaged).
PLAIN_SYMPTOMS = {
    "abdominal pain": "Tummy pain",
    "abnormal dreams": "Strange or vivid dreams",
    "blood pressure increase": "Higher blood pressure",
    "blurred vision": "Blurred eyesight",
    "bruxism": "Grinding or clenching your teeth",
    "decreased appetite": "Not feeling hungry",
    "disturbance in attention": "Trouble concentrating",
    "dysgeusia": "Things taste different",
    "dyspepsia": "Indigestion or heartburn",
    "dysuria": "Pain when passing urine (peeing)",
    "ejaculation disorder": "Problems with ejaculation",
    "erectile dysfunction": "Problems getting an erection",
    "fatigue": "Feeling very tired",
    "flushing": "Hot flushes or a red face",
    "hyperhidrosis": "Sweating a lot",
    "insomnia": "Trouble sleeping",
    "lethargy": "No energy",
    "libido decreased": "Less interest in sex",
    "nausea": "Feeling sick (nausea)",
    "orgasm abnormal": "Changes in orgasm",
    "palpitations": "Heart pounding or racing",
    "paraesthesia": "Pins and needles or tingling",
    "somnolence": "Feeling sleepy",
    "tremor": "Shaking or trembling",
    "urinary retention or hesitancy": "Difficulty passing urine (peeing)",
    "weight decrease": "Losing weight",
}
SEVERITY_LABELS = (
    ("mild", "Mild", "I notice it but can get on with my day"),
    ("moderate", "Moderate", "it gets in the way of what I do"),
    ("severe", "Severe", "I cannot do my normal things"),
)


def _helpers(timezone: str) -> dict[str, Any]:
    """Template helpers: doses without trailing zeros, times on the patient's clock."""
    zone = ZoneInfo(timezone)

    def local_time(when: datetime, fmt: str = "%H:%M") -> str:
        return when.astimezone(zone).strftime(fmt)

    return {"mg": format_mg, "local_time": local_time}


class FormError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def _problems(exc: Exception) -> list[Problem]:
    if isinstance(exc, FormError):
        return exc.problems
    if isinstance(exc, InvalidInput):
        return exc.problems or [Problem("", exc.message)]
    if isinstance(exc, ValidationError):
        return [
            Problem(".".join(str(p) for p in e["loc"]), str(e["msg"]).removeprefix("Value error, "))
            for e in exc.errors()
        ]
    return [Problem("", getattr(exc, "message", str(exc)))]


def _date(text: str, field: str, label: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise FormError([Problem(field, f"Enter {label} as a date")]) from None


def _dose(text: str, field: str, label: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise FormError([Problem(field, f"Enter {label} as a number of mg")]) from None
    if not value.is_finite() or value < 0:
        raise FormError([Problem(field, f"Enter {label} as a number of mg")])
    return value


def _uuid(text: str, field: str = "id") -> uuid.UUID:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        raise FormError([Problem(field, "The form is out of date: reload the page")]) from None


def _attempt(request: Request, csrf_token: str, action: Callable[[Any], Any]) -> tuple[Any, Any]:
    """Run ``action(tx)`` in its own transaction; (result, None) or (None, the problems)."""
    try:
        with transaction(request, csrf_token=csrf_token) as tx:
            return action(tx), None
    except (FormError, InvalidInput, ValidationError, Conflict, PreconditionFailed) as exc:
        return None, _problems(exc)


# ====================================================================== patient


def _patient_page(request: Request, csrf_token: str | None = None, **extra: Any) -> Response:
    with transaction(request, csrf_token=csrf_token) as tx:
        if not tx.actor.is_patient or tx.actor.patient_id is None:
            return RedirectResponse("/", status_code=303)
        context = service.patient_medicine_page(tx.db, tx.actor, tx.ctx, tx.actor.patient_id)
        context.update(
            {
                "form_ids": {k: uuid.uuid4() for k in ("report", "request", "stopped", "bp")},
                "dose_form_ids": {d["prescription_id"]: uuid.uuid4() for d in context["doses"]},
                "severities": SEVERITY_LABELS,
                "symptom_options": sorted(
                    ((PLAIN_SYMPTOMS.get(n, n.capitalize()), n) for n in context["symptoms"]),
                    key=lambda pair: pair[0].casefold(),
                ),
                "result": None,
                "errors": [],
                "values": {},
                **_helpers(context["patient"].timezone),
            }
        )
        context.update(extra)
        status = 422 if extra.get("errors") else 200
        return render(
            request, "medication/patient.html", context, actor=tx.actor, status_code=status
        )


@router.get("/medicine")
def patient_medicine(request: Request, dose: str = "") -> Response:
    """My medicine; ``?dose=ID`` shows what to do about a dose just logged on Today."""
    try:
        event_id = uuid.UUID(dose) if dose else None
    except ValueError:
        event_id = None
    if event_id is None:
        return _patient_page(request)
    try:
        with transaction(request) as tx:
            if not tx.actor.is_patient or tx.actor.patient_id is None:
                return RedirectResponse("/", status_code=303)
            event = service.get_dose_event(tx.db, tx.actor, tx.ctx, tx.actor.patient_id, event_id)
    except NotFound:
        return _patient_page(request)
    return _patient_page(request, result={"kind": "dose", "event": event})


@router.post("/medicine/doses")
def log_dose(
    request: Request,
    id: FormText = "",
    prescription_id: FormText = "",
    status: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    def act(tx: Any) -> Any:
        if status not in ("taken", "missed", "late"):
            raise FormError([Problem("status", "Choose taken, missed or late")])
        data = DoseEventCreate.model_validate(
            {
                "id": _uuid(id),
                "status": status,
                "taken_at": tx.now,
                "prescription_id": (
                    _uuid(prescription_id, "prescription_id") if prescription_id else None
                ),
            }
        )
        event, _ = service.create_dose_event(tx.db, tx.actor, tx.ctx, _patient_id(tx), data)
        return event

    event, errors = _attempt(request, csrf_token, act)
    result = {"kind": "dose", "event": event} if event else None
    return _patient_page(request, csrf_token, result=result, errors=errors or [])


@router.post("/medicine/side-effects")
def report_side_effect(
    request: Request,
    id: FormText = "",
    symptom_choice: FormText = "",
    symptom_other: FormText = "",
    severity: FormText = "",
    started_on: FormText = "",
    description: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    values = {
        "symptom_choice": symptom_choice,
        "symptom_other": symptom_other,
        "severity": severity,
        "started_on": started_on,
        "description": description,
    }

    def act(tx: Any) -> Any:
        problems: list[Problem] = []
        symptom = symptom_other.strip() if symptom_choice in ("", "other") else symptom_choice
        if not symptom:
            problems.append(Problem("symptom_choice", "Choose a symptom or describe it"))
        elif len(symptom) > 200:
            problems.append(
                Problem("symptom_other", "Describe the symptom in 200 characters or less")
            )
        if severity not in ("mild", "moderate", "severe"):
            problems.append(Problem("severity", "Choose how bad it is"))
        if len(description) > 2000:
            problems.append(Problem("description", "Write 2000 characters or less"))
        start = None
        try:
            start = _date(started_on, "started_on", "the day it started")
        except FormError as exc:
            problems += exc.problems
        if problems or start is None:
            raise FormError(problems)
        data = SideEffectReportCreate.model_validate(
            {
                "id": _uuid(id),
                "symptom": symptom,
                "severity": severity,
                "started_on": start,
                "description": description.strip() or None,
            }
        )
        report, _ = service.create_side_effect_report(
            tx.db, tx.actor, tx.ctx, _patient_id(tx), data
        )
        return report

    report, errors = _attempt(request, csrf_token, act)
    result = {"kind": "side-effect", "report": report} if report else None
    return _patient_page(
        request, csrf_token, result=result, errors=errors or [], values={} if report else values
    )


BP_FIELDS = {
    "systolic": ("the upper number (systolic)", 50, 300),
    "diastolic": ("the lower number (diastolic)", 30, 200),
    "pulse": ("your pulse", 20, 250),
}


@router.post("/medicine/blood-pressure")
def record_blood_pressure(
    request: Request,
    id: FormText = "",
    systolic: FormText = "",
    diastolic: FormText = "",
    pulse: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    values = {"systolic": systolic[:10], "diastolic": diastolic[:10], "pulse": pulse[:10]}

    def act(tx: Any) -> Any:
        numbers: dict[str, int | None] = {}
        problems: list[Problem] = []
        for field, (what, low, high) in BP_FIELDS.items():
            number, usable = whole_number(values[field], low, high, required=field != "pulse")
            if not usable:
                problems.append(
                    Problem(field, f"Enter {what} as a whole number from {low} to {high}")
                )
            numbers[field] = number
        if problems:
            raise FormError(problems)
        data = BloodPressureCreate(
            id=_uuid(id),
            measured_at=tx.now,
            systolic=numbers["systolic"] or 0,
            diastolic=numbers["diastolic"] or 0,
            pulse=numbers["pulse"],
        )
        reading, _ = service.create_blood_pressure(tx.db, tx.actor, tx.ctx, _patient_id(tx), data)
        return reading

    reading, errors = _attempt(request, csrf_token, act)
    result = {"kind": "blood-pressure", "reading": reading} if reading else None
    return _patient_page(
        request, csrf_token, result=result, errors=errors or [], values={} if reading else values
    )


@router.post("/medicine/requests")
def request_change(
    request: Request,
    id: FormText = "",
    prescription_id: FormText = "",
    requested_dose_mg: FormText = "",
    reason: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    values = {"requested_dose_mg": requested_dose_mg, "reason": reason}

    def act(tx: Any) -> Any:
        problems: list[Problem] = []
        dose = None
        if requested_dose_mg.strip():
            try:
                dose = _dose(requested_dose_mg, "requested_dose_mg", "the dose you would like")
            except FormError as exc:
                problems += exc.problems
        if not reason.strip():
            problems.append(Problem("reason", "Tell your care team why you would like a change"))
        elif len(reason) > 2000:
            problems.append(Problem("reason", "Write 2000 characters or less"))
        if problems:
            raise FormError(problems)
        data = DoseChangeRequestCreate(
            id=_uuid(id),
            prescription_id=_uuid(prescription_id, "prescription_id"),
            requested_dose_mg=dose,
            reason=reason.strip(),
        )
        made, _ = service.create_dose_change_request(tx.db, tx.actor, tx.ctx, _patient_id(tx), data)
        return made

    made, errors = _attempt(request, csrf_token, act)
    result = {"kind": "request", "request": made} if made else None
    return _patient_page(
        request, csrf_token, result=result, errors=errors or [], values={} if made else values
    )


@router.post("/medicine/stopped")
def stopped_on_my_own(
    request: Request,
    id: FormText = "",
    prescription_id: FormText = "",
    reason: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    def act(tx: Any) -> Any:
        text = reason.strip() or "No reason given"
        if len(text) > 2000:
            raise FormError([Problem("stopped_reason", "Write 2000 characters or less")])
        data = DoseChangeRequestCreate(
            id=_uuid(id),
            prescription_id=_uuid(prescription_id, "prescription_id"),
            kind="stopped-on-my-own",
            reason=text,
        )
        made, _ = service.create_dose_change_request(tx.db, tx.actor, tx.ctx, _patient_id(tx), data)
        return made

    made, errors = _attempt(request, csrf_token, act)
    result = {"kind": "stopped", "request": made} if made else None
    return _patient_page(request, csrf_token, result=result, errors=errors or [])


def _patient_id(tx: Any) -> uuid.UUID:
    if not tx.actor.is_patient or tx.actor.patient_id is None:
        raise FormError([Problem("", "Only patients use this form")])
    pid: uuid.UUID = tx.actor.patient_id
    return pid


# ==================================================================== clinician


def _prescribe_page(
    request: Request,
    patient_id: uuid.UUID,
    *,
    csrf_token: str | None = None,
    values: dict[str, Any] | None = None,
    errors: list[Problem] | None = None,
    blocked: list[Any] | None = None,
) -> Response:
    with transaction(request, csrf_token=csrf_token) as tx:
        if not tx.actor.is_clinician:
            return RedirectResponse("/", status_code=303)
        context = service.prescribing_context(tx.db, tx.actor, tx.ctx, patient_id)
        form = values or _default_form(context)
        steps = _form_steps(form, strict=False)
        warnings: list[Any] = list(blocked or [])
        if not warnings and steps:
            try:
                warnings = service.preview_prescription(
                    tx.db,
                    tx.actor,
                    tx.ctx,
                    patient_id,
                    form["medicine"],
                    steps,
                    form.get("indication") or None,
                )
            except InvalidInput as exc:
                errors = [*(errors or []), *_problems(exc)]
        guidance = [w for w in warnings if w.code in ("off-label", "guideline")]
        checks = [w for w in warnings if w.code not in ("off-label", "guideline")]
        context.update(
            {
                "form": form,
                "rows": STEP_ROWS,
                "errors": errors or [],
                "guidance": guidance,
                "checks": checks,
                "needs_override": any(w.blocking and w.overridable for w in checks),
                "cannot_override": any(w.blocking and not w.overridable for w in checks),
                **_helpers(context["patient"].timezone),
            }
        )
        return render(
            request,
            "medication/prescribe.html",
            context,
            actor=tx.actor,
            status_code=422 if errors else 200,
        )


def _default_form(context: dict[str, Any]) -> dict[str, Any]:
    form: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "medicine": "duloxetine",
        "indication": context.get("indication") or "",
        "dose_time": "08:00",
        "override_reason": "",
    }
    for i in range(STEP_ROWS):
        start, dose = context["titration"][i] if i < len(context["titration"]) else ("", "")
        form[f"start_{i}"] = start.isoformat() if isinstance(start, date) else ""
        form[f"dose_{i}"] = str(dose)
    return form


def _form_steps(form: dict[str, Any], *, strict: bool) -> list[tuple[date, Decimal]]:
    steps: list[tuple[date, Decimal]] = []
    problems: list[Problem] = []
    for i in range(STEP_ROWS):
        start_text, dose_text = str(form.get(f"start_{i}", "")), str(form.get(f"dose_{i}", ""))
        if not start_text.strip() and not dose_text.strip():
            continue
        try:
            steps.append(
                (
                    _date(start_text, f"start_{i}", f"the start of step {i + 1}"),
                    _dose(dose_text, f"dose_{i}", f"the daily dose of step {i + 1}"),
                )
            )
        except FormError as exc:
            problems += exc.problems
    if strict and not steps and not problems:
        problems.append(Problem("start_0", "Enter at least one dose step"))
    if problems:
        if strict:
            raise FormError(problems)
        return []
    return steps


@router.get("/patients/{patient_id}/prescribe")
def prescribe_form(patient_id: uuid.UUID, request: Request) -> Response:
    return _prescribe_page(request, patient_id)


@router.post("/patients/{patient_id}/prescribe")
def prescribe(
    patient_id: uuid.UUID,
    request: Request,
    id: FormText = "",
    medicine: FormText = "",
    indication: FormText = "",
    start_0: FormText = "",
    dose_0: FormText = "",
    start_1: FormText = "",
    dose_1: FormText = "",
    start_2: FormText = "",
    dose_2: FormText = "",
    dose_time: FormText = "",
    override_reason: FormText = "",
    plan_follow_ups: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    form = {
        "id": id,
        "plan_follow_ups": "yes" if plan_follow_ups else "no",
        "medicine": medicine,
        "indication": indication,
        "start_0": start_0,
        "dose_0": dose_0,
        "start_1": start_1,
        "dose_1": dose_1,
        "start_2": start_2,
        "dose_2": dose_2,
        "dose_time": dose_time,
        "override_reason": override_reason,
    }
    blocked: list[Any] = []

    def act(tx: Any) -> Any:
        steps = _form_steps(form, strict=True)
        times = [dose_time.strip()] if dose_time.strip() else []
        data = PrescriptionCreate(
            id=_uuid(id),
            medicine=medicine.strip() or "duloxetine",
            schedule=[ScheduleStepIn(start=s, daily_dose_mg=d) for s, d in steps],
            override_reason=override_reason.strip() or None,
            dose_times=times,
            indication=indication.strip() or None,
            plan_follow_ups=bool(plan_follow_ups),
        )
        try:
            return service.create_prescription(tx.db, tx.actor, tx.ctx, patient_id, data)
        except service.PrescribingBlocked as exc:
            blocked.extend(exc.warnings)
            raise

    done, errors = _attempt(request, csrf_token, act)
    if done is not None:
        return RedirectResponse(f"/patients/{patient_id}/medicine?done=prescribed", status_code=303)
    return _prescribe_page(
        request, patient_id, csrf_token=csrf_token, values=form, errors=errors, blocked=blocked
    )


DONE_MESSAGES = {
    "prescribed": "The prescription has been saved.",
    "changed": "The dose change has been saved.",
    "taper": "The taper plan has been saved and added to the prescription.",
    "taper-changed": "The taper plan has been changed.",
    "decided": "The decision has been saved and the patient has been told. Approving does not "
    "change the dose by itself: change the prescription below to put a new dose into effect.",
    "other": "The medicine has been added to the list.",
}


def _clinician_page(
    request: Request,
    patient_id: uuid.UUID,
    *,
    csrf_token: str | None = None,
    errors: list[Problem] | None = None,
) -> Response:
    with transaction(request, csrf_token=csrf_token) as tx:
        if not tx.actor.is_clinician:
            return RedirectResponse("/", status_code=303)
        context = service.clinician_medicine_page(tx.db, tx.actor, tx.ctx, patient_id)
        done = request.query_params.get("done", "")
        context.update(
            {
                "errors": errors or [],
                "done": DONE_MESSAGES.get(done),
                "new_id": uuid.uuid4,
                "tomorrow": context["today"] + timedelta(days=1),
                **_helpers(context["patient"].timezone),
            }
        )
        return render(
            request,
            "medication/clinician.html",
            context,
            actor=tx.actor,
            status_code=422 if errors else 200,
        )


@router.get("/patients/{patient_id}/medicine")
def clinician_medicine(patient_id: uuid.UUID, request: Request) -> Response:
    return _clinician_page(request, patient_id)


def _after_action(
    request: Request,
    patient_id: uuid.UUID,
    csrf_token: str,
    done: str,
    act: Callable[[Any], Any],
) -> Response:
    try:
        result, errors = _attempt(request, csrf_token, act)
    except StepUpRequired:  # a dose change or taper: confirm it is you, then come back
        return RedirectResponse(f"/step-up?next=/patients/{patient_id}/medicine", status_code=303)
    if result is not None:
        return RedirectResponse(f"/patients/{patient_id}/medicine?done={done}", status_code=303)
    return _clinician_page(request, patient_id, csrf_token=csrf_token, errors=errors)


@router.post("/patients/{patient_id}/medicine/prescriptions/{prescription_id}/change")
def change_dose(
    patient_id: uuid.UUID,
    prescription_id: uuid.UUID,
    request: Request,
    version: FormText = "",
    start: FormText = "",
    daily_dose_mg: FormText = "",
    reason: FormText = "",
    override_reason: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    def act(tx: Any) -> Any:
        problems: list[Problem] = []
        steps: list[ScheduleStepIn] = []
        try:
            steps.append(
                ScheduleStepIn(
                    start=_date(start, "start", "the date the new dose starts"),
                    daily_dose_mg=_dose(daily_dose_mg, "daily_dose_mg", "the new daily dose"),
                )
            )
        except FormError as exc:
            problems += exc.problems
        if not reason.strip():
            problems.append(Problem("reason", "Say why the dose changes"))
        if problems:
            raise FormError(problems)
        data = PrescriptionUpdate(
            schedule=steps, reason=reason.strip(), override_reason=override_reason.strip() or None
        )
        return service.update_prescription(
            tx.db,
            tx.actor,
            tx.ctx,
            patient_id,
            prescription_id,
            data,
            etag(prescription_id, int(version or 0)),
        )

    return _after_action(request, patient_id, csrf_token, "changed", act)


@router.post("/patients/{patient_id}/medicine/taper")
def plan_taper(
    patient_id: uuid.UUID,
    request: Request,
    id: FormText = "",
    prescription_id: FormText = "",
    start: FormText = "",
    weeks: FormText = "",
    reason: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    def act(tx: Any) -> Any:
        problems: list[Problem] = []
        day = None
        try:
            day = _date(start, "start", "the first day of the taper")
        except FormError as exc:
            problems += exc.problems
        if not weeks.strip().isdecimal() or not 1 <= int(weeks) <= 104:
            problems.append(Problem("weeks", "Enter the number of weeks, from 1 to 104"))
        if problems or day is None:
            raise FormError(problems)
        data = TaperPlanCreate(
            id=_uuid(id),
            prescription_id=_uuid(prescription_id, "prescription_id"),
            start=day,
            weeks=int(weeks),
            reason=reason.strip() or None,
        )
        return service.create_taper_plan(tx.db, tx.actor, tx.ctx, patient_id, data)

    return _after_action(request, patient_id, csrf_token, "taper", act)


@router.post("/patients/{patient_id}/medicine/taper/{plan_id}")
def change_taper(
    patient_id: uuid.UUID,
    plan_id: uuid.UUID,
    request: Request,
    version: FormText = "",
    action: FormText = "",
    on: FormText = "",
    days: FormText = "",
    reason: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    def act(tx: Any) -> Any:
        problems: list[Problem] = []
        if action not in ("hold", "slow"):
            problems.append(Problem("action", "Choose hold or slow"))
        day = None
        try:
            day = _date(on, "on", "the date it takes effect")
        except FormError as exc:
            problems += exc.problems
        hold_days = 7
        if days.strip():
            if not days.strip().isdecimal() or not 1 <= int(days) <= 84:
                problems.append(Problem("days", "Enter the days to hold, from 1 to 84"))
            else:
                hold_days = int(days)
        if not reason.strip():
            problems.append(Problem("reason", "Say why (for example the symptoms reported)"))
        if problems or day is None:
            raise FormError(problems)
        data = TaperPlanUpdate.model_validate(
            {"action": action, "on": day, "reason": reason.strip(), "days": hold_days}
        )
        return service.update_taper_plan(
            tx.db, tx.actor, tx.ctx, patient_id, plan_id, data, etag(plan_id, int(version or 0))
        )

    return _after_action(request, patient_id, csrf_token, "taper-changed", act)


@router.post("/patients/{patient_id}/medicine/requests/{request_id}")
def decide_request(
    patient_id: uuid.UUID,
    request_id: uuid.UUID,
    request: Request,
    status: FormText = "",
    note: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    def act(tx: Any) -> Any:
        problems: list[Problem] = []
        if status not in ("approved", "declined"):
            problems.append(Problem("status", "Choose approve or decline"))
        if not note.strip():
            problems.append(Problem("note", "Write a note for the patient"))
        if problems:
            raise FormError(problems)
        data = DoseChangeDecision.model_validate({"status": status, "note": note.strip()})
        return service.decide_dose_change_request(
            tx.db, tx.actor, tx.ctx, patient_id, request_id, data
        )

    return _after_action(request, patient_id, csrf_token, "decided", act)


@router.post("/patients/{patient_id}/medicine/other")
def add_other_medicine(
    patient_id: uuid.UUID,
    request: Request,
    id: FormText = "",
    name: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    def act(tx: Any) -> Any:
        if not name.strip() or len(name) > 200:
            raise FormError([Problem("other_name", "Enter the medicine's name")])
        data = OtherMedicineCreate(id=_uuid(id), name=name.strip())
        return service.create_other_medicine(tx.db, tx.actor, tx.ctx, patient_id, data)

    return _after_action(request, patient_id, csrf_token, "other", act)
