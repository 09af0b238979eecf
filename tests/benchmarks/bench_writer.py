"""Benchmark the result writer against xlsxwriter's constant-memory mode (a script, not a test).

    python -m tests.benchmarks.bench_writer [ROWS]      (default 100,000)

Builds a products workbook like a filled-in template: ROWS rows x 25 columns (the template's 20 and
5 of the user's own), a styled header with notes, frozen and filtered, drop-downs, number formats.
Then, each in a fresh process so that its peak memory is its own:

* xlsxwriter in constant-memory mode writing the same rows plus pbload's 5 columns (a new file,
  nothing of the input's formatting kept) — the yardstick;
* pbload's writer annotating the input: 90 % of rows CREATED, 5 % FAILED with PB's message, 5 %
  INVALID with a problem in one cell (a comment and a mark each).

Target: pbload's writer in at most half xlsxwriter's time, peak memory under 300 MB and flat as rows
grow. xlsxwriter is needed only here: `pip install xlsxwriter`.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from loader.resources.products import PRODUCTS
from loader.workbook import RESULT_COLUMNS

EXTRA = ("Buyer", "Season", "Colour", "Size", "Notes")
HEADERS = [f.header for f in PRODUCTS.fields] + list(EXTRA)
FORMATS = {4: "0.00##", 5: "0.00##", 17: "yyyy-mm-dd hh:mm"}  # 0-based column -> number format
CREATED = datetime(2026, 10, 1, 9, 30)


def row_values(n: int) -> list[Any]:
    """Row n of the generated sheet: the same values for the input and for xlsxwriter."""
    return [
        f"{n:07d}-SKU",
        "ITEM",
        f"Product number {n}, blue",
        f"{n:012d}",
        12.5 + n % 7,
        0.8,
        "LB",
        12,
        9,
        2.5,
        "IN",
        "PT",
        "611011",
        "Lisbon Knitwear Lda",
        "V-0042",
        "PB_ONLY",
        True,
        CREATED,
        None,
        None,
        "J. Silva",
        "AW26",
        "Blue",
        "M",
        f"Batch {n // 1000}",
    ]


def outcome_kind(n: int) -> str:
    return "invalid" if n % 20 == 7 else "failed" if n % 20 == 13 else "created"


def generate(path: Path, rows: int) -> None:
    """The input workbook, written in openpyxl's streaming mode."""
    book = Workbook(write_only=True)
    ws = book.create_sheet(PRODUCTS.sheet)
    fill = PatternFill("solid", fgColor="1F4E78")
    font = Font(bold=True, color="FFFFFF")
    for col in range(1, len(HEADERS) + 1):
        ws.column_dimensions[get_column_letter(col)].width = 16
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(HEADERS))}1"
    dv = DataValidation(type="list", formula1='"LB,OZ,KG,G"', allow_blank=True)
    dv.add("G2:G1048576")
    ws.data_validations.append(dv)
    header = []
    for text in HEADERS:
        cell = WriteOnlyCell(ws, value=text)
        cell.font, cell.fill = font, fill
        cell.comment = Comment(f"What to enter in {text}.", "pbload")
        header.append(cell)
    ws.append(header)
    styled = {col: WriteOnlyCell(ws) for col in FORMATS}
    for col, fmt in FORMATS.items():
        styled[col].number_format = fmt
    for n in range(rows):
        values = row_values(n)
        for col, cell in styled.items():
            cell.value = values[col]
            values[col] = cell
        ws.append(values)
    meta = book.create_sheet("_pbload")
    meta.append(["template", "products"])
    meta.append(["products", PRODUCTS.template_version])
    book.save(path)


def _report(path: str, rows: int) -> tuple[Any, dict[str, dict[str, int]]]:
    from loader.models import Issue, Outcome, RunReport, SheetReport, Status

    report = RunReport(
        "bench", "load", path, "0" * 64, "local", datetime.now(), template="products (products v1)"
    )
    sheet = SheetReport(PRODUCTS.sheet, list(range(2, rows + 2)))
    for n in range(rows):
        row, kind = n + 2, outcome_kind(n)
        if kind == "created":
            sheet.outcomes[row] = Outcome(Status.CREATED, f"PB{n:09d}", transaction_id=f"pbl-{n // 200:06d}")
        elif kind == "failed":
            sheet.outcomes[row] = Outcome(
                Status.FAILED, None, "PB-4001", "HS Code 611011 is not valid for PT.", f"pbl-{n // 200:06d}"
            )
        else:
            message = "Weight Unit 'LBS' is not allowed; use one of LB, OZ, KG, G."
            sheet.outcomes[row] = Outcome(Status.INVALID, None, "not-allowed", f"Weight Unit: {message}")
            report.issues.append(Issue(PRODUCTS.sheet, row, "Weight Unit", "not-allowed", message))
    report.sheets = [sheet]
    report.ended = datetime.now()
    return report, {PRODUCTS.sheet: {h: n for n, h in enumerate(HEADERS[:20])}}


