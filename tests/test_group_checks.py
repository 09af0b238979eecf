"""Header/line groups and references between sheets, checked and reported as (sheet, row, column, code)."""

from __future__ import annotations

import json

import httpx
import pytest

from loader import pipeline
from loader.checks import check_sheet
from loader.emulator import create_app
from loader.plan import plan_sheet
from loader.settings import load_settings
from loader.workbook.reader import read_workbook
from tests.helpers import (
    ASN_ROW,
    BOM_ROW,
    ORDER_ROW,
    SHIP_TO,
    RecordingTransport,
    product_row,
    read_statuses,
    write_workbook,
)

ADDRESS, ORDER, ASN, BOM = SHIP_TO, ORDER_ROW, ASN_ROW, BOM_ROW
RETURN = {"Return Client Order ID": "RET-1", "SKU": "A", "Quantity": 1}


def checked(tmp_path, sheet, *rows):
    return check_sheet(read_workbook(write_workbook(tmp_path / "w.xlsx", {sheet: rows})).sheets[0])


def problems(tmp_path, sheet, *rows):
    """Every error of a one-sheet workbook, as (sheet, row, column, code)."""
    return [(i.sheet, i.row, i.column, i.code) for i in checked(tmp_path, sheet, *rows).issues if i.is_error]


def line(sheet_key: str, key: str, **cells):
    return {sheet_key: key, **{k.replace("_", " "): v for k, v in cells.items()}}


def test_valid_groups_have_no_problems(tmp_path):
    rows = [ORDER, line("Client Order ID", "SO-1", SKU="B", Quantity=2), {**ORDER, "SKU": "C"}]
    assert problems(tmp_path, "Orders", *rows) == []


def test_a_line_without_its_order(tmp_path):
    rows = [ORDER, {"SKU": "B", "Quantity": 1}]
    assert problems(tmp_path, "Orders", *rows) == [("Orders", 3, "Client Order ID", "no-header")]
    [issue] = checked(tmp_path, "Orders", *rows).issues
    assert issue.message == "This line has no Client Order ID: fill it in to say which one it belongs to."


def test_a_return_line_without_its_return(tmp_path):
    rows = [RETURN, {"SKU": "B", "Quantity": 1, "Return Reason": "Too big"}]
    assert problems(tmp_path, "Returns", *rows) == [("Returns", 3, "Return Client Order ID", "no-header")]


def test_header_values_that_differ_within_a_group(tmp_path):
    rows = [ORDER, {**line("Client Order ID", "SO-1", SKU="B", Quantity=1), "Ship-To City": "Cambridge"}]
    assert problems(tmp_path, "Orders", *rows) == [("Orders", 3, "Ship-To City", "header-mismatch")]
    [issue] = checked(tmp_path, "Orders", *rows).issues
    assert issue.message == (
        "Ship-To City 'Cambridge' differs from 'Shelton' on row 2, the first row of Client "
        "Order ID SO-1. Leave it blank or repeat the same value."
    )


def test_asn_node_that_differs_on_a_later_row(tmp_path):
    rows = [ASN, line("Client ASN ID", "ASN-1", Receiving_Node="212", SKU="B", Quantity=1)]
    assert problems(tmp_path, "ASNs", *rows) == [("ASNs", 3, "Receiving Node", "header-mismatch")]


def test_duplicate_order_line_numbers(tmp_path):
    rows = [
        {**ORDER, "Line ID": 1},
        line("Client Order ID", "SO-1", Line_ID=1, SKU="B", Quantity=1),
        {**ORDER, "Client Order ID": "SO-2", "Line ID": 1},
    ]  # line 1 of another order is fine
    assert problems(tmp_path, "Orders", *rows) == [("Orders", 3, "Line ID", "duplicate-line")]
    [issue] = checked(tmp_path, "Orders", *rows).issues
    assert issue.message == "Line ID 1 appears twice in Client Order ID SO-1; each may appear once."


