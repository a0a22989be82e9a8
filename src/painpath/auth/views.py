"""HTML routes: signing in and out, passwords (change and reset), step-up, the
patient's "who has seen my record" page and the administrator's home page."""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from painpath.audit import service as audit_service
from painpath.auth import service
from painpath.auth.mailing import RESET_SENT, send_reset_email
from painpath.kit.errors import Forbidden, InvalidInput, PainPathError, Unauthorized
from painpath.kit.pagination import DEFAULT_LIMIT
from painpath.kit.routes import next_link
from painpath.kit.security import TooManyRequests
from painpath.kit.web import (
    ANON_CSRF_COOKIE,
    DEVICE_COOKIE,
    SESSION_COOKIE,
    app_state,
    bearer_or_cookie,
    clear_cookie,
    client_address,
    read_cookie,
    register_nav,
    render,
    set_device_cookie,
    set_session_cookie,
    transaction,
)

router = APIRouter(include_in_schema=False)

HOME = {"patient": "/today", "clinician": "/caseload", "admin": "/admin"}
NOTICES = {
    "password": "Your password was changed. Sign in with your new password.",
    "reset": "Your new password is saved. Sign in with it now.",
}
FORM_EXPIRED = "The form expired. Please try again."
Text = Annotated[str, Form(max_length=1024)]
Csrf = Annotated[str, Form(max_length=100)]

register_nav("patient", "Who has seen my record", "/my-record-access", 90)
for _role in ("patient", "clinician", "admin"):
    register_nav(_role, "Password", "/account/password", 95)


def _anon_csrf_ok(request: Request, sent: str) -> bool:
    expected = read_cookie(request, ANON_CSRF_COOKIE) or ""
    return bool(expected) and secrets.compare_digest(expected, sent)


def _errors(exc: PainPathError) -> list[dict[str, str]]:
    if isinstance(exc, InvalidInput) and exc.problems:
        return [{"field": p.field, "message": p.message} for p in exc.problems]
    return [{"field": "", "message": exc.message}]


def _safe_next(value: str) -> str:
    """Only a path on this site (never another site: no "//", no scheme)."""
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


@router.get("/")
def home(request: Request, done: str = "") -> Response:
    """The sign-in page, or the signed-in person's home page."""
    with transaction(request, require_actor=False) as tx:
        actor = tx.actor
        if actor is None:
            return render(
                request,
                "auth/login.html",
                {"error": None, "email": "", "notice": NOTICES.get(done)},
            )
        return RedirectResponse(HOME[actor.role.value], status_code=303)


@router.get("/admin")
def admin_home(request: Request) -> Response:
    with transaction(request) as tx:
        if not tx.actor.is_admin:
            raise Forbidden("this page is for administrators")
        return render(request, "auth/admin_home.html", {}, actor=tx.actor)


@router.post("/login")
def login_form(
    request: Request,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Text = "",
    totp: Annotated[str, Form(max_length=12)] = "",
    csrf_token: Csrf = "",
) -> Response:
    if not _anon_csrf_ok(request, csrf_token):
        return render(
            request,
            "auth/login.html",
            {"error": "The sign-in form expired. Please try again.", "email": email},
            status_code=403,
        )
    previous, _ = bearer_or_cookie(request)
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
                address=client_address(request),
                device_token=read_cookie(request, DEVICE_COOKIE),
                previous_token=previous,
                throttles=app_state(request).throttles,
            )
    except TooManyRequests as exc:
        response = render(
            request,
            "auth/login.html",
            {"error": "Too many sign-in attempts. " + _sentence(exc.message), "email": email},
            status_code=429,
        )
        response.headers.update(exc.headers)
        return response
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
    set_device_cookie(request, response, signed_in.device_token)
    clear_cookie(request, response, ANON_CSRF_COOKIE)
    return response


def _sentence(message: str) -> str:
    text = message.split(": ", 1)[-1]
    return text[:1].upper() + text[1:] + "."


