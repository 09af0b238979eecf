"""The XML of the parts the stream editor adds: Summary and Errors sheets, the chart and its drawing, and
the conditional formats that tint rows and mark invalid cells (comments: `comments`).

These are new parts written from scratch, a row at a time (the Errors sheet can have a million rows),
not edits of the user's XML.

Every text written here is an inline string (`t="inlineStr"`), which Excel never evaluates, so a
message beginning with `=` stays a message.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat
from typing import Any

from openpyxl.utils import get_column_letter
from openpyxl.xml.functions import tostring

from loader.models import RunReport, Status
from loader.workbook.result.content import (
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
    errors_height,
    errors_widths,
    excel_serial,
    quote_sheet,
    status_chart,
    summary_rows,
    summary_widths,
    tint_formula,
)
from loader.workbook.result.stream.ooxml import MAIN_NS, REL_NS, XML_DECL, attr_escape, t_element, text_escape

_MAIN = MAIN_NS.decode()
_XML_DECL = XML_DECL
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
        return f'<c r="{ref}"{s}{_inline(str(value))}'
    return f'<c r="{ref}"{s}><v>{value!r}</v></c>'


@functools.lru_cache(maxsize=8192)  # the Errors sheet's severities, codes, hints and many messages repeat
def _inline(text: str) -> str:
    """A text cell from after its style to its end: the type and the inline string."""
    return f' t="inlineStr"><is>{t_element(text)}</is></c>'


def _row(
    number: int, values: Iterable[Any], styles: Iterable[int] | int = 0, height: float | None = None
) -> str:
    """A row of cells from column A; `styles` one format for all, or one per cell."""
    styles = repeat(styles) if isinstance(styles, int) else styles
    cells = "".join(
        _cell(f"{get_column_letter(n)}{number}", v, s)
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
    `look` gives the cell format of each look (content.summary_rows)."""
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
    row = _ErrorsRow(formats, sized)
    for number, problem in enumerate(listed, start=2):
        note = notes[number - 1] if number - 1 < len(notes) else None
        batch.append(row(number, problem, note, number - 2 < MAX_LINKS))
        if len(batch) == _BATCH:
            yield "".join(batch).encode()
            batch = []
    yield "".join(batch).encode()
    yield f'</sheetData><autoFilter ref="A1:{get_column_letter(len(ERRORS_HEADER))}{last}"/>'.encode()
    if listed:
        yield b"<hyperlinks>"
        sheets: dict[str, str] = {}  # a sheet's name as the start of a link's location
        for start in range(0, min(len(listed), MAX_LINKS), _BATCH):
            links = []
            for n, p in enumerate(listed[start : start + _BATCH], start=start + 2):
                where = sheets.get(p.sheet)
                if where is None:
                    where = sheets[p.sheet] = attr_escape(quote_sheet(p.sheet) + "!")
                cell = p.cell  # a column's letters and a row's number, or "row 12": nothing to escape
                at = cell if p.col else f"A{p.row}"  # `Problem.target`'s cell
                links.append(f'<hyperlink ref="B{n}" location="{where}{at}" display="{cell}"/>')
            yield "".join(links).encode()
        yield b"</hyperlinks>"
    yield f"{_MARGINS}{page_setup()}</worksheet>".encode()


class _ErrorsRow:
    """One problem's row of the Errors sheet: the cells `_row` makes of its sheet, cell, severity, code,
    message, hint and note, made with the Errors sheet's fixed columns and formats in mind (a million
    rows): its texts' XML and its height looked up once for texts that repeat."""

    def __init__(self, formats: Formats, widths: tuple[float, ...]) -> None:
        self.formats, self.widths = formats, widths
        self.heights: dict[tuple[str, str], str] = {}  # (message, hint) -> the row's height attributes

    def __call__(self, number: int, problem: Problem, note: str | None, linked: bool) -> str:
        formats, n = self.formats, str(number)
        key = (problem.message, problem.hint)
        tall = self.heights.get(key)
        if tall is None:
            if len(self.heights) >= _HEIGHTS:
                self.heights.clear()
            height = errors_height(problem, self.widths)
            tall = self.heights[key] = f' ht="{height}" customHeight="1"' if height else ""
        return (
            f'<row r="{n}"{tall}>{_text("A", n, problem.sheet, 0)}'
            f"{_text('B', n, problem.cell, formats.link if linked else 0)}"
            f"{_text('C', n, problem.severity, formats.severity.get(problem.severity, 0))}"
            f"{_text('D', n, problem.code, 0)}{_text('E', n, problem.message, formats.wrapped)}"
            f"{_text('F', n, problem.hint, formats.wrapped)}"
            f"{_text('H', n, note, formats.bold) if note else ''}</row>"
        )


_HEIGHTS = 4096  # (message, hint) pairs whose row height is kept


def _text(letter: str, number: str, value: Any, style: int) -> str:
    """`_cell` of `letter` + `number`, a text taking the short way."""
    if type(value) is str and value:
        return (
            f'<c r="{letter}{number}" s="{style}"{_inline(value)}'
            if style
            else f'<c r="{letter}{number}"{_inline(value)}'
        )
    return _cell(f"{letter}{number}", value, style)


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
