"""S-8, V-5, V-6, C-4 and L-3: CSRF on every state-changing route, cross-site writes,
request size, headers, documentation in production, and the append-only audit trail."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from painpath.app import create_app
from painpath.audit import service as audit
from painpath.audit.models import AuditEvent
from painpath.config import Settings
from painpath.kit.errors import ConfigurationError
from painpath.kit.pagination import decode_cursor, encode_cursor
from painpath.kit.ratelimit import Gate, Window
from tests.conftest import Database
from tests.security.driver import call
from tests.security.routes import all_routes
from tests.security.world import SELF, TEAM, World

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
# JSON calls that do not act for a signed-in session (they sign in, or use a link from
# an email): a session cookie gives them nothing to forge. Cross-site, they are
# refused by the Origin check (below) and need a JSON body, which a form cannot send.
NO_SESSION = {
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/password-reset"),
    ("POST", "/api/v1/auth/password-reset/confirm"),
    # Links from emails: an unknown link is refused (303/404) before anything else.
    ("POST", "/join/{token}"),
    ("POST", "/unsubscribe/{token}"),
}


def test_every_state_changing_route_needs_the_csrf_token(world: World) -> None:
    unsafe = [
        r
        for r in all_routes(world.client.app)  # type: ignore[arg-type]
        if r.method in UNSAFE and r.key not in NO_SESSION
    ]
    assert len(unsafe) > 50
    accepted = []
    for route in unsafe:
        actor = TEAM if route.path.startswith(("/patients/", "/api/v1/patients/")) else SELF
        cookie = f"painpath_session={world.tokens[actor]}"  # a browser's session, no token
        with world.rolled_back():
            response = call(
                world,
                route,
                "anonymous",
                headers={"Cookie": cookie},
                body=None,
            )
        if response.status_code != 403:
            accepted.append(f"{route.method} {route.path}: HTTP {response.status_code}")
    assert not accepted, "accepted without a CSRF token:\n" + "\n".join(accepted)


def test_cross_site_writes_are_refused_before_any_route(world: World) -> None:
    unsafe = [
        r
        for r in all_routes(world.client.app)  # type: ignore[arg-type]
        if r.method in UNSAFE
    ]
    for origin in ("https://evil.example", "null"):
        for route in unsafe:
            with world.rolled_back():
                response = call(world, route, TEAM, headers={"Origin": origin})
            assert response.status_code == 403, (origin, route.path, response.status_code)
    same = next(r for r in unsafe if r.key == ("POST", "/api/v1/auth/logout"))
    for headers, status in (
        ({"Origin": "http://testserver"}, 204),
        ({"Sec-Fetch-Site": "cross-site"}, 403),
        ({"Sec-Fetch-Site": "same-site"}, 403),
        # A same-origin form under Referrer-Policy: no-referrer sends Origin: null.
        ({"Origin": "null", "Sec-Fetch-Site": "same-origin"}, 204),
        ({"Origin": "null"}, 403),
    ):
        with world.rolled_back():
            assert call(world, same, SELF, headers=headers).status_code == status, headers


def test_oversized_bodies_are_refused(world: World) -> None:
    path = f"/api/v1/patients/{world.a['patient_id']}/diary-entries"
    big = b'{"id": "' + b"x" * 1_100_000 + b'"}'
    response = world.client.post(
        path,
        content=big,
        headers={**world.headers(SELF), "Content-Type": "application/json"},
    )
    assert response.status_code == 413


def test_text_with_a_nul_character_is_refused_alike_on_both_databases(world: World) -> None:
    path = f"/api/v1/patients/{world.a['patient_id']}/notes"
    with world.rolled_back():
        response = world.client.post(
            path, json={"id": str(uuid.uuid4()), "text": "a\x00b"}, headers=world.headers(TEAM)
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "body"
        query = world.client.get(f"{path}?cursor=%00", headers=world.headers(TEAM))
        assert query.status_code == 422


def test_security_headers_on_every_kind_of_response(world: World) -> None:
    for path, headers in (
        ("/healthz", {}),
        ("/", {"Accept": "text/html"}),
        (f"/api/v1/patients/{world.a['patient_id']}", world.headers(SELF)),
        ("/api/v1/nowhere", {}),
    ):
        response = world.client.get(path, headers=headers)
        h = response.headers
        assert h["cache-control"] == "no-store", path
        csp = h["content-security-policy"]
        for part in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
            assert part in csp
        assert "unsafe-inline" not in csp
        assert h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "no-referrer"
        assert "server" not in h
        assert "strict-transport-security" not in h  # plain-HTTP development
    static = world.client.get("/static/css/painpath.css")
    assert static.status_code == 200 and static.headers.get("cache-control") != "no-store"


def test_docs_are_off_in_production_unless_asked_for(
    migrated_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAINPATH_ENVIRONMENT", "production")
    settings = Settings(database_url=migrated_db.url, secure_cookies=True)
    with TestClient(create_app(settings, engine=migrated_db.engine)) as client:
        assert client.get("/openapi.json").status_code == 404
        assert client.get("/api/docs").status_code == 404
    monkeypatch.setenv("PAINPATH_EXPOSE_DOCS", "true")
    with TestClient(create_app(settings, engine=migrated_db.engine)) as client:
        assert client.get("/openapi.json").status_code == 200
    with pytest.raises(ConfigurationError) as unsafe:
        create_app(Settings(database_url=migrated_db.url), engine=migrated_db.engine)
    assert "PAINPATH_SECURE_COOKIES" in unsafe.value.details[0]


def test_docs_are_on_in_development(world: World) -> None:
    assert world.client.get("/openapi.json").status_code == 200


# ----------------------------------------------------------- append-only audit


def test_the_audit_trail_refuses_changes_and_deletions(world: World) -> None:
    with world.rolled_back(), world.factory() as db:
        audit.record(db, None, action="read", resource_type="test", reason="original")
        db.commit()
        event_id = db.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    for statement in (
        "UPDATE audit_events SET action = 'nothing' WHERE id = :id",
        "UPDATE audit_events SET outcome = 'denied' WHERE id = :id",
        "UPDATE audit_events SET occurred_at = occurred_at WHERE id = :id AND 1 = 0",
        "UPDATE audit_events SET reason = 'rewritten' WHERE id = :id",
        "DELETE FROM audit_events WHERE id = :id",
    ):
        with world.rolled_back(), world.factory() as db:
            audit.record(db, None, action="read", resource_type="test")
            db.flush()
            newest = db.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
            if "1 = 0" in statement:
                db.execute(text(statement), {"id": newest})  # touches no row: allowed
                continue
            with pytest.raises(DBAPIError) as refused:
                db.execute(text(statement), {"id": newest})
            assert "append-only" in str(refused.value)
    assert event_id is not None


def test_pseudonymisation_is_the_one_edit_allowed(world: World) -> None:
    with world.rolled_back(), world.factory() as db:
        audit.record(db, None, action="read", resource_type="test", reason="x")
        db.flush()
        newest = db.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
        db.execute(
            text(
                "UPDATE audit_events SET patient_id = NULL, actor_user_id = NULL, "
                "reason = 'erased patient pseudonym p1; x', hash = 'rehashed' WHERE id = :id"
            ),
            {"id": newest},
        )
        with pytest.raises(DBAPIError):
            db.execute(
                text(
                    "UPDATE audit_events SET reason = 'erased but action too', action = 'x' "
                    "WHERE id = :id"
                ),
                {"id": newest},
            )


def test_the_audit_chain_detects_a_changed_row(world: World) -> None:
    with world.rolled_back(), world.factory() as db:
        assert audit.verify(db) is None
        event = db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
        event.hash = "f" * 64  # allowed by the trigger (a rehash), caught by the chain
        db.flush()
        assert audit.verify(db) is not None


# ------------------------------------------------------------ throttle parts


def test_the_password_hash_gate_bounds_concurrency() -> None:
    gate = Gate(size=2, timeout=5)

    def work() -> None:
        with gate.enter() as admitted:
            assert admitted
            time.sleep(0.05)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert gate.peak == 2
    full = Gate(size=1, timeout=0.01)
    with full.enter() as first, full.enter() as second:
        assert first and not second


def test_a_window_counts_and_forgets() -> None:
    window = Window("k", limit=3, span=timedelta(minutes=1))
    now = datetime.now(UTC)
    inside = [now - timedelta(seconds=s) for s in (50, 20, 5)]
    assert window.exceeded(inside)
    assert 10 <= window.retry_after(inside, now) <= 11  # the oldest leaves in 10 s
    assert not window.exceeded(inside[1:])
    assert window.retry_after(inside[1:], now) == 1
    assert window.since(now) == now - timedelta(minutes=1)


def test_a_cursor_that_was_never_made_by_painpath_is_a_clear_422(world: World) -> None:
    """Found by the fuzzer: a cursor of non-ASCII text decoded to nothing and the patient
    list failed with a 500. Every list says the cursor is not valid instead."""
    lists = (
        "/api/v1/patients",
        f"/api/v1/patients/{world.a['patient_id']}/diary-entries",
        f"/api/v1/patients/{world.a['patient_id']}/notes",
    )
    for path in lists:
        for cursor in ("%C2%95%C2%B5%C2%B4", "%2A%2A%2A", "AA", "bm8tYmFyLWhlcmU"):
            response = world.client.get(f"{path}?cursor={cursor}", headers=world.headers(TEAM))
            assert response.status_code == 422, (path, cursor, response.text)
            assert response.json()["errors"][0]["field"] == "cursor", (path, cursor)


@pytest.mark.parametrize("made", ["Ann Patient|4b3c", "2026-01-01T00:00:00+00:00|x", "é|ü"])
def test_a_cursor_painpath_made_reads_back(made: str) -> None:
    assert decode_cursor(encode_cursor(made)) == made


def test_a_superscript_digit_is_not_a_number_and_not_a_server_error(world: World) -> None:
    """A "²" is a digit to str.isdigit() but int() refuses it: the pages test with
    isdecimal(), so a page number of "²" is simply not a number (page 1)."""
    page = world.client.get("/caseload?page=%C2%B2", headers=world.headers(TEAM))
    assert page.status_code == 200
