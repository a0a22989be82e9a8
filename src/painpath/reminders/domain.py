"""What gets reminded when (pure): given a person's data, their preferences, their time
zone and ``now``, the reminders that are due, at the intended local wall-clock time.

Time: a reminder falls at a local wall-clock time (``local_to_utc``). A time inside the
spring-forward gap moves to the first valid time after it (01:30 on the last Sunday of
March in London becomes 02:00 BST); a time in the repeated autumn hour is the first
occurrence (fold=0), and since the outbox's dedupe key holds the wall-clock time, not
the instant, it is sent once.

Catch-up: each reminder has a moment after which it is no longer useful (``expires``).
A dose reminder more than ``DOSE_LATE_LIMIT`` late is recorded as skipped, never sent;
a follow-up reminder stays useful until the end of the appointment day.

Timing rules marked "design choice" have no clinical source: they are PainPath's
defaults and need sign-off from the clinical safety officer before live use.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from painpath.alerts.domain import FOLLOW_UP_GRACE_DAYS
from painpath.kit.errors import InvalidInput, Problem
from painpath.medication.domain.knowledge import MedicineKnowledge
from painpath.medication.domain.schedule import Schedule, format_mg, planned_dose, todays_dose

# ------------------------------------------------------------------ kinds, channels

DOSE = "dose"
DIARY = "diary"
QUESTIONNAIRE = "questionnaire"
FOLLOW_UP_BEFORE = "follow-up-before"
FOLLOW_UP_DAY = "follow-up-day"
FOLLOW_UP_OVERDUE = "follow-up-overdue"
TAPER_STEP = "taper-step"
MISSED_DOSES = "missed-doses"
ALERT_ESCALATION = "alert-escalation"
KINDS = (
    DOSE,
    DIARY,
    QUESTIONNAIRE,
    FOLLOW_UP_BEFORE,
    FOLLOW_UP_DAY,
    FOLLOW_UP_OVERDUE,
    TAPER_STEP,
    MISSED_DOSES,
    ALERT_ESCALATION,
)
# What a person may switch off; the others carry safety information (a dose going
# down, an appointment, an alert nobody has looked at) and stay on.
SWITCHABLE_KINDS = (DOSE, DIARY, QUESTIONNAIRE)

# A new in-app reminder of these kinds replaces the person's older unread one (yesterday's
# dose reminder is no longer news, and should not push real messages off the Today page).
SUPERSEDED_KINDS = (DOSE, DIARY)

IN_APP = "in-app"
EMAIL = "email"
CHANNELS = (IN_APP, EMAIL)

PENDING = "pending"
CLAIMED = "claimed"
SENDING = "sending"
SENT = "sent"
SKIPPED = "skipped"
FAILED = "failed"
UNKNOWN = "unknown"
STATUSES = (PENDING, CLAIMED, SENDING, SENT, SKIPPED, FAILED, UNKNOWN)

# ------------------------------------------------------------- timing (design choices)

# How far back each run looks for reminders that should have happened (covers a worker
# that was down for a day; anything older than this is not even recorded as skipped).
LOOKBACK = timedelta(hours=26)
# A dose reminder more than 2 hours late is skipped: by then the patient has either
# taken it or needs the missed-dose advice, not a prompt (design choice).
DOSE_LATE_LIMIT = timedelta(hours=2)
DIARY_LATE_LIMIT = timedelta(hours=4)
QUESTIONNAIRE_LATE_LIMIT = timedelta(hours=12)
MISSED_NUDGE_LATE_LIMIT = timedelta(hours=24)
OVERDUE_LATE_LIMIT = timedelta(days=7)
ESCALATION_LATE_LIMIT = timedelta(days=7)
# A gentle nudge after 2 missed doses within 3 days, at most once every 3 days (design
# choice; the alerts area separately tells the care team about repeated missed doses).
MISSED_NUDGE_COUNT = 2
MISSED_NUDGE_DAYS = 3
# An urgent or emergency alert still open (not acknowledged) this long after it was raised
# is escalated to every clinician in the care team. Design choices needing clinical
# sign-off: the security and reliability battery leaves the interval to the CSO.
ESCALATE_AFTER: Mapping[str, timedelta] = {
    "emergency": timedelta(minutes=30),
    "urgent": timedelta(hours=4),
}
# A follow-up still "scheduled" this many days after its date is overdue (the same
# grace the alerts area uses for its overdue follow-up alert).
FOLLOW_UP_OVERDUE_DAYS = FOLLOW_UP_GRACE_DAYS

DEFAULT_DOSE_TIME = time(8, 0)
DEFAULT_DIARY_TIME = time(19, 0)
DEFAULT_NOTICE_TIME = time(9, 0)
DEFAULT_QUIET_START = time(22, 0)
DEFAULT_QUIET_END = time(7, 0)
MAX_DOSE_TIMES = 4

NOTIFICATION_PREFIX = "reminder-"


def notification_kind(kind: str) -> str:
    """The ``Notification.kind`` of an in-app reminder, e.g. ``reminder-dose``."""
    return f"{NOTIFICATION_PREFIX}{kind}"


NOTIFICATION_KINDS = tuple(notification_kind(k) for k in KINDS)

# ------------------------------------------------------------------------ preferences

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_hhmm(text: str, field: str) -> time:
    """A local time of day from ``HH:MM`` (24-hour clock)."""
    match = _HHMM.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise InvalidInput(
            f"{text!r} is not a time: use the 24-hour clock, HH:MM (for example 08:00)",
            field=field,
        )
    return time(int(match.group(1)), int(match.group(2)))


def hhmm(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


@dataclass(frozen=True)
class Preferences:
    """One person's reminder choices (the defaults: everything on, no email at night)."""

    in_app: bool = True
    email: bool = True
    quiet_start: time | None = DEFAULT_QUIET_START
    quiet_end: time | None = DEFAULT_QUIET_END
    dose_times: tuple[time, ...] = ()
    diary_time: time = DEFAULT_DIARY_TIME
    notice_time: time = DEFAULT_NOTICE_TIME
    kinds_off: frozenset[str] = field(default_factory=frozenset)
    timezone: str | None = None  # a clinician's own zone (None: the default)


