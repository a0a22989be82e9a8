"""The review-point check and the no-authorisation result other services call, on both
databases: a non-response at 8 or 12 weeks after the target dose raises one routine
alert per prescription and review point."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from painpath.alerts.models import Alert
from painpath.auth.domain import Role
from painpath.diary.models import DiaryEntry
from painpath.kit.errors import NotFound
from painpath.medication.models import DoseEvent, DoseStep, Prescription
from painpath.response.service import check_review_point, course_result
from tests.factories import Person, in_care_team, person

TODAY = date(2025, 9, 1)
NOW = datetime.combine(TODAY, time(10, 0), tzinfo=UTC)


def seed(
    db: Session,
    patient: Person,
    gp: Person,
    *,
    start: date,
    before: int,
    after: int,
    status: str = "active",
    steps: Sequence[tuple[int, int]] = ((0, 30), (7, 60)),
) -> uuid.UUID:
    """A course from ``start`` with pain ``before`` in the 14 baseline days and ``after``
    every day on treatment up to yesterday, and a dose taken every day."""
    assert patient.patient_id and gp.clinician_id
    rx = uuid.uuid4()
    db.add(
        Prescription(
            id=rx,
            patient_id=patient.patient_id,
            prescriber_id=gp.clinician_id,
            medicine="duloxetine",
            status=status,
        )
    )
    db.flush()
    for offset, mg in steps:
        db.add(
            DoseStep(
                prescription_id=rx, start=start + timedelta(days=offset), daily_dose_mg=Decimal(mg)
            )
        )
    day = start - timedelta(days=14)
    while day < TODAY:
        pain = before if day < start else after
        db.add(DiaryEntry(id=uuid.uuid4(), patient_id=patient.patient_id, date=day, pain=pain))
        if day >= start:
            db.add(
                DoseEvent(
                    id=uuid.uuid4(),
                    patient_id=patient.patient_id,
                    prescription_id=rx,
                    status="taken",
                    taken_at=datetime.combine(day, time(7, 30), tzinfo=UTC),
                )
            )
        day += timedelta(days=1)
    db.flush()
    return rx


@pytest.fixture()
def people(db: Session) -> tuple[Person, Person]:
    patient = person(db, Role.PATIENT, "Rita Review")
    gp = person(db, Role.CLINICIAN, "Dr Review")
    in_care_team(db, patient, gp)
    db.flush()
    return patient, gp


def alerts(db: Session, patient: Person) -> list[Alert]:
    return list(db.scalars(select(Alert).where(Alert.patient_id == patient.patient_id)).all())


def test_a_non_response_at_the_review_point_raises_one_routine_alert(
    db: Session, people: tuple[Person, Person]
) -> None:
    patient, gp = people
    assert patient.patient_id
    # target dose on day 7; 8 weeks later is day 63; today is day 66
    start = TODAY - timedelta(days=66)
    rx = seed(db, patient, gp, start=start, before=6, after=6)
    first = check_review_point(db, patient.patient_id, rx, TODAY, now=NOW)
    assert first is not None
    again = check_review_point(db, patient.patient_id, rx, TODAY, now=NOW)
    assert again is not None and again.id == first.id
    stored = alerts(db, patient)
    assert len(stored) == 1
    alert = stored[0]
    assert alert.rule == "non-response"
    assert alert.urgency == "routine"
    assert alert.cause_key == f"non-response:{rx}:8w"
    due = (start + timedelta(days=7 + 56)).isoformat()
    assert f"8-week review point ({due})" in alert.summary
    assert "IMMPACT minimal" in alert.summary and "+0%" in alert.summary
    assert "after 2 months" in alert.source and "IMMPACT" in alert.source


def test_at_twelve_weeks_a_second_alert_for_the_later_review_point(
    db: Session, people: tuple[Person, Person]
) -> None:
    patient, gp = people
    assert patient.patient_id
    start = TODAY - timedelta(days=95)  # 12 weeks after the target dose: day 91
    rx = seed(db, patient, gp, start=start, before=6, after=7)
    eight = check_review_point(db, patient.patient_id, rx, start + timedelta(days=66), now=NOW)
    assert eight is not None and eight.cause_key.endswith(":8w")
    twelve = check_review_point(db, patient.patient_id, rx, TODAY, now=NOW)
    assert twelve is not None and twelve.cause_key.endswith(":12w")
    assert "IMMPACT worse" in twelve.summary and "12-week review point" in twelve.summary
    assert len(alerts(db, patient)) == 2


def test_no_alert_for_a_responder_before_the_review_point_or_for_a_course_being_tapered(
    db: Session, people: tuple[Person, Person]
) -> None:
    _, gp = people
    courses = (
        ("responder", 70, 7, 3, "active"),
        ("early", 40, 6, 6, "active"),
        ("tapering", 100, 6, 6, "tapering"),
    )
    for name, days, before, after, status in courses:
        patient = person(db, Role.PATIENT, f"Pat {name}")
        in_care_team(db, patient, gp)
        assert patient.patient_id
        start = TODAY - timedelta(days=days)
        rx = seed(db, patient, gp, start=start, before=before, after=after, status=status)
        assert check_review_point(db, patient.patient_id, rx, TODAY, now=NOW) is None, name
        assert check_review_point(db, patient.patient_id, uuid.uuid4(), TODAY, now=NOW) is None
        assert alerts(db, patient) == [], name


def test_course_result_for_other_services_needs_the_right_patient(
    db: Session, people: tuple[Person, Person]
) -> None:
    patient, gp = people
    assert patient.patient_id
    rx = seed(db, patient, gp, start=TODAY - timedelta(days=70), before=8, after=4)
    result = course_result(db, patient.patient_id, rx, TODAY)
    assert result["category"] == "substantial"
    assert result["baseline_mean"] == 8.0 and result["treatment_mean"] == 4.0
    assert result["course"]["prescription_id"] == str(rx)
    other = person(db, Role.PATIENT, "Olly Other")
    assert other.patient_id
    with pytest.raises(NotFound):
        course_result(db, other.patient_id, rx, TODAY)


def test_the_worker_raises_the_non_response_alert_once(
    db: Session, people: tuple[Person, Person]
) -> None:
    """The scheduled rules (``painpath worker``) find the course at its review point
    without anyone opening a page, and a second run raises nothing new."""
    from painpath.alerts.service import evaluate_scheduled_rules

    patient, gp = people
    responder = person(db, Role.PATIENT, "Rob Responder")
    in_care_team(db, responder, gp)
    db.flush()
    start = TODAY - timedelta(days=66)
    rx = seed(db, patient, gp, start=start, before=6, after=6)
    seed(db, responder, gp, start=start, before=6, after=2)
    assert evaluate_scheduled_rules(db, NOW) >= 1
    stored = alerts(db, patient)
    assert [(a.rule, a.cause_key) for a in stored] == [("non-response", f"non-response:{rx}:8w")]
    assert alerts(db, responder) == []
    assert evaluate_scheduled_rules(db, NOW) == 0
    assert len(alerts(db, patient)) == 1


def test_each_reached_review_point_carries_its_own_result(
    db: Session, people: tuple[Person, Person]
) -> None:
    """Pain 8 before the start, 6 on treatment, 3 from day 50: the 4-week point (day 35,
    window days 22-35) is a minimal change, the 8-week point (day 63, days 50-63) a
    substantial one, and the 12-week point (day 91) is not reached on day 70."""
    from sqlalchemy import update

    patient, gp = people
    assert patient.patient_id
    start = TODAY - timedelta(days=70)
    rx = seed(db, patient, gp, start=start, before=8, after=6)
    db.execute(
        update(DiaryEntry)
        .where(DiaryEntry.patient_id == patient.patient_id)
        .where(DiaryEntry.date >= start + timedelta(days=50))
        .values(pain=3)
    )
    db.flush()
    result = course_result(db, patient.patient_id, rx, TODAY, review_results=True)
    points = {p["weeks"]: p for p in result["review_points"]}
    assert sorted(points) == [4, 8, 12]
    four, eight, twelve = points[4], points[8], points[12]
    assert four["date"] == (start + timedelta(days=35)).isoformat() and four["reached"]
    assert four["result"]["from"] == (start + timedelta(days=22)).isoformat()
    assert four["result"]["to"] == four["date"]
    assert four["result"]["diary_days"] == 14
    assert four["result"]["treatment_mean"] == 6.0
    assert four["result"]["percent_change"] == pytest.approx(-25.0)
    assert four["result"]["category"] == "minimal"
    assert eight["reached"] and eight["result"]["treatment_mean"] == 3.0
    assert eight["result"]["percent_change"] == pytest.approx(-62.5)
    assert eight["result"]["category"] == "substantial"
    assert (
        eight["result"]["probability_moderate_or_better"]
        > four["result"]["probability_moderate_or_better"]
    )
    assert twelve == {**twelve, "reached": False, "result": None}
    # the headline (latest 14 days) is the 3/10 stretch; the worker's cheaper call leaves
    # the per-point results out but still says which points are reached
    cheap = course_result(db, patient.patient_id, rx, TODAY)
    assert [p["result"] for p in cheap["review_points"]] == [None, None, None]
    assert [p["reached"] for p in cheap["review_points"]] == [True, True, False]


def test_a_review_point_long_past_is_left_to_the_clinicians_review(
    db: Session, people: tuple[Person, Person]
) -> None:
    """The 8-week point was 20 days ago and the 12-week one is still ahead: the worker does
    not judge a point more than 14 days old, so nothing is raised now."""
    patient, gp = people
    assert patient.patient_id
    start = TODAY - timedelta(days=7 + 56 + 20)
    rx = seed(db, patient, gp, start=start, before=6, after=6)
    assert check_review_point(db, patient.patient_id, rx, TODAY, now=NOW) is None
    on_time = start + timedelta(days=7 + 56 + 3)
    assert check_review_point(db, patient.patient_id, rx, on_time, now=NOW) is not None
