"""Web-facing security controls shared by every area.

- Response headers on every response: a strict Content-Security-Policy, nosniff,
  ``Referrer-Policy: no-referrer``, no framing, ``Cache-Control: no-store`` outside
  ``/static``, HSTS when the site is served over HTTPS (``PAINPATH_SECURE_COOKIES``),
  and no ``Server`` banner.
- Cross-site writes refused: a state-changing request whose ``Origin`` is another
  site, or that a browser marks ``Sec-Fetch-Site: cross-site``, is a 403 before any
  route runs (on top of the per-session CSRF token checked by ``transaction()``).
- The sign-in throttles' windows (their counts are in the database) and the bounded
  password-hash gate of one process.
- Error types for 429 (too many attempts), 503 (busy) and 401 with a step-up challenge.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from painpath.kit.errors import PainPathError, Unauthorized
from painpath.kit.logging import request_id_var
from painpath.kit.ratelimit import Gate, Window

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
HSTS = "max-age=31536000; includeSubDomains"
MAX_BODY_BYTES = 1_000_000
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
access_log = logging.getLogger("painpath.access")

# Sign-in throttles (docs/security.md): failed attempts per account and per address.
ACCOUNT_FAILURES = 10
ACCOUNT_WINDOW = timedelta(minutes=15)
ADDRESS_FAILURES = 30
ADDRESS_WINDOW = timedelta(minutes=1)
RESET_REQUESTS = 5
RESET_WINDOW = timedelta(hours=1)
FAILED_SIGN_INS_PER_ACCOUNT = Window("account", ACCOUNT_FAILURES, ACCOUNT_WINDOW)
FAILED_SIGN_INS_PER_ADDRESS = Window("address", ADDRESS_FAILURES, ADDRESS_WINDOW)
RESETS_PER_ACCOUNT = Window("reset-account", RESET_REQUESTS, RESET_WINDOW)
RESETS_PER_ADDRESS = Window("reset-address", RESET_REQUESTS * 4, RESET_WINDOW)
HASH_CONCURRENCY = 4
HASH_WAIT_SECONDS = 10.0


class TooManyRequests(PainPathError):
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


class ServiceBusy(PainPathError):
    status = 503

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after)}


class StepUpRequired(Unauthorized):
    """401 with an RFC 9470 challenge: prove the password and code again."""

    def __init__(self, message: str, max_age_seconds: int) -> None:
        super().__init__(message)
        self.headers = {
            "WWW-Authenticate": (
                f'Bearer error="insufficient_user_authentication", max_age={max_age_seconds}'
            )
        }


def error_headers(exc: PainPathError) -> dict[str, str] | None:
    headers: dict[str, str] | None = getattr(exc, "headers", None)
    if headers is None and exc.status == 401:
        return {"WWW-Authenticate": "Bearer"}
    return headers


@dataclass
class Throttles:
    """The sign-in throttles' windows and the password-hash gate of one application."""

    account: Window = FAILED_SIGN_INS_PER_ACCOUNT
    address: Window = FAILED_SIGN_INS_PER_ADDRESS
    reset_account: Window = RESETS_PER_ACCOUNT
    reset_address: Window = RESETS_PER_ADDRESS
    hashing: Gate = field(default_factory=lambda: Gate(HASH_CONCURRENCY, HASH_WAIT_SECONDS))

    @property
    def longest(self) -> timedelta:
        """How long an attempt is remembered: the longest window."""
        return max(
            w.span for w in (self.account, self.address, self.reset_account, self.reset_address)
        )


def _same_origin(origin: str, scope: Scope) -> bool:
    host = ""
    for name, value in scope.get("headers", []):
        if name == b"host":
            host = value.decode("latin-1")
            break
    if origin == "null" or not host:
        return False
    return origin.split("://", 1)[-1].rstrip("/") == host


