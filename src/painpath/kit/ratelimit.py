"""Sliding-window counters and a bounded gate for expensive work (one process).

Counters live in the application's memory: `painpath serve` runs one process, so one
set of counters sees every request. A deployment with several processes needs a
shared store instead (see docs/security.md).
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta


class SlidingWindow:
    """At most ``limit`` events per key in any ``window``; keeps at most ``max_keys`` keys."""

    def __init__(self, limit: int, window: timedelta, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._events: OrderedDict[str, deque[datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        events = self._events.get(key)
        if events is None:
            return deque()
        while events and events[0] <= now - self.window:
            events.popleft()
        if not events:
            del self._events[key]
        return events

    def count(self, key: str, now: datetime) -> int:
        with self._lock:
            return len(self._recent(key, now))

    def exceeded(self, key: str, now: datetime) -> bool:
        return self.count(key, now) >= self.limit

    def hit(self, key: str, now: datetime) -> None:
        with self._lock:
            events = self._recent(key, now)
            if key not in self._events:
                self._events[key] = events
            self._events.move_to_end(key)
            events.append(now)
            while len(self._events) > self.max_keys:
                self._events.popitem(last=False)

    def retry_after(self, key: str, now: datetime) -> int:
        """Seconds until one more event would be allowed (at least 1)."""
        with self._lock:
            events = self._recent(key, now)
            if len(events) < self.limit:
                return 1
            oldest = events[len(events) - self.limit]
            return max(1, int((oldest + self.window - now).total_seconds()) + 1)

    def clear(self, key: str) -> None:
        with self._lock:
            self._events.pop(key, None)


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
