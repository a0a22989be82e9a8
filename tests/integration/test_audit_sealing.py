"""Audit events are written without the chain's lock and sealed into the hash chain
afterwards (PostgreSQL), or at once (SQLite, whose writer lock already serialises)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from painpath import migrate
from painpath.audit import service as audit
from painpath.audit.domain import GENESIS
from painpath.audit.models import AuditEvent
from painpath.auth.domain import SYSTEM_ACTOR
from painpath.config import Settings
from painpath.db import make_engine
from painpath.reminders.worker import run_once
from tests.conftest import drop_database, fresh_database_url
from tests.integration.legacy_audit import legacy_chain_breaks


@pytest.fixture()
def scratch(backend: str, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    url, token = fresh_database_url(backend, tmp_path)
    engine = make_engine(url, pool_size=4)
    try:
        migrate.upgrade(url)
        yield url, engine
    finally:
        engine.dispose()
        drop_database(token)


def _record(db: Session, n: int) -> AuditEvent:
    event = audit.record(
        db, SYSTEM_ACTOR, action="read", resource_type="report", resource_id=str(n)
    )
    assert event is not None
    return event


def test_events_are_sealed_in_order_and_the_chain_verifies(
    backend: str, scratch: tuple[str, Engine]
) -> None:
    _url, engine = scratch
    with Session(engine) as db:
        events = [_record(db, n) for n in range(3)]
        db.commit()
        if backend == "postgresql":
            assert [(e.seq, e.hash) for e in events] == [(None, "")] * 3  # not yet
            assert audit.seal(db) == 3
            db.commit()
        else:
            assert audit.seal(db) == 0  # SQLite sealed each at once
        assert [e.seq for e in events] == [1, 2, 3]
        assert events[0].prev_hash == GENESIS
        assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
        assert audit.verify(db) is None
        assert audit.seal(db) == 0  # nothing left to seal

        _record(db, 3)
        db.commit()
        assert audit.verify(db) is None  # verifying seals what is pending first
        events[1].reason = "changed"  # the trigger refuses this...
        with pytest.raises(sa.exc.DBAPIError):
            db.commit()
        db.rollback()
        events[1].hash = "f" * 64  # ...but not a re-hash, which the chain catches
        db.commit()
        assert audit.verify(db) == 1


def test_requests_do_not_wait_for_each_other_and_a_late_commit_is_sealed_after(
    backend: str, scratch: tuple[str, Engine]
) -> None:
    """Request A writes its event first (smaller id) but commits last; request B,
    meanwhile, writes and commits without waiting for A. The chain is in the order the
    events were sealed, which is what verification follows."""
    if backend != "postgresql":
        pytest.skip("SQLite runs one writing transaction at a time")
    _url, engine = scratch
    with Session(engine) as first:
        a = _record(first, 1)  # A holds its transaction open
        done = threading.Event()

        def other_request() -> None:
            with Session(engine) as db:
                db.execute(sa.text("SET LOCAL statement_timeout = '5s'"))
                _record(db, 2)
                db.commit()
            done.set()

        thread = threading.Thread(target=other_request)
        thread.start()
        thread.join(10)
        assert done.is_set(), "the second request waited for the first one's commit"

        with Session(engine) as sealer:
            assert audit.seal(sealer) == 1  # only B is visible yet
            sealer.commit()
        first.commit()
        assert a.seq is None
    with Session(engine) as db:
        assert audit.seal(db) == 1
        db.commit()
        rows = db.execute(select(AuditEvent.id, AuditEvent.seq).order_by(AuditEvent.seq)).all()
        assert [seq for _id, seq in rows] == [1, 2]
        assert rows[0].id > rows[1].id  # B (the later id) went into the chain first
        assert audit.verify(db) is None


def test_two_sealers_at_once_make_one_chain(backend: str, scratch: tuple[str, Engine]) -> None:
    _url, engine = scratch
    with Session(engine) as db:
        for n in range(40):
            _record(db, n)
        db.commit()
    errors: list[BaseException] = []

    def seal() -> None:
        try:
            with Session(engine) as db:
                audit.seal(db)
                db.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=seal) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    with Session(engine) as db:
        seqs = list(db.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
        assert seqs == list(range(1, 41))
        assert audit.verify(db) is None


def test_the_downgrade_links_the_chain_in_id_order_again(
    backend: str, scratch: tuple[str, Engine]
) -> None:
    """Before 0009 the chain was checked in id order: going back re-links what was
    sealed in another order, and seals what was pending."""
    url, engine = scratch
    with Session(engine) as db:
        events = [_record(db, n) for n in range(4)]
        db.commit()
        audit.seal(db)
        db.commit()
        if backend == "postgresql":
            # the sealing order differs from the id order for the last two
            db.execute(sa.update(AuditEvent).where(AuditEvent.id == events[2].id).values(seq=None))
            db.commit()
            audit.seal(db)
            _record(db, 5)  # and one still pending
            db.commit()
    migrate.downgrade(url, "0008")
    assert legacy_chain_breaks(engine) is None
    with engine.connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM audit_events")).scalar()
    assert count == (5 if backend == "postgresql" else 4)


def test_the_worker_seals_a_backlog_a_batch_per_transaction(
    backend: str, scratch: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, engine = scratch
    with Session(engine) as db:
        for n in range(7):
            _record(db, n)
        db.commit()
        if backend == "postgresql":
            assert audit.seal(db, limit=2) == 2  # a limit stops part-way
            db.commit()
    monkeypatch.setattr(audit, "SEAL_BATCH", 2)
    counts = run_once(sessionmaker(engine), Settings(database_url=url), datetime.now(UTC))
    assert counts["audit_sealed"] == (5 if backend == "postgresql" else 0)
    assert counts["errors"] == 0
    with Session(engine) as db:
        assert list(db.scalars(select(AuditEvent.seq).order_by(AuditEvent.id))) == list(range(1, 8))
        assert audit.verify(db) is None