DEFAULTS = Preferences()


def is_time_zone(name: str) -> bool:
    """An IANA time zone name the system knows (Europe/London, America/New_York...)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return "/" in name or name == "UTC"


def build_preferences(
    *,
    in_app: bool,
    email: bool,
    quiet_start: str | None,
    quiet_end: str | None,
    dose_times: Sequence[str],
    diary_time: str,
    notice_time: str,
    kinds_off: Iterable[str],
    timezone: str | None = None,
) -> Preferences:
    """Check and build preferences from their stored or submitted form; every problem
    names its field."""
    problems: list[Problem] = []

    def parse(text: str, name: str) -> time | None:
        try:
            return parse_hhmm(text, name)
        except InvalidInput as exc:
            problems.extend(exc.problems)
            return None

    start = parse(quiet_start, "quiet_start") if quiet_start else None
    end = parse(quiet_end, "quiet_end") if quiet_end else None
    if bool(quiet_start) != bool(quiet_end):
        missing = "quiet_end" if quiet_start else "quiet_start"
        problems.append(
            Problem(missing, "give both the start and the end of quiet hours, or neither")
        )
    elif start is not None and start == end:
        problems.append(Problem("quiet_end", "quiet hours must end at a different time"))
    times: list[time] = []
    if len(dose_times) > MAX_DOSE_TIMES:
        problems.append(Problem("dose_times", f"give at most {MAX_DOSE_TIMES} dose times"))
    for i, text in enumerate(dose_times):
        parsed = parse(text, f"dose_times[{i}]")
        if parsed is not None:
            if parsed in times:
                problems.append(Problem(f"dose_times[{i}]", "this time is given twice"))
            times.append(parsed)
    diary = parse(diary_time, "diary_time")
    notice = parse(notice_time, "notice_time")
    off = frozenset(kinds_off)
    unknown = sorted(off - set(SWITCHABLE_KINDS))
    if unknown:
        problems.append(
            Problem(
                "kinds_off",
                f"only these reminders can be switched off: {', '.join(SWITCHABLE_KINDS)} "
                f"(not {', '.join(unknown)})",
            )
        )
    zone = (timezone or "").strip() or None
    if zone is not None and not is_time_zone(zone):
        problems.append(
            Problem(
                "timezone",
                f"unknown time zone {zone[:64]!r}: use a name such as Europe/London or "
                "America/New_York, or leave it empty for the default",
            )
        )
    if problems or diary is None or notice is None:
        raise InvalidInput("the reminder settings are not valid", problems)
    return Preferences(
        in_app=in_app,
        email=email,
        quiet_start=start,
        quiet_end=end,
        dose_times=tuple(sorted(times)),
        diary_time=diary,
        notice_time=notice,
        kinds_off=off,
        timezone=zone,
    )


# ----------------------------------------------------------------------- local time


def local_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The instant the wall clock in ``tz`` shows ``at`` on ``day``.

    In the spring-forward gap the time does not exist: the first valid wall-clock time
    after it is used (the end of the gap). In the repeated autumn hour the first
    occurrence is used (fold=0).
    """
    wall = datetime.combine(day, at)
    for minute in range(0, 24 * 60):
        candidate = wall + timedelta(minutes=minute)
        instant = candidate.replace(tzinfo=tz).astimezone(UTC)
        if instant.astimezone(tz).replace(tzinfo=None) == candidate:
            return instant
    raise ValueError(
        f"no valid local time after {wall.isoformat()} in {tz.key}"
    )  # pragma: no cover


