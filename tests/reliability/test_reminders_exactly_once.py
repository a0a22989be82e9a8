"""Reminders are sent at most once and none are lost: two workers at once (threads and
processes, each with its own engine), a worker stopped at every step of an email's
journey and restarted, a real kill (os._exit) in the middle of a run, and a worker whose
lease ran out. Authoritative on PostgreSQL (SKIP LOCKED); SQLite's writer lock
serialises the same code."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from painpath import migrate
from painpath.care.models import Notification
from painpath.config import Settings
from painpath.db import make_engine, make_session_factory, unit_of_work
from painpath.demo.service import load_demo
from painpath.reminders import domain, service
from painpath.reminders.models import Reminder
from painpath.reminders.service import EmailJob
from painpath.reminders.worker import run_once
from tests.conftest import drop_database, fresh_database_url
from tests.integration.test_reminders_worker import Inbox, Smtp, start_smtp

DAY = date(2026, 3, 10)
EIGHT = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)  # GMT: 08:00 local, every demo dose
MOMENTS = [EIGHT + timedelta(hours=h) for h in (0, 1, 5, 11)]  # 08, 09, 13, 19 o'clock


class Crash(BaseException):
    """Stands for the process dying: nothing in the worker catches it."""


@dataclass
class Fresh:
    url: str
    settings: Settings
    smtp: Smtp
    engines: list[Engine]

    def factory(self) -> sessionmaker[Session]:
        engine = make_engine(self.url, pool_size=5)
        self.engines.append(engine)
        return make_session_factory(engine)


@pytest.fixture()
def fresh(backend: str, tmp_path: Path) -> Iterator[Fresh]:
    """A new database with the demo loaded, and a local SMTP server."""
    url, token = fresh_database_url(backend, tmp_path)
    migrate.upgrade(url)
    server = start_smtp(Inbox())
    setup = Fresh(url, server.settings(url), server, [])
    with unit_of_work(setup.factory()) as db:
        load_demo(db, seed=7, today=DAY, patients=6)
    try:
        yield setup
    finally:
        server.controller.stop()
        for engine in setup.engines:
            engine.dispose()
        drop_database(token)


def outbox(factory: sessionmaker[Session]) -> list[Reminder]:
    with factory() as db:
        return list(db.scalars(select(Reminder)).all())


def reminder_notifications(factory: sessionmaker[Session]) -> int:
    with factory() as db:
        return int(
            db.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.kind.in_(domain.NOTIFICATION_KINDS))
            )
            or 0
        )


def assert_each_sent_once(fresh: Fresh, factory: sessionmaker[Session]) -> list[Reminder]:
    """Every email that arrived is one row marked sent, and arrived once; every in-app
    reminder marked sent is one notification."""
    rows = outbox(factory)
    ids = fresh.smtp.inbox.message_ids()
    assert len(ids) == len(set(ids)), "an email arrived twice"
    sent_emails = {r.message_id for r in rows if r.channel == "email" and r.status == "sent"}
    unknown = {r.message_id for r in rows if r.status == "unknown"}
    assert sent_emails <= set(ids)
    assert set(ids) - sent_emails <= unknown
    in_app = [r for r in rows if r.channel == "in-app" and r.status == "sent"]
    assert reminder_notifications(factory) == len(in_app)
    return rows


def test_two_workers_at_once_send_each_reminder_once(fresh: Fresh) -> None:
    workers = [fresh.factory(), fresh.factory()]
    results: list[list[dict[str, int]]] = [[], []]
    errors: list[BaseException] = []
    for moment in MOMENTS:
        barrier = threading.Barrier(2)

        def work(i: int, at: datetime = moment, gate: threading.Barrier = barrier) -> None:
            try:
                gate.wait(timeout=30)
                results[i].append(run_once(workers[i], fresh.settings, at, batch=2))
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    assert errors == []
    rows = assert_each_sent_once(fresh, workers[0])
    emails = [r for r in rows if r.channel == "email" and r.status == "sent"]
    delivered = sum(c["emails_sent"] for r in results for c in r)
    assert delivered == len(emails) == len(fresh.smtp.inbox.messages) >= 10
    shown = sum(c["in_app_sent"] for r in results for c in r)
    assert shown == reminder_notifications(workers[0]) >= 10
    assert not [r for r in rows if r.status in ("claimed", "sending", "unknown", "pending")]


WORKER_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    from datetime import datetime
    from painpath.config import Settings
    from painpath.db import make_engine, make_session_factory
    from painpath.reminders.worker import run_once

    url, port, at, die_at, die_after = sys.argv[1:6]
    settings = Settings(
        database_url=url, smtp_host="127.0.0.1", smtp_port=int(port),
        smtp_sender="PainPath <reminders@painpath.example>",
        smtp_link_base="https://painpath.example",
    )
    seen = {"n": 0}

    def fault(point, job):
        if point == die_at:
            seen["n"] += 1
            if seen["n"] == int(die_after):
                os._exit(17)  # killed: no cleanup, no rollback, no SMTP QUIT

    factory = make_session_factory(make_engine(url, pool_size=2))
    for moment in at.split(","):
        counts = run_once(factory, settings, datetime.fromisoformat(moment), fault=fault, batch=3)
        print(json.dumps(counts))
    """
)


