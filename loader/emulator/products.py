"""Products: the object's rules (api §8.1, §20, §21.1, §22.4, §22.5) and its five operations (api §8.2-8.6).

Products are keyed by ``clientId`` + ``sku``. The stored record is the client's fields as sent plus
``pbCreateDate``, ``pbUpdateDate`` and ``status``. Every update is a full replacement that keeps
``pbCreateDate``. Fields outside the rules below are refused (api §21.7), PB's reserved ones
(``options``, ``details.eccn``, ``details.image``) included: their contents are not documented.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from . import bets, errors, search
from .config import EmulatorConfig
from .errors import ErrorDetail, HttpError, detail
from .routing import Reply, Request, Route, bulk_array, bulk_items
from .search import Records
from .store import Store
from .timestamps import Clock, pb_timestamp
from .validation import (
    Arr,
    Bool,
    Checked,
    Num,
    Obj,
    Rule,
    Str,
    country_code,
    descending,
    is_blank,
    is_product_date,
    not_both,
    required_with_any,
)

RESOURCE = "product"
PUBLISHED = "PUBLISHED"
OPERATIONS = ("CREATE", "UPDATE")
RESPONSE_ONLY = ("pbCreateDate", "pbUpdateDate", "status")  # PB's: refused in a request
BULK_ARRAY = "products"

PRODUCT_TYPES = ("ITEM", "KIT")
FULFILLMENT_REGIONS = ("PB_ONLY", "THIRD_PARTY", "ALL")
PRODUCT_DATE_HINT = "match YYYY-MM-DDThh:mm:ss.sss±hhmm"
SIDES = ("length", "height", "width")  # PB: length the longest side, width the shortest (api §22.5)
DIMENSION_UNIT, DIMENSION_UNIT_ALTERNATIVE = "dimensionUOM", "unitOfMeasurement"  # one or the other

DIMENSIONS = Checked(
    Obj(
        {
            **{side: Num(gt=0, decimals=4) for side in SIDES},
            DIMENSION_UNIT: Str(choices=bets.DIMENSION_UNITS),
            DIMENSION_UNIT_ALTERNATIVE: Str(choices=bets.DIMENSION_UNITS),
        }
    ),
    (
        required_with_any(DIMENSION_UNIT, SIDES, alternative=DIMENSION_UNIT_ALTERNATIVE),
        not_both(DIMENSION_UNIT, DIMENSION_UNIT_ALTERNATIVE),
        descending(*SIDES),
    ),
)
WEIGHT = Obj(
    {
        bets.WEIGHT.value: Num(required=True, gt=0),
        bets.WEIGHT.unit: Str(required=True, choices=bets.WEIGHT.units),
    }
)
DETAILS_RULES: Mapping[str, Rule] = {
    "description": Str(required=True, max_len=100),
    "brand": Str(max_len=50),
    "category": Str(max_len=50),
    "manufacturer": Str(max_len=255),
    "originCountryCode": country_code(),
    "originStateProvince": Str(max_len=50),
    # The emulator does not restrict `source`; pbload sends a UPC as bets.UPC_SOURCE (BET-3).
    "identifiers": Arr(Obj({"number": Str(max_len=100), "source": Str(max_len=10)}, required=True)),
    "hsClassification": Arr(
        Obj({"hsTariffCode": Str(max_len=30), "countryCode": country_code()}, required=True)
    ),
    "hazmatClassification": Arr(
        Obj(
            {
                "dotHazmatCode": Str(max_len=10),
                "unHazmatCode": Str(max_len=10),
                "hazmatDescription": Str(max_len=100),
            },
            required=True,
        )
    ),
    bets.DIMENSIONS: DIMENSIONS,
    bets.WEIGHT.holder: WEIGHT,
    bets.UNIT_COST: Num(ge=0),
}
PRODUCT_FIELDS: Mapping[str, Rule] = {
    "clientId": Str(required=True),
    "sku": Str(required=True, max_len=30),
    "productType": Str(required=True, choices=PRODUCT_TYPES),
    "fulfillmentRegion": Str(choices=FULFILLMENT_REGIONS),
    "vendorDetails": Obj({"name": Str(required=True, max_len=50), "number": Str(required=True, max_len=30)}),
    "createDate": Str(fmt=is_product_date, hint=PRODUCT_DATE_HINT),
    "updateDate": Str(fmt=is_product_date, hint=PRODUCT_DATE_HINT),
    "active": Bool(),
    "details": Obj(DETAILS_RULES, required=True),
}
PRODUCT_RULES = Obj(PRODUCT_FIELDS, response_only=RESPONSE_ONLY)
# A bulk item is a product plus its `operation` (api §8.3).
BULK_ITEM_RULES = Obj(
    {"operation": Str(required=True, choices=OPERATIONS), **PRODUCT_FIELDS}, response_only=RESPONSE_ONLY
)

# Search: the documented names (api §8.5) plus the lookup key (BET-13) and productType. Absent fields
# are searched as their documented default (fulfillmentRegion) or the natural one (active unless told).
SEARCH_FIELDS: dict[str, search.Matcher] = {
    bets.LOOKUP_KEYS.product: search.exact("sku"),
    "productType": search.exact("productType"),
    "active": search.exact("active", default=True),
    "fulfillmentRegion": search.exact("fulfillmentRegion", default="PB_ONLY"),
    "createDate": search.date_range("createDate"),
    "pbCreateDate": search.date_range("pbCreateDate"),
}
DATE_SEARCH_FIELDS = frozenset({"createDate", "pbCreateDate"})
DEFAULT_WINDOW = timedelta(days=183)  # "only products created in the last six months" (api §2.5)


def validate_product(product: dict[str, Any], rules: Obj = PRODUCT_RULES) -> list[ErrorDetail]:
    """Return every problem with a product object, paths relative to the object."""
    return rules.check(product, "")


def duplicate(sku: Any) -> ErrorDetail:
    """Return the error for creating a product whose sku exists (api §21.4)."""
    return detail(errors.DUPLICATE, f"A product with sku {sku} already exists", "sku")


def not_found(sku: Any) -> ErrorDetail:
    """Return the error for updating or reading a product that does not exist."""
    return detail(errors.NOT_FOUND, f"No product with sku {sku} exists", "sku")


class Products:
    """The products of the one emulated account."""

    def __init__(self, store: Store, config: EmulatorConfig, clock: Clock) -> None:
        self.store = store
        self.config = config
        self.clock = clock

    # Rules ----------------------------------------------------------------------------------------

    def create(self, product: dict[str, Any]) -> dict[str, Any]:
        """Store a new product and return its record; raise 400 if invalid or the sku exists."""
        problems = validate_product(product)
        if problems:
            raise HttpError(400, problems)
        record = self._insert(product)
        if record is None:
            raise HttpError(400, [duplicate(product["sku"])])
        return record

    def replace(self, sku: str, product: dict[str, Any]) -> dict[str, Any]:
        """Replace the product at ``sku`` by ``product``; raise 400 if invalid, 404 if missing."""
        problems = validate_product(product) + _path_sku_problems(sku, product)
        if problems:
            raise HttpError(400, problems)
        record = self._replace(product)
        if record is None:
            raise HttpError(404, [not_found(sku)])
        return record

    def get(self, client_id: str, sku: str) -> dict[str, Any]:
        """Return the stored product; raise 404 if there is none."""
        record = self.store.get(RESOURCE, client_id, sku)
        if record is None:
            raise HttpError(404, [not_found(sku)])
        return record

    def bulk(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """Create or update each item independently; return one result per item, in order.

        The items are checked first, the valid ones' SKUs looked up in one query, and what they create
        or change is written at the end in one statement each (`_BulkWrites`).
        """
        items = bulk_items(
            bulk_array(body, BULK_ARRAY),
            BULK_ARRAY,
            "product objects",
            self.config.max_bulk_items,
            self.config.client_id,
        )
        problems = [validate_product(item, BULK_ITEM_RULES) for item in items]
        client_id = self.config.client_id  # every item's, as `bulk_items` checked
        skus = [item["sku"] for item, found in zip(items, problems, strict=True) if not found]
        writes = _BulkWrites(self.store.many(RESOURCE, client_id, skus))
        results = [
            self._bulk_result(writes, item, found) for item, found in zip(items, problems, strict=True)
        ]
        self.store.insert_many(RESOURCE, client_id, writes.created.items())
        self.store.replace_many(RESOURCE, client_id, writes.changed.items())
        return results

    def search(self, client_id: str, query: Mapping[str, str], body: dict[str, Any]) -> dict[str, Any]:
        """Return one page of the client's products matching ``searchFields``, sorted by ``sort``."""
        request = search.parse_request(query, body, SEARCH_FIELDS)
        if not request.names() & DATE_SEARCH_FIELDS:
            start = datetime.fromtimestamp(self.clock(), UTC) - DEFAULT_WINDOW
            request.filters.append(("pbCreateDate", search.since("pbCreateDate", start)))
        found = request.matching(request.candidates(self.searched(client_id)))
        return search.page_of(search.sort_records(found, request.keys), request.page, request.size)

    def all(self, client_id: str | None = None) -> list[dict[str, Any]]:
        """Return every stored product (of one client, or of all), oldest first."""
        return self.store.records(RESOURCE, client_id)

    def searched(self, client_id: str) -> Records:
        """Return the client's products as a search reads them: by SKU (their store key) when a filter
        names SKUs, else all."""
        return Records(
            lambda: self.store.records(RESOURCE, client_id),
            {"sku": lambda skus: self.store.under(RESOURCE, client_id, skus)},
        )

    # Helpers --------------------------------------------------------------------------------------

    def _insert(self, product: dict[str, Any]) -> dict[str, Any] | None:
        now = pb_timestamp(self.clock())
        record = {**_client_fields(product), "pbCreateDate": now, "pbUpdateDate": now, "status": PUBLISHED}
        stored = self.store.insert(RESOURCE, product["clientId"], product["sku"], record)
        return record if stored else None

    def _replace(self, product: dict[str, Any]) -> dict[str, Any] | None:
        client_id, sku = product["clientId"], product["sku"]
        with self.store.atomic():  # read pbCreateDate and write back as one step
            old = self.store.get(RESOURCE, client_id, sku)
            if old is None:
                return None
            record = {
                **_client_fields(product),
                "pbCreateDate": old["pbCreateDate"],
                "pbUpdateDate": pb_timestamp(self.clock()),
                "status": PUBLISHED,
            }
            self.store.replace(RESOURCE, client_id, sku, record)
        return record

    def _bulk_result(
        self, writes: _BulkWrites, item: dict[str, Any], problems: list[ErrorDetail]
    ) -> dict[str, Any]:
        # Rules first; only a valid item is applied (and may then meet a duplicate or a missing sku).
        problems = problems or self._apply(writes, item)
        result = {
            "clientId": item.get("clientId"),
            "sku": item.get("sku"),
        }  # the documented result (api §8.3)
        if problems:
            return {**result, bets.BULK_RESULT.errors: [problem.to_json() for problem in problems]}
        return {**result, bets.BULK_RESULT.status: PUBLISHED}

    def _apply(self, writes: _BulkWrites, item: dict[str, Any]) -> list[ErrorDetail]:
        """Carry out a valid bulk item's operation; return the problem if the sku's state forbids it."""
        sku, old = item["sku"], writes.current.get(item["sku"])
        now = pb_timestamp(self.clock())
        if item["operation"] == "CREATE":
            if old is not None:
                return [duplicate(sku)]
            writes.create(
                sku, {**_client_fields(item), "pbCreateDate": now, "pbUpdateDate": now, "status": PUBLISHED}
            )
            return []
        if old is None:
            return [not_found(sku)]
        writes.change(
            sku,
            {
                **_client_fields(item),
                "pbCreateDate": old["pbCreateDate"],
                "pbUpdateDate": now,
                "status": PUBLISHED,
            },
        )
        return []

    # HTTP binding ---------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        """Return the product operations, paths relative to the Fulfillment base."""
        return [
            Route("POST", "/v1/products", lambda r: Reply(201, self.create(r.body))),
            Route(
                "PUT", "/v1/products/{sku}", lambda r: Reply(200, self.replace(r.path_params["sku"], r.body))
            ),
            Route("GET", "/v1/products/{sku}", self._get, client_id_from="query", body=False),
            Route("POST", "/v1/products/bulk", lambda r: Reply(200, {BULK_ARRAY: self.bulk(r.body)}), None),
            Route(
                "POST", "/v1/products/search", lambda r: Reply(200, self.search(r.client_id, r.query, r.body))
            ),
        ]

    def _get(self, request: Request) -> Reply:
        return Reply(200, self.get(request.client_id, request.path_params["sku"]))


