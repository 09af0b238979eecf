"""`pbload doctor`: read-only calls on a real account that settle the contract's bets (api §21.8).

Three parts, kept apart so that the judging is easy to test:

* **Probing** (`Prober`, `collect`): every request leaves through `Prober._send`, which first asks
  `check_read_only`. That allows only the token request, GETs, the six searches, and one products
  bulk call shaped as a refused update (`refused_update_probe`): one item, `operation: UPDATE`, a
  random SKU that cannot exist and no `details`, which PB must refuse, so it can create or change
  nothing. Anything else raises `WriteRefused` before a byte is sent.
* **Judging** (`judge` and the functions it calls): pure functions from the JSON PB answered to one
  `Verdict` per bet: *confirmed* (PB used our name), *contradicted* (PB used another name, which the
  evidence names) or *not seen* (nothing came back to judge by). The facts beside the bets (error
  body shape, token fields, clock skew, latency, throttling) are pure functions too.
* **Formatting** (`format_report`): the lines the CLI prints. Nothing in this module prints.

No credential or token value ever reaches a report: of the token answer only the field names are
kept, and its values are hidden as soon as it arrives.
"""

from __future__ import annotations

import base64
import secrets
import statistics
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from loader.api.auth import TOKEN_PATH
from loader.api.client import FULFILLMENT_PREFIX, new_transaction_id
from loader.bets import (ASN_KEY, ASN_LINES, BETS, BOM_COMPONENT_QUANTITY, BOM_COMPONENT_SKU, BULK_RESULT_ERRORS,
                         BY_NUMBER, DIMENSION_UNITS, DIMENSIONS, ORDER_KEY, ORDER_LINES, PRODUCT_KEY, RETURN_ADDRESS,
                         RETURN_LINES, RETURN_LOOKUP, RETURN_SHIPPING, SEARCH_RECORDS, SHIP_TO_ADDRESS, UNIT_COST,
                         UPC_SOURCE, WEIGHT, WEIGHT_UNIT, WEIGHT_VALUE, WORK_ORDER_KEY, WORK_ORDER_QUANTITY, Bet)
from loader.errors import ApiError, AuthenticationError, PbloadError, SettingsError, UnreachableError
from loader.settings import Settings

CONFIRMED, CONTRADICTED, NOT_SEEN = "confirmed", "contradicted", "not seen"
EXIT_OK, EXIT_CONTRADICTED = 0, 1

# The random key of the probes: 26 characters, within every client key's limit (a SKU's is 30).
PROBE_PREFIX = "PBLOAD-DOCTOR-"
SEARCH_SIZE = 1
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
MAX_THROTTLE_RETRIES = 2  # a throttled read is asked again after the pause PB asks for, this many times
MAX_THROTTLE_WAIT_S = 10.0
DEFAULT_THROTTLE_WAIT_S = 1.0
THROTTLE_CODE = "PB-APIM-ERR-1006"  # the gateway's spike arrest (api §22.9)
TOKEN_FIELDS = ("access_token", "tokenType", "issuedAt", "expiresIn", "clientID", "org")  # api §21.5, §22.9
TOKEN_VALUES_SHOWN = frozenset({"tokenType", "issuedAt", "expiresIn"})  # not secret; issuedAt gives the skew
HIDDEN = "<hidden>"
SKEW_WARNING_S = 60.0
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

# Documented names doctor reads (not bets). The records' own key fields are documented (api §2.3);
# BET-13 is only that the search names equal them, so the two are kept apart.
PRODUCTS_BULK = "/v1/products/bulk"
PRODUCTS_ARRAY = "products"  # the products bulk request and answer array (api §8.3)
SKU, CLIENT_ORDER_ID, CLIENT_ASN_ID, CLIENT_WORK_ORDER_ID = "sku", "clientOrderId", "clientASNId", "clientWorkOrderId"
RETURN_KEY, RETURN_ID = "returnClientOrderId", "returnOrderId"
WORK_ORDER_DOC_FIELDS = frozenset({"workOrderId", "workOrderName"})  # begin `workOrde` but are documented (§14.1)
DIMENSION_SIDES = ("length", "height", "width")  # api §22.5
DIMENSION_UNIT_FIELDS = ("dimensionUOM", "unitOfMeasurement")  # api §22.5: one or the other
IDENTIFIERS = "details.identifiers"  # api §22.4
BOM_COMPONENTS = "billOfMaterialDetails"  # api §13.1
ITEM_DETAIL = "itemDetail"  # a return line's SKU sits in it (api §22.7)
# What makes an object look like an address: PB's names (api §22.3) and the common other spellings.
ADDRESS_WORDS = frozenset({"addressLines", "cityTown", "postalCode", "countryCode", "stateProvince",
                           "addressLine1", "address1", "city", "zip", "zipCode", "postCode", "country"})
