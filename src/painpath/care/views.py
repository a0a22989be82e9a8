"""HTML routes: the patient's Today page, the clinician's caseload, the patient record,
the review form, follow-ups, referrals, and the administrators' care teams page."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.responses import Response

from painpath.care import service
from painpath.care import today as today_service
from painpath.care.domain import REVIEW_DECISIONS
from painpath.care.schemas import (
    CareTeamAdd,
    ClinicalFactsWrite,
    FollowUpCreate,
    FollowUpUpdate,
    NoteCreate,
    ReferralCreate,
    ReferralDecision,
    ReviewCreate,
)
from painpath.kit.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    Problem,
)
from painpath.kit.records import etag
from painpath.kit.routes import whole_number
from painpath.kit.web import Tx, register_nav, render, transaction
from painpath.medication import service as medication_service
from painpath.medication.schemas import DoseEventCreate
from painpath.questionnaires import service as questionnaires_service

router = APIRouter(include_in_schema=False)

register_nav("patient", "Today", "/today", 10)
register_nav("clinician", "Caseload", "/caseload", 10)
register_nav("clinician", "Referrals", "/referrals", 30)
register_nav("admin", "Care teams", "/care-teams", 20)

LONDON = ZoneInfo("Europe/London")
CSS = "/static/css/care.css"
MESSAGES = {
    "referral": "Referral sent. The specialist will see it in their referrals.",
    "note": "Note saved.",
    "review": "Review decision recorded.",
    "follow-up": "Follow-up saved.",
    "defaults": "The default follow-ups are scheduled.",
    "accepted": "Referral accepted: the patient is now in your caseload.",
    "declined": "Referral declined.",
    "added": "Clinician added to the care team.",
    "removed": "Clinician removed from the care team.",
    "facts": "Clinical facts saved. The prescribing checks use them from now on.",
}
FORM_TEXT_LIMIT = 10000


def when(value: datetime | None, timezone: str = "Europe/London") -> str:
    """A time for people: "3 Feb 2026, 14:05" in the given time zone."""
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(timezone))
    return f"{local.day} {local:%b %Y, %H:%M}"


def day(value: date | None) -> str:
    return "" if value is None else f"{value.day} {value:%b %Y}"


def _helpers(**extra: Any) -> dict[str, Any]:
    return {"when": when, "day": day, "css": CSS, **extra}


def _message(request: Request) -> str | None:
    return MESSAGES.get(request.query_params.get("saved", ""))


def _problems(exc: ValidationError) -> list[Problem]:
    out = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err.get("loc", ())) or "form"
        out.append(Problem(field, str(err.get("msg", "check this field"))))
    return out


def _not_clinician(tx: Tx) -> Response | None:
    if not tx.actor.is_clinician:
        return RedirectResponse("/", status_code=303)
    return None


def _form_id(value: str) -> str:
    """The form's own id (made when it was shown), so a double submit is stored once."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return str(uuid.uuid4())


# ------------------------------------------------------------------------- pages


@router.get("/today")
def today(request: Request) -> Response:
    with transaction(request) as tx:
        if not tx.actor.is_patient:
            return RedirectResponse("/", status_code=303)
        return render(
            request,
            "care/today.html",
            today_service.summary(tx.db, tx.actor, tx.ctx),
            actor=tx.actor,
        )


