"""JSON routes: the signed-in person's reminder preferences."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from painpath.kit.routes import CHANGE_ERRORS, ERRORS, IfMatch
from painpath.kit.web import transaction
from painpath.reminders import service
from painpath.reminders.schemas import ReminderPreferencesRead, ReminderPreferencesUpdate

router = APIRouter(tags=["reminders"])


@router.get(
    "/api/v1/me/reminder-preferences",
    response_model=ReminderPreferencesRead,
    responses=ERRORS,
)
def get_reminder_preferences(request: Request, response: Response) -> ReminderPreferencesRead:
    """Channels, quiet hours and reminder times (the defaults until saved); ETag header."""
    with transaction(request) as tx:
        prefs = service.get_preferences(tx.db, tx.actor, tx.ctx)
        response.headers["ETag"] = service.preferences_etag(tx.actor, prefs.version)
    return prefs


@router.put(
    "/api/v1/me/reminder-preferences",
    response_model=ReminderPreferencesRead,
    responses=CHANGE_ERRORS,
)
def put_reminder_preferences(
    body: ReminderPreferencesUpdate,
    request: Request,
    response: Response,
    if_match: IfMatch = None,
) -> ReminderPreferencesRead:
    """Replace the choices; needs ``If-Match`` with the ETag from GET."""
    with transaction(request) as tx:
        prefs = service.update_preferences(tx.db, tx.actor, tx.ctx, body, if_match=if_match)
        response.headers["ETag"] = service.preferences_etag(tx.actor, prefs.version)
    return prefs
