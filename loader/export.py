"""Export what PB has into a workbook: products and orders as loadable sheets, inventory and shipments.

Products and orders come out in their template's shape, so export -> edit -> load is a round trip:
loading an export unchanged reports every row UNCHANGED.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from loader import bets
from loader.api import FulfillmentClient
from loader.errors import ApiError
from loader.resources import BY_NAME, Field, Kind, Resource
from loader.resources.base import LINE_MARK, value_at
from loader.workbook.result import save_atomically
from loader.workbook.result.fallback import set_text
from loader.workbook.templates import build_template

PAGE_SIZE = 200
INVENTORY_PATH = "/v1/inventory/snapshot"
SHIPMENTS_PATH = "/v1/shipments/search"
INVENTORY_COLUMNS = (
    ("SKU", "sku"),
    ("Node", "node"),
    ("On Hand", "onHand"),
    ("Allocated", "allocated"),
    ("Available", "available"),
)
SHIPMENT_COLUMNS = (
    ("Shipment ID", "shipmentId"),
    ("Order ID", "orderId"),
    ("Client Order ID", "clientOrderId"),
    ("Carrier", "carrier"),
    ("Service", "serviceId"),
    ("Tracking Number", "trackingNumber"),
    ("Shipped Date", "shippedDate"),
)
EXPORTS = ("products", "orders", "inventory", "shipments")


def export(client: FulfillmentClient, what: str, output: Path) -> tuple[Path, int]:
    """Write PB's `what` to `output`; return the path and the number of records."""
    if what in ("products", "orders"):
        resource = BY_NAME[what]
        spec = resource.api
        assert spec is not None
        body: dict[str, Any] = {"sort": ["pbCreateDate-asc"], "searchFields": list(spec.lookup_fields)}
        records = list(pages(client, spec.search_path, body))
        book = build_template((resource,))
        ws = book[resource.sheet]
        _write_rows(ws, records_to_rows(resource, records))
    elif what == "inventory":
        records = list(pages(client, INVENTORY_PATH, {"sort": ["sku-asc"]}))
        book = _plain("Inventory", INVENTORY_COLUMNS, records)
    else:
        records = list(pages(client, SHIPMENTS_PATH, {"sort": ["shipppedDate-asc"]}))
        book = _shipments(records)
    return save_atomically(book, output), len(records)


def pages(
    client: FulfillmentClient, path: str, body: dict[str, Any], size: int = PAGE_SIZE
) -> Iterator[dict[str, Any]]:
    """Every record of a search, page by page, until PB says a page was the last.

    PB may answer fewer records a page than asked for: only `last` ends the search, or a page with
    no records at all (so that a server that never says "last" cannot keep pbload asking).
    """
    for page in itertools.count(1):
        response = client.call(
            "POST", path, {"clientId": client.client_id, **body}, params={"page": page, "size": size}
        )
        if not response.ok or not isinstance(response.body, dict):
            raise ApiError(
                f"Could not read {client.path_for(path)} ({response.describe()}). Try again later."
            )
        records = response.body.get(bets.SEARCH_RECORDS) or []
        yield from records
        if response.body.get("last", True) or not records:
            return


def records_to_rows(resource: Resource, records: list[dict[str, Any]]) -> Iterator[list[Any]]:
    """Sheet rows for API records: the inverse of building payloads from rows."""
    for record in records:
        header = [
            _from_wire(f, value_at(record, f.path)) if f.path and not f.is_line else None
            for f in resource.fields
        ]
        if resource.lines is None:
            yield header
            continue
        for n, line in enumerate(record.get(resource.lines) or [{}]):
            row = list(header) if n == 0 else [None] * len(resource.fields)
            if n > 0:
                row[resource.fields.index(resource.key_field)] = header[
                    resource.fields.index(resource.key_field)
                ]
            for i, f in enumerate(resource.fields):
                if f.is_line:
                    row[i] = _from_wire(f, value_at(line, f.path.split(LINE_MARK, 1)[1]))  # type: ignore[union-attr]
            yield row


def _from_wire(f: Field, value: Any) -> Any:
    if value is None:
        return None
    if f.separator and isinstance(value, list):
        return f"{f.separator} ".join(str(part) for part in value)
    if f.kind is Kind.DATETIME and isinstance(value, str):
        moment = datetime.fromisoformat(value)
        # sheets hold times without a zone; the loader sends them as UTC
        return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
    if f.kind is Kind.DATE and isinstance(value, str):
        return date.fromisoformat(value)
    return value


def _plain(title: str, columns: tuple[tuple[str, str], ...], records: list[dict[str, Any]]) -> Workbook:
    book = Workbook()
    ws = book.active
    ws.title = title
    ws.append([header for header, _ in columns])
    _write_rows(ws, ([record.get(name) for _, name in columns] for record in records))
    ws.freeze_panes = "A2"
    return book


def _write_rows(ws: Any, rows: Iterable[list[Any]], first: int = 2) -> None:
    """Rows of API text from row `first` on, never taken for formulas."""
    for row, values in enumerate(rows, start=first):
        for col, value in enumerate(values, start=1):
            set_text(ws.cell(row=row, column=col), value)


def _shipments(records: list[dict[str, Any]]) -> Workbook:
    book = _plain("Shipments", SHIPMENT_COLUMNS, records)
    ws = book.create_sheet("Shipment Items")
    ws.append(["Shipment ID", "SKU", "Quantity"])
    _write_rows(
        ws,
        (
            [record.get("shipmentId"), item.get("sku"), item.get("quantity")]
            for record in records
            for item in record.get("items") or []
        ),
    )
    return book
