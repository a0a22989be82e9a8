"""Queries for alerts."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from painpath.alerts.models import Alert


def by_cause(db: Session, patient_id: uuid.UUID, cause_key: str) -> Alert | None:
    return db.scalars(
        select(Alert).where(Alert.patient_id == patient_id, Alert.cause_key == cause_key)
    ).one_or_none()
