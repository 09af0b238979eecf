"""A data sheet's head and tail, edited with lxml: what comes before its rows and after them.

The row scanner (`rows`) hands over the bytes before `<sheetData>` (the head: sheet properties,
dimension, views, column widths) and from `</sheetData>` to the end (the tail: filter, merged cells,
conditional formats, page setup, drawings). Each is parsed in the context of the sheet's own root tag,
so every prefix the sheet declares is known, edited as elements and written back without that context:
the root tag and the rows stay the bytes they were.

The head: the dimension widened, pbload's column widths set, the header and key column frozen (unless
the user froze the view elsewhere), no tab selected (the Summary is), the page setup scaled to fit.
The tail: merged ranges clear of pbload's columns, its conditional formats (invalid cells first, the
user's next, tints last), the filter widened, the comments' drawing, landscape and one page wide.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from openpyxl.utils import get_column_letter

from loader.workbook.reader import HEADER_ROW
from loader.workbook.result.content import FREEZE_CELL, FREEZE_COLUMNS, FREEZE_ROWS, is_pbload_rule
from loader.workbook.result.stream.ooxml import REL_NS, WORKSHEET_ORDER, split_range
from loader.workbook.result.stream.parts import invalid_marks, page_setup, row_tints
from loader.workbook.result.stream.refusals import Unsupported
from loader.workbook.result.stream.xml import (
    Element,
    Part,
    etree,
    first,
    fragment,
    fragments,
    kids,
    local,
    new_child,
    parse_part,
    place,
)

_ROOT_TAG = r"<{}worksheet\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>"
_SHEET_PR_ORDER = ("tabColor", "outlinePr", "pageSetUpPr")


@dataclass
class Columns:
    """Where pbload's columns are on a sheet, and how far its rows go."""

    first: int  # 1-based
    last: int
    last_row: int
    widths: tuple[float, ...]


@dataclass
class Marks:
    """pbload's conditional formats of a sheet: invalid cells (ranges in batches) and a tint per status."""

    ranges: list[list[str]]
    invalid_dxf: int
    area: str
    rules: list[tuple[str, int]]  # (formula, conditional-format fill)


@dataclass
class TailResult:
    """What the tail edit found out: the filter's range (for its defined name)."""

    filter_ref: str = ""


@dataclass
class Edges:
    """The edits of one data sheet's head and tail (`head` runs first and keeps the root tag for `tail`)."""

    columns: Columns
    marks: Marks
    legacy_rel: str | None = None  # r:id of a new <legacyDrawing>
    drop_legacy: bool = False
    name: str = ""
    found: TailResult = field(default_factory=TailResult)
    root_tag: bytes = b""

    def head(self, head: bytes, p: bytes) -> bytes:
        part, close = _parse_head(head, p)
        self.root_tag = _root_tag(head, p)
        edit_head(part.root, self.columns)
        return _render_head(part, close, self.root_tag)

    def tail(self, tail: bytes, p: bytes) -> bytes:
        if not self.root_tag:
            raise Unsupported("the sheet's tail came before its head")
        root, rendered = _parse_tail(tail, p, self.root_tag)
        self.found.filter_ref = edit_tail(root, self.columns, self.marks, self.legacy_rel, self.drop_legacy)
        return rendered(root)


# --- parsing a head or a tail in the sheet's context ---------------------------------------------


def _root_tag(head: bytes, p: bytes) -> bytes:
    m = re.search(_ROOT_TAG.format(re.escape(p.decode())).encode(), head)
    if not m:
        raise Unsupported("no <worksheet> element")
    return m.group(0)


def _parse_head(head: bytes, p: bytes) -> tuple[Part, bytes]:
    close = b"</" + p + b"worksheet>"
    return parse_part(head + close, "a sheet's head"), close


def _render_head(part: Part, close: bytes, root_tag: bytes) -> bytes:
    """The head as lxml writes it, with the sheet's own root tag (unchanged) and without the closing tag."""
    out = part.render()
    body = out[len(part.prolog) :]
    if not body.endswith(close):
        raise Unsupported("a sheet's head that ends its sheet")
    start = body.index(b"<" + close[2:-1])  # the root's start tag, after any comment before it
    return part.prolog + body[:start] + root_tag + body[body.index(b">", start) + 1 : -len(close)]


