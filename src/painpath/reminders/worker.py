"""The reminders worker: each run recovers what stopped workers left, runs the scheduled
alert rules, plans what is due into the outbox and delivers it.

Exactly once, durably
---------------------
The schedule lives in the database: an outbox row per (person, channel, kind, subject,
intended local date/time), unique by that key, so running the same moment twice, or in
several processes at once, plans each reminder once. Rows are claimed in short
transactions with ``SELECT ... FOR UPDATE SKIP LOCKED`` (PostgreSQL; on SQLite the
``BEGIN IMMEDIATE`` writer lock serialises the workers).

* In-app reminders are exactly once: the notification is written in the same
  transaction that marks the row sent.
* Emails are **at most once**, and nothing is lost short of one narrow window:

  1. ``claimed`` (committed) - the worker holds a lease (5 minutes) and a claim token.
  2. MAIL FROM / RCPT TO with the mail server: nothing is delivered yet.
  3. ``sending`` (committed, compare-and-set on the claim token): from here the message
     may reach the person. Only one worker can make this step for a row.
  4. DATA: the mail server takes the message; then ``sent`` (committed).

  A worker that dies in 1-2 leaves ``claimed``: when the lease runs out the row goes
  back to ``pending`` and is sent by the next run (nothing lost, nothing twice, since the
  message never reached DATA). A worker whose lease ran out while it was still alive
  fails the compare-and-set in step 3 and does not send. A worker that dies in 3-4
  leaves ``sending``: the message may or may not have been taken, so when the lease runs
  out the row becomes ``unknown`` and is *never* resent (at most once). That window is
  the DATA exchange itself (milliseconds); the same reminder is still in the app, and
  the Message-ID is derived from the row id, so a mail store that de-duplicates by
  Message-ID would fold any copy an operator chooses to resend. A mail server that
  answers DATA with an error code did not take the message: it is retried later (4xx)
  or marked failed (5xx).

Catching up: a run looks back ``domain.LOOKBACK`` (26 hours); reminders past their useful
moment (a dose reminder 2 hours late) are recorded as skipped, others are still sent.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from painpath.audit import service as audit_service
from painpath.config import Settings
from painpath.db import make_session_factory, unit_of_work, utcnow
from painpath.partitions import ensure_partitions_on
from painpath.reminders import domain, mailer, service
from painpath.reminders.service import EmailJob

log = logging.getLogger("painpath.reminders.worker")

# Called at named points of an email's journey ("claimed", "handing-over",
# "handed-over"); tests use it to stop a worker exactly there.
Fault = Callable[[str, EmailJob], None]
BATCH = 50
INTERVAL_SECONDS = 60.0


@dataclass
class RunCounts:
    planned: int = 0
    in_app_sent: int = 0
    emails_sent: int = 0
    skipped: int = 0
    retrying: int = 0
    failed: int = 0
    unknown: int = 0
    released: int = 0
    taken_over: int = 0
    alerts_raised: int = 0
    audit_sealed: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def run_once(
    factory: sessionmaker[Session],
    settings: Settings,
    now: datetime,
    *,
    fault: Fault | None = None,
    batch: int = BATCH,
    lease: timedelta = service.LEASE,
) -> dict[str, int]:
    """Do everything due at ``now`` and return what happened, as counts."""
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone")
    counts = RunCounts()
    _keep_partitions(factory, now, counts)
    _seal_audit(factory, counts)
    with unit_of_work(factory) as db:
        released, unknown = service.recover(db, now)
    counts.released, counts.unknown = released, unknown
    try:
        with unit_of_work(factory) as db:
            counts.alerts_raised = service.evaluate_alert_rules(db, now)
    except DBAPIError:
        # Another worker raised the same alert at the same moment; it is there once.
        log.warning("the scheduled alert rules clashed with another worker; they run next time")
        counts.errors += 1
    except Exception as exc:  # a fault there must not stop the reminders
        log.error("the scheduled alert rules failed: %s", type(exc).__name__)
        counts.errors += 1
    _plan(factory, settings, now, counts)
    _dispatch(factory, settings, now, counts, fault=fault, batch=batch, lease=lease)
    return counts.as_dict()


def _keep_partitions(factory: sessionmaker[Session], now: datetime, counts: RunCounts) -> None:
    """The coming years' partitions of the largest tables (PostgreSQL), made ahead."""
    try:
        with unit_of_work(factory) as db:
            report = ensure_partitions_on(db.connection(), now=now)
    except Exception as exc:  # a fault there must not stop the reminders
        log.error("making the coming years' partitions failed: %s", type(exc).__name__)
        counts.errors += 1
        return
    for name in report.created:
        log.info("created the partition %s", name)
    for name in report.left_in_default:
        log.warning("partition %s not created: its rows are in the default partition", name)


def _seal_audit(factory: sessionmaker[Session], counts: RunCounts) -> None:
    """Link the audit events written since the last run into the hash chain."""
    try:
        # a transaction per batch, so a backlog (a worker that was down) is not one
        # long transaction
        for _ in range(1_000):
            with unit_of_work(factory) as db:
                sealed = audit_service.seal(db, limit=audit_service.SEAL_BATCH)
            counts.audit_sealed += sealed
            if sealed < audit_service.SEAL_BATCH:
                break
    except Exception as exc:  # a fault there must not stop the reminders
        log.error("sealing the audit trail failed: %s", type(exc).__name__)
        counts.errors += 1


