"""The clock, passed in so that time-dependent code can be tested."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    at: datetime

    def now(self) -> datetime:
        return self.at


def local_today(clock: Clock, tz: str) -> date:
    """The date on the wall calendar in ``tz`` at the clock's now."""
    return clock.now().astimezone(ZoneInfo(tz)).date()
