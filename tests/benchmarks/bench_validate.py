"""Benchmark `pbload validate --offline` on realistic Orders workbooks (a script, not a test).

    python -m tests.benchmarks.bench_validate [ROWS] [PAIRS] [BAD,...]
        (default 100,000 order lines, 3 pairs, 0,1,10 % bad rows)

The workbooks come from `tests.benchmarks.workbooks` (a merchant's order export, cached under /tmp).
For each share of bad rows, in fresh processes, alternating which of a pair goes first, medians:

1. Every stage of validate, in-process: imports, read, check, plan (`plan_sheet`, wrapped), resolve
   (`Dependencies.resolve` and `.record`), outcomes (the rest of the sheets' validation: each row's
   outcome into the report), write; with the process's peak memory (VmHWM). Paired with
   python-calamine's plain read of the same sheet: read + check against it (target: at most 2x).
2. Whole processes, timed by the parent from start to exit: `python -m loader validate --offline`
   against a process that reads the sheet with python-calamine and writes the same cells plus a
   Status column with xlsxwriter in constant-memory mode, one typed call per cell (target: at most 0.6x).

The machine's load average is printed beside the figures: on a shared machine they mean little without it.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.benchmarks import in_child
from tests.benchmarks.bench_memory import peak_mb
from tests.benchmarks.workbooks import orders, write_products

SHEET = "Orders"
MODULE = "tests.benchmarks.bench_validate"
# bench_read builds its products workbook with this
generate = write_products


# --- children -------------------------------------------------------------------------------------


def _calamine(path: str) -> dict:
    """python-calamine's plain read of the sheet: every cell as a Python value."""
    from python_calamine import CalamineWorkbook

    start = time.perf_counter()
    rows = CalamineWorkbook.from_path(path).get_sheet_by_name(SHEET).to_python()
    return {"seconds": time.perf_counter() - start, "rows": len(rows) - 1}


def _stages(path: str) -> dict:
    """validate --offline in this process, each stage timed."""
    start = time.perf_counter()
    from loader import pipeline
    from loader.models import Status
    from loader.plan import Dependencies  # not `loader.plan`: that attribute is the command
    from loader.settings import load_settings

    imports = time.perf_counter() - start
    spent: dict[str, float] = {}
    _wrap(pipeline, "plan_sheet", spent, "plan")
    _wrap(pipeline, "_validate_sheets", spent, "sheets")
    _wrap(Dependencies, "resolve", spent, "resolve")
    _wrap(Dependencies, "record", spent, "resolve")
    timings = pipeline.Timings()
    with tempfile.TemporaryDirectory() as state:
        settings = load_settings({"state_dir": state, "env": "local"}, environ={})
        began = time.perf_counter()
        report = pipeline.validate(
            Path(path), settings, Path(state) / "result.xlsx", timings=timings, offline=True
        )
        total = time.perf_counter() - began
    counts = report.counts()
    stages = {
        "imports": imports,
        "read": timings.read,
        "check": timings.check,
        "plan": spent.get("plan", 0.0),
        "resolve": spent.get("resolve", 0.0),
        "outcomes": spent.get("sheets", 0.0) - spent.get("plan", 0.0) - spent.get("resolve", 0.0),
        "write": timings.write,
    }
    stages["other"] = total - sum(v for k, v in stages.items() if k != "imports")
    return {
        **stages,
        "total": total,
        "rows": sum(len(s.rows) for s in report.sheets),
        "valid": counts.get(Status.VALID, 0),
        "invalid": counts.get(Status.INVALID, 0),
    }


def _wrap(owner: Any, name: str, spent: dict[str, float], stage: str) -> None:
    """Add the time spent in `owner.name` to `spent[stage]` (nothing when the integrator renamed it)."""
    original = getattr(owner, name, None)
    if original is None:
        print(f"note: {owner.__name__}.{name} is gone; its stage reads 0", file=sys.stderr)
        return

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[stage] = spent.get(stage, 0.0) + time.perf_counter() - start

    setattr(owner, name, timed)


def write_baseline(source: str, target: str) -> int:
    """The yardstick of a whole validate: read the sheet with python-calamine and write its cells, plus a
    Status column, with xlsxwriter in constant-memory mode, one typed call per cell. Returns the rows."""
    from datetime import date, datetime, timedelta
    from datetime import time as clock

    import xlsxwriter
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(source).get_sheet_by_name(SHEET).to_python(skip_empty_area=False)
    book = xlsxwriter.Workbook(target, {"constant_memory": True})
    when = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    ws = book.add_worksheet(SHEET)
    status = len(rows[0])
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            kind = type(value)
            if kind is str:
                if value:
                    ws.write_string(r, c, value)
            elif kind is float or kind is int:
                ws.write_number(r, c, value)
            elif kind is bool:
                ws.write_boolean(r, c, value)
            elif kind in (datetime, date, clock, timedelta):
                ws.write_datetime(r, c, value, when)
            else:
                ws.write_string(r, c, str(value))
        ws.write_string(r, status, "Status" if r == 0 else "VALID")
    book.close()
    return len(rows) - 1