ERROR_WORDS = ("error", "message", "fault", "problem")
MAX_DEPTH = 4  # how deep the search for a field PB put elsewhere goes


class WriteRefused(PbloadError):
    """A call doctor must never make: neither a read, nor the one refused-update probe."""


# Which calls may leave -------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """How doctor reads one resource: its search, and the search name that finds a record by its own key."""

    name: str
    noun: str
    search_path: str
    key_name: str | None = None  # the searchFields name (BET-13, BET-14)
    key_field: str | None = None  # the record field whose value that name takes
    pb_id: str | None = None  # PB's ID field, tried when the key finds nothing (BET-14)
    when_empty: str = ""  # what to add when the search finds nothing


PROBES = (
    Probe("products", "product", "/v1/products/search", PRODUCT_KEY, SKU,
          when_empty=" (PB's product search sees only products created in the last six months)"),
    Probe("orders", "order", "/v1/orders/search", ORDER_KEY, CLIENT_ORDER_ID),
    Probe("asns", "ASN", "/v1/receiving-asn/search", ASN_KEY, CLIENT_ASN_ID),
    Probe("boms", "BOM", "/v1/bill-of-materials/search"),  # its key name `parentSku` is documented: no bet
    Probe("work-orders", "work order", "/v1/work-orders/search", WORK_ORDER_KEY, CLIENT_WORK_ORDER_ID),
    Probe("returns", "return", "/v1/returns/search", RETURN_LOOKUP, RETURN_KEY, RETURN_ID),
)
BY_PROBE = {probe.name: probe for probe in PROBES}
SEARCH_PATHS = frozenset(probe.search_path for probe in PROBES)
PROBE_ITEM_FIELDS = frozenset({"clientId", SKU, "productType", "operation"})


def check_read_only(method: str, path: str, body: Any = None) -> None:
    """Raise `WriteRefused` unless the call is the token, a GET, a search, or the refused-update probe."""
    method = method.upper()
    allowed = ((method == "POST" and path == TOKEN_PATH)
               or (method == "GET" and path.startswith("/v1/"))
               or (method == "POST" and path in SEARCH_PATHS)
               or (method == "POST" and path == PRODUCTS_BULK and is_refused_update_probe(body)))
    if not allowed:
        raise WriteRefused(f"pbload doctor makes read-only calls only, and refused to send {method} {path}. "
                           "This is a bug in pbload: please report it.")


def refused_update_probe(client_id: str, sku: str) -> dict[str, Any]:
    """The one bulk body doctor sends: an UPDATE of a SKU that does not exist, without the required details."""
    return {PRODUCTS_ARRAY: [{"clientId": client_id, SKU: sku, "productType": "ITEM", "operation": "UPDATE"}]}


def is_refused_update_probe(body: Any) -> bool:
    """Whether `body` is exactly `refused_update_probe`'s shape: nothing in it could create or change a product."""
    if not isinstance(body, dict) or set(body) != {PRODUCTS_ARRAY}:
        return False
    items = body[PRODUCTS_ARRAY]
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
        return False
    item = items[0]
    return (set(item) == PROBE_ITEM_FIELDS and item["operation"] == "UPDATE"
            and isinstance(item[SKU], str) and item[SKU].startswith(PROBE_PREFIX))


def new_probe_key() -> str:
    """A key no merchant has: the prefix and 12 random hex digits."""
    return PROBE_PREFIX + secrets.token_hex(6).upper()


# Probing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """One HTTP answer as doctor saw it: what it said, how long it took, and PB's clock."""

    method: str
    path: str
    status: int
    body: Any
    seconds: float
    local_time: float = 0.0  # this machine's clock (seconds since 1970) halfway through the call
    date: str | None = None  # the HTTP Date header
    retry_after: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def throttled(self) -> bool:
        return self.status == 429 or THROTTLE_CODE in error_codes(self.body)


