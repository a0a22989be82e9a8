"""The calendar export: parsed back with icalendar, events at the right local times on
both sides of the March and October clock changes (Europe/London)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from icalendar import Calendar

from painpath.interop.domain.ics import build_calendar

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
TODAY = date(2026, 3, 20)


def prescription(**extra: object) -> dict[str, object]:
    rx: dict[str, object] = {
        "id": uuid.UUID("11111111-1111-4111-8111-111111111111"),
        "medicine": "duloxetine",
        "status": "active",
        "dose_times": ["08:00"],
        "stopped_on": None,
        "steps": [
            {"start": date(2026, 3, 10), "daily_dose_mg": Decimal(30), "created_at": NOW},
            {"start": date(2026, 3, 27), "daily_dose_mg": Decimal(60), "created_at": NOW},
        ],
    }
    rx.update(extra)
    return rx


def calendar(**kwargs: object) -> Calendar:
    args: dict[str, object] = {
        "timezone": "Europe/London",
        "now": NOW,
        "today": TODAY,
        "follow_ups": [],
        "prescriptions": [prescription()],
        "taper_plans": [],
    }
    args.update(kwargs)
    return Calendar.from_ical(build_calendar(**args))  # type: ignore[arg-type]


def occurrences(event: object, until: datetime) -> list[datetime]:
    start = event["dtstart"].dt  # type: ignore[index]
    rule = rrulestr(event["rrule"].to_ical().decode(), dtstart=start)  # type: ignore[index]
    return list(rule.between(start - timedelta(seconds=1), until, inc=True))


def test_dose_times_stay_at_8am_local_across_the_march_clock_change() -> None:
    cal = calendar()
    assert any(c.name == "VTIMEZONE" and str(c["tzid"]) == "Europe/London" for c in cal.walk())
    doses = [e for e in cal.walk("VEVENT") if str(e["summary"]).startswith("Take duloxetine")]
    assert [str(e["summary"]) for e in doses] == ["Take duloxetine 30 mg", "Take duloxetine 60 mg"]
    first, second = doses
    assert first["dtstart"].params["TZID"] == "Europe/London"
    # the 30 mg step starts today (its earlier days are past) and ends the day before 60 mg
    days = occurrences(first, datetime(2026, 4, 30, tzinfo=UTC))
    assert days[0].date() == TODAY and days[-1].date() == date(2026, 3, 26)
    later = occurrences(second, datetime(2026, 4, 5, tzinfo=UTC))
    before = next(d for d in later if d.date() == date(2026, 3, 28))  # Saturday, GMT
    after = next(d for d in later if d.date() == date(2026, 3, 30))  # Monday, BST
    for moment in (before, after):
        assert moment.astimezone(LONDON).time() == time(8, 0)
    assert before.astimezone(UTC).hour == 8  # GMT = UTC
    assert after.astimezone(UTC).hour == 7  # BST = UTC+1
    assert "until" not in second["rrule"]  # the open-ended step has no end


def test_dose_times_stay_at_8am_local_across_the_october_clock_change() -> None:
    rx = prescription(
        dose_times=["08:00", "20:00"],
        steps=[
            {"start": date(2026, 10, 1), "daily_dose_mg": Decimal(120), "created_at": NOW},
            {"start": date(2026, 11, 1), "daily_dose_mg": Decimal(60), "created_at": NOW},
        ],
    )
    cal = calendar(prescriptions=[rx], today=date(2026, 10, 20))
    doses = sorted(cal.walk("VEVENT"), key=lambda e: e["dtstart"].dt)
    morning = next(e for e in doses if e["dtstart"].dt.time() == time(8, 0))
    assert str(morning["summary"]) == "Take duloxetine 60 mg"  # 120 mg as 60 mg twice a day
    seen = occurrences(morning, datetime(2026, 12, 1, tzinfo=UTC))
    assert seen[-1].date() == date(2026, 10, 31)  # UNTIL: the day before the next step
    saturday = next(d for d in seen if d.date() == date(2026, 10, 24))  # BST
    monday = next(d for d in seen if d.date() == date(2026, 10, 26))  # GMT
    assert saturday.astimezone(LONDON).time() == monday.astimezone(LONDON).time() == time(8, 0)
    assert saturday.astimezone(UTC).hour == 7 and monday.astimezone(UTC).hour == 8
    evening = [e for e in doses if e["dtstart"].dt.time() == time(20, 0)]
    assert len(evening) == 2


def test_follow_ups_and_taper_steps_are_all_day_events_and_text_is_escaped() -> None:
    follow = {
        "id": uuid.uuid4(),
        "due": date(2026, 4, 2),
        "kind": "12-week review; bring <notes>, please",
        "status": "scheduled",
    }
    done = {**follow, "id": uuid.uuid4(), "status": "done", "kind": "old"}
    taper = {
        "id": uuid.uuid4(),
        "status": "active",
        "steps": [
            {"start": "2026-03-01", "end": "2026-03-14", "daily_dose_mg": 30, "instructions": "a"},
            {
                "start": "2026-04-06",
                "end": "2026-04-19",
                "daily_dose_mg": 0,
                "instructions": "Stop",
            },
        ],
    }
    cal = calendar(follow_ups=[follow, done], taper_plans=[taper], prescriptions=[])
    events = {str(e["summary"]): e for e in cal.walk("VEVENT")}
    review = events["PainPath follow-up: 12-week review; bring <notes>, please"]
    assert review["dtstart"].dt == date(2026, 4, 2)
    assert "PainPath follow-up: old" not in events
    stop = events["Taper step: 0 mg a day from today"]
    assert stop["dtstart"].dt == date(2026, 4, 6) and str(stop["description"]) == "Stop"
    assert len(events) == 2  # the past taper step is not repeated
    uids = [str(e["uid"]) for e in cal.walk("VEVENT")]
    assert len(set(uids)) == len(uids)


def test_a_stopped_prescription_or_one_without_dose_times_has_no_dose_events() -> None:
    cal = calendar(prescriptions=[prescription(status="stopped"), prescription(dose_times=[])])
    assert not [e for e in cal.walk("VEVENT") if str(e["summary"]).startswith("Take")]
