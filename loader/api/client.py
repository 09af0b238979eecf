"""A thin client for the Fulfillment API: paths, headers, transaction IDs, error bodies.

It returns every HTTP answer as an `ApiResponse` (status, parsed body, errors, transaction ID);
deciding what an answer means for an item is the caller's business. Only failures to get any
answer at all, or refused credentials, are raised.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from loader.api.auth import RESEND_HOOK, TOKEN_PATH, OAuthClientCredentials, Token
from loader.api.breaker import BREAKER_THRESHOLD, Breaker
from loader.api.error_body import ErrorDetail, describe_errors, is_gateway_error, parse_errors, response_body
from loader.api.ratelimit import DEFAULT_MAX_RPS, RateLimits
from loader.api.retry import (
    NOT_SENT_ERRORS,
    THROTTLE_CODES,
    RetryPolicy,
    is_pushback,
    is_throttled,
    is_transient,
    may_have_been_carried_out,
)
from loader.errors import NoAnswerError, UnreachableError

FULFILLMENT_PREFIX = "/shippingservices/fulfillment"
# Every request, the token request included, waits at most this long to connect and for each read:
# an API that accepts connections and never answers fails within the time-outs, and then the retries.
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 60.0
TIMEOUT = httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
TRANSACTION_ID_PREFIX = "pbl-"  # + 20 hex digits: 24 characters, within the 25 PB allows


def new_transaction_id() -> str:
    """A fresh `X-PB-TransactionId`: unique, at most 25 characters of `[A-Za-z0-9_-]`."""
    return TRANSACTION_ID_PREFIX + uuid.uuid4().hex[:20]


@dataclass(frozen=True)
class ApiResponse:
    """One answer from the API (after any retries)."""

    status: int
    body: Any
    transaction_id: str
    errors: tuple[ErrorDetail, ...] = field(default=())
    attempts: int = 1
    uncertain: bool = False  # an earlier attempt may have been carried out although its answer was lost
    seconds: float = 0.0  # how long the last attempt took to be answered, by the client's clock
    pushback: int = 0  # attempts PB answered "slow down": throttled, or 503 (the adaptive concurrency's cue)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def codes(self) -> frozenset[str]:
        """The error codes of the answer."""
        return frozenset(e.code for e in self.errors if e.code)

    @property
    def throttled(self) -> bool:
        """PB said "too many requests": HTTP 429, or its gateway's spike arrest under any status (§21.4)."""
        return is_throttled(self.status, self.codes)

    @property
    def from_gateway(self) -> bool:
        """PB's gateway answered: about the request as a whole, not about any item in it."""
        return is_gateway_error(self.errors)

    def describe(self) -> str:
        """The answer for a message: `HTTP 429, PB-APIM-ERR-1006: Spike arrest violation`."""
        described = describe_errors(self.errors)
        return f"HTTP {self.status}, {described}" if described else f"HTTP {self.status}"


def timeout(connect_s: float = CONNECT_TIMEOUT_S, read_s: float = READ_TIMEOUT_S) -> httpx.Timeout:
    """Connect and read (and write, and pool) time-outs for every request."""
    return httpx.Timeout(read_s, connect=connect_s)


@dataclass
class CallStats:
    """What the client did, for the run's figures: requests, and retries by reason."""

    requests: int = 0
    retries: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, retry_reason: str | None = None) -> None:
        with self._lock:
            self.requests += 1
            if retry_reason:
                self.retries[retry_reason] = self.retries.get(retry_reason, 0) + 1

    @property
    def total_retries(self) -> int:
        return sum(self.retries.values())


