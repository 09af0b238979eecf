"""Look-ups and sends at the sizes where they break: 1, 199, 200, 201, 401 and 1,000+ items (issue 10).

Every resource with a look-up goes through the in-process emulator (`httpx.WSGITransport`); its
requests are recorded, so a reload is shown to send nothing but searches. Faults are transports
that fail after a number of calls, or for the requests naming one item, and a loopback server that
accepts connections and never answers. No test depends on the order concurrent calls arrive in or
on a clock: time-outs are set short through the settings, and assertions are on statuses and on
what was sent.
"""

from __future__ import annotations

import json
import math
import socket
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from loader import pipeline
from loader.api import ApiDownError, FulfillmentClient
from loader.emulator import create_app
from loader.export import export
from loader.models import Action, Item, Outcome, Status
from loader.resources import BY_NAME, Resource
from loader.resources.products import PRODUCTS
from loader.send import Recorder, find_by_key, known_keys, sender_for
from loader.settings import load_settings
from tests.emulator.helpers import CLIENT_ID, Api, fetch_token, http_client
from tests.helpers import (
    SHIP_TO,
    RecordingTransport,
    product_row,
    read_statuses,
    write_products,
    write_workbook,
)

SIZES = [1, 199, 200, 201, 401, 1001]
API = "/shippingservices/fulfillment/v1"
ADDRESS = {"Carrier": "USPS", "Service": "PRIORITY", **SHIP_TO}
# One valid row per resource, by header; the key column is replaced by K-00000, K-00001, ...
ROWS = {
    "products": {"Product Type": "ITEM", "Description": "Widget"},
    "orders": {"Order Date": datetime(2026, 11, 20, 9, 15), **ADDRESS, "SKU": "A", "Quantity": 1},
    "asns": {
        "Inbound Type": "ASN",
        "Receiving Node": "157",
        "Estimated Delivery Date": datetime(2026, 12, 1, 9, 0),
        "SKU": "A",
        "Quantity": 10,
    },
    "boms": {"Description": "Kit", "Component SKU": "A", "Component Quantity": 1},  # the kits: K-... products
    "work-orders": {
        "Work Order Name": "Kits",
        "Type": "KIT",
        "Kit SKU": "KIT-1",
        "Quantity": 5,
        "Node": "157",
    },
    "returns": {"SKU": "A", "Quantity": 1},
}
LARGEST = max(SIZES)


def key(n: int) -> str:
    return f"K-{n:05d}"


def items_for(resource: Resource, count: int, action: Action = Action.UPSERT, **changes: Any) -> list[Item]:
    """`count` items of `resource`, keyed K-00000 on, built from the row as the plan builds them."""
    built = []
    for n in range(count):
        row = {**ROWS[resource.name], resource.key_field.header: key(n), **changes}
        values = {f.name: row.get(f.header) for f in resource.fields}
        payload = resource.build_payload(values, [values] if resource.lines else None)
        extra = {f.name: values.get(f.name) for f in resource.fields if f.path is None}
        built.append(Item(resource.sheet, key(n), (n + 2,), action, payload, (), extra))
    return built


def seed_products(emulator: Any, products: dict[str, str]) -> None:
    """Products at PB before the test (SKU -> product type), 200 a bulk call."""
    client = http_client(emulator)
    api = Api(client, fetch_token(client))
    bodies = [
        {
            "clientId": CLIENT_ID,
            "sku": sku,
            "productType": kind,
            "details": {"description": sku},
            "operation": "CREATE",
        }
        for sku, kind in products.items()
    ]
    for start in range(0, len(bodies), 200):
        assert (
            api.call("POST", "/v1/products/bulk", json={"products": bodies[start : start + 200]}).status_code
            == 200
        )


def world(kits: int = 0) -> Any:
    """An emulator holding the SKUs the rows name, and `kits` kit products K-00000 on (for BOMs)."""
    emulator = create_app(None)
    seed_products(emulator, {"A": "ITEM", "KIT-1": "KIT", **{key(n): "KIT" for n in range(kits)}})
    return emulator


