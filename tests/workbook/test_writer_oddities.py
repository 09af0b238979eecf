"""Workbooks as other programs write them, through the stream writer; and LibreOffice reading results.

Each case is raw sheet XML with one of the traps the stream editor must step around: rows and cells
without `r=`, shared strings, `t="n"`, `spans`, rich text with `<color>`, `<rowBreaks>`, the `x:`
prefix of .NET writers, pbload's columns already there with a column of the user's after them, merged
cells and conditional formats over them, comments by someone else, Excel's own VML.
"""

from __future__ import annotations

import re
import zipfile

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from loader.models import Issue, Outcome, Status
from loader.workbook.result import OPENPYXL, STREAM
from loader.workbook.result import write_result as write_result_workbook
from tests.workbook.result_cases import (
    POSITIONS,
    raw_workbook,
    report,
    result_columns,
    soffice_csv,
    styled_products,
    styled_report,
)

REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
OTHER_WRITER = (
    '<{p}dimension ref="A1:C3"/><{p}sheetViews><{p}sheetView tabSelected="1" workbookViewId="0">'
    '<{p}selection activeCell="B2" sqref="B2"/></{p}sheetView></{p}sheetViews><{p}sheetFormatPr defaultRowHeight="15"/>'
    '<{p}cols><{p}col min="1" max="1024" width="11" customWidth="1"/></{p}cols><{p}sheetData>'
    '<{p}row spans="1:3"><{p}c t="s"><{p}v>0</{p}v></{p}c><{p}c t="s"><{p}v>1</{p}v></{p}c><{p}c t="s"><{p}v>2</{p}v>'
    "</{p}c></{p}row>"
    '<{p}row r="2" spans="1:3"><{p}c r="A2" t="s"><{p}v>3</{p}v></{p}c><{p}c r="B2" t="n"><{p}v>5</{p}v></{p}c>'
    '<{p}c r="C2" t="inlineStr"><{p}is><{p}r><{p}rPr><{p}color rgb="FFFF0000"/></{p}rPr><{p}t>red</{p}t></{p}r></{p}is>'
    "</{p}c></{p}row>"
    '<{p}row><{p}c><{p}v>7</{p}v></{p}c><{p}c t="s"><{p}v>4</{p}v></{p}c></{p}row>'
    '<{p}row r="4" spans="1:3" ht="20" customHeight="1"/>'
    '<{p}row r="5"/>'
    '</{p}sheetData><{p}rowBreaks count="1" manualBreakCount="1"><{p}brk id="2" max="16383" man="1"/></{p}rowBreaks>'
)
SHARED = ["SKU", "Weight", "Colour", "A-1", "C-3"]
OTHER_POSITIONS = {"Products": {"SKU": 0, "Weight": 1, "Colour": 2}}


def other_writer_report(path):
    return report(
        path,
        {
            2: Outcome(Status.CREATED, "PB-1", transaction_id="t-1"),
            3: Outcome(Status.INVALID, None, "wrong-type", "Weight: must be a number."),
            5: Outcome(Status.FAILED, None, "PB-1", "Refused."),
        },
        [Issue("Products", 3, "Weight", "wrong-type", "Weight must be a number.")],
    )


def check_other_writer(path):
    assert result_columns(path) == {
        2: ("CREATED", "PB-1", None, None, "t-1"),
        3: ("INVALID", None, "wrong-type", "Weight: must be a number.", None),
        5: ("FAILED", None, "PB-1", "Refused.", None),
    }
    book = openpyxl.load_workbook(path)
    ws = book["Products"]
    assert [[c.value for c in row] for row in ws.iter_rows(max_col=3, max_row=3)] == [
        ["SKU", "Weight", "Colour"],
        ["A-1", 5, "red"],
        [7, "C-3", None],
    ]
    assert ws["B3"].comment.text == "Weight must be a number."
    assert ws.freeze_panes == "B2" and ws.auto_filter.ref == "A1:I5"
    assert (ws.column_dimensions["A"].width, ws.column_dimensions["D"].width) == (
        11,
        9,
    )  # Status fits its header
    assert ws.row_dimensions[4].height == 20
    assert not ws.sheet_view.tabSelected and book.active.title == "Summary"
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Products").to_python()
    assert [r[3] for r in rows] == ["Status", "CREATED", "INVALID", "", "FAILED"]


