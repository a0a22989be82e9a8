"""Recording who read or changed what, in the same transaction as the change."""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from painpath.audit import repository
from painpath.audit.domain import GENESIS, event_hash, verify_chain
from painpath.audit.models import AuditEvent
from painpath.auth.domain import Actor


def _fields(event: AuditEvent) -> dict[str, object]:
    return {
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
        "actor_user_id": str(event.actor_user_id) if event.actor_user_id else None,
        "actor_role": event.actor_role,
        "patient_id": str(event.patient_id) if event.patient_id else None,
        "resource_type": event.resource_type,
        "resource_id": event.resource_id,
        "action": event.action,
        "outcome": event.outcome,
        "request_id": event.request_id,
        "reason": event.reason,
    }


def record(
    db: Session,
    actor: Actor | None,
    *,
    action: str,
    resource_type: str,
    resource_id: str | None = None,
    patient_id: uuid.UUID | None = None,
    outcome: str = "allowed",
    request_id: str | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> AuditEvent | None:
    """Append one event. A refused access is kept even though the request's
    transaction rolls back: it is written afterwards in a transaction of its own."""
    write = functools.partial(
        _append,
        actor=actor,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        patient_id=patient_id,
        outcome=outcome,
        request_id=request_id,
        reason=reason,
        now=now,
    )
    if outcome == "denied":
        db.info.setdefault("pending_audit", []).append(write)
        return None
    return write(db)


def _append(
    db: Session,
    *,
    actor: Actor | None,
    action: str,
    resource_type: str,
    resource_id: str | None,
    patient_id: uuid.UUID | None,
    outcome: str,
    request_id: str | None,
    reason: str | None,
    now: datetime | None,
) -> AuditEvent:
    repository.lock_chain(db)
    prev = repository.last_hash(db) or GENESIS
    event = AuditEvent(
        occurred_at=(now or datetime.now(UTC)).replace(microsecond=0),
        actor_user_id=actor.user_id if actor else None,
        actor_role=actor.role.value if actor else "anonymous",
        patient_id=patient_id,
        resource_type=resource_type,
        resource_id=resource_id,
        action=action,
        outcome=outcome,
        request_id=request_id,
        reason=reason,
        prev_hash=prev,
    )
    event.hash = event_hash(prev, _fields(event))
    db.add(event)
    db.flush()
    return event


def verify(db: Session) -> int | None:
    """Index of the first tampered event, or None when the whole chain is intact."""
    return verify_chain((e.prev_hash, e.hash, _fields(e)) for e in repository.all_events(db))
