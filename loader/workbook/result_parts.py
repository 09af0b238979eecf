"""The XML of the parts the stream editor adds: Summary and Errors sheets, the chart, comments and their
drawing, and the conditional formats that tint rows and mark invalid cells.

Every text written here is an inline string (`t="inlineStr"`), which Excel never evaluates, so a
message beginning with `=` stays a message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat
from typing import Any

from openpyxl.xml.functions import tostring

from loader.models import RunReport, Status
from loader.workbook.ooxml import (
    MAIN_NS,
    REL_NS,
    Unsupported,
    attr_escape,
    attrs,
    split_ref,
    t_element,
    text_escape,
)
from loader.workbook.result_content import (
    ERRORS_HEADER,
    ERRORS_NOTE_WIDTH,
    FIT_TO_HEIGHT,
    FIT_TO_WIDTH,
    INVALID_MARK_FORMULA,
    MAX_ERROR_ROWS,
    MAX_LINKS,
    PRINT_ORIENTATION,
    SUMMARY_FIT_TO_HEIGHT,
    CellLook,
    Problem,
    column_letter,
    errors_height,
    errors_widths,
    excel_serial,
    status_chart,
    summary_rows,
    summary_widths,
    tint_formula,
)

_MAIN = MAIN_NS.decode()
_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_BATCH = 2_000  # Errors rows per write


@dataclass(frozen=True)
class Formats:
    """Cell format indexes appended to styles.xml for the Errors sheet (written after styles.xml)."""

    bold: int
    link: int
    wrapped: int
    severity: dict[str, int]


_MARGINS = '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'


def fit_to_page(prefix: str = "") -> str:
    """The <pageSetUpPr> that makes a sheet's page setup scale to fit (a child of <sheetPr>)."""
    return f'<{prefix}pageSetUpPr fitToPage="1"/>'


def page_setup(prefix: str = "", pages_down: int = FIT_TO_HEIGHT) -> str:
    """Landscape, the sheet as wide as one page, as many pages down as it takes (or `pages_down`)."""
    return (
        f'<{prefix}pageSetup orientation="{PRINT_ORIENTATION}" fitToWidth="{FIT_TO_WIDTH}" '
        f'fitToHeight="{pages_down}"/>'
    )


def _cell(ref: str, value: Any, style: int = 0) -> str:
    s = f' s="{style}"' if style else ""
    if value is None or value == "":
        return f'<c r="{ref}"{s}/>' if style else ""
    if isinstance(value, datetime):
        return f'<c r="{ref}"{s}><v>{excel_serial(value)!r}</v></c>'
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f'<c r="{ref}"{s} t="inlineStr"><is>{t_element(str(value))}</is></c>'
    return f'<c r="{ref}"{s}><v>{value!r}</v></c>'


def _row(
    number: int, values: Iterable[Any], styles: Iterable[int] | int = 0, height: float | None = None
) -> str:
    """A row of cells from column A; `styles` one format for all, or one per cell."""
    styles = repeat(styles) if isinstance(styles, int) else styles
    cells = "".join(
        _cell(f"{column_letter(n)}{number}", v, s)
        for n, (v, s) in enumerate(zip(values, styles, strict=False), start=1)
    )
    tall = f' ht="{height}" customHeight="1"' if height else ""
    return f'<row r="{number}"{tall}>{cells}</row>'


def _cols(widths: Iterable[float]) -> str:
    return (
        "<cols>"
        + "".join(
            f'<col min="{n}" max="{n}" width="{w}" customWidth="1"/>' for n, w in enumerate(widths, start=1)
        )
        + "</cols>"
    )


def summary_sheet(
    report: RunReport, look: Callable[[CellLook | None], int], drawing_rel: str | None
) -> tuple[bytes, int]:
    """The Summary sheet (with the chart's drawing when `drawing_rel`), and the row (0-based) for the chart;
    `look` gives the cell format of each look (result_content.summary_rows)."""
    rows = summary_rows(report)
    xml_rows = [_row(r.number, r.values, [look(k) for k in r.looks], r.height) for r in rows]
    chart_row = rows[-1].number + 1
    drawing = f'<drawing r:id="{drawing_rel}"/>' if drawing_rel else ""
    xml = (
        f'{_XML_DECL}<worksheet xmlns="{_MAIN}" xmlns:r="{REL_NS}"><sheetPr>{fit_to_page()}</sheetPr>'
        '<sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews><sheetFormatPr '
        f'defaultRowHeight="15"/>{_cols(summary_widths(rows))}<sheetData>{"".join(xml_rows)}</sheetData>'
        f"{_MARGINS}{page_setup(pages_down=SUMMARY_FIT_TO_HEIGHT)}{drawing}</worksheet>"
    )
    return xml.encode(), chart_row


