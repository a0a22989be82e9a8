"""The largest tables are partitioned by year on PostgreSQL (migration 0008), and the
coming years' partitions are made ahead of time (painpath.partitions)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from painpath import migrate
from painpath.audit import service as audit
from painpath.auth.domain import SYSTEM_ACTOR, Actor, Role
from painpath.db import make_engine
from painpath.diary.models import DiaryEntry
from painpath.kit.records import Ctx
from painpath.partitions import PARTITIONED, ensure_partitions
from painpath.questionnaires.schemas import QuestionnaireResponseCreate
from painpath.questionnaires.service import submit_response
from tests.conftest import drop_database, fresh_database_url
from tests.factories import person
from tests.integration.legacy_audit import legacy_audit, legacy_chain_breaks

THIS_YEAR = datetime.now(UTC).year


@pytest.fixture()
def scratch(backend: str, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    url, token = fresh_database_url(backend, tmp_path)
    engine = make_engine(url, pool_size=1)
    try:
        yield url, engine
    finally:
        engine.dispose()
        drop_database(token)


def _postgresql_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has no partitioning; the tables stay plain there")


def _partitions(engine: Engine, table: str) -> set[str]:
    with engine.connect() as conn:
        return set(
            conn.execute(
                sa.text(
                    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "WHERE i.inhparent = CAST(:t AS regclass)"
                ),
                {"t": table},
            ).scalars()
        )


def _audit(engine: Engine, n: int, *, when: datetime | None = None) -> None:
    with Session(engine) as db:
        for i in range(n):
            audit.record(
                db,
                SYSTEM_ACTOR,
                action="read",
                resource_type="report",
                resource_id=str(i),
                now=when,
            )
        db.commit()


def test_the_four_largest_tables_are_partitioned_by_year(
    backend: str, scratch: tuple[str, Engine]
) -> None:
    _postgresql_only(backend)
    url, engine = scratch
    migrate.upgrade(url)
    with engine.connect() as conn:
        kinds = dict(
            conn.execute(
                sa.text("SELECT relname, relkind FROM pg_class WHERE relname = ANY(:names)"),
                {"names": list(PARTITIONED)},
            ).all()
        )
    assert kinds == dict.fromkeys(PARTITIONED, "p")
    for table in PARTITIONED:
        names = _partitions(engine, table)
        assert f"{table}_default" in names
        assert {f"{table}_y{y}" for y in range(THIS_YEAR, THIS_YEAR + 3)} <= names

    # a row goes to its year's partition, and the one-entry-a-day rule still holds
    with Session(engine) as db:
        patient = person(db, Role.PATIENT, "Partitioned Patient")
        assert patient.patient_id is not None
        db.add(
            DiaryEntry(
                id=uuid.uuid4(), patient_id=patient.patient_id, date=date(THIS_YEAR, 3, 1), pain=5
            )
        )
        db.commit()
        where = db.execute(sa.text("SELECT tableoid::regclass::text FROM diary_entries")).scalar()
        assert where == f"diary_entries_y{THIS_YEAR}"
        db.add(
            DiaryEntry(
                id=uuid.uuid4(), patient_id=patient.patient_id, date=date(THIS_YEAR, 3, 1), pain=6
            )
        )
        with pytest.raises(sa.exc.IntegrityError):
            db.commit()


def test_converting_keeps_every_row_and_the_audit_chain(
    backend: str, scratch: tuple[str, Engine]
) -> None:
    _postgresql_only(backend)
    url, engine = scratch
    migrate.upgrade(url, "0007")
    legacy_audit(engine, 3, when=datetime(THIS_YEAR - 3, 6, 1, tzinfo=UTC))  # an old year
    legacy_audit(engine, 5, when=datetime.now(UTC).replace(microsecond=0))
    assert legacy_chain_breaks(engine) is None
    with engine.connect() as conn:
        before = conn.execute(sa.text("SELECT id, hash FROM audit_events ORDER BY id")).all()

    migrate.upgrade(url, "0008")

    with engine.connect() as conn:
        after = conn.execute(sa.text("SELECT id, hash FROM audit_events ORDER BY id")).all()
        where = dict(
            conn.execute(
                sa.text("SELECT tableoid::regclass::text, count(*) FROM audit_events GROUP BY 1")
            ).all()
        )
    assert after == before
    assert legacy_chain_breaks(engine) is None
    assert where == {f"audit_events_y{THIS_YEAR - 3}": 3, f"audit_events_y{THIS_YEAR}": 5}
    # the id sequence carries on, and the chain with it
    legacy_audit(engine, 1, when=datetime.now(UTC).replace(microsecond=0))
    with engine.connect() as conn:
        newest = conn.execute(sa.text("SELECT max(id) FROM audit_events")).scalar()
    assert newest == before[-1][0] + 1
    assert legacy_chain_breaks(engine) is None
    # and on to the head, whose chain takes the events as they are
    migrate.upgrade(url)
    with Session(engine) as db:
        assert audit.verify(db) is None

    # and back: plain tables with the same rows
    migrate.downgrade(url, "0007")
    with engine.connect() as conn:
        kind = conn.execute(
            sa.text("SELECT relkind FROM pg_class WHERE relname = 'audit_events'")
        ).scalar()
        count = conn.execute(sa.text("SELECT count(*) FROM audit_events")).scalar()
    assert (kind, count) == ("r", 9)
    assert legacy_chain_breaks(engine) is None


def test_the_audit_trail_stays_append_only_in_every_partition(
    backend: str, scratch: tuple[str, Engine]
) -> None:
    _postgresql_only(backend)
    url, engine = scratch
    migrate.upgrade(url)
    ensure_partitions(engine, now=datetime(THIS_YEAR + 5, 1, 1, tzinfo=UTC))
    _audit(engine, 1)
    year, later = f"audit_events_y{THIS_YEAR}", f"audit_events_y{THIS_YEAR + 5}"
    for statement in (
        "DELETE FROM " + year,  # noqa: S608 (names made above)
        "TRUNCATE " + year,
        "TRUNCATE " + later,  # made later, by ensure_partitions
        "TRUNCATE audit_events_default",
        "TRUNCATE audit_events",
        "UPDATE " + year + " SET action = 'changed'",  # noqa: S608
    ):
        with engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="append-only"):
            conn.execute(sa.text(statement))


def test_the_coming_years_are_made_ahead_and_stranded_rows_are_reported(
    backend: str, scratch: tuple[str, Engine]
) -> None:
    url, engine = scratch
    migrate.upgrade(url)
    if backend == "sqlite":
        report = ensure_partitions(engine)
        assert (report.created, report.left_in_default) == ([], [])
        return
    assert ensure_partitions(engine).created == []  # the migration made them already

    later = THIS_YEAR + 4
    report = ensure_partitions(engine, now=datetime(later, 2, 1, tzinfo=UTC))
    assert sorted(report.created) == sorted(
        f"{t}_y{y}" for t in PARTITIONED for y in (later, later + 1, later + 2)
    )
    assert ensure_partitions(engine, now=datetime(later, 2, 1, tzinfo=UTC)).created == []

    # a year nobody made in time: its rows went to the default partition, so that year's
    # partition is not made and the report says why
    stranded = later + 3
    _audit(engine, 2, when=datetime(stranded, 5, 1, tzinfo=UTC))
    report = ensure_partitions(engine, now=datetime(stranded, 1, 1, tzinfo=UTC))
    assert report.left_in_default == [
        f"audit_events_y{stranded} (2 rows already in audit_events_default)"
    ]
    assert f"diary_entries_y{stranded}" in report.created
    assert f"audit_events_y{stranded}" not in _partitions(engine, "audit_events")
    with Session(engine) as db:
        assert audit.verify(db) is None


def test_a_retried_diary_entry_is_still_found_by_its_id(
    backend: str, scratch: tuple[str, Engine]
) -> None:
    """The primary key is (id, date) on PostgreSQL; looking a row up by id alone still
    finds it, in whichever year's partition it is."""
    url, engine = scratch
    migrate.upgrade(url)
    entry_id = uuid.uuid4()
    with Session(engine) as db:
        patient = person(db, Role.PATIENT, "Retrying Patient")
        assert patient.patient_id is not None
        db.add(
            DiaryEntry(id=entry_id, patient_id=patient.patient_id, date=date(2020, 1, 2), pain=3)
        )
        db.commit()
    with Session(engine) as db:
        found = db.get(DiaryEntry, entry_id)
        assert found is not None and found.date == date(2020, 1, 2)