def test_duplicate_asn_line_numbers(tmp_path):
    rows = [{**ASN, "Line ID": 2}, line("Client ASN ID", "ASN-1", Line_ID=2, SKU="B", Quantity=1)]
    assert problems(tmp_path, "ASNs", *rows) == [("ASNs", 3, "Line ID", "duplicate-line")]


def test_bom_component_listed_twice(tmp_path):
    rows = [
        BOM,
        line("Kit SKU", "KIT-1", Component_SKU="A", Component_Quantity=2),
        {**BOM, "Kit SKU": "KIT-2"},
    ]  # the same component in another kit is fine
    assert problems(tmp_path, "BOMs", *rows) == [("BOMs", 3, "Component SKU", "duplicate-line")]
    [issue] = checked(tmp_path, "BOMs", *rows).issues
    assert issue.message == "Component SKU A appears twice in Kit SKU KIT-1; each may appear once."


def test_bom_that_lists_its_own_kit(tmp_path):
    rows = [BOM, line("Kit SKU", "KIT-1", Component_SKU="KIT-1", Component_Quantity=1)]
    assert problems(tmp_path, "BOMs", *rows) == [("BOMs", 3, "Component SKU", "self-reference")]
    [issue] = checked(tmp_path, "BOMs", *rows).issues
    assert issue.message == "Component SKU KIT-1 is the Kit SKU itself; a kit cannot contain itself."


def test_po_asn_needs_its_purchase_order_number(tmp_path):
    rows = [{**ASN, "Inbound Type": "PO"}, line("Client ASN ID", "ASN-1", SKU="B", Quantity=1)]
    assert problems(tmp_path, "ASNs", *rows) == [("ASNs", 2, "Purchase Order Number", "required")]
    [issue] = checked(tmp_path, "ASNs", *rows).issues
    assert issue.message == "Purchase Order Number is required when Inbound Type is PO."
    assert problems(tmp_path, "ASNs", {**ASN, "Inbound Type": "PO", "Purchase Order Number": "PO-1"}) == []


@pytest.mark.parametrize(
    "country, expected",
    [
        ("US", [("Orders", 2, "Ship-To State", "required")]),
        ("CA", [("Orders", 2, "Ship-To State", "required")]),
        ("PT", []),
    ],
)
def test_us_and_ca_addresses_need_a_state(tmp_path, country, expected):
    rows = [
        {**ORDER, "Ship-To State": None, "Ship-To Country": country},
        line("Client Order ID", "SO-1", SKU="B", Quantity=1),
    ]
    assert problems(tmp_path, "Orders", *rows) == expected


def test_a_missing_header_value_is_reported_once_on_the_first_row(tmp_path):
    rows = [
        {**ORDER, "Ship-To Name": None},
        line("Client Order ID", "SO-1", SKU="B", Quantity=1),
        line("Client Order ID", "SO-1", SKU="C", Quantity=1),
    ]
    assert problems(tmp_path, "Orders", *rows) == [("Orders", 2, "Ship-To Name", "required")]


def test_a_bad_header_value_is_reported_on_the_first_row_only(tmp_path):
    rows = [
        {**BOM, "Description": "D" * 31},
        line("Kit SKU", "KIT-1", Component_SKU="B", Component_Quantity=1),
    ]
    assert problems(tmp_path, "BOMs", *rows) == [("BOMs", 2, "Description", "too-long")]


def test_line_fields_are_checked_on_every_row(tmp_path):
    rows = [
        ORDER,
        line("Client Order ID", "SO-1", SKU="B", Quantity=0),
        line("Client Order ID", "SO-1", Quantity=1),
    ]
    assert problems(tmp_path, "Orders", *rows) == [
        ("Orders", 3, "Quantity", "out-of-range"),
        ("Orders", 4, "SKU", "required"),
    ]


