"""Excel's traps, reported at their cells: error values, uncalculated formulas, hidden rows, columns
and sheets, a filter, a header row below a title. Each test builds its workbook, runs `pbload
validate` and reads what the user reads: the console, the exit code, the result workbook."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.filters import FilterColumn, Filters

from loader.errors import WorkbookError
from loader.workbook.reader import read_workbook
from tests.helpers import product_row, read_statuses, write_products

HEADERS = ["SKU", "Product Type", "Description", "Brand"]


def products_book(rows: list[list[object]]) -> openpyxl.Workbook:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Products"
    ws.append(HEADERS)
    for row in rows:
        ws.append(row)
    return book


def plain_rows(n: int, start: int = 0) -> list[list[object]]:
    return [[f"SKU-{i}", "ITEM", f"Product {i}", "Casa"] for i in range(start, start + n)]


def issues_of(path: Path) -> list[tuple[int, str | None, str, str, str]]:
    sheet = read_workbook(path).sheets[0]
    return [(i.row, i.column, i.code, i.severity.value, i.message) for i in sheet.issues]


def errors_sheet(path: Path) -> list[tuple]:
    book = openpyxl.load_workbook(path)
    return [
        tuple(c.value for c in row[:5]) + (row[1].hyperlink.location if row[1].hyperlink else None,)
        for row in book["Errors"].iter_rows(min_row=2)
    ]


@pytest.mark.parametrize("error", ["#REF!", "#DIV/0!", "#N/A", "#VALUE!", "#NAME?"])
def test_an_error_value_is_reported_at_its_cell_not_read_as_blank(cli, tmp_path, error):
    book = products_book(plain_rows(3))
    book["Products"]["C3"] = error  # openpyxl stores these strings as error values (t="e")
    book.save(tmp_path / "p.xlsx")

    result = cli("validate", tmp_path / "p.xlsx")

    assert result.exit_code == 1
    message = f"Description holds the error {error} (a formula that fails), so it has no value to send."
    assert f"Products row 3, Description: {message}" in result.output
    assert "is required" not in result.output  # the cell is not blank: the error is the one problem
    statuses = read_statuses(tmp_path / "p.result.xlsx")
    assert statuses[3]["Status"] == "INVALID" and statuses[3]["Error Code"] == "formula-error"
    assert [s["Status"] for r, s in sorted(statuses.items()) if r != 3] == ["VALID", "VALID"]
    assert errors_sheet(tmp_path / "p.result.xlsx") == [
        ("Products", "C3", "error", "formula-error", message, "'Products'!C3")
    ]


def test_a_row_whose_only_value_is_an_error_is_not_skipped_as_blank(tmp_path):
    book = products_book(plain_rows(1) + [[None, None, "#REF!", None]] + plain_rows(1, 5))
    book.save(tmp_path / "p.xlsx")
    assert [i[:3] for i in issues_of(tmp_path / "p.xlsx")] == [(3, "Description", "formula-error")]
    assert list(read_workbook(tmp_path / "p.xlsx").sheets[0].frame.index) == [2, 3, 4]


def test_an_error_cell_without_its_value_is_still_an_error(tmp_path):
    book = products_book(plain_rows(2))
    book.save(tmp_path / "p.xlsx")
    _edit_sheet(
        tmp_path / "p.xlsx",
        lambda xml: xml.replace(
            b'<c r="C3" t="inlineStr"><is><t>Product 1</t></is></c>', b'<c r="C3" t="e"/>'
        ),
    )
    assert issues_of(tmp_path / "p.xlsx") == [
        (
            3,
            "Description",
            "formula-error",
            "error",
            "Description holds the error #N/A (a formula that fails), so it has no value to send.",
        )
    ]


def test_errors_in_a_column_pbload_does_not_read_are_left_alone(tmp_path):
    book = products_book(plain_rows(2))
    book["Products"]["F2"] = "My notes"
    book["Products"]["F3"] = "#DIV/0!"
    book.save(tmp_path / "p.xlsx")
    assert issues_of(tmp_path / "p.xlsx") == []


def test_a_formula_never_calculated_must_be_calculated_first(cli, tmp_path):
    book = products_book(plain_rows(2))
    book["Products"]["D3"] = '=UPPER("casa")'  # openpyxl writes no cached value: no program calculated it
    book["Products"]["C2"] = '="Product "&"0"'
    book.save(tmp_path / "p.xlsx")

    result = cli("validate", tmp_path / "p.xlsx")

    assert result.exit_code == 1
    assert (
        "Products row 2, Description: Description holds a formula whose value was never calculated, so it has "
        "no value to send."
    ) in result.output
    statuses = read_statuses(tmp_path / "p.result.xlsx")
    assert [statuses[r]["Error Code"] for r in (2, 3)] == ["formula-not-calculated", "formula-not-calculated"]


def test_formulas_with_stored_values_are_read_as_their_values(tmp_path):
    book = products_book(plain_rows(2))
    book.save(tmp_path / "p.xlsx")
    # as Excel saves a formula: the formula and the value it last calculated, an empty text result too
    _edit_sheet(
        tmp_path / "p.xlsx",
        lambda xml: xml.replace(
            b'<c r="D2" t="inlineStr"><is><t>Casa</t></is></c>',
            b'<c r="D2" t="str"><f>UPPER("casa")</f><v>CASA</v></c><c r="E2" t="str"><f>""</f><v></v></c>',
        ),
    )
    data = read_workbook(tmp_path / "p.xlsx").sheets[0]
    assert data.issues == []
    assert data.frame.loc[2, "details.brand"] == "CASA"


def test_hidden_rows_and_columns_are_loaded_and_said(cli, tmp_path):
    book = products_book(plain_rows(250))
    ws = book["Products"]
    for row in (3, 240):  # one inside the first chunk of 200, one past it
        ws.row_dimensions[row].hidden = True
    ws.column_dimensions["C"].hidden = True
    book.save(tmp_path / "p.xlsx")

    result = cli("validate", tmp_path / "p.xlsx")

    assert result.exit_code == 0, result.output
    found = [i for i in issues_of(tmp_path / "p.xlsx")]
    assert found == [
        (
            1,
            "Description",
            "hidden-column",
            "warning",
            "Column 'Description' is hidden; its values are loaded all the same.",
        ),
        (3, None, "hidden-row", "warning", "Row 3 is hidden; it is loaded all the same."),
        (240, None, "hidden-row", "warning", "Row 240 is hidden; it is loaded all the same."),
    ]
    statuses = read_statuses(tmp_path / "p.result.xlsx")
    assert len(statuses) == 250 and {s["Status"] for s in statuses.values()} == {"VALID"}
    errors = errors_sheet(tmp_path / "p.result.xlsx")
    assert [e[:4] + e[5:] for e in errors] == [
        ("Products", "C1", "warning", "hidden-column", "'Products'!C1"),
        ("Products", "row 3", "warning", "hidden-row", "'Products'!A3"),
        ("Products", "row 240", "warning", "hidden-row", "'Products'!A240"),
    ]


def test_rows_hidden_by_a_filter_are_filtered_rows(tmp_path):
    book = products_book(plain_rows(4))
    ws = book["Products"]
    ws.auto_filter.ref = "A1:D5"
    ws.auto_filter.filterColumn.append(FilterColumn(colId=0, filters=Filters(filter=["SKU-0", "SKU-3"])))
    for row in (3, 4):
        ws.row_dimensions[row].hidden = True
    book.save(tmp_path / "p.xlsx")
    assert issues_of(tmp_path / "p.xlsx") == [
        (
            3,
            None,
            "filtered-row",
            "warning",
            "Row 3 is hidden by the sheet's filter; it is loaded all the same.",
        ),
        (
            4,
            None,
            "filtered-row",
            "warning",
            "Row 4 is hidden by the sheet's filter; it is loaded all the same.",
        ),
    ]


def test_a_hidden_stale_sheet_beside_its_visible_copy_is_refused(cli, tmp_path):
    book = products_book(plain_rows(2))
    book["Products"].sheet_state = "hidden"
    copy = book.copy_worksheet(book["Products"])
    copy.title = "Products (2)"
    copy["C2"] = "edited"
    book.save(tmp_path / "p.xlsx")

    result = cli("validate", tmp_path / "p.xlsx")

    assert result.exit_code == 2
    assert (
        "Sheet 'Products' is hidden, and pbload loads it by its name, not the visible sheet 'Products (2)' that "
        "looks like its copy. Delete the hidden sheet and rename 'Products (2)' to 'Products' (or unhide "
        "'Products' if it is the one to load), then load again."
    ) in result.output
    assert not (tmp_path / "p.result.xlsx").exists()


def test_a_visible_sheet_headed_like_the_hidden_one_counts_as_its_copy(tmp_path):
    book = products_book(plain_rows(2))
    book["Products"].sheet_state = "hidden"
    book.copy_worksheet(book["Products"]).title = "New items"
    book.save(tmp_path / "p.xlsx")
    with pytest.raises(WorkbookError, match="not the visible sheet 'New items'"):
        read_workbook(tmp_path / "p.xlsx")


def test_a_hidden_sheet_with_no_visible_copy_loads_with_a_warning(cli, tmp_path):
    book = products_book(plain_rows(2))
    book.create_sheet("Notes")["A1"] = "Shipping notes"
    book["Products"].sheet_state = "hidden"
    book.save(tmp_path / "p.xlsx")

    result = cli("validate", tmp_path / "p.xlsx")

    assert result.exit_code == 0, result.output
    book = read_workbook(tmp_path / "p.xlsx")
    assert [(i.sheet, i.code, i.message) for i in book.issues] == [
        ("Products", "hidden-sheet", "Sheet 'Products' is hidden; its rows are loaded all the same.")
    ]
    assert {s["Status"] for s in read_statuses(tmp_path / "p.result.xlsx").values()} == {"VALID"}


@pytest.mark.parametrize("title_rows", [1, 2, 5])
def test_headers_below_title_rows_get_one_message(cli, tmp_path, title_rows):
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Products"
    ws.append(["Spring catalogue"])
    for _ in range(title_rows - 1):
        ws.append([])
    ws.append(HEADERS)
    for row in plain_rows(3):
        ws.append(row)
    book.save(tmp_path / "p.xlsx")

    result = cli("validate", tmp_path / "p.xlsx")

    assert result.exit_code == 2
    above = "row 1" if title_rows == 1 else f"rows 1–{title_rows}"
    assert result.output.strip().endswith(
        f"Sheet 'Products' has its headers on row {title_rows + 1}, but pbload reads them from row 1. "
        f"Delete {above} above the headers (titles or notes) and load the workbook again."
    )
    assert "has no" not in result.output


def test_headers_below_a_blank_first_row_are_found_too(tmp_path):
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Products"
    ws["A3"] = "SKU"
    ws["B3"] = "Product Type"
    ws["C3"] = "Description"
    ws["A4"], ws["B4"], ws["C4"] = "A", "ITEM", "x"
    book.save(tmp_path / "p.xlsx")
    with pytest.raises(WorkbookError, match="has its headers on row 3"):
        read_workbook(tmp_path / "p.xlsx")


def test_data_without_headers_on_row_1_is_not_taken_for_an_empty_sheet(tmp_path):
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Products"
    ws["A2"], ws["B2"], ws["C2"] = "A", "ITEM", "x"
    book.save(tmp_path / "p.xlsx")
    with pytest.raises(
        WorkbookError,
        match=r"^Sheet 'Products' has no headers on row 1, where pbload reads them\. "
        r"Put the template's headers there \(see `pbload template products`\)",
    ):
        read_workbook(tmp_path / "p.xlsx")


def test_the_1904_date_system_gives_the_dates_typed(tmp_path):
    from datetime import datetime

    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    when = datetime(2026, 10, 1, 9, 30)
    path = write_products(tmp_path / "p.xlsx", [product_row("A", Create_Date=when)], from_template=False)
    book = openpyxl.load_workbook(path)
    book.epoch = CALENDAR_MAC_1904
    book.save(path)
    assert b'date1904="1"' in zipfile.ZipFile(path).read("xl/workbook.xml")
    assert read_workbook(path).sheets[0].frame.loc[2, "createDate"] == when


def _edit_sheet(path: Path, edit, part: str = "xl/worksheets/sheet1.xml") -> None:
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    parts[part] = edit(parts[part])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
