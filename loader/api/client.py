"""A thin client for the Fulfillment API: paths, headers, transaction IDs, error bodies.

It returns every HTTP answer as an `ApiResponse` (status, parsed body, errors, transaction ID);
deciding what an answer means for an item is the caller's business. Only failures to get any
answer at all, or refused credentials, are raised.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from loader.api.auth import TOKEN_PATH, OAuthClientCredentials
from loader.errors import UnreachableError

FULFILLMENT_PREFIX = "/shippingservices/fulfillment"
TIMEOUT = httpx.Timeout(60.0, connect=10.0)
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_ATTEMPTS = 4
BACKOFF_SECONDS = 0.5
MAX_RETRY_AFTER_SECONDS = 60.0
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
    """One answer from the API."""

    status: int
    body: Any
    transaction_id: str
    errors: tuple[ErrorDetail, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class FulfillmentClient:
    """Calls Fulfillment operations under `base_url` with OAuth and per-request transaction IDs."""

    def __init__(self, base_url: str, client_id: str, api_key: str, api_secret: str,
                 transport: httpx.BaseTransport | None = None, sleep: Any = time.sleep) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._sleep = sleep
        auth = OAuthClientCredentials(self.base_url + TOKEN_PATH, api_key, api_secret, new_transaction_id)
        self._http = httpx.Client(base_url=self.base_url, auth=auth, timeout=TIMEOUT, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> FulfillmentClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> ApiResponse:
        """Send one operation (`path` as in the API reference, e.g. `/v1/products/bulk`)."""
        url = FULFILLMENT_PREFIX + path
        for attempt in range(1, MAX_ATTEMPTS + 1):
            transaction_id = new_transaction_id()
            try:
                response = self._http.request(method, url, json=body, params=params,
                                              headers={"X-PB-TransactionId": transaction_id})
            except httpx.TransportError as exc:
                if attempt == MAX_ATTEMPTS or not _safe_to_repeat(exc):
                    raise UnreachableError(
                        f"No answer from {self.base_url} ({exc.__class__.__name__}: {exc}). "
                        "Check the network connection and --base-url, then run the command again."
                    ) from exc
                self._sleep(retry_delay(attempt, None))
                continue
            if response.status_code in TRANSIENT_STATUSES and attempt < MAX_ATTEMPTS:
                self._sleep(retry_delay(attempt, response.headers.get("Retry-After")))
                continue
            return _to_response(response)
        raise AssertionError("unreachable")  # the loop always returns or raises

    def path_for(self, path: str) -> str:
        """The full URL of an operation, for messages."""
        return self.base_url + FULFILLMENT_PREFIX + path


def _safe_to_repeat(exc: httpx.TransportError) -> bool:
    # Only errors raised before the request reached the server are repeated here; an answer lost
    # on the way back may hide a change that was made, and is settled by the caller instead.
    return isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))


def retry_delay(attempt: int, retry_after: str | None) -> float:
    """Seconds to wait before attempt `attempt + 1`: `Retry-After` if given, else exponential."""
    if retry_after:
        try:
            return min(float(retry_after), MAX_RETRY_AFTER_SECONDS)
        except ValueError:
            pass
    return BACKOFF_SECONDS * 2 ** (attempt - 1)


def _to_response(response: httpx.Response) -> ApiResponse:
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = response.text
    transaction_id = response.request.headers.get("X-PB-TransactionId", "")
    errors = parse_errors(body) if response.status_code >= 400 else ()
    return ApiResponse(response.status_code, body, transaction_id, errors)


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
