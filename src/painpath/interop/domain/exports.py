"""The patient's data download and the caseload audit file (pure): CSV text, the
pseudonymous key kept in the audit trail after erasure, and what the archive holds."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from painpath.interop.domain.records import Row

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DIARY_COLUMNS = (
    "id",
    "date",
    "pain",
    "worst_pain",
    "sleep_interference",
    "activity_minutes",
    "mood",
    "notes",
    "late",
)
DOSE_COLUMNS = (
    "id",
    "local_date",
    "taken_at_utc",
    "status",
    "dose_mg",
    "scheduled_for",
    "prescription_id",
)
OUTCOME_COLUMNS = (
    "patient_id",
    "medicine",
    "prescription_status",
    "daily_dose_mg",
    "days_on_treatment",
    "baseline_pain",
    "recent_pain",
    "pain_change_percent",
    "response_category",
    "adherence_taken_days",
    "adherence_planned_days",
    "adherence_percent",
    "open_alerts",
    "worst_alert_urgency",
    "next_follow_up",
    "follow_up_overdue",
    "questionnaires_28_days",
)
README = """Your PainPath data
==================

fhir-bundle.json   everything about you in FHIR R4 (a health-data standard other
                   NHS and clinic systems can read): your details, conditions,
                   prescriptions and dose plans, doses, diary, questionnaires,
                   side effects, follow-ups, reviews, alerts and who recorded what.
diary.csv          your daily diary, one row a day (opens in a spreadsheet).
doses.csv          every dose you recorded as taken, late or missed.
records.json       every record PainPath holds about you, table by table, as stored:
                   also your consents, referrals, requests to change a dose,
                   reminders and messages, and the audit trail of who looked at or
                   changed your record and when. Your care team's clinical notes
                   are not in it: ask your care team for them (a subject access
                   request).

Times in doses.csv are in UTC and as the date on your own calendar ({zone}).
Made on {made}.
"""


def cell(value: Any) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula is made plain text."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for values in rows:
        writer.writerow([cell(v) for v in values])
    return out.getvalue()


def diary_csv(entries: Sequence[Row]) -> str:
    return csv_text(
        DIARY_COLUMNS,
        ([e.get(c) for c in DIARY_COLUMNS] for e in sorted(entries, key=lambda e: e["date"])),
    )


def doses_csv(events: Sequence[Row], timezone: str) -> str:
    zone = ZoneInfo(timezone)

    def values(e: Row) -> list[Any]:
        taken: datetime = e["taken_at"]
        return [
            e["id"],
            (e.get("scheduled_for") or taken.astimezone(zone).date()).isoformat(),
            taken.isoformat(),
            e["status"],
            e.get("dose_mg"),
            e.get("scheduled_for"),
            e.get("prescription_id"),
        ]

    return csv_text(DOSE_COLUMNS, (values(e) for e in sorted(events, key=lambda e: e["taken_at"])))


def readme(timezone: str, made: datetime) -> str:
    return README.format(zone=timezone, made=made.astimezone(ZoneInfo(timezone)).isoformat())


def pseudonym(key: bytes, patient_id: uuid.UUID) -> str:
    """A stable pseudonymous key for a patient: HMAC-SHA256 of the id, not reversible
    without the key, so audit entries can still be grouped per (erased) person."""
    digest = hmac.new(key, str(patient_id).encode(), hashlib.sha256).hexdigest()
    return f"pseudo-{digest[:40]}"
