"""Write the result workbook: the input, kept as it is, with a status for every row (DESIGN §5).

Three ways, one result. The stream editor (`stream`) copies the input's package and rewrites only
the data sheets' rows and a few small parts: it keeps everything else byte for byte and writes 100,000
rows in a few seconds. Whatever it does not understand (a table over the data, a macro-enabled
workbook, drawings it cannot tell apart) it hands to the openpyxl path (`fallback`), which loads the
whole workbook and is slower but just as faithful for what openpyxl keeps. An input neither can keep
(an OpenDocument or Excel 97-2003 file, a workbook openpyxl cannot read) gets a new .xlsx of its
values instead. All take their words, colours and limits from `content`; `files` names the result,
checks its folder before a run and saves it atomically.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from loader.errors import PbloadError, WorkbookError
from loader.memory import give_back_large_blocks
from loader.models import RunReport
from loader.workbook.package import open_package
from loader.workbook.result.files import (
    atomic,
    check_writable,
    discard_temporaries,
    result_path_for,
    save_atomically,
    write_problem,
)

__all__ = [
    "OPENPYXL",
    "REBUILT",
    "STREAM",
    "Written",
    "check_writable",
    "discard_temporaries",
    "result_path_for",
    "save_atomically",
    "write_problem",
    "write_result",
]

log = logging.getLogger(__name__)

STREAM = "stream"
OPENPYXL = "openpyxl"
REBUILT = "rebuilt"  # a new workbook of the input's values (`fallback.rebuilt`)
Positions = dict[str, dict[str, int]]


@dataclass(frozen=True)
class Written:
    """A result workbook on disk, and which writer made it (with the reason when it was not the stream)."""

    path: Path
    method: str
    reason: str | None = None


def write_result(
    input_path: Path, output: Path, report: RunReport, positions: Positions, method: str | None = None
) -> Written:
    """Write the result workbook for `report` to `output` (atomically), by stream when possible.

    `positions` maps each sheet to its columns: header text -> 0-based column, for pointing at the
    cells that have problems. `method` forces one way (tests, benchmarks).
    """
    give_back_large_blocks()  # the write frees many blocks of megabytes (a part's chunks): let them go
    package = open_package(input_path, verify=False)  # the run has read it: only its kind matters here
    if not package.annotatable:
        return _rebuilt(input_path, output, report, positions, f"the input is {package.label}")
    reason = None
    if method in (None, STREAM):
        try:
            return _streamed(input_path, output, report, positions)
        except (OSError, PbloadError):
            raise
        except Exception as exc:  # Unsupported, or a part the reader never needed is damaged
            if method == STREAM:
                raise
            reason = str(exc) or type(exc).__name__
            log.info("Writing %s with openpyxl: %s", output.name, reason)
    return _with_openpyxl(input_path, output, report, positions, method, reason)


def _streamed(input_path: Path, output: Path, report: RunReport, positions: Positions) -> Written:
    from loader.workbook.result.stream import StrictWorkbook, write_streamed

    try:
        with atomic(output, like=input_path) as tmp:
            write_streamed(input_path, tmp, report, positions)
    except StrictWorkbook:
        raise WorkbookError(
            f"{input_path.name} is saved as Strict Open XML, which pbload cannot annotate. Open it in Excel, "
            "save it as an Excel Workbook (.xlsx) and load that file (the rows already loaded stay loaded)."
        ) from None
    return Written(output, STREAM)


def _with_openpyxl(
    input_path: Path,
    output: Path,
    report: RunReport,
    positions: Positions,
    method: str | None,
    reason: str | None,
) -> Written:
    from openpyxl import load_workbook

    from loader.workbook.result.fallback import annotate

    try:
        book = load_workbook(input_path)
        annotate(book, report, positions)
    except (OSError, PbloadError):
        raise
    except Exception as exc:  # openpyxl refuses parts that the cells did not need: keep the values and marks
        if method == OPENPYXL:
            raise
        log.warning(
            "%s has parts that cannot be kept (%s): its result %s is a new workbook with its values and "
            "pbload's marks; its formatting could not be kept.",
            input_path.name,
            exc,
            output.name,
        )
        return _rebuilt(input_path, output, report, positions, f"openpyxl could not read it: {exc}")
    with atomic(output, like=input_path) as tmp:
        book.save(tmp)
    return Written(output, OPENPYXL, reason)


def _rebuilt(input_path: Path, output: Path, report: RunReport, positions: Positions, reason: str) -> Written:
    from loader.workbook.result.fallback import annotate, rebuilt

    book = rebuilt(input_path)
    annotate(book, report, positions)
    with atomic(output, like=input_path) as tmp:
        book.save(tmp)
    return Written(output, REBUILT, reason)
