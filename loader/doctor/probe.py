"""Doctor's calls: the `Prober` that sends them (each through `check_read_only`), and `collect`, which
makes them in order and keeps what PB answered as `Evidence`.

No credential or token value is kept: of the token answer only the field names and the values in
`TOKEN_VALUES_SHOWN` stay, the rest is hidden as soon as it arrives.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from loader.api.auth import REFUSED_STATUSES, TOKEN_PATH
from loader.api.client import FULFILLMENT_PREFIX, new_transaction_id
from loader.api.error_body import MAX_TEXT_BODY, response_body
from loader.doctor.answer import Answer, finds, first_record
from loader.doctor.guard import PROBES, PRODUCTS_BULK, Probe, check_read_only, refused_update_probe
from loader.errors import ApiError, AuthenticationError, UnreachableError
from loader.resources.products import ITEM_PATH as PRODUCT_PATH
from loader.settings import Settings

SEARCH_SIZE = 1
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
MAX_THROTTLE_RETRIES = 2  # a throttled read is asked again after the pause PB asks for, this many times
MAX_THROTTLE_WAIT_S = 10.0
DEFAULT_THROTTLE_WAIT_S = 1.0
TOKEN_VALUES_SHOWN = frozenset({"tokenType", "issuedAt", "expiresIn"})  # not secret; issuedAt gives the skew
HIDDEN = "<hidden>"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


class Prober:
    """Sends doctor's calls, each checked by `check_read_only`, and keeps every answer."""

    def __init__(
        self,
        settings: Settings,
        transport: httpx.BaseTransport | None = None,
        *,
        clock: Callable[[], float] = time.perf_counter,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = (settings.base_url or "").rstrip("/")
        self.client_id = settings.client_id
        self._basic = base64.b64encode(f"{settings.api_key}:{settings.api_secret}".encode()).decode()
        self._token: str | None = None
        self._http = httpx.Client(base_url=self.base_url, timeout=TIMEOUT, transport=transport)
        self._clock, self._wall, self._sleep = clock, wall, sleep
        self.answers: list[Answer] = []

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Prober:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(
        self, method: str, path: str, body: Any = None, params: Mapping[str, Any] | None = None
    ) -> Answer:
        """Send one read-only call (`WriteRefused` otherwise); ask again, after a pause, when throttled."""
        for attempt in range(MAX_THROTTLE_RETRIES + 1):
            answer = self._send(method, path, body, params)
            self.answers.append(answer)
            if answer.status == 401 and path != TOKEN_PATH:
                raise AuthenticationError(
                    f"PB refused the access token it had just issued (HTTP 401 on {method} {path}). Check that "
                    "PB_API_KEY and PB_API_SECRET belong to this environment (sandbox keys do not work in production)."
                )
            if not answer.throttled or attempt == MAX_THROTTLE_RETRIES:
                return answer
            self._sleep(throttle_wait(answer.retry_after))
        raise AssertionError("unreachable")  # the last attempt always returns

    def token(self) -> Answer:
        """Ask for a token and keep it; raise when PB refuses the credentials or sends no token."""
        answer = self.call("POST", TOKEN_PATH)
        where = f"from {self.base_url}{TOKEN_PATH}"
        if answer.status in REFUSED_STATUSES:
            raise AuthenticationError(
                f"PB refused the credentials (HTTP {answer.status} {where}). "
                "Check PB_API_KEY and PB_API_SECRET for this environment."
            )
        body = answer.body if isinstance(answer.body, dict) else {}
        if not answer.ok or not body.get("access_token"):
            raise ApiError(
                f"No access token came back (HTTP {answer.status} {where}). Try again later; if "
                "it goes on, check --base-url."
            )
        self._token = str(body["access_token"])
        hidden = replace(answer, body={k: v if k in TOKEN_VALUES_SHOWN else HIDDEN for k, v in body.items()})
        self.answers[-1] = hidden
        return hidden

    def search(self, path: str, fields: list[dict[str, Any]] | None = None) -> Answer:
        """One page of `SEARCH_SIZE` records of a search, filtered by `fields` when given."""
        body: dict[str, Any] = {"clientId": self.client_id}
        if fields:
            body["searchFields"] = fields
        return self.call("POST", path, body, {"page": 1, "size": SEARCH_SIZE})

    def _send(self, method: str, path: str, body: Any, params: Mapping[str, Any] | None) -> Answer:
        # The one place a request leaves: nothing that could write gets past the first line.
        check_read_only(method, path, body)
        request = self._request(method, path, body, params)
        started, wall_started = self._clock(), self._wall()
        try:
            response = self._http.send(request)
        except httpx.TransportError as exc:
            raise UnreachableError(
                f"No answer from {self.base_url} ({exc.__class__.__name__}). Check the network "
                "connection and --base-url, then run pbload doctor again."
            ) from exc
        seconds, local_time = self._clock() - started, (wall_started + self._wall()) / 2
        return Answer(
            method,
            path,
            response.status_code,
            _body(response),
            seconds,
            local_time,
            response.headers.get("date"),
            response.headers.get("retry-after"),
        )

    def _request(self, method: str, path: str, body: Any, params: Mapping[str, Any] | None) -> httpx.Request:
        if path == TOKEN_PATH:
            headers = {"Authorization": f"Basic {self._basic}", "Content-Type": FORM_CONTENT_TYPE}
            return self._http.build_request(
                "POST", TOKEN_PATH, content=b"grant_type=client_credentials", headers=headers
            )
        headers = {"X-PB-TransactionId": new_transaction_id(), "Authorization": f"Bearer {self._token}"}
        return self._http.build_request(
            method, FULFILLMENT_PREFIX + path, json=body, params=dict(params or {}), headers=headers
        )


def _body(response: httpx.Response) -> Any:
    """The answer's JSON; a body that is not JSON is kept as its text, cut."""
    body = response_body(response)
    return body[:MAX_TEXT_BODY] if isinstance(body, str) else body


def throttle_wait(retry_after: str | None) -> float:
    """Seconds to wait after a throttled answer: its Retry-After when a number, within bounds."""
    try:
        seconds = float(retry_after) if retry_after is not None else DEFAULT_THROTTLE_WAIT_S
    except ValueError:
        seconds = DEFAULT_THROTTLE_WAIT_S
    return min(max(seconds, 0.0), MAX_THROTTLE_WAIT_S)


@dataclass(frozen=True)
class KeyProbe:
    """The searches that look one found record up again by its own key (BET-13, BET-14)."""

    name: str  # the searchFields name
    field: str  # the record field it was given
    value: Any  # the record's own value
    own: Answer
    absent: Answer | None = None  # the same search for a key that cannot exist: it must find nothing
    by_pb_id: Answer | None = None  # BET-14: the same name given PB's ID, when the client key found nothing


@dataclass
class Evidence:
    """Everything PB answered, as plain data: what `judge` reads."""

    probe_key: str
    token: Answer
    searches: dict[str, Answer] = field(default_factory=dict)
    lookups: dict[str, KeyProbe] = field(default_factory=dict)
    not_found: Answer | None = None
    bulk: Answer | None = None
    answers: list[Answer] = field(default_factory=list)


def collect(prober: Prober, probe_key: str) -> Evidence:
    """Make doctor's calls, in order: token, one search per resource and its key look-up, the two probes."""
    evidence = Evidence(probe_key, prober.token())
    for probe in PROBES:
        answer = evidence.searches[probe.name] = prober.search(probe.search_path)
        lookup = _look_up(prober, probe, first_record(answer), probe_key)
        if lookup is not None:
            evidence.lookups[probe.name] = lookup
    not_found = evidence.not_found = prober.call(
        "GET", PRODUCT_PATH.format(sku=probe_key), params={"clientId": prober.client_id}
    )
    if 400 <= not_found.status < 500 and not not_found.throttled:
        # Only a SKU PB has just said it does not have goes into the refused-update probe.
        evidence.bulk = prober.call("POST", PRODUCTS_BULK, refused_update_probe(prober.client_id, probe_key))
    evidence.answers = list(prober.answers)
    return evidence


def _look_up(prober: Prober, probe: Probe, record: dict[str, Any] | None, probe_key: str) -> KeyProbe | None:
    if probe.key_name is None or probe.key_field is None or record is None:
        return None
    value = record.get(probe.key_field)
    if not _is_key(value):
        return None
    lookup = KeyProbe(probe.key_name, probe.key_field, value, _key_search(prober, probe, value))
    if finds(lookup.own, probe.key_field, value):
        # Found: make sure the name is not simply ignored (which would return every record).
        return replace(lookup, absent=_key_search(prober, probe, probe_key))
    if probe.pb_id and _is_key(record.get(probe.pb_id)):
        return replace(lookup, by_pb_id=_key_search(prober, probe, record[probe.pb_id]))
    return lookup


def _key_search(prober: Prober, probe: Probe, value: Any) -> Answer:
    return prober.search(probe.search_path, [{"name": probe.key_name, "values": [value]}])


def _is_key(value: Any) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) != ""
