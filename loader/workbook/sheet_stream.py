"""Rewrite one data sheet's XML as a stream: pbload's five cells added to each row, nothing else touched.

The sheet is read decompressed in chunks and handled in three stages: the head (everything before
`<sheetData>`: dimension, views, column widths) and the tail (everything after it: filters, merged
cells, conditional formats, comments' drawing) are small and edited as bytes; the rows in between
are copied as they are, except that each row with a status gets its new cells before `</row>`.
A row costs a couple of searches from its end, so 100,000 rows take well under a second.

Traps handled: rows and cells without `r=` (counted), `<row` vs `<rowBreaks>` and `<c` vs
`<color>` (tags matched whole), a chunk ending inside a tag (rows are cut at `</row>` only), `spans`
(dropped from touched rows; it is only a hint), namespace prefixes such as `x:`, cells already in
pbload's columns (replaced; a formula there hands the sheet to the openpyxl path).
"""

from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from loader.workbook.ooxml import (
    WORKSHEET_ORDER, Element, Unsupported, attrs, check_namespace, children, column_number,
    drop_attr, insert_child, prefix_of, set_attr, split_range, t_element,
)
from loader.workbook.reader import HEADER_ROW
from loader.models import Outcome, Status
from loader.workbook.result_content import column_letter, result_values

CHUNK = 1 << 20
MAX_HEAD = 32 << 20  # bytes before the end of the header row; more means this is no ordinary sheet
_CELL_COL = re.compile(rb"\sr\s*=\s*[\"']([A-Z]{1,3})\d+[\"']")
_ROW_NUMBER = re.compile(rb"\sr\s*=\s*[\"'](\d+)[\"']")
_SPANS = re.compile(rb"\sspans\s*=\s*(\"[^\"]*\"|'[^']*')")
_SI = re.compile(rb"<(?:\w+:)?si\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?si>)", re.S)
_T = re.compile(rb"<(?:\w+:)?t\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?t>)", re.S)
_RPH = re.compile(rb"<(?:\w+:)?rPh\b.*?</(?:\w+:)?rPh>", re.S)
_COLUMNS: dict[bytes, int] = {}
_NOT_SENT = (Status.NOT_SENT.value, None, None, None, None)
_TAG_END = frozenset(b" \t\r\n>/")


def _col(letters: bytes) -> int:
    n = _COLUMNS.get(letters)
    if n is None:
        n = _COLUMNS[letters] = column_number(letters.decode())
    return n


@dataclass
class Header:
    """The header row of a data sheet, as found in its XML."""

    prefix: bytes
    values: dict[int, str]  # 1-based column -> text of non-empty header cells
    styles: dict[int, int]  # 1-based column -> style index


@dataclass
class SheetEdit:
    """What to do to one data sheet."""

    first: int  # the first of pbload's five columns, 1-based
    values: RowValues
    header_names: tuple[str, ...]
    header_style: int
    widths: tuple[int, ...]
    last_row: int
    tail_edit: Callable[[bytes, bytes], bytes]  # (tail bytes, prefix) -> tail bytes
    reuse: bool = False  # pbload's columns are there already (a result loaded again): replace their cells


class ColumnsTaken(Unsupported):
    """A row has values where pbload meant to put its columns (a column of the user's without a header)."""


class RowValues:
    """pbload's five values for each row with a status, handed out in the sheet's row order.

    Values are made as the rows are met, so a million rows never sit in memory as a second copy.
    """

    def __init__(self, rows: list[int], outcomes: dict[int, Outcome]) -> None:
        ordered = all(a < b for a, b in zip(rows, rows[1:]))
        self.rows = rows if ordered else sorted(set(rows))
        self.outcomes = outcomes
        self.next = 0

    def take(self, row: int) -> tuple[str | None, ...] | None:
        """The values for `row`, or None if it has no status; rows must come in ascending order."""
        n = self.next
        if n < len(self.rows) and self.rows[n] <= row:
            if self.rows[n] < row:
                raise Unsupported(f"row {self.rows[n]} has a status but is not in the sheet's XML")
            self.next = n + 1
            outcome = self.outcomes.get(row)
            return result_values(outcome) if outcome is not None else _NOT_SENT
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


def _patterns(p: bytes) -> dict[str, re.Pattern[bytes]]:
    q = re.escape(p)
    return {
        "row": re.compile(rb"<" + q + rb"row(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>"),
        "cell": re.compile(rb"<" + q + rb"c(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(?:/>|>(.*?)</" + q + rb"c>)",
                           re.S),
        "cell_r": re.compile(rb"<" + q + rb"c(?=[\s>])[^>]*?\sr\s*=\s*[\"']([A-Z]{1,3})\d+[\"']"),
        "formula": re.compile(rb"<" + q + rb"f[\s/>]"),
        "value": re.compile(rb"<" + q + rb"(?:v|is|f)[\s/>]"),
        "v": re.compile(rb"<" + q + rb"v\b[^>]*>(.*?)</" + q + rb"v>", re.S),
    }


