"""Reminder preferences through the API and the settings page, and stopping reminder
emails from an email's link without signing in."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from painpath.reminders import api as reminders_api
from painpath.reminders import service
from painpath.reminders import views as reminders_views
from painpath.reminders.models import Reminder
from tests.api.conftest import Cast, login

URL = "/api/v1/me/reminder-preferences"


@pytest.fixture()
def app_client(client: TestClient) -> TestClient:
    """The client, with the reminders routes (until app.py includes them itself)."""
    app = client.app
    assert isinstance(app, FastAPI)
    paths = {getattr(r, "path", "") for r in app.routes}
    if URL not in paths:
        app.include_router(reminders_api.router)
    if "/settings/reminders" not in paths:
        app.include_router(reminders_views.router)
    return client


def test_preferences_start_as_the_defaults_with_an_etag(app_client: TestClient, cast: Cast) -> None:
    headers = login(app_client, cast.patient_a)
    got = app_client.get(URL, headers=headers)
    assert got.status_code == 200, got.text
    assert got.headers["etag"] == f'"{cast.patient_a.user_id}.0"'
    body = got.json()
    assert body["is_default"] is True
    assert (body["in_app"], body["email"]) == (True, True)
    assert (body["quiet_start"], body["quiet_end"]) == ("22:00", "07:00")
    assert (body["diary_time"], body["notice_time"], body["dose_times"]) == ("19:00", "09:00", [])
    assert body["switchable_kinds"] == ["dose", "diary", "questionnaire"]
    assert app_client.get(URL).status_code == 401


def test_a_change_needs_the_etag_and_a_stale_one_is_refused(
    app_client: TestClient, cast: Cast
) -> None:
    headers = login(app_client, cast.patient_a)
    etag = app_client.get(URL, headers=headers).headers["etag"]
    change = {
        "email": False,
        "quiet_start": None,
        "quiet_end": None,
        "dose_times": ["07:30"],
        "diary_time": "20:15",
        "kinds_off": ["questionnaire"],
    }
    assert app_client.put(URL, json=change, headers=headers).status_code == 428
    saved = app_client.put(URL, json=change, headers={**headers, "If-Match": etag})
    assert saved.status_code == 200, saved.text
    assert saved.headers["etag"] == f'"{cast.patient_a.user_id}.1"'
    body = app_client.get(URL, headers=headers).json()
    assert body["email"] is False and body["quiet_start"] is None
    assert body["dose_times"] == ["07:30"] and body["diary_time"] == "20:15"
    assert body["kinds_off"] == ["questionnaire"] and body["is_default"] is False
    stale = app_client.put(URL, json={"email": True}, headers={**headers, "If-Match": etag})
    assert stale.status_code == 412
    assert app_client.get(URL, headers=headers).json()["email"] is False
    # Each person has their own settings.
    other = login(app_client, cast.gp)
    assert app_client.get(URL, headers=other).json()["is_default"] is True


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quiet_start": "22:00", "quiet_end": None}, "quiet_end"),
        ({"diary_time": "25:00"}, "diary_time"),
        ({"dose_times": ["08:00", "08:00"]}, "dose_times[1]"),
        ({"kinds_off": ["follow-up-day"]}, "kinds_off.0"),
        ({"role": "admin"}, "role"),
    ],
)
def test_bad_settings_name_the_field(
    app_client: TestClient, cast: Cast, change: dict[str, object], field: str
) -> None:
    headers = login(app_client, cast.patient_a)
    etag = app_client.get(URL, headers=headers).headers["etag"]
    bad = app_client.put(URL, json=change, headers={**headers, "If-Match": etag})
    assert bad.status_code == 422, bad.text
    assert field in [e["field"] for e in bad.json()["errors"]]
    assert app_client.get(URL, headers=headers).json()["is_default"] is True


def test_the_settings_page_shows_and_saves_the_choices(app_client: TestClient, cast: Cast) -> None:
    headers = login(app_client, cast.patient_a)
    page = app_client.get("/settings/reminders", headers=headers)
    assert page.status_code == 200
    assert '<a href="/settings/reminders" aria-current="page">Reminders</a>' in page.text
    assert "When to take my medicine" in page.text and 'name="diary_time"' in page.text
    form = {
        "in_app": "yes",
        "quiet_start": "21:00",
        "quiet_end": "08:00",
        "dose_time_1": "09:30",
        "diary_time": "18:00",
        "notice_time": "10:00",
        "remind_dose": "yes",
        "version": "0",
    }
    saved = app_client.post(
        "/settings/reminders", data=form, headers=headers, follow_redirects=False
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/settings/reminders?saved=1"
    again = app_client.get("/settings/reminders?saved=1", headers=headers)
    assert "Your reminder settings are saved." in again.text
    assert 'id="email" name="email" type="checkbox" value="yes">' in again.text  # now off
    assert 'value="09:30"' in again.text
    body = app_client.get(URL, headers=headers).json()
    assert body["email"] is False and body["kinds_off"] == ["diary", "questionnaire"]
    # A bad time is shown on the form, with the field, and nothing changes.
    bad = app_client.post(
        "/settings/reminders",
        data={**form, "quiet_end": "", "version": "1"},
        headers=headers,
        follow_redirects=False,
    )
    assert bad.status_code == 422
    assert 'role="alert"' in bad.text
    assert "give both the start and the end of quiet hours" in bad.text
    stale = app_client.post(
        "/settings/reminders", data=form, headers=headers, follow_redirects=False
    )
    assert stale.status_code == 422 and "changed somewhere else" in stale.text


def test_clinicians_see_only_what_applies_to_them(app_client: TestClient, cast: Cast) -> None:
    headers = login(app_client, cast.gp)
    page = app_client.get("/settings/reminders", headers=headers)
    assert page.status_code == 200
    assert "follow-ups" in page.text and "When to take my medicine" not in page.text
    saved = app_client.post(
        "/settings/reminders",
        data={"email": "yes", "notice_time": "08:15", "version": "0"},
        headers=headers,
        follow_redirects=False,
    )
    assert saved.status_code == 303
    body = app_client.get(URL, headers=headers).json()
    assert (body["in_app"], body["email"], body["notice_time"]) == (False, True, "08:15")
    assert body["timezone"] is None


def test_a_clinician_sets_their_own_time_zone_a_patient_cannot(
    app_client: TestClient, cast: Cast
) -> None:
    gp = login(app_client, cast.gp)
    page = app_client.get("/settings/reminders", headers=gp)
    assert 'id="timezone"' in page.text
    bad = app_client.post(
        "/settings/reminders",
        data={"notice_time": "09:00", "timezone": "Mars/Olympus", "version": "0"},
        headers=gp,
    )
    assert bad.status_code == 422 and "unknown time zone &#39;Mars/Olympus&#39;" in bad.text
    assert 'value="Mars/Olympus"' in bad.text
    saved = app_client.post(
        "/settings/reminders",
        data={"notice_time": "09:00", "timezone": "America/New_York", "version": "0"},
        headers=gp,
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert app_client.get(URL, headers=gp).json()["timezone"] == "America/New_York"
    patient = login(app_client, cast.patient_a)
    assert 'id="timezone"' not in app_client.get("/settings/reminders", headers=patient).text
    tag = app_client.get(URL, headers=patient).headers["etag"]
    refused = app_client.put(
        URL, json={"timezone": "Asia/Tokyo"}, headers={**patient, "If-Match": tag}
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "timezone"
    assert "time zone on your record" in refused.text


def _email_row(factory: sessionmaker[Session], user_id: uuid.UUID, token: str) -> None:
    now = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    with factory() as db:
        db.add(
            Reminder(
                dedupe_key=f"dose|x|2026-03-10T08:00|{user_id}|email",
                user_id=user_id,
                kind="dose",
                subject="x",
                channel="email",
                local_time="2026-03-10T08:00",
                timezone="Europe/London",
                intended_at=now,
                due_at=now,
                expires_at=now,
                status="sent",
                unsubscribe_hash=service.token_digest(token),
            )
        )
        db.commit()


def test_an_email_link_stops_reminder_emails_without_signing_in(
    app_client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    token = "u" * 10 + uuid.uuid4().hex
    _email_row(session_factory, cast.patient_a.user_id, token)
    confirm = app_client.get(f"/unsubscribe/{token}")
    assert confirm.status_code == 200
    assert "Stop reminder emails?" in confirm.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', confirm.text)
    assert csrf is not None
    # Without the form's token nothing happens (a link preview cannot unsubscribe).
    forged = app_client.post(f"/unsubscribe/{token}", data={}, follow_redirects=False)
    assert forged.status_code == 303
    headers = login(app_client, cast.patient_a)
    assert app_client.get(URL, headers=headers).json()["email"] is True
    app_client.get(f"/unsubscribe/{token}")
    csrf = re.search(
        r'name="csrf_token" value="([^"]+)"', app_client.get(f"/unsubscribe/{token}").text
    )
    assert csrf is not None
    done = app_client.post(f"/unsubscribe/{token}", data={"csrf_token": csrf.group(1)})
    assert done.status_code == 200
    assert "Reminder emails stopped" in done.text
    body = app_client.get(URL, headers=headers).json()
    assert body["email"] is False and body["in_app"] is True
    # Doing it again is harmless; a made-up link says it does not work.
    assert app_client.get(f"/unsubscribe/{token}").status_code == 200
    wrong = app_client.get(f"/unsubscribe/{'x' * 43}")
    assert wrong.status_code == 404 and "This link does not work" in wrong.text
