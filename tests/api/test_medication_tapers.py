"""Taper plans: built from whole capsules, extend the prescription, and every accepted
change is a new version kept as a revision (no lost updates)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from painpath.auth.domain import Role
from tests.api.conftest import Cast
from tests.api.conftest import login as sign_in
from tests.factories import Person, in_care_team, person

_TOKENS: dict[str, dict[str, str]] = {}


def login(client: TestClient, who: Person) -> dict[str, str]:
    """Sign in once per person (a clinician's security code is refused if used twice)."""
    if who.email not in _TOKENS:
        _TOKENS[who.email] = sign_in(client, who)
    return _TOKENS[who.email]


def today() -> date:
    return datetime.now(UTC).astimezone(ZoneInfo("Europe/London")).date()


def base(cast: Cast) -> str:
    return f"/api/v1/patients/{cast.patient_a.patient_id}"


def on_60mg(client: TestClient, cast: Cast, headers: dict[str, str]) -> dict[str, Any]:
    start = today() - timedelta(days=60)
    response = client.post(
        f"{base(cast)}/prescriptions",
        json={
            "id": str(uuid.uuid4()),
            "medicine": "duloxetine",
            "schedule": [
                {"start": start.isoformat(), "daily_dose_mg": 30},
                {"start": (start + timedelta(days=7)).isoformat(), "daily_dose_mg": 60},
            ],
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def plan(
    client: TestClient, cast: Cast, headers: dict[str, str], rx: dict[str, Any], weeks: int = 4
) -> tuple[dict[str, Any], str]:
    body = {
        "id": str(uuid.uuid4()),
        "prescription_id": rx["id"],
        "start": (today() + timedelta(days=1)).isoformat(),
        "weeks": weeks,
        "reason": "no meaningful benefit at 12 weeks",
    }
    response = client.post(f"{base(cast)}/taper-plans", json=body, headers=headers)
    assert response.status_code == 201, response.text
    again = client.post(f"{base(cast)}/taper-plans", json=body, headers=headers)
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    return response.json(), response.headers["ETag"]


def test_a_taper_steps_down_to_zero_and_extends_the_prescription(
    client: TestClient, cast: Cast
) -> None:
    gp = login(client, cast.gp)
    rx = on_60mg(client, cast, gp)
    taper, tag = plan(client, cast, gp, rx)
    doses = [s["daily_dose_mg"] for s in taper["steps"]]
    assert doses[-1] == 0 and doses == sorted(doses, reverse=True)
    assert all(s["instructions"] for s in taper["steps"])
    assert "Stop taking duloxetine" in taper["steps"][-1]["instructions"]
    assert "dizziness" in taper["withdrawal_symptoms"]
    assert tag == f'"{taper["id"]}.1"'
    assert [r["version"] for r in taper["revisions"]] == [1]
    after = client.get(f"{base(cast)}/prescriptions/{rx['id']}", headers=gp).json()
    assert after["status"] == "tapering"
    assert after["schedule"][-1]["daily_dose_mg"] == 0
    assert after["current_daily_dose_mg"] == 60  # the taper starts tomorrow
    second = client.post(
        f"{base(cast)}/taper-plans",
        json={
            "id": str(uuid.uuid4()),
            "prescription_id": rx["id"],
            "start": today().isoformat(),
            "weeks": 2,
        },
        headers=gp,
    )
    assert second.status_code == 409
    patient = login(client, cast.patient_a)
    listed = client.get(f"{base(cast)}/taper-plans", headers=patient).json()["items"]
    assert [p["id"] for p in listed] == [taper["id"]]
    refused = client.post(
        f"{base(cast)}/taper-plans",
        json={
            "id": str(uuid.uuid4()),
            "prescription_id": rx["id"],
            "start": today().isoformat(),
            "weeks": 2,
        },
        headers=patient,
    )
    assert refused.status_code == 403


def test_a_withdrawal_symptom_during_a_taper_alerts_the_care_team_at_once(
    client: TestClient, cast: Cast
) -> None:
    gp = login(client, cast.gp)
    rx = on_60mg(client, cast, gp)
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
    patient = login(client, cast.patient_a)
    before = client.get(f"{base(cast)}/alerts", headers=gp).json()["items"]
    assert [a for a in before if a["rule"] == "withdrawal-in-taper"] == []
    report = {
        "id": str(uuid.uuid4()),
        "symptom": "dizziness",
        "severity": "moderate",
        "started_on": today().isoformat(),
    }
    made = client.post(f"{base(cast)}/side-effect-reports", json=report, headers=patient)
    assert made.status_code == 201, made.text
    again = client.post(f"{base(cast)}/side-effect-reports", json=report, headers=patient)
    assert again.status_code == 200
    items = client.get(f"{base(cast)}/alerts", headers=gp).json()["items"]
    withdrawal = [a for a in items if a["rule"] == "withdrawal-in-taper"]
    assert len(withdrawal) == 1, items
    assert "Possible withdrawal symptom during the taper: dizziness" in withdrawal[0]["summary"]
    assert withdrawal[0]["urgency"] == "routine"


def test_a_taper_shorter_than_the_minimum_is_stretched_with_a_warning(
    client: TestClient, cast: Cast
) -> None:
    gp = login(client, cast.gp)
    rx = on_60mg(client, cast, gp)
    taper, _ = plan(client, cast, gp, rx, weeks=1)
    codes = [w["code"] for w in taper["warnings"]]
    assert "shorter-than-minimum" in codes
    first, last = (
        date.fromisoformat(taper["steps"][0]["start"]),
        date.fromisoformat(taper["steps"][-1]["start"]),
    )
    assert (last - first).days >= 14


def test_hold_and_slow_need_the_current_etag(client: TestClient, cast: Cast) -> None:
    gp = login(client, cast.gp)
    rx = on_60mg(client, cast, gp)
    taper, tag = plan(client, cast, gp, rx)
    url = f"{base(cast)}/taper-plans/{taper['id']}"
    hold = {"action": "hold", "on": taper["steps"][0]["start"], "reason": "dizzy", "days": 7}
    assert client.patch(url, json=hold, headers=gp).status_code == 428
    held = client.patch(url, json=hold, headers={**gp, "If-Match": tag})
    assert held.status_code == 200, held.text
    body = held.json()
    assert body["version"] == 2 and held.headers["ETag"] == f'"{taper["id"]}.2"'
    old_end = date.fromisoformat(taper["steps"][0]["end"])
    assert date.fromisoformat(body["steps"][0]["end"]) == old_end + timedelta(days=7)
    assert client.patch(url, json=hold, headers={**gp, "If-Match": tag}).status_code == 412
    slow = {"action": "slow", "on": body["steps"][1]["start"], "reason": "severe brain zaps"}
    slowed = client.patch(url, json=slow, headers={**gp, "If-Match": held.headers["ETag"]})
    assert slowed.status_code == 200, slowed.text
    assert [r["version"] for r in slowed.json()["revisions"]] == [1, 2, 3]
    rx_after = client.get(f"{base(cast)}/prescriptions/{rx['id']}", headers=gp).json()
    planned = {s["start"]: s["daily_dose_mg"] for s in rx_after["schedule"]}
    for step in slowed.json()["steps"]:
        assert planned.get(step["start"], step["daily_dose_mg"]) == step["daily_dose_mg"]
    past = client.patch(
        url,
        json={"action": "hold", "on": (today() - timedelta(days=1)).isoformat(), "reason": "x"},
        headers={**gp, "If-Match": slowed.headers["ETag"]},
    )
    assert past.status_code == 422


def test_two_clinicians_racing_never_lose_a_change(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as db:
        specialist = person(db, Role.CLINICIAN, "Dr Specialist", kind="pain-specialist")
        in_care_team(db, cast.patient_a, specialist, role="pain-specialist")
        db.commit()
    gp = login(client, cast.gp)
    sp = login(client, specialist)
    rx = on_60mg(client, cast, gp)
    taper, _ = plan(client, cast, gp, rx)
    url = f"{base(cast)}/taper-plans/{taper['id']}"
    accepted: list[tuple[str, int]] = []
    refused = 0
    for round_ in range(6):
        tags = {
            who: client.get(url, headers=h).headers["ETag"] for who, h in (("gp", gp), ("sp", sp))
        }
        order = [("gp", gp), ("sp", sp)] if round_ % 2 == 0 else [("sp", sp), ("gp", gp)]
        for who, headers in order:
            response = client.patch(
                url,
                json={
                    "action": "hold",
                    "on": taper["steps"][0]["start"],
                    "reason": f"{who} round {round_}",
                    "days": 1,
                },
                headers={**headers, "If-Match": tags[who]},
            )
            if response.status_code == 200:
                accepted.append((who, response.json()["version"]))
            else:
                assert response.status_code == 412, response.text
                refused += 1
    assert len(accepted) == 6 and refused == 6
    final = client.get(url, headers=gp).json()
    assert final["version"] == 7
    versions = [r["version"] for r in final["revisions"]]
    assert versions == list(range(1, 8))
    reasons = [r["reason"] for r in final["revisions"][1:]]
    assert all(any(f"{who} round" in (reason or "") for who in ("gp", "sp")) for reason in reasons)
    first_end = date.fromisoformat(taper["steps"][0]["end"])
    assert date.fromisoformat(final["steps"][0]["end"]) == first_end + timedelta(days=6)
