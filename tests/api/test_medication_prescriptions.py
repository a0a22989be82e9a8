"""Prescribing through the API: only clinicians prescribe, warnings block until a
reason overrides them (audited), and changes need the current ETag."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from painpath.audit.models import AuditEvent
from tests.api.conftest import Cast
from tests.api.conftest import login as sign_in
from tests.factories import Person

_TOKENS: dict[str, dict[str, str]] = {}


def login(client: TestClient, who: Person) -> dict[str, str]:
    """Sign in once per person (a clinician's security code is refused if used twice)."""
    if who.email not in _TOKENS:
        _TOKENS[who.email] = sign_in(client, who)
    return _TOKENS[who.email]


def today() -> date:
    return datetime.now(UTC).astimezone(ZoneInfo("Europe/London")).date()


def base(cast: Cast, who: str = "a") -> str:
    patient = cast.patient_a if who == "a" else cast.patient_b
    return f"/api/v1/patients/{patient.patient_id}"


def titration(start: date | None = None) -> list[dict[str, Any]]:
    first = start or today()
    return [
        {"start": first.isoformat(), "daily_dose_mg": 30},
        {"start": (first + timedelta(days=7)).isoformat(), "daily_dose_mg": 60},
    ]


def prescribe(
    client: TestClient, cast: Cast, headers: dict[str, str], **extra: Any
) -> dict[str, Any]:
    body = {
        "id": str(uuid.uuid4()),
        "medicine": "duloxetine",
        "schedule": titration(),
        "dose_times": ["08:00"],
        "indication": "chronic low back pain",
        **extra,
    }
    response = client.post(f"{base(cast)}/prescriptions", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def test_a_clinician_prescribes_a_titration_once_however_often_it_is_sent(
    client: TestClient, cast: Cast
) -> None:
    gp = login(client, cast.gp)
    body = {
        "id": str(uuid.uuid4()),
        "medicine": "Cymbalta",
        "schedule": titration(),
        "indication": "sciatica",
    }
    first = client.post(f"{base(cast)}/prescriptions", json=body, headers=gp)
    assert first.status_code == 201, first.text
    rx = first.json()
    assert rx["medicine"] == "duloxetine"
    assert [s["daily_dose_mg"] for s in rx["schedule"]] == [30, 60]
    assert rx["current_daily_dose_mg"] == 30
    assert rx["off_label"] is True
    assert any("NICE NG59" in n["message"] for n in rx["off_label_notes"])
    assert all(n["source"] for n in rx["off_label_notes"])
    assert first.headers["ETag"] == f'"{rx["id"]}.1"'
    again = client.post(f"{base(cast)}/prescriptions", json=body, headers=gp)
    assert again.status_code == 200 and again.json() == rx
    clash = client.post(
        f"{base(cast)}/prescriptions", json={**body, "medicine": "pregabalin"}, headers=gp
    )
    assert clash.status_code == 422 and clash.json()["errors"][0]["field"] == "id"
    listed = client.get(f"{base(cast)}/prescriptions", headers=gp).json()["items"]
    assert [i["id"] for i in listed] == [rx["id"]]


def test_only_clinicians_in_the_care_team_prescribe(client: TestClient, cast: Cast) -> None:
    body = {"id": str(uuid.uuid4()), "medicine": "duloxetine", "schedule": titration()}
    patient = login(client, cast.patient_a)
    refused = client.post(f"{base(cast)}/prescriptions", json=body, headers=patient)
    assert refused.status_code == 403
    assert (
        client.post(f"{base(cast, 'b')}/prescriptions", json=body, headers=patient).status_code
        == 404
    )
    other_gp = login(client, cast.other_gp)
    assert (
        client.post(f"{base(cast)}/prescriptions", json=body, headers=other_gp).status_code == 404
    )
    assert client.get(f"{base(cast)}/prescriptions", headers=other_gp).status_code == 404
    admin = login(client, cast.admin)
    assert client.post(f"{base(cast)}/prescriptions", json=body, headers=admin).status_code == 404
    gp = login(client, cast.gp)
    assert client.post(f"{base(cast)}/prescriptions", json=body, headers=gp).status_code == 201
    mine = client.get(f"{base(cast)}/prescriptions", headers=login(client, cast.patient_a))
    assert mine.status_code == 200 and len(mine.json()["items"]) == 1


def test_a_dose_above_the_maximum_is_refused_and_says_why(client: TestClient, cast: Cast) -> None:
    gp = login(client, cast.gp)
    body = {
        "id": str(uuid.uuid4()),
        "medicine": "duloxetine",
        "schedule": [{"start": today().isoformat(), "daily_dose_mg": 180}],
        "override_reason": "trying to force it",
    }
    response = client.post(f"{base(cast)}/prescriptions", json=body, headers=gp)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "above the maximum of 120 mg a day" in detail
    assert "cannot be overridden" in detail or "cannot accept" in detail
    assert {e["field"] for e in response.json()["errors"]} == {"schedule"}
    assert client.get(f"{base(cast)}/prescriptions", headers=gp).json()["items"] == []


def test_a_contraindicated_other_medicine_blocks_until_an_audited_override(
    client: TestClient, cast: Cast, db: Session
) -> None:
    gp = login(client, cast.gp)
    recorded = client.post(
        f"{base(cast)}/other-medicines",
        json={"id": str(uuid.uuid4()), "name": "Fluvoxamine"},
        headers=gp,
    )
    assert recorded.status_code == 201 and recorded.json()["recognised_as"] == "fluvoxamine"
    body = {"id": str(uuid.uuid4()), "medicine": "duloxetine", "schedule": titration()}
    blocked = client.post(f"{base(cast)}/prescriptions", json=body, headers=gp)
    assert blocked.status_code == 422
    payload = blocked.json()
    assert "fluvoxamine" in payload["detail"] and "contraindicated" in payload["detail"]
    assert "override_reason" in payload["detail"]
    fields = [e["field"] for e in payload["errors"]]
    assert "override_reason" in fields and "medicine" in fields
    reason = "Fluvoxamine is being stopped this week by psychiatry; agreed start date."
    accepted = client.post(
        f"{base(cast)}/prescriptions", json={**body, "override_reason": reason}, headers=gp
    )
    assert accepted.status_code == 201, accepted.text
    rx = accepted.json()
    assert rx["override_reason"] == reason
    codes = {w["code"] for w in rx["warnings_accepted"] if w["blocking"]}
    assert codes == {"contraindicated-combination"}
    events = db.scalars(
        select(AuditEvent).where(
            AuditEvent.resource_id == rx["id"], AuditEvent.action == "override"
        )
    ).all()
    assert len(events) == 1
    assert events[0].reason and "contraindicated-combination" in events[0].reason
    assert reason in events[0].reason


def test_a_duplicate_of_an_active_treatment_needs_a_reason(client: TestClient, cast: Cast) -> None:
    gp = login(client, cast.gp)
    prescribe(client, cast, gp)
    body = {"id": str(uuid.uuid4()), "medicine": "duloxetine", "schedule": titration()}
    second = client.post(f"{base(cast)}/prescriptions", json=body, headers=gp)
    assert second.status_code == 422 and "duplicate-medicine" in second.json()["detail"]
    ok = client.post(
        f"{base(cast)}/prescriptions",
        json={**body, "override_reason": "switching brand; the old one is stopped today"},
        headers=gp,
    )
    assert ok.status_code == 201


def test_changes_need_the_current_etag(client: TestClient, cast: Cast) -> None:
    gp = login(client, cast.gp)
    rx = prescribe(client, cast, gp)
    url = f"{base(cast)}/prescriptions/{rx['id']}"
    got = client.get(url, headers=gp)
    tag = got.headers["ETag"]
    change = {
        "schedule": [{"start": (today() + timedelta(days=3)).isoformat(), "daily_dose_mg": 30}],
        "reason": "nausea: stay on 30 mg for longer",
    }
    assert client.patch(url, json=change, headers=gp).status_code == 428
    changed = client.patch(url, json=change, headers={**gp, "If-Match": tag})
    assert changed.status_code == 200, changed.text
    assert changed.headers["ETag"] != tag
    stale = client.patch(url, json={"dose_times": ["09:00"]}, headers={**gp, "If-Match": tag})
    assert stale.status_code == 412
    body = changed.json()
    # The 60 mg step planned for day 7 was replaced before it took effect, and kept.
    assert [s["daily_dose_mg"] for s in body["schedule"]] == [30, 30]
    superseded = [c for c in body["dose_changes"] if c["superseded"]]
    assert [c["daily_dose_mg"] for c in superseded] == [60]
    latest = body["dose_changes"][-1]
    assert latest["reason"] == "nausea: stay on 30 mg for longer"
    assert latest["changed_by_name"] == "Dr Care Team"
    patient = login(client, cast.patient_a)
    refused = client.patch(
        url,
        json={"dose_times": ["10:00"]},
        headers={**patient, "If-Match": changed.headers["ETag"]},
    )
    assert refused.status_code == 403


def test_the_past_is_never_rewritten_and_stopping_is_never_abrupt(
    client: TestClient, cast: Cast, db: Session
) -> None:
    gp = login(client, cast.gp)
    rx = prescribe(client, cast, gp)
    url = f"{base(cast)}/prescriptions/{rx['id']}"
    tag = client.get(url, headers=gp).headers["ETag"]
    past = client.patch(
        url,
        json={
            "schedule": [{"start": (today() - timedelta(days=1)).isoformat(), "daily_dose_mg": 60}],
            "reason": "backdate",
        },
        headers={**gp, "If-Match": tag},
    )
    assert past.status_code == 422 and past.json()["errors"][0]["field"] == "schedule[0].start"
    stop = client.patch(url, json={"status": "stopped"}, headers={**gp, "If-Match": tag})
    assert stop.status_code == 422
    assert "never stop abruptly" in stop.json()["detail"]
    assert stop.json()["errors"][0]["field"] == "status"
    zero = client.patch(
        url,
        json={"schedule": [{"start": today().isoformat(), "daily_dose_mg": 0}], "reason": "stop"},
        headers={**gp, "If-Match": tag},
    )
    assert zero.status_code == 422 and "never stop abruptly" in zero.json()["detail"]
    forced = client.patch(
        url,
        json={"status": "stopped", "override_reason": "suspected serotonin syndrome: stop now"},
        headers={**gp, "If-Match": tag},
    )
    assert forced.status_code == 200, forced.text
    assert forced.json()["status"] == "stopped"
    assert forced.json()["current_daily_dose_mg"] == 0
    assert forced.json()["stopped_on"] == today().isoformat()
    audit = db.scalars(
        select(AuditEvent).where(
            AuditEvent.resource_id == rx["id"], AuditEvent.action == "override"
        )
    ).one()
    assert audit.reason and "serotonin syndrome" in audit.reason


def test_a_course_that_has_reached_zero_is_stopped_without_an_override(
    client: TestClient, cast: Cast
) -> None:
    gp = login(client, cast.gp)
    schedule = [
        {"start": (today() - timedelta(days=40)).isoformat(), "daily_dose_mg": 20},
        {"start": (today() - timedelta(days=3)).isoformat(), "daily_dose_mg": 0},
    ]
    body = {"id": str(uuid.uuid4()), "medicine": "duloxetine", "schedule": schedule}
    refused = client.post(f"{base(cast)}/prescriptions", json=body, headers=gp)
    assert refused.status_code == 422 and "never stop abruptly" in refused.json()["detail"]
    recorded = client.post(
        f"{base(cast)}/prescriptions",
        json={**body, "override_reason": "recording a course tapered elsewhere"},
        headers=gp,
    )
    assert recorded.status_code == 201, recorded.text
    url = f"{base(cast)}/prescriptions/{recorded.json()['id']}"
    stopped = client.patch(
        url, json={"status": "stopped"}, headers={**gp, "If-Match": recorded.headers["ETag"]}
    )
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["status"] == "stopped"
    again = client.patch(
        url, json={"dose_times": ["08:00"]}, headers={**gp, "If-Match": stopped.headers["ETag"]}
    )
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "status"


def test_changing_the_dose_while_tapering_replaces_the_taper(
    client: TestClient, cast: Cast
) -> None:
    gp = login(client, cast.gp)
    rx = prescribe(client, cast, gp, schedule=titration(today() - timedelta(days=30)))
    taper = client.post(
        f"{base(cast)}/taper-plans",
        json={
            "id": str(uuid.uuid4()),
            "prescription_id": rx["id"],
            "start": today().isoformat(),
            "weeks": 4,
        },
        headers=gp,
    )
    assert taper.status_code == 201, taper.text
    url = f"{base(cast)}/prescriptions/{rx['id']}"
    tag = client.get(url, headers=gp).headers["ETag"]
    back = client.patch(
        url,
        json={
            "schedule": [{"start": (today() + timedelta(days=1)).isoformat(), "daily_dose_mg": 60}],
            "reason": "pain came back on 30 mg; continue at 60 mg",
        },
        headers={**gp, "If-Match": tag},
    )
    assert back.status_code == 200, back.text
    assert back.json()["status"] == "active"
    assert back.json()["schedule"][-1]["daily_dose_mg"] == 60
    plan = client.get(f"{base(cast)}/taper-plans/{taper.json()['id']}", headers=gp).json()
    assert plan["status"] == "replaced"
    assert [r["version"] for r in plan["revisions"]] == [1, 2]


def test_a_new_course_can_plan_its_default_follow_ups_in_the_same_change(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    """Prescribing with ``plan_follow_ups`` plans the default follow-ups from the first
    dose (NICE NG59-based design default), once even when sent twice, audited as part of
    the prescription; without it, none are planned."""
    gp = login(client, cast.gp)
    first_dose = today() + timedelta(days=1)
    body = {
        "id": str(uuid.uuid4()),
        "medicine": "duloxetine",
        "schedule": titration(first_dose),
        "indication": "chronic low back pain",
        "plan_follow_ups": True,
    }
    made = client.post(f"{base(cast)}/prescriptions", json=body, headers=gp)
    assert made.status_code == 201, made.text
    assert client.post(f"{base(cast)}/prescriptions", json=body, headers=gp).status_code == 200
    # the same prescription sent again without the flag is still the same prescription
    plain = {k: v for k, v in body.items() if k != "plan_follow_ups"}
    assert client.post(f"{base(cast)}/prescriptions", json=plain, headers=gp).status_code == 200
    items = client.get(f"{base(cast)}/follow-ups", headers=gp).json()["items"]
    planned = sorted((date.fromisoformat(f["due"]) - first_dose).days for f in items)
    assert planned[:3] == [14, 28, 84]
    assert len(planned) == 6 and all(f["status"] == "scheduled" for f in items)
    assert any("does it help?" in f["kind"] for f in items)
    with session_factory() as db:
        reasons = db.scalars(
            select(AuditEvent.reason).where(
                AuditEvent.resource_type == "prescription",
                AuditEvent.resource_id == made.json()["id"],
                AuditEvent.action == "create",
            )
        ).all()
    assert reasons == [f"6 default follow-ups planned from {first_dose.isoformat()}"]
    other = prescribe(client, cast, gp, override_reason="a second course for this test")
    assert other["id"] != made.json()["id"]
    assert len(client.get(f"{base(cast)}/follow-ups", headers=gp).json()["items"]) == 6
