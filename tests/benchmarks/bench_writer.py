"""Benchmark the result writer against xlsxwriter's constant-memory mode (a script, not a test).

    python -m tests.benchmarks.bench_writer [ROWS] [--pairs N] [--before DIR] [--memory]

Builds a products workbook like a filled-in template: ROWS rows (default 100,000) x 25 columns (the
template's 20 and 5 of the user's own), a styled header with notes, frozen and filtered, drop-downs,
number formats. Then, each run in a fresh process so that its time and peak memory are its own, in
alternating pairs (medians printed):

* the yardstick: xlsxwriter in constant-memory mode writing the same cells plus pbload's 5 columns
  (the header's format, the number formats and the date's format kept; nothing else of the input).
  Its rows are built before the clock starts and written with typed calls (`write_string`,
  `write_number`, `write_boolean`, `write_datetime`), the fastest way xlsxwriter offers;
* pbload's writer annotating the input: 90 % of rows CREATED, 5 % FAILED with PB's message, 5 %
  INVALID with a problem in one cell (a comment and a mark each).

`--before DIR` (a folder holding pbload's code as it was, e.g. a `git worktree`) adds DIR's writer to
each round. `--memory` measures the writer's peak memory (VmHWM) at 100,000 and 1,048,575 rows instead,
each size in a fresh process (the peak reset once the run's report is built), and what of it the
report held before writing.
Targets: pbload's write at most 0.15x xlsxwriter's; under 300 MB at 1,048,575 rows, flat from 100,000.
xlsxwriter is needed only here (and by the tests): `pip install xlsxwriter`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
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

REPO = Path(__file__).resolve().parents[2]
MEMORY_SIZES = (100_000, 1_048_575)
TIMEOUT = 1800
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


def _template(path: Path, rows: int) -> None:
    """The input workbook, written in openpyxl's streaming mode (slow: `generate` copies its rows)."""
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


def generate(path: Path, rows: int) -> None:
    """The input workbook: openpyxl's of two rows, its rows then written as openpyxl writes them (the
    same bytes as `_template` of all the rows, in a small part of the time)."""
    small = path.with_suffix(".template.xlsx")
    _template(small, 2)
    with zipfile.ZipFile(small) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info)
            if info.filename != "xl/worksheets/sheet1.xml":
                out.writestr(info, data)
                continue
            text = data.decode()
            start, end = text.index('<row r="2"'), text.index("</sheetData>")
            last = get_column_letter(len(HEADERS))
            head = text[:start].replace(
                f'<dimension ref="A1:{last}3"/>', f'<dimension ref="A1:{last}{rows + 1}"/>'
            )
            with out.open(info.filename, "w") as target:
                target.write(head.encode())
                for first in range(0, rows, 10_000):
                    target.write(
                        "".join(_row_xml(n) for n in range(first, min(rows, first + 10_000))).encode()
                    )
                target.write(text[end:].encode())
    small.unlink()


def _row_xml(n: int) -> str:
    """Row n + 2 of the sheet, as openpyxl writes `row_values(n)`."""
    r = n + 2

    def s(col: str, text: str) -> str:
        return f'<c r="{col}{r}" t="inlineStr"><is><t>{text}</t></is></c>'

    return (
        f'<row r="{r}">{s("A", f"{n:07d}-SKU")}{s("B", "ITEM")}{s("C", f"Product number {n}, blue")}'
        f'{s("D", f"{n:012d}")}<c r="E{r}" s="2" t="n"><v>{12.5 + n % 7}</v></c><c r="F{r}" s="2" t="n"><v>0.8'
        f'</v></c>{s("G", "LB")}<c r="H{r}" t="n"><v>12</v></c><c r="I{r}" t="n"><v>9</v></c><c r="J{r}" t="n">'
        f"<v>2.5</v></c>{s('K', 'IN')}{s('L', 'PT')}{s('M', '611011')}{s('N', 'Lisbon Knitwear Lda')}"
        f'{s("O", "V-0042")}{s("P", "PB_ONLY")}<c r="Q{r}" t="b"><v>1</v></c><c r="R{r}" s="3" t="n">'
        f"<v>46296.39583333334</v></c>{s('U', 'J. Silva')}{s('V', 'AW26')}{s('W', 'Blue')}{s('X', 'M')}"
        f"{s('Y', f'Batch {n // 1000}')}</row>"
    )


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