def _parse_tail(tail: bytes, p: bytes, root_tag: bytes) -> tuple[Element, Callable[[Element], bytes]]:
    end = b"</" + p + b"sheetData>"
    if not tail.startswith(end):
        raise Unsupported("the rows of a sheet do not end where expected")
    placeholder = b"<" + p + b"sheetData/>"
    root = parse_part(root_tag + placeholder + tail[len(end) :], "a sheet's tail").root

    def rendered(edited: Element) -> bytes:
        out = etree.tostring(edited, encoding="UTF-8")
        at = out.find(placeholder)
        if at < 0:
            raise Unsupported("a sheet's tail without its rows")
        return end + out[at + len(placeholder) :]

    return root, rendered


# --- the head ------------------------------------------------------------------------------------


def edit_head(root: Element, columns: Columns) -> None:
    """Dimension widened, pbload's column widths set, the header and key column frozen, no tab selected,
    the page setup scaled to fit."""
    _dimension(root, columns)
    _cols(root, columns)
    _views(root)
    _sheet_pr(root)


def _dimension(root: Element, columns: Columns) -> None:
    dimension = first(root, "dimension")
    if dimension is None:
        return
    try:
        r0, c0, r1, c1 = split_range(dimension.get("ref", ""))
    except Unsupported:
        return
    last_col, last_row = max(c1, columns.last), max(r1, columns.last_row)
    dimension.set("ref", f"{get_column_letter(c0)}{r0}:{get_column_letter(last_col)}{last_row}")


def _cols(root: Element, columns: Columns) -> None:
    """The user's column widths outside pbload's columns, pbload's inside them, in column order."""
    block = first(root, "cols")
    if block is None:
        block = new_child(root, "cols")
        place(root, block, WORKSHEET_ORDER)
    ours = range(columns.first, columns.last + 1)
    kept: list[tuple[int, Element]] = []
    for col in kids(block, "col"):
        lo, hi = int(col.get("min", "0")), int(col.get("max", "0"))
        block.remove(col)
        for a_lo, a_hi in ((lo, min(hi, ours.start - 1)), (max(lo, ours.stop), hi)):
            if a_lo <= a_hi:
                piece = etree.SubElement(block, col.tag, dict(col.attrib))
                piece.set("min", str(a_lo))
                piece.set("max", str(a_hi))
                kept.append((a_lo, piece))
    for n, width in zip(ours, columns.widths, strict=False):
        attrib = {"min": str(n), "max": str(n), "width": str(width), "customWidth": "1"}
        kept.append((n, new_child(block, "col", attrib)))
    for element in list(block):
        block.remove(element)
    for _, element in sorted(kept, key=lambda k: k[0]):
        element.tail = None
        block.append(element)


def _views(root: Element) -> None:
    """No tab selected (the Summary is); the first view frozen at FREEZE_CELL unless the user froze it."""
    views = first(root, "sheetViews")
    if views is None:
        views = new_child(root, "sheetViews")
        place(root, views, WORKSHEET_ORDER)
        new_child(views, "sheetView", {"workbookViewId": "0"})
    for n, view in enumerate(v for v in views if local(v)):
        view.attrib.pop("tabSelected", None)
        if n == 0 and _pane_is_ours(view):
            for element in [*kids(view, "pane"), *kids(view, "selection")]:
                view.remove(element)
            for at, element in enumerate(fragments(view, _pane())):
                view.insert(at, element)


def _pane() -> str:
    return (
        f'<pane xSplit="{FREEZE_COLUMNS}" ySplit="{FREEZE_ROWS}" topLeftCell="{FREEZE_CELL}" '
        f'activePane="bottomRight" state="frozen"/><selection pane="topRight"/>'
        f'<selection pane="bottomLeft"/><selection pane="bottomRight" activeCell="{FREEZE_CELL}" '
        f'sqref="{FREEZE_CELL}"/>'
    )


def _pane_is_ours(view: Element) -> bool:
    """True for a view without a pane, or frozen below the header row alone as pbload's templates and
    earlier results froze it: pbload freezes it at FREEZE_CELL. A pane the user set stays theirs."""
    pane = first(view, "pane")
    if pane is None:
        return True
    return (
        pane.get("state") == "frozen"
        and pane.get("ySplit") == str(HEADER_ROW)
        and pane.get("xSplit", "0") in ("0", "")
        and pane.get("topLeftCell", f"A{HEADER_ROW + 1}") == f"A{HEADER_ROW + 1}"
    )


