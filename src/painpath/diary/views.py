"""HTML routes: the patient's daily diary and therapy sessions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.responses import Response

from painpath.care.repository import visible_patient
from painpath.care.service import patient_today
from painpath.diary import service
from painpath.diary.domain import BACKFILL_DAYS
from painpath.diary.schemas import (
    THERAPY_KINDS,
    DiaryEntryCreate,
    DiaryEntryUpdate,
    TherapySessionCreate,
)
from painpath.kit.errors import Conflict, InvalidInput, NotFound, PainPathError
from painpath.kit.web import register_nav, render, transaction

router = APIRouter(include_in_schema=False)

register_nav("patient", "Diary", "/diary", 15)
register_nav("patient", "Activities", "/therapies", 35)

Field = Annotated[str, Form(max_length=2000)]
THERAPY_LABELS = {
    "exercise": "Exercise or walking",
    "physiotherapy": "Physiotherapy",
    "mindfulness": "Mindfulness",
    "relaxation": "Relaxation",
    "yoga": "Yoga",
    "acupuncture": "Acupuncture",
    "massage": "Massage",
    "chiropractic": "Chiropractic",
    "vibration-device": "Vibration device",
    "tens": "TENS machine",
    "other": "Something else",
}
FIELD_LABELS = {
    "pain": "Average pain",
    "worst_pain": "Worst pain",
    "sleep_interference": "Sleep",
    "activity_minutes": "Minutes active",
    "mood": "Mood",
    "notes": "Notes",
    "date": "Date",
    "kind": "What you did",
    "minutes": "Minutes",
    "pain_before": "Pain before",
    "pain_after": "Pain after",
}


RANGES = {
    "pain": (0, 10),
    "worst_pain": (0, 10),
    "sleep_interference": (0, 10),
    "mood": (0, 10),
    "activity_minutes": (0, 1440),
}
RANGE_ERRORS = frozenset({"less_than_equal", "greater_than_equal", "int_parsing", "int_type"})


def _optional_int(value: str) -> int | str | None:
    value = value.strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return value  # pydantic reports it with the field's name


def _validation_errors(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "form"
        label = FIELD_LABELS.get(field, field)
        ctx = err.get("ctx") or {}
        if "ge" in ctx and "le" in ctx:
            out[field] = f"{label}: enter a whole number from {ctx['ge']} to {ctx['le']}"
        elif field in RANGES and err["type"] in RANGE_ERRORS:
            low, high = RANGES[field]
            out[field] = f"{label}: enter a whole number from {low} to {high}"
        elif err["type"] == "missing":
            out[field] = f"{label}: this is needed"
        else:
            out[field] = f"{label}: {err['msg']}"
    return out


def _diary_context(tx: Any, form: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    patient = visible_patient(tx.db, tx.actor, tx.actor.patient_id)
    today = patient_today(patient, tx.ctx) if patient else tx.now.date()
    page = service.list_diary_entries(
        tx.db,
        tx.actor,
        tx.ctx,
        tx.actor.patient_id,
        start=today - timedelta(days=27),
        end=today,
        cursor=None,
        limit=100,
    )
    entries = list(reversed(page.items))
    done = {e.date for e in entries}
    missing = [
        today - timedelta(days=d)
        for d in range(1, BACKFILL_DAYS + 1)
        if today - timedelta(days=d) not in done
    ]
    today_entry = next((e for e in entries if e.date == today), None)
    return {
        "today": today,
        "entries": entries,
        "done_today": today in done,
        "today_entry": today_entry,
        "missing": missing,
        "form": form,
        "errors": errors,
        "chosen_date": form.get("date") or today.isoformat(),
    }


ENTRY_NUMBERS = ("pain", "worst_pain", "sleep_interference", "activity_minutes", "mood")


def _entry_values(form: dict[str, str]) -> dict[str, Any]:
    """The diary form's answers as the entry's fields (numbers checked by the schema)."""
    values: dict[str, Any] = {name: _optional_int(form[name]) for name in ENTRY_NUMBERS}
    values["notes"] = form["notes"].strip() or None
    return values


def _diary_again(
    request: Request, csrf_token: str, form: dict[str, str], errors: dict[str, str]
) -> Response:
    """The diary page again with what was typed and what to fix."""
    with transaction(request, csrf_token=csrf_token) as tx:
        if not tx.actor.is_patient:
            return RedirectResponse("/", status_code=303)
        return render(
            request,
            "diary/diary.html",
            _diary_context(tx, form, errors),
            actor=tx.actor,
            status_code=422,
        )


def _form_of_entry(entry: Any) -> dict[str, str]:
    """Today's entry as the edit form's values."""

    def text(value: Any) -> str:
        return "" if value is None else str(value)

    return {
        "editing": "1",
        "entry_id": str(entry.id),
        "pain": text(entry.pain),
        "worst_pain": text(entry.worst_pain),
        "sleep_interference": text(entry.sleep_interference),
        "activity_minutes": text(entry.activity_minutes),
        "mood": text(entry.mood),
        "notes": text(entry.notes),
    }


@router.get("/diary")
def diary_page(request: Request, day: str | None = None, edit: str = "") -> Response:
    with transaction(request) as tx:
        if not tx.actor.is_patient:
            return RedirectResponse("/", status_code=303)
        form = {"date": day} if day else {}
        context = _diary_context(tx, form, {})
        if edit == "today" and context["today_entry"] is not None:
            context["form"] = _form_of_entry(context["today_entry"])
        return render(request, "diary/diary.html", context, actor=tx.actor)


def _save_entry(
    request: Request,
    csrf_token: str,
    form: dict[str, str],
    save: Callable[[Any], object],
    *,
    refusals: tuple[type[PainPathError], ...],
    general_field: str,
) -> Response:
    """Store a new or changed entry; a refusal shows the diary again with the form kept
    and each message next to its field (``general_field`` for one without a field)."""
    try:
        with transaction(request, csrf_token=csrf_token) as tx:
            if not tx.actor.is_patient:
                return RedirectResponse("/", status_code=303)
            save(tx)
        return RedirectResponse("/diary?saved=1", status_code=303)
    except refusals as exc:
        if isinstance(exc, InvalidInput) and exc.problems:
            errors = {p.field: p.message for p in exc.problems}
        else:
            errors = {general_field: exc.message}
    return _diary_again(request, csrf_token, form, errors)


@router.post("/diary/today")
def diary_change_today(
    request: Request,
    pain: Field = "",
    worst_pain: Field = "",
    sleep_interference: Field = "",
    activity_minutes: Field = "",
    mood: Field = "",
    notes: Field = "",
    entry_id: Annotated[str, Form(max_length=40)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Change today's entry (the diary is editable for the same day only)."""
    form = {
        "editing": "1",
        "entry_id": entry_id,
        "pain": pain,
        "worst_pain": worst_pain,
        "sleep_interference": sleep_interference,
        "activity_minutes": activity_minutes,
        "mood": mood,
        "notes": notes,
    }
    errors: dict[str, str] = {}
    try:
        target = uuid.UUID(entry_id)
        data = DiaryEntryUpdate.model_validate(_entry_values(form))
    except ValueError as exc:  # pydantic's ValidationError is a ValueError too
        errors = (
            _validation_errors(exc)
            if isinstance(exc, ValidationError)
            else {"form": "The page is out of date: open the diary again."}
        )
    if errors:
        return _diary_again(request, csrf_token, form, errors)
    return _save_entry(
        request,
        csrf_token,
        form,
        lambda tx: service.update_diary_entry(
            tx.db, tx.actor, tx.ctx, tx.actor.patient_id, target, data
        ),
        refusals=(InvalidInput, NotFound),
        general_field="form",
    )


