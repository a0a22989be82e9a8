"""Queries for the audit trail."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from painpath.audit.models import AuditEvent


def lock_chain(db: Session) -> None:
    """Serialise appends to the chain (PostgreSQL; SQLite's writer lock already does)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(42424242)"))


def last_hash(db: Session) -> str | None:
    return db.scalars(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()


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
    return db.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
