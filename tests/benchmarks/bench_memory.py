"""Peak memory of `pbload validate --offline`, and where it comes from (a script, not a test).

    python -m tests.benchmarks.bench_memory [ROWS,...] [BAD]      (default 100,000,1,048,575 lines, 0 % bad)
    python -m tests.benchmarks.bench_memory --stages ROWS [BAD]   (memory stage by stage)
    python -m tests.benchmarks.bench_memory --trace ROWS [BAD]    (tracemalloc: the biggest allocation sites)
    python -m tests.benchmarks.bench_memory --reader ROWS [BAD]   (the reader's steps: calamine, lists, frame)
    python -m tests.benchmarks.bench_memory --parts ROWS [BAD]    (each structure's bytes: frames, items, outcomes)

The default prints the peak memory (VmHWM) of a fresh process running `validate --offline` through the
CLI on the Orders workbook of `tests.benchmarks.workbooks` at each size (target: at most 1.5 GiB at
1,048,575 lines).

`--stages` wraps each stage of validate (read, check, plan, resolve, outcomes, write) and prints, for
each, the resident memory before and after it and its own peak (VmHWM is reset at the stage's start
through /proc/self/clear_refs), so the stage that makes the peak and what it leaves behind can be told
apart. `--trace` runs the same under tracemalloc (several times slower: use 100,000 lines and scale)
and prints, at the end of each stage, the live Python memory by allocation site (C memory, such as
calamine's own cells, is not seen by tracemalloc; `--stages` sees it).
"""

from __future__ import annotations

import gc
import json
import os
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.benchmarks import in_child
from tests.benchmarks.workbooks import orders

MODULE = "tests.benchmarks.bench_memory"
MB = 1024 * 1024


def _status(field: str) -> float:
    """A figure of /proc/self/status in MB (VmHWM: the peak resident memory; VmRSS: resident now)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def peak_mb() -> float:
    """This process's peak resident memory so far (VmHWM), in MB."""
    return _status("VmHWM")


def rss_mb() -> float:
    return _status("VmRSS")


def reset_peak() -> None:
    """Start VmHWM again from the resident memory of now (Linux: 5 into /proc/self/clear_refs)."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def _cli_argv(path: str, tmp: str) -> list[str]:
    return ["validate", path, "--offline", "-o", f"{tmp}/result.xlsx", "--state-dir", tmp, "--no-progress"]


def _peak(path: str) -> dict:
    """validate --offline as the user runs it (the CLI, in this fresh process); its peak memory."""
    from loader.cli import main

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            main(_cli_argv(path, tmp), standalone_mode=False)
        except SystemExit as exc:  # 1: invalid rows found
            if exc.code not in (0, 1, None):
                raise
    return {"seconds": time.perf_counter() - start, "peak_mb": peak_mb()}


# --- stage by stage -------------------------------------------------------------------------------


class Stages:
    """Resident memory around each wrapped call: before, after, and the call's own peak."""

    def __init__(self, trace: bool) -> None:
        self.trace = trace
        self.rows: list[dict[str, Any]] = []
        self.depth = 0

    def wrap(self, owner: Any, name: str, stage: str) -> None:
        original = getattr(owner, name, None)
        if original is None:
            print(f"note: {owner.__name__}.{name} is gone; stage {stage} not measured", file=sys.stderr)
            return
        setattr(owner, name, self._measured(original, stage))

    def _measured(self, original: Callable[..., Any], stage: str) -> Callable[..., Any]:
        def measured(*args: Any, **kwargs: Any) -> Any:
            if self.depth:  # a stage inside another (plan inside outcomes): the outer one measures
                return self._inner(original, stage, args, kwargs)
            self.depth += 1
            before, start = rss_mb(), time.perf_counter()
            reset_peak()
            try:
                result = original(*args, **kwargs)
            finally:
                self.depth -= 1
            row = {
                "stage": stage,
                "seconds": time.perf_counter() - start,
                "before": before,
                "peak": peak_mb(),
                "after": rss_mb(),
            }
            if self.trace:
                row["sites"] = _sites(tracemalloc.take_snapshot())
                row["traced"] = tracemalloc.get_traced_memory()[0] / MB
            self.rows.append(row)
            return result

        return measured

    def _inner(self, original: Callable[..., Any], stage: str, args: Any, kwargs: Any) -> Any:
        before, start = rss_mb(), time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            self.rows.append(
                {
                    "stage": f"  {stage}",
                    "seconds": time.perf_counter() - start,
                    "before": before,
                    "peak": peak_mb(),
                    "after": rss_mb(),
                }
            )


