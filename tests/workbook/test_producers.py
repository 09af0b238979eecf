"""Every spreadsheet program's files load: LibreOffice's .ods, Excel 97-2003 .xls (both written by
LibreOffice here), Strict Open XML, xlsxwriter's workbooks (plain and constant-memory), and the
bare XML some exporters write (no row or cell references). A result the input cannot carry is a new
.xlsx beside it, with the values and pbload's marks, and the run says its formatting was not kept."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from loader.workbook.reader import read_workbook
from tests.helpers import product_row, read_statuses, write_products

ROWS = 230  # past a chunk of 200
TRANSITIONAL = (
    b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
)
STRICT = (
    b"http://purl.oclc.org/ooxml/spreadsheetml/main",
    b"http://purl.oclc.org/ooxml/officeDocument/relationships",
)


def products_with_one_bad_row(path: Path) -> Path:
    rows = [product_row(f"SKU-{n:03d}", Brand="Casa") for n in range(ROWS)]
    rows[210] = product_row("SKU-210", Product_Type="BOX")  # row 212 of the sheet
    return write_products(path, rows)


def check_rebuilt_result(cli, path: Path, kind: str) -> None:
    result = cli("validate", path)
    assert result.exit_code == 1, result.output
    assert (
        f"{path.name} is {kind}: its result is a new .xlsx workbook with its values and pbload's marks; its "
        "formatting could not be kept."
    ) in result.output
    out = path.with_name(path.stem + ".result.xlsx")
    statuses = read_statuses(out)
    assert len(statuses) == ROWS
    assert statuses[212]["Status"] == "INVALID" and statuses[212]["Error Code"] == "not-allowed"
    assert sum(s["Status"] == "VALID" for s in statuses.values()) == ROWS - 1
    book = openpyxl.load_workbook(out)
    assert book["Products"]["A2"].value == "SKU-000" and book["Products"]["D2"].value == "Casa"
    assert book["_pbload"].sheet_state == "hidden"  # the template's facts ride along, hidden as they were
    # and the result loads again as an ordinary workbook
    assert cli("validate", out, "-o", path.with_name("again.xlsx")).exit_code == 1


def libreoffice(source: Path, kind: str) -> Path:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed (.ci/run installs it)")
    out = source.parent / "converted"
    subprocess.run(
        [
            soffice,
            "--headless",
            f"-env:UserInstallation=file://{source.parent / 'lo-profile'}",
            "--convert-to",
            kind,
            "--outdir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return out / f"{source.stem}.{kind}"


@pytest.mark.parametrize(
    "kind, label",
    [("ods", "an OpenDocument spreadsheet (.ods)"), ("xls", "an Excel 97-2003 workbook (.xls)")],
)
def test_libreoffice_files_load_and_get_a_new_xlsx_result(cli, tmp_path, kind, label):
    path = libreoffice(products_with_one_bad_row(tmp_path / "products.xlsx"), kind)
    check_rebuilt_result(cli, path, label)


def test_a_workbook_named_for_another_kind_is_read_by_its_contents(cli, tmp_path):
    ods = libreoffice(write_products(tmp_path / "p.xlsx", [product_row("A")]), "ods")
    misnamed = ods.rename(ods.with_suffix(".xlsx"))
    assert [list(s.frame.index) for s in read_workbook(misnamed).sheets] == [[2]]


def to_strict(source: Path, target: Path) -> Path:
    with zipfile.ZipFile(source) as z, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in z.infolist():
            data = z.read(info)
            for old, new in zip(TRANSITIONAL, STRICT, strict=False):
                data = data.replace(old, new)
            if info.filename == "xl/workbook.xml":
                data = data.replace(b"<workbook ", b'<workbook conformance="strict" ', 1)
            out.writestr(info, data)
    return target


def test_a_strict_open_xml_workbook_loads_and_gets_a_new_xlsx_result(cli, tmp_path):
    path = to_strict(products_with_one_bad_row(tmp_path / "plain.xlsx"), tmp_path / "strict.xlsx")
    assert b"purl.oclc.org" in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    check_rebuilt_result(cli, path, "saved as Strict Open XML")


def test_strict_workbooks_get_the_sheet_scan_too(tmp_path):
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Products"
    ws.append(["SKU", "Product Type", "Description"])
    ws.append(["A", "ITEM", "#REF!"])
    ws.row_dimensions[2].hidden = True
    book.save(tmp_path / "plain.xlsx")
    data = read_workbook(to_strict(tmp_path / "plain.xlsx", tmp_path / "strict.xlsx")).sheets[0]
    assert [(i.row, i.column, i.code) for i in data.issues] == [
        (2, "Description", "formula-error"),
        (2, None, "hidden-row"),
    ]


@pytest.mark.parametrize("options", [{}, {"constant_memory": True}])
def test_xlsxwriter_workbooks_load_and_keep_their_formatting(cli, tmp_path, options):
    path = tmp_path / "export.xlsx"
    book = xlsxwriter.Workbook(path, options)
    ws = book.add_worksheet("Products")
    bold = book.add_format({"bold": True, "bg_color": "#DDEEFF"})
    ws.write_row(0, 0, ["SKU", "Product Type", "Description", "Unit Cost"], bold)
    for n in range(ROWS):
        ws.write_row(n + 1, 0, [f"X-{n:03d}", "ITEM" if n != 150 else "BOX", f"Item {n}", 2.5])
    book.close()

    result = cli("validate", path)

    assert result.exit_code == 1, result.output
    assert "formatting could not be kept" not in result.output
    statuses = read_statuses(tmp_path / "export.result.xlsx")
    assert len(statuses) == ROWS and statuses[152]["Status"] == "INVALID"
    cell = openpyxl.load_workbook(tmp_path / "export.result.xlsx")["Products"]["A1"]
    assert cell.font.bold and cell.fill.fgColor.rgb.endswith("DDEEFF")


def test_sheets_without_row_or_cell_references_load(cli, tmp_path):
    # some exporters write <row> and <c> without r="...": each row and cell is the next one
    path = write_products(
        tmp_path / "p.xlsx", [product_row(f"B-{n}") for n in range(ROWS)], from_template=False
    )
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = re.sub(rb' r="[A-Z]*\d+"', b"", parts[sheet])
    parts[sheet] = parts[sheet].replace(
        b'<c t="inlineStr"><is><t>Product B-207</t></is></c>', b'<c t="e"><v>#N/A</v></c>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    assert b' r="' not in parts[sheet] and b"#N/A" in parts[sheet]

    result = cli("validate", path)

    assert result.exit_code == 1, result.output
    assert "Products row 209, Description: Description holds the error #N/A" in result.output
    statuses = read_statuses(tmp_path / "p.result.xlsx")
    assert len(statuses) == ROWS
    assert statuses[209]["Status"] == "INVALID" and statuses[209]["Error Code"] == "formula-error"
    assert sum(s["Status"] == "VALID" for s in statuses.values()) == ROWS - 1
