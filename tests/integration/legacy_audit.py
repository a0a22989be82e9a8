"""The audit trail as the code before migration 0009 wrote it: chained in id order,
with no ``seq`` column (for the migration tests)."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy import Engine

from painpath.audit.domain import GENESIS, event_hash, verify_chain
from painpath.audit.service import audit_fields
from painpath.db import UtcDateTime

LEGACY_EVENTS = sa.table(
    "audit_events",
    sa.column("id", sa.BigInteger()),
    sa.column("occurred_at", UtcDateTime()),
    sa.column("actor_user_id", sa.Uuid()),
    sa.column("actor_role", sa.String()),
    sa.column("patient_id", sa.Uuid()),
    sa.column("resource_type", sa.String()),
    sa.column("resource_id", sa.String()),
    sa.column("action", sa.String()),
    sa.column("outcome", sa.String()),
    sa.column("request_id", sa.String()),
    sa.column("reason", sa.Text()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)


def legacy_audit(engine: Engine, n: int, when: datetime) -> None:
    """Events written as the code before 0009 wrote them: each hashed onto the last."""
    with engine.begin() as conn:
        for i in range(n):
            prev = (
                conn.execute(
                    sa.select(LEGACY_EVENTS.c.hash).order_by(LEGACY_EVENTS.c.id.desc()).limit(1)
                ).scalar()
                or GENESIS
            )
            row = SimpleNamespace(
                occurred_at=when,
                actor_user_id=None,
                actor_role="admin",
                patient_id=None,
                resource_type="report",
                resource_id=str(i),
                action="read",
                outcome="allowed",
                request_id=None,
                reason=None,
            )
            conn.execute(
                LEGACY_EVENTS.insert().values(
                    **vars(row), prev_hash=prev, hash=event_hash(prev, audit_fields(row))
                )
            )


def legacy_chain_breaks(engine: Engine) -> int | None:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(LEGACY_EVENTS).order_by(LEGACY_EVENTS.c.id)).all()
    return verify_chain((r.prev_hash, r.hash, audit_fields(r)) for r in rows)
