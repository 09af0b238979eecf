"""Write a result workbook by editing the input's package as a stream (DESIGN §5; notes/streaming-result-writer).

Every part of the input is copied unchanged except:

* each data sheet, rewritten row by row (`sheet_stream`): pbload's cells on each row under headers of
  its own look, column widths that fit them, the header row and key column frozen, the filter widened,
  conditional formats that tint rows by status and mark invalid cells, and a landscape page setup;
* `styles.xml`, with the few formats the result needs appended (`xlsx_styles`);
* `workbook.xml`, its relationships and `[Content_Types].xml`, for the new sheets and defined names
  (filters, print areas, the header row printed on every page);
* each data sheet's comments and their VML drawing, merged with pbload's notes on invalid cells, on
  cells with a warning and on changed cells.

The Summary (with its chart) and Errors sheets are new parts. `calcChain.xml` is dropped (Excel
rebuilds it), as are the Summary and Errors of an earlier result, and every member whose name could
reach outside the folder it is unpacked in (`/abs`, `..`, a backslash, a drive letter): the reader
refuses such workbooks first; the writer never copies one all the same, and one that a relationship
points at raises `Unsupported` (openpyxl names the parts it writes itself). Whatever this editor does
not understand raises `Unsupported` before the result is used, and the caller writes the workbook with
openpyxl instead; a Strict Open XML workbook raises `StrictWorkbook`.
"""

from __future__ import annotations

import html
import posixpath
import queue
import re
import threading
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from loader.models import RunReport, SheetReport, Status
from loader.workbook import ERRORS_SHEET, RESULT_COLUMNS, SUMMARY_SHEET
from loader.workbook.ooxml import (
    CT_CHART,
    CT_COMMENTS,
    CT_DRAWING,
    CT_VML,
    CT_WORKBOOK,
    CT_WORKSHEET,
    REL_CALC_CHAIN,
    REL_CHART,
    REL_COMMENTS,
    REL_DRAWING,
    REL_NS,
    REL_OFFICE_DOCUMENT,
    REL_PIVOT,
    REL_QUERY_TABLE,
    REL_SHARED_STRINGS,
    REL_STYLES,
    REL_TABLE,
    REL_VML,
    REL_WORKSHEET,
    WORKSHEET_ORDER,
    ContentTypes,
    Element,
    Rel,
    Unsupported,
    attr_escape,
    attrs,
    check_namespace,
    children,
    column_number,
    insert_child,
    new_rel_id,
    parse_rels,
    rels_name,
    render_rels,
    set_attr,
    split_range,
    text_escape,
    unused_name,
)
from loader.workbook.reader import HEADER_ROW
from loader.workbook.result_content import (
    BOLD,
    ERRORS_HEADER,
    INVALID_CELL_FILL,
    LINK,
    MAX_ERROR_ROWS,
    MAX_RANGES_PER_RULE,
    PRINT_TITLE_ROWS,
    RESULT_HEADER,
    SEVERITY_LOOKS,
    STATUS_TINTS,
    WRAPPED,
    capped_notes,
    cell_notes,
    cell_ranges,
    change_notes,
    chunked,
    column_letter,
    is_pbload_rule,
    problems,
    quote_sheet,
    result_columns,
    result_widths,
    sheet_comments,
    status_chart,
    summary_statuses,
    warning_notes,
)
from loader.workbook.result_parts import (
    ExistingComments,
    Formats,
    chart_part,
    comments_part,
    drawing_part,
    errors_sheet,
    invalid_marks,
    merged_vml,
    new_vml,
    page_setup,
    row_tints,
    status_rules,
    summary_sheet,
)
from loader.workbook.sheet_stream import (
    ColumnsTaken,
    Header,
    RowValues,
    SharedStrings,
    SheetEdit,
    SheetRewriter,
    last_value_column,
    read_header,
)
from loader.workbook.xlsx_styles import StylesEditor

COMMENT_AUTHOR = "pbload"
COMPRESS_LEVEL = 6
_SHEET_TYPES = (REL_WORKSHEET, REL_NS + "/chartsheet", REL_NS + "/dialogsheet")
_BLOCKING_RELS = {REL_TABLE: "a table", REL_PIVOT: "a pivot table", REL_QUERY_TABLE: "a query table"}
_WORKBOOK_ORDER = (
    "fileVersion",
    "fileSharing",
    "workbookPr",
    "workbookProtection",
    "bookViews",
    "sheets",
    "functionGroups",
    "externalReferences",
    "definedNames",
    "calcPr",
    "oleSize",
    "customWorkbookViews",
    "pivotCaches",
    "smartTagPr",
    "smartTagTypes",
    "webPublishing",
    "fileRecoveryPr",
    "webPublishObjects",
    "extLst",
)
_DRIVE = re.compile(r"[A-Za-z]:")
_TAB_SELECTED = re.compile(rb"(<(?:[\w.-]+:)?sheetView\b[^>]*?)\stabSelected\s*=\s*[\"'](?:1|true)[\"']")