def test_rows_and_cells_without_references_shared_strings_and_rich_text(tmp_path):
    source = raw_workbook(tmp_path / "in.xlsx", OTHER_WRITER.format(p=""), SHARED)
    written = write_result_workbook(
        source, tmp_path / "out.xlsx", other_writer_report(source), OTHER_POSITIONS
    )
    assert written.method == STREAM
    check_other_writer(written.path)
    with zipfile.ZipFile(written.path) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    assert b"<rowBreaks" in sheet and b"spans" not in sheet.split(b'<row r="4"')[0]
    assert (
        b'<row r="4" spans="1:3" ht="20" customHeight="1"/>' in sheet
    )  # rows without a status stay as they were


def test_the_x_prefix_of_dotnet_writers(tmp_path):
    source = raw_workbook(tmp_path / "in.xlsx", OTHER_WRITER.format(p="x:"), SHARED, prefix="x:")
    written = write_result_workbook(
        source, tmp_path / "out.xlsx", other_writer_report(source), OTHER_POSITIONS
    )
    assert written.method == STREAM
    check_other_writer(written.path)


AGAIN = (
    "<sheetData>"
    '<row r="1"><c r="A1" t="inlineStr"><is><t>SKU</t></is></c><c r="B1" t="inlineStr"><is><t>Status</t></is></c>'
    '<c r="C1" t="inlineStr"><is><t>PB ID</t></is></c><c r="D1" t="inlineStr"><is><t>Error Code</t></is></c>'
    '<c r="E1" t="inlineStr"><is><t>Message</t></is></c><c r="F1" t="inlineStr"><is><t>Transaction ID</t></is></c>'
    '<c r="G1" t="inlineStr"><is><t>Mine</t></is></c></row>'
    '<row r="2"><c r="A2" t="inlineStr"><is><t>A-1</t></is></c><c r="B2" t="inlineStr"><is><t>FAILED</t></is></c>'
    '<c r="D2" t="inlineStr"><is><t>old</t></is></c><c r="G2"><v>42</v></c></row>'
    '<row r="3"><c r="A3" t="inlineStr"><is><t>B-2</t></is></c><c r="B3" t="inlineStr"><is><t>INVALID</t></is></c>'
    '<c r="G3"><f>G2*2</f><v>84</v></c></row>'
    '</sheetData><autoFilter ref="A1:G3"/><mergeCells count="2"><mergeCell ref="D3:E4"/><mergeCell ref="A6:B6"/>'
    '</mergeCells><conditionalFormatting sqref="A2:A3"><cfRule type="containsBlanks" priority="1">'
    '<formula>LEN(TRIM(A2))=0</formula><extLst><ext uri="{B025F937-C7B1-47D3-B67F-A62EFF666E3E}" '
    'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"><x14:id>{00000000-0000-0000-0000-'
    "000000000001}</x14:id></ext></extLst></cfRule></conditionalFormatting>"
    '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
)
NAMES = (
    '<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">Products!$A$1:$G$3'
    '</definedName><definedName name="_xlnm.Print_Area" localSheetId="0">Products!$A$1:$A$3</definedName>'
    '<definedName name="Prices">Products!$G$2:$G$3</definedName></definedNames>'
)


