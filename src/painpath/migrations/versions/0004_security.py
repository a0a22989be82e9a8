"""security: step-up time and known device on sessions, password resets, append-only audit

The audit trail refuses DELETE and any UPDATE except the one edit the law asks for:
pseudonymisation on erasure (a patient or actor id may only become NULL, and the
reason must then start with "erased"), with the hash chain re-computed. What happened,
when, and with what outcome can never be changed. PostgreSQL: a trigger function;
SQLite: two triggers. A later SQLite batch migration that rebuilds ``audit_events``
must create the triggers again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 21:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import painpath.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A change is refused when it alters the facts of an event, or adds an identity.
_REWRITE = """
    NEW.id {ne} OLD.id
    OR NEW.occurred_at {ne} OLD.occurred_at
    OR NEW.actor_role {ne} OLD.actor_role
    OR NEW.resource_type {ne} OLD.resource_type
    OR NEW.action {ne} OLD.action
    OR NEW.outcome {ne} OLD.outcome
    OR NEW.request_id {ne} OLD.request_id
    OR (NEW.patient_id {ne} OLD.patient_id AND NEW.patient_id IS NOT NULL)
    OR (NEW.actor_user_id {ne} OLD.actor_user_id AND NEW.actor_user_id IS NOT NULL)
    OR ((NEW.reason {ne} OLD.reason OR NEW.resource_id {ne} OLD.resource_id)
        AND COALESCE(NEW.reason, '') NOT LIKE 'erased %')
"""

_PG_FUNCTION = f"""
CREATE FUNCTION painpath_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION 'audit events are append-only: the table cannot be truncated'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit events are append-only: event % cannot be deleted', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF {_REWRITE.format(ne="IS DISTINCT FROM")} THEN
        RAISE EXCEPTION 'audit events are append-only: event % cannot be changed', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$
"""


def upgrade() -> None:
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reauth_at", painpath.db.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("device_hash", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_user_sessions_device_hash"), ["device_hash"])

    op.create_table(
        "password_resets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", painpath.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", painpath.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("used_at", painpath.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_password_resets_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_resets")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_resets_token_hash")),
    )
    with op.batch_alter_table("password_resets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_password_resets_user_id"), ["user_id"])

    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION painpath_audit_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION painpath_audit_append_only()"
        )
    else:
        op.execute(
            "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events BEGIN "
            "SELECT RAISE(ABORT, 'audit events are append-only: an event cannot be deleted'); "
            "END"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_rewrite BEFORE UPDATE ON audit_events WHEN "
            + _REWRITE.format(ne="IS NOT")
            + " BEGIN SELECT RAISE(ABORT, 'audit events are append-only: an event cannot be "
            "changed'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS painpath_audit_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_rewrite")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")

    with op.batch_alter_table("password_resets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_password_resets_user_id"))
    op.drop_table("password_resets")

    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_sessions_device_hash"))
        batch_op.drop_column("device_hash")
        batch_op.drop_column("reauth_at")
