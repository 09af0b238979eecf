"""Benchmark what reading a workbook costs with and without the sheet scan (a script, not a test).

    python -m tests.benchmarks.bench_read [ROWS] [PAIRS]      (default 100,000 rows, 5 pairs)

Generates the products workbook of `bench_validate` (ROWS rows, every column filled) twice: as
openpyxl writes it (inline strings) and as xlsxwriter writes it (shared strings, as Excel does).
Then times `read_workbook` in fresh processes, alternating: as pbload runs (the package check, with
every small part parsed once, and the scan of the sheet's XML for error values, formulas and hidden
rows) and with both switched off (the reader as it was before them). Prints each pair and the
medians. Target: they add at most 15% to the read.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks import in_child
from tests.benchmarks.bench_validate import generate


def generate_shared(source: Path, path: Path) -> None:
    """The same rows as xlsxwriter writes them: text in the shared strings part."""
    import xlsxwriter
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(source)).get_sheet_by_name("Products").to_python()
    book = xlsxwriter.Workbook(str(path), {"constant_memory": False})
    ws = book.add_worksheet("Products")
    for n, row in enumerate(rows):
        ws.write_row(n, 0, [None if v == "" else v for v in row])
    book.close()


def _child(kind: str, path: str) -> None:
    from loader.workbook import package, reader
    from loader.workbook.sheet_scan import SheetFacts

    if kind == "without-scan":
        reader._facts = lambda package, sheet: SheetFacts()  # type: ignore[assignment]
        reader.open_package = lambda path: package.open_package(path, verify=False)  # type: ignore[assignment]
    start = time.perf_counter()
    book = reader.read_workbook(Path(path))
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rows": len(book.sheets[0].frame),
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def _measure(kind: str, path: Path) -> dict:
    return in_child("tests.benchmarks.bench_read", kind, str(path))


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2], sys.argv[3])
        return
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    pairs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "products.xlsx"
        generate(plain, rows)
        shared = Path(tmp) / "shared.xlsx"
        generate_shared(plain, shared)
        for label, path in (("openpyxl's inline strings", plain), ("xlsxwriter's shared strings", shared)):
            _pairs(label, path, rows, pairs)


def _pairs(label: str, path: Path, rows: int, pairs: int) -> None:
    print(f"{label}: {rows:,} rows, {path.stat().st_size / 1e6:.1f} MB")
    without, with_scan = [], []
    for n in range(pairs):
        a = _measure("without-scan", path)
        b = _measure("with-scan", path)
        assert a["rows"] == b["rows"] == rows
        without.append(a["seconds"])
        with_scan.append(b["seconds"])
        print(
            f"  pair {n + 1}: without {a['seconds']:.2f} s ({a['peak_mb']:.0f} MB), "
            f"with {b['seconds']:.2f} s ({b['peak_mb']:.0f} MB)"
        )
    before, after = statistics.median(without), statistics.median(with_scan)
    print(
        f"  median: without {before:.2f} s, with {after:.2f} s: {(after / before - 1) * 100:+.1f}% "
        "(target: at most +15%)"
    )


if __name__ == "__main__":
    main()
