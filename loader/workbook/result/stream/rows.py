"""The row scanner: one data sheet's XML rewritten as a stream, pbload's cells added to each row.

The sheet is read decompressed in chunks and handled in three stages: the head (everything before
`<sheetData>`: dimension, views, column widths) and the tail (everything after it: filters, merged
cells, conditional formats, comments' drawing) are small and handed to `SheetEdit`'s editors
(`sheet_edges`); the rows in between are copied as they are, except that each row with a status gets
its new cells before `</row>`. This is the one place that handles XML as bytes by hand: a row costs a
couple of searches from its end, so 100,000 rows take well under a second.

Every search of a part still being read covers only the bytes not searched before (and a tag's
length before them, for a tag cut in two by a chunk), and bytes are kept as pieces joined once, so
the time is linear in the sheet's size however long one row is. What waits for its end (a row, the
part after the rows, a shared string) is capped at `MAX_PENDING`: beyond it the result is refused
with `TooLong`, not buffered until memory runs out.

Traps handled: rows and cells without `r=` (counted), `<row` vs `<rowBreaks>` and `<c` vs
`<color>` (tags matched whole), a chunk ending inside a tag (rows are cut at `</row>` only), `spans`
(dropped from touched rows; it is only a hint), namespace prefixes such as `x:`, cells already in
pbload's columns (replaced; a formula there hands the sheet to the openpyxl path).
"""

from __future__ import annotations

import html
import itertools
import re
import zipfile
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO

from openpyxl.utils import column_index_from_string, get_column_letter

from loader.errors import ResultError
from loader.models import Outcome, Outcomes, Status
from loader.workbook.reader import HEADER_ROW
from loader.workbook.result.content import field_values
from loader.workbook.result.stream.ooxml import MAIN_NS, STRICT_NS, t_element
from loader.workbook.result.stream.refusals import StrictWorkbook, Unsupported

CHUNK = 1 << 20
MAX_HEAD = 32 << 20  # bytes before the end of the header row; more means this is no ordinary sheet
# Bytes held while waiting for one row, the part after the rows or one shared string to end. Excel's
# limits (32,767 characters a cell) keep a real row far below it; more is a damaged or hostile file.
MAX_PENDING = 256 << 20
_CELL_COL = re.compile(rb"\sr\s*=\s*[\"']([A-Z]{1,3})\d+[\"']")
_ROW_NUMBER = re.compile(rb"\sr\s*=\s*[\"'](\d+)[\"']")
_SPANS = re.compile(rb"\sspans\s*=\s*(\"[^\"]*\"|'[^']*')")
_SI = re.compile(rb"<(?:\w+:)?si\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?si>)", re.S)
_T = re.compile(rb"<(?:\w+:)?t\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?t>)", re.S)
_RPH = re.compile(rb"<(?:\w+:)?rPh\b.*?</(?:\w+:)?rPh>", re.S)
_NOT_SENT = (Status.NOT_SENT.value, None, None, None, None)
_TAG_END = frozenset(b" \t\r\n>/")
_ROW_NAME_END = re.compile(rb"[\s/>]")  # what may follow `<row` in a row's tag (the row pattern's look-ahead)
_DATA_NAME_END = re.compile(rb"\W")  # what may follow `<sheetData` (its pattern's \b)
_SI_CLOSE = re.compile(rb"</(?:[\w.-]+:)?si>")
_SI_OVERLAP = 64  # a closing </x:si> cut by a chunk is found if its prefix is shorter; else at the next one
_MADE, _MADE_BYTES = 1024, 4 << 20  # the rows' values (and bytes) whose cells `SheetRewriter._cells` keeps
_BODIES = 4096  # the cell values whose bytes `SheetRewriter._body` keeps
_ATTR = re.compile(rb"([\w.:-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")


def attrs(tag: bytes) -> dict[str, str]:
    """The attributes of a start tag, unescaped, by qualified name."""
    return {
        m.group(1).decode(): html.unescape((m.group(2) if m.group(2) is not None else m.group(3)).decode())
        for m in _ATTR.finditer(tag)
    }


