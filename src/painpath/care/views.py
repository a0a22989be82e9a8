"""HTML routes: the patient's Today page and the clinician's caseload."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from painpath.care import service
from painpath.kit.web import register_nav, render, transaction

router = APIRouter(include_in_schema=False)

register_nav("patient", "Today", "/today", 10)
register_nav("clinician", "Caseload", "/caseload", 10)


@router.get("/today")
def today(request: Request) -> Response:
    with transaction(request) as tx:
        if not tx.actor.is_patient:
            return RedirectResponse("/", status_code=303)
        return render(request, "care/today.html", {}, actor=tx.actor)


@router.get("/caseload")
def caseload(request: Request) -> Response:
    with transaction(request) as tx:
        if not tx.actor.is_clinician:
            return RedirectResponse("/", status_code=303)
        page = service.list_patients(
            tx.db, tx.actor, cursor=None, limit=100, request_id=tx.request_id, now=tx.now
        )
        return render(request, "care/caseload.html", {"patients": page.items}, actor=tx.actor)
