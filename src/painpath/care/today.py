"""The patient's Today page: what to take, what to fill in, what is coming, and any
advice waiting. Nothing else competes for attention."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from painpath.audit import service as audit
from painpath.auth.domain import Actor
from painpath.care.models import FollowUp, Notification
from painpath.care.service import authorize_patient, patient_today, record_access, record_denied
from painpath.diary.models import DiaryEntry
from painpath.kit.errors import NotFound
from painpath.kit.records import Ctx
from painpath.medication import service as medication
from painpath.questionnaires import service as questionnaires


def summary(db: Session, actor: Actor, ctx: Ctx) -> dict[str, Any]:
    if actor.patient_id is None:
        raise NotFound("no such patient")
    patient = authorize_patient(
        db, actor, actor.patient_id, ctx, resource_type="today", action="read"
    )
    today = patient_today(patient, ctx)
    diary_done = (
        db.scalars(
            select(DiaryEntry.id).where(
                DiaryEntry.patient_id == patient.id, DiaryEntry.date == today
            )
        ).first()
        is not None
    )
    next_follow_up = db.scalars(
        select(FollowUp)
        .where(
            FollowUp.patient_id == patient.id,
            FollowUp.status == "scheduled",
            FollowUp.due >= today - timedelta(days=30),
        )
        .order_by(FollowUp.due)
        .limit(1)
    ).first()
    advice = unread_messages(db, actor)
    adherence = medication.adherence(db, patient.id, today - timedelta(days=27), today)
    record_access(db, actor, patient, ctx, resource_type="today", action="read")
    doses = medication.todays_doses(db, patient.id, today)
    for dose in doses:
        dose["form_id"] = str(uuid.uuid4())  # a double tap is stored once
    return {
        "today": today,
        "doses": doses,
        "diary_done": diary_done,
        "questionnaires": questionnaires.due_questionnaires(db, patient.id, today),
        "follow_up": next_follow_up,
        "advice": advice,
        "adherence": adherence,
    }


def unread_messages(db: Session, actor: Actor, limit: int = 5) -> Sequence[Notification]:
    """The person's newest in-app messages not read yet: reminders, advice, and for
    clinicians follow-ups due and alerts waiting too long."""
    return db.scalars(
        select(Notification)
        .where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
        .order_by(Notification.created_at.desc())
        .limit(limit)
    ).all()


def mark_read(db: Session, actor: Actor, ctx: Ctx, notification_id: uuid.UUID) -> None:
    note = db.get(Notification, notification_id)
    if note is None or note.user_id != actor.user_id:
        record_denied(
            db,
            actor,
            ctx,
            action="mark-read",
            resource_type="notification",
            resource_id=str(notification_id),
            reason="not the user's own message, or no such message",
        )
        raise NotFound("no such message")
    audit.record(
        db,
        actor,
        action="mark-read",
        resource_type="notification",
        resource_id=str(notification_id),
        patient_id=note.patient_id,
        request_id=ctx.request_id,
        now=ctx.now,
    )
    if note.read_at is None:
        note.read_at = ctx.now


def already_logged(db: Session, event_id: uuid.UUID) -> bool:
    from painpath.medication.models import DoseEvent

    return db.get(DoseEvent, event_id) is not None
