"""Damaged and hostile files end in exit 2 with a plain message, never a traceback: zip bombs and
oversized parts refused from the zip directory, unsafe part names, document type declarations,
broken XML (naming the part), workbooks protected with a password."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers import product_row, write_products

SHEET = "xl/worksheets/sheet1.xml"
BOMB_MB = 64


def rewrite(source: Path, target: Path, edit=None, extra: dict[str, bytes] | None = None) -> Path:
    """Copy a workbook's package, editing parts (`edit(name, data) -> data | None`) and adding others."""
    with zipfile.ZipFile(source) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            data = edit(name, data) if edit else data
            if data is not None:
                z.writestr(name, data)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return target


def with_bomb(source: Path, target: Path, part: str, opening: bytes, filler: bytes, closing: bytes) -> Path:
    """`source` with `part` replaced by one that inflates to BOMB_MB megabytes from well under one."""
    rewrite(source, target, lambda name, data: None if name == part else data)
    with zipfile.ZipFile(target, "a", zipfile.ZIP_DEFLATED) as z, z.open(part, "w", force_zip64=True) as out:
        out.write(opening)
        block = filler * (1024 * 1024 // len(filler))
        for _ in range(BOMB_MB):
            out.write(block)
        out.write(closing)
    return target


@pytest.fixture
def products(tmp_path: Path) -> Path:
    return write_products(tmp_path / "products.xlsx", [product_row("A"), product_row("B")])


def refused(cli, path: Path) -> str:
    result = cli("validate", path)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert not path.with_name(path.stem + ".result.xlsx").exists()
    assert result.output.startswith("Error: ")
    return result.output.strip().removeprefix("Error: ")


@pytest.mark.parametrize(
    "part, opening, filler, closing",
    [
        (
            "xl/styles.xml",
            b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">',
            b"<fonts/>",
            b"</styleSheet>",
        ),
        (
            "xl/sharedStrings.xml",
            b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>',
            b"A",
            b"</t></si></sst>",
        ),
        (
            SHEET,
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>',
            b'<row><c t="inlineStr"><is><t>x</t></is></c></row>',
            b"</sheetData></worksheet>",
        ),
        (
            SHEET,
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>',
            b" ",
            b"</sheetData></worksheet>",
        ),
        ("xl/drawings/drawing1.xml", b"<wsDr>", b"<sp/>", b"</wsDr>"),
    ],
)
def test_a_part_that_inflates_a_thousandfold_is_refused_from_the_directory(
    cli, products, tmp_path, part, opening, filler, closing
):
    bomb = with_bomb(products, tmp_path / "bomb.xlsx", part, opening, filler, closing)
    assert bomb.stat().st_size < 2 * 1024 * 1024
    message = refused(cli, bomb)
    assert message.startswith(
        f"bomb.xlsx is not a workbook pbload will open: its part {part} would inflate from "
    )
    assert f"to {BOMB_MB}.0 MB, far more than any workbook needs." in message


def test_refusing_a_bomb_keeps_memory_flat(products, tmp_path):
    bomb = with_bomb(
        products, tmp_path / "bomb.xlsx", "xl/styles.xml", b"<styleSheet>", b"<fonts/>", b"</styleSheet>"
    )
    # a fresh process, so that its peak memory is its own
    script = (
        "import json, sys\n"
        "from click.testing import CliRunner\n"
        "from loader.cli import main\n"
        "r = CliRunner().invoke(main, ['validate', sys.argv[1]])\n"
        "peak = next(l for l in open('/proc/self/status') if l.startswith('VmHWM:')).split()[1]\n"
        "print(json.dumps({'exit': r.exit_code, 'peak_mb': int(peak) / 1024}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(bomb)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={
            "PBLOAD_STATE_DIR": str(tmp_path / "state"),
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        },
    )
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    assert figures["exit"] == 2
    assert figures["peak_mb"] < 250  # importing pbload takes about 150 MB; the 64 MB part is never inflated


@pytest.mark.parametrize("name", ["../../evil.xml", "/etc/evil.xml", "xl\\..\\evil.xml", "C:/evil.xml"])
def test_unsafe_part_names_are_refused(cli, products, tmp_path, name):
    path = rewrite(products, tmp_path / "p.xlsx", extra={name: b"<x/>"})
    assert refused(cli, path) == (
        f"p.xlsx holds a part named '{name}', which no spreadsheet program writes. pbload does not open such "
        "files: save the workbook again from Excel."
    )


def test_two_parts_of_the_same_name_are_refused(cli, products, tmp_path):
    with zipfile.ZipFile(products) as z:
        sheet = z.read(SHEET)
    path = rewrite(
        products, tmp_path / "p.xlsx", extra={SHEET.upper(): sheet.replace(b"Product A", b"Other")}
    )
    assert refused(cli, path) == (
        f"p.xlsx holds two parts named '{SHEET.upper()}', which no spreadsheet program writes. pbload does not "
        "open such files: save the workbook again from Excel."
    )


