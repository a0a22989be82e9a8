"""the four largest tables partitioned by time (PostgreSQL)

``diary_entries`` by ``date``, ``dose_events`` by ``taken_at``,
``questionnaire_responses`` by ``completed_at`` and ``audit_events`` by
``occurred_at``: declarative ``PARTITION BY RANGE``, one partition per calendar year
(UTC) named ``<table>_y<year>``, and a ``<table>_default`` partition for anything
outside them. The migration creates the years from the oldest row present (at most
ten years back) to two years ahead; ``painpath.partitions.ensure_partitions`` (run by
``painpath db upgrade`` and every day by the worker) keeps creating the next ones.

What changes, and what does not:

- the primary key becomes ``(id, <partition key>)``: PostgreSQL requires every unique
  constraint of a partitioned table to include the partition key. ``id`` is still a
  new UUID (or the audit trail's sequence) for every row, and the idempotency checks
  look rows up by ``id``, one index probe per partition;
- every other index, unique constraint (``(patient_id, date)`` already includes the
  key), foreign key and trigger is created again on the partitioned table with the
  same name and definition; PostgreSQL gives each partition its own copy. The audit
  trail's append-only trigger covers every partition, and each partition also gets the
  trigger that refuses ``TRUNCATE``;
- the rows are copied as they are: the audit trail's ids and hashes do not change, so
  the hash chain verifies as before.

The conversion copies each table once (``INSERT … SELECT``) under an exclusive lock:
on a large database run it in a maintenance window. SQLite has no partitioning; there
the migration does nothing. The downgrade copies the rows back into plain tables.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 20:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> partition key (frozen here: later code may change, this migration may not)
TABLES = {
    "diary_entries": "date",
    "dose_events": "taken_at",
    "questionnaire_responses": "completed_at",
    "audit_events": "occurred_at",
}
YEARS_BACK_AT_MOST = 10
YEARS_AHEAD = 2
NO_TRUNCATE = (
    "CREATE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {name} "
    "FOR EACH STATEMENT EXECUTE FUNCTION painpath_audit_append_only()"
)


def _definitions(conn: sa.Connection, table: str) -> tuple[list[str], list[str], list[str]]:
    """(CREATE INDEX statements, ADD CONSTRAINT clauses, CREATE TRIGGER statements) of
    ``table``, other than its primary key and the indexes behind constraints."""
    indexes = list(
        conn.execute(
            sa.text(
                "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "WHERE i.indrelid = CAST(:t AS regclass) AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
                "ORDER BY 1"
            ),
            {"t": table},
        ).scalars()
    )
    constraints = [
        f'ADD CONSTRAINT "{name}" {definition}'
        for name, definition in conn.execute(
            sa.text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = CAST(:t AS regclass) AND contype IN ('u', 'f', 'c') "
                "AND conparentid = 0 ORDER BY conname"
            ),
            {"t": table},
        )
    ]
    triggers = list(
        conn.execute(
            sa.text(
                "SELECT pg_get_triggerdef(oid) FROM pg_trigger "
                "WHERE tgrelid = CAST(:t AS regclass) AND NOT tgisinternal "
                "AND tgparentid = 0 ORDER BY tgname"
            ),
            {"t": table},
        ).scalars()
    )
    return indexes, constraints, triggers


def _owned_sequences(conn: sa.Connection, table: str) -> list[tuple[str, str]]:
    """(sequence, column) pairs of sequences owned by the table's columns."""
    rows = conn.execute(
        sa.text(
            "SELECT s.relname, a.attname FROM pg_depend d "
            "JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
            "JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
            "WHERE d.refobjid = CAST(:t AS regclass) AND d.deptype = 'a'"
        ),
        {"t": table},
    )
    return [(seq, col) for seq, col in rows]


def _year_range(conn: sa.Connection, table: str, key: str) -> tuple[int, int]:
    this_year = datetime.now(UTC).year
    # table and key come from TABLES above, never from input
    year_of = f"{key} AT TIME ZONE 'UTC'" if key != "date" else key
    oldest = conn.execute(
        sa.text(f"SELECT EXTRACT(YEAR FROM min({year_of})) FROM {table}")  # noqa: S608
    ).scalar()
    first = this_year - 1
    if oldest is not None:
        first = max(min(int(oldest), first), this_year - YEARS_BACK_AT_MOST)
    return first, this_year + YEARS_AHEAD


def _bound(key: str, year: int) -> str:
    return f"'{year}-01-01'" if key == "date" else f"'{year}-01-01 00:00:00+00'"


def _rebuild(table: str, key: str | None) -> None:
    """Copy ``table`` into a new table of the same name, partitioned by ``key`` (or a
    plain table when ``key`` is None), with the same columns, defaults, indexes,
    constraints and triggers."""
    conn = op.get_bind()
    indexes, constraints, triggers = _definitions(conn, table)
    sequences = _owned_sequences(conn, table)
    old = f"{table}_before_0008"
    op.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    op.execute(f"ALTER TABLE {table} RENAME TO {old}")
    like = f"(LIKE {old} INCLUDING DEFAULTS INCLUDING STORAGE INCLUDING COMMENTS)"
    if key is None:
        op.execute(f"CREATE TABLE {table} {like}")
    else:
        op.execute(f"CREATE TABLE {table} {like} PARTITION BY RANGE ({key})")
        first, last = _year_range(conn, old, key)
        for year in range(first, last + 1):
            op.execute(
                f"CREATE TABLE {table}_y{year} PARTITION OF {table} "
                f"FOR VALUES FROM ({_bound(key, year)}) TO ({_bound(key, year + 1)})"
            )
        op.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
    op.execute(f"INSERT INTO {table} SELECT * FROM {old}")  # noqa: S608 (names from TABLES)
    for sequence, column in sequences:
        op.execute(f"ALTER SEQUENCE {sequence} OWNED BY {table}.{column}")
    op.execute(f"DROP TABLE {old}")
    primary = "id" if key is None else f"id, {key}"
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY ({primary})")
    for statement in indexes:
        op.execute(statement.replace(" ON ONLY ", " ON ", 1))
    for clause in constraints:
        op.execute(f"ALTER TABLE {table} {clause}")
    for statement in triggers:
        op.execute(statement)
    if key is not None and table == "audit_events":
        for (partition,) in conn.execute(
            sa.text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = CAST(:t AS regclass)"
            ),
            {"t": table},
        ):
            op.execute(NO_TRUNCATE.format(name=partition))
    op.execute(f"ANALYZE {table}")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, key in TABLES.items():
        _rebuild(table, key)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        _rebuild(table, None)
