"""The daily diary through the API, as CONTRACT.md promises it."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from fastapi.testclient import TestClient

from tests.api.conftest import Cast, login


def today() -> date:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    return datetime.now(UTC).astimezone(ZoneInfo("Europe/London")).date()


def url(cast: Cast, who: str = "a") -> str:
    patient = cast.patient_a if who == "a" else cast.patient_b
    return f"/api/v1/patients/{patient.patient_id}/diary-entries"


def test_an_entry_is_stored_once_however_often_it_is_sent(client: TestClient, cast: Cast) -> None:
    headers = login(client, cast.patient_a)
    body = {"id": str(uuid.uuid4()), "date": today().isoformat(), "pain": 6, "notes": "walked"}
    first = client.post(url(cast), json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = client.post(url(cast), json=body, headers=headers)
    assert again.status_code == 200
    assert again.json() == first.json()
    items = client.get(url(cast), headers=headers).json()["items"]
    assert [i["id"] for i in items] == [body["id"]]
    assert items[0]["pain"] == 6 and items[0]["late"] is False


def test_the_same_id_with_another_body_is_refused(client: TestClient, cast: Cast) -> None:
    headers = login(client, cast.patient_a)
    body = {"id": str(uuid.uuid4()), "date": today().isoformat(), "pain": 6}
    assert client.post(url(cast), json=body, headers=headers).status_code == 201
    changed = client.post(url(cast), json={**body, "pain": 2}, headers=headers)
    assert changed.status_code == 422
    assert changed.json()["errors"][0]["field"] == "id"
    assert client.get(url(cast), headers=headers).json()["items"][0]["pain"] == 6


def test_a_second_entry_for_a_date_is_a_409_that_says_so(client: TestClient, cast: Cast) -> None:
    headers = login(client, cast.patient_a)
    day = today().isoformat()
    client.post(url(cast), json={"id": str(uuid.uuid4()), "date": day, "pain": 4}, headers=headers)
    second = client.post(
        url(cast), json={"id": str(uuid.uuid4()), "date": day, "pain": 5}, headers=headers
    )
    assert second.status_code == 409
    assert f"already a diary entry for {day}" in second.json()["detail"]
    assert len(client.get(url(cast), headers=headers).json()["items"]) == 1


def test_bad_values_name_the_field(client: TestClient, cast: Cast) -> None:
    headers = login(client, cast.patient_a)
    response = client.post(
        url(cast),
        json={"id": str(uuid.uuid4()), "date": today().isoformat(), "pain": 11},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "pain"
    missing = client.post(
        url(cast), json={"id": str(uuid.uuid4()), "date": "2026-01-01"}, headers=headers
    )
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "pain"


def test_back_filling_is_allowed_for_a_week_and_marked_late(client: TestClient, cast: Cast) -> None:
    headers = login(client, cast.patient_a)
    late = client.post(
        url(cast),
        json={
            "id": str(uuid.uuid4()),
            "date": (today() - timedelta(days=3)).isoformat(),
            "pain": 5,
        },
        headers=headers,
    )
    assert late.status_code == 201 and late.json()["late"] is True
    old = client.post(
        url(cast),
        json={
            "id": str(uuid.uuid4()),
            "date": (today() - timedelta(days=8)).isoformat(),
            "pain": 5,
        },
        headers=headers,
    )
    assert old.status_code == 422 and "last 7 days" in old.json()["detail"]
    future = client.post(
        url(cast),
        json={
            "id": str(uuid.uuid4()),
            "date": (today() + timedelta(days=1)).isoformat(),
            "pain": 5,
        },
        headers=headers,
    )
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "date"


def test_todays_entry_can_be_changed(client: TestClient, cast: Cast) -> None:
    headers = login(client, cast.patient_a)
    body = {"id": str(uuid.uuid4()), "date": today().isoformat(), "pain": 6}
    client.post(url(cast), json=body, headers=headers)
    changed = client.patch(f"{url(cast)}/{body['id']}", json={"pain": 4}, headers=headers)
    assert changed.status_code == 200 and changed.json()["pain"] == 4


def test_someone_elses_diary_is_404_and_clinicians_only_read(
    client: TestClient, cast: Cast
) -> None:
    headers = login(client, cast.patient_a)
    body = {"id": str(uuid.uuid4()), "date": today().isoformat(), "pain": 6}
    other = client.post(url(cast, "b"), json=body, headers=headers)
    assert other.status_code == 404
    assert client.get(url(cast, "b"), headers=headers).status_code == 404
    gp = login(client, cast.gp)
    assert client.get(url(cast), headers=gp).status_code == 200
    assert client.post(url(cast), json=body, headers=gp).status_code == 403
    assert client.get(url(cast, "b"), headers=gp).status_code == 404


def test_listing_follows_next_and_filters_by_date(client: TestClient, cast: Cast) -> None:
    headers = login(client, cast.patient_a)
    for back in range(6):
        day = (today() - timedelta(days=back)).isoformat()
        client.post(
            url(cast), json={"id": str(uuid.uuid4()), "date": day, "pain": back}, headers=headers
        )
    seen = []
    link: str | None = url(cast) + "?limit=4"
    while link:
        page = client.get(link, headers=headers).json()
        seen += [i["date"] for i in page["items"]]
        link = page["next"]
    assert seen == sorted(seen) and len(seen) == 6
    start = (today() - timedelta(days=2)).isoformat()
    window = client.get(
        url(cast), params={"from": start, "to": today().isoformat()}, headers=headers
    ).json()["items"]
    assert [i["date"] for i in window] == sorted(seen)[-3:]


def test_therapy_sessions_are_idempotent_too(client: TestClient, cast: Cast) -> None:
    headers = login(client, cast.patient_a)
    path = f"/api/v1/patients/{cast.patient_a.patient_id}/therapy-sessions"
    body = {
        "id": str(uuid.uuid4()),
        "date": today().isoformat(),
        "kind": "physiotherapy",
        "minutes": 30,
        "pain_before": 6,
        "pain_after": 4,
    }
    assert client.post(path, json=body, headers=headers).status_code == 201
    assert client.post(path, json=body, headers=headers).status_code == 200
    assert len(client.get(path, headers=headers).json()["items"]) == 1
    bad = client.post(
        path, json={**body, "id": str(uuid.uuid4()), "kind": "homeopathy"}, headers=headers
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "kind"


def test_todays_entry_is_changed_on_the_diary_page_earlier_days_are_not(
    client: TestClient, cast: Cast
) -> None:
    headers = login(client, cast.patient_a)
    made = client.post(
        url(cast),
        json={"id": str(uuid.uuid4()), "date": today().isoformat(), "pain": 6, "notes": "<b>x"},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    page = client.get("/diary", headers=headers)
    assert "You have filled in today" in page.text and 'href="/diary?edit=today"' in page.text
    form = client.get("/diary", params={"edit": "today"}, headers=headers)
    assert "Change today's entry" in form.text and 'action="/diary/today"' in form.text
    assert f'value="{made.json()["id"]}"' in form.text and "&lt;b&gt;x" in form.text
    bad = client.post(
        "/diary/today",
        data={"entry_id": made.json()["id"], "pain": "11", "notes": "worse"},
        headers=headers,
    )
    assert bad.status_code == 422 and "Average pain: enter a whole number from 0 to 10" in bad.text
    assert 'value="worse"' in bad.text or ">worse</textarea>" in bad.text
    done = client.post(
        "/diary/today",
        data={"entry_id": made.json()["id"], "pain": "4", "mood": "7", "notes": ""},
        headers=headers,
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/diary?saved=1"
    (entry,) = client.get(url(cast), headers=headers).json()["items"]
    assert (entry["pain"], entry["mood"], entry["notes"]) == (4, 7, None)
    # a late entry for yesterday cannot be changed this way
    late = client.post(
        url(cast),
        json={
            "id": str(uuid.uuid4()),
            "date": (today() - timedelta(days=1)).isoformat(),
            "pain": 5,
        },
        headers=headers,
    ).json()
    refused = client.post(
        "/diary/today", data={"entry_id": late["id"], "pain": "2"}, headers=headers
    )
    assert refused.status_code == 422 and "only today" in refused.text
