"""What the eye does not see in a cell's text: control characters, character-set mix-ups and a literal
leading apostrophe, each reported at its cell, in the CLI's output and in the result workbook."""

from __future__ import annotations

import unicodedata

import openpyxl
import pytest

from loader.checks import CONTROL_NAMES, check_sheet
from loader.models import Issue, Severity
from loader.workbook.reader import read_workbook
from tests.helpers import product_row, read_statuses, write_products, write_workbook

LF_IN_SKU = "SKU contains a line break (LINE FEED) after 'ABC'; retype it without one."
TAB_IN_DESCRIPTION = (
    "Description contains a tab (CHARACTER TABULATION) after 'Mug'; pbload sends the text as it is."
)
C1_QUOTES = (
    "Description holds the invisible characters U+0093 and U+0094: it looks like “ and ” were converted "
    "with the wrong character set. pbload sends the text as it is."
)
APOSTROPHE_SKU = (
    'SKU "\'00777" begins with an apostrophe, which is part of the value: pbload sends it with the '
    "apostrophe, so it does not match 00777."
)
C1_IN_SKU = (
    "SKU contains an invisible control character (U+0093, probably “ converted with the wrong character "
    "set) after 'AB'; retype it without one."
)


def issues(path):
    data = read_workbook(path).sheets[0]
    return [(i.row, i.column, i.code, i.severity, i.message) for i in check_sheet(data).issues]


def errors_sheet(result):
    """The Errors sheet's rows as (cell, severity, code, message, where its link jumps)."""
    rows = openpyxl.load_workbook(result)["Errors"].iter_rows(min_row=2)
    return [(r[1].value, r[2].value, r[3].value, r[4].value, r[1].hyperlink.location) for r in rows]


def test_a_sku_with_alt_enter_is_an_error_at_its_cell(cli, tmp_path):
    path = write_products(tmp_path / "p.xlsx", [product_row("ABC\nDEF", Description="Mug"), product_row("B")])
    assert issues(path) == [(2, "SKU", "control-character", Severity.ERROR, LF_IN_SKU)]
    result = cli("validate", path)
    assert result.exit_code == 1
    assert f"Products row 2, SKU: {LF_IN_SKU}" in result.output
    assert "Products: 2 rows — 1 invalid, 1 valid" in result.output
    statuses = read_statuses(tmp_path / "p.result.xlsx")
    assert (statuses[2]["Status"], statuses[2]["Error Code"], statuses[2]["Message"]) == (
        "INVALID",
        "control-character",
        f"SKU: {LF_IN_SKU}",
    )
    assert statuses[3]["Status"] == "VALID"
    assert errors_sheet(tmp_path / "p.result.xlsx") == [
        ("A2", "error", "control-character", LF_IN_SKU, "'Products'!A2")
    ]


def test_a_tab_in_a_description_is_a_warning_and_the_row_stays_valid(cli, tmp_path):
    path = write_products(tmp_path / "p.xlsx", [product_row("A", Description="Mug\tBlue")])
    assert issues(path) == [(2, "Description", "control-character", Severity.WARNING, TAB_IN_DESCRIPTION)]
    result = cli("validate", path)
    assert result.exit_code == 0
    assert f"Products row 2, Description: warning: {TAB_IN_DESCRIPTION}" in result.output
    assert read_statuses(tmp_path / "p.result.xlsx")[2]["Status"] == "VALID"
    assert errors_sheet(tmp_path / "p.result.xlsx") == [
        ("C2", "warning", "control-character", TAB_IN_DESCRIPTION, "'Products'!C2")
    ]


def test_c1_quotes_in_a_description_are_mojibake(cli, tmp_path):
    path = write_products(tmp_path / "p.xlsx", [product_row("A", Description="A \x93big\x94 mug")])
    assert issues(path) == [(2, "Description", "mojibake", Severity.WARNING, C1_QUOTES)]
    result = cli("validate", path)
    assert result.exit_code == 0
    assert f"Products row 2, Description: warning: {C1_QUOTES}" in result.output


def test_utf8_read_as_windows_1252_is_mojibake_but_real_names_are_not(tmp_path):
    rows = [
        product_row("A", Description="CafÃ© â€™s best"),
        product_row("B", Description="SÃO PAULO Château Ñandú Gruß… «Noël» 25°C"),
    ]
    assert issues(write_products(tmp_path / "p.xlsx", rows)) == [
        (
            2,
            "Description",
            "mojibake",
            Severity.WARNING,
            "Description holds 'Ã©' and 'â€™': it looks like é and ’ were converted with the wrong character set. "
            "pbload sends the text as it is.",
        ),
    ]