def prefix_of(data: bytes, local: str) -> bytes:
    """The namespace prefix ('x:' or '') the first `local` element is written with."""
    m = re.search(rb"<([A-Za-z_][\w.-]*:)?" + local.encode() + rb"[\s/>]", data)
    if not m:
        raise Unsupported(f"no <{local}> element")
    return m.group(1) or b""


def check_namespace(tag: bytes, prefix: bytes) -> None:
    """Refuse Strict Open XML, and anything whose spreadsheet elements are in an unknown namespace."""
    declared = re.search(
        rb"xmlns" + (b":" + prefix[:-1] if prefix else b"") + rb"\s*=\s*[\"']([^\"']*)[\"']", tag
    )
    uri = declared.group(1) if declared else b""
    if uri == STRICT_NS:
        raise StrictWorkbook()
    if uri != MAIN_NS:
        raise Unsupported(f"unexpected spreadsheet namespace {uri.decode(errors='replace')!r}")


def _col(letters: bytes) -> int:
    return column_index_from_string(letters.decode())


@dataclass
class Header:
    """The header row of a data sheet, as found in its XML."""

    prefix: bytes
    values: dict[int, str]  # 1-based column -> text of non-empty header cells
    styles: dict[int, int]  # 1-based column -> style index


@dataclass
class SheetEdit:
    """What to do to one data sheet."""

    first: int  # the first of pbload's columns, 1-based
    values: RowValues
    header_names: tuple[str, ...]
    header_style: int
    widths: tuple[float, ...]
    last_row: int
    tail_edit: Callable[[bytes, bytes], bytes]  # (tail bytes, prefix) -> tail bytes
    reuse: bool = False  # pbload's columns are there already (a result loaded again): replace their cells
    head_edit: Callable[[bytes, bytes], bytes] = lambda head, prefix: head  # bytes before <sheetData>


