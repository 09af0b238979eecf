"""Searches by a stored key (client key, PB ID, SKU) answer exactly what a scan of every record answers.

A store of 1,000 orders and 1,000 products (and fewer ASNs, work orders, returns, BOMs and shipments)
is searched many times with seeded random requests: keys present, absent, repeated, blank or not
strings, more than a page of them, mixed with the resource's other filters, sorts and pages, and
bodies the emulator refuses. Each answer (or refusal) of the resource is compared with the one the
same resource gives when it reads every record (`scanning`, a subclass that offers no key look-up).
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from loader.emulator import Emulator, bets, create_app
from loader.emulator import asns as asns_module
from loader.emulator import orders as orders_module
from loader.emulator import products as products_module
from loader.emulator import work_orders as work_orders_module
from loader.emulator.asns import Asns
from loader.emulator.boms import BillsOfMaterials
from loader.emulator.errors import HttpError
from loader.emulator.orders import Orders
from loader.emulator.products import Products
from loader.emulator.returns import Returns
from loader.emulator.search import Records
from loader.emulator.shipments import Shipments
from loader.emulator.work_orders import WorkOrders

from .helpers import (
    CLIENT_ID,
    Api,
    FakeClock,
    advance,
    asn,
    bom,
    fetch_token,
    http_client,
    order,
    product,
    resource_of,
    return_line,
    return_order,
    work_order,
)

ORDERS = PRODUCTS = 1_000
OTHERS = 60  # ASNs, work orders, returns and kits with BOMs
QUERIES = 150  # random searches per resource; fewer over the 1,000 orders and products (each scan reads all)
BIG_QUERIES = 50
BRANDS = ("ACME", "Globex", None)
ABSENT = "NOT-STORED"


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[Emulator, httpx.Client, Api]]:
    clock = FakeClock()
    emulator = create_app(clock=clock)
    with http_client(emulator) as client:
        api = Api(client, fetch_token(client))
        _seed(api, client, clock)
        yield emulator, client, api
    emulator.close()


def _seed(api: Api, client: httpx.Client, clock: FakeClock) -> None:
    skus = [f"P-{n:04d}" for n in random.Random(7).sample(range(PRODUCTS), PRODUCTS)]  # not in key order
    for start in range(0, PRODUCTS, 200):
        items = [_product_item(n, sku) for n, sku in enumerate(skus[start : start + 200], start)]
        assert api.bulk(*items).status_code == 200
        _tick(api, clock, 3600)
    for kit in _kits():
        assert api.create(product(kit, productType="KIT")).status_code == 201
        assert api.call("POST", "/v1/bill-of-materials", json=_bom(kit)).status_code == 201
    numbers = random.Random(8).sample(range(ORDERS), ORDERS)  # client keys not in creation order
    for start in range(0, ORDERS, 200):
        batch = [_order(n) for n in numbers[start : start + 200]]
        assert api.call("POST", "/v1/orders/bulk", json={"orders": batch}).status_code == 200
        _tick(api, clock, 3600)
    # Updates keep a record's place; some orders move on and ship (shipments), some are canceled.
    again = [_order(n, brand="Initech") for n in range(0, ORDERS, 17)]
    assert api.call("POST", "/v1/orders/bulk", json={"orders": again}).status_code == 200
    shipped = range(5, ORDERS, 13)
    for n in shipped:
        assert advance(client, "order", _order_key(n), "SHIPPED").status_code == 200
    for n in sorted(set(range(3, ORDERS, 89)) - set(shipped)):
        order_id = _search_one(api, "/v1/orders/search", "clientOrderId", _order_key(n))["orderId"]
        assert api.call("PUT", f"/v1/orders/{order_id}/cancel", params={"clientId": CLIENT_ID}).is_success
    _seed_others(api, clock)


def _seed_others(api: Api, clock: FakeClock) -> None:
    for n in range(OTHERS):
        body = asn(f"ASN-{n:03d}", (f"P-{n:04d}", 10), brand=BRANDS[n % 3])
        if n % 10 == 9:  # a PO-type ASN may come without a clientASNId: such an ASN has no client key
            body = {**body, "inboundType": "PO", "purchaseOrderNumber": f"PO-{n}", "clientASNId": None}
        assert api.call("POST", "/v1/receiving-asn", json=body).status_code == 201, body
        body = work_order(f"WO-{n:03d}", sku=_kits()[n % len(_kits())], brand=BRANDS[n % 3])
        assert api.call("POST", "/v1/work-orders", json=body).status_code == 201
        body = return_order(f"RMA-{n:03d}", returnItems=[return_line(f"P-{n:04d}")])
        assert api.call("POST", "/v1/returns", json=body).status_code == 201
        _tick(api, clock, 600)


def _tick(api: Api, clock: FakeClock, seconds: float) -> None:
    clock.advance(seconds)  # records made later get later dates
    api.refresh()


def _kits() -> list[str]:
    return [f"KIT-{n:02d}" for n in range(45)]


def _bom(kit: str) -> dict[str, Any]:
    details = [{"childSku": "P-0001", "quantity": 2}, {"childSku": "P-0002", "quantity": 1}]
    return bom(kit, billOfMaterialDetails=details, active=kit[-1] != "7")


def _product_item(n: int, sku: str) -> dict[str, Any]:
    fields: dict[str, Any] = {"productType": "KIT"} if n % 50 == 0 else {}
    return {"operation": "CREATE", **product(sku, **fields)}


def _order_key(n: int) -> str:
    return f"CO-{n:05d}"


def _order(n: int, **fields: Any) -> dict[str, Any]:
    lines = [(f"P-{n % PRODUCTS:04d}", 1), (f"P-{(n * 7) % PRODUCTS:04d}", 2)]
    brand = {"brand": BRANDS[n % 3]} if BRANDS[n % 3] else {}
    dated = {"createDate": f"2025-06-{1 + n % 28:02d}T10:00:00Z", "customerOrderId": f"CU-{n % 40}"}
    return order(_order_key(n), *lines, **{**brand, **dated, **fields})


def _search_one(api: Api, path: str, name: str, value: str) -> dict[str, Any]:
    body = {"clientId": CLIENT_ID, "searchFields": [{"name": name, "values": [value]}]}
    (record,) = api.call("POST", path, json=body).json()["content"]
    return dict(record)


# The resource that reads every record ---------------------------------------------------------------


def scanning(resource: Any) -> Any:
    """Return a twin of ``resource`` over the same store whose searches read every record."""

    class Scanning(type(resource)):  # type: ignore[misc]
        def searched(self, client_id: str) -> Records:
            return Records(super().searched(client_id).every)

    return Scanning(resource.store, resource.config, resource.clock)


def answer(resource: Any, query: dict[str, str], body: dict[str, Any], **options: Any) -> Any:
    """Return the search's page, or the status and problems of its refusal."""
    try:
        return resource.search(CLIENT_ID, query, body, **options)
    except HttpError as error:
        return ("refused", error.status, error.errors)


