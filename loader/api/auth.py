"""OAuth client-credentials auth for the Fulfillment API (API reference §2.1), as an `httpx.Auth`."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Generator

import httpx

from loader.errors import AuthenticationError

TOKEN_PATH = "/oauth/token"
# Renew a little before the token runs out, so that no request leaves with a token about to expire.
EXPIRY_MARGIN_SECONDS = 60


class OAuthClientCredentials(httpx.Auth):
    """Fetches a token once, reuses it until it expires, and renews it once on a 401."""

    requires_response_body = True

    def __init__(self, token_url: str, api_key: str, api_secret: str,
                 new_transaction_id: Callable[[], str], clock: Callable[[], float] = time.monotonic) -> None:
        self._token_url = token_url
        self._basic = base64.b64encode(f"{api_key}:{api_secret}".encode()).decode()
        self._new_transaction_id = new_transaction_id
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at:
                self._store((yield self._token_request()))
            token = self._token
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            return
        with self._lock:
            if self._token == token:  # nobody renewed it meanwhile
                self._store((yield self._token_request()))
            token = self._token
        request.headers["Authorization"] = f"Bearer {token}"
        # a transaction ID is never reused, not even for the same request sent again
        request.headers["X-PB-TransactionId"] = self._new_transaction_id()
        yield request

    def _token_request(self) -> httpx.Request:
        return httpx.Request(
            "POST",
            self._token_url,
            headers={"Authorization": f"Basic {self._basic}",
                     "Content-Type": "application/x-www-form-urlencoded"},
            content=b"grant_type=client_credentials",
        )

    def _store(self, response: httpx.Response) -> None:
        if response.status_code in (400, 401, 403):
            raise AuthenticationError(
                f"The API refused the credentials (HTTP {response.status_code} from {self._token_url}). "
                "Check PB_API_KEY and PB_API_SECRET for this environment."
            )
        if response.status_code != 200:
            raise AuthenticationError(
                f"Could not get an access token: HTTP {response.status_code} from {self._token_url}. "
                "Try again later."
            )
        try:
            body = response.json()
            self._token = str(body["access_token"])
            lifetime = float(body.get("expiresIn", 3600))
        except (ValueError, KeyError, TypeError) as exc:
            raise AuthenticationError(f"The token answer from {self._token_url} is not understood ({exc}).") from exc
        self._expires_at = self._clock() + max(lifetime - EXPIRY_MARGIN_SECONDS, lifetime / 2)
