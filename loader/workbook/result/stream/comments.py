"""A data sheet's comments (pbload's notes merged with the user's) and the VML drawing Excel shows them with.

The comments part is XML and edited with lxml: the user's comments stay as they are, pbload's notes
of an earlier result go, the new notes join them in cell order. The VML drawing is Excel's legacy
format, which is not well-formed XML (Excel itself writes unclosed `<br>`), so its shapes are found
and written as text.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from openpyxl.utils import get_column_letter

from loader.workbook.result.stream.ooxml import MAIN_NS, XML_DECL, Part, cell_text, parse_part, split_ref
from loader.workbook.result.stream.refusals import Unsupported
from loader.workbook.result.stream.xml import Element, etree, first, kids, local, new_child

_MAIN = MAIN_NS.decode()
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_SHAPE_ID = re.compile(r"_x0000_s(\d+)")


@dataclass
class ExistingComments:
    """A sheet's comments part, split into the comments to keep and pbload's own, to drop."""

    part: Part
    authors: list[str]
    kept: dict[tuple[int, int], Element]  # (row, col) -> the <comment> element
    dropped: set[tuple[int, int]]

    @classmethod
    def parse(cls, data: bytes, ours: str, header_row: int) -> ExistingComments:
        """Comments by `ours` below the header row are pbload's notes from an earlier result."""
        part = parse_part(data, "a comments part")
        if local(part.root) != "comments":
            raise Unsupported("a comments part without <comments>")
        block = first(part.root, "authors")
        authors = [a.text or "" for a in kids(block, "author")] if block is not None else []
        kept: dict[tuple[int, int], Element] = {}
        dropped: set[tuple[int, int]] = set()
        listed = first(part.root, "commentList")
        for element in kids(listed, "comment") if listed is not None else []:
            cell = split_ref(element.get("ref", ""))
            author = int(element.get("authorId", "0") or 0)
            name = authors[author] if author < len(authors) else ""
            if name == ours and cell[0] > header_row:
                dropped.add(cell)
            else:
                kept[cell] = element
        return cls(part, authors, kept, dropped)


def comments_part(
    prefix: str, existing: ExistingComments | None, ours: dict[tuple[int, int], str], author: str
) -> bytes:
    """Kept comments and pbload's notes, in cell order; pbload is one more author if it was none.

    `prefix` ('x:' or '') is the sheet's, for a new part."""
    if existing is None and _writable(ours, author):
        return b"".join(_new_comments_part(prefix, ours, author))
    tree = _CommentsTree(prefix, existing, author)
    tree.add(ours)
    return tree.render()


def new_comments(
    prefix: str, ours: dict[tuple[int, int], str], author: str
) -> bytes | Callable[[], Iterator[bytes]]:
    """A new comments part of pbload's notes (`comments_part` with none existing), made as it is written,
    a batch of notes at a time: ten thousand notes are megabytes of XML, and the VML beside them more.
    A text lxml refuses is made now, the lxml way, to fail as it always has."""
    if not _writable(ours, author):
        return comments_part(prefix, None, ours, author)
    return lambda: _new_comments_part(prefix, ours, author)


def merged_comments(
    existing: ExistingComments, ours: dict[tuple[int, int], str], author: str
) -> bytes | Callable[[], Iterator[bytes]]:
    """`comments_part` of an existing part and pbload's notes, the same bytes; made as it is written when
    every comment kept comes before pbload's notes (the usual: the user's notes on the header, pbload's
    below it). lxml writes the kept part with the first note, and the other notes follow as text, a
    batch at a time, each written as lxml writes the first (which is checked)."""
    cells = sorted(ours)
    tree = _CommentsTree("", existing, author)
    if not cells or not _writable(ours, author) or (existing.kept and max(existing.kept) > cells[0]):
        tree.add(ours)
        return tree.render()
    tree.add({cells[0]: ours[cells[0]]})
    mark = etree.ProcessingInstruction(_MARK)
    tree.listed.append(mark)
    head, found, tail = tree.render().partition(etree.tostring(mark))
    tree.listed.remove(mark)
    p = f"{tree.listed.prefix}:" if tree.listed.prefix else ""
    if not found or not head.endswith(_note(p, cells[0], ours[cells[0]], tree.author_id).encode()):
        tree.add(ours)  # written some other way than the text's: lxml writes them all
        return tree.render()
    return lambda: itertools.chain([head], _notes(p, cells[1:], ours, tree.author_id), [tail])