def local_label(day: date, at: time) -> str:
    """The intended wall-clock time, as the outbox keeps it: ``YYYY-MM-DDTHH:MM``."""
    return f"{day.isoformat()}T{hhmm(at)}"


def local_dates(first: datetime, last: datetime, tz: ZoneInfo) -> list[date]:
    """Every local date from the one ``first`` falls on to the one ``last`` falls on."""
    day, end = first.astimezone(tz).date(), last.astimezone(tz).date()
    out: list[date] = []
    while day <= end:
        out.append(day)
        day += timedelta(days=1)
    return out


def after_quiet_hours(moment: datetime, prefs: Preferences, tz: ZoneInfo) -> datetime:
    """``moment``, or the end of the person's quiet hours when it falls inside them."""
    start, end = prefs.quiet_start, prefs.quiet_end
    if start is None or end is None or start == end:
        return moment
    local = moment.astimezone(tz)
    now = local.time().replace(tzinfo=None)
    if start < end:
        quiet, end_day = start <= now < end, local.date()
    else:  # over midnight, e.g. 22:00-07:00
        quiet = now >= start or now < end
        end_day = local.date() + timedelta(days=1) if now >= start else local.date()
    if not quiet:
        return moment
    return max(moment, local_to_utc(end_day, end, tz))


# --------------------------------------------------------------- due and planned


@dataclass(frozen=True)
class Due:
    """A reminder a person should get: what (kind, subject), when, and what it says in the
    app. ``urgent`` ones ignore quiet hours and the in-app switch."""

    kind: str
    subject: str
    local: str
    intended: datetime
    expires: datetime
    title: str
    body: str
    link: str
    urgent: bool = False


@dataclass(frozen=True)
class Planned:
    """One outbox row to write: a due reminder on one channel."""

    dedupe_key: str
    channel: str
    due_at: datetime
    expires_at: datetime
    status: str
    outcome: str | None


def dedupe_key(due: Due, recipient: str, channel: str) -> str:
    """Unique per (person, channel, kind, subject, intended local date and time)."""
    return f"{due.kind}|{due.subject}|{due.local}|{recipient}|{channel}"


