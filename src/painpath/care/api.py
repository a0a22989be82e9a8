"""JSON routes for patients."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Query, Request

from painpath.care import service
from painpath.care.schemas import PatientDetail, PatientPage
from painpath.kit.pagination import DEFAULT_LIMIT
from painpath.kit.web import transaction

router = APIRouter(prefix="/api/v1", tags=["patients"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    404: {"description": "No such patient"},
}


@router.get("/patients", response_model=PatientPage, responses=ERRORS)
def list_patients(
    request: Request,
    cursor: str | None = Query(default=None, max_length=400),
    limit: int = Query(default=DEFAULT_LIMIT, ge=1, le=100),
) -> PatientPage:
    with transaction(request) as tx:
        page = service.list_patients(
            tx.db, tx.actor, cursor=cursor, limit=limit, request_id=tx.request_id, now=tx.now
        )
    next_url = None
    if page.next_cursor:
        next_url = str(request.url.include_query_params(cursor=page.next_cursor, limit=limit))
    return PatientPage(items=page.items, next=next_url)


@router.get("/patients/{patient_id}", response_model=PatientDetail, responses=ERRORS)
def get_patient(patient_id: uuid.UUID, request: Request) -> PatientDetail:
    with transaction(request) as tx:
        return service.get_patient(
            tx.db, tx.actor, patient_id, request_id=tx.request_id, now=tx.now
        )
