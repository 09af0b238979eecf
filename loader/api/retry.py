"""When to try a request again, and how long to wait first (DESIGN §3, API reference §21.4, §21.5).

Transient failures — no connection, a time-out, a dropped connection, 429, 500, 502, 503, 504, and
PB's gateway throttle `PB-APIM-ERR-1006` whatever its status — are retried with exponential backoff
and full jitter, honouring `Retry-After`, within a maximum number of attempts and a total deadline.
Every other answer is final.
"""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import dataclass

import httpx

from loader.gateway_codes import THROTTLE_CODES

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
# Failures that happen before the request reaches the server: repeating them can do no harm.
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Answers that say the request was not carried out (throttled, unavailable); a 500 or a lost
# answer may hide a change that was made, which the caller settles by looking the items up.
NOT_CARRIED_OUT = frozenset({429, 503})
# §21.4, §22.9: PB's gateway stopped the request before it reached PB ("Spike arrest violation"), with
# HTTP 429 or with its code (`THROTTLE_CODES`) under another status.
THROTTLE_STATUSES = frozenset({429})
# Answers that say "slow down": a throttle, or the service unavailable (overloaded). Single-call
# resources send fewer requests at once after one (`loader.send.adaptive`).
PUSHBACK_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class RetryPolicy:
    """How many times, and for how long, a request is tried."""

    max_attempts: int = 6
    deadline_s: float = 300.0
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0

    def delay(self, attempt: int, retry_after: str | None, rng: random.Random) -> float:
        """Seconds to wait before attempt `attempt + 1`."""
        seconds = self.retry_after(retry_after)
        if seconds is not None:
            return seconds
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return rng.uniform(ceiling / 2, ceiling)

    def retry_after(self, header: str | None) -> float | None:
        """The seconds a `Retry-After` header asks for, within `max_delay_s`; None if absent or a date."""
        if header:
            try:
                return min(max(float(header), 0.0), self.max_delay_s)
            except ValueError:
                pass  # an HTTP date: the caller falls back to its own backoff
        return None


def is_throttled(status: int, codes: Collection[str] = ()) -> bool:
    """Whether the API said "too many requests", by status or by PB's gateway code (§21.4)."""
    return status in THROTTLE_STATUSES or not THROTTLE_CODES.isdisjoint(codes)


def is_pushback(status: int, codes: Collection[str] = ()) -> bool:
    """Whether an answer asks the caller to send less at once: a throttle, or 503."""
    return status in PUSHBACK_STATUSES or is_throttled(status, codes)


def is_transient(status: int, codes: Collection[str] = ()) -> bool:
    """Whether an answer (its HTTP status and error codes) is worth another try."""
    return status in TRANSIENT_STATUSES or is_throttled(status, codes)


def may_have_been_carried_out(status: int, codes: Collection[str] = ()) -> bool:
    """Whether a transient answer may hide a change PB made (then the items are looked up later)."""
    return status not in NOT_CARRIED_OUT and not is_throttled(status, codes)
