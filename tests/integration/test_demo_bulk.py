"""The bulk loader writes the generator's population as the demo loader would, on both
databases (COPY on PostgreSQL, executemany on SQLite), and a clinician sees it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from painpath import migrate
from painpath.alerts.models import Alert
from painpath.auth.domain import Actor, Role
from painpath.care import service as care
from painpath.db import make_engine, make_session_factory
from painpath.demo import bulk
from painpath.demo.generator import PatientHistory
from painpath.diary.models import DiaryEntry
from painpath.kit.records import Ctx
from painpath.medication.models import DoseEvent, DoseStep, Prescription
from painpath.questionnaires.domain import score
from painpath.questionnaires.models import QuestionnaireResponse
from tests.conftest import drop_database, fresh_database_url

GP = bulk.StaffMember(uuid.uuid4(), uuid.uuid4(), "bulk.gp@test.example", "Dr Bulk")
SPECIALIST = bulk.StaffMember(
    uuid.uuid4(), uuid.uuid4(), "bulk.sp@test.example", "Dr Spine", "pain-specialist"
)


@dataclass(frozen=True)
class Team:
    def __call__(self, h: PatientHistory) -> Sequence[bulk.TeamMember]:
        team = [bulk.TeamMember(GP.clinician_id, "gp")]
        if h.referred_to_specialist:
            team.append(bulk.TeamMember(SPECIALIST.clinician_id, "pain-specialist"))
        return team


def test_histories_are_deterministic_and_as_long_as_asked() -> None:
    today = date(2026, 11, 25)
    first = list(bulk.histories(3, today, 4, days=120))
    again = list(bulk.histories(3, today, 4, days=120))
    assert [h.diary for h in first] == [h.diary for h in again]
    for h in first:
        assert min(d.date for d in h.diary) >= today - timedelta(days=120)
        assert (today - h.start).days + 21 >= 120 >= (today - h.start).days + 14
        assert all(d.date < today for d in h.diary) and h.doses


def test_a_bulk_load_is_what_the_clinician_sees(backend: str, tmp_path: Path) -> None:
    url, token = fresh_database_url(backend, tmp_path)
    engine = make_engine(url, pool_size=2)
    now = datetime.now(UTC)
    today = now.date()
    try:
        migrate.upgrade(url)
        bulk.load_staff(engine, [GP, SPECIALIST], password_hash="!unusable", now=now)
        stats = bulk.load_population(
            engine,
            seed=5,
            today=today,
            count=6,
            days=60,
            team=Team(),
            password_hash="!unusable",
            now=now,
            batch_patients=4,  # two batches
            workers=2 if backend == "postgresql" else 1,
        )
        expected = list(bulk.histories(5, today, 6, days=60))
        assert stats.patients == 6
        assert stats.rows["diary_entries"] == sum(len(h.diary) for h in expected)
        assert stats.rows["dose_events"] == sum(len(h.doses) for h in expected)

        with make_session_factory(engine)() as db:
            h = expected[1]
            stored = db.scalars(
                select(DiaryEntry)
                .where(DiaryEntry.patient_id == h.patient_id)
                .order_by(DiaryEntry.date)
            ).all()
            assert [(d.date, d.pain, d.mood) for d in stored] == [
                (d.date, d.pain, d.mood) for d in h.diary
            ]
            doses = db.scalars(select(DoseEvent).where(DoseEvent.patient_id == h.patient_id)).all()
            assert all(e.scheduled_for is not None and e.dose_mg for e in doses)
            assert {e.taken_at for e in doses} == {e.taken_at for e in h.doses}
            rx = db.get(Prescription, h.prescription_id)
            assert rx is not None and rx.medicine == "duloxetine"
            steps = db.scalars(
                select(DoseStep.daily_dose_mg).where(DoseStep.prescription_id == rx.id)
            ).all()
            assert sorted(steps) == sorted(s.daily_dose_mg for s in h.steps)
            q = h.questionnaires[0]
            response = db.get(QuestionnaireResponse, q.id)
            assert response is not None
            assert float(response.total) == float(score(q.instrument, list(q.answers)).total)
            self_harm = [
                x
                for x in expected
                if any(r.instrument == "phq9" and r.answers[8] for r in x.questionnaires)
            ]
            alerts = db.scalar(
                select(func.count()).select_from(Alert).where(Alert.rule == "phq9-item9")
            )
            assert alerts == len(self_harm)

            actor = Actor(uuid.uuid4(), Role.CLINICIAN, "Dr Bulk", clinician_id=GP.clinician_id)
            view = care.caseload(db, actor, Ctx(now=now))
            assert view.total == 6
            names = {e.name for e in view.entries}
            assert names == {x.name for x in expected}
            entry = next(e for e in view.entries if e.patient_id == h.patient_id)
            assert entry.medicine == "duloxetine" and entry.baseline_pain is not None
            assert entry.adherence is not None and entry.adherence.planned_days > 0
            db.rollback()
    finally:
        engine.dispose()
        drop_database(token)
