"""A big sheet read a band of rows at a time, so that the cell reader never holds the whole sheet at once.

python-calamine loads every cell of a sheet before it gives the first one back: at a million rows its
grid takes about 1.5 GB, held while the rows become Python values. A sheet part larger than
`BANDED_FROM` (about 250,000 rows) is cut instead, as a stream of bytes, into bands of whole `<row>`
elements of about `BAND_BYTES` each. Each band becomes a small in-memory package: the input's own
workbook, styles and shared strings (so dates, the 1904 date system and shared texts read as they
would) and a sheet part holding the band's rows, which keep their `r` numbers. python-calamine reads
each of those; the band's rows are given on, and the band is dropped once they are. The next band is
parsed meanwhile, in a thread of its own.

Cutting needs nothing but the markers of rows: the sheet's root element and `<sheetData>` are found in
its first bytes, and a band ends after the last `</row>` in what has been read. A sheet whose XML this
does not fit (no `<sheetData>`, rows without their numbers) is read whole, as any small sheet is.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from defusedxml.ElementTree import fromstring
from python_calamine import CalamineWorkbook

from loader.errors import WorkbookError
from loader.workbook.package import XLSX, Package, damaged

MiB = 1024 * 1024
BAND_BYTES = 8 * MiB  # the sheet XML read per band (about 8,000 rows of twenty cells of inline text)
STRINGS_SHARE = 4  # a band is at least this many times the shared strings' part (parsed for each band)
# Sheet parts larger than this are read in bands. Below it (about 250,000 rows) the whole sheet's cells fit
# well in memory, and reading them in one go costs less: cutting and re-opening bands takes about 20% more.
BANDED_FROM = 256 * MiB
_HEAD_BYTES = 1 * MiB  # where the sheet's root element and `<sheetData>` are looked for
# What a band's package needs of the input besides the sheet: how cells are styled (dates) and shared texts.
_KEPT_PARTS = ("/styles", "/sharedStrings")

_ROOT = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?worksheet[\s>]")
_SHEET_DATA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheetData(\s[^>]*)?(/?)>")
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s>/]")
_NUMBERED_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row\s[^>]*?\br\s*=")


def bands_of(package: Package, sheet: str) -> Bands | None:
    """The sheet's rows in bands when its part is large enough to need them (Office Open XML only)."""
    part = package.part_of(sheet)
    if package.kind != XLSX or part is None:
        return None
    with zipfile.ZipFile(package.path) as z:
        info = z.NameToInfo.get(part)
        if info is None or info.file_size <= BANDED_FROM:
            return None
        with z.open(part) as stream:
            start = stream.read(_HEAD_BYTES)
    return Bands.after(package, part, sheet, start)