@router.post("/diary")
def diary_submit(
    request: Request,
    entry_date: Annotated[str, Form(alias="date", max_length=20)] = "",
    pain: Field = "",
    worst_pain: Field = "",
    sleep_interference: Field = "",
    activity_minutes: Field = "",
    mood: Field = "",
    notes: Field = "",
    entry_id: Annotated[str, Form(max_length=40)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    form = {
        "date": entry_date,
        "pain": pain,
        "worst_pain": worst_pain,
        "sleep_interference": sleep_interference,
        "activity_minutes": activity_minutes,
        "mood": mood,
        "notes": notes,
    }
    errors: dict[str, str] = {}
    try:
        data = DiaryEntryCreate.model_validate(
            {
                "id": entry_id or str(uuid.uuid4()),
                "date": entry_date or None,
                **_entry_values(form),
            }
        )
    except ValidationError as exc:
        errors = _validation_errors(exc)
    if errors:
        return _diary_again(request, csrf_token, form, errors)
    return _save_entry(
        request,
        csrf_token,
        form,
        lambda tx: service.create_diary_entry(tx.db, tx.actor, tx.ctx, tx.actor.patient_id, data),
        refusals=(InvalidInput, Conflict),
        general_field="date",
    )


@router.get("/therapies")
def therapies_page(request: Request) -> Response:
    with transaction(request) as tx:
        if not tx.actor.is_patient:
            return RedirectResponse("/", status_code=303)
        return render(request, "diary/therapies.html", _therapy_context(tx, {}, {}), actor=tx.actor)


def _therapy_context(tx: Any, form: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    patient = visible_patient(tx.db, tx.actor, tx.actor.patient_id)
    today = patient_today(patient, tx.ctx) if patient else tx.now.date()
    page = service.list_therapy_sessions(
        tx.db,
        tx.actor,
        tx.ctx,
        tx.actor.patient_id,
        start=today - timedelta(days=90),
        end=today,
        cursor=None,
        limit=100,
    )
    return {
        "today": today,
        "sessions": list(reversed(page.items)),
        "kinds": [(k, THERAPY_LABELS[k]) for k in THERAPY_KINDS],
        "labels": THERAPY_LABELS,
        "form": form,
        "errors": errors,
    }


@router.post("/therapies")
def therapy_submit(
    request: Request,
    session_date: Annotated[str, Form(alias="date", max_length=20)] = "",
    kind: Field = "",
    minutes: Field = "",
    pain_before: Field = "",
    pain_after: Field = "",
    notes: Field = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    form = {
        "date": session_date,
        "kind": kind,
        "minutes": minutes,
        "pain_before": pain_before,
        "pain_after": pain_after,
        "notes": notes,
    }
    errors: dict[str, str] = {}
    try:
        data = TherapySessionCreate.model_validate(
            {
                "id": str(uuid.uuid4()),
                "date": session_date or None,
                "kind": kind or None,
                "minutes": _optional_int(minutes),
                "pain_before": _optional_int(pain_before),
                "pain_after": _optional_int(pain_after),
                "notes": notes.strip() or None,
            }
        )
    except ValidationError as exc:
        errors = _validation_errors(exc)
    if not errors:
        try:
            with transaction(request, csrf_token=csrf_token) as tx:
                if not tx.actor.is_patient:
                    return RedirectResponse("/", status_code=303)
                service.create_therapy_session(tx.db, tx.actor, tx.ctx, tx.actor.patient_id, data)
            return RedirectResponse("/therapies?saved=1", status_code=303)
        except InvalidInput as exc:
            errors = {p.field: p.message for p in exc.problems} or {"date": exc.message}
    with transaction(request, csrf_token=csrf_token) as tx:
        return render(
            request,
            "diary/therapies.html",
            _therapy_context(tx, form, errors),
            actor=tx.actor,
            status_code=422,
        )
