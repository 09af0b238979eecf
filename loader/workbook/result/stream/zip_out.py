"""Write the result's package from the input's and the plan: data sheets streamed through the row
scanner, small parts replaced, new parts added, everything else copied as it was (never an unsafe name).

Compression runs on a second thread (`_Background`): zlib releases the interpreter lock while it works,
so compressing one chunk overlaps with building the next.
"""

from __future__ import annotations

import queue
import re
import threading
import time
import zipfile
from collections.abc import Callable, Iterable
from typing import IO

from loader.workbook.result.stream.ooxml import rels_name, render_rels, unsafe_name
from loader.workbook.result.stream.plan import Plan
from loader.workbook.result.stream.rows import CHUNK, MAX_HEAD, SheetRewriter
from loader.workbook.result.stream.xml import Part, local, parse_part

COMPRESS_LEVEL = 6
_ZIP64_FROM = 1 << 31  # members larger than this are written with zip64 sizes
_ROWS = re.compile(rb"<([A-Za-z_][\w.-]*:)?sheetData[\s/>]")  # where a sheet's rows start


def write_package(book: zipfile.ZipFile, out: zipfile.ZipFile, plan: Plan) -> None:
    """Every member of the result, in the input's order after the data sheets; new parts last."""
    level = out.compresslevel if out.compresslevel is not None else COMPRESS_LEVEL
    infos = {i.filename: i for i in book.infolist()}
    for sheet in plan.sheets:
        info = _info(sheet.part, infos[sheet.part], level)
        with (
            book.open(sheet.part) as source,
            out.open(info, "w", force_zip64=infos[sheet.part].file_size > _ZIP64_FROM) as target,
            _Background(target) as write,
        ):
            SheetRewriter(sheet.edit, sheet.header.prefix, sheet.name).run(source, write)
        rels = rels_name(sheet.part)
        if sheet.rels:
            out.writestr(_info(rels, infos.get(rels), level), render_rels(sheet.rels))
    plan.replaced[plan.workbook] = plan.workbook_xml()
    plan.replaced[rels_name(plan.workbook)] = render_rels(plan.workbook_rels)
    types = "[Content_Types].xml"
    out.writestr(_info(types, infos.get(types), level), plan.content_types.render())
    data_parts = {s.part for s in plan.sheets}
    done = {types, *data_parts, *(rels_name(p) for p in data_parts)}
    for info in book.infolist():
        name = info.filename
        if name in done or name in plan.removed:
            continue
        if name in plan.replaced:
            _write(out, _info(name, info, level), plan.replaced[name])
        else:
            _copy(book, out, info, level, untab=name in plan.sheet_parts)
    for name, content in plan.added.items():
        _write(out, _info(name, None, level), content)


def _write(
    out: zipfile.ZipFile, info: zipfile.ZipInfo, content: bytes | Callable[[], Iterable[bytes]]
) -> None:
    """A part's bytes, or the pieces a callable makes as they are written."""
    if callable(content):
        with out.open(info, "w") as target:
            for piece in content():
                target.write(piece)
    else:
        out.writestr(info, content)


def _info(name: str, like: zipfile.ZipInfo | None, level: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, like.date_time if like else time.localtime()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    # a ZipInfo brings its own level (the ZipFile's is only used for names): `compress_level` from 3.13
    setattr(info, "compress_level" if hasattr(info, "compress_level") else "_compresslevel", level)
    if like:
        info.external_attr = like.external_attr
    return info


def _copy(
    book: zipfile.ZipFile, out: zipfile.ZipFile, info: zipfile.ZipInfo, level: int, untab: bool
) -> None:
    """Copy a part unchanged (a sheet other than the data: without its tab selected); never an unsafe name."""
    if unsafe_name(info.filename):
        return
    with (
        book.open(info) as source,
        out.open(_info(info.filename, info, level), "w", force_zip64=info.file_size > _ZIP64_FROM) as target,
    ):
        if untab:
            target.write(_untabbed_start(source))
        while chunk := source.read(CHUNK):
            target.write(chunk)


def _untabbed_start(source: IO[bytes]) -> bytes:
    """The start of a sheet (up to its rows, or the whole of a chart sheet) without a selected tab."""
    buf = source.read(CHUNK)
    if b"tabSelected" not in buf:
        return buf
    while (found := _ROWS.search(buf)) is None and len(buf) < MAX_HEAD:
        more = source.read(CHUNK)
        if not more:
            break
        buf += more
    if found is None and len(buf) >= MAX_HEAD:
        return buf  # no sheet pbload knows: copied as it is
    if found is None:  # the whole part, without rows: a chart or dialog sheet
        return _untab(parse_part(buf, "a sheet")).render()
    close = b"</" + (found.group(1) or b"") + b"worksheet>"
    out = _untab(parse_part(buf[: found.start()] + close, "a sheet")).render()
    return out[: -len(close)] + buf[found.start() :]


def _untab(part: Part) -> Part:
    for view in part.root.iter():
        if local(view) == "sheetView":
            view.attrib.pop("tabSelected", None)
    return part


class _Background:
    """Hands writes to a thread, so compressing one chunk overlaps with building the next
    (zlib releases the interpreter lock while it works)."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while (piece := self.queue.get()) is not None:
            if self.error is None:
                try:
                    self.target.write(piece)
                except BaseException as exc:  # handed to the writing thread in __exit__
                    self.error = exc

    def __enter__(self) -> Callable[[bytes], None]:
        self.thread.start()
        return self._put

    def _put(self, piece: bytes) -> None:
        if self.error is not None:
            raise self.error
        if piece:
            self.queue.put(piece)

    def __exit__(self, *exc: object) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None and exc[0] is None:
            raise self.error
