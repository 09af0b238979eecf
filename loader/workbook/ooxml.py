"""Just enough of the Office Open XML package format to edit a workbook without loading it.

Parts are handled as bytes: a few regular expressions find the elements pbload changes, and a
small scanner lists an element's children so that new ones go where the schema wants them.
Nothing here builds a tree of a whole part; nothing here knows what a result workbook is.
"""

from __future__ import annotations

import html
import posixpath
import re
from dataclasses import dataclass

MAIN_NS = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT_NS = b"http://purl.oclc.org/ooxml/spreadsheetml/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"

_R = REL_NS + "/"
REL_OFFICE_DOCUMENT = _R + "officeDocument"
REL_WORKSHEET = _R + "worksheet"
REL_STYLES = _R + "styles"
REL_SHARED_STRINGS = _R + "sharedStrings"
REL_CALC_CHAIN = _R + "calcChain"
REL_COMMENTS = _R + "comments"
REL_VML = _R + "vmlDrawing"
REL_DRAWING = _R + "drawing"
REL_CHART = _R + "chart"
# Parts on a data sheet that pbload's columns could collide with: the openpyxl path handles those.
REL_TABLE = _R + "table"
REL_PIVOT = _R + "pivotTable"
REL_QUERY_TABLE = _R + "queryTable"

CT_WORKBOOK = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"

# Children of <worksheet>, in the order the schema requires.
WORKSHEET_ORDER = (
    "sheetPr",
    "dimension",
    "sheetViews",
    "sheetFormatPr",
    "cols",
    "sheetData",
    "sheetCalcPr",
    "sheetProtection",
    "protectedRanges",
    "scenarios",
    "autoFilter",
    "sortState",
    "dataConsolidate",
    "customSheetViews",
    "mergeCells",
    "phoneticPr",
    "conditionalFormatting",
    "dataValidations",
    "hyperlinks",
    "printOptions",
    "pageMargins",
    "pageSetup",
    "headerFooter",
    "rowBreaks",
    "colBreaks",
    "customProperties",
    "cellWatches",
    "ignoredErrors",
    "smartTags",
    "drawing",
    "legacyDrawing",
    "legacyDrawingHF",
    "drawingHF",
    "picture",
    "oleObjects",
    "controls",
    "webPublishItems",
    "tableParts",
    "extLst",
)
STYLES_ORDER = (
    "numFmts",
    "fonts",
    "fills",
    "borders",
    "cellStyleXfs",
    "cellXfs",
    "cellStyles",
    "dxfs",
    "tableStyles",
    "colors",
    "extLst",
)

_TAG = re.compile(
    rb"<!--.*?-->|<\?.*?\?>|<(/?)([A-Za-z_][\w.:-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>", re.S
)
_ATTR = re.compile(rb"([\w.:-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_CELL_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")
_ESCAPED_LITERAL = re.compile(r"_x[0-9A-Fa-f]{4}_")


class Unsupported(Exception):
    """The stream editor met something it does not handle; the faithful (slower) path must write this one."""


@dataclass
class Element:
    """One element of a part: its local name and where it starts and ends (end is exclusive)."""

    name: str
    start: int
    end: int


def children(data: bytes, start: int, end: int) -> list[Element]:
    """The child elements of the element whose content runs from `start` to `end`."""
    found: list[Element] = []
    depth = 0
    open_at = 0
    for m in _TAG.finditer(data, start, end):
        if m.group(2) is None:  # a comment or processing instruction
            continue
        closing, name, selfclosing = m.group(1), m.group(2), m.group(4)
        if closing:
            depth -= 1
            if depth == 0:
                found[-1].end = m.end()
            if depth < 0:
                raise Unsupported("unbalanced XML")
            continue
        if depth == 0:
            local = name.split(b":")[-1].decode()
            found.append(Element(local, m.start(), m.end()))
            open_at = m.start()
        if not selfclosing:
            depth += 1
    if depth:
        raise Unsupported(f"unclosed XML element near byte {open_at}")
    return found


