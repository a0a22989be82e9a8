"""The application factory: nothing connects or reads files until it is called."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from painpath.alerts import api as alerts_api
from painpath.alerts import views as alerts_views
from painpath.auth import api as auth_api
from painpath.auth import service as auth_service
from painpath.auth import views as auth_views
from painpath.care import api as care_api
from painpath.care import onboarding_views
from painpath.care import views as care_views
from painpath.config import Settings, check_production_config, is_production, load_settings
from painpath.db import backend_name, make_engine, make_session_factory
from painpath.diary import api as diary_api
from painpath.diary import views as diary_views
from painpath.interop import api as interop_api
from painpath.interop import views as interop_views
from painpath.kit import logging as structured_logging
from painpath.kit.clock import Clock, SystemClock
from painpath.kit.errors import InvalidInput, PainPathError
from painpath.kit.security import (
    MAX_BODY_BYTES,
    SecurityMiddleware,
    StepUpRequired,
    error_headers,
    route_template,
)
from painpath.kit.web import AppState, app_state, make_templates, render
from painpath.learn import views as learn_views
from painpath.medication import api as medication_api
from painpath.medication import views as medication_views
from painpath.medication.domain.knowledge import load_knowledge
from painpath.questionnaires import api as questionnaires_api
from painpath.questionnaires import views as questionnaires_views
from painpath.reminders import api as reminders_api
from painpath.reminders import views as reminders_views
from painpath.response import api as response_api
from painpath.response import views as response_views

log = logging.getLogger("painpath")


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


def _html_error(
    request: Request, status: int, message: str, headers: dict[str, str] | None
) -> Response:
    response = render(
        request, "error.html", {"status": status, "message": message}, status_code=status
    )
    response.headers.update(headers or {})
    return response


def docs_exposed(settings: Settings) -> bool:
    """/openapi.json and /api/docs: on unless turned off, and off in production unless
    PAINPATH_EXPOSE_DOCS=true (ASVS 5 13.4.5)."""
    configured = os.environ.get("PAINPATH_EXPOSE_DOCS", "").strip().lower()
    if configured:
        return configured in ("1", "true", "yes", "on")
    return not is_production()


def public_origins(settings: Settings) -> tuple[str, ...]:
    """The scheme://host[:port] of PAINPATH_SMTP_LINK_BASE (the public address)."""
    if not settings.smtp_link_base:
        return ()
    scheme, _, rest = settings.smtp_link_base.partition("://")
    return (f"{scheme}://{rest.split('/', 1)[0]}",) if rest else ()


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PainPathError)
    async def painpath_error(request: Request, exc: PainPathError) -> Response:
        if isinstance(exc, StepUpRequired) and _wants_html(request):
            # Confirm it is you, then back to the page (a form's own page is unknown here).
            back = request.url.path if request.method == "GET" else "/"
            return RedirectResponse(f"/step-up?next={quote(back, safe='/')}", status_code=303)
        if _wants_html(request):
            return _html_error(request, exc.status, exc.message, error_headers(exc))
        return JSONResponse(_problem_body(exc), status_code=exc.status, headers=error_headers(exc))

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

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> Response:
        # The database (or the audit trail in it) could not be written or read: nothing
        # was shown or saved (fail closed). The message never carries the statement.
        log.error(
            "database error",
            extra={
                "exception": structured_logging.exception_summary(exc),
                "event": "database-error",
                "error": type(exc.orig).__name__ if exc.orig else type(exc).__name__,
                "method": request.method,
                "route": route_template(request.scope),
            },
        )
        message = "the database is not available just now; nothing was saved. Try again soon."
        if _wants_html(request):
            return _html_error(request, 503, message, {"Retry-After": "5"})
        return JSONResponse({"detail": message}, status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error(
            "unexpected error",
            extra={
                "exception": structured_logging.exception_summary(exc),
                "event": "unexpected-error",
                "error": type(exc).__name__,
                "method": request.method,
                "route": route_template(request.scope),
            },
        )
        message = "something went wrong on our side; nothing was saved. Try again."
        if _wants_html(request):
            return _html_error(request, 500, message, None)
        return JSONResponse({"detail": message}, status_code=500)


# What PainPath really answers for input it cannot use (see validation_error above).
VALIDATION_ERROR_SCHEMA: dict[str, Any] = {
    "title": "InvalidInput",
    "type": "object",
    "properties": {
        "detail": {"type": "string", "title": "Detail"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                "required": ["field", "message"],
            },
        },
    },
    "required": ["detail"],
}


def _document_errors(app: FastAPI) -> None:
    """The OpenAPI document describes 422 bodies as PainPath sends them."""
    make = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = make()
            schemas = spec.get("components", {}).get("schemas", {})
            if "HTTPValidationError" in schemas:
                schemas["HTTPValidationError"] = VALIDATION_ERROR_SCHEMA
                schemas.pop("ValidationError", None)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def schema_revision(factory: sessionmaker[Session]) -> str | None:
    with factory() as db:
        heads = sorted(
            str(v) for v in db.execute(text("SELECT version_num FROM alembic_version")).scalars()
        )
        return "+".join(heads) if heads else None


def freeze_startup_objects() -> None:
    """Move every object alive after start-up into the garbage collector's permanent
    generation, so that full collections stop walking them. The application holds about
    285,000 objects once built (SciPy, statsmodels, pandas, WeasyPrint, the FHIR models)
    and a full collection over them took 420 ms every few requests; frozen, the
    dashboard's p95 fell from 582 to 264 ms (docs/benchmarks.md). Call once, after the
    application is built, in the process that serves it."""
    gc.collect()
    gc.freeze()


def create_served_app() -> FastAPI:
    """The application as each process of ``painpath serve --workers N`` builds it:
    :func:`create_app` from the environment, then :func:`freeze_startup_objects`."""
    application = create_app()
    freeze_startup_objects()
    return application


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    session_factory: sessionmaker[Session] | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    settings = settings or load_settings()
    check_production_config(settings)
    # The medicines knowledge is checked now: a malformed file stops start-up, naming the
    # file and the field, instead of failing a prescription later.
    load_knowledge()
    structured_logging.configure(settings.log_level)
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
        docs_url="/api/docs" if docs_exposed(settings) else None,
        openapi_url="/openapi.json" if docs_exposed(settings) else None,
        redoc_url=None,
        max_body_size=MAX_BODY_BYTES,
    )
    app.state.painpath = state
    app.add_middleware(
        SecurityMiddleware,
        hsts=settings.secure_cookies,
        public_origins=public_origins(settings),
    )
    _install_error_handlers(app)
    _document_errors(app)
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