def run_worker_process(
    fresh: Fresh, *at: datetime, die_at: str = "", die_after: int = 0
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            WORKER_SCRIPT,
            fresh.url,
            str(fresh.smtp.port),
            ",".join(a.isoformat() for a in at),
            die_at,
            str(die_after),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PAINPATH_SMTP_HOST": ""},
    )


def test_two_worker_processes_at_once_send_each_reminder_once(fresh: Fresh) -> None:
    procs = [run_worker_process(fresh, *MOMENTS) for _ in range(2)]
    for proc in procs:
        _out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
    factory = fresh.factory()
    rows = assert_each_sent_once(fresh, factory)
    emails = [r for r in rows if r.channel == "email" and r.status == "sent"]
    assert len(emails) == len(fresh.smtp.inbox.messages) >= 6


@pytest.mark.parametrize("point", ["claimed", "handed-over"])
def test_a_worker_killed_mid_run_and_restarted_sends_nothing_twice_and_loses_nothing(
    fresh: Fresh, point: str
) -> None:
    proc = run_worker_process(fresh, EIGHT, die_at=point, die_after=2)
    proc.communicate(timeout=120)
    assert proc.returncode == 17
    factory = fresh.factory()
    stuck = {r.id: r.status for r in outbox(factory) if r.status in ("claimed", "sending")}
    assert stuck, "the kill left claimed rows"
    # Restarted at once: rows still under the dead worker's lease are left alone.
    run_once(factory, fresh.settings, EIGHT + timedelta(minutes=1))
    assert {r.id: r.status for r in outbox(factory) if r.id in stuck} == stuck
    restart = run_once(factory, fresh.settings, EIGHT + timedelta(minutes=6))
    rows = assert_each_sent_once(fresh, factory)
    emails = [r for r in rows if r.channel == "email" and r.status != "skipped"]
    if point == "claimed":
        # Killed before DATA: the claim is released and sent once by the restart.
        assert restart["released"] >= 1 and restart["unknown"] == 0
        assert {r.status for r in emails} == {"sent"}
        assert len(fresh.smtp.inbox.messages) == len(emails)
    else:
        # Killed after the server took the message, before it was marked sent: it
        # arrived once, is recorded as unknown and is not sent again.
        assert restart["unknown"] == 1
        (maybe,) = [r for r in emails if r.status == "unknown"]
        assert fresh.smtp.inbox.message_ids().count(str(maybe.message_id)) == 1
        assert len(fresh.smtp.inbox.messages) == len(emails)
    assert not [r for r in rows if r.status in ("claimed", "sending", "pending")]


def _crash_at(point: str, on: int) -> Callable[[str, EmailJob], None]:
    seen = {"n": 0}

    def fault(where: str, _job: EmailJob) -> None:
        if where == point:
            seen["n"] += 1
            if seen["n"] == on:
                raise Crash(where)

    return fault


