"""The shortcuts that keep checking big sheets fast report exactly what a cell-by-cell check would.

Columns repeat their values: each distinct value is converted once, group headers are worked out
once per column, and the schema looks only at rows that may fail. These sheets go past 200 rows,
repeating a few values, good and bad mixed, so that every shortcut is taken, and check that each
row is reported on its own.
"""

from __future__ import annotations

from datetime import datetime

from loader.checks import check_sheet
from loader.workbook.reader import read_workbook
from tests.helpers import SHIP_TO, product_row, write_products, write_workbook

ROWS = 240


def checked_products(tmp_path, rows):
    return check_sheet(read_workbook(write_products(tmp_path / "p.xlsx", rows)).sheets[0])


def test_a_repeated_value_is_converted_and_reported_on_every_row(tmp_path):
    costs = [12.5, "12.5", "cheap", 3]  # a number, a number as text, not a number, a whole number
    dates = [datetime(2026, 3, 31), "2026-03-31", "next tuesday", 45000]
    types = ["ITEM", "item", "BUNDLE"]
    rows = [
        product_row(f"S{n}", Unit_Cost=costs[n % 4], Create_Date=dates[n % 4], Product_Type=types[n % 3])
        for n in range(ROWS)
    ]
    checked = checked_products(tmp_path, rows)
    found = {(i.row, i.column, i.code, i.message) for i in checked.issues}
    expected = set()
    for n in range(ROWS):
        row = n + 2
        if n % 4 == 1:
            expected.add(
                (
                    row,
                    "Unit Cost",
                    "number-stored-as-text",
                    "Unit Cost '12.5' is a number stored as text; pbload read it as a number.",
                )
            )
            expected.add(
                (
                    row,
                    "Create Date",
                    "date-as-text",
                    "Create Date '2026-03-31' is a date typed as text; pbload read it as a date.",
                )
            )
        if n % 4 == 2:
            expected.add((row, "Unit Cost", "wrong-type", "Unit Cost must be a number, not 'cheap'."))
            expected.add(
                (
                    row,
                    "Create Date",
                    "wrong-type",
                    "Create Date 'next tuesday' is not a date. Type it as a date, such as 2026-03-31, "
                    "in a cell formatted as a date.",
                )
            )
        if n % 4 == 3:
            expected.add(
                (
                    row,
                    "Create Date",
                    "wrong-type",
                    "Create Date holds the number 45000, not a date. Format the cell as a date (an Excel "
                    "serial number shows that the format was lost).",
                )
            )
        if n % 3 == 2:
            expected.add(
                (
                    row,
                    "Product Type",
                    "not-allowed",
                    "Product Type 'BUNDLE' is not allowed; use one of ITEM, KIT.",
                )
            )
    assert found == expected
    values = checked.values
    cost = {0: 12.5, 1: 12.5, 3: 3.0}
    assert [values.at[n + 2, "details.unitCost"] for n in range(ROWS) if n % 4 != 2] == [
        cost[n % 4] for n in range(ROWS) if n % 4 != 2
    ]
    assert values["details.unitCost"].isna().tolist() == [n % 4 == 2 for n in range(ROWS)]
    assert values["createDate"].tolist() == [
        datetime(2026, 3, 31) if n % 4 < 2 else None for n in range(ROWS)
    ]
    assert values["productType"].tolist() == [["ITEM", "ITEM", "BUNDLE"][n % 3] for n in range(ROWS)]


def test_equal_values_of_different_types_are_told_apart(tmp_path):
    # 1, 1.0 and TRUE are equal in Python, but a number in a text column loses its leading zeros, a
    # TRUE there is just text
    skus = [1, "1", True]
    rows = [product_row(f"S{n}", Description=skus[n % 3]) for n in range(ROWS)]
    checked = checked_products(tmp_path, rows)
    assert [(i.row, i.code) for i in checked.issues] == []
    assert checked.values["details.description"].tolist() == [["1", "1", "TRUE"][n % 3] for n in range(ROWS)]
    coded = [product_row(skus[n % 3] if n % 3 == 0 else f"S{n}") for n in range(ROWS)]
    issues = [(i.row, i.column, i.code) for i in checked_products(tmp_path, coded).issues]
    assert issues == [(n + 2, "SKU", "number-in-text-column") for n in range(0, ROWS, 3)]