@router.post("/logout")
def logout_form(request: Request, csrf_token: Csrf = "") -> Response:
    with transaction(request, csrf_token=csrf_token) as tx:
        service.logout(tx.db, tx.actor, tx.now)
    response = RedirectResponse("/", status_code=303)
    clear_cookie(request, response, SESSION_COOKIE)
    return response


# ------------------------------------------------------------ password reset


@router.get("/reset")
def reset_request_page(request: Request) -> Response:
    return render(request, "auth/reset_request.html", {"email": "", "errors": [], "sent": None})


@router.post("/reset")
def reset_request_submit(
    request: Request,
    background: BackgroundTasks,
    email: Annotated[str, Form(max_length=320)] = "",
    csrf_token: Csrf = "",
) -> Response:
    context: dict[str, Any] = {"email": email, "errors": [], "sent": None}
    if not _anon_csrf_ok(request, csrf_token):
        context["errors"] = [{"field": "", "message": FORM_EXPIRED}]
        return render(request, "auth/reset_request.html", context, status_code=403)
    if "@" not in email.strip():
        context["errors"] = [{"field": "email", "message": "Enter your email address"}]
        return render(request, "auth/reset_request.html", context, status_code=422)
    try:
        with transaction(request, require_actor=False, authenticate=False) as tx:
            mail = service.request_password_reset(
                tx.db,
                email=email,
                now=tx.now,
                request_id=tx.request_id,
                address=client_address(request),
                throttles=app_state(request).throttles,
            )
    except TooManyRequests as exc:
        context["errors"] = [{"field": "", "message": _sentence(exc.message)}]
        return render(request, "auth/reset_request.html", context, status_code=429)
    background.add_task(send_reset_email, app_state(request).settings, mail)
    context["sent"] = RESET_SENT
    return render(request, "auth/reset_request.html", context)


@router.get("/reset/{token}")
def reset_form(token: str, request: Request) -> Response:
    context: dict[str, Any] = {"errors": [], "broken": None, "action": f"/reset/{token}"}
    try:
        with transaction(request, require_actor=False, authenticate=False) as tx:
            context["needs_code"] = service.reset_needs_code(tx.db, token, tx.now)
    except InvalidInput:
        context["broken"] = "It has expired or was already used."
        return render(request, "auth/reset_form.html", context, status_code=404)
    return render(request, "auth/reset_form.html", context)


@router.post("/reset/{token}")
def reset_submit(
    token: str,
    request: Request,
    new_password: Text = "",
    totp: Annotated[str, Form(max_length=12)] = "",
    csrf_token: Csrf = "",
) -> Response:
    context: dict[str, Any] = {"errors": [], "broken": None, "action": f"/reset/{token}"}
    if not _anon_csrf_ok(request, csrf_token):
        context["errors"] = [{"field": "", "message": FORM_EXPIRED}]
        context["needs_code"] = True
        return render(request, "auth/reset_form.html", context, status_code=403)
    try:
        with transaction(request, require_actor=False, authenticate=False) as tx:
            service.reset_password(
                tx.db,
                token=token,
                new_password=new_password,
                totp=totp or None,
                now=tx.now,
                request_id=tx.request_id,
                throttles=app_state(request).throttles,
            )
    except (InvalidInput, TooManyRequests) as exc:
        if isinstance(exc, InvalidInput) and any(p.field == "token" for p in exc.problems):
            context["broken"] = "It has expired or was already used."
            return render(request, "auth/reset_form.html", context, status_code=404)
        with transaction(request, require_actor=False, authenticate=False) as tx:
            try:
                context["needs_code"] = service.reset_needs_code(tx.db, token, tx.now)
            except InvalidInput:
                context["needs_code"] = True
        context["errors"] = _errors(exc)
        return render(request, "auth/reset_form.html", context, status_code=exc.status)
    response = RedirectResponse("/?done=reset", status_code=303)
    clear_cookie(request, response, SESSION_COOKIE)
    clear_cookie(request, response, ANON_CSRF_COOKIE)
    return response


