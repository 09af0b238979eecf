"""Products: the object's rules (api §8.1, §20, §21.1) and its five operations (api §8.2-8.6).

Products are keyed by ``clientId`` + ``sku``. The stored record is the client's fields as sent
(unknown fields included) plus ``pbCreateDate``, ``pbUpdateDate`` and ``status``. Every update is
a full replacement that keeps ``pbCreateDate``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from . import errors, search
from .config import EmulatorConfig
from .errors import ErrorDetail, HttpError, detail
from .routing import Reply, Request, Route, bulk_items
from .store import Store
from .timestamps import Clock, pb_timestamp
from .validation import Bool, Num, Obj, Rule, Str, check_object, is_blank, is_product_date, matches

RESOURCE = "product"
PUBLISHED = "PUBLISHED"
OPERATIONS = ("CREATE", "UPDATE")
RESPONSE_ONLY = ("operation", "pbCreateDate", "pbUpdateDate", "status")  # never taken from a request

PRODUCT_TYPES = ("ITEM", "KIT")
FULFILLMENT_REGIONS = ("PB_ONLY", "THIRD_PARTY", "ALL")
# ASSUMPTION (api §21.1): the Product Details sub-fields and their units are ours, not PB's.
WEIGHT_UNITS = ("LB", "OZ", "KG", "G")
DIMENSION_UNITS = ("IN", "CM")
PRODUCT_DATE_HINT = "match YYYY-MM-DDThh:mm:ss.sss±hhmm"

DETAILS_RULES: Mapping[str, Rule] = {
    "description": Str(required=True, max_len=100),
    "upc": Str(max_len=14, fmt=matches(r"[0-9]+"), hint="contain digits only"),
    "weight": Obj({"value": Num(required=True, gt=0), "unit": Str(required=True, choices=WEIGHT_UNITS)}),
    "dimensions": Obj(
        {
            "length": Num(required=True, gt=0),
            "width": Num(required=True, gt=0),
            "height": Num(required=True, gt=0),
            "unit": Str(required=True, choices=DIMENSION_UNITS),
        }
    ),
    "unitCost": Num(ge=0),
    "countryOfOrigin": Str(fmt=matches(r"[A-Z]{2}"), hint="be two upper-case letters (ISO 3166-1 alpha-2)"),
    "hsCode": Str(max_len=14),
}
PRODUCT_RULES: Mapping[str, Rule] = {
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

# Search: the documented names (api §8.5) plus sku and productType. Absent fields are searched as
# their documented default (fulfillmentRegion) or the natural one (a product is active unless told).
SEARCH_FIELDS: dict[str, search.Matcher] = {
    "sku": search.exact("sku"),
    "productType": search.exact("productType"),
    "active": search.exact("active", default=True),
    "fulfillmentRegion": search.exact("fulfillmentRegion", default="PB_ONLY"),
    "createDate": search.date_range("createDate"),
    "pbCreateDate": search.date_range("pbCreateDate"),
}
DATE_SEARCH_FIELDS = frozenset({"createDate", "pbCreateDate"})
DEFAULT_WINDOW = timedelta(days=183)  # "only products created in the last six months" (api §2.5)


def validate_product(product: dict[str, Any]) -> list[ErrorDetail]:
    """Return every problem with a product object, paths relative to the object."""
    return check_object(product, PRODUCT_RULES)


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
        """Create or update each item independently; return one result per item, in order."""
        items = bulk_items(body.get("products"), "products", "product objects", self.config.max_bulk_items,
                           self.config.client_id)
        return [self._bulk_result(item) for item in items]

    def search(self, client_id: str, query: Mapping[str, str], body: dict[str, Any]) -> dict[str, Any]:
        """Return one page of the client's products matching ``searchFields``, sorted by ``sort``."""
        page, size = search.paging(query)
        keys = search.parse_sort(body.get("sort"))
        filters = search.parse_filters(body.get("searchFields"), SEARCH_FIELDS)
        if not any(name in DATE_SEARCH_FIELDS for name, _ in filters):
            start = datetime.fromtimestamp(self.clock(), UTC) - DEFAULT_WINDOW
            filters.append(("pbCreateDate", search.since("pbCreateDate", start)))
        found = [r for r in self.store.records(RESOURCE, client_id) if all(p(r) for _, p in filters)]
        return search.page_of(search.sort_records(found, keys), page, size)

    def all(self, client_id: str | None = None) -> list[dict[str, Any]]:
        """Return every stored product (of one client, or of all), oldest first."""
        return self.store.records(RESOURCE, client_id)

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

    def _bulk_result(self, item: dict[str, Any]) -> dict[str, Any]:
        # Rules first; only a valid item touches the store (and may then meet a duplicate or a missing sku).
        problems = (_operation_problems(item.get("operation")) + validate_product(item)) or self._apply(item)
        result = {"clientId": item.get("clientId"), "sku": item.get("sku")}
        if problems:
            return {**result, "errors": [problem.to_json() for problem in problems]}
        return {**result, "status": PUBLISHED}

    def _apply(self, item: dict[str, Any]) -> list[ErrorDetail]:
        """Carry out a valid bulk item's operation; return the problem if the sku's state forbids it."""
        if item["operation"] == "CREATE":
            return [] if self._insert(item) else [duplicate(item["sku"])]
        return [] if self._replace(item) else [not_found(item["sku"])]

    # HTTP binding ---------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        """Return the product operations, paths relative to the Fulfillment base."""
        return [
            Route("POST", "/v1/products", lambda r: Reply(201, self.create(r.body))),
            Route("PUT", "/v1/products/{sku}", lambda r: Reply(200, self.replace(r.path_params["sku"], r.body))),
            Route("GET", "/v1/products/{sku}", self._get, client_id_from="query", body=False),
            Route("POST", "/v1/products/bulk", lambda r: Reply(200, {"products": self.bulk(r.body)}), None),
            Route("POST", "/v1/products/search", lambda r: Reply(200, self.search(r.client_id, r.query, r.body))),
        ]

    def _get(self, request: Request) -> Reply:
        return Reply(200, self.get(request.client_id, request.path_params["sku"]))


def _client_fields(product: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in product.items() if name not in RESPONSE_ONLY}


def _operation_problems(operation: Any) -> list[ErrorDetail]:
    if is_blank(operation):
        return [detail(errors.REQUIRED, "operation is required", "operation")]
    if operation not in OPERATIONS:
        return [
            detail(errors.NOT_ALLOWED, "operation must be one of CREATE, UPDATE", "operation", f"Given: {operation}")
        ]
    return []


def _path_sku_problems(sku: str, product: dict[str, Any]) -> list[ErrorDetail]:
    body_sku = product.get("sku")
    if not isinstance(body_sku, str) or is_blank(body_sku) or body_sku == sku:
        return []  # a missing or mistyped sku is already reported by the product rules
    message = "sku in the body must equal the sku in the path"
    return [detail(errors.BAD_REQUEST, message, "sku", f"Path: {sku}; body: {body_sku}")]
