"""The appointment report's content (pure): what a clinician reads on the first page,
then the details. Built from :class:`PatientData`, the patient's ``today`` and the
"does it help?" result computed by the response area.

The figures use the care area's definitions (clinical/reference.md and
painpath.care.domain): days on treatment from the first dose step; adherence = days
with a dose taken on time or late ÷ days a dose was planned, over the 28 days before
today; pain baseline = mean diary pain of the 14 days before the first dose; recent
pain = mean of the latest 7 days.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from painpath.care.domain import (
    ADHERENCE_DAYS,
    Step,
    adherence,
    baseline_pain,
    days_on_treatment,
    dose_on,
    first_dose_day,
    percent_change,
    recent_pain,
)
from painpath.interop.domain.fhir import CONDITION_TEXT
from painpath.interop.domain.records import PatientData, Row
from painpath.kit.errors import InvalidInput
from painpath.medication.domain.prescribing import find_medicine
from painpath.medication.domain.schedule import format_mg, regimen_for
from painpath.questionnaires.domain import load_instruments

LIVE = ("active", "tapering")
OPEN_ALERTS = ("open", "acknowledged")
RED_FLAG_RULES = frozenset({"red-flag", "cauda-equina", "phq9-item9", "self-harm"})
THERAPY_DAYS = 28
TREND_ROWS = 6
NOTE_ROWS = 10
URGENCY_ORDER = {"emergency": 0, "urgent": 1, "routine": 2}
TRIAGE_ORDER = {"emergency": 0, "urgent": 1, "routine": 2, "self-care": 3}

CATEGORY_WORDS = {
    "substantial": "Substantial improvement (pain down by 50% or more)",
    "moderate": "Moderate improvement (pain down by 30% to 49%)",
    "minimal": "Minimal improvement (pain down by less than 30%)",
    "worse": "Worse (pain went up)",
    "no-change": "No change",
    "insufficient-data": "Not enough diary data to tell",
}


def day_text(day: date | None) -> str:
    """A date as "3 Mar 2025" (the UK way), or a dash."""
    if day is None:
        return "–"
    return f"{day.day} {day.strftime('%b %Y')}"


def _local(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def _steps(rx: Row) -> list[Step]:
    return [Step(s["start"], Decimal(s["daily_dose_mg"])) for s in rx.get("steps") or []]


def current_prescription(prescriptions: Sequence[Row]) -> Row | None:
    """The live course that started last, else the latest course."""

    def started(rx: Row) -> date:
        first = first_dose_day(_steps(rx))
        return first or rx["created_at"].date()

    live = [rx for rx in prescriptions if rx["status"] in LIVE]
    pool = live or list(prescriptions)
    return max(pool, key=started) if pool else None


def _regimen_text(medicine: str, dose: Decimal) -> str | None:
    if dose <= 0:
        return None
    try:
        regimen = regimen_for(find_medicine(medicine), dose)
    except InvalidInput:
        return None
    return regimen.text if regimen is not None else None


def _age(born: date | None, today: date) -> int | None:
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def build_report(
    data: PatientData,
    *,
    today: date,
    response: Mapping[str, Any] | None,
    chart_data_uri: str | None,
    chart_alt: str | None,
) -> dict[str, Any]:
    """Everything the report template shows (plain values, dates formatted)."""
    zone = ZoneInfo(data.patient.get("timezone") or "Europe/London")
    names = {c["id"]: c["name"] for c in data.clinicians}
    user_names = {c["user_id"]: c["name"] for c in data.clinicians}
    rx = current_prescription(data.prescriptions)
    return {
        "today": day_text(today),
        "patient": _patient(data.patient, today),
        "conditions": _conditions(data.episodes, today),
        "medicine": _medicine(data, rx, today, zone, names),
        "response": _response(response, chart_data_uri, chart_alt),
        "side_effects": _side_effects(data.side_effects, today),
        "alerts": _alerts(data.alerts, zone),
        "red_flags": _red_flags(data, zone),
        "therapies": _therapies(data.therapy_sessions, today),
        "follow_up": _next_follow_up(data.follow_ups, today),
        "trends": _trends(data.questionnaires, zone),
        "dose_history": _dose_history(data.prescriptions, user_names),
        "reviews": _reviews(data.reviews, zone, names),
        "taper": _taper(data.taper_plans),
        "notes": _notes(data.diary),
    }


def _patient(p: Row, today: date) -> dict[str, Any]:
    return {
        "id": str(p["id"]),
        "name": p["name"],
        "date_of_birth": day_text(p.get("date_of_birth")),
        "age": _age(p.get("date_of_birth"), today),
        "nhs_number": p.get("nhs_number"),
        "timezone": p.get("timezone") or "Europe/London",
    }


def _conditions(episodes: Sequence[Row], today: date) -> list[dict[str, Any]]:
    out = []
    for e in sorted(episodes, key=lambda e: e["onset_date"], reverse=True):
        weeks = (today - e["onset_date"]).days // 7
        out.append(
            {
                "label": CONDITION_TEXT.get(e["condition"], e["condition"]),
                "onset": day_text(e["onset_date"]),
                "weeks": weeks,
                "status": e["status"],
                "symptoms": list(e.get("symptoms") or []),
                "sites": list(e.get("pain_sites") or []),
            }
        )
    return out


def _medicine(
    data: PatientData,
    rx: Row | None,
    today: date,
    zone: ZoneInfo,
    names: Mapping[uuid.UUID, str],
) -> dict[str, Any] | None:
    if rx is None:
        return None
    steps = _steps(rx)
    dose = dose_on(steps, today)
    first = first_dose_day(steps)
    diary = [(d["date"], int(d["pain"])) for d in data.diary]
    doses = [
        (e.get("scheduled_for") or _local(e["taken_at"], zone), e["status"])
        for e in data.dose_events
        if e.get("prescription_id") in (None, rx["id"])
    ]
    adh = adherence(steps, doses, today)
    since = today - timedelta(days=ADHERENCE_DAYS)
    missed = sum(1 for day, status in doses if status == "missed" and since <= day < today)
    late = sum(1 for day, status in doses if status == "late" and since <= day < today)
    base = baseline_pain(diary, first)
    recent = recent_pain(diary, today)
    return {
        "id": str(rx["id"]),
        "name": rx["medicine"],
        "status": rx["status"],
        "off_label": bool(rx.get("off_label")),
        "indication": rx.get("indication"),
        "daily_dose": f"{format_mg(dose)} mg a day" if dose > 0 else "none planned today",
        "regimen": _regimen_text(rx["medicine"], dose),
        "dose_times": list(rx.get("dose_times") or []),
        "first_dose": day_text(first),
        "days_on_treatment": days_on_treatment(steps, today),
        "prescriber": names.get(rx["prescriber_id"], "–"),
        "adherence": {
            "taken": adh.taken_days,
            "planned": adh.planned_days,
            "percent": adh.percent,
            "missed": missed,
            "late": late,
            "days": ADHERENCE_DAYS,
        },
        "pain": {
            "baseline": base,
            "recent": recent,
            "percent_change": percent_change(base, recent),
        },
    }


def _response(
    response: Mapping[str, Any] | None, chart: str | None, alt: str | None
) -> dict[str, Any] | None:
    if response is None:
        return None
    summaries = response.get("summaries") or {}
    windows = response.get("windows") or {}

    def window(key: str) -> str | None:
        w = windows.get(key)
        if not w:
            return None
        return (
            f"{day_text(date.fromisoformat(w['from']))} to {day_text(date.fromisoformat(w['to']))}"
        )

    probability = response.get("probability_moderate_or_better")
    return {
        "category": response.get("category"),
        "category_words": CATEGORY_WORDS.get(
            str(response.get("category")), str(response.get("category"))
        ),
        "baseline_mean": response.get("baseline_mean"),
        "treatment_mean": response.get("treatment_mean"),
        "percent_change": response.get("percent_change"),
        "probability": None if probability is None else round(float(probability) * 100),
        "baseline_window": window("baseline"),
        "treatment_window": window("treatment"),
        "summary": summaries.get("clinician") or "",
        "caveats": [c.get("message", "") for c in response.get("caveats") or []],
        "chart": chart,
        "chart_alt": alt or "Chart of daily pain before and during treatment.",
    }


def _side_effects(reports: Sequence[Row], today: date) -> list[dict[str, Any]]:
    rows = sorted(
        reports,
        key=lambda r: (TRIAGE_ORDER.get(r["triage_level"], 9), -r["started_on"].toordinal()),
    )
    return [
        {
            "id": str(r["id"]),
            "symptom": r["symptom"],
            "description": r.get("description"),
            "severity": r["severity"],
            "started_on": day_text(r["started_on"]),
            "days_ago": (today - r["started_on"]).days,
            "triage": r["triage_level"],
            "advice": r["triage_advice"],
            "outcome": r.get("outcome") or ("resolved" if r.get("resolved_on") else "not recorded"),
        }
        for r in rows
    ]


def _alerts(alerts: Sequence[Row], zone: ZoneInfo) -> list[dict[str, Any]]:
    rows = [a for a in alerts if a["status"] in OPEN_ALERTS]
    rows.sort(key=lambda a: (URGENCY_ORDER.get(a["urgency"], 9), a["created_at"]))
    return [
        {
            "urgency": a["urgency"],
            "status": a["status"],
            "summary": a["summary"],
            "since": day_text(_local(a["created_at"], zone)),
            "rule": a["rule"],
        }
        for a in rows
    ]


def _red_flags(data: PatientData, zone: ZoneInfo) -> dict[str, Any]:
    screens = [q for q in data.questionnaires if q["instrument"] == "redflags"]
    latest = max(screens, key=lambda q: q["completed_at"]) if screens else None
    positive: list[str] = []
    if latest is not None:
        instrument = load_instruments().get("redflags")
        if instrument is not None:
            positive = [
                item.label
                for item, answer in zip(instrument.items, latest.get("answers") or [], strict=False)
                if answer
            ]
    alerts = [
        a["summary"]
        for a in data.alerts
        if a["rule"] in RED_FLAG_RULES and a["status"] in OPEN_ALERTS
    ]
    return {
        "screened_on": day_text(_local(latest["completed_at"], zone)) if latest else None,
        "positive": positive,
        "alerts": alerts,
    }


def _therapies(sessions: Sequence[Row], today: date) -> list[dict[str, Any]]:
    since = today - timedelta(days=THERAPY_DAYS)
    recent = [s for s in sessions if since <= s["date"] <= today]
    counts = Counter(s["kind"] for s in recent)
    minutes: Counter[str] = Counter()
    for s in recent:
        minutes[s["kind"]] += int(s.get("minutes") or 0)
    return [
        {"kind": kind, "sessions": n, "minutes": minutes[kind], "days": THERAPY_DAYS}
        for kind, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def _next_follow_up(follow_ups: Sequence[Row], today: date) -> dict[str, Any] | None:
    scheduled = sorted(
        (f for f in follow_ups if f["status"] == "scheduled"), key=lambda f: f["due"]
    )
    if not scheduled:
        return None
    f = scheduled[0]
    return {"due": day_text(f["due"]), "kind": f["kind"], "overdue": f["due"] < today}


def _trends(responses: Sequence[Row], zone: ZoneInfo) -> list[dict[str, Any]]:
    instruments = load_instruments()
    by_code: dict[str, list[Row]] = {}
    for q in responses:
        if q["instrument"] == "redflags":
            continue
        by_code.setdefault(q["instrument"], []).append(q)
    out = []
    for code, rows in sorted(by_code.items()):
        rows.sort(key=lambda q: q["completed_at"])
        instrument = instruments.get(code)
        shown = rows[-TREND_ROWS:]
        first, last = rows[0], rows[-1]
        change = Decimal(str(last["total"])) - Decimal(str(first["total"]))
        out.append(
            {
                "code": code,
                "name": instrument.name if instrument else code,
                "maximum": instrument.scoring.maximum if instrument else None,
                "count": len(rows),
                "rows": [
                    {
                        "date": day_text(_local(q["completed_at"], zone)),
                        "total": _number(q["total"]),
                        "band": (q.get("band") or "").replace("-", " "),
                    }
                    for q in shown
                ],
                "change": _number(change) if len(rows) > 1 else None,
            }
        )
    return out


def _number(value: Any) -> str:
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


def _dose_history(
    prescriptions: Sequence[Row], user_names: Mapping[uuid.UUID, str]
) -> list[dict[str, Any]]:
    out = []
    for rx in sorted(prescriptions, key=lambda r: r["created_at"]):
        previous: Decimal | None = None
        for s in sorted(rx.get("steps") or [], key=lambda s: (s["start"], s["created_at"])):
            dose = Decimal(s["daily_dose_mg"])
            change = (
                "start"
                if previous is None
                else "up"
                if dose > previous
                else "down"
                if dose < previous
                else "same"
            )
            out.append(
                {
                    "medicine": rx["medicine"],
                    "start": day_text(s["start"]),
                    "dose": f"{format_mg(dose)} mg a day",
                    "change": change,
                    "reason": s.get("reason") or "",
                    "by": user_names.get(s.get("changed_by"), "") if s.get("changed_by") else "",
                }
            )
            previous = dose
    return out


def _reviews(
    reviews: Sequence[Row], zone: ZoneInfo, names: Mapping[uuid.UUID, str]
) -> list[dict[str, Any]]:
    return [
        {
            "date": day_text(_local(r["created_at"], zone)),
            "clinician": names.get(r["clinician_id"], "–"),
            "decision": r["decision"],
            "reason": r["reason"],
        }
        for r in sorted(reviews, key=lambda r: r["created_at"], reverse=True)
    ]


def _taper(plans: Sequence[Row]) -> dict[str, Any] | None:
    if not plans:
        return None
    live = [p for p in plans if p["status"] in ("active", "held")]
    plan = max(live or plans, key=lambda p: p["created_at"])
    steps = []
    for s in plan.get("steps") or []:
        steps.append(
            {
                "start": day_text(date.fromisoformat(str(s["start"]))),
                "end": day_text(date.fromisoformat(str(s["end"]))) if s.get("end") else "–",
                "dose": f"{s['daily_dose_mg']} mg a day",
                "instructions": s.get("instructions") or "",
            }
        )
    return {
        "status": plan["status"],
        "start": day_text(plan["start"]),
        "weeks": plan["weeks"],
        "note": plan.get("note"),
        "steps": steps,
        "warnings": [w.get("message", "") for w in plan.get("warnings") or []],
    }


def _notes(diary: Sequence[Row]) -> list[dict[str, Any]]:
    """The latest diary entries with a note, newest first (the patient's own words)."""
    rows = sorted((d for d in diary if d.get("notes")), key=lambda d: d["date"], reverse=True)
    return [
        {"date": day_text(d["date"]), "pain": d["pain"], "note": d["notes"]}
        for d in rows[:NOTE_ROWS]
    ]
