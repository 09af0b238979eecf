"""Benchmark the emulator served over real HTTP (a script, not a test).

    python -m tests.benchmarks.bench_emulator [--clients 4] [--batches 25] [--size 200]
                                              [--operation products|orders|all] [--db PATH]
    python -m tests.benchmarks.bench_emulator --cpu [--runs 15] [--operation ...] [--db PATH]
                                              [--before TREE [--rounds 3]]

``--cpu`` serves the emulator from a child process of its own (this checkout's code, or TREE's) and
prints the CPU one bulk call of ``--size`` items costs it, two ways: the app's, measured by the child
with ``time.process_time`` around each call (median and quartiles), and the whole child's (its HTTP
server included) from ``/proc`` over the timed calls, per call. One client posts the calls one after
another. With ``--before TREE`` (a checkout of the starting commit: ``git worktree add /tmp/emu-before
COMMIT``) the two trees' servers take turns, ``--rounds`` pairs in alternating order, and the script
prints each one's medians over all rounds and the ratio.

    python -m tests.benchmarks.bench_emulator --search [--stores 1000,20000] [--runs 15]
                                              [--before TREE [--rounds 3]]

``--search`` serves each tree from a child process as ``--cpu`` does, fills its store with orders up
to each of ``--stores`` (untimed), and then times searches as pbload's look-ups send them: ``POST
/v1/orders/search`` with 200 ``clientOrderId`` values, ``size=200``, either all stored or none stored.
It prints the app's CPU per search (median and quartiles of ``--runs`` x ``--rounds``) and the whole
child's. With ``--before TREE`` both trees are filled alike and searched in alternating turns.

Serves an emulator (in memory unless ``--db``) on a free port of 127.0.0.1 in this process, then
K client threads, each with its own keep-alive connection, post bulk requests of ``--size`` items
(``POST /v1/products/bulk`` or ``POST /v1/orders/bulk``) and the script prints items per second,
requests, errors and request latencies. Orders need their SKUs to exist, so their products are
created first (untimed). An operation the emulator does not have yet (404) is reported and skipped.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from loader.emulator import EmulatorConfig, create_app
from loader.emulator.faults import FaultInjector
from loader.emulator.server import EmulatorServer

FULFILLMENT = "/shippingservices/fulfillment/v1"
CLIENT_ID = EmulatorConfig().client_id
ORDER_SKUS = 50  # products the orders draw their lines from
CREATE_DATE = "2026-06-15T15:06:40Z"
_transaction_ids = itertools.count(1)


def product_item(n: int) -> dict[str, Any]:
    """One products-bulk item (api §8.1, §8.3) with a unique SKU."""
    return {
        "operation": "CREATE",
        "clientId": CLIENT_ID,
        "sku": f"BENCH-{n:07d}",
        "productType": "ITEM",
        "details": {
            "description": f"Benchmark product {n}",
            "identifiers": [{"source": "UPC", "number": f"{n:012d}"}],
            "weight": {"value": 1.25, "unitOfMeasurement": "LB"},
            "dimensions": {"length": 10, "height": 8, "width": 2, "dimensionUOM": "IN"},
        },
    }


def order_item(n: int) -> dict[str, Any]:
    """One orders-bulk item (api §11.1, §21.1) with a unique clientOrderId and two lines."""
    return {
        "clientId": CLIENT_ID,
        "clientOrderId": f"BENCH-ORD-{n:07d}",
        "customerOrderId": f"WEB-{n}",
        "orderType": "eCom",
        "createDate": CREATE_DATE,
        "inputShippingDetails": {"carrier": "USPS", "serviceId": "PM"},
        "shipToAddress": {
            "name": "Ada Lovelace",
            "addressLines": ["1200 Worldwide Blvd"],
            "cityTown": "Hebron",
            "stateProvince": "KY",
            "postalCode": "41048",
            "countryCode": "US",
        },
        "orderItems": [
            {"lineId": 1, "sku": _order_sku(n), "orderedQuantity": 1, "unitPrice": 9.5},
            {"lineId": 2, "sku": _order_sku(n + 1), "orderedQuantity": 2},
        ],
    }


def _order_sku(n: int) -> str:
    return f"BENCH-{10_000_000 - 1 - n % ORDER_SKUS:07d}"  # far from the products benchmark's SKUs


@dataclass(frozen=True)
class Operation:
    """A bulk operation: its path, the array its body and answer use, and an item builder."""

    name: str
    path: str
    array: str
    item: Callable[[int], dict[str, Any]]


OPERATIONS = {
    "products": Operation("products", "/products/bulk", "products", product_item),
    "orders": Operation("orders", "/orders/bulk", "orders", order_item),
}


@dataclass
class Tally:
    """What the client threads did; each thread adds its own under the lock."""

    items_ok: int = 0
    requests: int = 0
    request_errors: int = 0
    item_errors: int = 0
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


CPU_HEADER = "X-Bench-Server-CPU-ms"


class ServerCpu:
    """WSGI middleware that adds the CPU time the wrapped app spent on the request as a header."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        answer: dict[str, Any] = {}
        started = time.process_time()

        def keep(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            answer.update(status=status, headers=headers)

        body = b"".join(self.app(environ, keep))  # the whole answer, JSON encoding included
        spent = (time.process_time() - started) * 1000
        start_response(answer["status"], [*answer["headers"], (CPU_HEADER, f"{spent:.3f}")])
        return [body]


THIS_TREE = Path(__file__).resolve().parents[2]


def serve_child(db: str | None) -> None:
    """The child's side: serve, print the URL, and stop when the parent closes our stdin."""
    emulator = create_app(db)
    with EmulatorServer(ServerCpu(FaultInjector(emulator))) as server:
        print(server.url, flush=True)
        sys.stdin.read()
    emulator.close()


@dataclass
class Served:
    """A child process serving one tree's emulator."""

    process: subprocess.Popen[str]
    url: str

    @classmethod
    def start(cls, tree: Path, db: str | None) -> Served:
        # This file run as a script, with `loader` imported from `tree`: the tree's own emulator and server.
        env = {**os.environ, "PYTHONPATH": str(tree)}
        args = [sys.executable, str(Path(__file__).resolve()), "--serve-child", *(["--db", db] if db else [])]
        process = subprocess.Popen(
            args, env=env, cwd=tree, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert process.stdout is not None
        return cls(process, process.stdout.readline().strip())

    def cpu_seconds(self) -> float:
        """User plus system CPU of the child so far, from /proc (Linux)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


@dataclass
class CpuFigures:
    """One tree's figures for one operation: the app's CPU per call, and the whole process's per call."""

    app_ms: list[float] = field(default_factory=list)
    process_ms: list[float] = field(default_factory=list)


def cpu_main(options: argparse.Namespace) -> None:
    """Serve each tree from a child process (alternating with --before) and print the CPU per bulk call."""
    trees = (
        {"this tree": THIS_TREE} if options.before is None else {"before": options.before, "after": THIS_TREE}
    )
    names = list(OPERATIONS) if options.operation == "all" else [options.operation]
    figures = {(tree, name): CpuFigures() for tree in trees for name in names}
    rounds = options.rounds if options.before is not None else 1
    for round_ in range(rounds):
        order = (
            list(trees) if round_ % 2 == 0 else list(reversed(trees))
        )  # ABBA...: neither goes first always
        for tree in order:
            served = Served.start(trees[tree], options.db)
            try:
                for name in names:
                    _cpu_run(served, OPERATIONS[name], options, figures[tree, name])
            finally:
                served.stop()
    print(
        f"Server CPU per {options.size}-item bulk call (ms; app: median of {rounds} x {options.runs} calls, "
        f"process: whole server process, median of {rounds} runs)"
    )
    for name in names:
        line = [f"{name:9}"]
        for tree in trees:
            got = figures[tree, name]
            q1, median, q3 = statistics.quantiles(got.app_ms, n=4)
            line.append(
                f"{tree}: app {median:.1f} ({q1:.1f}-{q3:.1f}), process {statistics.median(got.process_ms):.1f}"
            )
        if options.before is not None:
            before, after = (statistics.median(figures[tree, name].app_ms) for tree in trees)
            line.append(f"after/before {after / before:.2f}")
        print("  ".join(line))


def _cpu_run(served: Served, operation: Operation, options: argparse.Namespace, figures: CpuFigures) -> None:
    url = served.url
    token = _token(url)
    if operation.name == "orders":
        _create_order_products(url, token)
    numbers = itertools.count(1_000_000 * (operation.name == "orders"))
    with httpx.Client(base_url=url + FULFILLMENT, timeout=60) as client:
        bodies = [
            [operation.item(next(numbers)) for _ in range(options.size)] for _ in range(options.runs + 1)
        ]
        started = 0.0
        for run, items in enumerate(bodies):
            if run == 1:  # the first call warms up (compiling rules, SQLite's caches)
                started = served.cpu_seconds()
            response = _post(client, token, operation, items)
            response.raise_for_status()
            if any(result.get("errors") for result in response.json()[operation.array]):
                raise SystemExit(f"{operation.name}: a benchmark item was refused: {response.text[:500]}")
            if run:
                figures.app_ms.append(float(response.headers[CPU_HEADER]))
        figures.process_ms.append((served.cpu_seconds() - started) * 1000 / options.runs)


SEARCH_KEYS = 200  # what one of pbload's look-ups sends (MAX_BULK_ITEMS)
SEARCH_KINDS = ("stored", "absent")


def search_main(options: argparse.Namespace) -> None:
    """Fill each tree's store to each size and print the CPU per 200-key order search, in turns."""
    trees = (
        {"this tree": THIS_TREE} if options.before is None else {"before": options.before, "after": THIS_TREE}
    )
    sizes = [int(size) for size in options.stores.split(",")]
    served = {tree: Served.start(path, options.db) for tree, path in trees.items()}
    try:
        tokens = {tree: _token(child.url) for tree, child in served.items()}
        for tree, child in served.items():
            _create_order_products(child.url, tokens[tree])
        filled = 0
        for size in sizes:
            for tree, child in served.items():
                _fill_orders(child.url, tokens[tree], filled, size)
            filled = size
            _search_rounds(served, tokens, size, options)
    finally:
        for child in served.values():
            child.stop()


def _fill_orders(url: str, token: str, start: int, stop: int) -> None:
    with httpx.Client(base_url=url + FULFILLMENT, timeout=120) as client:
        for first in range(start, stop, 200):
            items = [order_item(n) for n in range(first, min(first + 200, stop))]
            _post(client, token, OPERATIONS["orders"], items).raise_for_status()


def _search_rounds(
    served: dict[str, Served], tokens: dict[str, str], size: int, options: argparse.Namespace
) -> None:
    figures = {(tree, kind): CpuFigures() for tree in served for kind in SEARCH_KINDS}
    rounds = options.rounds if len(served) > 1 else 1
    for round_ in range(rounds):
        order = list(served) if round_ % 2 == 0 else list(reversed(served))  # ABBA...
        for tree in order:
            for kind in SEARCH_KINDS:
                _search_run(served[tree], tokens[tree], size, kind, options, figures[tree, kind])
    print(
        f"Server CPU per {SEARCH_KEYS}-key order search, store of {size:,} orders (ms; app: median (quartiles)"
    )
    print(f"  of {rounds} x {options.runs} searches; process: whole server process, median of {rounds} runs)")
    for kind in SEARCH_KINDS:
        line = [f"  keys {kind:6}"]
        for tree in served:
            got = figures[tree, kind]
            q1, median, q3 = statistics.quantiles(got.app_ms, n=4)
            line.append(
                f"{tree}: app {median:.2f} ({q1:.2f}-{q3:.2f}), process {statistics.median(got.process_ms):.2f}"
            )
        if len(served) > 1:
            before, after = (statistics.median(figures[tree, kind].app_ms) for tree in served)
            line.append(f"after/before {after / before:.3f}")
        print("  ".join(line))


def _search_run(
    served: Served, token: str, size: int, kind: str, options: argparse.Namespace, figures: CpuFigures
) -> None:
    rng = random.Random(size)
    with httpx.Client(base_url=served.url + FULFILLMENT, timeout=120) as client:
        started = 0.0
        for run in range(options.runs + 1):
            headers = {
                "Authorization": f"Bearer {token}",
                "X-PB-TransactionId": f"bench-{next(_transaction_ids)}",
            }
            if run == 1:  # the first search warms up
                started = served.cpu_seconds()
            numbers = rng.sample(range(size), SEARCH_KEYS)
            keys = [order_item(n)["clientOrderId"] + ("" if kind == "stored" else "-NEW") for n in numbers]
            body = {"clientId": CLIENT_ID, "searchFields": [{"name": "clientOrderId", "values": keys}]}
            response = client.post("/orders/search", json=body, params={"size": SEARCH_KEYS}, headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"search of {kind} keys: {response.status_code} {response.text[:500]}")
            expected = SEARCH_KEYS if kind == "stored" else 0
            if response.json()["totalElements"] != expected:
                raise SystemExit(f"search of {kind} keys found {response.json()['totalElements']}")
            if run:
                figures.app_ms.append(float(response.headers[CPU_HEADER]))
        figures.process_ms.append((served.cpu_seconds() - started) * 1000 / options.runs)


def main() -> None:
    """Parse the options, serve an emulator, run the chosen operations, print the figures."""
    options = _parse()
    if options.serve_child:
        serve_child(options.db)
        return
    if options.search:
        search_main(options)
        return
    if options.cpu:
        cpu_main(options)
        return
    emulator = create_app(options.db)
    with EmulatorServer(FaultInjector(emulator)) as server:
        print(
            f"Emulator at {server.url}; {options.clients} clients x {options.batches} bulk requests x {options.size}"
        )
        names = list(OPERATIONS) if options.operation == "all" else [options.operation]
        for name in names:
            _run(server.url, OPERATIONS[name], options)
    emulator.close()


def _run(url: str, operation: Operation, options: argparse.Namespace) -> None:
    token = _token(url)
    if operation.name == "orders":
        _create_order_products(url, token)
    if not _available(url, token, operation):
        print(
            f"{operation.name:9} skipped: POST {FULFILLMENT}{operation.path} is not in the emulator yet (404)"
        )
        return
    tally, numbers = Tally(), itertools.count()
    threads = [
        threading.Thread(target=_client, args=(url, token, operation, options, numbers, tally))
        for _ in range(options.clients)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _report(operation, tally, time.perf_counter() - started)


def _client(
    url: str, token: str, operation: Operation, options: argparse.Namespace, numbers: Any, tally: Tally
) -> None:
    with httpx.Client(base_url=url + FULFILLMENT, timeout=60) as client:
        for _ in range(options.batches):
            items = [operation.item(next(numbers)) for _ in range(options.size)]
            started = time.perf_counter()
            try:
                response = _post(client, token, operation, items)
            except httpx.TransportError:
                response = None
            elapsed = time.perf_counter() - started
            _count(tally, operation, response, elapsed)


def _count(tally: Tally, operation: Operation, response: httpx.Response | None, elapsed: float) -> None:
    ok = response is not None and response.status_code == 200
    results = response.json()[operation.array] if ok and response is not None else []
    failed = sum(1 for result in results if result.get("errors"))
    with tally.lock:
        tally.requests += 1
        tally.latencies.append(elapsed)
        tally.request_errors += not ok
        tally.item_errors += failed
        tally.items_ok += len(results) - failed


def _report(operation: Operation, tally: Tally, seconds: float) -> None:
    latencies = sorted(tally.latencies)
    p50 = statistics.median(latencies) * 1000
    p95 = latencies[max(0, round(len(latencies) * 0.95) - 1)] * 1000
    print(
        f"{operation.name:9} {tally.items_ok / seconds:9,.0f} items/s  {tally.requests / seconds:6.1f} requests/s  "
        f"{tally.requests} requests, {tally.items_ok:,} items OK in {seconds:.2f} s; "
        f"errors: {tally.request_errors} requests, {tally.item_errors} items; "
        f"latency p50 {p50:.0f} ms, p95 {p95:.0f} ms"
    )


def _available(url: str, token: str, operation: Operation) -> bool:
    """Try the operation once with an item that is not counted; False when the route is missing."""
    with httpx.Client(base_url=url + FULFILLMENT) as client:
        response = _post(client, token, operation, [operation.item(9_000_000)])
    if response.status_code == 404:
        return False
    response.raise_for_status()
    return True


def _create_order_products(url: str, token: str) -> None:
    items = [{**product_item(0), "sku": _order_sku(n)} for n in range(ORDER_SKUS)]
    with httpx.Client(base_url=url + FULFILLMENT) as client:
        _post(client, token, OPERATIONS["products"], items).raise_for_status()


def _post(
    client: httpx.Client, token: str, operation: Operation, items: list[dict[str, Any]]
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "X-PB-TransactionId": f"bench-{next(_transaction_ids)}"}
    return client.post(operation.path, json={operation.array: items}, headers=headers)


def _token(url: str) -> str:
    config = EmulatorConfig()
    response = httpx.post(
        url + "/oauth/token",
        auth=(config.api_key, config.api_secret),
        data={"grant_type": "client_credentials"},
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=4, help="client threads (default 4)")
    parser.add_argument("--batches", type=int, default=25, help="bulk requests per client (default 25)")
    parser.add_argument("--size", type=int, default=200, help="items per bulk request (default 200)")
    parser.add_argument("--operation", choices=[*OPERATIONS, "all"], default="all", help="default: all")
    parser.add_argument("--db", default=None, help="SQLite file for the state (default: in memory)")
    parser.add_argument(
        "--cpu", action="store_true", help="print the server's CPU per bulk call (own process)"
    )
    parser.add_argument("--runs", type=int, default=15, help="timed bulk calls per operation with --cpu")
    parser.add_argument(
        "--before", type=Path, help="with --cpu: a checkout to compare with, served in turns with this one"
    )
    parser.add_argument("--rounds", type=int, default=3, help="with --before: pairs of turns (default 3)")
    parser.add_argument(
        "--search", action="store_true", help="print the server's CPU per 200-key order search (own process)"
    )
    parser.add_argument(
        "--stores",
        default="1000,20000",
        help="with --search: orders in the store, ascending (default 1000,20000)",
    )
    parser.add_argument("--serve-child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    main()
