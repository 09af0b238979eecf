"""workbook.xml, edited with lxml: the Summary and Errors first among the sheets, an earlier result's
gone, defined names re-pointed at the sheets' new places (filters, print areas, the header row on every
page) and the Summary the active tab.

A new `<sheet>` refers to its part with `r:id`: where the relationships' namespace is not declared
around `<sheets>` (openpyxl declares it on each `<sheet>`), the new element declares it itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from openpyxl.utils import column_index_from_string, get_column_letter

from loader.workbook.result.content import PRINT_TITLE_ROWS, quote_sheet
from loader.workbook.result.stream.ooxml import (
    REL_NS,
    Part,
    cell_text,
    parse_part,
    split_range,
    spreadsheet_root,
)
from loader.workbook.result.stream.refusals import Unsupported
from loader.workbook.result.stream.xml import Element, etree, first, kids, new_child, place

WORKBOOK_ORDER = (
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
FILTER_NAME = "_xlnm._FilterDatabase"
PRINT_AREA_NAME = "_xlnm.Print_Area"
PRINT_TITLES_NAME = "_xlnm.Print_Titles"
_PRINT_AREA_END = re.compile(r"(.*!\$?[A-Z]{1,3}\$?\d+:\$?)([A-Z]{1,3})(\$?\d+)$", re.S)


@dataclass
class SheetEntry:
    """One `<sheet>` of the workbook."""

    element: Element
    name: str
    rid: str
    sheet_id: str
    removed: bool = False


@dataclass(frozen=True)
class NewSheet:
    """A sheet pbload adds in front: its name, relationship id and the filter it has (if any)."""

    name: str
    rid: str
    filter_ref: str = ""


@dataclass(frozen=True)
class DataSheetNames:
    """What the defined names need of a data sheet: its filter and where pbload's columns are."""

    name: str
    filter_ref: str
    first: int  # pbload's first column, 1-based
    last: int  # pbload's last column


class WorkbookPart:
    """The parsed workbook.xml and its `<sheet>` entries."""

    def __init__(self, data: bytes) -> None:
        self.part: Part = parse_part(data, "workbook.xml")
        spreadsheet_root(self.part, "workbook")
        sheets = first(self.part.root, "sheets")
        if sheets is None:
            raise Unsupported("the workbook has no <sheets>")
        self.sheets = sheets
        self.entries = [_entry(e) for e in kids(sheets, "sheet")]

    def render(self, new: list[NewSheet], data_sheets: list[DataSheetNames]) -> bytes:
        """New sheets first, defined names re-pointed at the sheets' new places, the Summary the active tab."""
        old_index = {id(e): n for n, e in enumerate(self.entries)}
        kept = [e for e in self.entries if not e.removed]
        new_index = {old_index[id(e)]: n + len(new) for n, e in enumerate(kept)}
        for entry in self.entries:
            if entry.removed:
                self.sheets.remove(entry.element)
        self._add_sheets(new)
        old_of = {e.name: old_index[id(e)] for e in kept}
        by_old = {old_of[s.name]: s for s in data_sheets}
        self._defined_names(new, new_index, by_old)
        views = first(self.part.root, "bookViews")
        view = first(views, "workbookView") if views is not None else None
        if view is not None:
            view.set("activeTab", "0")
            view.set("firstSheet", "0")
        return self.part.render()

    def _add_sheets(self, new: list[NewSheet]) -> None:
        next_id = max([int(e.sheet_id) for e in self.entries if e.sheet_id.isdigit()] or [0]) + 1
        declared = REL_NS in self.sheets.nsmap.values()
        for n, sheet in enumerate(new):
            element = etree.SubElement(
                self.sheets,
                f"{{{etree.QName(self.sheets).namespace}}}sheet",
                nsmap=None if declared else {"r": REL_NS},
            )
            element.set("name", sheet.name)
            element.set("sheetId", str(next_id + n))
            element.set(f"{{{REL_NS}}}id", sheet.rid)
            self.sheets.insert(n, element)

    def _defined_names(
        self, new: list[NewSheet], new_index: dict[int, int], by_old: dict[int, DataSheetNames]
    ) -> None:
        """The defined names, each sheet's pointing at its new place; a filter's name for each filtered
        sheet; the header row printed on every page of each sheet pbload writes or annotates (unless the
        user chose other rows)."""
        root = self.part.root
        block = first(root, "definedNames")
        if block is None:
            block = new_child(root, "definedNames")
            place(root, block, WORKBOOK_ORDER)
        existing = kids(block, "definedName")
        for element in list(block):
            block.remove(element)
        filtered = [(n, s) for n, s in enumerate(new) if s.filter_ref]
        for n, added in filtered:
            _filter_name(block, n, added.name, added.filter_ref)
        for n, added in filtered:
            _titles_name(block, n, added.name)
        seen: set[tuple[str | None, int]] = set()  # (name, old sheet index) of the names kept
        for element in existing:
            if _repointed(element, new_index, by_old, seen):
                element.tail = None
                block.append(element)
        for old, sheet in by_old.items():
            if (FILTER_NAME, old) not in seen and sheet.filter_ref:
                _filter_name(block, new_index[old], sheet.name, sheet.filter_ref)
            if (PRINT_TITLES_NAME, old) not in seen:
                _titles_name(block, new_index[old], sheet.name)
        if not len(block):
            root.remove(block)


