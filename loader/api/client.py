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
from dataclasses import dataclass, field
from typing import Any

import httpx

from loader.api.auth import TOKEN_PATH, OAuthClientCredentials
from loader.api.ratelimit import DEFAULT_MAX_RPS, RateLimits
from loader.api.retry import NOT_CARRIED_OUT, NOT_SENT_ERRORS, RetryPolicy, is_transient
from loader.errors import UnreachableError

FULFILLMENT_PREFIX = "/shippingservices/fulfillment"
TIMEOUT = httpx.Timeout(60.0, connect=10.0)
TRANSACTION_ID_PREFIX = "pbl-"  # + 20 hex digits: 24 characters, within the 25 PB allows


def new_transaction_id() -> str:
    """A fresh `X-PB-TransactionId`: unique, at most 25 characters of `[A-Za-z0-9_-]`."""
    return TRANSACTION_ID_PREFIX + uuid.uuid4().hex[:20]


@dataclass(frozen=True)
class ErrorDetail:
    """One error object from an error body, whatever legacy format it came in."""

    code: str
    message: str
    parameters: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApiResponse:
    """One answer from the API (after any retries)."""

    status: int
    body: Any
    transaction_id: str
    errors: tuple[ErrorDetail, ...] = field(default=())
    attempts: int = 1
    uncertain: bool = False  # an earlier attempt may have been carried out although its answer was lost

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


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

    def __init__(self, base_url: str, client_id: str, api_key: str, api_secret: str,
                 transport: httpx.BaseTransport | None = None, policy: RetryPolicy = RetryPolicy(),
                 max_rps: float = DEFAULT_MAX_RPS, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, seed: int | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.policy = policy
        self.stats = CallStats()
        self._sleep = sleep
        self._clock = clock
        self._rng = random.Random(seed)
        self._limits = RateLimits(max_rps, clock, sleep)
        auth = OAuthClientCredentials(self.base_url + TOKEN_PATH, api_key, api_secret, new_transaction_id)
        limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
        self._http = httpx.Client(base_url=self.base_url, auth=auth, timeout=TIMEOUT, transport=transport,
                                  limits=limits)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> FulfillmentClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None, *,
             operation: str | None = None, on_attempt: Callable[[str], None] | None = None) -> ApiResponse:
        """Send one operation (`path` as in the API reference, e.g. `/v1/products/bulk`).

        Transient failures are retried, each attempt with a new transaction ID, which `on_attempt`
        receives just before the attempt leaves. `operation` names the operation for rate limiting
        when `path` holds an ID.
        """
        limiter = self._limits[operation or f"{method} {path}"]
        deadline = self._clock() + self.policy.deadline_s
        uncertain = False
        for attempt in range(1, self.policy.max_attempts + 1):
            transaction_id = new_transaction_id()
            if on_attempt is not None:
                on_attempt(transaction_id)
            limiter.acquire()
            last = attempt == self.policy.max_attempts or self._clock() >= deadline
            try:
                response = self._http.request(method, FULFILLMENT_PREFIX + path, json=body, params=params,
                                              headers={"X-PB-TransactionId": transaction_id})
            except httpx.TransportError as exc:
                uncertain = uncertain or not isinstance(exc, NOT_SENT_ERRORS)
                if last:
                    self.stats.count()
                    raise UnreachableError(
                        f"No answer from {self.base_url} after {attempt} attempt{'s' if attempt > 1 else ''} "
                        f"({exc.__class__.__name__}: {exc}). Check the network connection and --base-url, then "
                        "run the command again: pbload finishes what was left and sends nothing twice."
                    ) from exc
                self.stats.count(exc.__class__.__name__)
                self._sleep(self.policy.delay(attempt, None, self._rng))
                continue
            if response.status_code == 429:
                limiter.throttled()
            else:
                limiter.passed()
            if is_transient(response.status_code) and not last:
                uncertain = uncertain or response.status_code not in NOT_CARRIED_OUT
                self.stats.count(f"HTTP {response.status_code}")
                self._sleep(self.policy.delay(attempt, response.headers.get("Retry-After"), self._rng))
                continue
            self.stats.count()
            return _to_response(response, attempt, uncertain)
        raise AssertionError("unreachable")  # the last attempt always returns or raises

    def path_for(self, path: str) -> str:
        """The full URL of an operation, for messages."""
        return self.base_url + FULFILLMENT_PREFIX + path


def _to_response(response: httpx.Response, attempts: int, uncertain: bool) -> ApiResponse:
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = response.text
    transaction_id = response.request.headers.get("X-PB-TransactionId", "")
    errors = parse_errors(body) if response.status_code >= 400 else ()
    return ApiResponse(response.status_code, body, transaction_id, errors, attempts, uncertain)


def parse_errors(body: Any) -> tuple[ErrorDetail, ...]:
    """Error objects from any of PB's error body formats (API reference §6.1)."""
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        entries = body["errors"]
    elif isinstance(body, list):
        entries = body
    elif isinstance(body, str) and body.strip():
        return (ErrorDetail("", body.strip()[:500]),)
    else:
        return ()
    return tuple(_detail(e) for e in entries if isinstance(e, dict))


def _detail(entry: dict[str, Any]) -> ErrorDetail:
    code = entry.get("errorCode") or entry.get("key") or ""
    message = (entry.get("errorDescription") or entry.get("message") or entry.get("userMessage")
               or entry.get("additionalInfo") or "")
    params = entry.get("parameters") or ()
    if isinstance(params, str):
        params = (params,)
    return ErrorDetail(str(code), str(message), tuple(str(p) for p in params))
