"""Benchmark the result writer's row scanner on big sheets (a script, not a test).

    python -m tests.benchmarks.bench_scanner [SIZE_MB ...] [--runs N] [--before DIR]
        (default: 64 128 256 MB, 3 runs)

For each size, two sheets of about that many MB of XML (10^6 bytes), written with zipfile:

* one big row: the header, then a row of three cells of SIZE / 3 each (a row that spans hundreds of
  the scanner's 1 MB chunks: the case that used to re-search a growing buffer);
* many rows: 1 kB rows, every one with a status.

Each run writes the result workbook with the stream editor (`xlsx_stream.write_streamed`, without the
package checks in front of it, which refuse sheets of one letter repeated as zip bombs) in a fresh
process, so that each peak memory is its own, and prints the median seconds, MB/s of sheet XML and
peak memory. With `--before DIR` (a copy of
pbload's code as it was, e.g. `git archive HEAD | tar -x -C DIR`) the runs are paired: DIR's code
and this one's take turns on the same file, and both medians are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import datetime
from pathlib import Path

MB = 1_000_000
SHEET = "xl/worksheets/sheet1.xml"
HEADER = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>SKU</t></is></c><c r="B1" t="inlineStr"><is><t>Weight</t>'
    '</is></c><c r="C1" t="inlineStr"><is><t>Colour</t></is></c></row>'
)
ROW_TEXT = 1000  # characters of text in each of the many rows
HERE = Path(__file__).resolve().parents[2]  # the checkout this script is in
TIMEOUT = 900  # seconds a run may take before it counts as not finishing


def big_row(size: int) -> tuple[list[bytes], int]:
    """The rows of a sheet whose data is one row of `size` bytes; and the number of data rows."""
    third = size // 3
    cells = [
        f'<c r="{col}2" t="inlineStr"><is><t>'.encode() + b"x" * third + b"</t></is></c>" for col in "ABC"
    ]
    return [b'<row r="2">', *cells, b"</row>"], 1


def many_rows(size: int) -> tuple[list[bytes], int]:
    rows = size // (ROW_TEXT + 80)
    text = "y" * ROW_TEXT
    return [
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{r}-{text}</t></is></c><c r="B{r}"><v>{r}</v></c>'
        f"</row>".encode()
        for r in range(2, rows + 2)
    ], rows


def generate(path: Path, shape: str, size: int) -> tuple[int, int]:
    """A workbook whose sheet holds about `size` bytes of rows; returns (sheet bytes, data rows)."""
    from tests.workbook.result_cases import raw_workbook

    raw_workbook(path, "<sheetData>@ROWS@</sheetData>")
    with zipfile.ZipFile(path) as small:
        parts = {name: small.read(name) for name in small.namelist()}
    head, tail = parts.pop(SHEET).split(b"@ROWS@")
    body, rows = (big_row if shape == "one big row" else many_rows)(size)
    total = len(head) + len(HEADER) + sum(map(len, body)) + len(tail)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, data in parts.items():
            z.writestr(name, data)
        with z.open(SHEET, "w") as sheet:
            sheet.write(head + HEADER.encode())
            for piece in body:
                sheet.write(piece)
            sheet.write(tail)
    return total, rows


def _child(path: str, rows: int) -> None:
    from loader.models import Outcome, RunReport, SheetReport, Status
    from loader.workbook.result.stream import write_streamed

    report = RunReport(
        "bench",
        "load",
        path,
        "0" * 64,
        "local",
        datetime(2026, 1, 1),
        template="products",
        ended=datetime(2026, 1, 1, 0, 1),
    )
    report.sheets = [
        SheetReport(
            "Products",
            list(range(2, rows + 2)),
            {r: Outcome(Status.CREATED, f"PB{r}", transaction_id="t-1") for r in range(2, rows + 2)},
        )
    ]
    positions = {"Products": {"SKU": 0, "Weight": 1, "Colour": 2}}
    start = time.perf_counter()
    write_streamed(Path(path), Path(path).with_suffix(".result.xlsx"), report, positions)
    seconds = time.perf_counter() - start
    code = str(Path(sys.modules["loader"].__file__).resolve().parents[1])
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "code": code,
            }
        )
    )


def _run(code: str, path: Path, rows: int) -> dict | None:
    """One run in a fresh process, with `code` (a folder holding `loader/`) first on the path; None if it
    took longer than TIMEOUT."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [code, os.environ.get("PYTHONPATH")])))
    try:  # the script by its path, so that no folder but `code` comes before the installed pbload
        out = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--child", str(path), str(rows)],
            capture_output=True,
            text=True,
            env=env,
            timeout=TIMEOUT,
            cwd=path.parent,
        )
    except subprocess.TimeoutExpired:
        return None
    if out.returncode:
        raise SystemExit(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "a run failed")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["code"] != str(Path(code).resolve()):
        raise SystemExit(f"the run used pbload from {result['code']}, not {code}")
    return result


def _figures(name: str, runs: list[dict | None], sheet_bytes: int) -> str:
    done = [r for r in runs if r is not None]
    if len(done) < len(runs):
        return f"{name}: {len(runs) - len(done)} of {len(runs)} runs did not finish in {TIMEOUT} s"
    seconds = statistics.median(r["seconds"] for r in done)
    peak = max(r["peak_mb"] for r in done)
    each = ", ".join(f"{r['seconds']:.2f}" for r in done)
    spread = f" (runs {each})" if len(done) > 1 else ""
    return (
        f"{name}: {seconds:.2f} s median{spread}, {sheet_bytes / MB / seconds:.0f} MB/s, peak {peak:.0f} MB"
    )


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[64, 128, 256], help="sheet sizes in MB")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", help="a folder with pbload's code as it was, run in turn with this one's")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for shape in ("one big row", "many rows"):
            for size in args.sizes:
                path = Path(tmp) / "big.xlsx"
                sheet_bytes, rows = generate(path, shape, size * MB)
                print(
                    f"{shape}, {sheet_bytes / MB:.0f} MB of sheet XML ({rows:,} data rows, "
                    f"{path.stat().st_size / MB:.1f} MB zipped):"
                )
                before: list[dict | None] = []
                after: list[dict | None] = []
                for _ in range(args.runs):
                    if args.before:
                        before.append(_run(args.before, path, rows))
                    after.append(_run(str(HERE), path, rows))
                if args.before:
                    print("  " + _figures("before", before, sheet_bytes))
                print("  " + _figures("now   ", after, sheet_bytes))
                sys.stdout.flush()


if __name__ == "__main__":
    main()
