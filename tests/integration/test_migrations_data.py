"""R-6: migrations keep the data that is already there, on SQLite and PostgreSQL.

For every revision from the first to the head: build the schema up to that revision, fill
every table with rows that fit that revision's schema (read from the database itself, so
a new migration is covered without editing this file; the clinical tables get
representative values), upgrade to the head, and check that every row is still there with
the same values, that foreign keys still hold, that the head's models load every row, and
that a PHQ-9's stored total is still the sum of its answers. Then the same with data from
the head down to the previous revision and back up. (From the head to nothing and back
on an empty database: tests/integration/test_migrations.py.)

SQLite rebuilds a table for most changes (Alembic's batch mode copies the rows), so this
is where a migration that loses or mangles a column would show.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, select
from sqlalchemy.orm import Session

import painpath.models  # noqa: F401  (registers every model)
from painpath import migrate
from painpath.db import Base, make_engine
from painpath.partitions import is_partition
from painpath.questionnaires.models import QuestionnaireResponse
from tests.conftest import drop_database, fresh_database_url

ROWS = 3
Row = dict[str, Any]
Snapshot = dict[str, dict[tuple[Any, ...], Row]]  # table -> primary key -> row


def revisions() -> list[str]:
    """Every revision, each after the ones it builds on."""
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    ordered = [r.revision for r in script.walk_revisions("base", "heads")]
    return list(reversed(ordered))


def previous(revision: str) -> str:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    down = script.get_revision(revision).down_revision
    if down is None:
        return "base"
    if isinstance(down, tuple | list):
        pytest.skip(f"{revision} merges branches; the round trip needs one previous revision")
    return str(down)


# Representative values for the clinical tables (used when the column exists).
def _phq9(i: int) -> list[int]:
    return [(i + k) % 4 for k in range(8)] + [i % 2]


OVERRIDES: dict[tuple[str, str], Callable[[int], Any]] = {
    ("users", "role"): lambda i: ("patient", "clinician", "admin")[i % 3],
    ("users", "email"): lambda i: f"person{i}@example.test",
    ("patients", "timezone"): lambda i: "Europe/London",
    ("prescriptions", "medicine"): lambda i: "duloxetine",
    ("prescriptions", "status"): lambda i: "active",
    ("prescriptions", "dose_times"): lambda i: ["08:00"],
    ("dose_steps", "daily_dose_mg"): lambda i: Decimal(30 * (i + 1)),
    ("dose_events", "status"): lambda i: ("taken", "missed", "late")[i % 3],
    ("dose_events", "dose_mg"): lambda i: Decimal(60),
    ("diary_entries", "pain"): lambda i: (3 + i) % 11,
    ("questionnaire_responses", "instrument"): lambda i: "phq9",
    ("questionnaire_responses", "answers"): _phq9,
    ("questionnaire_responses", "total"): lambda i: Decimal(sum(_phq9(i))),
    ("questionnaire_responses", "flags"): lambda i: ["self-harm"] if _phq9(i)[8] else [],
    ("questionnaire_responses", "subscales"): lambda i: {},
    ("alerts", "status"): lambda i: ("open", "acknowledged", "resolved")[i % 3],
    ("alerts", "urgency"): lambda i: "urgent",
}


def _value(engine: Engine, table: sa.Table, column: sa.Column[Any], i: int) -> Any:
    override = OVERRIDES.get((table.name, column.name))
    if override is not None:
        return override(i)
    kind = column.type
    sqlite = engine.dialect.name == "sqlite"
    if isinstance(kind, sa.Uuid) or (
        sqlite and isinstance(kind, sa.CHAR) and getattr(kind, "length", None) == 32
    ):
        value = uuid.uuid4()
        return value.hex if sqlite else value
    if isinstance(kind, sa.Boolean):
        return i % 2 == 0
    if isinstance(kind, sa.Integer):
        return i + 1
    if isinstance(kind, sa.Numeric):
        return Decimal(i + 1)
    if isinstance(kind, sa.DateTime):
        return datetime(2026, 1, 5, 8, 30, tzinfo=UTC) + timedelta(hours=i)
    if isinstance(kind, sa.Date):
        return date(2026, 1, 5) + timedelta(days=i)
    if isinstance(kind, sa.Time):
        return time(8, i)
    if isinstance(kind, sa.JSON):
        return {"row": i, "items": [i, i + 1]}
    if isinstance(kind, sa.LargeBinary):
        return bytes([i]) * 4
    if isinstance(kind, sa.String):
        text = f"{i}-{table.name}.{column.name}"
        length = getattr(kind, "length", None)
        return text[:length] if length else text
    raise AssertionError(f"no test value for {table.name}.{column.name} ({kind!r})")


def _tables(engine: Engine) -> MetaData:
    """The database's tables, without the partitions of the partitioned ones (PostgreSQL
    stores their rows there; they are written and read through the partitioned table)."""
    meta = MetaData()
    meta.reflect(engine, only=lambda name, _meta: not is_partition(name))
    return meta


def _key(table: sa.Table) -> list[str]:
    """The row's identity: the model's primary key (a partitioned table's primary key
    also holds the partition key), else the table's own, else every column."""
    model = Base.metadata.tables.get(table.name)
    if model is not None and all(c.name in table.columns for c in model.primary_key.columns):
        return [c.name for c in model.primary_key.columns]
    return [c.name for c in (list(table.primary_key.columns) or list(table.columns))]


