"""Benchmark `pbload validate` on a large products workbook (a script, not a test).

    python -m tests.benchmarks.bench_validate [ROWS]      (default 100,000)

Generates a products workbook of ROWS valid rows (most columns filled), then, each in a fresh
process so that peak memory is its own: python-calamine alone reading the sheet, and `pbload
validate` with its read, check and write times. Target: read + check within 2x calamine alone.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

from loader.models import Status
from loader.resources.products import PRODUCTS
from tests.benchmarks import in_child


def generate(path: Path, rows: int) -> None:
    """A template-shaped products sheet, written in openpyxl's streaming mode."""
    book = Workbook(write_only=True)
    ws = book.create_sheet(PRODUCTS.sheet)
    ws.append([f.header for f in PRODUCTS.fields])
    headers = [f.header for f in PRODUCTS.fields]
    for n in range(rows):
        row = {
            "SKU": f"{n:07d}-SKU",
            "Product Type": "ITEM",
            "Description": f"Product number {n}, blue",
            "Brand": "Casa Alma",
            "Category": "Knitwear",
            "UPC": f"{n:012d}",
            "Unit Cost": 12.5,
            "Weight": 0.8,
            "Weight Unit": "LB",
            "Length": 12,
            "Height": 9,
            "Width": 2.5,
            "Dimension Unit": "IN",
            "Origin Country": "PT",
            "HS Tariff Code": "611011",
            "HS Country": "US",
            "Vendor Name": "Lisbon Knitwear Lda",
            "Vendor Number": "V-0042",
            "Fulfillment Region": "PB_ONLY",
            "Active": True,
            "Create Date": datetime(2026, 10, 1, 9, 30),
        }
        ws.append([row.get(h) for h in headers])
    meta = book.create_sheet("_pbload")
    meta.append(["template", "products"])
    meta.append(["products", PRODUCTS.template_version])
    book.save(path)


def _calamine(path: str) -> dict:
    from python_calamine import CalamineWorkbook

    start = time.perf_counter()
    rows = CalamineWorkbook.from_path(path).get_sheet_by_name(PRODUCTS.sheet).to_python()
    return {"seconds": time.perf_counter() - start, "rows": len(rows) - 1}


def _validate(path: str) -> dict:
    from loader import pipeline
    from loader.settings import load_settings

    timings = pipeline.Timings()
    settings = load_settings({"state_dir": tempfile.mkdtemp()}, environ={})
    start = time.perf_counter()
    report = pipeline.validate(Path(path), settings, Path(path).with_suffix(".result.xlsx"), timings=timings)
    return {
        "read": timings.read,
        "check": timings.check,
        "write": timings.write,
        "total": time.perf_counter() - start,
        "rows": sum(len(s.rows) for s in report.sheets),
        "valid": report.counts().get(Status.VALID, 0),
    }


def _child(kind: str, path: str) -> None:
    result = {"calamine": _calamine, "validate": _validate}[kind](path)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _measure(kind: str, path: Path) -> dict:
    return in_child("tests.benchmarks.bench_validate", kind, str(path))


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2], sys.argv[3])
        return
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "products.xlsx"
        start = time.perf_counter()
        generate(path, rows)
        print(
            f"generated {rows:,} rows x {len(PRODUCTS.fields)} columns in {time.perf_counter() - start:.1f} s "
            f"({path.stat().st_size / 1e6:.1f} MB)"
        )
        base = _measure("calamine", path)
        print(f"python-calamine alone: read {base['seconds']:.2f} s, peak {base['peak_mb']:.0f} MB")
        run = _measure("validate", path)
        ratio = (run["read"] + run["check"]) / base["seconds"]
        print(
            f"pbload validate: read {run['read']:.2f} s, check {run['check']:.2f} s, write {run['write']:.2f} s, "
            f"total {run['total']:.2f} s, peak {run['peak_mb']:.0f} MB, {run['valid']:,} of {run['rows']:,} rows valid"
        )
        print(f"read + check = {ratio:.2f}x calamine alone (target: at most 2x)")


if __name__ == "__main__":
    main()