def _sheet_pr(root: Element) -> None:
    """<sheetPr> with <pageSetUpPr fitToPage="1"/>, so that the page setup's fit to width counts."""
    pr = first(root, "sheetPr")
    if pr is None:
        pr = new_child(root, "sheetPr")
        place(root, pr, WORKSHEET_ORDER)
    fit = first(pr, "pageSetUpPr")
    if fit is None:
        fit = new_child(pr, "pageSetUpPr")
        place(pr, fit, _SHEET_PR_ORDER)
    fit.set("fitToPage", "1")


# --- the tail ------------------------------------------------------------------------------------


def edit_tail(
    root: Element, columns: Columns, marks: Marks, legacy_rel: str | None, drop_legacy: bool
) -> str:
    """Edit the part after the rows; return the filter's range."""
    for block in kids(root, "mergeCells"):
        _merges_clear(root, block, columns)
    for block in kids(root, "conditionalFormatting"):
        _without_our_rules(root, block)
    top = _shift_priorities(root, len(marks.ranges))
    filter_ref = _widen_filter(root, columns)
    xml = invalid_marks("", marks.ranges, marks.invalid_dxf, 1) + row_tints(
        "", marks.area, marks.rules, top + 1
    )
    for element in fragments(root, xml.decode()) if xml else []:
        place(root, element, WORKSHEET_ORDER)
    _legacy_drawing(root, legacy_rel, drop_legacy)
    _landscape(root)
    return filter_ref


def _merges_clear(root: Element, block: Element, columns: Columns) -> None:
    """Merged ranges that would cover pbload's cells are unmerged; the others stay."""
    for merge in kids(block, "mergeCell"):
        r0, c0, r1, c1 = split_range(merge.get("ref", ""))
        if c1 >= columns.first and c0 <= columns.last and r0 <= columns.last_row and r1 >= HEADER_ROW:
            block.remove(merge)
    left = kids(block, "mergeCell")
    if left:
        block.set("count", str(len(left)))
    else:
        root.remove(block)


def _without_our_rules(root: Element, block: Element) -> None:
    """A conditional format without the rules an earlier result added; gone if none is left."""
    for rule in kids(block, "cfRule"):
        formula = first(rule, "formula")
        if formula is not None and is_pbload_rule(formula.text or ""):
            block.remove(rule)
    if not kids(block, "cfRule"):
        root.remove(block)


def _shift_priorities(root: Element, shift: int) -> int:
    """Make room for `shift` rules of pbload's at the top (the user's rules, in the extensions too);
    return the lowest priority now used."""
    priorities = [shift]
    for rule in root.iter():
        if local(rule) == "cfRule" and (rule.get("priority") or "").isdigit():
            if shift:
                rule.set("priority", str(int(rule.get("priority")) + shift))
            priorities.append(int(rule.get("priority")))
    return max(priorities)


def _widen_filter(root: Element, columns: Columns) -> str:
    """The filter over the header row reaches pbload's last column and the last row; returns its range."""
    found = first(root, "autoFilter")
    if found is None:
        ref = f"A{HEADER_ROW}:{get_column_letter(columns.last)}{columns.last_row}"
        place(root, new_child(root, "autoFilter", {"ref": ref}), WORKSHEET_ORDER)
        return ref
    ref = found.get("ref", "")
    r0, c0, r1, c1 = split_range(ref)
    if r0 != HEADER_ROW:
        return ref  # a filter the user set elsewhere stays theirs
    ref = f"{get_column_letter(c0)}{r0}:{get_column_letter(max(c1, columns.last))}{max(r1, columns.last_row)}"
    found.set("ref", ref)
    return ref


def _legacy_drawing(root: Element, legacy_rel: str | None, drop: bool) -> None:
    """The drawing of pbload's new comments referred to, or the old one gone with the last comment."""
    if legacy_rel:
        if first(root, "legacyDrawing") is not None:
            raise Unsupported("the sheet has a drawing pbload cannot tell comments from")
        declared = REL_NS in root.nsmap.values()
        element = etree.SubElement(
            root, f"{{{etree.QName(root).namespace}}}legacyDrawing", nsmap=None if declared else {"r": REL_NS}
        )
        element.set(f"{{{REL_NS}}}id", legacy_rel)
        place(root, element, WORKSHEET_ORDER)
    if drop:
        for element in kids(root, "legacyDrawing"):
            root.remove(element)


def _landscape(root: Element) -> None:
    """The sheet's page setup made landscape and one page wide; its paper, margins and printer kept."""
    setup = first(root, "pageSetup")
    if setup is None:
        place(root, fragment(root, page_setup()), WORKSHEET_ORDER)
        return
    for name, value in fragment(etree.Element("scratch"), page_setup()).attrib.items():
        setup.set(name, value)