class FulfillmentClient:
    """Calls Fulfillment operations under `base_url` with OAuth, transaction IDs, retries and rate limits."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        api_key: str,
        api_secret: str,
        transport: httpx.BaseTransport | None = None,
        policy: RetryPolicy = RetryPolicy(),
        max_rps: float = DEFAULT_MAX_RPS,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        seed: int | None = None,
        timeouts: httpx.Timeout = TIMEOUT,
        breaker_threshold: int = BREAKER_THRESHOLD,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.policy = policy
        self.stats = CallStats()
        self.breaker = Breaker(self.base_url, breaker_threshold)
        self._sleep = sleep
        self._clock = clock
        self._rng = random.Random(seed)
        self._limits = RateLimits(max_rps, clock, sleep)
        self._auth = OAuthClientCredentials(
            self.base_url + TOKEN_PATH, api_key, api_secret, new_transaction_id, clock
        )
        limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
        self._http = httpx.Client(
            base_url=self.base_url, auth=self._auth, timeout=timeouts, transport=transport, limits=limits
        )

    @property
    def token(self) -> Token | None:
        """PB's last token answer, with its fields (§21.5); None before the first call."""
        return self._auth.token

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> FulfillmentClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, Any] | None = None,
        *,
        operation: str | None = None,
        on_attempt: Callable[[str], None] | None = None,
    ) -> ApiResponse:
        """Send one operation (`path` as in the API reference, e.g. `/v1/products/bulk`).

        Transient failures are retried, each attempt with a new transaction ID, which `on_attempt`
        receives just before the attempt leaves (so does a request sent again with a renewed token).
        `operation` names the operation for rate limiting when `path` holds an ID.

        A request that runs out of tries without an answer raises `NoAnswerError`; one that ends in a
        transient error is returned as the answer. Either counts against the breaker, and the call
        that opens it — or any call once it is open — raises `ApiDownError` instead.
        """
        limiter = self._limits[operation or f"{method} {path}"]
        deadline = self._clock() + self.policy.deadline_s
        extensions = {RESEND_HOOK: on_attempt} if on_attempt is not None else None
        uncertain = False
        pushback = 0
        for attempt in range(1, self.policy.max_attempts + 1):
            self.breaker.check()  # the API is down: nothing more leaves, not even a retry
            transaction_id = new_transaction_id()
            if on_attempt is not None:
                on_attempt(transaction_id)
            limiter.acquire()
            sent_at = self._clock()
            last = attempt == self.policy.max_attempts or sent_at >= deadline
            try:
                raw = self._http.request(
                    method,
                    FULFILLMENT_PREFIX + path,
                    json=body,
                    params=params,
                    headers={"X-PB-TransactionId": transaction_id},
                    extensions=extensions,
                )
            except httpx.TransportError as exc:
                uncertain = uncertain or not isinstance(exc, NOT_SENT_ERRORS)
                if last:
                    self.stats.count()
                    raise self._no_answer(exc, attempt, uncertain, transaction_id) from exc
                self.stats.count(exc.__class__.__name__)
                self._sleep(self.policy.delay(attempt, None, self._rng))
                continue
            response = _to_response(raw, attempt, uncertain, self._clock() - sent_at, pushback)
            if is_pushback(response.status, response.codes):
                pushback += 1
                response = replace(response, pushback=pushback)
            if response.throttled:
                limiter.throttled(self.policy.retry_after(raw.headers.get("Retry-After")))
            else:
                limiter.passed()
            if is_transient(response.status, response.codes) and not last:
                uncertain = uncertain or may_have_been_carried_out(response.status, response.codes)
                self.stats.count(_retry_reason(response))
                self._sleep(self.policy.delay(attempt, raw.headers.get("Retry-After"), self._rng))
                continue
            self.stats.count()
            self._judge(response)
            return response
        raise AssertionError("unreachable")  # the last attempt always returns or raises

    def _judge(self, response: ApiResponse) -> None:
        """Tell the breaker how the request ended: a transient error to the last try is a failure."""
        transient = is_transient(response.status, response.codes)
        self.breaker.answered(usable=not transient)
        if transient:
            tries = f"{response.attempts} attempt{'s' if response.attempts > 1 else ''}"
            down = self.breaker.failed(f"{response.describe()} after {tries}")
            if down is not None:
                raise down

    def _no_answer(
        self, exc: httpx.TransportError, attempts: int, uncertain: bool, transaction_id: str
    ) -> UnreachableError:
        """The error for a request without an answer: its own, or the breaker's if that opens it."""
        tries = f"{attempts} attempt{'s' if attempts > 1 else ''}"
        message = (
            f"No answer from {self.base_url} after {tries} ({exc.__class__.__name__}: {exc}). Check the "
            "network connection and --base-url, then run the command again: pbload finishes what was left "
            "and sends nothing twice."
        )
        down = self.breaker.failed(f"no answer after {tries} ({exc.__class__.__name__})", message)
        return down or NoAnswerError(message, attempts, uncertain, transaction_id)

    def path_for(self, path: str) -> str:
        """The full URL of an operation, for messages."""
        return self.base_url + FULFILLMENT_PREFIX + path


def _to_response(
    response: httpx.Response, attempts: int, uncertain: bool, seconds: float, pushback: int
) -> ApiResponse:
    body = response_body(response)
    transaction_id = response.request.headers.get("X-PB-TransactionId", "")
    errors = parse_errors(body) if response.status_code >= 400 else ()
    return ApiResponse(
        response.status_code, body, transaction_id, errors, attempts, uncertain, seconds, pushback
    )


def _retry_reason(response: ApiResponse) -> str:
    """How the run's figures name a retry: PB's throttle code, or the HTTP status."""
    throttle = sorted(response.codes & THROTTLE_CODES)
    return throttle[0] if throttle else f"HTTP {response.status}"
