"""Return orders to the fulfillment centre: rules (api §15.1, §20, §21.1, §22.3, §22.7, §22.8) and
operations (api §15.2).

A return is keyed by ``clientId`` + ``returnClientOrderId`` and addressed by its PB ID
``returnOrderId``. The stored record is the client's fields as sent plus ``returnOrderId``,
``status``, ``pbCreateDate`` and ``pbUpdateDate``. The lines are ``bets.LINES.returns`` (BET-2), each
naming its product in ``itemDetail.sku``; the Return Shipping Details and the customer's Address sit
in ``bets.RETURN_HOLDERS`` (BET-10). Update (a full replacement, single or bulk) is allowed only
while the return is ``CREATED``; the facility moves it on (``advance``): CREATED → RECEIVED → CLOSED.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import bets, errors, references, search
from .addresses import address_rule
from .config import EmulatorConfig
from .errors import ErrorDetail, HttpError, bad_request, detail
from .inventory import adjust_stock
from .keyed import KeyedRecords
from .lifecycle import Lifecycle, require_status, state_error
from .routing import Reply, Request, Route, bulk_array, bulk_items
from .search import Records
from .store import Store
from .timestamps import Clock, pb_timestamp
from .validation import Arr, Int, Num, Obj, Rule, Str, iso_date

RESOURCE = "return"
ID_FIELD = "returnOrderId"
KEY_FIELD = "returnClientOrderId"
ID_PREFIX = "RET-"  # ASSUMPTION: PB's ID format is unknown
BULK_ARRAY = "returns"
OPERATIONS = ("CREATE", "UPDATE")  # omitted: update if the return exists, else create (api §4)
CREATED, RECEIVED, CLOSED = "CREATED", "RECEIVED", "CLOSED"
LIFECYCLE = Lifecycle((CREATED, RECEIVED, CLOSED))  # ASSUMPTION (api §21.2): no cancel for returns
EDITABLE = (CREATED,)
RESPONSE_ONLY = (ID_FIELD, "status", "pbCreateDate", "pbUpdateDate")  # PB's: refused in a request
LINES = bets.LINES.returns
ITEM_DETAIL = "itemDetail"

# The Return Order Lines object (api §22.7); pbload requires the sku and the quantity.
LINE_RULES: Mapping[str, Rule] = {
    "orderLineId": Int(ge=1),
    ITEM_DETAIL: Obj(
        {"sku": Str(required=True, max_len=30), "unitPrice": Num(ge=0), "description": Str(max_len=100)},
        required=True,
    ),
    "lineTotal": Num(ge=0),
    "quantity": Int(required=True, ge=1),
    "returnReason": Arr(Str()),
}
# The Returns API's Shipping Details object (api §22.8): both names when the object is given.
SHIPPING_RULES: Mapping[str, Rule] = {
    "carrier": Str(required=True, max_len=30),
    "serviceId": Str(required=True, max_len=30),
    "serviceName": Str(max_len=30),
    "trackingNumber": Str(max_len=40),
}
RETURN_FIELDS: Mapping[str, Rule] = {
    "clientId": Str(required=True),
    "brand": Str(max_len=30),
    "orderId": Str(),
    # ASSUMPTION: not marked required in the docs, but it is the only client key of a return.
    KEY_FIELD: Str(required=True, max_len=50),
    "originalClientOrderId": Str(),
    "rmaNumber": Str(max_len=35),
    "references": Arr(Obj({"name": Str(max_len=50), "values": Str(max_len=255)})),
    "createDate": iso_date(),
    "updateDate": iso_date(),
    "returnType": Str(),  # free text: PB's values are lost (api §21.1)
    bets.RETURN_HOLDERS.shipping: Obj(SHIPPING_RULES),
    bets.RETURN_HOLDERS.address: address_rule(),
    LINES: Arr(Obj(LINE_RULES), required=True, min_items=1),
}
RETURN_RULES = Obj(RETURN_FIELDS, response_only=RESPONSE_ONLY)
# A bulk item may say what to do with it (api §15.1: bulk only).
BULK_ITEM_RULES = Obj({"operation": Str(choices=OPERATIONS), **RETURN_FIELDS}, response_only=RESPONSE_ONLY)


def _either(*fields: str) -> search.Matcher:
    """Match records where any of ``fields`` equals any of the values."""

    def build(values: list[Any], path: str) -> search.Predicate:
        return lambda record: any(record.get(field) in values for field in fields)

    return build


# The documented names (api §15.2). ``returnOrders`` takes the client's return order IDs (BET-14);
# ASSUMPTION: ``orders`` takes PB or client IDs of the original order.
SEARCH_FIELDS: dict[str, search.Matcher] = {
    bets.RETURN_ORDERS_SEARCH.name: search.exact(bets.RETURN_ORDERS_SEARCH.matches),
    "orders": _either("orderId", "originalClientOrderId"),
    "sku": search.any_item(LINES, f"{ITEM_DETAIL}.sku"),
    "returnType": search.exact("returnType"),
    "createDate": search.date_range("createDate"),
    "updateDate": search.date_range("updateDate"),
    "pbCreateDate": search.date_range("pbCreateDate"),
    "pbUpdateDate": search.date_range("pbUpdateDate"),
}


def duplicate(key: Any) -> ErrorDetail:
    """Return the error for creating a return whose returnClientOrderId exists (api §21.4)."""
    return detail(errors.DUPLICATE, f"A return with returnClientOrderId {key} already exists", KEY_FIELD)


def not_found(key: Any, parameter: str = ID_FIELD) -> ErrorDetail:
    """Return the error for a return that does not exist."""
    return detail(errors.NOT_FOUND, f"No return {key} exists", parameter)


class Returns:
    """The return orders of the one emulated account."""

    ADVANCE_NAME = "return"  # how `Emulator.advance` names this resource

    def __init__(self, store: Store, config: EmulatorConfig, clock: Clock) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self.records = KeyedRecords(store, RESOURCE, ID_FIELD, ID_PREFIX)

    # Rules ----------------------------------------------------------------------------------------

    def create(self, client_id: str, ret: dict[str, Any]) -> dict[str, Any]:
        """Store a new return and return its record; raise 400 if invalid or the key exists."""
        problems = self._problems(client_id, ret)
        if problems:
            raise HttpError(400, problems)
        record = self._insert(client_id, ret)
        if record is None:
            raise HttpError(400, [duplicate(ret[KEY_FIELD])])
        return record

    def replace(self, client_id: str, return_order_id: str, ret: dict[str, Any]) -> dict[str, Any]:
        """Replace a CREATED return by ``ret``; 400 if invalid, another key or status, 404 if missing."""
        problems = self._problems(client_id, ret)
        if problems:
            raise HttpError(400, problems)
        old = self.get(client_id, return_order_id)
        if ret[KEY_FIELD] != old[KEY_FIELD]:
            message = f"{KEY_FIELD} in the body must be the return's own"
            info = f"Stored: {old[KEY_FIELD]}; body: {ret[KEY_FIELD]}"
            raise bad_request(errors.BAD_REQUEST, message, KEY_FIELD, info)
        require_status("The return", old, EDITABLE, "updated")
        return self._replace(client_id, old, ret)

    def get(self, client_id: str, return_order_id: str) -> dict[str, Any]:
        """Return the stored return; raise 404 if there is none."""
        record = self.records.get(client_id, return_order_id)
        if record is None:
            raise HttpError(404, [not_found(return_order_id)])
        return record

    def bulk(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """Create or update each return independently; return one result per item, in order."""
        items = bulk_items(
            bulk_array(body, BULK_ARRAY),
            BULK_ARRAY,
            "return objects",
            self.config.max_bulk_items,
            self.config.client_id,
        )
        return [self._bulk_result(item) for item in items]

    def search(self, client_id: str, query: Mapping[str, str], body: dict[str, Any]) -> dict[str, Any]:
        """Return one page of the client's returns matching ``searchFields``, sorted by ``sort``."""
        return search.run(self.searched(client_id), query, body, SEARCH_FIELDS)

    def advance(self, client_id: str, key: str, status: str) -> dict[str, Any]:
        """Move a return (by returnOrderId or returnClientOrderId) to ``status``, as the facility would."""
        with self.store.atomic():  # the stock and the status change together
            record = self.records.find(client_id, key)
            if record is None:
                raise HttpError(404, [not_found(key)])
            LIFECYCLE.check_move("The return", record["status"], status)
            if LIFECYCLE.reaches(record["status"], status, RECEIVED):
                self._restock(client_id, record)
            record.update(status=status, pbUpdateDate=pb_timestamp(self.clock()))
            self.records.save(client_id, record)
            return record

    def searched(self, client_id: str) -> Records:
        """Return the client's records as a search reads them: by returnOrderId or returnClientOrderId when a filter names them, else all."""
        return self.records.searched(client_id, KEY_FIELD)

    def all(self, client_id: str | None = None) -> list[dict[str, Any]]:
        """Return every stored return (of one client, or of all), oldest first."""
        return self.records.all(client_id)

    # Helpers --------------------------------------------------------------------------------------

    def _problems(self, client_id: str, ret: dict[str, Any], rules: Obj = RETURN_RULES) -> list[ErrorDetail]:
        problems = rules.check(ret, "")
        named = [(f"{LINES}[{i}].{ITEM_DETAIL}.sku", _sku(item)) for i, item in enumerate(_items(ret))]
        return problems + references.product_problems(
            self.store, client_id, named, references.flagged(problems)
        )

    def _insert(self, client_id: str, ret: dict[str, Any]) -> dict[str, Any] | None:
        now = pb_timestamp(self.clock())
        fields = {
            **_client_fields(ret),
            "status": LIFECYCLE.initial,
            "pbCreateDate": now,
            "pbUpdateDate": now,
        }
        return self.records.create(client_id, ret[KEY_FIELD], fields)

    def _replace(self, client_id: str, old: dict[str, Any], ret: dict[str, Any]) -> dict[str, Any]:
        record = {
            ID_FIELD: old[ID_FIELD],
            **_client_fields(ret),
            "status": old["status"],
            "pbCreateDate": old["pbCreateDate"],
            "pbUpdateDate": pb_timestamp(self.clock()),
        }
        self.records.save(client_id, record)
        return record

    def _restock(self, client_id: str, record: dict[str, Any]) -> None:
        """Receiving puts the returned units on hand at the account's first fulfillment centre."""
        node = self.config.nodes[0]  # ASSUMPTION: a return names no node
        for item in _items(record):
            adjust_stock(
                self.store, client_id, node, item[ITEM_DETAIL]["sku"], on_hand_delta=item["quantity"]
            )

    def _bulk_result(self, item: dict[str, Any]) -> dict[str, Any]:
        # Rules first; only a valid item touches the store (and may then meet its key's state).
        client_id, key = item["clientId"], item.get(KEY_FIELD)
        problems = self._problems(client_id, item, BULK_ITEM_RULES)
        if not problems:
            outcome = self._apply(client_id, item)
            if isinstance(outcome, dict):
                return {
                    KEY_FIELD: key,
                    ID_FIELD: outcome[ID_FIELD],
                    bets.BULK_RESULT.status: outcome["status"],
                }
            problems = [outcome]
        return {KEY_FIELD: key, bets.BULK_RESULT.errors: [problem.to_json() for problem in problems]}

    def _apply(self, client_id: str, item: dict[str, Any]) -> dict[str, Any] | ErrorDetail:
        """Carry out a valid bulk item; return the stored record, or the problem its key's state causes."""
        old = self.records.by_key(client_id, item[KEY_FIELD])
        operation = item.get("operation") or ("UPDATE" if old else "CREATE")
        if operation == "CREATE":
            record = None if old else self._insert(client_id, item)
            return record or duplicate(item[KEY_FIELD])
        if old is None:
            return not_found(item[KEY_FIELD], KEY_FIELD)
        if old["status"] not in EDITABLE:
            return state_error(f"The return is {old['status']}; it can be updated only while CREATED")
        return self._replace(client_id, old, item)

    # HTTP binding ---------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        """Return the return operations, paths relative to the Fulfillment base."""
        return [
            Route("POST", "/v1/returns", lambda r: Reply(201, self.create(r.client_id, r.body))),
            Route("PUT", "/v1/returns/{returnOrderId}", self._put),
            Route("POST", "/v1/returns/bulk", lambda r: Reply(200, {BULK_ARRAY: self.bulk(r.body)}), None),
            # The docs show no clientId query here (api §15.2): the account's own is meant; one given is checked.
            Route("GET", "/v1/returns/{ID}", self._get, client_id_from=None, body=False),
            Route("POST", "/v1/returns/search", self._search),
        ]

    def _put(self, request: Request) -> Reply:
        return Reply(200, self.replace(request.client_id, request.path_params["returnOrderId"], request.body))

    def _get(self, request: Request) -> Reply:
        return Reply(200, self.get(self.config.client_id, request.path_params["ID"]))

    def _search(self, request: Request) -> Reply:
        return Reply(200, self.search(request.client_id, request.query, request.body))


def _items(ret: dict[str, Any]) -> list[dict[str, Any]]:
    items = ret.get(LINES)
    if not isinstance(items, list):
        return []
    return [item if isinstance(item, dict) else {} for item in items]  # keeps the line numbers


def _sku(item: dict[str, Any]) -> Any:
    item_detail = item.get(ITEM_DETAIL)
    return item_detail.get("sku") if isinstance(item_detail, dict) else None


def _client_fields(ret: dict[str, Any]) -> dict[str, Any]:
    # What a request may carry is checked already; only a bulk item's `operation` is not the return's.
    return {name: value for name, value in ret.items() if name != "operation"}
