"""JSON routes for sign-in, the signed-in account, step-up, passwords, the patient's
access log and administrators' break-glass."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request, Response

from painpath.audit import service as audit_service
from painpath.audit.schemas import AccessPage
from painpath.auth import breakglass, service
from painpath.auth.mailing import RESET_SENT, send_reset_email
from painpath.auth.schemas import (
    BreakGlassCreate,
    BreakGlassRead,
    LoginRequest,
    LoginResponse,
    MeRead,
    Message,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    StepUpRead,
    StepUpRequest,
)
from painpath.kit.pagination import DEFAULT_LIMIT
from painpath.kit.routes import ERRORS, Cursor, Limit, next_link
from painpath.kit.web import (
    DEVICE_COOKIE,
    SESSION_COOKIE,
    app_state,
    bearer_or_cookie,
    clear_cookie,
    client_address,
    read_cookie,
    set_device_cookie,
    set_session_cookie,
    transaction,
)

router = APIRouter(prefix="/api/v1", tags=["auth"])

THROTTLED: dict[int | str, dict[str, Any]] = {
    429: {"description": "Too many attempts: wait (see Retry-After)"},
    503: {"description": "Busy: try again in a few seconds"},
}


@router.post(
    "/auth/login",
    response_model=LoginResponse,
    responses={401: {"description": "Bad credentials"}, **THROTTLED},
)
def login(body: LoginRequest, request: Request, response: Response) -> LoginResponse:
    previous, _ = bearer_or_cookie(request)
    with transaction(request, require_actor=False, authenticate=False) as tx:
        signed_in = service.login(
            tx.db,
            tx.settings,
            email=body.email,
            password=body.password,
            totp=body.totp,
            now=tx.now,
            request_id=tx.request_id,
            address=client_address(request),
            device_token=read_cookie(request, DEVICE_COOKIE),
            previous_token=previous,
            throttles=app_state(request).throttles,
        )
    set_session_cookie(request, response, signed_in.token)
    set_device_cookie(request, response, signed_in.device_token)
    return LoginResponse(token=signed_in.token)


@router.post("/auth/logout", status_code=204, responses={401: {"description": "Not signed in"}})
def logout(request: Request) -> Response:
    with transaction(request) as tx:
        service.logout(tx.db, tx.actor, tx.now)
    response = Response(status_code=204)
    clear_cookie(request, response, SESSION_COOKIE)
    return response


@router.post(
    "/auth/step-up",
    response_model=StepUpRead,
    responses={401: {"description": "Not signed in, or wrong password or code"}, **THROTTLED},
)
def step_up(body: StepUpRequest, request: Request) -> StepUpRead:
    """Prove the password (and security code) again before a dose change or taper."""
    with transaction(request) as tx:
        until = service.step_up(
            tx.db,
            tx.actor,
            password=body.password,
            totp=body.totp,
            now=tx.now,
            request_id=tx.request_id,
            throttles=app_state(request).throttles,
            address=client_address(request),
        )
    return StepUpRead(valid_until=until)


@router.post(
    "/auth/password",
    status_code=204,
    responses={**ERRORS, **THROTTLED},
)
def change_password(body: PasswordChange, request: Request) -> Response:
    """Change the password: every session of the account ends, this one included."""
    with transaction(request) as tx:
        service.change_password(
            tx.db,
            tx.actor,
            current_password=body.current_password,
            new_password=body.new_password,
            totp=body.totp,
            now=tx.now,
            request_id=tx.request_id,
            throttles=app_state(request).throttles,
            address=client_address(request),
        )
    response = Response(status_code=204)
    clear_cookie(request, response, SESSION_COOKIE)
    return response


@router.post(
    "/auth/password-reset",
    status_code=202,
    response_model=Message,
    responses={422: ERRORS[422], **THROTTLED},
)
def request_password_reset(
    body: PasswordResetRequest, request: Request, background: BackgroundTasks
) -> Message:
    """Email a single-use reset link; the answer is the same whether or not the
    account exists."""
    with transaction(request, require_actor=False, authenticate=False) as tx:
        mail = service.request_password_reset(
            tx.db,
            email=body.email,
            now=tx.now,
            request_id=tx.request_id,
            address=client_address(request),
            throttles=app_state(request).throttles,
        )
    background.add_task(send_reset_email, app_state(request).settings, mail)
    return Message(detail=RESET_SENT)


@router.post(
    "/auth/password-reset/confirm",
    status_code=204,
    responses={422: ERRORS[422], **THROTTLED},
)
def confirm_password_reset(body: PasswordResetConfirm, request: Request) -> Response:
    with transaction(request, require_actor=False, authenticate=False) as tx:
        service.reset_password(
            tx.db,
            token=body.token,
            new_password=body.new_password,
            totp=body.totp,
            now=tx.now,
            request_id=tx.request_id,
            throttles=app_state(request).throttles,
        )
    return Response(status_code=204)


@router.get("/me", response_model=MeRead, responses={401: {"description": "Not signed in"}})
def me(request: Request) -> MeRead:
    with transaction(request) as tx:
        a = tx.actor
        return MeRead(
            user_id=a.user_id,
            role=a.role.value,
            display_name=a.display_name,
            patient_id=a.patient_id,
            clinician_id=a.clinician_id,
        )


@router.get("/me/access-log", response_model=AccessPage, responses=ERRORS)
def access_log(request: Request, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT) -> AccessPage:
    """Who has read or changed my record, newest first (patients only)."""
    with transaction(request) as tx:
        page = audit_service.access_log(
            tx.db, tx.actor, cursor=cursor, limit=limit, request_id=tx.request_id, now=tx.now
        )
    return AccessPage(items=page.items, next=next_link(request, page.next_cursor))


@router.post(
    "/patients/{patient_id}/break-glass",
    response_model=BreakGlassRead,
    status_code=201,
    responses={**ERRORS, 200: {"description": "The same id sent again: the same grant"}},
)
def break_glass(
    patient_id: uuid.UUID, body: BreakGlassCreate, request: Request, response: Response
) -> BreakGlassRead:
    """Administrators: read one patient's record for 30 minutes, for a stated reason
    (audited; the care team is alerted)."""
    with transaction(request) as tx:
        expires, created = breakglass.break_glass(
            tx.db, tx.actor, tx.ctx, patient_id, grant_id=body.id, reason=body.reason
        )
    response.status_code = 201 if created else 200
    return BreakGlassRead(id=body.id, patient_id=patient_id, expires_at=expires)
