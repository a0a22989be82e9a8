"""Per-request plumbing shared by every area's routes: the application state,
the request's transaction (one unit of work, committed in one place), the
signed-in actor, CSRF checks and template rendering."""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from importlib.resources import files
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import Response

from painpath.config import Settings
from painpath.kit.clock import Clock
from painpath.kit.errors import Conflict, Forbidden, Unauthorized
from painpath.kit.records import Ctx
from painpath.kit.security import Throttles

log = logging.getLogger("painpath.web")

SESSION_COOKIE = "painpath_session"
ANON_CSRF_COOKIE = "painpath_csrf"
# Marks a device that signed in before (see painpath.auth.service); a year long.
DEVICE_COOKIE = "painpath_device"
DEVICE_COOKIE_SECONDS = 365 * 24 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    clock: Clock
    templates: Jinja2Templates
    # (db, settings, token, now) -> the actor or None; provided by the auth area
    authenticate: Callable[[Session, Settings, str, datetime], Any]
    extras: dict[str, Any] = field(default_factory=dict)
    # Sign-in throttles and the password-hash gate of this application
    throttles: Throttles = field(default_factory=Throttles)


def make_templates() -> Jinja2Templates:
    directory = str(files("painpath") / "templates")
    templates = Jinja2Templates(directory=directory)
    templates.env.autoescape = True
    return templates


@dataclass(frozen=True, order=True)
class NavItem:
    order: int
    label: str
    url: str


_NAV: dict[str, set[NavItem]] = {}


def register_nav(role: str, label: str, url: str, order: int) -> None:
    """Areas add their pages to a role's navigation (kept sorted by ``order``)."""
    _NAV.setdefault(role, set()).add(NavItem(order, label, url))


def nav_for(role: str | None) -> list[NavItem]:
    return sorted(_NAV.get(role or "", set()))


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.painpath
    return state


def request_id(request: Request) -> str:
    rid: str | None = getattr(request.state, "request_id", None)
    if rid is None:
        rid = uuid.uuid4().hex
        request.state.request_id = rid
    return rid


def client_address(request: Request) -> str:
    """The peer's address (behind a proxy, uvicorn's --proxy-headers sets it from a
    trusted proxy's X-Forwarded-For; the header is never read here)."""
    return request.client.host if request.client else "unknown"


def cookie_name(request: Request, base: str) -> str:
    """The cookie's name: ``__Host-`` first when cookies are Secure (served over HTTPS).
    A browser then keeps the cookie only if it came over HTTPS from this very host with
    ``Path=/`` and no ``Domain``, so a sibling subdomain cannot plant or overwrite it.
    Local development over plain HTTP uses the bare name (browsers refuse the prefix
    without ``Secure``)."""
    return f"__Host-{base}" if app_state(request).settings.secure_cookies else base


def read_cookie(request: Request, base: str) -> str | None:
    return request.cookies.get(cookie_name(request, base))


def clear_cookie(request: Request, response: Response, base: str) -> None:
    """Tell the browser to forget the cookie (with the attributes it was set with)."""
    response.delete_cookie(
        cookie_name(request, base),
        path="/",
        secure=app_state(request).settings.secure_cookies,
        httponly=True,
    )


def bearer_or_cookie(request: Request) -> tuple[str | None, bool]:
    """(token, came from the cookie)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None, False
    cookie = read_cookie(request, SESSION_COOKIE)
    return (cookie or None), True


@dataclass
class Tx:
    """What a route gets for one request: the database session, the actor and the time."""

    db: Session
    actor: Any  # painpath.auth.domain.Actor | None; typed loosely to keep kit free of auth
    now: datetime
    request_id: str
    settings: Settings

    @property
    def ctx(self) -> Ctx:
        return Ctx(now=self.now, request_id=self.request_id)


@contextmanager
def transaction(
    request: Request,
    *,
    require_actor: bool = True,
    csrf_token: str | None = None,
    authenticate: bool = True,
) -> Iterator[Tx]:
    """Open the request's unit of work; commit at the end, roll back on any error.

    Some writes are kept through a rollback (audit events of refused access, the
    sign-in throttles' counts of failed attempts): services put them in
    ``db.info["kept_writes"]``; they are written with the commit, or after a rollback
    in a transaction of their own.
    """
    state = app_state(request)
    db = state.factory()
    now = state.clock.now()
    rid = request_id(request)
    try:
        token, from_cookie = bearer_or_cookie(request) if authenticate else (None, False)
        actor = state.authenticate(db, state.settings, token, now) if token else None
        if actor is None and require_actor:
            raise Unauthorized("sign in first")
        if (
            actor is not None
            and from_cookie
            and request.method not in SAFE_METHODS
            and not getattr(request.state, "csrf_checked", False)
        ):
            sent = request.headers.get("x-csrf-token") or csrf_token or ""
            if not secrets.compare_digest(sent, actor.csrf_token):
                raise Forbidden("the form has expired: reload the page and try again")
            # Later transactions of the same request (e.g. re-rendering a form with its
            # errors) need not carry the token again.
            request.state.csrf_checked = True
        yield Tx(db=db, actor=actor, now=now, request_id=rid, settings=state.settings)
        for write in db.info.pop("kept_writes", []):
            write(db)
        db.commit()
    except IntegrityError as exc:
        db.rollback()
        raise Conflict(
            "the same record is being saved by another request at this moment, or it "
            "clashes with one already stored: fetch it and try again"
        ) from exc
    except BaseException:
        pending = db.info.pop("kept_writes", [])
        db.rollback()
        if pending:
            _write_pending(state, pending)
        raise
    finally:
        db.close()


def _write_pending(state: AppState, pending: list[Any]) -> None:
    db = state.factory()
    try:
        for write in pending:
            write(db)
        db.commit()
    except Exception:
        db.rollback()
        log.exception(
            "could not write what a refused request keeps (audit events, throttle counts)"
        )
    finally:
        db.close()


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    actor: Any = None,
    status_code: int = 200,
) -> Response:
    state = app_state(request)
    ctx: dict[str, Any] = {
        "actor": actor,
        "csrf_token": actor.csrf_token if actor else "",
        "nav": nav_for(actor.role.value if actor else None),
        "current_path": request.url.path,
    }
    if actor is None:
        anon = read_cookie(request, ANON_CSRF_COOKIE) or secrets.token_urlsafe(32)
        ctx["csrf_token"] = anon
    ctx.update(context or {})
    response = state.templates.TemplateResponse(request, name, ctx, status_code=status_code)
    if actor is None:
        response.set_cookie(
            cookie_name(request, ANON_CSRF_COOKIE),
            ctx["csrf_token"],
            httponly=True,
            samesite="strict",
            secure=state.settings.secure_cookies,
            path="/",
        )
    return response


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        cookie_name(request, SESSION_COOKIE),
        token,
        httponly=True,
        samesite="lax",
        secure=app_state(request).settings.secure_cookies,
        path="/",
    )


def set_device_cookie(request: Request, response: Response, token: str | None) -> None:
    if not token:
        return
    response.set_cookie(
        cookie_name(request, DEVICE_COOKIE),
        token,
        max_age=DEVICE_COOKIE_SECONDS,
        httponly=True,
        samesite="strict",
        secure=app_state(request).settings.secure_cookies,
        path="/",
    )
