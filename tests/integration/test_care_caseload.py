"""The caseload page's data comes from a fixed handful of queries, however many patients
there are (no query per patient), on both databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from painpath.alerts.service import raise_alert
from painpath.auth.domain import Actor, Role
from painpath.care import service
from painpath.care.models import FollowUp
from painpath.diary.models import DiaryEntry
from painpath.kit.records import Ctx
from painpath.medication.models import DoseEvent, DoseStep, Prescription
from painpath.questionnaires.models import QuestionnaireResponse
from tests.factories import in_care_team, person


@contextmanager
def counting(db: Session) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = db.get_bind()

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def add_patients(db: Session, gp_person: Any, n: int, now: datetime) -> list[uuid.UUID]:
    ids = []
    for i in range(n):
        p = person(db, Role.PATIENT, f"Patient {i:03d}")
        in_care_team(db, p, gp_person)
        assert p.patient_id and gp_person.clinician_id
        rx = uuid.uuid4()
        start = now.date() - timedelta(days=30)
        db.add(
            Prescription(
                id=rx,
                patient_id=p.patient_id,
                prescriber_id=gp_person.clinician_id,
                medicine="duloxetine",
            )
        )
        db.flush()
        db.add(DoseStep(prescription_id=rx, start=start, daily_dose_mg=Decimal(60)))
        for back in range(1, 20):
            db.add(
                DiaryEntry(
                    id=uuid.uuid4(),
                    patient_id=p.patient_id,
                    date=now.date() - timedelta(days=back * 2),
                    pain=5,
                )
            )
            db.add(
                DoseEvent(
                    id=uuid.uuid4(),
                    patient_id=p.patient_id,
                    prescription_id=rx,
                    status="taken",
                    taken_at=now - timedelta(days=back),
                )
            )
        db.add(FollowUp(id=uuid.uuid4(), patient_id=p.patient_id, due=start, kind="2-week"))
        db.add(
            QuestionnaireResponse(
                id=uuid.uuid4(),
                patient_id=p.patient_id,
                instrument="peg",
                instrument_version="1",
                answers=[5, 5, 5],
                total=5,
                completed_at=now - timedelta(days=2),
            )
        )
        if i % 3 == 0:
            raise_alert(
                db,
                patient_id=p.patient_id,
                rule="test",
                cause_key="c",
                urgency=("routine", "urgent", "emergency")[i % 3 + (i % 2)],
                summary="x",
                source="test",
                now=now - timedelta(minutes=i),
            )
        ids.append(p.patient_id)
    db.flush()
    return ids


def queries_for(db: Session, actor: Actor, now: datetime) -> tuple[int, service.Caseload]:
    with counting(db) as statements:
        view = service.caseload(db, actor, Ctx(now=now))
    return len(statements), view


def test_the_caseload_takes_the_same_few_queries_for_3_or_30_patients(db: Session) -> None:
    now = datetime.now(UTC)
    gp = person(db, Role.CLINICIAN, "Dr Many")
    actor = Actor(gp.user_id, Role.CLINICIAN, "Dr Many", clinician_id=gp.clinician_id)
    add_patients(db, gp, 3, now)
    small, view = queries_for(db, actor, now)
    assert view.total == 3 and len(view.entries) == 3
    add_patients(db, gp, 27, now)
    large, view = queries_for(db, actor, now)
    assert view.total == 30 and len(view.entries) == 30
    assert large == small <= 12
    first = view.entries[0]
    assert first.open_alerts == 1 and first.worst_urgency is not None
    with_alerts = [e for e in view.entries if e.open_alerts]
    assert view.entries[: len(with_alerts)] == with_alerts  # open alerts first
    ranks = [("emergency", "urgent", "routine").index(e.worst_urgency or "") for e in with_alerts]
    assert ranks == sorted(ranks)
    assert all(e.needs_attention for e in view.entries)  # every follow-up is overdue
    assert first.daily_dose == "60 mg" and first.questionnaires_28_days == 1
    assert first.adherence is not None and first.adherence.planned_days == 28


def test_the_needs_attention_filter_and_pages(db: Session) -> None:
    now = datetime.now(UTC)
    gp = person(db, Role.CLINICIAN, "Dr Few")
    actor = Actor(gp.user_id, Role.CLINICIAN, "Dr Few", clinician_id=gp.clinician_id)
    ids = add_patients(db, gp, 4, now)
    for f in db.query(FollowUp).filter(FollowUp.patient_id.in_(ids)):
        f.status = "done"
    db.flush()
    attention = service.caseload(db, actor, Ctx(now=now), attention_only=True)
    assert attention.total == 2  # patients 0 and 3 have open alerts
    paged = service.caseload(db, actor, Ctx(now=now), per_page=3, page=2)
    assert paged.pages == 2 and len(paged.entries) == 1