def result_cells(n: int) -> list[Any]:
    """pbload's five cells of row n, as the writer fills them."""
    kind = outcome_kind(n)
    if kind == "created":
        return ["CREATED", f"PB{n:09d}", None, None, f"pbl-{n // 200:06d}"]
    if kind == "failed":
        return ["FAILED", None, "PB-4001", "HS Code 611011 is not valid for PT.", f"pbl-{n // 200:06d}"]
    return [
        "INVALID",
        None,
        "not-allowed",
        "Weight Unit: Weight Unit 'LBS' is not allowed; use one of LB.",
        None,
    ]


def _writer() -> Any:
    try:
        from loader.workbook.result import write_result
    except ImportError:  # pbload before loader/workbook/result/ (--before)
        from loader.workbook.writer import write_result_workbook as write_result
    return write_result


def _ours(path: str, rows: int) -> dict:
    write = _writer()
    report, positions = _report(path, rows)
    before = _status("VmRSS")
    built = _status("VmHWM")  # the peak of building the report, not the writer's
    store = getattr(report.sheets[0].outcomes, "nbytes", None)  # a dict before loader.models.Outcomes
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # Linux: the peak (VmHWM) starts again from what is resident now
    start = time.perf_counter()
    written = write(Path(path), Path(path).with_suffix(f".{os.getpid()}.result.xlsx"), report, positions)
    seconds = time.perf_counter() - start
    size = written.path.stat().st_size / 1e6
    written.path.unlink()
    return {
        "seconds": seconds,
        "method": written.method,
        "report_mb": before,
        "built_mb": built,
        "outcomes_mb": store() / 1e6 if store is not None else None,
        "size_mb": size,
    }


def _xlsxwriter(path: str, rows: int) -> dict:
    try:
        import xlsxwriter
    except ImportError:
        raise SystemExit("xlsxwriter is not installed: `pip install xlsxwriter` (benchmark only).") from None
    cells = [row_values(n) + result_cells(n) for n in range(rows)]  # built before the clock starts
    target = Path(path).with_suffix(f".{os.getpid()}.xlsxwriter.xlsx")
    start = time.perf_counter()
    book = xlsxwriter.Workbook(str(target), {"constant_memory": True})
    ws = book.add_worksheet(PRODUCTS.sheet)
    header = book.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F4E78"})
    formats = {col: book.add_format({"num_format": fmt}) for col, fmt in FORMATS.items()}
    ws.set_column(0, len(HEADERS) + len(RESULT_COLUMNS) - 1, 16)
    ws.write_row(0, 0, HEADERS + list(RESULT_COLUMNS), header)
    typed = {str: ws.write_string, float: ws.write_number, int: ws.write_number, bool: ws.write_boolean}
    kinds = [
        next((type(row[c]) for row in cells[:40] if row[c] is not None), str) for c in range(len(cells[0]))
    ]
    writers = [typed.get(kind, ws.write_datetime) for kind in kinds]
    looks = [formats.get(col) for col in range(len(writers))]
    for r, row in enumerate(cells, start=1):
        for c, value in enumerate(row):
            if value is not None:
                writers[c](r, c, value, looks[c])
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, rows, len(HEADERS) + len(RESULT_COLUMNS) - 1)
    book.close()
    seconds = time.perf_counter() - start
    target.unlink()
    return {"seconds": seconds}