def client_for(transport: httpx.BaseTransport, attempts: int = 3) -> FulfillmentClient:
    from loader.api.retry import RetryPolicy

    return FulfillmentClient(
        "http://emulator.local",
        CLIENT_ID,
        "local-key",
        "local-secret",
        transport=transport,
        policy=RetryPolicy(max_attempts=attempts),
        sleep=lambda s: None,
        max_rps=1e9,
    )


def send(
    transport: httpx.BaseTransport, resource: Resource, to_send: list[Item], concurrency: int = 4
) -> dict[str, Outcome]:
    with client_for(transport) as client:
        return sender_for(resource, client, 200, concurrency, Recorder()).send(to_send)


class Paged(httpx.BaseTransport):
    """PB answering at most `page` records a page, whatever `size` asks for: more than one page per chunk."""

    def __init__(self, inner: httpx.BaseTransport, page: int) -> None:
        self.inner, self.page = inner, page

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        size = request.url.params.get("size")
        if size is not None:
            request.url = request.url.copy_set_param("size", str(min(int(size), self.page)))
        return self.inner.handle_request(request)


def searches(recorder: RecordingTransport) -> list[httpx.Request]:
    return [r for r in recorder.requests if r.url.path.endswith("/search")]


def writes(recorder: RecordingTransport) -> list[tuple[str, str]]:
    """Every request that may change something at PB: all but searches and the token."""
    return [
        (r.method, r.url.path)
        for r in recorder.requests
        if r.url.path.startswith(API) and not r.url.path.endswith("/search")
    ]


def by_status(outcomes: dict[str, Outcome]) -> Counter:
    return Counter(o.status for o in outcomes.values())


# Every resource, every size: created once, then found again — UNCHANGED, and nothing written.


@pytest.mark.parametrize("count", SIZES)
@pytest.mark.parametrize("name", list(ROWS))
def test_every_resource_reloads_unchanged_at_every_size_without_a_write(name, count):
    resource = BY_NAME[name]
    made = items_for(resource, count)
    recorder = RecordingTransport(httpx.WSGITransport(app=world(kits=count if name == "boms" else 0)))
    first = send(recorder, resource, made)
    assert by_status(first) == {Status.CREATED: count}
    assert resource.api is not None
    assert len(writes(recorder)) == (math.ceil(count / 200) if resource.api.bulk_path else count)
    recorder.requests.clear()
    again = send(recorder, resource, made)
    assert by_status(again) == {Status.UNCHANGED: count}
    assert writes(recorder) == []
    assert len(searches(recorder)) == math.ceil(count / 200)  # one search per chunk of 200 keys, every chunk


# More than one page per chunk: PB may page a search below what `size` asks for.


@pytest.mark.parametrize("name", ["products", "orders", "returns"])
def test_a_search_answering_several_pages_per_chunk_finds_every_item(name):
    emulator = world()
    resource = BY_NAME[name]
    made = items_for(resource, 401)
    assert by_status(send(httpx.WSGITransport(app=emulator), resource, made)) == {Status.CREATED: 401}
    recorder = RecordingTransport(Paged(httpx.WSGITransport(app=emulator), page=7))
    assert by_status(send(recorder, resource, made)) == {Status.UNCHANGED: 401}
    assert writes(recorder) == []
    pages = Counter(json.loads(r.content)["searchFields"][0]["values"][0] for r in searches(recorder))
    assert sorted(pages.values()) == [1, 29, 29]  # 200, 200 and 1 keys, 7 records a page


def test_lookups_give_the_same_answer_at_any_concurrency():
    emulator = create_app(None)
    seed_products(emulator, {key(n): "ITEM" for n in range(0, LARGEST, 2)})
    wanted = {key(n) for n in range(LARGEST)}
    with client_for(Paged(httpx.WSGITransport(app=emulator), page=50)) as client:
        one = find_by_key(client, PRODUCTS, sorted(wanted), concurrency=1)
        four = find_by_key(client, PRODUCTS, sorted(wanted, reverse=True), concurrency=4)
        known, failed = known_keys(client, PRODUCTS, wanted, concurrency=4)
    assert one == four and list(one.found) == sorted(one.found) and not one.failed
    assert known == {key(n) for n in range(0, LARGEST, 2)} and failed == {}


