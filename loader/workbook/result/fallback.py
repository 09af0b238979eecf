"""The openpyxl path: the whole workbook loaded, annotated and saved (DESIGN §5).

Slower than the stream editor and faithful for what openpyxl keeps; it writes what the stream editor
hands over (a table over the data, a macro-enabled workbook, drawings it cannot tell apart), and
`rebuilt` makes a new workbook of the values of an input neither can keep.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl.comments import Comment
from openpyxl.formatting.formatting import ConditionalFormattingList
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from loader.models import Outcome, RunReport, SheetReport, Status
from loader.workbook import ERRORS_SHEET, RESULT_COLUMNS, SUMMARY_SHEET
from loader.workbook.reader import HEADER_ROW, sheet_values
from loader.workbook.result.content import (
    BOLD,
    COMMENT_AUTHOR,
    ERRORS_HEADER,
    ERRORS_NOTE_WIDTH,
    FIT_TO_HEIGHT,
    FIT_TO_WIDTH,
    FREEZE_CELL,
    INVALID_CELL_FILL,
    INVALID_MARK_FORMULA,
    LINK,
    MAX_ERROR_ROWS,
    MAX_LINKS,
    MAX_RANGES_PER_RULE,
    PRINT_ORIENTATION,
    PRINT_TITLE_ROWS,
    RESULT_HEADER,
    SEVERITY_LOOKS,
    STATUS_TINTS,
    SUMMARY_FIT_TO_HEIGHT,
    SUMMARY_TABLE_ROW,
    WRAPPED,
    CellLook,
    capped_notes,
    cell_notes,
    cell_ranges,
    change_notes,
    chunked,
    errors_height,
    errors_widths,
    is_pbload_rule,
    problems,
    result_columns,
    result_values,
    result_widths,
    sheet_comments,
    status_chart,
    summary_rows,
    summary_statuses,
    summary_widths,
    tint_formula,
    warning_notes,
)
from loader.workbook.result.stream.ooxml import protect_escapes

_FORMULA_STARTS = ("=", "+", "-", "@")


def rebuilt(input_path: Path) -> Workbook:
    """A new workbook holding the values of every sheet of `input_path`, for inputs that cannot be kept as
    they are (OpenDocument, Excel 97-2003, Strict Open XML): values and sheet order are kept, formatting is not."""
    book = Workbook()
    book.remove(book.active)
    for name, hidden, rows in sheet_values(input_path):
        ws = book.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value != "":
                    _put(ws.cell(r, c), value)
        if hidden:
            ws.sheet_state = "hidden"
    return book


def set_text(cell: Any, value: Any) -> None:
    """Write a value; text that Excel would take for a formula is kept as text."""
    cell.value = value
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        cell.data_type = "s"


def _put(cell: Any, value: Any) -> None:
    """Text as Excel will show it: never a formula, a literal `_x0041_` not taken for an escape, CR kept."""
    if isinstance(value, str):
        value = protect_escapes(value).replace("\r", "_x000D_")  # a raw CR would be read back as a line feed
    set_text(cell, value)


def annotate(book: Workbook, report: RunReport, positions: dict[str, dict[str, int]]) -> None:
    """Add pbload's columns, marks, comments and sheets to a workbook loaded with openpyxl."""
    notes = cell_notes(report, positions)
    changed = change_notes(report, positions)
    warned = warning_notes(report, positions)
    statuses = summary_statuses(report)
    for sheet in report.sheets:
        _annotate(
            book[sheet.sheet],
            sheet,
            notes.get(sheet.sheet, {}),
            statuses,
            changed.get(sheet.sheet, {}),
            warned.get(sheet.sheet, {}),
        )
    _summary(book, report)
    _errors(book, report, positions, notes)


def _annotate(
    ws: Worksheet,
    sheet: SheetReport,
    notes: dict[tuple[int, int], str],
    statuses: list[Status],
    changed: dict[tuple[int, int], str],
    warned: dict[tuple[int, int], str],
) -> None:
    first, columns = _result_columns(ws, sheet)
    last_col = first + len(columns) - 1
    last_row = max([HEADER_ROW, *sheet.rows])
    _unmerge(ws, first, last_col, last_row)
    for row in sheet.rows:
        values = result_values(sheet.outcomes.get(row) or Outcome(Status.NOT_SENT))[: len(columns)]
        for offset, value in enumerate(values):
            _put(ws.cell(row=row, column=first + offset), value)
    for cell in [c for c in ws._cells.values() if c.comment is not None]:
        if cell.row > HEADER_ROW and cell.comment.author == COMMENT_AUTHOR:
            cell.comment = None
    for (row, col), text in sheet_comments(notes, changed, warned).items():
        cell = ws.cell(row=row, column=col)
        if cell.comment is None:
            cell.comment = Comment(protect_escapes(text), COMMENT_AUTHOR, width=288, height=90)
    _marks(ws, first, last_col, last_row, notes, statuses)
    _filter(ws, last_col, last_row)
    _print_area(ws, first, last_col)
    _print_setup(ws)
    if ws.freeze_panes in (None, f"A{HEADER_ROW + 1}"):  # unfrozen, or as pbload's template froze it
        ws.freeze_panes = FREEZE_CELL
    ws.sheet_view.tabSelected = False


