"""When to try a request again, and how long to wait first (DESIGN §3, API reference §21.5).

Transient failures — no connection, a time-out, a dropped connection, 429, 500, 502, 503, 504 —
are retried with exponential backoff and full jitter, honouring `Retry-After`, within a maximum
number of attempts and a total deadline. Every other answer is final.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import httpx

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
# Failures that happen before the request reaches the server: repeating them can do no harm.
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Answers that say the request was not carried out (throttled, unavailable); a 500 or a lost
# answer may hide a change that was made, which the caller settles by looking the items up.
NOT_CARRIED_OUT = frozenset({429, 503})


@dataclass(frozen=True)
class RetryPolicy:
    """How many times, and for how long, a request is tried."""

    max_attempts: int = 6
    deadline_s: float = 300.0
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0

    def delay(self, attempt: int, retry_after: str | None, rng: random.Random) -> float:
        """Seconds to wait before attempt `attempt + 1`."""
        if retry_after:
            try:
                return min(max(float(retry_after), 0.0), self.max_delay_s)
            except ValueError:
                pass  # an HTTP date: fall back to our own backoff
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return rng.uniform(ceiling / 2, ceiling)


def is_transient(status: int) -> bool:
    """Whether an HTTP status is worth another try."""
    return status in TRANSIENT_STATUSES
