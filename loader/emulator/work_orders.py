"""Work orders (kitting jobs): the rules (api §14.1, §20, §21.1) and the operations (api §14.2).

A work order is keyed by ``clientId`` + ``clientWorkOrderId`` and addressed by its PB ID
``workOrderId``. The stored record is the client's fields as sent plus ``workOrderId``, ``status``,
``pbCreateDate`` and ``pbUpdateDate`` (and the cancel fields once canceled). Update (a full
replacement) and cancel are allowed only while the order is ``CREATED``; the facility moves it on
(``advance``): CREATED → INPROGRESS → COMPLETE → CLOSED, or CANCELED. The number of kits to build
is ``bets.WORK_ORDER_QUANTITY`` (BET-9).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import bets, boms, errors, references, search
from .config import EmulatorConfig
from .errors import ErrorDetail, HttpError, bad_request, detail
from .inventory import adjust_stock
from .keyed import KeyedRecords
from .lifecycle import Lifecycle, require_status
from .routing import Reply, Request, Route
from .search import Records
from .store import Store
from .timestamps import Clock, pb_timestamp
from .validation import Int, Obj, Rule, Str, check_object, iso_date, zulu_date

RESOURCE = "workOrder"
ID_FIELD = "workOrderId"
KEY_FIELD = "clientWorkOrderId"
ID_PREFIX = "WO-"  # ASSUMPTION: PB's ID format is unknown
TYPES = ("KIT", "REFURBISHED", "OTHER")
CREATED, INPROGRESS, COMPLETE, CLOSED, CANCELED = "CREATED", "INPROGRESS", "COMPLETE", "CLOSED", "CANCELED"
LIFECYCLE = Lifecycle((CREATED, INPROGRESS, COMPLETE, CLOSED), cancel=CANCELED, cancel_from=(CREATED,))
EDITABLE = (CREATED,)  # ASSUMPTION: the docs do not say which statuses allow update or cancel
CANCEL_FIELDS = ("cancelReason", "cancelDate", "pbCancelDate")
RESPONSE_ONLY = (
    ID_FIELD,
    "status",
    "pbCreateDate",
    "pbUpdateDate",
    *CANCEL_FIELDS,
)  # PB's: refused in a request
QUANTITY = bets.WORK_ORDER_QUANTITY

# W5's body (api §14.2): exactly these fields.
CANCEL_RULES: Mapping[str, Rule] = {
    "clientId": Str(required=True),
    KEY_FIELD: Str(required=True, max_len=35),
    "brand": Str(max_len=30),
    "cancelReason": Str(max_len=50),
    "cancelDate": iso_date(),
}
# ASSUMPTION: the status search's smaller record (api §2.5) holds these fields.
STATUS_FIELDS = (
    "clientId", KEY_FIELD, ID_FIELD, "workOrderName", "type", "sku", QUANTITY, "node", "brand", "status",
    "createDate", "updateDate", "pbCreateDate", "pbUpdateDate",
)  # fmt: skip

# ASSUMPTION: the search names are not in our copies of the docs; these are the natural ones, the
# lookup key included (BET-13).
SEARCH_FIELDS: dict[str, search.Matcher] = {
    bets.LOOKUP_KEYS.work_order: search.exact(KEY_FIELD),
    ID_FIELD: search.exact(ID_FIELD),
    "status": search.exact("status"),
    "type": search.exact("type"),
    "sku": search.exact("sku"),
    "node": search.exact("node"),
    "brand": search.exact("brand"),
    "createDate": search.date_range("createDate"),
    "updateDate": search.date_range("updateDate"),
    "pbCreateDate": search.date_range("pbCreateDate"),
    "pbUpdateDate": search.date_range("pbUpdateDate"),
}


def work_order_rules(nodes: Sequence[str]) -> Obj:
    """Return the work order's rules; ``node`` must be one of the account's fulfillment centres."""
    fields: Mapping[str, Rule] = {
        "clientId": Str(required=True),
        KEY_FIELD: Str(required=True, max_len=35),
        "workOrderName": Str(required=True, max_len=30),
        "description": Str(max_len=250),
        "type": Str(required=True, choices=TYPES),
        "node": Str(required=True, choices=tuple(nodes)),
        "sku": Str(required=True, max_len=30),
        "brand": Str(max_len=50),
        QUANTITY: Int(required=True, ge=1),  # kits to build (BET-9)
        "createDate": zulu_date(),
        "updateDate": zulu_date(),
    }
    return Obj(fields, response_only=RESPONSE_ONLY)


def duplicate(key: Any) -> ErrorDetail:
    """Return the error for creating a work order whose clientWorkOrderId exists (api §21.4)."""
    return detail(errors.DUPLICATE, f"A work order with clientWorkOrderId {key} already exists", KEY_FIELD)


def not_found(key: str) -> ErrorDetail:
    """Return the error for a work order that does not exist."""
    return detail(errors.NOT_FOUND, f"No work order {key} exists", ID_FIELD)


class WorkOrders:
    """The work orders of the one emulated account."""

    ADVANCE_NAME = "workOrder"  # how `Emulator.advance` names this resource

    def __init__(self, store: Store, config: EmulatorConfig, clock: Clock) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self.rules = work_order_rules(config.nodes)
        self.records = KeyedRecords(store, RESOURCE, ID_FIELD, ID_PREFIX)

    # Rules ----------------------------------------------------------------------------------------

    def create(self, client_id: str, order: dict[str, Any]) -> dict[str, Any]:
        """Store a new work order and return its record; raise 400 if invalid or the key exists."""
        self._check(client_id, order)
        now = pb_timestamp(self.clock())
        fields = {
            **_client_fields(order),
            "status": LIFECYCLE.initial,
            "pbCreateDate": now,
            "pbUpdateDate": now,
        }
        record = self.records.create(client_id, order[KEY_FIELD], fields)
        if record is None:
            raise HttpError(400, [duplicate(order[KEY_FIELD])])
        return record

    def replace(self, client_id: str, work_order_id: str, order: dict[str, Any]) -> dict[str, Any]:
        """Replace a CREATED work order by ``order``; 400 if invalid, another key or status, 404 if missing."""
        self._check(client_id, order)
        old = self.get(client_id, work_order_id)
        _require_same_key(old, order[KEY_FIELD])
        require_status("The work order", old, EDITABLE, "updated")
        record = {
            ID_FIELD: work_order_id,
            **_client_fields(order),
            "status": old["status"],
            "pbCreateDate": old["pbCreateDate"],
            "pbUpdateDate": pb_timestamp(self.clock()),
        }
        self.records.save(client_id, record)
        return record

    def cancel(self, client_id: str, work_order_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Cancel a CREATED work order (api §14.2 W5) and return the cancel confirmation."""
        problems = check_object(body, CANCEL_RULES)
        if problems:
            raise HttpError(400, problems)
        record = self.get(client_id, work_order_id)
        _require_same_key(record, body[KEY_FIELD])
        require_status("The work order", record, LIFECYCLE.cancel_from, "canceled")
        now = pb_timestamp(self.clock())
        cancel = {name: body.get(name) for name in ("cancelReason", "cancelDate")}
        record.update(status=CANCELED, pbUpdateDate=now, pbCancelDate=now, **cancel)
        self.records.save(client_id, record)
        brand = body.get("brand") if body.get("brand") is not None else record.get("brand")
        return {
            "clientId": client_id,
            KEY_FIELD: record[KEY_FIELD],
            ID_FIELD: record[ID_FIELD],
            "brand": brand,
            **cancel,
            "pbCancelDate": now,
        }

    def get(self, client_id: str, work_order_id: str) -> dict[str, Any]:
        """Return the stored work order; raise 404 if there is none."""
        record = self.records.get(client_id, work_order_id)
        if record is None:
            raise HttpError(404, [not_found(work_order_id)])
        return record

    def search(
        self, client_id: str, query: Mapping[str, str], body: dict[str, Any], status_only: bool = False
    ) -> dict[str, Any]:
        """Return one page of the client's work orders matching ``searchFields``, sorted by ``sort``."""
        view = _status_view if status_only else None
        return search.run(self.searched(client_id), query, body, SEARCH_FIELDS, view=view)

    def advance(self, client_id: str, key: str, status: str) -> dict[str, Any]:
        """Move a work order (by workOrderId or clientWorkOrderId) to ``status``, as the facility would."""
        with self.store.atomic():  # the stock and the status change together
            record = self.records.find(client_id, key)
            if record is None:
                raise HttpError(404, [not_found(key)])
            LIFECYCLE.check_move("The work order", record["status"], status)
            if LIFECYCLE.reaches(record["status"], status, COMPLETE):
                self._build_kits(client_id, record)
            now = pb_timestamp(self.clock())
            record.update(
                status=status, pbUpdateDate=now, **({"pbCancelDate": now} if status == CANCELED else {})
            )
            self.records.save(client_id, record)
            return record

    def searched(self, client_id: str) -> Records:
        """Return the client's records as a search reads them: by workOrderId or clientWorkOrderId when a filter names them, else all."""
        return self.records.searched(client_id, KEY_FIELD)

    def all(self, client_id: str | None = None) -> list[dict[str, Any]]:
        """Return every stored work order (of one client, or of all), oldest first."""
        return self.records.all(client_id)

    def _check(self, client_id: str, order: dict[str, Any]) -> None:
        problems = self.rules.check(order, "")
        named = [("sku", order.get("sku"))]
        problems += references.product_problems(
            self.store, client_id, named, references.flagged(problems), kit=True
        )
        if problems:
            raise HttpError(400, problems)

    def _build_kits(self, client_id: str, record: dict[str, Any]) -> None:
        """Completing takes the kit's components (per its BOM, if any) off hand at the node and adds the kits."""
        node, kits = record["node"], record[QUANTITY]
        for line in (boms.for_kit(self.store, client_id, record["sku"]) or {}).get(boms.DETAILS, []):
            adjust_stock(
                self.store, client_id, node, line[boms.CHILD_SKU], on_hand_delta=-kits * line[boms.QUANTITY]
            )
        adjust_stock(self.store, client_id, node, record["sku"], on_hand_delta=kits)

    # HTTP binding ---------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        """Return the work-order operations, paths relative to the Fulfillment base."""
        return [
            Route("POST", "/v1/work-orders", lambda r: Reply(201, self.create(r.client_id, r.body))),
            Route("PUT", "/v1/work-orders/{ID}", self._put),
            Route("GET", "/v1/work-orders/{workOrderId}", self._get, client_id_from="query", body=False),
            Route("POST", "/v1/work-orders/search", self._search),
            Route("POST", "/v1/work-orders/status/search", self._status_search),
            Route("PUT", "/v1/work-orders/{ID}/cancel", self._cancel),
        ]

    def _put(self, request: Request) -> Reply:
        return Reply(200, self.replace(request.client_id, request.path_params["ID"], request.body))

    def _get(self, request: Request) -> Reply:
        return Reply(200, self.get(request.client_id, request.path_params["workOrderId"]))

    def _search(self, request: Request) -> Reply:
        return Reply(200, self.search(request.client_id, request.query, request.body))

    def _status_search(self, request: Request) -> Reply:
        return Reply(200, self.search(request.client_id, request.query, request.body, status_only=True))

    def _cancel(self, request: Request) -> Reply:
        return Reply(200, self.cancel(request.client_id, request.path_params["ID"], request.body))


def _client_fields(order: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in order.items() if name not in RESPONSE_ONLY}


def _status_view(record: dict[str, Any]) -> dict[str, Any]:
    return {name: record.get(name) for name in STATUS_FIELDS}


def _require_same_key(record: dict[str, Any], given: str) -> None:
    if given != record[KEY_FIELD]:
        message = f"{KEY_FIELD} in the body must be the work order's own"
        raise bad_request(
            errors.BAD_REQUEST, message, KEY_FIELD, f"Stored: {record[KEY_FIELD]}; body: {given}"
        )