@dataclass
class _DataSheet:
    name: str
    part: str
    rels: list[Rel]
    header: Header
    edit: SheetEdit
    notes: dict[tuple[int, int], str]
    filter_ref: str = ""
    drop_comments: bool = False
    legacy_rel: str | None = None  # r:id of a new <legacyDrawing>
    drop_legacy: bool = False


@dataclass
class _Plan:
    workbook: str
    content_types: ContentTypes
    workbook_rels: list[Rel]
    sheets: list[_DataSheet]
    replaced: dict[str, bytes] = field(default_factory=dict)  # part -> new bytes
    added: dict[str, bytes | Callable[[], Iterable[bytes]]] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    workbook_edit: Callable[[], bytes] | None = None
    sheet_parts: set[str] = field(default_factory=set)


def write_streamed(
    source: Path,
    target: Path,
    report: RunReport,
    positions: dict[str, dict[str, int]],
    level: int = COMPRESS_LEVEL,
) -> None:
    """Write the result workbook for `report` to `target` by editing `source`'s package."""
    with zipfile.ZipFile(source) as book:
        try:
            _write_once(book, target, report, positions, level, scan=False)
        except ColumnsTaken:  # rare: read the sheets through once to find their last used columns, then again
            _write_once(book, target, report, positions, level, scan=True)


def _write_once(
    book: zipfile.ZipFile,
    target: Path,
    report: RunReport,
    positions: dict[str, dict[str, int]],
    level: int,
    scan: bool,
) -> None:
    plan = _Planner(book, report, positions, scan).plan()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as out:
        _write(book, out, plan)


