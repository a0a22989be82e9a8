"""R-1, scaled to a test run: SIGKILL the server again and again while patients write.

Six client threads (one patient each) write diary entries, dose events and PHQ-9
responses (about a third with item 9 above 0), each with a client-made id, to a real
`painpath serve` process. Each client journals every write the server acknowledged (2xx)
and retries whatever was not acknowledged, with the same id and body, until it is. A chaos
loop SIGKILLs the server at random moments and starts it again.

Afterwards, on SQLite and on PostgreSQL: every acknowledged write is stored exactly once
(and nothing else was stored), each stored record matches what the client was told, no
questionnaire is partial (nine answers, total and band as scored), each PHQ-9 with item
9 above 0 has exactly one alert and no other response has one, each record has exactly one
"create" audit event and the audit hash chain is intact, and the storage checks are clean
(SQLite integrity_check and foreign_key_check; PostgreSQL amcheck).
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.reliability.harness import (
    FreshDatabase,
    Journal,
    Server,
    Tally,
    Write,
    assert_consistent,
    diary_write,
    dose_write,
    login,
    london_today,
    phq9_write,
    seed,
    send_until_acknowledged,
    storage_problems,
    stored,
)

CLIENTS = 6
KILLS = 5
UPTIME = (1.0, 3.5)  # seconds the server runs between kills (uniform)
MAX_WRITES_PER_CLIENT = 400
DIARY_DAYS = 6  # back-filled days 1..6 before today (7 are allowed)
TIME_LIMIT = 240.0  # seconds for the whole load phase, kills included
SELF_HARM_SHARE = 0.35


def client_loop(
    index: int,
    base_url: str,
    headers: dict[str, str],
    patient_id: uuid.UUID,
    stop: threading.Event,
    deadline: float,
    journal: Journal,
    tally: Tally,
    writes: list[Write],
) -> None:
    rng = random.Random(1000 + index)
    days = [london_today() - timedelta(days=d) for d in range(1, DIARY_DAYS + 1)]
    with httpx.Client() as client:
        while not stop.is_set() and len(writes) < MAX_WRITES_PER_CLIENT:
            roll = rng.random()
            if days and roll < 0.15:
                write = diary_write(patient_id, days.pop(), rng)
            elif roll < 0.55:
                write = dose_write(patient_id, rng)
            else:
                write = phq9_write(patient_id, rng, rng.random() < SELF_HARM_SHARE)
            writes.append(write)
            if not send_until_acknowledged(
                client, [base_url], headers, write, tally, journal, deadline
            ):
                return


@pytest.mark.slow
def test_acknowledged_writes_survive_sigkill_exactly_once(
    fresh: FreshDatabase, tmp_path: Path, report: Callable[[str], None]
) -> None:
    population = seed(fresh, CLIENTS)
    server = Server(fresh)
    server.start()
    server.wait_ready()
    patients = population.patients
    headers = [login(server.base_url, p) for p in patients]

    stop = threading.Event()
    deadline = time.monotonic() + TIME_LIMIT
    tallies = [Tally() for _ in range(CLIENTS)]
    writes: list[list[Write]] = [[] for _ in range(CLIENTS)]
    journals = [Journal(tmp_path / f"journal-{i}.jsonl") for i in range(CLIENTS)]
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            pid = patients[i].patient_id
            assert pid
            client_loop(
                i,
                server.base_url,
                headers[i],
                pid,
                stop,
                deadline,
                journals[i],
                tallies[i],
                writes[i],
            )
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    chaos = random.Random(20260)
    kills = 0
    restart_seconds: list[float] = []
    try:
        for _ in range(KILLS):
            time.sleep(chaos.uniform(*UPTIME))
            if time.monotonic() > deadline - 60:
                break
            server.kill()
            kills += 1
            restart_seconds.append(server.restart())
        time.sleep(1.0)  # some calm traffic after the last restart
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=max(5.0, deadline - time.monotonic() + 30))
        server.stop()
        for j in journals:
            j.close()
    assert not errors, errors
    assert not any(t.is_alive() for t in threads), "a client did not finish in time"

    total = Tally()
    for t in tallies:
        total.add(t)
    journal = Journal.read([j.path for j in journals])
    all_writes = {w.id: w for ws in writes for w in ws}
    acked = {e["id"] for e in journal}
    assert len(acked) == len(journal), "a write was journalled twice"
    state = stored(fresh.factory(), [p.patient_id for p in patients])
    problems = storage_problems(fresh.engine())

    found = state.found()
    report(
        f"[{fresh.backend}] crash consistency: {CLIENTS} clients, {kills} SIGKILLs "
        f"(restarts took {', '.join(f'{s:.1f}' for s in restart_seconds)} s); "
        f"writes attempted {total.attempted}, requests sent {total.requests}, "
        f"acknowledged {total.acknowledged}, retried {total.retried} "
        f"(stored before the kill and acknowledged on retry: {total.replayed}), "
        f"connection errors {total.connection_errors}, 5xx {len(total.server_errors)}; "
        f"rows found: diary {found['diary']}, dose events {found['dose']}, "
        f"PHQ-9 {found['phq9']} ({len(state.self_harm())} with item 9 > 0, "
        f"{sum(state.item9_alerts.values())} item-9 alerts); "
        f"audit events {state.audit_events}; "
        f"storage check: {problems or 'clean'}"
    )

    # The run did what it is meant to exercise.
    assert kills >= 4, f"only {kills} kills: the run was too slow to test anything"
    assert total.refused == [], total.refused[:5]
    assert total.server_errors == [], total.server_errors[:5]
    assert total.acknowledged == total.attempted == len(all_writes), "a write was never stored"
    assert total.retried > 0, "no write was interrupted by a kill"
    assert found["phq9"] >= 20 and state.self_harm(), "too few questionnaires to judge"

    assert_consistent(state, all_writes, acked, everything=True)
    assert problems == []
