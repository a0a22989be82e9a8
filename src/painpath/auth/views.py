"""HTML routes: the sign-in page, signing out and each role's home page."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from painpath.auth import service
from painpath.kit.errors import Unauthorized
from painpath.kit.web import (
    ANON_CSRF_COOKIE,
    SESSION_COOKIE,
    render,
    set_session_cookie,
    transaction,
)

router = APIRouter(include_in_schema=False)


HOME = {"patient": "/today", "clinician": "/caseload", "admin": "/admin"}


@router.get("/")
def home(request: Request) -> Response:
    """The sign-in page, or the signed-in person's home page."""
    with transaction(request, require_actor=False) as tx:
        actor = tx.actor
        if actor is None:
            return render(request, "auth/login.html", {"error": None, "email": ""})
        return RedirectResponse(HOME[actor.role.value], status_code=303)


@router.get("/admin")
def admin_home(request: Request) -> Response:
    with transaction(request) as tx:
        if not tx.actor.is_admin:
            return RedirectResponse("/", status_code=303)
        return render(request, "auth/admin_home.html", {}, actor=tx.actor)


@router.post("/login")
def login_form(
    request: Request,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    totp: Annotated[str, Form(max_length=12)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    expected = request.cookies.get(ANON_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        return render(
            request,
            "auth/login.html",
            {"error": "The sign-in form expired. Please try again.", "email": email},
            status_code=400,
        )
    try:
        with transaction(request, require_actor=False, authenticate=False) as tx:
            signed_in = service.login(
                tx.db,
                tx.settings,
                email=email,
                password=password,
                totp=totp or None,
                now=tx.now,
                request_id=tx.request_id,
            )
    except Unauthorized:
        return render(
            request,
            "auth/login.html",
            {
                "error": "The email, password or code is not right. Check them and try again.",
                "email": email,
            },
            status_code=401,
        )
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(request, response, signed_in.token)
    response.delete_cookie(ANON_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout_form(
    request: Request, csrf_token: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    with transaction(request, csrf_token=csrf_token) as tx:
        service.logout(tx.db, tx.actor, tx.now)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
