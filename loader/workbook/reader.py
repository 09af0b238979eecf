"""Read the data sheets of an input workbook into DataFrames indexed by Excel row number.

python-calamine reads cells with their types (text stays text, so `00123` keeps its zeros; dates
come back as dates) several times faster than openpyxl or pandas: this module is the only place
that knows which library reads workbooks. Values are returned raw; `loader.checks` types them.

What the cell reader hides is read from the file itself: what kind of file it is and whether it is
safe (`package`), and, for Office Open XML, each sheet's error values, uncalculated formulas and
hidden rows and columns (`sheet_scan`). Those are reported at their cells; every failure to read any
part of any file ends in a WorkbookError that says what to do.
"""

from __future__ import annotations

import difflib
import itertools
import posixpath
import re
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from python_calamine import CalamineSheet, CalamineWorkbook, SheetVisibleEnum

from loader.errors import WorkbookError
from loader.memory import give_back_large_blocks
from loader.models import Issue, Severity
from loader.resources import RESOURCES, Resource, normalize_header
from loader.workbook import META_SHEET, RESULT_COLUMNS
from loader.workbook.bands import bands_of, merged_ranges
from loader.workbook.package import ODS, XLS, XLSX, Package, damaged, open_package, protected
from loader.workbook.sheet_scan import SheetFacts, SheetTooLarge, scan_sheet

HEADER_ROW = 1
HEADER_SEARCH_ROWS = 20  # how far below row 1 a misplaced header row is looked for
BAND_ROWS = 10_000  # rows made into Python lists at a time
SHARED_TEXTS = 100_000  # a column's distinct texts kept to share equal ones across bands
SUFFIXES = {XLSX: (".xlsx", ".xlsm"), ODS: (".ods",), XLS: (".xls",)}
_IGNORED_HEADERS = frozenset(normalize_header(h) for h in RESULT_COLUMNS)
_SIMILAR = 0.75  # how close an unknown header must be to a known one to be taken as a typo


@dataclass
class SheetData:
    """One data sheet as read: raw cell values by field name, one row per Excel row."""

    resource: Resource
    sheet: str
    frame: pd.DataFrame
    columns: dict[str, int]  # field name -> the column's 0-based position in the sheet
    issues: list[Issue] = field(default_factory=list)
    # the columns whose every cell was read as a text or empty, so that the checks need not look at each
    texts: frozenset[str] = frozenset()


@dataclass
class WorkbookData:
    """The data sheets of one workbook, in the catalogue's loading order."""

    path: Path
    sheets: list[SheetData]
    template: dict[str, str]
    issues: list[Issue] = field(default_factory=list)  # about the workbook as a whole (sheets skipped)
    package: Package | None = None


def read_workbook(path: Path, resources: tuple[Resource, ...] = RESOURCES) -> WorkbookData:
    """Read every sheet of `path` that pbload knows; fail with a clear message if there is none."""
    give_back_large_blocks()  # the read frees many blocks of megabytes: let them leave the process
    package = open_package(path)
    book = _open(package)
    template = _guarded(package, None, lambda: _template_info(book))
    names = {normalize_header(n): n for n in book.sheet_names}
    present = [(names[normalize_header(r.sheet)], r) for r in resources if normalize_header(r.sheet) in names]
    issues = _hidden_sheets(package, book, present)
    sheets = []
    for sheet, resource in present:
        read = read_sheet(book, sheet, resource, _version(template, resource), package)
        if read is None:  # an unused sheet of the all-in-one template, emptied
            issues.append(
                Issue(
                    sheet,
                    HEADER_ROW,
                    None,
                    "empty-sheet",
                    f"Sheet '{sheet}' is empty; it was skipped.",
                    Severity.WARNING,
                )
            )
        else:
            sheets.append(read)
    if present and not sheets:
        raise WorkbookError(
            f"Every sheet of {path.name} that pbload loads is empty. Fill in at least one "
            "(see `pbload template`)."
        )
    if not sheets:
        wanted = ", ".join(r.sheet for r in resources)
        found = ", ".join(book.sheet_names)
        raise WorkbookError(
            f"{path.name} has no sheet pbload can load (looked for {wanted}; found {found}). "
            "Rename the sheet, or start from `pbload template`."
        )
    _check_template_versions(path, template, [s.resource for s in sheets])
    if not package.annotatable:
        issues.append(
            Issue(
                sheets[0].sheet,
                HEADER_ROW,
                None,
                "formatting-not-kept",
                f"{path.name} is {package.label}: its result is a new .xlsx workbook with its values and "
                "pbload's marks; its formatting could not be kept.",
                Severity.WARNING,
            )
        )
    return WorkbookData(path, sheets, template, issues, package)


