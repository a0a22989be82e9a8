"""Sliding windows for the sign-in throttles, and a bounded gate for expensive work.

A window's events are stored by the caller (in the database: see
``painpath.auth.models.ThrottleEvent``), so several server processes share the counts.
The gate bounds concurrent password-hash checks within one process: the CPU it protects
is the process's own.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Window:
    """At most ``limit`` events per key in any ``span``.

    The events themselves are kept by the caller (the auth area keeps them in the
    database, so every server process counts the same ones); this is the arithmetic."""

    scope: str
    limit: int
    span: timedelta

    def since(self, now: datetime) -> datetime:
        """The start of the window that ends now: older events no longer count."""
        return now - self.span

    def exceeded(self, times: Sequence[datetime]) -> bool:
        return len(times) >= self.limit

    def retry_after(self, times: Sequence[datetime], now: datetime) -> int:
        """Seconds until one more event would be allowed (at least 1), given the
        events inside the window, oldest first."""
        if len(times) < self.limit:
            return 1
        oldest = times[len(times) - self.limit]
        return max(1, int((oldest + self.span - now).total_seconds()) + 1)


class Gate:
    """At most ``size`` holders at once; others wait up to ``timeout`` seconds."""

    def __init__(self, size: int, timeout: float) -> None:
        self.size = size
        self.timeout = timeout
        self._semaphore = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self.active = 0
        self.peak = 0

    @contextmanager
    def enter(self) -> Iterator[bool]:
        """Yields True when admitted, False when the gate stayed full for ``timeout``."""
        admitted = self._semaphore.acquire(timeout=self.timeout)
        if not admitted:
            yield False
            return
        with self._lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            yield True
        finally:
            with self._lock:
                self.active -= 1
            self._semaphore.release()
