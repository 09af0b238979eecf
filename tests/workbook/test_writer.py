"""The result workbook: the user's workbook kept as it was, annotated row by row, safe to forward."""

from __future__ import annotations

import re
import zipfile
from datetime import datetime

import openpyxl
import pytest
from openpyxl.chart import BarChart
from openpyxl.worksheet.table import Table
from python_calamine import CalamineWorkbook

from loader.codes import Code
from loader.models import Change, Issue, Outcome, Status
from loader.workbook.result import OPENPYXL, STREAM
from loader.workbook.result import content as result_content
from loader.workbook.result import write_result as write_result_workbook
from tests.helpers import product_row, read_statuses, write_products
from tests.workbook.result_cases import (
    HEADERS,
    POSITIONS,
    report,
    result_columns,
    styled_products,
    styled_report,
)

BOTH = pytest.mark.parametrize("method", [STREAM, OPENPYXL])


def write(tmp_path, source, run, method=None, positions=POSITIONS):
    return write_result_workbook(source, tmp_path / "out.xlsx", run, positions, method=method)


def snapshot(path):
    """What the user made: every cell's value and format, widths, drop-downs, panes, notes, other sheets."""
    book = openpyxl.load_workbook(path)
    found = {}
    for ws in book.worksheets:
        if ws.title in ("Summary", "Errors"):
            continue
        width = len(HEADERS) if ws.title == "Products" else ws.max_column
        cells = {
            c.coordinate: (
                c.value,
                *map(repr, (c.font, c.fill, c.alignment, c.border, c.protection)),
                c.number_format,
            )
            for row in ws.iter_rows(max_col=width)
            for c in row
        }
        columns = {
            k: (d.width, d.min, d.max, d._style)
            for k, d in ws.column_dimensions.items()
            if d.min and d.min <= width
        }
        validations = sorted(
            (str(dv.sqref), dv.formula1, dv.error) for dv in ws.data_validations.dataValidation
        )
        notes = {c.coordinate: c.comment.text for row in ws.iter_rows(max_row=1) for c in row if c.comment}
        found[ws.title] = (cells, columns, validations, ws.freeze_panes, ws.sheet_state, notes)
    return found


@BOTH
def test_the_users_workbook_is_kept_as_it_was(tmp_path, method):
    source = styled_products(tmp_path / "in.xlsx")
    written = write(tmp_path, source, styled_report(source), method)
    assert written.method == method
    before, after = snapshot(source), snapshot(written.path)
    products = list(before["Products"])
    assert products[3] == "A2"  # the template froze the header row: the result freezes the key column too
    before["Products"] = (*products[:3], "B2", *products[4:])
    assert after == before
    assert list(after) == ["Products", "Instructions", "_pbload", "Notes"]
    assert (
        after["Products"][1]["C"][0] == 33 and "i=True" in after["Products"][0]["C3"][1]
    )  # the user's touches


def test_an_ordinary_workbook_is_written_by_stream(tmp_path):
    source = write_products(tmp_path / "in.xlsx", [product_row("A")])
    source.chmod(0o640)
    written = write(tmp_path, source, report(source, {2: Outcome(Status.CREATED, "PB-1")}))
    assert (written.method, written.reason) == (STREAM, None)
    assert written.path.stat().st_mode & 0o777 == 0o640  # as shared as the workbook it came from
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.xlsx", "out.xlsx"]  # no temporary file left


@BOTH
def test_each_row_gets_its_status_pb_id_and_message(tmp_path, method):
    source = styled_products(tmp_path / "in.xlsx")
    path = write(tmp_path, source, styled_report(source), method).path
    assert result_columns(path) == {
        2: ("CREATED", "PB-0001", None, None, "pbl-aaa"),
        3: ("INVALID", None, "not-allowed", "Product Type: Product Type 'BOX' is not allowed.", None),
        4: (
            "INVALID",
            None,
            "required",
            "Weight Unit: Weight Unit is required when Weight is filled in.",
            None,
        ),
        5: ("FAILED", None, "PB-4001", "HS Code is not valid for PT.", "pbl-bbb"),
    }
    ws = openpyxl.load_workbook(path)["Products"]
    assert [c.value for c in ws[1]][30:] == [
        "Status",
        "PB ID",
        "Error Code",
        "Message",
        "Transaction ID",
        "Changes",
    ]
    assert ws.freeze_panes == "B2" and ws.auto_filter.ref == "A1:AJ5"  # the template's A2 becomes B2