class _Planner:
    """Reads what it needs of the input (never a whole data sheet) and decides every change."""

    def __init__(
        self,
        book: zipfile.ZipFile,
        report: RunReport,
        positions: dict[str, dict[str, int]],
        scan: bool = False,
    ) -> None:
        self.book, self.report, self.positions, self.scan = book, report, positions, scan
        self.names = set(book.namelist())
        self.unsafe = {name for name in self.names if unsafe_name(name)}
        self.rels_cache: dict[str, list[Rel]] = {}
        self.notes: dict[str, dict[tuple[int, int], str]] = {}

    def read(self, part: str) -> bytes:
        try:
            return self.book.read(part)
        except KeyError:
            raise Unsupported(f"the package has no part {part}") from None

    def rels(self, part: str) -> list[Rel]:
        if part not in self.rels_cache:
            name = rels_name(part)
            self.rels_cache[part] = parse_rels(self.read(name), part) if name in self.names else []
        return self.rels_cache[part]

    def plan(self) -> _Plan:
        types = ContentTypes.parse(self.read("[Content_Types].xml"))
        self._refuse_links_to_unsafe()
        for name in [n for n in types.overrides if unsafe_name(n)]:
            del types.overrides[name]
        office = [r for r in self.rels("") if r.type == REL_OFFICE_DOCUMENT]
        if len(office) != 1:
            raise Unsupported("the package does not name one workbook")
        workbook = office[0].target
        kind = types.of(workbook)
        if kind != CT_WORKBOOK:
            raise Unsupported(
                "a macro-enabled workbook or template"
                if "macro" in kind or "template" in kind
                else f"a workbook of type {kind!r}"
            )
        wb_xml = self.read(workbook)
        wb_prefix = _root_prefix(wb_xml, "workbook")
        wb_rels = self.rels(workbook)
        by_id = {r.id: r for r in wb_rels}
        entries = _sheet_entries(wb_xml, wb_prefix)
        plan = _Plan(workbook, types, list(wb_rels), [], removed=set(self.unsafe))
        plan.sheet_parts = {r.target for r in wb_rels if r.type in _SHEET_TYPES}
        styles_rel = [r for r in wb_rels if r.type == REL_STYLES]
        if not styles_rel:
            raise Unsupported("the workbook has no styles part")
        styles = StylesEditor(self.read(styles_rel[0].target))
        shared = [r.target for r in wb_rels if r.type == REL_SHARED_STRINGS]
        strings = SharedStrings(self.book, shared[0] if shared else None)

        header = styles.look(RESULT_HEADER)
        formats = Formats(
            styles.look(BOLD),
            styles.look(LINK),
            styles.look(WRAPPED),
            {severity: styles.look(look) for severity, look in SEVERITY_LOOKS.items()},
        )
        statuses = summary_statuses(self.report)
        tints = {s: styles.fill(STATUS_TINTS[s]) for s in statuses}
        notes = self.notes = cell_notes(self.report, self.positions)
        changed = change_notes(self.report, self.positions)
        warned = warning_notes(self.report, self.positions)
        invalid_dxf = styles.fill(INVALID_CELL_FILL) if notes else 0

        names = {e["name"]: e for e in entries}
        for sheet in self.report.sheets:
            entry = names.get(sheet.sheet)
            rel = by_id.get(entry.get("rid", "")) if entry else None
            if rel is None or types.of(rel.target) != CT_WORKSHEET:
                raise Unsupported(f"sheet {sheet.sheet} is not an ordinary worksheet")
            plan.sheets.append(
                self._data_sheet(
                    sheet.sheet,
                    rel.target,
                    sheet,
                    strings,
                    header,
                    notes.get(sheet.sheet, {}),
                    statuses,
                    tints,
                    invalid_dxf,
                    plan,
                    changed.get(sheet.sheet, {}),
                    warned.get(sheet.sheet, {}),
                )
            )
        self._drop_old_sheets(plan, entries, by_id)
        self._new_sheets(plan, entries, wb_xml, wb_prefix, formats, styles)
        plan.replaced[styles_rel[0].target] = styles.render()  # after the Summary has asked for its formats
        return plan

    def _refuse_links_to_unsafe(self) -> None:
        """Dropping a part that a relationship points at would leave the result broken: not this way."""
        if not self.unsafe:
            return
        for name in sorted(self.names - self.unsafe):
            if name.endswith(".rels"):
                for rel in self.rels(_source_of_rels(name)):
                    if not rel.external and rel.target in self.unsafe:
                        raise Unsupported(f"{name} points at {rel.target!r}, a name not safe to copy")

    # --- data sheets ------------------------------------------------------------------------

    def _data_sheet(
        self,
        name: str,
        part: str,
        sheet: SheetReport,
        strings: SharedStrings,
        header_style: int,
        notes: dict[tuple[int, int], str],
        statuses: list[Status],
        tints: dict[Status, int],
        invalid_dxf: int,
        plan: _Plan,
        changed: dict[tuple[int, int], str],
        warned: dict[tuple[int, int], str],
    ) -> _DataSheet:
        rels = list(self.rels(part))
        for rel in rels:
            if rel.type in _BLOCKING_RELS:
                raise Unsupported(f"{_BLOCKING_RELS[rel.type]} on sheet {name}")
        header = read_header(self.book, part, strings)
        first = _first_result_column(header)
        reuse = header.values.get(first, "").strip() == RESULT_COLUMNS[0]
        if (
            self.scan and not reuse
        ):  # values beyond the headers: pbload's columns go after them, not over them
            first = max(first, last_value_column(self.book, part, header.prefix) + 1)
        values = RowValues(sheet.rows, sheet.outcomes)
        last_row = max([HEADER_ROW, *sheet.rows])
        columns = result_columns(header.values.get, first, reuse)
        data = _DataSheet(
            name,
            part,
            rels,
            header,
            SheetEdit(
                first,
                values,
                columns,
                header_style,
                result_widths(sheet, columns),
                last_row,
                lambda t, p: t,
                reuse,
            ),
            sheet_comments(notes, changed, warned),
        )
        self._comments(data, plan)
        ranges = list(chunked(cell_ranges(notes), MAX_RANGES_PER_RULE))
        width = len(data.edit.header_names)
        area = f"A{HEADER_ROW + 1}:{column_letter(first + width - 1)}{max(last_row, HEADER_ROW + 1)}"
        rules = status_rules(column_letter(first), tints, statuses)
        data.edit.tail_edit = lambda tail, p: _edit_tail(tail, p, data, ranges, invalid_dxf, area, rules)
        return data

    def _comments(self, data: _DataSheet, plan: _Plan) -> None:
        """Merge pbload's notes into the sheet's comments (or give it comments)."""
        comments = [r for r in data.rels if r.type == REL_COMMENTS]
        vmls = [r for r in data.rels if r.type == REL_VML]
        if not comments and not data.notes:
            return
        if len(comments) > 1 or len(vmls) != len(comments):
            raise Unsupported(f"sheet {data.name} has drawings pbload cannot tell comments from")
        if not comments:
            part = unused_name(self.names, "xl/comments/comment{}.xml")
            vml = unused_name(self.names, "xl/drawings/vmlDrawing{}.vml")
            data.rels.append(Rel(new_rel_id(data.rels), REL_COMMENTS, part))
            data.legacy_rel = new_rel_id(data.rels)
            data.rels.append(Rel(data.legacy_rel, REL_VML, vml))
            plan.added[part] = comments_part(data.header.prefix.decode(), None, data.notes, COMMENT_AUTHOR)
            plan.added[vml] = new_vml(data.notes)
            plan.content_types.overrides[part] = CT_COMMENTS
            plan.content_types.defaults.setdefault("vml", CT_VML)
            return
        existing = ExistingComments.parse(self.read(comments[0].target), COMMENT_AUTHOR, HEADER_ROW)
        ours = {cell: text for cell, text in data.notes.items() if cell not in existing.kept}
        if not ours and not existing.dropped:
            return
        vml, shapes = merged_vml(self.read(vmls[0].target), existing.dropped, ours)
        if existing.kept or ours:
            cp = _prefix_of_part(self.read(comments[0].target), "comments")
            plan.replaced[comments[0].target] = comments_part(cp, existing, ours, COMMENT_AUTHOR)
        else:
            plan.removed.add(comments[0].target)
            plan.content_types.overrides.pop(comments[0].target, None)
            data.rels.remove(comments[0])
        if shapes:
            plan.replaced[vmls[0].target] = vml
        else:
            plan.removed.add(vmls[0].target)
            data.rels.remove(vmls[0])
            data.drop_legacy = True

    # --- sheets pbload writes itself ---------------------------------------------------------

    def _drop_old_sheets(self, plan: _Plan, entries: list[dict[str, str]], by_id: dict[str, Rel]) -> None:
        """An earlier result's Summary and Errors (and calcChain, which Excel rebuilds) go."""
        ours = {SUMMARY_SHEET.casefold(), ERRORS_SHEET.casefold()}
        data_names = {s.name for s in plan.sheets}
        for entry in entries:
            if entry["name"].casefold() in ours and entry["name"] not in data_names:
                entry["removed"] = "1"
                rel = by_id.get(entry.get("rid", ""))
                if rel:
                    plan.workbook_rels.remove(rel)
                    self._remove_part(plan, rel.target)
        for rel in [r for r in plan.workbook_rels if r.type == REL_CALC_CHAIN]:
            plan.workbook_rels.remove(rel)
            self._remove_part(plan, rel.target)

    def _remove_part(self, plan: _Plan, part: str) -> None:
        """Remove `part` and the parts only it refers to."""
        if part in plan.removed or part not in self.names:
            return
        plan.removed.add(part)
        plan.content_types.overrides.pop(part, None)
        if rels_name(part) in self.names:
            plan.removed.add(rels_name(part))
        for rel in self.rels(part):
            if not rel.external and self._referrers(rel.target) <= plan.removed:
                self._remove_part(plan, rel.target)

    def _referrers(self, part: str) -> set[str]:
        found = set()
        for name in self.names:
            if name.endswith(".rels"):
                source = _source_of_rels(name)
                if any(r.target == part for r in self.rels(source)):
                    found.add(source)
        return found

    def _new_sheets(
        self,
        plan: _Plan,
        entries: list[dict[str, str]],
        wb_xml: bytes,
        wb_prefix: bytes,
        formats: Formats,
        styles: StylesEditor,
    ) -> None:
        report = self.report
        found = problems(report, self.positions)
        notes = self.notes
        new: list[dict[str, str]] = []
        summary = unused_name(self.names, "xl/worksheets/sheet{}.xml")
        rid = new_rel_id(plan.workbook_rels)
        plan.workbook_rels.append(Rel(rid, REL_WORKSHEET, summary))
        new.append({"name": SUMMARY_SHEET, "rid": rid})
        plan.content_types.overrides[summary] = CT_WORKSHEET
        chart = status_chart(report)
        xml, chart_row = summary_sheet(report, styles.look, "rId1" if chart is not None else None)
        if chart is not None:
            drawing = unused_name(self.names, "xl/drawings/drawing{}.xml")
            chart_name = unused_name(self.names, "xl/charts/chart{}.xml")
            plan.added[rels_name(summary)] = render_rels([Rel("rId1", REL_DRAWING, drawing)])
            plan.added[drawing] = drawing_part("rId1", chart_row)
            plan.added[rels_name(drawing)] = render_rels([Rel("rId1", REL_CHART, chart_name)])
            plan.added[chart_name] = chart_part(report)
            plan.content_types.overrides[drawing] = CT_DRAWING
            plan.content_types.overrides[chart_name] = CT_CHART
        plan.added[summary] = xml
        if found:
            errors = unused_name(self.names, "xl/worksheets/sheet{}.xml")
            rid = new_rel_id(plan.workbook_rels)
            plan.workbook_rels.append(Rel(rid, REL_WORKSHEET, errors))
            last = min(len(found), MAX_ERROR_ROWS) + 1
            new.append(
                {"name": ERRORS_SHEET, "rid": rid, "filter": f"A1:{column_letter(len(ERRORS_HEADER))}{last}"}
            )
            plan.content_types.overrides[errors] = CT_WORKSHEET
            lines = capped_notes(len(found), notes)
            plan.added[errors] = lambda: errors_sheet(found, formats, lines)
        plan.workbook_edit = lambda: _edit_workbook(wb_xml, wb_prefix, entries, new, plan)


