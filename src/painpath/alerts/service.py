"""Raising alerts for the care team: once per cause, in the writer's transaction."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from painpath.alerts import repository
from painpath.alerts.models import Alert


def raise_alert(
    db: Session,
    *,
    patient_id: uuid.UUID,
    rule: str,
    cause_key: str,
    urgency: str,
    summary: str,
    source: str,
    now: datetime,
) -> Alert:
    """Raise an alert unless one for the same cause exists; return the alert either way.

    The (patient, cause) pair is unique in the database too, so two writers racing
    on the same cause cannot both insert: the loser's transaction fails and retries.
    """
    existing = repository.by_cause(db, patient_id, cause_key)
    if existing is not None:
        return existing
    alert = Alert(
        id=uuid.uuid4(),
        patient_id=patient_id,
        rule=rule,
        cause_key=cause_key,
        urgency=urgency,
        summary=summary,
        source=source,
        created_at=now,
    )
    db.add(alert)
    db.flush()
    return alert