@BOTH
def test_a_row_without_an_outcome_says_not_sent_everywhere(tmp_path, method):
    source = write_products(tmp_path / "in.xlsx", [product_row("A"), product_row("B")])
    path = write(tmp_path, source, report(source, {2: Outcome(Status.CREATED)}, rows=[2, 3]), method).path
    assert result_columns(path)[3] == ("NOT SENT", None, None, None, None)
    summary = list(openpyxl.load_workbook(path)["Summary"].iter_rows(min_row=3, max_row=4, values_only=True))
    assert summary == [("Sheet", "Rows", "CREATED", "NOT SENT"), ("Products", 2, 1, 1)]
    assert ("A2:AJ3", '$AE2="NOT SENT"', "EDEDED", 2) in marks(path)


@BOTH
def test_values_beyond_the_headers_are_never_written_over(tmp_path, method):
    source = write_products(tmp_path / "in.xlsx", [product_row("A"), product_row("B")])
    book = openpyxl.load_workbook(source)
    book["Products"]["AE3"] = "call the vendor first"  # a note of the user's, in a column without a header
    book.save(source)
    written = write(
        tmp_path, source, report(source, {2: Outcome(Status.CREATED), 3: Outcome(Status.CREATED)}), method
    )
    assert (
        written.method == method
    )  # the stream editor reads the sheet once more to find the last used column
    ws = openpyxl.load_workbook(written.path)["Products"]
    assert (ws["AE3"].value, ws["AF1"].value, ws["AF3"].value) == (
        "call the vendor first",
        "Status",
        "CREATED",
    )


def marks(path):
    """The conditional formats pbload wrote: (cells, formula, fill colour, priority)."""
    ws = openpyxl.load_workbook(path)["Products"]
    return sorted(
        (str(cf.sqref), rule.formula[0], rule.dxf.fill.bgColor.rgb[-6:], rule.priority)
        for cf in ws.conditional_formatting
        for rule in cf.rules
    )


@BOTH
def test_rows_are_tinted_by_status_and_invalid_cells_filled(tmp_path, method):
    source = styled_products(tmp_path / "in.xlsx")
    path = write(tmp_path, source, styled_report(source), method).path
    assert marks(path) == [
        ("A2:AJ5", '$AE2="CREATED"', "C6EFCE", 2),
        ("A2:AJ5", '$AE2="FAILED"', "FFC7CE", 3),
        ("A2:AJ5", '$AE2="INVALID"', "FFC7CE", 4),
        ("B3 L4", 'ISTEXT("pbload: invalid cell")', "FF9999", 1),  # first, so no tint hides it
    ]


@BOTH
def test_invalid_cells_carry_their_message(tmp_path, method):
    source = styled_products(tmp_path / "in.xlsx")
    path = write(tmp_path, source, styled_report(source), method).path
    ws = openpyxl.load_workbook(path)["Products"]
    notes = {c.coordinate: c.comment.text for row in ws.iter_rows(min_row=2) for c in row if c.comment}
    assert notes == {
        "B3": "Product Type 'BOX' is not allowed.",
        "L4": "Weight Unit is required when Weight is filled in.",  # a blank cell too
        "C5": "Warning: Description had spaces at its end.",
    }  # sent all the same, but said
    assert ws["A1"].comment.text.startswith("Your stock-keeping unit")  # the template's notes stay


