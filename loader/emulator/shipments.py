"""Shipments: the record an order leaves when it ships, and S1 Find Shipment Details (api §12).

ASSUMPTION (api §12 shows no response fields): one shipment per order, recorded when the order
reaches ``SHIPPED``, as ``{shipmentId, clientId, orderId, clientOrderId, customerOrderId, brand, node,
carrier, serviceId, trackingNumber, shippedDate, items: [{lineId, sku, quantity}]}``, one item per
order line (``lineId`` only when the line has one; ``quantity`` is the line's ``orderedQuantity``,
all of which ships). ``carrier`` and ``serviceId`` are the order's requested ones; the tracking
number is UPS-shaped (``1Z`` + 16 digits) and derived from the shipment ID, so it is stable.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from . import bets, search
from .config import EmulatorConfig
from .keyed import KeyedRecords
from .routing import Reply, Request, Route
from .search import Records
from .store import Store
from .timestamps import Clock

RESOURCE = "shipment"
ID_FIELD, ID_PREFIX = "shipmentId", "SHP"
ORDER_LINES, ORDERED = bets.LINES.order, "orderedQuantity"  # what a shipment reads from its order
SORT_PROPERTY = "shipppedDate"  # sic: the docs spell the sort with three p's (api §2.5), the field with two
SEARCH_FIELDS: dict[str, search.Matcher] = {
    "orderIds": search.exact("orderId"),
    "shipmentIds": search.exact("shipmentId"),
    "shippedDate": search.date_range("shippedDate"),
    "brands": search.exact("brand"),
}


def record_shipment(
    store: Store, client_id: str, order: dict[str, Any], node: str, shipped_at: str
) -> dict[str, Any]:
    """Store and return the shipment of ``order`` (keyed by its orderId) from ``node`` at ``shipped_at``."""
    requested = order["inputShippingDetails"]  # required, with carrier and serviceId (api §22.1)
    shipment = {
        "clientId": client_id,
        "orderId": order["orderId"],
        "clientOrderId": order["clientOrderId"],
        "customerOrderId": order.get("customerOrderId"),
        "brand": order.get("brand"),
        "node": node,
        "carrier": requested["carrier"],
        "serviceId": requested["serviceId"],
        "trackingNumber": None,
        "shippedDate": shipped_at,
        "items": [_item(line) for line in order[ORDER_LINES]],
    }
    records = KeyedRecords(store, RESOURCE, ID_FIELD, ID_PREFIX)
    with store.atomic():
        stored = records.create(client_id, order["orderId"], shipment)
        if stored is None:  # the lifecycle ships an order once; a second shipment is a bug here
            raise RuntimeError(f"order {order['orderId']} has already shipped")
        stored["trackingNumber"] = tracking_number(stored[ID_FIELD])
        records.save(client_id, stored)
    return stored


def _item(line: dict[str, Any]) -> dict[str, Any]:
    line_id = {"lineId": line["lineId"]} if line.get("lineId") is not None else {}
    return {**line_id, "sku": line["sku"], "quantity": line[ORDERED]}


def tracking_number(shipment_id: str) -> str:
    """Return a UPS-shaped tracking number that always comes out the same for ``shipment_id``."""
    digits = int(hashlib.sha256(shipment_id.encode()).hexdigest(), 16) % 10**16
    return f"1Z{digits:016d}"


class Shipments:
    """The shipments of the one emulated account, read through the search operation."""

    def __init__(self, store: Store, config: EmulatorConfig, clock: Clock) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self.records = KeyedRecords(store, RESOURCE, ID_FIELD, ID_PREFIX)

    def search(self, client_id: str, query: Mapping[str, str], body: dict[str, Any]) -> dict[str, Any]:
        """Return one page of the client's shipments matching ``searchFields``, earliest first by default."""
        request = search.parse_request(query, body, SEARCH_FIELDS, (SORT_PROPERTY,))
        found = request.matching(request.candidates(self.searched(client_id)))
        by_date = [search.SortKey("shippedDate", key.descending) for key in request.keys[:1]]
        return search.page_of(search.sort_records(found, by_date), request.page, request.size)

    def searched(self, client_id: str) -> Records:
        """Return the client's records as a search reads them: by shipmentId or orderId when a filter names them, else all."""
        return self.records.searched(client_id, "orderId")

    def all(self, client_id: str | None = None) -> list[dict[str, Any]]:
        """Return every shipment (of one client, or of all), oldest first."""
        return self.records.all(client_id)

    def routes(self) -> list[Route]:
        """Return the shipments operation, paths relative to the Fulfillment base."""
        return [Route("POST", "/v1/shipments/search", self._search)]

    def _search(self, request: Request) -> Reply:
        return Reply(200, self.search(request.client_id, request.query, request.body))
