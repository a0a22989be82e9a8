"""What gets reminded when: local wall-clock times through both clock changes, quiet
hours, dose steps and tapers, missed doses, alert escalation and the generic email."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from painpath.kit.errors import InvalidInput
from painpath.medication.domain.knowledge import load_knowledge
from painpath.medication.domain.schedule import ScheduleStep, build_schedule
from painpath.reminders import domain
from painpath.reminders.domain import (
    DEFAULTS,
    Course,
    Preferences,
    after_quiet_hours,
    alert_escalations,
    build_preferences,
    deliveries,
    diary_reminders,
    dose_reminders,
    dose_times_for,
    email_text,
    follow_up_reminders,
    local_to_utc,
    missed_dose_nudge,
    taper_reminders,
)

LONDON = ZoneInfo("Europe/London")
SPRING = date(2026, 3, 29)  # clocks go forward at 01:00 GMT
AUTUMN = date(2026, 10, 25)  # clocks go back at 02:00 BST


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def duloxetine():  # type: ignore[no-untyped-def]
    med = load_knowledge().medicine("duloxetine")
    assert med is not None
    return med


# ------------------------------------------------------------------- local time


def test_a_local_time_is_the_wall_clock_in_winter_and_summer() -> None:
    assert local_to_utc(date(2026, 1, 15), time(8, 0), LONDON) == utc(2026, 1, 15, 8, 0)
    assert local_to_utc(date(2026, 7, 15), time(8, 0), LONDON) == utc(2026, 7, 15, 7, 0)


def test_on_the_spring_change_8am_is_still_8am_and_a_missing_time_moves_to_the_next() -> None:
    assert local_to_utc(SPRING, time(8, 0), LONDON) == utc(2026, 3, 29, 7, 0)
    # 01:30 does not exist that night: the next valid wall-clock time is 02:00 BST.
    moved = local_to_utc(SPRING, time(1, 30), LONDON)
    assert moved == utc(2026, 3, 29, 1, 0)
    assert moved.astimezone(LONDON).strftime("%H:%M %Z") == "02:00 BST"
    assert local_to_utc(SPRING, time(0, 59), LONDON) == utc(2026, 3, 29, 0, 59)


def test_on_the_autumn_change_a_repeated_time_is_its_first_occurrence() -> None:
    first = local_to_utc(AUTUMN, time(1, 30), LONDON)
    assert first == utc(2026, 10, 25, 0, 30)
    assert first.astimezone(LONDON).strftime("%H:%M %Z") == "01:30 BST"
    assert local_to_utc(AUTUMN, time(8, 0), LONDON) == utc(2026, 10, 25, 8, 0)


def _course(schedule_steps: list[tuple[date, int]], **kw: object) -> Course:
    schedule = build_schedule([(d, n) for d, n in schedule_steps])
    return Course(
        prescription_id="rx1",
        name="Duloxetine",
        medicine=duloxetine(),
        schedule=schedule,
        **kw,  # type: ignore[arg-type]
    )


def test_a_dose_time_in_the_repeated_hour_is_reminded_once_over_the_whole_night() -> None:
    course = _course([(date(2026, 10, 1), 60)], dose_times=(time(1, 30),))
    dues = dose_reminders(
        course, DEFAULTS, LONDON, since=utc(2026, 10, 24, 23, 0), now=utc(2026, 10, 25, 3, 0)
    )
    assert [(d.local, d.intended) for d in dues] == [("2026-10-25T01:30", utc(2026, 10, 25, 0, 30))]


def test_a_dose_time_in_the_missing_hour_is_reminded_at_2am_summer_time() -> None:
    course = _course([(date(2026, 3, 1), 60)], dose_times=(time(1, 30),))
    dues = dose_reminders(
        course, DEFAULTS, LONDON, since=utc(2026, 3, 28, 23, 0), now=utc(2026, 3, 29, 3, 0)
    )
    assert [(d.local, d.intended) for d in dues] == [("2026-03-29T01:30", utc(2026, 3, 29, 1, 0))]


def test_the_8am_dose_reminder_keeps_8am_across_both_changes() -> None:
    course = _course([(date(2026, 3, 1), 60)])
    for day, expected_hour in (
        (date(2026, 3, 28), 8),
        (SPRING, 7),
        (date(2026, 10, 24), 7),
        (AUTUMN, 8),
    ):
        start = datetime.combine(day, time(0, 0), tzinfo=LONDON).astimezone(UTC)
        dues = dose_reminders(
            course, DEFAULTS, LONDON, since=start, now=start + timedelta(hours=23)
        )
        assert [d.intended for d in dues] == [
            datetime.combine(day, time(expected_hour), tzinfo=UTC)
        ]
        assert dues[0].local == f"{day.isoformat()}T08:00"


# ------------------------------------------------------------------- dose reminders


def test_the_dose_in_the_reminder_changes_on_the_day_the_step_changes() -> None:
    course = _course([(date(2026, 5, 1), 30), (date(2026, 5, 8), 60)])

    def body_on(day: date) -> str:
        start = datetime.combine(day, time(0, 0), tzinfo=UTC) - timedelta(hours=1)
        (due,) = dose_reminders(
            course, DEFAULTS, LONDON, since=start, now=start + timedelta(hours=20)
        )
        return due.body

    assert "Today's dose: 30 mg a day" in body_on(date(2026, 5, 7))
    assert "changes" not in body_on(date(2026, 5, 7))
    on_step = body_on(date(2026, 5, 8))
    assert "Your dose changes today: 60 mg a day (it was 30 mg)" in on_step
    assert "Today's dose: 60 mg a day" in on_step


def test_no_dose_reminder_before_the_first_step_after_the_last_or_once_logged() -> None:
    course = _course([(date(2026, 5, 10), 30), (date(2026, 5, 20), 0)])
    window = {"since": utc(2026, 5, 9, 0, 0), "now": utc(2026, 5, 9, 23, 0)}
    assert dose_reminders(course, DEFAULTS, LONDON, **window) == []
    window = {"since": utc(2026, 5, 20, 0, 0), "now": utc(2026, 5, 20, 23, 0)}
    assert dose_reminders(course, DEFAULTS, LONDON, **window) == []
    logged = _course([(date(2026, 5, 10), 30)], logged={date(2026, 5, 12): 1})
    window = {"since": utc(2026, 5, 12, 0, 0), "now": utc(2026, 5, 12, 23, 0)}
    assert dose_reminders(logged, DEFAULTS, LONDON, **window) == []


def test_a_twice_daily_dose_gets_two_times_twelve_hours_apart_unless_chosen() -> None:
    assert dose_times_for([], 1) == (time(8, 0),)
    assert dose_times_for([time(9, 0)], 2) == (time(9, 0), time(21, 0))
    assert dose_times_for([time(7, 0), time(19, 30), time(23, 0)], 2) == (time(7, 0), time(19, 30))
    course = _course([(date(2026, 5, 1), 120)])
    dues = dose_reminders(
        course, DEFAULTS, LONDON, since=utc(2026, 5, 5, 0, 0), now=utc(2026, 5, 5, 23, 0)
    )
    assert [d.local for d in dues] == ["2026-05-05T08:00", "2026-05-05T20:00"]
    assert dues[0].body.startswith("Dose 1 of 2 today.")


def test_chosen_reminder_times_win_over_the_prescription_times() -> None:
    course = _course([(date(2026, 5, 1), 60)], dose_times=(time(8, 0),))
    prefs = Preferences(dose_times=(time(10, 15),))
    dues = dose_reminders(
        course, prefs, LONDON, since=utc(2026, 5, 5, 0, 0), now=utc(2026, 5, 5, 23, 0)
    )
    assert [d.local for d in dues] == ["2026-05-05T10:15"]


# ------------------------------------------------------------------- deliveries


def _due(kind: str = domain.DOSE, at: datetime | None = None, urgent: bool = False) -> domain.Due:
    at = at or utc(2026, 5, 5, 7, 0)
    return domain.Due(
        kind, "s", "2026-05-05T08:00", at, at + timedelta(hours=2), "t", "b", "/", urgent
    )


def test_a_reminder_goes_in_the_app_and_by_email_by_default() -> None:
    rows = deliveries(
        _due(),
        recipient="u",
        prefs=DEFAULTS,
        tz=LONDON,
        now=utc(2026, 5, 5, 7, 1),
        email_possible=True,
    )
    assert [(r.channel, r.status) for r in rows] == [("in-app", "pending"), ("email", "pending")]
    assert rows[0].dedupe_key == "dose|s|2026-05-05T08:00|u|in-app"
    no_smtp = deliveries(
        _due(),
        recipient="u",
        prefs=DEFAULTS,
        tz=LONDON,
        now=utc(2026, 5, 5, 7, 1),
        email_possible=False,
    )
    assert [r.channel for r in no_smtp] == ["in-app"]


def test_a_dose_reminder_six_hours_late_is_recorded_as_skipped() -> None:
    rows = deliveries(
        _due(),
        recipient="u",
        prefs=DEFAULTS,
        tz=LONDON,
        now=utc(2026, 5, 5, 13, 0),
        email_possible=True,
    )
    assert {r.status for r in rows} == {"skipped"}
    ancient = deliveries(
        _due(),
        recipient="u",
        prefs=DEFAULTS,
        tz=LONDON,
        now=utc(2026, 5, 8, 13, 0),
        email_possible=True,
    )
    assert ancient == []


def test_switched_off_kinds_and_channels_are_not_planned_but_urgent_ones_always_are() -> None:
    prefs = Preferences(in_app=False, email=False, kinds_off=frozenset({domain.DOSE}))
    now = utc(2026, 5, 5, 7, 1)
    assert (
        deliveries(_due(), recipient="u", prefs=prefs, tz=LONDON, now=now, email_possible=True)
        == []
    )
    off = Preferences(in_app=False, email=False)
    urgent = deliveries(
        _due(domain.ALERT_ESCALATION, urgent=True),
        recipient="u",
        prefs=off,
        tz=LONDON,
        now=now,
        email_possible=True,
    )
    assert [r.channel for r in urgent] == ["in-app"]


def test_emails_wait_for_the_end_of_quiet_hours_in_app_reminders_do_not() -> None:
    prefs = Preferences(quiet_start=time(22, 0), quiet_end=time(7, 0))
    late_evening = utc(2026, 5, 5, 21, 30)  # 22:30 BST
    assert after_quiet_hours(late_evening, prefs, LONDON) == utc(2026, 5, 6, 6, 0)
    early = utc(2026, 5, 6, 5, 0)  # 06:00 BST
    assert after_quiet_hours(early, prefs, LONDON) == utc(2026, 5, 6, 6, 0)
    assert after_quiet_hours(utc(2026, 5, 6, 12, 0), prefs, LONDON) == utc(2026, 5, 6, 12, 0)
    day_quiet = Preferences(quiet_start=time(13, 0), quiet_end=time(14, 0))
    assert after_quiet_hours(utc(2026, 5, 6, 12, 30), day_quiet, LONDON) == utc(2026, 5, 6, 13, 0)
    due = domain.Due(
        domain.FOLLOW_UP_DAY,
        "f",
        "x",
        late_evening,
        late_evening + timedelta(hours=20),
        "t",
        "b",
        "/",
    )
    rows = deliveries(
        due, recipient="u", prefs=prefs, tz=LONDON, now=late_evening, email_possible=True
    )
    assert [(r.channel, r.due_at) for r in rows] == [
        ("in-app", late_evening),
        ("email", utc(2026, 5, 6, 6, 0)),
    ]
    dose = deliveries(
        _due(at=late_evening),
        recipient="u",
        prefs=prefs,
        tz=LONDON,
        now=late_evening,
        email_possible=True,
    )
    assert [(r.channel, r.status) for r in dose] == [("in-app", "pending"), ("email", "skipped")]


# ------------------------------------------------------------------- other kinds


def test_no_diary_reminder_when_the_diary_is_written() -> None:
    window = {"since": utc(2026, 5, 5, 0, 0), "now": utc(2026, 5, 5, 23, 0)}
    dues = diary_reminders("p", DEFAULTS, LONDON, written=set(), **window)
    assert [d.local for d in dues] == ["2026-05-05T19:00"]
    assert diary_reminders("p", DEFAULTS, LONDON, written={date(2026, 5, 5)}, **window) == []


def test_follow_up_reminders_the_day_before_on_the_day_and_when_overdue() -> None:
    fu = domain.FollowUpFacts(
        "f1", date(2026, 5, 10), "medication review", "scheduled", "Ann Example"
    )
    dues = follow_up_reminders(
        fu, DEFAULTS, LONDON, now=utc(2026, 5, 10, 12, 0), for_clinician=False
    )
    assert [(d.kind, d.local) for d in dues] == [
        ("follow-up-before", "2026-05-09T09:00"),
        ("follow-up-day", "2026-05-10T09:00"),
    ]
    assert "tomorrow" in dues[0].title and "today" in dues[1].title
    assert dues[1].expires == utc(2026, 5, 10, 23, 0)  # the end of the day, BST
    staff = follow_up_reminders(
        fu, DEFAULTS, LONDON, now=utc(2026, 5, 17, 12, 0), for_clinician=True
    )
    assert [d.kind for d in staff] == ["follow-up-before", "follow-up-day", "follow-up-overdue"]
    assert "Ann Example" in staff[2].title
    done = domain.FollowUpFacts("f1", date(2026, 5, 10), "review", "done", "Ann")
    assert (
        follow_up_reminders(done, DEFAULTS, LONDON, now=utc(2026, 5, 17, 12, 0), for_clinician=True)
        == []
    )


def test_a_taper_step_is_reminded_the_day_before_with_the_symptoms_to_watch() -> None:
    med = duloxetine()
    assert med.withdrawal is not None
    schedule = build_schedule(
        [
            ScheduleStep(date(2026, 4, 1), Decimal(60)),
            ScheduleStep(date(2026, 5, 1), Decimal(30)),
            ScheduleStep(date(2026, 5, 15), Decimal(0)),
        ]
    )
    taper = domain.TaperFacts(
        "t1",
        "Duloxetine",
        (date(2026, 5, 1), date(2026, 5, 15)),
        schedule,
        domain.WithdrawalWatch(med.withdrawal.symptoms, med.withdrawal.text, med.withdrawal.source),
    )
    (step,) = taper_reminders(taper, DEFAULTS, LONDON, now=utc(2026, 4, 30, 10, 0))
    assert step.local == "2026-04-30T09:00"
    assert "goes down to 30 mg a day (from 60 mg)" in step.body
    for symptom in ("dizziness", "tremor", "headache"):
        assert symptom in step.body
    assert "Source:" in step.body
    last = taper_reminders(taper, DEFAULTS, LONDON, now=utc(2026, 5, 14, 10, 0))
    assert "you stop taking Duloxetine" in last[-1].body


def test_two_missed_doses_in_three_days_bring_one_gentle_nudge() -> None:
    today = date(2026, 5, 10)
    kw = {"today": today, "now": utc(2026, 5, 10, 12, 0), "advice": None}
    assert missed_dose_nudge("p", [date(2026, 5, 9)], DEFAULTS, LONDON, last_nudge=None, **kw) == []
    assert (
        missed_dose_nudge(
            "p", [date(2026, 5, 5), date(2026, 5, 9)], DEFAULTS, LONDON, last_nudge=None, **kw
        )
        == []
    )
    (nudge,) = missed_dose_nudge(
        "p", [date(2026, 5, 8), date(2026, 5, 9)], DEFAULTS, LONDON, last_nudge=None, **kw
    )
    assert nudge.subject == "p:2026-05-09"
    again = missed_dose_nudge(
        "p",
        [date(2026, 5, 9), date(2026, 5, 10)],
        DEFAULTS,
        LONDON,
        last_nudge=date(2026, 5, 9),
        **kw,
    )
    assert again == []


def test_an_unacknowledged_urgent_alert_escalates_after_4_hours_an_emergency_after_30_minutes() -> (
    None
):
    raised = utc(2026, 5, 5, 10, 0)

    def alert(urgency: str, status: str = "open") -> domain.AlertFacts:
        return domain.AlertFacts("a1", urgency, status, raised, "Possible serious reaction.", "Ann")

    assert (
        alert_escalations(alert("urgent"), LONDON, now=raised + timedelta(hours=3, minutes=59))
        == []
    )
    (due,) = alert_escalations(alert("urgent"), LONDON, now=raised + timedelta(hours=4))
    assert due.intended == raised + timedelta(hours=4) and due.urgent
    assert alert_escalations(alert("emergency"), LONDON, now=raised + timedelta(minutes=29)) == []
    assert alert_escalations(alert("emergency"), LONDON, now=raised + timedelta(minutes=30))
    assert (
        alert_escalations(alert("urgent", "acknowledged"), LONDON, now=raised + timedelta(days=1))
        == []
    )
    assert alert_escalations(alert("routine"), LONDON, now=raised + timedelta(days=1)) == []


# ------------------------------------------------------------------- preferences


def test_preferences_are_checked_field_by_field() -> None:
    good = build_preferences(
        in_app=True,
        email=False,
        quiet_start=None,
        quiet_end=None,
        dose_times=["20:00", "08:00"],
        diary_time="18:30",
        notice_time="10:00",
        kinds_off=["diary"],
    )
    assert good.dose_times == (time(8, 0), time(20, 0)) and good.quiet_start is None
    with pytest.raises(InvalidInput) as caught:
        build_preferences(
            in_app=True,
            email=True,
            quiet_start="22:00",
            quiet_end=None,
            dose_times=["8am", "09:00", "09:00"],
            diary_time="25:00",
            notice_time="09:00",
            kinds_off=["follow-up-day"],
        )
    fields = {p.field for p in caught.value.problems}
    assert fields == {"quiet_end", "dose_times[0]", "dose_times[2]", "diary_time", "kinds_off"}


def test_the_email_says_only_that_there_is_something_to_see() -> None:
    subject, body = email_text(
        "https://painpath.example/", "https://painpath.example/unsubscribe/abc"
    )
    assert subject == "You have a new message in PainPath"
    assert "https://painpath.example/\n" in body
    assert "https://painpath.example/unsubscribe/abc" in body
    lowered = body.lower()
    for word in ("dose", "mg", "duloxetine", "pain ", "symptom", "appointment", "alert"):
        assert word not in lowered
