from fastapi.testclient import TestClient

from painpath import migrate
from tests.conftest import Database


def test_healthz_reports_the_database_and_schema(client: TestClient, migrated_db: Database) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": migrated_db.backend,
        "schema": migrate.head_revision(),
    }


def test_security_headers_on_every_response(client: TestClient) -> None:
    response = client.get("/")
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"


def test_openapi_describes_the_json_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/auth/login",
        "/api/v1/me",
        "/api/v1/patients",
        "/api/v1/patients/{patient_id}",
    ):
        assert path in paths
