"""The result workbook as a person reads and prints it: pbload's columns look like pbload's, the header row
and key column stay in view, every sheet pbload writes or annotates prints landscape one page wide with its
header row repeated, the Summary and Errors sheets are sized and coloured — the same by either writer."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import datetime, timedelta, timezone

import openpyxl
import pytest

from loader.models import Issue, Outcome, RunReport, Severity, SheetReport, Status
from loader.workbook.result import OPENPYXL, STREAM
from loader.workbook.result import content as rc
from loader.workbook.result import write_result as write_result_workbook
from tests.helpers import product_row, write_products
from tests.workbook.result_cases import POSITIONS, SOFFICE_MISSING, report, styled_products, styled_report

BOTH = pytest.mark.parametrize("method", [STREAM, OPENPYXL])
# The styled products result (Summary, Errors, Products, the template's Instructions, a sheet of notes)
# printed on 26 portrait pages before pbload set up its sheets for printing; now on 10: pbload's three
# sheets one page each, the Instructions (the user's sheet, printed as it was) six, the notes one.
MAX_PAGES = 10


def written(tmp_path, method, run=None, source=None):
    source = source or styled_products(tmp_path / "in.xlsx")
    return write_result_workbook(
        source, tmp_path / f"out-{method}.xlsx", run or styled_report(source), POSITIONS, method=method
    ).path


def rgb(colour) -> str:
    return colour.rgb[-6:] if colour is not None and isinstance(colour.rgb, str) else ""


@BOTH
def test_pbloads_columns_have_their_own_header_and_fit_their_content(tmp_path, method):
    ws = openpyxl.load_workbook(written(tmp_path, method))["Products"]
    assert [c.value for c in ws[1]][29:] == [
        "Action",
        "Status",
        "PB ID",
        "Error Code",
        "Message",
        "Transaction ID",
        "Changes",
    ]
    for cell in ws[1][30:]:
        assert (rgb(cell.fill.fgColor), cell.font.b, rgb(cell.font.color)) == (
            rc.RESULT_HEADER_FILL,
            True,
            "FFFFFF",
        )
    assert rgb(ws["AD1"].fill.fgColor) != rc.RESULT_HEADER_FILL  # not the user's header style
    widths = {c: ws.column_dimensions[c].width for c in ("AE", "AF", "AG", "AH", "AI", "AJ")}
    # Status: its header and filter button; PB ID "PB-0001"; Error Code "not-allowed"; Message capped at 60
    assert widths == {"AE": 9, "AF": 8, "AG": 13, "AH": 60, "AI": 17, "AJ": 10}
    assert ws.auto_filter.ref == "A1:AJ5"  # the filter covers Status
    assert ws.freeze_panes == "B2"  # the header row and the key column stay in view


@BOTH
def test_a_freeze_of_the_users_own_is_kept(tmp_path, method):
    source = styled_products(tmp_path / "in.xlsx")
    book = openpyxl.load_workbook(source)
    book["Products"].freeze_panes = "C3"
    book.save(source)
    assert openpyxl.load_workbook(written(tmp_path, method, source=source))["Products"].freeze_panes == "C3"


@BOTH
def test_every_sheet_pbload_writes_or_annotates_prints_landscape_one_page_wide(tmp_path, method):
    book = openpyxl.load_workbook(written(tmp_path, method))
    for name, pages_down, titles in (("Products", 0, "$1:$1"), ("Errors", 0, "$1:$1"), ("Summary", 1, None)):
        ws = book[name]
        setup = ws.page_setup
        assert (setup.orientation, setup.fitToWidth, setup.fitToHeight) == ("landscape", 1, pages_down), name
        assert ws.sheet_properties.pageSetUpPr.fitToPage, name
        assert ws.print_title_rows == titles, name
    assert book["Notes"].page_setup.orientation is None  # a sheet of the user's own is theirs


@BOTH
def test_summary_counts_total_tints_times_and_a_narrow_wrapped_column(tmp_path, method):
    source = styled_products(tmp_path / "in.xlsx")
    run = styled_report(source)
    run.started = datetime(2026, 11, 2, 10, 0, 0, tzinfo=timezone(timedelta(hours=1)))
    run.ended = run.started + timedelta(seconds=42)
    ws = openpyxl.load_workbook(written(tmp_path, method, run, source))["Summary"]
    assert [c.value for c in ws[3]][:5] == ["Sheet", "Rows", "CREATED", "FAILED", "INVALID"]
    assert [rgb(c.fill.fgColor) for c in ws[3][2:5]] == ["C6EFCE", "FFC7CE", "FFC7CE"]  # status tints
    assert [rgb(c.fill.fgColor) for c in ws[4][2:5]] == ["C6EFCE", "FFC7CE", "FFC7CE"]
    record = {r[0].value: r[1] for r in ws.iter_rows(min_row=6) if r[0].value}
    started = record["Started"]
    assert started.value == datetime(2026, 11, 2, 10, 0, 0)  # a real date-time, the run's clock
    assert started.number_format == 'yyyy-mm-dd hh:mm:ss "+01:00"'
    sha = record["Input SHA-256"]
    assert sha.alignment.wrap_text and ws.row_dimensions[sha.row].height == 45  # three lines
    assert ws.column_dimensions["B"].width == rc.SUMMARY_VALUE_WIDTH


def test_the_counts_end_with_a_total_row_for_more_than_one_sheet(tmp_path):
    run = RunReport("r", "load", "in.xlsx", "ab" * 32, "local", datetime(2026, 1, 1))
    run.sheets = [
        SheetReport("Products", [2, 3], {2: Outcome(Status.CREATED), 3: Outcome(Status.FAILED)}),
        SheetReport("Orders", [2], {2: Outcome(Status.CREATED)}),
    ]
    assert rc.summary_table(run) == [
        ["Sheet", "Rows", "CREATED", "FAILED"],
        ["Products", 2, 1, 1],
        ["Orders", 1, 1, 0],
        ["Total", 3, 2, 1],
    ]
    total = rc.summary_rows(run)[-len(rc.run_record(run)) - 1]
    assert total.values[0] == "Total" and all(look and look.bold for look in total.looks)


@BOTH
def test_errors_have_severity_colours_and_columns_sized_to_what_they_hold(tmp_path, method):
    ws = openpyxl.load_workbook(written(tmp_path, method))["Errors"]
    severities = {r[2].value: (rgb(r[2].fill.fgColor), rgb(r[2].font.color)) for r in ws.iter_rows(min_row=2)}
    assert severities == {"error": ("FFC7CE", "9C0006"), "warning": ("FFEB9C", "9C5700")}
    widths = [ws.column_dimensions[c].width for c in "ABCDEF"]
    assert widths[:4] == [9, 7, 11, 12]  # Sheet, Cell ("row 5"), Severity, Code ("not-allowed")
    assert all(w <= cap for w, cap in zip(widths, rc.ERRORS_WIDTHS, strict=False))
    assert "G" not in ws.column_dimensions and "H" not in ws.column_dimensions  # no wide empty column
    assert ws["E2"].alignment.wrap_text and ws["F2"].alignment.wrap_text


@BOTH
def test_warning_cells_carry_a_comment_and_no_invalid_mark(tmp_path, method):
    source = write_products(tmp_path / "in.xlsx", [product_row("A"), product_row("B")])
    issues = [
        Issue(
            "Products", 2, "Description", "whitespace", "Description had spaces at its end.", Severity.WARNING
        ),
        Issue("Products", 3, "Description", "required", "Description is required."),
        Issue("Products", 3, "Description", "whitespace", "Description had spaces.", Severity.WARNING),
    ]
    run = report(source, {2: Outcome(Status.CREATED), 3: Outcome(Status.INVALID)}, issues)
    ws = openpyxl.load_workbook(written(tmp_path, method, run, source))["Products"]
    assert (ws["C2"].comment.text, ws["C3"].comment.text) == (
        "Warning: Description had spaces at its end.",
        "Description is required.\nWarning: Description had spaces.",
    )
    marked = [
        str(cf.sqref) for cf in ws.conditional_formatting for r in cf.rules if "invalid" in r.formula[0]
    ]
    assert marked == ["C3"]


def pdf_pages(path, outdir) -> int:
    """The pages LibreOffice prints `path` on (its PDF export), counted from the PDF's page objects."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        assert not os.environ.get("CI"), SOFFICE_MISSING
        pytest.skip(SOFFICE_MISSING)
    done = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{outdir / 'lo-profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(outdir),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", (outdir / f"{path.stem}.pdf").read_bytes()))


@BOTH
def test_a_known_result_prints_on_few_pages(tmp_path, method):
    path = written(tmp_path, method)
    assert pdf_pages(path, tmp_path) <= MAX_PAGES
