"""The stream writer at scale and against hostile packages: rows of many megabytes, work linear in a sheet's
size (counted, not timed), a row that never ends, and members whose names reach outside the package."""

from __future__ import annotations

import io
import random
import zipfile

import openpyxl
import pytest

from loader.errors import ResultError
from loader.models import Outcome, Status
from loader.workbook import RESULT_COLUMNS
from loader.workbook.result import STREAM
from loader.workbook.result import write_result as write_result_workbook
from loader.workbook.result.content import RESULT_WIDTHS
from loader.workbook.result.stream import Unsupported, write_streamed
from loader.workbook.result.stream import rows as sheet_stream
from loader.workbook.result.stream.rows import RowValues, SheetEdit, SheetRewriter
from tests.workbook.result_cases import raw_workbook, report, result_columns

MB = 1 << 20
HEADER = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>SKU</t></is></c><c r="B1" t="inlineStr"><is><t>Weight</t></is>'
    '</c><c r="C1" t="inlineStr"><is><t>Colour</t></is></c></row>'
)
POSITIONS = {"Products": {"SKU": 0, "Weight": 1, "Colour": 2}}
OUTCOMES = {
    2: Outcome(Status.CREATED, "PB-1", transaction_id="t-1"),
    3: Outcome(Status.FAILED, None, "PB-4001", "Refused."),
}
UNSAFE = ("../../evil.xml", "/abs.xml", "a\\b.xml", "C:/drive.xml")


def sheet(rows: str) -> str:
    return (
        f'<dimension ref="A1:C3"/><sheetData>{HEADER}{rows}</sheetData><pageMargins left="0.7" right="0.7" '
        'top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
    )