def root_span(data: bytes) -> tuple[int, int, int]:
    """(start of the root tag, end of the root tag, start of the root's closing tag)."""
    for m in _TAG.finditer(data):
        if m.group(2) is not None:
            close = data.rfind(b"</")
            if close < m.end():
                raise Unsupported("the part has no content")
            return m.start(), m.end(), close
    raise Unsupported("the part has no root element")


def insert_child(
    data: bytes, parent_content: tuple[int, int], element: bytes, name: str, order: tuple[str, ...]
) -> bytes:
    """Insert `element` (named `name`) among the children between `parent_content`, in schema order."""
    rank = order.index(name)
    start, end = parent_content
    for child in children(data, start, end):
        if child.name in order and order.index(child.name) > rank:
            return data[: child.start] + element + data[child.start :]
    return data[:end] + element + data[end:]


def attrs(tag: bytes) -> dict[str, str]:
    """The attributes of a start tag, unescaped, by qualified name."""
    return {
        m.group(1).decode(): html.unescape((m.group(2) if m.group(2) is not None else m.group(3)).decode())
        for m in _ATTR.finditer(tag)
    }


def set_attr(tag: bytes, name: str, value: str) -> bytes:
    """The tag with attribute `name` set to `value` (replaced, or added before the tag's end)."""
    pattern = re.compile(rb"(\s" + re.escape(name.encode()) + rb"\s*=\s*)(\"[^\"]*\"|'[^']*')")
    quoted = b'"' + attr_escape(value).encode() + b'"'
    if pattern.search(tag):
        return pattern.sub(lambda m: m.group(1) + quoted, tag, count=1)
    end = len(tag) - (2 if tag.endswith(b"/>") else 1)
    return tag[:end].rstrip() + b" " + name.encode() + b"=" + quoted + tag[end:]


def drop_attr(tag: bytes, name: str) -> bytes:
    return re.sub(rb"\s" + re.escape(name.encode()) + rb"\s*=\s*(\"[^\"]*\"|'[^']*')", b"", tag)


def prefix_of(data: bytes, local: str) -> bytes:
    """The namespace prefix ('x:' or '') the first `local` element is written with."""
    m = re.search(rb"<([A-Za-z_][\w.-]*:)?" + local.encode() + rb"[\s/>]", data)
    if not m:
        raise Unsupported(f"no <{local}> element")
    return m.group(1) or b""


def check_namespace(data: bytes, prefix: bytes) -> None:
    """Refuse Strict Open XML, and anything whose spreadsheet elements are in an unknown namespace."""
    declared = re.search(
        rb"xmlns" + (b":" + prefix[:-1] if prefix else b"") + rb"\s*=\s*[\"']([^\"']*)[\"']", data
    )
    uri = declared.group(1) if declared else b""
    if uri == STRICT_NS:
        raise StrictWorkbook()
    if uri != MAIN_NS:
        raise Unsupported(f"unexpected spreadsheet namespace {uri.decode(errors='replace')!r}")


class StrictWorkbook(Exception):
    """The workbook is Strict Open XML, which neither writer can keep faithfully."""


def protect_escapes(text: str) -> str:
    """Excel reads `_xHHHH_` in cell text as an escaped character: a literal one gets its `_` escaped."""
    return _ESCAPED_LITERAL.sub(lambda m: "_x005F" + m.group(0), text) if "_x" in text else text


def text_escape(text: str) -> str:
    """Text for an element's content: `& < >` escaped, a literal `_xHHHH_` protected, CR kept."""
    text = protect_escapes(text)
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "_x000D_")
    return text


def attr_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )


def t_element(text: str, prefix: str = "") -> str:
    """<t>text</t>, keeping leading and trailing spaces."""
    if text[:1].isspace() or text[-1:].isspace():
        return f'<{prefix}t xml:space="preserve">{text_escape(text)}</{prefix}t>'
    return f"<{prefix}t>{text_escape(text)}</{prefix}t>"


