"""The demo population as a clinician would meet it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from painpath.alerts.models import Alert
from painpath.demo.service import load_demo
from painpath.diary.models import DiaryEntry
from painpath.medication.models import DoseEvent, Prescription, SideEffectReport, TaperPlan
from painpath.questionnaires.models import QuestionnaireResponse

TODAY = date(2026, 11, 25)


def test_demo_has_the_history_a_clinician_expects(db: Session) -> None:
    accounts = load_demo(db, seed=7, today=TODAY)
    patients = [a for a in accounts if a["role"] == "patient"]
    assert len(patients) >= 8
    first_diary = db.scalar(select(func.min(DiaryEntry.date)))
    assert first_diary is not None and (TODAY - first_diary).days >= 90
    assert db.scalar(
        select(func.count()).select_from(DoseEvent).where(DoseEvent.status == "missed")
    )
    assert db.scalar(select(func.count()).select_from(SideEffectReport))
    assert db.scalar(select(func.count()).select_from(TaperPlan)) >= 1
    tapering = db.scalars(select(Prescription).where(Prescription.status == "tapering")).all()
    assert tapering
    open_alerts = db.scalars(select(Alert).where(Alert.status == "open")).all()
    assert {a.rule for a in open_alerts} >= {"phq9-item9", "taper-in-progress"}
    item9 = db.scalars(
        select(QuestionnaireResponse).where(QuestionnaireResponse.instrument == "phq9")
    ).all()
    assert any("self-harm" in r.flags for r in item9)


def test_loading_twice_changes_nothing(db: Session) -> None:
    first = load_demo(db, seed=7, today=TODAY)
    n = db.scalar(select(func.count()).select_from(DiaryEntry))
    second = load_demo(db, seed=7, today=TODAY)
    assert second == first
    assert db.scalar(select(func.count()).select_from(DiaryEntry)) == n