def text(size: int) -> str:
    """`size` hex digits, random enough that the package checks do not take the sheet for a zip bomb."""
    return random.Random(size).randbytes(size // 2).hex()


def long_cell_row(size: int) -> str:
    return f'<row r="2"><c r="A2" t="inlineStr"><is><t>{text(size)}</t></is></c><c r="B2"><v>5</v></c></row>'


def wide_row(cells: int, width: int) -> str:
    """Row 2 with `cells` cells of `width` characters: values far beyond the three headers."""
    from openpyxl.utils import get_column_letter

    body = "".join(
        f'<c r="{get_column_letter(n)}2" t="inlineStr"><is><t>{n:0{width}d}</t></is></c>'
        for n in range(1, cells + 1)
    )
    return f'<row r="2">{body}</row>'


SHORT_ROW = '<row r="3"><c r="A3" t="inlineStr"><is><t>B-2</t></is></c></row>'


def test_a_cell_of_16_mb_is_kept_and_its_row_gets_its_status(tmp_path):
    source = raw_workbook(tmp_path / "in.xlsx", sheet(long_cell_row(16 * MB) + SHORT_ROW))
    written = write_result_workbook(source, tmp_path / "out.xlsx", report(source, OUTCOMES), POSITIONS)
    assert written.method == STREAM
    assert result_columns(written.path) == {
        2: ("CREATED", "PB-1", None, None, "t-1"),
        3: ("FAILED", None, "PB-4001", "Refused.", None),
    }
    ws = openpyxl.load_workbook(written.path, read_only=True)["Products"]
    first = next(ws.iter_rows(min_row=2, max_row=2, max_col=2, values_only=True))
    assert (first[0] == text(16 * MB), first[1]) == (True, 5)


def test_a_row_of_12_mb_across_6000_columns_gets_pbload_columns_after_its_last_value(tmp_path):
    source = raw_workbook(tmp_path / "in.xlsx", sheet(wide_row(6000, 2000) + SHORT_ROW))
    written = write_result_workbook(source, tmp_path / "out.xlsx", report(source, OUTCOMES), POSITIONS)
    assert written.method == STREAM
    ws = openpyxl.load_workbook(written.path, read_only=True)["Products"]
    header, row2, row3 = ws.iter_rows(min_row=1, max_row=3, min_col=5999, max_col=6008, values_only=True)
    assert header[2 : 2 + len(RESULT_COLUMNS)] == tuple(RESULT_COLUMNS)
    assert (int(row2[0]), int(row2[1])) == (5999, 6000)
    assert row2[2:7] == ("CREATED", "PB-1", None, None, "t-1")
    assert row3[2:7] == ("FAILED", None, "PB-4001", "Refused.", None)


def test_headers_in_shared_strings_after_a_string_of_8_mb_are_found(tmp_path):
    header = (
        '<row r="1"><c r="A1" t="s"><v>1</v></c><c r="B1" t="s"><v>2</v></c><c r="C1" t="s"><v>3</v></c>'
        "</row>"
    )
    xml = f'<sheetData>{header}<row r="2"><c r="A2" t="s"><v>0</v></c></row>{SHORT_ROW}</sheetData>'
    source = raw_workbook(tmp_path / "in.xlsx", xml, [text(8 * MB), "SKU", "Weight", "Colour"])
    written = write_result_workbook(source, tmp_path / "out.xlsx", report(source, OUTCOMES), POSITIONS)
    assert written.method == STREAM
    ws = openpyxl.load_workbook(written.path, read_only=True)["Products"]
    header_row = next(ws.iter_rows(max_row=1, values_only=True))
    assert header_row == ("SKU", "Weight", "Colour", *RESULT_COLUMNS)
    assert result_columns(written.path) == {
        2: ("CREATED", "PB-1", None, None, "t-1"),
        3: ("FAILED", None, "PB-4001", "Refused.", None),
    }


def _rewrite(xml: bytes, rows: list[int]) -> tuple[int, bytes]:
    """Run the row scanner over a sheet's XML; return the bytes it searched and what it wrote."""
    edit = SheetEdit(
        4,
        RowValues(rows, {r: Outcome(Status.CREATED, f"PB-{r}") for r in rows}),
        tuple(RESULT_COLUMNS),
        0,
        RESULT_WIDTHS,
        max(rows),
        lambda tail, p: tail,
    )
    rewriter = SheetRewriter(edit, b"", "Products")
    out: list[bytes] = []
    rewriter.run(io.BytesIO(xml), out.append)
    return rewriter.searched, b"".join(out)


def _sheet_xml(rows: str) -> bytes:
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    return f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{ns}">{sheet(rows)}</worksheet>'.encode()


@pytest.mark.parametrize("shape", ["one long row", "many rows"])
def test_the_row_scanner_searches_each_byte_at_most_twice_however_the_sheet_grows(shape, monkeypatch):
    monkeypatch.setattr(sheet_stream, "CHUNK", 16 << 10)  # many chunks even for a small sheet
    searched = {}
    for scale in (1, 2, 4):
        if shape == "one long row":
            xml, rows = _sheet_xml(long_cell_row(scale * 4 * MB)), [2]
        else:
            n = scale * 12_000
            xml = _sheet_xml(
                "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(2, n + 2))
            )
            rows = list(range(2, n + 2, 3))
        searched[scale], out = _rewrite(xml, rows)
        # each byte of the rows searched once for the end of the rows and once for a row's end (with a tag's
        # length more at each chunk's start), and never again
        assert len(xml) < searched[scale] < 2.01 * len(xml)
        assert out.count(b">CREATED<") == len(rows)
    # linear: twice the sheet, twice the bytes searched (a rescanning scanner searched 2.6x / 3x as much)
    assert 1.9 < searched[2] / searched[1] < 2.1 and 1.9 < searched[4] / searched[2] < 2.1


def test_a_sheet_cut_in_chunks_anywhere_is_written_the_same(monkeypatch):
    xml = _sheet_xml(
        long_cell_row(5000)
        + "".join(
            f'<row r="{r}" spans="1:2"><c r="A{r}"><v>{r}</v></c>'
            f'<c r="B{r}" t="inlineStr"><is><t>&lt;/row&gt;</t></is></c>'
            "</row>"
            for r in range(3, 300)
        )
    )
    whole = _rewrite(xml, list(range(2, 300, 2)))[1]
    for chunk in (1, 7, 12, 13, 100, 4096):  # shorter, as long as and longer than `</row>` and `</sheetData>`
        monkeypatch.setattr(sheet_stream, "CHUNK", chunk)
        assert _rewrite(xml, list(range(2, 300, 2)))[1] == whole


def test_a_row_that_never_ends_stops_the_result_with_a_plain_message(tmp_path, monkeypatch):
    monkeypatch.setattr(
        sheet_stream, "MAX_PENDING", 2 * MB
    )  # 256 MB in use; the same path with less to build
    source = raw_workbook(tmp_path / "in.xlsx", sheet(long_cell_row(3 * MB) + SHORT_ROW))
    with pytest.raises(ResultError) as caught:
        write_result_workbook(source, tmp_path / "out.xlsx", report(source, OUTCOMES), POSITIONS)
    assert str(caught.value) == (
        "The result workbook cannot be written: a row of sheet 'Products' holds more than 2 MB of XML, far more "
        "than Excel puts in one, so the workbook is damaged or was not saved by a spreadsheet program. Open it in "
        "Excel, save it as an Excel Workbook (.xlsx) and write the result from that copy."
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "in.xlsx"
    ]  # no half-written result or temporary file


# The reader refuses such packages before any check (loader/workbook/package.py); these go to the stream
# editor directly, as one that slipped past would.


def test_members_with_unsafe_names_are_not_copied_into_the_result(tmp_path):
    parts = {name: "<evil/>" for name in UNSAFE}
    types = '<Override PartName="/../../evil.xml" ContentType="application/xml"/>'
    source = raw_workbook(tmp_path / "in.xlsx", sheet(SHORT_ROW), extra_parts=parts, extra_types=types)
    with zipfile.ZipFile(source) as z:
        assert set(UNSAFE) <= set(z.namelist())
    target = tmp_path / "out.xlsx"
    write_streamed(source, target, report(source, {3: OUTCOMES[3]}), POSITIONS)
    with zipfile.ZipFile(target) as z:
        names = z.namelist()
        content_types = z.read("[Content_Types].xml")
    assert not set(UNSAFE) & set(names)
    assert {"xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/styles.xml"} <= set(names)
    assert b"evil" not in content_types
    assert result_columns(target) == {3: ("FAILED", None, "PB-4001", "Refused.", None)}


def test_an_unsafe_member_a_relationship_points_at_is_left_to_openpyxl(tmp_path):
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package_rels = (
        "<Relationships "  # raw_workbook gives it the XML declaration
        'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
        f'<Relationship Id="rId9" Type="{rel}/customXml" Target="../../evil.xml"/></Relationships>'
    )
    parts = {"_rels/.rels": package_rels, "../../evil.xml": "<evil/>"}
    source = raw_workbook(tmp_path / "in.xlsx", sheet(SHORT_ROW), extra_parts=parts)
    with pytest.raises(
        Unsupported, match=r"^_rels/\.rels points at '\.\./\.\./evil\.xml', a name not safe to copy$"
    ):
        write_streamed(source, tmp_path / "out.xlsx", report(source, {3: OUTCOMES[3]}), POSITIONS)