class TooLong(ResultError):
    """Something in a part (a row, a shared string) never ends within `MAX_PENDING` bytes.

    Not `Unsupported`: the openpyxl path would hold the same bytes several times over, so the run ends
    with this message instead."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"The result workbook cannot be written: {what} holds more than {MAX_PENDING >> 20} MB of XML, far "
            "more than Excel puts in one, so the workbook is damaged or was not saved by a spreadsheet program. "
            "Open it in Excel, save it as an Excel Workbook (.xlsx) and write the result from that copy."
        )


class ColumnsTaken(Unsupported):
    """A row has values where pbload meant to put its columns (a column of the user's without a header)."""


class RowValues:
    """pbload's five values for each row with a status, handed out in the sheet's row order.

    Values are made as the rows are met, so a million rows never sit in memory as a second copy.
    """

    def __init__(self, rows: Sequence[int], outcomes: Mapping[int, Outcome]) -> None:
        ordered = all(a < b for a, b in itertools.pairwise(rows))  # no copy of a million rows
        self.rows = rows if ordered else sorted(set(rows))
        self.outcomes = outcomes if isinstance(outcomes, Outcomes) else Outcomes(outcomes)
        self.next = 0

    def take(self, row: int) -> tuple[str | None, ...] | None:
        """The values for `row`, or None if it has no status; rows must come in ascending order."""
        n = self.next
        if n < len(self.rows) and self.rows[n] <= row:
            if self.rows[n] < row:
                raise Unsupported(f"row {self.rows[n]} has a status but is not in the sheet's XML")
            self.next = n + 1
            outcome = self.outcomes.fields(row)  # a tuple, not an Outcome: made a million times
            return field_values(outcome) if outcome is not None else _NOT_SENT
        return None

    def finish(self) -> None:
        if self.next < len(self.rows):
            raise Unsupported(f"row {self.rows[self.next]} has a status but is not in the sheet's XML")


class _Chunks:
    """A part's bytes, decompressed a chunk at a time."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.done = False

    def more(self) -> bytes:
        data = self.stream.read(CHUNK)
        if not data:
            self.done = True
        return data


class _Pending:
    """Bytes read but not handed on yet, as pieces joined once.

    `find` and `rfind` search only the piece just added, with the last bytes before it for a tag cut
    in two, and count what they search in `searched` (which the tests read to see the work is linear).
    """

    def __init__(self, what: str) -> None:
        self.what = what  # for TooLong: "a row of sheet 'Products'"
        self.pieces: list[bytes] = []
        self.size = 0
        self.searched = 0
        self._window = b""
        self._window_start = 0  # offset of `_window` in the pending bytes

    def add(self, data: bytes, overlap: int) -> None:
        """Append `data`; the next searches cover it and the `overlap` bytes before it."""
        before = self._last(overlap)
        self.pieces.append(data)
        self.size += len(data)
        if self.size > MAX_PENDING:
            raise TooLong(self.what)
        self._window = before + data if before else data
        self._window_start = self.size - len(self._window)

    def find(self, tag: bytes) -> int:
        """The first `tag` in the new bytes, as an offset in the pending bytes, or -1."""
        self.searched += len(self._window)
        at = self._window.find(tag)
        return at + self._window_start if at >= 0 else -1

    def rfind(self, tag: bytes) -> int:
        """The last `tag` in the new bytes, as an offset in the pending bytes, or -1."""
        self.searched += len(self._window)
        at = self._window.rfind(tag)
        return at + self._window_start if at >= 0 else -1

    def last_end(self, pattern: re.Pattern[bytes]) -> int:
        """Where the last match of `pattern` in the new bytes ends, as an offset in the pending bytes, or -1."""
        self.searched += len(self._window)
        last = next(iter(deque(pattern.finditer(self._window), maxlen=1)), None)
        return last.end() + self._window_start if last else -1

    def put_back(self, data: bytes) -> None:
        """Bytes taken but not used, back in front of the pending ones (already searched)."""
        if data:
            self.pieces.insert(0, data)
            self.size += len(data)

    def take(self, at: int | None = None) -> bytes:
        """The pending bytes up to `at` (all of them if None); the rest stay pending (and were searched)."""
        data = self.pieces[0] if len(self.pieces) == 1 else b"".join(self.pieces)
        if at is None or at >= len(data):
            self.pieces, self.size, self._window = [], 0, b""
            return data
        rest = data[at:]
        self.pieces, self.size, self._window = [rest], len(rest), b""
        return data[:at]

    def _last(self, n: int) -> bytes:
        if n <= 0 or not self.pieces:
            return b""
        last = self.pieces[-1]
        if len(last) >= n or len(self.pieces) == 1:
            return last[-n:]
        return b"".join(self.pieces)[-n:]  # tiny pieces: only when a stream returns a few bytes at a time


def _first_match(
    pattern: re.Pattern[bytes], buf: bytes | bytearray, pos: int, opener: bytes, name_end: re.Pattern[bytes]
) -> tuple[re.Match[bytes] | None, int]:
    """The first match of `pattern` (a tag beginning with `opener`) at or after `pos` in a buffer still
    being filled, and where it starts; or None and where to search from once more bytes are in (a
    candidate cut off at the end of the buffer, or just before the end for an opener cut in two).

    A candidate not followed by `name_end` is another element (`<rowBreaks` for `<row`); one that is
    and still does not match runs past the bytes read so far (the patterns here fail no other way).
    """
    while True:
        at = buf.find(opener, pos)
        if at < 0:
            return None, max(pos, len(buf) - len(opener) + 1)
        m = pattern.match(buf, at)
        if m:
            return m, at
        after = at + len(opener)
        if after >= len(buf) or name_end.match(buf, after):
            return None, at
        pos = at + 1


def _patterns(p: bytes) -> dict[str, re.Pattern[bytes]]:
    q = re.escape(p)
    return {
        "row": re.compile(rb"<" + q + rb"row(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>"),
        "cell": re.compile(
            rb"<" + q + rb"c(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(?:/>|>(.*?)</" + q + rb"c>)", re.S
        ),
        "cell_r": re.compile(rb"<" + q + rb"c(?=[\s>])[^>]*?\sr\s*=\s*[\"']([A-Z]{1,3})\d+[\"']"),
        "formula": re.compile(rb"<" + q + rb"f[\s/>]"),
        "value": re.compile(rb"<" + q + rb"(?:v|is|f)[\s/>]"),
        "v": re.compile(rb"<" + q + rb"v\b[^>]*>(.*?)</" + q + rb"v>", re.S),
    }


def _find_head(chunks: _Chunks, p: bytes | None) -> tuple[bytes, bytes, int, int]:
    """Read until `<sheetData>`; return (bytes read, prefix, start of the tag, end of the tag)."""
    buf, p, start, end = _read_head(chunks, p)
    return bytes(buf), p, start, end


def _read_head(chunks: _Chunks, p: bytes | None) -> tuple[bytearray, bytes, int, int]:
    buf = bytearray()
    root_from = 0  # where the search for the <worksheet> tag goes on (it sets the prefix)
    data_from = 0  # where the search for <sheetData> goes on
    while True:
        if p is None and b"<" in buf:
            try:
                p = prefix_of(bytes(buf[root_from:]), "worksheet")
            except Unsupported:
                root_from = max(0, len(buf) - 1024)  # a prefix of more than 1,000 characters is no sheet's
        if p is not None:
            data_tag = re.compile(rb"<" + re.escape(p) + rb"sheetData\b[^>]*?(/?)>")
            m, data_from = _first_match(data_tag, buf, data_from, b"<" + p + b"sheetData", _DATA_NAME_END)
            if m:
                if m.group(1):
                    raise Unsupported("the sheet has no rows")
                return buf, p, m.start(), m.end()
        if chunks.done or len(buf) > MAX_HEAD:
            raise Unsupported("no <sheetData> found")
        buf += chunks.more()


def read_header(book: zipfile.ZipFile, part: str, shared: SharedStrings) -> Header:
    """The header row of a data sheet: its texts and styles, read from the start of the part only."""
    with book.open(part) as stream:
        buf, p, m, end = _header_row(_Chunks(stream))
    number = _ROW_NUMBER.search(m.group(1))
    if (int(number.group(1)) if number else 1) != HEADER_ROW:
        raise Unsupported("the first row of the sheet is not its header row")
    values, styles, pending = _header_cells(buf, m.end(), end, _patterns(p))
    for col, index in pending.items():
        text = shared.get(index)
        if text.strip():
            values[col] = text
    return Header(p, values, styles)


def _header_row(chunks: _Chunks) -> tuple[bytes, bytes, re.Match[bytes], int]:
    """The sheet's start read up to the end of its first row: (bytes, prefix, the row's tag, its end)."""
    grown, p, _, data_start = _read_head(chunks, None)
    if grown[:2] in (b"\xff\xfe", b"\xfe\xff") or re.match(rb"<\?xml[^>]*encoding=[\"']utf-16", grown, re.I):
        raise Unsupported("the sheet is not UTF-8")
    root = re.search(rb"<" + re.escape(p) + rb"worksheet\b[^>]*>", grown)
    check_namespace(root.group(0) if root else b"", p)
    pattern = _patterns(p)["row"]
    close = b"</" + p + b"row>"
    row_from = close_from = data_start  # where the searches for the header row's tag and its end go on
    while True:
        m, row_from = _first_match(pattern, grown, row_from, b"<" + p + b"row", _ROW_NAME_END)
        if m and m.group(2):
            return bytes(grown), p, m, m.end()
        if m:
            end = grown.find(close, max(m.end(), close_from))
            if end >= 0:
                return bytes(grown), p, m, end
            close_from = max(m.end(), len(grown) - len(close) + 1)
        if chunks.done or len(grown) > MAX_HEAD:
            raise Unsupported("no header row found")
        grown += chunks.more()


def _header_cells(
    buf: bytes, start: int, end: int, pat: dict[str, re.Pattern[bytes]]
) -> tuple[dict[int, str], dict[int, int], dict[int, int]]:
    """The header row's texts and styles by column, and the shared strings it still needs (column -> index)."""
    values: dict[int, str] = {}
    styles: dict[int, int] = {}
    pending: dict[int, int] = {}
    for n, cell in enumerate(pat["cell"].finditer(buf, start, end), start=1):
        a = attrs(cell.group(1))
        col = column_index_from_string(re.sub(r"\d", "", a["r"])) if "r" in a else n
        styles[col] = int(a.get("s", "0") or 0)
        content = cell.group(2) or b""
        kind = a.get("t", "n")
        if kind == "inlineStr":
            text = _text_of(content)
        else:
            v = pat["v"].search(content)
            text = html.unescape(v.group(1).decode()) if v else ""
            if kind == "s" and text.strip().isdigit():
                pending[col] = int(text)
                continue
        if text.strip():
            values[col] = text
    return values, styles, pending


