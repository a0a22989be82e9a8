"""Graceful shutdown: SIGTERM to `painpath serve` while patients are writing.

Under load, SIGTERM at an arbitrary moment: every request either completed with a 2xx or
was never acknowledged, and nothing is half-written (a PHQ-9 is stored with its alert and
its audit event, or not at all). After a restart, the unacknowledged writes are sent again
with the same id and body, and every write is then stored exactly once.

Then deterministically: with the database's write lock held by the test, six PHQ-9
submissions are in flight (waiting for the lock) when SIGTERM arrives. The server keeps
running, refuses new connections, and when the lock is released finishes all six (201,
each with its alert) before it exits.

Uvicorn re-raises SIGTERM once it has shut down gracefully, so the exit status is "killed
by SIGTERM" (-15 here), which systemd counts as a clean stop; 0 is accepted too.
"""

from __future__ import annotations

import random
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import text

from tests.reliability.harness import (
    FreshDatabase,
    Journal,
    Server,
    Tally,
    Write,
    assert_consistent,
    dose_write,
    login,
    phq9_write,
    seed,
    send_until_acknowledged,
    storage_problems,
    stored,
)

CLIENTS = 6
LOAD_SECONDS = 2.5
EXIT_LIMIT = 30.0
CLEAN_EXIT = (0, -signal.SIGTERM)


@dataclass
class Sent:
    write: Write
    began: float
    ended: float
    status: int | None  # None: no answer (connection refused, reset or closed)


def one_attempt_each(
    base_url: str,
    headers: dict[str, str],
    patient_id: uuid.UUID,
    rng: random.Random,
    stop: threading.Event,
    log: list[Sent],
) -> None:
    """New writes, one attempt each, until the server is gone (or told to stop)."""
    with httpx.Client() as client:
        while not stop.is_set():
            write = (
                phq9_write(patient_id, rng, rng.random() < 0.5)
                if rng.random() < 0.6
                else dose_write(patient_id, rng)
            )
            write.attempts += 1
            began = time.monotonic()
            try:
                r = client.post(base_url + write.path, json=write.body, headers=headers, timeout=60)
            except httpx.HTTPError:
                log.append(Sent(write, began, time.monotonic(), None))
                return
            log.append(Sent(write, began, time.monotonic(), r.status_code))
            if 200 <= r.status_code < 300:
                write.status, write.response = r.status_code, r.json()


@contextmanager
def writes_held(fresh: FreshDatabase) -> Iterator[None]:
    """Hold the lock every write needs: SQLite's writer lock (the server waits up to its
    busy timeout of 15 s), or on PostgreSQL the audit trail's table, which every write
    inserts its audit event into (EXCLUSIVE mode: reads go on, inserts wait)."""
    engine = fresh.engine(pool_size=1)
    with engine.connect() as conn:
        if fresh.backend == "sqlite":
            raw = conn.connection.driver_connection
            assert raw is not None
            raw.execute("BEGIN IMMEDIATE")
            try:
                yield
            finally:
                raw.execute("ROLLBACK")
        else:
            conn.execute(text("LOCK TABLE audit_events IN EXCLUSIVE MODE"))
            try:
                yield
            finally:
                conn.rollback()


def post_once(base_url: str, headers: dict[str, str], write: Write, out: list[Sent]) -> None:
    began = time.monotonic()
    try:
        r = httpx.post(base_url + write.path, json=write.body, headers=headers, timeout=60)
    except httpx.HTTPError:
        out.append(Sent(write, began, time.monotonic(), None))
        return
    out.append(Sent(write, began, time.monotonic(), r.status_code))
    if r.status_code < 300:
        write.status, write.response = r.status_code, r.json()


