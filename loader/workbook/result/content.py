"""What a result workbook says, whichever way it is written (DESIGN §5).

Both writers — the stream editor (`stream`) and the openpyxl fallback (`fallback`) — take their
words, colours and limits from here, so a result reads the same whichever path wrote it.

Row tints and invalid-cell fills are conditional formats rather than cell styles: the user's own
cell formats stay exactly as they were (fills included), a result loaded again gets its marks
replaced instead of stacked, and no cell of the data has to be restyled one by one.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter

from loader import __version__
from loader.codes import hint_for
from loader.models import Change, Issue, Outcome, OutcomeFields, RunReport, SheetReport, Status
from loader.redact import redact
from loader.workbook import RESULT_COLUMNS
from loader.workbook.reader import HEADER_ROW

# Light tints for whole rows, by status; a stronger fill for each invalid cell.
STATUS_TINTS = {
    Status.CREATED: "C6EFCE",
    Status.UPDATED: "C6EFCE",
    Status.UNCHANGED: "E2EFDA",
    Status.CANCELED: "DDEBF7",
    Status.VALID: "C6EFCE",
    Status.FAILED: "FFC7CE",
    Status.INVALID: "FFC7CE",
    Status.BLOCKED: "FFEB9C",
    Status.NOT_SENT: "EDEDED",
    Status.WOULD_CREATE: "C6EFCE",
    Status.WOULD_UPDATE: "C6EFCE",
    Status.WOULD_CANCEL: "DDEBF7",
}
INVALID_CELL_FILL = "FF9999"
# The invalid-cell rule is recognised by this formula when a result is loaded and written again.
INVALID_MARK_FORMULA = 'ISTEXT("pbload: invalid cell")'
_TINT_FORMULA = re.compile(r'^\$[A-Z]{1,3}\d+="(' + "|".join(re.escape(s.value) for s in Status) + ')"$')

# pbload's columns are sized to what they hold, between room for the header (and its filter button)
# and these caps: Status, PB ID, Error Code, Message, Transaction ID, Changes.
RESULT_WIDTHS = (12, 24, 24, 60, 30, 60)
FILTER_BUTTON = 3  # characters a header's filter drop-down covers
# pbload's header cells look like pbload's, not like the user's headers (pbload's templates use blues):
# white bold on charcoal.
RESULT_HEADER_FILL = "404040"
RESULT_HEADER_FONT = "FFFFFF"
NO_VALUE = "—"  # how a change shows a value that was (or will be) empty
# Statuses whose changes the result shows: an update done, or (for `pbload plan`) one that would be.
CHANGED_STATUSES = frozenset({Status.UPDATED, Status.WOULD_UPDATE})
ERRORS_HEADER = ("Sheet", "Cell", "Severity", "Code", "Message", "Hint")
ERRORS_WIDTHS = (30, 12, 12, 28, 80, 70)  # caps; each column is sized to what it holds
ERRORS_WRAPPED = frozenset({5, 6})  # Message and Hint wrap at their width
# The Errors sheet's Severity cell, by severity: (fill, font colour), the tints Excel uses for bad and neutral.
SEVERITY_COLOURS = {"error": ("FFC7CE", "9C0006"), "warning": ("FFEB9C", "9C5700")}
ERRORS_NOTE_WIDTH = 100  # the column that says a limit kept something out (only when one did)
SUMMARY_TITLE = "pbload result"
TOTAL_LABEL = "Total"  # the Summary's last row of counts (notify reads the table back and skips it)

# Limits. Excel keeps at most 65,530 links on a sheet; thousands of comments make a workbook slow
# to open; one conditional format is read with at most 8,192 ranges by older Excel.
MAX_COMMENTS = 10_000  # per data sheet
MAX_LINKS = 65_530
MAX_ERROR_ROWS = 1_048_575  # a sheet's rows, less the header
MAX_RANGES_PER_RULE = 8_000
MAX_CELL_TEXT = 32_767
COMMENT_AUTHOR = "pbload"  # the author of pbload's notes: a result loaded again has its old ones replaced

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@functools.lru_cache(maxsize=4096)  # statuses, codes and messages repeat from row to row
def _safe_text(text: str) -> str:
    text = redact(text)  # the one mask (loader/redact.py), also for the terminal and e-mail
    text = _CONTROL.sub("", text)
    if len(text) > MAX_CELL_TEXT:
        text = text[: MAX_CELL_TEXT - 1] + "…"
    return text


def outside_text(value: Any) -> str | None:
    """Text from outside (the API, the user's values echoed in messages) made safe to write.

    Credentials and tokens are masked, characters no workbook can hold are dropped, and text is cut
    to what a cell holds. Writers store the result as a string cell, never as a formula.
    """
    if value is None:
        return None
    return _safe_text(str(value))


def result_values(outcome: Outcome) -> tuple[str | None, ...]:
    """The values pbload writes on a row: Status, PB ID, Error Code, Message, Transaction ID, Changes."""
    return field_values(
        (
            outcome.status,
            outcome.pb_id,
            outcome.error_code,
            outcome.message,
            outcome.transaction_id,
            outcome.changes,
        )
    )


def field_values(fields: OutcomeFields) -> tuple[str | None, ...]:
    """`result_values` of an outcome's fields as a tuple in Outcome's order (`Outcomes.fields`)."""
    status, pb_id, error_code, message, transaction_id, changes = fields
    safe = _safe_text  # `outside_text` of each, inline: a million rows
    return (
        status.value,
        None if pb_id is None else safe(str(pb_id)),
        None if error_code is None else safe(str(error_code)),
        None if message is None else safe(str(message)),
        None if transaction_id is None else safe(str(transaction_id)),
        outside_text(changes_text(changes)) if changes else None,
    )


def result_columns(header_at: Callable[[int], Any], first: int, reuse: bool) -> tuple[str, ...]:
    """pbload's columns on a sheet whose first one is at `first` (1-based): all of them, except on a
    result written before Changes existed and loaded again with a column of the user's right after
    its five, which keeps its five so that the user's column stays where it is."""
    after = header_at(first + len(RESULT_COLUMNS) - 1)
    if reuse and after not in (None, "") and str(after).strip() != RESULT_COLUMNS[-1]:
        return RESULT_COLUMNS[:-1]
    return RESULT_COLUMNS


def changes_text(changes: Iterable[Change]) -> str | None:
    """`Weight: 0.4 → 0.45; Brand: — → Acme; Line 3 added`: PB's value, then the value sent."""
    return "; ".join(map(change_text, changes)) or None


def change_text(change: Change) -> str:
    """One change as the Changes column and the console say it."""
    if change.what == "added":
        return f"Line {shown(change.line)} added"
    if change.what == "removed":
        return f"Line {shown(change.line)} removed (no row lists it any more)"
    where = f"Line {shown(change.line)} " if change.line is not None else ""
    return f"{where}{change.column}: {shown(change.old)} → {shown(change.new)}"


def shown(value: Any) -> str:
    """A value of PB's record as a person reads it: an empty one as a dash, TRUE/FALSE, lists joined."""
    if value is None or value == "" or value == []:
        return NO_VALUE
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, list):
        return "; ".join(shown(v) for v in value)
    return str(value)