def chart_part(report: RunReport) -> bytes:
    """The chart of the Summary's counts, serialised by openpyxl (the same chart the openpyxl path adds)."""
    return _XML_DECL.encode() + tostring(status_chart(report)._write())


def drawing_part(chart_rel: str, row: int) -> bytes:
    """A drawing holding the chart, its top-left corner at `row` (0-based) in column A."""
    return (
        f'{_XML_DECL}<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><xdr:oneCellAnchor><xdr:from>'
        f"<xdr:col>0</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>{row}</xdr:row><xdr:rowOff>0</xdr:rowOff>"
        '</xdr:from><xdr:ext cx="6480000" cy="2880000"/><xdr:graphicFrame macro=""><xdr:nvGraphicFramePr>'
        '<xdr:cNvPr id="2" name="Statuses"/><xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr><xdr:xfrm>'
        '<a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm><a:graphic>'
        '<a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/chart">'
        '<c:chart xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" '
        f'xmlns:r="{REL_NS}" r:id="{chart_rel}"/></a:graphicData></a:graphic></xdr:graphicFrame>'
        "<xdr:clientData/></xdr:oneCellAnchor></xdr:wsDr>"
    ).encode()


def errors_sheet(found: list[Problem], formats: Formats, notes: list[str]) -> Iterator[bytes]:
    """The Errors sheet, a batch of rows at a time: one row per problem, its cell a link to it, its
    severity coloured, its message and hint wrapped."""
    listed = found[:MAX_ERROR_ROWS]
    last = len(listed) + 1
    sized = errors_widths(found)
    widths = [*sized, *((4, ERRORS_NOTE_WIDTH) if notes else ())]
    yield (
        f'{_XML_DECL}<worksheet xmlns="{_MAIN}" xmlns:r="{REL_NS}"><sheetPr>{fit_to_page()}</sheetPr>'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
        'state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/>{_cols(widths)}<sheetData>'
    ).encode()
    header = [*ERRORS_HEADER, *((None, notes[0]) if notes else ())]
    yield _row(1, header, [formats.bold] * len(ERRORS_HEADER) + [0, formats.bold]).encode()
    batch = []
    wrapped, severity = formats.wrapped, formats.severity
    for number, problem in enumerate(listed, start=2):
        note = notes[number - 1] if number - 1 < len(notes) else None
        link = formats.link if number - 2 < MAX_LINKS else 0
        batch.append(
            _row(
                number,
                [
                    problem.sheet,
                    problem.cell,
                    problem.severity,
                    problem.code,
                    problem.message,
                    problem.hint,
                    None,
                    note,
                ],
                [
                    0,
                    link,
                    severity.get(problem.severity, 0),
                    0,
                    wrapped,
                    wrapped,
                    0,
                    formats.bold if note else 0,
                ],
                errors_height(problem, sized),
            )
        )
        if len(batch) == _BATCH:
            yield "".join(batch).encode()
            batch = []
    yield "".join(batch).encode()
    yield f'</sheetData><autoFilter ref="A1:{column_letter(len(ERRORS_HEADER))}{last}"/>'.encode()
    if listed:
        yield b"<hyperlinks>"
        for start in range(0, min(len(listed), MAX_LINKS), _BATCH):
            yield "".join(
                f'<hyperlink ref="B{n}" location="{attr_escape(p.target)}" display="{attr_escape(p.cell)}"/>'
                for n, p in enumerate(listed[start : start + _BATCH], start=start + 2)
            ).encode()
        yield b"</hyperlinks>"
    yield f"{_MARGINS}{page_setup()}</worksheet>".encode()


# --- comments ---------------------------------------------------------------------------------


_COMMENT = re.compile(
    rb"<(?:\w+:)?comment\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(?:/>|>.*?</(?:\w+:)?comment>)", re.S
)
_AUTHOR = re.compile(rb"<(?:\w+:)?author\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?author>)", re.S)


