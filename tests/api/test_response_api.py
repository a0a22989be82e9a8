""" "Does it help?" through the API, on both databases: the result of a treatment course
built from the stored diary, doses, therapies and questionnaires, its chart, the
evidence view, and who may see them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from painpath.app import create_app
from painpath.audit.models import AuditEvent
from painpath.care.models import OtherMedicine
from painpath.config import Settings
from painpath.diary.models import DiaryEntry, TherapySession
from painpath.kit.clock import FixedClock
from painpath.medication.models import DoseEvent, DoseStep, Prescription
from painpath.questionnaires.domain import score
from painpath.questionnaires.models import QuestionnaireResponse
from painpath.response.cli import response_app
from tests.api.conftest import Cast
from tests.conftest import Database
from tests.factories import PASSWORD, Person

NOW = datetime.now(UTC).replace(microsecond=0)
TODAY = NOW.astimezone(ZoneInfo("Europe/London")).date()
CONTRACT_FIELDS = (
    "baseline_mean",
    "treatment_mean",
    "change",
    "percent_change",
    "category",
    "probability_moderate_or_better",
)


@pytest.fixture()
def rclient(migrated_db: Database, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """The app with a clock that stands still for the test, so "today" is fixed."""
    app = create_app(
        Settings(database_url=migrated_db.url),
        engine=migrated_db.engine,
        session_factory=session_factory,
        clock=FixedClock(NOW),
    )
    with TestClient(app) as c:
        yield c


def login(client: TestClient, who: Person) -> dict[str, str]:
    body = {"email": who.email, "password": PASSWORD}
    code = who.totp(NOW)
    if code:
        body["totp"] = code
    response = client.post("/api/v1/auth/login", json=body)
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['token']}"}


@dataclass
class Course:
    prescription_id: uuid.UUID
    start: date
    diary: dict[date, int]


def seed_course(
    factory: sessionmaker[Session],
    patient: Person,
    prescriber: Person,
    *,
    start: date,
    baseline: Sequence[int],
    recent: Sequence[int],
    dose_days: Sequence[date] | None = None,
    steps: Sequence[tuple[int, int]] = ((0, 30), (7, 60)),
) -> Course:
    """A duloxetine course starting ``start`` (steps as (days after start, mg)); the
    ``baseline`` scores fill the days just before the start, the ``recent`` ones the
    days up to yesterday, and the days between get 5. Doses are taken every day from the
    start unless ``dose_days`` says otherwise."""
    assert patient.patient_id and prescriber.clinician_id
    diary: dict[date, int] = {}
    for i, pain in enumerate(reversed(baseline), start=1):
        diary[start - timedelta(days=i)] = pain
    yesterday = TODAY - timedelta(days=1)
    for i, pain in enumerate(reversed(recent)):
        diary[yesterday - timedelta(days=i)] = pain
    day = start
    while day <= yesterday:
        diary.setdefault(day, 5)
        day += timedelta(days=1)
    rx = uuid.uuid4()
    with factory() as db:
        db.add(
            Prescription(
                id=rx,
                patient_id=patient.patient_id,
                prescriber_id=prescriber.clinician_id,
                medicine="duloxetine",
                indication="chronic-low-back-pain",
                dose_times=["08:00"],
            )
        )
        db.flush()
        for offset, mg in steps:
            db.add(
                DoseStep(
                    prescription_id=rx,
                    start=start + timedelta(days=offset),
                    daily_dose_mg=Decimal(mg),
                )
            )
        for d, pain in diary.items():
            db.add(DiaryEntry(id=uuid.uuid4(), patient_id=patient.patient_id, date=d, pain=pain))
        taken = (
            dose_days
            if dose_days is not None
            else [start + timedelta(days=i) for i in range((TODAY - start).days)]
        )
        for d in taken:
            db.add(
                DoseEvent(
                    id=uuid.uuid4(),
                    patient_id=patient.patient_id,
                    prescription_id=rx,
                    status="taken",
                    taken_at=datetime.combine(d, time(8, 0), tzinfo=ZoneInfo("Europe/London")),
                )
            )
        db.commit()
    return Course(rx, start, diary)


def url(patient: Person, course: Course | uuid.UUID, suffix: str = "") -> str:
    rx = course.prescription_id if isinstance(course, Course) else course
    return f"/api/v1/patients/{patient.patient_id}/prescriptions/{rx}/response{suffix}"


def run_cli(tmp_path: Path, course: Course) -> dict[str, object]:
    csv = tmp_path / "diary.csv"
    rows = [f"{d.isoformat()},{p}" for d, p in sorted(course.diary.items())]
    csv.write_text("date,pain\n" + "\n".join(rows) + "\n", encoding="utf-8")
    args = ["analyze", "--diary", str(csv), "--start", course.start.isoformat()]
    result = CliRunner().invoke(response_app, [*args, "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    payload: dict[str, object] = json.loads(result.stdout)
    return payload


def test_the_result_has_the_cli_fields_and_values_for_a_seeded_course(
    rclient: TestClient, cast: Cast, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    course = seed_course(
        session_factory,
        cast.patient_a,
        cast.gp,
        start=TODAY - timedelta(days=70),
        baseline=[7, 8] * 7,
        recent=[4, 5] * 7,
    )
    headers = login(rclient, cast.patient_a)
    response = rclient.get(url(cast.patient_a, course), headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    cli = run_cli(tmp_path, course)
    for name in CONTRACT_FIELDS:
        assert body[name] == cli[name], name
    assert body["baseline_mean"] == 7.5
    assert body["treatment_mean"] == 4.5
    assert body["change"] == -3.0
    assert body["percent_change"] == -40.0
    assert body["category"] == "moderate"
    assert 0.5 < body["probability_moderate_or_better"] <= 1
    # The database knows the doses, so adherence is no longer "unknown" as in the CLI.
    cli_codes = {c["code"] for c in cli["caveats"]}  # type: ignore[attr-defined]
    codes = {c["code"] for c in body["caveats"]}
    assert cli_codes - codes == {"adherence-unknown"}
    assert "placebo" in codes and "low-adherence" not in codes
    assert body["course"]["start"] == course.start.isoformat()
    assert body["course"]["target_dose_reached"] == (course.start + timedelta(days=7)).isoformat()
    assert body["course"]["target_dose_mg"] == 60
    eight = body["review_points"][1]
    assert {k: eight[k] for k in ("weeks", "date", "reached")} == {
        "weeks": 8,
        "date": (course.start + timedelta(days=7 + 56)).isoformat(),
        "reached": True,
    }
    # the result at the 8-week point: the 14 days up to it against the same baseline
    assert eight["result"]["to"] == eight["date"]
    assert eight["result"]["from"] == (course.start + timedelta(days=7 + 56 - 13)).isoformat()
    # days 50-55 are 5s, days 56-63 the first eight "recent" scores (4, 5, ...): mean 4.71
    assert eight["result"]["treatment_mean"] == pytest.approx(66 / 14)
    assert eight["result"]["category"] == "moderate"
    assert "from 7.5 to 4.5, a 40% reduction" in body["summaries"]["patient"]
    assert "You did." in body["summaries"]["beside_the_trials"]
    assert body["chart"]["url"] == url(cast.patient_a, course, "/chart.svg")
    assert "average 7.5" in body["chart"]["alt"]
    assert body["headline"] == "A moderate improvement"


def test_the_care_team_sees_the_result_and_nobody_else_does(
    rclient: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    course = seed_course(
        session_factory,
        cast.patient_a,
        cast.gp,
        start=TODAY - timedelta(days=40),
        baseline=[6] * 14,
        recent=[6] * 14,
    )
    gp = rclient.get(url(cast.patient_a, course), headers=login(rclient, cast.gp))
    assert gp.status_code == 200
    assert gp.json()["category"] == "minimal"
    for outsider in (cast.other_gp, cast.patient_b, cast.admin):
        denied = rclient.get(url(cast.patient_a, course), headers=login(rclient, outsider))
        assert denied.status_code == 404, outsider.email
        assert "prescription" not in denied.text and "7.5" not in denied.text
    # B's own path with A's prescription id, and an unknown id, are 404 as well.
    own = login(rclient, cast.patient_b)
    assert rclient.get(url(cast.patient_b, course), headers=own).status_code == 404
    mine = login(rclient, cast.patient_a)
    assert rclient.get(url(cast.patient_a, uuid.uuid4()), headers=mine).status_code == 404
    assert rclient.get(url(cast.patient_a, course)).status_code == 401


def test_reading_the_result_is_audited_allowed_and_denied(
    rclient: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    course = seed_course(
        session_factory,
        cast.patient_a,
        cast.gp,
        start=TODAY - timedelta(days=40),
        baseline=[6] * 14,
        recent=[3] * 14,
    )
    assert rclient.get(url(cast.patient_a, course), headers=login(rclient, cast.gp)).is_success
    rclient.get(url(cast.patient_a, course), headers=login(rclient, cast.other_gp))
    with session_factory() as db:
        events = db.scalars(select(AuditEvent).where(AuditEvent.resource_type == "response")).all()
    outcomes = {(e.actor_user_id, e.outcome) for e in events}
    assert (cast.gp.user_id, "allowed") in outcomes
    assert (cast.other_gp.user_id, "denied") in outcomes
    allowed = next(e for e in events if e.outcome == "allowed")
    assert allowed.patient_id == cast.patient_a.patient_id
    assert allowed.resource_id == str(course.prescription_id)


def test_too_few_baseline_days_is_insufficient_data_with_a_caveat(
    rclient: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    course = seed_course(
        session_factory,
        cast.patient_a,
        cast.gp,
        start=TODAY - timedelta(days=30),
        baseline=[7, 7],
        recent=[3] * 14,
    )
    body = rclient.get(url(cast.patient_a, course), headers=login(rclient, cast.patient_a)).json()
    assert body["category"] == "insufficient-data"
    assert body["probability_moderate_or_better"] is None
    assert body["percent_change"] is None
    baseline = next(c for c in body["caveats"] if c["code"] == "insufficient-baseline")
    assert "only 2 of the 4 diary days needed" in baseline["message"]
    assert "We can't tell yet" in body["summaries"]["patient"]
    assert body["headline"] == "We can't tell yet"


def test_doses_therapies_other_medicines_and_dose_changes_become_caveats(
    rclient: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    start = TODAY - timedelta(days=80)
    course = seed_course(
        session_factory,
        cast.patient_a,
        cast.gp,
        start=start,
        baseline=[7] * 14,
        recent=[4] * 14,
        # doses on only 5 of the last 14 days
        dose_days=[TODAY - timedelta(days=i) for i in range(1, 6)],
        steps=((0, 30), (7, 60), (75, 90)),
    )
    assert cast.patient_a.patient_id
    with session_factory() as db:
        db.add(
            TherapySession(
                id=uuid.uuid4(),
                patient_id=cast.patient_a.patient_id,
                date=TODAY - timedelta(days=10),
                kind="physiotherapy",
                minutes=30,
            )
        )
        db.add(
            OtherMedicine(
                id=uuid.uuid4(),
                patient_id=cast.patient_a.patient_id,
                name="naproxen",
                started_on=TODAY - timedelta(days=20),
                is_pain_medicine=True,
            )
        )
        db.commit()
    body = rclient.get(url(cast.patient_a, course), headers=login(rclient, cast.patient_a)).json()
    by_code: dict[str, list[str]] = {}
    for caveat in body["caveats"]:
        by_code.setdefault(caveat["code"], []).append(caveat["message"])
    assert "doses were taken on 5 of the 14 days" in by_code["low-adherence"][0]
    assert any(m.startswith("physiotherapy started on") for m in by_code["co-intervention"])
    assert any("another pain medicine (naproxen)" in m for m in by_code["co-intervention"])
    changed = (start + timedelta(days=75)).isoformat()
    assert by_code["dose-change"] == [
        f"the dose changed on {changed}, inside the assessment window "
        f"({body['windows']['treatment']['from']} to {body['windows']['treatment']['to']}), "
        "so the window mixes two doses"
    ]
    # The highest step (90 mg) is the target: reached on day 75.
    assert body["course"]["target_dose_mg"] == 90
    assert body["inputs"]["dose_changes"] == [(start + timedelta(days=7)).isoformat(), changed]
    plain = {c["code"]: c["text"] for c in body["patient_caveats"]}
    assert "fewer than 8 in every 10 days" in plain["low-adherence"]


def test_a_chosen_assessment_window_and_a_bad_one(
    rclient: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    start = TODAY - timedelta(days=60)
    course = seed_course(
        session_factory,
        cast.patient_a,
        cast.gp,
        start=start,
        baseline=[8] * 14,
        recent=[2] * 14,
    )
    headers = login(rclient, cast.patient_a)
    window = {
        "assess_from": (start + timedelta(days=20)).isoformat(),
        "assess_to": (start + timedelta(days=33)).isoformat(),
    }
    body = rclient.get(url(cast.patient_a, course), params=window, headers=headers).json()
    assert body["treatment_mean"] == 5.0  # the days in between hold 5
    assert body["windows"]["treatment"]["from"] == window["assess_from"]
    assert body["category"] == "moderate"
    assert "assess_from=" in body["chart"]["url"]
    early = {
        "assess_from": (start - timedelta(days=3)).isoformat(),
        "assess_to": window["assess_to"],
    }
    refused = rclient.get(url(cast.patient_a, course), params=early, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "assess_from"
    future = {
        "assess_from": window["assess_from"],
        "assess_to": (TODAY + timedelta(days=3)).isoformat(),
    }
    refused = rclient.get(url(cast.patient_a, course), params=future, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "assess_to"
    half = rclient.get(
        url(cast.patient_a, course), params={"assess_from": window["assess_from"]}, headers=headers
    )
    assert half.status_code == 422
    assert "both ends" in half.json()["errors"][0]["message"]


def _questionnaire(
    patient: Person, instrument: str, answers: list[int], day: date
) -> QuestionnaireResponse:
    assert patient.patient_id
    scored = score(instrument, answers)
    return QuestionnaireResponse(
        id=uuid.uuid4(),
        patient_id=patient.patient_id,
        instrument=instrument,
        instrument_version="test",
        answers=answers,
        total=scored.total,
        band=scored.band,
        subscales=dict(scored.subscales),
        flags=list(scored.flags),
        completed_at=datetime.combine(day, time(19, 0), tzinfo=UTC),
    )


def test_other_measures_compare_baseline_and_latest_with_their_thresholds(
    rclient: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    start = TODAY - timedelta(days=60)
    course = seed_course(
        session_factory,
        cast.patient_a,
        cast.gp,
        start=start,
        baseline=[7] * 14,
        recent=[4] * 14,
    )
    with session_factory() as db:
        db.add(
            _questionnaire(cast.patient_a, "rmdq", [1] * 12 + [0] * 12, start - timedelta(days=5))
        )
        db.add(
            _questionnaire(cast.patient_a, "rmdq", [1] * 6 + [0] * 18, TODAY - timedelta(days=2))
        )
        db.add(_questionnaire(cast.patient_a, "phq9", [1] * 9, start - timedelta(days=5)))
        db.add(_questionnaire(cast.patient_a, "phq9", [1] * 7 + [0, 0], TODAY - timedelta(days=2)))
        db.add(_questionnaire(cast.patient_a, "pgic", [1], TODAY - timedelta(days=1)))
        db.commit()
    body = rclient.get(url(cast.patient_a, course), headers=login(rclient, cast.gp)).json()
    measures = {m["instrument"]: m for m in body["other_measures"]}
    rmdq = measures["rmdq"]
    assert rmdq["baseline"]["score"] == 12 and rmdq["latest"]["score"] == 6
    assert rmdq["comparison"]["change"] == -6
    assert rmdq["comparison"]["improved_beyond_mic"] is True  # ≥5 points or 30% (Ostelo 2008)
    assert rmdq["minimal_important_change"]["points"] == 5
    phq = measures["phq9"]
    assert phq["comparison"]["change"] == -2
    assert phq["comparison"]["crosses_mic"] is None  # no threshold in the reference
    assert measures["peg"]["comparison"] is None
    assert body["pgic"]["much_or_very_much_improved"] is True
    assert body["pgic"]["answer"] == "Much improved"


def test_the_chart_is_an_svg_image_for_the_care_team_and_404_for_anyone_else(
    rclient: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    course = seed_course(
        session_factory,
        cast.patient_a,
        cast.gp,
        start=TODAY - timedelta(days=40),
        baseline=[7] * 14,
        recent=[3] * 14,
    )
    for who in (cast.patient_a, cast.gp):
        chart = rclient.get(url(cast.patient_a, course, "/chart.svg"), headers=login(rclient, who))
        assert chart.status_code == 200
        assert chart.headers["content-type"] == "image/svg+xml"
        assert chart.headers["cache-control"] == "no-store"
        assert chart.text.startswith("<svg")
        assert "Before" in chart.text and "average 7.0" in chart.text
        assert "<script" not in chart.text
    for outsider in (cast.other_gp, cast.patient_b):
        headers = login(rclient, outsider)
        assert (
            rclient.get(url(cast.patient_a, course, "/chart.svg"), headers=headers).status_code
            == 404
        )
        data_chart = f"/api/v1/patients/{cast.patient_a.patient_id}/my-data/chart.svg"
        assert rclient.get(data_chart, headers=headers).status_code == 404
    with session_factory() as db:
        charts_read = db.scalars(
            select(AuditEvent).where(AuditEvent.resource_type == "response-chart")
        ).all()
    assert {e.outcome for e in charts_read} == {"allowed", "denied"}


def test_my_data_lists_every_figure_and_draws_them(
    rclient: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    start = TODAY - timedelta(days=40)
    seed_course(
        session_factory,
        cast.patient_a,
        cast.gp,
        start=start,
        baseline=[7] * 14,
        recent=[3] * 14,
    )
    with session_factory() as db:
        db.add(_questionnaire(cast.patient_a, "gad7", [2] * 7, start - timedelta(days=3)))
        assert cast.patient_a.patient_id
        db.add(
            TherapySession(
                id=uuid.uuid4(),
                patient_id=cast.patient_a.patient_id,
                date=start + timedelta(days=3),
                kind="acupuncture",
            )
        )
        db.commit()
    headers = login(rclient, cast.patient_a)
    data = rclient.get(f"/api/v1/patients/{cast.patient_a.patient_id}/my-data", headers=headers)
    assert data.status_code == 200
    body = data.json()
    assert len(body["pain"]) == 14 + 40
    assert body["dose_steps"] == [
        {"start": start.isoformat(), "daily_dose_mg": 30, "medicine": "duloxetine"},
        {
            "start": (start + timedelta(days=7)).isoformat(),
            "daily_dose_mg": 60,
            "medicine": "duloxetine",
        },
    ]
    gad = next(s for s in body["scores"] if s["instrument"] == "gad7")
    assert gad["points"] == [{"date": (start - timedelta(days=3)).isoformat(), "score": 14.0}]
    assert body["therapies"] == [
        {"date": (start + timedelta(days=3)).isoformat(), "kind": "acupuncture"}
    ]
    assert "1 acupuncture" in body["chart"]["alt"]
    chart = rclient.get(body["chart"]["url"], headers=headers)
    assert chart.headers["content-type"] == "image/svg+xml"
    assert "Pain diary" in chart.text and "acupuncture" in chart.text


def test_the_evidence_view_pools_stopping_for_side_effects(rclient: TestClient, cast: Cast) -> None:
    assert rclient.get("/api/v1/evidence").status_code == 401
    headers = login(rclient, cast.patient_a)
    body = rclient.get("/api/v1/evidence", headers=headers).json()
    pooled = body["discontinuation_for_adverse_events"]["pooled"]
    assert pooled["k"] == 3 and pooled["method"] == "REML"
    assert 1.0 < pooled["risk_ratio"] < 4.0
    assert pooled["risk_ratio_ci"][0] > 1.0  # more people stop on duloxetine
    assert {t["id"] for t in body["trials"]} >= {"skljarevski-2009", "konno-2016"}
    assert any(b["id"] == "nice-ng59" for b in body["bottom_line"])
    kinds = [r["kind"] for r in body["forest_plot"]["rows"]]
    assert kinds == ["study", "study", "study", "pooled", "published"]
    dl = rclient.get("/api/v1/evidence", params={"method": "dl"}, headers=headers).json()
    assert dl["discontinuation_for_adverse_events"]["pooled"]["method"] == "DL"
    bad = rclient.get("/api/v1/evidence", params={"method": "fixed"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "method"
    plot = rclient.get("/api/v1/evidence/forest.svg", headers=headers)
    assert plot.headers["content-type"] == "image/svg+xml"
    assert "Skljarevski 2010b" in plot.text and "Pooled by PainPath" in plot.text
