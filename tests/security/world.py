"""A small world for the security tests: two patients with a full record each, their
clinicians, a clinician taken out of the care team, a disabled clinician, and two
administrators (one with break-glass on patient A). Built through the API, so every
record is real; each call a test makes runs in a savepoint that is rolled back.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import Connection, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from painpath.alerts.service import raise_alert
from painpath.app import create_app
from painpath.audit.models import AuditEvent
from painpath.auth.domain import Role
from painpath.auth.models import User, UserSession
from painpath.care.models import CareTeamMember, Consent, Notification
from painpath.config import Settings
from painpath.kit.security import Throttles
from tests.factories import PASSWORD, Person, in_care_team, person

# The kinds of actor every route is called as (docs/security.md, A-1).
ANON = "anonymous"
SELF = "patient-self"
OTHER = "patient-other"
TEAM = "clinician-in-team"
NOT_TEAM = "clinician-not-in-team"
REMOVED = "clinician-removed-from-team"
ADMIN = "admin"
BREAK_GLASS = "admin-break-glass"
DISABLED = "disabled-user"
ACTORS = (ANON, SELF, OTHER, TEAM, NOT_TEAM, REMOVED, ADMIN, BREAK_GLASS, DISABLED)

CSRF = "security-test-csrf-token"


@dataclass
class World:
    client: TestClient
    connection: Connection
    factory: sessionmaker[Session]
    people: dict[str, Person]
    tokens: dict[str, str]
    # record ids by path-parameter name, for patient A ("own") and patient B ("other")
    a: dict[str, str] = field(default_factory=dict)
    b: dict[str, str] = field(default_factory=dict)
    specialist: Person | None = None

    def headers(self, actor: str) -> dict[str, str]:
        token = self.tokens.get(actor)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def totp(self, actor: str) -> str | None:
        """A code not used yet: the next step's (sign-in used the current one)."""
        who = self.people.get(actor)
        return who.totp(datetime.now(UTC) + timedelta(seconds=30)) if who else None

    @contextmanager
    def rolled_back(self) -> Iterator[None]:
        """Everything inside is undone afterwards (a savepoint on the shared connection),
        the sign-in throttles included."""
        savepoint = self.connection.begin_nested()
        # Every session proved its password and code just now (step-up), however long
        # the module has been running.
        self.connection.execute(update(UserSession).values(reauth_at=datetime.now(UTC)))
        try:
            yield
        finally:
            if savepoint.is_active:
                savepoint.rollback()
            self.client.app.state.painpath.throttles = Throttles()  # type: ignore[attr-defined]

    def audit_count(self, request_id: str) -> int:
        with self.factory() as db:
            return int(
                db.scalar(
                    select(func.count())
                    .select_from(AuditEvent)
                    .where(AuditEvent.request_id == request_id)
                )
                or 0
            )


def login(client: TestClient, who: Person) -> str:
    body: dict[str, Any] = {"email": who.email, "password": PASSWORD}
    code = who.totp()
    if code:
        body["totp"] = code
    response = client.post("/api/v1/auth/login", json=body)
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return str(response.json()["token"])


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), (response.request.url, response.text)
    data: dict[str, Any] = response.json()
    return data


def seed_record(
    client: TestClient, patient_token: str, gp_token: str, patient: Person, gp: Person
) -> dict[str, str]:
    """One of every kind of record for ``patient`` (ids by path-parameter name)."""
    pid = str(patient.patient_id)
    base = f"/api/v1/patients/{pid}"
    pt = {"Authorization": f"Bearer {patient_token}"}
    cl = {"Authorization": f"Bearer {gp_token}"}
    today = datetime.now(ZoneInfo("Europe/London")).date()
    ids: dict[str, str] = {"patient_id": pid, "clinician_id": str(gp.clinician_id)}

    rx = _ok(
        client.post(
            f"{base}/prescriptions",
            headers=cl,
            json={
                "id": str(uuid.uuid4()),
                "medicine": "duloxetine",
                "schedule": [
                    {"start": (today - timedelta(days=20)).isoformat(), "daily_dose_mg": 30}
                ],
            },
        )
    )
    ids["prescription_id"] = rx["id"]
    ids["entry_id"] = _ok(
        client.post(
            f"{base}/diary-entries",
            headers=pt,
            json={"id": str(uuid.uuid4()), "date": today.isoformat(), "pain": 5},
        )
    )["id"]
    _ok(
        client.post(
            f"{base}/therapy-sessions",
            headers=pt,
            json={"id": str(uuid.uuid4()), "date": today.isoformat(), "kind": "exercise"},
        )
    )
    _ok(
        client.post(
            f"{base}/dose-events",
            headers=pt,
            json={
                "id": str(uuid.uuid4()),
                "status": "taken",
                "taken_at": datetime.now(UTC).isoformat(),
                "prescription_id": rx["id"],
            },
        )
    )
    ids["report_id"] = _ok(
        client.post(
            f"{base}/side-effect-reports",
            headers=pt,
            json={
                "id": str(uuid.uuid4()),
                "symptom": "nausea",
                "severity": "mild",
                "started_on": today.isoformat(),
            },
        )
    )["id"]
    ids["response_id"] = _ok(
        client.post(
            f"{base}/questionnaire-responses",
            headers=pt,
            json={"id": str(uuid.uuid4()), "instrument": "peg", "answers": [5, 5, 5]},
        )
    )["id"]
    ids["request_id"] = _ok(
        client.post(
            f"{base}/dose-change-requests",
            headers=pt,
            json={
                "id": str(uuid.uuid4()),
                "prescription_id": rx["id"],
                "reason": "I feel sick in the mornings",
            },
        )
    )["id"]
    _ok(
        client.post(
            f"{base}/other-medicines",
            headers=pt,
            json={"id": str(uuid.uuid4()), "name": "paracetamol", "is_pain_medicine": True},
        )
    )
    ids["follow_up_id"] = _ok(
        client.post(
            f"{base}/follow-ups",
            headers=cl,
            json={
                "id": str(uuid.uuid4()),
                "due": (today + timedelta(days=14)).isoformat(),
                "kind": "review",
            },
        )
    )["id"]
    _ok(
        client.post(
            f"{base}/reviews",
            headers=cl,
            json={
                "id": str(uuid.uuid4()),
                "prescription_id": rx["id"],
                "decision": "continue",
                "reason": "Helping a little",
            },
        )
    )
    _ok(
        client.post(
            f"{base}/notes", headers=cl, json={"id": str(uuid.uuid4()), "text": "Seen today"}
        )
    )
    ids["plan_id"] = _ok(
        client.post(
            f"{base}/taper-plans",
            headers=cl,
            json={
                "id": str(uuid.uuid4()),
                "prescription_id": rx["id"],
                "start": (today + timedelta(days=7)).isoformat(),
                "weeks": 4,
            },
        )
    )["id"]
    return ids