def _child(kind: str, path: str) -> None:
    result = {"calamine": _calamine, "stages": _stages}[kind](path)
    result["peak_mb"] = peak_mb()
    print(json.dumps(result))


# --- the parent -----------------------------------------------------------------------------------


def whole_process(argv: list[str]) -> tuple[float, float]:
    """Run `argv` to its end: (wall seconds from start to exit, its peak memory in MB)."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in (0, 1):  # 1: validate found invalid rows
            errors.seek(0)
            raise RuntimeError(f"{argv} ended with {proc.returncode}: {errors.read().decode()[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


def _validate_argv(path: Path, tmp: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "loader",
        "validate",
        str(path),
        "--offline",
        "-o",
        f"{tmp}/result.xlsx",
        "--state-dir",
        tmp,
        "--no-progress",
    ]


def paired(first: Callable[[], Any], second: Callable[[], Any], pairs: int) -> list[tuple[Any, Any]]:
    """`pairs` runs of each, alternating which goes first: [(first's, second's), ...]."""
    results = []
    for n in range(pairs):
        if n % 2 == 0:
            a = first()
            b = second()
        else:
            b = second()
            a = first()
        results.append((a, b))
    return results


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


STAGES = ("imports", "read", "check", "plan", "resolve", "outcomes", "write", "other")


def report_stages(path: Path, pairs: int) -> None:
    runs = paired(
        lambda: in_child(MODULE, "calamine", str(path)), lambda: in_child(MODULE, "stages", str(path)), pairs
    )
    base = [b["seconds"] for b, _ in runs]
    stages = [s for _, s in runs]
    first = stages[0]
    print(f"  rows {first['rows']:,}: {first['valid']:,} VALID, {first['invalid']:,} INVALID; {load()}")
    print("  stage      median s   runs")
    for name in STAGES:
        values = [s[name] for s in stages]
        print(f"  {name:<9} {_median(values):>8.2f}   " + " ".join(f"{v:.2f}" for v in values))
    totals = [s["total"] for s in stages]
    print(
        f"  {'total':<9} {_median(totals):>8.2f}   " + " ".join(f"{v:.2f}" for v in totals) + "  (no imports)"
    )
    print(f"  peak memory (VmHWM) {_median([s['peak_mb'] for s in stages]):.0f} MB")
    ratios = [(s["read"] + s["check"]) / b for s, b in zip(stages, base, strict=True)]
    print(
        f"  python-calamine plain read {_median(base):.2f} s; read + check = {_median(ratios):.2f}x it "
        f"(pairs: {' '.join(f'{r:.2f}' for r in ratios)}; target <= 2x)"
    )


def report_whole(path: Path, pairs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        runs = paired(
            lambda: whole_process(_validate_argv(path, tmp)),
            lambda: whole_process(
                [sys.executable, "-m", MODULE, "--baseline", str(path), f"{tmp}/base.xlsx"]
            ),
            pairs,
        )
    ours = [v[0] for v, _ in runs]
    base = [b[0] for _, b in runs]
    ratios = [v / b for v, b in zip(ours, base, strict=True)]
    print(
        f"  whole process: validate --offline {_median(ours):.2f} s (peak {_median([v[1] for v, _ in runs]):.0f} MB), "
        f"calamine + xlsxwriter {_median(base):.2f} s (peak {_median([b[1] for _, b in runs]):.0f} MB)"
    )
    print(
        f"  validate = {_median(ratios):.2f}x calamine + xlsxwriter (pairs: {' '.join(f'{r:.2f}' for r in ratios)}; "
        f"target <= 0.6x); {load()}"
    )


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2], sys.argv[3])
        return
    if sys.argv[1:2] == ["--baseline"]:
        write_baseline(sys.argv[2], sys.argv[3])
        return
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    pairs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    shares = [float(b) for b in sys.argv[3].split(",")] if len(sys.argv) > 3 else [0, 1, 10]
    print(f"bench_validate: {rows:,} order lines, {pairs} pairs per figure; {load()}")
    for share in shares:
        path = orders(rows, share / 100)
        print(f"{share:g}% bad rows: {path} ({path.stat().st_size / 1e6:.1f} MB)")
        report_stages(path, pairs)
        report_whole(path, pairs)
    print(f"done; {load()}")


if __name__ == "__main__":
    main()