def _find_head(chunks: _Chunks, p: bytes | None) -> tuple[bytes, bytes, int, int]:
    """Read until `<sheetData>`; return (bytes read, prefix, start of the tag, end of the tag)."""
    buf = b""
    while True:
        if p is None and b"<" in buf:
            try:
                p = prefix_of(buf, "worksheet")
            except Unsupported:
                p = None
        if p is not None:
            m = re.search(rb"<" + re.escape(p) + rb"sheetData\b[^>]*?(/?)>", buf)
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
        chunks = _Chunks(stream)
        buf, p, _, data_start = _find_head(chunks, None)
        if buf[:2] in (b"\xff\xfe", b"\xfe\xff") or re.match(rb"<\?xml[^>]*encoding=[\"']utf-16", buf, re.I):
            raise Unsupported("the sheet is not UTF-8")
        root = re.search(rb"<" + re.escape(p) + rb"worksheet\b[^>]*>", buf)
        check_namespace(root.group(0) if root else b"", p)
        pat = _patterns(p)
        close = b"</" + p + b"row>"
        while True:
            m = pat["row"].search(buf, data_start)
            end = buf.find(close, m.end()) if m and not m.group(2) else (m.end() if m else -1)
            if m and end >= 0:
                break
            if chunks.done or len(buf) > MAX_HEAD:
                raise Unsupported("no header row found")
            buf += chunks.more()
    number = _ROW_NUMBER.search(m.group(1))
    if (int(number.group(1)) if number else 1) != HEADER_ROW:
        raise Unsupported("the first row of the sheet is not its header row")
    values: dict[int, str] = {}
    styles: dict[int, int] = {}
    pending: dict[int, int] = {}
    for n, cell in enumerate(pat["cell"].finditer(buf, m.end(), end), start=1):
        a = attrs(cell.group(1))
        col = column_number(re.sub(r"\d", "", a["r"])) if "r" in a else n
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
    for col, index in pending.items():
        text = shared.get(index)
        if text.strip():
            values[col] = text
    return Header(p, values, styles)


def last_value_column(book: zipfile.ZipFile, part: str, prefix: bytes) -> int:
    """The last column in which any row has a value: reads the whole sheet, so only called when a
    row turned out to have values beyond the headers."""
    q = re.escape(prefix)
    cell = re.compile(rb"<" + q + rb"c(?=[\s>/])((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>(?:\s*<" + q
                      + rb"(v|is|f)\b)?")
    last = 0
    with book.open(part) as stream:
        chunks, buf = _Chunks(stream), b""
        while True:
            buf += chunks.more()
            cut = buf.rfind(b"</" + prefix + b"row>")
            block, buf = (buf, b"") if chunks.done else (buf[:cut + 1], buf[cut + 1:]) if cut >= 0 else (b"", buf)
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
            chunks, buf = _Chunks(stream), b""
            while len(self.strings) <= index and not (chunks.done and not buf):
                buf += chunks.more()
                cut = 0
                for m in _SI.finditer(buf):
                    self.strings.append(_text_of(m.group(1) or b""))
                    cut = m.end()
                buf = buf[cut:]
                if chunks.done:
                    break


