"""The fault suite's parts: a served emulator in a subprocess, large order workbooks, the loader as a
subprocess, and what the emulator holds afterwards. Used by tests/test_fault_suite.py (2,000 lines)
and tests/benchmarks/bench_faults.py (20,000 lines).
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import openpyxl

from tests.helpers import SHIP_TO, write_workbook

CLIENT = {"PB_CLIENT_ID": "pbload-local", "PB_API_KEY": "local-key", "PB_API_SECRET": "local-secret"}
ADMIN_AUTH = (
    CLIENT["PB_API_KEY"],
    CLIENT["PB_API_SECRET"],
)  # the control plane takes the emulator's credentials
SKUS = [f"FS-{n:03d}" for n in range(10)]
ADDRESS = {"Carrier": "USPS", "Service": "PRIORITY", **SHIP_TO}
START_TIMEOUT = 30.0
WAIT_TIMEOUT = 120.0
# How often a wait asks the emulator (five requests each: it shares the two cores with the loader under test).
POLL_S = 0.05


def ctrl_c_as_in_a_terminal() -> None:
    """In a child before it starts: SIGINT as a terminal gives it. A shell starts a background job (the
    suite run with `&`) with SIGINT ignored, a child inherits that, and Python then never raises
    KeyboardInterrupt: `stop` would wait out its time-out for every emulator."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class ServedEmulator:
    """`pbload emulator serve` in a subprocess, on a free loopback port, state in memory."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "loader", "emulator", "serve", "--port", "0", "--db", ":memory:"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=ctrl_c_as_in_a_terminal,
        )
        first = self.process.stdout.readline() if self.process.stdout else ""
        if "listening on " not in first:
            self.stop()
            raise RuntimeError(f"the emulator did not start: {first!r}")
        self.url = first.strip().rsplit(" ", 1)[-1]
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def set_faults(self, **faults: Any) -> None:
        response = self.http.put("/emulator/admin/faults", json=faults, auth=ADMIN_AUTH)
        response.raise_for_status()

    def counts(self) -> dict[str, int]:
        """How many Fulfillment requests the emulator saw, and how many of each fault it injected."""
        return self.http.get("/emulator/admin/faults", auth=ADMIN_AUTH).json()["counts"]

    def counts_since(self, before: dict[str, int]) -> dict[str, int]:
        """What `counts` has added since `before` (one emulator serves a module's tests in turn)."""
        return {name: n - before.get(name, 0) for name, n in self.counts().items()}

    def wait_for_requests(self, at_least: int) -> None:
        """Block until the emulator has seen `at_least` Fulfillment requests (bounded)."""
        deadline = time.monotonic() + WAIT_TIMEOUT
        while self.counts()["requests"] < at_least:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the emulator never saw {at_least} requests")
            time.sleep(POLL_S)

    def order_count(self) -> int:
        return int(self._orders_page(1, 1)["totalElements"])

    def wait_for_orders(self, at_least: int, loader: subprocess.Popen | None = None) -> None:
        """Block until the emulator holds `at_least` orders, or `loader` has ended (bounded)."""
        deadline = time.monotonic() + WAIT_TIMEOUT
        while self.order_count() < at_least and (loader is None or loader.poll() is None):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the emulator never held {at_least} orders")
            time.sleep(POLL_S)

    def client_order_ids(self, prefix: str = "") -> list[str]:
        """Every order's clientOrderId (those starting with `prefix`), through the search API."""
        ids: list[str] = []
        page = 1
        while True:
            body = self._orders_page(page, 500)
            ids += [o["clientOrderId"] for o in body["content"] if o["clientOrderId"].startswith(prefix)]
            if body["last"]:
                return ids
            page += 1

    def skus(self) -> list[str]:
        """Every product's SKU, through the search API (all time, not PB's default six months)."""
        ids: list[str] = []
        page = 1
        while True:
            body = self._search_page(
                "products", page, 500, [{"name": "pbCreateDate", "values": ["2000-01-01T00:00:00Z", None]}]
            )
            ids += [p["sku"] for p in body["content"]]
            if body["last"]:
                return ids
            page += 1

    def _orders_page(self, page: int, size: int) -> dict[str, Any]:
        return self._search_page("orders", page, size)

    def _search_page(
        self, resource: str, page: int, size: int, fields: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        # the control plane is never faulted, but searches are: ask with the faults paused
        faults = self.http.get("/emulator/admin/faults", auth=ADMIN_AUTH).json()["faults"]
        self.set_faults()
        try:
            response = self.http.post(
                f"/shippingservices/fulfillment/v1/{resource}/search",
                params={"page": page, "size": size},
                json={"clientId": CLIENT["PB_CLIENT_ID"], **({"searchFields": fields} if fields else {})},
                headers={
                    "Authorization": f"Bearer {self._token()}",
                    "X-PB-TransactionId": uuid.uuid4().hex[:24],
                },
            )
            response.raise_for_status()
            return response.json()
        finally:
            self.http.put("/emulator/admin/faults", json=faults, auth=ADMIN_AUTH).raise_for_status()

    def _token(self) -> str:
        basic = base64.b64encode(f"{CLIENT['PB_API_KEY']}:{CLIENT['PB_API_SECRET']}".encode()).decode()
        response = self.http.post(
            "/oauth/token",
            content=b"grant_type=client_credentials",
            headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()

    def __enter__(self) -> ServedEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()
        self.stop()


def products_workbook(path: Path, skus: list[str] = SKUS) -> Path:
    return write_workbook(
        path, {"Products": [{"SKU": s, "Product Type": "ITEM", "Description": f"Product {s}"} for s in skus]}
    )


def orders_workbook(
    path: Path, lines: int, lines_per_order: int = 2, prefix: str = "FS"
) -> tuple[Path, list[str]]:
    """An Orders sheet of `lines` lines, client order IDs `prefix`-000000...; returns its path and the IDs."""
    rows, keys = [], []
    for n in range(lines // lines_per_order):
        key = f"{prefix}-{n:06d}"
        keys.append(key)
        for line in range(lines_per_order):
            row: dict[str, Any] = {
                "Client Order ID": key,
                "SKU": SKUS[(n + line) % len(SKUS)],
                "Quantity": 1 + line,
            }
            if line == 0:
                row.update({"Order Date": datetime(2026, 11, 20, 9, 0), **ADDRESS})
            rows.append(row)
    return write_workbook(path, {"Orders": rows}), keys


def loader_env(state_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PB_", "PBLOAD_"))}
    env.update(CLIENT)
    env["PBLOAD_STATE_DIR"] = str(state_dir)
    env.update(extra)
    return env


def start_loader(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "loader", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def run_loader(args: list[str], env: dict[str, str], timeout: float = 300) -> tuple[int, str]:
    process = start_loader(args, env)
    output, _ = process.communicate(timeout=timeout)
    return process.returncode, output


def statuses(result: Path, sheet: str = "Orders") -> Counter:
    """How many rows of a result workbook ended in each status (blank: no status)."""
    ws = openpyxl.load_workbook(result, read_only=True)[sheet]
    rows = ws.iter_rows(values_only=True)
    headers = list(next(rows))
    column = headers.index("Status")
    return Counter(row[column] or "" for row in rows if any(v is not None for v in row[:column]))


def retries_of(output: str) -> int:
    for line in output.splitlines():
        if "retried after transient failures" in line:
            return int(line.split()[0])
    return 0
