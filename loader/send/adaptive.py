"""How many single calls to keep in flight: grow while PB keeps up, back off when it does not.

Products, orders and returns go 200 items a request; ASNs, bills of materials and work orders go one
item a request (`keyed.SingleSender`), so their speed is how many requests are in flight. That number
starts at `--concurrency` and follows PB the way TCP Vegas follows a network. From the fastest answer
so far and the recent ones it estimates how many of our requests wait in PB's queue rather than
being worked on (limit × (1 − fastest ÷ recent)):

* fewer than `QUEUED_LOW` waiting (latency flat): each answer adds 1/limit — one more request in
  flight per round of answers — up to `SINGLE_CALL_CAP`;
* more than `QUEUED_HIGH` waiting (latency growing with the limit): each answer takes 1/limit off,
  down to `--concurrency` at the lowest: latency alone never makes a load slower than asked;
* a throttle (429, PB's spike arrest) or a 503 on any attempt, or no answer at all, cuts the limit
  to `PUSHBACK_BACKOFF` of itself, down to one request at a time.

One round of requests gets one cut: the answers of requests that left before the last cut say
nothing new (they were sent at the old limit), and change nothing. Latencies are the client's
(`ApiResponse.seconds`, by its clock), so that tests drive this on a fake clock.
"""

from __future__ import annotations

import threading

SINGLE_CALL_CAP = 16  # single calls in flight at most (or --concurrency, if that is higher)
QUEUED_LOW = 2.0  # requests waiting at PB below which the limit grows
QUEUED_HIGH = 4.0  # and above which it shrinks
PUSHBACK_BACKOFF = 0.6
RECENT_WEIGHT = 0.2  # of each answer in the recent latency (about the last five to ten answers)


class AdaptiveLimit:
    """The number of requests that may be in flight: from `start`, up to `cap`, never below 1."""

    def __init__(self, start: int, cap: int = SINGLE_CALL_CAP) -> None:
        self.start = max(1, start)
        self.cap = max(cap, self.start)
        self.limit = float(self.start)
        self.round = 0  # how many cuts so far; a request carries the round it left in
        self.fastest: float | None = None  # seconds, the quickest answer so far
        self.recent: float | None = None  # seconds, the recent answers' average
        self._lock = threading.Lock()

    def allowed(self) -> int:
        """How many requests may be in flight now."""
        return max(1, int(self.limit))

    def leaving(self) -> int:
        """Call as a request leaves; give what it returns to `answered`."""
        return self.round

    def answered(self, left_in: int, seconds: float | None, pushback: bool = False) -> None:
        """A request that left in round `left_in` was answered after `seconds` (None: no answer at all);
        `pushback` if PB said "slow down" to any of its attempts."""
        with self._lock:
            if left_in != self.round:
                return  # sent before the last cut
            if pushback or seconds is None:
                self.limit = max(1.0, self.limit * PUSHBACK_BACKOFF)
                self.round += 1
                return
            self.fastest = seconds if self.fastest is None else min(self.fastest, seconds)
            self.recent = (
                seconds if self.recent is None else self.recent + RECENT_WEIGHT * (seconds - self.recent)
            )
            queued = self.limit * (1 - self.fastest / self.recent) if self.recent > 0 else 0.0
            if queued < QUEUED_LOW:
                self.limit = min(float(self.cap), self.limit + 1 / self.limit)
            elif queued > QUEUED_HIGH and self.limit > self.start:
                self.limit = max(float(self.start), self.limit - 1 / self.limit)