# UPDATE, CANCEL and unknown SKUs past the 200th item.


def test_update_and_cancel_past_the_200th_item():
    emulator = world()
    transport = httpx.WSGITransport(app=emulator)
    assert by_status(send(transport, PRODUCTS, items_for(PRODUCTS, 401))) == {Status.CREATED: 401}
    updated = send(transport, PRODUCTS, items_for(PRODUCTS, 401, Action.UPDATE, Description="Widget v2"))
    assert by_status(updated) == {Status.UPDATED: 401}
    assert {p["sku"]: p["details"]["description"] for p in emulator.products()}[key(400)] == "Widget v2"
    orders = BY_NAME["orders"]
    assert by_status(send(transport, orders, items_for(orders, 401))) == {Status.CREATED: 401}
    canceled = send(transport, orders, items_for(orders, 401, Action.CANCEL))
    assert by_status(canceled) == {Status.CANCELED: 401}
    assert {o["status"] for o in emulator.orders()} == {"CANCELED"}


def settings_for(state_dir: Path, **flags: Any):
    return load_settings({"state_dir": state_dir, "max_rps": 1e6, **flags}, environ={})


def order_rows(count: int, sku: Callable[[int], str] = lambda n: "A") -> list[dict[str, Any]]:
    return [
        {
            "Client Order ID": key(n),
            "Order Date": datetime(2026, 11, 20, 9, 15),
            **ADDRESS,
            "SKU": sku(n),
            "Quantity": 1,
        }
        for n in range(count)
    ]


def test_an_unknown_sku_past_the_200th_is_the_only_one_found_unknown(tmp_path):
    emulator = create_app(None)
    seed_products(emulator, {f"P-{n:04d}": "ITEM" for n in range(300)})
    rows = order_rows(301, lambda n: f"P-{n:04d}" if n < 300 else "NOPE")  # the 301st SKU is nowhere
    path = write_workbook(tmp_path / "orders.xlsx", {"Orders": rows})
    report = pipeline.load(
        path, settings_for(tmp_path / "state"), transport=httpx.WSGITransport(app=emulator)
    )
    statuses = read_statuses(Path(report.result_path), "Orders")
    assert Counter(r["Status"] for r in statuses.values()) == {"CREATED": 300, "INVALID": 1}
    assert statuses[302]["Error Code"] == "unknown-sku"


# The promise of issue 10: a 1,000-product and a 1,250-order workbook reload all UNCHANGED, nothing written.


def test_a_1000_product_and_1250_order_workbook_reload_unchanged_with_no_write(tmp_path):
    emulator = create_app(None)
    recorder = RecordingTransport(httpx.WSGITransport(app=emulator))
    products = [{"SKU": key(n), "Product Type": "ITEM", "Description": f"Product {n}"} for n in range(1000)]
    path = write_workbook(
        tmp_path / "big.xlsx", {"Products": products, "Orders": order_rows(1250, lambda n: key(n % 1000))}
    )
    settings = settings_for(tmp_path / "state")
    first = pipeline.load(path, settings, transport=recorder)
    assert first.all_ok
    recorder.requests.clear()
    again = pipeline.load(path, settings, transport=recorder)
    for sheet in ("Products", "Orders"):
        assert Counter(r["Status"] for r in read_statuses(Path(again.result_path), sheet).values()) == {
            "UNCHANGED": 1000 if sheet == "Products" else 1250
        }
    assert writes(recorder) == []
    assert len(searches(recorder)) == 5 + 7  # 1,000 SKUs and 1,250 order IDs, 200 a search


# The API going away: answered rows keep their answers; one request out of tries fails only its own.


class FailingAfter(httpx.BaseTransport):
    """Passes `calls` requests on, then fails every one with `error` (the API gone)."""

    def __init__(self, inner: httpx.BaseTransport, calls: int, error: type[httpx.TransportError]) -> None:
        self.inner, self.left, self.error = inner, calls, error
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.left -= 1
            gone = self.left < 0
        if gone:
            raise self.error("the API went away", request=request)
        return self.inner.handle_request(request)


