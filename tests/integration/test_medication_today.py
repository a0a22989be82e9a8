"""The service functions other areas call: today's doses (with the taper step) and
adherence, on both databases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from painpath.auth.domain import Actor, Role
from painpath.kit.records import Ctx
from painpath.medication import service
from painpath.medication.models import TaperPlan
from painpath.medication.schemas import PrescriptionCreate, ScheduleStepIn, TaperPlanCreate
from tests.factories import in_care_team, person, signed_in_clinician


def test_todays_doses_follow_the_taper_calendar(db: Session) -> None:
    patient = person(db, Role.PATIENT, "Tess Taper")
    gp = person(db, Role.CLINICIAN, "Dr Today")
    in_care_team(db, patient, gp)
    assert patient.patient_id
    now = datetime.now(UTC)
    actor = signed_in_clinician(db, gp, "Dr Today", now)
    ctx = Ctx(now=now)
    today = now.astimezone(ZoneInfo("Europe/London")).date()
    rx, _ = service.create_prescription(
        db,
        actor,
        ctx,
        patient.patient_id,
        PrescriptionCreate(
            id=uuid.uuid4(),
            medicine="duloxetine",
            schedule=[ScheduleStepIn(start=today - timedelta(days=60), daily_dose_mg=Decimal(60))],
            dose_times=["08:00"],
        ),
    )
    plan, _ = service.create_taper_plan(
        db,
        actor,
        ctx,
        patient.patient_id,
        TaperPlanCreate(id=uuid.uuid4(), prescription_id=rx.id, start=today, weeks=4),
    )
    doses = service.todays_doses(db, patient.patient_id, today)
    assert len(doses) == 1
    first = doses[0]
    assert first["daily_dose_mg"] == plan.steps[0].daily_dose_mg == 30
    assert first["taper_step"]["end"] == plan.steps[0].end
    assert first["taper_plan_id"] == plan.id
    assert first["status"] == "tapering"
    after = service.todays_doses(db, patient.patient_id, plan.steps[-1].start)
    assert after[0]["daily_dose_mg"] == 0
    assert after[0]["taper_step"]["daily_dose_mg"] == 0
    assert "Stop taking duloxetine" in after[0]["taper_step"]["instructions"]
    long_after = plan.steps[-1].end + timedelta(days=1)
    assert service.todays_doses(db, patient.patient_id, long_after) == []
    window = service.adherence(
        db, patient.patient_id, today - timedelta(days=7), today - timedelta(days=1)
    )
    assert window["days_planned"] == 7 and window["days_covered"] == 0 and window["percent"] == 0


def test_an_older_taper_plan_without_ends_is_still_read(db: Session) -> None:
    patient = person(db, Role.PATIENT, "Olive Older")
    gp = person(db, Role.CLINICIAN, "Dr Older")
    in_care_team(db, patient, gp)
    assert patient.patient_id
    actor = Actor(gp.user_id, Role.CLINICIAN, "Dr Older", clinician_id=gp.clinician_id)
    ctx = Ctx(now=datetime.now(UTC))
    day = ctx.now.astimezone(ZoneInfo("Europe/London")).date()
    rx, _ = service.create_prescription(
        db,
        actor,
        ctx,
        patient.patient_id,
        PrescriptionCreate(
            id=uuid.uuid4(),
            medicine="duloxetine",
            schedule=[ScheduleStepIn(start=day - timedelta(days=60), daily_dose_mg=Decimal(60))],
        ),
    )
    db.add(
        TaperPlan(
            id=uuid.uuid4(),
            patient_id=patient.patient_id,
            prescription_id=rx.id,
            start=day - timedelta(days=3),
            weeks=4,
            steps=[
                {
                    "start": (day - timedelta(days=3)).isoformat(),
                    "daily_dose_mg": "30",
                    "reason": "taper",
                },
                {
                    "start": (day + timedelta(days=11)).isoformat(),
                    "daily_dose_mg": "0",
                    "reason": "stop",
                },
            ],
        )
    )
    db.flush()
    plans = service.list_taper_plans(db, actor, ctx, patient.patient_id, cursor=None, limit=10)
    steps = plans.items[0].steps
    assert steps[0].end == day + timedelta(days=10) and steps[0].instructions == "taper"
    assert steps[1].end is None and steps[1].daily_dose_mg == 0