@dataclass
class ExistingComments:
    """A sheet's comments part, split into the comments to keep and pbload's own, to drop."""

    authors: list[bytes]
    kept: dict[tuple[int, int], bytes]  # (row, col) -> the <comment> element, author index remapped
    dropped: set[tuple[int, int]]

    @classmethod
    def parse(cls, data: bytes, ours: str, header_row: int) -> ExistingComments:
        """Comments by `ours` below the header row are pbload's notes from an earlier result."""
        authors = [m.group(1) or b"" for m in _AUTHOR.finditer(data)]
        kept: dict[tuple[int, int], bytes] = {}
        dropped: set[tuple[int, int]] = set()
        for m in _COMMENT.finditer(data):
            a = attrs(m.group(1))
            cell = split_ref(a.get("ref", ""))
            author = int(a.get("authorId", "0") or 0)
            name = authors[author].decode(errors="replace") if author < len(authors) else ""
            if name == ours and cell[0] > header_row:
                dropped.add(cell)
            else:
                kept[cell] = m.group(0)
        return cls(authors, kept, dropped)


def comments_part(
    prefix: str, existing: ExistingComments | None, ours: dict[tuple[int, int], str], author: str
) -> bytes:
    """Kept comments and pbload's notes, in cell order; pbload is one more author if it was none."""
    authors = list(existing.authors) if existing else []
    mine = author.encode()
    if mine not in authors:
        authors.append(mine)
    author_id = authors.index(mine)
    p = prefix
    elements: dict[tuple[int, int], bytes] = dict(existing.kept) if existing else {}
    for (row, col), text in ours.items():
        elements[(row, col)] = (
            f'<{p}comment ref="{column_letter(col)}{row}" authorId="{author_id}">'
            f"<{p}text>{t_element(text, p)}</{p}text></{p}comment>"
        ).encode()
    head = f'{_XML_DECL}<{p}comments xmlns{":" + p[:-1] if p else ""}="{_MAIN}"><{p}authors>'.encode()
    authors_xml = b"".join(
        b"<" + p.encode() + b"author>" + a + b"</" + p.encode() + b"author>" for a in authors
    )
    body = b"".join(elements[k] for k in sorted(elements))
    return (
        head
        + authors_xml
        + f"</{p}authors><{p}commentList>".encode()
        + body
        + f"</{p}commentList></{p}comments>".encode()
    )


# --- VML, the drawing Excel shows comments with -----------------------------------------------

_VML_NS = "urn:schemas-microsoft-com:vml"
_OFFICE_NS = "urn:schemas-microsoft-com:office:office"
_EXCEL_NS = "urn:schemas-microsoft-com:office:excel"
_SHAPETYPE = (
    '<{v}shapetype id="_x0000_t202" coordsize="21600,21600" {o}spt="202" path="m,l,21600r21600,l21600,xe">'
    '<{v}stroke joinstyle="miter"/><{v}path gradientshapeok="t" {o}connecttype="rect"/></{v}shapetype>'
)