def test_the_api_gone_mid_sheet_keeps_every_answered_row_and_stops_at_the_breaker(tmp_path):
    emulator = create_app(None)
    path = write_products(tmp_path / "p.xlsx", [product_row(key(n)) for n in range(1000)])
    settings = settings_for(tmp_path / "state", chunk_size=100, concurrency=2, max_attempts=2)
    transport = FailingAfter(httpx.WSGITransport(app=emulator), calls=1 + 5 + 3, error=httpx.ConnectError)
    with pytest.raises(ApiDownError) as err:  # the token, five look-ups, three bulk calls get through
        pipeline.load(path, settings, transport=transport)
    assert str(err.value).startswith(
        "The API at http://emulator.local stopped answering: 5 requests in a row "
        "failed, the last one with no answer after 2 attempts (ConnectError)."
    )
    rows = read_statuses(path.with_name("p.result.xlsx"))
    held = {p["sku"] for p in emulator.products()}
    assert {r["SKU*"] for r in rows.values() if r["Status"] == "CREATED"} == held and len(held) == 300
    failed = Counter(r["Error Code"] for r in rows.values() if r["Status"] == "FAILED")
    assert failed["unreachable"] == 400  # the four requests out of tries before the breaker opened
    assert set(failed) <= {"unreachable", "no-answer"}
    assert Counter(r["Status"] for r in rows.values())["NOT SENT"] + failed["no-answer"] == 300
    assert {r["Message"] for r in rows.values() if r["Error Code"] == "unreachable"} == {
        "Not sent: PB could not be reached in 2 attempts (ConnectError). Load the same workbook again: pbload checks "
        "what PB has and finishes it without sending anything twice."
    }
    # the next load, the API back, finishes the rest and creates nothing twice
    again = pipeline.load(path, settings, transport=httpx.WSGITransport(app=emulator))
    assert Counter(r["Status"] for r in read_statuses(Path(again.result_path)).values()) == {
        "UNCHANGED": 300,
        "CREATED": 700,
    }


class SilentFor(httpx.BaseTransport):
    """Never answers the requests that name `sku` (every try times out); passes the rest on."""

    def __init__(self, inner: httpx.BaseTransport, sku: str) -> None:
        self.inner, self.sku = inner, sku

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/bulk") and f'"{self.sku}"' in request.read().decode():
            raise httpx.ReadTimeout("no answer", request=request)
        return self.inner.handle_request(request)


def test_one_request_out_of_tries_fails_only_its_items_and_the_next_load_finishes_them(tmp_path):
    emulator = create_app(None)
    path = write_products(tmp_path / "p.xlsx", [product_row(key(n)) for n in range(500)])
    settings = settings_for(tmp_path / "state", chunk_size=100, max_attempts=2)
    report = pipeline.load(path, settings, transport=SilentFor(httpx.WSGITransport(app=emulator), key(250)))
    rows = read_statuses(Path(report.result_path))
    assert Counter((r["Status"], r["Error Code"]) for r in rows.values()) == {
        ("CREATED", None): 400,
        ("FAILED", "no-answer"): 100,
    }
    assert {r["Message"] for r in rows.values() if r["Status"] == "FAILED"} == {
        "Sent, but no answer came back after 2 attempts (ReadTimeout). Load the same workbook again: pbload checks "
        "what PB has and finishes it without sending anything twice."
    }
    assert not report.interrupted
    again = pipeline.load(path, settings, transport=httpx.WSGITransport(app=emulator))
    assert Counter(r["Status"] for r in read_statuses(Path(again.result_path)).values()) == {
        "UNCHANGED": 400,
        "CREATED": 100,
    }


