"""The yearly partitions of the largest tables (PostgreSQL; migration 0008).

``diary_entries``, ``dose_events``, ``questionnaire_responses`` and ``audit_events`` are
partitioned by time, one partition per calendar year (UTC) named ``<table>_y<year>``
and a ``<table>_default`` partition for rows outside them. ``ensure_partitions``
creates the coming years ahead of time (``painpath db upgrade`` runs it, and the worker
every day), so new rows never land in the default partition. A year whose rows are
already in the default partition is left there and reported: moving rows of the
append-only audit trail is not something to do automatically.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, text

# table -> the column it is partitioned by
PARTITIONED = {
    "diary_entries": "date",
    "dose_events": "taken_at",
    "questionnaire_responses": "completed_at",
    "audit_events": "occurred_at",
}
YEARS_AHEAD = 2
_PARTITION_NAME = re.compile(rf"^({'|'.join(PARTITIONED)})_(y\d{{4}}|default)$")


def is_partition(name: str | None) -> bool:
    """True for the name of one of the partitions (not the partitioned table itself)."""
    return bool(name and _PARTITION_NAME.match(name))


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's ``include_name`` hook: the models describe the partitioned tables;
    their partitions are PostgreSQL's storage, not tables of their own."""
    return not (type_ == "table" and is_partition(name))


@dataclass
class PartitionReport:
    created: list[str] = field(default_factory=list)
    left_in_default: list[str] = field(default_factory=list)


def _bound(key: str, year: int) -> str:
    return f"'{year}-01-01'" if key == "date" else f"'{year}-01-01 00:00:00+00'"


def _is_partitioned(conn: Connection, table: str) -> bool:
    kind = conn.execute(
        text("SELECT relkind FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}
    ).scalar()
    return kind == "p"


def _ensure_year(
    conn: Connection, table: str, key: str, year: int, report: PartitionReport
) -> None:
    name = f"{table}_y{year}"
    if conn.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar() is not None:
        return
    low, high = _bound(key, year), _bound(key, year + 1)
    # table and key come from PARTITIONED, never from input
    stranded = conn.execute(
        text(f"SELECT count(*) FROM {table}_default WHERE {key} >= {low} AND {key} < {high}")  # noqa: S608
    ).scalar_one()
    if stranded:
        report.left_in_default.append(f"{name} ({stranded} rows already in {table}_default)")
        return
    conn.execute(
        text(f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM ({low}) TO ({high})")
    )
    if table == "audit_events":
        conn.execute(
            text(
                f"CREATE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {name} "
                "FOR EACH STATEMENT EXECUTE FUNCTION painpath_audit_append_only()"
            )
        )
    report.created.append(name)


def ensure_partitions(
    engine: Engine, *, now: datetime | None = None, years_ahead: int = YEARS_AHEAD
) -> PartitionReport:
    """Create this year's and the next ``years_ahead`` years' partitions where missing.
    Does nothing on SQLite or on tables that are not partitioned."""
    if engine.dialect.name != "postgresql":
        return PartitionReport()
    with engine.begin() as conn:
        return ensure_partitions_on(conn, now=now, years_ahead=years_ahead)


def ensure_partitions_on(
    conn: Connection, *, now: datetime | None = None, years_ahead: int = YEARS_AHEAD
) -> PartitionReport:
    """``ensure_partitions`` inside the caller's transaction."""
    report = PartitionReport()
    if conn.dialect.name != "postgresql":
        return report
    this_year = (now or datetime.now(UTC)).year
    # one maintainer at a time (the worker on every machine runs this)
    conn.execute(text("SELECT pg_advisory_xact_lock(42424243)"))
    for table, key in PARTITIONED.items():
        if not _is_partitioned(conn, table):
            continue
        for year in range(this_year, this_year + years_ahead + 1):
            _ensure_year(conn, table, key, year, report)
    return report