def deliveries(
    due: Due,
    *,
    recipient: str,
    prefs: Preferences,
    tz: ZoneInfo,
    now: datetime,
    email_possible: bool,
) -> list[Planned]:
    """The outbox rows for ``due`` and one person, following their preferences.

    In-app reminders are silent, so they appear at the intended time; emails wait for
    the end of quiet hours (and are skipped if that is too late). Reminders already too
    late are recorded as skipped, unless older than ``LOOKBACK`` (not recorded at all).
    """
    if due.kind in prefs.kinds_off and due.kind in SWITCHABLE_KINDS:
        return []
    late = now > due.expires
    if late and due.intended < now - LOOKBACK:
        return []
    status, outcome = (
        (SKIPPED, "too late: the worker did not run in time")
        if late
        else (
            PENDING,
            None,
        )
    )
    out: list[Planned] = []
    if prefs.in_app or due.urgent:
        out.append(
            Planned(
                dedupe_key(due, recipient, IN_APP),
                IN_APP,
                due.intended,
                due.expires,
                status,
                outcome,
            )
        )
    if prefs.email and email_possible:
        at = due.intended if due.urgent else after_quiet_hours(due.intended, prefs, tz)
        email_status, email_outcome = status, outcome
        if not late and at > due.expires:
            email_status, email_outcome = SKIPPED, "quiet hours last past the useful time"
        out.append(
            Planned(
                dedupe_key(due, recipient, EMAIL),
                EMAIL,
                at,
                due.expires,
                email_status,
                email_outcome,
            )
        )
    return out


# ----------------------------------------------------------------------- dose reminders


@dataclass(frozen=True)
class Course:
    """A prescription being taken or tapered, as the dose reminders need it."""

    prescription_id: str
    name: str
    medicine: MedicineKnowledge | None
    schedule: Schedule | None
    dose_times: tuple[time, ...] = ()
    logged: Mapping[date, int] = field(default_factory=dict)


def dose_times_for(chosen: Sequence[time], times_per_day: int) -> tuple[time, ...]:
    """The local times of a day's doses: the chosen ones (as many as the regimen needs),
    filled up with evenly spaced times after the first (08:00 when none was chosen)."""
    count = max(1, times_per_day)
    picked = sorted(set(chosen))[:count]
    first = picked[0] if picked else DEFAULT_DOSE_TIME
    if not picked:
        picked = [first]
    step = timedelta(hours=24 / count)
    n = 1
    while len(picked) < count:
        extra = (datetime.combine(date(2000, 1, 1), first) + step * n).time()
        if extra not in picked:
            picked.append(extra)
        n += 1
    return tuple(sorted(picked))


def _dose_body(course: Course, day: date, dose: Decimal, before: Decimal) -> tuple[str, int]:
    if course.medicine is not None and course.schedule is not None:
        plan = todays_dose(course.schedule, day, course.medicine)
        per_day = plan.regimen.times_per_day if plan.regimen else 1
        how = plan.instructions
    else:
        per_day = 1
        how = f"Take your {course.name} as prescribed."
    parts: list[str] = []
    if before > 0 and dose != before:
        parts.append(
            f"Your dose changes today: {format_mg(dose)} mg a day (it was {format_mg(before)} mg)."
        )
    parts.append(f"Today's dose: {format_mg(dose)} mg a day. {how}")
    parts.append("When you have taken it, record it in PainPath.")
    return " ".join(parts), per_day