# Where an allocation is attributed: the first frame of these files, walking out from the allocation.
OURS = ("/loader/",)
SITES = 12


def _sites(snapshot: tracemalloc.Snapshot) -> list[tuple[str, float, int]]:
    """Live memory by the innermost pbload line that asked for it (or the library's line if none did)."""
    by_site: dict[str, list[float]] = {}
    for stat in snapshot.statistics("traceback"):
        frames = list(stat.traceback)  # most recent call last
        ours = [f for f in frames if any(part in f.filename for part in OURS)]
        frame = ours[-1] if ours else frames[-1]
        site = f"{frame.filename.split('/loader/')[-1]}:{frame.lineno}"
        got = by_site.setdefault(site, [0.0, 0])
        got[0] += stat.size / MB
        got[1] += stat.count
    ranked = sorted(by_site.items(), key=lambda kv: -kv[1][0])[:SITES]
    return [(site, size, int(count)) for site, (size, count) in ranked]


def _stages(path: str, trace: bool) -> dict:
    if trace:
        tracemalloc.start(25)
    start_rss = rss_mb()
    from loader import pipeline
    from loader.plan import Dependencies  # not `loader.plan`: that attribute is the command
    from loader.settings import load_settings

    stages = Stages(trace)
    stages.wrap(pipeline, "read_workbook", "read")
    stages.wrap(pipeline, "check_sheet", "check")
    stages.wrap(pipeline, "_validate_sheets", "plan+outcomes")
    stages.wrap(pipeline, "plan_sheet", "plan_sheet")
    stages.wrap(Dependencies, "resolve", "resolve")
    stages.wrap(pipeline, "_write", "write")
    imported = rss_mb()
    with tempfile.TemporaryDirectory() as state:
        settings = load_settings({"state_dir": state, "env": "local"}, environ={})
        report = pipeline.validate(Path(path), settings, Path(state) / "result.xlsx", offline=True)
        kept = rss_mb()
        structures = _structures(report) if not trace else {}
        del report
        gc.collect()
    return {
        "start": start_rss,
        "imported": imported,
        "stages": stages.rows,
        "end_with_report": kept,
        "end_without_report": rss_mb(),
        "structures": structures,
        # VmHWM was reset at each stage's start: the process's peak is the largest of theirs
        "peak_mb": max([peak_mb()] + [row["peak"] for row in stages.rows]),
    }


def _structures(report: Any) -> dict[str, float]:
    """What the report itself holds at the end: its outcome arrays (by their own count) and rows lists."""
    sheets = report.sheets
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    rows = [list(s.rows) for s in sheets]
    lists = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    del rows
    return {
        "outcome arrays (MB)": sum(s.outcomes.nbytes() for s in sheets) / MB,
        "rows lists (MB, pointers only)": lists / MB,
        "rows with an outcome": float(sum(len(s.outcomes) for s in sheets)),
        "issues": float(len(report.issues)),
    }


def _print_stages(result: dict) -> None:
    print(f"  process at start {result['start']:.0f} MB, after importing loader {result['imported']:.0f} MB")
    print("  stage            seconds   RSS before   stage's peak   RSS after")
    for row in result["stages"]:
        print(
            f"  {row['stage']:<15} {row['seconds']:>8.1f} {row['before']:>10.0f} MB {row['peak']:>11.0f} MB "
            f"{row['after']:>9.0f} MB"
            + (f"   (tracemalloc: {row['traced']:.0f} MB live)" if "traced" in row else "")
        )
        for site, size, count in row.get("sites", []):
            print(f"      {size:>8.1f} MB {count:>10,} blocks  {site}")
    print(
        f"  at the end: {result['end_with_report']:.0f} MB with the report, "
        f"{result['end_without_report']:.0f} MB without; process peak {result['peak_mb']:.0f} MB"
    )
    for name, value in result["structures"].items():
        print(f"    {name}: {value:,.1f}")