# --- editing parts -----------------------------------------------------------------------------


def _first_result_column(header: Header) -> int:
    """Where pbload's columns go: where they already are (a result loaded again), else after the headers."""
    for col, text in sorted(header.values.items()):
        if text.strip() == RESULT_COLUMNS[0]:
            return col
    return max(header.values, default=0) + 1


class _Tail:
    """The part of a data sheet after its rows (`</sheetData>` to the end), edited element by element."""

    def __init__(self, data: bytes, p: bytes) -> None:
        self.data, self.p = data, p
        self.start = len(b"</" + p + b"sheetData>")

    def elements(self, name: str) -> list[Element]:
        return [k for k in children(self.data, self.start, self.data.rfind(b"</")) if k.name == name]

    def replace(self, element: Element, new: bytes) -> None:
        self.data = self.data[: element.start] + new + self.data[element.end :]

    def insert(self, name: str, new: bytes) -> None:
        if new:
            self.data = insert_child(
                self.data, (self.start, self.data.rfind(b"</")), new, name, WORKSHEET_ORDER
            )

    def text(self, element: Element) -> bytes:
        return self.data[element.start : element.end]


def _edit_tail(
    tail: bytes,
    p: bytes,
    data: _DataSheet,
    ranges: list[list[str]],
    invalid_dxf: int,
    area: str,
    rules: list[tuple[str, int]],
) -> bytes:
    """After the rows: merged cells clear of pbload's columns, its conditional formats (invalid cells
    first, the user's next, tints last), the filter widened, the comments' drawing."""
    t = _Tail(tail, p)
    edit = data.edit
    last_col = edit.first + len(edit.header_names) - 1
    for k in reversed(t.elements("mergeCells")):
        t.replace(k, _merges_clear(t.text(k), p, edit.first, last_col, edit.last_row))
    for k in reversed(t.elements("conditionalFormatting")):
        t.replace(k, _without_our_rules(t.text(k), p))
    top = _shift_priorities(t, len(ranges))
    data.filter_ref = _widen_filter(t, edit.last_row, last_col)
    pd = p.decode()
    t.insert(
        "conditionalFormatting",
        invalid_marks(pd, ranges, invalid_dxf, 1) + row_tints(pd, area, rules, top + 1),
    )
    if data.legacy_rel:
        if t.elements("legacyDrawing"):
            raise Unsupported(f"sheet {data.name} has a drawing pbload cannot tell comments from")
        t.insert(
            "legacyDrawing", f'<{pd}legacyDrawing xmlns:r="{REL_NS}" r:id="{data.legacy_rel}"/>'.encode()
        )
    if data.drop_legacy:
        for k in reversed(t.elements("legacyDrawing")):
            t.replace(k, b"")
    _landscape(t)
    return t.data