def dose_reminders(
    course: Course,
    prefs: Preferences,
    tz: ZoneInfo,
    *,
    since: datetime,
    now: datetime,
) -> list[Due]:
    """Dose reminders at the chosen local times on each day a dose is planned; the dose
    in the reminder is the one planned for that day, so it changes on the day a step
    (titration or taper) changes. A slot already logged that day is not reminded."""
    if course.schedule is None:
        return []
    out: list[Due] = []
    for day in local_dates(since, now, tz):
        dose = planned_dose(course.schedule, day)
        if dose <= 0:
            continue
        before = planned_dose(course.schedule, day - timedelta(days=1))
        body, per_day = _dose_body(course, day, dose, before)
        times = dose_times_for(prefs.dose_times or course.dose_times, per_day)
        for slot, at in enumerate(times):
            intended = local_to_utc(day, at, tz)
            if not since <= intended <= now or course.logged.get(day, 0) > slot:
                continue
            text = body if len(times) == 1 else f"Dose {slot + 1} of {len(times)} today. {body}"
            out.append(
                Due(
                    DOSE,
                    course.prescription_id,
                    local_label(day, at),
                    intended,
                    intended + DOSE_LATE_LIMIT,
                    f"Time for your {course.name}",
                    text,
                    "/medicine",
                )
            )
    return out


# ---------------------------------------------------------------------- diary


def diary_reminders(
    patient_id: str,
    prefs: Preferences,
    tz: ZoneInfo,
    *,
    since: datetime,
    now: datetime,
    written: Collection[date],
) -> list[Due]:
    """An evening reminder for each day without a diary entry."""
    out: list[Due] = []
    for day in local_dates(since, now, tz):
        intended = local_to_utc(day, prefs.diary_time, tz)
        if day in written or not since <= intended <= now:
            continue
        out.append(
            Due(
                DIARY,
                patient_id,
                local_label(day, prefs.diary_time),
                intended,
                intended + DIARY_LATE_LIMIT,
                "Time for your diary",
                "How was today? Filling in your diary takes about a minute, and it helps you "
                "and your care team see whether the treatment is working.",
                "/diary",
            )
        )
    return out


# ---------------------------------------------------------------------- questionnaires


@dataclass(frozen=True)
class QuestionnaireDue:
    code: str
    title: str
    due: date


def questionnaire_reminders(
    items: Iterable[QuestionnaireDue],
    prefs: Preferences,
    tz: ZoneInfo,
    *,
    today: date,
    now: datetime,
) -> list[Due]:
    """One reminder per questionnaire occasion, at the person's notice time on the first
    day it is seen due (the key holds the occasion's due date, so it is sent once)."""
    intended = local_to_utc(today, prefs.notice_time, tz)
    if intended > now:
        return []
    return [
        Due(
            QUESTIONNAIRE,
            f"{item.code}:{item.due.isoformat()}",
            local_label(item.due, prefs.notice_time),
            intended,
            intended + QUESTIONNAIRE_LATE_LIMIT,
            "A questionnaire is ready for you",
            f"Please fill in “{item.title}”. It takes a few minutes and helps you and your "
            "care team see how things are going.",
            f"/questionnaires/{item.code}",
        )
        for item in items
        if item.due <= today
    ]


# -------------------------------------------------------------------------- follow-ups


@dataclass(frozen=True)
class FollowUpFacts:
    id: str
    due: date
    kind: str
    status: str
    patient_name: str


def _day(value: date) -> str:
    return f"{value:%A} {value.day} {value:%B}"


