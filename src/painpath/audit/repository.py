"""Queries for the audit trail."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from painpath.audit.models import AuditEvent
from painpath.auth.models import User
from painpath.care.models import Patient


def lock_chain(db: Session) -> None:
    """Serialise changes to the chain: sealing, re-hashing (PostgreSQL; SQLite's writer
    lock already does). Writing an event does not take it."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(42424242)"))


def chain_tail(db: Session) -> tuple[str, int] | None:
    """(hash, seq) of the last sealed event, or None when nothing is sealed yet."""
    row = db.execute(
        select(AuditEvent.hash, AuditEvent.seq)
        .where(AuditEvent.seq.is_not(None))
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    if row is None or row[1] is None:
        return None
    return row[0], int(row[1])


def unsealed(db: Session, limit: int) -> Sequence[AuditEvent]:
    """Events not yet in the chain, oldest first."""
    return db.scalars(
        select(AuditEvent).where(AuditEvent.seq.is_(None)).order_by(AuditEvent.id).limit(limit)
    ).all()


def sealed_from(db: Session, seq: int) -> Sequence[AuditEvent]:
    """The sealed events from position ``seq`` on, in chain order."""
    return db.scalars(
        select(AuditEvent).where(AuditEvent.seq >= seq).order_by(AuditEvent.seq)
    ).all()


def hash_before(db: Session, seq: int) -> str | None:
    return db.scalars(
        select(AuditEvent.hash).where(AuditEvent.seq < seq).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()


def events_for_patient(
    db: Session, patient_id: uuid.UUID, limit: int = 100
) -> Sequence[AuditEvent]:
    return db.scalars(
        select(AuditEvent)
        .where(AuditEvent.patient_id == patient_id)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    ).all()


def all_events(db: Session) -> Sequence[AuditEvent]:
    """Every event: the sealed ones in chain order, then any not sealed."""
    return db.scalars(
        select(AuditEvent).order_by(AuditEvent.seq.is_(None), AuditEvent.seq, AuditEvent.id)
    ).all()


def event_by_resource(db: Session, action: str, resource_id: str) -> AuditEvent | None:
    return db.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == action, AuditEvent.resource_id == resource_id)
        .order_by(AuditEvent.id)
        .limit(1)
    ).first()


def patient_events_with_names(
    db: Session, patient_id: uuid.UUID, *, before: int | None, limit: int
) -> Sequence[tuple[AuditEvent, str | None]]:
    """The patient's events, newest first, with the acting account's name."""
    query = (
        select(AuditEvent, User.display_name)
        .outerjoin(User, User.id == AuditEvent.actor_user_id)
        .where(AuditEvent.patient_id == patient_id)
    )
    if before is not None:
        query = query.where(AuditEvent.id < before)
    rows = db.execute(query.order_by(AuditEvent.id.desc()).limit(limit)).all()
    return [(event, name) for event, name in rows]


def patient_timezone(db: Session, patient_id: uuid.UUID) -> str | None:
    return db.scalars(select(Patient.timezone).where(Patient.id == patient_id)).first()
