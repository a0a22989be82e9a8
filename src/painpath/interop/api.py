"""JSON and file routes of the interop area: FHIR ``$everything``, the calendar, the
report PDF, the patient's data download and erasure, Yellow Card summaries and the
caseload outcomes CSV. One router without a prefix (full paths)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from painpath.interop import service
from painpath.interop.schemas import EraseRequest, EraseResult
from painpath.kit.routes import ERRORS
from painpath.kit.web import SESSION_COOKIE, clear_cookie, transaction

router = APIRouter(tags=["interop"])

FHIR_JSON = "application/fhir+json"


def _file(body: bytes | str, media_type: str, filename: str) -> Response:
    return Response(
        content=body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/fhir/Patient/{patient_id}/$everything",
    responses={**ERRORS, 200: {"content": {FHIR_JSON: {}}, "description": "A FHIR R4 Bundle"}},
    response_class=Response,
)
def patient_everything(patient_id: uuid.UUID, request: Request) -> Response:
    """Everything about one patient as a FHIR R4 Bundle (type collection)."""
    with transaction(request) as tx:
        text = service.everything(tx.db, tx.actor, tx.ctx, patient_id)
    return Response(content=text, media_type=FHIR_JSON)


@router.get(
    "/api/v1/patients/{patient_id}/calendar.ics",
    responses={**ERRORS, 200: {"content": {"text/calendar": {}}, "description": "iCalendar"}},
    response_class=Response,
)
def calendar(patient_id: uuid.UUID, request: Request) -> Response:
    """Follow-ups, dose times and taper steps as iCalendar (the patient's time zone)."""
    with transaction(request) as tx:
        body = service.calendar(tx.db, tx.actor, tx.ctx, patient_id)
    return _file(body, "text/calendar; charset=utf-8", "painpath.ics")


@router.get(
    "/api/v1/patients/{patient_id}/report.pdf",
    responses={**ERRORS, 200: {"content": {"application/pdf": {}}, "description": "PDF"}},
    response_class=Response,
)
def report_pdf(patient_id: uuid.UUID, request: Request) -> Response:
    """The appointment report as PDF."""
    with transaction(request) as tx:
        pdf = service.report_pdf(tx.db, tx.actor, tx.ctx, patient_id)
    return _file(pdf, "application/pdf", "painpath-report.pdf")


@router.get(
    "/api/v1/patients/{patient_id}/side-effect-reports/{report_id}/yellow-card",
    responses=ERRORS,
)
def yellow_card(patient_id: uuid.UUID, report_id: uuid.UUID, request: Request) -> dict[str, Any]:
    """A summary of a side-effect report for the MHRA Yellow Card scheme."""
    with transaction(request) as tx:
        return service.yellow_card(tx.db, tx.actor, tx.ctx, patient_id, report_id)


@router.get(
    "/api/v1/caseload/outcomes.csv",
    responses={**ERRORS, 200: {"content": {"text/csv": {}}, "description": "CSV"}},
    response_class=Response,
)
def caseload_outcomes(request: Request) -> Response:
    """The clinician's own caseload outcomes for clinical audit (no names, no free text)."""
    with transaction(request) as tx:
        text = service.caseload_outcomes_csv(tx.db, tx.actor, tx.ctx)
    return _file(text, "text/csv; charset=utf-8", "caseload-outcomes.csv")


@router.get(
    "/api/v1/me/export",
    responses={**ERRORS, 200: {"content": {"application/zip": {}}, "description": "zip"}},
    response_class=Response,
)
def my_data(request: Request) -> Response:
    """Download everything PainPath holds about me (a patient): FHIR bundle and CSVs."""
    with transaction(request) as tx:
        body, name = service.export_my_data(tx.db, tx.actor, tx.ctx)
    return _file(body, "application/zip", name)


@router.post("/api/v1/me/erase", response_model=EraseResult, responses=ERRORS)
def erase_me(body: EraseRequest, request: Request, response: Response) -> EraseResult:
    """Erase my account and records (patients); the audit trail keeps a pseudonym."""
    with transaction(request) as tx:
        result = service.erase_my_account(
            tx.db, tx.actor, tx.ctx, confirm=body.confirm, settings=tx.settings
        )
    clear_cookie(request, response, SESSION_COOKIE)
    return EraseResult(**result)
