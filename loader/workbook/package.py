"""What a workbook file really is, and whether it is safe to open, decided before any cell is read.

A file's first bytes say what it is, whatever its name: a zip package (an Office Open XML workbook,
Transitional or Strict, or an OpenDocument spreadsheet), an OLE compound file (a legacy `.xls`, or an
Office workbook protected with a password, which is encrypted inside one), or something else (a CSV
file or a web page saved with an Excel name).

A zip package is checked from its directory alone, before anything is inflated: every part's size
against a limit for its kind and against how far it inflates (a zip bomb inflates a thousand times),
every part's name (no absolute paths, no `..`), and the prolog of every XML part (no document type
declarations, so no entity is ever expanded or fetched; Excel never writes one). So a hostile file is
refused in milliseconds, with flat memory; the small parts are parsed once to see that they are
well-formed (python-calamine passes over some damage, and the result would keep it). Every later
reader (python-calamine, the sheet scan, the result writer) only ever sees parts of a sane size.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import Element
from xml.parsers import expat

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from loader.errors import WorkbookError

XLSX = "xlsx"  # Office Open XML (also .xlsm), Transitional or Strict
ODS = "ods"  # OpenDocument spreadsheet (LibreOffice)
XLS = "xls"  # Excel 97-2003 binary workbook

MiB = 1024 * 1024
GiB = 1024 * MiB
MAX_PARTS = 10_000
# What one part may inflate to: a million-row sheet is well under the first, nothing else comes near 64 MiB.
SHEET_LIMIT = 4 * GiB
STRINGS_LIMIT = 2 * GiB
OTHER_LIMIT = 64 * MiB
TOTAL_LIMIT = 8 * GiB
# Real parts inflate 2 to 25 times (a sheet of 200,000 identical rows: 17); deflate's ceiling is about 1,030.
BOMB_RATIO = 200
BOMB_MIN_SIZE = 16 * MiB  # small parts may inflate as they like
PROLOG_BYTES = 4096  # where a document type declaration would have to be
# Parts up to this size are parsed once to see that they are well-formed (cheap); the data sheets and shared
# strings above it are parsed by the cell reader, which says which part is broken.
WELL_FORMED_LIMIT = 16 * MiB

_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLE_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_STRICT_NS = "http://purl.oclc.org/ooxml/spreadsheetml/main"
_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.I)
_SHEET_PART = re.compile(
    r"(?i)^xl/(worksheets|chartsheets|dialogsheets|macrosheets)/|^content\.xml$"
)  # .ods: content.xml
_STRINGS_PART = re.compile(r"(?i)^xl/sharedStrings\.xml$")
_XML_PART = re.compile(r"(?i)\.(xml|rels|vml)$|^\[Content_Types\]\.xml$")
_VISIBLE = "visible"


@dataclass(frozen=True)
class SheetPart:
    """One sheet as the workbook part declares it."""

    name: str
    part: str | None  # the sheet's XML part in the package (None when the workbook does not say)
    state: str = _VISIBLE  # visible, hidden or veryHidden

    @property
    def hidden(self) -> bool:
        return self.state != _VISIBLE


@dataclass(frozen=True)
class Package:
    """What a workbook file is, as far as pbload needs to know before reading it."""

    path: Path
    kind: str
    strict: bool = False
    date1904: bool = False
    sheets: tuple[SheetPart, ...] = field(default_factory=tuple)  # Office Open XML only

    @property
    def annotatable(self) -> bool:
        """Whether the result can be the input itself with pbload's marks (else a new workbook of its values)."""
        return self.kind == XLSX and not self.strict

    @property
    def label(self) -> str:
        if self.kind == ODS:
            return "an OpenDocument spreadsheet (.ods)"
        if self.kind == XLS:
            return "an Excel 97-2003 workbook (.xls)"
        return "saved as Strict Open XML" if self.strict else "an Excel workbook"

    def part_of(self, sheet: str) -> str | None:
        return next((s.part for s in self.sheets if s.name == sheet), None)


def open_package(path: Path, verify: bool = True) -> Package:
    """Say what `path` is and check its package; raise WorkbookError with what to do when it is no use.

    `verify=False` only says what it is (for a writer whose run has read the file already).
    """
    if not path.exists():
        raise WorkbookError(f"Cannot find {path}. Check the file name and try again.")
    if not path.is_file():
        raise WorkbookError(f"{path} is a folder, not a workbook. Give the path of an .xlsx file.")
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except OSError as exc:
        raise WorkbookError(
            f"{path.name} cannot be opened ({exc.strerror or exc}). Check that you may read it."
        ) from None
    if head.startswith(_ZIP):
        return _zip_package(path, verify)
    if head == _OLE:
        return _ole_package(path)
    raise WorkbookError(_not_a_workbook(path, head))


