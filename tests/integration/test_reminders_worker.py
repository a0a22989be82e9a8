"""The reminders worker against a real local SMTP server, on SQLite and PostgreSQL: a day
of reminders arrives, the same day again sends nothing new, missed runs catch up
sensibly, the clock changes keep the local time, and no email carries a health detail.

The helpers here (the SMTP inbox, the word list, the patient builder) are shared with
``tests/reliability/test_reminders_*.py``.
"""

from __future__ import annotations

import asyncio
import email
import re
import socket
import threading
import time as time_module
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from painpath import migrate
from painpath.alerts.models import Alert
from painpath.auth.domain import Role
from painpath.auth.models import User
from painpath.care.models import FollowUp, Notification
from painpath.config import Settings
from painpath.db import make_engine, make_session_factory
from painpath.demo.service import load_demo
from painpath.medication.domain.knowledge import load_knowledge
from painpath.medication.models import DoseStep, Prescription, TaperPlan
from painpath.reminders import domain
from painpath.reminders.models import Reminder, ReminderPreference
from painpath.reminders.worker import run_once, start_in_process_worker
from tests.conftest import Database, drop_database, fresh_database_url
from tests.factories import Person, in_care_team, person

LONDON_DAY = date(2026, 3, 10)  # a day far from either clock change

