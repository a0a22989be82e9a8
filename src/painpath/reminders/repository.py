"""Queries for reminders: the facts each patient's reminders are planned from, the
preferences, and the outbox (claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` on
PostgreSQL; SQLite's writer lock, taken by ``BEGIN IMMEDIATE``, serialises writers)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from painpath.alerts.models import Alert
from painpath.auth.models import User
from painpath.care.models import CareTeamMember, Clinician, FollowUp, Notification, Patient
from painpath.diary.models import DiaryEntry
from painpath.medication.models import DoseEvent, DoseStep, Prescription, TaperPlan
from painpath.reminders.models import Reminder, ReminderPreference

LIVE_PRESCRIPTIONS = ("active", "tapering")

# ------------------------------------------------------------------- people


def patient_ids(db: Session) -> Sequence[uuid.UUID]:
    return db.scalars(select(Patient.id).order_by(Patient.id)).all()


def patient(db: Session, patient_id: uuid.UUID) -> Patient | None:
    return db.get(Patient, patient_id)


def user(db: Session, user_id: uuid.UUID) -> User | None:
    return db.get(User, user_id)


def users(db: Session, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, User]:
    ids = list(set(user_ids))
    if not ids:
        return {}
    return {u.id: u for u in db.scalars(select(User).where(User.id.in_(ids))).all()}


def care_team_users(db: Session, patient_id: uuid.UUID) -> Sequence[tuple[Clinician, User]]:
    """The active clinicians of a patient's care team with active accounts."""
    rows = db.execute(
        select(Clinician, User)
        .join(CareTeamMember, CareTeamMember.clinician_id == Clinician.id)
        .join(User, User.id == Clinician.user_id)
        .where(
            CareTeamMember.patient_id == patient_id,
            CareTeamMember.removed_at.is_(None),
            User.is_active.is_(True),
        )
        .order_by(Clinician.id)
    ).all()
    return [(c, u) for c, u in rows]


# ------------------------------------------------------------------- preferences


def preference(db: Session, user_id: uuid.UUID) -> ReminderPreference | None:
    return db.scalars(
        select(ReminderPreference).where(ReminderPreference.user_id == user_id)
    ).one_or_none()


def preferences(db: Session, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, ReminderPreference]:
    ids = list(set(user_ids))
    if not ids:
        return {}
    rows = db.scalars(select(ReminderPreference).where(ReminderPreference.user_id.in_(ids)))
    return {p.user_id: p for p in rows.all()}


def claim_preference_version(db: Session, pref_id: uuid.UUID, expected: int) -> bool:
    """Compare-and-set on the version, so two changes at once cannot both win."""
    result = db.execute(
        update(ReminderPreference)
        .where(ReminderPreference.id == pref_id, ReminderPreference.version == expected)
        .values(version=expected + 1)
        .execution_options(synchronize_session=False)
    )
    changed = bool(getattr(result, "rowcount", 0))
    return changed


# ------------------------------------------------------------------ clinical facts


def live_prescriptions(db: Session, patient_id: uuid.UUID) -> Sequence[Prescription]:
    return db.scalars(
        select(Prescription)
        .where(
            Prescription.patient_id == patient_id,
            Prescription.status.in_(LIVE_PRESCRIPTIONS),
        )
        .order_by(Prescription.created_at, Prescription.id)
    ).all()


def dose_steps(db: Session, prescription_ids: Sequence[uuid.UUID]) -> Sequence[DoseStep]:
    if not prescription_ids:
        return []
    return db.scalars(
        select(DoseStep)
        .where(DoseStep.prescription_id.in_(prescription_ids))
        .order_by(DoseStep.created_at, DoseStep.start, DoseStep.id)
    ).all()


def dose_events_between(
    db: Session, patient_id: uuid.UUID, start: datetime, end: datetime
) -> Sequence[DoseEvent]:
    return db.scalars(
        select(DoseEvent).where(
            DoseEvent.patient_id == patient_id,
            DoseEvent.taken_at >= start,
            DoseEvent.taken_at < end,
        )
    ).all()


def diary_dates(db: Session, patient_id: uuid.UUID, first: date, last: date) -> set[date]:
    return set(
        db.scalars(
            select(DiaryEntry.date).where(
                DiaryEntry.patient_id == patient_id,
                DiaryEntry.date >= first,
                DiaryEntry.date <= last,
            )
        ).all()
    )