def change_notes(
    report: RunReport, positions: dict[str, dict[str, int]]
) -> dict[str, dict[tuple[int, int], str]]:
    """A comment with PB's old value for each changed cell, (row, 1-based column) -> text, by sheet."""
    notes: dict[str, dict[tuple[int, int], str]] = {}
    for sheet in report.sheets:
        columns = positions.get(sheet.sheet, {})
        for row, outcome in sheet.outcomes.by_row(CHANGED_STATUSES):
            for change in outcome.changes:
                col = columns.get(change.column)
                if change.row == row and change.what == "changed" and col is not None:
                    notes.setdefault(sheet.sheet, {})[(row, col + 1)] = f"PB had: {shown(change.old)}"
    return {sheet: dict(sorted(cells.items())) for sheet, cells in notes.items()}


def sheet_comments(
    invalid: dict[tuple[int, int], str],
    changed: dict[tuple[int, int], str],
    warned: dict[tuple[int, int], str] | None = None,
) -> dict[tuple[int, int], str]:
    """The comments of a data sheet: each invalid cell's message, each warned cell's warning (after the
    cell's errors), each changed cell's old value."""
    if not changed and not warned:
        return commented(invalid)
    merged = {**changed, **(warned or {})}
    for cell, text in invalid.items():
        merged[cell] = f"{text}\n{warned[cell]}" if warned and cell in warned else text
    return commented(dict(sorted(merged.items())))