# --- the reader, step by step ---------------------------------------------------------------------


def _reader(path: str) -> dict:
    """What each step of reading the Orders sheet holds: resident memory (all of it) and tracemalloc's live
    Python memory (calamine's own cells are Rust memory, which only the first sees).

    The steps are `reader.read_sheet`'s: the sheet parsed whole by calamine (or, for a sheet part over
    `bands.BANDED_FROM`, cut into bands parsed one at a time), its rows made into Python lists a band of
    `reader.BAND_ROWS` at a time while the frame's columns are built, then the cells dropped.
    """
    from python_calamine import CalamineWorkbook

    from loader.resources.orders import ORDERS
    from loader.workbook import reader
    from loader.workbook.bands import bands_of
    from loader.workbook.package import open_package

    marks: list[tuple[str, float, float]] = []

    def mark(what: str) -> None:  # resident memory less tracemalloc's own book-keeping
        own = tracemalloc.get_tracemalloc_memory() / MB
        marks.append((what, rss_mb() - own, tracemalloc.get_traced_memory()[0] / MB))

    tracemalloc.start()
    mark("imported")
    package = open_package(Path(path))
    book = CalamineWorkbook.from_path(path)
    bands = bands_of(package, ORDERS.sheet)
    if bands is None:
        cells = book.get_sheet_by_name(ORDERS.sheet)
        rows = reader._SheetRows(package, ORDERS.sheet, reader._cell_rows(cells))
        mark("sheet parsed: calamine's cells")
    else:
        cells = None
        rows = reader._SheetRows(package, ORDERS.sheet, bands.rows())
        mark("first band parsed: its cells")
    positions, _ = reader.map_headers(rows.head[0], ORDERS, ORDERS.sheet)
    frame, _, _ = reader._frame(rows, positions, ORDERS.sheet)
    mark(f"frame built, {reader.BAND_ROWS:,} row lists at a time")
    del rows, cells, book, bands
    gc.collect()
    mark("calamine's cells dropped (the frame alone)")
    return {"marks": marks, "peak_mb": peak_mb(), "cells": int(frame.notna().sum().sum())}


def _print_reader(result: dict) -> None:
    print(f"  {result['cells']:,} non-empty cells")
    print("  step                                          RSS*    Python (tracemalloc)")
    for what, rss, traced in result["marks"]:
        print(f"  {what:<44} {rss:>6.0f} MB {traced:>8.0f} MB")
    print(f"  *: less tracemalloc's own memory; peak {result['peak_mb']:.0f} MB with it")


# --- the structures, one by one -------------------------------------------------------------------


