"""The patient's calendar as iCalendar (RFC 5545), built with the icalendar library (pure).

* Follow-ups still scheduled: all-day events on their due date.
* Dose times: for each dose step of a live prescription that has not ended, one daily
  recurring event per dose time (``RRULE:FREQ=DAILY`` with ``UNTIL`` on the step's last
  day; the open-ended last step has no ``UNTIL``). Times are local wall-clock times
  with ``TZID`` the patient's zone (Europe/London by default) and its ``VTIMEZONE``,
  so 08:00 stays 08:00 on both sides of the March and October clock changes.
* Taper steps: all-day events on the first day of each step with its instructions.

UIDs are stable (made from record ids), so a calendar that subscribes to the file
updates events instead of duplicating them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from painpath.interop.domain.records import Row
from painpath.kit.errors import InvalidInput
from painpath.medication.domain.prescribing import find_medicine
from painpath.medication.domain.schedule import format_mg, regimen_for

PRODID = "-//PainPath//Calendar export//EN"
LIVE = ("active", "tapering")
TAPER_LIVE = ("active", "held")


@dataclass(frozen=True)
class DoseSeries:
    """One daily dose time within one dose step."""

    uid: str
    medicine: str
    start: date
    until: date | None
    at: time
    dose_mg: Decimal
    daily_mg: Decimal


def _parse_time(text: str) -> time | None:
    try:
        return time.fromisoformat(text)
    except ValueError:
        return None


def _per_time(medicine: str, daily: Decimal, times: int) -> Decimal:
    try:
        regimen = regimen_for(find_medicine(medicine), daily)
    except InvalidInput:
        regimen = None
    if regimen is not None and regimen.times_per_day == times:
        return daily / times
    return daily / times if times > 1 else daily


def dose_series(prescriptions: Sequence[Row], today: date) -> list[DoseSeries]:
    """The daily dose events from today on, one series per dose step and dose time."""
    out: list[DoseSeries] = []
    for rx in prescriptions:
        if rx["status"] not in LIVE:
            continue
        times = [t for t in (_parse_time(x) for x in rx.get("dose_times") or []) if t]
        if not times:
            continue
        steps = sorted(rx.get("steps") or [], key=lambda s: (s["start"], s["created_at"]))
        for i, step in enumerate(steps):
            later = [n["start"] for n in steps[i + 1 :] if n["start"] > step["start"]]
            if i + 1 < len(steps) and not later:
                continue  # replaced by a step starting the same day
            until = later[0] - timedelta(days=1) if later else None
            if rx.get("stopped_on") is not None:
                until = min(until or rx["stopped_on"], rx["stopped_on"])
            daily = Decimal(step["daily_dose_mg"])
            if daily <= 0 or (until is not None and until < today):
                continue
            first = max(step["start"], today)
            if until is not None and until < first:
                continue
            for at in times:
                out.append(
                    DoseSeries(
                        uid=f"dose-{rx['id']}-{step['start'].isoformat()}-{at:%H%M}@painpath",
                        medicine=rx["medicine"],
                        start=first,
                        until=until,
                        at=at,
                        dose_mg=_per_time(rx["medicine"], daily, len(times)),
                        daily_mg=daily,
                    )
                )
    return out


def build_calendar(
    *,
    timezone: str,
    now: datetime,
    today: date,
    follow_ups: Sequence[Row],
    prescriptions: Sequence[Row],
    taper_plans: Sequence[Row],
) -> bytes:
    """The .ics file (bytes, CRLF line ends as RFC 5545 asks)."""
    zone = ZoneInfo(timezone)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "PainPath: follow-ups, doses and taper")
    cal.add("x-wr-timezone", timezone)
    stamp = now.astimezone(UTC)

    for f in sorted(follow_ups, key=lambda f: (f["due"], str(f["id"]))):
        if f["status"] != "scheduled":
            continue
        event = Event()
        event.add("uid", f"follow-up-{f['id']}@painpath")
        event.add("dtstamp", stamp)
        event.add("dtstart", f["due"])
        event.add("dtend", f["due"] + timedelta(days=1))
        event.add("summary", f"PainPath follow-up: {f['kind']}")
        event.add("description", "A check of how your treatment is going with your care team.")
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)

    for series in dose_series(prescriptions, today):
        event = Event()
        event.add("uid", series.uid)
        event.add("dtstamp", stamp)
        start = datetime.combine(series.start, series.at, tzinfo=zone)
        event.add("dtstart", start)
        event.add("duration", timedelta(minutes=15))
        rule: dict[str, object] = {"freq": "daily"}
        if series.until is not None:
            rule["until"] = datetime.combine(series.until, series.at, tzinfo=zone).astimezone(UTC)
        event.add("rrule", rule)
        event.add("summary", f"Take {series.medicine} {format_mg(series.dose_mg)} mg")
        event.add(
            "description",
            f"Your planned dose is {format_mg(series.daily_mg)} mg a day. Swallow the capsule "
            "whole. Never change the dose yourself: ask your prescriber.",
        )
        cal.add_component(event)

    for plan in taper_plans:
        if plan["status"] not in TAPER_LIVE:
            continue
        for step in plan.get("steps") or []:
            day = date.fromisoformat(str(step["start"]))
            if day < today:
                continue
            event = Event()
            event.add("uid", f"taper-{plan['id']}-{day.isoformat()}@painpath")
            event.add("dtstamp", stamp)
            event.add("dtstart", day)
            event.add("dtend", day + timedelta(days=1))
            event.add("summary", f"Taper step: {step['daily_dose_mg']} mg a day from today")
            event.add("description", str(step.get("instructions") or ""))
            event.add("transp", "TRANSPARENT")
            cal.add_component(event)

    cal.add_missing_timezones()
    return bytes(cal.to_ical())