# Random requests ----------------------------------------------------------------------------------


def keys_from(rng: random.Random, stored: list[str]) -> list[Any]:
    """Between 1 and 250 values: mostly stored keys, with absent ones, repeats and now and then odd ones."""
    count = rng.choice((1, 2, 5, 30, 199, 200, 201, 250))
    values: list[Any] = rng.sample(stored, min(count, len(stored)))
    values += [f"{ABSENT}-{i}" for i in range(rng.choice((0, 0, 1, 20)))]
    values += rng.choices(values, k=rng.choice((0, 0, 3)))  # repeated keys
    if rng.random() < 0.1:
        values.append(rng.choice(("", "  ", None, 17, True, ["CO-00001"], {"k": 1})))
    rng.shuffle(values)
    return values


def request(
    rng: random.Random, keyed: dict[str, list[str]], others: dict[str, list[Any]], sorts: list[str]
) -> tuple[dict[str, str], dict[str, Any]]:
    """Return a random ``(query, body)``: one or two keyed filters, maybe others, a sort, a page."""
    names = rng.sample(sorted(keyed), rng.choice((1, 1, 1, 2)) if len(keyed) > 1 else 1)
    fields = [{"name": name, "values": keys_from(rng, keyed[name])} for name in names]
    for name in rng.sample(sorted(others), rng.choice((0, 0, 1, 2)) if others else 0):
        fields.append({"name": name, "values": list(rng.choice(others[name]))})
    body: dict[str, Any] = {"clientId": CLIENT_ID, "searchFields": fields}
    if rng.random() < 0.5:
        body["sort"] = rng.sample(sorts, min(len(sorts), rng.choice((1, 2))))
    if rng.random() < 0.05:  # what PB's pages do not document is refused
        rng.choice([lambda: body.update(limit=5), lambda: fields[0].update(op="in")])()
    query = {"size": rng.choice(("20", "50", "200", "500"))} if rng.random() < 0.7 else {}
    if rng.random() < 0.7:
        query["page"] = rng.choice(("1", "2", "3", "11"))
    if rng.random() < 0.03:
        query["page"] = rng.choice(("0", "two"))
    return query, body