class _BulkWrites:
    """What a bulk call creates and changes, by SKU, held until the call's end; ``current`` as it left them."""

    def __init__(self, stored: dict[str, dict[str, Any]]) -> None:
        self.current = stored  # the stored record of each SKU looked up, then as the call changes it
        self.created: dict[str, dict[str, Any]] = {}
        self.changed: dict[str, dict[str, Any]] = {}

    def create(self, sku: str, record: dict[str, Any]) -> None:
        self.created[sku] = self.current[sku] = record

    def change(self, sku: str, record: dict[str, Any]) -> None:
        (self.created if sku in self.created else self.changed)[sku] = record
        self.current[sku] = record


def _client_fields(product: dict[str, Any]) -> dict[str, Any]:
    # What a request may carry is checked already; only a bulk item's `operation` is not the product's.
    return {name: value for name, value in product.items() if name != "operation"}


def _path_sku_problems(sku: str, product: dict[str, Any]) -> list[ErrorDetail]:
    body_sku = product.get("sku")
    if not isinstance(body_sku, str) or is_blank(body_sku) or body_sku == sku:
        return []  # a missing or mistyped sku is already reported by the product rules
    message = "sku in the body must equal the sku in the path"
    return [detail(errors.BAD_REQUEST, message, "sku", f"Path: {sku}; body: {body_sku}")]
