"""Write blank templates from the resource catalogue (DESIGN §2).

A template has one sheet per resource with a marked header row (a note on every header), drop-downs
for choices, text format on identifier columns, date formats on date columns and a frozen, filterable
header; an `Instructions` sheet with each column explained and an example row; and a hidden sheet
with the template's name and version, which the reader checks.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from loader.resources import Field, Kind, Resource
from loader.resources.base import CLEAR
from loader.workbook import INSTRUCTIONS_SHEET, META_SHEET

REQUIRED_MARK = "*"
MAX_TEMPLATE_ROW = 10_000  # how far down drop-downs reach
_REQUIRED_FILL = PatternFill("solid", fgColor="1F4E78")
_OPTIONAL_FILL = PatternFill("solid", fgColor="5B9BD5")
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_NUMBER_FORMATS = {
    Kind.CODE: "@",
    Kind.TEXT: "@",
    Kind.DATE: "yyyy-mm-dd",
    Kind.DATETIME: "yyyy-mm-dd hh:mm",
    Kind.DECIMAL: "0.00##",
    Kind.INTEGER: "0",
}


def template_name(resources: tuple[Resource, ...]) -> str:
    """`products` for one resource, `all` for several."""
    return resources[0].name if len(resources) == 1 else "all"


def write_template(resources: tuple[Resource, ...], path: Path) -> Path:
    """Write a template for `resources` to `path` and return the path."""
    book = build_template(resources)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def build_template(resources: tuple[Resource, ...]) -> Workbook:
    """The template workbook, in memory."""
    book = Workbook()
    book.remove(book.active)
    for resource in resources:
        _data_sheet(book.create_sheet(resource.sheet), resource)
    _instructions(book.create_sheet(INSTRUCTIONS_SHEET), resources)
    meta = book.create_sheet(META_SHEET)
    meta.append(["template", template_name(resources)])
    for resource in resources:
        meta.append([resource.name, resource.template_version])
    meta.sheet_state = "hidden"
    return book


def header_text(f: Field) -> str:
    """A header as the template writes it: required ones end with an asterisk."""
    return f.header + REQUIRED_MARK if f.required else f.header


def _data_sheet(ws: Worksheet, resource: Resource) -> None:
    for col, f in enumerate(resource.fields, start=1):
        cell = ws.cell(row=1, column=col, value=header_text(f))
        cell.font = _HEADER_FONT
        cell.fill = _REQUIRED_FILL if f.required else _OPTIONAL_FILL
        cell.alignment = Alignment(vertical="center")
        cell.comment = _note(f)
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = f.width
        if f.kind in _NUMBER_FORMATS:
            ws.column_dimensions[letter].number_format = _NUMBER_FORMATS[f.kind]
        _validation(ws, f, letter)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(resource.fields))}1"


def _note(f: Field) -> Comment:
    comment = Comment(f.describe(), "pbload")
    comment.width, comment.height = 300, 120
    return comment


def _validation(ws: Worksheet, f: Field, letter: str) -> None:
    choices = f.choices or (("TRUE", "FALSE") if f.kind is Kind.BOOLEAN else ())
    if not choices:
        return
    dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
    dv.error = f"{f.header} must be one of {', '.join(choices)}."
    dv.errorTitle = f.header
    dv.showErrorMessage = True
    ws.add_data_validation(dv)
    dv.add(f"{letter}2:{letter}{MAX_TEMPLATE_ROW}")


def _instructions(ws: Worksheet, resources: tuple[Resource, ...]) -> None:
    bold = Font(bold=True)
    ws.append(["How to fill in this workbook"])
    ws["A1"].font = Font(bold=True, size=14)
    for line in _GENERAL:
        ws.append([line])
    for resource in resources:
        ws.append([])
        ws.append([f"Sheet {resource.sheet}"])
        ws.cell(ws.max_row, 1).font = Font(bold=True, size=12)
        for line in resource.instructions:
            ws.append([line])
        ws.append(["Column", "Required", "What to enter"])
        for cell in ws[ws.max_row]:
            cell.font = bold
        for f in resource.fields:
            ws.append([f.header, "yes" if f.required else "", f.describe()])
        ws.append([])
        ws.append([f"Example row for {resource.sheet}:"])
        ws.cell(ws.max_row, 1).font = bold
        ws.append([f.header for f in resource.fields])
        ws.append(["" if f.example is None else f.example for f in resource.fields])
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 10
    ws.column_dimensions["C"].width = 100
    # printed, the instructions are columns A-C, one page wide; the example rows run wider and stay on screen
    ws.print_area = f"A1:C{ws.max_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


_GENERAL = (
    "Fill in one row per item on each sheet you need; leave the other sheets empty or delete them.",
    "Headers marked * are required. Hover over a header to see what it takes.",
    "Identifier columns (SKU, UPC, codes) are formatted as text so that leading zeros stay; "
    "keep them that way when pasting (paste values only).",
    "Check the workbook with `pbload validate FILE`, then load it with `pbload load FILE`. pbload writes "
    "FILE.result.xlsx with a status for every row; fix failed rows there and load that file again.",
    "Updating something PB already has? Fill in only what changes: a blank cell keeps PB's value, and the word "
    f"{CLEAR} (in capitals, alone in the cell) clears it. `pbload plan FILE` shows, field by field, what a "
    "load would change, writing nothing; the result's Changes column names every change.",
)