class SecurityMiddleware:
    """Request id, cross-site write refusal and the security headers (pure ASGI)."""

    def __init__(
        self, app: ASGIApp, *, hsts: bool = False, public_origins: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.hsts = hsts
        # The site's public address(es), for a proxy that rewrites the Host header.
        self.public_origins = frozenset(o.rstrip("/") for o in public_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        path: str = scope.get("path", "")
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                out = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                extra = {
                    b"content-security-policy": CSP.encode(),
                    b"x-content-type-options": b"nosniff",
                    b"referrer-policy": b"no-referrer",
                    b"x-frame-options": b"DENY",
                    b"cross-origin-opener-policy": b"same-origin",
                    b"x-request-id": request_id.encode(),
                }
                if self.hsts:
                    extra[b"strict-transport-security"] = HSTS.encode()
                if not path.startswith("/static/"):
                    extra[b"cache-control"] = b"no-store"
                names = {k.lower() for k, _ in out}
                out += [(k, v) for k, v in extra.items() if k not in names]
                message["headers"] = out
            await send(message)

        try:
            await self._handle(scope, receive, send_with_headers, headers)
        finally:
            access_log.debug(
                "request",
                extra={
                    "event": "request",
                    "method": scope.get("method"),
                    "route": route_template(scope),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            request_id_var.reset(token)

    async def _handle(
        self, scope: Scope, receive: Receive, send_with_headers: Send, headers: dict[str, str]
    ) -> None:
        unsafe = scope.get("method", "GET") in UNSAFE_METHODS
        if unsafe and self._cross_site(headers, scope):
            await _refuse(send_with_headers, 403, CROSS_SITE)
            return
        if _has_nul_query(scope.get("query_string", b"")):
            await _refuse(send_with_headers, 422, NUL_TEXT, field="query")
            return
        if unsafe:
            declared = headers.get("content-length", "")
            if declared.isdecimal() and int(declared) > MAX_BODY_BYTES:
                await _refuse(send_with_headers, 413, TOO_LARGE)
                return
            body, complete = await _read_body(receive, MAX_BODY_BYTES)
            if not complete:
                await _refuse(send_with_headers, 413, TOO_LARGE)
                return
            if _has_nul_body(body, headers.get("content-type", "")):
                await _refuse(send_with_headers, 422, NUL_TEXT, field="body")
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send_with_headers)

    def _cross_site(self, headers: dict[str, str], scope: Scope) -> bool:
        """Browsers say where a request comes from in Sec-Fetch-Site; older ones only in
        Origin. With ``Referrer-Policy: no-referrer`` a same-origin form sends
        ``Origin: null``, so "null" counts only when Sec-Fetch-Site is missing."""
        site = headers.get("sec-fetch-site")
        if site is not None:
            return site not in ("same-origin", "none")
        origin = headers.get("origin")
        if origin is None or origin.rstrip("/") in self.public_origins:
            return False
        return not _same_origin(origin, scope)


CROSS_SITE = "a request from another site was refused: use PainPath's own pages"
TOO_LARGE = f"the request is too large: send at most {MAX_BODY_BYTES // 1_000_000} MB"
NUL_TEXT = "text may not contain the NUL character (\\u0000): remove it and send again"


async def _refuse(send: Send, status: int, detail: str, field: str | None = None) -> None:
    payload: dict[str, object] = {"detail": detail}
    if field:
        payload["errors"] = [{"field": field, "message": detail}]
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The whole request body, or (what was read, False) once it passes ``limit``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", False
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), True


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _contains_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(v) for v in value)
    return False


def _has_nul_body(body: bytes, content_type: str) -> bool:
    """PostgreSQL cannot store NUL in text (SQLite can): refuse it the same way on both."""
    if b"\x00" in body:
        return True
    if "json" in content_type and b"\\u0000" in body:
        try:
            return _contains_nul(json.loads(body))
        except ValueError:
            return False  # not JSON: the route's own validation answers
    return "form-urlencoded" in content_type and b"%00" in body


def _has_nul_query(query: bytes) -> bool:
    return b"%00" in query or b"\x00" in query


def route_template(scope: Scope) -> str:
    """The matched route's path template (never the raw path, which holds ids and tokens)."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(template, str):
        return template
    path = str(scope.get("path", ""))
    return "/static/*" if path.startswith("/static/") else "(unmatched)"
