"""Write a result workbook by editing the input's package as a stream (DESIGN §5; notes/streaming-result-writer).

Every part of the input is copied unchanged except:

* each data sheet, its rows rewritten by the row scanner (`rows`): pbload's cells on each row under
  headers of its own look; its head and tail edited with lxml (`sheet_edges`): column widths that fit
  pbload's columns, the header row and key column frozen, the filter widened, conditional formats that
  tint rows by status and mark invalid cells, and a landscape page setup;
* `styles.xml`, with the few formats the result needs appended (`styles`);
* `workbook.xml` (`workbook_part`), its relationships and `[Content_Types].xml` (`ooxml`), for the new
  sheets and defined names (filters, print areas, the header row printed on every page);
* each data sheet's comments and their VML drawing, merged with pbload's notes on invalid cells, on
  cells with a warning and on changed cells (`comments`).

The Summary (with its chart) and Errors sheets are new parts (`parts`). `calcChain.xml` is dropped
(Excel rebuilds it), as are the Summary and Errors of an earlier result, and every member whose name
could reach outside the folder it is unpacked in (`/abs`, `..`, a backslash, a drive letter): the reader
refuses such workbooks first; the writer never copies one all the same, and one that a relationship
points at raises `Unsupported` (openpyxl names the parts it writes itself). `plan` decides every change
before `zip_out` writes a byte. Whatever this editor does not understand raises `Unsupported` before
the result is used, and the caller writes the workbook with openpyxl instead; a Strict Open XML
workbook raises `StrictWorkbook`.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from loader.models import RunReport
from loader.workbook.result.stream.plan import Planner
from loader.workbook.result.stream.refusals import StrictWorkbook, Unsupported
from loader.workbook.result.stream.rows import ColumnsTaken
from loader.workbook.result.stream.zip_out import COMPRESS_LEVEL, write_package

__all__ = ["COMPRESS_LEVEL", "StrictWorkbook", "Unsupported", "write_streamed"]


def write_streamed(
    source: Path,
    target: Path,
    report: RunReport,
    positions: dict[str, dict[str, int]],
    level: int = COMPRESS_LEVEL,
) -> None:
    """Write the result workbook for `report` to `target` by editing `source`'s package."""
    with zipfile.ZipFile(source) as book:
        try:
            _write_once(book, target, report, positions, level, scan=False)
        except ColumnsTaken:  # rare: read the sheets through once to find their last used columns, then again
            _write_once(book, target, report, positions, level, scan=True)


def _write_once(
    book: zipfile.ZipFile,
    target: Path,
    report: RunReport,
    positions: dict[str, dict[str, int]],
    level: int,
    scan: bool,
) -> None:
    plan = Planner(book, report, positions, scan).plan()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as out:
        write_package(book, out, plan)