def change_counts(report: RunReport) -> list[tuple[str, str, int]]:
    """(sheet, column, rows) for each column an update changed (or would change), most changed first."""
    counts: dict[tuple[str, str], int] = {}
    for sheet in report.sheets:
        for row, outcome in sheet.outcomes.by_row(CHANGED_STATUSES):
            for change in outcome.changes:
                if change.row == row:
                    column = "Lines" if change.what != "changed" else change.column
                    counts[(sheet.sheet, column)] = counts.get((sheet.sheet, column), 0) + 1
    return sorted(((s, c, n) for (s, c), n in counts.items()), key=lambda t: (-t[2], t[0], t[1]))


def tint_formula(status_letter: str, status: Status, first_row: int = HEADER_ROW + 1) -> str:
    """The rule that tints a row whose Status cell says `status`."""
    return f'${status_letter}{first_row}="{status.value}"'


def is_pbload_rule(formula: str) -> bool:
    """True for the conditional formats a result workbook carries (replaced when written again)."""
    formula = formula.strip()
    return formula == INVALID_MARK_FORMULA or bool(_TINT_FORMULA.match(formula))


def quote_sheet(name: str) -> str:
    """A sheet name as formulas and links write it: 'Products', 'O''Brien'."""
    return "'" + name.replace("'", "''") + "'"


@dataclass(frozen=True, slots=True)
class Problem:
    """One row of the Errors sheet. `col` is 1-based, None for a problem with a whole row."""

    sheet: str
    row: int
    col: int | None
    severity: str
    code: str
    message: str
    hint: str

    @property
    def cell(self) -> str:
        return f"{get_column_letter(self.col)}{self.row}" if self.col else f"row {self.row}"

    @property
    def target(self) -> str:
        """Where the link in the Errors sheet jumps: the cell, or the row's first cell."""
        return f"{quote_sheet(self.sheet)}!{get_column_letter(self.col or 1)}{self.row}"


def problems(report: RunReport, positions: dict[str, dict[str, int]]) -> list[Problem]:
    """Every problem of the run, sheet by sheet and row by row: the checks' issues, then what the
    API (or pbload's own planning) said about rows that no check had flagged."""
    order = {s.sheet: n for n, s in enumerate(report.sheets)}
    found = [_from_issue(i, positions.get(i.sheet, {})) for i in report.issues]
    flagged = {(i.sheet, i.row) for i in report.issues if i.is_error}
    for sheet in report.sheets:
        for row, outcome in sheet.outcomes.by_row((Status.FAILED, Status.BLOCKED, Status.INVALID)):
            if outcome.error_code and (sheet.sheet, row) not in flagged:
                from_api = outcome.status is Status.FAILED
                found.append(
                    Problem(
                        sheet.sheet,
                        row,
                        None,
                        "error",
                        outside_text(outcome.error_code) or "",
                        outside_text(outcome.message) or "",
                        hint_for(outcome.error_code, from_api),
                    )
                )
    found.sort(key=lambda p: (order.get(p.sheet, len(order)), p.row))
    return found


def _from_issue(issue: Issue, columns: dict[str, int]) -> Problem:
    col = columns.get(issue.column or "")
    return Problem(
        issue.sheet,
        issue.row,
        None if col is None else col + 1,
        issue.severity.value,
        issue.code,
        outside_text(issue.message) or "",
        hint_for(issue.code),
    )


