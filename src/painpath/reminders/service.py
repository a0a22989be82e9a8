"""Reminders: people's choices (what, when, how), planning what is due into the outbox,
and the outbox's state changes the worker makes. Never commits: the caller's unit of
work (a request, or one short worker transaction) does.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from painpath.audit import service as audit
from painpath.auth.domain import Actor
from painpath.care.models import Notification, Patient
from painpath.care.repository import has_withdrawn_consent
from painpath.kit.errors import InvalidInput, NotFound, PainPathError, PreconditionFailed
from painpath.kit.records import Ctx, check_if_match, etag
from painpath.medication.domain.knowledge import MedicineKnowledge, load_knowledge
from painpath.medication.domain.schedule import RecordedStep, apply_dose_changes
from painpath.medication.models import DoseEvent, DoseStep, Prescription, TaperPlan
from painpath.reminders import domain, repository
from painpath.reminders.domain import Due, Preferences
from painpath.reminders.models import Reminder, ReminderPreference
from painpath.reminders.schemas import ReminderPreferencesRead, ReminderPreferencesUpdate

log = logging.getLogger("painpath.reminders")

PREFERENCES = "reminder-preferences"
LEASE = timedelta(minutes=5)
MAX_EMAIL_ATTEMPTS = 5

# ==================================================================== preferences


def preferences_of(row: ReminderPreference | None) -> Preferences:
    """The choices stored in ``row`` (the defaults when there is none)."""
    if row is None:
        return domain.DEFAULTS
    try:
        return domain.build_preferences(
            in_app=row.in_app,
            email=row.email,
            quiet_start=row.quiet_start,
            quiet_end=row.quiet_end,
            dose_times=list(row.dose_times or []),
            diary_time=row.diary_time,
            notice_time=row.notice_time,
            kinds_off=list(row.kinds_off or []),
            timezone=row.timezone,
        )
    except InvalidInput:
        log.warning("stored reminder preferences could not be read; using the defaults")
        return domain.DEFAULTS


def _read(row: ReminderPreference | None) -> ReminderPreferencesRead:
    prefs = preferences_of(row)
    return ReminderPreferencesRead(
        in_app=prefs.in_app,
        email=prefs.email,
        quiet_start=domain.hhmm(prefs.quiet_start) if prefs.quiet_start else None,
        quiet_end=domain.hhmm(prefs.quiet_end) if prefs.quiet_end else None,
        dose_times=[domain.hhmm(t) for t in prefs.dose_times],
        diary_time=domain.hhmm(prefs.diary_time),
        notice_time=domain.hhmm(prefs.notice_time),
        kinds_off=sorted(prefs.kinds_off),
        timezone=prefs.timezone,
        switchable_kinds=list(domain.SWITCHABLE_KINDS),
        is_default=row is None,
        version=row.version if row else 0,
    )


def preferences_etag(actor: Actor, version: int) -> str:
    return etag(actor.user_id, version)


def get_preferences(db: Session, actor: Actor, ctx: Ctx) -> ReminderPreferencesRead:
    """The signed-in person's reminder choices."""
    row = repository.preference(db, actor.user_id)
    audit.record(
        db,
        actor,
        action="read",
        resource_type=PREFERENCES,
        resource_id=str(actor.user_id),
        patient_id=actor.patient_id,
        request_id=ctx.request_id,
        now=ctx.now,
    )
    return _read(row)


