"""Realistic benchmark workbooks, built once and cached under /tmp (a helper of the benchmarks, not a test).

    python -m tests.benchmarks.workbooks [ROWS] [BAD]      (default 100,000 order lines, 0% bad)

`orders(rows, bad)` is an Orders sheet as a merchant's export makes it: orders of one to five lines,
SKUs drawn from a catalogue of a few thousand (some far more often than others), ship-to addresses in
the US, Canada and Europe, quantities, prices and line totals, order, ship-on and release dates, and
the optional columns filled only sometimes (a second address line, a company, a reference, an e-mail).
Most orders repeat their order columns on every line, as an ERP export does; some leave them blank
after the first line, as the template allows. A share `bad` of the rows is wrong the way users get it
wrong: a required value missing, a code pbload does not know (a country "USA", an order type "Web", an
action "ADD"), or a number that is not one ("two", "$12.99", 0). The rows are drawn from a seeded
random generator, so a size and a share always give the same file.

The sheet is written by xlsxwriter in constant-memory mode (strings in-line, one row in memory at a
time) with a bold, frozen header row, column widths and date formats, and carries the `_pbload` sheet
of the Orders template. Files are cached as /tmp/pbload-bench/orders-<rows>-<bad>.xlsx.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

CACHE = Path("/tmp/pbload-bench")
SEED = 14
SKUS = 4_000
# Order lines per order, as often as a small web shop sees them.
LINES = (1, 1, 1, 1, 2, 2, 2, 3, 4, 5)
# How often an order after its first line leaves the order columns blank instead of repeating them.
BLANK_FOLLOWERS = 0.25

HEADERS = (
    "Client Order ID",
    "Customer Order ID",
    "Order Type",
    "Order Date",
    "Ship On Date",
    "Release Date",
    "From Node",
    "Brand",
    "Carrier",
    "Service",
    "Ship-To Name",
    "Ship-To Company",
    "Ship-To Address Line 1",
    "Ship-To Address Line 2",
    "Ship-To Address Line 3",
    "Ship-To City",
    "Ship-To State",
    "Ship-To Postal Code",
    "Ship-To Country",
    "Ship-To Phone",
    "Ship-To Email",
    "Reference Name",
    "Reference Value",
    "Line ID",
    "SKU",
    "Quantity",
    "Unit Price",
    "Line Total",
    "Origin Country",
    "HS Tariff Code",
    "HS Tariff Country",
    "Inventory Type",
    "Action",
)
COLUMN = {h: n for n, h in enumerate(HEADERS)}
# The columns of the order itself (the rest belong to its line).
ORDER_COLUMNS = HEADERS[: COLUMN["Line ID"]]
DATES = ("Order Date", "Ship On Date", "Release Date")

FIRST = (
    "Maria",
    "John",
    "Aiko",
    "Pedro",
    "Fatima",
    "Liam",
    "Sofia",
    "Noah",
    "Chen",
    "Olivia",
    "Ahmed",
    "Emma",
)
LAST = (
    "Silva",
    "Smith",
    "Tanaka",
    "Costa",
    "Khan",
    "Murphy",
    "Rossi",
    "Miller",
    "Wang",
    "Brown",
    "Ali",
    "Garcia",
)
STREETS = (
    "Waterview Drive",
    "Main Street",
    "Oak Avenue",
    "Rua Augusta",
    "High Street",
    "Maple Road",
    "Elm Court",
)
# (country, state, city, postal code pattern, share): US addresses most of the time
PLACES = (
    ("US", "CT", "Shelton", "06{:03d}", 30),
    ("US", "CA", "Los Angeles", "90{:03d}", 20),
    ("US", "NY", "Brooklyn", "112{:02d}", 15),
    ("US", "TX", "Austin", "787{:02d}", 10),
    ("CA", "ON", "Toronto", "M5V {:d}A1", 8),
    ("GB", "", "London", "SW1A {:d}AA", 7),
    ("PT", "", "Lisboa", "1100-{:03d}", 5),
    ("DE", "", "Berlin", "10{:03d}", 5),
)
CARRIERS = (("USPS", "PRIORITY"), ("USPS", "GROUND_ADVANTAGE"), ("UPS", "GROUND"), ("FEDEX", "2DAY"))
BRANDS = ("Casa Alma", "Northwind", "Blue Fjord")
COLOURS = ("BLU", "RED", "BLK", "WHT", "GRN")
SIZES = ("S", "M", "L", "XL")


def orders(rows: int, bad: float = 0.0) -> Path:
    """The cached Orders workbook of `rows` order lines, a share `bad` of them wrong; built if missing."""
    path = CACHE / f"orders-{rows}-{round(bad * 100)}.xlsx"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.xlsx")
        write_orders(partial, rows, bad)
        partial.rename(path)  # a build cut short leaves no file that looks finished
    return path


def write_orders(path: Path, rows: int, bad: float) -> None:
    """Write the Orders workbook at `path` (see the module's docstring)."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    when = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    money = book.add_format({"num_format": "#,##0.00"})
    ws = book.add_worksheet("Orders")
    ws.freeze_panes(1, 0)
    for n, header in enumerate(HEADERS):
        ws.set_column(n, n, max(10, len(header) + 2), when if header in DATES else None)
    for header in ("Unit Price", "Line Total"):
        ws.set_column(COLUMN[header], COLUMN[header], 11, money)
    ws.write_row(0, 0, HEADERS, bold)
    for r, values in enumerate(order_lines(rows, bad), start=1):
        for c, value in enumerate(values):
            _write(ws, r, c, value, when)
    meta = book.add_worksheet("_pbload")
    meta.write_row(0, 0, ("template", "orders"))
    meta.write_row(1, 0, ("orders", 2))
    meta.hide()
    book.close()


def _write(ws: Any, row: int, col: int, value: Any, when: Any) -> None:
    if value is None:
        return
    if isinstance(value, str):
        ws.write_string(row, col, value)
    elif isinstance(value, datetime):
        ws.write_datetime(row, col, value, when)
    else:
        ws.write_number(row, col, value)


def order_lines(rows: int, bad: float) -> Iterator[list[Any]]:
    """`rows` order lines as cell values (None: an empty cell), grouped into orders."""
    rng = random.Random(SEED)
    catalogue = [f"{n:05d}-{rng.choice(COLOURS)}-{rng.choice(SIZES)}" for n in range(SKUS)]
    popular = [rng.paretovariate(1.2) for _ in catalogue]
    skus = iter(rng.choices(catalogue, popular, k=rows))
    bad_rows = set(rng.sample(range(rows), round(rows * bad)))
    made = order = 0
    while made < rows:
        order += 1
        head = _order(rng, order)
        blank_followers = rng.random() < BLANK_FOLLOWERS
        for line in range(1, min(rng.choice(LINES), rows - made) + 1):
            values = head + _line(rng, line, next(skus))
            if line > 1 and blank_followers:
                values[1 : len(ORDER_COLUMNS)] = [None] * (len(ORDER_COLUMNS) - 1)
            if made in bad_rows:
                column, wrong = _mistake(rng, line)
                values[column] = wrong
                if column < len(ORDER_COLUMNS):  # the order's value, so its repeating lines carry it too
                    head[column] = wrong
            made += 1
            yield values


def _order(rng: random.Random, order: int) -> list[Any]:
    country, state, city, postal, _ = rng.choices(PLACES, [p[4] for p in PLACES])[0]
    placed = datetime(2026, 1, 1, 8) + timedelta(minutes=rng.randrange(60 * 24 * 330))
    carrier, service = rng.choice(CARRIERS)
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    values: dict[str, Any] = {
        "Client Order ID": f"SO-{100000 + order}",
        "Customer Order ID": f"W-{rng.randrange(10**6):06d}" if rng.random() < 0.7 else None,
        "Order Type": rng.choice(("eCom", "eCom", "eCom", "Retail", None)),
        "Order Date": placed,
        "Ship On Date": placed + timedelta(days=rng.randrange(1, 4)) if rng.random() < 0.6 else None,
        "Release Date": placed + timedelta(hours=2) if rng.random() < 0.1 else None,
        "From Node": rng.choice(("157", "157", "212", None)),
        "Brand": rng.choice(BRANDS),
        "Carrier": carrier,
        "Service": service,
        "Ship-To Name": name,
        "Ship-To Company": rng.choice(("Acme Corp", "Lisbon Knitwear Lda")) if rng.random() < 0.15 else None,
        "Ship-To Address Line 1": f"{rng.randrange(1, 9999)} {rng.choice(STREETS)}",
        "Ship-To Address Line 2": f"Apt {rng.randrange(1, 300)}" if rng.random() < 0.25 else None,
        "Ship-To Address Line 3": None,
        "Ship-To City": city,
        "Ship-To State": state or None,
        "Ship-To Postal Code": postal.format(rng.randrange(1, 999 if "{:03d}" in postal else 99)),
        "Ship-To Country": country,
        "Ship-To Phone": f"203-555-{rng.randrange(10000):04d}" if rng.random() < 0.8 else None,
        "Ship-To Email": f"{name.replace(' ', '.').lower()}@example.com" if rng.random() < 0.6 else None,
        "Reference Name": "PO" if rng.random() < 0.2 else None,
    }
    values["Reference Value"] = f"PO-{rng.randrange(10**5)}" if values["Reference Name"] else None
    return [values[h] for h in ORDER_COLUMNS]


def _line(rng: random.Random, line: int, sku: str) -> list[Any]:
    quantity = rng.choice((1, 1, 1, 2, 2, 3, 5, 10))
    price = round(rng.uniform(4, 180), 2)
    customs = rng.random() < 0.3
    return [
        line,
        sku,
        quantity,
        price,
        round(quantity * price, 2) if rng.random() < 0.8 else None,
        "PT" if customs else None,
        "611011" if customs else None,
        "US" if customs else None,
        None,  # Inventory Type: PB's, rarely known
        None,  # Action: blank is UPSERT
    ]


def _mistake(rng: random.Random, line: int) -> tuple[int, Any]:
    """A column and the wrong value a user put there; an order column only on an order's first line."""
    order = line == 1
    kind = rng.randrange(3)
    if kind == 0:  # a required value missing
        column, wrong = rng.choice(["SKU", "Quantity"] + (["Ship-To City", "Carrier"] if order else [])), None
    elif kind == 1:  # a code pbload does not know
        choices = [("Action", "ADD"), ("Origin Country", "Portugal")]
        column, wrong = rng.choice(
            choices + ([("Ship-To Country", "USA"), ("Order Type", "Web")] if order else [])
        )
    else:  # a number that is not one
        choices = [("Quantity", "two"), ("Quantity", 0), ("Unit Price", "$12.99"), ("Line ID", "1a")]
        column, wrong = rng.choice(
            choices + ([("From Node", 157)] if order else [])
        )  # a code typed as a number
    return COLUMN[column], wrong


def write_products(path: Path, rows: int) -> None:
    """A template-shaped products sheet of `rows` valid rows, most columns filled (openpyxl's streaming mode);
    `bench_read` reads it."""
    from openpyxl import Workbook

    from loader.resources.products import PRODUCTS

    book = Workbook(write_only=True)
    ws = book.create_sheet(PRODUCTS.sheet)
    headers = [f.header for f in PRODUCTS.fields]
    ws.append(headers)
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


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    bad = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    start = time.perf_counter()
    path = orders(rows, bad)
    print(f"{path} ({path.stat().st_size / 1e6:.1f} MB) ready in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
