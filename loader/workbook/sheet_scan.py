"""What a sheet's XML says that the cell reader hides: error values, formulas never calculated, hidden
rows and columns, and whether a filter hides rows.

python-calamine reads a cell holding `#REF!` as an empty cell, and a formula nobody calculated as an
empty one too; it does not say which rows and columns are hidden. This pass reads the sheet part
once more, as a stream of bytes: it looks only for the few markers that matter (`t="e"`, `<f`,
`hidden=`, `<col`, `<filterColumn`) with `bytes.find`, and decodes the few cells they point at. It
holds one row at a time, never the sheet, and costs a fraction of reading the cells.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO

from openpyxl.utils import column_index_from_string

CHUNK = 8 * 1024 * 1024
MAX_ROW_BYTES = 256 * 1024 * 1024  # no real row comes near: past it the sheet is refused as damaged

_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet[\s>/]")
_ATTR = re.compile(rb"([\w:.-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_LETTERS = re.compile(rb"^\$?([A-Za-z]{1,3})")
_TRUE = (b"1", b"true")
_NAME_END = (b" ", b">", b"/", b"\t", b"\n", b"\r")  # what may follow an element's name in its tag


class SheetTooLarge(Exception):
    """A single row of the sheet is larger than any real row."""


@dataclass
class SheetFacts:
    """What the sheet's XML says about its cells, rows and columns (rows 1-based, columns 0-based)."""

    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, column) -> "#REF!"
    uncalculated: set[tuple[int, int]] = field(default_factory=set)  # formulas without a stored value
    hidden_rows: list[int] = field(default_factory=list)
    hidden_columns: set[int] = field(default_factory=set)
    filtered: bool = False  # an AutoFilter with a condition in force: hidden rows are filtered out


def scan_sheet(book: zipfile.ZipFile, part: str, table_parts: Sequence[str] = ()) -> SheetFacts:
    """Scan one sheet part (and the tables on it, for their filters)."""
    facts = SheetFacts()
    with book.open(part) as stream:
        _Scanner(facts).run(stream)
    if facts.hidden_rows and not facts.filtered:
        facts.filtered = any(b"<" in data and b"filterColumn" in data for data in _reads(book, table_parts))
    return facts


def _reads(book: zipfile.ZipFile, parts: Sequence[str]) -> list[bytes]:
    return [book.read(p) for p in parts if p in book.NameToInfo]