@pytest.mark.filterwarnings("ignore:Unknown extension")  # openpyxl reading the user's x14 rule id
@pytest.mark.parametrize("method", [STREAM, OPENPYXL])
def test_pbload_columns_already_there_with_merges_formats_and_names_around_them(tmp_path, method):
    source = raw_workbook(tmp_path / "in.xlsx", AGAIN, defined_names=NAMES)
    run = report(
        source,
        {2: Outcome(Status.UNCHANGED, "PB-1"), 3: Outcome(Status.INVALID, None, "required", "SKU!")},
        [Issue("Products", 3, "SKU", "required", "SKU is required.")],
    )
    written = write_result_workbook(
        source, tmp_path / "out.xlsx", run, {"Products": {"SKU": 0}}, method=method
    )
    assert written.method == method
    book = openpyxl.load_workbook(written.path)
    ws = book["Products"]
    assert [[c.value for c in row] for row in ws.iter_rows()][:3] == [
        ["SKU", "Status", "PB ID", "Error Code", "Message", "Transaction ID", "Mine"],
        ["A-1", "UNCHANGED", "PB-1", None, None, None, 42],
        ["B-2", "INVALID", None, "required", "SKU!", None, "=G2*2"],
    ]
    assert [str(r) for r in ws.merged_cells.ranges] == ["A6:B6"]  # D3:E4 would have hidden pbload's cells
    rules = sorted((str(cf.sqref), r.type, r.priority) for cf in ws.conditional_formatting for r in cf.rules)
    assert rules == [
        ("A2:A3", "containsBlanks", 2),
        ("A2:F3", "expression", 3),
        ("A2:F3", "expression", 4),
        ("A3", "expression", 1),
    ]
    assert ws.auto_filter.ref == "A1:G3" and ws.print_area == "'Products'!$A$1:$F$3"
    assert book.defined_names["Prices"].attr_text == "Products!$G$2:$G$3"
    assert ws["A3"].comment.text == "SKU is required."
    with zipfile.ZipFile(written.path) as z:
        names = z.read("xl/workbook.xml")
    assert re.search(
        rb'<definedName name="_xlnm._FilterDatabase" localSheetId="2" hidden="1">\s*\'?Products', names
    )


EXCEL_VML = (
    '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
    'xmlns:x="urn:schemas-microsoft-com:office:excel">\n <o:shapelayout v:ext="edit">\n  <o:idmap v:ext="edit" '
    'data="1"/>\n </o:shapelayout><v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202"\n  '
    'path="m,l,21600r21600,l21600,xe">\n  <v:stroke joinstyle="miter"/>\n  <v:path gradientshapeok="t" '
    'o:connecttype="rect"/>\n </v:shapetype>{shapes}</xml>'
)
SHAPE = (
    '<v:shape id="_x0000_s{id}" type="#_x0000_t202" style="position:absolute;visibility:hidden" '
    'fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/><v:textbox><div style="text-align:left">'
    '</div></v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
    "<x:Anchor>2, 15, 0, 10, 4, 15, 4, 4</x:Anchor><x:AutoFill>False</x:AutoFill><x:Row>{row}</x:Row>"
    "<x:Column>{col}</x:Column></x:ClientData></v:shape>"
)
COMMENTS = (
    '<comments xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><authors><author>Ana</author>'
    '<author>pbload</author></authors><commentList><comment ref="B2" authorId="0"><text><r><rPr><b/></rPr>'
    '<t>Ana:</t></r><r><t xml:space="preserve"> check the weight</t></r></text></comment>'
    '<comment ref="C3" authorId="1"><text><t>Old problem.</t></text></comment></commentList></comments>'
)