# ============================================================== shared helpers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Inbox:
    """What the local SMTP server received; ``refuse`` makes it answer DATA with 451."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refuse: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.refuse > 0:
                self.refuse -= 1
                return "451 Try again later"
            message = email.message_from_bytes(envelope.content, policy=default_policy)
            assert isinstance(message, EmailMessage)
            self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        with self.lock:
            return [str(m["Message-ID"]) for _, m in self.messages]

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for rcpt, m in self.messages if address in rcpt]


@dataclass
class Smtp:
    inbox: Inbox
    port: int
    controller: Controller

    def settings(self, url: str) -> Settings:
        return Settings(
            database_url=url,
            smtp_host="127.0.0.1",
            smtp_port=self.port,
            smtp_sender="PainPath <reminders@painpath.example>",
            smtp_link_base="https://painpath.example",
        )


def start_smtp(inbox: Inbox, port: int | None = None) -> Smtp:
    for _ in range(1 if port else 5):
        port = port or free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        try:
            controller.start()
        except (OSError, RuntimeError):  # the port was taken in between: try another
            port = None
            continue
        return Smtp(inbox, port, controller)
    raise RuntimeError("no free port for the test SMTP server")


@pytest.fixture()
def smtp() -> Iterator[Smtp]:
    server = start_smtp(Inbox())
    try:
        yield server
    finally:
        server.controller.stop()


_ = asyncio  # aiosmtpd runs its own event loop in a thread


def health_words() -> list[str]:
    """Every medicine name (with aliases and brands), condition and symptom PainPath
    knows about, to scan emails for."""
    kb = load_knowledge()
    words: set[str] = {
        "back pain",
        "sciatica",
        "chronic pain",
        "neuropathic",
        "lumbar",
        "radiculopathy",
        "dose",
        "doses",
        "mg",
        "capsule",
        "capsules",
        "tablet",
        "medicine",
        "medication",
        "prescription",
        "taper",
        "tapering",
        "withdrawal",
        "symptom",
        "symptoms",
        "side effect",
        "side effects",
        "questionnaire",
        "appointment",
        "follow-up",
        "alert",
    }
    for med in kb.medicines:
        words |= {med.name, med.display_name, *med.aliases, *med.brand_names}
        for rule in med.interactions:
            for member in rule.members:
                words |= {member.name, *member.aliases}
        for effect in med.adverse_effects:
            words |= {effect.name, *effect.terms}
        for rule in med.symptom_rules:
            words |= set(rule.terms)
        if med.withdrawal is not None:
            for entry in med.withdrawal.symptoms:
                for part in re.split(r"[(),]| or ", entry):
                    if part.strip():
                        words.add(part.strip())
    return sorted(w.lower() for w in words if len(w.strip()) >= 2)


def find_health_words(text: str, words: list[str]) -> list[str]:
    lowered = text.lower()
    return [w for w in words if re.search(rf"(?<![a-z0-9]){re.escape(w)}(?![a-z0-9])", lowered)]


def prescribe(
    db: Session,
    patient: Person,
    prescriber: Person,
    steps: list[tuple[date, int]],
    *,
    dose_times: list[str] | None = None,
    status: str = "active",
) -> uuid.UUID:
    assert patient.patient_id and prescriber.clinician_id
    rx = Prescription(
        id=uuid.uuid4(),
        patient_id=patient.patient_id,
        prescriber_id=prescriber.clinician_id,
        medicine="duloxetine",
        status=status,
        dose_times=dose_times if dose_times is not None else ["08:00"],
    )
    db.add(rx)
    db.flush()
    for start, dose in steps:
        db.add(DoseStep(prescription_id=rx.id, start=start, daily_dose_mg=Decimal(dose)))
    db.flush()
    return rx.id


def follow_up(db: Session, patient: Person, due: date, kind: str = "medication review") -> None:
    assert patient.patient_id
    db.add(FollowUp(id=uuid.uuid4(), patient_id=patient.patient_id, due=due, kind=kind))
    db.flush()


def set_preferences(db: Session, who: Person, **values: Any) -> None:
    db.add(ReminderPreference(user_id=who.user_id, **values))
    db.flush()


def run_day(
    factory: sessionmaker[Session], settings: Settings, start: datetime, hours: int, step: int
) -> list[dict[str, int]]:
    """Run the worker every ``step`` minutes for ``hours`` hours from ``start``."""
    return [
        run_once(factory, settings, start + timedelta(minutes=m))
        for m in range(0, hours * 60, step)
    ]


def sent_rows(db: Session, **where: Any) -> list[Reminder]:
    query = select(Reminder).where(Reminder.status == "sent")
    for key, value in where.items():
        query = query.where(getattr(Reminder, key) == value)
    return list(db.scalars(query).all())


def email_of(db: Session, user_id: uuid.UUID) -> str:
    found = db.get(User, user_id)
    assert found is not None
    return found.email


def check_emails_carry_no_health_details(inbox: Inbox, extra_words: list[str]) -> int:
    words = health_words() + [w.lower() for w in extra_words]
    checked = 0
    for _, message in inbox.messages:
        subject = str(message["Subject"])
        body = message.get_content()
        found = find_health_words(subject, words) + find_health_words(body, words)
        assert found == [], f"an email names {found}: {subject!r}"
        checked += 1
    return checked


# ================================================================== the tests


def test_a_day_of_demo_reminders_arrives_once_and_says_nothing_about_health(
    migrated_db: Database, session_factory: sessionmaker[Session], smtp: Smtp
) -> None:
    settings = smtp.settings(migrated_db.url)
    with session_factory() as db:
        accounts = load_demo(db, seed=7, today=LONDON_DAY, patients=10)
        db.commit()
    start = datetime.combine(LONDON_DAY, time(0, 0), tzinfo=UTC)  # GMT: local = UTC
    first = run_day(session_factory, settings, start, 24, 60)
    assert sum(c["emails_sent"] for c in first) > 0
    assert sum(c["errors"] + c["unknown"] + c["failed"] for c in first) == 0

    with session_factory() as db:
        emails = sent_rows(db, channel="email")
        in_app = sent_rows(db, channel="in-app")
        # Every email that left is one outbox row, and each arrived once.
        ids = smtp.inbox.message_ids()
        assert len(ids) == len(set(ids)) == len(emails)
        assert set(ids) == {r.message_id for r in emails}
        for row in emails:
            (message,) = [m for _, m in smtp.inbox.messages if m["Message-ID"] == row.message_id]
            assert str(message["To"]) == email_of(db, row.user_id)
            assert message["List-Unsubscribe"].startswith("<https://painpath.example/unsubscribe/")
        # Each in-app reminder is one notification.
        notes = db.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.kind.in_(domain.NOTIFICATION_KINDS))
        )
        assert notes == len(in_app)
        # Every demo patient on a course was reminded of their dose at 08:00, both ways.
        patients = [a for a in accounts if a["role"] == "patient"]
        on_course = 0
        for account in patients:
            user = db.scalars(select(User).where(User.email == account["email"])).one()
            doses = [r for r in sent_rows(db, user_id=user.id) if r.kind == domain.DOSE]
            if doses:
                on_course += 1
                assert {(r.channel, r.local_time) for r in doses} == {
                    ("in-app", f"{LONDON_DAY.isoformat()}T08:00"),
                    ("email", f"{LONDON_DAY.isoformat()}T08:00"),
                }
                assert all(r.sent_at == datetime(2026, 3, 10, 8, 0, tzinfo=UTC) for r in doses)
                assert len(smtp.inbox.to(account["email"])) >= 1
        assert on_course >= 5
        before = len(smtp.inbox.messages), notes
        names = [a["name"] for a in accounts]

    # The same day again: nothing new is planned, sent or shown.
    again = run_day(session_factory, settings, start, 24, 60)
    assert sum(c["planned"] + c["emails_sent"] + c["in_app_sent"] for c in again) == 0
    with session_factory() as db:
        notes = db.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.kind.in_(domain.NOTIFICATION_KINDS))
        )
    assert (len(smtp.inbox.messages), notes) == before
    assert check_emails_carry_no_health_details(smtp.inbox, names) == before[0]


def test_the_email_scan_finds_what_the_in_app_reminders_say(
    migrated_db: Database, session_factory: sessionmaker[Session], smtp: Smtp
) -> None:
    """The scan can fail: in the app the same reminders name the medicine, the dose and
    the withdrawal symptoms; the emails about them name none."""
    settings = smtp.settings(migrated_db.url)
    day = date(2026, 5, 4)
    with session_factory() as db:
        patient = person(db, Role.PATIENT, "Tess Taper")
        gp = person(db, Role.CLINICIAN, "Dr Step")
        in_care_team(db, patient, gp)
        rx = prescribe(
            db, patient, gp, [(date(2026, 3, 1), 60), (day, 30), (day + timedelta(14), 0)]
        )
        assert patient.patient_id
        db.add(
            TaperPlan(
                id=uuid.uuid4(),
                patient_id=patient.patient_id,
                prescription_id=rx,
                start=day,
                weeks=4,
                steps=[
                    {"start": day.isoformat(), "daily_dose_mg": "30"},
                    {"start": (day + timedelta(14)).isoformat(), "daily_dose_mg": "0"},
                ],
            )
        )
        follow_up(db, patient, day)
        db.commit()
    run_day(session_factory, settings, datetime(2026, 5, 3, 0, 0, tzinfo=UTC), 48, 60)
    words = health_words()
    with session_factory() as db:
        bodies = [
            n.title + " " + n.body
            for n in db.scalars(select(Notification).where(Notification.user_id == patient.user_id))
        ]
        kinds = {r.kind for r in sent_rows(db, user_id=patient.user_id, channel="email")}
    assert {domain.DOSE, domain.TAPER_STEP, domain.FOLLOW_UP_BEFORE, domain.FOLLOW_UP_DAY} <= kinds
    in_app_words = set().union(*(find_health_words(b, words) for b in bodies))
    assert {"duloxetine", "dizziness", "mg", "dose"} <= in_app_words
    taper_note = next(b for b in bodies if "goes down to 30 mg" in b)
    assert "tremor" in taper_note and "Source:" in taper_note
    assert check_emails_carry_no_health_details(smtp.inbox, ["Tess Taper", "Dr Step"]) >= 4


def test_missed_runs_catch_up_a_late_dose_reminder_is_skipped_a_follow_up_is_sent(
    migrated_db: Database, session_factory: sessionmaker[Session], smtp: Smtp
) -> None:
    settings = smtp.settings(migrated_db.url)
    day = date(2026, 6, 10)
    with session_factory() as db:
        patient = person(db, Role.PATIENT, "Late Larry")
        gp = person(db, Role.CLINICIAN, "Dr Late")
        in_care_team(db, patient, gp)
        prescribe(db, patient, gp, [(date(2026, 5, 1), 60)])
        follow_up(db, patient, day)
        db.commit()
    # The worker was down all morning: the first run is at 14:00 BST (13:00 UTC).
    counts = run_once(session_factory, settings, datetime(2026, 6, 10, 13, 0, tzinfo=UTC))
    assert counts["skipped"] >= 2
    with session_factory() as db:
        dose = db.scalars(
            select(Reminder).where(
                Reminder.user_id == patient.user_id,
                Reminder.kind == domain.DOSE,
                Reminder.local_time == "2026-06-10T08:00",
            )
        ).all()
        assert {(r.channel, r.status) for r in dose} == {
            ("in-app", "skipped"),
            ("email", "skipped"),
        }
        follow = sent_rows(db, user_id=patient.user_id, kind=domain.FOLLOW_UP_DAY)
        assert {r.channel for r in follow} == {"in-app", "email"}
        staff = sent_rows(db, user_id=gp.user_id, kind=domain.FOLLOW_UP_DAY)
        assert {r.channel for r in staff} == {"in-app", "email"}
    assert len(smtp.inbox.to(patient.email)) == 2  # day-before and on-the-day
    assert len(smtp.inbox.to(gp.email)) == 2


@pytest.mark.parametrize(
    ("day", "early_utc", "eight_utc"),
    [
        # Spring: 01:30 does not exist; it is sent at 02:00 BST = 01:00 UTC.
        (date(2026, 3, 29), datetime(2026, 3, 29, 1, 0, tzinfo=UTC), 7),
        # Autumn: 01:30 happens twice; it is sent once, at the first (00:30 UTC).
        (date(2026, 10, 25), datetime(2026, 10, 25, 0, 30, tzinfo=UTC), 8),
    ],
    ids=["march", "october"],
)
def test_reminders_keep_local_time_through_the_clock_change(
    migrated_db: Database,
    session_factory: sessionmaker[Session],
    smtp: Smtp,
    day: date,
    early_utc: datetime,
    eight_utc: int,
) -> None:
    settings = smtp.settings(migrated_db.url)
    with session_factory() as db:
        night = person(db, Role.PATIENT, "Night Owl")
        morning = person(db, Role.PATIENT, "Early Bird")
        gp = person(db, Role.CLINICIAN, "Dr Clock")
        for who in (night, morning):
            in_care_team(db, who, gp)
            prescribe(db, who, gp, [(date(2026, 1, 1), 60)])
        set_preferences(db, night, dose_times=["01:30"], quiet_start=None, quiet_end=None)
        db.commit()
    # Every 10 minutes from 22:00 UTC the evening before to 12:00 UTC on the day.
    start = datetime.combine(day - timedelta(days=1), time(22, 0), tzinfo=UTC)
    run_day(session_factory, settings, start, 14, 10)
    with session_factory() as db:
        early = [
            r
            for r in sent_rows(db, user_id=night.user_id, kind=domain.DOSE)
            if r.local_time == f"{day.isoformat()}T01:30"
        ]
        assert sorted(r.channel for r in early) == ["email", "in-app"]
        assert all(r.intended_at == early_utc and r.sent_at == early_utc for r in early)
        eight = [
            r
            for r in sent_rows(db, user_id=morning.user_id, kind=domain.DOSE)
            if r.local_time == f"{day.isoformat()}T08:00"
        ]
        expected = datetime.combine(day, time(eight_utc, 0), tzinfo=UTC)
        assert sorted(r.channel for r in eight) == ["email", "in-app"]
        assert all(r.sent_at == expected for r in eight)
        notes = db.scalars(
            select(Notification).where(
                Notification.user_id == night.user_id,
                Notification.kind == domain.notification_kind(domain.DOSE),
            )
        ).all()
        assert [n.created_at for n in notes] == [early_utc]
        dose_ids = {r.message_id for r in early + eight if r.channel == "email"}
        for who in (night, morning):
            assert len(smtp.inbox.to(who.email)) == len(
                sent_rows(db, user_id=who.user_id, channel="email")
            )
    arrived = [i for i in smtp.inbox.message_ids() if i in dose_ids]
    assert sorted(arrived) == sorted(dose_ids) and len(dose_ids) == 2


def test_an_unreachable_or_busy_mail_server_delays_emails_but_loses_none(
    migrated_db: Database, session_factory: sessionmaker[Session]
) -> None:
    inbox = Inbox()
    port = free_port()
    settings = Smtp(inbox, port, None).settings(migrated_db.url)  # type: ignore[arg-type]
    with session_factory() as db:
        patient = person(db, Role.PATIENT, "Patient Wait")
        gp = person(db, Role.CLINICIAN, "Dr Wait")
        in_care_team(db, patient, gp)
        follow_up(db, patient, date(2026, 7, 2))
        db.commit()
    at = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)  # 10:00 BST, after the 09:00 notice time
    down = run_once(session_factory, settings, at)
    assert down["emails_sent"] == 0 and down["retrying"] >= 2 and down["in_app_sent"] >= 2
    server = start_smtp(inbox, port)
    try:
        inbox.refuse = 1  # the first message is answered "451 try again later"
        busy = run_once(session_factory, settings, at + timedelta(minutes=3))
        assert busy["retrying"] >= 1
        later = run_once(session_factory, settings, at + timedelta(hours=2))
        assert later["emails_sent"] >= 1
    finally:
        server.controller.stop()
    ids = inbox.message_ids()
    assert len(ids) == len(set(ids))
    assert len(inbox.to(patient.email)) == 1 and len(inbox.to(gp.email)) == 1


def test_unsubscribing_from_an_email_link_stops_the_next_emails(
    migrated_db: Database, session_factory: sessionmaker[Session], smtp: Smtp
) -> None:
    from painpath.kit.records import Ctx
    from painpath.reminders import service

    settings = smtp.settings(migrated_db.url)
    with session_factory() as db:
        patient = person(db, Role.PATIENT, "Stop Emails")
        gp = person(db, Role.CLINICIAN, "Dr Stop")
        in_care_team(db, patient, gp)
        prescribe(db, patient, gp, [(date(2026, 1, 1), 60)])
        db.commit()
    run_once(session_factory, settings, datetime(2026, 2, 2, 8, 0, tzinfo=UTC))
    (message,) = smtp.inbox.to(patient.email)
    link = re.search(r"https://painpath\.example/unsubscribe/(\S+)", message.get_content())
    assert link is not None
    with session_factory() as db:
        service.unsubscribe(db, Ctx(now=datetime(2026, 2, 2, 9, 0, tzinfo=UTC)), link.group(1))
        db.commit()
    run_once(session_factory, settings, datetime(2026, 2, 3, 8, 0, tzinfo=UTC))
    assert len(smtp.inbox.to(patient.email)) == 1
    with session_factory() as db:
        in_app = sent_rows(db, user_id=patient.user_id, kind=domain.DOSE, channel="in-app")
        assert len(in_app) == 2  # reminders in the app go on
        # Yesterday's dose reminder no longer waits on the Today page: today's replaced it.
        unread = db.scalars(
            select(Notification.created_at).where(
                Notification.user_id == patient.user_id,
                Notification.kind == domain.notification_kind(domain.DOSE),
                Notification.read_at.is_(None),
            )
        ).all()
        assert unread == [datetime(2026, 2, 3, 8, 0, tzinfo=UTC)]


def test_the_in_process_worker_reminds_in_the_background_and_stops(
    backend: str, tmp_path: Path, smtp: Smtp
) -> None:
    """What ``painpath serve`` (``make run``) runs: a daemon thread on the real clock."""
    url, token = fresh_database_url(backend, tmp_path)
    migrate.upgrade(url)
    engine = make_engine(url, pool_size=5)
    factory = make_session_factory(engine)
    try:
        with factory() as db:
            patient = person(db, Role.PATIENT, "Background Check")
            gp = person(db, Role.CLINICIAN, "Dr Background")
            in_care_team(db, patient, gp)
            assert patient.patient_id
            db.add(
                Alert(
                    patient_id=patient.patient_id,
                    rule="side-effect",
                    cause_key="test:1",
                    urgency="urgent",
                    summary="Severe side effect reported.",
                    source="test",
                    created_at=datetime.now(UTC) - timedelta(hours=5),
                )
            )
            db.commit()
        stop = start_in_process_worker(smtp.settings(url), engine, interval=0.2)
        deadline = time_module.monotonic() + 30
        shown: list[Notification] = []
        while time_module.monotonic() < deadline and not shown:
            with factory() as db:
                shown = list(
                    db.scalars(
                        select(Notification).where(
                            Notification.user_id == gp.user_id,
                            Notification.kind == domain.notification_kind(domain.ALERT_ESCALATION),
                        )
                    ).all()
                )
            time_module.sleep(0.2)
        stop()
        assert len(shown) == 1
        assert "Not yet acknowledged: urgent alert for Background Check" in shown[0].title
        assert not [t for t in threading.enumerate() if t.name == "painpath-reminders"]
        assert len(smtp.inbox.to(gp.email)) == 1  # emails go out even in quiet hours
    finally:
        engine.dispose()
        drop_database(token)


def test_a_clinician_is_reminded_at_their_own_local_time(
    migrated_db: Database, session_factory: sessionmaker[Session], smtp: Smtp
) -> None:
    """The patient is in London; the GP works from New York and set that zone: the GP's
    on-the-day follow-up reminder comes at 09:00 New York time (13:00 UTC in June), the
    patient's at 09:00 London time (08:00 UTC)."""
    settings = smtp.settings(migrated_db.url)
    day = date(2026, 6, 10)
    with session_factory() as db:
        patient = person(db, Role.PATIENT, "Zoe Zone")
        gp = person(db, Role.CLINICIAN, "Dr Abroad")
        in_care_team(db, patient, gp)
        follow_up(db, patient, day)
        set_preferences(db, gp, timezone="America/New_York")
        db.commit()
    run_day(session_factory, settings, datetime(2026, 6, 10, 0, 0, tzinfo=UTC), 15, 30)
    with session_factory() as db:
        staff = sent_rows(db, user_id=gp.user_id, kind=domain.FOLLOW_UP_DAY)
        own = sent_rows(db, user_id=patient.user_id, kind=domain.FOLLOW_UP_DAY)
        assert {(r.timezone, r.local_time) for r in staff} == {
            ("America/New_York", "2026-06-10T09:00")
        }
        assert {r.intended_at for r in staff} == {datetime(2026, 6, 10, 13, 0, tzinfo=UTC)}
        assert {(r.timezone, r.intended_at) for r in own} == {
            ("Europe/London", datetime(2026, 6, 10, 8, 0, tzinfo=UTC))
        }