class HangsOnce(httpx.BaseTransport):
    """Passes requests on; the `nth` bulk call sets `stop` (Ctrl-C) and then waits for `release`, bounded."""

    def __init__(self, inner: httpx.BaseTransport, nth: int, stop: threading.Event) -> None:
        self.inner, self.nth, self.stop = inner, nth, stop
        self.release = threading.Event()
        self.bulk = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/bulk"):
            self.bulk += 1
            if self.bulk == self.nth:
                self.stop.set()
                self.release.wait(timeout=60)
                raise httpx.ReadError("abandoned", request=request)
        return self.inner.handle_request(request)


def test_ctrl_c_while_an_answer_never_comes_keeps_the_answers_and_the_next_load_finishes(tmp_path):
    emulator = create_app(None)
    path = write_products(tmp_path / "p.xlsx", [product_row(key(n)) for n in range(500)])
    settings = settings_for(tmp_path / "state", chunk_size=100, concurrency=1)
    stop = threading.Event()
    transport = HangsOnce(httpx.WSGITransport(app=emulator), nth=3, stop=stop)
    try:
        report = pipeline.load(path, settings, transport=transport, stop=stop)
    finally:
        transport.release.set()
    assert report.interrupted
    rows = read_statuses(Path(report.result_path))
    assert Counter((r["Status"], r["Error Code"]) for r in rows.values()) == {
        ("CREATED", None): 200,
        ("FAILED", "no-answer"): 100,
        ("NOT SENT", None): 200,
    }
    again = pipeline.load(path, settings, transport=httpx.WSGITransport(app=emulator))
    assert Counter(r["Status"] for r in read_statuses(Path(again.result_path)).values()) == {
        "UNCHANGED": 200,
        "CREATED": 300,
    }


# An API that accepts connections and never answers: the token request too has time-outs.


class BlackHole:
    """A loopback server that accepts connections and never answers; it stops by itself after `lifetime_s`."""

    def __init__(self, lifetime_s: float = 60.0) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._accept, args=(lifetime_s,), daemon=True)
        self.thread.start()

    def _accept(self, lifetime_s: float) -> None:
        ends = threading.Timer(lifetime_s, self.done.set)
        ends.daemon = True
        ends.start()
        while not self.done.is_set():
            try:
                connection, _ = self.server.accept()
            except OSError:  # the accept timed out: look at `done` again
                continue
            self.held.append(connection)  # read nothing, answer nothing
        ends.cancel()
        for connection in self.held:
            connection.close()
        self.server.close()

    def __enter__(self) -> BlackHole:
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join(timeout=5)


def test_a_black_hole_api_fails_within_the_time_outs_and_the_result_is_written(cli, tmp_path):
    path = write_products(tmp_path / "p.xlsx", [product_row("A"), product_row("B")])
    with BlackHole() as hole:
        result = cli(
            "load",
            path,
            "--base-url",
            hole.url,
            "--env",
            "local",
            env={"PBLOAD_READ_TIMEOUT": "0.2", "PBLOAD_CONNECT_TIMEOUT": "1", "PBLOAD_MAX_ATTEMPTS": "2"},
        )
        held = len(hole.held)
    assert result.exit_code == 2, result.output
    assert f"Error: No answer from {hole.url} after 2 attempts (ReadTimeout" in result.output
    assert held == 2  # the token request, tried twice: nothing got further
    assert {r["Status"] for r in read_statuses(path.with_name("p.result.xlsx")).values()} == {"NOT SENT"}


# Exports read every page.


def test_an_export_reads_every_page(tmp_path):
    emulator = create_app(None)
    seed_products(emulator, {key(n): "ITEM" for n in range(LARGEST)})
    recorder = RecordingTransport(Paged(httpx.WSGITransport(app=emulator), page=90))
    with client_for(recorder) as client:
        out, count = export(client, "products", tmp_path / "export.xlsx")
    assert count == LARGEST and len(searches(recorder)) == math.ceil(LARGEST / 90)
    assert skus_of_export(out) == [key(n) for n in range(LARGEST)]


def skus_of_export(path: Path) -> list[str]:
    """The first column (SKU) of an exported Products sheet, below its header."""
    import openpyxl

    ws = openpyxl.load_workbook(path, read_only=True)["Products"]
    return [row[0] for row in ws.iter_rows(min_row=2, values_only=True) if row[0] is not None]