def test_comments_by_others_stay_and_earlier_notes_of_pbload_go(tmp_path):
    sheet = OTHER_WRITER.format(p="").replace("</rowBreaks>", '</rowBreaks><legacyDrawing r:id="rId9"/>')
    source = raw_workbook(
        tmp_path / "in.xlsx",
        sheet,
        SHARED,
        extra_sheet_rels=(
            f'<Relationship Id="rId8" Type="{REL}/comments" Target="../comments1.xml"/>'
            f'<Relationship Id="rId9" Type="{REL}/vmlDrawing" Target="../drawings/vmlDrawing1.vml"/>'
        ),
        extra_parts={
            "xl/comments1.xml": COMMENTS,
            "xl/drawings/vmlDrawing1.vml": EXCEL_VML.format(
                shapes=SHAPE.format(id=1025, row=1, col=1) + SHAPE.format(id=1026, row=2, col=2)
            ),
        },
        extra_types=(
            '<Default Extension="vml" ContentType="application/vnd.openxmlformats-officedocument.vmlDrawing"/>'
            '<Override PartName="/xl/comments1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"/>'
        ),
    )
    run = report(
        source,
        {2: Outcome(Status.INVALID), 3: Outcome(Status.INVALID)},
        [
            Issue("Products", 2, "Weight", "wrong-type", "Weight must be a number."),
            Issue("Products", 3, "SKU", "required", "SKU is required."),
        ],
    )
    written = write_result_workbook(source, tmp_path / "out.xlsx", run, OTHER_POSITIONS)
    assert written.method == STREAM
    ws = openpyxl.load_workbook(written.path)["Products"]
    notes = {
        c.coordinate: (c.comment.author, c.comment.text) for row in ws.iter_rows() for c in row if c.comment
    }
    assert notes == {"B2": ("Ana", "Ana: check the weight"), "A3": ("pbload", "SKU is required.")}
    with zipfile.ZipFile(written.path) as z:
        vml = z.read("xl/drawings/vmlDrawing1.vml").decode()
    assert vml.count("<v:shape ") == 2 and "<x:Row>1</x:Row><x:Column>1</x:Column>" in vml
    assert "<x:Row>2</x:Row><x:Column>0</x:Column>" in vml and "<x:Row>2</x:Row>\n" not in vml


def test_libreoffice_opens_every_kind_of_result(tmp_path):
    styled = styled_products(tmp_path / "in.xlsx")
    run = styled_report(styled)
    run.sheets[0].outcomes[2] = Outcome(Status.CREATED, "PB-0001", None, "=2+2", "pbl-aaa")
    other = raw_workbook(tmp_path / "other.xlsx", OTHER_WRITER.format(p="x:"), SHARED, prefix="x:")
    results = [
        write_result_workbook(styled, tmp_path / "streamed.xlsx", run, POSITIONS),
        write_result_workbook(styled, tmp_path / "fallback.xlsx", run, POSITIONS, method=OPENPYXL),
        write_result_workbook(other, tmp_path / "dotnet.xlsx", other_writer_report(other), OTHER_POSITIONS),
    ]
    assert [r.method for r in results] == [STREAM, OPENPYXL, STREAM]
    converted = soffice_csv([r.path for r in results], tmp_path / "csv")
    for name in ("streamed", "fallback"):
        sheets = converted[name]
        assert list(sheets) >= ["Errors", "Instructions", "Products", "Summary"]
        lines = sheets["Products"].splitlines()
        assert lines[0].endswith("Action,Status,PB ID,Error Code,Message,Transaction ID,Changes")
        assert [line.split(",")[30] for line in lines[1:5]] == ["CREATED", "INVALID", "INVALID", "FAILED"]
        assert lines[1].endswith("CREATED,PB-0001,,=2+2,pbl-aaa,")  # shown as typed, not calculated
        assert "Products,4,1,1,2" in sheets["Summary"]
        assert sheets["Errors"].splitlines()[1].startswith("Products,B3,error,not-allowed,")
    assert converted["dotnet"]["Products"].splitlines()[:3] == [
        "SKU,Weight,Colour,Status,PB ID,Error Code,Message,Transaction ID,Changes",
        "A-1,5,red,CREATED,PB-1,,,t-1,",
        "7,C-3,,INVALID,,wrong-type,Weight: must be a number.,,",
    ]