def _plan(
    factory: sessionmaker[Session], settings: Settings, now: datetime, counts: RunCounts
) -> None:
    with unit_of_work(factory) as db:
        ids = list(service.patient_ids(db))
    for patient_id in ids:
        try:
            with unit_of_work(factory) as db:
                planned = service.plan_patient(
                    db,
                    patient_id,
                    now,
                    default_timezone=settings.default_timezone,
                    email_possible=bool(settings.smtp_host),
                )
            counts.planned += planned.added
            counts.skipped += planned.skipped
        except Exception as exc:  # one patient's data must not stop everyone's reminders
            log.warning(
                "planning one patient's reminders failed (%s); next run retries", type(exc).__name__
            )
            counts.errors += 1


def _dispatch(
    factory: sessionmaker[Session],
    settings: Settings,
    now: datetime,
    counts: RunCounts,
    *,
    fault: Fault | None,
    batch: int,
    lease: timedelta,
) -> None:
    for _ in range(10_000):
        with unit_of_work(factory) as db:
            claimed = service.claim(
                db, now, limit=batch, lease=lease, email_possible=bool(settings.smtp_host)
            )
        counts.in_app_sent += claimed.in_app_sent
        counts.skipped += claimed.skipped
        if claimed.emails:
            _send(factory, settings, claimed.emails, now, counts, fault)
        if claimed.handled < batch:
            return


def _settle(
    factory: sessionmaker[Session],
    change: Callable[[Session], bool],
) -> bool:
    with unit_of_work(factory) as db:
        return change(db)


def _retry_all(
    factory: sessionmaker[Session],
    jobs: list[EmailJob],
    now: datetime,
    counts: RunCounts,
    reason: str,
) -> None:
    for job in jobs:
        _settle(factory, partial(service.retry_later, job=job, now=now, outcome=reason))
        counts.retrying += 1


def _send(
    factory: sessionmaker[Session],
    settings: Settings,
    jobs: list[EmailJob],
    now: datetime,
    counts: RunCounts,
    fault: Fault | None,
) -> None:
    base = mailer.link_base(settings)
    remaining = list(jobs)
    try:
        session = mailer.SmtpSession(settings).__enter__()
    except mailer.MailerError as exc:
        log.warning("reminder emails wait: %s", exc)
        _retry_all(factory, remaining, now, counts, str(exc))
        return
    with session:
        while remaining:
            job = remaining.pop(0)
            if fault:
                fault("claimed", job)
            try:
                session.envelope(job.to)
            except mailer.MailerError as exc:
                if exc.permanent:
                    _settle(
                        factory, partial(service.mark_failed, job=job, now=now, outcome=str(exc))
                    )
                    counts.failed += 1
                else:
                    _retry_all(factory, [job], now, counts, str(exc))
                if not session.connected:
                    _retry_all(factory, remaining, now, counts, "the mail server connection broke")
                    return
                continue
            msg_id = mailer.message_id(settings, job.reminder_id)
            handover = partial(service.start_handover, job=job, now=now, message_id=msg_id)
            if not _settle(factory, handover):
                # The lease ran out and another worker has this reminder now.
                session.reset()
                counts.taken_over += 1
                continue
            subject, body = domain.email_text(base, f"{base}/unsubscribe/{job.unsubscribe_token}")
            message = mailer.build_message(
                settings,
                to=job.to,
                subject=subject,
                body=body,
                msg_id=msg_id,
                unsubscribe_url=f"{base}/unsubscribe/{job.unsubscribe_token}",
            )
            if fault:
                fault("handing-over", job)
            try:
                session.hand_over(message)
            except mailer.Refused as exc:
                if exc.permanent:
                    _settle(
                        factory, partial(service.mark_failed, job=job, now=now, outcome=str(exc))
                    )
                    counts.failed += 1
                else:
                    _retry_all(factory, [job], now, counts, str(exc))
                continue
            except mailer.Ambiguous as exc:
                log.warning("a reminder email may not have arrived: %s", exc)
                _settle(factory, partial(service.mark_unknown, job=job, now=now, outcome=str(exc)))
                counts.unknown += 1
                _retry_all(factory, remaining, now, counts, "the mail server connection broke")
                return
            if fault:
                fault("handed-over", job)
            _settle(factory, partial(service.mark_sent, job=job, now=now))
            counts.emails_sent += 1


# ================================================================ running it


def run_forever(
    factory: sessionmaker[Session],
    settings: Settings,
    stop: threading.Event,
    *,
    interval: float = INTERVAL_SECONDS,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """Run every ``interval`` seconds until ``stop`` is set (a run in progress finishes)."""
    while not stop.is_set():
        try:
            counts = run_once(factory, settings, clock())
            if any(v for k, v in counts.items() if k != "planned"):
                log.info("reminders: %s", counts)
        except Exception as exc:  # the next tick tries again
            log.error("a reminders run failed: %s", type(exc).__name__)
        stop.wait(interval)


def start_in_process_worker(
    settings: Settings, engine: Engine, *, interval: float = INTERVAL_SECONDS
) -> Callable[[], None]:
    """Run the worker in a daemon thread of this process (``painpath serve``, ``make run``);
    returns the function that stops it."""
    factory = make_session_factory(engine)
    stop = threading.Event()
    thread = threading.Thread(
        target=run_forever,
        args=(factory, settings, stop),
        kwargs={"interval": interval},
        name="painpath-reminders",
        daemon=True,
    )
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(timeout=60)

    return halt
