"""Every check code, as (row, column, code) data; every problem in the sheet at once."""

from __future__ import annotations

from datetime import datetime

import pytest

from loader.checks import check_sheet
from loader.models import Severity
from loader.workbook.reader import read_workbook
from tests.helpers import product_row, write_products


def problems(tmp_path, *rows, errors_only=True):
    data = read_workbook(write_products(tmp_path / "p.xlsx", rows)).sheets[0]
    checked = check_sheet(data)
    return [(i.row, i.column, i.code) for i in checked.issues if i.is_error or not errors_only]


@pytest.mark.parametrize(
    "overrides, column, code",
    [
        ({"Description": None}, "Description", "required"),
        ({"SKU": "X" * 31}, "SKU", "too-long"),
        ({"Product Type": "BUNDLE"}, "Product Type", "not-allowed"),
        ({"Action": "CANCEL"}, "Action", "not-allowed"),
        ({"SKU": 4471}, "SKU", "number-in-text-column"),
        ({"UPC": 12345678901234567}, "UPC", "digits-lost"),
        ({"Unit Cost": "cheap"}, "Unit Cost", "wrong-type"),
        ({"Active": "maybe"}, "Active", "wrong-type"),
        ({"Create Date": 45000}, "Create Date", "wrong-type"),
        ({"Create Date": "next tuesday"}, "Create Date", "wrong-type"),
        ({"Unit Cost": -1}, "Unit Cost", "out-of-range"),
        ({"Weight": 0, "Weight Unit": "LB"}, "Weight", "out-of-range"),
        ({"UPC": "0123O"}, "UPC", "bad-format"),
        ({"Origin Country": "Portugal"}, "Origin Country", "bad-format"),
        ({"Weight": 1.5}, "Weight Unit", "required"),
        ({"Vendor Number": "V-1"}, "Vendor Name", "required"),
    ],
)
def test_each_check_code(tmp_path, overrides, column, code):
    row = {**product_row("SKU-1"), **overrides}
    assert problems(tmp_path, row) == [(2, column, code)]


def test_messages_say_what_to_do(tmp_path):
    data = read_workbook(
        write_products(tmp_path / "p.xlsx", [product_row(4471), product_row("A", Weight=2)])
    ).sheets[0]
    messages = [i.message for i in check_sheet(data).issues]
    assert messages == [
        "SKU 4471 was typed as a number, which loses leading zeros. Format the cell as Text and type the value again.",
        "Weight Unit is required when Weight is filled in.",
    ]


def test_duplicate_skus_are_reported_on_every_occurrence(tmp_path):
    rows = [product_row("A"), product_row("B"), product_row("A")]
    data = read_workbook(write_products(tmp_path / "p.xlsx", rows)).sheets[0]
    issues = [(i.row, i.code, i.message) for i in check_sheet(data).issues]
    assert issues == [
        (
            2,
            "duplicate-key",
            "SKU 'A' appears more than once (also on row 4); each SKU may appear only once.",
        ),
        (
            4,
            "duplicate-key",
            "SKU 'A' appears more than once (also on row 2); each SKU may appear only once.",
        ),
    ]


def test_all_problems_of_the_sheet_at_once(tmp_path):
    rows = [
        product_row("A", Description=None, Product_Type="X"),
        product_row("B"),
        product_row("C", Unit_Cost=-2),
    ]
    assert problems(tmp_path, *rows) == [
        (2, "Product Type", "not-allowed"),
        (2, "Description", "required"),
        (4, "Unit Cost", "out-of-range"),
    ]


def test_dimensions_go_together(tmp_path):
    assert problems(tmp_path, product_row("A", Length=10, Width=5)) == [
        (2, "Height", "required"),
        (2, "Dimension Unit", "required"),
    ]


def test_warnings_do_not_invalidate_a_row(tmp_path):
    row = product_row(
        " A\u00a0", Description="Mug", Unit_Cost="12.5", Create_Date="2026-03-31", Product_Type="item"
    )
    data = read_workbook(write_products(tmp_path / "p.xlsx", [row])).sheets[0]
    checked = check_sheet(data)
    assert [(i.column, i.code, i.severity) for i in checked.issues] == [
        ("SKU", "whitespace", Severity.WARNING),
        ("Unit Cost", "number-stored-as-text", Severity.WARNING),
        ("Create Date", "date-as-text", Severity.WARNING),
    ]
    assert checked.invalid_rows() == set()
    assert checked.invalid_rows(strict=True) == {2}
    values = checked.values.loc[2]
    assert (values["sku"], values["details.unitCost"], values["productType"]) == ("A", 12.5, "ITEM")
    assert values["createDate"] == datetime(2026, 3, 31)


def test_wrong_type_is_not_also_reported_as_missing(tmp_path):
    assert problems(tmp_path, product_row(123)) == [(2, "SKU", "number-in-text-column")]


def test_a_much_repeated_key_names_a_few_rows_and_counts_the_rest(tmp_path):
    data = read_workbook(write_products(tmp_path / "p.xlsx", [product_row("A")] * 9)).sheets[0]
    first = check_sheet(data).issues[0]
    assert first.message == (
        "SKU 'A' appears more than once (also on rows 3, 4, 5, 6, 7, 3 more); each SKU may appear only once."
    )


def test_a_key_typed_as_a_number_is_reported_once(tmp_path):
    from tests.helpers import write_workbook

    rows = [{"Client Order ID": 100231, "SKU": "A", "Quantity": 1}]
    data = read_workbook(write_workbook(tmp_path / "o.xlsx", {"Orders": rows})).sheets[0]
    keyed = [(i.row, i.code) for i in check_sheet(data).issues if i.column == "Client Order ID"]
    assert keyed == [(2, "number-in-text-column")]


def test_the_checked_values_and_the_sheet_read_stay_apart(tmp_path):
    # clean columns share the reader's arrays: an edit of either frame must not show in the other
    data = read_workbook(write_products(tmp_path / "p.xlsx", [product_row("A"), product_row("B")])).sheets[0]
    checked = check_sheet(data)
    checked.values.loc[2, "sku"] = "EDITED"
    data.frame.loc[3, "sku"] = "CHANGED"
    assert data.frame["sku"].tolist() == ["A", "CHANGED"]
    assert checked.values["sku"].tolist() == ["EDITED", "B"]
