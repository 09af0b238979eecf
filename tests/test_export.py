"""`pbload export`: what PB has, as workbooks; products and orders load back unchanged."""

from __future__ import annotations

import shutil

import openpyxl
import pytest

from tests.helpers import SAMPLES, read_statuses


@pytest.fixture
def loaded(cli, tmp_path):
    """The all-in-one sample loaded into the CLI's local state."""
    path = tmp_path / "all-in-one.xlsx"
    shutil.copy(SAMPLES / "all-in-one.xlsx", path)
    assert cli("load", path).exit_code == 0
    return path


def rows_of(path, sheet):
    ws = openpyxl.load_workbook(path)[sheet]
    return [list(r) for r in ws.iter_rows(values_only=True)]


def by_header(path, sheet):
    header, *rows = rows_of(path, sheet)
    return [dict(zip(header, row, strict=False)) for row in rows]


@pytest.mark.parametrize(
    "what, sheet, count, noun, rows",
    [
        ("products", "Products", 26, "products", 26),
        ("orders", "Orders", 5, "orders", 8),
    ],
)
def test_export_loads_back_unchanged(cli, loaded, tmp_path, what, sheet, count, noun, rows):
    exported = tmp_path / "out" / f"{what}.xlsx"
    result = cli("export", what, "-o", exported)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == f"Exported {count} {noun} to {exported}"

    again = cli("load", exported)
    assert again.exit_code == 0, again.output
    assert f"{sheet}: {rows} rows — {rows} unchanged" in again.output.splitlines()
    statuses = read_statuses(exported.with_name(f"{what}.result.xlsx"), sheet)
    assert len(statuses) == rows and {r["Status"] for r in statuses.values()} == {"UNCHANGED"}


def test_exported_orders_keep_their_lines_and_text(cli, loaded, tmp_path):
    assert cli("export", "orders").exit_code == 0  # default name in the current directory
    orders = by_header(tmp_path / "orders-export.xlsx", "Orders")
    first, second = orders[0], orders[1]
    assert (first["Client Order ID*"], first["Ship-To Postal Code*"], first["Line ID"], first["SKU*"]) == (
        "SO-100231",
        "06484",
        1,
        "00123-BLU-M",
    )
    assert (second["Client Order ID*"], second["Ship-To Name*"], second["Line ID"], second["SKU*"]) == (
        "SO-100231",
        None,
        2,
        "0071-TEE-WHT-M",
    )  # header values on the order's first row only


def test_inventory_shows_received_quantities(cli, loaded, local_emulator, tmp_path):
    emulator = local_emulator()
    emulator.advance("asn", "ASN-2026-0412", "RECEIVED")
    emulator.close()
    result = cli("export", "inventory", "-o", tmp_path / "stock.xlsx")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].startswith("Exported 10 stock records to ")
    stock = {r["SKU"]: r for r in by_header(tmp_path / "stock.xlsx", "Inventory")}
    assert [stock[sku] for sku in ("00123-BLU-S", "00123-BLU-M", "00123-BLU-L")] == [
        {"SKU": "00123-BLU-S", "Node": "157", "On Hand": 120, "Allocated": 0, "Available": 120},
        {
            "SKU": "00123-BLU-M",
            "Node": "157",
            "On Hand": 180,
            "Allocated": 1,
            "Available": 179,
        },  # SO-100231 holds 1
        {"SKU": "00123-BLU-L", "Node": "157", "On Hand": 120, "Allocated": 0, "Available": 120},
    ]


def test_shipments_show_the_tracking_number(cli, loaded, local_emulator, tmp_path):
    emulator = local_emulator()
    shipped = emulator.advance("order", "SO-100232", "SHIPPED")
    emulator.close()
    tracking = shipped["actualShippingDetails"]["trackingNumber"]
    assert tracking.startswith("1Z") and len(tracking) == 18
    result = cli("export", "shipments", "-o", tmp_path / "shipped.xlsx")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == f"Exported 1 shipment to {tmp_path / 'shipped.xlsx'}"
    [shipment] = by_header(tmp_path / "shipped.xlsx", "Shipments")
    assert {
        k: shipment[k] for k in ("Order ID", "Client Order ID", "Carrier", "Service", "Tracking Number")
    } == {
        "Order ID": shipped["orderId"],
        "Client Order ID": "SO-100232",
        "Carrier": "USPS",
        "Service": "PRIORITY",
        "Tracking Number": tracking,
    }
    assert rows_of(tmp_path / "shipped.xlsx", "Shipment Items")[1:] == [
        [shipment["Shipment ID"], "MUG-STN-12OZ", 4]
    ]


def test_nothing_to_export_is_an_empty_sheet(cli, tmp_path):
    result = cli("export", "shipments", "-o", tmp_path / "none.xlsx")
    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == f"Exported 0 shipments to {tmp_path / 'none.xlsx'}"
    assert rows_of(tmp_path / "none.xlsx", "Shipments") == [
        [
            "Shipment ID",
            "Order ID",
            "Client Order ID",
            "Carrier",
            "Service",
            "Tracking Number",
            "Shipped Date",
        ]
    ]


def test_unknown_export_is_a_usage_error(cli):
    result = cli("export", "widgets")
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        "Error: Invalid value for 'WHAT': 'widgets' is not one of 'products', "
        "'orders', 'inventory', 'shipments'."
    )
    assert result.output.startswith("Usage: ")


def test_an_edited_export_updates_only_the_changed_order(cli, loaded, tmp_path):
    exported = tmp_path / "orders.xlsx"
    assert cli("export", "orders", "-o", exported).exit_code == 0
    book = openpyxl.load_workbook(exported)
    ws = book["Orders"]
    quantity = [str(c.value).rstrip("*") for c in ws[1]].index("Quantity") + 1
    ws.cell(row=3, column=quantity).value = 5  # the second line of SO-100231
    book.save(exported)
    result = cli("load", exported)
    assert result.exit_code == 0, result.output
    assert "Orders: 8 rows — 2 updated, 6 unchanged" in result.output.splitlines()
    statuses = read_statuses(tmp_path / "orders.result.xlsx", "Orders")
    assert [statuses[row]["Status"] for row in (2, 3, 4)] == ["UPDATED", "UPDATED", "UNCHANGED"]
