"""An app per test, bound to the test's rolled-back transaction, and a cast of people."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from painpath.app import create_app
from painpath.auth.domain import Role
from painpath.config import Settings
from tests.conftest import Database
from tests.factories import PASSWORD, Person, in_care_team, person


@pytest.fixture()
def client(migrated_db: Database, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    settings = Settings(database_url=migrated_db.url)
    app = create_app(settings, engine=migrated_db.engine, session_factory=session_factory)
    with TestClient(app) as c:
        yield c


@dataclass
class Cast:
    patient_a: Person
    patient_b: Person
    gp: Person
    other_gp: Person
    admin: Person


@pytest.fixture()
def cast(session_factory: sessionmaker[Session]) -> Cast:
    with session_factory() as db:
        cast = Cast(
            patient_a=person(db, Role.PATIENT, "Ann Patient"),
            patient_b=person(db, Role.PATIENT, "Bob Patient"),
            gp=person(db, Role.CLINICIAN, "Dr Care Team"),
            other_gp=person(db, Role.CLINICIAN, "Dr Elsewhere"),
            admin=person(db, Role.ADMIN, "Ada Admin"),
        )
        in_care_team(db, cast.patient_a, cast.gp)
        in_care_team(db, cast.patient_b, cast.other_gp)
        db.commit()
    return cast


def login(client: TestClient, who: Person) -> dict[str, str]:
    body = {"email": who.email, "password": PASSWORD}
    code = who.totp()
    if code:
        body["totp"] = code
    response = client.post("/api/v1/auth/login", json=body)
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['token']}"}