def order_lines(orders: int, lines: int):
    """`orders` orders of `lines` lines each: the header on the first line only, every order alike."""
    rows = []
    for n in range(orders):
        header = {
            "Client Order ID": f"SO-{n}",
            "Order Date": datetime(2026, 11, 20, 9, 15),
            "Carrier": "USPS",
            "Service": "PRIORITY",
            **SHIP_TO,
        }
        rows += [
            {**(header if i == 0 else {"Client Order ID": f"SO-{n}"}), "SKU": "A", "Quantity": 1}
            for i in range(lines)
        ]
    return rows


def checked_orders(tmp_path, rows):
    return check_sheet(read_workbook(write_workbook(tmp_path / "o.xlsx", {"Orders": rows})).sheets[0])


def test_a_header_value_good_in_one_order_differs_in_another(tmp_path):
    rows = order_lines(100, 3)  # 300 rows, the same city everywhere
    for n in range(0, 100, 7):
        rows[3 * n + 2]["Ship-To City"] = "Cambridge"  # differs on the last line of every 7th order
    rows[3 * 5 + 1]["Ship-To City"] = "Shelton"  # repeats the same value: fine
    checked = checked_orders(tmp_path, rows)
    issues = [(i.row, i.column, i.code, i.message) for i in checked.issues]
    assert issues == [
        (
            3 * n + 4,
            "Ship-To City",
            "header-mismatch",
            f"Ship-To City 'Cambridge' differs from 'Shelton' on row {3 * n + 2}, the first row of Client "
            f"Order ID SO-{n}. Leave it blank or repeat the same value.",
        )
        for n in range(0, 100, 7)
    ]
    values = checked.values
    differs = {3 * n + 4 for n in range(0, 100, 7)}
    assert values["shipToAddress.cityTown"].tolist() == [
        "Cambridge" if row in differs else "Shelton" for row in range(2, 302)
    ]
    assert values["createDate"].tolist() == [datetime(2026, 11, 20, 9, 15)] * 300
    assert values["inputShippingDetails.carrier"].tolist() == ["USPS"] * 300


def test_a_header_value_missing_from_a_whole_order_is_reported_on_its_first_row(tmp_path):
    rows = order_lines(90, 3)
    for n in range(0, 90, 4):
        del rows[3 * n]["Carrier"]
    rows.insert(100, {"SKU": "B", "Quantity": 1})  # a line of no order, at row 102
    checked = checked_orders(tmp_path, rows)
    issues = [(i.row, i.column, i.code) for i in checked.issues if i.is_error]
    missing = [3 * n + 2 + (n * 3 >= 100) for n in range(0, 90, 4)]
    assert issues == sorted(
        [(row, "Carrier", "required") for row in missing] + [(102, "Client Order ID", "no-header")]
    )
    carriers = checked.values["inputShippingDetails.carrier"]
    assert carriers.isna().sum() == 3 * len(missing) + 1


def test_the_schema_reports_each_failing_row_among_many_good_ones(tmp_path):
    rows = [product_row(f"S{n}", UPC="0123", Origin_Country="US", Unit_Cost=2) for n in range(ROWS)]
    bad = {
        7: ("UPC", "bad-format", {"UPC": "0123O"}),
        93: ("UPC", "bad-format", {"UPC": "0123O"}),  # the same bad value again
        150: ("Origin Country", "bad-format", {"Origin Country": "Portugal"}),
        201: ("Unit Cost", "out-of-range", {"Unit Cost": -1}),
        222: ("Weight Unit", "required", {"Weight": 1.5}),
        230: ("Product Type", "not-allowed", {"Product Type": "BUNDLE"}),
    }
    for n, (_, _, cells) in bad.items():
        rows[n].update(cells)
    rows[210]["SKU"] = rows[20]["SKU"] = "S20"  # a repeated key, reported on both rows
    found = [(i.row, i.column, i.code) for i in checked_products(tmp_path, rows).issues]
    expected = [(n + 2, column, code) for n, (column, code, _) in bad.items()]
    expected += [(22, "SKU", "duplicate-key"), (212, "SKU", "duplicate-key")]
    assert found == sorted(expected)


def test_a_cell_failing_two_rules_is_reported_for_each(tmp_path):
    # the screen's own failures stop at one per cell: where two meet, pandera orders them
    rows = [product_row(f"S{n}", UPC="0123") for n in range(ROWS)]
    rows[40]["UPC"] = "UPC-NUMBER-TOO-LONG"  # more than 14 characters, and not digits
    rows[41]["UPC"] = "0123O"
    found = {(i.row, i.column, i.code) for i in checked_products(tmp_path, rows).issues}
    assert found == {(42, "UPC", "too-long"), (42, "UPC", "bad-format"), (43, "UPC", "bad-format")}