def _print_setup(ws: Worksheet, titles: bool = True, pages_down: int = FIT_TO_HEIGHT) -> None:
    """Landscape, one page wide; the header row on every page unless the user chose rows to repeat."""
    ws.page_setup.orientation = PRINT_ORIENTATION
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = FIT_TO_WIDTH, pages_down
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if titles and not ws.print_title_rows:
        ws.print_title_rows = PRINT_TITLE_ROWS.replace("$", "")


_LOOKS: dict[CellLook, tuple[Font, PatternFill | None, Alignment | None]] = {}


def _look(cell: Any, look: CellLook | None) -> None:
    """Give `cell` the format `look` (result.content), the one the stream editor writes to styles.xml."""
    if look is None:
        return
    if look not in _LOOKS:
        font = Font(
            bold=look.bold,
            size=look.size,
            underline="single" if look.underline else None,
            color="FF" + look.color if look.color else None,
        )
        fill = PatternFill("solid", fgColor="FF" + look.fill) if look.fill else None
        _LOOKS[look] = (font, fill, Alignment(vertical="top", wrap_text=True) if look.wrap else None)
    font, fill, alignment = _LOOKS[look]
    cell.font = font
    if fill is not None:
        cell.fill = fill
    if alignment is not None:
        cell.alignment = alignment
    if look.number_format:
        cell.number_format = look.number_format


def _result_columns(ws: Worksheet, sheet: SheetReport) -> tuple[int, tuple[str, ...]]:
    """The first of pbload's columns — where they already are (a result loaded again), else after the
    data — and the columns to write there."""
    headers = [c.value for c in ws[HEADER_ROW]] if ws.max_row >= HEADER_ROW else []
    reuse = RESULT_COLUMNS[0] in headers
    if reuse:
        first = headers.index(RESULT_COLUMNS[0]) + 1
    else:  # after the last column with a header or any value: never over the user's cells
        first = 1 + max((c.column for c in ws._cells.values() if c.value not in (None, "")), default=0)
    columns = result_columns(lambda col: headers[col - 1] if col <= len(headers) else None, first, reuse)
    for offset, (name, width) in enumerate(zip(columns, result_widths(sheet, columns), strict=False)):
        cell = ws.cell(row=HEADER_ROW, column=first + offset, value=name)
        cell.style = "Normal"  # pbload's headers look like pbload's, whatever an earlier result's looked like
        _look(cell, RESULT_HEADER)
        ws.column_dimensions[get_column_letter(first + offset)].width = width
    return first, columns


def _filter(ws: Worksheet, last_col: int, last_row: int) -> None:
    """A filter over the header, the data and pbload's columns; one the user set elsewhere stays."""
    if not ws.auto_filter.ref:
        ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(last_col)}{last_row}"
        return
    bounds = CellRange(ws.auto_filter.ref)
    if bounds.min_row == HEADER_ROW:
        ws.auto_filter.ref = (
            f"{get_column_letter(bounds.min_col)}{HEADER_ROW}:"
            f"{get_column_letter(max(bounds.max_col, last_col))}{max(bounds.max_row, last_row)}"
        )


def _print_area(ws: Worksheet, first: int, last_col: int) -> None:
    """A print area that ended at the data's last column now ends at pbload's last one."""
    area = ws.print_area
    if not area or "," in area:
        return
    bounds = CellRange(area.split("!")[-1].replace("$", ""))
    if bounds.max_col == first - 1:
        bounds.expand(right=last_col - bounds.max_col)
        ws.print_area = bounds.coord


def _unmerge(ws: Worksheet, first: int, last_col: int, last_row: int) -> None:
    """Merged ranges over pbload's columns would hide its cells: they are unmerged."""
    for merged in list(ws.merged_cells.ranges):
        if merged.max_col >= first and merged.min_col <= last_col and merged.min_row <= last_row:
            ws.unmerge_cells(str(merged))


