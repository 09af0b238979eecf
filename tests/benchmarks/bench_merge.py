"""Benchmark what blank-means-keep costs an update of many products (a script, not a test).

    python -m tests.benchmarks.bench_merge [ROWS]      (default 100,000)

Builds ROWS products workbook rows, their items and PB's records of them (one field changed in
every other one), then times deciding each item against its record twice: comparing the row's
own payload (how updates were decided before) and merging it over PB's record first (now).
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace

import pandas as pd

from loader.checks import CheckedSheet
from loader.models import Action
from loader.plan import plan_sheet
from loader.resources.products import API, PRODUCTS
from loader.send.keyed import decide
from loader.workbook.reader import SheetData

ROW = {
    "productType": "ITEM",
    "details.description": "Product, blue",
    "details.brand": "Casa Alma",
    "details.category": "Knitwear",
    "details.unitCost": 12.5,
    "details.weight.value": 0.8,
    "details.weight.unitOfMeasurement": "LB",
    "details.dimensions.length": 12.0,
    "details.dimensions.height": 9.0,
    "details.dimensions.width": 2.5,
    "details.dimensions.dimensionUOM": "IN",
    "details.originCountryCode": "PT",
    "vendorDetails.name": "Lisbon Knitwear Lda",
    "vendorDetails.number": "V-1",
}


def items(rows: int) -> list:
    frame = pd.DataFrame(
        [{"sku": f"{n:07d}", **ROW, "details.identifiers[0].number": f"{n:012d}"} for n in range(rows)],
        index=range(2, rows + 2),
    )
    frame["action"] = None
    data = SheetData(PRODUCTS, PRODUCTS.sheet, frame, {})
    return plan_sheet(CheckedSheet(data, frame), set()).items


def main(rows: int) -> None:
    planned = items(rows)
    records = []
    for n, item in enumerate(planned):
        record = {**item.payload, "clientId": "c", "pbCreateDate": "2026-01-01T00:00:00.000+0000"}
        if n % 2:
            record = {**record, "details": {**record["details"], "unitCost": 13}}
        records.append(record)
    unmerged = [replace(item, values=()) for item in planned]  # decided as before: the row as it stands
    for name, batch in (
        ("compare the row as sent (before)", unmerged),
        ("merge over PB's record (now)", planned),
    ):
        start = time.perf_counter()
        for item, record in zip(batch, records, strict=False):
            decide(item, record, PRODUCTS, API)
        print(f"{name}: {time.perf_counter() - start:.2f} s for {rows:,} products")
    assert all(i.action is Action.UPSERT for i in planned)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