def build_world(
    migrated_url: str,
    connection: Connection,
    factory: sessionmaker[Session],
    settings: Settings | None = None,
) -> World:
    settings = settings or Settings(database_url=migrated_url)
    app = create_app(settings, session_factory=factory, engine=connection.engine)
    client = TestClient(app, raise_server_exceptions=False)
    with factory() as db:
        people = {
            SELF: person(db, Role.PATIENT, "Ann Patient"),
            OTHER: person(db, Role.PATIENT, "Bob Patient"),
            TEAM: person(db, Role.CLINICIAN, "Dr Care Team"),
            NOT_TEAM: person(db, Role.CLINICIAN, "Dr Elsewhere"),
            REMOVED: person(db, Role.CLINICIAN, "Dr Moved On"),
            ADMIN: person(db, Role.ADMIN, "Ada Admin"),
            BREAK_GLASS: person(db, Role.ADMIN, "Eve Emergency"),
            DISABLED: person(db, Role.CLINICIAN, "Dr Left Us"),
        }
        specialist = person(db, Role.CLINICIAN, "Dr Specialist", kind="pain-specialist")
        in_care_team(db, people[SELF], people[TEAM])
        in_care_team(db, people[SELF], people[REMOVED])
        in_care_team(db, people[SELF], people[DISABLED])
        in_care_team(db, people[OTHER], people[NOT_TEAM])
        db.commit()
    tokens = {actor: login(client, who) for actor, who in people.items()}
    world = World(
        client=client, connection=connection, factory=factory, people=people, tokens=tokens
    )
    world.specialist = specialist
    world.a = seed_record(client, tokens[SELF], tokens[TEAM], people[SELF], people[TEAM])
    world.b = seed_record(client, tokens[OTHER], tokens[NOT_TEAM], people[OTHER], people[NOT_TEAM])
    now = datetime.now(UTC)
    with factory() as db:
        for ids, who in ((world.a, people[SELF]), (world.b, people[OTHER])):
            assert who.patient_id
            alert = raise_alert(
                db,
                patient_id=who.patient_id,
                rule="test",
                cause_key=f"test:{uuid.uuid4()}",
                urgency="routine",
                summary="A test alert",
                source="security tests",
                now=now,
            )
            ids["alert_id"] = str(alert.id)
            consent = Consent(patient_id=who.patient_id, kind="care-team-data", text_version="1")
            db.add(consent)
            db.flush()
            ids["consent_id"] = str(consent.id)
            note = Notification(
                user_id=who.user_id, patient_id=who.patient_id, kind="advice", title="T", body="B"
            )
            db.add(note)
            db.flush()
            ids["notification_id"] = str(note.id)
        db.commit()
    grant = client.post(
        f"/api/v1/patients/{world.a['patient_id']}/break-glass",
        headers=world.headers(BREAK_GLASS),
        json={"id": str(uuid.uuid4()), "reason": "Care team unreachable; patient in A&E"},
    )
    assert grant.status_code == 201, grant.text
    referral = client.post(
        f"/api/v1/patients/{world.a['patient_id']}/referrals",
        headers=world.headers(TEAM),
        json={
            "id": str(uuid.uuid4()),
            "to_clinician_id": str(specialist.clinician_id),
            "reason": "Specialist opinion",
        },
    )
    world.a["referral_id"] = _ok(referral)["id"]
    # The removed clinician and the disabled account signed in while they still had access.
    with factory() as db:
        db.execute(
            update(CareTeamMember)
            .where(CareTeamMember.clinician_id == people[REMOVED].clinician_id)
            .values(removed_at=now)
        )
        db.execute(update(User).where(User.id == people[DISABLED].user_id).values(is_active=False))
        db.commit()
    return world