def _marks(
    ws: Worksheet,
    first: int,
    last_col: int,
    last_row: int,
    notes: dict[tuple[int, int], str],
    statuses: list[Status],
) -> None:
    """Conditional formats: invalid cells first, then the user's own, then a tint per status."""
    ours = list(chunked(cell_ranges(notes), MAX_RANGES_PER_RULE))
    kept = ConditionalFormattingList()
    priority = len(ours)
    for n, batch in enumerate(ours, start=1):
        fill = PatternFill(
            start_color="FF" + INVALID_CELL_FILL, end_color="FF" + INVALID_CELL_FILL, fill_type="solid"
        )
        rule = FormulaRule(formula=[INVALID_MARK_FORMULA], fill=fill, stopIfTrue=True)
        rule.priority = n
        kept.add(" ".join(batch), rule)
    for cf in ws.conditional_formatting:
        for rule in cf.rules:
            if rule.formula and any(is_pbload_rule(f) for f in rule.formula):
                continue
            rule.priority = (rule.priority or 0) + len(ours)
            priority = max(priority, rule.priority)
            kept.add(cf, rule)
    area = f"A{HEADER_ROW + 1}:{get_column_letter(last_col)}{max(last_row, HEADER_ROW + 1)}"
    for status in statuses:
        priority += 1
        tint = STATUS_TINTS[status]
        rule = FormulaRule(
            formula=[tint_formula(get_column_letter(first), status)],
            fill=PatternFill(start_color="FF" + tint, end_color="FF" + tint, fill_type="solid"),
        )
        rule.priority = priority
        kept.add(area, rule)
    ws.conditional_formatting = kept


def _summary(book: Workbook, report: RunReport) -> None:
    for name in [n for n in book.sheetnames if n.casefold() == SUMMARY_SHEET.casefold()]:
        del book[name]
    ws = book.create_sheet(SUMMARY_SHEET, 0)
    rows = summary_rows(report)
    for row in rows:
        if row.height:
            ws.row_dimensions[row.number].height = row.height
        for col, (value, look) in enumerate(zip(row.values, row.looks, strict=False), start=1):
            cell = ws.cell(row.number, col)
            if value is not None:
                _put(cell, value)
            _look(cell, look)
    chart = status_chart(report)
    if chart is not None:
        ws.add_chart(chart, f"A{rows[-1].number + 2}")
    for n, width in enumerate(summary_widths(rows), start=1):
        ws.column_dimensions[get_column_letter(n)].width = width
    _print_setup(ws, titles=False, pages_down=SUMMARY_FIT_TO_HEIGHT)
    assert ws.max_row >= SUMMARY_TABLE_ROW
    for sheet in book.worksheets:
        sheet.sheet_view.tabSelected = False
    ws.sheet_view.tabSelected = True
    book.active = 0


def _errors(
    book: Workbook,
    report: RunReport,
    positions: dict[str, dict[str, int]],
    notes: dict[str, dict[tuple[int, int], str]],
) -> None:
    for name in [n for n in book.sheetnames if n.casefold() == ERRORS_SHEET.casefold()]:
        del book[name]
    found = problems(report, positions)
    if not found:
        return
    ws = book.create_sheet(ERRORS_SHEET, 1)
    sized = errors_widths(found)
    ws.append(list(ERRORS_HEADER))
    for cell in ws[1]:
        _look(cell, BOLD)
    for n, problem in enumerate(found[:MAX_ERROR_ROWS]):
        ws.append([None] * len(ERRORS_HEADER))
        row = ws.max_row
        for col, value in enumerate(
            (problem.sheet, problem.cell, problem.severity, problem.code, problem.message, problem.hint),
            start=1,
        ):
            _put(ws.cell(row, col), value)
        _look(ws.cell(row, 3), SEVERITY_LOOKS.get(problem.severity))
        _look(ws.cell(row, 5), WRAPPED)
        _look(ws.cell(row, 6), WRAPPED)
        height = errors_height(problem, sized)
        if height:
            ws.row_dimensions[row].height = height
        if n < MAX_LINKS:
            cell = ws.cell(row, 2)
            cell.hyperlink = Hyperlink(ref=cell.coordinate, location=problem.target, display=problem.cell)
            _look(cell, LINK)
    lines = capped_notes(len(found), notes)
    for n, line in enumerate(lines, start=1):
        _look(ws.cell(n, len(ERRORS_HEADER) + 2, line), BOLD)
    widths = [*sized, *((4, ERRORS_NOTE_WIDTH) if lines else ())]
    for n, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(n)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(ERRORS_HEADER))}{ws.max_row}"
    _print_setup(ws)