def column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def split_ref(ref: str) -> tuple[int, int]:
    """'B3' or '$B$3' -> (row 3, column 2)."""
    m = _CELL_REF.match(ref.strip())
    if not m:
        raise Unsupported(f"cannot read cell reference {ref!r}")
    return int(m.group(2)), column_number(m.group(1))


def split_range(ref: str) -> tuple[int, int, int, int]:
    """'A1:C9' -> (first row, first column, last row, last column); a single cell is a range too."""
    first, _, last = ref.partition(":")
    r0, c0 = split_ref(first)
    r1, c1 = split_ref(last) if last else (r0, c0)
    return r0, c0, r1, c1


# --- packages -------------------------------------------------------------------------------


@dataclass
class Rel:
    """One relationship: `target` is the resolved part name (no leading slash) unless external."""

    id: str
    type: str
    target: str
    external: bool = False
    raw_target: str = ""


def rels_name(part: str) -> str:
    """xl/workbook.xml -> xl/_rels/workbook.xml.rels"""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def parse_rels(data: bytes, source: str) -> list[Rel]:
    """The relationships of `source` (a part name, '' for the package)."""
    folder = posixpath.dirname(source)
    rels = []
    for m in re.finditer(rb"<(?:\w+:)?Relationship\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)/?>", data):
        a = attrs(m.group(1))
        raw = a.get("Target", "")
        external = a.get("TargetMode") == "External"
        target = raw if external else resolve(folder, raw)
        rels.append(Rel(a.get("Id", ""), a.get("Type", ""), target, external, raw))
    return rels


def resolve(folder: str, target: str) -> str:
    if target.startswith("/"):
        return posixpath.normpath(target[1:])
    return posixpath.normpath(posixpath.join(folder, target))


def render_rels(rels: list[Rel]) -> bytes:
    lines = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{PKG_REL_NS}">']
    for rel in rels:
        target = rel.raw_target or "/" + rel.target
        mode = ' TargetMode="External"' if rel.external else ""
        lines.append(
            f'<Relationship Id="{attr_escape(rel.id)}" Type="{attr_escape(rel.type)}" '
            f'Target="{attr_escape(target)}"{mode}/>'
        )
    lines.append("</Relationships>")
    return "".join(lines).encode()


def new_rel_id(rels: list[Rel]) -> str:
    taken = {r.id for r in rels}
    n = len(rels) + 1
    while f"rId{n}" in taken:
        n += 1
    return f"rId{n}"


@dataclass
class ContentTypes:
    """[Content_Types].xml: extension defaults and per-part overrides."""

    defaults: dict[str, str]
    overrides: dict[str, str]  # part name without leading slash -> content type

    @classmethod
    def parse(cls, data: bytes) -> ContentTypes:
        defaults, overrides = {}, {}
        for m in re.finditer(rb"<(?:\w+:)?(Default|Override)\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)/?>", data):
            a = attrs(m.group(2))
            if m.group(1) == b"Default":
                defaults[a.get("Extension", "").lower()] = a.get("ContentType", "")
            else:
                overrides[a.get("PartName", "").lstrip("/")] = a.get("ContentType", "")
        return cls(defaults, overrides)

    def of(self, part: str) -> str:
        return self.overrides.get(part) or self.defaults.get(posixpath.splitext(part)[1][1:].lower(), "")

    def render(self) -> bytes:
        lines = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="{CT_NS}">']
        for ext, ct in self.defaults.items():
            lines.append(f'<Default Extension="{attr_escape(ext)}" ContentType="{attr_escape(ct)}"/>')
        for part, ct in self.overrides.items():
            lines.append(f'<Override PartName="/{attr_escape(part)}" ContentType="{attr_escape(ct)}"/>')
        lines.append("</Types>")
        return "".join(lines).encode()


def unused_name(taken: set[str], pattern: str) -> str:
    """The first `pattern.format(n)` (n = 1, 2, ...) that is not a part yet."""
    n = 1
    while pattern.format(n) in taken:
        n += 1
    name = pattern.format(n)
    taken.add(name)
    return name
