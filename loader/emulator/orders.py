"""Orders: the rules (api §11.1, §20, §21.1, §22.1-§22.3) and the nine operations O1-O9 (api §11.2).

An order is keyed by ``clientId`` + ``clientOrderId`` and addressed by its PB ID ``orderId``. The
stored record is the client's fields as sent plus ``orderId``, ``status``, ``isOnHold`` (always
false), ``holdReason`` (always empty), ``pbCreateDate``, ``pbUpdateDate`` and
``actualShippingDetails`` (null until the order ships, then a Shipping Details object: carrier,
service and tracking number, no address). The ship-to address is the top-level ``bets.SHIP_TO``
(BET-1) and the lines are ``bets.LINES.order`` (BET-2).

Status (api §21.2): CREATED → RELEASED → PICKING → SHIPPED, or CANCELED. Clients may update, change
items and cancel only while CREATED or RELEASED; the facility moves an order on (``advance``). While
an order is open its ``orderedQuantity`` per line is allocated at its ``fromNode`` (the first
configured node when it names none); shipping takes it off hand and records a shipment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import bets, errors, references, search, shipments
from .addresses import SHIP_TO_REQUIRED, address_rule
from .config import EmulatorConfig
from .errors import ErrorDetail, HttpError, bad_request, detail
from .inventory import StockChanges, adjust_stock
from .keyed import KeyedRecords, Pending
from .lifecycle import Lifecycle, require_status
from .routing import Reply, Request, Route, bulk_array, bulk_items, parse_json, require_empty
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
    check_object,
    country_code,
    is_blank,
    iso_date,
    optional,
    unique_within,
    zulu_date,
)

RESOURCE = "order"
ID_FIELD, KEY_FIELD = "orderId", "clientOrderId"
ID_PREFIX = "ORD"  # ASSUMPTION: PB's ID format is unknown; ours is ORD000001, ORD000002, ...
CREATED, RELEASED, PICKING, SHIPPED, CANCELED = "CREATED", "RELEASED", "PICKING", "SHIPPED", "CANCELED"
CHANGEABLE = (CREATED, RELEASED)  # update, change items, cancel (api §21.2)
LIFECYCLE = Lifecycle((CREATED, RELEASED, PICKING, SHIPPED), cancel=CANCELED, cancel_from=CHANGEABLE)
ACTUAL_SHIPPING = "actualShippingDetails"
RESPONSE_ONLY = (
    ID_FIELD,
    "status",
    "isOnHold",
    "holdReason",
    "pbCreateDate",
    "pbUpdateDate",
    ACTUAL_SHIPPING,
)
STATUS_FIELDS = (
    "clientId", KEY_FIELD, ID_FIELD, "customerOrderId", "status", "isOnHold", "holdReason", "createDate",
    "pbCreateDate",
)  # fmt: skip
ORDER_TYPES = ("eCom", "Retail")
BULK_ARRAY = "orders"
BULK_CANCEL = "CancelOrdersRequest"
LINES = bets.LINES.order
SHIPPING = "inputShippingDetails"
QUANTITY = "orderedQuantity"

# The Orders API's Shipping Details object (api §22.1): carrier and service, two reserved fields, no address.
SHIPPING_RULES: Mapping[str, Rule] = {
    "carrier": Str(required=True, max_len=50),
    "serviceId": Str(required=True, max_len=50),
    "serviceName": Str(max_len=64),
    "trackingNumber": Str(max_len=50),
}
# The Order Lines object (api §22.2); PB's reserved `additionalDetails` is not accepted.
LINE_RULES: Mapping[str, Rule] = {
    "lineId": Int(ge=1),
    "sku": Str(required=True, max_len=60),
    QUANTITY: Int(required=True, ge=1),
    "unitPrice": Num(ge=0),
    "lineTotal": Num(ge=0),
    "originCountryCode": country_code(),
    "originStateProvince": Str(max_len=50),
    "hSTariffCode": Str(max_len=14),
    "hSTariffCodeCountry": country_code(),
    "inventoryType": Str(),
}
ORDER_ITEMS = Arr(Obj(LINE_RULES, required=True), required=True, min_items=1)
LINE_CHECKS = (unique_within(LINES, "lineId"),)
# A bulk-cancel item names an order, and nothing else (api §11.2, newest version).
CANCEL_ITEM_RULES: Mapping[str, Rule] = {
    "clientId": Str(required=True),
    KEY_FIELD: Str(max_len=50),
    ID_FIELD: Str(),
}

# ASSUMPTION: the search names are not in our copies of the docs (api §11.2); these are the natural
# ones, the lookup key included (BET-13).
SEARCH_FIELDS: dict[str, search.Matcher] = {
    bets.LOOKUP_KEYS.order: search.exact(KEY_FIELD),
    ID_FIELD: search.exact(ID_FIELD),
    "customerOrderId": search.exact("customerOrderId"),
    "status": search.exact("status"),
    "brand": search.exact("brand"),
    "sku": search.any_item(LINES, "sku"),
    "createDate": search.date_range("createDate"),
    "pbCreateDate": search.date_range("pbCreateDate"),
}


def order_fields(nodes: Sequence[str]) -> dict[str, Rule]:
    """Return the fields of an order object for an account whose facilities are ``nodes``."""
    return {
        "clientId": Str(required=True),
        KEY_FIELD: Str(required=True, max_len=50),
        "customerOrderId": Str(max_len=50),
        "brand": Str(max_len=50),
        "references": Arr(Obj({"name": Str(max_len=50), "values": Str(max_len=255)}, required=True)),
        SHIPPING: Obj(SHIPPING_RULES, required=True),
        bets.SHIP_TO: address_rule(required=True, required_fields=SHIP_TO_REQUIRED),
        "orderType": Str(choices=ORDER_TYPES),
        "createDate": zulu_date(required=True),
        "updateDate": zulu_date(),
        "fromNode": Str(choices=tuple(nodes)),
        "shipOnDate": zulu_date(),
        "fulfillmentReleaseDate": iso_date(),
        LINES: ORDER_ITEMS,
    }


def order_rules(nodes: Sequence[str]) -> Checked:
    """Return the rules of an order object (O1, O2, O3 items)."""
    return Checked(Obj(order_fields(nodes), response_only=RESPONSE_ONLY), LINE_CHECKS)


def items_change_rules(nodes: Sequence[str]) -> Checked:
    """O4's body: the order's header fields, all optional but the key, then the lines (api §11.2).

    Only the lines are applied; the header is read for its key and checked like an order's.
    """
    needed = ("clientId", KEY_FIELD, LINES)
    fields = {name: rule if name in needed else optional(rule) for name, rule in order_fields(nodes).items()}
    return Checked(Obj(fields, response_only=RESPONSE_ONLY), LINE_CHECKS)


def duplicate(key: Any, existing: str) -> ErrorDetail:
    """Return the error for creating an order whose clientOrderId exists (api §21.4)."""
    message = f"An order with clientOrderId {key} already exists"
    return detail(errors.DUPLICATE, message, KEY_FIELD, f"Existing orderId: {existing}")


def not_found(key: Any, parameter: str = ID_FIELD) -> ErrorDetail:
    """Return the error for an order that does not exist."""
    return detail(errors.NOT_FOUND, f"No order {key} exists", parameter)


class Orders:
    """The orders of the one emulated account."""

    ADVANCE_NAME = "order"  # how `Emulator.advance` names this resource

    def __init__(self, store: Store, config: EmulatorConfig, clock: Clock) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self.rules = order_rules(config.nodes)
        self.items_change_rules = items_change_rules(config.nodes)
        self.records = KeyedRecords(store, RESOURCE, ID_FIELD, ID_PREFIX)

    # Operations -----------------------------------------------------------------------------------

    def create(self, client_id: str, order: dict[str, Any]) -> dict[str, Any]:
        """O1: store a new order and return its record; raise 400 if invalid or the key exists."""
        self._check(client_id, order, self.rules)
        key = order[KEY_FIELD]
        pending, stock = self.records.pending(client_id, [key]), StockChanges()
        if key in pending.by_key:
            raise HttpError(400, [duplicate(key, pending.by_key[key][ID_FIELD])])
        record = self._insert(pending, stock, order, pb_timestamp(self.clock()))
        self._write(client_id, pending, stock)
        return record

    def replace(self, client_id: str, order_id: str, order: dict[str, Any]) -> dict[str, Any]:
        """O2: replace the whole order; 400 if invalid or its status forbids, 404 if missing."""
        self._check(client_id, order, self.rules)
        return self._update_one(client_id, self.get(client_id, order_id), order)

    def change_items(self, client_id: str, order_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """O4: replace only the order's lines; the rest of ``body`` is checked, and read for its key alone."""
        self._check(client_id, body, self.items_change_rules)
        old = self.get(client_id, order_id)
        fields = {name: value for name, value in old.items() if name not in RESPONSE_ONLY}
        return self._update_one(client_id, old, {**fields, KEY_FIELD: body[KEY_FIELD], LINES: body[LINES]})

    def bulk(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """O3: create or update each order independently; return one result per order, in order.

        The orders are checked first (their SKUs in one query), the valid ones' keys looked up in one
        more, and what they change is written at the end in a few statements (`Pending`, `StockChanges`).
        """
        items = self._bulk_items(bulk_array(body, BULK_ARRAY), BULK_ARRAY)
        client_id = self.config.client_id  # every item's, as `bulk_items` checked
        found = [self.rules.check(order, "") for order in items]  # before the store is held: no need of it
        with self.store.atomic():
            problems = self._with_references(client_id, items, found)
            pending = self.records.pending(
                client_id, [o[KEY_FIELD] for o, p in zip(items, problems, strict=True) if not p]
            )
            stock, now = StockChanges(), pb_timestamp(self.clock())  # one moment for the whole call
            results = [
                self._bulk_result(pending, stock, o, p, now) for o, p in zip(items, problems, strict=True)
            ]
            self._write(client_id, pending, stock)
        return results

    def get(self, client_id: str, order_id: str) -> dict[str, Any]:
        """O5: return the stored order; raise 404 if there is none."""
        record = self.records.get(client_id, order_id)
        if record is None:
            raise HttpError(404, [not_found(order_id)])
        return record

    def status(self, client_id: str, order_id: str) -> dict[str, Any]:
        """O6: return the status fields of an order."""
        return _status_view(self.get(client_id, order_id))

    def search(
        self, client_id: str, query: Mapping[str, str], body: dict[str, Any], status_only: bool = False
    ) -> dict[str, Any]:
        """O7: return one page of the client's orders matching ``searchFields``, sorted by ``sort``."""
        view = _status_view if status_only else None
        return search.run(self.searched(client_id), query, body, SEARCH_FIELDS, view=view)

    def cancel(self, client_id: str, order_id: str) -> dict[str, Any]:
        """O8: cancel a CREATED or RELEASED order and return it."""
        return self._cancel(client_id, self.get(client_id, order_id))

    def cancel_bulk(self, raw_body: bytes) -> list[dict[str, Any]]:
        """O9: cancel each named order independently; return one result per item, in order."""
        body = parse_json(raw_body)
        items = bulk_array(body, BULK_CANCEL) if isinstance(body, dict) else body  # either form (api §21.3)
        return [self._cancel_result(item) for item in self._bulk_items(items, BULK_CANCEL)]

    def advance(self, client_id: str, key: str, status: str) -> dict[str, Any]:
        """Move an order (by orderId or clientOrderId) to ``status``, as the facility would."""
        record = self.records.find(client_id, key)
        if record is None:
            raise HttpError(404, [not_found(key)])
        LIFECYCLE.check_move(_noun(record), record["status"], status)
        return self._move(client_id, record, status)

    def searched(self, client_id: str) -> Records:
        """Return the client's records as a search reads them: by orderId or clientOrderId when a filter names them, else all."""
        return self.records.searched(client_id, KEY_FIELD)

    def all(self, client_id: str | None = None) -> list[dict[str, Any]]:
        """Return every stored order (of one client, or of all), oldest first."""
        return self.records.all(client_id)

    # Rules and state --------------------------------------------------------------------------------
    # Everything that can refuse a request or a bulk item does so before the first write, so a
    # refused bulk item leaves no trace although the whole request is one store transaction.

    def _check(self, client_id: str, order: dict[str, Any], rules: Rule) -> None:
        [problems] = self._problems(client_id, [order], rules)
        if problems:
            raise HttpError(400, problems)

    def _problems(
        self, client_id: str, orders: list[dict[str, Any]], rules: Rule | None = None
    ) -> list[list[ErrorDetail]]:
        """Each order's problems: its rules', then its unknown SKUs' (all orders' SKUs in one query)."""
        rules = rules or self.rules
        return self._with_references(client_id, orders, [rules.check(order, "") for order in orders])

    def _with_references(
        self, client_id: str, orders: list[dict[str, Any]], problems: list[list[ErrorDetail]]
    ) -> list[list[ErrorDetail]]:
        """Each order's problems (its rules' found already), then its unknown SKUs' (in one query)."""
        wanted = [
            references.checked_names(
                [(f"{LINES}[{i}].sku", line.get("sku")) for i, line in _lines(order.get(LINES))],
                references.flagged(found),
            )
            for order, found in zip(orders, problems, strict=True)
        ]
        types = references.product_types(self.store, client_id, [sku for named in wanted for _, sku in named])
        return [
            found + references.problems_of(named, types)
            for found, named in zip(problems, wanted, strict=True)
        ]

    def _insert(
        self, pending: Pending, stock: StockChanges, order: dict[str, Any], now: str
    ) -> dict[str, Any]:
        record = pending.create(order[KEY_FIELD], _record(order, CREATED, now, now))
        self._allocate(stock, record, +1)
        return record

    def _update_one(self, client_id: str, old: dict[str, Any], order: dict[str, Any]) -> dict[str, Any]:
        pending, stock = self.records.pending(client_id, []), StockChanges()
        record = self._update(pending, stock, old, order, pb_timestamp(self.clock()))
        self._write(client_id, pending, stock)
        return record

    def _update(
        self, pending: Pending, stock: StockChanges, old: dict[str, Any], order: dict[str, Any], now: str
    ) -> dict[str, Any]:
        if order[KEY_FIELD] != old[KEY_FIELD]:
            message = f"clientOrderId must stay {old[KEY_FIELD]} for order {old[ID_FIELD]}"
            raise bad_request(errors.BAD_REQUEST, message, KEY_FIELD, f"Given: {order[KEY_FIELD]}")
        require_status(_noun(old), old, CHANGEABLE, "updated")
        record = _record(order, old["status"], old["pbCreateDate"], now, old)
        self._allocate(stock, old, -1)
        self._allocate(stock, record, +1)
        pending.save(record[KEY_FIELD], record)
        return record

    def _write(self, client_id: str, pending: Pending, stock: StockChanges) -> None:
        pending.flush()
        stock.apply(self.store, client_id)

    def _cancel(self, client_id: str, record: dict[str, Any]) -> dict[str, Any]:
        require_status(_noun(record), record, CHANGEABLE, "canceled")
        return self._move(client_id, record, CANCELED)

    def _move(self, client_id: str, record: dict[str, Any], status: str) -> dict[str, Any]:
        """Put a checked move into effect: release on cancel; take stock and record a shipment on ship."""
        now = pb_timestamp(self.clock())
        if status == CANCELED:
            stock = StockChanges()
            self._allocate(stock, record, -1)
            stock.apply(self.store, client_id)
        elif LIFECYCLE.reaches(record["status"], status, SHIPPED):
            record[ACTUAL_SHIPPING] = self._ship(client_id, record, now)
        record.update(status=status, pbUpdateDate=now)
        self.records.save(client_id, record)
        return record

    def _ship(self, client_id: str, order: dict[str, Any], now: str) -> dict[str, Any]:
        """Take the lines off hand, record the shipment, and return the actual Shipping Details (api §22.1)."""
        node = self._node(order)
        for line in order[LINES]:
            quantity = line[QUANTITY]
            adjust_stock(self.store, client_id, node, line["sku"], -quantity, -quantity)
        shipment = shipments.record_shipment(self.store, client_id, order, node, now)
        requested = order[SHIPPING]
        service_name = {"serviceName": requested["serviceName"]} if requested.get("serviceName") else {}
        return {
            "carrier": shipment["carrier"],
            "serviceId": shipment["serviceId"],
            **service_name,
            "trackingNumber": shipment["trackingNumber"],
        }

    def _allocate(self, stock: StockChanges, order: dict[str, Any], sign: int) -> None:
        node = self._node(order)
        for line in order[LINES]:
            stock.add(node, line["sku"], allocated_delta=sign * line[QUANTITY])

    def _node(self, order: dict[str, Any]) -> str:
        return order.get("fromNode") or self.config.nodes[0]

    # Bulk -------------------------------------------------------------------------------------------

    def _bulk_items(self, items: Any, name: str) -> list[dict[str, Any]]:
        return bulk_items(items, name, "objects", self.config.max_bulk_items, self.config.client_id)

    def _bulk_result(
        self,
        pending: Pending,
        stock: StockChanges,
        order: dict[str, Any],
        problems: list[ErrorDetail],
        now: str,
    ) -> dict[str, Any]:
        try:
            if problems:
                raise HttpError(400, problems)
            record = self._upsert(pending, stock, order, now)
        except HttpError as error:
            return {KEY_FIELD: order.get(KEY_FIELD), **_errors(error)}
        return _success(record)

    def _upsert(
        self, pending: Pending, stock: StockChanges, order: dict[str, Any], now: str
    ) -> dict[str, Any]:
        """Update the order with this clientOrderId if there is one, else create it (api §21.3)."""
        old = pending.by_key.get(order[KEY_FIELD])
        if old is not None:
            return self._update(pending, stock, old, order, now)
        return self._insert(pending, stock, order, now)

    def _cancel_result(self, item: dict[str, Any]) -> dict[str, Any]:
        try:
            record = self._cancel(item["clientId"], self._named(item))
        except HttpError as error:
            return {KEY_FIELD: item.get(KEY_FIELD), ID_FIELD: item.get(ID_FIELD), **_errors(error)}
        return _success(record)

    def _named(self, item: dict[str, Any]) -> dict[str, Any]:
        """Return the order a bulk-cancel item names by orderId and/or clientOrderId."""
        problems = check_object(item, CANCEL_ITEM_RULES)
        if problems:
            raise HttpError(400, problems)
        client_id, order_id, key = item["clientId"], item.get(ID_FIELD), item.get(KEY_FIELD)
        if is_blank(order_id) and is_blank(key):
            message = "clientOrderId or orderId is required"
            raise HttpError(400, [ErrorDetail(errors.REQUIRED, message, (KEY_FIELD, ID_FIELD))])
        if is_blank(order_id):
            record = self.records.by_key(client_id, str(key))
            if record is None:
                raise HttpError(404, [not_found(key, KEY_FIELD)])
            return record
        record = self.get(client_id, str(order_id))
        if not is_blank(key) and key != record[KEY_FIELD]:
            message = f"orderId {order_id} is the order with clientOrderId {record[KEY_FIELD]}, not {key}"
            raise bad_request(errors.BAD_REQUEST, message, KEY_FIELD)
        return record

    # HTTP binding -----------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        """Return the order operations, paths relative to the Fulfillment base."""
        return [
            Route("POST", "/v1/orders", lambda r: Reply(201, self.create(r.client_id, r.body))),
            Route("PUT", "/v1/orders/{orderId}", self._put),
            Route(
                "POST",
                "/v1/orders/bulk",
                lambda r: Reply(200, {BULK_ARRAY: self.bulk(r.body)}),
                None,
                atomic=False,
            ),
            Route("PUT", "/v1/orders/{orderId}/orderItems", self._change_items),
            Route(
                "PUT", "/v1/orders/{orderId}/order-items", self._change_items
            ),  # the seed's spelling (api §18)
            Route("GET", "/v1/orders/{orderId}", self._get, client_id_from="query", body=False),
            Route("GET", "/v1/orders/{orderId}/status", self._status, client_id_from="query", body=False),
            Route(
                "POST", "/v1/orders/search", lambda r: Reply(200, self.search(r.client_id, r.query, r.body))
            ),
            Route("POST", "/v1/orders/status/search", self._status_search),
            Route(
                "PUT", "/v1/orders/{orderId}/cancel", self._cancel_one, client_id_from="query", body=False
            ),  # empty body
            Route("PUT", "/v1/orders/bulk/cancel", self._cancel_bulk, client_id_from=None, body=False),
        ]

    def _put(self, request: Request) -> Reply:
        return Reply(200, self.replace(request.client_id, request.path_params[ID_FIELD], request.body))

    def _change_items(self, request: Request) -> Reply:
        return Reply(200, self.change_items(request.client_id, request.path_params[ID_FIELD], request.body))

    def _get(self, request: Request) -> Reply:
        return Reply(200, self.get(request.client_id, request.path_params[ID_FIELD]))

    def _status(self, request: Request) -> Reply:
        return Reply(200, self.status(request.client_id, request.path_params[ID_FIELD]))

    def _status_search(self, request: Request) -> Reply:
        return Reply(200, self.search(request.client_id, request.query, request.body, status_only=True))

    def _cancel_one(self, request: Request) -> Reply:
        require_empty(request.raw_body)
        return Reply(200, self.cancel(request.client_id, request.path_params[ID_FIELD]))

    def _cancel_bulk(self, request: Request) -> Reply:
        return Reply(200, {BULK_ARRAY: self.cancel_bulk(request.raw_body)})


def _record(
    order: dict[str, Any], status: str, created: str, updated: str, old: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Return the stored form of ``order``: its client fields, then the response-only ones."""
    fields = {name: value for name, value in order.items() if name not in RESPONSE_ONLY}
    return {
        **({ID_FIELD: old[ID_FIELD]} if old else {}),
        **fields,
        "status": status,
        "isOnHold": False,
        "holdReason": [],
        "pbCreateDate": created,
        "pbUpdateDate": updated,
        ACTUAL_SHIPPING: old.get(ACTUAL_SHIPPING) if old else None,
    }


def _success(record: dict[str, Any]) -> dict[str, Any]:
    """A bulk item's result when it was carried out (BET-11)."""
    return {
        KEY_FIELD: record[KEY_FIELD],
        ID_FIELD: record[ID_FIELD],
        bets.BULK_RESULT.status: record["status"],
    }


def _errors(error: HttpError) -> dict[str, Any]:
    """The ``errors`` part of a failed bulk item's result (BET-11)."""
    return {bets.BULK_RESULT.errors: [problem.to_json() for problem in error.errors]}


def _status_view(record: dict[str, Any]) -> dict[str, Any]:
    return {name: record.get(name) for name in STATUS_FIELDS}


def _noun(record: dict[str, Any]) -> str:
    return f"Order {record[ID_FIELD]}"


def _lines(items: Any) -> list[tuple[int, dict[str, Any]]]:
    return (
        [(i, item) for i, item in enumerate(items) if isinstance(item, dict)]
        if isinstance(items, list)
        else []
    )
