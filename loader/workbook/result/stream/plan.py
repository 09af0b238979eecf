"""What the stream editor changes in a package, decided before a byte of the result is written.

The planner reads what it needs of the input (the package's small parts and each data sheet's start,
never a whole data sheet) and records every change: the data sheets' edits, parts replaced, added
and removed. `zip_out` then writes the result from the input and the plan.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial

from openpyxl.utils import get_column_letter

from loader.models import RunReport, SheetReport, Status
from loader.workbook import ERRORS_SHEET, RESULT_COLUMNS, SUMMARY_SHEET
from loader.workbook.reader import HEADER_ROW
from loader.workbook.result.content import (
    BOLD,
    COMMENT_AUTHOR,
    ERRORS_HEADER,
    INVALID_CELL_FILL,
    LINK,
    MAX_ERROR_ROWS,
    MAX_RANGES_PER_RULE,
    RESULT_HEADER,
    SEVERITY_LOOKS,
    STATUS_TINTS,
    WRAPPED,
    capped_notes,
    cell_notes,
    cell_ranges,
    change_notes,
    chunked,
    problems,
    result_columns,
    result_widths,
    sheet_comments,
    status_chart,
    summary_statuses,
    warning_notes,
)
from loader.workbook.result.stream.comments import (
    ExistingComments,
    merged_comments,
    merged_vml,
    new_comments,
    new_vml_parts,
)
from loader.workbook.result.stream.ooxml import (
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
    ContentTypes,
    Rel,
    new_rel_id,
    parse_rels,
    rels_name,
    render_rels,
    source_of_rels,
    unsafe_name,
    unused_name,
)
from loader.workbook.result.stream.parts import (
    Formats,
    chart_part,
    drawing_part,
    errors_sheet,
    status_rules,
    summary_sheet,
)
from loader.workbook.result.stream.refusals import Unsupported
from loader.workbook.result.stream.rows import (
    Header,
    RowValues,
    SharedStrings,
    SheetEdit,
    last_value_column,
    read_header,
)
from loader.workbook.result.stream.sheet_edges import Columns, Edges, Marks
from loader.workbook.result.stream.styles import StylesEditor
from loader.workbook.result.stream.workbook_part import DataSheetNames, NewSheet, WorkbookPart

SHEET_TYPES = (REL_WORKSHEET, REL_NS + "/chartsheet", REL_NS + "/dialogsheet")
_BLOCKING_RELS = {REL_TABLE: "a table", REL_PIVOT: "a pivot table", REL_QUERY_TABLE: "a query table"}
Positions = dict[str, dict[str, int]]
Cells = dict[tuple[int, int], str]


@dataclass
class DataSheet:
    """A sheet with rows of the run: its part, relationships, header, and the edits of its rows and edges."""

    name: str
    part: str
    rels: list[Rel]
    header: Header
    edit: SheetEdit
    edges: Edges
    notes: Cells  # the comments pbload puts on its cells


@dataclass
class Plan:
    """Every change the result makes to the input's package."""

    workbook: str
    content_types: ContentTypes
    workbook_rels: list[Rel]
    workbook_part: WorkbookPart
    sheets: list[DataSheet] = field(default_factory=list)
    new_sheets: list[NewSheet] = field(default_factory=list)
    # part -> its new bytes, or what makes them as they are written (so for `added`)
    replaced: dict[str, bytes | Callable[[], Iterable[bytes]]] = field(default_factory=dict)
    added: dict[str, bytes | Callable[[], Iterable[bytes]]] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    sheet_parts: set[str] = field(default_factory=set)  # every sheet of the workbook (their tabs unselected)

    def workbook_xml(self) -> bytes:
        """workbook.xml, once the data sheets are written (their filters go into its defined names)."""
        names = [
            DataSheetNames(s.name, s.edges.found.filter_ref, s.edges.columns.first, s.edges.columns.last)
            for s in self.sheets
        ]
        return self.workbook_part.render(self.new_sheets, names)


