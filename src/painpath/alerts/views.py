"""HTML routes of the alerts area: the clinician's alert inbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.responses import Response

from painpath.alerts import service
from painpath.alerts.schemas import AlertUpdate
from painpath.kit.errors import Conflict, PreconditionFailed, Problem
from painpath.kit.records import etag
from painpath.kit.web import Tx, register_nav, render, transaction

router = APIRouter(include_in_schema=False)

register_nav("clinician", "Alerts", "/alerts", 20)

FILTERS = {"open": "Open", "acknowledged": "Acknowledged", "resolved": "Resolved"}
MESSAGES = {"acknowledged": "Alert acknowledged.", "resolved": "Alert resolved."}


def when(value: datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo("Europe/London"))
    return f"{local.day} {local:%b %Y, %H:%M}"


def age(value: datetime, now: datetime) -> str:
    minutes = int((now - value).total_seconds() // 60)
    if minutes < 60:
        return "less than an hour" if minutes < 2 else f"{minutes} minutes"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{hours // 24} days"


def _inbox(
    request: Request,
    tx: Tx,
    status: str,
    *,
    errors: list[Problem] | None = None,
    code: int = 200,
) -> Response:
    page = service.list_alerts(tx.db, tx.actor, tx.ctx, status=status, limit=100)
    context: dict[str, Any] = {
        "alerts": page.items,
        "status": status,
        "filters": FILTERS,
        "when": when,
        "age": age,
        "now": tx.now,
        "etag": etag,
        "errors": errors or [],
        "message": MESSAGES.get(request.query_params.get("saved", "")),
        "more": page.next_cursor is not None,
    }
    return render(request, "alerts/inbox.html", context, actor=tx.actor, status_code=code)


@router.get("/alerts")
def inbox(request: Request, status: str = "open") -> Response:
    with transaction(request) as tx:
        if not tx.actor.is_clinician:
            return RedirectResponse("/", status_code=303)
        return _inbox(request, tx, status if status in FILTERS else "open")


@router.post("/alerts/{alert_id}")
def change_alert(
    alert_id: uuid.UUID,
    request: Request,
    status: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    version: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    with transaction(request, csrf_token=csrf_token) as tx:
        if not tx.actor.is_clinician:
            return RedirectResponse("/", status_code=303)
        problems: list[Problem] = []
        try:
            data = AlertUpdate.model_validate(
                {"status": status, "note": note.strip()[:4000] or None}
            )
            service.update_alert(
                tx.db,
                tx.actor,
                tx.ctx,
                alert_id,
                data,
                if_match=etag(alert_id, int(version)) if version.isdecimal() else None,
            )
        except ValidationError:
            problems.append(Problem("status", "Choose acknowledge or resolve."))
        except PreconditionFailed:
            problems.append(
                Problem("status", "Someone else changed this alert: check it again below.")
            )
        except Conflict as exc:
            problems.append(Problem("status", exc.message))
        if problems:
            tx.db.rollback()
            return _inbox(request, tx, "open", errors=problems, code=409)
    return RedirectResponse(f"/alerts?saved={status}", status_code=303)
