"""Write the result workbook: the input, kept as it is, with a status for every row (DESIGN §5).

Three ways, one result. The stream editor (`xlsx_stream`) copies the input's package and rewrites only
the data sheets' rows and a few small parts: it keeps everything byte for byte and writes 100,000
rows in a few seconds. Whatever it does not understand (a table over the data, a macro-enabled
workbook, drawings it cannot tell apart) it hands to the openpyxl path below, which loads the whole
workbook and is slower but just as faithful for what openpyxl keeps. An input neither can keep (an
OpenDocument or Excel 97-2003 file, a Strict Open XML workbook) gets a new .xlsx of its values instead. Both take their words, colours
and limits from `result_content`.

The input file is never touched: the result is saved to a temporary file beside the target and
renamed into place, so a crash never leaves a half-written workbook; the temporary file is removed on
every way out that runs code (`discard_temporaries` for a process that must exit at once).
`check_writable` tries the target's folder before a run, so a result that cannot be written is found
before anything is sent.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import stat
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.formatting.formatting import ConditionalFormattingList
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from loader.errors import PbloadError, ResultError, WorkbookError
from loader.models import Outcome, RunReport, SheetReport, Status
from loader.workbook import ERRORS_SHEET, RESULT_COLUMNS, SUMMARY_SHEET
from loader.workbook.ooxml import StrictWorkbook, protect_escapes
from loader.workbook.package import open_package
from loader.workbook.reader import HEADER_ROW, sheet_values
from loader.workbook.result_content import (
    BOLD,
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
from loader.workbook.xlsx_stream import COMMENT_AUTHOR, write_streamed

log = logging.getLogger(__name__)

STREAM = "stream"
OPENPYXL = "openpyxl"
REBUILT = "rebuilt"  # a new workbook of the input's values (see `rebuilt`)
_FORMULA_STARTS = ("=", "+", "-", "@")
# Temporary results not yet renamed into place, removed by `discard_temporaries` on a hard exit.
_temporaries: set[str] = set()
_temporaries_lock = threading.Lock()


@dataclass(frozen=True)
class Written:
    """A result workbook on disk, and which writer made it (with the reason when it was not the stream)."""

    path: Path
    method: str
    reason: str | None = None


def result_path_for(input_path: Path) -> Path:
    """`orders.xlsx` -> `orders.result.xlsx`, beside the input; a result loaded again gets the next number,
    never a longer name: `orders.result.xlsx` -> `orders.result-2.xlsx` -> `orders.result-3.xlsx`."""
    again = re.fullmatch(r"(.*\.result)(?:-(\d+))?", input_path.stem, re.IGNORECASE)
    if again:
        return input_path.with_name(f"{again.group(1)}-{int(again.group(2) or 1) + 1}.xlsx")
    return input_path.with_name(input_path.stem + ".result.xlsx")


def write_result(
    input_path: Path, output: Path, report: RunReport, positions: dict[str, dict[str, int]]
) -> Path:
    """Write the result workbook for `report` to `output` (atomically) and return its path.

    `positions` maps each sheet to its columns: header text -> 0-based column, for pointing at
    the cells that have problems.
    """
    return write_result_workbook(input_path, output, report, positions).path


def write_result_workbook(
    input_path: Path,
    output: Path,
    report: RunReport,
    positions: dict[str, dict[str, int]],
    method: str | None = None,
) -> Written:
    """Write the result workbook, by stream when possible; `method` forces one way (tests, benchmarks)."""
    reason = None
    package = open_package(input_path, verify=False)  # the run has read it: only its kind matters here
    if not package.annotatable:
        return _write_rebuilt(input_path, output, report, positions, f"the input is {package.label}")
    if method in (None, STREAM):
        try:
            with _atomic(output, like=input_path) as tmp:
                write_streamed(input_path, tmp, report, positions)
            return Written(output, STREAM)
        except StrictWorkbook:
            raise WorkbookError(
                f"{input_path.name} is saved as Strict Open XML, which pbload cannot annotate. Open it in Excel, "
                "save it as an Excel Workbook (.xlsx) and load that file (the rows already loaded stay loaded)."
            ) from None
        except (OSError, PbloadError):
            raise
        except Exception as exc:  # Unsupported, or a part the reader never needed is damaged
            if method == STREAM:
                raise
            reason = str(exc) or type(exc).__name__
            log.info("Writing %s with openpyxl: %s", output.name, reason)
    try:
        book = load_workbook(input_path)
        annotate(book, report, positions)
    except (OSError, PbloadError):
        raise
    except Exception as exc:  # openpyxl refuses parts that the cells did not need: keep the values and marks
        if method == OPENPYXL:
            raise
        log.warning(
            "%s has parts that cannot be kept (%s): its result %s is a new workbook with its values and "
            "pbload's marks; its formatting could not be kept.",
            input_path.name,
            exc,
            output.name,
        )
        return _write_rebuilt(input_path, output, report, positions, f"openpyxl could not read it: {exc}")
    with _atomic(output, like=input_path) as tmp:
        book.save(tmp)
    return Written(output, OPENPYXL, reason)


def _write_rebuilt(
    input_path: Path, output: Path, report: RunReport, positions: dict[str, dict[str, int]], reason: str
) -> Written:
    book = rebuilt(input_path)
    annotate(book, report, positions)
    with _atomic(output, like=input_path) as tmp:
        book.save(tmp)
    return Written(output, REBUILT, reason)


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


def save_atomically(book: Workbook, output: Path) -> Path:
    """Save to a temporary file in the target folder, then rename it into place."""
    with _atomic(output) as tmp:
        book.save(tmp)
    return output


def check_writable(output: Path) -> None:
    """Refuse, before a run, a result path that cannot be written (raise ResultError saying what to do).

    Tries what writing does: make the folder if it is missing, create a temporary file there and
    remove it. An existing result is replaced by a rename, which on Windows fails while Excel has
    the file open, so there it must also open for writing.
    """
    if output.is_dir():
        raise ResultError(
            f"The result path {output} is a folder. Give -o a file name, e.g. -o {output / 'result.xlsx'}."
        )
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{output.stem}.", suffix=".tmp", dir=output.parent)
        os.close(fd)
        os.unlink(tmp)
        if os.name == "nt" and output.exists():  # pragma: no cover - CI runs on Linux
            output.open("r+b").close()
    except OSError as exc:
        raise ResultError(
            f"Cannot write the result workbook {output}: {write_problem(exc, output)}. Fix that, "
            "or choose another place with -o; nothing was sent."
        ) from exc


def write_problem(exc: OSError, output: Path) -> str:
    """Why `output` could not be written, in plain words."""
    folder = output.parent
    if exc.errno == errno.ENOSPC:
        return f"the disk holding {folder} is full"
    if exc.errno == errno.EROFS:
        return f"{folder} is on a read-only disk"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (
            f"pbload may not write in {folder}, or the file is open in another program (close it in Excel) "
            f"({exc.strerror})"
        )
    if exc.errno == errno.EISDIR or output.is_dir():
        return "a folder has that name"
    if (
        exc.errno in (errno.ENOTDIR, errno.EEXIST)
        or any(p.exists() and not p.is_dir() for p in folder.parents)
        or (folder.exists() and not folder.is_dir())
    ):
        return f"{_first_file(folder)} is a file, not a folder"
    if exc.errno == errno.ENOENT and folder.is_dir():
        return f"pbload cannot create files in {folder}"
    if exc.errno == errno.ENOENT:
        return f"the folder {folder} is not there"
    return exc.strerror or str(exc)


def _first_file(folder: Path) -> Path:
    """The part of a folder path that is a file (or the folder itself)."""
    for part in [*reversed(folder.parents), folder]:
        if part.exists() and not part.is_dir():
            return part
    return folder


def discard_temporaries() -> None:
    """Remove the temporary files of results still being written: for a process about to exit at once."""
    with _temporaries_lock:
        for tmp in list(_temporaries):
            try:
                os.unlink(tmp)
            except OSError:
                pass
        _temporaries.clear()


@contextmanager
def _atomic(output: Path, like: Path | None = None) -> Iterator[Path]:
    """A temporary path beside `output`, renamed to it on success; with the permissions of `like`
    (the result is as private, or as shared, as the workbook it came from)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{output.stem}.", suffix=".tmp", dir=output.parent)
    os.close(fd)
    with _temporaries_lock:
        _temporaries.add(tmp)
    try:
        yield Path(tmp)
        if like is not None:
            os.chmod(tmp, stat.S_IMODE(like.stat().st_mode))
        os.replace(tmp, output)
    finally:
        with _temporaries_lock:
            _temporaries.discard(tmp)
        try:
            os.unlink(tmp)
        except OSError:
            pass  # renamed into place, or its folder is gone: either way no temporary file is left to remove


def set_text(cell: Any, value: Any) -> None:
    """Write a value; text that Excel would take for a formula is kept as text."""
    cell.value = value
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        cell.data_type = "s"


# --- the openpyxl path ---------------------------------------------------------------------------


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
    """Give `cell` the format `look` (result_content), the one the stream editor writes to styles.xml."""
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
