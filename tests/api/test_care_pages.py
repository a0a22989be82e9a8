"""The clinician pages render what a clinician needs and escape what people typed."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from painpath.auth.domain import Role
from tests.api.conftest import Cast, login
from tests.api.test_care_workspace import prescribe
from tests.factories import in_care_team, person


def test_caseload_record_review_and_follow_up_pages(client: TestClient, cast: Cast) -> None:
    rx = prescribe(client, cast.patient_a, cast.gp)
    gp = login(client, cast.gp)
    pid = cast.patient_a.patient_id
    client.post(
        f"/api/v1/patients/{pid}/notes",
        json={"id": str(uuid.uuid4()), "text": "<script>alert('x')</script>"},
        headers=gp,
    )
    page = client.get("/caseload", headers={**gp, "accept": "text/html"})
    assert page.status_code == 200
    assert "Ann Patient" in page.text and "Duloxetine 60 mg" in page.text
    assert "4.0" in page.text and "(8.0, -50%)" in page.text and "96% (27 of 28 days)" in page.text
    assert "Bob Patient" not in page.text
    record = client.get(f"/patients/{pid}", headers=gp)
    assert record.status_code == 200
    assert "&lt;script&gt;alert" in record.text and "<script>alert" not in record.text
    assert f'href="/patients/{pid}/prescribe"' in record.text
    assert "Treatment now" in record.text and "Dose change" in record.text
    assert f'href="/patients/{pid}/response/{rx}">Does it help?' in record.text
    assert "Questionnaires done when due, last 12 weeks" in record.text
    assert (
        "<tr><td>Patient Health Questionnaire-9 (PHQ-9)</td><td>0</td><td>0</td>"
        "<td>nothing due yet</td></tr>"
    ) in record.text
    review = client.get(f"/patients/{pid}/review", headers=gp)
    assert review.status_code == 200 and str(rx) in review.text
    empty = client.post(f"/patients/{pid}/review", data={"prescription_id": str(rx)}, headers=gp)
    assert empty.status_code == 422 and "Choose a decision." in empty.text
    done = client.post(
        f"/patients/{pid}/review",
        data={"prescription_id": str(rx), "decision": "continue", "reason": "Helping"},
        headers=gp,
        follow_redirects=False,
    )
    assert done.status_code == 303
    listed = client.get(f"/api/v1/patients/{pid}/reviews", headers=gp).json()["items"]
    assert [r["decision"] for r in listed] == ["continue"]
    defaults = client.post(
        f"/patients/{pid}/follow-ups/defaults", data={"start": "2030-01-01"}, headers=gp
    )
    assert defaults.status_code == 200 and "12-week response review" in defaults.text
    outsider = login(client, cast.other_gp)
    assert client.get(f"/patients/{pid}", headers=outsider).status_code == 404
    assert client.get(f"/patients/{pid}/review", headers=outsider).status_code == 404
    assert client.get(f"/patients/{pid}/follow-ups", headers=outsider).status_code == 404


def test_alert_inbox_and_admin_care_teams(client: TestClient, cast: Cast) -> None:
    from datetime import UTC, datetime

    from painpath.alerts.service import raise_alert

    factory = client.app.state.painpath.factory  # type: ignore[attr-defined]
    with factory() as db:
        alert = raise_alert(
            db,
            patient_id=cast.patient_a.patient_id,
            rule="side-effect",
            cause_key="side-effect:x",
            urgency="urgent",
            summary="Side effect reported: <b>dizzy</b>",
            source="test",
            now=datetime.now(UTC),
        )
        db.commit()
    gp = login(client, cast.gp)
    inbox = client.get("/alerts", headers=gp)
    assert "Side effect reported: &lt;b&gt;dizzy&lt;/b&gt;" in inbox.text
    acked = client.post(
        f"/alerts/{alert.id}",
        data={"status": "acknowledged", "note": "Rang her", "version": "1"},
        headers=gp,
    )
    assert acked.status_code == 200 and "Alert acknowledged." in acked.text
    stale = client.post(
        f"/alerts/{alert.id}", data={"status": "resolved", "version": "1"}, headers=gp
    )
    assert stale.status_code == 409 and "Someone else changed this alert" in stale.text
    admin = login(client, cast.admin)
    teams = client.get("/care-teams?q=Ann", headers=admin)
    assert teams.status_code == 200 and "Dr Care Team (gp)" in teams.text
    assert client.get(f"/patients/{cast.patient_a.patient_id}", headers=admin).status_code == 200
    assert (
        "Ann Patient"
        not in client.get(f"/patients/{cast.patient_a.patient_id}", headers=admin).text
    )


def test_a_clinicians_in_app_reminders_wait_on_the_caseload_until_read(
    client: TestClient, cast: Cast
) -> None:
    from datetime import UTC, datetime

    from painpath.care.models import Notification

    factory = client.app.state.painpath.factory  # type: ignore[attr-defined]
    with factory() as db:
        note = Notification(
            id=uuid.uuid4(),
            user_id=cast.gp.user_id,
            patient_id=cast.patient_a.patient_id,
            kind="follow-up",
            title="Follow-up tomorrow: <Ann>",
            body="A 4-week review with Ann Patient is due tomorrow.",
            link=f"/patients/{cast.patient_a.patient_id}",
            created_at=datetime.now(UTC),
        )
        db.add(note)
        db.commit()
    gp = login(client, cast.gp)
    page = client.get("/caseload", headers={**gp, "accept": "text/html"})
    assert "Reminders for you" in page.text
    assert "Follow-up tomorrow: &lt;Ann&gt;" in page.text
    assert f'action="/today/advice/{note.id}/read"' in page.text
    other = client.get("/caseload", headers={**login(client, cast.other_gp), "accept": "text/html"})
    assert "Follow-up tomorrow" not in other.text
    read = client.post(f"/today/advice/{note.id}/read", headers=gp, follow_redirects=False)
    assert read.status_code == 303 and read.headers["location"] == "/caseload"
    again = client.get("/caseload", headers={**gp, "accept": "text/html"})
    assert "Follow-up tomorrow" not in again.text and "Reminders for you" not in again.text


def test_the_caseload_finds_a_patient_by_name(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as db:
        for name in ("Anna Other", "Zoe 100% Percent"):
            in_care_team(db, person(db, Role.PATIENT, name), cast.gp)
        db.commit()
    gp = {**login(client, cast.gp), "accept": "text/html"}
    everyone = client.get("/caseload", headers=gp)
    assert "(3), open alerts first" in everyone.text
    found = client.get("/caseload", params={"name": "  ANN "}, headers=gp)
    assert found.status_code == 200
    assert 'whose name contains "ANN" (2)' in found.text
    assert "Ann Patient" in found.text and "Anna Other" in found.text
    assert "Zoe 100% Percent" not in found.text
    assert 'value="ANN"' in found.text
    literal = client.get("/caseload", params={"name": "0%"}, headers=gp)
    assert "Zoe 100% Percent" in literal.text and "(1), open alerts first" in literal.text
    wildcard = client.get("/caseload", params={"name": "%"}, headers=gp)
    assert "(1), open alerts first" in wildcard.text  # % is a character, not a wildcard
    none = client.get("/caseload", params={"name": "Bob", "attention": "1"}, headers=gp)
    assert "No patient in your care teams who needs attention has a name containing" in none.text
    assert "Bob Patient" not in none.text  # Bob is in another team