def follow_up_reminders(
    follow_up: FollowUpFacts,
    prefs: Preferences,
    tz: ZoneInfo,
    *,
    now: datetime,
    for_clinician: bool,
) -> list[Due]:
    """The day before and on the day (useful until the day ends), and once when it is
    overdue, for the patient or for a clinician of the care team."""
    if follow_up.status != "scheduled":
        return []
    out: list[Due] = []
    end_of_day = local_to_utc(follow_up.due + timedelta(days=1), time(0, 0), tz)
    when = _day(follow_up.due)
    name = follow_up.patient_name
    for kind, day in (
        (FOLLOW_UP_BEFORE, follow_up.due - timedelta(days=1)),
        (FOLLOW_UP_DAY, follow_up.due),
    ):
        intended = local_to_utc(day, prefs.notice_time, tz)
        if intended > now:
            continue
        word = "tomorrow" if kind == FOLLOW_UP_BEFORE else "today"
        if for_clinician:
            title = f"Follow-up {word}: {name}"
            body = f"{name} has a follow-up ({follow_up.kind}) due {word}, {when}."
            link = "/caseload"
        else:
            title = f"Your follow-up appointment is {word}"
            body = (
                f"You have a follow-up ({follow_up.kind}) {word}, {when}. If you cannot go, "
                "please contact your care team to change it."
            )
            link = "/today"
        out.append(
            Due(
                kind,
                follow_up.id,
                local_label(day, prefs.notice_time),
                intended,
                end_of_day,
                title,
                body,
                link,
            )
        )
    overdue_day = follow_up.due + timedelta(days=FOLLOW_UP_OVERDUE_DAYS)
    intended = local_to_utc(overdue_day, prefs.notice_time, tz)
    if intended <= now:
        if for_clinician:
            title = f"Follow-up overdue: {name}"
            body = (
                f"The follow-up ({follow_up.kind}) for {name} was due on {when} and has not "
                "been recorded as done."
            )
            link = "/caseload"
        else:
            title = "Your follow-up is overdue"
            body = (
                f"Your follow-up ({follow_up.kind}) was due on {when}. Please contact your GP "
                "surgery or care team to book it."
            )
            link = "/today"
        out.append(
            Due(
                FOLLOW_UP_OVERDUE,
                follow_up.id,
                local_label(overdue_day, prefs.notice_time),
                intended,
                intended + OVERDUE_LATE_LIMIT,
                title,
                body,
                link,
            )
        )
    return out


# ------------------------------------------------------------------------- tapering


@dataclass(frozen=True)
class WithdrawalWatch:
    """What to watch for when a dose goes down, from the medicine's knowledge file."""

    symptoms: tuple[str, ...]
    text: str
    source: str


@dataclass(frozen=True)
class TaperFacts:
    plan_id: str
    name: str
    step_starts: tuple[date, ...]
    schedule: Schedule
    watch: WithdrawalWatch | None


def taper_reminders(
    taper: TaperFacts, prefs: Preferences, tz: ZoneInfo, *, now: datetime
) -> list[Due]:
    """The day before each step of a taper that lowers the dose: the new dose and the
    withdrawal symptoms to watch for (in the app only; emails never name symptoms)."""
    out: list[Due] = []
    for start in sorted(set(taper.step_starts)):
        day = start - timedelta(days=1)
        new, old = planned_dose(taper.schedule, start), planned_dose(taper.schedule, day)
        if new >= old:
            continue
        intended = local_to_utc(day, prefs.notice_time, tz)
        if intended > now:
            continue
        if new == 0:
            change = (
                f"From tomorrow, {_day(start)}, you stop taking {taper.name}, as planned with "
                "your care team."
            )
        else:
            change = (
                f"From tomorrow, {_day(start)}, your {taper.name} goes down to "
                f"{format_mg(new)} mg a day (from {format_mg(old)} mg), as planned with your "
                "care team."
            )
        parts = [change]
        if taper.watch is not None:
            parts.append(
                "When the dose goes down, watch for withdrawal symptoms: "
                f"{', '.join(taper.watch.symptoms)}. {taper.watch.text}"
            )
        parts.append(
            "If they are bad or you are worried, contact your care team. Do not change the "
            "dose on your own."
        )
        if taper.watch is not None:
            parts.append(f"(Source: {taper.watch.source})")
        out.append(
            Due(
                TAPER_STEP,
                f"{taper.plan_id}:{start.isoformat()}",
                local_label(day, prefs.notice_time),
                intended,
                local_to_utc(start, time(0, 0), tz),
                "Your dose changes tomorrow",
                " ".join(parts),
                "/medicine",
            )
        )
    return out


# ------------------------------------------------------------------- missed doses


