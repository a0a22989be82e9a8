"""JSON routes of the alerts area: the clinician's alert inbox and a patient's alerts."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from painpath.alerts import service
from painpath.alerts.schemas import AlertPage, AlertRead, AlertUpdate
from painpath.kit.pagination import DEFAULT_LIMIT
from painpath.kit.records import etag
from painpath.kit.routes import ERRORS, Cursor, Limit, next_link
from painpath.kit.web import transaction

router = APIRouter(prefix="/api/v1", tags=["alerts"])

Status = Annotated[
    str,
    Query(
        pattern="^(open|acknowledged|resolved|active|all)$",
        description="open (default), acknowledged, resolved, active (open or acknowledged), all",
    ),
]


@router.get("/alerts", response_model=AlertPage, responses=ERRORS)
def list_alerts(
    request: Request,
    status: Status = "open",
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> AlertPage:
    """The alerts of the signed-in clinician's caseload, most urgent first, then oldest."""
    with transaction(request) as tx:
        page = service.list_alerts(
            tx.db, tx.actor, tx.ctx, status=status, cursor=cursor, limit=limit
        )
    return AlertPage(items=page.items, next=next_link(request, page.next_cursor))


@router.get("/alerts/{alert_id}", response_model=AlertRead, responses=ERRORS)
def get_alert(alert_id: uuid.UUID, request: Request, response: Response) -> AlertRead:
    with transaction(request) as tx:
        alert = service.get_alert(tx.db, tx.actor, tx.ctx, alert_id)
    response.headers["ETag"] = etag(alert.id, alert.version)
    return alert


@router.patch(
    "/alerts/{alert_id}",
    response_model=AlertRead,
    responses={**ERRORS, 412: {"description": "If-Match was sent and is stale"}},
)
def update_alert(
    alert_id: uuid.UUID,
    body: AlertUpdate,
    request: Request,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> AlertRead:
    """Acknowledge or resolve an alert with a note (If-Match optional)."""
    with transaction(request) as tx:
        alert = service.update_alert(tx.db, tx.actor, tx.ctx, alert_id, body, if_match=if_match)
    response.headers["ETag"] = etag(alert.id, alert.version)
    return alert


@router.get("/patients/{patient_id}/alerts", response_model=AlertPage, responses=ERRORS)
def list_patient_alerts(
    patient_id: uuid.UUID,
    request: Request,
    status: Status = "all",
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> AlertPage:
    with transaction(request) as tx:
        page = service.list_patient_alerts(
            tx.db, tx.actor, tx.ctx, patient_id, status=status, cursor=cursor, limit=limit
        )
    return AlertPage(items=page.items, next=next_link(request, page.next_cursor))