# ------------------------------------------------------------ password change


@router.get("/account/password")
def password_page(request: Request) -> Response:
    with transaction(request) as tx:
        return render(
            request,
            "auth/password.html",
            {"errors": []},
            actor=tx.actor,
        )


@router.post("/account/password")
def password_submit(
    request: Request,
    current_password: Text = "",
    new_password: Text = "",
    totp: Annotated[str, Form(max_length=12)] = "",
    csrf_token: Csrf = "",
) -> Response:
    try:
        with transaction(request, csrf_token=csrf_token) as tx:
            service.change_password(
                tx.db,
                tx.actor,
                current_password=current_password,
                new_password=new_password,
                totp=totp or None,
                now=tx.now,
                request_id=tx.request_id,
                throttles=app_state(request).throttles,
                address=client_address(request),
            )
    except (InvalidInput, TooManyRequests) as exc:
        with transaction(request) as tx:
            return render(
                request,
                "auth/password.html",
                {"errors": _errors(exc)},
                actor=tx.actor,
                status_code=exc.status,
            )
    response = RedirectResponse("/?done=password", status_code=303)
    clear_cookie(request, response, SESSION_COOKIE)
    return response


# -------------------------------------------------------------------- step-up


@router.get("/step-up")
def step_up_page(request: Request, next: str = "/") -> Response:
    with transaction(request) as tx:
        return render(
            request,
            "auth/step_up.html",
            {"errors": [], "next": _safe_next(next)},
            actor=tx.actor,
        )


@router.post("/step-up")
def step_up_submit(
    request: Request,
    password: Text = "",
    totp: Annotated[str, Form(max_length=12)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
    csrf_token: Csrf = "",
) -> Response:
    target = _safe_next(next)
    try:
        with transaction(request, csrf_token=csrf_token) as tx:
            service.step_up(
                tx.db,
                tx.actor,
                password=password,
                totp=totp or None,
                now=tx.now,
                request_id=tx.request_id,
                throttles=app_state(request).throttles,
                address=client_address(request),
            )
    except (Unauthorized, TooManyRequests) as exc:
        with transaction(request) as tx:  # not signed in at all: a 401 page from here
            return render(
                request,
                "auth/step_up.html",
                {"errors": _errors(exc), "next": target},
                actor=tx.actor,
                status_code=exc.status,
            )
    return RedirectResponse(target, status_code=303)


# ------------------------------------------------------- who has seen my record

ACTIONS = {
    "read": "Looked at",
    "list": "Looked at",
    "create": "Added",
    "update": "Changed",
    "delete": "Removed",
    "export": "Exported",
    "override": "Accepted a warning on",
    "break-glass": "Opened your record in an emergency",
}


def _what(action: str, resource_type: str) -> str:
    thing = resource_type.replace("-", " ")
    if action == "break-glass":
        return ACTIONS[action]
    verb = ACTIONS.get(action, action.replace("-", " ").capitalize())
    return f"{verb}: {thing}"


@router.get("/my-record-access")
def access_log_page(request: Request, cursor: str | None = None) -> Response:
    with transaction(request) as tx:
        page = audit_service.access_log(
            tx.db,
            tx.actor,
            cursor=cursor,
            limit=DEFAULT_LIMIT,
            request_id=tx.request_id,
            now=tx.now,
        )
        zone = ZoneInfo(
            audit_service.patient_timezone(tx.db, tx.actor, tx.settings.default_timezone)
        )
        rows = [
            {
                "when": item.occurred_at.astimezone(zone).strftime("%-d %b %Y, %H:%M"),
                "who": item.who,
                "role": item.role,
                "what": _what(item.action, item.resource_type),
                "outcome": "Yes" if item.outcome == "allowed" else "Refused",
                "reason": item.reason,
            }
            for item in page.items
        ]
        return render(
            request,
            "auth/access_log.html",
            {"rows": rows, "next": next_link(request, page.next_cursor)},
            actor=tx.actor,
        )
