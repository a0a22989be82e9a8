"""sign-in throttle counts shared by every server process

``throttle_events`` holds one row per counted attempt (a failed sign-in, a password
reset request): the scope (``account``, ``address``, ``reset-account``,
``reset-address``), the SHA-256 of what was counted, and when. With the counts in the
database, ``painpath serve --workers N`` and several machines behind a load balancer
hold an account to the same 10 failures in 15 minutes as one process does. Rows older
than the longest window are deleted as new ones arrive.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from painpath.db import UtcDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "throttle_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("scope", sa.String(20), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_throttle_events")),
    )
    op.create_index(
        "ix_throttle_events_scope_key_at", "throttle_events", ["scope", "key_hash", "at"]
    )
    op.create_index("ix_throttle_events_at", "throttle_events", ["at"])


def downgrade() -> None:
    op.drop_index("ix_throttle_events_at", table_name="throttle_events")
    op.drop_index("ix_throttle_events_scope_key_at", table_name="throttle_events")
    op.drop_table("throttle_events")
