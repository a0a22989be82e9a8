"""Joining and consent: the red-flag screen comes first (enforced by the server), and
withdrawing consent: the patient finds it under My account, it is recorded once, the
care team is told on their caseload, and PainPath stops reminding the patient."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from painpath.care.models import Consent
from painpath.care.repository import has_withdrawn_consent
from painpath.reminders.models import Reminder
from painpath.reminders.service import plan_patient
from tests.api.conftest import Cast, login


def test_withdrawing_consent_tells_the_care_team_and_stops_reminders(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    pid = cast.patient_a.patient_id
    assert pid
    with session_factory() as db:
        db.add(Consent(patient_id=pid, kind="care-team-data", text_version="2026-11"))
        db.commit()
    patient = login(client, cast.patient_a)
    today = client.get("/today", headers=patient)
    assert 'href="/account"' in today.text  # in the patient's menu
    account = client.get("/account", headers=patient)
    assert "stops sending you reminders and tells your care team" in " ".join(account.text.split())
    with session_factory() as db:
        consent = db.scalars(select(Consent).where(Consent.patient_id == pid)).one()
        assert not has_withdrawn_consent(db, pid)
    done = client.post(
        f"/account/consents/{consent.id}/withdraw", headers=patient, follow_redirects=False
    )
    assert done.status_code == 303
    again = client.post(f"/account/consents/{consent.id}/withdraw", headers=patient)
    assert again.status_code == 200 and "Withdrawn on" in again.text
    gp = login(client, cast.gp)
    caseload = client.get("/caseload", headers=gp)
    assert caseload.text.count("Ann Patient withdrew their consent") == 1  # told once
    other = login(client, cast.other_gp)
    assert "withdrew their consent" not in client.get("/caseload", headers=other).text
    with session_factory() as db:
        assert has_withdrawn_consent(db, pid)
        # a whole day of planning sends the patient nothing (the diary reminder included)
        start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        for hour in range(0, 24, 2):
            for who in (cast.patient_a, cast.patient_b):
                assert who.patient_id
                plan_patient(
                    db,
                    who.patient_id,
                    start + timedelta(hours=hour),
                    default_timezone="Europe/London",
                    email_possible=True,
                )
        mine = db.scalars(select(Reminder).where(Reminder.user_id == cast.patient_a.user_id))
        assert list(mine) == []
        # the same day for patient B, who did not withdraw, has their diary reminder
        theirs = db.scalars(select(Reminder).where(Reminder.user_id == cast.patient_b.user_id))
        assert {r.kind for r in theirs} >= {"diary"}
        db.rollback()


def test_a_patient_with_no_consent_on_record_has_not_withdrawn(
    session_factory: sessionmaker[Session], cast: Cast
) -> None:
    assert cast.patient_b.patient_id
    with session_factory() as db:
        assert not has_withdrawn_consent(db, cast.patient_b.patient_id)


def test_the_episode_waits_for_a_clear_red_flag_screen(client: TestClient, cast: Cast) -> None:
    """clinical/reference.md §2.5: the safety questions come first, and a yes stops the
    flow; the server enforces it, whatever page the patient opens or posts to."""
    patient = login(client, cast.patient_a)
    first = client.get("/onboarding/episode", headers=patient, follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/onboarding"
    episode = {"condition": "sciatica", "onset_date": "2026-01-10", "pain_sites": "left leg"}
    skipped = client.post(
        "/onboarding/episode", data=episode, headers=patient, follow_redirects=False
    )
    assert skipped.status_code == 303 and skipped.headers["location"] == "/onboarding"
    answers = {f"q{n}": "0" for n in range(1, 21)}
    stop = client.post("/onboarding", data={**answers, "q1": "1"}, headers=patient)
    assert stop.status_code == 200 and "999" in stop.text
    still = client.get("/onboarding/episode", headers=patient, follow_redirects=False)
    assert still.status_code == 303
    clear = client.post("/onboarding", data=answers, headers=patient, follow_redirects=False)
    assert clear.status_code == 303 and clear.headers["location"] == "/onboarding/episode"
    assert client.get("/onboarding/episode", headers=patient).status_code == 200
    saved = client.post("/onboarding/episode", data=episode, headers=patient)
    assert saved.status_code == 200, saved.text