def _note_shape(v: str, o: str, x: str, shape_id: int, row: int, col: int, text: str) -> str:
    lines = min(12, 2 + len(text) // 40 + text.count("\n"))
    return (
        f'<{v}shape id="_x0000_s{shape_id}" type="#_x0000_t202" style="position:absolute;margin-left:59.25pt;'
        f'margin-top:1.5pt;width:216pt;height:{15 * lines}pt;z-index:{shape_id};visibility:hidden" '
        f'fillcolor="#ffffe1" {o}insetmode="auto"><{v}fill color2="#ffffe1"/><{v}shadow on="t" color="black" '
        f'obscured="t"/><{v}path {o}connecttype="none"/><{v}textbox style="mso-direction-alt:auto">'
        f'<div style="text-align:left"></div></{v}textbox><{x}ClientData ObjectType="Note"><{x}MoveWithCells/>'
        f"<{x}SizeWithCells/><{x}Anchor>{col}, 15, {row - 1}, 2, {col + 3}, 15, {row - 1 + lines}, 4</{x}Anchor>"
        f"<{x}AutoFill>False</{x}AutoFill><{x}Row>{row - 1}</{x}Row><{x}Column>{col - 1}</{x}Column>"
        f"</{x}ClientData></{v}shape>"
    )


def new_vml(ours: dict[tuple[int, int], str], first_id: int = 1025) -> bytes:
    v, o, x = "v:", "o:", "x:"
    shapes = "".join(
        _note_shape(v, o, x, first_id + n, row, col, text)
        for n, ((row, col), text) in enumerate(sorted(ours.items()))
    )
    return (
        f'<xml xmlns:v="{_VML_NS}" xmlns:o="{_OFFICE_NS}" xmlns:x="{_EXCEL_NS}"><o:shapelayout v:ext="edit">'
        f'<o:idmap v:ext="edit" data="1"/></o:shapelayout>{_SHAPETYPE.format(v=v, o=o)}{shapes}</xml>'
    ).encode()


def merged_vml(
    data: bytes, dropped: set[tuple[int, int]], ours: dict[tuple[int, int], str]
) -> tuple[bytes, int]:
    """The sheet's VML without pbload's old notes and with the new ones; and how many shapes it keeps."""
    root = re.search(rb"<xml\b[^>]*>", data)
    end = data.rfind(b"</xml>")
    if not root or end < 0:
        raise Unsupported("the comments' drawing is not the usual VML")
    prefixes = {
        uri: pre
        for pre, uri in (
            (m.group(1).decode(), m.group(2).decode())
            for m in re.finditer(rb"xmlns:([\w.-]+)\s*=\s*[\"']([^\"']*)[\"']", root.group(0))
        )
    }
    try:
        v, o, x = (prefixes[ns] + ":" for ns in (_VML_NS, _OFFICE_NS, _EXCEL_NS))
    except KeyError:
        raise Unsupported("the comments' drawing does not declare the usual namespaces") from None
    shape = re.compile(rb"<" + v.encode() + rb"shape\b.*?</" + v.encode() + rb"shape>", re.S)
    cell = re.compile(
        rb"<"
        + x.encode()
        + rb"Row>\s*(\d+)\s*</"
        + x.encode()
        + rb"Row>\s*<"
        + x.encode()
        + rb"Column>\s*(\d+)\s*</"
        + x.encode()
        + rb"Column>"
    )
    kept_shapes: list[bytes] = []
    body = data[root.end() : end]
    pieces, pos = [], 0
    for m in shape.finditer(body):
        found = cell.search(m.group(0))
        is_note = b'ObjectType="Note"' in m.group(0)
        if is_note and found and (int(found.group(1)) + 1, int(found.group(2)) + 1) in dropped:
            pieces.append(body[pos : m.start()])
            pos = m.end()
            continue
        kept_shapes.append(m.group(0))
    pieces.append(body[pos:])
    ids = [int(n) for n in re.findall(rb"_x0000_s(\d+)", data)] or [1024]
    first_id = max(ids) + 1
    added = "".join(
        _note_shape(v, o, x, first_id + n, row, col, text)
        for n, ((row, col), text) in enumerate(sorted(ours.items()))
    )
    shapetype = "" if b'id="_x0000_t202"' in data else _SHAPETYPE.format(v=v, o=o)
    new = data[: root.end()] + b"".join(pieces) + (shapetype + added).encode() + data[end:]
    return new, len(kept_shapes) + len(ours)


# --- conditional formats ----------------------------------------------------------------------


def invalid_marks(prefix: str, ranges: list[list[str]], dxf: int, first_priority: int) -> bytes:
    """One conditional format per batch of ranges (older Excel reads at most 8,192 a format)."""
    p = prefix
    return "".join(
        f'<{p}conditionalFormatting sqref="{" ".join(batch)}"><{p}cfRule type="expression" dxfId="{dxf}" '
        f'priority="{first_priority + n}" stopIfTrue="1"><{p}formula>{text_escape(INVALID_MARK_FORMULA)}'
        f"</{p}formula></{p}cfRule></{p}conditionalFormatting>"
        for n, batch in enumerate(ranges)
    ).encode()


def row_tints(prefix: str, area: str, rules: list[tuple[str, int]], first_priority: int) -> bytes:
    """One conditional format over the data and pbload's columns: a rule per status, by its tint."""
    p = prefix
    body = "".join(
        f'<{p}cfRule type="expression" dxfId="{dxf}" priority="{first_priority + n}">'
        f"<{p}formula>{text_escape(formula)}</{p}formula></{p}cfRule>"
        for n, (formula, dxf) in enumerate(rules)
    )
    return (
        f'<{p}conditionalFormatting sqref="{area}">{body}</{p}conditionalFormatting>'.encode()
        if rules
        else b""
    )


def status_rules(letter: str, tints: dict[Status, int], statuses: Iterable[Status]) -> list[tuple[str, int]]:
    """(formula, conditional-format fill) for each status, the Status column being `letter`."""
    return [(tint_formula(letter, s), tints[s]) for s in statuses]