@pytest.mark.slow
def test_sigterm_finishes_what_is_in_flight_and_half_writes_nothing(
    fresh: FreshDatabase, tmp_path: Path, report: Callable[[str], None]
) -> None:
    population = seed(fresh, CLIENTS)
    pids = [p.patient_id for p in population.patients]
    server = Server(fresh)
    server.start()
    server.wait_ready()
    headers = [login(server.base_url, p) for p in population.patients]
    exits: list[tuple[int | None, float]] = []

    # 1. SIGTERM at an arbitrary moment under load.
    stop = threading.Event()
    logs: list[list[Sent]] = [[] for _ in range(CLIENTS)]
    threads = []
    for i, pid in enumerate(pids):
        assert pid
        t = threading.Thread(
            target=one_attempt_each,
            args=(server.base_url, headers[i], pid, random.Random(i), stop, logs[i]),
            daemon=True,
        )
        threads.append(t)
        t.start()
    time.sleep(LOAD_SECONDS)
    assert server.proc is not None
    term_at = time.monotonic()
    server.signal(signal.SIGTERM)
    try:
        exits.append((server.proc.wait(timeout=EXIT_LIMIT), time.monotonic() - term_at))
    except Exception:
        server.kill()
        raise
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    sent = [s for log in logs for s in log]
    in_flight_completed = sum(
        1 for s in sent if s.began < term_at < s.ended and s.status is not None and s.status < 300
    )
    writes = {s.write.id: s.write for s in sent}
    acknowledged = {s.write.id for s in sent if s.status is not None and s.status < 300}
    unanswered = [s.write for s in sent if s.status is None]
    bad = [(s.status, s.write.kind) for s in sent if s.status is not None and s.status >= 300]

    # With the server stopped: everything acknowledged is there, nothing is half-written.
    before_retry = stored(fresh.factory(), pids)
    assert_consistent(before_retry, writes, acknowledged, everything=False)
    landed = [w for w in unanswered if any(w.id in c for c in before_retry.ids.values())]

    # 2. Restart and send every unacknowledged write again: each is then stored once.
    server.restart()
    tally = Tally()
    journal = Journal(tmp_path / "retries.jsonl")
    try:
        with httpx.Client() as client:
            for w in unanswered:
                owner = next(i for i, pid in enumerate(pids) if str(pid) in w.path)
                assert send_until_acknowledged(
                    client,
                    [server.base_url],
                    headers[owner],
                    w,
                    tally,
                    journal,
                    time.monotonic() + 120,
                ), tally.refused
    finally:
        journal.close()

    # 3. Six writes waiting for the database when SIGTERM arrives.
    held: list[Sent] = []
    rng = random.Random(7)
    waiting = [
        threading.Thread(
            target=post_once,
            args=(server.base_url, headers[i], phq9_write(pid, rng, i % 2 == 0), held),
        )
        for i, pid in enumerate(pids)
        if pid
    ]
    try:
        with writes_held(fresh):
            for t in waiting:
                t.start()
            time.sleep(1.5)
            assert held == [], "a write went through while the database was locked"
            term_at = time.monotonic()
            server.signal(signal.SIGTERM)
            time.sleep(1.0)
            assert server.running, "the server died with requests in flight"
            with pytest.raises(httpx.HTTPError):
                httpx.get(f"{server.base_url}/healthz", timeout=3)  # no new connections
        for t in waiting:
            t.join(timeout=60)
        assert server.proc is not None
        exits.append((server.proc.wait(timeout=EXIT_LIMIT), time.monotonic() - term_at))
    finally:
        server.stop()
    assert sorted(s.status or 0 for s in held) == [201] * len(pids), [
        (s.status, s.write.kind) for s in held
    ]
    writes.update({s.write.id: s.write for s in held})
    acknowledged |= {s.write.id for s in held}

    after = stored(fresh.factory(), pids)
    problems = storage_problems(fresh.engine())
    report(
        f"[{fresh.backend}] graceful shutdown: 2 SIGTERMs, exit status and seconds "
        f"{[(c, round(s, 1)) for c, s in exits]}; under load: requests {len(sent)}, "
        f"acknowledged {len(acknowledged) - len(held)} ({in_flight_completed} of them in "
        f"flight at the SIGTERM), never answered {len(unanswered)} ({len(landed)} of those "
        f"had been stored), refused {len(bad)}; waiting on the database at the SIGTERM: "
        f"{len(held)}, completed {sum(1 for s in held if s.status == 201)}; stored in the "
        f"end: {after.found()}, {sum(after.item9_alerts.values())} item-9 alerts; storage "
        f"check: {problems or 'clean'}"
    )
    assert bad == [], bad
    assert all(code in CLEAN_EXIT for code, _ in exits), f"not a clean exit: {exits}"
    assert tally.refused == [] and tally.server_errors == []
    assert tally.replayed == len(landed), "a stored write was not found on retry"
    assert_consistent(after, writes, acknowledged | {w.id for w in unanswered}, everything=True)
    assert problems == []
