from datetime import UTC, datetime, timedelta

import pyotp
from fastapi.testclient import TestClient

from tests.api.conftest import Cast, login
from tests.factories import PASSWORD


def test_patient_signs_in_and_the_token_works(client: TestClient, cast: Cast) -> None:
    headers = login(client, cast.patient_a)
    me = client.get("/api/v1/me", headers=headers).json()
    assert me["role"] == "patient"
    assert me["patient_id"] == str(cast.patient_a.patient_id)


def test_login_sets_an_httponly_session_cookie(client: TestClient, cast: Cast) -> None:
    response = client.post(
        "/api/v1/auth/login", json={"email": cast.patient_a.email, "password": PASSWORD}
    )
    cookie = response.headers["set-cookie"]
    assert "painpath_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie


def test_wrong_password_and_unknown_account_look_the_same(client: TestClient, cast: Cast) -> None:
    wrong = client.post(
        "/api/v1/auth/login", json={"email": cast.patient_a.email, "password": "not the password"}
    )
    unknown = client.post(
        "/api/v1/auth/login", json={"email": "nobody@test.example", "password": PASSWORD}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_no_credentials_is_401(client: TestClient) -> None:
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/patients").status_code == 401
    bad = client.get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401


def test_clinician_needs_the_second_factor(client: TestClient, cast: Cast) -> None:
    without = client.post("/api/v1/auth/login", json={"email": cast.gp.email, "password": PASSWORD})
    assert without.status_code == 401
    assert cast.gp.totp_secret
    stale = pyotp.TOTP(cast.gp.totp_secret).at(datetime.now(UTC) - timedelta(minutes=10))
    old = client.post(
        "/api/v1/auth/login", json={"email": cast.gp.email, "password": PASSWORD, "totp": stale}
    )
    assert old.status_code == 401
    assert login(client, cast.gp)


def test_a_totp_code_cannot_be_replayed(client: TestClient, cast: Cast) -> None:
    code = cast.gp.totp()
    body = {"email": cast.gp.email, "password": PASSWORD, "totp": code}
    assert client.post("/api/v1/auth/login", json=body).status_code == 200
    assert client.post("/api/v1/auth/login", json=body).status_code == 401


def test_logout_revokes_the_token_on_the_next_request(client: TestClient, cast: Cast) -> None:
    headers = login(client, cast.patient_a)
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_missing_field_names_the_field(client: TestClient) -> None:
    response = client.post("/api/v1/auth/login", json={"email": "a@test.example"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "password"


def test_password_hash_is_argon2id_with_64_mib(client: TestClient, cast: Cast) -> None:
    from sqlalchemy import select

    from painpath.auth.models import User

    factory = client.app.state.painpath.factory  # type: ignore[attr-defined]
    with factory() as db:
        stored = db.scalars(select(User.password_hash).where(User.id == cast.patient_a.user_id))
        assert stored.one().startswith("$argon2id$v=19$m=65536,t=3,")