def cell_notes(
    report: RunReport, positions: dict[str, dict[str, int]]
) -> dict[str, dict[tuple[int, int], str]]:
    """The invalid cells of each sheet, (row, 1-based column) -> message(s), in row order."""
    return _issue_notes(report, positions, errors=True)


WARNING_PREFIX = "Warning: "


def warning_notes(
    report: RunReport, positions: dict[str, dict[str, int]]
) -> dict[str, dict[tuple[int, int], str]]:
    """The cells of each sheet with a warning (sent all the same), cell -> `Warning: message`, in row order."""
    return _issue_notes(report, positions, errors=False)


def _issue_notes(
    report: RunReport, positions: dict[str, dict[str, int]], errors: bool
) -> dict[str, dict[tuple[int, int], str]]:
    notes: dict[str, dict[tuple[int, int], list[str]]] = {}
    prefix = "" if errors else WARNING_PREFIX
    for issue in report.issues:
        col = positions.get(issue.sheet, {}).get(issue.column or "")
        if col is None or issue.row <= HEADER_ROW or issue.is_error != errors:
            continue
        notes.setdefault(issue.sheet, {}).setdefault((issue.row, col + 1), []).append(
            prefix + (outside_text(issue.message) or "")
        )
    return {
        sheet: {cell: "\n".join(texts) for cell, texts in sorted(cells.items())}
        for sheet, cells in notes.items()
    }


def commented(cells: dict[tuple[int, int], str]) -> dict[tuple[int, int], str]:
    """The cells that get a comment: the first MAX_COMMENTS of a sheet, in row order."""
    if len(cells) <= MAX_COMMENTS:
        return cells
    return dict(list(cells.items())[:MAX_COMMENTS])


def cell_ranges(cells: Iterable[tuple[int, int]]) -> list[str]:
    """Cells (row, col) as few ranges as runs down each column allow: B3:B9 C4 ..."""
    by_col: dict[int, list[int]] = {}
    for row, col in cells:
        by_col.setdefault(col, []).append(row)
    ranges = []
    for col in sorted(by_col):
        letter = get_column_letter(col)
        rows = sorted(set(by_col[col]))
        start = prev = rows[0]
        for row in rows[1:] + [0]:
            if row != prev + 1:
                ranges.append(f"{letter}{start}" if start == prev else f"{letter}{start}:{letter}{prev}")
                start = row
            prev = row
    return ranges


def chunked(items: list[str], size: int) -> Iterator[list[str]]:
    for n in range(0, len(items), size):
        yield items[n : n + size]


def row_counts(sheet: SheetReport) -> dict[Status, int]:
    """Rows per status as the sheet shows them: a row without an outcome says NOT SENT."""
    counts = sheet.counts()
    unsettled = len(sheet.rows) - sheet.outcomes.among(sheet.rows)
    if unsettled:
        counts[Status.NOT_SENT] = counts.get(Status.NOT_SENT, 0) + unsettled
    return counts


def summary_statuses(report: RunReport) -> list[Status]:
    """The statuses the run ended with, in the catalogue's order (the Summary's columns)."""
    counts = [row_counts(sheet) for sheet in report.sheets]  # each walks every row: once per sheet
    return [s for s in Status if any(s in c for c in counts)]


def summary_table(report: RunReport) -> list[list[Any]]:
    """Header, one row per sheet (Sheet, Rows, then a count for each status) and, for more than one
    sheet, a Total row."""
    counts = [row_counts(sheet) for sheet in report.sheets]
    statuses = [s for s in Status if any(s in c for c in counts)]
    rows: list[list[Any]] = [["Sheet", "Rows", *[s.value for s in statuses]]]
    for sheet, sheet_counts in zip(report.sheets, counts, strict=False):
        rows.append([sheet.sheet, len(sheet.rows), *[sheet_counts.get(s, 0) for s in statuses]])
    if len(report.sheets) > 1:
        rows.append([TOTAL_LABEL, *[sum(r[n] for r in rows[1:]) for n in range(1, len(rows[0]))]])
    return rows