def update_preferences(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    data: ReminderPreferencesUpdate,
    *,
    if_match: str | None,
) -> ReminderPreferencesRead:
    """Replace the signed-in person's reminder choices (If-Match: the ETag read last)."""
    row = repository.preference(db, actor.user_id)
    check_if_match(if_match, actor.user_id, row.version if row else 0)
    if actor.is_patient and (data.timezone or "").strip():
        raise InvalidInput(
            "your reminders follow the time zone on your record: ask your care team to change it",
            field="timezone",
        )
    prefs = domain.build_preferences(**data.model_dump())
    values: dict[str, Any] = {
        "in_app": prefs.in_app,
        "email": prefs.email,
        "quiet_start": domain.hhmm(prefs.quiet_start) if prefs.quiet_start else None,
        "quiet_end": domain.hhmm(prefs.quiet_end) if prefs.quiet_end else None,
        "dose_times": [domain.hhmm(t) for t in prefs.dose_times],
        "diary_time": domain.hhmm(prefs.diary_time),
        "notice_time": domain.hhmm(prefs.notice_time),
        "kinds_off": sorted(prefs.kinds_off),
        "timezone": prefs.timezone,
        "updated_at": ctx.now,
    }
    if row is None:
        row = ReminderPreference(id=uuid.uuid4(), user_id=actor.user_id, version=1, **values)
        db.add(row)
    else:
        if not repository.claim_preference_version(db, row.id, row.version):
            raise PreconditionFailed(
                "your reminder settings were changed somewhere else at the same moment: "
                "reload them and try again"
            )
        db.refresh(row)
        for key, value in values.items():
            setattr(row, key, value)
        if prefs.email:
            row.email_stopped_at = None
    db.flush()
    audit.record(
        db,
        actor,
        action="update",
        resource_type=PREFERENCES,
        resource_id=str(actor.user_id),
        patient_id=actor.patient_id,
        request_id=ctx.request_id,
        now=ctx.now,
        reason=f"in_app={prefs.in_app} email={prefs.email}",
    )
    return _read(row)


# -------------------------------------------------------------------- unsubscribe


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _unsubscribe_row(db: Session, token: str) -> Reminder:
    row = None
    if 20 <= len(token) <= 100:
        row = repository.by_unsubscribe_hash(db, token_digest(token))
    if row is None:
        raise NotFound(
            "this unsubscribe link does not work. Sign in to PainPath and change your "
            "reminders under Reminders instead."
        )
    return row


def check_unsubscribe(db: Session, token: str) -> None:
    """Whether an unsubscribe link is good (NotFound when not); nothing changes."""
    _unsubscribe_row(db, token)


def unsubscribe(db: Session, ctx: Ctx, token: str) -> None:
    """Stop reminder emails for the person an email's link was made for (no sign-in;
    the link's random token is stored only as a hash). Doing it twice is harmless."""
    row = _unsubscribe_row(db, token)
    pref = repository.preference(db, row.user_id)
    if pref is None:
        pref = ReminderPreference(id=uuid.uuid4(), user_id=row.user_id, version=1)
        db.add(pref)
    elif pref.email:
        pref.version += 1
    pref.email = False
    pref.email_stopped_at = pref.email_stopped_at or ctx.now
    pref.updated_at = ctx.now
    db.flush()
    audit.record(
        db,
        None,
        action="update",
        resource_type=PREFERENCES,
        resource_id=str(row.user_id),
        request_id=ctx.request_id,
        now=ctx.now,
        reason="email reminders stopped from an unsubscribe link",
    )


# ======================================================================= planning


def patient_ids(db: Session) -> Sequence[uuid.UUID]:
    return repository.patient_ids(db)


def _zone(name: str | None, default: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or default)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default)


def _medicine(name: str) -> MedicineKnowledge | None:
    med = load_knowledge().medicine(name)
    return med if med is not None and med.compiled else None


def _event_day(event: DoseEvent, tz: ZoneInfo) -> date:
    return event.scheduled_for or event.taken_at.astimezone(tz).date()


