"""Diary rules (pure): which dates a patient may write, and what counts as late."""

from __future__ import annotations

from datetime import date, timedelta

from painpath.kit.errors import InvalidInput

BACKFILL_DAYS = 7


def check_diary_date(day: date, today: date) -> bool:
    """Whether an entry for ``day`` is late; refuses future dates and old back-fills."""
    if day > today:
        raise InvalidInput(
            f"the date {day.isoformat()} is in the future: diary entries are for today or earlier",
            field="date",
        )
    if day < today - timedelta(days=BACKFILL_DAYS):
        raise InvalidInput(
            f"diary entries can be added for the last {BACKFILL_DAYS} days only "
            f"(from {(today - timedelta(days=BACKFILL_DAYS)).isoformat()})",
            field="date",
        )
    return day < today
