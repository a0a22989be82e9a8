"""HTML routes of the response area: the patient's "My result" and "My data", the
evidence page (both roles) and the clinician's view of a course.

Charts are ``<img>`` elements pointing at the SVG routes of ``api.py`` (served with
the session cookie, authorised and audited there), each with a text alternative.
"""

from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from painpath.kit.errors import InvalidInput, Problem
from painpath.kit.web import register_nav, render, transaction
from painpath.response import service

router = APIRouter(include_in_schema=False)

register_nav("patient", "My result", "/my-result", 30)
register_nav("patient", "My data", "/my-data", 50)
register_nav("patient", "Evidence", "/evidence", 90)
register_nav("clinician", "Evidence", "/evidence", 90)


@router.get("/my-result")
def my_result(request: Request) -> Response:
    with transaction(request) as tx:
        if not tx.actor.is_patient or tx.actor.patient_id is None:
            return RedirectResponse("/", status_code=303)
        page = service.patient_courses(tx.db, tx.actor, tx.ctx, tx.actor.patient_id)
        return render(
            request,
            "response/my_result.html",
            {"courses": page["courses"], "evidence": service.evidence()},
            actor=tx.actor,
        )


@router.get("/my-data")
def my_data(request: Request) -> Response:
    with transaction(request) as tx:
        if not tx.actor.is_patient or tx.actor.patient_id is None:
            return RedirectResponse("/", status_code=303)
        data = service.my_data(tx.db, tx.actor, tx.ctx, tx.actor.patient_id)
        return render(request, "response/my_data.html", {"data": data}, actor=tx.actor)


@router.get("/evidence")
def evidence(request: Request) -> Response:
    with transaction(request) as tx:
        if tx.actor.is_admin:
            return RedirectResponse("/", status_code=303)
        return render(
            request, "response/evidence.html", {"evidence": service.evidence()}, actor=tx.actor
        )


@router.get("/patients/{patient_id}/response")
def clinician_courses(patient_id: uuid.UUID, request: Request) -> Response:
    with transaction(request) as tx:
        if tx.actor.is_patient:
            return RedirectResponse("/my-result", status_code=303)
        page = service.patient_courses(tx.db, tx.actor, tx.ctx, patient_id)
        return render(request, "response/clinician_courses.html", page, actor=tx.actor)


def _window(
    request: Request,
) -> tuple[date | None, date | None, dict[str, str], list[Problem]]:
    """The optional assessment window from the query string, checked here so that a bad
    date re-renders the page with a message instead of a JSON error."""
    raw = {
        name: (request.query_params.get(name) or "").strip()
        for name in ("assess_from", "assess_to")
    }
    problems: list[Problem] = []
    parsed: dict[str, date | None] = {}
    for name, text in raw.items():
        parsed[name] = None
        if text:
            try:
                parsed[name] = date.fromisoformat(text)
            except ValueError:
                problems.append(Problem(name, "enter a real date, for example 2025-03-01"))
    if not problems and (parsed["assess_from"] is None) != (parsed["assess_to"] is None):
        missing = "assess_to" if parsed["assess_to"] is None else "assess_from"
        problems.append(Problem(missing, "give both the first and the last day, or neither"))
    if problems:
        return None, None, raw, problems
    return parsed["assess_from"], parsed["assess_to"], raw, []


@router.get("/patients/{patient_id}/response/{prescription_id}")
def clinician_course(
    patient_id: uuid.UUID, prescription_id: uuid.UUID, request: Request
) -> Response:
    assess_from, assess_to, raw, problems = _window(request)
    with transaction(request) as tx:
        if tx.actor.is_patient:
            return RedirectResponse("/my-result", status_code=303)
        page = None
        if not problems:
            try:
                page = service.course_page(
                    tx.db, tx.actor, tx.ctx, patient_id, prescription_id, assess_from, assess_to
                )
            except InvalidInput as error:
                problems = error.problems or [Problem("assess_from", error.message)]
        if page is None:
            page = service.course_page(tx.db, tx.actor, tx.ctx, patient_id, prescription_id)
        return render(
            request,
            "response/clinician_course.html",
            {
                **page,
                "window": raw,
                "errors": problems,
                "field_errors": {p.field: p.message for p in problems},
            },
            actor=tx.actor,
            status_code=422 if problems else 200,
        )