def _courses(
    db: Session,
    patient: Patient,
    tz: ZoneInfo,
    since: datetime,
    now: datetime,
) -> tuple[list[domain.Course], list[domain.TaperFacts], list[date]]:
    """Dose courses, active tapers and the days of recently missed doses."""
    live = repository.live_prescriptions(db, patient.id)
    ids = [rx.id for rx in live]
    steps: dict[uuid.UUID, list[DoseStep]] = defaultdict(list)
    for step in repository.dose_steps(db, ids):
        steps[step.prescription_id].append(step)
    events = repository.dose_events_between(
        db, patient.id, since - timedelta(days=domain.MISSED_NUDGE_DAYS + 1), now + timedelta(1)
    )
    logged: dict[uuid.UUID | None, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    missed: list[date] = []
    for event in events:
        rx_id = event.prescription_id if event.prescription_id in steps else None
        if rx_id is None and len(live) == 1:
            rx_id = live[0].id
        logged[rx_id][_event_day(event, tz)] += 1
        if event.status == "missed":
            missed.append(_event_day(event, tz))
    courses: list[domain.Course] = []
    schedules: dict[uuid.UUID, Any] = {}
    for rx in live:
        history = apply_dose_changes(
            [RecordedStep(s.start, Decimal(s.daily_dose_mg), s.created_at) for s in steps[rx.id]]
        )
        med = _medicine(rx.medicine)
        schedules[rx.id] = history.schedule
        courses.append(
            domain.Course(
                prescription_id=str(rx.id),
                name=med.display_name if med else rx.medicine,
                medicine=med,
                schedule=history.schedule,
                dose_times=_times(rx),
                logged=dict(logged.get(rx.id, {})),
            )
        )
    tapers = _tapers(db, live, schedules)
    return courses, tapers, missed


def _times(rx: Prescription) -> tuple[Any, ...]:
    out = []
    for text in rx.dose_times or []:
        try:
            out.append(domain.parse_hhmm(str(text), "dose_times"))
        except InvalidInput:
            continue
    return tuple(out)


def _tapers(
    db: Session, live: Sequence[Prescription], schedules: dict[uuid.UUID, Any]
) -> list[domain.TaperFacts]:
    by_id = {rx.id: rx for rx in live}
    out: list[domain.TaperFacts] = []
    for plan in repository.active_taper_plans(db, list(by_id)):
        schedule = schedules.get(plan.prescription_id)
        rx = by_id.get(plan.prescription_id)
        if schedule is None or rx is None:
            continue
        med = _medicine(rx.medicine)
        watch = None
        if med is not None and med.withdrawal is not None:
            watch = domain.WithdrawalWatch(
                med.withdrawal.symptoms, med.withdrawal.text, med.withdrawal.source
            )
        out.append(
            domain.TaperFacts(
                plan_id=str(plan.id),
                name=med.display_name if med else rx.medicine,
                step_starts=_step_starts(plan),
                schedule=schedule,
                watch=watch,
            )
        )
    return out


def _step_starts(plan: TaperPlan) -> tuple[date, ...]:
    starts: list[date] = []
    for step in plan.steps or []:
        try:
            starts.append(date.fromisoformat(str(step.get("start"))))
        except ValueError:
            continue
    return tuple(starts)


def _missed_advice(courses: Sequence[domain.Course]) -> domain.MissedDoseAdvice | None:
    for course in courses:
        rules = course.medicine.missed_dose if course.medicine else None
        if rules is not None:
            return domain.MissedDoseAdvice(f"{rules.once_daily} {rules.note}", rules.source)
    return None


def _questionnaires(
    db: Session, patient: Patient, prefs: Preferences, tz: ZoneInfo, today: date, now: datetime
) -> list[Due]:
    """Due questionnaires, asked for only around the notice time (it is several queries)."""
    at = domain.local_to_utc(today, prefs.notice_time, tz)
    if not at <= now <= at + domain.QUESTIONNAIRE_LATE_LIMIT:
        return []
    try:
        from painpath.questionnaires.service import due_questionnaires
    except ImportError:  # pragma: no cover - the questionnaires area always has it now
        return []
    try:
        with db.begin_nested():
            items = due_questionnaires(db, patient.id, today)
    except PainPathError:
        return []
    except Exception as exc:  # the other reminders go on without them
        log.warning("due questionnaires could not be read: %s", type(exc).__name__)
        return []
    due = [
        domain.QuestionnaireDue(str(i["code"]), str(i.get("title") or i["name"]), i["due"])
        for i in items
        if isinstance(i.get("due"), date)
    ]
    return domain.questionnaire_reminders(due, prefs, tz, today=today, now=now)


def _last_nudge(db: Session, user_id: uuid.UUID) -> date | None:
    subject = repository.latest_subject(db, user_id, domain.MISSED_DOSES)
    if not subject:
        return None
    try:
        return date.fromisoformat(subject.rsplit(":", 1)[-1])
    except ValueError:
        return None


def _row(
    due: Due,
    planned: domain.Planned,
    *,
    user_id: uuid.UUID,
    patient_id: uuid.UUID,
    tz: ZoneInfo,
    now: datetime,
) -> dict[str, Any]:
    in_app = planned.channel == domain.IN_APP
    return {
        "id": uuid.uuid4(),
        "dedupe_key": planned.dedupe_key,
        "user_id": user_id,
        "patient_id": patient_id,
        "kind": due.kind,
        "subject": due.subject[:100],
        "channel": planned.channel,
        "local_time": due.local,
        "timezone": tz.key,
        "intended_at": due.intended,
        "due_at": planned.due_at,
        "expires_at": planned.expires_at,
        "status": planned.status,
        "title": due.title[:200] if in_app else "",
        "body": due.body if in_app else "",
        "link": due.link if in_app else None,
        "attempts": 0,
        "outcome": planned.outcome,
        "created_at": now,
        "updated_at": now,
    }


@dataclass(frozen=True)
class Planned:
    added: int
    skipped: int


def plan_patient(
    db: Session,
    patient_id: uuid.UUID,
    now: datetime,
    *,
    default_timezone: str,
    email_possible: bool,
) -> Planned:
    """Write into the outbox every reminder about one patient that is due by ``now``
    (to the patient and to the clinicians of their care team): how many rows are new,
    and how many of them were already too late (recorded as skipped). Running it again
    for the same moment adds nothing."""
    patient = repository.patient(db, patient_id)
    if patient is None:
        return Planned(0, 0)
    tz = _zone(patient.timezone, default_timezone)
    since = now - domain.LOOKBACK
    today = now.astimezone(tz).date()
    team = repository.care_team_users(db, patient.id)
    patient_user = repository.user(db, patient.user_id) if patient.user_id else None
    if patient_user is not None and not patient_user.is_active:
        patient_user = None
    if patient_user is not None and has_withdrawn_consent(db, patient.id):
        patient_user = None  # no more reminders to someone who withdrew their consent
    people = [u.id for _, u in team] + ([patient_user.id] if patient_user else [])
    stored = repository.preferences(db, people)
    follow_ups = [
        domain.FollowUpFacts(str(f.id), f.due, f.kind, f.status, patient.name)
        for f in repository.scheduled_follow_ups(db, patient.id)
    ]
    wanted: list[tuple[Due, domain.Planned, uuid.UUID, ZoneInfo]] = []

    def fan_out(
        dues: Sequence[Due], user_id: uuid.UUID, prefs: Preferences, zone: ZoneInfo
    ) -> None:
        for due in dues:
            for planned in domain.deliveries(
                due,
                recipient=str(user_id),
                prefs=prefs,
                tz=zone,
                now=now,
                email_possible=email_possible,
            ):
                wanted.append((due, planned, user_id, zone))

    if patient_user is not None:
        prefs = preferences_of(stored.get(patient_user.id))
        courses, tapers, missed = _courses(db, patient, tz, since, now)
        dues: list[Due] = []
        for course in courses:
            dues += domain.dose_reminders(course, prefs, tz, since=since, now=now)
        written = repository.diary_dates(db, patient.id, today - timedelta(days=2), today)
        dues += domain.diary_reminders(
            str(patient.id), prefs, tz, since=since, now=now, written=written
        )
        dues += _questionnaires(db, patient, prefs, tz, today, now)
        for follow_up in follow_ups:
            dues += domain.follow_up_reminders(follow_up, prefs, tz, now=now, for_clinician=False)
        for taper in tapers:
            dues += domain.taper_reminders(taper, prefs, tz, now=now)
        if courses:
            dues += domain.missed_dose_nudge(
                str(patient.id),
                missed,
                prefs,
                tz,
                today=today,
                now=now,
                last_nudge=_last_nudge(db, patient_user.id),
                advice=_missed_advice(courses),
            )
        fan_out(dues, patient_user.id, prefs, tz)
    if team:
        alerts = [
            domain.AlertFacts(str(a.id), a.urgency, a.status, a.created_at, a.summary, patient.name)
            for a in repository.open_alerts(db, patient.id, list(domain.ESCALATE_AFTER))
        ]
        for _clinician, staff in team:
            prefs = preferences_of(stored.get(staff.id))
            staff_tz = _zone(prefs.timezone or default_timezone, "Europe/London")
            dues = []
            for follow_up in follow_ups:
                dues += domain.follow_up_reminders(
                    follow_up, prefs, staff_tz, now=now, for_clinician=True
                )
            for alert in alerts:
                dues += domain.alert_escalations(alert, staff_tz, now=now)
            fan_out(dues, staff.id, prefs, staff_tz)
    if not wanted:
        return Planned(0, 0)
    known = repository.existing_keys(db, [p.dedupe_key for _, p, _, _ in wanted])
    rows = [
        _row(due, planned, user_id=uid, patient_id=patient.id, tz=zone, now=now)
        for due, planned, uid, zone in wanted
        if planned.dedupe_key not in known
    ]
    added = repository.insert_reminders(db, rows)
    late = sum(1 for r in rows if r["status"] == domain.SKIPPED)
    return Planned(added, min(late, added))


def evaluate_alert_rules(db: Session, now: datetime) -> int:
    """The alert rules that run on a schedule (missed doses, overdue follow-ups)."""
    from painpath.alerts import service as alerts_service

    run = getattr(alerts_service, "evaluate_scheduled_rules", None)
    if run is None:  # pragma: no cover - present in the alerts area
        return 0
    return int(run(db, now))


# ================================================================ the outbox


@dataclass(frozen=True)
class EmailJob:
    """An email a worker has claimed: where it goes, and the link to stop them."""

    reminder_id: uuid.UUID
    claim_token: str
    to: str
    unsubscribe_token: str
    attempts: int


@dataclass
class Claimed:
    in_app_sent: int = 0
    skipped: int = 0
    emails: list[EmailJob] | None = None

    @property
    def handled(self) -> int:
        return self.in_app_sent + self.skipped + len(self.emails or [])


RELEASED = "released after its lease ran out before the mail server had it; sent again"
GAVE_UP = (
    "the worker stopped while handing the email to the mail server: it may have been "
    "delivered, so it is not sent again (at most once)"
)


def recover(db: Session, now: datetime) -> tuple[int, int]:
    """Rows of workers that stopped: (claims released to be sent, handovers given up)."""
    released = repository.release_expired_claims(db, now, RELEASED)
    unknown = repository.give_up_expired_handovers(db, now, GAVE_UP)
    if unknown:
        log.warning("%d reminder emails were being handed over when a worker stopped", unknown)
    return released, unknown


def _skip(row: Reminder, now: datetime, outcome: str) -> None:
    row.status, row.outcome, row.updated_at = domain.SKIPPED, outcome, now


def claim(
    db: Session,
    now: datetime,
    *,
    limit: int,
    lease: timedelta = LEASE,
    email_possible: bool = True,
) -> Claimed:
    """Take up to ``limit`` due rows. In-app reminders are delivered right here, in the
    same transaction that marks them sent (so exactly once); late or switched-off ones
    are skipped; emails are claimed under a lease for the caller to send."""
    rows = repository.claim_due(db, now, limit)
    result = Claimed(emails=[])
    if not rows:
        return result
    people = repository.users(db, {r.user_id for r in rows})
    stored = repository.preferences(db, people)
    for row in rows:
        person = people.get(row.user_id)
        prefs = preferences_of(stored.get(row.user_id))
        urgent = row.kind == domain.ALERT_ESCALATION
        if now > row.expires_at:
            _skip(row, now, "too late: the moment had passed when the worker ran")
        elif person is None or not person.is_active:
            _skip(row, now, "the account is closed")
        elif row.channel == domain.IN_APP:
            if not prefs.in_app and not urgent:
                _skip(row, now, "in-app reminders switched off")
                result.skipped += 1
                continue
            if row.kind in domain.SUPERSEDED_KINDS:
                repository.supersede_notifications(
                    db, row.user_id, domain.notification_kind(row.kind), now
                )
            db.add(
                Notification(
                    id=uuid.uuid4(),
                    user_id=row.user_id,
                    patient_id=row.patient_id,
                    kind=domain.notification_kind(row.kind),
                    title=row.title,
                    body=row.body,
                    link=row.link,
                    created_at=now,
                )
            )
            row.status, row.sent_at, row.updated_at = domain.SENT, now, now
            result.in_app_sent += 1
            continue
        elif not prefs.email:
            _skip(row, now, "email reminders switched off")
        elif not email_possible:
            _skip(row, now, "no mail server is configured")
        elif not person.email:
            _skip(row, now, "no email address")
        else:
            token = secrets.token_urlsafe(32)
            row.status = domain.CLAIMED
            row.claim_token = secrets.token_hex(16)
            row.lease_until = now + lease
            row.attempts += 1
            row.unsubscribe_hash = token_digest(token)
            row.updated_at = now
            assert result.emails is not None  # noqa: S101 - set above
            result.emails.append(
                EmailJob(row.id, row.claim_token, person.email, token, row.attempts)
            )
            continue
        result.skipped += 1
    db.flush()
    return result


def start_handover(db: Session, job: EmailJob, now: datetime, message_id: str) -> bool:
    """Record, before the message goes to the mail server, that it is being handed
    over. False when this worker's claim was taken over (then it must not send)."""
    return repository.move(
        db,
        job.reminder_id,
        job.claim_token,
        (domain.CLAIMED,),
        status=domain.SENDING,
        message_id=message_id,
        updated_at=now,
    )


def mark_sent(db: Session, job: EmailJob, now: datetime) -> bool:
    """The mail server accepted the message."""
    return repository.move(
        db,
        job.reminder_id,
        job.claim_token,
        (domain.SENDING, domain.UNKNOWN),
        status=domain.SENT,
        sent_at=now,
        outcome=None,
        updated_at=now,
    )


def retry_later(db: Session, job: EmailJob, now: datetime, outcome: str) -> bool:
    """Known not delivered (the server was unreachable or said "try later"): pending
    again after a pause, or failed after ``MAX_EMAIL_ATTEMPTS``."""
    if job.attempts >= MAX_EMAIL_ATTEMPTS:
        return mark_failed(db, job, now, f"{outcome}; gave up after {job.attempts} attempts")
    pause = timedelta(minutes=2 ** min(job.attempts, 6))
    return repository.move(
        db,
        job.reminder_id,
        job.claim_token,
        (domain.CLAIMED, domain.SENDING),
        status=domain.PENDING,
        due_at=now + pause,
        claim_token=None,
        lease_until=None,
        outcome=outcome[:200],
        updated_at=now,
    )


def mark_failed(db: Session, job: EmailJob, now: datetime, outcome: str) -> bool:
    """Refused for good by the mail server (for example an address it does not know)."""
    return repository.move(
        db,
        job.reminder_id,
        job.claim_token,
        (domain.CLAIMED, domain.SENDING),
        status=domain.FAILED,
        outcome=outcome[:200],
        updated_at=now,
    )


def mark_unknown(db: Session, job: EmailJob, now: datetime, outcome: str) -> bool:
    """The connection broke while the message was being handed over: it may or may not
    have been delivered, so it is never sent again."""
    return repository.move(
        db,
        job.reminder_id,
        job.claim_token,
        (domain.SENDING,),
        status=domain.UNKNOWN,
        outcome=outcome[:200],
        updated_at=now,
    )


def outbox_counts(db: Session) -> dict[str, int]:
    return repository.status_counts(db)
