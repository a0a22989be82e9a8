"""audit events are sealed into the hash chain after the request

``audit_events.seq``: an event's place in the hash chain, given when it is sealed.
A request writes its events unsealed (``seq`` empty, ``prev_hash`` and ``hash``
blank) without taking the chain's lock; ``painpath.audit.service.seal`` links them
into the chain in order, one sealer at a time. Before this, every audited request took
the lock and held it to its commit, so audited requests ran one at a time
(docs/benchmarks.md).

Every event already there is sealed, in id order: ``seq = id`` keeps the chain as it
is. The downgrade hashes the chain again in id order (the order the earlier code
checks) from the first event where the two orders part: one sealed out of id order,
or one still pending.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 20:15:00
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC
from typing import Any

import sqlalchemy as sa
from alembic import op

from painpath.db import UtcDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_EVENTS = sa.table(
    "audit_events",
    sa.column("id", _BIG),
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
    sa.column("seq", _BIG),
)


def _hash(prev: str, row: Any) -> str:
    """The chain's hash of an event (as painpath.audit.domain.event_hash at 0009)."""
    fields = {
        "occurred_at": row.occurred_at.astimezone(UTC).isoformat(),
        "actor_user_id": str(row.actor_user_id) if row.actor_user_id else None,
        "actor_role": row.actor_role,
        "patient_id": str(row.patient_id) if row.patient_id else None,
        "resource_type": row.resource_type,
        "resource_id": row.resource_id,
        "action": row.action,
        "outcome": row.outcome,
        "request_id": row.request_id,
        "reason": row.reason,
    }
    payload = json.dumps(fields, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256((prev + payload).encode()).hexdigest()


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("seq", _BIG, nullable=True))
    op.create_index(op.f("ix_audit_events_seq"), "audit_events", ["seq"], unique=False)
    op.execute("UPDATE audit_events SET seq = id")


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(_EVENTS).order_by(_EVENTS.c.id)).all()
    # The first event (by id) from which the id order and the chain's order part: one
    # sealed out of id order, or one not sealed yet. Events sealed in id order keep their
    # hashes (the events of before 0009 all have seq = id).
    sealed = [row for row in rows if row.seq is not None]
    by_seq = sorted(sealed, key=lambda row: row.seq)
    first_ids = [a.id for a, b in zip(sealed, by_seq, strict=True) if a.id != b.id][:1]
    first_ids += [row.id for row in rows if row.seq is None][:1]
    start = None
    if first_ids:
        first = min(first_ids)
        start = next(index for index, row in enumerate(rows) if row.id == first)
    if start is not None:
        prev = rows[start - 1].hash if start > 0 else GENESIS
        for row in rows[start:]:
            digest = _hash(prev, row)
            conn.execute(
                _EVENTS.update().where(_EVENTS.c.id == row.id).values(prev_hash=prev, hash=digest)
            )
            prev = digest
    op.drop_index(op.f("ix_audit_events_seq"), table_name="audit_events")
    op.drop_column("audit_events", "seq")
