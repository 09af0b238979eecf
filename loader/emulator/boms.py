"""Bills of materials (kits): the object's rules (api §13.1, §20, §21.1) and its operations (§13.2).

A BOM is keyed by ``clientId`` + kit ``sku`` (one BOM per kit, api §21.4) and addressed by its PB ID
``billOfMaterialId``. The stored record is the client's fields as sent plus ``billOfMaterialId``,
``pbCreateDate`` and ``pbUpdateDate``; an update is a full replacement that keeps the ID, the kit
sku and ``pbCreateDate``. BOMs have no status; ``active: false`` hides one from search. A component
line is ``bets.COMPONENT`` (BET-8); PB's reserved ``instructions`` are refused (api §21.7).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import bets, errors, references, search
from .config import EmulatorConfig
from .errors import ErrorDetail, HttpError, bad_request, detail
from .keyed import KeyedRecords
from .routing import Reply, Request, Route
from .search import Records
from .store import Store
from .timestamps import Clock, pb_timestamp
from .validation import Arr, Bool, Int, Obj, Rule, Str, zulu_date

RESOURCE = "billOfMaterial"
ID_FIELD = "billOfMaterialId"
ID_PREFIX = "BOM-"  # ASSUMPTION: PB's ID format is unknown
RESPONSE_ONLY = (ID_FIELD, "pbCreateDate", "pbUpdateDate")  # PB's: refused in a request
DETAILS = "billOfMaterialDetails"  # documented (api §13.1); its members are BET-8
CHILD_SKU, QUANTITY = bets.COMPONENT.child_sku, bets.COMPONENT.quantity

DETAIL_RULES: Mapping[str, Rule] = {
    CHILD_SKU: Str(required=True, max_len=30),
    QUANTITY: Int(required=True, ge=1),
}


def bom_rules(nodes: Sequence[str]) -> Obj:
    """Return the BOM object's rules; ``node`` must be one of the account's fulfillment centres."""
    fields: Mapping[str, Rule] = {
        "clientId": Str(required=True),
        "description": Str(required=True, max_len=30),
        "sku": Str(required=True, max_len=30),
        "node": Str(choices=tuple(nodes)),
        "active": Bool(),
        "brand": Str(max_len=30),
        "notes": Arr(Str(max_len=50)),
        "createDate": zulu_date(),
        "updateDate": zulu_date(),
        DETAILS: Arr(Obj(DETAIL_RULES), required=True, min_items=1),
    }
    return Obj(fields, response_only=RESPONSE_ONLY)


def _child_skus(record: dict[str, Any]) -> list[Any]:
    details = record.get(DETAILS)
    if not isinstance(details, list):
        return []
    return [d.get(CHILD_SKU) if isinstance(d, dict) else None for d in details]  # keeps the line numbers


def _include_inactive(values: list[Any], path: str) -> search.Predicate:
    if len(values) != 1 or not isinstance(values[0], bool):
        raise bad_request(errors.BAD_TYPE, f"{path} must be [true] or [false]", path)
    return (lambda record: True) if values[0] else _active


def _active(record: dict[str, Any]) -> bool:
    return record.get("active", True) is not False


# The documented names (api §13.2), spelled as documented: note ``pbupdateDate`` (sic).
SEARCH_FIELDS: dict[str, search.Matcher] = {
    "parentSku": search.exact("sku"),
    "childSku": search.any_item(DETAILS, CHILD_SKU),  # the documented name; the field is BET-8's
    "brand": search.exact("brand"),
    "includeInactive": _include_inactive,
    "createDate": search.date_range("createDate"),
    "updateDate": search.date_range("updateDate"),
    "pbCreateDate": search.date_range("pbCreateDate"),
    "pbupdateDate": search.date_range("pbUpdateDate"),
    "billOfMaterialId": search.exact(ID_FIELD),
}


def for_kit(store: Store, client_id: str, sku: str) -> dict[str, Any] | None:
    """Return the BOM of kit ``sku``, or None (work orders read it to build kits)."""
    return KeyedRecords(store, RESOURCE, ID_FIELD, ID_PREFIX).by_key(client_id, sku)


def duplicate(sku: Any) -> ErrorDetail:
    """Return the error for creating a BOM for a kit that has one (api §21.4)."""
    return detail(errors.DUPLICATE, f"A bill of materials for kit sku {sku} already exists", "sku")


def not_found(bom_id: str) -> ErrorDetail:
    """Return the error for a BOM ID that does not exist."""
    return detail(errors.NOT_FOUND, f"No bill of materials with ID {bom_id} exists", ID_FIELD)


class BillsOfMaterials:
    """The bills of materials of the one emulated account."""

    def __init__(self, store: Store, config: EmulatorConfig, clock: Clock) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self.rules = bom_rules(config.nodes)
        self.records = KeyedRecords(store, RESOURCE, ID_FIELD, ID_PREFIX)

    # Rules ----------------------------------------------------------------------------------------

    def create(self, client_id: str, bom: dict[str, Any]) -> dict[str, Any]:
        """Store a new BOM and return its record; raise 400 if invalid or the kit has a BOM."""
        self._check(client_id, bom)
        now = pb_timestamp(self.clock())
        fields = {**_client_fields(bom), "pbCreateDate": now, "pbUpdateDate": now}
        record = self.records.create(client_id, bom["sku"], fields)
        if record is None:
            raise HttpError(400, [duplicate(bom["sku"])])
        return record

    def replace(self, client_id: str, bom_id: str, bom: dict[str, Any]) -> dict[str, Any]:
        """Replace the BOM ``bom_id`` by ``bom``; raise 400 if invalid or the kit sku differs, 404 if missing."""
        self._check(client_id, bom)
        old = self.get(client_id, bom_id)
        if bom["sku"] != old["sku"]:
            message = "sku cannot change: a bill of materials belongs to one kit; create one for the new kit"
            raise bad_request(errors.BAD_REQUEST, message, "sku", f"Stored: {old['sku']}; body: {bom['sku']}")
        record = {
            ID_FIELD: bom_id,
            **_client_fields(bom),
            "pbCreateDate": old["pbCreateDate"],
            "pbUpdateDate": pb_timestamp(self.clock()),
        }
        self.records.save(client_id, record)
        return record

    def get(self, client_id: str, bom_id: str) -> dict[str, Any]:
        """Return the stored BOM; raise 404 if there is none."""
        record = self.records.get(client_id, bom_id)
        if record is None:
            raise HttpError(404, [not_found(bom_id)])
        return record

    def search(self, client_id: str, query: Mapping[str, str], body: dict[str, Any]) -> dict[str, Any]:
        """Return one page of the client's BOMs matching ``searchFields``; inactive ones only if asked."""
        return search.run(self.searched(client_id), query, body, SEARCH_FIELDS, {"includeInactive": _active})

    def searched(self, client_id: str) -> Records:
        """Return the client's records as a search reads them: by billOfMaterialId or kit sku when a filter names them, else all."""
        return self.records.searched(client_id, "sku")

    def all(self, client_id: str | None = None) -> list[dict[str, Any]]:
        """Return every stored BOM (of one client, or of all), oldest first."""
        return self.records.all(client_id)

    def _check(self, client_id: str, bom: dict[str, Any]) -> None:
        problems = self.rules.check(bom, "")
        problems += _component_problems(bom, references.flagged(problems))
        skip = references.flagged(problems)
        problems += references.product_problems(
            self.store, client_id, [("sku", bom.get("sku"))], skip, kit=True
        )
        children = [(f"{DETAILS}[{i}].{CHILD_SKU}", sku) for i, sku in enumerate(_child_skus(bom))]
        problems += references.product_problems(self.store, client_id, children, skip)
        if problems:
            raise HttpError(400, problems)

    # HTTP binding ---------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        """Return the BOM operations, paths relative to the Fulfillment base."""
        return [
            Route("POST", "/v1/bill-of-materials", lambda r: Reply(201, self.create(r.client_id, r.body))),
            Route("PUT", "/v1/bill-of-materials/{ID}", self._put),
            # ASSUMPTION (api §13.2): the View page is not in our copies; shaped like the other GETs.
            Route("GET", "/v1/bill-of-materials/{ID}", self._get, client_id_from="query", body=False),
            Route("POST", "/v1/bill-of-materials/search", self._search),
            Route("POST", "/v1/bill-of-materials/search/", self._search),  # as the seed document spells it
        ]

    def _put(self, request: Request) -> Reply:
        return Reply(200, self.replace(request.client_id, request.path_params["ID"], request.body))

    def _get(self, request: Request) -> Reply:
        return Reply(200, self.get(request.client_id, request.path_params["ID"]))

    def _search(self, request: Request) -> Reply:
        return Reply(200, self.search(request.client_id, request.query, request.body))


def _client_fields(bom: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in bom.items() if name not in RESPONSE_ONLY}


def _component_problems(bom: dict[str, Any], skip: set[str]) -> list[ErrorDetail]:
    """A component must not be the kit itself, nor appear twice (api §21.1)."""
    problems: list[ErrorDetail] = []
    seen: set[str] = set()
    for i, child in enumerate(_child_skus(bom)):
        path = f"{DETAILS}[{i}].{CHILD_SKU}"
        if path in skip or not isinstance(child, str):
            continue
        if child == bom.get("sku"):
            message = f"{path} must not be the kit sku itself"
            problems.append(detail(errors.NOT_ALLOWED, message, path, f"Given: {child}"))
        elif child in seen:
            problems.append(
                detail(errors.DUPLICATE, f"{path} {child} appears more than once in the BOM", path)
            )
        seen.add(child)
    return problems
