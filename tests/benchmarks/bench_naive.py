"""`pbload load` against the loader a user writes instead of pbload (a script, not a test).

    python -m tests.benchmarks.bench_naive [--orders N] [--naive-sample M] [--latency MS] [--pairs P]

The naive loader is what a merchant's developer writes in an afternoon: `pandas.read_excel` of the
Products and Orders sheets (openpyxl engine), one `httpx.post` per product and then one per order
(its lines grouped by order number), one at a time on one keep-alive `httpx.Client`, to the single-item
endpoints (`POST /v1/products`, `POST /v1/orders`) with a token and a fresh `X-PB-TransactionId` each;
then `openpyxl.load_workbook`, a Status column on every row, and a save. Its bodies come from pbload's
own `build_payload` (a real one maps the columns by hand; beside 50 ms a request the CPU is nothing).

pbload's side is `pbload load` of bench_send's workbook: its PRODUCTS products and N orders of two
lines each (default 10,000 orders: 20,000 order lines), default concurrency.

Each run is a fresh process against a fresh `pbload emulator serve` (its own process, real HTTP, state
in memory) at MS ms injected latency (default 50), timed whole, from process start to exit. At 50 ms
the naive loader needs about 10 minutes for 10,000 orders, so it loads a sample: M orders (default
1,000) and their share of the products, and its time is extrapolated linearly to the full workbook
(one request per item: seconds per item x items). A second extrapolation, beside it, does not scale
the naive process's start-up (its imports), which a bigger workbook would not make longer. Pairs of
runs (default 2) alternate which side goes first; the figures are medians. After every run the
emulator is asked what it holds, so that both sides are seen to have done the same work.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.benchmarks import bench_send, in_child

ORDERS = 10_000
NAIVE_SAMPLE = 1_000
LATENCY_MS = 50
PAIRS = 2
TARGET = 100  # issue 14: pbload at least 100x faster than the naive loader
MODULE = "tests.benchmarks.bench_naive"
FULFILLMENT = "/shippingservices/fulfillment"
POSTAL_CODE = "Ship-To Postal Code*"  # read as text, or 06484 arrives as 6484.0
STATUS = "Status"


# The naive loader (runs in its own process) -----------------------------------------------------------


def naive(path: Path, url: str, output: Path) -> dict[str, Any]:
    """Load `path` the naive way into the API at `url`; what it sent, what came back, where time went."""
    import httpx
    import openpyxl
    import pandas as pd

    from loader.resources import ORDERS as ORDER_SHEET
    from loader.resources import PRODUCTS as PRODUCT_SHEET
    from tests.faultsuite import CLIENT

    started = time.perf_counter()
    products = pd.read_excel(path, sheet_name="Products", engine="openpyxl")
    orders = pd.read_excel(path, sheet_name="Orders", engine="openpyxl", dtype={POSTAL_CODE: str})
    read = time.perf_counter()
    statuses: dict[str, list[str]] = {"Products": [], "Orders": []}
    answers: dict[str, int] = {}  # by HTTP status, as text (JSON's keys are)
    with httpx.Client(base_url=url, timeout=60) as http:
        token = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(CLIENT["PB_API_KEY"], CLIENT["PB_API_SECRET"]),
        ).json()["access_token"]

        def post(path: str, body: dict[str, Any]) -> str:
            response = http.post(
                FULFILLMENT + path,
                json={"clientId": CLIENT["PB_CLIENT_ID"], **body},
                headers={"Authorization": f"Bearer {token}", "X-PB-TransactionId": uuid_id()},
            )
            answers[str(response.status_code)] = answers.get(str(response.status_code), 0) + 1
            return (
                "CREATED" if response.status_code == 201 else f"ERROR {response.status_code}: {response.text}"
            )

        for record in records(products, PRODUCT_SHEET):
            statuses["Products"].append(post("/v1/products", PRODUCT_SHEET.build_payload(record)))
        key = next(c for c in orders.columns if c.startswith("Client Order ID"))
        lines = records(orders, ORDER_SHEET)
        for _, group in orders.groupby(key, sort=False):
            values = [lines[at] for at in group.index]
            status = post("/v1/orders", ORDER_SHEET.build_payload(values[0], values))
            statuses["Orders"] += [status] * len(values)
    sent = time.perf_counter()
    book = openpyxl.load_workbook(path)
    for sheet, column in statuses.items():
        ws = book[sheet]
        at = ws.max_column + 1
        ws.cell(row=1, column=at, value=STATUS)
        for row, status in enumerate(column, start=2):
            ws.cell(row=row, column=at, value=status)
    book.save(output)
    written = time.perf_counter()
    errors = [s for column in statuses.values() for s in column if s != "CREATED"]
    return {
        "rows": {sheet: len(column) for sheet, column in statuses.items()},
        "answers": answers,
        "first_error": errors[0][:300] if errors else None,
        "read": read - started,
        "send": sent - read,
        "write": written - sent,
    }


def records(frame: Any, resource: Any) -> list[dict[str, Any]]:
    """The sheet's rows as dicts by pbload's field names (the mapping a naive loader writes by hand)."""
    from loader.resources import normalize_header

    names = {normalize_header(f.header): f.name for f in resource.fields}
    frame = frame.rename(columns=lambda header: names[normalize_header(header)])
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def uuid_id() -> str:
    return uuid.uuid4().hex[:24]  # PB allows 25 characters of [A-Za-z0-9_-]


# The benchmark -------------------------------------------------------------------------------------


def sample_workbook(path: Path, orders: int, products: int) -> Path:
    """bench_send's workbook with `products` products instead of its PRODUCTS (it reads the constant
    when it runs, so the constant is swapped for the call)."""
    saved = bench_send.PRODUCTS
    bench_send.PRODUCTS = products
    try:
        return bench_send.workbook(path, orders)
    finally:
        bench_send.PRODUCTS = saved


def held(emulator: Any) -> dict[str, int]:
    """What the emulator holds after a run, through its search API."""
    return {"products": len(emulator.skus()), "orders": emulator.order_count()}


def run_naive(path: Path, latency_ms: int, folder: Path) -> dict[str, Any]:
    from tests.faultsuite import ServedEmulator

    with ServedEmulator() as emulator:
        emulator.set_faults(latency_ms=latency_ms)
        start = time.perf_counter()
        result = in_child(MODULE, "naive", str(path), emulator.url, str(folder / "naive.result.xlsx"))
        seconds = time.perf_counter() - start
        emulator.set_faults()
        return {**result, "seconds": seconds, "held": held(emulator), "load": os.getloadavg()[0]}


def run_pbload(path: Path, latency_ms: int, folder: Path) -> dict[str, Any]:
    from tests.faultsuite import CLIENT, ServedEmulator

    with ServedEmulator() as emulator, tempfile.TemporaryDirectory(dir=folder) as state:
        emulator.set_faults(latency_ms=latency_ms)
        command = [sys.executable, "-m", "loader", "load", str(path), "--env", "local"]
        command += ["--base-url", emulator.url, "--state-dir", state, "--json", "--no-progress"]
        command += ["--output", str(Path(state) / "result.xlsx")]
        start = time.perf_counter()
        out = subprocess.run(command, env={**os.environ, **CLIENT}, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if out.returncode:
            raise RuntimeError(f"pbload load failed ({out.returncode}): {out.stderr[-2000:]}")
        report = json.loads(out.stdout)
        emulator.set_faults()
        return {
            "seconds": seconds,
            "rows": {s["sheet"]: s["counts"] for s in report["sheets"]},
            "held": held(emulator),
            "load": os.getloadavg()[0],
        }


def option(args: list[str], name: str, default: int) -> int:
    return int(args[args.index(name) + 1]) if name in args else default


@dataclass(frozen=True)
class Sizes:
    """What each side loads: pbload the whole workbook, the naive loader a sample of it."""

    products: int
    orders: int
    sample_products: int
    sample_orders: int

    @property
    def items(self) -> int:
        """Items of the whole workbook: one request each for the naive loader."""
        return self.products + self.orders

    @property
    def sample_items(self) -> int:
        return self.sample_products + self.sample_orders


def main() -> None:
    args = sys.argv[1:]
    if args[:2] == ["--child", "naive"]:
        print(json.dumps(naive(Path(args[2]), args[3], Path(args[4]))))
        return
    orders = option(args, "--orders", ORDERS)
    sample = min(option(args, "--naive-sample", NAIVE_SAMPLE), orders)
    latency = option(args, "--latency", LATENCY_MS)
    pairs = option(args, "--pairs", PAIRS)
    products = bench_send.PRODUCTS
    sizes = Sizes(products, orders, max(1, round(products * sample / orders)), sample)
    print(
        f"pbload load: {products:,} products + {orders:,} orders x 2 lines; naive loader: a sample of "
        f"{sizes.sample_products:,} products + {sample:,} orders x 2 lines; {latency} ms latency, served "
        f"emulator (fresh each run); load {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    results: dict[str, list[dict[str, Any]]] = {"naive": [], "pbload": []}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        full = bench_send.workbook(folder / "full.xlsx", orders)
        part = sample_workbook(folder / "sample.xlsx", sample, sizes.sample_products)
        runs = {
            "naive": lambda: run_naive(part, latency, folder),
            "pbload": lambda: run_pbload(full, latency, folder),
        }
        for pair in range(1, pairs + 1):
            order = ("naive", "pbload") if pair % 2 else ("pbload", "naive")
            for side in order:
                r = runs[side]()
                results[side].append(r)
                print(
                    f"pair {pair} {side:<6} {r['seconds']:8.1f} s  {describe(side, r)}; load {r['load']:.2f}",
                    flush=True,
                )
    work_done(results, sizes)
    summarize(results, sizes)


def describe(side: str, r: dict[str, Any]) -> str:
    held = f"emulator holds {r['held']['products']:,} products, {r['held']['orders']:,} orders"
    if side == "pbload":
        rows = "; ".join(f"{sheet} {counts}" for sheet, counts in r["rows"].items())
        return f"rows: {rows}; {held}"
    answers = ", ".join(f"{n:,} x {status}" for status, n in sorted(r["answers"].items()))
    error = f"; first error: {r['first_error']}" if r["first_error"] else ""
    return (
        f"{sum(r['answers'].values()):,} POSTs answered {answers} "
        f"(read {r['read']:.1f} s, send {r['send']:.1f} s, write-back {r['write']:.1f} s of Status on "
        f"{sum(r['rows'].values()):,} rows); {held}{error}"
    )


def work_done(results: dict[str, list[dict[str, Any]]], sizes: Sizes) -> None:
    """Print what each side created in its every run, and a warning for any run short of the whole."""
    rows = sizes.products + 2 * sizes.orders
    created = [sum(c.get("CREATED", 0) for c in r["rows"].values()) for r in results["pbload"]]
    answered = [r["answers"].get("201", 0) for r in results["naive"]]
    print(
        f"pbload: CREATED {', '.join(f'{n:,}' for n in created)} of {rows:,} rows; naive loader: 201 for "
        f"{', '.join(f'{n:,}' for n in answered)} of {sizes.sample_items:,} POSTs (by run)"
    )
    expected = {
        "pbload": {"products": sizes.products, "orders": sizes.orders},
        "naive": {"products": sizes.sample_products, "orders": sizes.sample_orders},
    }
    short = [c != rows for c in created] + [a != sizes.sample_items for a in answered]
    short += [r["held"] != expected[side] for side, rs in results.items() for r in rs]
    if any(short):
        print("WARNING: a run did not load its whole workbook; the figures below compare unequal work")


def summarize(results: dict[str, list[dict[str, Any]]], sizes: Sizes) -> None:
    pbload = statistics.median(r["seconds"] for r in results["pbload"])
    naive_s = statistics.median(r["seconds"] for r in results["naive"])
    work = statistics.median(r["read"] + r["send"] + r["write"] for r in results["naive"])
    scale = sizes.items / sizes.sample_items
    linear = naive_s * scale
    start_unscaled = (naive_s - work) + work * scale
    print(f"pbload load, {sizes.orders:,} orders, measured: median {pbload:.1f} s (whole process)")
    print(
        f"naive loader, sample of {sizes.sample_orders:,} orders ({sizes.sample_items:,} items), measured: "
        f"median {naive_s:.1f} s (whole process, of which {naive_s - work:.1f} s start-up and exit), "
        f"{naive_s / sizes.sample_items * 1000:.1f} ms per item"
    )
    print(
        f"naive loader, {sizes.orders:,} orders ({sizes.items:,} items), extrapolated linearly: {linear:.0f} s "
        f"-> pbload {linear / pbload:.1f}x faster (target >= {TARGET}x)"
    )
    print(
        f"naive loader, {sizes.orders:,} orders, extrapolated with its start-up not scaled: "
        f"{start_unscaled:.0f} s -> pbload {start_unscaled / pbload:.1f}x faster; load {os.getloadavg()[0]:.2f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