class Prober:
    """Sends doctor's calls, each checked by `check_read_only`, and keeps every answer."""

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None, *,
                 clock: Callable[[], float] = time.perf_counter, wall: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
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

    def call(self, method: str, path: str, body: Any = None, params: Mapping[str, Any] | None = None) -> Answer:
        """Send one read-only call (`WriteRefused` otherwise); ask again, after a pause, when throttled."""
        for attempt in range(MAX_THROTTLE_RETRIES + 1):
            answer = self._send(method, path, body, params)
            self.answers.append(answer)
            if answer.status == 401 and path != TOKEN_PATH:
                raise AuthenticationError(
                    f"PB refused the access token it had just issued (HTTP 401 on {method} {path}). Check that "
                    "PB_API_KEY and PB_API_SECRET belong to this environment (sandbox keys do not work in production).")
            if not answer.throttled or attempt == MAX_THROTTLE_RETRIES:
                return answer
            self._sleep(throttle_wait(answer.retry_after))
        raise AssertionError("unreachable")  # the last attempt always returns

    def token(self) -> Answer:
        """Ask for a token and keep it; raise when PB refuses the credentials or sends no token."""
        answer = self.call("POST", TOKEN_PATH)
        where = f"from {self.base_url}{TOKEN_PATH}"
        if answer.status in (400, 401, 403):
            raise AuthenticationError(f"PB refused the credentials (HTTP {answer.status} {where}). "
                                      "Check PB_API_KEY and PB_API_SECRET for this environment.")
        body = answer.body if isinstance(answer.body, dict) else {}
        if not answer.ok or not body.get("access_token"):
            raise ApiError(f"No access token came back (HTTP {answer.status} {where}). Try again later; if "
                           "it goes on, check --base-url.")
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
            raise UnreachableError(f"No answer from {self.base_url} ({exc.__class__.__name__}). Check the network "
                                   "connection and --base-url, then run pbload doctor again.") from exc
        seconds, local_time = self._clock() - started, (wall_started + self._wall()) / 2
        return Answer(method, path, response.status_code, _json(response), seconds, local_time,
                      response.headers.get("date"), response.headers.get("retry-after"))

    def _request(self, method: str, path: str, body: Any, params: Mapping[str, Any] | None) -> httpx.Request:
        if path == TOKEN_PATH:
            headers = {"Authorization": f"Basic {self._basic}", "Content-Type": FORM_CONTENT_TYPE}
            return self._http.build_request("POST", TOKEN_PATH, content=b"grant_type=client_credentials",
                                            headers=headers)
        headers = {"X-PB-TransactionId": new_transaction_id(), "Authorization": f"Bearer {self._token}"}
        return self._http.build_request(method, FULFILLMENT_PREFIX + path, json=body, params=dict(params or {}),
                                        headers=headers)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json() if response.content else None
    except ValueError:
        return response.text[:500]


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
    evidence.not_found = prober.call("GET", f"/v1/products/{probe_key}", params={"clientId": prober.client_id})
    if 400 <= evidence.not_found.status < 500 and not evidence.not_found.throttled:
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


# Reading JSON ----------------------------------------------------------------------------------


def error_codes(body: Any) -> list[str]:
    """The error codes in an error body of any shape (standard, bare gateway, legacy array)."""
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        entries = body["errors"]
    elif isinstance(body, dict):
        entries = [body]
    elif isinstance(body, list):
        entries = body
    else:
        return []
    return [str(e.get("errorCode") or e.get("key")) for e in entries
            if isinstance(e, dict) and (e.get("errorCode") or e.get("key"))]


def records_of(body: Any) -> list[dict[str, Any]]:
    """A search answer's records: in `content` (BET-12) if there, else in its first array of objects."""
    if isinstance(body, list):
        return [r for r in body if isinstance(r, dict)]
    if not isinstance(body, dict):
        return []
    if isinstance(body.get(SEARCH_RECORDS), list):
        return [r for r in body[SEARCH_RECORDS] if isinstance(r, dict)]
    return next((value for value in body.values() if _objects(value)), [])


def first_record(answer: Answer | None) -> dict[str, Any] | None:
    """The first record of a search answered 2xx, if any."""
    if answer is None or not answer.ok:
        return None
    records = records_of(answer.body)
    return records[0] if records else None


def finds(answer: Answer | None, field_name: str, value: Any) -> bool:
    """Whether a search answer holds a record whose `field_name` is `value`."""
    return answer is not None and answer.ok and any(r.get(field_name) == value for r in records_of(answer.body))


def at(record: Any, path: str) -> Any:
    """The value at a dotted path (`details.dimensions`), or None."""
    value = record
    for key in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def json_paths(value: Any, prefix: str = "", depth: int = 0) -> Iterator[tuple[str, Any]]:
    """Every `(path, value)` inside a JSON value; an array's elements share the path `name[]`."""
    if depth > MAX_DEPTH:
        return
    if isinstance(value, dict):
        for key, child in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            yield path, child
            yield from json_paths(child, path, depth + 1)
    elif isinstance(value, list):
        for child in value:
            if isinstance(child, (dict, list)):
                yield from json_paths(child, prefix + "[]", depth + 1)


def _first_paths(record: Any) -> dict[str, Any]:
    """Each path of `json_paths` once, with its first value (an array's first element, not its last)."""
    paths: dict[str, Any] = {}
    for path, value in json_paths(record):
        paths.setdefault(path, value)
    return paths