def sheet_values(path: Path) -> list[tuple[str, bool, list[list[Any]]]]:
    """Every sheet of a workbook as (name, hidden, rows of values; "" for empty cells), in the workbook's order
    (for the result of a run that has read and checked the file already)."""
    package = open_package(path, verify=False)
    book = _open(package)
    hidden = {m.name for m in book.sheets_metadata if m.visible != SheetVisibleEnum.Visible}
    return [
        (
            name,
            name in hidden,
            _guarded(
                package, name, lambda name=name: book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            ),
        )
        for name in book.sheet_names
    ]


def _guarded(package: Package, sheet: str | None, read: Any) -> Any:
    """Run one read of the workbook; any failure of the library becomes a message naming the part."""
    try:
        return read()
    except WorkbookError:
        raise
    except SheetTooLarge:
        raise WorkbookError(
            damaged(package.path, "one of its rows is larger than any real row", _part_label(package, sheet))
        ) from None
    except MemoryError:
        raise WorkbookError(
            f"{package.path.name} is too large to read in this machine's memory. "
            "Split its rows over several workbooks."
        ) from None
    except Exception as exc:  # the libraries raise many unrelated types for damaged files
        text = str(exc) or type(exc).__name__
        if "password" in text.lower() or "encrypt" in text.lower():
            raise WorkbookError(protected(package.path)) from None
        raise WorkbookError(damaged(package.path, text.rstrip("."), _part_label(package, sheet))) from None


def _part_label(package: Package, sheet: str | None) -> str | None:
    if sheet is None:
        return None
    part = package.part_of(sheet)
    return f"{part}, sheet '{sheet}'" if part else f"sheet '{sheet}'"


def _hidden_sheets(
    package: Package, book: CalamineWorkbook, present: list[tuple[str, Resource]]
) -> list[Issue]:
    """A hidden sheet pbload would load: refused when a visible sheet looks like its edited copy, else a warning.

    Copying a sheet in Excel names the copy `Products (2)`; hiding the old one then leaves pbload
    loading the stale sheet while the user edits the other.
    """
    hidden = {m.name for m in book.sheets_metadata if m.visible != SheetVisibleEnum.Visible}
    loaded = {sheet for sheet, _ in present}
    issues = []
    for sheet, resource in present:
        if sheet not in hidden:
            continue
        kin = [
            n
            for n in book.sheet_names
            if n not in hidden
            and n not in loaded
            and n != META_SHEET
            and _same_kind(package, book, n, resource)
        ]
        if kin:
            raise WorkbookError(
                f"Sheet '{sheet}' is hidden, and pbload loads it by its name, not the visible sheet '{kin[0]}' that "
                f"looks like its copy. Delete the hidden sheet and rename '{kin[0]}' to '{resource.sheet}' (or "
                f"unhide '{sheet}' if it is the one to load), then load again."
            )
        issues.append(
            Issue(
                sheet,
                HEADER_ROW,
                None,
                "hidden-sheet",
                f"Sheet '{sheet}' is hidden; its rows are loaded all the same.",
                Severity.WARNING,
            )
        )
    return issues


