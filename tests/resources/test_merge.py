"""Blank means keep (DESIGN §2): an update lays the row's filled cells over PB's record, CLEAR clears,
and the result names every change with PB's old value."""

from __future__ import annotations

import json

import openpyxl
import pytest

from loader.checks import check_sheet
from loader.models import Status
from loader.plan import plan_sheet
from loader.resources.orders import ORDERS
from loader.resources.products import PRODUCTS
from loader.send.keyed import decide
from loader.workbook.reader import read_workbook
from tests.helpers import product_row, read_statuses, write_products, write_workbook

FULL = dict(
    Brand="Alfama",
    Category="Knitwear",
    Manufacturer="Lisbon Knits",
    UPC="012345678905",
    Other_Identifier_Type="EAN",
    Other_Identifier="5601234567890",
    Unit_Cost=18.5,
    Weight=0.4,
    Weight_Unit="LB",
    Length=12,
    Height=9,
    Width=2.5,
    Dimension_Unit="IN",
    Origin_Country="PT",
    Origin_State="Braga",
    HS_Tariff_Code="611011",
    HS_Country="US",
    DOT_Hazmat_Code="D1",
    UN_Hazmat_Code="UN3481",
    Hazmat_Description="Battery",
    Vendor_Name="Lisbon Knitwear Lda",
    Vendor_Number="V-0042",
    Fulfillment_Region="PB_ONLY",
    Active=True,
)


def _full(sku: str, **overrides: object) -> dict[str, object]:
    return product_row(sku, **{**FULL, **overrides})


def _sparse(sku: str, **cells: object) -> dict[str, object]:
    """A row naming only the SKU, its required columns and `cells`: everything else blank."""
    return product_row(sku, **cells)


def _stored(local_emulator) -> dict[str, dict]:
    return {p["sku"]: p for p in local_emulator().products()}


def _without_dates(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in ("pbUpdateDate",)}


@pytest.fixture
def loaded(cli, tmp_path, local_emulator):
    """Three products loaded with every column filled; PB's records as they were."""
    path = write_products(tmp_path / "full.xlsx", [_full("A"), _full("B"), _full("C")])
    result = cli("load", path)
    assert result.exit_code == 0, result.output
    return _stored(local_emulator)


def test_blank_cells_keep_pbs_values_and_only_the_changed_one_changes(cli, tmp_path, local_emulator, loaded):
    path = write_products(tmp_path / "p.xlsx", [_sparse("A", Weight=0.45, Weight_Unit="LB"), _sparse("B")])
    result = cli("load", path)
    assert result.exit_code == 0, result.output
    assert "Products: 2 rows — 1 updated, 1 unchanged" in result.output
    stored = _stored(local_emulator)
    expected = loaded["A"]
    expected["details"]["weight"]["value"] = 0.45
    assert _without_dates(stored["A"]) == _without_dates(expected)
    assert _without_dates(stored["B"]) == _without_dates(loaded["B"])
    statuses = read_statuses(tmp_path / "p.result.xlsx")
    assert (statuses[2]["Status"], statuses[2]["Changes"]) == ("UPDATED", "Weight: 0.4 → 0.45")
    assert (statuses[3]["Status"], statuses[3]["Changes"]) == ("UNCHANGED", None)
    book = openpyxl.load_workbook(tmp_path / "p.result.xlsx")
    weight = [f.header for f in PRODUCTS.fields].index("Weight") + 1
    assert book["Products"].cell(row=2, column=weight).comment.text == "PB had: 0.4"
    summary = {r[0]: r[1] for r in book["Summary"].iter_rows(values_only=True) if r[0]}
    assert summary["Products: Weight"] == 1
    again = cli("load", tmp_path / "p.result.xlsx")  # pbload's own columns, Changes too, are not data
    assert again.exit_code == 0, again.output
    assert "Products: 2 rows — 2 unchanged" in again.output.splitlines()


def test_clear_clears_a_field_and_its_companions(cli, tmp_path, local_emulator, loaded):
    path = write_products(tmp_path / "p.xlsx", [_sparse("A", Brand="CLEAR", Weight="CLEAR")])
    result = cli("load", path)
    assert result.exit_code == 0, result.output
    details = _stored(local_emulator)["A"]["details"]
    assert "brand" not in details and "weight" not in details
    assert details["category"] == "Knitwear"
    statuses = read_statuses(tmp_path / "p.result.xlsx")
    assert statuses[2]["Changes"] == "Brand: Alfama → —; Weight: 0.4 → —; Weight Unit: LB → —"


def test_clear_in_a_required_column_is_refused(cli, tmp_path, loaded):
    path = write_products(tmp_path / "p.xlsx", [_sparse("A", Description="CLEAR")])
    result = cli("load", path)
    assert result.exit_code == 1
    row = read_statuses(tmp_path / "p.result.xlsx")[2]
    assert (row["Status"], row["Error Code"]) == ("INVALID", "cannot-clear")
    assert row["Message"] == (
        "Description: Description is required, so it cannot be cleared: give a value, or "
        "leave the cell blank to keep PB's."
    )