@dataclass(frozen=True)
class MissedDoseAdvice:
    text: str
    source: str


def missed_dose_nudge(
    patient_id: str,
    missed: Sequence[date],
    prefs: Preferences,
    tz: ZoneInfo,
    *,
    today: date,
    now: datetime,
    last_nudge: date | None,
    advice: MissedDoseAdvice | None,
) -> list[Due]:
    """A gentle nudge when ``MISSED_NUDGE_COUNT`` doses were missed within
    ``MISSED_NUDGE_DAYS`` days (one entry in ``missed`` per missed dose), at most once
    every ``MISSED_NUDGE_DAYS`` days."""
    first = today - timedelta(days=MISSED_NUDGE_DAYS - 1)
    recent = [d for d in missed if first <= d <= today]
    if len(recent) < MISSED_NUDGE_COUNT:
        return []
    latest = max(recent)
    if last_nudge is not None and latest - last_nudge < timedelta(days=MISSED_NUDGE_DAYS):
        return []
    intended = local_to_utc(latest, prefs.notice_time, tz)
    if intended > now:
        return []
    parts = [
        "It looks like a few doses were missed in the last few days. That happens, and "
        "you are not in trouble."
    ]
    if advice is not None:
        parts.append(f"{advice.text} (Source: {advice.source})")
    parts.append(
        "Taking it at the same time each day helps; you can change your reminder times "
        "under Reminders. If something makes it hard to take, tell your care team."
    )
    return [
        Due(
            MISSED_DOSES,
            f"{patient_id}:{latest.isoformat()}",
            local_label(latest, prefs.notice_time),
            intended,
            intended + MISSED_NUDGE_LATE_LIMIT,
            "A note about your doses",
            " ".join(parts),
            "/medicine",
        )
    ]


# ------------------------------------------------------------------------- alerts


@dataclass(frozen=True)
class AlertFacts:
    id: str
    urgency: str
    status: str
    created_at: datetime
    summary: str
    patient_name: str


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} minutes"
    hours = minutes // 60
    return f"{hours} hour{'s' if hours != 1 else ''}"


def alert_escalations(alert: AlertFacts, tz: ZoneInfo, *, now: datetime) -> list[Due]:
    """An urgent or emergency alert still open past ``ESCALATE_AFTER``: once, to every
    clinician of the care team, whatever their quiet hours."""
    after = ESCALATE_AFTER.get(alert.urgency)
    if after is None or alert.status != "open":
        return []
    intended = alert.created_at + after
    if intended > now:
        return []
    raised = alert.created_at.astimezone(tz)
    return [
        Due(
            ALERT_ESCALATION,
            alert.id,
            intended.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ"),
            intended,
            intended + ESCALATION_LATE_LIMIT,
            f"Not yet acknowledged: {alert.urgency} alert for {alert.patient_name}",
            f"This {alert.urgency} alert was raised at {raised:%H:%M} on {_day(raised.date())} "
            f"and nobody has acknowledged it for over {_duration(after)}: {alert.summary} "
            "Please look at it now, or ask a colleague to.",
            "/alerts",
            urgent=True,
        )
    ]


# ---------------------------------------------------------------------------- email

EMAIL_SUBJECT = "You have a new message in PainPath"


def email_text(link_base: str, unsubscribe_url: str) -> tuple[str, str]:
    """Subject and body of every reminder email: only that there is something to see,
    with a link. No names, medicines, doses, conditions or symptoms, ever."""
    base = link_base.rstrip("/")
    body = (
        "Hello,\n\n"
        "There is something new for you in PainPath.\n\n"
        f"Sign in to see it: {base}/\n\n"
        "You get this email because email reminders are switched on for your PainPath "
        "account. To stop them, open this link:\n"
        f"{unsubscribe_url}\n"
        "You can also change your reminders in PainPath, under Reminders.\n\n"
        "PainPath\n"
    )
    return EMAIL_SUBJECT, body