def _ours(path: str, rows: int) -> dict:
    from loader.workbook.result import write_result as write_result_workbook

    report, positions = _report(path, rows)
    before = _rss_mb()
    start = time.perf_counter()
    written = write_result_workbook(Path(path), Path(path).with_suffix(".result.xlsx"), report, positions)
    return {
        "seconds": time.perf_counter() - start,
        "method": written.method,
        "rss_before_mb": before,
        "size_mb": written.path.stat().st_size / 1e6,
    }


def _xlsxwriter(path: str, rows: int) -> dict:
    try:
        import xlsxwriter
    except ImportError:
        raise SystemExit("xlsxwriter is not installed: `pip install xlsxwriter` (benchmark only).") from None
    before = _rss_mb()
    start = time.perf_counter()
    book = xlsxwriter.Workbook(str(Path(path).with_suffix(".xlsxwriter.xlsx")), {"constant_memory": True})
    ws = book.add_worksheet(PRODUCTS.sheet)
    header = book.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F4E78"})
    ws.set_column(0, len(HEADERS) + len(RESULT_COLUMNS) - 1, 16)
    for col, fmt in FORMATS.items():  # column formats: xlsxwriter applies them to each cell of the column
        ws.set_column(col, col, 16, book.add_format({"num_format": fmt}))
    ws.write_row(0, 0, HEADERS + list(RESULT_COLUMNS), header)
    for n in range(rows):
        kind = outcome_kind(n)
        ws.write_row(
            n + 1,
            0,
            row_values(n)
            + {
                "created": ["CREATED", f"PB{n:09d}", None, None, f"pbl-{n // 200:06d}"],
                "failed": [
                    "FAILED",
                    None,
                    "PB-4001",
                    "HS Code 611011 is not valid for PT.",
                    f"pbl-{n // 200:06d}",
                ],
                "invalid": [
                    "INVALID",
                    None,
                    "not-allowed",
                    "Weight Unit: Weight Unit 'LBS' is not allowed.",
                    None,
                ],
            }[kind],
        )
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, rows, len(HEADERS) + len(RESULT_COLUMNS) - 1)
    book.close()
    return {"seconds": time.perf_counter() - start, "rss_before_mb": before}


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _child(kind: str, path: str, rows: int) -> None:
    start = time.perf_counter()
    result = {"ours": _ours, "xlsxwriter": _xlsxwriter}[kind](path, rows)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["process_seconds"] = time.perf_counter() - start
    print(json.dumps(result))


def _measure(kind: str, path: Path, rows: int) -> dict:
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.bench_writer", "--child", kind, str(path), str(rows)],
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"{kind} failed")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["wall"] = time.perf_counter() - start
    return result


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "products.xlsx"
        start = time.perf_counter()
        generate(path, rows)
        print(
            f"input: {rows:,} rows x {len(HEADERS)} columns, {path.stat().st_size / 1e6:.1f} MB, "
            f"generated in {time.perf_counter() - start:.1f} s"
        )
        base = _measure("xlsxwriter", path, rows)
        print(
            f"xlsxwriter (constant memory): write {base['seconds']:.2f} s, process {base['wall']:.2f} s, "
            f"peak {base['peak_mb']:.0f} MB"
        )
        ours = _measure("ours", path, rows)
        print(
            f"pbload writer ({ours['method']}): write {ours['seconds']:.2f} s, process {ours['wall']:.2f} s, "
            f"peak {ours['peak_mb']:.0f} MB ({ours['rss_before_mb']:.0f} MB of it the run's report, held "
            f"before writing), result {ours['size_mb']:.1f} MB"
        )
        print(
            f"ratio: {ours['seconds'] / base['seconds']:.2f}x xlsxwriter's write time, "
            f"{ours['wall'] / base['wall']:.2f}x its process time (target: at most 0.5x)"
        )


if __name__ == "__main__":
    main()