def _status(field: str) -> float:
    """A figure of /proc/self/status in MB: VmRSS now, VmHWM the peak so far."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def _child(kind: str, path: str, rows: int) -> None:
    import loader

    result = {"ours": _ours, "xlsxwriter": _xlsxwriter}[kind](path, rows)
    result["peak_mb"] = _status("VmHWM")
    result["code"] = str(Path(loader.__file__).resolve().parents[1])
    print(json.dumps(result))


def _run(kind: str, path: Path, rows: int, code: Path = REPO) -> dict:
    """One run in a fresh process, with `code` (a folder holding `loader/`) first on the path."""
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(code), os.environ.get("PYTHONPATH")]))
    )
    out = subprocess.run(  # the script by its path, so that no folder but `code` comes before the installed pbload
        [sys.executable, str(Path(__file__).resolve()), "--child", kind, str(path), str(rows)],
        capture_output=True,
        text=True,
        env=env,
        timeout=TIMEOUT,
        cwd=path.parent,
    )
    if out.returncode:
        raise SystemExit(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"{kind} failed")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if kind == "ours" and result["code"] != str(code.resolve()):
        raise SystemExit(f"the run used pbload from {result['code']}, not {code}")
    return result


def _input(folder: Path, rows: int) -> Path:
    path = folder / f"products-{rows}.xlsx"
    start = time.perf_counter()
    generate(path, rows)
    print(
        f"input: {rows:,} rows x {len(HEADERS)} columns, {path.stat().st_size / 1e6:.1f} MB, "
        f"generated in {time.perf_counter() - start:.1f} s",
        flush=True,
    )
    return path


def _speed(folder: Path, rows: int, pairs: int, before: Path | None) -> None:
    path = _input(folder, rows)
    runs: dict[str, list[dict]] = {"xlsxwriter": [], "ours": [], "before": []}
    for n in range(pairs):  # alternating, so that a busy moment of the machine hits each alike
        for name, kind, code in (
            ("xlsxwriter", "xlsxwriter", REPO),
            ("before", "ours", before),
            ("ours", "ours", REPO),
        ):
            if code is not None:
                runs[name].append(_run(kind, path, rows, code))
                print(f"  round {n + 1}: {name} {runs[name][-1]['seconds']:.2f} s", flush=True)
    base = statistics.median(r["seconds"] for r in runs["xlsxwriter"])
    print(
        f"xlsxwriter (constant memory, pre-built rows, typed calls): write {base:.2f} s (median of {pairs})"
    )
    for name in ("before", "ours"):
        if runs[name]:
            mine = statistics.median(r["seconds"] for r in runs[name])
            label = "pbload writer, before" if name == "before" else "pbload writer"
            print(
                f"{label} ({runs[name][0]['method']}): write {mine:.2f} s, {mine / base:.3f}x xlsxwriter's "
                f"(target: at most 0.15x), peak {statistics.median(r['peak_mb'] for r in runs[name]):.0f} MB"
            )


def _memory(folder: Path, before: Path | None) -> None:
    for rows in MEMORY_SIZES:
        path = _input(folder, rows)
        for name, code in (("before", before), ("now", REPO)):
            if code is None:
                continue
            result = _run("ours", path, rows, code)
            store = result.get("outcomes_mb")
            print(
                f"  {name}: {rows:,} rows: peak while writing {result['peak_mb']:.0f} MB (the process held "
                f"{result['report_mb']:.0f} MB with the report before writing, so the write added "
                f"{result['peak_mb'] - result['report_mb']:.0f} MB; building the report peaked at "
                f"{result['built_mb']:.0f} MB"
                + (f"; its outcomes store {store:.0f} MB" if store is not None else "")
                + f"), write {result['seconds']:.1f} s",
                flush=True,
            )
        path.unlink()


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="?", type=int, default=100_000)
    parser.add_argument("--pairs", type=int, default=3, help="alternating rounds (medians printed)")
    parser.add_argument("--before", type=Path, help="a folder with pbload's code as it was")
    parser.add_argument("--memory", action="store_true", help="peak memory at 100,000 and 1,048,575 rows")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.memory:
            _memory(Path(tmp), args.before)
        else:
            _speed(Path(tmp), args.rows, args.pairs, args.before)


if __name__ == "__main__":
    main()