class Bands:
    """A sheet's rows read band by band: `rows()` gives every row from row 1, and `merged` then holds the
    sheet's merged ranges (they follow the rows in the XML)."""

    def __init__(self, package: Package, part: str, sheet: str, head: bytes, close: bytes, row_end: bytes):
        self._package, self._part, self._sheet = package, part, sheet
        self._head, self._close, self._row_end = head, close, row_end
        self.merged: list[tuple[tuple[int, int], tuple[int, int]]] = []

    @classmethod
    def after(cls, package: Package, part: str, sheet: str, start: bytes) -> Bands | None:
        """Bands for a sheet whose XML begins with `start`, or None when its XML does not fit the cutting."""
        root = _ROOT.search(start)
        data = _SHEET_DATA.search(start, root.end()) if root else None
        if root is None or data is None or data.group(2):
            return None
        first_rows = start[data.end() : start.rfind(b">") + 1]
        if len(_ROW_TAG.findall(first_rows)) != len(_NUMBERED_ROW_TAG.findall(first_rows)):
            return None  # rows numbered by their place only: a band would number them from 1 again
        prefix = root.group(1) + b":" if root.group(1) else b""
        root_tag = start[root.start() : start.index(b">", root.start()) + 1]
        head = (
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            + root_tag
            + start[data.start() : data.end()]
        )
        close = b"</" + prefix + b"sheetData></" + prefix + b"worksheet>"
        return cls(package, part, sheet, head, close, b"</" + prefix + b"row>")

    def rows(self) -> Iterator[list[Any]]:
        """Every row from row 1 in order, each a list of values from column A ("" for an empty cell; rows
        with no cell at all may be empty lists).

        The next band is cut and parsed in a thread of its own while this one's rows are given on
        (calamine parses without the GIL): two bands are held at most."""
        with (
            zipfile.ZipFile(self._package.path) as z,
            ThreadPoolExecutor(1, thread_name_prefix="pbload-band") as reader,
        ):
            kept = _kept_parts(z, self._part)
            # shared texts are parsed again for every band: bands are large enough for that to cost little
            band_bytes = max(BAND_BYTES, STRINGS_SHARE * max((len(v) for v in kept.values()), default=0))
            documents = self._band_xml(z, band_bytes)

            def parse_next() -> Any:
                xml = next(documents, None)
                return None if xml is None else _read_band(kept, self._part, self._sheet, xml)

            ahead = reader.submit(parse_next)
            next_row = 0  # 0-based: the row the next one given is
            while (cells := ahead.result()) is not None:
                ahead = reader.submit(parse_next)
                self.merged += merged_ranges(cells)
                if cells.start is None:
                    continue
                first, left = cells.start
                if first < next_row:
                    raise WorkbookError(
                        damaged(
                            self._package.path,
                            f"its rows are out of order near row {first + 1}",
                            f"{self._part}, sheet '{self._sheet}'",
                        )
                    )
                for _ in range(first - next_row):
                    yield []
                band = cells.to_python(skip_empty_area=True)
                del cells
                pad = [""] * left
                for row in band:
                    yield pad + row if left else row
                next_row = first + len(band)
                del band

    def _band_xml(self, z: zipfile.ZipFile, band_bytes: int) -> Iterator[bytes]:
        """The sheet part as whole worksheets of a band of rows each; the last holds what follows the rows."""
        with z.open(self._part) as stream:
            data = stream.read(_HEAD_BYTES)
            begin = _SHEET_DATA.search(data)
            assert begin is not None  # Bands.after found it in the same first bytes
            pending = data[begin.end() :]
            more: bytes | bool = True
            while more:
                cut = pending.rfind(self._row_end, 0, band_bytes) if len(pending) >= band_bytes else -1
                if cut == -1 and len(pending) >= band_bytes:
                    # one row longer than a band: it is a band of its own (the sheet scan refuses giant rows)
                    cut = pending.find(self._row_end, band_bytes)
                if cut == -1:
                    more = stream.read(band_bytes)
                    pending += more
                    continue
                cut += len(self._row_end)
                yield self._head + pending[:cut] + self._close
                pending = pending[cut:]
            yield self._head + pending


def _kept_parts(z: zipfile.ZipFile, part: str) -> dict[str, bytes]:
    """The input's parts a band's package carries: the package's and workbook's relationships, the workbook
    part, its styles and shared strings (each read once for every band)."""
    kept: dict[str, bytes] = {
        name: z.read(name) for name in ("[Content_Types].xml", "_rels/.rels") if name in z.NameToInfo
    }
    main = _main_part(kept.get("_rels/.rels"))
    if main not in z.NameToInfo:
        return kept
    folder, base = posixpath.split(main)
    rels = posixpath.join(folder, "_rels", base + ".rels")
    kept[main] = z.read(main)
    if rels in z.NameToInfo:
        kept[rels] = z.read(rels)
        for rel in fromstring(kept[rels]):
            target = rel.get("Target", "")
            name = (
                target.lstrip("/")
                if target.startswith("/")
                else posixpath.normpath(posixpath.join(folder, target))
            )
            if rel.get("Type", "").endswith(_KEPT_PARTS) and name in z.NameToInfo and name != part:
                kept[name] = z.read(name)
    return kept


def _main_part(rels: bytes | None) -> str:
    if rels is not None:
        for rel in fromstring(rels):
            if rel.get("Type", "").endswith("/officeDocument"):
                return posixpath.normpath(rel.get("Target", "").lstrip("/"))
    return "xl/workbook.xml"


def merged_ranges(cells: Any) -> list[Any]:
    try:
        return cells.merged_cell_ranges or []
    except Exception:  # older files without merge information
        return []


def _read_band(kept: dict[str, bytes], part: str, sheet: str, xml: bytes) -> Any:
    """python-calamine's sheet of one band: a stored (uncompressed) package of the kept parts and the band."""
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w", zipfile.ZIP_STORED) as z:
        for name, data in kept.items():
            z.writestr(name, data)
        z.writestr(part, xml)
    package.seek(0)
    return CalamineWorkbook.from_filelike(package).get_sheet_by_name(sheet)
