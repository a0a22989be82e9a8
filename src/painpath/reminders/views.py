"""HTML routes: reminder settings (/settings/reminders) and stopping emails from a link
in one (/unsubscribe/{token}, no sign-in)."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.responses import Response

from painpath.kit.errors import InvalidInput, NotFound, PreconditionFailed
from painpath.kit.records import etag
from painpath.kit.web import ANON_CSRF_COOKIE, read_cookie, register_nav, render, transaction
from painpath.reminders import service
from painpath.reminders.schemas import ReminderPreferencesRead, ReminderPreferencesUpdate

router = APIRouter(include_in_schema=False)

register_nav("patient", "Reminders", "/settings/reminders", 70)
register_nav("clinician", "Reminders", "/settings/reminders", 70)

# Generous bounds: the values are checked by the service after the sign-in check, so an
# anonymous caller is told to sign in (401) rather than which field is too long.
Text = Annotated[str, Form(max_length=100)]
Csrf = Annotated[str, Form(max_length=100)]
KIND_LABELS = {
    "dose": "Time to take my medicine",
    "diary": "Filling in my diary",
    "questionnaire": "Questionnaires",
}
FIELD_LABELS = {
    "quiet_start": "Quiet hours start",
    "quiet_end": "Quiet hours end",
    "dose_times": "Medicine times",
    "dose_times[0]": "First medicine time",
    "dose_times[1]": "Second medicine time",
    "diary_time": "Diary time",
    "notice_time": "Time for other reminders",
    "kinds_off": "What to remind me about",
    "timezone": "Your time zone",
    "form": "Settings",
}
ANCHORS = {
    "dose_times[0]": "dose_time_1",
    "dose_times[1]": "dose_time_2",
    "dose_times": "dose_time_1",
}


def _form_of(prefs: ReminderPreferencesRead) -> dict[str, Any]:
    return {
        "in_app": prefs.in_app,
        "email": prefs.email,
        "quiet_start": prefs.quiet_start or "",
        "quiet_end": prefs.quiet_end or "",
        "dose_time_1": prefs.dose_times[0] if prefs.dose_times else "",
        "dose_time_2": prefs.dose_times[1] if len(prefs.dose_times) > 1 else "",
        "diary_time": prefs.diary_time,
        "notice_time": prefs.notice_time,
        "kinds_on": [k for k in prefs.switchable_kinds if k not in prefs.kinds_off],
        "timezone": prefs.timezone or "",
        "version": prefs.version,
    }


def _page(
    request: Request,
    tx: Any,
    form: dict[str, Any],
    errors: dict[str, str],
    *,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "reminders/settings.html",
        {
            "form": form,
            "errors": errors,
            "anchors": ANCHORS,
            "kinds": list(KIND_LABELS.items()),
            "is_patient": tx.actor.is_patient,
            "saved": request.query_params.get("saved") == "1",
        },
        actor=tx.actor,
        status_code=status_code,
    )


@router.get("/settings/reminders")
def settings_page(request: Request) -> Response:
    with transaction(request) as tx:
        prefs = service.get_preferences(tx.db, tx.actor, tx.ctx)
        return _page(request, tx, _form_of(prefs), {})


def _errors(exc: ValidationError | InvalidInput) -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(exc, InvalidInput):
        for problem in exc.problems or []:
            label = FIELD_LABELS.get(problem.field, problem.field)
            out[problem.field] = f"{label}: {problem.message}"
        return out or {"form": exc.message}
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        field = loc[0] if loc else "form"
        if field == "dose_times" and len(loc) > 1:
            field = f"dose_times[{loc[1]}]"
        label = FIELD_LABELS.get(field, field)
        if err["type"] == "string_pattern_mismatch":
            out[field] = f"{label}: enter a time like 08:00 (24-hour clock)"
        else:
            out[field] = f"{label}: {err['msg']}"
    return out


@router.post("/settings/reminders")
def settings_submit(
    request: Request,
    in_app: Text = "",
    email: Text = "",
    quiet_start: Text = "",
    quiet_end: Text = "",
    dose_time_1: Text = "",
    dose_time_2: Text = "",
    diary_time: Text = "",
    notice_time: Text = "",
    remind_dose: Text = "",
    remind_diary: Text = "",
    remind_questionnaire: Text = "",
    timezone: Text = "",
    version: Text = "0",
    csrf_token: Csrf = "",
) -> Response:
    with transaction(request, csrf_token=csrf_token) as tx:
        current = service.get_preferences(tx.db, tx.actor, tx.ctx)
    is_patient = bool(tx.actor.is_patient)
    on = {"dose": remind_dose, "diary": remind_diary, "questionnaire": remind_questionnaire}
    form: dict[str, Any] = {
        "in_app": in_app == "yes",
        "email": email == "yes",
        "quiet_start": quiet_start.strip(),
        "quiet_end": quiet_end.strip(),
        "dose_time_1": dose_time_1.strip(),
        "dose_time_2": dose_time_2.strip(),
        "diary_time": diary_time.strip() or current.diary_time,
        "notice_time": notice_time.strip() or current.notice_time,
        "kinds_on": [k for k, v in on.items() if v == "yes"],
        "timezone": "" if is_patient else timezone.strip()[:64],
        "version": version,
    }
    if is_patient:
        times = [t for t in (form["dose_time_1"], form["dose_time_2"]) if t]
        kinds_off = [k for k in KIND_LABELS if k not in form["kinds_on"]]
    else:  # clinicians have no medicine or diary reminders: keep what is stored
        times, kinds_off = current.dose_times, current.kinds_off
        form["diary_time"] = current.diary_time
    errors: dict[str, str] = {}
    try:
        data = ReminderPreferencesUpdate.model_validate(
            {
                "in_app": form["in_app"],
                "email": form["email"],
                "quiet_start": form["quiet_start"] or None,
                "quiet_end": form["quiet_end"] or None,
                "dose_times": times,
                "diary_time": form["diary_time"],
                "notice_time": form["notice_time"],
                "kinds_off": kinds_off,
                "timezone": form["timezone"] or None,
            }
        )
    except ValidationError as exc:
        errors = _errors(exc)
    if not errors:
        try:
            with transaction(request, csrf_token=csrf_token) as tx:
                stale = etag(tx.actor.user_id, int(version) if version.isdecimal() else -1)
                service.update_preferences(tx.db, tx.actor, tx.ctx, data, if_match=stale)
            return RedirectResponse("/settings/reminders?saved=1", status_code=303)
        except InvalidInput as exc:
            errors = _errors(exc)
        except PreconditionFailed:
            errors = {
                "form": "Your reminder settings were changed somewhere else (perhaps on "
                "another device). The page now shows the saved settings: make your "
                "change again."
            }
            form = _form_of(current)
    with transaction(request, csrf_token=csrf_token) as tx:
        return _page(request, tx, form, errors, status_code=422)


# ---------------------------------------------------------------- unsubscribe


@router.get("/unsubscribe/{token}")
def unsubscribe_page(token: str, request: Request) -> Response:
    try:
        with transaction(request, require_actor=False, authenticate=False) as tx:
            service.check_unsubscribe(tx.db, token[:200])
    except NotFound as exc:
        return render(
            request,
            "reminders/unsubscribe.html",
            {"state": "invalid", "message": exc.message},
            status_code=404,
        )
    return render(request, "reminders/unsubscribe.html", {"state": "confirm", "token": token})


@router.post("/unsubscribe/{token}")
def unsubscribe_submit(token: str, request: Request, csrf_token: Csrf = "") -> Response:
    expected = read_cookie(request, ANON_CSRF_COOKIE) or ""
    if not expected or not secrets.compare_digest(expected, csrf_token):
        return RedirectResponse(f"/unsubscribe/{token}", status_code=303)
    try:
        with transaction(request, require_actor=False, authenticate=False) as tx:
            service.unsubscribe(tx.db, tx.ctx, token[:200])
    except NotFound as exc:
        return render(
            request,
            "reminders/unsubscribe.html",
            {"state": "invalid", "message": exc.message},
            status_code=404,
        )
    return render(request, "reminders/unsubscribe.html", {"state": "done"})
