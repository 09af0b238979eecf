"""Which calls doctor may make: the token, GETs, one search per resource, and the refused-update probe.

`check_read_only` is asked before every request leaves (`Prober._send`). The one call that is not a
read is a products bulk body shaped by `refused_update_probe`: one item, `operation: UPDATE`, a random
SKU that cannot exist and no `details`, which PB must refuse, so it can create or change nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from loader.api.auth import TOKEN_PATH
from loader.bets import ASN_KEY, ORDER_KEY, PRODUCT_KEY, RETURN_LOOKUP, WORK_ORDER_KEY
from loader.errors import WriteRefused
from loader.resources import asns, boms, orders, products, returns, work_orders
from loader.resources.base import Resource

# The random key of the probes: 26 characters, within every client key's limit (a SKU's is 30).
PROBE_PREFIX = "PBLOAD-DOCTOR-"
# The products bulk path and its request and answer array (api §8.3).
PRODUCTS_BULK = products.BULK_PATH
PRODUCTS_ARRAY = products.API.bulk_array
SKU = products.PRODUCTS.key  # a product's own key field, documented (api §2.3); BET-13 is its search name


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


def _probe(
    resource: Resource, noun: str, key_name: str | None = None, *, pb_id: bool = False, when_empty: str = ""
) -> Probe:
    """A resource's probe: its search path from the catalogue, its key name (a bet) given here."""
    api = resource.api
    assert api is not None, f"{resource.name} has an API"
    return Probe(
        resource.name,
        noun,
        api.search_path,
        key_name,
        resource.key if key_name else None,
        api.pb_id if pb_id else None,
        when_empty,
    )


# The records' own key fields are documented (api §2.3); BET-13 is only that the search names equal
# them, so the names come from loader/bets.py and the fields from the catalogue.
PROBES = (
    _probe(
        products.PRODUCTS,
        "product",
        PRODUCT_KEY,
        when_empty=" (PB's product search sees only products created in the last six months)",
    ),
    _probe(orders.ORDERS, "order", ORDER_KEY),
    _probe(asns.ASNS, "ASN", ASN_KEY),
    _probe(boms.BOMS, "BOM"),  # its key name `parentSku` is documented: no bet
    _probe(work_orders.WORK_ORDERS, "work order", WORK_ORDER_KEY),
    _probe(returns.RETURNS, "return", RETURN_LOOKUP, pb_id=True),
)
BY_PROBE = {probe.name: probe for probe in PROBES}
SEARCH_PATHS = frozenset(probe.search_path for probe in PROBES)
PROBE_ITEM_FIELDS = frozenset({"clientId", SKU, "productType", "operation"})


def check_read_only(method: str, path: str, body: Any = None) -> None:
    """Raise `WriteRefused` unless the call is the token, a GET, a search, or the refused-update probe."""
    method = method.upper()
    allowed = (
        (method == "POST" and path == TOKEN_PATH)
        or (method == "GET" and path.startswith("/v1/"))
        or (method == "POST" and path in SEARCH_PATHS)
        or (method == "POST" and path == PRODUCTS_BULK and is_refused_update_probe(body))
    )
    if not allowed:
        raise WriteRefused(
            f"pbload doctor makes read-only calls only, and refused to send {method} {path}. "
            "This is a bug in pbload: please report it."
        )


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
    return (
        set(item) == PROBE_ITEM_FIELDS
        and item["operation"] == "UPDATE"
        and isinstance(item[SKU], str)
        and item[SKU].startswith(PROBE_PREFIX)
    )


def new_probe_key() -> str:
    """A key no merchant has: the prefix and 12 random hex digits."""
    return PROBE_PREFIX + secrets.token_hex(6).upper()