@BOTH
def test_summary_counts_chart_and_run_record(tmp_path, method):
    source = styled_products(tmp_path / "in.xlsx")
    path = write(tmp_path, source, styled_report(source), method).path
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[:2] == ["Summary", "Errors"] and book.active.title == "Summary"
    ws = book["Summary"]
    rows = [r for r in ws.iter_rows(values_only=True)]
    assert rows[2][:5] == ("Sheet", "Rows", "CREATED", "FAILED", "INVALID")
    assert rows[3][:5] == ("Products", 4, 1, 1, 2)
    record = {r[0]: r[1] for r in rows[5:]}
    assert record == {
        "Run ID": "run-1",
        "Command": "load",
        "Input file": "in.xlsx",
        "Input SHA-256": "ab" * 32,
        "Template": "products (products v1)",
        "Environment": "local",
        "Started": datetime(2026, 11, 2, 9, 0, 0),
        "Ended": datetime(2026, 11, 2, 9, 0, 42),
        "Duration (s)": 42,
        "pbload version": "0.1.0",
    }
    chart = ws._charts[0]
    assert isinstance(chart, BarChart) and chart.grouping == "stacked" and len(chart.series) == 3
    assert [s.val.numRef.f for s in chart.series] == ["'Summary'!$C$4", "'Summary'!$D$4", "'Summary'!$E$4"]
    assert chart.series[0].cat.numRef.f == "'Summary'!$A$4"