def _same_kind(package: Package, book: CalamineWorkbook, name: str, resource: Resource) -> bool:
    """Whether a sheet holds the rows of `resource`: named like it (`Products (2)`) or headed like it."""
    if normalize_header(name).startswith(normalize_header(resource.sheet)):
        return True
    rows = _guarded(package, name, lambda: book.get_sheet_by_name(name).to_python(skip_empty_area=False)[:1])
    known = {normalize_header(f.header) for f in resource.fields}
    headers = {normalize_header(str(c)) for c in (rows[0] if rows else [])}
    return normalize_header(resource.key_field.header) in headers and len(headers & known) >= 3


def _version(template: dict[str, str], resource: Resource) -> int | None:
    """The template version a sheet was made from, if the workbook says."""
    version = template.get(resource.name)
    return int(version) if version and version.isdigit() else None


def _check_template_versions(path: Path, template: dict[str, str], resources: list[Resource]) -> None:
    """A sheet from a newer template may have columns this pbload would silently drop: refuse it."""
    for resource in resources:
        version = _version(template, resource)
        if version is not None and version > resource.template_version:
            raise WorkbookError(
                f"{path.name} was made from version {version} of the {resource.sheet} template, but this "
                f"pbload knows version {resource.template_version}. Upgrade pbload and try again."
            )


def _older_template(sheet: str, resource: Resource, version: int) -> WorkbookError:
    """One message for a sheet whose columns are an older template's: what changed, and what to do."""
    changes = " ".join(text for v, text in sorted(resource.template_changes.items()) if v > version)
    return WorkbookError(
        f"Sheet '{sheet}' comes from version {version} of the {resource.sheet} template; pbload now uses version "
        f"{resource.template_version}, which follows PB's documented fields. {changes} "
        f"Run `pbload template {resource.name}` for the new template, copy your rows into it and load again."
    )


def _open(package: Package) -> CalamineWorkbook:
    """Open the workbook with python-calamine, by its contents when its name says another kind."""
    path = package.path
    if path.suffix.lower() in SUFFIXES[package.kind]:
        return _guarded(package, None, lambda: CalamineWorkbook.from_path(str(path)))
    with path.open("rb") as f:
        return _guarded(package, None, lambda: CalamineWorkbook.from_filelike(f))


def _template_info(book: CalamineWorkbook) -> dict[str, str]:
    """The hidden sheet a pbload template carries: template name and version per sheet."""
    if META_SHEET not in book.sheet_names:
        return {}
    rows = book.get_sheet_by_name(META_SHEET).to_python()
    return {str(r[0]): _text(r[1]) for r in rows if len(r) >= 2 and r[0] != ""}


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_sheet(
    book: CalamineWorkbook,
    sheet: str,
    resource: Resource,
    version: int | None = None,
    package: Package | None = None,
) -> SheetData | None:
    """Read one sheet: map its headers to fields and collect its non-blank rows (None: no cells at all).

    `version` is the template version the workbook says the sheet was made from: a sheet of an older
    template whose columns no longer fit is refused with one message saying what changed.
    """
    package = package or Package(Path(book.path or "workbook.xlsx"), XLSX)
    # the scan of the sheet's XML runs beside calamine's parse, which releases the GIL: on two cores it is free
    with ThreadPoolExecutor(1, thread_name_prefix="pbload-scan") as scanner:
        scanned = scanner.submit(_facts, package, sheet)
        bands = _guarded(package, sheet, lambda: bands_of(package, sheet))
        if bands is None:
            # parses the sheet: do it once
            cells = _guarded(package, sheet, lambda: book.get_sheet_by_name(sheet))
            rows = _SheetRows(package, sheet, _cell_rows(cells))
        else:
            rows = _SheetRows(package, sheet, bands.rows())
        facts = scanned.result()
    if not any(any(v != "" for v in row) for row in rows.head[:HEADER_ROW]):
        _header_below(rows.head, resource, sheet)
        if any(row.count("") != len(row) for row in rows.rest()):
            raise WorkbookError(
                f"Sheet '{sheet}' has no headers on row 1, where pbload reads them. Put the "
                f"template's headers there (see `pbload template {resource.name}`) and load again."
            )
        return None
    older = version is not None and version < resource.template_version
    try:
        positions, issues = map_headers(rows.head[0] if rows.head else [], resource, sheet)
    except WorkbookError:
        if older:
            raise _older_template(sheet, resource, version) from None  # type: ignore[arg-type]
        _header_below(rows.head, resource, sheet)
        raise
    if older and any(i.code == "unknown-column" for i in issues):
        raise _older_template(sheet, resource, version)  # type: ignore[arg-type]
    frame, blank_issues, texts = _frame(rows, positions, sheet, facts.errors.keys() | facts.uncalculated)
    merged = _merged_issues(bands.merged if bands else merged_ranges(cells), sheet)
    issues += _fact_issues(facts, frame, positions, resource, sheet)
    return SheetData(resource, sheet, frame, positions, issues + blank_issues + merged, texts)