DATES = [["2025-06-03", "2025-06-20"], ["2025-06-10"], ["", "2025-06-05T23:00:00Z"], ["not a date"]]
SORTS = ["createDate-asc", "createDate-desc", "pbCreateDate-desc", "pbUpdateDate-asc", "updateDate-desc"]
CASES: dict[str, tuple[type, dict[str, list[Any]], dict[str, list[Any]]]] = {
    "orders": (
        Orders,
        {"status_only": [False, True]},
        {"status": [["CREATED"], ["SHIPPED", "CANCELED"]], "brand": [["ACME"], ["Initech", "Globex"]]},
    ),
    "asns": (Asns, {"status_only": [False, True]}, {"brand": [["ACME"]], "status": [["CREATED"]]}),
    "work orders": (WorkOrders, {"status_only": [False, True]}, {"brand": [["Globex"]], "sku": [["KIT-01"]]}),
    "returns": (Returns, {}, {"returnType": [["RETURN"]], "sku": [["P-0003", "P-0004"]]}),
    "BOMs": (BillsOfMaterials, {}, {"includeInactive": [[True], [False]], "childSku": [["P-0001"]]}),
    "products": (Products, {}, {"productType": [["KIT"]], "active": [[True]], "pbCreateDate": DATES}),
    "shipments": (Shipments, {}, {"brands": [["ACME", "Globex"]], "shippedDate": DATES}),
}


def stored_keys(resource: Any) -> dict[str, list[str]]:
    """Return, for each searchFields name answered by key look-up, the values stored."""
    records = resource.all(CLIENT_ID)
    by_key = resource.searched(CLIENT_ID).by_key
    matchers = importlib.import_module(type(resource).__module__).SEARCH_FIELDS
    found = {
        name: [r[matcher.field] for r in records if isinstance(r.get(matcher.field), str)]
        for name, matcher in matchers.items()
        if getattr(matcher, "field", None) in by_key
    }
    return {name: values for name, values in found.items() if values}


@pytest.mark.parametrize("case", sorted(CASES))
def test_key_search_answers_what_reading_every_record_answers(
    world: tuple[Emulator, httpx.Client, Api], case: str
) -> None:
    emulator, _, _ = world
    cls, options, others = CASES[case]
    resource: Any = resource_of(emulator, cls)
    twin, keyed = scanning(resource), stored_keys(resource)
    assert keyed, f"{case}: no searchFields answered by key"
    rng = random.Random(case)
    seen_pages = 0
    for _ in range(BIG_QUERIES if case in ("orders", "products") else QUERIES):
        query, body = request(rng, keyed, others, SORTS if case != "shipments" else ["shipppedDate-desc"])
        chosen = {name: rng.choice(values) for name, values in options.items()}
        expected = answer(twin, query, body, **chosen)
        assert answer(resource, query, body, **chosen) == expected, (query, body, chosen)
        seen_pages += isinstance(expected, dict) and len(expected["content"]) > 0 and query.get("page") == "2"
    assert seen_pages > 0, "no search reached a second page with records on it"


def test_key_search_over_http_answers_the_scan(world: tuple[Emulator, httpx.Client, Api]) -> None:
    emulator, _, api = world
    twin = scanning(resource_of(emulator, Orders))
    keys = [_order_key(n) for n in range(0, ORDERS, 4)]  # 250 keys: two pages of 200
    for page in ("1", "2", "3"):
        body = {"clientId": CLIENT_ID, "searchFields": [{"name": "clientOrderId", "values": keys}]}
        response = api.call("POST", "/v1/orders/search", json=body, params={"size": "200", "page": page})
        assert response.status_code == 200
        assert response.json() == twin.search(CLIENT_ID, {"size": "200", "page": page}, body)
    assert [len(twin.search(CLIENT_ID, {"size": "200", "page": p}, body)["content"]) for p in "12"] == [
        200,
        50,
    ]


@pytest.mark.parametrize(
    ("cls", "module", "lookup"),
    [
        (Orders, orders_module, bets.LOOKUP_KEYS.order),
        (Asns, asns_module, bets.LOOKUP_KEYS.asn),
        (WorkOrders, work_orders_module, bets.LOOKUP_KEYS.work_order),
        (Products, products_module, bets.LOOKUP_KEYS.product),
    ],
)
def test_pbloads_lookup_keys_are_answered_by_key(
    world: tuple[Emulator, httpx.Client, Api], cls: type, module: Any, lookup: str
) -> None:
    resource: Any = resource_of(world[0], cls)
    assert module.SEARCH_FIELDS[lookup].field in resource.searched(CLIENT_ID).by_key
