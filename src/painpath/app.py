"""The application factory: nothing connects or reads files until it is called."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from painpath.alerts import api as alerts_api
from painpath.alerts import views as alerts_views
from painpath.auth import api as auth_api
from painpath.auth import service as auth_service
from painpath.auth import views as auth_views
from painpath.care import api as care_api
from painpath.care import onboarding_views
from painpath.care import views as care_views
from painpath.config import Settings, load_settings
from painpath.db import backend_name, make_engine, make_session_factory
from painpath.diary import api as diary_api
from painpath.diary import views as diary_views
from painpath.interop import api as interop_api
from painpath.interop import views as interop_views
from painpath.kit.clock import Clock, SystemClock
from painpath.kit.errors import InvalidInput, PainPathError
from painpath.kit.web import AppState, app_state, make_templates, render
from painpath.learn import views as learn_views
from painpath.medication import api as medication_api
from painpath.medication import views as medication_views
from painpath.questionnaires import api as questionnaires_api
from painpath.questionnaires import views as questionnaires_views
from painpath.reminders import api as reminders_api
from painpath.reminders import views as reminders_views
from painpath.response import api as response_api
from painpath.response import views as response_views

log = logging.getLogger("painpath")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


class SecurityHeaders:
    """Headers on every response; health-data pages are never cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                extra = {
                    b"content-security-policy": CSP.encode(),
                    b"x-content-type-options": b"nosniff",
                    b"referrer-policy": b"no-referrer",
                    b"x-frame-options": b"DENY",
                    b"x-request-id": request_id.encode(),
                }
                if not path.startswith("/static/"):
                    extra[b"cache-control"] = b"no-store"
                names = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in extra.items() if k not in names]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/fhir/", "/healthz")):
        return False
    return "text/html" in request.headers.get("accept", "") or request.method == "POST"


def _problem_body(exc: PainPathError) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": exc.message}
    if isinstance(exc, InvalidInput) and exc.problems:
        body["errors"] = [{"field": p.field, "message": p.message} for p in exc.problems]
    return body


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PainPathError)
    async def painpath_error(request: Request, exc: PainPathError) -> Response:
        if _wants_html(request):
            return render(
                request,
                "error.html",
                {"status": exc.status, "message": exc.message},
                status_code=exc.status,
            )
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(_problem_body(exc), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
            errors.append({"field": ".".join(loc) or "body", "message": err.get("msg", "")})
        fields = ", ".join(e["field"] for e in errors)
        return JSONResponse(
            {"detail": f"check these fields: {fields}", "errors": errors}, status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = "page not found" if exc.status_code == 404 else str(exc.detail)
        if _wants_html(request):
            return render(
                request,
                "error.html",
                {"status": exc.status_code, "message": message},
                status_code=exc.status_code,
            )
        return JSONResponse({"detail": message}, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error(
            "unexpected error %s on %s %s", type(exc).__name__, request.method, request.url.path
        )
        return JSONResponse(
            {"detail": "something went wrong on our side; nothing was saved. Try again."},
            status_code=500,
        )


def schema_revision(factory: sessionmaker[Session]) -> str | None:
    with factory() as db:
        heads = sorted(
            str(v) for v in db.execute(text("SELECT version_num FROM alembic_version")).scalars()
        )
        return "+".join(heads) if heads else None


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    session_factory: sessionmaker[Session] | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    settings = settings or load_settings()
    engine = engine or make_engine(settings.resolved_database_url)
    factory = session_factory or make_session_factory(engine)
    state = AppState(
        settings=settings,
        engine=engine,
        factory=factory,
        clock=clock or SystemClock(),
        templates=make_templates(),
        authenticate=auth_service.authenticate,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield

    app = FastAPI(
        title="PainPath",
        version="1",
        description="Runs a chronic back pain and sciatica medicine pathway.",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.painpath = state
    app.add_middleware(SecurityHeaders)
    _install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=str(files("painpath") / "static")), name="static")

    @app.get("/healthz", tags=["health"])
    def healthz(request: Request) -> dict[str, Any]:
        st = app_state(request)
        return {
            "status": "ok",
            "database": backend_name(st.engine),
            "schema": schema_revision(st.factory),
        }

    for module in (
        auth_api,
        care_api,
        diary_api,
        medication_api,
        questionnaires_api,
        alerts_api,
        response_api,
        interop_api,
        reminders_api,
    ):
        app.include_router(module.router)
    # Fixed paths (e.g. /patients/invite) come before the areas' /patients/{patient_id} pages.
    for module in (
        auth_views,
        onboarding_views,
        care_views,
        diary_views,
        medication_views,
        questionnaires_views,
        alerts_views,
        response_views,
        learn_views,
        interop_views,
        reminders_views,
    ):
        app.include_router(module.router)
    return app
