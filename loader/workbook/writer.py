"""Write the result workbook: the input, kept as it is, with a status for every row (DESIGN §5).

The input file is never touched: the result is saved to a temporary file beside the target and
renamed into place, so a crash never leaves a half-written workbook.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from loader import __version__
from loader.models import Issue, Outcome, RunReport, SheetReport, Status
from loader.workbook import ERRORS_SHEET, RESULT_COLUMNS, SUMMARY_SHEET
from loader.workbook.reader import HEADER_ROW

_FORMULA_STARTS = ("=", "+", "-", "@")
_STATUS_FILLS = {
    Status.CREATED: "C6EFCE",
    Status.UPDATED: "C6EFCE",
    Status.UNCHANGED: "E2EFDA",
    Status.CANCELED: "DDEBF7",
    Status.VALID: "C6EFCE",
    Status.FAILED: "FFC7CE",
    Status.INVALID: "FFC7CE",
    Status.BLOCKED: "FFEB9C",
    Status.NOT_SENT: "EDEDED",
}
_INVALID_CELL_FILL = PatternFill("solid", fgColor="FF9999")
_HEADER_FONT = Font(bold=True)
_RESULT_WIDTHS = (12, 16, 22, 60, 26)


def result_path_for(input_path: Path) -> Path:
    """`orders.xlsx` -> `orders.result.xlsx`, beside the input."""
    return input_path.with_name(input_path.stem + ".result.xlsx")


def write_result(input_path: Path, output: Path, report: RunReport, positions: dict[str, dict[str, int]]) -> Path:
    """Write the result workbook for `report` to `output` (atomically) and return its path.

    `positions` maps each sheet to its columns: header text -> 0-based column, for pointing at
    the cells that have problems.
    """
    book = load_workbook(input_path)
    issues_by_sheet: dict[str, list[Issue]] = {}
    for issue in report.issues:
        issues_by_sheet.setdefault(issue.sheet, []).append(issue)
    for sheet in report.sheets:
        _annotate(book[sheet.sheet], sheet, issues_by_sheet.get(sheet.sheet, []), positions.get(sheet.sheet, {}))
    _summary(book, report)
    _errors(book, report.issues, positions)
    return save_atomically(book, output)


def save_atomically(book: Workbook, output: Path) -> Path:
    """Save to a temporary file in the target folder, then rename it into place."""
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{output.stem}.", suffix=".tmp", dir=output.parent)
    os.close(fd)
    try:
        book.save(tmp)
        os.replace(tmp, output)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return output


def set_text(cell: Any, value: Any) -> None:
    """Write a value; text that Excel would take for a formula is kept as text."""
    cell.value = value
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        cell.data_type = "s"


def _annotate(ws: Worksheet, sheet: SheetReport, issues: list[Issue], columns: dict[str, int]) -> None:
    first = _result_columns(ws)
    for row in sheet.rows:
        outcome = sheet.outcomes.get(row) or Outcome(Status.NOT_SENT)
        values = (outcome.status.value, outcome.pb_id, outcome.error_code, outcome.message, outcome.transaction_id)
        for offset, value in enumerate(values):
            set_text(ws.cell(row=row, column=first + offset), value)
        ws.cell(row=row, column=first).fill = PatternFill("solid", fgColor=_STATUS_FILLS[outcome.status])
    for issue in issues:
        col = columns.get(issue.column or "")
        if col is None or issue.row <= HEADER_ROW or not issue.is_error:
            continue
        cell = ws.cell(row=issue.row, column=col + 1)
        cell.fill = _INVALID_CELL_FILL
        text = issue.message if cell.comment is None else cell.comment.text + "\n" + issue.message
        cell.comment = Comment(text, "pbload")


def _result_columns(ws: Worksheet) -> int:
    """The first of pbload's columns: where they already are (a result loaded again), else after the data."""
    headers = [c.value for c in ws[HEADER_ROW]] if ws.max_row >= HEADER_ROW else []
    if RESULT_COLUMNS[0] in headers:
        first = headers.index(RESULT_COLUMNS[0]) + 1
    else:
        first = len(headers) + 1
        while first > 1 and headers[first - 2] in (None, ""):
            first -= 1
    for offset, (name, width) in enumerate(zip(RESULT_COLUMNS, _RESULT_WIDTHS)):
        cell = ws.cell(row=HEADER_ROW, column=first + offset, value=name)
        cell.font = _HEADER_FONT
        ws.column_dimensions[get_column_letter(first + offset)].width = width
    return first


def _summary(book: Workbook, report: RunReport) -> None:
    if SUMMARY_SHEET in book.sheetnames:
        del book[SUMMARY_SHEET]
    ws = book.create_sheet(SUMMARY_SHEET, 0)
    ws.append(["pbload result"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([])
    statuses = [s for s in Status if any(s in sheet.counts() for sheet in report.sheets)]
    ws.append(["Sheet", "Rows", *[s.value for s in statuses]])
    for cell in ws[ws.max_row]:
        cell.font = _HEADER_FONT
    for sheet in report.sheets:
        counts = sheet.counts()
        ws.append([sheet.sheet, len(sheet.rows), *[counts.get(s, 0) for s in statuses]])
    ws.append([])
    for label, value in _run_record(report):
        ws.append([label, value])
        ws.cell(ws.max_row, 1).font = _HEADER_FONT
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 66
    book.active = 0


def _run_record(report: RunReport) -> Iterable[tuple[str, Any]]:
    ended = report.ended or report.started
    return (
        ("Run ID", report.run_id),
        ("Command", report.command),
        ("Input file", Path(report.input_path).name),
        ("Input SHA-256", report.input_sha256),
        ("Template", report.template or "(not a pbload template)"),
        ("Environment", report.environment),
        ("Started", report.started.isoformat(timespec="seconds")),
        ("Ended", ended.isoformat(timespec="seconds")),
        ("Duration (s)", round((ended - report.started).total_seconds(), 1)),
        ("pbload version", __version__),
    )


def _errors(book: Workbook, issues: list[Issue], positions: dict[str, dict[str, int]]) -> None:
    if ERRORS_SHEET in book.sheetnames:
        del book[ERRORS_SHEET]
    if not issues:
        return
    ws = book.create_sheet(ERRORS_SHEET, 1)
    ws.append(["Sheet", "Cell", "Severity", "Code", "Message"])
    for cell in ws[1]:
        cell.font = _HEADER_FONT
    for issue in issues:
        col = positions.get(issue.sheet, {}).get(issue.column or "")
        ref = f"{get_column_letter(col + 1)}{issue.row}" if col is not None else f"row {issue.row}"
        ws.append([issue.sheet, ref, issue.severity.value, issue.code, None])
        set_text(ws.cell(ws.max_row, 5), issue.message)
    for letter, width in zip("ABCDE", (14, 10, 10, 24, 100)):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
