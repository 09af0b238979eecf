"""A client-side request rate per operation, that settles just under the API's limit (§7, §21.5).

PB throttles each operation separately at about 100 requests per second. Each operation gets its
own limiter: at most the current rate of requests leave in any one second (a window that slides, as
the emulator's --rate-limit counts), so a few requests started together leave together instead of
being spaced apart, and no second, however it is cut, holds more than the rate. A throttle pauses the operation until its
`Retry-After`, and sets the rate to just under what the server granted over the last window (so it
never collapses below what the server allows), or halves it when too little passed to tell. Each
window without a throttle adds a fixed step, up to the user's maximum (--max-rps), so the rate
climbs back slowly towards the limit and seldom crosses it: each crossing costs a pause.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

DEFAULT_MAX_RPS = 100.0
MIN_RPS = 1.0
WINDOW_S = 1.0  # PB, and the emulator's --rate-limit, count requests per second
BACKOFF = 0.95  # a throttle sets the rate to this share of the rate granted over the last window
MIN_GRANTED = 2  # fewer passes in the window say nothing of the server's limit: then the rate is halved
STEP_RPS = 0.05  # added after each window without a throttle: slow, since each throttle costs a pause
# A request waiting for a place leaves this long after the one it waits on has left the window: the
# server counts arrivals, and two requests a window apart may arrive closer than they left.
EDGE_S = 0.01


class RateLimiter:
    """Lets at most `rate` requests of one operation leave in any window of WINDOW_S seconds."""

    def __init__(
        self,
        max_rps: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.max_rps = max_rps
        self.rate = max_rps
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()  # when requests left (or will leave), over the last window
        self._paused_until = 0.0
        self._grown = clock()  # when the rate last grew (or was cut)
        self._passes: deque[float] = deque()  # when requests passed, over the last window
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Wait for this request's turn."""
        with self._lock:
            now = self._clock()
            sent = self._sent
            while sent and sent[0] <= now - WINDOW_S:
                sent.popleft()
            allowed = max(1, int(self.rate * WINDOW_S))
            start = max(now, self._paused_until)
            if len(sent) >= allowed:  # wait until the request `allowed` places back leaves the window
                start = max(start, sent[-allowed] + WINDOW_S + EDGE_S)
            if sent:
                start = max(start, sent[-1])  # in the order the requests asked
            sent.append(start)
        if start > now:
            self._sleep(start - now)

    def throttled(self, retry_after_s: float | None = None) -> None:
        """The API said "too many requests": pause until `retry_after_s` from now, and slow down."""
        with self._lock:
            now = self._clock()
            if now < self._paused_until:
                return  # sent before the pause began: this throttle was already counted
            granted = self._granted(now)
            learned = BACKOFF * min(self.rate, granted) if granted * WINDOW_S >= MIN_GRANTED else 0.0
            self.rate = max(MIN_RPS, learned or self.rate / 2)
            self._paused_until = now + (retry_after_s or 0.0)
            self._grown = self._paused_until

    def passed(self) -> None:
        """A request went through: after each whole window without a throttle, add a step."""
        with self._lock:
            now = self._clock()
            self._passes.append(now)
            self._granted(now)  # forgets passes older than the window
            if now - self._grown >= WINDOW_S:
                self.rate = min(self.max_rps, self.rate + STEP_RPS)
                self._grown = now

    def _granted(self, now: float) -> float:
        """Requests per second that passed over the last window."""
        while self._passes and self._passes[0] <= now - WINDOW_S:
            self._passes.popleft()
        return len(self._passes) / WINDOW_S


class RateLimits:
    """One limiter per operation, made on first use."""

    def __init__(
        self,
        max_rps: float = DEFAULT_MAX_RPS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
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