def _repointed(
    element: Element,
    new_index: dict[int, int],
    by_old: dict[int, DataSheetNames],
    seen: set[tuple[str | None, int]],
) -> bool:
    """Point a sheet's defined name at the sheet's new place (False: its sheet is gone); a data sheet's
    filter and print area cover pbload's columns."""
    local_id = element.get("localSheetId")
    if local_id is None or not local_id.isdigit():
        return True  # a name of the workbook
    old = int(local_id)
    if old not in new_index:
        return False
    element.set("localSheetId", str(new_index[old]))
    name, sheet = element.get("name"), by_old.get(old)
    if sheet and name == FILTER_NAME and sheet.filter_ref:
        seen.add((name, old))
        element.text = _absolute(sheet.name, sheet.filter_ref)
    elif sheet and name == PRINT_AREA_NAME and element.text:
        element.text = _wider_print_area(element.text, sheet)
    elif name == PRINT_TITLES_NAME:
        seen.add((name, old))
    return True


def _entry(element: Element) -> SheetEntry:
    rid = next(
        (v for k, v in element.attrib.items() if k.startswith("{") and etree.QName(k).localname == "id"), ""
    )
    return SheetEntry(element, element.get("name", ""), rid, element.get("sheetId", "0"))


def _filter_name(block: Element, local_id: int, sheet: str, ref: str) -> None:
    attrib = {"name": FILTER_NAME, "localSheetId": str(local_id), "hidden": "1"}
    new_child(block, "definedName", attrib, _absolute(sheet, ref))


def _titles_name(block: Element, local_id: int, sheet: str) -> None:
    """The defined name that prints the header row at the top of every page of a sheet."""
    attrib = {"name": PRINT_TITLES_NAME, "localSheetId": str(local_id)}
    new_child(block, "definedName", attrib, cell_text(quote_sheet(sheet) + "!" + PRINT_TITLE_ROWS))


def _absolute(sheet: str, ref: str) -> str:
    """'Products'!$A$1:$Y$9"""
    r0, c0, r1, c1 = split_range(ref)
    return cell_text(f"{quote_sheet(sheet)}!${get_column_letter(c0)}${r0}:${get_column_letter(c1)}${r1}")


def _wider_print_area(text: str, sheet: DataSheetNames) -> str:
    """A print area that ended at the data's last column now ends at pbload's last one."""
    m = _PRINT_AREA_END.match(text)
    if not m or column_index_from_string(m.group(2)) != sheet.first - 1:
        return text
    return m.group(1) + get_column_letter(sheet.last) + m.group(3)