@pytest.mark.parametrize(
    "declaration",
    [
        b'<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    ],
)
def test_document_type_declarations_are_refused_and_entities_never_expanded(
    cli, products, tmp_path, declaration
):
    def edit(name, data):
        return data.replace(b"<worksheet", declaration + b"<worksheet", 1) if name == SHEET else data

    path = rewrite(products, tmp_path / "p.xlsx", edit)
    assert refused(cli, path) == (
        f"p.xlsx is not a workbook pbload will open: its part {SHEET} declares a document type, which Excel never "
        "writes (it can make a reader fetch or expand hidden content). Save the workbook again from Excel and retry."
    )


def test_an_opendocument_file_is_checked_too(cli, tmp_path):
    path = tmp_path / "p.ods"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr(
            "content.xml", b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><office:document-content/>'
        )
    assert refused(cli, path).startswith(
        "p.ods is not a workbook pbload will open: its part content.xml declares a document type"
    )


@pytest.mark.parametrize(
    "damage, detail",
    [
        (lambda xml: xml.replace(b"<t>A</t>", b"<t>A&nbsp;</t>", 1), None),  # an entity XML does not know
        (lambda xml: xml[: len(xml) // 2], None),  # cut off half-way
        (lambda xml: xml.replace(b"</sheetData>", b"</sheetDta>"), None),
    ],
)
def test_broken_sheet_xml_names_the_part(cli, products, tmp_path, damage, detail):
    path = rewrite(products, tmp_path / "p.xlsx", lambda name, data: damage(data) if name == SHEET else data)
    message = refused(cli, path)
    assert message.startswith(
        f"p.xlsx is damaged and cannot be read (in its part {SHEET}, sheet 'Products'): its XML is broken ("
    )
    assert message.endswith("Open it in Excel or LibreOffice, save it again as .xlsx and retry.")


@pytest.mark.parametrize("part", ["xl/workbook.xml", "_rels/.rels", "xl/_rels/workbook.xml.rels"])
def test_broken_workbook_parts_name_the_part(cli, products, tmp_path, part):
    path = rewrite(products, tmp_path / "p.xlsx", lambda name, data: data[:40] if name == part else data)
    assert refused(cli, path).startswith(f"p.xlsx is damaged and cannot be read (in its part {part}): ")


def test_a_workbook_protected_with_a_password_says_so(cli, tmp_path):
    # Office encrypts a protected workbook inside an OLE compound file whose streams include "EncryptedPackage"
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    directory = (
        "Root Entry".encode("utf-16-le") + bytes(54) + "EncryptionInfo".encode("utf-16-le") + bytes(36)
    )
    directory += "EncryptedPackage".encode("utf-16-le") + bytes(32)
    path = tmp_path / "secret.xlsx"
    path.write_bytes(header + directory + bytes(4096))
    assert refused(cli, path) == (
        "secret.xlsx is protected with a password, so pbload cannot read it: save a copy without one (in Excel: "
        "File > Info > Protect Workbook > Encrypt with Password, clear it) and load that copy."
    )


@pytest.mark.parametrize(
    "content, message",
    [
        (
            b"<html><body><table><tr><td>SKU</td></tr></table></body></html>",
            "report.xlsx is a web page with a workbook's name, not an Excel workbook (.xlsx).",
        ),
        (b"PK\x03\x04" + bytes(60), "report.xlsx is damaged and cannot be read: "),
        (b"", "report.xlsx is not an Excel workbook (.xlsx)."),
    ],
)
def test_files_that_are_not_workbooks(cli, tmp_path, content, message):
    path = tmp_path / "report.xlsx"
    path.write_bytes(content)
    assert refused(cli, path).startswith(message)


def test_a_zip_that_is_no_workbook(cli, tmp_path):
    path = tmp_path / "photos.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("photo.jpg", b"\xff\xd8")
    assert refused(cli, path).startswith("photos.xlsx is not an Excel workbook (.xlsx).")


def test_an_excel_binary_workbook_is_refused_with_what_to_do(cli, products, tmp_path):
    def edit(name, data):
        return data.replace(b"workbook.xml", b"workbook.bin") if name.endswith(".rels") else data

    path = rewrite(products, tmp_path / "p.xlsb", edit, extra={"xl/workbook.bin": b"\x83\x01\x00"})
    assert refused(cli, path) == (
        "p.xlsb is an Excel Binary Workbook (.xlsb), which pbload does not read. Open it "
        "in Excel and save it as an Excel Workbook (.xlsx)."
    )