def test_a_literal_leading_apostrophe_is_reported_but_excels_hidden_one_is_not(cli, tmp_path):
    rows = [product_row("'00777", Description="Mug"), product_row("00888")]
    path = write_products(tmp_path / "p.xlsx", rows)
    book = openpyxl.load_workbook(path)
    book["Products"]["A3"].quotePrefix = True  # what Excel keeps when ' is typed before 00888: not the value
    book.save(path)
    assert issues(path) == [(2, "SKU", "apostrophe-prefix", Severity.WARNING, APOSTROPHE_SKU)]
    result = cli("validate", path)
    assert result.exit_code == 0
    assert f"Products row 2, SKU: warning: {APOSTROPHE_SKU}" in result.output


def test_a_value_that_needed_trimming_is_still_looked_at(tmp_path):
    path = write_products(tmp_path / "p.xlsx", [product_row("A", Vendor_Name=" 'Lisbon\tKnitwear ")])
    assert [(i.column, i.code) for i in check_sheet(read_workbook(path).sheets[0]).issues] == [
        ("Vendor Name", "whitespace"),
        ("Vendor Name", "control-character"),
        ("Vendor Name", "apostrophe-prefix"),
        ("Vendor Number", "required"),
    ]


def test_a_c1_character_in_a_key_is_one_control_character_error(cli, tmp_path):
    path = write_products(tmp_path / "p.xlsx", [product_row("AB\x93C", Description="Mug")])
    assert issues(path) == [(2, "SKU", "control-character", Severity.ERROR, C1_IN_SKU)]
    result = cli("validate", path)
    assert result.exit_code == 1
    assert read_statuses(tmp_path / "p.result.xlsx")[2]["Error Code"] == "control-character"


def test_a_line_sku_names_another_item_so_its_line_break_is_an_error(tmp_path):
    rows = [
        {
            "Client Order ID": "SO-1",
            "Order Date": "2026-11-20 14:30",
            "Carrier": "USPS",
            "Service": "PRIORITY",
            "Ship-To Name": "Ana",
            "Ship-To Address Line 1": "Rua 1",
            "Ship-To City": "Lisboa",
            "Ship-To Postal Code": "1000-001",
            "Ship-To Country": "PT",
            "SKU": "MUG\n12",
            "Quantity": 1,
            "Inventory Type": "A\nB",
        }
    ]
    found = [
        (i.row, i.column, i.code, i.severity)
        for i in check_sheet(
            read_workbook(write_workbook(tmp_path / "o.xlsx", {"Orders": rows})).sheets[0]
        ).issues
        if i.code == "control-character"
    ]
    assert found == [
        (2, "SKU", "control-character", Severity.ERROR),
        (2, "Inventory Type", "control-character", Severity.WARNING),
    ]


def test_traps_past_the_first_chunk_are_all_reported_and_loaded(cli, tmp_path, local_emulator):
    rows = [product_row(f"SKU-{n:03d}") for n in range(2, 252)]  # Excel rows 2 to 251: two bulk calls
    rows[230 - 2] = product_row("ABC\nDEF", Description="Mug")
    rows[240 - 2] = product_row("SKU-240", Description="Mug\tBlue")
    rows[250 - 2] = product_row("'00777", Description="Mug")
    path = write_products(tmp_path / "p.xlsx", rows)
    assert issues(path) == [
        (230, "SKU", "control-character", Severity.ERROR, LF_IN_SKU),
        (240, "Description", "control-character", Severity.WARNING, TAB_IN_DESCRIPTION),
        (250, "SKU", "apostrophe-prefix", Severity.WARNING, APOSTROPHE_SKU),
    ]
    result = cli("load", path)
    assert result.exit_code == 1, result.output
    assert "Products: 250 rows — 249 created, 1 invalid" in result.output
    statuses = read_statuses(tmp_path / "p.result.xlsx")
    assert (statuses[230]["Status"], statuses[230]["Error Code"]) == ("INVALID", "control-character")
    assert statuses[240]["Status"] == statuses[250]["Status"] == "CREATED"
    stored = {p["sku"]: p for p in local_emulator().products()}
    assert len(stored) == 249 and "ABC\nDEF" not in stored
    assert stored["SKU-240"]["details"]["description"] == "Mug\tBlue"  # a warning's text is sent as it is
    assert "'00777" in stored


def test_a_cell_the_reader_reported_gets_no_second_error(tmp_path):
    data = read_workbook(write_products(tmp_path / "p.xlsx", [product_row("A", Description=None)])).sheets[0]
    # what the reader reports for a #REF! cell, which it reads as blank
    data.issues.append(Issue("Products", 2, "Description", "formula-error", "Description holds #REF!."))
    assert [(i.row, i.column, i.code) for i in check_sheet(data).issues] == [
        (2, "Description", "formula-error")
    ]


@pytest.mark.parametrize("char", sorted(CONTROL_NAMES))
def test_each_c0_name_is_unicodes_own(char):
    assert unicodedata.lookup(CONTROL_NAMES[char]) == char