def _parts(path: str) -> dict:
    """Bytes held by each structure validate builds (sys.getsizeof, objects counted once; tracemalloc for
    whole stages), and what sharing equal strings would leave of the raw frame's cells."""
    import importlib

    from loader.checks import check_sheet
    from loader.models import Outcome, SheetReport, Status
    from loader.workbook.reader import read_workbook

    plan = importlib.import_module("loader.plan")  # `loader.plan` the attribute is the command
    gc.disable()
    tracemalloc.start(1)
    sizes: dict[str, float] = {}

    def traced() -> float:
        return tracemalloc.get_traced_memory()[0] / MB

    def stage(name: str, make: Callable[[], Any]) -> Any:
        tracemalloc.reset_peak()
        before = traced()
        made = make()
        sizes[f"{name}: kept"] = traced() - before
        sizes[f"{name}: peak above its start"] = tracemalloc.get_traced_memory()[1] / MB - before
        return made

    book = stage("read_workbook", lambda: read_workbook(Path(path)))
    sheet = book.sheets[0]
    frame = sheet.frame
    sizes["raw frame: pointer arrays"] = frame.memory_usage(deep=False).sum() / MB
    cells, distinct = _cell_objects(frame)
    sizes["raw frame: cell objects"] = cells
    sizes["raw frame: cell objects if equal strings were one object"] = distinct
    checked = stage("check_sheet", lambda: check_sheet(sheet))
    sizes["checked frame: pointer arrays"] = checked.values.memory_usage(deep=False).sum() / MB
    planned = stage(
        "plan_sheet(bodies=False)", lambda: plan.plan_sheet(checked, checked.invalid_rows(), False)
    )
    items = planned.items
    size = sys.getsizeof
    sizes["  Item objects and their __dict__"] = sum(size(i) + size(i.__dict__) for i in items) / MB
    sizes["  Item.rows tuples"] = sum(size(i.rows) for i in items) / MB
    sizes["  Item.references: Reference objects (slotted), tuples"] = (
        sum(size(r) for i in items for r in i.references) + sum(size(i.references) for i in items)
    ) / MB
    sizes["  Item.extra mappings"] = sum(size(e) for e in {id(i.extra): i.extra for i in items}.values()) / MB
    sizes["  Item.cleared frozensets"] = (
        sum(size(c) for c in {id(i.cleared): i.cleared for i in items}.values()) / MB
    )
    sources = [i.source for i in items if i.source is not None]
    sizes["  Item.source objects"] = sum(size(o) + size(getattr(o, "__dict__", {})) for o in sources) / MB
    shared = {id(getattr(o, "sheet", None)): getattr(o, "sheet", None) for o in sources}
    columns = [c for v in shared.values() for c in getattr(v, "_columns", {}).values()]
    sizes[f"  plan's converted columns ({len(columns)} lists)"] = sum(size(c) for c in columns) / MB
    report = stage("SheetReport.rows", lambda: SheetReport(sheet.sheet, list(frame.index)))

    def outcomes() -> None:
        for item in items:
            one = Outcome(Status.VALID)  # as validate makes them: one per item
            report.outcomes.update({row: one for row in item.rows})

    stage("SheetReport.outcomes (dict, one Outcome per item)", outcomes)
    return {"sizes": sizes, "items": len(items), "rows": len(frame), "peak_mb": peak_mb()}


def _cell_objects(frame: Any) -> tuple[float, float]:
    """MB of the frame's distinct cell objects, and of what is left if equal strings of a column were one."""
    held = shared = 0
    for name in frame.columns:
        column = [v for v in frame[name].tolist() if v is not None]
        held += sum(sys.getsizeof(v) for v in {id(v): v for v in column}.values())
        texts = {v for v in column if type(v) is str}
        shared += sum(sys.getsizeof(v) for v in texts) + sum(
            sys.getsizeof(v) for v in column if type(v) is not str
        )
    return held / MB, shared / MB


def _print_parts(result: dict) -> None:
    print(
        f"  {result['rows']:,} rows, {result['items']:,} items (tracemalloc on: its figures are Python memory)"
    )
    for name, value in result["sizes"].items():
        print(f"  {name:<62} {value:>8.1f} MB")


# --- the parent -----------------------------------------------------------------------------------


def _child(kind: str, path: str) -> None:
    if kind == "peak":
        result = _peak(path)
    elif kind == "reader":
        result = _reader(path)
    elif kind == "parts":
        result = _parts(path)
    else:
        result = _stages(path, trace=kind == "trace")
    print(json.dumps(result))


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["--child"]:
        _child(args[1], args[2])
        return
    if args[:1] in (["--stages"], ["--trace"], ["--reader"], ["--parts"]):
        kind, rows = args[0][2:], int(args[1])
        bad = float(args[2]) if len(args) > 2 else 0.0
        path = orders(rows, bad / 100)
        print(f"validate --offline, {rows:,} order lines, {bad:g}% bad ({kind}); {load()}")
        result = in_child(MODULE, kind, str(path))
        {"reader": _print_reader, "parts": _print_parts}.get(kind, _print_stages)(result)
        print(f"done; {load()}")
        return
    sizes = [int(n) for n in args[0].split(",")] if args else [100_000, 1_048_575]
    bad = float(args[1]) if len(args) > 1 else 0.0
    print(f"peak memory (VmHWM) of validate --offline in a fresh process, {bad:g}% bad rows; {load()}")
    for rows in sizes:
        path = orders(rows, bad / 100)
        result = in_child(MODULE, "peak", str(path))
        print(
            f"  {rows:>9,} order lines: peak {result['peak_mb']:,.0f} MB ({result['peak_mb'] / 1024:.2f} GiB), "
            f"{result['seconds']:.1f} s; {load()}"
        )
    print("  target: at most 1.5 GiB at 1,048,575 lines")


if __name__ == "__main__":
    main()