def _landscape(t: _Tail) -> None:
    """The sheet's page setup made landscape and one page wide; its paper, margins and printer kept."""
    found = t.elements("pageSetup")
    if not found:
        t.insert("pageSetup", page_setup(t.p.decode()).encode())
        return
    tag = t.text(found[0])
    for name, value in attrs(page_setup().encode()).items():
        tag = set_attr(tag, name, value)
    t.replace(found[0], tag)


_PRIORITY = re.compile(rb"(<(?:[\w.-]+:)?cfRule\b[^>]*?\spriority\s*=\s*[\"'])(\d+)")


def _shift_priorities(t: _Tail, shift: int) -> int:
    """Make room for `shift` rules of pbload's at the top; return the lowest priority now used."""
    if shift:
        t.data = _PRIORITY.sub(lambda m: m.group(1) + str(int(m.group(2)) + shift).encode(), t.data)
    return max([int(m.group(2)) for m in _PRIORITY.finditer(t.data)], default=shift)


def _widen_filter(t: _Tail, last_row: int, last_col: int) -> str:
    """The filter over the header row reaches pbload's last column and the last row; returns its range."""
    filters = t.elements("autoFilter")
    if not filters:
        ref = f"A{HEADER_ROW}:{column_letter(last_col)}{last_row}"
        t.insert("autoFilter", f'<{t.p.decode()}autoFilter ref="{ref}"/>'.encode())
        return ref
    element = t.text(filters[0])
    tag_end = element.index(b">") + 1
    ref = attrs(element[:tag_end]).get("ref", "")
    r0, c0, r1, c1 = split_range(ref)
    if r0 != HEADER_ROW:
        return ref  # a filter the user set elsewhere stays theirs
    ref = f"{column_letter(c0)}{r0}:{column_letter(max(c1, last_col))}{max(r1, last_row)}"
    t.replace(filters[0], set_attr(element[:tag_end], "ref", ref) + element[tag_end:])
    return ref


