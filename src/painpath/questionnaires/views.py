"""HTML routes of the questionnaires area: what is due, past results, and the forms.

A form shows one question per screen. Each step is a plain HTML form that posts the
answers so far (hidden fields) and gets the next question back, so it works without
JavaScript; with htmx the step is swapped in place (``hx-post``), and the last step
sends the answers and goes to the result.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.responses import Response

from painpath.kit.errors import (
    InvalidInput,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    Problem,
)
from painpath.kit.records import etag
from painpath.kit.routes import whole_number
from painpath.kit.web import Tx, register_nav, render, transaction
from painpath.questionnaires import service
from painpath.questionnaires.domain import (
    Instrument,
    Item,
    format_day,
    format_total,
    load_instruments,
    plain,
)
from painpath.questionnaires.schemas import QuestionnaireResponseCreate, ScheduleUpdate

router = APIRouter(include_in_schema=False)

register_nav("patient", "Questionnaires", "/questionnaires", 40)

HOME = "/questionnaires"
TREND_POINTS = 12
TABLE_ROWS = 10


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _day(day: date, today: date) -> str:
    return "today" if day == today else f"on {format_day(day)}"


@router.get("/questionnaires")
def questionnaires_page(request: Request) -> Response:
    with transaction(request) as tx:
        if not tx.actor.is_patient:
            return RedirectResponse("/", status_code=303)
        data = service.overview(tx.db, tx.actor, tx.ctx, tx.actor.patient_id)
        due = [
            {
                "code": d["code"],
                "title": d["title"],
                "reason": d["reason"],
                "since": None if d["due"] >= data.today else format_day(d["due"]),
            }
            for d in data.due
        ]
        results = [
            {
                "code": r.code,
                "title": r.title,
                "score_name": r.score_name,
                "sentence": r.sentence,
                "meaning": r.meaning,
                "latest": _day(r.history[-1].day, data.today),
                "chart": _chart(r.history[-TREND_POINTS:], r.minimum, r.maximum),
                "trend_label": _trend_label(r.score_name, r.history[-TREND_POINTS:]),
                "rows": [
                    {
                        "day": format_day(p.day),
                        "total": format_total(p.total),
                        "band": p.band_label or "",
                        "id": p.response_id,
                    }
                    for p in reversed(r.history[-TABLE_ROWS:])
                ],
                "has_bands": any(p.band_label for p in r.history),
            }
            for r in data.results
        ]
        return render(
            request,
            "questionnaires/index.html",
            {"due": due, "results": results, "instruments": data.instruments},
            actor=tx.actor,
        )


def _chart(points: list[service.HistoryPoint], low: float, high: float) -> dict[str, Any] | None:
    """An SVG line of the scores (oldest on the left), or None for a single score."""
    if len(points) < 2:
        return None
    width, height, pad, left = 300, 100, 8, 28
    span = (high - low) or 1
    step = (width - left - pad) / (len(points) - 1)
    coords = [
        (
            round(left + i * step, 1),
            round(height - pad - (float(p.total) - low) / span * (height - 2 * pad), 1),
        )
        for i, p in enumerate(points)
    ]
    return {
        "width": width,
        "height": height,
        "top": format_total(high),
        "bottom": format_total(low),
        "line": " ".join(f"{x},{y}" for x, y in coords),
        "dots": coords,
    }


def _trend_label(score_name: str, points: list[service.HistoryPoint]) -> str:
    if len(points) < 2:
        return ""
    first, last = points[0], points[-1]
    return (
        f"Your {score_name} over time, from {format_total(first.total)} on "
        f"{format_day(first.day)} to {format_total(last.total)} on {format_day(last.day)}"
    )


@router.get("/questionnaires/results/{response_id}")
def result_page(response_id: str, request: Request) -> Response:
    with transaction(request) as tx:
        if not tx.actor.is_patient:
            return RedirectResponse("/", status_code=303)
        try:
            rid = uuid.UUID(response_id)
        except ValueError:
            raise NotFound("no such questionnaire response") from None
        view = service.result_view(tx.db, tx.actor, tx.ctx, tx.actor.patient_id, rid)
        return render(
            request,
            "questionnaires/result.html",
            {
                "view": view,
                "advice": view.response.advice,
                "completed_on": format_day(view.completed_on),
            },
            actor=tx.actor,
        )


@router.get("/questionnaires/{code}")
def form_start(code: str, request: Request) -> Response:
    with transaction(request) as tx:
        if not tx.actor.is_patient:
            return RedirectResponse("/", status_code=303)
        instrument = service.form_instrument(code)
        context = _step_context(instrument, uuid.uuid4(), [], None, None, focus=False)
        return render(request, "questionnaires/form.html", context, actor=tx.actor)


@router.post("/questionnaires/{code}")
def form_step(
    code: str,
    request: Request,
    csrf_token: Annotated[str, Form()] = "",
    response_id: Annotated[str, Form()] = "",
    answers: Annotated[list[str] | None, Form()] = None,
    answer: Annotated[str, Form()] = "",
    go: Annotated[str, Form()] = "next",
) -> Response:
    """One step: check the answer to this question, then show the next question or,
    after the last one, send the answers and show the result."""
    with transaction(request, csrf_token=csrf_token) as tx:
        if not tx.actor.is_patient:
            return RedirectResponse("/", status_code=303)
        instrument = service.form_instrument(code)
        rid = _uuid_or_new(response_id)
        prior, tampered = _valid_prefix(instrument, answers or [])
        error = (
            "One of your earlier answers could not be used: please answer again."
            if (tampered)
            else None
        )
        if not tampered and go == "back":
            selected = prior.pop() if prior else None
            return _step(request, tx.actor, instrument, rid, prior, selected, None)
        if not tampered:
            current = _parse(instrument.items[len(prior)], answer)
            if current is None:
                error = "Choose an answer to this question."
            else:
                prior.append(current)
        if error is not None or len(prior) < len(instrument.items):
            return _step(request, tx.actor, instrument, rid, prior, None, error)
        body = QuestionnaireResponseCreate(id=rid, instrument=instrument.code, answers=prior)
        try:
            service.submit_response(tx.db, tx.actor, tx.ctx, tx.actor.patient_id, body)
        except InvalidInput as problem:
            if not any(p.field == "id" for p in problem.problems):
                raise
            already = (
                "These answers were already sent, and sent answers cannot be changed. "
                "Start the questionnaire again to send a new set."
            )
            last = prior.pop()
            return _step(request, tx.actor, instrument, rid, prior, last, already)
    target = f"/questionnaires/results/{rid}"
    if _is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def _uuid_or_new(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        return uuid.uuid4()


def _parse(item: Item, text: str) -> int | None:
    try:
        value = int(text.strip())
    except ValueError:
        return None
    return value if value in item.options.values else None


def _valid_prefix(instrument: Instrument, sent: list[str]) -> tuple[list[int], bool]:
    """The answers so far that can be used, and whether any could not (changed by
    hand, or more than there are questions before this one)."""
    kept: list[int] = []
    for item, text in zip(instrument.items, sent, strict=False):
        value = _parse(item, text)
        if value is None:
            return kept, True
        kept.append(value)
    return kept, len(sent) >= len(instrument.items)


def _step(
    request: Request,
    actor: Any,
    instrument: Instrument,
    rid: uuid.UUID,
    prior: list[int],
    selected: int | None,
    error: str | None,
) -> Response:
    if len(prior) >= len(instrument.items):
        prior = prior[: len(instrument.items) - 1]
    context = _step_context(instrument, rid, prior, selected, error, focus=True)
    htmx = _is_htmx(request)
    status = 422 if error and not htmx else 200
    name = "questionnaires/_step.html" if htmx else "questionnaires/form.html"
    return render(request, name, context, actor=actor, status_code=status)


def _step_context(
    instrument: Instrument,
    rid: uuid.UUID,
    prior: list[int],
    selected: int | None,
    error: str | None,
    *,
    focus: bool,
) -> dict[str, Any]:
    item = instrument.items[len(prior)]
    number = len(prior) + 1
    options = [
        {
            "value": value,
            "label": f"{value} – {label}" if item.options.is_scale and label else (label or value),
        }
        for value, label in item.options.options
    ]
    return {
        "instrument": instrument,
        "title": plain(instrument).title,
        "code": instrument.code,
        "item": item,
        "question": item.text or item.label,
        "number": number,
        "count": len(instrument.items),
        "is_last": number == len(instrument.items),
        "answers": prior,
        "options": options,
        "selected": selected,
        "response_id": str(rid),
        "error": error,
        "focus": focus,
        "stem": instrument.stem,
        "recall": instrument.recall_period,
    }


# --------------------------------------------------------------------------- the schedule
#
# The care team's page for which questionnaire is due when (the API's
# GET/PUT .../questionnaire-schedule as a form). One row per instrument; the rows'
# fields come back as lists in row order (``code`` and ``every_days``) and as the codes
# whose boxes are ticked.

SCHEDULE_SAVED = {"schedule": "Schedule saved.", "defaults": "PainPath's defaults restored."}


def _schedule_page(
    request: Request,
    tx: Tx,
    patient_id: uuid.UUID,
    *,
    errors: list[Problem] | None = None,
    form: dict[str, dict[str, Any]] | None = None,
    status_code: int = 200,
) -> Response:
    schedule, name = service.schedule_page(tx.db, tx.actor, tx.ctx, patient_id)
    return render(
        request,
        "questionnaires/schedule.html",
        {
            "s": schedule,
            "patient_name": name,
            "errors": errors or [],
            "form": form or {},
            "message": SCHEDULE_SAVED.get(request.query_params.get("saved", "")),
        },
        actor=tx.actor,
        status_code=status_code,
    )


@router.get("/patients/{patient_id}/questionnaire-schedule")
def schedule_form(patient_id: uuid.UUID, request: Request) -> Response:
    with transaction(request) as tx:
        if not tx.actor.is_clinician:
            return RedirectResponse("/", status_code=303)
        return _schedule_page(request, tx, patient_id)


def _names() -> dict[str, str]:
    return {code: instrument.name for code, instrument in load_instruments().items()}


def _schedule_rows(
    code: list[str],
    every_days: list[str],
    ticked: dict[str, set[str]],
) -> tuple[dict[str, dict[str, Any]], list[Problem]]:
    rows: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    names = _names()
    for i, instrument in enumerate(code[:50]):
        text = (every_days[i] if i < len(every_days) else "").strip()
        every, usable = whole_number(text, 1, 365)
        if not usable:
            label = names.get(instrument, instrument)
            problems.append(
                Problem(
                    f"instruments.{instrument}.every_days",
                    f"{label}: give the number of days as a whole number from 1 to 365, "
                    "or leave it empty.",
                )
            )
        rows[instrument] = {
            "scheduled": instrument in ticked["scheduled"],
            "every_days": every if every is not None else (text[:4] or None),
            **{key: instrument in ticked[key] for key in ticked if key != "scheduled"},
        }
    return rows, problems


@router.post("/patients/{patient_id}/questionnaire-schedule")
def save_schedule(
    patient_id: uuid.UUID,
    request: Request,
    code: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI reads the default)
    every_days: Annotated[list[str], Form()] = [],  # noqa: B006
    scheduled: Annotated[list[str], Form()] = [],  # noqa: B006
    at_baseline: Annotated[list[str], Form()] = [],  # noqa: B006
    at_reviews: Annotated[list[str], Form()] = [],  # noqa: B006
    at_episode_start: Annotated[list[str], Form()] = [],  # noqa: B006
    version: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    ticked = {
        "scheduled": set(scheduled),
        "at_baseline": set(at_baseline),
        "at_reviews": set(at_reviews),
        "at_episode_start": set(at_episode_start),
    }
    rows, problems = _schedule_rows(code, every_days, ticked)
    with transaction(request, csrf_token=csrf_token) as tx:
        if not tx.actor.is_clinician:
            return RedirectResponse("/", status_code=303)
        status_code = 422
        if not problems:
            chosen = {} if action == "defaults" else rows
            try:
                service.update_schedule(
                    tx.db,
                    tx.actor,
                    tx.ctx,
                    patient_id,
                    ScheduleUpdate.model_validate({"instruments": chosen}),
                    if_match=etag(patient_id, int(version)) if version.isdecimal() else "",
                )
            except ValidationError:
                problems.append(Problem("instruments", "Check the schedule and try again."))
            except InvalidInput as exc:
                names = _names()
                for p in exc.problems:
                    parts = p.field.split(".")
                    label = names.get(parts[1], "") if len(parts) > 1 else ""
                    problems.append(
                        Problem(p.field, f"{label}: {p.message}" if label else p.message)
                    )
            except (PreconditionFailed, PreconditionRequired) as exc:
                problems.append(Problem("version", exc.message))
                status_code = 409
        if problems:
            tx.db.rollback()
            return _schedule_page(
                request, tx, patient_id, errors=problems, form=rows, status_code=status_code
            )
    saved = "defaults" if action == "defaults" else "schedule"
    return RedirectResponse(
        f"/patients/{patient_id}/questionnaire-schedule?saved={saved}", status_code=303
    )
