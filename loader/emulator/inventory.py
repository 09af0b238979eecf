"""Inventory: stock per ``(clientId, node, sku)`` and I1 View an Inventory Snapshot (api §10).

ASSUMPTION (api §10 leaves the record open): a snapshot record is ``{sku, node, onHand, allocated,
available}`` with ``available = onHand - allocated``. Stock changes only through `adjust_stock`,
called by whatever moves goods: receiving an ASN adds to ``onHand``, an open order holds its
quantities in ``allocated``, shipping takes them out of both. The emulator never refuses an order or
a shipment for want of stock (PB's backorder rules are not in our docs), so ``onHand`` and
``available`` can go below zero; that shows a client shipping what was never received.
"""

from __future__ import annotations

from collections.abc import Mapping
from json.encoder import encode_basestring_ascii
from typing import Any

from . import search
from .config import EmulatorConfig
from .routing import Reply, Request, Route
from .store import Store
from .timestamps import Clock

RESOURCE = "inventory"
SORT_PROPERTIES = ("sku",)  # sku-asc (default) or sku-desc; ties are broken by node
SEARCH_FIELDS: dict[str, search.Matcher] = {"sku": search.exact("sku"), "node": search.exact("node")}
STOCK_NUMBERS = ("onHand", "allocated", "available")  # a stock record's numbers, each changed by adding


def adjust_stock(
    store: Store, client_id: str, node: str, sku: str, on_hand_delta: int = 0, allocated_delta: int = 0
) -> dict[str, Any]:
    """Add the deltas to the stock of ``sku`` at ``node`` (a new SKU/node starts at zero); return the record."""
    key = _key(node, sku)
    with store.atomic():
        old = store.get(RESOURCE, client_id, key) or {"onHand": 0, "allocated": 0}
        record = _stock(sku, node, old["onHand"] + on_hand_delta, old["allocated"] + allocated_delta)
        if not store.replace(RESOURCE, client_id, key, record):
            store.insert(RESOURCE, client_id, key, record)
    return record


class StockChanges:
    """Stock deltas per ``(node, sku)``, added up in memory and applied by `apply` in one statement.

    What a bulk call of orders allocates: the same result as one `adjust_stock` per line, a new
    SKU/node stored in the order of first use.
    """

    def __init__(self) -> None:
        self._deltas: dict[tuple[str, str], list[int]] = {}  # (node, sku) -> [onHand, allocated] deltas

    def add(self, node: str, sku: str, on_hand_delta: int = 0, allocated_delta: int = 0) -> None:
        """Remember a change of the stock of ``sku`` at ``node``."""
        delta = self._deltas.setdefault((node, sku), [0, 0])
        delta[0] += on_hand_delta
        delta[1] += allocated_delta

    def apply(self, store: Store, client_id: str) -> None:
        """Put the changes into the store (inside the operation's transaction) and forget them."""
        changes = [
            (_key(node, sku), _stock(sku, node, on_hand, allocated))
            for (node, sku), (on_hand, allocated) in self._deltas.items()
        ]
        if changes:
            store.add_many(RESOURCE, client_id, changes, STOCK_NUMBERS)
        self._deltas = {}


def _key(node: str, sku: str) -> str:
    """``json.dumps([node, sku])``, unambiguous whatever characters a SKU holds, made by its string
    encoder alone (a bulk call of orders makes one per line)."""
    return f"[{encode_basestring_ascii(node)}, {encode_basestring_ascii(sku)}]"


def _stock(sku: str, node: str, on_hand: int, allocated: int) -> dict[str, Any]:
    return {
        "sku": sku,
        "node": node,
        "onHand": on_hand,
        "allocated": allocated,
        "available": on_hand - allocated,
    }


class Inventory:
    """The stock of the one emulated account, read through the snapshot operation."""

    def __init__(self, store: Store, config: EmulatorConfig, clock: Clock) -> None:
        self.store = store
        self.config = config
        self.clock = clock

    def snapshot(self, client_id: str, query: Mapping[str, str], body: dict[str, Any]) -> dict[str, Any]:
        """Return one page of the client's stock records matching ``searchFields``, sorted by sku."""
        request = search.parse_request(query, body, SEARCH_FIELDS, SORT_PROPERTIES)
        found = request.matching(self.store.records(RESOURCE, client_id))
        descending = bool(request.keys) and request.keys[0].descending
        found.sort(key=lambda record: (record["sku"], record["node"]), reverse=descending)
        return search.page_of(found, request.page, request.size)

    def all(self, client_id: str | None = None) -> list[dict[str, Any]]:
        """Return every stock record (of one client, or of all), in the order they first appeared."""
        return self.store.records(RESOURCE, client_id)

    def routes(self) -> list[Route]:
        """Return the inventory operation, paths relative to the Fulfillment base."""
        return [Route("POST", "/v1/inventory/snapshot", self._snapshot)]

    def _snapshot(self, request: Request) -> Reply:
        return Reply(200, self.snapshot(request.client_id, request.query, request.body))