def _merges_clear(element: bytes, p: bytes, first: int, last: int, last_row: int) -> bytes:
    """Merged ranges that would cover pbload's cells are unmerged; the others stay."""
    kept = []
    for m in re.finditer(rb"<" + re.escape(p) + rb"mergeCell\b[^>]*?/>", element):
        r0, c0, r1, c1 = split_range(attrs(m.group(0)).get("ref", ""))
        if c1 >= first and c0 <= last and r0 <= last_row and r1 >= HEADER_ROW:
            continue
        kept.append(m.group(0))
    if not kept:
        return b""
    tag = element[: element.index(b">") + 1]
    return set_attr(tag, "count", str(len(kept))) + b"".join(kept) + b"</" + p + b"mergeCells>"


def _without_our_rules(element: bytes, p: bytes) -> bytes:
    """A conditional format without the rules an earlier result added; empty if none is left."""
    q = re.escape(p)
    rule = re.compile(
        rb"<" + q + rb"cfRule\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*?(?:/>|>.*?</" + q + rb"cfRule>)", re.S
    )
    formula = re.compile(rb"<" + q + rb"formula>(.*?)</" + q + rb"formula>", re.S)
    kept = 0

    def keep(m: re.Match[bytes]) -> bytes:
        nonlocal kept
        f = formula.search(m.group(0))
        if f and is_pbload_rule(html.unescape(f.group(1).decode())):
            return b""
        kept += 1
        return m.group(0)

    new = rule.sub(keep, element)
    return new if kept else b""


def _sheet_entries(wb_xml: bytes, p: bytes) -> list[dict[str, str]]:
    entries = []
    for m in re.finditer(rb"<" + re.escape(p) + rb"sheet\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)/?>", wb_xml):
        a = attrs(m.group(1))
        rid = next((v for k, v in a.items() if k.endswith(":id")), "")
        entries.append(
            {
                "name": a.get("name", ""),
                "rid": rid,
                "sheetId": a.get("sheetId", "0"),
                "tag": m.group(0).decode(),
            }
        )
    return entries


def _edit_workbook(
    wb_xml: bytes, p: bytes, entries: list[dict[str, str]], new: list[dict[str, str]], plan: _Plan
) -> bytes:
    """New sheets first, defined names re-pointed at the sheets' new places, the Summary the active tab."""
    pd = p.decode()
    kept = [e for e in entries if not e.get("removed")]
    old_index = {id(e): n for n, e in enumerate(entries)}
    new_index = {old_index[id(e)]: n + len(new) for n, e in enumerate(kept)}
    next_id = max([int(e["sheetId"]) for e in entries if e["sheetId"].isdigit()] or [0]) + 1
    r_prefix = _rel_prefix(wb_xml)
    tags = []
    for n, e in enumerate(new):
        ns = "" if r_prefix else f' xmlns:r="{REL_NS}"'
        tags.append(
            f'<{pd}sheet{ns} name="{attr_escape(e["name"])}" sheetId="{next_id + n}" '
            f'{r_prefix or "r"}:id="{e["rid"]}"/>'
        )
    sheets_xml = (
        f"<{pd}sheets>".encode()
        + "".join(tags).encode()
        + "".join(e["tag"] for e in kept).encode()
        + f"</{pd}sheets>".encode()
    )
    root = re.search(rb"<" + re.escape(p) + rb"workbook\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", wb_xml)
    assert root is not None
    kids = {k.name: k for k in children(wb_xml, root.end(), wb_xml.rfind(b"</"))}
    names_xml = _defined_names(
        wb_xml[kids["definedNames"].start : kids["definedNames"].end] if "definedNames" in kids else b"",
        p,
        new_index,
        plan,
        {e["name"]: old_index[id(e)] for e in kept},
        {n: (e["name"], e["filter"]) for n, e in enumerate(new) if "filter" in e},
    )
    edits = [(kids["sheets"], sheets_xml)]
    if "definedNames" in kids:
        edits.append((kids["definedNames"], names_xml))
    if "bookViews" in kids:
        k = kids["bookViews"]
        block = wb_xml[k.start : k.end]
        view = re.search(rb"<" + re.escape(p) + rb"workbookView\b[^>]*?/?>", block)
        if view:
            tag = set_attr(set_attr(view.group(0), "activeTab", "0"), "firstSheet", "0")
            block = block[: view.start()] + tag + block[view.end() :]
        edits.append((k, block))
    out = wb_xml
    for k, new_xml in sorted(edits, key=lambda e: -e[0].start):
        out = out[: k.start] + new_xml + out[k.end :]
    if "definedNames" not in kids and names_xml:
        root = re.search(rb"<" + re.escape(p) + rb"workbook\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", out)
        assert root is not None
        out = insert_child(out, (root.end(), out.rfind(b"</")), names_xml, "definedNames", _WORKBOOK_ORDER)
    return out