@dataclass
class _Looks:
    """The formats the data sheets share, appended to styles.xml once."""

    header: int
    tints: dict[Status, int]
    invalid_dxf: int
    statuses: list[Status]


class Planner:
    """Reads what it needs of the input (never a whole data sheet) and decides every change."""

    def __init__(
        self, book: zipfile.ZipFile, report: RunReport, positions: Positions, scan: bool = False
    ) -> None:
        self.book, self.report, self.positions, self.scan = book, report, positions, scan
        self.names = set(book.namelist())
        self.unsafe = {name for name in self.names if unsafe_name(name)}
        self.rels_cache: dict[str, list[Rel]] = {}
        self.notes = cell_notes(report, positions)

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

    def plan(self) -> Plan:
        types = ContentTypes.parse(self.read("[Content_Types].xml"))
        self._refuse_links_to_unsafe()
        for name in [n for n in types.overrides if unsafe_name(n)]:
            del types.overrides[name]
        workbook = self._workbook_part(types)
        wb_rels = self.rels(workbook)
        plan = Plan(
            workbook, types, list(wb_rels), WorkbookPart(self.read(workbook)), removed=set(self.unsafe)
        )
        plan.sheet_parts = {r.target for r in wb_rels if r.type in SHEET_TYPES}
        styles_rel = [r for r in wb_rels if r.type == REL_STYLES]
        if not styles_rel:
            raise Unsupported("the workbook has no styles part")
        styles = StylesEditor(self.read(styles_rel[0].target))
        header = styles.look(RESULT_HEADER)  # the formats in this order: each one's index in styles.xml
        formats = Formats(
            styles.look(BOLD),
            styles.look(LINK),
            styles.look(WRAPPED),
            {severity: styles.look(look) for severity, look in SEVERITY_LOOKS.items()},
        )
        self._data_sheets(plan, styles, header)
        self._drop_old_sheets(plan)
        self._summary(plan, styles)
        self._errors(plan, formats)
        plan.replaced[styles_rel[0].target] = styles.render()  # after the Summary has asked for its formats
        return plan

    def _workbook_part(self, types: ContentTypes) -> str:
        office = [r for r in self.rels("") if r.type == REL_OFFICE_DOCUMENT]
        if len(office) != 1:
            raise Unsupported("the package does not name one workbook")
        kind = types.of(office[0].target)
        if kind != CT_WORKBOOK:
            raise Unsupported(
                "a macro-enabled workbook or template"
                if "macro" in kind or "template" in kind
                else f"a workbook of type {kind!r}"
            )
        return office[0].target

    def _refuse_links_to_unsafe(self) -> None:
        """Dropping a part that a relationship points at would leave the result broken: not this way."""
        if not self.unsafe:
            return
        for name in sorted(self.names - self.unsafe):
            if name.endswith(".rels"):
                for rel in self.rels(source_of_rels(name)):
                    if not rel.external and rel.target in self.unsafe:
                        raise Unsupported(f"{name} points at {rel.target!r}, a name not safe to copy")

    # --- data sheets ------------------------------------------------------------------------

    def _data_sheets(self, plan: Plan, styles: StylesEditor, header: int) -> None:
        statuses = summary_statuses(self.report)
        looks = _Looks(
            header,
            {s: styles.fill(STATUS_TINTS[s]) for s in statuses},
            styles.fill(INVALID_CELL_FILL) if self.notes else 0,
            statuses,
        )
        shared = [r.target for r in plan.workbook_rels if r.type == REL_SHARED_STRINGS]
        strings = SharedStrings(self.book, shared[0] if shared else None)
        entries = {e.name: e for e in plan.workbook_part.entries}
        by_id = {r.id: r for r in plan.workbook_rels}
        changed = change_notes(self.report, self.positions)
        warned = warning_notes(self.report, self.positions)
        for sheet in self.report.sheets:
            entry = entries.get(sheet.sheet)
            rel = by_id.get(entry.rid) if entry else None
            if rel is None or plan.content_types.of(rel.target) != CT_WORKSHEET:
                raise Unsupported(f"sheet {sheet.sheet} is not an ordinary worksheet")
            notes = self.notes.get(sheet.sheet, {})
            comments = sheet_comments(notes, changed.get(sheet.sheet, {}), warned.get(sheet.sheet, {}))
            data = self._data_sheet(sheet, rel.target, strings, looks, notes, comments)
            self._comments(data, plan)
            plan.sheets.append(data)

    def _data_sheet(
        self,
        sheet: SheetReport,
        part: str,
        strings: SharedStrings,
        looks: _Looks,
        notes: Cells,
        comments: Cells,
    ) -> DataSheet:
        rels = list(self.rels(part))
        for rel in rels:
            if rel.type in _BLOCKING_RELS:
                raise Unsupported(f"{_BLOCKING_RELS[rel.type]} on sheet {sheet.sheet}")
        header = read_header(self.book, part, strings)
        first = _first_result_column(header)
        reuse = header.values.get(first, "").strip() == RESULT_COLUMNS[0]
        if (
            self.scan and not reuse
        ):  # values beyond the headers: pbload's columns go after them, not over them
            first = max(first, last_value_column(self.book, part, header.prefix) + 1)
        last_row = max(HEADER_ROW, max(sheet.rows, default=HEADER_ROW))
        names = result_columns(header.values.get, first, reuse)
        columns = Columns(first, first + len(names) - 1, last_row, result_widths(sheet, names))
        area = f"A{HEADER_ROW + 1}:{get_column_letter(columns.last)}{max(last_row, HEADER_ROW + 1)}"
        marks = Marks(
            list(chunked(cell_ranges(notes), MAX_RANGES_PER_RULE)),
            looks.invalid_dxf,
            area,
            status_rules(get_column_letter(first), looks.tints, looks.statuses),
        )
        edges = Edges(columns, marks, name=sheet.sheet)
        values = RowValues(sheet.rows, sheet.outcomes)
        edit = SheetEdit(
            first, values, names, looks.header, columns.widths, last_row, edges.tail, reuse, edges.head
        )
        return DataSheet(sheet.sheet, part, rels, header, edit, edges, comments)

    def _comments(self, data: DataSheet, plan: Plan) -> None:
        """Merge pbload's notes into the sheet's comments (or give it comments)."""
        comments = [r for r in data.rels if r.type == REL_COMMENTS]
        vmls = [r for r in data.rels if r.type == REL_VML]
        if not comments and not data.notes:
            return
        if len(comments) > 1 or len(vmls) != len(comments):
            raise Unsupported(f"sheet {data.name} has drawings pbload cannot tell comments from")
        if not comments:
            self._new_comments(data, plan)
            return
        existing = ExistingComments.parse(self.read(comments[0].target), COMMENT_AUTHOR, HEADER_ROW)
        ours = {cell: text for cell, text in data.notes.items() if cell not in existing.kept}
        if not ours and not existing.dropped:
            return
        vml, shapes = merged_vml(self.read(vmls[0].target), existing.dropped, ours)
        if existing.kept or ours:
            plan.replaced[comments[0].target] = merged_comments(existing, ours, COMMENT_AUTHOR)
        else:
            plan.removed.add(comments[0].target)
            plan.content_types.overrides.pop(comments[0].target, None)
            data.rels.remove(comments[0])
        if shapes:
            plan.replaced[vmls[0].target] = vml
        else:
            plan.removed.add(vmls[0].target)
            data.rels.remove(vmls[0])
            data.edges.drop_legacy = True

    def _new_comments(self, data: DataSheet, plan: Plan) -> None:
        part = unused_name(self.names, "xl/comments/comment{}.xml")
        vml = unused_name(self.names, "xl/drawings/vmlDrawing{}.vml")
        data.rels.append(Rel(new_rel_id(data.rels), REL_COMMENTS, part))
        data.edges.legacy_rel = new_rel_id(data.rels)
        data.rels.append(Rel(data.edges.legacy_rel, REL_VML, vml))
        plan.added[part] = new_comments(data.header.prefix.decode(), data.notes, COMMENT_AUTHOR)
        plan.added[vml] = partial(new_vml_parts, data.notes)
        plan.content_types.overrides[part] = CT_COMMENTS
        plan.content_types.defaults.setdefault("vml", CT_VML)

    # --- sheets pbload writes itself ---------------------------------------------------------

    def _drop_old_sheets(self, plan: Plan) -> None:
        """An earlier result's Summary and Errors (and calcChain, which Excel rebuilds) go."""
        ours = {SUMMARY_SHEET.casefold(), ERRORS_SHEET.casefold()}
        data_names = {s.name for s in plan.sheets}
        by_id = {r.id: r for r in plan.workbook_rels}
        for entry in plan.workbook_part.entries:
            if entry.name.casefold() in ours and entry.name not in data_names:
                entry.removed = True
                rel = by_id.get(entry.rid)
                if rel:
                    plan.workbook_rels.remove(rel)
                    self._remove_part(plan, rel.target)
        for rel in [r for r in plan.workbook_rels if r.type == REL_CALC_CHAIN]:
            plan.workbook_rels.remove(rel)
            self._remove_part(plan, rel.target)

    def _remove_part(self, plan: Plan, part: str) -> None:
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
                source = source_of_rels(name)
                if any(r.target == part for r in self.rels(source)):
                    found.add(source)
        return found

    def _errors(self, plan: Plan, formats: Formats) -> None:
        found = problems(self.report, self.positions)
        if not found:
            return
        errors = self._new_sheet_part(plan)
        last = min(len(found), MAX_ERROR_ROWS) + 1
        plan.new_sheets.append(
            NewSheet(
                ERRORS_SHEET, plan.workbook_rels[-1].id, f"A1:{get_column_letter(len(ERRORS_HEADER))}{last}"
            )
        )
        lines = capped_notes(len(found), self.notes)
        plan.added[errors] = lambda: errors_sheet(found, formats, lines)

    def _summary(self, plan: Plan, styles: StylesEditor) -> None:
        summary = self._new_sheet_part(plan)
        plan.new_sheets.append(NewSheet(SUMMARY_SHEET, plan.workbook_rels[-1].id))
        chart = status_chart(self.report)
        xml, chart_row = summary_sheet(self.report, styles.look, "rId1" if chart is not None else None)
        if chart is not None:
            drawing = unused_name(self.names, "xl/drawings/drawing{}.xml")
            chart_name = unused_name(self.names, "xl/charts/chart{}.xml")
            plan.added[rels_name(summary)] = render_rels([Rel("rId1", REL_DRAWING, drawing)])
            plan.added[drawing] = drawing_part("rId1", chart_row)
            plan.added[rels_name(drawing)] = render_rels([Rel("rId1", REL_CHART, chart_name)])
            plan.added[chart_name] = chart_part(self.report)
            plan.content_types.overrides[drawing] = CT_DRAWING
            plan.content_types.overrides[chart_name] = CT_CHART
        plan.added[summary] = xml

    def _new_sheet_part(self, plan: Plan) -> str:
        """A new worksheet part, its relationship from the workbook and its content type."""
        part = unused_name(self.names, "xl/worksheets/sheet{}.xml")
        plan.workbook_rels.append(Rel(new_rel_id(plan.workbook_rels), REL_WORKSHEET, part))
        plan.content_types.overrides[part] = CT_WORKSHEET
        return part


def _first_result_column(header: Header) -> int:
    """Where pbload's columns go: where they already are (a result loaded again), else after the headers."""
    for col, text in sorted(header.values.items()):
        if text.strip() == RESULT_COLUMNS[0]:
            return col
    return max(header.values, default=0) + 1