class SheetRewriter:
    """Copies one data sheet from `source` to `target`, adding pbload's cells (see the module)."""

    def __init__(self, edit: SheetEdit, prefix: bytes) -> None:
        self.edit = edit
        self.p = prefix
        self.pat = _patterns(prefix)
        self.close = b"</" + prefix + b"row>"
        self.last = 0
        self.letters = [column_letter(edit.first + n) for n in range(len(edit.header_names))]
        self.last_col = edit.first + len(edit.header_names) - 1
        p = self.pd = prefix.decode()
        self.starts = [f'<{p}c r="{letter}' for letter in self.letters]  # + row number + body + text + close
        self.plain = f'" t="inlineStr"><{p}is>'
        self.styled = '" s="{}"' + self.plain[1:]
        self.cell_close = f"</{p}is></{p}c>"

    def run(self, source: IO[bytes], write: Callable[[bytes], object]) -> None:
        chunks = _Chunks(source)
        buf, _, data_tag, data_start = _find_head(chunks, self.p)
        write(self.head(buf[:data_tag]) + buf[data_tag:data_start])
        buf = buf[data_start:]
        end_tag = b"</" + self.p + b"sheetData>"
        while True:
            end = buf.find(end_tag)
            if end >= 0:
                write(self.rows(buf[:end]))
                tail = buf[end:]
                while not chunks.done:
                    tail += chunks.more()
                write(self.edit.tail_edit(tail, self.p))
                break
            cut = buf.rfind(self.close)
            if cut >= 0:
                cut += len(self.close)
                write(self.rows(buf[:cut]))
                buf = buf[cut:]
            if chunks.done:
                raise Unsupported("the sheet's rows never end")
            buf += chunks.more()
        self.edit.values.finish()

    # --- the rows -------------------------------------------------------------------------

    def rows(self, block: bytes) -> bytes:
        """Rows as they were, with pbload's cells on each row that has a status (and the header).

        The hot loop of the writer: a row that only gains cells costs two searches and two slices.
        """
        out: list[bytes] = []
        append = out.append
        pos = 0
        take = self.edit.values.take
        cell_r = self.pat["cell_r"].match
        close = self.close
        first = self.edit.first
        lt = b"<" + self.p + b"c"
        skip = len(lt)
        cells = self._cells
        for m in self.pat["row"].finditer(block):
            tag_attrs = m.group(1)
            number = _ROW_NUMBER.search(tag_attrs)
            row = int(number.group(1)) if number else self.last + 1
            if row <= self.last:
                raise Unsupported(f"row {row} comes after row {self.last}")
            self.last = row
            if row == HEADER_ROW:
                new: tuple[str | None, ...] | None = self.edit.header_names
                style = self.edit.header_style
            else:
                new = take(row)
                if new is None:
                    continue
                style = 0
            if m.group(2):  # <row .../>: no cells yet
                tag = _SPANS.sub(b"", m.group(0))
                append(block[pos:m.start()])
                append(tag[:-2].rstrip() + b">" + cells(row, new, style) + close)
                pos = m.end()
                continue
            tag_end = m.end()
            end = block.find(close, tag_end)
            if end < 0:
                raise Unsupported("a row without its end")
            last = block.rfind(lt, tag_end, end)
            while last >= 0 and block[last + skip] not in _TAG_END:  # <color> in rich text is no cell
                last = block.rfind(lt, tag_end, last)
            if last >= 0:
                cell = cell_r(block, last)
                if cell is None or _col(cell.group(1)) >= first:
                    append(block[pos:m.start()])
                    append(_SPANS.sub(b"", m.group(0)))
                    append(self._row_cells(block, tag_end, end, row, new, style))
                    pos = end
                    continue
            if b"spans" in tag_attrs:  # only a hint for readers, and wrong once the row is longer
                append(block[pos:m.start()])
                append(_SPANS.sub(b"", m.group(0)))
                pos = tag_end
            append(block[pos:end])
            append(cells(row, new, style))
            pos = end
        append(block[pos:])
        return b"".join(out)

    def _cells(self, row: int, values: tuple[str | None, ...], style: int) -> bytes:
        """pbload's cells for one row, as inline strings (never formulas)."""
        body = self.styled.format(style) if style else self.plain
        close, p = self.cell_close, self.pd
        return "".join(f"{start}{row}{body}{t_element(value, p)}{close}"
                       for start, value in zip(self.starts, values) if value).encode()

    def _row_cells(self, block: bytes, start: int, end: int, row: int, new: tuple[str | None, ...],
                   style: int) -> bytes:
        """A row that already has cells at or after pbload's columns, or cells without `r`: every
        cell is read, those in pbload's columns are replaced, the others kept in their places."""
        before: list[bytes] = []
        after: list[bytes] = []
        col = 0
        cursor = start
        for cell in self.pat["cell"].finditer(block, start, end):
            gap = block[cursor:cell.start()]
            cursor = cell.end()
            a = attrs(cell.group(1))
            text = cell.group(0)
            if "r" in a:
                col = column_number(re.sub(r"\d", "", a["r"]))
            else:
                col += 1
                text = text[:len(self.p) + 2] + f' r="{column_letter(col)}{row}"'.encode() + text[len(self.p) + 2:]
            if col < self.edit.first:
                before.append(gap + text)
            elif col > self.last_col:
                after.append(gap + text)
            elif not self.edit.reuse and cell.group(2) and self.pat["value"].search(cell.group(2)):
                raise ColumnsTaken(f"{column_letter(col)}{row} has a value where pbload meant to put its columns")
            elif self.pat["formula"].search(text):
                raise Unsupported(f"a formula in {column_letter(col)}{row}, where pbload writes its columns")
        return b"".join(before) + self._cells(row, new, style) + b"".join(after) + block[cursor:end]

    # --- the head -------------------------------------------------------------------------

    def head(self, head: bytes) -> bytes:
        """Dimension widened, pbload's column widths set, the header frozen, no tab selected."""
        p = self.p
        _, root_end = _root(head, p)
        kids = {k.name: k for k in children(head, root_end, len(head))}
        edits: list[tuple[Element, bytes]] = []
        if "dimension" in kids:
            edits.append((kids["dimension"], self._dimension(head[kids["dimension"].start:kids["dimension"].end])))
        if "cols" in kids:
            k = kids["cols"]
            edits.append((k, self._cols(head[k.start:k.end])))
        if "sheetViews" in kids:
            k = kids["sheetViews"]
            edits.append((k, self._views(head, k)))
        for element, new in sorted(edits, key=lambda e: -e[0].start):
            head = head[:element.start] + new + head[element.end:]
        content = (root_end, len(head))
        if "sheetViews" not in kids:
            pane = self._pane()
            head = insert_child(head, content, f"<{p.decode()}sheetViews><{p.decode()}sheetView workbookViewId=\"0\">"
                                .encode() + pane + f"</{p.decode()}sheetView></{p.decode()}sheetViews>".encode(),
                                "sheetViews", WORKSHEET_ORDER)
        if "cols" not in kids:
            head = insert_child(head, (root_end, len(head)), self._cols(b""), "cols", WORKSHEET_ORDER)
        return head

    def _dimension(self, element: bytes) -> bytes:
        ref = attrs(element).get("ref", "")
        try:
            r0, c0, r1, c1 = split_range(ref)
        except Unsupported:
            return element
        new = f"{column_letter(c0)}{r0}:{column_letter(max(c1, self.last_col))}{max(r1, self.edit.last_row)}"
        return set_attr(element, "ref", new)

    def _cols(self, element: bytes) -> bytes:
        p = self.p
        kept: list[tuple[int, bytes]] = []
        ours = range(self.edit.first, self.last_col + 1)
        for m in re.finditer(rb"<" + re.escape(p) + rb"col\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)/?>", element):
            a = attrs(m.group(1))
            lo, hi = int(a.get("min", "0")), int(a.get("max", "0"))
            tag = m.group(0) if m.group(0).endswith(b"/>") else m.group(0)[:-1] + b"/>"
            for a_lo, a_hi in ((lo, min(hi, ours.start - 1)), (max(lo, ours.stop), hi)):
                if a_lo <= a_hi:
                    kept.append((a_lo, set_attr(set_attr(tag, "min", str(a_lo)), "max", str(a_hi))))
        for n, width in zip(ours, self.edit.widths):
            kept.append((n, f'<{p.decode()}col min="{n}" max="{n}" width="{width}" customWidth="1"/>'.encode()))
        kept.sort(key=lambda k: k[0])
        return b"<" + p + b"cols>" + b"".join(tag for _, tag in kept) + b"</" + p + b"cols>"

    def _pane(self) -> bytes:
        p = self.p.decode()
        return (f'<{p}pane ySplit="{HEADER_ROW}" topLeftCell="A{HEADER_ROW + 1}" activePane="bottomLeft" '
                f'state="frozen"/><{p}selection pane="bottomLeft" activeCell="A{HEADER_ROW + 1}" '
                f'sqref="A{HEADER_ROW + 1}"/>').encode()

    def _views(self, head: bytes, views: Element) -> bytes:
        """No tab selected (the Summary is); the first view frozen below the header unless it has a pane."""
        p = self.p
        block = head[views.start:views.end]
        open_end = block.index(b">") + 1
        kids = children(block, open_end, block.rfind(b"</"))
        for n, view in reversed(list(enumerate(kids))):
            element = block[view.start:view.end]
            tag_end = element.index(b">") + 1
            tag = drop_attr(element[:tag_end], "tabSelected")
            body = element[tag_end:]
            if n == 0 and not re.search(rb"<" + re.escape(p) + rb"pane[\s/>]", element):
                if tag.endswith(b"/>"):
                    tag, body = tag[:-2].rstrip() + b">", b"</" + p + b"sheetView>"
                selections = re.compile(rb"<" + re.escape(p) + rb"selection\b[^>]*?(/>|>.*?</" + re.escape(p)
                                        + rb"selection>)", re.S)
                body = self._pane() + selections.sub(b"", body)
            block = block[:view.start] + tag + body + block[view.end:]
        return block


def _root(head: bytes, p: bytes) -> tuple[int, int]:
    m = re.search(rb"<" + re.escape(p) + rb"worksheet\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", head)
    if not m:
        raise Unsupported("no <worksheet> element")
    return m.start(), m.end()