class _Scanner:
    """Feeds the sheet to `_block` a run of whole rows at a time (cut after a row's end tag)."""

    def __init__(self, facts: SheetFacts) -> None:
        self.facts = facts
        self.p = b""
        self.row = 0  # the last row number seen so far
        self.in_data = False

    def run(self, stream: IO[bytes]) -> None:
        pending: list[bytes] = []
        size = 0
        close = b""
        while chunk := stream.read(CHUNK):
            if not close:  # the first chunk names the prefix, if any
                root = _ROOT.search(chunk)
                self.p = (root.group(1) or b"") if root else b""
                close = b"</" + self.p + b"row>"
            edge = pending[-1][-(len(close) - 1) :] if pending else b""
            cut = (edge + chunk).rfind(close)
            if cut < 0:
                pending.append(chunk)
                size += len(chunk)
                if size > MAX_ROW_BYTES:
                    raise SheetTooLarge()
                continue
            cut += len(close) - len(edge)
            self._block(b"".join(pending) + chunk[:cut])
            pending, size = [chunk[cut:]], len(chunk) - cut
        self._block(b"".join(pending), last=True)

    def _block(self, block: bytes, last: bool = False) -> None:
        p = self.p
        start = 0
        if not self.in_data:
            data = block.find(b"<" + p + b"sheetData")
            if data < 0 and not last:
                data = len(block)
            head = block[: data if data >= 0 else len(block)]
            self._columns(head)
            if data < 0:
                return
            self.in_data = True
            start = data
        self._errors(block, start)
        self._formulas(block, start)
        self._hidden(block, start)
        if last:
            end = block.find(b"</" + p + b"sheetData")
            self.facts.filtered = b"filterColumn" in block[end:] if end >= 0 else False
        self.row = self._row_at(block, len(block), start)

    # --- what the markers point at ---------------------------------------------------------

    def _columns(self, head: bytes) -> None:
        for m in re.finditer(rb"<" + re.escape(self.p) + rb"col\s([^>]*)>", head):
            a = _attrs(m.group(1))
            if a.get(b"hidden", b"").lower() in _TRUE:
                low, high = int(a.get(b"min", b"1")), int(a.get(b"max", a.get(b"min", b"1")))
                self.facts.hidden_columns.update(range(low - 1, min(high, 16384)))

    def _errors(self, block: bytes, start: int) -> None:
        for marker in (b't="e"', b"t='e'"):
            pos = block.find(marker, start)
            while pos >= 0:
                cell = self._cell_at(block, pos, start)
                if cell is not None:
                    value = self._value(block, pos)
                    self.facts.errors[cell] = value.decode(errors="replace") if value else "#N/A"
                pos = block.find(marker, pos + 1)

    def _value(self, block: bytes, inside: int) -> bytes | None:
        """The `<v>` of the cell holding `inside` (None when it has none; b"" when it is empty)."""
        tag_end = block.find(b">", inside)
        if (
            tag_end > 0
            and block[tag_end - 1 : tag_end] == b"/"
            and block.rfind(b"<" + self.p + b"c", 0, inside) > block.rfind(b">", 0, inside)
        ):
            return None  # <c .../>: no content at all
        end = block.find(b"</" + self.p + b"c>", inside)
        value = re.search(
            rb"<" + re.escape(self.p) + rb"v>([^<]*)<", block[inside : end if end >= 0 else len(block)]
        )
        return value.group(1) if value else None

    def _formulas(self, block: bytes, start: int) -> None:
        f = b"<" + self.p + b"f"
        pos = block.find(f, start)
        while pos >= 0:
            if block[pos + len(f) : pos + len(f) + 1] in _NAME_END:
                cell = self._cell_at(block, pos, start, inside=True)
                if cell is not None and cell not in self.facts.errors and not self._has_value(block, pos):
                    self.facts.uncalculated.add(cell)
            pos = block.find(f, pos + 1)

    def _has_value(self, block: bytes, formula: int) -> bool:
        """Whether a formula's cell stores a value (a text result may be empty: `t="str"` with `<v></v>`)."""
        value = self._value(block, formula)
        if value:
            return True
        tag = block[block.rfind(b"<" + self.p + b"c", 0, formula) : formula]
        kind = _attrs(tag).get(b"t", b"n")
        return value is not None and kind in (b"str", b"s", b"inlineStr")

    def _hidden(self, block: bytes, start: int) -> None:
        pos = block.find(b"hidden=", start)
        while pos >= 0:
            tag = block.rfind(b"<", start, pos)
            row_tag = b"<" + self.p + b"row"
            if tag >= 0 and block.startswith(row_tag, tag) and b">" not in block[tag:pos]:
                end = block.find(b">", pos)
                if _attrs(block[tag:end]).get(b"hidden", b"").lower() in _TRUE:
                    self.facts.hidden_rows.append(self._row_at(block, tag + len(row_tag), start))
            pos = block.find(b"hidden=", pos + 1)

    # --- where a position is ------------------------------------------------------------------

    def _cell_at(self, block: bytes, pos: int, start: int, inside: bool = False) -> tuple[int, int] | None:
        """The (row, column) of the cell whose start tag holds `pos` (or, `inside`, whose content does)."""
        c = b"<" + self.p + b"c"
        tag = block.rfind(c, start, pos)
        while tag >= 0 and block[tag + len(c) : tag + len(c) + 1] not in _NAME_END:
            tag = block.rfind(c, start, tag)
        if tag < 0 or (not inside and b">" in block[tag:pos]):
            return None
        end = block.find(b">", tag)
        ref = _attrs(block[tag:end]).get(b"r")
        row = self._row_at(block, tag, start)
        letters = _LETTERS.match(ref) if ref else None
        if letters:
            return row, column_index_from_string(letters.group(1).decode().upper()) - 1
        row_start = block.rfind(b"<" + self.p + b"row", start, tag)
        return row, len(re.findall(rb"<" + re.escape(self.p) + rb"c[\s>/]", block[row_start:tag]))

    def _row_at(self, block: bytes, pos: int, start: int) -> int:
        """The number of the row whose start tag is the last one before `pos`."""
        row_tag = b"<" + self.p + b"row"
        tag = block.rfind(row_tag, start, pos)
        while tag >= 0 and block[tag + len(row_tag) : tag + len(row_tag) + 1] not in _NAME_END:
            tag = block.rfind(row_tag, start, tag)
        if tag < 0:
            return self.row
        end = block.find(b">", tag)
        number = _attrs(block[tag:end]).get(b"r")
        if number and number.isdigit():
            return int(number)
        upto = tag + len(row_tag) + 1
        return self.row + block.count(row_tag + b">", start, upto) + block.count(row_tag + b" ", start, upto)


def _attrs(tag: bytes) -> dict[bytes, bytes]:
    return {
        m.group(1).split(b":")[-1]: m.group(2) if m.group(2) is not None else m.group(3)
        for m in _ATTR.finditer(tag)
    }