def _not_a_workbook(path: Path, head: bytes) -> str:
    text = head.lstrip().lower()
    if text.startswith((b"<!doc", b"<html", b"<?xml", b"<table")):
        what = "is a web page"
    elif head and all(32 <= b < 127 or b in b"\t\r\n" for b in head):
        what = "is a text or CSV file"
    else:
        what = "is"
    if what != "is" and path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods"):
        what += " with a workbook's name"
    return (
        f"{path.name} {what}, not an Excel workbook (.xlsx). Open it in Excel or LibreOffice and save it "
        "as an Excel Workbook (.xlsx)."
    ).replace(" is, not", " is not")


def _ole_package(path: Path) -> Package:
    """An OLE compound file: a password-protected Office workbook, or a legacy .xls."""
    tail = b""
    with path.open("rb") as f:
        # the directory holds the stream names; an encrypted package names "EncryptedPackage"
        while chunk := f.read(8 * MiB):
            if _OLE_ENCRYPTED in tail + chunk:
                raise WorkbookError(protected(path))
            tail = chunk[-len(_OLE_ENCRYPTED) :]
    return Package(path, XLS)


def protected(path: Path) -> str:
    return (
        f"{path.name} is protected with a password, so pbload cannot read it: save a copy without one "
        "(in Excel: File > Info > Protect Workbook > Encrypt with Password, clear it) and load that copy."
    )


def _zip_package(path: Path, verify: bool) -> Package:
    try:
        with zipfile.ZipFile(path) as book:
            infos = book.infolist()
            _check_directory(path, infos)
            names = {i.filename for i in infos}
            if verify:
                _check_parts(path, book, infos, names)
            if "mimetype" in names and book.read("mimetype").strip() == _ODS_MIMETYPE:
                return Package(path, ODS)
            if "[Content_Types].xml" not in names:
                raise WorkbookError(_not_a_workbook(path, b"\0"))
            return _ooxml(path, book, names)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        EOFError,
        NotImplementedError,
        ValueError,
    ) as exc:
        raise WorkbookError(damaged(path, str(exc))) from None
    except OSError as exc:
        raise WorkbookError(
            f"{path.name} cannot be read ({exc.strerror or exc}). Check the disk and try again."
        ) from None


def damaged(path: Path, detail: str, part: str | None = None) -> str:
    where = f" (in its part {part})" if part else ""
    return (
        f"{path.name} is damaged and cannot be read{where}: {detail}. Open it in Excel or LibreOffice, "
        "save it again as .xlsx and retry."
    )


