"""A big sheet read in bands of rows gives exactly what reading it whole gives."""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from loader.errors import WorkbookError
from loader.workbook import bands, reader
from tests.helpers import product_row

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = sorted((ROOT / "samples").glob("*.xlsx")) + sorted(
    (ROOT / "tests/golden/result/inputs").glob("*.xlsx")
)


def _read(path: Path):
    """What a read gives that later stages see: each sheet's values by row, its columns and its issues."""
    try:
        book = reader.read_workbook(path)
    except WorkbookError as exc:
        return str(exc)
    return [(s.sheet, s.frame.to_dict("index"), s.columns, s.issues) for s in book.sheets], book.issues


def _both(path: Path, monkeypatch, band_bytes: int) -> tuple[object, object, int]:
    """The read of `path` whole, then in bands of `band_bytes`, and how many bands were read."""
    monkeypatch.setattr(bands, "BANDED_FROM", 1 << 40)
    whole = _read(path)
    read = bands._read_band
    count = []

    def counted(*args):
        count.append(1)
        return read(*args)

    monkeypatch.setattr(bands, "BANDED_FROM", 0)
    monkeypatch.setattr(bands, "BAND_BYTES", band_bytes)
    monkeypatch.setattr(bands, "STRINGS_SHARE", 0)
    monkeypatch.setattr(bands, "_read_band", counted)
    return whole, _read(path), len(count)


def _big_products(path: Path, rows: int = 450, left: int = 1, epoch=None) -> Path:
    """A products sheet of `rows` rows from column `left`: texts (shared), numbers, dates, blank rows
    and merged cells, written by openpyxl (which numbers every row)."""
    headers = [*product_row(), "Weight", "Create Date"]
    book = openpyxl.Workbook()
    if epoch is not None:
        book.epoch = epoch
    ws = book.active
    ws.title = "Products"
    for col, header in enumerate(headers, start=left):
        ws.cell(1, col, header)
    filled = set(_filled_rows(rows))
    for n in range(2, rows + 2):
        if n not in filled:  # runs of blank rows, some across a band's edge
            continue
        values = [
            f"S-{n:05}",
            "ITEM",
            "Mug" if n % 3 else f"Mug {n}",
            n * 0.25,
            datetime(2026, 1, 1 + n % 28),
        ]
        for col, value in enumerate(values, start=left):
            ws.cell(n, col, value)
    ws.merge_cells(start_row=300, start_column=left + 2, end_row=301, end_column=left + 2)
    book.save(path)
    return path


def _filled_rows(rows: int) -> list[int]:
    return [n for n in range(2, rows + 2) if n % 37 not in (0, 1, 2)]


@pytest.mark.parametrize("left", [1, 3])
def test_a_sheet_read_in_bands_reads_as_it_does_whole(tmp_path, monkeypatch, left):
    path = _big_products(tmp_path / "p.xlsx", left=left)
    whole, banded, count = _both(path, monkeypatch, 2_000)
    assert count > 10  # the sheet really was cut: 450 rows in bands of about 2 kB
    assert banded == whole
    frame = reader.read_workbook(path).sheets[0].frame
    assert list(frame.index) == _filled_rows(450)  # every non-blank row, each once
    assert frame.at[451, "sku"] == "S-00451"
    assert frame.at[451, "createDate"] == date(2026, 1, 1 + 451 % 28)


def test_dates_of_the_1904_date_system_read_in_bands_as_typed(tmp_path, monkeypatch):
    path = _big_products(tmp_path / "p.xlsx", rows=250, epoch=CALENDAR_MAC_1904)
    whole, banded, count = _both(path, monkeypatch, 1_500)
    assert count > 5 and banded == whole
    monkeypatch.setattr(bands, "BANDED_FROM", 0)
    assert reader.read_workbook(path).sheets[0].frame.at[250, "createDate"] == date(2026, 1, 1 + 250 % 28)


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.name)
def test_every_sample_and_writer_kind_reads_the_same_in_bands(fixture, monkeypatch):
    """Excel's, LibreOffice's, openpyxl's and xlsxwriter's files, rows without numbers, prefixed XML."""
    whole, banded, _ = _both(fixture, monkeypatch, 300)
    assert banded == whole


def _rewritten(path: Path, out: Path, edit) -> Path:
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            dst.writestr(info, edit(data) if info.filename == "xl/worksheets/sheet1.xml" else data)
    return out


def _prefixed(xml: bytes) -> bytes:
    """The sheet's XML with its elements in the `x:` prefix (as some generators write it)."""
    xml = re.sub(rb"<(/?)(?=[A-Za-z])", rb"<\1x:", xml)
    return xml.replace(b'xmlns="http', b'xmlns:x="http', 1)


def test_a_sheet_in_prefixed_xml_reads_the_same_in_bands(tmp_path, monkeypatch):
    path = _rewritten(_big_products(tmp_path / "p.xlsx"), tmp_path / "x.xlsx", _prefixed)
    assert b"<x:row " in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    whole, banded, count = _both(path, monkeypatch, 2_000)
    assert count > 10 and banded == whole and list(whole[0][0][1]) == _filled_rows(450)


def test_rows_out_of_order_across_bands_are_refused_with_what_to_do(tmp_path, monkeypatch):
    def move_row_5_to_the_end(xml: bytes) -> bytes:
        row = re.search(rb'<row r="5".*?</row>', xml).group(0)
        return xml.replace(row, b"").replace(b"</sheetData>", row + b"</sheetData>")

    path = _rewritten(_big_products(tmp_path / "p.xlsx"), tmp_path / "o.xlsx", move_row_5_to_the_end)
    monkeypatch.setattr(bands, "BANDED_FROM", 0)
    monkeypatch.setattr(bands, "BAND_BYTES", 2_000)
    with pytest.raises(WorkbookError, match=r"o\.xlsx .*rows are out of order near row 5.*Excel"):
        reader.read_workbook(path)