def scheduled_follow_ups(db: Session, patient_id: uuid.UUID) -> Sequence[FollowUp]:
    return db.scalars(
        select(FollowUp)
        .where(FollowUp.patient_id == patient_id, FollowUp.status == "scheduled")
        .order_by(FollowUp.due, FollowUp.id)
    ).all()


def active_taper_plans(db: Session, prescription_ids: Sequence[uuid.UUID]) -> Sequence[TaperPlan]:
    if not prescription_ids:
        return []
    return db.scalars(
        select(TaperPlan)
        .where(TaperPlan.prescription_id.in_(prescription_ids), TaperPlan.status == "active")
        .order_by(TaperPlan.created_at, TaperPlan.id)
    ).all()


def open_alerts(db: Session, patient_id: uuid.UUID, urgencies: Sequence[str]) -> Sequence[Alert]:
    return db.scalars(
        select(Alert)
        .where(
            Alert.patient_id == patient_id,
            Alert.status == "open",
            Alert.urgency.in_(urgencies),
        )
        .order_by(Alert.created_at, Alert.id)
    ).all()


# ----------------------------------------------------------------------- the outbox


def latest_subject(db: Session, user_id: uuid.UUID, kind: str) -> str | None:
    """The subject of the person's most recent reminder of ``kind`` (any channel)."""
    return db.scalars(
        select(Reminder.subject)
        .where(Reminder.user_id == user_id, Reminder.kind == kind)
        .order_by(Reminder.intended_at.desc())
        .limit(1)
    ).first()


def existing_keys(db: Session, keys: Sequence[str]) -> set[str]:
    if not keys:
        return set()
    return set(db.scalars(select(Reminder.dedupe_key).where(Reminder.dedupe_key.in_(keys))).all())


def insert_reminders(db: Session, rows: list[dict[str, Any]]) -> int:
    """Insert outbox rows, ignoring any whose dedupe key is already stored (another
    worker planned the same moment). Sorted by key so concurrent planners lock in the
    same order. How many rows are new."""
    if not rows:
        return 0
    rows = sorted(rows, key=lambda r: str(r["dedupe_key"]))
    dialect = db.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        insert(Reminder)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(Reminder.id)
    )
    return len(db.execute(stmt).all())


def release_expired_claims(db: Session, now: datetime, outcome: str) -> int:
    """Claims whose lease ran out before the email was handed over: back to pending."""
    result = db.execute(
        update(Reminder)
        .where(Reminder.status == "claimed", Reminder.lease_until < now)
        .values(
            status="pending",
            claim_token=None,
            lease_until=None,
            outcome=outcome,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def give_up_expired_handovers(db: Session, now: datetime, outcome: str) -> int:
    """Handovers whose lease ran out: the email may have gone, so it is never resent."""
    result = db.execute(
        update(Reminder)
        .where(Reminder.status == "sending", Reminder.lease_until < now)
        .values(status="unknown", outcome=outcome, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def claim_due(db: Session, now: datetime, limit: int) -> Sequence[Reminder]:
    """Due pending rows, locked for this transaction; rows another worker holds are
    skipped rather than waited for (PostgreSQL). SQLite ignores the locking clause."""
    query = (
        select(Reminder)
        .where(Reminder.status == "pending", Reminder.due_at <= now)
        .order_by(Reminder.due_at, Reminder.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return db.scalars(query).all()


def move(
    db: Session,
    reminder_id: uuid.UUID,
    held_by: str,
    from_statuses: Sequence[str],
    **values: Any,
) -> bool:
    """Compare-and-set a row held by the claim token ``held_by`` from one of ``from_statuses``;
    False when another worker took it over (the lease ran out)."""
    result = db.execute(
        update(Reminder)
        .where(
            Reminder.id == reminder_id,
            Reminder.claim_token == held_by,
            Reminder.status.in_(from_statuses),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def supersede_notifications(db: Session, user_id: uuid.UUID, kind: str, now: datetime) -> int:
    """Mark the person's unread in-app reminders of ``kind`` as read (a newer one came)."""
    result = db.execute(
        update(Notification)
        .where(
            Notification.user_id == user_id,
            Notification.kind == kind,
            Notification.read_at.is_(None),
        )
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def by_unsubscribe_hash(db: Session, digest: str) -> Reminder | None:
    return db.scalars(select(Reminder).where(Reminder.unsubscribe_hash == digest)).one_or_none()


def status_counts(db: Session) -> dict[str, int]:
    rows = db.execute(select(Reminder.status, func.count()).group_by(Reminder.status)).all()
    return {str(s): int(n) for s, n in rows}