def run_record(report: RunReport) -> list[tuple[str, Any]]:
    """The run's audit record, label and value (times as datetimes, written as real date-times)."""
    ended = report.ended or report.started
    return [
        ("Run ID", report.run_id),
        ("Command", report.command),
        ("Input file", outside_text(Path(report.input_path).name)),
        ("Input SHA-256", report.input_sha256),
        ("Template", outside_text(report.template) or "(not a pbload template)"),
        ("Environment", report.environment),
        ("Started", report.started),
        ("Ended", ended),
        ("Duration (s)", round((ended - report.started).total_seconds(), 1)),
        ("pbload version", __version__),
    ]


def change_summary(report: RunReport) -> list[tuple[str, Any]]:
    """The Summary's count of changed fields per column ("Products: Weight", 412), most changed first."""
    counts = change_counts(report)
    if not counts:
        return []
    return [("Changed fields", "Rows"), *((f"{sheet}: {column}", n) for sheet, column, n in counts)]


def capped_notes(problem_count: int, notes: dict[str, dict[tuple[int, int], str]]) -> list[str]:
    """What the Errors sheet says when a limit kept something out of the workbook."""
    lines = []
    for sheet, cells in notes.items():
        if len(cells) > MAX_COMMENTS:
            lines.append(
                f"Sheet {sheet}: {len(cells):,} invalid cells; the first {MAX_COMMENTS:,} carry a comment "
                "with their message (more would make the workbook slow to open). Every problem is listed "
                "here and in the row's Message column."
            )
    if problem_count > MAX_LINKS:
        lines.append(f"The first {MAX_LINKS:,} problems link to their cell (Excel's limit for one sheet).")
    if problem_count > MAX_ERROR_ROWS:
        lines.append(
            f"{problem_count:,} problems: the first {MAX_ERROR_ROWS:,} are listed (a sheet's limit); "
            "every row's Message column has its own."
        )
    return lines


# Bars of the Summary chart, by status: stronger versions of the row tints.
CHART_COLOURS = {
    Status.CREATED: "70AD47",
    Status.UPDATED: "548235",
    Status.UNCHANGED: "A9D08E",
    Status.CANCELED: "5B9BD5",
    Status.VALID: "70AD47",
    Status.FAILED: "C00000",
    Status.INVALID: "FF5050",
    Status.BLOCKED: "FFC000",
    Status.NOT_SENT: "A5A5A5",
    Status.WOULD_CREATE: "70AD47",
    Status.WOULD_UPDATE: "548235",
    Status.WOULD_CANCEL: "5B9BD5",
}
SUMMARY_TABLE_ROW = 3  # the Summary's counts start on this row: header, then one row per sheet


def status_chart(report: RunReport, sheet: str = "Summary") -> Any:
    """A stacked bar per sheet, one colour per status, drawn from the Summary's counts; None if empty."""
    from openpyxl.chart import BarChart, Reference

    statuses = summary_statuses(report)
    if not statuses or not report.sheets:
        return None
    top, last = SUMMARY_TABLE_ROW, SUMMARY_TABLE_ROW + len(report.sheets)
    name = quote_sheet(sheet)
    chart = BarChart()
    chart.type = "bar"
    chart.grouping = "stacked"
    chart.overlap = 100
    chart.title = "Rows by status"
    chart.height, chart.width = 7.5, 17
    chart.add_data(
        Reference(range_string=f"{name}!$C${top}:${get_column_letter(2 + len(statuses))}${last}"),
        titles_from_data=True,
    )
    chart.set_categories(Reference(range_string=f"{name}!$A${top + 1}:$A${last}"))
    for series, status in zip(chart.series, statuses, strict=False):
        series.graphicalProperties.solidFill = CHART_COLOURS[status]
        series.graphicalProperties.line.solidFill = CHART_COLOURS[status]
    return chart


# --- how a result looks, whichever writer draws it --------------------------------------------


@dataclass(frozen=True, slots=True)
class CellLook:
    """A cell's format as both writers make it: openpyxl's Font/PatternFill/Alignment, or an entry of
    styles.xml (`stream.styles.StylesEditor.look`)."""

    bold: bool = False
    size: float | None = None
    color: str | None = None  # the font's, RRGGBB
    underline: bool = False
    fill: str | None = None  # a solid fill, RRGGBB
    wrap: bool = False  # wrapped at the column's width, aligned to the top
    number_format: str | None = None