# Where pbload's notes go in a part lxml writes (`merged_comments`, `_merged_vml_tree`): a processing
# instruction, which no comments part or drawing holds.
_MARK = "pbload-notes-here"


class _CommentsTree:
    """A comments part as an lxml tree (the existing one, or a new one), pbload among its authors."""

    def __init__(self, prefix: str, existing: ExistingComments | None, author: str) -> None:
        self.existing = existing
        if existing is None:
            self.root = etree.Element(f"{{{_MAIN}}}comments", nsmap={prefix[:-1] or None: _MAIN})
            authors, self.listed, names = (
                new_child(self.root, "authors"),
                new_child(self.root, "commentList"),
                [],
            )
        else:
            self.root, names = existing.part.root, list(existing.authors)
            authors = _child(self.root, "authors", 0)
            self.listed = _child(self.root, "commentList", 1)
        if author not in names:
            new_child(authors, "author", text=author)
            names.append(author)
        self.author_id = str(names.index(author))
        self.elements: dict[tuple[int, int], Element] = dict(existing.kept) if existing else {}

    def add(self, ours: dict[tuple[int, int], str]) -> None:
        """Add pbload's notes; the comments are then in cell order."""
        listed = self.listed
        for (row, col), text in ours.items():
            element = new_child(
                listed, "comment", {"ref": f"{get_column_letter(col)}{row}", "authorId": self.author_id}
            )
            self.elements[(row, col)] = element
            t = new_child(new_child(element, "text"), "t", text=cell_text(text))
            if text[:1].isspace() or text[-1:].isspace():
                t.set(_XML_SPACE, "preserve")
        for element in kids(listed, "comment"):
            listed.remove(element)
        for cell in sorted(self.elements):
            self.elements[cell].tail = None
            listed.append(self.elements[cell])

    def render(self) -> bytes:
        if self.existing is None:
            return XML_DECL.encode() + etree.tostring(self.root, encoding="UTF-8")
        return self.existing.part.render()


# What lxml refuses to write (it raises): such texts take the lxml way, to fail as they always have.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
NOTES_PER_BATCH = 500  # notes (comments or VML shapes) made and handed on at a time


def _writable(ours: dict[tuple[int, int], str], author: str) -> bool:
    return not any(map(_NOT_XML.search, ours.values())) and not _NOT_XML.search(author)


def _batches(cells: list[tuple[int, int]]) -> Iterator[list[tuple[int, int]]]:
    for start in range(0, len(cells), NOTES_PER_BATCH):
        yield cells[start : start + NOTES_PER_BATCH]


def _note(p: str, cell: tuple[int, int], text: str, author_id: str) -> str:
    """One note as lxml writes the element `_CommentsTree.add` makes for it."""
    row, col = cell
    t = _lxml_text(cell_text(text))
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return (
        f'<{p}comment ref="{get_column_letter(col)}{row}" authorId="{author_id}"><{p}text><{p}t{space}>{t}'
        f"</{p}t></{p}text></{p}comment>"
    )


def _notes(
    p: str, cells: list[tuple[int, int]], ours: dict[tuple[int, int], str], author_id: str
) -> Iterator[bytes]:
    """The notes of `cells`, a batch at a time."""
    for batch in _batches(cells):
        yield "".join(_note(p, cell, ours[cell], author_id) for cell in batch).encode()


def _new_comments_part(prefix: str, ours: dict[tuple[int, int], str], author: str) -> Iterator[bytes]:
    """A new comments part of pbload's notes, written as text: the bytes lxml writes for the tree
    `comments_part` builds (ten thousand notes in a fraction of the time), a batch of notes at a time."""
    p = prefix
    xmlns = f'xmlns:{p[:-1]}="{_MAIN}"' if p else f'xmlns="{_MAIN}"'
    yield (
        f"{XML_DECL}<{p}comments {xmlns}><{p}authors><{p}author>{_lxml_text(author)}</{p}author></{p}authors>"
    ).encode()
    if not ours:
        yield f"<{p}commentList/></{p}comments>".encode()
        return
    yield f"<{p}commentList>".encode()
    yield from _notes(p, sorted(ours), ours, "0")
    yield f"</{p}commentList></{p}comments>".encode()


def _lxml_text(text: str) -> str:
    """Text as lxml writes an element's content: `& < >` escaped, and a carriage return as a reference."""
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\r", "&#13;") if "\r" in text else text