def fill(engine: Engine) -> Snapshot:
    """ROWS rows in every table (parents first), read back as they were stored."""
    meta = _tables(engine)
    made: dict[str, list[Row]] = {}
    for table in meta.sorted_tables:
        if table.name == "alembic_version":
            continue
        rows: list[Row] = []
        for i in range(ROWS):
            row: Row = {}
            for column in table.columns:
                fks = list(column.foreign_keys)
                if fks:
                    target = fks[0].column
                    parents = made.get(target.table.name)
                    if parents:
                        row[column.name] = parents[i % len(parents)][target.name]
                        continue
                    if column.nullable:
                        row[column.name] = None
                        continue
                row[column.name] = _value(engine, table, column, i)
            rows.append(row)
        with engine.begin() as conn:
            conn.execute(table.insert(), rows)
        made[table.name] = rows
    return snapshot(engine)


def snapshot(engine: Engine) -> Snapshot:
    meta = _tables(engine)
    out: Snapshot = {}
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            if table.name == "alembic_version":
                continue
            keys = _key(table)
            out[table.name] = {
                tuple(r[c] for c in keys): dict(r) for r in conn.execute(select(table)).mappings()
            }
    return out


def assert_kept(before: Snapshot, after: Snapshot, *, tables: set[str] | None = None) -> None:
    """Every row of ``before`` (in ``tables``) is in ``after`` with the same values in the
    columns both have."""
    for name, rows in before.items():
        if tables is not None and name not in tables:
            continue
        assert name in after, f"table {name} and its {len(rows)} rows are gone"
        for key, row in rows.items():
            assert key in after[name], f"{name} row {key} is gone"
            now = after[name][key]
            changed = {c: (row[c], now[c]) for c in row if c in now and row[c] != now[c]}
            assert not changed, f"{name} row {key} changed: {changed}"


def assert_sound(engine: Engine) -> None:
    """Foreign keys hold; the head's models load every row; PHQ-9 totals add up."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            assert broken == [], f"rows pointing at nothing: {broken}"
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    with Session(engine) as db:
        for mapper in Base.registry.mappers:
            rows = db.scalars(select(mapper.class_)).all()
            for row in rows:
                for attr in mapper.column_attrs:
                    getattr(row, attr.key)
        for response in db.scalars(select(QuestionnaireResponse)):
            if response.instrument == "phq9":
                assert Decimal(str(response.total)) == sum(response.answers)


@dataclass
class Scratch:
    url: str
    engine: Engine


@pytest.fixture()
def scratch(backend: str, tmp_path: Path) -> Iterator[Scratch]:
    url, token = fresh_database_url(backend, tmp_path)
    engine = make_engine(url, pool_size=1)
    try:
        yield Scratch(url, engine)
    finally:
        engine.dispose()
        drop_database(token)


def test_the_revisions_form_one_line_from_the_first_to_the_head() -> None:
    found = revisions()
    assert found, "no migrations"
    assert migrate.head_revision() == found[-1]


@pytest.mark.parametrize("revision", revisions())
def test_data_written_at_a_revision_survives_the_upgrade_to_head(
    scratch: Scratch, revision: str
) -> None:
    migrate.upgrade(scratch.url, revision)
    assert migrate.current_revision(scratch.engine) == revision
    before = fill(scratch.engine)
    assert sum(len(r) for r in before.values()) >= ROWS * 10, "the schema had too few tables"
    migrate.upgrade(scratch.url)
    assert migrate.current_revision(scratch.engine) == migrate.head_revision()
    assert_kept(before, snapshot(scratch.engine))
    assert_sound(scratch.engine)


def test_down_one_revision_and_up_again_keeps_the_data(scratch: Scratch) -> None:
    head = migrate.head_revision()
    assert head and "+" not in head, "several heads: merge them first"
    migrate.upgrade(scratch.url)
    before = fill(scratch.engine)
    migrate.downgrade(scratch.url, previous(head))
    down = snapshot(scratch.engine)
    assert_kept(before, down, tables=set(down))
    migrate.upgrade(scratch.url)
    assert migrate.current_revision(scratch.engine) == head
    assert_kept(down, snapshot(scratch.engine))
    assert_sound(scratch.engine)