BOLD = CellLook(bold=True)
LABEL = CellLook(bold=True, wrap=True)  # beside a value that may wrap: at the top, as the value
TITLE = CellLook(bold=True, size=14)
LINK = CellLook(underline=True, color="0563C1")
WRAPPED = CellLook(wrap=True)
RESULT_HEADER = CellLook(bold=True, color=RESULT_HEADER_FONT, fill=RESULT_HEADER_FILL)
SEVERITY_LOOKS = {
    severity: CellLook(color=font, fill=fill) for severity, (fill, font) in SEVERITY_COLOURS.items()
}
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"

# Print setup of every sheet pbload writes or annotates: landscape, as wide as the page (as many pages
# down as it takes), the header row on every page.
PRINT_ORIENTATION = "landscape"
FIT_TO_WIDTH, FIT_TO_HEIGHT = 1, 0  # 0: no limit on the pages down
SUMMARY_FIT_TO_HEIGHT = 1  # the Summary (counts, record, chart) on one page
PRINT_TITLE_ROWS = f"${HEADER_ROW}:${HEADER_ROW}"
# A data sheet scrolls under its header row and its first (key) column, unless the user froze it elsewhere.
FREEZE_ROWS, FREEZE_COLUMNS = HEADER_ROW, 1
FREEZE_CELL = f"{get_column_letter(FREEZE_COLUMNS + 1)}{FREEZE_ROWS + 1}"

SUMMARY_LABEL_WIDTH = (14, 30)  # the Summary's column A, least and most
SUMMARY_VALUE_WIDTH = (
    24  # column B: counts of rows, and the run record's values wrapped (a SHA-256 in three lines)
)
SUMMARY_COUNT_WIDTH = 12


def fitted(header: str, longest: int, cap: float) -> float:
    """A column's width: room for its header and filter button and for its longest value, at most `cap`."""
    return min(cap, max(len(header) + FILTER_BUTTON, longest + 1))


def _longest(texts: Iterable[Any]) -> int:
    return max((len(str(t)) for t in texts if t), default=0)


def result_widths(sheet: SheetReport, columns: tuple[str, ...]) -> tuple[float, ...]:
    """Widths of pbload's columns on `sheet`, each fitting its header and its values (up to its cap)."""
    outcomes = sheet.outcomes  # each field read as a column: no Outcome is made
    statuses = {status.value for status in outcomes.counts()}
    if len(outcomes) < len(sheet.rows):
        statuses.add(Status.NOT_SENT.value)
    longest = (
        _longest(statuses),
        outcomes.longest("pb_id"),
        outcomes.longest("error_code"),
        outcomes.longest("message"),
        outcomes.longest("transaction_id"),
        _longest(changes_text(changes) for changes in outcomes.column("changes") if changes),
    )
    return tuple(fitted(name, n, cap) for name, n, cap in zip(columns, longest, RESULT_WIDTHS, strict=False))


def errors_widths(found: list[Problem]) -> tuple[float, ...]:
    """The Errors sheet's widths, each column fitting what it holds (up to its cap)."""
    listed = found[:MAX_ERROR_ROWS]
    longest = (
        _longest({p.sheet for p in listed}),
        _longest({p.cell for p in listed}),
        _longest({p.severity for p in listed}),
        _longest({p.code for p in listed}),
        _longest(p.message for p in listed),
        _longest({p.hint for p in listed}),
    )
    return tuple(
        fitted(name, n, cap) for name, n, cap in zip(ERRORS_HEADER, longest, ERRORS_WIDTHS, strict=False)
    )


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """One row of the Summary: its number, values from column A and each cell's look."""

    number: int
    values: tuple[Any, ...]
    looks: tuple[CellLook | None, ...]
    height: float | None = None  # points, for a wrapped value of more than one line


LINE_HEIGHT = 15  # points, a line of the default font
PROSE_PER_UNIT = 1.2  # letters of prose per unit of column width (a unit is one digit's width)


