"""Small workbooks and run reports for the result-writer tests, and LibreOffice as a reader."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.styles import Font, PatternFill

from loader.models import Issue, Outcome, RunReport, Severity, SheetReport, Status
from loader.resources.products import PRODUCTS
from tests.helpers import product_row, write_products

HEADERS = [f.header for f in PRODUCTS.fields]
POSITIONS = {"Products": {h: n for n, h in enumerate(HEADERS)}}
SOFFICE_MISSING = (
    "LibreOffice is needed to check that result workbooks open in real spreadsheet software, but "
    "`soffice` is not on PATH. Install it: apt-get install -y --no-install-recommends "
    "libreoffice-calc-nogui (Debian/Ubuntu), then run the tests again."
)


def report(
    path: Path,
    outcomes: dict[int, Outcome],
    issues: list[Issue] = (),
    sheet: str = "Products",
    rows: list[int] | None = None,
) -> RunReport:
    """A finished run over `sheet` with these outcomes (rows default to the outcomes' rows)."""
    run = RunReport(
        "run-1",
        "load",
        str(path),
        "ab" * 32,
        "local",
        datetime(2026, 11, 2, 9, 0, 0),
        template="products (products v1)",
        ended=datetime(2026, 11, 2, 9, 0, 42),
    )
    run.sheets = [SheetReport(sheet, rows or sorted(outcomes), dict(outcomes))]
    run.issues = list(issues)
    return run


def styled_products(path: Path) -> Path:
    """The products template with four rows, a few formats of the user's own and a sheet of notes."""
    write_products(
        path,
        [
            product_row("A-1", Unit_Cost=12.5),
            product_row("B-2", Product_Type="BOX"),
            product_row("C-3", Weight=2, Weight_Unit=None),
            product_row("D-4"),
        ],
    )
    book = openpyxl.load_workbook(path)
    ws = book["Products"]
    ws["C3"].font = Font(italic=True, color="FF0000")
    ws["A5"].fill = PatternFill("solid", fgColor="FFFF00")
    ws["J2"].number_format = "#,##0.000"
    ws.column_dimensions["C"].width = 33
    notes = book.create_sheet("Notes")
    notes["A1"] = "Prices agreed with the vendor on 3 March"
    notes["A1"].font = Font(bold=True, size=13)
    book.save(path)
    return path


def styled_report(path: Path) -> RunReport:
    """Row 2 created, 3 invalid (a cell), 4 invalid (a blank required cell), 5 failed at the API."""
    return report(
        path,
        {
            2: Outcome(Status.CREATED, "PB-0001", transaction_id="pbl-aaa"),
            3: Outcome(
                Status.INVALID, None, "not-allowed", "Product Type: Product Type 'BOX' is not allowed."
            ),
            4: Outcome(
                Status.INVALID,
                None,
                "required",
                "Weight Unit: Weight Unit is required when Weight is filled in.",
            ),
            5: Outcome(Status.FAILED, None, "PB-4001", "HS Code is not valid for PT.", "pbl-bbb"),
        },
        [
            Issue("Products", 3, "Product Type", "not-allowed", "Product Type 'BOX' is not allowed."),
            Issue(
                "Products", 4, "Weight Unit", "required", "Weight Unit is required when Weight is filled in."
            ),
            Issue(
                "Products",
                5,
                "Description",
                "whitespace",
                "Description had spaces at its end.",
                Severity.WARNING,
            ),
        ],
    )


def result_columns(path: Path, sheet: str = "Products") -> dict[int, tuple[Any, ...]]:
    """Row -> (Status, PB ID, Error Code, Message, Transaction ID), read with openpyxl."""
    ws = openpyxl.load_workbook(path)[sheet]
    headers = [c.value for c in ws[1]]
    first = headers.index("Status")
    return {
        cells[0].row: tuple(c.value for c in cells[first : first + 5])
        for cells in ws.iter_rows(min_row=2)
        if cells[first].value
    }


def soffice_csv(paths: list[Path], outdir: Path) -> dict[str, dict[str, str]]:
    """Every sheet of each workbook converted to CSV by LibreOffice (one start for all):
    file stem -> sheet name -> text. Without LibreOffice: fails in CI, skips elsewhere, saying how to
    install it."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        # CI installs it (.ci/run) and must run this test; a developer's machine may not have it
        assert not os.environ.get("CI"), SOFFICE_MISSING
        pytest.skip(SOFFICE_MISSING)
    profile = outdir / "lo-profile"
    done = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
            "--outdir",
            str(outdir),
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, dict[str, str]] = {}
    for path in paths:
        found[path.stem] = {
            p.stem[len(path.stem) + 1 :]: p.read_text(encoding="utf-8")
            for p in outdir.glob(f"{path.stem}-*.csv")
        }
        assert found[path.stem], f"LibreOffice could not convert {path.name}: {done.stdout} {done.stderr}"
    return found


def raw_workbook(
    path: Path,
    sheet_xml: str,
    shared: list[str] | None = None,
    prefix: str = "",
    extra_sheet_rels: str = "",
    extra_parts: dict[str, str] | None = None,
    extra_types: str = "",
    defined_names: str = "",
) -> Path:
    """A minimal workbook with one sheet, Products, from raw XML (for the oddities other writers produce)."""
    p = prefix
    ns = f'xmlns{":" + p[:-1] if p else ""}="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            f"{extra_types}</Types>"
        ),
        "_rels/.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<{p}workbook {ns} xmlns:r="{rel}"><{p}bookViews><{p}workbookView activeTab="0"/></{p}bookViews>'
            f'<{p}sheets><{p}sheet name="Products" sheetId="1" r:id="rId1"/></{p}sheets>{defined_names}'
            f"</{p}workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/styles" Target="styles.xml"/>'
            f'<Relationship Id="rId3" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
        ),
        "xl/styles.xml": (
            f'<{p}styleSheet {ns}><{p}fonts count="1"><{p}font><{p}sz val="11"/><{p}name val="Calibri"/></{p}font>'
            f'</{p}fonts><{p}fills count="2"><{p}fill><{p}patternFill patternType="none"/></{p}fill><{p}fill>'
            f'<{p}patternFill patternType="gray125"/></{p}fill></{p}fills><{p}borders count="1"><{p}border/>'
            f'</{p}borders><{p}cellStyleXfs count="1"><{p}xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
            f'</{p}cellStyleXfs><{p}cellXfs count="2"><{p}xf numFmtId="0" fontId="0" fillId="0" borderId="0" '
            f'xfId="0"/><{p}xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            f'</{p}cellXfs><{p}cellStyles count="1"><{p}cellStyle name="Normal" xfId="0" builtinId="0"/>'
            f"</{p}cellStyles></{p}styleSheet>"
        ),
        "xl/sharedStrings.xml": (
            f'<{p}sst {ns} count="{len(shared or [])}" uniqueCount="{len(shared or [])}">'
            + "".join(f"<{p}si><{p}t>{s}</{p}t></{p}si>" for s in shared or [])
            + f"</{p}sst>"
        ),
        "xl/worksheets/sheet1.xml": f'<{p}worksheet {ns} xmlns:r="{rel}">{sheet_xml}</{p}worksheet>',
    }
    if extra_sheet_rels:
        parts["xl/worksheets/_rels/sheet1.xml.rels"] = (
            f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{extra_sheet_rels}'
            "</Relationships>"
        )
    parts.update(extra_parts or {})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + text)
    return path