def last_value_column(book: zipfile.ZipFile, part: str, prefix: bytes) -> int:
    """The last column in which any row has a value: reads the whole sheet, so only called when a
    row turned out to have values beyond the headers."""
    q = re.escape(prefix)
    cell = re.compile(
        rb"<" + q + rb"c(?=[\s>/])((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>(?:\s*<" + q + rb"(v|is|f)\b)?"
    )
    close = b"</" + prefix + b"row>"
    last = 0
    with book.open(part) as stream:
        chunks, pending = _Chunks(stream), _Pending(f"a row of {part}")
        while True:
            pending.add(chunks.more(), len(close) - 1)
            cut = pending.rfind(close)
            block = pending.take() if chunks.done else pending.take(cut + 1) if cut >= 0 else b""
            for m in cell.finditer(block):
                if m.group(3) is None:
                    continue  # a cell with only a format
                ref = _CELL_COL.search(m.group(1))
                if ref is None:
                    raise Unsupported("cells without references beyond the headers")
                last = max(last, _col(ref.group(1)))
            if chunks.done:
                return last


def _text_of(content: bytes) -> str:
    content = _RPH.sub(b"", content)
    return "".join(html.unescape((t.group(1) or b"").decode()) for t in _T.finditer(content))


class SharedStrings:
    """The shared strings a header needs, read from the start of the part and no further."""

    def __init__(self, book: zipfile.ZipFile, part: str | None) -> None:
        self.book, self.part = book, part
        self.strings: list[str] = []

    def get(self, index: int) -> str:
        if index >= len(self.strings) and self.part:
            self._read_until(index)
        return self.strings[index] if index < len(self.strings) else ""

    def _read_until(self, index: int) -> None:
        self.strings = []
        with self.book.open(self.part) as stream:  # type: ignore[arg-type]
            chunks, pending = _Chunks(stream), _Pending(f"a shared string of {self.part}")
            while len(self.strings) <= index and not chunks.done:
                pending.add(chunks.more(), _SI_OVERLAP)
                end = pending.last_end(_SI_CLOSE)
                if end < 0 and not chunks.done:
                    continue  # inside a string: nothing to read until it ends
                block = pending.take(None if chunks.done else end)
                cut = 0
                for m in _SI.finditer(block):
                    self.strings.append(_text_of(m.group(1) or b""))
                    cut = m.end()
                pending.put_back(block[cut:])