def _check_directory(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    """Refuse a package by its directory alone: unsafe names, too many parts, parts that inflate too far."""
    if len(infos) > MAX_PARTS:
        raise WorkbookError(
            f"{path.name} holds {len(infos):,} parts; no workbook has that many. "
            "It is not a workbook pbload can read: save it again from Excel."
        )
    total = 0
    seen: set[str] = set()
    for info in infos:
        if info.filename.lower() in seen:  # readers disagree on which of the two they take
            raise WorkbookError(
                f"{path.name} holds two parts named '{info.filename}', which no spreadsheet program "
                "writes. pbload does not open such files: save the workbook again from Excel."
            )
        seen.add(info.filename.lower())
        if not _safe_name(info.filename):
            raise WorkbookError(
                f"{path.name} holds a part named '{info.filename}', which no spreadsheet program "
                "writes. pbload does not open such files: save the workbook again from Excel."
            )
        total += info.file_size
        limit = _limit_for(info.filename)
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limit or (info.file_size > BOMB_MIN_SIZE and ratio > BOMB_RATIO):
            raise WorkbookError(
                f"{path.name} is not a workbook pbload will open: its part {info.filename} would inflate from "
                f"{_size(info.compress_size)} to {_size(info.file_size)}, far more than any workbook needs. "
                "If the file is yours, open it in Excel, save it again and retry."
            )
    if total > TOTAL_LIMIT:
        raise WorkbookError(
            f"{path.name} would inflate to {_size(total)}, more than pbload reads "
            f"({_size(TOTAL_LIMIT)}). Split the rows over several workbooks."
        )


def _safe_name(name: str) -> bool:
    if (
        not name
        or name.startswith(("/", "\\"))
        or "\\" in name
        or "\0" in name
        or re.match(r"^[A-Za-z]:", name)
    ):
        return False
    return ".." not in name.split("/") and posixpath.normpath(name).lstrip("./") != ""


def _limit_for(name: str) -> int:
    if _SHEET_PART.match(name):
        return SHEET_LIMIT
    if _STRINGS_PART.match(name):
        return STRINGS_LIMIT
    return OTHER_LIMIT


def _size(n: int) -> str:
    return f"{n / GiB:.1f} GB" if n >= GiB else f"{n / MiB:.1f} MB" if n >= MiB else f"{n / 1024:.0f} KB"


def _check_parts(path: Path, book: zipfile.ZipFile, infos: list[zipfile.ZipInfo], names: set[str]) -> None:
    """Every XML part, read once: it may not declare a document type (entities are never expanded, external
    ones never fetched), and up to WELL_FORMED_LIMIT it must be well-formed XML (python-calamine passes
    over some damage, and the result would copy it as it is)."""
    for info in infos:
        if not _XML_PART.search(info.filename) or info.is_dir():
            continue
        whole = not info.filename.lower().endswith(".vml") and info.file_size <= WELL_FORMED_LIMIT
        parser = expat.ParserCreate()
        try:
            with book.open(info) as part:
                chunk = part.read(PROLOG_BYTES)
                if _DOCTYPE.search(chunk[: _first_element(chunk)]):
                    raise WorkbookError(
                        f"{path.name} is not a workbook pbload will open: its part {info.filename} declares a "
                        "document type, which Excel never writes (it can make a reader fetch or expand hidden "
                        "content). Save the workbook again from Excel and retry."
                    )
                while whole and chunk:
                    parser.Parse(chunk, False)
                    chunk = part.read(MiB)
            if whole:
                parser.Parse(b"", True)
        except expat.ExpatError as exc:
            where = _part_and_sheet(path, book, names, info.filename)
            raise WorkbookError(damaged(path, f"its XML is broken ({exc})", where)) from None


def _part_and_sheet(path: Path, book: zipfile.ZipFile, names: set[str], part: str) -> str:
    """`xl/worksheets/sheet1.xml, sheet 'Products'`: a broken part named as the user knows it, when it can be."""
    try:
        sheet = next((s.name for s in _ooxml(path, book, names).sheets if s.part == part), None)
    except WorkbookError:  # the workbook part is broken too: the part's name is all there is
        sheet = None
    return part + (f", sheet '{sheet}'" if sheet else "")


def _first_element(prolog: bytes) -> int:
    """Where the root element starts (past the XML declaration, comments and any declarations)."""
    for m in re.finditer(rb"<([^?!])", prolog):
        return m.start()
    return len(prolog)


def _ooxml(path: Path, book: zipfile.ZipFile, names: set[str]) -> Package:
    """The workbook part's facts: Strict or not, the 1904 date system, and each sheet's part and visibility."""
    main = _office_document(path, book, names)
    if main is None or main not in names:
        raise WorkbookError(_not_a_workbook(path, b"\0"))
    if main.lower().endswith(".bin"):
        raise WorkbookError(
            f"{path.name} is an Excel Binary Workbook (.xlsb), which pbload does not read. Open it "
            "in Excel and save it as an Excel Workbook (.xlsx)."
        )
    workbook = _parse(path, book, main)
    strict = workbook.tag.startswith("{" + _STRICT_NS + "}")
    props = _child(workbook, "workbookPr")
    date1904 = props is not None and props.get("date1904", "").lower() in ("1", "true")
    targets = _targets(path, book, names, main)
    sheets = []
    container = _child(workbook, "sheets")
    for sheet in container if container is not None else []:
        rid = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), None)
        sheets.append(SheetPart(sheet.get("name", ""), targets.get(rid or ""), sheet.get("state", _VISIBLE)))
    return Package(path, XLSX, strict, date1904, tuple(sheets))


def _office_document(path: Path, book: zipfile.ZipFile, names: set[str]) -> str | None:
    if "_rels/.rels" not in names:
        return "xl/workbook.xml"
    for rel in _parse(path, book, "_rels/.rels"):
        if rel.get("Type", "").endswith("/officeDocument"):
            return posixpath.normpath(rel.get("Target", "").lstrip("/"))
    return None


def _targets(path: Path, book: zipfile.ZipFile, names: set[str], main: str) -> dict[str, str]:
    folder, base = posixpath.split(main)
    rels = posixpath.join(folder, "_rels", base + ".rels")
    if rels not in names:
        return {}
    targets = {}
    for rel in _parse(path, book, rels):
        target = rel.get("Target", "")
        part = (
            target.lstrip("/")
            if target.startswith("/")
            else posixpath.normpath(posixpath.join(folder, target))
        )
        targets[rel.get("Id", "")] = part
    return targets


def _parse(path: Path, book: zipfile.ZipFile, part: str) -> Element:
    try:
        return fromstring(book.read(part))
    except (ParseError, DefusedXmlException) as exc:
        raise WorkbookError(damaged(path, _xml_detail(exc), part)) from None


def _xml_detail(exc: Exception) -> str:
    return f"its XML is broken ({exc})" if isinstance(exc, ParseError) else "it declares entities"


def _child(element: Element, local: str) -> Element | None:
    return next((c for c in element if c.tag.rsplit("}", 1)[-1] == local), None)
