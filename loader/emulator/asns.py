"""ASNs (receiving): the rules (api §9.1, §20, §21.1, §22.6) and the five operations A1-A5 (api §9.2).

An ASN is addressed by its PB ID ``receivingASNId``. Its client key ``clientASNId`` is required only
for ``inboundType`` ``ASN`` (a ``PO`` names its ``purchaseOrderNumber``); when given it is unique per
client and may not change on update. The stored record is the client's fields as sent plus
``receivingASNId``, ``status``, ``pbCreateDate`` and ``pbUpdateDate``. The lines are
``bets.LINES.asn`` (BET-2), each dated by its own ``estimatedDeliveryDate`` (there is no header
``expectedArrivalDate``). PB's reserved fields (``invoiceNumber``, a line's ``alternateSKU`` and
``licensePlateDetails``) and the lines' response-only ``PBlineId`` and ``receivedQuantity`` are refused.

Status (api §21.2): CREATED → RECEIVING → RECEIVED, or CANCELED. Clients may update and cancel only
while CREATED; the facility moves an ASN on (``advance``), and reaching RECEIVED adds every line's
``expectedQuantity`` to the stock on hand at ``receivingNode``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import bets, errors, references, search
from .config import EmulatorConfig
from .errors import ErrorDetail, HttpError, bad_request, detail
from .inventory import adjust_stock
from .keyed import KeyedRecords
from .lifecycle import Lifecycle, require_status
from .routing import Reply, Request, Route, require_empty
from .search import Records
from .store import Store
from .timestamps import Clock, pb_timestamp
from .validation import (
    Arr,
    Checked,
    Int,
    Num,
    Obj,
    Rule,
    Str,
    country_code,
    is_blank,
    required_when,
    unique_within,
    zulu_date,
)

RESOURCE = "asn"
ID_FIELD, KEY_FIELD = "receivingASNId", "clientASNId"
ID_PREFIX = "ASN"  # ASSUMPTION: PB's ID format is unknown; ours is ASN000001, ASN000002, ...
CREATED, RECEIVING, RECEIVED, CANCELED = "CREATED", "RECEIVING", "RECEIVED", "CANCELED"
CHANGEABLE = (CREATED,)  # update and cancel (api §21.2)
LIFECYCLE = Lifecycle((CREATED, RECEIVING, RECEIVED), cancel=CANCELED, cancel_from=CHANGEABLE)
RESPONSE_ONLY = (ID_FIELD, "status", "pbCreateDate", "pbUpdateDate")
LINE_RESPONSE_ONLY = ("PBlineId", "receivedQuantity")  # api §22.6
# ASSUMPTION: the status search's smaller record (api §2.5) holds these fields.
STATUS_FIELDS = (
    "clientId", ID_FIELD, KEY_FIELD, "purchaseOrderNumber", "inboundType", "receivingNode", "status",
    "pbCreateDate", "pbUpdateDate",
)  # fmt: skip
INBOUND_TYPES = ("PO", "ASN")
LINES = bets.LINES.asn
QUANTITY = "expectedQuantity"

COST_DETAILS: Mapping[str, Rule] = {
    "retailPrice": Num(ge=0),
    "wholeSalePrice": Num(ge=0),
    "unitCost": Num(ge=0),  # documented here (api §22.6); not BET-6, which is the product's
    "currency": Str(max_len=2),
}
# The ASN Lines object (api §22.6).
LINE_RULES: Mapping[str, Rule] = {
    "lineId": Int(ge=1),
    "purchaseOrderNumberLineId": Int(),
    "sku": Str(required=True, max_len=30),
    QUANTITY: Int(required=True, ge=1),
    "unitOfMeasurement": Str(),
    "estimatedDeliveryDate": zulu_date(),
    "costDetails": Obj(COST_DETAILS),
    "inventoryType": Str(),
    "originCountryCode": country_code(),
}

# ASSUMPTION: the search names are not in our copies of the docs (api §9.2); these are the natural
# ones, the lookup key included (BET-13).
SEARCH_FIELDS: dict[str, search.Matcher] = {
    bets.LOOKUP_KEYS.asn: search.exact(KEY_FIELD),
    ID_FIELD: search.exact(ID_FIELD),
    "purchaseOrderNumber": search.exact("purchaseOrderNumber"),
    "inboundType": search.exact("inboundType"),
    "receivingNode": search.exact("receivingNode"),
    "status": search.exact("status"),
    "brand": search.exact("brand"),
    "sku": search.any_item(LINES, "sku"),
    "pbCreateDate": search.date_range("pbCreateDate"),
}


def asn_rules(nodes: Sequence[str]) -> Checked:
    """Return the rules of an ASN object for an account whose facilities are ``nodes``."""
    fields: Mapping[str, Rule] = {
        "clientId": Str(required=True),
        "brand": Str(max_len=30),
        "inboundType": Str(choices=INBOUND_TYPES),
        KEY_FIELD: Str(max_len=35),
        "purchaseOrderNumber": Str(max_len=35),
        "receivingNode": Str(required=True, choices=tuple(nodes)),
        "vendorDetails": Obj({"name": Str(required=True, max_len=50), "code": Str(required=True)}),
        "shippingDetails": Obj(
            {"carrier": Str(required=True, max_len=30), "serviceId": Str(), "trackingNumber": Str(max_len=50)}
        ),
        LINES: Arr(
            Obj(LINE_RULES, required=True, response_only=LINE_RESPONSE_ONLY), required=True, min_items=1
        ),
    }
    checks = (
        required_when(KEY_FIELD, "inboundType", ("ASN",)),
        required_when("purchaseOrderNumber", "inboundType", ("PO",)),
        unique_within(LINES, "lineId"),
    )
    return Checked(Obj(fields, response_only=RESPONSE_ONLY), checks)


def duplicate(key: Any, existing: str) -> ErrorDetail:
    """Return the error for creating an ASN whose clientASNId exists (api §21.4)."""
    message = f"An ASN with clientASNId {key} already exists"
    return detail(errors.DUPLICATE, message, KEY_FIELD, f"Existing receivingASNId: {existing}")


def not_found(key: Any) -> ErrorDetail:
    """Return the error for an ASN that does not exist."""
    return detail(errors.NOT_FOUND, f"No ASN {key} exists", ID_FIELD)


class AsnRecords(KeyedRecords):
    """`KeyedRecords` whose client key is optional: a PO-type ASN may come without a clientASNId."""

    def create(self, client_id: str, key: str | None, record: dict[str, Any]) -> dict[str, Any] | None:
        """Store ``record`` under a new PB ID (indexed by ``key`` if given); None if the key is taken."""
        if key is not None:
            return super().create(client_id, key, record)
        with self.store.atomic():
            stored = {self.id_field: self._next_id(), **record}
            self.store.insert(self.resource, client_id, stored[self.id_field], stored)
        return stored


class Asns:
    """The ASNs of the one emulated account."""

    ADVANCE_NAME = "asn"  # how `Emulator.advance` names this resource

    def __init__(self, store: Store, config: EmulatorConfig, clock: Clock) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self.rules = asn_rules(config.nodes)
        self.records = AsnRecords(store, RESOURCE, ID_FIELD, ID_PREFIX)

    # Operations -----------------------------------------------------------------------------------

    def create(self, client_id: str, asn: dict[str, Any]) -> dict[str, Any]:
        """A1: store a new ASN and return its record; raise 400 if invalid or the clientASNId exists."""
        self._check(client_id, asn)
        now = pb_timestamp(self.clock())
        record = self.records.create(client_id, _key(asn), _record(asn, CREATED, now, now))
        if record is None:
            existing = self.records.by_key(client_id, asn[KEY_FIELD]) or {}
            raise HttpError(400, [duplicate(asn[KEY_FIELD], existing.get(ID_FIELD, ""))])
        return record

    def replace(self, client_id: str, asn_id: str, asn: dict[str, Any]) -> dict[str, Any]:
        """A2: replace a CREATED ASN by ``asn`` (the whole object); 400 if invalid or not CREATED, 404 if missing."""
        self._check(client_id, asn)
        old = self.get(client_id, asn_id)
        if _key(asn) != _key(old):
            message = f"clientASNId must stay {_key(old)} for ASN {asn_id}"
            raise bad_request(errors.BAD_REQUEST, message, KEY_FIELD, f"Given: {_key(asn)}")
        require_status(_noun(old), old, CHANGEABLE, "updated")
        record = {
            ID_FIELD: asn_id,
            **_record(asn, old["status"], old["pbCreateDate"], pb_timestamp(self.clock())),
        }
        self.records.save(client_id, record)
        return record

    def get(self, client_id: str, asn_id: str) -> dict[str, Any]:
        """A3: return the stored ASN; raise 404 if there is none."""
        record = self.records.get(client_id, asn_id)
        if record is None:
            raise HttpError(404, [not_found(asn_id)])
        return record

    def search(
        self, client_id: str, query: Mapping[str, str], body: dict[str, Any], status_only: bool = False
    ) -> dict[str, Any]:
        """A4: return one page of the client's ASNs matching ``searchFields``, sorted by ``sort``."""
        view = _status_view if status_only else None
        return search.run(self.searched(client_id), query, body, SEARCH_FIELDS, view=view)

    def cancel(self, client_id: str, asn_id: str) -> dict[str, Any]:
        """A5: cancel a CREATED ASN and return it."""
        record = self.get(client_id, asn_id)
        require_status(_noun(record), record, CHANGEABLE, "canceled")
        return self._move(client_id, record, CANCELED)

    def advance(self, client_id: str, key: str, status: str) -> dict[str, Any]:
        """Move an ASN (by receivingASNId or clientASNId) to ``status``, as the facility would."""
        record = self.records.find(client_id, key)
        if record is None:
            raise HttpError(404, [not_found(key)])
        LIFECYCLE.check_move(_noun(record), record["status"], status)
        return self._move(client_id, record, status)

    def searched(self, client_id: str) -> Records:
        """Return the client's records as a search reads them: by receivingASNId or clientASNId when a filter names them, else all."""
        return self.records.searched(client_id, KEY_FIELD)

    def all(self, client_id: str | None = None) -> list[dict[str, Any]]:
        """Return every stored ASN (of one client, or of all), oldest first."""
        return self.records.all(client_id)

    # Rules and state --------------------------------------------------------------------------------

    def _check(self, client_id: str, asn: dict[str, Any]) -> None:
        problems = self.rules.check(asn, "")
        items = asn.get(LINES)
        lines = enumerate(items) if isinstance(items, list) else iter(())
        named = [(f"{LINES}[{i}].sku", item.get("sku")) for i, item in lines if isinstance(item, dict)]
        problems += references.product_problems(self.store, client_id, named, references.flagged(problems))
        if problems:
            raise HttpError(400, problems)

    def _move(self, client_id: str, record: dict[str, Any], status: str) -> dict[str, Any]:
        """Put a checked move into effect: reaching RECEIVED puts the goods on hand."""
        if LIFECYCLE.reaches(record["status"], status, RECEIVED):
            for line in record[LINES]:
                adjust_stock(
                    self.store, client_id, record["receivingNode"], line["sku"], on_hand_delta=line[QUANTITY]
                )
        record.update(status=status, pbUpdateDate=pb_timestamp(self.clock()))
        self.records.save(client_id, record)
        return record

    # HTTP binding -----------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        """Return the ASN operations, paths relative to the Fulfillment base."""
        return [
            Route("POST", "/v1/receiving-asn", lambda r: Reply(201, self.create(r.client_id, r.body))),
            Route("PUT", "/v1/receiving-asn/{receivingASNId}", self._put),
            Route("GET", "/v1/receiving-asn/{receivingASNId}", self._get, client_id_from="query", body=False),
            Route(
                "POST",
                "/v1/receiving-asn/search",
                lambda r: Reply(200, self.search(r.client_id, r.query, r.body)),
            ),
            Route("POST", "/v1/receiving-asn/status/search", self._status_search),
            Route(
                "PUT",
                "/v1/receiving-asn/{receivingASNId}/cancel",
                self._cancel,
                client_id_from="query",
                body=False,
            ),
        ]

    def _put(self, request: Request) -> Reply:
        return Reply(200, self.replace(request.client_id, request.path_params[ID_FIELD], request.body))

    def _get(self, request: Request) -> Reply:
        return Reply(200, self.get(request.client_id, request.path_params[ID_FIELD]))

    def _status_search(self, request: Request) -> Reply:
        return Reply(200, self.search(request.client_id, request.query, request.body, status_only=True))

    def _cancel(self, request: Request) -> Reply:
        require_empty(request.raw_body)  # the documented body is empty (api §9.2)
        return Reply(200, self.cancel(request.client_id, request.path_params[ID_FIELD]))


def _record(asn: dict[str, Any], status: str, created: str, updated: str) -> dict[str, Any]:
    fields = {name: value for name, value in asn.items() if name not in RESPONSE_ONLY}
    return {**fields, "status": status, "pbCreateDate": created, "pbUpdateDate": updated}


def _status_view(record: dict[str, Any]) -> dict[str, Any]:
    return {name: record.get(name) for name in STATUS_FIELDS}


def _key(asn: dict[str, Any]) -> str | None:
    key = asn.get(KEY_FIELD)
    return None if is_blank(key) else str(key)


def _noun(record: dict[str, Any]) -> str:
    return f"ASN {record[ID_FIELD]}"
