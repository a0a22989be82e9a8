"""Scale-out on one PostgreSQL: two `painpath serve` processes (as on two machines, no
proxy: the clients alternate between them) and two reminders workers, under concurrent
load.

Six patients write diary entries, dose events and PHQ-9 responses; every fifth write goes
to both application processes at the same moment with the same id and body (one is
stored, the other gets it back or a 409). Half-way through, one application process is
SIGKILLed and the clients carry on with the other (as behind a load balancer). The
workers run continuously, each planning and sending the reminders that are due (each
patient's dose time is ten minutes ago, so a dose reminder is due for each), in-app and by
email to a local SMTP server; at the end they get SIGTERM and stop after their current run.

Afterwards: every acknowledged write is stored exactly once and whole (the same checks as
the crash test), no reminder was planned twice (one row per dedupe key), no email arrived
twice, each in-app reminder marked sent is one notification, and the stopped workers left
no reminder claimed or half-sent.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import func, select

from painpath.care.models import Notification
from painpath.reminders import domain as reminders_domain
from painpath.reminders.models import Reminder
from tests.integration.test_reminders_worker import Inbox, start_smtp
from tests.reliability.harness import (
    LONDON,
    FreshDatabase,
    Journal,
    Process,
    Server,
    Tally,
    Write,
    assert_consistent,
    at_once,
    diary_write,
    dose_write,
    login,
    london_today,
    phq9_write,
    seed,
    send_until_acknowledged,
    storage_problems,
    stored,
    worker_args,
)

CLIENTS = 6
LOAD_SECONDS = 14.0
KILL_AFTER = 6.0
TIME_LIMIT = 150.0


def client_loop(
    index: int,
    urls: list[str],
    headers: dict[str, str],
    patient_id: uuid.UUID,
    stop: threading.Event,
    deadline: float,
    journal: Journal,
    tally: Tally,
    writes: list[Write],
    doubles: list[tuple[int, int]],
) -> None:
    rng = random.Random(500 + index)
    days = [london_today() - timedelta(days=d) for d in range(1, 7)]
    with httpx.Client() as client:
        n = 0
        while not stop.is_set() and time.monotonic() < deadline:
            roll = rng.random()
            if days and roll < 0.2:
                write = diary_write(patient_id, days.pop(), rng)
            elif roll < 0.55:
                write = dose_write(patient_id, rng)
            else:
                write = phq9_write(patient_id, rng, rng.random() < 0.35)
            writes.append(write)
            order = [urls[n % 2], urls[(n + 1) % 2]]
            n += 1
            if n % 5 == 0:
                # the same write to both application processes at once
                both = at_once(
                    [
                        ("POST", u + write.path, {"json": write.body, "headers": headers})
                        for u in urls
                    ]
                )
                codes = [r.status_code for r in both if isinstance(r, httpx.Response)]
                if len(codes) == 2:
                    doubles.append((min(codes), max(codes)))
                    assert sorted(codes) in ([200, 201], [201, 409]), codes
            if not send_until_acknowledged(client, order, headers, write, tally, journal, deadline):
                return


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_app_processes_and_two_workers_share_one_postgresql(
    fresh: FreshDatabase, tmp_path: Path, report: Callable[[str], None]
) -> None:
    local_now = datetime.now(UTC).astimezone(LONDON)
    dose_time = (local_now - timedelta(minutes=10)).strftime("%H:%M")
    population = seed(fresh, CLIENTS, dose_time=dose_time)
    pids = [p.patient_id for p in population.patients]
    smtp = start_smtp(Inbox())
    mail_env = {
        "PAINPATH_SMTP_HOST": "127.0.0.1",
        "PAINPATH_SMTP_PORT": str(smtp.port),
        "PAINPATH_SMTP_SENDER": "PainPath <reminders@painpath.example>",
        "PAINPATH_SMTP_LINK_BASE": "https://painpath.example",
    }
    servers = [Server(fresh, f"app-{i}") for i in (1, 2)]
    for s in servers:
        s.env.update(mail_env)
        s.start()
    workers = [
        Process(worker_args(interval=1), fresh.env(**mail_env), tmp_path / f"worker-{i}.log")
        for i in (1, 2)
    ]
    journals = [Journal(tmp_path / f"journal-{i}.jsonl") for i in range(CLIENTS)]
    try:
        for s in servers:
            s.wait_ready()
        for w in workers:
            w.start()
        urls = [s.base_url for s in servers]
        headers = [login(urls[i % 2], p) for i, p in enumerate(population.patients)]

        stop = threading.Event()
        deadline = time.monotonic() + TIME_LIMIT
        tallies = [Tally() for _ in range(CLIENTS)]
        writes: list[list[Write]] = [[] for _ in range(CLIENTS)]
        doubles: list[tuple[int, int]] = []
        errors: list[BaseException] = []

        def run(i: int) -> None:
            try:
                pid = pids[i]
                assert pid
                client_loop(
                    i,
                    urls,
                    headers[i],
                    pid,
                    stop,
                    deadline,
                    journals[i],
                    tallies[i],
                    writes[i],
                    doubles,
                )
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        time.sleep(KILL_AFTER)
        servers[0].kill()  # one machine gone: the clients carry on with the other
        time.sleep(LOAD_SECONDS - KILL_AFTER)
        stop.set()
        for t in threads:
            t.join(timeout=max(5.0, deadline - time.monotonic() + 30))
        assert not errors, errors
        assert not any(t.is_alive() for t in threads)
        worker_exits = [w.stop(timeout=60) for w in workers]
    finally:
        for w in workers:
            w.stop(timeout=10)
        for s in servers:
            s.stop()
        for j in journals:
            j.close()
        smtp.controller.stop()

    total = Tally()
    for t in tallies:
        total.add(t)
    all_writes = {w.id: w for ws in writes for w in ws}
    acked = {e["id"] for e in Journal.read([j.path for j in journals])}
    state = stored(fresh.factory(), pids)

    factory = fresh.factory()
    with factory() as db:
        outbox = list(db.scalars(select(Reminder)))
        notifications = int(
            db.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.kind.in_(reminders_domain.NOTIFICATION_KINDS))
            )
            or 0
        )
    keys = Counter(r.dedupe_key for r in outbox)
    statuses = Counter(r.status for r in outbox)
    message_ids = smtp.inbox.message_ids()
    in_app_sent = [r for r in outbox if r.channel == "in-app" and r.status == "sent"]
    emails_sent = {r.message_id for r in outbox if r.channel == "email" and r.status == "sent"}
    problems = storage_problems(fresh.engine())
    report(
        f"[postgresql] scale-out: 2 app processes (one SIGKILLed after {KILL_AFTER:.0f} s), "
        f"2 workers (exit status {worker_exits}); writes attempted {total.attempted}, "
        f"requests {total.requests}, acknowledged {total.acknowledged}, retried "
        f"{total.retried}, sent to both processes at once {len(doubles)} "
        f"({Counter(doubles)}); rows found {state.found()}, item-9 alerts "
        f"{sum(state.item9_alerts.values())}; reminders {len(outbox)} {dict(statuses)}, "
        f"in-app notifications {notifications}, emails received {len(message_ids)}; "
        f"storage check: {problems or 'clean'}"
    )

    assert total.refused == [] and total.server_errors == [], (
        total.refused[:3],
        total.server_errors[:3],
    )
    assert total.acknowledged == total.attempted == len(all_writes)
    assert doubles, "no write went to both processes at once"
    assert total.retried > 0, "no client had to fail over to the other process"
    assert_consistent(state, all_writes, acked, everything=True)

    assert all(code == 0 for code in worker_exits), worker_exits
    assert all(n == 1 for n in keys.values()), "a reminder was planned twice"
    assert statuses["claimed"] == statuses["sending"] == 0, "a stopped worker left a job held"
    assert len(message_ids) == len(set(message_ids)), "an email arrived twice"
    assert emails_sent <= set(message_ids)
    assert notifications == len(in_app_sent), "an in-app reminder shown twice, or not at all"
    assert len(in_app_sent) >= CLIENTS, "the workers sent no dose reminders"
    assert problems == []
