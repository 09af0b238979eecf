"""OAuth client-credentials auth for the Fulfillment API (API reference §2.1, §21.4, §21.5), as an `httpx.Auth`.

A token is fetched once and reused until it is about to expire. An answer that says the token is no
good — HTTP 401, or PB's gateway codes `PB-APIM-ERR-1002` / `PB-APIM-ERR-1003` whatever the status —
renews it once and sends the request again, with a new transaction ID.
"""

from __future__ import annotations

import base64
import math
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import httpx

from loader.api.error_body import ErrorDetail, describe_errors, response_body, response_errors
from loader.errors import AuthenticationError
from loader.gateway_codes import TOKEN_RENEWAL_CODES

TOKEN_PATH = "/oauth/token"
# Renew a little before the token runs out, so that no request leaves with a token about to expire.
EXPIRY_MARGIN_SECONDS = 60
DEFAULT_LIFETIME_SECONDS = 3600.0  # when a token answer gives no expiresIn (PB's docs always show one)
RENEWAL_STATUSES = frozenset({401})
REFUSED_STATUSES = frozenset({400, 401, 403})  # the token endpoint's way of saying "not these credentials"
WRONG_KEYS_CODE = "PB-APIM-ERR-1002"  # PB's page: most often keys of the other environment
# A request extension: called with the new transaction ID before a request is sent again with a
# renewed token, so the journal knows every ID that left (see `FulfillmentClient.call`).
RESEND_HOOK = "pbload_on_resend"
# The token request's time-outs when the request it is for has none (the client always gives some).
TOKEN_TIMEOUT = httpx.Timeout(60.0, connect=10.0)


@dataclass(frozen=True)
class Token:
    """PB's token answer (§21.5); only `access_token` and `expires_in_s` steer the client."""

    access_token: str
    expires_in_s: float | None = None  # seconds
    issued_at_ms: int | None = None  # PB's clock, milliseconds since 1970
    token_type: str | None = None
    client_id: str | None = None  # PB spells it `clientID`
    org: str | None = None


def parse_token(body: Any) -> Token:
    """A token answer's fields; numbers may come as strings. Raises ValueError for an unusable answer."""
    if not isinstance(body, dict) or not body.get("access_token"):
        raise ValueError("it has no access_token")
    expires_in = _number(body.get("expiresIn"), "expiresIn")
    if expires_in is not None and expires_in <= 0:
        raise ValueError(f"expiresIn is {body['expiresIn']!r}")
    try:
        issued_at = _number(body.get("issuedAt"), "issuedAt")
    except ValueError:
        issued_at = None  # only informative: the client times the token by its own clock
    return Token(
        str(body["access_token"]),
        expires_in,
        None if issued_at is None else int(issued_at),
        _text(body.get("tokenType")),
        _text(body.get("clientID")),
        _text(body.get("org")),
    )


def _number(value: Any, name: str) -> float | None:
    """A number sent as a JSON number or as a string of digits ("35999"); None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{name} is not a number ({value!r})")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name} is not a number ({value!r})") from None
    if not math.isfinite(number):  # "NaN" or "inf" would keep a token for ever
        raise ValueError(f"{name} is not a number ({value!r})")
    return number


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def needs_new_token(response: httpx.Response) -> bool:
    """Whether an API answer says the token was refused (§21.4): 401, or 1002/1003 under any status."""
    if response.status_code in RENEWAL_STATUSES:
        return True
    if response.status_code < 400:
        return False
    return any(e.code in TOKEN_RENEWAL_CODES for e in response_errors(response))


class OAuthClientCredentials(httpx.Auth):
    """Fetches a token once, reuses it until it expires, and renews it once when the API refuses it."""

    requires_response_body = True  # 1002/1003 are read from the body

    def __init__(
        self,
        token_url: str,
        api_key: str,
        api_secret: str,
        new_transaction_id: Callable[[], str],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._token_url = token_url
        self._basic = base64.b64encode(f"{api_key}:{api_secret}".encode()).decode()
        self._new_transaction_id = new_transaction_id
        self._clock = clock
        self.token: Token | None = None  # the last token answer, for a report of what PB sent
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at:
                self._store((yield self._token_request(request)))
            token = self._token
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if not needs_new_token(response):
            return
        with self._lock:
            if self._token == token:  # nobody renewed it meanwhile
                self._store((yield self._token_request(request)))
            token = self._token
        request.headers["Authorization"] = f"Bearer {token}"
        yield self._with_new_transaction_id(request)  # only once: a second refusal is the answer

    def _with_new_transaction_id(self, request: httpx.Request) -> httpx.Request:
        """A transaction ID is never reused, not even for the same request sent again."""
        transaction_id = self._new_transaction_id()
        request.headers["X-PB-TransactionId"] = transaction_id
        hook = request.extensions.get(RESEND_HOOK)
        if hook is not None:
            hook(transaction_id)
        return request

    def _token_request(self, request: httpx.Request) -> httpx.Request:
        """The token request, with the time-outs of the request it is for.

        A request built here, not by the client, would carry no time-outs at all, and an API that
        accepts connections and never answers would keep it waiting for ever.
        """
        return httpx.Request(
            "POST",
            self._token_url,
            headers={
                "Authorization": f"Basic {self._basic}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            content=b"grant_type=client_credentials",
            extensions={"timeout": request.extensions.get("timeout", TOKEN_TIMEOUT.as_dict())},
        )

    def _store(self, response: httpx.Response) -> None:
        token = self._read_token(response)
        lifetime = token.expires_in_s if token.expires_in_s is not None else DEFAULT_LIFETIME_SECONDS
        self.token, self._token = token, token.access_token
        # timed by our own clock from the answer's arrival: PB's issuedAt is on PB's clock
        self._expires_at = self._clock() + max(lifetime - EXPIRY_MARGIN_SECONDS, lifetime / 2)

    def _read_token(self, response: httpx.Response) -> Token:
        """The token in an answer from the token endpoint, or an AuthenticationError that says why not."""
        errors = response_errors(response)
        if response.status_code in REFUSED_STATUSES:
            raise AuthenticationError(self._refused(response.status_code, errors))
        if response.status_code != 200:
            raise AuthenticationError(
                f"Could not get an access token: HTTP {response.status_code} from {self._token_url}"
                f"{_pb_answered(errors, ' (PB answered ', ')')}. Try again later."
            )
        try:
            return parse_token(response_body(response))
        except ValueError as exc:
            if errors:  # a bare gateway error under HTTP 200: a refusal all the same
                raise AuthenticationError(self._refused(response.status_code, errors)) from exc
            raise AuthenticationError(
                f"The token answer from {self._token_url} is not understood ({exc})."
            ) from exc

    def _refused(self, status: int, errors: tuple[ErrorDetail, ...]) -> str:
        message = (
            f"The API refused the credentials (HTTP {status} from {self._token_url}). "
            "Check PB_API_KEY and PB_API_SECRET for this environment."
            + _pb_answered(errors, " PB answered ", ".")
        )
        if any(e.code == WRONG_KEYS_CODE for e in errors):
            message += (
                " PB gives this code for keys of the other environment: sandbox and production keys "
                "differ, so check --env too."
            )
        return message


def _pb_answered(errors: tuple[ErrorDetail, ...], before: str, after: str) -> str:
    """PB's codes and texts for a message, or nothing when the answer had none."""
    described = describe_errors(errors).rstrip(".")  # PB's text may end a sentence of its own
    return f"{before}{described}{after}" if described else ""