@pytest.mark.parametrize("value, code", [("next Tuesday", "wrong-type"), (45000, "wrong-type")])
def test_dates_must_be_dates(tmp_path, value, code):
    assert problems(tmp_path, "ASNs", {**ASN, "Estimated Delivery Date": value}) == [
        ("ASNs", 2, "Estimated Delivery Date", code)
    ]


def test_a_date_typed_as_text_is_read_with_a_warning(tmp_path):
    row = {**ASN, "Estimated Delivery Date": "2026-12-01T09:00:00"}
    result = checked(tmp_path, "ASNs", row)
    assert [(i.row, i.column, i.code, i.is_error) for i in result.issues] == [
        (2, "Estimated Delivery Date", "date-as-text", False),
    ]
    [item] = plan_sheet(result, result.invalid_rows()).items
    assert item.payload["asnItems"][0]["estimatedDeliveryDate"] == "2026-12-01T09:00:00Z"


def test_a_cancel_needs_only_the_key(tmp_path):
    assert problems(tmp_path, "Orders", {"Client Order ID": "SO-1", "Action": "CANCEL"}) == []
    assert problems(tmp_path, "ASNs", {"Client ASN ID": "ASN-1", "Action": "cancel"}) == []
    assert problems(tmp_path, "Work Orders", {"Client Work Order ID": "WO-1", "Action": "CANCEL"}) == []
    assert problems(tmp_path, "Work Orders", {"Action": "CANCEL"}) == [
        ("Work Orders", 2, "Client Work Order ID", "required"),
    ]


def test_boms_and_returns_cannot_be_cancelled(tmp_path):
    assert problems(tmp_path, "BOMs", {**BOM, "Action": "CANCEL"}) == [("BOMs", 2, "Action", "not-allowed")]
    assert problems(tmp_path, "Returns", {**RETURN, "Action": "CANCEL"}) == [
        ("Returns", 2, "Action", "not-allowed")
    ]


def test_one_bad_row_makes_its_whole_group_invalid(tmp_path):
    rows = [
        ORDER,
        line("Client Order ID", "SO-1", SKU="B", Quantity=0),
        line("Client Order ID", "SO-1", SKU="C", Quantity=1),
        {**ORDER, "Client Order ID": "SO-2"},
    ]
    result = checked(tmp_path, "Orders", *rows)
    plan = plan_sheet(result, result.invalid_rows())
    assert [i.key for i in plan.items] == ["SO-2"]
    assert {row: (o.status.value, o.error_code) for row, o in plan.settled.items()} == {
        2: ("INVALID", "invalid-group"),
        3: ("INVALID", "out-of-range"),
        4: ("INVALID", "invalid-group"),
    }
    assert plan.settled[2].message == "Not sent: row 3 of Client Order ID SO-1 has a problem."
    assert plan.settled[3].message == "Quantity: Quantity must be at least 1, not 0."


# --- references between sheets, through a load into the in-memory emulator ----------------------------------


@pytest.fixture
def load(tmp_path):
    emulator = create_app(None)
    recorder = RecordingTransport(httpx.WSGITransport(app=emulator))
    settings = load_settings({"state_dir": tmp_path / "state"}, environ={})
    runs = iter(range(1, 100))

    def run(sheets):
        path = write_workbook(tmp_path / f"w{next(runs)}.xlsx", sheets)
        recorder.requests.clear()
        report = pipeline.load(path, settings, transport=recorder)
        return report, path

    run.emulator = emulator
    run.recorder = recorder
    return run


def product_gets(recorder):
    """The SKUs pbload asked PB about (in product searches), each as often as it was asked."""
    asked = []
    for r in recorder.requests:
        if r.url.path.endswith("/v1/products/search"):
            asked += [
                v for f in json.loads(r.content)["searchFields"] if f["name"] == "sku" for v in f["values"]
            ]
    return sorted(asked)