@router.post("/today/dose")
def today_dose(
    request: Request,
    prescription_id: Annotated[str, Form(max_length=40)] = "",
    status: Annotated[str, Form(max_length=10)] = "",
    form_id: Annotated[str, Form(max_length=40)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """One tap from the Today page: taken, missed or late, now."""
    with transaction(request, csrf_token=csrf_token) as tx:
        if not tx.actor.is_patient:
            return RedirectResponse("/", status_code=303)
        event_id = uuid.UUID(_form_id(form_id))
        if today_service.already_logged(tx.db, event_id):
            return RedirectResponse("/today?logged=1", status_code=303)
        try:
            data = DoseEventCreate(
                id=event_id,
                status=status,
                taken_at=tx.now,
                prescription_id=uuid.UUID(prescription_id),
            )
        except (ValueError, ValidationError):
            raise InvalidInput(
                "Choose taken, missed or late for one of your medicines on the Today page.",
                field="status",
            ) from None
        event, _ = medication_service.create_dose_event(
            tx.db, tx.actor, tx.ctx, tx.actor.patient_id, data
        )
        if event.status == "missed":
            # My medicine shows what to do about the missed dose (the medicine's advice).
            return RedirectResponse(f"/medicine?dose={event.id}", status_code=303)
    return RedirectResponse("/today?logged=1", status_code=303)


@router.post("/today/advice/{notification_id}/read")
def today_advice_read(
    notification_id: uuid.UUID,
    request: Request,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    with transaction(request, csrf_token=csrf_token) as tx:
        today_service.mark_read(tx.db, tx.actor, tx.ctx, notification_id)
        back = "/caseload" if tx.actor.is_clinician else "/today"
    return RedirectResponse(back, status_code=303)


@router.get("/caseload")
def caseload(request: Request, attention: str = "", page: str = "1", name: str = "") -> Response:
    with transaction(request) as tx:
        if (redirect := _not_clinician(tx)) is not None:
            return redirect
        number = int(page) if page.isdecimal() and 0 < int(page) < 100000 else 1
        view = service.caseload(
            tx.db, tx.actor, tx.ctx, attention_only=attention == "1", page=number, name=name
        )
        return render(
            request,
            "care/caseload.html",
            _helpers(
                caseload=view,
                attention=attention == "1",
                messages=today_service.unread_messages(tx.db, tx.actor),
            ),
            actor=tx.actor,
        )


def _record_page(
    request: Request,
    tx: Tx,
    patient_id: uuid.UUID,
    *,
    errors: list[Problem] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    record = service.patient_record(tx.db, tx.actor, tx.ctx, patient_id)
    # Part of the record just read (and audited): how many questionnaires were done.
    completion = questionnaires_service.completion_rates(tx.db, record.patient.id, record.today)
    in_team = {m.clinician_id for m in record.team}
    pending = {r.to_clinician_id for r in record.referrals if r.status == "pending"}
    specialists = [
        c
        for c in service.list_clinicians(
            tx.db, tx.actor, tx.ctx, kind="pain-specialist", limit=100
        ).items
        if c.id not in in_team and c.id not in pending
    ]
    return render(
        request,
        "care/patient.html",
        _helpers(
            r=record,
            tz=record.patient.timezone,
            completion=completion,
            specialists=specialists,
            errors=errors or [],
            form=form or {},
            new_id=str(uuid.uuid4()),
            note_id=str(uuid.uuid4()),
            message=_message(request),
        ),
        actor=tx.actor,
        status_code=status_code,
    )


@router.get("/patients/{patient_id}")
def patient_record(patient_id: uuid.UUID, request: Request) -> Response:
    with transaction(request) as tx:
        if (redirect := _not_clinician(tx)) is not None:
            return redirect
        return _record_page(request, tx, patient_id)


@router.post("/patients/{patient_id}/referrals")
def refer(
    patient_id: uuid.UUID,
    request: Request,
    id: Annotated[str, Form()] = "",
    to_clinician_id: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    form = {"to_clinician_id": to_clinician_id, "reason": reason[:FORM_TEXT_LIMIT], "id": id}
    problems: list[Problem] = []
    if not to_clinician_id:
        problems.append(Problem("to_clinician_id", "Choose the specialist to refer to."))
    if not reason.strip():
        problems.append(Problem("reason", "Say why you are referring the patient."))
    with transaction(request, csrf_token=csrf_token) as tx:
        if (redirect := _not_clinician(tx)) is not None:
            return redirect
        if not problems:
            try:
                data = ReferralCreate(
                    id=uuid.UUID(_form_id(id)),
                    to_clinician_id=uuid.UUID(to_clinician_id),
                    reason=reason.strip(),
                )
                service.create_referral(tx.db, tx.actor, tx.ctx, patient_id, data)
            except (ValueError, ValidationError):
                problems.append(Problem("reason", "Check the specialist and the reason."))
            except InvalidInput as exc:
                problems += exc.problems or [Problem("reason", exc.message)]
            except Conflict as exc:
                problems.append(Problem("to_clinician_id", exc.message))
        if problems:
            tx.db.rollback()
            return _record_page(
                request, tx, patient_id, errors=problems, form=form, status_code=422
            )
    return RedirectResponse(f"/patients/{patient_id}?saved=referral#referrals", status_code=303)


@router.post("/patients/{patient_id}/notes")
def add_note(
    patient_id: uuid.UUID,
    request: Request,
    id: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    with transaction(request, csrf_token=csrf_token) as tx:
        if (redirect := _not_clinician(tx)) is not None:
            return redirect
        problems: list[Problem] = []
        try:
            data = NoteCreate(id=uuid.UUID(_form_id(id)), text=text.strip())
            service.create_note(tx.db, tx.actor, tx.ctx, patient_id, data)
        except ValidationError:
            problems.append(Problem("text", "Write the note (up to 10,000 characters)."))
        except InvalidInput as exc:
            problems += exc.problems
        if problems:
            tx.db.rollback()
            return _record_page(
                request,
                tx,
                patient_id,
                errors=problems,
                form={"text": text[:FORM_TEXT_LIMIT]},
                status_code=422,
            )
    return RedirectResponse(f"/patients/{patient_id}?saved=note#notes", status_code=303)


# ------------------------------------------------------------------------- review


def _review_page(
    request: Request,
    tx: Tx,
    patient_id: uuid.UUID,
    *,
    errors: list[Problem] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    record = service.patient_record(tx.db, tx.actor, tx.ctx, patient_id)
    result = None
    if record.current is not None:
        from painpath.response import service as response_service

        try:  # the record's read above authorised and audited the page
            result = response_service.course_result(
                tx.db, patient_id, record.current.id, record.today
            )
        except (NotFound, InvalidInput):
            result = None
    return render(
        request,
        "care/review.html",
        _helpers(
            r=record,
            response=result,
            decisions=REVIEW_DECISIONS,
            errors=errors or [],
            form=form or {},
            new_id=str(uuid.uuid4()),
        ),
        actor=tx.actor,
        status_code=status_code,
    )


@router.get("/patients/{patient_id}/review")
def review_form(patient_id: uuid.UUID, request: Request) -> Response:
    with transaction(request) as tx:
        if (redirect := _not_clinician(tx)) is not None:
            return redirect
        return _review_page(request, tx, patient_id)


@router.post("/patients/{patient_id}/review")
def record_review(
    patient_id: uuid.UUID,
    request: Request,
    id: Annotated[str, Form()] = "",
    prescription_id: Annotated[str, Form()] = "",
    decision: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    form = {"decision": decision, "reason": reason[:FORM_TEXT_LIMIT]}
    problems: list[Problem] = []
    if decision not in REVIEW_DECISIONS:
        problems.append(Problem("decision", "Choose a decision."))
    if not reason.strip():
        problems.append(Problem("reason", "Give the reason for the decision."))
    with transaction(request, csrf_token=csrf_token) as tx:
        if (redirect := _not_clinician(tx)) is not None:
            return redirect
        if not problems:
            try:
                data = ReviewCreate.model_validate(
                    {
                        "id": _form_id(id),
                        "prescription_id": prescription_id,
                        "decision": decision,
                        "reason": reason.strip(),
                    }
                )
                service.create_review(tx.db, tx.actor, tx.ctx, patient_id, data)
            except ValidationError as exc:
                problems += _problems(exc)
            except InvalidInput as exc:
                problems += exc.problems or [Problem("decision", exc.message)]
        if problems:
            tx.db.rollback()
            return _review_page(
                request, tx, patient_id, errors=problems, form=form, status_code=422
            )
    return RedirectResponse(f"/patients/{patient_id}?saved=review#reviews", status_code=303)


# --------------------------------------------------------------------- follow-ups


def _follow_ups_page(
    request: Request,
    tx: Tx,
    patient_id: uuid.UUID,
    *,
    errors: list[Problem] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    record = service.patient_record(tx.db, tx.actor, tx.ctx, patient_id)
    first_dose = None
    if record.snapshot:
        text = record.snapshot["prescription"].get("first_dose")
        first_dose = text or None
    return render(
        request,
        "care/follow_ups.html",
        _helpers(
            r=record,
            errors=errors or [],
            form=form or {},
            new_id=str(uuid.uuid4()),
            first_dose=first_dose,
            message=_message(request),
            etag=etag,
        ),
        actor=tx.actor,
        status_code=status_code,
    )


@router.get("/patients/{patient_id}/follow-ups")
def follow_ups(patient_id: uuid.UUID, request: Request) -> Response:
    with transaction(request) as tx:
        if (redirect := _not_clinician(tx)) is not None:
            return redirect
        return _follow_ups_page(request, tx, patient_id)


@router.post("/patients/{patient_id}/follow-ups")
def add_follow_up(
    patient_id: uuid.UUID,
    request: Request,
    id: Annotated[str, Form()] = "",
    due: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    form = {"due": due[:20], "kind": kind[:200]}
    with transaction(request, csrf_token=csrf_token) as tx:
        if (redirect := _not_clinician(tx)) is not None:
            return redirect
        problems: list[Problem] = []
        try:
            data = FollowUpCreate.model_validate(
                {"id": _form_id(id), "due": due, "kind": kind.strip()}
            )
            service.create_follow_up(tx.db, tx.actor, tx.ctx, patient_id, data)
        except ValidationError as exc:
            for p in _problems(exc):
                text = (
                    "Enter the date as a valid date."
                    if p.field == "due"
                    else "Say what the follow-up is for (up to 64 characters)."
                )
                problems.append(Problem(p.field, text))
        except InvalidInput as exc:
            problems += exc.problems
        if problems:
            tx.db.rollback()
            return _follow_ups_page(
                request, tx, patient_id, errors=problems, form=form, status_code=422
            )
    return RedirectResponse(f"/patients/{patient_id}/follow-ups?saved=follow-up", status_code=303)


@router.post("/patients/{patient_id}/follow-ups/defaults")
def schedule_defaults(
    patient_id: uuid.UUID,
    request: Request,
    start: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    with transaction(request, csrf_token=csrf_token) as tx:
        if (redirect := _not_clinician(tx)) is not None:
            return redirect
        try:
            first = date.fromisoformat(start)
        except ValueError:
            return _follow_ups_page(
                request,
                tx,
                patient_id,
                errors=[Problem("start", "Enter the start date as a valid date.")],
                form={"start": start[:20]},
                status_code=422,
            )
        service.schedule_default_follow_ups(tx.db, tx.actor, tx.ctx, patient_id, first)
    return RedirectResponse(f"/patients/{patient_id}/follow-ups?saved=defaults", status_code=303)


@router.post("/patients/{patient_id}/follow-ups/{follow_up_id}")
def change_follow_up(
    patient_id: uuid.UUID,
    follow_up_id: uuid.UUID,
    request: Request,
    status: Annotated[str, Form()] = "",
    due: Annotated[str, Form()] = "",
    version: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    with transaction(request, csrf_token=csrf_token) as tx:
        if (redirect := _not_clinician(tx)) is not None:
            return redirect
        problems: list[Problem] = []
        try:
            changes: dict[str, str] = {}
            if status:
                changes["status"] = status
            if due:
                changes["due"] = due
            data = FollowUpUpdate.model_validate(changes)
            service.update_follow_up(
                tx.db,
                tx.actor,
                tx.ctx,
                patient_id,
                follow_up_id,
                data,
                if_match=etag(follow_up_id, int(version)) if version.isdecimal() else "",
            )
        except ValidationError:
            problems.append(Problem("due", "Check the new date."))
        except (PreconditionFailed, InvalidInput) as exc:
            problems.append(Problem("follow-up", exc.message))
        except PreconditionRequired:
            problems.append(Problem("follow-up", "Reload the page and try again."))
        if problems:
            tx.db.rollback()
            return _follow_ups_page(request, tx, patient_id, errors=problems, status_code=409)
    return RedirectResponse(f"/patients/{patient_id}/follow-ups?saved=follow-up", status_code=303)


# ---------------------------------------------------------------------- referrals


@router.get("/referrals")
def referrals(request: Request) -> Response:
    with transaction(request) as tx:
        if (redirect := _not_clinician(tx)) is not None:
            return redirect
        pending = service.list_referrals(tx.db, tx.actor, tx.ctx, status="pending", limit=100)
        return render(
            request,
            "care/referrals.html",
            _helpers(pending=pending.items, message=_message(request), errors=[]),
            actor=tx.actor,
        )


@router.post("/referrals/{referral_id}")
def decide_referral(
    referral_id: uuid.UUID,
    request: Request,
    status: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    with transaction(request, csrf_token=csrf_token) as tx:
        if (redirect := _not_clinician(tx)) is not None:
            return redirect
        problems: list[Problem] = []
        try:
            data = ReferralDecision.model_validate(
                {"status": status, "note": note.strip()[:4000] or None}
            )
            service.decide_referral(tx.db, tx.actor, tx.ctx, referral_id, data)
        except ValidationError:
            problems.append(Problem("status", "Choose accept or decline."))
        except Conflict as exc:
            problems.append(Problem("status", exc.message))
        if problems:
            tx.db.rollback()
            pending = service.list_referrals(tx.db, tx.actor, tx.ctx, status="pending", limit=100)
            return render(
                request,
                "care/referrals.html",
                _helpers(pending=pending.items, message=None, errors=problems),
                actor=tx.actor,
                status_code=422,
            )
    return RedirectResponse(f"/referrals?saved={status}", status_code=303)


# ------------------------------------------------------------ care teams (admins)


def _teams_page(
    request: Request, tx: Tx, q: str, *, errors: list[Problem] | None = None, status: int = 200
) -> Response:
    teams = service.list_care_teams(tx.db, tx.actor, tx.ctx, search=q or None, limit=50)
    clinicians = service.list_clinicians(tx.db, tx.actor, tx.ctx, limit=100)
    return render(
        request,
        "care/care_teams.html",
        _helpers(
            teams=teams.items,
            clinicians=clinicians.items,
            q=q,
            message=_message(request),
            errors=errors or [],
        ),
        actor=tx.actor,
        status_code=status,
    )


@router.get("/care-teams")
def care_teams(request: Request, q: str = "") -> Response:
    with transaction(request) as tx:
        if not tx.actor.is_admin:
            return RedirectResponse("/", status_code=303)
        return _teams_page(request, tx, q[:200])


@router.post("/care-teams/{patient_id}/members")
def add_member(
    patient_id: uuid.UUID,
    request: Request,
    clinician_id: Annotated[str, Form()] = "",
    q: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    with transaction(request, csrf_token=csrf_token) as tx:
        if not tx.actor.is_admin:
            return RedirectResponse("/", status_code=303)
        try:
            data = CareTeamAdd.model_validate({"clinician_id": clinician_id})
            service.add_care_team_member(tx.db, tx.actor, tx.ctx, patient_id, data)
        except (ValidationError, InvalidInput):
            tx.db.rollback()
            return _teams_page(
                request,
                tx,
                q[:200],
                errors=[Problem("clinician_id", "Choose a clinician to add.")],
                status=422,
            )
    return RedirectResponse(f"/care-teams?saved=added&q={_quote(q)}", status_code=303)


@router.post("/care-teams/{patient_id}/members/{clinician_id}/remove")
def remove_member(
    patient_id: uuid.UUID,
    clinician_id: uuid.UUID,
    request: Request,
    q: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    with transaction(request, csrf_token=csrf_token) as tx:
        if not tx.actor.is_admin:
            return RedirectResponse("/", status_code=303)
        service.remove_care_team_member(tx.db, tx.actor, tx.ctx, patient_id, clinician_id)
    return RedirectResponse(f"/care-teams?saved=removed&q={_quote(q)}", status_code=303)


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text[:200])


# ------------------------------------------------------------------- clinical facts

TRI_STATE = {"yes": True, "no": False, "": None}


def _tri(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def _text(value: int | None) -> str:
    return "" if value is None else str(value)


FACT_NUMBERS = {
    "renal_crcl_ml_min": (
        1,
        250,
        "Enter the creatinine clearance as a whole number of mL/min from 1 to 250, or "
        "leave it empty if it is not known.",
    ),
    "bp_alert_systolic": (
        80,
        250,
        "Enter the systolic alert level as a whole number of mmHg from 80 to 250, or leave "
        "it empty for no alert.",
    ),
    "bp_alert_diastolic": (
        40,
        150,
        "Enter the diastolic alert level as a whole number of mmHg from 40 to 150, or leave "
        "it empty for no alert.",
    ),
}


def _whole_numbers(form: dict[str, str]) -> tuple[dict[str, int | None], list[Problem]]:
    values: dict[str, int | None] = {}
    problems: list[Problem] = []
    for field, (low, high, message) in FACT_NUMBERS.items():
        number, usable = whole_number(form[field], low, high)
        if not usable:
            problems.append(Problem(field, message))
        values[field] = number
    return values, problems


def _facts_page(
    request: Request,
    tx: Tx,
    patient_id: uuid.UUID,
    *,
    errors: list[Problem] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    facts, name = service.clinical_facts_page(tx.db, tx.actor, tx.ctx, patient_id)
    shown = form or {
        "renal_crcl_ml_min": _text(facts.renal_crcl_ml_min),
        "hepatic_impairment": _tri(facts.hepatic_impairment),
        "bp_uncontrolled": _tri(facts.bp_uncontrolled),
        "conditions": "\n".join(facts.conditions),
        "bp_alert_systolic": _text(facts.bp_alert_systolic),
        "bp_alert_diastolic": _text(facts.bp_alert_diastolic),
        "version": str(facts.version),
    }
    return render(
        request,
        "care/clinical_facts.html",
        _helpers(
            patient_id=patient_id,
            patient_name=name,
            form=shown,
            errors=errors or [],
            message=_message(request),
        ),
        actor=tx.actor,
        status_code=status_code,
    )


@router.get("/patients/{patient_id}/clinical-facts")
def clinical_facts(patient_id: uuid.UUID, request: Request) -> Response:
    with transaction(request) as tx:
        if (redirect := _not_clinician(tx)) is not None:
            return redirect
        return _facts_page(request, tx, patient_id)


@router.post("/patients/{patient_id}/clinical-facts")
def save_clinical_facts(
    patient_id: uuid.UUID,
    request: Request,
    renal_crcl_ml_min: Annotated[str, Form()] = "",
    hepatic_impairment: Annotated[str, Form()] = "",
    bp_uncontrolled: Annotated[str, Form()] = "",
    conditions: Annotated[str, Form()] = "",
    bp_alert_systolic: Annotated[str, Form()] = "",
    bp_alert_diastolic: Annotated[str, Form()] = "",
    version: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    form = {
        "renal_crcl_ml_min": renal_crcl_ml_min.strip()[:10],
        "bp_alert_systolic": bp_alert_systolic.strip()[:10],
        "bp_alert_diastolic": bp_alert_diastolic.strip()[:10],
        "hepatic_impairment": hepatic_impairment if hepatic_impairment in TRI_STATE else "",
        "bp_uncontrolled": bp_uncontrolled if bp_uncontrolled in TRI_STATE else "",
        "conditions": conditions[:FORM_TEXT_LIMIT],
        "version": version[:40],
    }
    numbers, problems = _whole_numbers(form)
    lines = [line.strip() for line in conditions.splitlines() if line.strip()]
    if len(lines) > 30 or any(len(line) > 200 for line in lines):
        problems.append(
            Problem(
                "conditions", "List at most 30 conditions, one per line, each under 200 characters."
            )
        )
    with transaction(request, csrf_token=csrf_token) as tx:
        if (redirect := _not_clinician(tx)) is not None:
            return redirect
        status_code = 422
        if not problems:
            try:
                data = ClinicalFactsWrite(
                    renal_crcl_ml_min=numbers["renal_crcl_ml_min"],
                    bp_alert_systolic=numbers["bp_alert_systolic"],
                    bp_alert_diastolic=numbers["bp_alert_diastolic"],
                    hepatic_impairment=TRI_STATE[form["hepatic_impairment"]],
                    bp_uncontrolled=TRI_STATE[form["bp_uncontrolled"]],
                    conditions=lines,
                )
                service.update_clinical_facts(
                    tx.db,
                    tx.actor,
                    tx.ctx,
                    patient_id,
                    data,
                    if_match=etag(patient_id, int(version)) if version.isdecimal() else "",
                )
            except ValidationError as exc:
                problems += _problems(exc)
            except (PreconditionFailed, PreconditionRequired) as exc:
                problems.append(Problem("version", exc.message))
                status_code = 409
        if problems:
            tx.db.rollback()
            return _facts_page(
                request, tx, patient_id, errors=problems, form=form, status_code=status_code
            )
    return RedirectResponse(f"/patients/{patient_id}/clinical-facts?saved=facts", status_code=303)
