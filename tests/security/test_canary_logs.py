"""L-4 and L-5: no personal data, tokens or passwords in the logs.

Unique canary strings go into a patient's name and email, diary notes, side-effect
descriptions, clinical notes, review reasons, passwords, a session token and a reset
token. The application is then driven through normal pages and API calls, failed
sign-ins, validation failures, a refused access, an unexpected error (500) and a
database error (503), with every PainPath, web-server and framework logger at DEBUG.
None of the canaries may appear in any log record: message, arguments, extra fields
or exception text.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from painpath.auth.domain import Role
from painpath.kit.logging import QUIET_LOGGERS, JsonFormatter
from tests.factories import PASSWORD, in_care_team
from tests.security.world import SELF, TEAM, World

DEBUG_LOGGERS = ("", "painpath", "uvicorn", "uvicorn.error", "fastapi", "starlette")
CLIENT_LOGGERS = ("httpx", "httpx2", "httpcore")  # the test's own HTTP client, not the app


def canary(kind: str) -> str:
    return f"CANARY{kind.upper()}{uuid.uuid4().hex[:12]}"


def _all_text(record: logging.LogRecord) -> str:
    parts = [str(record.msg), repr(record.args), JsonFormatter().format(record)]
    parts += [repr(v) for v in record.__dict__.values()]
    if record.exc_info and record.exc_info[1] is not None:
        parts.append(repr(record.exc_info[1]))
    return "\n".join(parts)


def test_no_canary_reaches_the_logs(
    world: World, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from painpath.care.service import create_account

    canaries: dict[str, str] = {
        k: canary(k)
        for k in ("name", "email", "password", "diary", "effect", "note", "review", "nhs")
    }
    password = canaries["password"] + " long enough"
    email = f"{canaries['email'].lower()}@test.example"
    client = world.client
    for name in DEBUG_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name or None)
    for name in QUIET_LOGGERS:  # the application's own control, tested here
        assert logging.getLogger(name).level == logging.WARNING
    assert logging.getLogger("uvicorn.access").disabled

    with world.rolled_back():
        with world.factory() as db:
            made = create_account(
                db,
                email=email,
                password=password,
                role=Role.PATIENT,
                name=f"{canaries['name']} {canaries['nhs']}",
            )
            db.commit()
        patient_id = made["patient_id"]
        from tests.factories import Person

        person = Person(
            email=email,
            user_id=uuid.UUID(made["user_id"]),
            role=Role.PATIENT,
            patient_id=uuid.UUID(patient_id),
        )
        with world.factory() as db:
            in_care_team(db, person, world.people[TEAM])
            db.commit()

        # sign-in failures and a success (the token is a canary too)
        client.post("/api/v1/auth/login", json={"email": email, "password": canaries["password"]})
        client.post("/login", data={"email": email, "password": password, "csrf_token": "x"})
        client.cookies.clear()
        response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200
        token = response.json()["token"]
        canaries["session"] = token
        client.cookies.clear()
        me = {"Authorization": f"Bearer {token}"}
        gp = world.headers(TEAM)
        base = f"/api/v1/patients/{patient_id}"
        today = datetime.now(UTC).date().isoformat()

        calls: list[tuple[str, str, dict[str, str], Any]] = [
            (
                "POST",
                f"{base}/diary-entries",
                me,
                {"id": str(uuid.uuid4()), "date": today, "pain": 4, "notes": canaries["diary"]},
            ),
            (
                "POST",
                f"{base}/diary-entries",
                me,
                {"id": str(uuid.uuid4()), "date": canaries["diary"], "pain": canaries["diary"]},
            ),
            (
                "POST",
                f"{base}/side-effect-reports",
                me,
                {
                    "id": str(uuid.uuid4()),
                    "symptom": canaries["effect"],
                    "severity": "severe",
                    "started_on": today,
                    "description": canaries["effect"],
                },
            ),
            ("POST", f"{base}/notes", gp, {"id": str(uuid.uuid4()), "text": canaries["note"]}),
            ("POST", f"{base}/notes", me, {"id": str(uuid.uuid4()), "text": canaries["note"]}),
            (
                "POST",
                f"{base}/questionnaire-responses",
                me,
                {"id": str(uuid.uuid4()), "instrument": "peg", "answers": [canaries["review"]]},
            ),
            ("GET", base, gp, None),
            ("GET", f"{base}/diary-entries", gp, None),
            ("GET", f"{base}/notes", gp, None),
            ("GET", f"{base}/side-effect-reports", me, None),
            ("GET", f"/patients/{patient_id}", gp, None),
            ("GET", "/today", me, None),
            ("GET", "/diary", me, None),
            ("GET", f"/fhir/Patient/{patient_id}/$everything", me, None),
            ("GET", "/api/v1/me/access-log", me, None),
            ("GET", base, world.headers(SELF), None),  # refused: another patient
            ("GET", f"/api/v1/patients/{canaries['nhs']}", gp, None),  # bad id in the path
            ("GET", f"/learn/{canaries['nhs']}", {}, None),
        ]
        for method, path, headers, body in calls:
            client.request(method, path, headers=headers, json=body)

        # a reset link (its token is a canary)
        sent: list[str] = []
        monkeypatch.setattr(
            "painpath.auth.mailing.send_email",
            lambda _s, _to, _sub, body: sent.append(body) or True,
        )
        client.post("/api/v1/auth/password-reset", json={"email": email})
        reset_token = next(w for w in sent[0].split() if "/reset/" in w).rsplit("/", 1)[1]
        canaries["reset"] = reset_token
        client.get(f"/reset/{reset_token}")
        client.post(
            "/api/v1/auth/password-reset/confirm",
            json={"token": reset_token, "new_password": canaries["password"][:8]},
        )

        # an unexpected error and a database error, each with canaries in hand
        def boom(*_a: Any, **_k: Any) -> None:
            raise RuntimeError(f"failed for {canaries['name']} with {password}")

        monkeypatch.setattr("painpath.diary.service.list_diary_entries", boom)
        crashed = client.get(f"{base}/diary-entries", headers=me)
        assert crashed.status_code == 500
        assert canaries["name"] not in crashed.text

        def db_down(*_a: Any, **_k: Any) -> None:
            raise OperationalError(
                "SELECT name FROM patients WHERE name = %s", (canaries["name"],), Exception()
            )

        monkeypatch.setattr("painpath.diary.service.list_therapy_sessions", db_down)
        down = client.get(f"{base}/therapy-sessions", headers=me)
        assert down.status_code == 503
        assert canaries["name"] not in down.text

    records = [r for r in caplog.records if not r.name.startswith(CLIENT_LOGGERS)]
    assert any(r.name == "painpath.access" for r in records), "the access log was not captured"
    assert any(getattr(r, "event", None) == "unexpected-error" for r in records)
    found = [
        (kind, r.name, r.getMessage()[:80])
        for r in records
        for kind, value in canaries.items()
        if value in _all_text(r)
    ]
    assert not found, found
    assert not any(PASSWORD in _all_text(r) for r in records)


def test_log_lines_cannot_be_forged() -> None:
    """L-5: CR/LF and control characters in a value stay inside one JSON line."""
    record = logging.LogRecord(
        "painpath.test", logging.WARNING, __file__, 1, "value %s", ("a\r\nFAKE\x1b[31m",), None
    )
    line = JsonFormatter().format(record)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line


def test_an_exception_reaching_the_server_is_logged_without_its_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """uvicorn logs an exception that escapes the application; the filter PainPath puts
    on its logger keeps the type and frames and drops the message."""
    from painpath.kit import logging as structured

    structured.configure("INFO")
    secret = canary("server")
    try:
        raise RuntimeError(f"leaked {secret}")
    except RuntimeError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    record = next(r for r in caplog.records if r.name == "uvicorn.error")
    assert secret not in _all_text(record)
    assert record.__dict__["exception"]["type"] == "RuntimeError"
