"""Recording who read or changed what, in the same transaction as the change.

An event is written with the request and sealed into the hash chain afterwards
(:func:`seal`): on PostgreSQL by the worker (every run) or whoever verifies the chain,
so that requests do not wait for each other's commits on one chain lock; on SQLite at
once, since its writer lock already makes transactions run one at a time."""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from painpath.audit import repository
from painpath.audit.domain import GENESIS, event_hash, verify_chain
from painpath.audit.models import AuditEvent
from painpath.audit.schemas import AccessRead
from painpath.auth.domain import SYSTEM_ACTOR, Actor
from painpath.kit.errors import Forbidden, InvalidInput
from painpath.kit.pagination import Page, check_limit, decode_cursor, encode_cursor


def audit_fields(event: Any) -> dict[str, object]:
    """The fields an event's hash covers (of an event, or a row with the same names)."""
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
        db.info.setdefault("kept_writes", []).append(write)
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
        prev_hash="",
        hash="",
    )
    if db.get_bind().dialect.name == "sqlite":
        # SQLite's writer lock already runs transactions one at a time: seal at once
        # (nothing is ever left unsealed there).
        prev, seq = repository.chain_tail(db) or (GENESIS, 0)
        event.seq = seq + 1
        _link(event, prev)
    db.add(event)
    db.flush()
    return event


def _link(event: AuditEvent, prev: str) -> str:
    """Chain ``event`` onto the hash ``prev``; returns the event's own hash."""
    event.prev_hash = prev
    event.hash = event_hash(prev, audit_fields(event))
    return event.hash


SEAL_BATCH = 5_000


def seal(db: Session, *, limit: int | None = None) -> int:
    """Link the events not yet sealed into the chain, oldest first (all of them, or the
    first ``limit``), ``SEAL_BATCH`` rows read at a time; returns how many. One sealer
    at a time (the chain's lock, held to the caller's commit)."""
    repository.lock_chain(db)
    prev, seq = repository.chain_tail(db) or (GENESIS, 0)
    sealed = 0
    while limit is None or sealed < limit:
        size = SEAL_BATCH if limit is None else min(SEAL_BATCH, limit - sealed)
        pending = repository.unsealed(db, size)
        for event in pending:
            seq += 1
            event.seq = seq
            prev = _link(event, prev)
        db.flush()
        sealed += len(pending)
        if len(pending) < size:
            break
    return sealed


def rehash_from(db: Session, seq: int) -> None:
    """Hash the chain again from position ``seq`` on (after a permitted change of an
    event's fields: pseudonymisation on erasure). Seal what is pending first."""
    seal(db)
    prev = repository.hash_before(db, seq) or GENESIS
    for event in repository.sealed_from(db, seq):
        prev = _link(event, prev)
    db.flush()


def verify(db: Session) -> int | None:
    """Seal what is pending, then check the whole chain: the index (in chain order) of
    the first tampered event, or None when it is intact."""
    seal(db)
    return verify_chain((e.prev_hash, e.hash, audit_fields(e)) for e in repository.all_events(db))


ACCESS_LOG = "access-log"
SYSTEM_NAME = "PainPath (automatic)"


def access_log(
    db: Session,
    actor: Actor,
    *,
    cursor: str | None,
    limit: int,
    request_id: str | None,
    now: datetime,
) -> Page[AccessRead]:
    """ "Who has looked at my record": every read or change of the patient's data,
    allowed or refused, newest first. Only the patient sees their own log."""
    if not actor.is_patient or actor.patient_id is None:
        record(
            db,
            actor,
            action="read",
            resource_type=ACCESS_LOG,
            outcome="denied",
            request_id=request_id,
            now=now,
            reason="only a patient reads their own access log",
        )
        raise Forbidden("only patients can see who has looked at their own record")
    check_limit(limit)
    before = None
    text = decode_cursor(cursor)
    if text:
        try:
            before = int(text)
        except ValueError:
            raise InvalidInput("the cursor is not valid", field="cursor") from None
    rows = repository.patient_events_with_names(
        db, actor.patient_id, before=before, limit=limit + 1
    )
    items = [_access_read(event, name) for event, name in rows[:limit]]
    record(
        db,
        actor,
        action="read",
        resource_type=ACCESS_LOG,
        patient_id=actor.patient_id,
        request_id=request_id,
        now=now,
    )
    nxt = encode_cursor(str(rows[limit - 1][0].id)) if len(rows) > limit else None
    return Page(items=items, next_cursor=nxt)


def _access_read(event: AuditEvent, name: str | None) -> AccessRead:
    if event.actor_user_id == SYSTEM_ACTOR.user_id:
        who = SYSTEM_NAME
    elif event.actor_user_id is None:
        who = "someone not signed in" if event.actor_role == "anonymous" else "a former user"
    else:
        who = name or "a former user"
    return AccessRead(
        id=event.id,
        occurred_at=event.occurred_at,
        who=who,
        role=event.actor_role,
        action=event.action,
        resource_type=event.resource_type,
        outcome=event.outcome,
        reason=event.reason if event.action == "break-glass" else None,
    )


def patient_timezone(db: Session, actor: Actor, default: str) -> str:
    """The signed-in patient's time zone (for showing times), else ``default``."""
    if actor.patient_id is None:
        return default
    return repository.patient_timezone(db, actor.patient_id) or default