def _defined_names(
    element: bytes,
    p: bytes,
    new_index: dict[int, int],
    plan: _Plan,
    old_of: dict[str, int],
    new_filters: dict[int, tuple[str, str]],
) -> bytes:
    """The defined names, each sheet's pointing at its new place; a filter's name for each filtered sheet;
    the header row printed on every page of each sheet pbload writes or annotates (unless the user chose
    other rows)."""
    q = re.escape(p)
    names = [
        f'<{p.decode()}definedName name="_xlnm._FilterDatabase" localSheetId="{n}" hidden="1">'
        f"{_absolute(sheet, ref)}</{p.decode()}definedName>".encode()
        for n, (sheet, ref) in new_filters.items()
    ]
    names += [_print_titles(p, n, sheet) for n, (sheet, _) in new_filters.items()]
    filters = {old_of[s.name]: s for s in plan.sheets}
    seen_filter: set[int] = set()
    seen_titles: set[int] = set()
    for m in re.finditer(
        rb"<" + q + rb"definedName\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(?:/>|>(.*?)</" + q + rb"definedName>)",
        element,
        re.S,
    ):
        a = attrs(m.group(1))
        tag_end = m.group(0).index(b">") + 1
        tag, body = m.group(0)[:tag_end], m.group(0)[tag_end:]
        local = a.get("localSheetId")
        if local is not None and local.isdigit():
            old = int(local)
            if old not in new_index:
                continue  # a name of a sheet that is gone
            tag = set_attr(tag, "localSheetId", str(new_index[old]))
            sheet = filters.get(old) if body else None
            if sheet and a.get("name") == "_xlnm._FilterDatabase" and sheet.filter_ref:
                seen_filter.add(old)
                body = _absolute(sheet.name, sheet.filter_ref).encode() + b"</" + p + b"definedName>"
            elif sheet and a.get("name") == "_xlnm.Print_Area":
                body = _wider_print_area(body, sheet)
            elif a.get("name") == "_xlnm.Print_Titles":
                seen_titles.add(old)
        names.append(tag + body)
    for old, sheet in filters.items():
        if old not in seen_filter and sheet.filter_ref:
            names.append(
                f'<{p.decode()}definedName name="_xlnm._FilterDatabase" localSheetId="{new_index[old]}" '
                f'hidden="1">{_absolute(sheet.name, sheet.filter_ref)}</{p.decode()}definedName>'.encode()
            )
        if old not in seen_titles:
            names.append(_print_titles(p, new_index[old], sheet.name))
    if not names:
        return b""
    return b"<" + p + b"definedNames>" + b"".join(names) + b"</" + p + b"definedNames>"


def _print_titles(p: bytes, local: int, sheet: str) -> bytes:
    """The defined name that prints the header row at the top of every page of a sheet."""
    return (
        f'<{p.decode()}definedName name="_xlnm.Print_Titles" localSheetId="{local}">'
        f"{text_escape(quote_sheet(sheet) + '!' + PRINT_TITLE_ROWS)}</{p.decode()}definedName>"
    ).encode()


def _absolute(sheet: str, ref: str) -> str:
    """'Products'!$A$1:$Y$9, escaped for an element's text."""
    r0, c0, r1, c1 = split_range(ref)
    return text_escape(f"{quote_sheet(sheet)}!${column_letter(c0)}${r0}:${column_letter(c1)}${r1}")


def _wider_print_area(body: bytes, sheet: _DataSheet) -> bytes:
    """A print area that ended at the data's last column now ends at pbload's last one."""
    m = re.match(rb"(.*!\$?[A-Z]{1,3}\$?\d+:\$?)([A-Z]{1,3})(\$?\d+)(</.*)$", body, re.S)
    if not m:
        return body
    if column_number(m.group(2).decode()) != sheet.edit.first - 1:
        return body
    letter = column_letter(sheet.edit.first + len(sheet.edit.header_names) - 1).encode()
    return m.group(1) + letter + m.group(3) + m.group(4)