def _objects(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _last(path: str) -> str:
    return path.rsplit(".", 1)[-1].replace("[]", "")


def _depth(path: str) -> int:
    return path.count(".") + path.count("[]")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _fields(obj: dict[str, Any]) -> str:
    return "{" + ", ".join(str(k) for k in obj) + "}"


# Judging ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One piece of evidence about a bet."""

    outcome: str
    evidence: str


@dataclass(frozen=True)
class Verdict:
    """A bet, what PB's answers say about it, and why."""

    bet: Bet
    outcome: str
    evidence: str


@dataclass(frozen=True)
class Sample:
    """The one record a search brought back for a resource, or why there is none."""

    noun: str
    record: dict[str, Any] | None
    why_none: str = ""


@dataclass(frozen=True)
class Kind:
    """What a holder should hold: at our name any object (array) will do, elsewhere only a convincing one."""

    ours: Callable[[Any], bool]
    elsewhere: Callable[[Any], bool]


def _address_like(value: Any) -> bool:
    return isinstance(value, dict) and len(ADDRESS_WORDS & set(value)) >= 2


def _lines_like(value: Any) -> bool:
    def has_sku(line: dict[str, Any]) -> bool:
        return SKU in line or isinstance(line.get(ITEM_DETAIL), dict) and SKU in line[ITEM_DETAIL]

    return _objects(value) and any(has_sku(line) for line in value)


def _dimensions_like(value: Any) -> bool:
    return isinstance(value, dict) and len(set(DIMENSION_SIDES) & set(value)) >= 2


def _shipping_like(value: Any) -> bool:
    return isinstance(value, dict) and "carrier" in value  # api §22.1, §22.8


ADDRESS = Kind(lambda v: isinstance(v, dict), _address_like)
LINES = Kind(lambda v: isinstance(v, list), _lines_like)
DIMENSION_OBJECT = Kind(lambda v: isinstance(v, dict), _dimensions_like)
SHIPPING = Kind(lambda v: isinstance(v, dict), _shipping_like)


def sample_of(probe: Probe, answer: Answer | None) -> Sample:
    """The first record of a resource's search, or a sentence saying why there is none."""
    if answer is None:
        return Sample(probe.noun, None, f"no {probe.noun} search was made")
    if answer.throttled:
        return Sample(probe.noun, None, f"the {probe.noun} search was throttled")
    if not answer.ok:
        return Sample(probe.noun, None, f"the {probe.noun} search answered HTTP {answer.status}{_codes(answer)}")
    record = first_record(answer)
    return Sample(probe.noun, record, "" if record else f"no {probe.noun} came back{probe.when_empty}")


def _codes(answer: Answer) -> str:
    codes = error_codes(answer.body)
    return f" ({', '.join(codes)})" if codes else ""


def holder(sample: Sample, ours: str, kind: Kind, what: str, prefer: str = "") -> Finding:
    """Judge a bet on where an object (array) lives: at `ours`, or elsewhere (named), or nowhere."""
    if sample.record is None:
        return Finding(NOT_SEEN, sample.why_none)
    if kind.ours(at(sample.record, ours)):
        return Finding(CONFIRMED, f"{sample.noun} {what} in `{ours}`")
    others = sorted((p for p, v in _first_paths(sample.record).items() if p != ours and kind.elsewhere(v)),
                    key=lambda p: (bool(prefer) and prefer not in p.lower(), _depth(p)))
    if others:
        return Finding(CONTRADICTED, f"{sample.noun} {what} in `{others[0]}`, not `{ours}`")
    return Finding(NOT_SEEN, f"no {what} in the {sample.noun}")


def upc(sample: Sample) -> Finding:
    """BET-3: a UPC's identifier source."""
    if sample.record is None:
        return Finding(NOT_SEEN, sample.why_none)
    identifiers = at(sample.record, IDENTIFIERS)
    entries = identifiers if isinstance(identifiers, list) else []
    sources = [str(i["source"]) for i in entries if isinstance(i, dict) and i.get("source") is not None]
    if UPC_SOURCE in sources:
        return Finding(CONFIRMED, f"an identifier of the product has source `{UPC_SOURCE}`")
    upc_like = [s for s in sources if "upc" in s.lower()]
    if upc_like:
        return Finding(CONTRADICTED, f"the product's UPC has source `{upc_like[0]}`, not `{UPC_SOURCE}`")
    if sources:
        return Finding(NOT_SEEN, f"the product's identifier sources are {', '.join(sources)}: none a UPC")
    return Finding(NOT_SEEN, f"no identifiers in the product's `{IDENTIFIERS}`")


def weight(sample: Sample) -> Finding:
    """BET-5: where a product's weight lives, and its two fields."""
    if sample.record is None:
        return Finding(NOT_SEEN, sample.why_none)
    value = at(sample.record, WEIGHT)
    if isinstance(value, dict):
        if WEIGHT_VALUE in value and WEIGHT_UNIT in value:
            return Finding(CONFIRMED, f"product weight in `{WEIGHT}` {_fields(value)}")
        return Finding(CONTRADICTED, f"product weight in `{WEIGHT}` holds {_fields(value)}, "
                                     f"not {{{WEIGHT_VALUE}, {WEIGHT_UNIT}}}")
    if value is not None:
        return Finding(CONTRADICTED, f"`{WEIGHT}` is a bare {type(value).__name__}, not an object")
    others = [p for p, _ in json_paths(sample.record) if "weight" in _last(p).lower()]
    if others:
        return Finding(CONTRADICTED, f"product weight in `{others[0]}`, not `{WEIGHT}`")
    return Finding(NOT_SEEN, "no weight in the product")


def unit_cost(sample: Sample) -> Finding:
    """BET-6: where a product's unit cost lives."""
    if sample.record is None:
        return Finding(NOT_SEEN, sample.why_none)
    if at(sample.record, UNIT_COST) is not None:
        return Finding(CONFIRMED, f"product unit cost in `{UNIT_COST}`")
    others = [p for p, v in json_paths(sample.record) if "cost" in _last(p).lower() and _is_number(v)]
    if others:
        return Finding(CONTRADICTED, f"product cost in `{others[0]}`, not `{UNIT_COST}`")
    return Finding(NOT_SEEN, "no unit cost in the product")


def dimension_units(sample: Sample) -> Finding:
    """BET-7: the unit values of a product's dimensions."""
    if sample.record is None:
        return Finding(NOT_SEEN, sample.why_none)
    dims = at(sample.record, DIMENSIONS)
    if not isinstance(dims, dict):
        dims = next((v for _, v in json_paths(sample.record) if _dimensions_like(v)), None)
    if dims is None:
        return Finding(NOT_SEEN, "no dimensions in the product")
    named = [f for f in DIMENSION_UNIT_FIELDS if f in dims]
    # A unit under a name PB's page does not give still tells the value.
    others = [k for k, v in dims.items() if k not in DIMENSION_SIDES and isinstance(v, str)]
    unit_field = (named or others or [None])[0]
    if unit_field is None:
        return Finding(NOT_SEEN, "the product's dimensions carry no unit")
    unit, where = dims[unit_field], "" if named else f" (in `{unit_field}`)"
    if unit in DIMENSION_UNITS:
        return Finding(CONFIRMED, f"the product's dimensions are in `{unit}`{where}")
    return Finding(CONTRADICTED, f"the product's dimensions are in `{unit}`{where}, not "
                                 + " or ".join(f"`{u}`" for u in DIMENSION_UNITS))


def bom_components(sample: Sample) -> Finding:
    """BET-8: the fields of a BOM's component lines."""
    if sample.record is None:
        return Finding(NOT_SEEN, sample.why_none)
    components = sample.record.get(BOM_COMPONENTS)
    if not _objects(components):
        others = [p for p, v in json_paths(sample.record)
                  if _objects(v) and any(str(k).lower().endswith("sku") for k in v[0])]
        if others:
            return Finding(CONTRADICTED, f"BOM components in `{others[0]}`, not `{BOM_COMPONENTS}`")
        return Finding(NOT_SEEN, f"no components in the BOM's `{BOM_COMPONENTS}`")
    first = components[0]
    if BOM_COMPONENT_SKU in first and BOM_COMPONENT_QUANTITY in first:
        return Finding(CONFIRMED, f"BOM components hold `{BOM_COMPONENT_SKU}` and `{BOM_COMPONENT_QUANTITY}`")
    return Finding(CONTRADICTED, f"BOM components hold {_fields(first)}, "
                                 f"not {{{BOM_COMPONENT_SKU}, {BOM_COMPONENT_QUANTITY}}}")


def work_order_quantity(sample: Sample) -> Finding:
    """BET-9: the name of a work order's quantity."""
    if sample.record is None:
        return Finding(NOT_SEEN, sample.why_none)
    if WORK_ORDER_QUANTITY in sample.record:
        return Finding(CONFIRMED, f"the work order has `{WORK_ORDER_QUANTITY}`")
    keys = [str(k) for k in sample.record if k not in WORK_ORDER_DOC_FIELDS]
    quantities = [k for k in keys if "quantit" in k.lower() or "qty" in k.lower()]
    others = quantities + [k for k in keys if k.startswith("workOrde") and k not in quantities]
    if others:
        return Finding(CONTRADICTED, f"the work order has `{others[0]}`, not `{WORK_ORDER_QUANTITY}`")
    return Finding(NOT_SEEN, "no quantity in the work order")


def bulk_result(answer: Answer | None, sku: str) -> Finding:
    """BET-11: how PB reports the refused item of the products bulk probe."""
    if answer is None:
        return Finding(NOT_SEEN, "the bulk probe was not sent (the GET of a random SKU did not answer not-found)")
    if answer.throttled:
        return Finding(NOT_SEEN, "the bulk probe was throttled")
    if not answer.ok:
        return Finding(NOT_SEEN, f"PB refused the whole bulk probe (HTTP {answer.status}{_codes(answer)}), "
                                 "so no per-item result came back")
    results, array = _bulk_results(answer.body)
    item = next((r for r in results if r.get(SKU) == sku), None)
    if item is None:
        if len(results) == 1:
            return Finding(CONTRADICTED, f"the item's result holds {_fields(results[0])}: no `{SKU}`")
        return Finding(NOT_SEEN, f"no result for the probe item in the HTTP {answer.status} answer")
    errors = item.get(BULK_RESULT_ERRORS)
    if isinstance(errors, list) and errors:
        if array != PRODUCTS_ARRAY:
            return Finding(CONTRADICTED, f"the refused item's result came in `{array}`, not `{PRODUCTS_ARRAY}`")
        return Finding(CONFIRMED, f"the refused item came back as `{SKU}` + `{BULK_RESULT_ERRORS}` "
                                  f"(HTTP {answer.status})")
    other = [str(k) for k in item if k != BULK_RESULT_ERRORS and any(w in str(k).lower() for w in ERROR_WORDS)]
    if other:
        return Finding(CONTRADICTED, f"the refused item's result holds `{other[0]}`, not `{BULK_RESULT_ERRORS}`")
    return Finding(CONTRADICTED, f"PB answered HTTP {answer.status} with no errors for an UPDATE, without details, "
                                 f"of a SKU it does not have: look for product {sku} at PB")


def _bulk_results(body: Any) -> tuple[list[dict[str, Any]], str | None]:
    if isinstance(body, dict) and isinstance(body.get(PRODUCTS_ARRAY), list):
        return [r for r in body[PRODUCTS_ARRAY] if isinstance(r, dict)], PRODUCTS_ARRAY
    if isinstance(body, dict):
        return next(((v, str(k)) for k, v in body.items() if _objects(v)), ([], None))
    if isinstance(body, list):
        return [r for r in body if isinstance(r, dict)], "a bare array"
    return [], None


def search_records(searches: Mapping[str, Answer]) -> Finding:
    """BET-12: which array of each search answer holds its records."""
    found: dict[str, list[str]] = {}
    for probe in PROBES:
        answer = searches.get(probe.name)
        where = _records_key(answer.body) if answer is not None and answer.ok else None
        if where is not None:
            found.setdefault(where, []).append(probe.noun)
    others = [f"records in `{k}` ({', '.join(nouns)} search)" for k, nouns in found.items() if k != SEARCH_RECORDS]
    if others:
        return Finding(CONTRADICTED, "; ".join(others))
    if SEARCH_RECORDS in found:
        return Finding(CONFIRMED, f"records in `{SEARCH_RECORDS}` ({len(found[SEARCH_RECORDS])} of "
                                  f"{len(PROBES)} searches)")
    return Finding(NOT_SEEN, "no search answer held an array")


def _records_key(body: Any) -> str | None:
    if isinstance(body, list):
        return "a bare array"
    if not isinstance(body, dict):
        return None
    if isinstance(body.get(SEARCH_RECORDS), list):
        return SEARCH_RECORDS
    lists = [str(k) for k, v in body.items() if isinstance(v, list)]
    return next((str(k) for k, v in body.items() if _objects(v)), lists[0] if lists else None)


def key_lookup(probe: Probe, sample: Sample, lookup: KeyProbe | None) -> Finding:
    """BET-13 and BET-14: whether a search by the record's own key finds that record, and only it."""
    if sample.record is None:
        return Finding(NOT_SEEN, sample.why_none)
    if lookup is None:
        return Finding(NOT_SEEN, f"the {probe.noun} has no `{probe.key_field}` to look it up by")
    own, by = lookup.own, f"`{lookup.name}`" + ("" if lookup.name == lookup.field else f" = its `{lookup.field}`")
    if own.throttled or (not own.ok and own.status not in (400, 404, 422)):
        return Finding(NOT_SEEN, f"the {probe.noun} search by {by} answered HTTP {own.status}{_codes(own)}")
    if own.status in (400, 422):
        return Finding(CONTRADICTED, f"PB refused the search name `{lookup.name}` (HTTP {own.status}"
                                     f"{_message(own)})")
    if not finds(own, lookup.field, lookup.value):
        if probe.pb_id and finds(lookup.by_pb_id, probe.pb_id, sample.record.get(probe.pb_id)):
            return Finding(CONTRADICTED, f"`{lookup.name}` found the {probe.noun} by PB's `{probe.pb_id}`, "
                                         f"not by its `{lookup.field}`")
        return Finding(CONTRADICTED, f"a search by {by} did not return {probe.noun} {lookup.value}")
    absent = lookup.absent
    if absent is not None and absent.ok and records_of(absent.body):
        return Finding(CONTRADICTED, f"PB seems to ignore `{lookup.name}`: a search for a key that cannot exist "
                                     "returned records")
    return Finding(CONFIRMED, f"{probe.noun} {lookup.value} found again by {by}")


def _message(answer: Answer) -> str:
    body = answer.body
    entry = body["errors"][0] if isinstance(body, dict) and _objects(body.get("errors")) else body
    if not isinstance(entry, dict):
        return ""
    text = ": ".join(str(entry[k]) for k in ("errorCode", "errorDescription") if entry.get(k))
    return f", {text}" if text else ""


def verdict(number: int, findings: Sequence[Finding]) -> Verdict:
    """A bet's verdict from its findings: any contradiction wins, then any confirmation."""
    outcomes = {f.outcome for f in findings}
    outcome = CONTRADICTED if CONTRADICTED in outcomes else CONFIRMED if CONFIRMED in outcomes else NOT_SEEN
    return Verdict(BY_NUMBER[number], outcome, "; ".join(dict.fromkeys(f.evidence for f in findings)))


def judge(evidence: Evidence) -> tuple[Verdict, ...]:
    """Every bet's verdict, in the order of `loader.bets.BETS`, from what PB answered."""
    s = {probe.name: sample_of(probe, evidence.searches.get(probe.name)) for probe in PROBES}
    product, order, asn, bom, work_order, ret = (s[p.name] for p in PROBES)

    def looked_up(*names: str) -> list[Finding]:
        return [key_lookup(BY_PROBE[n], s[n], evidence.lookups.get(n)) for n in names]

    verdicts = (
        verdict(1, [holder(order, SHIP_TO_ADDRESS, ADDRESS, "ship-to address", prefer="ship")]),
        verdict(2, [holder(order, ORDER_LINES, LINES, "lines"), holder(asn, ASN_LINES, LINES, "lines"),
                    holder(ret, RETURN_LINES, LINES, "lines")]),
        verdict(3, [upc(product)]),
        verdict(4, [holder(product, DIMENSIONS, DIMENSION_OBJECT, "dimensions")]),
        verdict(5, [weight(product)]),
        verdict(6, [unit_cost(product)]),
        verdict(7, [dimension_units(product)]),
        verdict(8, [bom_components(bom)]),
        verdict(9, [work_order_quantity(work_order)]),
        verdict(10, [holder(ret, RETURN_SHIPPING, SHIPPING, "shipping details"),
                     holder(ret, RETURN_ADDRESS, ADDRESS, "address")]),
        verdict(11, [bulk_result(evidence.bulk, evidence.probe_key)]),
        verdict(12, [search_records(evidence.searches)]),
        verdict(13, looked_up("products", "orders", "asns", "work-orders")),
        verdict(14, looked_up("returns")),
    )
    assert [v.bet for v in verdicts] == list(BETS), "doctor judges every bet, in order"
    return verdicts


# The other facts -------------------------------------------------------------------------------


def error_shape(body: Any) -> str:
    """Which of PB's error body shapes `body` is (api §6.1, §22.9)."""
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return 'standard {"errors": [...]}'
    if isinstance(body, dict) and "errorCode" in body:
        return "bare gateway {errorCode, errorDescription}"
    if isinstance(body, list):
        return "legacy array [{errorCode or key, message}]"
    if isinstance(body, dict):
        return f"other: {_fields(body)}"
    return "other: an empty body" if body in (None, "") else "other: not JSON"


def error_facts(evidence: Evidence) -> str:
    """The error body shape of the GET of a SKU that cannot exist, and any other shape seen."""
    answer = evidence.not_found
    if answer is None or answer.ok:
        status = "no answer" if answer is None else f"HTTP {answer.status}"
        return f"not seen (the GET of a SKU that cannot exist got {status})"
    shape = error_shape(answer.body)
    others = dict.fromkeys(error_shape(a.body) for a in evidence.answers
                           if a.status >= 400 and a is not answer and a.path != TOKEN_PATH)
    others.pop(shape, None)
    also = f"; also seen: {', '.join(others)}" if others else ""
    return f"{shape} (GET of a SKU that cannot exist: HTTP {answer.status}){also}"


def token_fields(token: Answer) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The token answer's field names, and the documented ones missing from it."""
    names = tuple(str(k) for k in token.body) if isinstance(token.body, dict) else ()
    return names, tuple(f for f in TOKEN_FIELDS if f not in names)


def clock_skew(token: Answer) -> tuple[float, str] | None:
    """PB's clock minus this machine's, in seconds, from the token's issuedAt or else the Date header."""
    body = token.body if isinstance(token.body, dict) else {}
    issued = _number(body.get("issuedAt"))  # PB may send it as a string (api §21.5)
    if issued is not None:
        seconds = issued / 1000 if issued > 1e11 else issued  # PB sends milliseconds (api §21.5)
        return seconds - token.local_time, "the token's issuedAt"
    if token.date:
        try:
            return parsedate_to_datetime(token.date).timestamp() - token.local_time, "the Date header, to the second"
        except (TypeError, ValueError):
            return None
    return None


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def throttles(answers: Sequence[Answer]) -> tuple[str, ...]:
    """Each throttled answer (429 or PB-APIM-ERR-1006), as `METHOD path`."""
    return tuple(f"{a.method} {a.path}" for a in answers if a.throttled)


@dataclass(frozen=True)
class DoctorReport:
    """What doctor found: one verdict per bet, and the facts beside them."""

    verdicts: tuple[Verdict, ...]
    error_body: str
    token_fields: tuple[str, ...]
    missing_token_fields: tuple[str, ...]
    skew: tuple[float, str] | None
    latencies: tuple[float, ...]  # seconds per call
    throttled: tuple[str, ...]

    @property
    def exit_code(self) -> int:
        """1 when some bet is contradicted, else 0."""
        return EXIT_CONTRADICTED if any(v.outcome == CONTRADICTED for v in self.verdicts) else EXIT_OK


def report_of(evidence: Evidence) -> DoctorReport:
    """The report of everything PB answered."""
    names, missing = token_fields(evidence.token)
    return DoctorReport(judge(evidence), error_facts(evidence), names, missing, clock_skew(evidence.token),
                        tuple(a.seconds for a in evidence.answers), throttles(evidence.answers))


def require_account(settings: Settings) -> None:
    """Refuse the built-in emulator: doctor is about an account on a server."""
    if settings.uses_builtin_emulator:
        raise SettingsError("pbload doctor examines a real account, and no credentials are set. Set PB_CLIENT_ID, "
                            "PB_API_KEY and PB_API_SECRET and run `pbload doctor --env sandbox`, or give "
                            "--base-url of a `pbload emulator serve`.")


def run_doctor(settings: Settings, transport: httpx.BaseTransport | None = None, *, probe_key: str | None = None,
               clock: Callable[[], float] = time.perf_counter, wall: Callable[[], float] = time.time,
               sleep: Callable[[float], None] = time.sleep) -> DoctorReport:
    """Make doctor's read-only calls against `settings`' account and judge every bet."""
    require_account(settings)
    with Prober(settings, transport, clock=clock, wall=wall, sleep=sleep) as prober:
        evidence = collect(prober, probe_key or new_probe_key())
    return report_of(evidence)


# Formatting ------------------------------------------------------------------------------------


def format_report(report: DoctorReport) -> list[str]:
    """The lines `pbload doctor` prints: one per bet, then the facts, then the counts."""
    width = max(len(o) for o in (CONFIRMED, CONTRADICTED, NOT_SEEN))
    lines = [f"{v.bet.name:<6}  {v.outcome:<{width}}  {v.bet.choice} — {v.evidence}" for v in report.verdicts]
    lines += ["", f"Error body: {report.error_body}", _token_line(report), _skew_line(report.skew),
              _latency_line(report.latencies), _throttle_line(report.throttled), "", _summary(report)]
    return lines


def _token_line(report: DoctorReport) -> str:
    missing = f" (missing: {', '.join(report.missing_token_fields)})" if report.missing_token_fields else ""
    return f"Token answer fields: {', '.join(report.token_fields) or 'none'}{missing}"


def _skew_line(skew: tuple[float, str] | None) -> str:
    if skew is None:
        return "Clock skew: not seen (no issuedAt and no Date header)"
    seconds, source = skew
    shown = "0.0" if abs(seconds) < 0.05 else f"{seconds:+.1f}"  # neither "+0.0" nor "-0.0"
    warning = " — set this machine's clock" if abs(seconds) > SKEW_WARNING_S else ""
    return f"Clock skew: {shown} s (PB's clock minus this machine's, from {source}){warning}"


def _latency_line(latencies: Sequence[float]) -> str:
    if not latencies:
        return "Latency: no calls"
    median, worst = statistics.median(latencies) * 1000, max(latencies) * 1000
    return f"Latency: median {median:.0f} ms, max {worst:.0f} ms over {len(latencies)} calls"


def _throttle_line(throttled: Sequence[str]) -> str:
    if not throttled:
        return "Throttling: none seen"
    calls = ", ".join(dict.fromkeys(throttled))
    return f"Throttling: {len(throttled)} answer{'s' if len(throttled) > 1 else ''} throttled (429 or " \
           f"{THROTTLE_CODE}) on {calls}; doctor waited and asked again"


def _summary(report: DoctorReport) -> str:
    counts = {o: sum(v.outcome == o for v in report.verdicts) for o in (CONFIRMED, CONTRADICTED, NOT_SEEN)}
    line = f"{counts[CONFIRMED]} confirmed, {counts[CONTRADICTED]} contradicted, {counts[NOT_SEEN]} not seen."
    if counts[CONTRADICTED]:
        line += " Each contradicted bet is a one-line change in loader/bets.py (and loader/emulator/bets.py)."
    return line