class SheetRewriter:
    """Copies one data sheet from `source` to `target`, adding pbload's cells (see the module)."""

    def __init__(self, edit: SheetEdit, prefix: bytes, name: str = "") -> None:
        self.edit = edit
        self.name = name  # the sheet's, for messages
        self.pending = _Pending("")
        self.p = prefix
        self.pat = _patterns(prefix)
        self.close = b"</" + prefix + b"row>"
        self.last = 0
        self.letters = [get_column_letter(edit.first + n) for n in range(len(edit.header_names))]
        self.last_col = edit.first + len(edit.header_names) - 1
        p = self.pd = prefix.decode()
        # each cell's start: + row number + `_body`
        self.start_bytes = [f'<{p}c r="{letter}'.encode() for letter in self.letters]
        self.plain = f'" t="inlineStr"><{p}is>'
        self.styled = '" s="{}"' + self.plain[1:]
        self.cell_close = f"</{p}is></{p}c>"
        self.cell_open = b"<" + prefix + b"c"
        self.made: dict[tuple[tuple[str | None, ...], int], list[bytes]] = {}  # (values, style) -> `_pieces`
        self.bodies: dict[tuple[str, int], bytes] = {}  # (value, style) -> `_body`
        self.made_size = 0
        self.cols: dict[bytes, int] = {}  # a cell reference's letters -> its column

    def run(self, source: IO[bytes], write: Callable[[bytes], object]) -> None:
        chunks = _Chunks(source)
        buf, _, data_tag, data_start = _find_head(chunks, self.p)
        write(self.edit.head_edit(buf[:data_tag], self.p) + buf[data_tag:data_start])
        end_tag = b"</" + self.p + b"sheetData>"
        pending = self.pending = _Pending(
            f"a row of sheet {self.name!r}" if self.name else "a row of a sheet"
        )
        data = buf[data_start:]
        del buf
        while True:
            pending.add(data, len(end_tag) - 1)
            end = pending.find(end_tag)
            if end >= 0:
                write(self.rows(pending.take(end)))
                pending.what = (
                    f"the part after the rows of sheet {self.name!r}" if self.name else "a sheet's end"
                )
                while not chunks.done:
                    pending.add(chunks.more(), 0)
                write(self.edit.tail_edit(pending.take(), self.p))
                break
            cut = pending.rfind(self.close)
            if cut >= 0:
                write(self.rows(pending.take(cut + len(self.close))))
            if chunks.done:
                raise Unsupported("the sheet's rows never end")
            data = chunks.more()
        self.edit.values.finish()

    @property
    def searched(self) -> int:
        """How many bytes `run` searched for the ends of rows and of the sheet data (about the sheet's size)."""
        return self.pending.searched

    # --- the rows -------------------------------------------------------------------------

    def rows(self, block: bytes) -> bytes:
        """Rows as they were, with pbload's cells on each row that has a status (and the header).

        The hot loop of the writer: a row that only gains cells costs two searches and two slices.
        """
        out: list[bytes] = []
        pos = 0
        for m in self.pat["row"].finditer(block):
            row = self._number(m.group(1))
            if row == HEADER_ROW:
                new: tuple[str | None, ...] | None = self.edit.header_names
                style = self.edit.header_style
            else:
                new, style = self.edit.values.take(row), 0
            if new is not None:
                pos = self._row(block, m, pos, row, new, style, out)
        out.append(block[pos:])
        return b"".join(out)

    def _number(self, tag_attrs: bytes) -> int:
        """The row's number (`r`, or the one after the last), which must grow."""
        number = _ROW_NUMBER.search(tag_attrs)
        row = int(number.group(1)) if number else self.last + 1
        if row <= self.last:
            raise Unsupported(f"row {row} comes after row {self.last}")
        self.last = row
        return row

    def _row(
        self,
        block: bytes,
        m: re.Match[bytes],
        pos: int,
        row: int,
        new: tuple[str | None, ...],
        style: int,
        out: list[bytes],
    ) -> int:
        """Append the bytes from `pos` through row `m` with pbload's cells to `out`; return where it ended."""
        if m.group(2):  # <row .../>: no cells yet
            tag = _SPANS.sub(b"", m.group(0))
            out += (
                block[pos : m.start()],
                tag[:-2].rstrip() + b">",
                self._cells(row, new, style),
                self.close,
            )
            return m.end()
        tag_end = m.end()
        end = block.find(self.close, tag_end)
        if end < 0:
            raise Unsupported("a row without its end")
        if self._reaches_ours(block, tag_end, end):
            out += (block[pos : m.start()], _SPANS.sub(b"", m.group(0)))
            out.append(self._row_cells(block, tag_end, end, row, new, style))
            return end
        if b"spans" in m.group(1):  # only a hint for readers, and wrong once the row is longer
            out += (block[pos : m.start()], _SPANS.sub(b"", m.group(0)))
            pos = tag_end
        out += (block[pos:end], self._cells(row, new, style))
        return end

    def _reaches_ours(self, block: bytes, start: int, end: int) -> bool:
        """True if the row's last cell is in or after pbload's columns, or has no `r` (then every cell is read)."""
        lt = self.cell_open
        last = block.rfind(lt, start, end)
        while last >= 0 and block[last + len(lt)] not in _TAG_END:  # <color> in rich text is no cell
            last = block.rfind(lt, start, last)
        if last < 0:
            return False
        cell = self.pat["cell_r"].match(block, last)
        if cell is None:
            return True
        letters = cell.group(1)
        col = self.cols.get(letters)
        if col is None:
            col = self.cols[letters] = _col(letters)  # at most 16,384 of them
        return col >= self.edit.first

    def _cells(self, row: int, values: tuple[str | None, ...], style: int) -> bytes:
        """pbload's cells for one row, as inline strings (never formulas).

        Rows with the same values (every VALID row, a group's INVALID rows) differ only in their
        number: the bytes around the row numbers are kept for the values met lately."""
        try:
            pieces = self.made.get((values, style))
        except TypeError:  # a value that is no text (a test's): made every time
            pieces = None
        if pieces is None:
            pieces = self._pieces(values, style)
            size = sum(map(len, pieces))
            if len(self.made) >= _MADE or self.made_size + size > _MADE_BYTES:
                self.made.clear()
                self.made_size = 0
            try:
                self.made[values, style] = pieces
                self.made_size += size
            except TypeError:
                pass
        return str(row).encode().join(pieces)

    def _pieces(self, values: tuple[str | None, ...], style: int) -> list[bytes]:
        """pbload's cells for a row of `values`, cut where the row's number goes.

        What follows a cell's number is kept for the values met lately: a row whose values as a whole
        are new (every CREATED row has its own PB ID) mostly repeats its status, its transaction ID."""
        bodies = self.bodies
        pieces, after = [], b""
        for start, value in zip(self.start_bytes, values, strict=False):
            if value:
                pieces.append(after + start)
                try:
                    after = bodies.get((value, style)) or self._body(value, style)
                except TypeError:  # a value that is no text (a test's): made every time
                    after = self._body(value, style, keep=False)
        pieces.append(after)
        return pieces

    def _body(self, value: str, style: int, keep: bool = True) -> bytes:
        """A cell of `value` after its row number: its style, type and inline string, and its end."""
        body = self.styled.format(style) if style else self.plain
        made = f"{body}{t_element(value, self.pd)}{self.cell_close}".encode()
        if keep:
            if len(self.bodies) >= _BODIES:
                self.bodies.clear()
            self.bodies[value, style] = made
        return made

    def _row_cells(
        self, block: bytes, start: int, end: int, row: int, new: tuple[str | None, ...], style: int
    ) -> bytes:
        """A row that already has cells at or after pbload's columns, or cells without `r`: every
        cell is read, those in pbload's columns are replaced, the others kept in their places."""
        before: list[bytes] = []
        after: list[bytes] = []
        col = 0
        cursor = start
        for cell in self.pat["cell"].finditer(block, start, end):
            gap = block[cursor : cell.start()]
            cursor = cell.end()
            a = attrs(cell.group(1))
            text = cell.group(0)
            if "r" in a:
                col = column_index_from_string(re.sub(r"\d", "", a["r"]))
            else:
                col += 1
                text = (
                    text[: len(self.p) + 2]
                    + f' r="{get_column_letter(col)}{row}"'.encode()
                    + text[len(self.p) + 2 :]
                )
            if col < self.edit.first:
                before.append(gap + text)
            elif col > self.last_col:
                after.append(gap + text)
            elif not self.edit.reuse and cell.group(2) and self.pat["value"].search(cell.group(2)):
                raise ColumnsTaken(
                    f"{get_column_letter(col)}{row} has a value where pbload meant to put its columns"
                )
            elif self.pat["formula"].search(text):
                raise Unsupported(
                    f"a formula in {get_column_letter(col)}{row}, where pbload writes its columns"
                )
        return b"".join(before) + self._cells(row, new, style) + b"".join(after) + block[cursor:end]