@BOTH
def test_errors_link_to_their_cell_with_a_hint(tmp_path, method):
    source = styled_products(tmp_path / "in.xlsx")
    path = write(tmp_path, source, styled_report(source), method).path
    book = openpyxl.load_workbook(path)
    ws = book["Errors"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert rows == [
        (
            "Products",
            "B3",
            "error",
            "not-allowed",
            "Product Type 'BOX' is not allowed.",
            Code.NOT_ALLOWED.hint,
        ),
        (
            "Products",
            "L4",
            "error",
            "required",
            "Weight Unit is required when Weight is filled in.",
            Code.REQUIRED.hint,
        ),
        (
            "Products",
            "C5",
            "warning",
            "whitespace",
            "Description had spaces at its end.",
            Code.WHITESPACE.hint,
        ),
        (
            "Products",
            "row 5",
            "error",
            "PB-4001",
            "HS Code is not valid for PT.",
            "PB refused this row: correct it as the message says, then load this workbook again.",
        ),
    ]
    for row in ws.iter_rows(min_row=2):
        target = re.fullmatch(r"'(.+)'!([A-Z]+\d+)", row[1].hyperlink.location)
        cell = book[target.group(1)][target.group(2)]
        assert row[1].value in (cell.coordinate, f"row {cell.row}")
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:F5"


FORMULAS = ['=HYPERLINK("http://evil.example","click")', "+SUM(1,2)", "-2+3", "@cmd"]


@BOTH
def test_text_from_outside_never_runs_and_never_carries_secrets(tmp_path, method):
    source = write_products(tmp_path / "in.xlsx", [product_row(f"S{n}") for n in range(6)])
    outcomes = {n + 2: Outcome(Status.FAILED, None, "E", text) for n, text in enumerate(FORMULAS)}
    outcomes[6] = Outcome(
        Status.FAILED, None, "E", "Refused: Authorization: Bearer eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl"
    )
    outcomes[7] = Outcome(
        Status.FAILED, None, "E", 'bad request {"api_key": "k-123456", "client_secret": "s3cr3t!"}'
    )
    issues = [Issue("Products", 2, "SKU", "bad-format", "=1+1 is not a SKU")]
    path = write(tmp_path, source, report(source, outcomes, issues), method).path
    ws = openpyxl.load_workbook(path)["Products"]
    assert [(ws[f"AH{n}"].value, ws[f"AH{n}"].data_type) for n in range(2, 6)] == [(t, "s") for t in FORMULAS]
    assert ws["AH6"].value == "Refused: Authorization: [hidden]"
    assert ws["AH7"].value == 'bad request {"api_key": "[hidden]", "client_secret": "[hidden]"}'
    cal = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Products").to_python()
    assert [r[33] for r in cal[1:5]] == FORMULAS
    assert openpyxl.load_workbook(path)["Errors"]["E2"].value == "=1+1 is not a SKU"
    with zipfile.ZipFile(path) as z:
        text = b"".join(z.read(n) for n in z.namelist())
    for secret in (b"eyJhbGciOi", b"k-123456", b"s3cr3t!"):
        assert secret not in text
    assert b"<f>" not in text.split(b"sheetData")[1] if method == STREAM else True  # no formula cell was made


@BOTH
def test_awkward_text_survives_exactly(tmp_path, method):
    texts = [
        "a & b < c > d",
        "literal _x0041_ stays",
        "  spaced  ",
        "x" * 40_000,
        "tab\there\nline\rcr\x07bell",
    ]
    source = write_products(tmp_path / "in.xlsx", [product_row(f"S{n}") for n in range(len(texts))])
    outcomes = {n + 2: Outcome(Status.FAILED, None, "E", t) for n, t in enumerate(texts)}
    path = write(tmp_path, source, report(source, outcomes), method).path
    # calamine reads `_xHHHH_` escapes as Excel does (openpyxl leaves them in inline strings)
    got = [
        r[33] for r in CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Products").to_python()[1:6]
    ]
    assert got[:3] == texts[:3]
    assert len(got[3]) == 32_767 and got[3].endswith("…")
    assert got[4] == "tab\there\nline\rcrbell"  # a control character no workbook can hold is dropped


def test_a_result_loads_again_and_again(cli, tmp_path, local_emulator):
    path = write_products(tmp_path / "p.xlsx", [product_row("A"), product_row("B", Product_Type="BOX")])
    assert cli("load", path).exit_code == 1
    result = tmp_path / "p.result.xlsx"
    again = cli("load", result)  # as it is: nothing new to send
    assert again.exit_code == 1, again.output
    twice = tmp_path / "p.result-2.xlsx"
    assert {r: v["Status"] for r, v in read_statuses(twice).items()} == {2: "UNCHANGED", 3: "INVALID"}
    book = openpyxl.load_workbook(twice)
    assert book.sheetnames[:2] == ["Summary", "Errors"] and len(book.sheetnames) == len(set(book.sheetnames))
    assert [c.coordinate for row in book["Products"].iter_rows(min_row=2) for c in row if c.comment] == ["B3"]
    assert len(marks(twice)) == 3  # replaced, not stacked
    assert [c.value for c in book["Products"][1]].count("Status") == 1

    book = openpyxl.load_workbook(result)
    book["Products"]["B3"] = "KIT"  # the user fixes the row in the result workbook
    book.save(result)
    fixed = cli("load", result)
    assert fixed.exit_code == 0, fixed.output
    assert {r: v["Status"] for r, v in read_statuses(twice).items()} == {2: "UNCHANGED", 3: "CREATED"}
    assert sorted(p["sku"] for p in local_emulator().products()) == ["A", "B"]
    assert [
        c for row in openpyxl.load_workbook(twice)["Products"].iter_rows(min_row=2) for c in row if c.comment
    ] == []


def test_a_table_over_the_data_takes_the_openpyxl_path(tmp_path):
    source = write_products(tmp_path / "in.xlsx", [product_row("A"), product_row("B")])
    book = openpyxl.load_workbook(source)
    book["Products"].add_table(Table(displayName="Products1", ref="A1:AD3"))
    book.save(source)
    run = report(source, {2: Outcome(Status.CREATED, "PB-1"), 3: Outcome(Status.UPDATED, "PB-2")})
    written = write(tmp_path, source, run)
    assert written.method == OPENPYXL and written.reason == "a table on sheet Products"
    assert result_columns(written.path) == {
        2: ("CREATED", "PB-1", None, None, None),
        3: ("UPDATED", "PB-2", None, None, None),
    }
    assert list(openpyxl.load_workbook(written.path)["Products"].tables) == ["Products1"]


def test_a_macro_enabled_workbook_takes_the_openpyxl_path(tmp_path):
    source = write_products(tmp_path / "in.xlsx", [product_row("A")])
    macro = tmp_path / "in.xlsm"
    xlsx = b"vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    xlsm = b"vnd.ms-excel.sheet.macroEnabled.main+xml"
    _rewrite(source, macro, {"[Content_Types].xml": lambda t: t.replace(xlsx, xlsm)})
    written = write(tmp_path, macro, report(macro, {2: Outcome(Status.CREATED, "PB-1")}))
    assert written.method == OPENPYXL and "macro" in written.reason
    assert result_columns(written.path) == {2: ("CREATED", "PB-1", None, None, None)}


def test_strict_open_xml_gets_a_new_workbook_of_its_values(tmp_path):
    source = write_products(tmp_path / "in.xlsx", [product_row("A")])
    strict = tmp_path / "strict.xlsx"
    main = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    _rewrite(
        source, strict, {"*": lambda t: t.replace(main, b"http://purl.oclc.org/ooxml/spreadsheetml/main")}
    )
    written = write(tmp_path, strict, report(strict, {2: Outcome(Status.CREATED, pb_id="PB-1")}))
    assert (written.method, written.reason) == ("rebuilt", "the input is saved as Strict Open XML")
    assert result_columns(written.path) == {2: ("CREATED", "PB-1", None, None, None)}
    assert openpyxl.load_workbook(written.path)["Products"]["C2"].value == "Product A"


def test_a_damaged_part_the_cells_do_not_need_still_gets_a_result(tmp_path):
    source = write_products(tmp_path / "in.xlsx", [product_row("A")])
    damaged = tmp_path / "damaged.xlsx"
    # the reader never needs the data sheet's relationships; broken, they stop both ways of keeping the input
    _rewrite(source, damaged, {"xl/worksheets/_rels/sheet1.xml.rels": lambda t: t[: len(t) // 2]})
    run = report(
        damaged,
        {2: Outcome(Status.INVALID, error_code="required", message="Brand: Brand is required.")},
        [Issue("Products", 2, "Brand", "required", "Brand is required.")],
    )
    written = write_result_workbook(damaged, tmp_path / "out.xlsx", run, {"Products": {"SKU": 0, "Brand": 3}})
    assert written.method == "rebuilt" and written.reason.startswith("openpyxl could not read it: ")
    assert result_columns(written.path)[2][:3] == ("INVALID", None, "required")
    assert openpyxl.load_workbook(written.path)["Products"]["D2"].comment.text == "Brand is required."


def test_comments_stop_at_the_cap_and_the_errors_sheet_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(result_content, "MAX_COMMENTS", 2)
    source = write_products(tmp_path / "in.xlsx", [product_row(f"S{n}") for n in range(4)])
    issues = [
        Issue("Products", n, "Description", "required", "Description is required.") for n in range(2, 6)
    ]
    run = report(source, {n: Outcome(Status.INVALID) for n in range(2, 6)}, issues)
    path = write(tmp_path, source, run).path
    book = openpyxl.load_workbook(path)
    assert [c.coordinate for row in book["Products"].iter_rows(min_row=2) for c in row if c.comment] == [
        "C2",
        "C3",
    ]
    assert book["Errors"]["H1"].value.startswith(
        "Sheet Products: 4 invalid cells; the first 2 carry a comment"
    )
    assert [m[0] for m in marks(path) if "invalid" in m[1]] == ["C2:C5"]  # every one is still marked


def _rewrite(source, target, edits):
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            for name, edit in edits.items():
                if name in (info.filename, "*"):
                    data = edit(data)
            zout.writestr(info, data)


@BOTH
def test_an_update_names_its_changes_with_pbs_old_values(tmp_path, method):
    source = write_products(
        tmp_path / "in.xlsx", [product_row("A-1", Unit_Cost=20, Brand="Acme"), product_row("B-2")]
    )
    changes = (Change("Unit Cost", 18.5, 20, 2), Change("Brand", None, "Acme", 2))
    run = report(source, {2: Outcome(Status.UPDATED, changes=changes), 3: Outcome(Status.UNCHANGED)})
    written = write(tmp_path, source, run, method)
    statuses = read_statuses(written.path)
    assert (statuses[2]["Changes"], statuses[3]["Changes"]) == ("Unit Cost: 18.5 → 20; Brand: — → Acme", None)
    book = openpyxl.load_workbook(written.path)
    ws = book["Products"]
    cost, brand = HEADERS.index("Unit Cost") + 1, HEADERS.index("Brand") + 1
    assert (ws.cell(2, cost).comment.text, ws.cell(2, brand).comment.text) == ("PB had: 18.5", "PB had: —")
    assert (
        ws.cell(2, cost).fill.fgColor.rgb != "FF" + result_content.INVALID_CELL_FILL
    )  # a change is no error
    summary = [r[:2] for r in book["Summary"].iter_rows(values_only=True) if r[0]]
    assert summary[-3:] == [("Changed fields", "Rows"), ("Products: Brand", 1), ("Products: Unit Cost", 1)]
