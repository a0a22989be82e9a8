"""JSON routes for sign-in and the signed-in account."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from painpath.auth import service
from painpath.auth.schemas import LoginRequest, LoginResponse, MeRead
from painpath.kit.web import SESSION_COOKIE, set_session_cookie, transaction

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post(
    "/auth/login",
    response_model=LoginResponse,
    responses={401: {"description": "Bad credentials"}},
)
def login(body: LoginRequest, request: Request, response: Response) -> LoginResponse:
    with transaction(request, require_actor=False, authenticate=False) as tx:
        signed_in = service.login(
            tx.db,
            tx.settings,
            email=body.email,
            password=body.password,
            totp=body.totp,
            now=tx.now,
            request_id=tx.request_id,
        )
    set_session_cookie(request, response, signed_in.token)
    return LoginResponse(token=signed_in.token)


@router.post("/auth/logout", status_code=204, responses={401: {"description": "Not signed in"}})
def logout(request: Request) -> Response:
    with transaction(request) as tx:
        service.logout(tx.db, tx.actor, tx.now)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


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
