"""Helpers for tests: small named workbooks, reading results back, recording what was sent."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import openpyxl

from loader.resources import RESOURCES
from loader.resources.products import PRODUCTS
from loader.workbook.templates import build_template

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
CREDENTIALS = ("PB_CLIENT_ID", "PB_API_KEY", "PB_API_SECRET")
# A valid ship-to address of an order's header row, by header
SHIP_TO = {
    "Ship-To Name": "Maria Silva",
    "Ship-To Address Line 1": "27 Waterview Drive",
    "Ship-To City": "Shelton",
    "Ship-To State": "CT",
    "Ship-To Postal Code": "06484",
    "Ship-To Country": "US",
}
# One valid row of an order (one line), an ASN and a BOM, by header
ORDER_ROW = {
    "Client Order ID": "SO-1",
    "Order Date": datetime(2026, 11, 20, 9, 15),
    "Carrier": "USPS",
    "Service": "PRIORITY",
    **SHIP_TO,
    "SKU": "A",
    "Quantity": 1,
}
ASN_ROW = {
    "Client ASN ID": "ASN-1",
    "Inbound Type": "ASN",
    "Receiving Node": "157",
    "Estimated Delivery Date": datetime(2026, 12, 1, 9, 0),
    "SKU": "A",
    "Quantity": 10,
}
BOM_ROW = {"Kit SKU": "KIT-1", "Description": "Kit", "Component SKU": "A", "Component Quantity": 1}


def product_row(sku: str = "SKU-1", **overrides: Any) -> dict[str, Any]:
    """A valid product row by header; override any header with a keyword (spaces as underscores)."""
    row = {"SKU": sku, "Product Type": "ITEM", "Description": f"Product {sku}"}
    row.update({k.replace("_", " "): v for k, v in overrides.items()})
    return row


def write_products(
    path: Path,
    rows: Iterable[Mapping[str, Any]],
    headers: list[str] | None = None,
    from_template: bool = True,
) -> Path:
    """A products workbook with `rows` (dicts by header), from the template or a bare sheet."""
    headers = headers or [f.header for f in PRODUCTS.fields]
    if from_template:
        book = build_template((PRODUCTS,))
        ws = book[PRODUCTS.sheet]
        if headers != [f.header for f in PRODUCTS.fields]:
            ws.delete_rows(1)
            ws.append(headers)
    else:
        book = openpyxl.Workbook()
        ws = book.active
        ws.title = PRODUCTS.sheet
        ws.append(headers)
    for row in rows:
        ws.append([row.get(h) for h in headers])
    book.save(path)
    return path


def write_workbook(path: Path, sheets: Mapping[str, Iterable[Mapping[str, Any]]]) -> Path:
    """A workbook from the all-in-one template with `sheets` filled (rows as dicts by header)."""
    resources = [r for r in RESOURCES if r.sheet in sheets]
    book = build_template(tuple(resources))
    for resource in resources:
        ws = book[resource.sheet]
        headers = [f.header for f in resource.fields]
        for row in sheets[resource.sheet]:
            unknown = set(row) - set(headers)
            assert not unknown, f"no such column in {resource.sheet}: {unknown}"
            ws.append([row.get(h) for h in headers])
    book.save(path)
    return path


def read_statuses(path: Path, sheet: str = "Products") -> dict[int, dict[str, Any]]:
    """The result columns of every data row of a result workbook, by Excel row number."""
    ws = openpyxl.load_workbook(path)[sheet]
    headers = [c.value for c in ws[1]]
    out = {}
    for cells in ws.iter_rows(min_row=2):
        values = dict(zip(headers, (c.value for c in cells), strict=False))
        if values.get("Status"):
            out[cells[0].row] = values
    return out


class RecordingTransport(httpx.BaseTransport):
    """Passes requests to another transport and keeps each one, to assert on what was sent."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.inner.handle_request(request)