def test_the_same_questionnaire_sent_twice_at_once_is_stored_once(
    backend: str, scratch: tuple[str, Engine]
) -> None:
    """Two server processes answer the same retried request at the same moment, each with
    its own clock: the completion time (part of the partitioned table's primary key) is
    not the same, so only the per-id hold makes the second a replay."""
    _postgresql_only(backend)
    url, engine = scratch
    migrate.upgrade(url)
    with Session(engine) as db:
        patient = person(db, Role.PATIENT, "Twice Sent")
        db.commit()
    assert patient.patient_id is not None
    actor = Actor(
        user_id=patient.user_id,
        role=Role.PATIENT,
        display_name="Twice Sent",
        patient_id=patient.patient_id,
    )
    data = QuestionnaireResponseCreate(id=uuid.uuid4(), instrument="phq9", answers=[1] * 9)
    created: list[bool] = []
    first_wrote = threading.Event()

    def second_process() -> None:
        first_wrote.wait(10)
        with Session(engine) as db:
            db.execute(sa.text("SET LOCAL statement_timeout = '20s'"))
            later = Ctx(now=datetime.now(UTC) + timedelta(seconds=1))
            created.append(submit_response(db, actor, later, patient.patient_id, data)[1])
            db.commit()

    thread = threading.Thread(target=second_process)
    thread.start()
    with Session(engine) as db:
        created.append(
            submit_response(db, actor, Ctx(now=datetime.now(UTC)), patient.patient_id, data)[1]
        )
        first_wrote.set()
        thread.join(0.5)  # the second is waiting for this one to finish
        assert thread.is_alive()
        db.commit()
    thread.join(30)
    assert created == [True, False]
    with engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT count(*) FROM questionnaire_responses WHERE id = :id"), {"id": data.id}
        ).scalar()
    assert stored == 1