def test_unknown_sku_is_invalid_on_its_cell(load):
    rows = [{**ORDER, "SKU": "A"}, line("Client Order ID", "SO-1", SKU="NOPE", Quantity=1)]
    report, path = load({"Products": [product_row("A")], "Orders": rows})
    assert [(i.sheet, i.row, i.column, i.code) for i in report.issues] == [
        ("Orders", 3, "SKU", "unknown-sku")
    ]
    assert report.issues[0].message == (
        "SKU NOPE is neither on the Products sheet nor known to PB. Add the product or correct the SKU."
    )
    statuses = read_statuses(path.with_name(path.stem + ".result.xlsx"), "Orders")
    assert {row: (r["Status"], r["Error Code"], r["Message"]) for row, r in statuses.items()} == {
        2: ("INVALID", "invalid-group", "Not sent: row 3 of Client Order ID SO-1 has a problem."),
        3: (
            "INVALID",
            "unknown-sku",
            "SKU: SKU NOPE is neither on the Products sheet nor known to PB. Add the "
            "product or correct the SKU.",
        ),
    }
    assert load.emulator.orders() == []


def test_unknown_kit_is_reported_once_on_the_first_row(load):
    rows = [{**BOM, "Kit SKU": "KIT-X"}, line("Kit SKU", "KIT-X", Component_SKU="B", Component_Quantity=1)]
    report, _ = load({"Products": [product_row("A"), product_row("B")], "BOMs": rows})
    assert [(i.sheet, i.row, i.column, i.code) for i in report.issues] == [
        ("BOMs", 2, "Kit SKU", "unknown-sku")
    ]
    assert {row: o.error_code for row, o in report.sheets[1].outcomes.items()} == {
        2: "unknown-sku",
        3: "invalid-group",
    }


def test_sku_known_at_pb_but_not_in_the_workbook_is_loaded(load):
    load({"Products": [product_row("AT-PB")]})
    report, _ = load({"Orders": [{**ORDER, "SKU": "AT-PB"}]})
    assert report.issues == []
    assert [(o.status.value, o.pb_id) for o in report.sheets[0].outcomes.values()] == [
        ("CREATED", "ORD000001")
    ]
    assert [line["sku"] for line in load.emulator.orders()[0]["orderItems"]] == ["AT-PB"]


def test_each_sku_missing_from_the_workbook_is_looked_up_once(load):
    load({"Products": [product_row("AT-PB")]})
    orders = [
        {**ORDER, "SKU": "AT-PB"},
        line("Client Order ID", "SO-1", SKU="NOPE", Quantity=1),
        {**ORDER, "Client Order ID": "SO-2", "SKU": "AT-PB"},
        line("Client Order ID", "SO-2", SKU="IN-BOOK", Quantity=1),
    ]
    returns = [{**RETURN, "SKU": "NOPE"}, {**RETURN, "Return Client Order ID": "RET-2", "SKU": "AT-PB"}]
    asns = [{**ASN, "SKU": "AT-PB"}, line("Client ASN ID", "ASN-1", SKU="NOPE", Quantity=1)]
    report, _ = load(
        {"Products": [product_row("IN-BOOK")], "ASNs": asns, "Orders": orders, "Returns": returns}
    )
    # each once: IN-BOOK by the Products sheet's own lookup, the others as SKUs missing from the workbook
    assert product_gets(load.recorder) == ["AT-PB", "IN-BOOK", "NOPE"]
    assert sorted((i.sheet, i.row) for i in report.issues if i.code == "unknown-sku") == [
        ("ASNs", 3),
        ("Orders", 3),
        ("Returns", 2),
    ]
    assert [o["clientOrderId"] for o in load.emulator.orders()] == ["SO-2"]


def test_skus_on_the_products_sheet_are_not_looked_up_again(load):
    load({"Products": [product_row("A")], "Orders": [ORDER], "Returns": [RETURN]})
    assert product_gets(load.recorder) == ["A"]  # only by the Products sheet's own lookup
