"""Break-glass: an administrator reads one patient's record for a stated reason.

Administrators manage accounts and read no clinical record. In an emergency (say,
the care team cannot be reached and the record is needed) an administrator states
a reason; that opens the patient's record to them, read-only, for 30 minutes. The
reason is kept in the audit trail (the event *is* the grant), and an urgent alert
goes to the patient's care team so someone looks at why.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from painpath.alerts import service as alerts
from painpath.audit import repository as audit_repository
from painpath.audit import service as audit
from painpath.auth import repository
from painpath.auth.domain import BREAK_GLASS_MINUTES, Actor
from painpath.kit.errors import Forbidden, InvalidInput, NotFound
from painpath.kit.records import Ctx

RESOURCE = "patient-record"
RULE = "break-glass"
SOURCE = "PainPath access policy: administrators read a record only by break-glass (ASVS 8)"


def break_glass(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID, *, grant_id: uuid.UUID, reason: str
) -> tuple[datetime, bool]:
    """Open ``patient_id``'s record to the administrator ``actor``: (when it closes,
    whether this call made the grant).

    The same ``grant_id`` sent again returns the same grant (a retried request).
    """
    reason = reason.strip()

    def refused(why: str) -> None:
        audit.record(
            db,
            actor,
            action=repository.BREAK_GLASS,
            resource_type=RESOURCE,
            resource_id=str(grant_id),
            outcome="denied",
            request_id=ctx.request_id,
            now=ctx.now,
            reason=why,
        )

    if not actor.is_admin:
        refused("only administrators use break-glass")
        raise Forbidden("only administrators use break-glass; clinicians use their care teams")
    if not repository.patient_exists(db, patient_id):
        refused("no such patient")
        raise NotFound("no such patient")
    # The grant is an audit event, and audit events have no unique key: take the chain's
    # lock first, so a concurrent request with the same id waits and then sees this one.
    audit_repository.lock_chain(db)
    earlier = audit_repository.event_by_resource(db, repository.BREAK_GLASS, str(grant_id))
    if earlier is not None:
        if earlier.patient_id != patient_id or earlier.reason != reason:
            raise InvalidInput(
                "this id was already used for a different record: make a new id", field="id"
            )
        return earlier.occurred_at + timedelta(minutes=BREAK_GLASS_MINUTES), False
    if len(reason) < 10:
        raise InvalidInput(
            "say why you need to read this record (at least 10 characters)", field="reason"
        )
    event = audit.record(
        db,
        actor,
        action=repository.BREAK_GLASS,
        resource_type=RESOURCE,
        resource_id=str(grant_id),
        patient_id=patient_id,
        request_id=ctx.request_id,
        now=ctx.now,
        reason=reason,
    )
    if event is None:  # pragma: no cover (an allowed event is written at once)
        raise RuntimeError("the break-glass event was not written")
    alerts.raise_alert(
        db,
        patient_id=patient_id,
        rule=RULE,
        cause_key=f"{RULE}:{grant_id}",
        urgency="urgent",
        summary=(
            f"An administrator ({actor.display_name}) opened this patient's record by "
            f"break-glass for {BREAK_GLASS_MINUTES} minutes. Reason given: {reason}"
        ),
        source=SOURCE,
        now=ctx.now,
    )
    return event.occurred_at + timedelta(minutes=BREAK_GLASS_MINUTES), True