class _SheetRows:
    """A sheet's rows from A1 as lists of values ("" for an empty cell): its first rows (`head`, for finding
    the headers), then the rest in bands, so that the whole sheet is never held twice, once by the cell
    reader and once as Python lists."""

    def __init__(self, package: Package, sheet: str, rows: Iterator[list[Any]]) -> None:
        self._package, self._sheet, self._rows = package, sheet, rows
        self.head = self._take(HEADER_SEARCH_ROWS)

    def rest(self) -> Iterator[list[Any]]:
        """The rows after the header row, in order, each once."""
        yield from self.head[HEADER_ROW:]
        while band := self._take(BAND_ROWS):
            yield from band

    def _take(self, count: int) -> list[list[Any]]:
        return _guarded(self._package, self._sheet, lambda: list(itertools.islice(self._rows, count)))


def _cell_rows(cells: CalamineSheet) -> Iterator[list[Any]]:
    """A parsed sheet's rows from row 1, each from column A."""
    rows = iter(cells.iter_rows())
    # calamine's rows start at row 1 but at the first column with a cell: put the columns before it back
    left = [""] * (cells.start[1] if cells.start else 0)
    return (left + row for row in rows) if left else rows


def _header_below(rows: list[list[Any]], resource: Resource, sheet: str) -> None:
    """Raise one plain message when the template's headers sit below row 1 (under a title, say)."""
    for number, row in enumerate(rows[HEADER_ROW:HEADER_SEARCH_ROWS], start=HEADER_ROW + 1):
        headers = {normalize_header(str(c)) for c in row}
        if normalize_header(resource.key_field.header) not in headers:
            continue
        try:
            map_headers(row, resource, sheet)
        except WorkbookError:
            continue
        above = "row 1" if number == 2 else f"rows 1–{number - 1}"
        raise WorkbookError(
            f"Sheet '{sheet}' has its headers on row {number}, but pbload reads them from row 1. "
            f"Delete {above} above the headers (titles or notes) and load the workbook again."
        )


def _facts(package: Package, sheet: str) -> SheetFacts:
    """What the sheet's XML says beyond its values (Office Open XML only; other kinds say nothing more)."""
    part = package.part_of(sheet)
    if package.kind != XLSX or part is None:
        return SheetFacts()

    def scan() -> SheetFacts:
        with zipfile.ZipFile(package.path) as z:
            return scan_sheet(z, part, _tables_of(z, part))

    return _guarded(package, sheet, scan)


def _tables_of(book: zipfile.ZipFile, part: str) -> list[str]:
    """The table parts on a sheet (a table's own filter hides rows too)."""
    folder, name = part.rsplit("/", 1) if "/" in part else ("", part)
    rels = f"{folder}/_rels/{name}.rels"
    if rels not in book.NameToInfo:
        return []
    data = book.read(rels)
    return [
        posixpath.normpath(posixpath.join(folder, t.decode()))
        for t in re.findall(rb'Target="([^"]*tables/[^"]*)"', data)
    ]


