from fastapi.testclient import TestClient
from sqlalchemy import select

from painpath.audit.models import AuditEvent
from tests.api.conftest import Cast, login


def test_a_patient_sees_only_themself(client: TestClient, cast: Cast) -> None:
    headers = login(client, cast.patient_a)
    page = client.get("/api/v1/patients", headers=headers).json()
    assert [p["id"] for p in page["items"]] == [str(cast.patient_a.patient_id)]
    assert page["next"] is None
    own = client.get(f"/api/v1/patients/{cast.patient_a.patient_id}", headers=headers)
    assert own.status_code == 200
    other = client.get(f"/api/v1/patients/{cast.patient_b.patient_id}", headers=headers)
    missing = client.get("/api/v1/patients/00000000-0000-4000-8000-000000000000", headers=headers)
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()


def test_a_clinician_sees_their_care_teams_only(client: TestClient, cast: Cast) -> None:
    headers = login(client, cast.gp)
    page = client.get("/api/v1/patients", headers=headers).json()
    assert [p["name"] for p in page["items"]] == ["Ann Patient"]
    record = client.get(f"/api/v1/patients/{cast.patient_a.patient_id}", headers=headers).json()
    assert record["care_team"][0]["name"] == "Dr Care Team"
    outside = client.get(f"/api/v1/patients/{cast.patient_b.patient_id}", headers=headers)
    assert outside.status_code == 404


def test_an_admin_reads_no_clinical_record(client: TestClient, cast: Cast) -> None:
    headers = login(client, cast.admin)
    assert client.get("/api/v1/patients", headers=headers).status_code == 403
    record = client.get(f"/api/v1/patients/{cast.patient_a.patient_id}", headers=headers)
    assert record.status_code == 404


def test_reads_and_refusals_are_audited(client: TestClient, cast: Cast) -> None:
    headers = login(client, cast.gp)
    client.get(f"/api/v1/patients/{cast.patient_a.patient_id}", headers=headers)
    client.get(f"/api/v1/patients/{cast.patient_b.patient_id}", headers=headers)
    factory = client.app.state.painpath.factory  # type: ignore[attr-defined]
    with factory() as db:
        events = db.scalars(
            select(AuditEvent).where(
                AuditEvent.actor_user_id == cast.gp.user_id, AuditEvent.action == "read"
            )
        ).all()
    outcomes = {(e.resource_id, e.outcome) for e in events}
    assert (str(cast.patient_a.patient_id), "allowed") in outcomes
    assert (str(cast.patient_b.patient_id), "denied") in outcomes


def test_caseload_pages_follow_next(client: TestClient, cast: Cast) -> None:
    from painpath.auth.domain import Role
    from tests.factories import in_care_team, person

    factory = client.app.state.painpath.factory  # type: ignore[attr-defined]
    with factory() as db:
        for i in range(5):
            in_care_team(db, person(db, Role.PATIENT, f"Extra Patient {i}"), cast.gp)
        db.commit()
    headers = login(client, cast.gp)
    seen: list[str] = []
    url: str | None = "/api/v1/patients?limit=2"
    while url:
        page = client.get(url, headers=headers).json()
        assert len(page["items"]) <= 2
        seen += [p["id"] for p in page["items"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 6
    bad = client.get("/api/v1/patients?limit=1000", headers=headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "query.limit"
