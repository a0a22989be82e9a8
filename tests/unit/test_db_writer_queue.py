"""SQLite's writer lock is taken in turns, first come first served, within a process."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import sqlalchemy as sa

from painpath.db import WriterQueue, make_engine, writer_queue


def test_turns_are_given_in_the_order_they_were_asked_for() -> None:
    queue = WriterQueue()
    first = object()
    assert queue.acquire(first)
    served: list[int] = []
    threads = []
    for n in range(5):
        owner = object()

        def wait_turn(n: int = n, owner: object = owner) -> None:
            assert queue.acquire(owner, timeout=10)
            served.append(n)
            queue.release(owner)

        thread = threading.Thread(target=wait_turn)
        thread.start()
        threads.append(thread)
        time.sleep(0.05)  # each asks after the one before
    assert served == []  # nobody passes the holder
    queue.release(first)
    for thread in threads:
        thread.join(10)
    assert served == [0, 1, 2, 3, 4]


def test_a_wait_that_times_out_gives_up_its_place_and_others_still_get_theirs() -> None:
    queue = WriterQueue()
    holder, impatient, patient = object(), object(), object()
    assert queue.acquire(holder)
    assert queue.acquire(impatient, timeout=0.05) is False
    got: list[bool] = []
    thread = threading.Thread(target=lambda: got.append(queue.acquire(patient, timeout=10)))
    thread.start()
    time.sleep(0.05)
    queue.release(impatient)  # not the holder: nothing happens
    assert got == []
    queue.release(holder)
    thread.join(10)
    assert got == [True]
    queue.release(patient)
    assert queue.acquire(object(), timeout=0)  # free again


def test_concurrent_sqlite_transactions_all_commit_in_turn(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'turns.db'}", pool_size=8)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        conn.execute(sa.text("INSERT INTO counter VALUES (0)"))
    errors: list[BaseException] = []

    def add(times: int) -> None:
        try:
            for _ in range(times):
                with engine.begin() as conn:
                    n = conn.execute(sa.text("SELECT n FROM counter")).scalar_one()
                    conn.execute(sa.text("UPDATE counter SET n = :n"), {"n": n + 1})
                # a rolled-back transaction hands its turn on too
                with engine.connect() as conn:
                    conn.begin()
                    conn.execute(sa.text("SELECT n FROM counter")).scalar_one()
                    conn.rollback()
        except BaseException as exc:
            errors.append(exc)

    queue = writer_queue(engine)
    assert queue is not None
    with engine.begin() as conn:  # a transaction holds the turn until it ends
        assert queue.acquire(object(), timeout=0) is False
    threads = [threading.Thread(target=add, args=(25,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT n FROM counter")).scalar_one() == 200
    # every commit and rollback handed its turn on: the queue is free
    probe = object()
    assert queue.acquire(probe, timeout=0)
    queue.release(probe)
    engine.dispose()