def _root_prefix(data: bytes, local: str) -> bytes:
    m = re.search(rb"<([A-Za-z_][\w.-]*:)?" + local.encode() + rb"\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", data)
    if not m:
        raise Unsupported(f"no <{local}> element")
    p = m.group(1) or b""
    check_namespace(m.group(0), p)
    return p


def _prefix_of_part(data: bytes, local: str) -> str:
    return _root_prefix(data, local).decode()


def _rel_prefix(wb_xml: bytes) -> str:
    m = re.search(rb"xmlns:([\w.-]+)\s*=\s*[\"']" + re.escape(REL_NS.encode()) + rb"[\"']", wb_xml)
    return m.group(1).decode() if m else ""


def unsafe_name(name: str) -> bool:
    """A member name that could reach outside the folder it is unpacked in: absolute, with a `..`
    segment, a backslash (a Windows separator) or a drive letter."""
    return name.startswith("/") or "\\" in name or bool(_DRIVE.match(name)) or ".." in name.split("/")


def _source_of_rels(name: str) -> str:
    folder, file = posixpath.split(name)
    return (
        posixpath.join(posixpath.dirname(folder), file[: -len(".rels")]) if folder.endswith("_rels") else ""
    )


# --- writing -----------------------------------------------------------------------------------


def _info(name: str, like: zipfile.ZipInfo | None = None, level: int = COMPRESS_LEVEL) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, like.date_time if like else time.localtime()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    # a ZipInfo brings its own level (the ZipFile's is only used for names): `compress_level` from 3.13
    setattr(info, "compress_level" if hasattr(info, "compress_level") else "_compresslevel", level)
    if like:
        info.external_attr = like.external_attr
    return info


def _write(book: zipfile.ZipFile, out: zipfile.ZipFile, plan: _Plan) -> None:
    infos = {i.filename: i for i in book.infolist()}
    data_parts = {s.part: s for s in plan.sheets}
    for sheet in plan.sheets:
        info = _info(sheet.part, infos[sheet.part], level=out.compresslevel)
        big = infos[sheet.part].file_size > (1 << 31)
        with (
            book.open(sheet.part) as source,
            out.open(info, "w", force_zip64=big) as target,
            _Background(target) as write,
        ):
            SheetRewriter(sheet.edit, sheet.header.prefix, sheet.name).run(source, write)
        rels = rels_name(sheet.part)
        if sheet.rels:
            out.writestr(_info(rels, infos.get(rels), level=out.compresslevel), render_rels(sheet.rels))
    assert plan.workbook_edit is not None
    plan.replaced[plan.workbook] = plan.workbook_edit()
    plan.replaced[rels_name(plan.workbook)] = render_rels(plan.workbook_rels)
    types = "[Content_Types].xml"
    out.writestr(_info(types, infos.get(types), level=out.compresslevel), plan.content_types.render())
    done = {"[Content_Types].xml", *data_parts, *(rels_name(p) for p in data_parts)}
    for info in book.infolist():
        name = info.filename
        if name in done or name in plan.removed:
            continue
        if name in plan.replaced:
            out.writestr(_info(name, info, level=out.compresslevel), plan.replaced[name])
        elif name in plan.sheet_parts:
            _copy(book, out, info, untab=True)
        else:
            _copy(book, out, info)
    for name, content in plan.added.items():
        if callable(content):
            with out.open(_info(name, level=out.compresslevel), "w") as target:
                for piece in content():
                    target.write(piece)
        else:
            out.writestr(_info(name, level=out.compresslevel), content)


def _copy(book: zipfile.ZipFile, out: zipfile.ZipFile, info: zipfile.ZipInfo, untab: bool = False) -> None:
    """Copy a part unchanged (a sheet other than the data: without its tab selected); never an unsafe name."""
    if unsafe_name(info.filename):
        return
    with (
        book.open(info) as source,
        out.open(
            _info(info.filename, info, level=out.compresslevel), "w", force_zip64=info.file_size > (1 << 31)
        ) as target,
    ):
        first = True
        while chunk := source.read(1 << 20):
            if first and untab:
                chunk = _TAB_SELECTED.sub(rb"\1", chunk, count=1)
            first = False
            target.write(chunk)


class _Background:
    """Hands writes to a thread, so compressing one chunk overlaps with building the next
    (zlib releases the interpreter lock while it works)."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while (piece := self.queue.get()) is not None:
            if self.error is None:
                try:
                    self.target.write(piece)
                except BaseException as exc:  # handed to the writing thread in __exit__
                    self.error = exc

    def __enter__(self) -> Callable[[bytes], None]:
        self.thread.start()
        return self._put

    def _put(self, piece: bytes) -> None:
        if self.error is not None:
            raise self.error
        if piece:
            self.queue.put(piece)

    def __exit__(self, *exc: object) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None and exc[0] is None:
            raise self.error
