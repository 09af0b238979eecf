"""A client-side request rate per operation, that slows down when the API throttles (§7, §21.5).

PB throttles each operation separately at about 100 requests per second. Each operation gets its
own limiter: requests are spaced to the current rate; a 429 halves the rate, and each request that
is not throttled wins a little of it back, up to the configured maximum.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

DEFAULT_MAX_RPS = 100.0
MIN_RPS = 1.0
RECOVERY = 1.05  # rate gained back after each request that was not throttled


class RateLimiter:
    """Spaces requests of one operation to at most `rate` per second."""

    def __init__(self, max_rps: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.max_rps = max_rps
        self.rate = max_rps
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Wait for this request's turn."""
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + 1.0 / self.rate
        if start > now:
            self._sleep(start - now)

    def throttled(self) -> None:
        """The API said 429: halve the rate."""
        with self._lock:
            self.rate = max(MIN_RPS, self.rate / 2)

    def passed(self) -> None:
        """A request went through: win back some rate."""
        with self._lock:
            self.rate = min(self.max_rps, self.rate * RECOVERY)


class RateLimits:
    """One limiter per operation, made on first use."""

    def __init__(self, max_rps: float = DEFAULT_MAX_RPS, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.max_rps = max_rps
        self._clock = clock
        self._sleep = sleep
        self._limiters: dict[str, RateLimiter] = {}
        self._lock = threading.Lock()

    def __getitem__(self, operation: str) -> RateLimiter:
        with self._lock:
            if operation not in self._limiters:
                self._limiters[operation] = RateLimiter(self.max_rps, self._clock, self._sleep)
            return self._limiters[operation]