def _fact_issues(
    facts: SheetFacts, frame: pd.DataFrame, positions: dict[str, int], resource: Resource, sheet: str
) -> list[Issue]:
    """Each thing the sheet's XML says, at its cell: errors first, then what is hidden."""
    by_name = {f.name: f.header for f in resource.fields}
    headers = {col: by_name[name] for name, col in positions.items()}
    rows = set(frame.index)
    issues = []
    for (row, col), error in sorted(facts.errors.items()):
        if col in headers and row in rows:
            issues.append(
                Issue(
                    sheet,
                    row,
                    headers[col],
                    "formula-error",
                    f"{headers[col]} holds the error {error} (a formula that fails), so it has no value "
                    "to send.",
                )
            )
    for row, col in sorted(facts.uncalculated):
        if col in headers and row in rows:
            issues.append(
                Issue(
                    sheet,
                    row,
                    headers[col],
                    "formula-not-calculated",
                    f"{headers[col]} holds a formula whose value was never calculated, so it has no value "
                    "to send.",
                )
            )
    for col in sorted(facts.hidden_columns & headers.keys()):
        issues.append(
            Issue(
                sheet,
                HEADER_ROW,
                headers[col],
                "hidden-column",
                f"Column '{headers[col]}' is hidden; its values are loaded all the same.",
                Severity.WARNING,
            )
        )
    code, why = (
        ("filtered-row", "hidden by the sheet's filter") if facts.filtered else ("hidden-row", "hidden")
    )
    for row in sorted(set(facts.hidden_rows) & rows):
        issues.append(
            Issue(sheet, row, None, code, f"Row {row} is {why}; it is loaded all the same.", Severity.WARNING)
        )
    return issues


def map_headers(cells: list[Any], resource: Resource, sheet: str) -> tuple[dict[str, int], list[Issue]]:
    """Match header cells to fields; raise WorkbookError for missing, duplicated or misspelt ones."""
    known = {normalize_header(f.header): f for f in resource.fields}
    positions: dict[str, int] = {}
    unknown: list[str] = []
    problems: list[str] = []
    for col, cell in enumerate(cells):
        text = str(cell).strip()
        norm = normalize_header(text)
        if not norm or norm in _IGNORED_HEADERS:
            continue
        f = known.get(norm)
        if f is None:
            unknown.append(text)
        elif f.name in positions:
            problems.append(f"Column '{text}' appears twice in sheet '{sheet}'; keep one of them.")
        else:
            positions[f.name] = col
    issues = []
    guessed: set[str] = set()
    for text in unknown:
        guess = _nearest(text, [f.header for f in resource.fields if f.name not in positions])
        if guess:
            guessed.add(guess)
            problems.append(
                f"Sheet '{sheet}' has a column '{text}' that pbload does not know. "
                f"Did you mean '{guess}'? Rename the header and try again."
            )
        else:
            issues.append(
                Issue(
                    sheet,
                    HEADER_ROW,
                    text,
                    "unknown-column",
                    f"Column '{text}' is not one of pbload's; it is kept but not sent.",
                    Severity.WARNING,
                )
            )
    for f in resource.fields:
        if f.required and f.name not in positions and f.header not in guessed:
            problems.append(
                f"Sheet '{sheet}' has no '{f.header}' column, which is required. "
                f"Add it (see `pbload template {resource.name}`) and try again."
            )
    if problems:
        raise WorkbookError("\n".join(problems))
    return positions, issues


def _nearest(text: str, candidates: list[str]) -> str | None:
    norm = {normalize_header(c): c for c in candidates}
    match = difflib.get_close_matches(normalize_header(text), list(norm), n=1, cutoff=_SIMILAR)
    return norm[match[0]] if match else None


