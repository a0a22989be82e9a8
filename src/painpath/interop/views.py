"""HTML routes of the interop area: the appointment report's print page and the
printable Yellow Card summary."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from painpath.interop import service
from painpath.kit.web import register_nav, render, transaction

router = APIRouter(include_in_schema=False)

register_nav("patient", "My report", "/me/report", 85)


@router.get("/me/report")
def my_report(request: Request) -> Response:
    with transaction(request) as tx:
        if not tx.actor.is_patient or tx.actor.patient_id is None:
            return RedirectResponse("/", status_code=303)
        return RedirectResponse(f"/patients/{tx.actor.patient_id}/report", status_code=303)


@router.get("/patients/{patient_id}/report")
def report_page(patient_id: uuid.UUID, request: Request) -> Response:
    """The appointment report, laid out for printing (the PDF uses the same template)."""
    with transaction(request) as tx:
        content = service.report(tx.db, tx.actor, tx.ctx, patient_id)
        actor = tx.actor
    return render(
        request,
        "interop/report.html",
        {"report": content, "layout": "base.html", "for_pdf": False},
        actor=actor,
    )


@router.get("/patients/{patient_id}/side-effect-reports/{report_id}/yellow-card")
def yellow_card_page(patient_id: uuid.UUID, report_id: uuid.UUID, request: Request) -> Response:
    with transaction(request) as tx:
        card = service.yellow_card(tx.db, tx.actor, tx.ctx, patient_id, report_id)
        actor = tx.actor
    return render(
        request,
        "interop/yellow_card.html",
        {"card": card, "patient_id": str(patient_id)},
        actor=actor,
    )