def test_clear_passes_type_checks_and_a_create_sends_it_as_blank(tmp_path):
    path = write_products(tmp_path / "p.xlsx", [_sparse("A", Unit_Cost="CLEAR", Active="CLEAR")])
    checked = check_sheet(read_workbook(path).sheets[0])
    assert [i for i in checked.issues if i.is_error] == []
    assert checked.cleared == {2: {_path("Unit Cost"), _path("Active")}}


def _path(header: str) -> str:
    return next(f.name for f in PRODUCTS.fields if f.header == header)


def test_more_than_a_chunk_of_partial_updates(cli, tmp_path, local_emulator):
    rows = [_full(f"S{n:03d}") for n in range(250)]
    assert cli("load", write_products(tmp_path / "full.xlsx", rows)).exit_code == 0
    before = _stored(local_emulator)
    path = write_products(
        tmp_path / "p.xlsx", [_sparse(f"S{n:03d}", Unit_Cost=19 if n % 2 else None) for n in range(250)]
    )
    result = cli("load", path)
    assert result.exit_code == 0, result.output
    assert "Products: 250 rows — 125 updated, 125 unchanged" in result.output
    after = _stored(local_emulator)
    for n in range(250):
        sku = f"S{n:03d}"
        expected = before[sku]
        if n % 2:
            expected["details"]["unitCost"] = 19
        assert _without_dates(after[sku]) == _without_dates(expected)


ORDER = {
    "Order Date": "2026-11-20 14:30",
    "Carrier": "USPS",
    "Service": "PRIORITY",
    "Ship-To Name": "Ana",
    "Ship-To Address Line 1": "1 Main St",
    "Ship-To City": "Springfield",
    "Ship-To State": "IL",
    "Ship-To Postal Code": "62701",
    "Ship-To Country": "US",
}


def _order_rows(lines: list[tuple[int, str, int]], **header: object) -> list[dict[str, object]]:
    rows = []
    for n, (line, sku, qty) in enumerate(lines):
        row: dict[str, object] = {"Client Order ID": "SO-1", "Line ID": line, "SKU": sku, "Quantity": qty}
        if n == 0:
            row.update({**ORDER, **header})
        rows.append(row)
    return rows


def test_order_lines_changed_added_and_removed(cli, tmp_path, local_emulator):
    products = [product_row(s) for s in ("P1", "P2", "P3", "P4")]
    first = write_workbook(
        tmp_path / "o.xlsx",
        {
            "Products": products,
            "Orders": _order_rows([(1, "P1", 1), (2, "P2", 1), (3, "P3", 1)], Brand="Acme"),
        },
    )
    assert cli("load", first).exit_code == 0
    again = write_workbook(
        tmp_path / "o2.xlsx", {"Orders": _order_rows([(1, "P1", 3), (3, "P3", 1), (4, "P4", 2)])}
    )
    result = cli("load", again)
    assert result.exit_code == 0, result.output
    order = next(o for o in local_emulator().orders() if o["clientOrderId"] == "SO-1")
    assert [(line["lineId"], line["sku"], line["orderedQuantity"]) for line in order["orderItems"]] == [
        (1, "P1", 3),
        (3, "P3", 1),
        (4, "P4", 2),
    ]
    assert order["brand"] == "Acme"  # blank on the sheet: kept
    statuses = read_statuses(tmp_path / "o2.result.xlsx", ORDERS.sheet)
    assert statuses[2]["Changes"] == (
        "Line 1 Quantity: 1 → 3; Line 4 added; Line 2 removed (no row lists it any more)"
    )


def _order_item(tmp_path, lines: list[tuple[int, str, int]]):
    """The item `plan` makes of an order sheet (with products known, so nothing is looked up)."""
    path = write_workbook(tmp_path / "o.xlsx", {"Orders": _order_rows(lines)})
    checked = check_sheet(read_workbook(path).sheets[0])
    (item,) = plan_sheet(checked, checked.invalid_rows()).items
    return item


def test_request_fields_without_a_column_are_carried_over(tmp_path):
    item = _order_item(tmp_path, [(1, "P1", 2)])
    record = json.loads(json.dumps(item.payload))  # PB's record as it stands, with fields no column names
    record.update(orderId="PB-9", status="RECEIVED")
    record["inputShippingDetails"]["trackingNumber"] = "1Z999"
    record["orderItems"][0]["originStateProvince"] = "IL"
    assert decide(item, record, ORDERS, ORDERS.api).status is Status.UNCHANGED
    record["orderItems"][0]["orderedQuantity"] = 1
    step = decide(item, record, ORDERS, ORDERS.api)
    body = step.item.payload
    assert body["inputShippingDetails"]["trackingNumber"] == "1Z999"
    assert body["orderItems"] == [{**item.payload["orderItems"][0], "originStateProvince": "IL"}]
    assert "status" not in body and "orderId" not in body  # response-only fields are never sent back
    assert [(c.column, c.old, c.new) for c in step.changes] == [("Quantity", 1, 2)]
