"""Whatever happens to a run — killed before or after PB answered, stopped, loaded again — the end agrees with PB.

A bounded property test: hypothesis draws short sequences of runs of one workbook (products past a
chunk of 200, and orders that use them) against one in-process emulator. A run may be killed at its
N-th request, before the request reaches PB or after PB carried it out (the answer lost with the
process), or stopped as Ctrl-C stops it. After the sequence one more plain load finishes the work.
Then every item exists once at PB, exactly as the workbook says, every row of the last result is
loaded, and no item was created twice.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loader import pipeline
from loader.emulator import create_app
from loader.models import LOADED_STATUSES
from loader.resources import BY_NAME
from loader.settings import load_settings
from tests.helpers import SHIP_TO, product_row, write_workbook

PRODUCTS = 230  # past one look-up chunk and one bulk call of 200
ORDERS = 12
ADDRESS = {"Carrier": "USPS", "Service": "PRIORITY", **SHIP_TO}


class Killed(BaseException):
    """The process died: nothing after this point runs (no except clause of pbload's catches it)."""


class Fate(httpx.BaseTransport):
    """Passes requests on, and at the N-th request kills the run (before or after PB saw it) or stops it."""

    def __init__(self, inner: httpx.BaseTransport, at: int, how: str, stop: threading.Event) -> None:
        self.inner, self.at, self.how, self.stop = inner, at, how, stop
        self.seen = 0
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.seen += 1
            now = self.seen == self.at
        if now and self.how == "kill-before":
            raise Killed()
        response = self.inner.handle_request(request)
        if now and self.how == "kill-after":
            response.read()
            raise Killed()  # PB carried it out; the answer dies with the process
        if now and self.how == "stop":
            self.stop.set()
        return response


def workbook(path: Path) -> Path:
    products = [product_row(f"CP-{n:04d}", Unit_Cost=n / 4) for n in range(PRODUCTS)]
    orders = [
        row
        for n in range(ORDERS)
        for row in (
            {
                "Client Order ID": f"CO-{n:03d}",
                "Order Date": datetime(2026, 11, 20, 9, 0),
                **ADDRESS,
                "SKU": f"CP-{n:04d}",
                "Quantity": 1 + n % 3,
            },
            {"Client Order ID": f"CO-{n:03d}", "SKU": f"CP-{PRODUCTS - 1 - n:04d}", "Quantity": 1},
        )
    ]
    return write_workbook(path, {"Products": products, "Orders": orders})


RUNS = st.lists(
    st.tuples(
        st.sampled_from(["kill-before", "kill-after", "stop", "whole"]), st.integers(min_value=1, max_value=8)
    ),
    min_size=1,
    max_size=3,
)


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    return workbook(tmp_path_factory.mktemp("crash") / "w.xlsx")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(runs=RUNS)
def test_each_item_once_at_pb_and_the_last_result_agrees(book, tmp_path_factory, runs):
    state = tmp_path_factory.mktemp("state")
    emulator = create_app()
    plain = httpx.WSGITransport(app=emulator)
    creates: Counter[str] = Counter()
    config = load_settings({"env": "local", "state_dir": state, "chunk_size": 50, "concurrency": 2}, {})
    for how, at in runs:
        stop = threading.Event()
        fate = Fate(plain, at, how if how != "whole" else "", stop)
        try:
            pipeline.load(book, config, state / "r.xlsx", transport=_counting(fate, creates), stop=stop)
        except Killed:
            pass
    report = pipeline.load(book, config, state / "r.xlsx", transport=_counting(plain, creates))
    statuses = [o.status for sheet in report.sheets for o in sheet.outcomes.values()]
    assert len(statuses) == PRODUCTS + 2 * ORDERS and set(statuses) <= LOADED_STATUSES, Counter(statuses)
    assert _held(emulator.products(), "products", "sku") == _expected(book, "Products")
    assert _held(emulator.orders(), "orders", "clientOrderId") == _expected(book, "Orders")
    assert max(creates.values()) == 1  # PB carried out one create per product, whatever was retried
    emulator.close()


def _counting(inner: httpx.BaseTransport, creates: Counter[str]) -> httpx.BaseTransport:
    """Counts, per SKU, the product creates PB answered as done."""

    def handle(request: httpx.Request) -> httpx.Response:
        response = inner.handle_request(request)
        if request.url.path.endswith("/v1/products/bulk"):
            response.read()
            sent = json.loads(request.content)["products"]
            for item, result in zip(sent, response.json().get("products", []), strict=False):
                if item["operation"] == "CREATE" and not result.get("errors"):
                    creates[item["sku"]] += 1
        return response

    return httpx.MockTransport(handle)


def _held(records: list[dict], resource: str, key: str) -> dict[str, dict]:
    keys = Counter(r[key] for r in records)
    assert max(keys.values()) == 1
    return {r[key]: BY_NAME[resource].project(r) for r in records}


_EXPECTED: dict[tuple[Path, str], dict[str, dict]] = {}


def _expected(book: Path, sheet: str) -> dict[str, dict]:
    """The payload of every item of a sheet, by key, as planned from the workbook."""
    if (book, sheet) not in _EXPECTED:
        from loader.checks import check_sheet
        from loader.plan import plan_sheet
        from loader.workbook.reader import read_workbook

        for data in read_workbook(book).sheets:
            rows = check_sheet(data)
            _EXPECTED[(book, data.sheet)] = {
                i.key: i.payload for i in plan_sheet(rows, rows.invalid_rows()).items
            }
    return _EXPECTED[(book, sheet)]
