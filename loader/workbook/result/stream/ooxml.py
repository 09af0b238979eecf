"""Just enough of the Office Open XML package format to edit a workbook without loading it: part and
relationship names and types, the relationships and content types (read and written with lxml), cell
references, and text as a cell holds it. Nothing here knows what a result workbook is.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from openpyxl.utils import column_index_from_string

from loader.workbook.result.stream.refusals import StrictWorkbook, Unsupported
from loader.workbook.result.stream.xml import Part, etree, local, parse_part

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

_CELL_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")
_ESCAPED_LITERAL = re.compile(r"_x[0-9A-Fa-f]{4}_")
_DRIVE = re.compile(r"[A-Za-z]:")
XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def spreadsheet_root(part: Part, name: str) -> str:
    """The namespace of `part`'s root, which must be `<name>` of SpreadsheetML (Strict is refused)."""
    qname = etree.QName(part.root)
    if qname.namespace == STRICT_NS.decode():
        raise StrictWorkbook()
    if qname.namespace != MAIN_NS.decode():
        raise Unsupported(f"unexpected spreadsheet namespace {qname.namespace!r}")
    if qname.localname != name:
        raise Unsupported(f"no <{name}> element")
    return str(qname.namespace)


def protect_escapes(text: str) -> str:
    """Excel reads `_xHHHH_` in cell text as an escaped character: a literal one gets its `_` escaped."""
    return _ESCAPED_LITERAL.sub(lambda m: "_x005F" + m.group(0), text) if "_x" in text else text


def cell_text(text: str) -> str:
    """Text as a cell (or a defined name) stores it: a literal `_xHHHH_` protected, CR kept as `_x000D_`."""
    text = protect_escapes(text)
    return text.replace("\r", "_x000D_") if "\r" in text else text


def text_escape(text: str) -> str:
    """Text for an element's content: `& < >` escaped, a literal `_xHHHH_` protected, CR kept."""
    text = cell_text(text)
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
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


def is_plain(text: str) -> bool:
    """Whether `text` goes into <t> as it is: not empty, nothing to escape (`& < >`), no carriage return
    or literal `_xHHHH_` to keep, no space to preserve at either end. Searches of the string, not a
    pattern tried at every character (which was a ninth of writing 100,000 rows)."""
    return (
        bool(text)
        and not text[0].isspace()
        and not text[-1].isspace()
        and "&" not in text
        and "<" not in text
        and ">" not in text
        and "\r" not in text
        and "_x" not in text
    )


def t_element(text: str, prefix: str = "") -> str:
    """<t>text</t>, keeping leading and trailing spaces."""
    if is_plain(text):  # nearly every value: nothing to escape or keep (the row scanner's hot path)
        return f"<{prefix}t>{text}</{prefix}t>"
    if text[:1].isspace() or text[-1:].isspace():
        return f'<{prefix}t xml:space="preserve">{text_escape(text)}</{prefix}t>'
    return f"<{prefix}t>{text_escape(text)}</{prefix}t>"


def split_ref(ref: str) -> tuple[int, int]:
    """'B3' or '$B$3' -> (row 3, column 2)."""
    m = _CELL_REF.match(ref.strip())
    if not m:
        raise Unsupported(f"cannot read cell reference {ref!r}")
    return int(m.group(2)), column_index_from_string(m.group(1))


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


def source_of_rels(name: str) -> str:
    """xl/_rels/workbook.xml.rels -> xl/workbook.xml ('' for the package's own _rels/.rels)."""
    folder, file = posixpath.split(name)
    return (
        posixpath.join(posixpath.dirname(folder), file[: -len(".rels")]) if folder.endswith("_rels") else ""
    )


def parse_rels(data: bytes, source: str) -> list[Rel]:
    """The relationships of `source` (a part name, '' for the package)."""
    folder = posixpath.dirname(source)
    rels = []
    for element in parse_part(data, rels_name(source)).root.iter():
        if local(element) == "Relationship":
            raw = element.get("Target", "")
            external = element.get("TargetMode") == "External"
            target = raw if external else resolve(folder, raw)
            rels.append(Rel(element.get("Id", ""), element.get("Type", ""), target, external, raw))
    return rels


def resolve(folder: str, target: str) -> str:
    if target.startswith("/"):
        return posixpath.normpath(target[1:])
    return posixpath.normpath(posixpath.join(folder, target))


def render_rels(rels: list[Rel]) -> bytes:
    root = etree.Element(f"{{{PKG_REL_NS}}}Relationships", nsmap={None: PKG_REL_NS})
    for rel in rels:
        element = etree.SubElement(root, f"{{{PKG_REL_NS}}}Relationship")
        element.set("Id", rel.id)
        element.set("Type", rel.type)
        element.set("Target", rel.raw_target or "/" + rel.target)
        if rel.external:
            element.set("TargetMode", "External")
    return XML_DECL.encode() + etree.tostring(root, encoding="UTF-8")


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
        for element in parse_part(data, "[Content_Types].xml").root.iter():
            if local(element) == "Default":
                defaults[element.get("Extension", "").lower()] = element.get("ContentType", "")
            elif local(element) == "Override":
                overrides[element.get("PartName", "").lstrip("/")] = element.get("ContentType", "")
        return cls(defaults, overrides)

    def of(self, part: str) -> str:
        return self.overrides.get(part) or self.defaults.get(posixpath.splitext(part)[1][1:].lower(), "")

    def render(self) -> bytes:
        root = etree.Element(f"{{{CT_NS}}}Types", nsmap={None: CT_NS})
        for ext, ct in self.defaults.items():
            etree.SubElement(root, f"{{{CT_NS}}}Default", {"Extension": ext, "ContentType": ct})
        for part, ct in self.overrides.items():
            etree.SubElement(root, f"{{{CT_NS}}}Override", {"PartName": "/" + part, "ContentType": ct})
        return XML_DECL.encode() + etree.tostring(root, encoding="UTF-8")


def unused_name(taken: set[str], pattern: str) -> str:
    """The first `pattern.format(n)` (n = 1, 2, ...) that is not a part yet."""
    n = 1
    while pattern.format(n) in taken:
        n += 1
    name = pattern.format(n)
    taken.add(name)
    return name


def unsafe_name(name: str) -> bool:
    """A member name that could reach outside the folder it is unpacked in: absolute, with a `..`
    segment, a backslash (a Windows separator) or a drive letter."""
    return name.startswith("/") or "\\" in name or bool(_DRIVE.match(name)) or ".." in name.split("/")