def _child(root: Element, name: str, at: int) -> Element:
    found = first(root, name)
    if found is None:
        found = new_child(root, name)
        root.insert(at, found)
    return found


# --- VML, the drawing Excel shows comments with -----------------------------------------------

_VML_NS = "urn:schemas-microsoft-com:vml"
_OFFICE_NS = "urn:schemas-microsoft-com:office:office"
_EXCEL_NS = "urn:schemas-microsoft-com:office:excel"
_SHAPETYPE = (
    '<{v}shapetype id="_x0000_t202" coordsize="21600,21600" {o}spt="202" path="m,l,21600r21600,l21600,xe">'
    '<{v}stroke joinstyle="miter"/><{v}path gradientshapeok="t" {o}connecttype="rect"/></{v}shapetype>'
)


def _note_shape(v: str, o: str, x: str, shape_id: int, row: int, col: int, text: str) -> str:
    lines = min(12, 2 + len(text) // 40 + text.count("\n"))
    return (
        f'<{v}shape id="_x0000_s{shape_id}" type="#_x0000_t202" style="position:absolute;margin-left:59.25pt;'
        f'margin-top:1.5pt;width:216pt;height:{15 * lines}pt;z-index:{shape_id};visibility:hidden" '
        f'fillcolor="#ffffe1" {o}insetmode="auto"><{v}fill color2="#ffffe1"/><{v}shadow on="t" color="black" '
        f'obscured="t"/><{v}path {o}connecttype="none"/><{v}textbox style="mso-direction-alt:auto">'
        f'<div style="text-align:left"></div></{v}textbox><{x}ClientData ObjectType="Note"><{x}MoveWithCells/>'
        f"<{x}SizeWithCells/><{x}Anchor>{col}, 15, {row - 1}, 2, {col + 3}, 15, {row - 1 + lines}, 4</{x}Anchor>"
        f"<{x}AutoFill>False</{x}AutoFill><{x}Row>{row - 1}</{x}Row><{x}Column>{col - 1}</{x}Column>"
        f"</{x}ClientData></{v}shape>"
    )


def new_vml_parts(ours: dict[tuple[int, int], str], first_id: int = 1025) -> Iterator[bytes]:
    """A new VML drawing with a shape for each note, a batch of shapes at a time."""
    v, o, x = "v:", "o:", "x:"
    yield (
        f'<xml xmlns:v="{_VML_NS}" xmlns:o="{_OFFICE_NS}" xmlns:x="{_EXCEL_NS}"><o:shapelayout v:ext="edit">'
        f'<o:idmap v:ext="edit" data="1"/></o:shapelayout>{_SHAPETYPE.format(v=v, o=o)}'
    ).encode()
    yield from _shapes(v, o, x, first_id, ours)
    yield b"</xml>"


def _shapes(v: str, o: str, x: str, first_id: int, ours: dict[tuple[int, int], str]) -> Iterator[bytes]:
    """A shape for each note, in cell order, ids from `first_id`, a batch at a time."""
    n = first_id
    for batch in _batches(sorted(ours)):
        shapes = []
        for row, col in batch:
            shapes.append(_note_shape(v, o, x, n, row, col, ours[row, col]))
            n += 1
        yield "".join(shapes).encode()


def merged_vml(
    data: bytes, dropped: set[tuple[int, int]], ours: dict[tuple[int, int], str]
) -> tuple[Callable[[], Iterator[bytes]], int]:
    """The sheet's VML without pbload's old notes and with the new ones (made as it is written, a batch
    of shapes at a time); and how many shapes it keeps.

    Excel's VML is not well-formed XML (it writes unclosed `<br>`): it is edited as text, its shapes
    found with the prefixes its root declares. VML whose root declares none of them (openpyxl's with
    lxml installed: the prefixes change from element to element) is well-formed, and edited as a tree."""
    try:
        return _merged_vml_text(data, dropped, ours)
    except _NoPrefixes:
        return _merged_vml_tree(parse_part(data, "the comments' drawing"), dropped, ours)


class _NoPrefixes(Unsupported):
    """The VML's root does not declare the usual namespaces."""


def _merged_vml_tree(
    part: Part, dropped: set[tuple[int, int]], ours: dict[tuple[int, int], str]
) -> tuple[Callable[[], Iterator[bytes]], int]:
    root = part.root
    kept = 0
    for shape in [e for e in root.iter(f"{{{_VML_NS}}}shape")]:
        data = shape.find(f"{{{_EXCEL_NS}}}ClientData")
        row = (data.findtext(f"{{{_EXCEL_NS}}}Row") or "").strip() if data is not None else ""
        col = (data.findtext(f"{{{_EXCEL_NS}}}Column") or "").strip() if data is not None else ""
        note = data is not None and data.get("ObjectType") == "Note"
        if note and row.isdigit() and col.isdigit():
            if (int(row) + 1, int(col) + 1) in dropped:
                shape.getparent().remove(shape)
                continue
        kept += 1
    ids = [int(m.group(1)) for e in root.iter() for m in [_SHAPE_ID.fullmatch(e.get("id") or "")] if m] or [
        1024
    ]
    v, o, x = "v:", "o:", "x:"
    known = any(e.get("id") == "_x0000_t202" for e in root.iter())
    shapetype = [] if known else [_SHAPETYPE.format(v=v, o=o).encode()]
    shapes = partial(_shapes, v, o, x, max(ids) + 1, ours)
    # the new shapes go last, between two marks: lxml writes the part once without them, and then each
    # batch of them where they go (the bytes it would write for all at once, without holding them all)
    before, after = etree.ProcessingInstruction(_MARK), etree.ProcessingInstruction(_MARK + "-end")
    root.append(before)
    root.append(after)
    head, _, rest = part.render().partition(etree.tostring(before))
    tail = rest.partition(etree.tostring(after))[2]

    def written() -> Iterator[bytes]:
        yield head
        for xml in itertools.chain(shapetype, shapes()):
            wrapper = etree.fromstring(
                f'<wrap xmlns:v="{_VML_NS}" xmlns:o="{_OFFICE_NS}" xmlns:x="{_EXCEL_NS}">'.encode()
                + xml
                + b"</wrap>"
            )
            batch = list(wrapper)
            for element in batch:
                after.addprevious(element)
            yield part.render().partition(etree.tostring(before))[2].partition(etree.tostring(after))[0]
            for element in batch:
                root.remove(element)
        yield tail

    return written, kept + len(ours)


def _merged_vml_text(
    data: bytes, dropped: set[tuple[int, int]], ours: dict[tuple[int, int], str]
) -> tuple[Callable[[], Iterator[bytes]], int]:
    root = re.search(rb"<xml\b[^>]*>", data)
    end = data.rfind(b"</xml>")
    if not root or end < 0:
        raise Unsupported("the comments' drawing is not the usual VML")
    prefixes = {
        uri: pre
        for pre, uri in (
            (m.group(1).decode(), m.group(2).decode())
            for m in re.finditer(rb"xmlns:([\w.-]+)\s*=\s*[\"']([^\"']*)[\"']", root.group(0))
        )
    }
    try:
        v, o, x = (prefixes[ns] + ":" for ns in (_VML_NS, _OFFICE_NS, _EXCEL_NS))
    except KeyError:
        raise _NoPrefixes("the comments' drawing does not declare the usual namespaces") from None
    shape = re.compile(rb"<" + v.encode() + rb"shape\b.*?</" + v.encode() + rb"shape>", re.S)
    cell = re.compile(
        rb"<"
        + x.encode()
        + rb"Row>\s*(\d+)\s*</"
        + x.encode()
        + rb"Row>\s*<"
        + x.encode()
        + rb"Column>\s*(\d+)\s*</"
        + x.encode()
        + rb"Column>"
    )
    kept_shapes: list[bytes] = []
    body = data[root.end() : end]
    pieces, pos = [], 0
    for m in shape.finditer(body):
        found = cell.search(m.group(0))
        is_note = b'ObjectType="Note"' in m.group(0)
        if is_note and found and (int(found.group(1)) + 1, int(found.group(2)) + 1) in dropped:
            pieces.append(body[pos : m.start()])
            pos = m.end()
            continue
        kept_shapes.append(m.group(0))
    pieces.append(body[pos:])
    ids = [int(n) for n in re.findall(rb"_x0000_s(\d+)", data)] or [1024]
    shapetype = "" if b'id="_x0000_t202"' in data else _SHAPETYPE.format(v=v, o=o)
    head, tail = data[: root.end()] + b"".join(pieces) + shapetype.encode(), data[end:]
    shapes = partial(_shapes, v, o, x, max(ids) + 1, ours)  # made as the drawing is written
    return lambda: itertools.chain([head], shapes(), [tail]), len(kept_shapes) + len(ours)