def summary_rows(report: RunReport) -> list[SummaryRow]:
    """The Summary, row by row: the title; the counts (header, a row per sheet, the total), each
    status's cells tinted; the run record with real date-times and long values wrapped; the changes."""
    table = summary_table(report)
    statuses = [Status(v) for v in table[0][2:]]
    rows = [SummaryRow(1, (SUMMARY_TITLE,), (TITLE,))]
    head = tuple(
        BOLD if s is None else CellLook(bold=True, fill=STATUS_TINTS[s]) for s in [None, None, *statuses]
    )
    rows.append(SummaryRow(SUMMARY_TABLE_ROW, tuple(table[0]), head))
    for values in table[1:]:
        total = len(report.sheets) > 1 and values is table[-1]
        looks = [BOLD, BOLD if total else None]
        looks += [
            CellLook(bold=total, fill=STATUS_TINTS[s]) if n else (BOLD if total else None)
            for s, n in zip(statuses, values[2:], strict=False)
        ]
        rows.append(SummaryRow(rows[-1].number + 1, tuple(values), tuple(looks)))
    number = rows[-1].number + 1
    for label, value in run_record(report):
        number += 1
        if isinstance(value, datetime):
            rows.append(
                SummaryRow(
                    number, (label, _naive(value)), (LABEL, CellLook(number_format=_time_format(value)))
                )
            )
        else:
            rows.append(SummaryRow(number, (label, value), (LABEL, WRAPPED), _wrapped_height(value)))
    changes = change_summary(report)
    number += 1 if changes else 0
    for label, value in changes:
        number += 1
        rows.append(SummaryRow(number, (label, value), (BOLD, None)))
    return rows


def summary_widths(rows: list[SummaryRow]) -> tuple[float, ...]:
    """Column A fits its labels (within SUMMARY_LABEL_WIDTH), B is narrow and wraps, then the counts."""
    least, most = SUMMARY_LABEL_WIDTH
    label = min(most, max(least, _longest(r.values[0] for r in rows[1:]) + 2))
    counts = max(len(r.values) for r in rows) - 2
    return (label, SUMMARY_VALUE_WIDTH, *[SUMMARY_COUNT_WIDTH] * counts)


def lines_height(texts: Iterable[tuple[Any, float]], per_unit: float = 1.0) -> float | None:
    """The height of a row whose (text, column width) pairs wrap, when one takes more than one line
    (set, not left to the program that opens it: LibreOffice does not measure wrapped text on opening)."""
    lines = max(
        (-(-len(str(t)) // max(1, int(w * per_unit) - 2)) + str(t).count("\n") for t, w in texts if t),
        default=1,
    )
    return LINE_HEIGHT * lines if lines > 1 else None


def errors_height(problem: Problem, widths: tuple[float, ...]) -> float | None:
    """The height of a problem's row on the Errors sheet, its message and hint wrapped."""
    return lines_height(((problem.message, widths[4]), (problem.hint, widths[5])), PROSE_PER_UNIT)


def _wrapped_height(value: Any) -> float | None:
    """The height of a row whose value wraps in the Summary's column B, if it takes more than one line
    (set, not left to the program that opens it: not every one measures wrapped text)."""
    return lines_height(((value, SUMMARY_VALUE_WIDTH),))


def _naive(when: datetime) -> datetime:
    """The time as the clock showed it where the run was (a cell holds no time zone)."""
    return when.replace(tzinfo=None)


def _time_format(when: datetime) -> str:
    """yyyy-mm-dd hh:mm:ss, and the UTC offset the time was taken at (as text of the format)."""
    offset = when.strftime("%z")
    return f'{DATETIME_FORMAT} "{offset[:3]}:{offset[3:]}"' if offset else DATETIME_FORMAT


def excel_serial(when: datetime) -> float:
    """A (naive) datetime as the number Excel stores: days since 1899-12-30."""
    return (when - _EXCEL_EPOCH).total_seconds() / 86_400


_EXCEL_EPOCH = datetime(1899, 12, 30)
