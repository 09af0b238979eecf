"""The reader keeps what the user typed: text stays text, dates stay dates, headers match loosely."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from loader.errors import WorkbookError
from loader.workbook.reader import read_workbook
from tests.helpers import product_row, write_products


def frame_of(path: Path):
    return read_workbook(path).sheets[0].frame


def test_leading_zeros_and_long_digit_strings_stay_text(tmp_path):
    path = write_products(
        tmp_path / "p.xlsx",
        [product_row("00123", UPC="012345678905", HS_Tariff_Code="0000611011", HS_Country="US")],
    )
    row = frame_of(path).loc[2]
    assert row["sku"] == "00123"
    assert row["details.identifiers[0].number"] == "012345678905"
    assert row["details.hsClassification[0].hsTariffCode"] == "0000611011"


def test_rows_are_indexed_by_excel_row_and_blank_rows_skipped(tmp_path):
    rows = [product_row("A"), {}, {}, product_row("B"), {}]
    data = read_workbook(write_products(tmp_path / "p.xlsx", rows)).sheets[0]
    assert list(data.frame.index) == [2, 5]
    assert [(i.row, i.code, i.message) for i in data.issues] == [
        (3, "blank-rows", "Rows 3–4 are blank and skipped.")
    ]


def test_dates_come_back_as_dates(tmp_path):
    when = datetime(2026, 3, 31, 14, 5)
    path = write_products(tmp_path / "p.xlsx", [product_row("A", Create_Date=when)])
    assert frame_of(path).loc[2, "createDate"] == when
    book = openpyxl.Workbook()
    book.active.title = "Products"
    book.active.append(["SKU", "Product Type", "Description", "Create Date"])
    book.active.append(["A", "ITEM", "x", date(2026, 3, 31)])
    book.save(tmp_path / "d.xlsx")
    assert frame_of(tmp_path / "d.xlsx").loc[2, "createDate"] in (date(2026, 3, 31), datetime(2026, 3, 31))


def test_numbers_stay_numbers_for_the_checks_to_judge(tmp_path):
    path = write_products(tmp_path / "p.xlsx", [product_row(123, Unit_Cost=18.5)])
    row = frame_of(path).loc[2]
    assert row["sku"] == 123  # reported by the checks, never silently turned into "123.0"
    assert row["details.unitCost"] == 18.5


def test_headers_match_case_space_and_punctuation_insensitively(tmp_path):
    headers = ["sku", "PRODUCT  TYPE", "description*", "Origin-Country", "Status", "My notes"]
    book = openpyxl.Workbook()
    book.active.title = "products"
    book.active.append(headers)
    book.active.append(["A", "ITEM", "x", "PT", "CREATED", "keep me"])
    book.save(tmp_path / "h.xlsx")
    data = read_workbook(tmp_path / "h.xlsx").sheets[0]
    assert set(data.frame.columns) == {
        "sku",
        "productType",
        "details.description",
        "details.originCountryCode",
    }
    assert data.columns["details.originCountryCode"] == 3
    assert [(i.code, i.column) for i in data.issues] == [("unknown-column", "My notes")]


def test_missing_required_column_names_it(tmp_path):
    path = write_products(
        tmp_path / "p.xlsx",
        [{"SKU": "A", "Description": "x"}],
        headers=["SKU", "Description"],
        from_template=False,
    )
    with pytest.raises(WorkbookError) as err:
        read_workbook(path)
    assert str(err.value) == (
        "Sheet 'Products' has no 'Product Type' column, which is required. "
        "Add it (see `pbload template products`) and try again."
    )


def test_misspelt_header_gets_the_nearest_known_one(tmp_path):
    path = write_products(
        tmp_path / "p.xlsx", [{}], headers=["SKU", "Product Type", "Descripton"], from_template=False
    )
    with pytest.raises(WorkbookError) as err:
        read_workbook(path)
    assert str(err.value) == (
        "Sheet 'Products' has a column 'Descripton' that pbload does not know. "
        "Did you mean 'Description'? Rename the header and try again."
    )


def test_workbook_without_a_known_sheet(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "Sheet1"
    book.save(tmp_path / "x.xlsx")
    with pytest.raises(
        WorkbookError,
        match=r"x.xlsx has no sheet pbload can load \(looked for Products, BOMs, Work Orders, ASNs, Orders, "
        r"Returns; found Sheet1\)",
    ):
        read_workbook(tmp_path / "x.xlsx")


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("missing.xlsx", None, "Cannot find"),
        (
            "data.csv",
            b"SKU,Description\nA,x\n",
            "data.csv is a text or CSV file, not an Excel workbook (.xlsx)",
        ),
        (
            "broken.xlsx",
            b"this is not a zip file",
            "broken.xlsx is a text or CSV file with a workbook's name, not an Excel workbook (.xlsx)",
        ),
        ("binary.xlsx", bytes(range(256)), "binary.xlsx is not an Excel workbook (.xlsx)"),
    ],
)
def test_unreadable_files(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(WorkbookError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_workbook(path)


def test_newer_template_version_is_refused(tmp_path):
    path = write_products(tmp_path / "p.xlsx", [product_row("A")])
    book = openpyxl.load_workbook(path)
    book["_pbload"]["B2"] = 99
    book.save(path)
    with pytest.raises(WorkbookError, match="version 99 of the Products template"):
        read_workbook(path)


def test_merged_cells_in_the_data_are_reported(tmp_path):
    path = write_products(tmp_path / "p.xlsx", [product_row("A"), product_row("B")])
    book = openpyxl.load_workbook(path)
    book["Products"].merge_cells("B2:B3")
    book.save(path)
    issues = read_workbook(path).sheets[0].issues
    assert [(i.row, i.code) for i in issues] == [(2, "merged-cells")]


def _from_template_version(path: Path, headers: list[str], version: int) -> Path:
    """A products workbook whose hidden sheet says it was made from `version` of the template."""
    write_products(path, [dict(zip(headers, ["A", "ITEM", "x", "PT"], strict=False))], headers=headers)
    book = openpyxl.load_workbook(path)
    book["_pbload"]["B2"] = version
    book.save(path)
    return path


def test_an_older_template_is_told_what_changed_in_one_message(tmp_path):
    old = ["SKU", "Product Type", "Description", "Country of Origin", "HS Code", "Vendor Name"]
    path = _from_template_version(tmp_path / "old.xlsx", old, 1)
    with pytest.raises(WorkbookError) as caught:
        read_workbook(path)
    message = str(caught.value)
    assert message.startswith(
        "Sheet 'Products' comes from version 1 of the Products template; pbload now uses "
        "version 2, which follows PB's documented fields. 'Country of Origin' is now "
        "'Origin Country'"
    )
    assert message.endswith(
        "Run `pbload template products` for the new template, copy your rows into it and load again."
    )
    assert "\n" not in message


def test_an_older_template_whose_columns_still_fit_is_read(tmp_path):
    path = _from_template_version(
        tmp_path / "old.xlsx", ["SKU", "Product Type", "Description", "Origin Country"], 1
    )
    assert read_workbook(path).sheets[0].frame.loc[2, "details.originCountryCode"] == "PT"


@pytest.mark.parametrize(("band", "shared"), [(7, 3), (10_000, 100_000)])
def test_rows_are_read_band_by_band_with_blank_rows_and_row_numbers_kept(tmp_path, monkeypatch, band, shared):
    """Rows are made into lists a band at a time: a band boundary loses, repeats or renumbers no row, and
    a column whose distinct texts outgrow what is kept for sharing keeps every value."""
    from loader.workbook import reader

    monkeypatch.setattr(reader, "BAND_ROWS", band)
    monkeypatch.setattr(reader, "SHARED_TEXTS", shared)
    headers = [h for h in product_row() if h != "Description"] + ["Description"]
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Products"
    ws.append(headers)
    expected = {}
    for n in range(2, 60):
        if n % 7 in (0, 1):  # blank rows, some at the edges of a band of 7
            continue
        row = product_row(f"S-{n:03}", Description="Mug" if n % 3 else None)
        for col, header in enumerate(headers, start=1):
            ws.cell(n, col, row[header])
        expected[n] = (f"S-{n:03}", "Mug" if n % 3 else None)
    path = tmp_path / "p.xlsx"
    book.save(path)
    frame = reader.read_workbook(path).sheets[0].frame
    assert {int(r): (frame.at[r, "sku"], frame.at[r, "details.description"]) for r in frame.index} == expected
    assert (
        frame.at[59, "details.description"] is frame.at[58, "details.description"]
    )  # equal texts share one object


def test_a_sheet_whose_cells_start_in_column_b_keeps_its_columns(tmp_path):
    headers = list(product_row())
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Products"
    for col, header in enumerate(headers, start=2):
        ws.cell(1, col, header)
        ws.cell(2, col, product_row("S-1")[header])
    path = tmp_path / "p.xlsx"
    book.save(path)
    data = read_workbook(path).sheets[0]
    assert data.columns["sku"] == 1 + headers.index("SKU")
    assert data.frame.at[2, "sku"] == "S-1"


def test_the_columns_of_texts_only_are_named_for_the_checks(tmp_path):
    rows = [product_row(f"S{n}", Unit_Cost=2.5, Brand=None if n % 2 else "Acme") for n in range(3)]
    rows.append(product_row(123, Brand="Acme"))
    data = read_workbook(write_products(tmp_path / "p.xlsx", rows)).sheets[0]
    assert {"details.description", "details.brand"} <= data.texts  # texts, and texts and blanks
    assert "sku" not in data.texts  # a number among the texts
    assert "details.unitCost" not in data.texts
