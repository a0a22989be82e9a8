"""Data leaving PainPath through the API: FHIR $everything, the calendar, the report
(PDF and print page), Yellow Card, the caseload CSV, and the patient's download and
erasure. Each read is authorised like other patient reads and audited."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from painpath.alerts.models import Alert
from painpath.app import create_app
from painpath.audit import service as audit_service
from painpath.audit.models import AuditEvent
from painpath.auth.models import User
from painpath.care.models import CareEpisode, FollowUp, Patient
from painpath.config import Settings
from painpath.diary.models import DiaryEntry
from painpath.interop import api as interop_api
from painpath.interop import views as interop_views
from painpath.medication.models import DoseEvent, DoseStep, Prescription, SideEffectReport
from painpath.questionnaires.models import QuestionnaireResponse
from tests.api.conftest import Cast, login
from tests.conftest import Database
from tests.unit.test_interop_pdftext import pdf_pages

LONDON = ZoneInfo("Europe/London")
XSS = '<script>alert("diary")</script><img src=x onerror=alert(2)>'


@pytest.fixture()
def client(migrated_db: Database, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """The app with the interop routers (until app.py includes them)."""
    app = create_app(
        Settings(database_url=migrated_db.url),
        engine=migrated_db.engine,
        session_factory=session_factory,
    )
    paths = {getattr(r, "path", "") for r in app.routes}
    if "/fhir/Patient/{patient_id}/$everything" not in paths:
        app.include_router(interop_api.router)
        app.include_router(interop_views.router)
    with TestClient(app) as c:
        yield c


def today() -> date:
    return datetime.now(UTC).astimezone(LONDON).date()


def seed(session_factory: sessionmaker[Session], cast: Cast) -> dict[str, uuid.UUID]:
    """A course of duloxetine for patient A: 30 mg then 60 mg, a diary before and on it
    (the last note hostile), doses, a side effect, a PHQ-9, a follow-up and an alert."""
    assert cast.patient_a.patient_id and cast.gp.clinician_id
    pid = cast.patient_a.patient_id
    now = datetime.now(UTC)
    day0 = today()
    start = day0 - timedelta(days=60)
    ids = {"rx": uuid.uuid4(), "side_effect": uuid.uuid4(), "follow_up": uuid.uuid4()}
    with session_factory() as db:
        db.add(
            CareEpisode(
                id=uuid.uuid4(),
                patient_id=pid,
                condition="chronic-low-back-pain",
                onset_date=day0 - timedelta(days=400),
                symptoms=["low back pain"],
                pain_sites=["lower back"],
                status="active",
            )
        )
        db.add(
            Prescription(
                id=ids["rx"],
                patient_id=pid,
                prescriber_id=cast.gp.clinician_id,
                medicine="duloxetine",
                status="active",
                dose_times=["08:00"],
                created_at=now,
                updated_at=now,
                created_by=cast.gp.user_id,
            )
        )
        db.flush()
        db.add_all(
            [
                DoseStep(
                    prescription_id=ids["rx"],
                    start=start,
                    daily_dose_mg=Decimal(30),
                    reason="titration: 30 mg for a week",
                    changed_by=cast.gp.user_id,
                ),
                DoseStep(
                    prescription_id=ids["rx"],
                    start=start + timedelta(days=7),
                    daily_dose_mg=Decimal(60),
                    reason="titration: then 60 mg",
                ),
            ]
        )
        for offset in range(-14, 61):
            day = start + timedelta(days=offset)
            if day > day0:
                break
            db.add(
                DiaryEntry(
                    id=uuid.uuid4(),
                    patient_id=pid,
                    date=day,
                    pain=7 if day < start else 3,
                    notes=XSS if day == day0 else None,
                    created_by=cast.patient_a.user_id,
                )
            )
            if start <= day < day0 and day.toordinal() % 9:
                db.add(
                    DoseEvent(
                        id=uuid.uuid4(),
                        patient_id=pid,
                        prescription_id=ids["rx"],
                        status="taken",
                        taken_at=datetime.combine(day, time(8, 5), tzinfo=LONDON),
                        scheduled_for=day,
                        created_by=cast.patient_a.user_id,
                    )
                )
        db.add(
            SideEffectReport(
                id=ids["side_effect"],
                patient_id=pid,
                prescription_id=ids["rx"],
                symptom="nausea",
                description="after breakfast <b>every day</b>",
                severity="moderate",
                started_on=start + timedelta(days=2),
                triage_level="routine",
                triage_advice="Take it with food; tell your care team if it lasts.",
                created_by=cast.patient_a.user_id,
            )
        )
        db.add(
            QuestionnaireResponse(
                id=uuid.uuid4(),
                patient_id=pid,
                instrument="phq9",
                instrument_version="1.0.0",
                answers=[1, 1, 1, 1, 1, 1, 1, 1, 0],
                total=Decimal(8),
                band="mild",
                completed_at=now - timedelta(days=3),
                created_by=cast.patient_a.user_id,
            )
        )
        db.add(
            FollowUp(
                id=ids["follow_up"],
                patient_id=pid,
                due=day0 + timedelta(days=14),
                kind="12-week response review",
                status="scheduled",
            )
        )
        db.add(
            Alert(
                patient_id=pid,
                rule="missed-doses",
                cause_key=f"missed:{uuid.uuid4()}",
                urgency="routine",
                summary="Several doses missed this month",
                source="test",
            )
        )
        db.commit()
    return ids


def audit_rows(session_factory: sessionmaker[Session], resource_type: str) -> list[AuditEvent]:
    with session_factory() as db:
        return list(
            db.scalars(
                select(AuditEvent)
                .where(AuditEvent.resource_type == resource_type)
                .order_by(AuditEvent.id)
            )
        )


def test_everything_is_a_valid_r4_bundle_for_the_patient_and_their_team_only(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    seed(session_factory, cast)
    url = f"/fhir/Patient/{cast.patient_a.patient_id}/$everything"
    assert client.get(url).status_code == 401
    response = client.get(url, headers=login(client, cast.patient_a))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    bundle = Bundle.model_validate_json(response.text)
    kinds = {e.resource.get_resource_type() for e in bundle.entry}
    assert {"Patient", "MedicationRequest", "Observation", "AdverseEvent"} <= kinds
    assert {"Appointment", "QuestionnaireResponse", "Provenance", "Flag"} <= kinds
    notes = [
        e["resource"]["note"][0]["text"]
        for e in response.json()["entry"]
        if e["resource"]["resourceType"] == "Observation" and "note" in e["resource"]
    ]
    assert notes == [XSS]
    assert client.get(url, headers=login(client, cast.gp)).status_code == 200
    for outsider in (cast.other_gp, cast.patient_b, cast.admin):
        refused = client.get(url, headers=login(client, outsider))
        assert refused.status_code == 404, outsider.email
    events = audit_rows(session_factory, "fhir-bundle")
    allowed = [e for e in events if e.outcome == "allowed"]
    assert [e.action for e in allowed] == ["export", "export"]
    assert allowed[0].patient_id == cast.patient_a.patient_id
    assert len([e for e in events if e.outcome == "denied"]) == 3


def test_the_calendar_has_the_follow_up_and_daily_doses_in_london_time(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    seed(session_factory, cast)
    url = f"/api/v1/patients/{cast.patient_a.patient_id}/calendar.ics"
    response = client.get(url, headers=login(client, cast.patient_a))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    events = {str(e["summary"]): e for e in cal.walk("VEVENT")}
    review = events["PainPath follow-up: 12-week response review"]
    assert review["dtstart"].dt == today() + timedelta(days=14)
    dose = events["Take duloxetine 60 mg"]
    assert dose["dtstart"].params["TZID"] == "Europe/London"
    assert dose["dtstart"].dt.time() == time(8, 0) and dose["dtstart"].dt.date() == today()
    assert client.get(url, headers=login(client, cast.patient_b)).status_code == 404


def assert_charts_are_vector_graphics(pdf: bytes, tmp_path: Path) -> None:
    """The chart is drawn, not pasted in as a picture: there is no raster image in the
    PDF at all (and the chart's own labels read back as text, checked by the caller)."""
    pdfimages = shutil.which("pdfimages")
    if pdfimages is None:
        assert os.environ.get("CI", "").lower() != "true", "poppler-utils is missing"
        pytest.skip("pdfimages (poppler-utils) is not installed")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    listed = subprocess.run(
        [pdfimages, "-list", str(path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert len(listed) == 2, listed  # the two header lines, no image


def test_the_report_pdf_reads_back_with_the_first_page_summary(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    seed(session_factory, cast)
    url = f"/api/v1/patients/{cast.patient_a.patient_id}/report.pdf"
    response = client.get(url, headers=login(client, cast.gp))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    pages = pdf_pages(response.content)
    assert 2 <= len(pages) <= 6
    first = "".join(pages[0].split())
    for expected in (
        "Appointmentreport",
        "AnnPatient",
        "Chroniclowbackpain",
        "duloxetine",
        "60mgaday",
        "Doesithelp?",
        "Sideeffects",
        "nausea",
        "ROUTINE",
        "Severaldosesmissedthismonth",
        "page1of",
    ):
        assert expected in first, expected
    assert "StartedFulldose" in first  # the chart's own labels, as text
    rest = "".join("".join(pages[1:]).split())
    assert "Questionnairetrends" in rest and "Dosehistory" in rest
    assert_charts_are_vector_graphics(response.content, tmp_path)
    assert "titration:30mgforaweek" in rest
    assert "".join(XSS.split()) in rest  # the hostile note is printed as text
    assert client.get(url, headers=login(client, cast.other_gp)).status_code == 404
    assert [e.action for e in audit_rows(session_factory, "appointment-report")] == [
        "export",
        "export",
    ]


def test_the_print_page_escapes_free_text(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    seed(session_factory, cast)
    url = f"/patients/{cast.patient_a.patient_id}/report"
    response = client.get(url, headers={**login(client, cast.patient_a), "Accept": "text/html"})
    assert response.status_code == 200
    html = response.text
    assert "&lt;script&gt;alert(&#34;diary&#34;)&lt;/script&gt;" in html
    assert "<script>alert" not in html and "<img src=x" not in html
    assert 'src="data:image/svg+xml;base64,' in html  # the chart, embedded
    assert "Download this report as a PDF" in html
    other = client.get(url, headers={**login(client, cast.patient_b), "Accept": "text/html"})
    assert other.status_code == 404


def test_a_yellow_card_summary_has_the_schemes_categories(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    ids = seed(session_factory, cast)
    pid = cast.patient_a.patient_id
    url = f"/api/v1/patients/{pid}/side-effect-reports/{ids['side_effect']}/yellow-card"
    card = client.get(url, headers=login(client, cast.patient_a))
    assert card.status_code == 200
    body = card.json()
    assert body["suspected_medicine"]["name"] == "duloxetine"
    assert body["suspected_medicine"]["daily_dose_when_reaction_started"] == "30 mg a day"
    assert body["reaction"]["what_happened"] == "nausea"
    assert body["reaction"]["started_on"] == (today() - timedelta(days=58)).isoformat()
    assert body["outcome"]["status"] == "not recorded"
    assert body["reporter"]["type"] == "patient"
    assert body["patient"]["initials"] == "AP"
    clinician = client.get(url, headers=login(client, cast.gp)).json()
    assert clinician["reporter"]["type"] == "healthcare professional"
    page = client.get(
        f"/patients/{pid}/side-effect-reports/{ids['side_effect']}/yellow-card",
        headers={**login(client, cast.patient_a), "Accept": "text/html"},
    )
    assert page.status_code == 200 and "Suspected medicine" in page.text
    assert "after breakfast &lt;b&gt;every day&lt;/b&gt;" in page.text
    missing = f"/api/v1/patients/{pid}/side-effect-reports/{uuid.uuid4()}/yellow-card"
    assert client.get(missing, headers=login(client, cast.patient_a)).status_code == 404
    assert client.get(url, headers=login(client, cast.patient_b)).status_code == 404


def test_the_caseload_csv_is_the_clinicians_own_without_names_or_free_text(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    seed(session_factory, cast)
    url = "/api/v1/caseload/outcomes.csv"
    response = client.get(url, headers=login(client, cast.gp))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    mine = [r for r in rows if r["patient_id"] == str(cast.patient_a.patient_id)]
    assert len(mine) == 1
    assert mine[0]["medicine"] == "duloxetine" and mine[0]["daily_dose_mg"] == "60"
    assert mine[0]["response_category"] == "substantial"
    assert str(cast.patient_b.patient_id) not in response.text
    assert "Ann Patient" not in response.text and "nausea" not in response.text
    other = client.get(url, headers=login(client, cast.other_gp)).text
    assert str(cast.patient_a.patient_id) not in other
    assert client.get(url, headers=login(client, cast.patient_a)).status_code == 403


def test_a_patient_downloads_everything_as_one_archive_and_it_is_audited(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    seed(session_factory, cast)
    response = client.get("/api/v1/me/export", headers=login(client, cast.patient_a))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert set(archive.namelist()) == {
        "fhir-bundle.json",
        "diary.csv",
        "doses.csv",
        "records.json",
        "README.txt",
    }
    Bundle.model_validate_json(archive.read("fhir-bundle.json"))
    diary = list(csv.DictReader(io.StringIO(archive.read("diary.csv").decode())))
    assert len(diary) == 75 and diary[-1]["notes"] == XSS
    doses = list(csv.DictReader(io.StringIO(archive.read("doses.csv").decode())))
    assert doses and {d["status"] for d in doses} == {"taken"}
    assert doses[0]["taken_at_utc"].endswith("+00:00")
    events = audit_rows(session_factory, "patient-data-export")
    assert [(e.action, e.patient_id) for e in events] == [("export", cast.patient_a.patient_id)]
    refused = client.get("/api/v1/me/export", headers=login(client, cast.gp))
    assert refused.status_code == 403


def test_the_download_holds_every_row_about_the_patient_and_nobody_elses(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    """P-1: schema-driven; every table with a patient column is in records.json with all
    of the patient's rows (the care team's notes are withheld, see docs/gdpr.md)."""
    import painpath.models as m
    from painpath.interop.repository import WITHHELD_TABLES

    seed(session_factory, cast)
    a, b = cast.patient_a.patient_id, cast.patient_b.patient_id
    assert a and b
    other = client.post(
        f"/api/v1/patients/{b}/diary-entries",
        json={"id": str(uuid.uuid4()), "date": today().isoformat(), "pain": 3, "notes": "B's"},
        headers=login(client, cast.patient_b),
    )
    assert other.status_code == 201, other.text
    gp = login(client, cast.gp)
    note = client.post(
        f"/api/v1/patients/{a}/notes",
        json={"id": str(uuid.uuid4()), "text": "Seen in clinic."},
        headers=gp,
    )
    assert note.status_code == 201, note.text
    response = client.get("/api/v1/me/export", headers=login(client, cast.patient_a))
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    text = archive.read("records.json").decode()
    records = json.loads(text)
    assert str(b) not in text and "B's" not in text
    assert not {"password_hash", "token_hash", "totp_secret", "body_hash"} & {
        key for rows in records.values() for row in rows for key in row
    }
    with session_factory() as db:
        export_events = {
            str(e.id)
            for e in db.scalars(
                select(AuditEvent).where(AuditEvent.resource_type == "patient-data-export")
            )
        }
        checked = 0
        for table in m.Base.metadata.sorted_tables:
            if table.name == "patients":
                where = table.c.id == a
            elif "patient_id" in table.c:
                where = table.c.patient_id == a
            else:
                continue
            stored = {str(r) for r in db.scalars(select(table.c.id).where(where))}
            if table.name in WITHHELD_TABLES:
                assert table.name not in records and stored, table.name
                continue
            shown = {str(r["id"]) for r in records[table.name]}
            if table.name == "audit_events":
                stored -= export_events  # written once the archive was made
            assert shown == stored, table.name
            checked += 1
    assert checked >= 15
    for table in ("diary_entries", "prescriptions", "dose_events", "side_effect_reports"):
        assert records[table], table
    assert len(records["patients"]) == 1


def test_a_provider_that_keeps_the_clinical_record_turns_self_service_erasure_off(
    client: TestClient, cast: Cast
) -> None:
    state = client.app.state.painpath  # type: ignore[attr-defined]
    kept = state.settings
    state.settings = kept.model_copy(update={"patient_erasure": False})
    try:
        headers = login(client, cast.patient_a)
        refused = client.post(
            "/api/v1/me/erase", json={"confirm": "Erase my account"}, headers=headers
        )
        assert refused.status_code == 403
        assert "ask them about erasing it" in refused.json()["detail"]
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    finally:
        state.settings = kept


def test_erasure_needs_the_phrase_then_removes_the_account_and_pseudonymises_the_audit(
    client: TestClient,
    cast: Cast,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAINPATH_PSEUDONYM_KEY", "test-key-for-pseudonyms")
    seed(session_factory, cast)
    pid = cast.patient_a.patient_id
    headers = login(client, cast.patient_a)
    client.get(f"/api/v1/patients/{pid}/calendar.ics", headers=headers)  # an audited read
    wrong = client.post("/api/v1/me/erase", json={"confirm": "yes"}, headers=headers)
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "confirm"
    done = client.post("/api/v1/me/erase", json={"confirm": "Erase my account"}, headers=headers)
    assert done.status_code == 200, done.text
    result = done.json()
    assert result["erased"] is True and result["records_deleted"]["diary"] == 75
    key = result["pseudonym"]
    assert key.startswith("pseudo-") and str(pid) not in key
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    with session_factory() as db:
        assert db.get(Patient, pid) is None
        assert db.get(User, cast.patient_a.user_id) is None
        assert db.scalars(select(DiaryEntry).where(DiaryEntry.patient_id == pid)).first() is None
        # P-2, schema-driven: no row of any table with a patient column names them.
        import painpath.models as m

        for table in m.Base.metadata.sorted_tables:
            if "patient_id" in table.c:
                found = db.execute(select(table.c.patient_id).where(table.c.patient_id == pid))
                assert found.first() is None, table.name
        left = db.scalars(
            select(AuditEvent).where(
                (AuditEvent.patient_id == pid)
                | (AuditEvent.actor_user_id == cast.patient_a.user_id)
            )
        ).all()
        assert left == []
        kept = db.scalars(select(AuditEvent).where(AuditEvent.reason.contains(key))).all()
        assert any(e.resource_type == "calendar" for e in kept)
        assert kept[-1].resource_type == "patient-account" and kept[-1].action == "delete"
        assert audit_service.verify(db) is None  # the chain still verifies
    again = client.post("/api/v1/me/erase", json={"confirm": "erase my account"}, headers=headers)
    assert again.status_code == 401


def test_a_clinician_cannot_erase_or_download_as_a_patient(client: TestClient, cast: Cast) -> None:
    headers = login(client, cast.gp)
    response = client.post(
        "/api/v1/me/erase", json={"confirm": "erase my account"}, headers=headers
    )
    assert response.status_code == 403
    assert json.loads(response.text)["detail"].startswith("only a patient")