@pytest.mark.parametrize("point", ["claimed", "handing-over", "handed-over"])
def test_a_worker_stopped_at_each_step_of_an_email_then_restarted(fresh: Fresh, point: str) -> None:
    factory = fresh.factory()
    with pytest.raises(Crash):
        run_once(factory, fresh.settings, EIGHT, fault=_crash_at(point, 3))
    run_once(factory, fresh.settings, EIGHT + timedelta(minutes=6))
    rows = assert_each_sent_once(fresh, factory)
    emails = [r for r in rows if r.channel == "email" and r.status != "skipped"]
    statuses = sorted(r.status for r in emails)
    arrived = fresh.smtp.inbox.message_ids()
    if point == "claimed":
        assert set(statuses) == {"sent"} and len(arrived) == len(emails)
    elif point == "handing-over":
        # "sending" was recorded, then the worker stopped before DATA: the message never
        # left, but it might have, so it is not resent (the at-most-once window). The
        # same reminder is in the app.
        (lost,) = [r for r in emails if r.status == "unknown"]
        assert str(lost.message_id) not in arrived
        twin = [
            r
            for r in rows
            if r.channel == "in-app"
            and r.kind == lost.kind
            and r.subject == lost.subject
            and r.local_time == lost.local_time
        ]
        assert [t.status for t in twin] == ["sent"]
        assert len(arrived) == len(emails) - 1
    else:
        (once,) = [r for r in emails if r.status == "unknown"]
        assert arrived.count(str(once.message_id)) == 1
        assert len(arrived) == len(emails)


def test_a_worker_whose_lease_ran_out_does_not_send_what_another_took_over(
    fresh: Fresh,
) -> None:
    slow, quick = fresh.factory(), fresh.factory()
    # The slow worker claims a batch of emails, then stalls before sending any.
    with pytest.raises(Crash):
        run_once(slow, fresh.settings, EIGHT, fault=_crash_at("claimed", 1))
    with slow() as db:
        held = db.scalars(select(Reminder).where(Reminder.status == "claimed")).all()
        assert held
        job = EmailJob(held[0].id, str(held[0].claim_token), "x@example.invalid", "t" * 43, 1)
    run_once(quick, fresh.settings, EIGHT + timedelta(minutes=6))  # takes everything over
    with unit_of_work(slow) as db:  # the slow worker wakes up: it may not send
        assert service.start_handover(db, job, EIGHT + timedelta(minutes=7), "<m@x>") is False
    rows = assert_each_sent_once(fresh, quick)
    assert {r.status for r in rows if r.channel == "email"} == {"sent", "skipped"}


def test_two_claims_at_the_same_moment_get_different_rows(fresh: Fresh) -> None:
    a, b = fresh.factory(), fresh.factory()
    with unit_of_work(a) as db:
        for patient_id in service.patient_ids(db):
            service.plan_patient(
                db, patient_id, EIGHT, default_timezone="Europe/London", email_possible=True
            )
    total = len([r for r in outbox(a) if r.status == "pending"])
    assert total >= 10
    first, second = a(), b()
    try:
        got_a = service.claim(first, EIGHT, limit=5)
        if fresh.url.startswith("postgresql"):
            # The first transaction still holds its rows: SKIP LOCKED passes them by.
            got_b = service.claim(second, EIGHT, limit=100)
            first.commit()
        else:  # SQLite: the second writer waits for the first (BEGIN IMMEDIATE)
            first.commit()
            got_b = service.claim(second, EIGHT, limit=100)
        second.commit()
    finally:
        first.close()
        second.close()
    assert got_a.handled == 5 and got_b.handled == total - 5
    ids_a = {j.reminder_id for j in got_a.emails or []}
    ids_b = {j.reminder_id for j in got_b.emails or []}
    assert not ids_a & ids_b
    assert reminder_notifications(a) == got_a.in_app_sent + got_b.in_app_sent
