"""The circuit breaker: when the API is down as a whole, stop asking it (DESIGN §4, issue 10).

One request that runs out of tries fails its own items and the run goes on. Only when requests keep
failing — `BREAKER_THRESHOLD` in a row, or a request without any answer before the API ever
answered in this run (nothing listens, or a black hole) — is the API taken for down: the breaker
opens, every later call raises `ApiDownError` before anything leaves, and the run stops with the
answered rows kept.
"""

from __future__ import annotations

import threading

from loader.errors import ApiDownError

# Requests in a row that end without a usable answer (no answer at all, or a transient error to the
# last try) before the API is taken for down. Under heavy faults (30% 5xx, 20% 429, 10% drops) one
# request runs out of six tries about once in twenty; five in a row is a dead API, not bad luck.
BREAKER_THRESHOLD = 5


class Breaker:
    """Counts requests that failed in a row; opens at `threshold`, or at the first if none was ever answered."""

    def __init__(self, base_url: str, threshold: int = BREAKER_THRESHOLD) -> None:
        self.base_url = base_url
        self.threshold = max(1, threshold)
        self._failures = 0
        self._answered = False
        self._error: ApiDownError | None = None
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return self._error is not None

    def check(self) -> None:
        """Raise `ApiDownError` once the breaker is open: no request may leave."""
        if self._error is not None:
            raise self._error

    def answered(self, usable: bool = True) -> None:
        """The API answered a request: it is there; a usable answer also ends a run of failures."""
        with self._lock:
            self._answered = True
            if usable:
                self._failures = 0

    def failed(self, reason: str, unanswered: str | None = None) -> ApiDownError | None:
        """A request ran out of tries; the error to raise if that opens the breaker.

        `reason` says what became of it ("no answer after 6 attempts (ReadTimeout)"). A request that
        got no answer at all gives `unanswered`, the whole message (it says what to check); if the
        API never answered in this run, that opens the breaker at once.
        """
        with self._lock:
            self._failures += 1
            if self._error is None and unanswered is not None and not self._answered:
                self._error = ApiDownError(unanswered)
            elif self._error is None and self._failures >= self.threshold:
                self._error = ApiDownError(
                    f"The API at {self.base_url} stopped answering: {self._failures} requests in a row failed, the "
                    f"last one with {reason}. Nothing more was sent, and rows already answered keep their answers; "
                    "run the command again later: pbload finishes what was left and sends nothing twice."
                )
            return self._error