def _frame(
    rows: _SheetRows, positions: dict[str, int], sheet: str, marked: Any = ()
) -> tuple[pd.DataFrame, list[Issue], frozenset[str]]:
    """Non-blank data rows as a frame of raw values (None for empty cells and empty texts), indexed by row
    number; and the columns that hold texts only (and empty cells).

    `marked` cells ((row, column) pairs) read as empty but are not: a row holding one is kept.
    """
    kept_rows = {row for row, col in marked if col in positions.values()}
    numbers: list[int] = []
    values: dict[str, list[Any]] = {name: [] for name in positions}
    # calamine makes a new str for every cell: equal texts of a column (a carrier, a city, a SKU) share
    # one object, which at a million rows is most of the sheet's memory. A column of many different texts
    # (order numbers) forgets them after SHARED_TEXTS: an order's lines, next to each other, still share
    # theirs, and the sheet's every text is not held a second time in the dict.
    # an empty text "shares" None: what an empty cell is once read
    shared: dict[str, dict[str, str | None]] = {name: {"": None} for name in positions}
    texts = set(positions)
    first = HEADER_ROW + 1
    rest = rows.rest()
    while band := list(itertools.islice(rest, BAND_ROWS)):
        # list.count runs in C: this keeps reading 100,000 rows close to calamine's own speed
        kept = [
            (n, row) for n, row in enumerate(band, start=first) if row.count("") != len(row) or n in kept_rows
        ]
        if len(kept) == len(band):  # no blank row in the band (most bands)
            numbers += range(first, first + len(band))
            kept_cells = band
        else:
            numbers += (n for n, _ in kept)
            kept_cells = [row for _, row in kept]
        first += len(band)
        # the band's columns, each a tuple (short rows filled with empty cells)
        by_column = list(itertools.zip_longest(*kept_cells, fillvalue=""))
        blank = ("",) * len(kept)
        for name, col in positions.items():
            seen = shared[name]
            cells = by_column[col] if col < len(by_column) else blank
            if _texts_only(cells):  # most columns: shared in one pass in C
                values[name] += map(seen.setdefault, cells, cells)
            else:  # not numbers: 1, 1.0 and True are equal keys, but not the same value
                texts.discard(name)
                values[name] += [seen.setdefault(v, v) if type(v) is str else v for v in cells]
            if len(seen) > SHARED_TEXTS:
                seen.clear()
                seen[""] = None
    index = pd.Index(numbers, name="row")
    columns = {}
    for name in positions:
        column = values.pop(name)
        # fromiter copies the pointers in one pass (np.array looks into each value for a nested sequence)
        columns[name] = np.fromiter(column, dtype=object, count=len(column))
    # dtype=object keeps each value as the workbook had it (pandas would infer types otherwise); not copied
    # into one block: each column stays the array made here
    frame = pd.DataFrame(columns, index=index, dtype=object, copy=False)
    return frame, _blank_row_issues(sheet, numbers), frozenset(texts)


def _texts_only(cells: tuple[Any, ...]) -> bool:
    """Whether every cell is a text: joining them, in C, fails at the first that is not (calamine's texts
    are plain `str`, never a subclass)."""
    try:
        "".join(cells)
    except TypeError:
        return False
    return True


def _blank_row_issues(sheet: str, numbers: list[int]) -> list[Issue]:
    """A warning for each run of blank rows between data rows (they are skipped)."""
    issues = []
    for before, after in zip(numbers, numbers[1:], strict=False):
        if after - before > 1:
            span = f"Row {before + 1}" if after - before == 2 else f"Rows {before + 1}–{after - 1}"
            verb = "is" if after - before == 2 else "are"
            issues.append(
                Issue(
                    sheet,
                    before + 1,
                    None,
                    "blank-rows",
                    f"{span} {verb} blank and skipped.",
                    Severity.WARNING,
                )
            )
    return issues


def _merged_issues(ranges: list[Any], sheet: str) -> list[Issue]:
    """Merged cells in the data area hold a value on their first row only: report each range."""
    issues = []
    for (r0, c0), (r1, c1) in ranges:
        if r1 + 1 <= HEADER_ROW:
            continue
        ref = f"{_col_letter(c0)}{r0 + 1}:{_col_letter(c1)}{r1 + 1}"
        issues.append(
            Issue(
                sheet,
                r0 + 1,
                None,
                "merged-cells",
                f"Cells {ref} are merged; unmerge them and fill in every row.",
            )
        )
    return issues


def _col_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
