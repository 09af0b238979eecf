"""The living warehouse: status transitions, stock, shipments, the snapshot and the admin route."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from loader.emulator import Emulator, EmulatorConfig, create_app
from loader.emulator.errors import HttpError
from loader.emulator.inventory import StockChanges, adjust_stock

from .helpers import (
    ADMIN_AUTH,
    CLIENT_ID,
    Api,
    FakeClock,
    advance,
    asn,
    errors_of,
    fetch_token,
    http_client,
    order,
    product,
)


@pytest.fixture
def shop(api: Api) -> Api:
    """An account with products SKU-1, SKU-2 and SKU-3."""
    for sku in ("SKU-1", "SKU-2", "SKU-3"):
        assert api.create(product(sku)).status_code == 201
    return api


def create_order(api: Api, body: dict[str, Any]) -> str:
    response = api.call("POST", "/v1/orders", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["orderId"])


def create_asn(api: Api, body: dict[str, Any]) -> str:
    response = api.call("POST", "/v1/receiving-asn", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["receivingASNId"])


def get_order(api: Api, order_id: str) -> dict[str, Any]:
    return dict(api.call("GET", f"/v1/orders/{order_id}", params={"clientId": CLIENT_ID}).json())


def snapshot(api: Api, body: dict[str, Any] | None = None, **params: Any) -> httpx.Response:
    return api.call(
        "POST", "/v1/inventory/snapshot", json={"clientId": CLIENT_ID, **(body or {})}, params=params
    )


def stock(api: Api) -> dict[tuple[str, str], tuple[int, int, int]]:
    """Return ``{(sku, node): (onHand, allocated, available)}`` from the snapshot."""
    response = snapshot(api, size=1000)
    assert response.status_code == 200, response.text
    return {
        (r["sku"], r["node"]): (r["onHand"], r["allocated"], r["available"])
        for r in response.json()["content"]
    }


def shipments(api: Api, body: dict[str, Any] | None = None) -> httpx.Response:
    return api.call("POST", "/v1/shipments/search", json={"clientId": CLIENT_ID, **(body or {})})


def moved(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


# The stock story ----------------------------------------------------------------------------------


def test_receive_allocate_ship(shop: Api, client: httpx.Client, clock: FakeClock) -> None:
    asn_id = create_asn(shop, asn("IN-1", ("SKU-1", 10), ("SKU-2", 4)))
    assert stock(shop) == {}  # an ASN on its way is not stock yet

    assert moved(advance(client, "asn", asn_id, "RECEIVING")) == "RECEIVING"
    assert stock(shop) == {}
    assert moved(advance(client, "asn", asn_id, "RECEIVED")) == "RECEIVED"
    assert stock(shop) == {("SKU-1", "157"): (10, 0, 10), ("SKU-2", "157"): (4, 0, 4)}

    order_id = create_order(shop, order("CO-1", ("SKU-1", 3), ("SKU-2", 1), brand="Acme"))
    assert stock(shop) == {("SKU-1", "157"): (10, 3, 7), ("SKU-2", "157"): (4, 1, 3)}

    clock.advance(3600)
    assert moved(advance(client, "order", order_id, "SHIPPED")) == "SHIPPED"
    assert stock(shop) == {("SKU-1", "157"): (7, 0, 7), ("SKU-2", "157"): (3, 0, 3)}

    found = shipments(shop, {"searchFields": [{"name": "orderIds", "values": [order_id]}]}).json()
    assert found["totalElements"] == 1
    shipment = found["content"][0]
    assert shipment == {
        "shipmentId": "SHP000001",
        "clientId": CLIENT_ID,
        "orderId": order_id,
        "clientOrderId": "CO-1",
        "customerOrderId": None,
        "brand": "Acme",
        "node": "157",
        "carrier": "USPS",
        "serviceId": "PM",
        "trackingNumber": shipment["trackingNumber"],
        "shippedDate": "2025-06-15T16:06:40.000+0000",
        "items": [{"lineId": 1, "sku": "SKU-1", "quantity": 3}, {"lineId": 2, "sku": "SKU-2", "quantity": 1}],
    }
    assert shipment["trackingNumber"].startswith("1Z") and len(shipment["trackingNumber"]) == 18
    assert shipment["trackingNumber"][2:].isdigit()


def test_shipping_fills_the_actual_shipping_details(shop: Api, client: httpx.Client) -> None:
    order_id = create_order(shop, order())
    assert get_order(shop, order_id)["actualShippingDetails"] is None

    shipped = advance(client, "order", order_id, "SHIPPED").json()

    assert get_order(shop, order_id) == shipped
    tracking = shipments(shop).json()["content"][0]["trackingNumber"]
    # A Shipping Details object (api §22.1): carrier, service, tracking number, and no address.
    assert shipped["actualShippingDetails"] == {
        "carrier": "USPS",
        "serviceId": "PM",
        "trackingNumber": tracking,
    }
    assert shipped["shipToAddress"] == order()["shipToAddress"]


def test_actual_shipping_details_repeat_a_requested_service_name(shop: Api, client: httpx.Client) -> None:
    body = order(inputShippingDetails={"carrier": "UPS", "serviceId": "03", "serviceName": "Ground"})

    shipped = advance(client, "order", create_order(shop, body), "SHIPPED").json()

    details = shipped["actualShippingDetails"]
    assert (details["carrier"], details["serviceId"], details["serviceName"]) == ("UPS", "03", "Ground")
    assert set(details) == {"carrier", "serviceId", "serviceName", "trackingNumber"}


def test_a_shipment_item_has_no_line_id_when_the_line_had_none(shop: Api, client: httpx.Client) -> None:
    body = order(orderItems=[{"sku": "SKU-1", "orderedQuantity": 2}])
    advance(client, "order", create_order(shop, body), "SHIPPED")

    assert shipments(shop).json()["content"][0]["items"] == [{"sku": "SKU-1", "quantity": 2}]


def test_tracking_numbers_differ_between_shipments_and_repeat_after_a_reset(
    shop: Api, client: httpx.Client, emulator: Emulator
) -> None:
    for key in ("A", "B"):
        advance(client, "order", create_order(shop, order(key)), "SHIPPED")
    first = [s["trackingNumber"] for s in emulator.shipments()]

    emulator.reset()
    shop.refresh()
    shop.create(product("SKU-1"))
    advance(client, "order", create_order(shop, order("C")), "SHIPPED")

    assert len(set(first)) == 2
    assert emulator.shipments()[0]["trackingNumber"] == first[0]


def test_cancel_releases_the_allocation(shop: Api) -> None:
    order_id = create_order(shop, order("CO-1", ("SKU-1", 2)))

    shop.call("PUT", f"/v1/orders/{order_id}/cancel", params={"clientId": CLIENT_ID})

    assert stock(shop) == {("SKU-1", "157"): (0, 0, 0)}


def test_updates_move_the_allocation(shop: Api) -> None:
    config_nodes = ("157", "CVG2")
    with http_client(create_app(config=EmulatorConfig(nodes=config_nodes))) as client:
        api = Api(client, fetch_token(client))
        for sku in ("SKU-1", "SKU-2"):
            api.create(product(sku))
        order_id = create_order(api, order("CO-1", ("SKU-1", 2)))
        assert stock(api) == {("SKU-1", "157"): (0, 2, -2)}  # no fromNode: the first configured node

        api.call("PUT", f"/v1/orders/{order_id}", json=order("CO-1", ("SKU-1", 5), fromNode="CVG2"))
        assert stock(api) == {("SKU-1", "157"): (0, 0, 0), ("SKU-1", "CVG2"): (0, 5, -5)}

        body = {
            "clientId": CLIENT_ID,
            "clientOrderId": "CO-1",
            "orderItems": [{"sku": "SKU-2", "orderedQuantity": 1}],
        }
        api.call("PUT", f"/v1/orders/{order_id}/order-items", json=body)
        assert stock(api) == {
            ("SKU-1", "157"): (0, 0, 0),
            ("SKU-1", "CVG2"): (0, 0, 0),
            ("SKU-2", "CVG2"): (0, 1, -1),
        }


def test_bulk_orders_allocate_and_a_rejected_request_allocates_nothing(shop: Api) -> None:
    shop.call(
        "POST", "/v1/orders/bulk", json={"orders": [order("A", ("SKU-1", 1)), order("B", ("SKU-1", 2))]}
    )
    shop.call("POST", "/v1/orders/bulk", json={"orders": [order("A", ("SKU-1", 4)), order("C", ("NOPE", 9))]})
    bad = shop.call("POST", "/v1/orders/bulk", json={"orders": [order("D", ("SKU-2", 1)), "not an order"]})

    assert bad.status_code == 400
    assert stock(shop) == {("SKU-1", "157"): (0, 6, -6)}


def test_shipping_more_than_on_hand_is_not_refused(shop: Api, client: httpx.Client) -> None:
    order_id = create_order(shop, order("CO-1", ("SKU-1", 2)))

    assert moved(advance(client, "order", order_id, "SHIPPED")) == "SHIPPED"
    assert stock(shop) == {("SKU-1", "157"): (-2, 0, -2)}


def test_cancelling_or_shipping_twice_moves_no_stock(shop: Api, client: httpx.Client) -> None:
    canceled, shipped = (
        create_order(shop, order("A", ("SKU-1", 1))),
        create_order(shop, order("B", ("SKU-2", 1))),
    )
    advance(client, "order", canceled, "CANCELED")
    advance(client, "order", shipped, "SHIPPED")
    before = stock(shop)

    assert advance(client, "order", canceled, "CANCELED").status_code == 400
    assert advance(client, "order", shipped, "SHIPPED").status_code == 400
    assert advance(client, "order", shipped, "CANCELED").status_code == 400
    assert stock(shop) == before
    assert len(shipments(shop).json()["content"]) == 1


def test_a_canceled_asn_never_adds_stock(shop: Api, client: httpx.Client) -> None:
    asn_id = create_asn(shop, asn())
    shop.call("PUT", f"/v1/receiving-asn/{asn_id}/cancel", params={"clientId": CLIENT_ID})

    assert advance(client, "asn", asn_id, "RECEIVED").status_code == 400
    assert stock(shop) == {}


# Transitions --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "allowed"),
    [
        (["RELEASED", "PICKING", "SHIPPED"], True),
        (["PICKING"], True),
        (["SHIPPED"], True),
        (["RELEASED", "CANCELED"], True),
        (["CANCELED"], True),
        (["PICKING", "CANCELED"], False),
        (["SHIPPED", "PICKING"], False),
        (["RELEASED", "CREATED"], False),
        (["RELEASED", "RELEASED"], False),
        (["CREATED"], False),
        (["CANCELED", "RELEASED"], False),
    ],
)
def test_order_moves_go_forward_or_to_canceled(
    shop: Api, emulator: Emulator, steps: list[str], allowed: bool
) -> None:
    order_id = create_order(shop, order())

    def move(status: str) -> bool:
        try:
            emulator.advance("order", order_id, status)
        except HttpError as error:
            assert [e.code for e in error.errors] == ["EMU-BAD-STATE"]
            return False
        return True

    assert all(move(status) for status in steps[:-1])
    assert move(steps[-1]) is allowed
    assert emulator.orders()[0]["status"] == (
        steps[-1] if allowed else steps[-2] if len(steps) > 1 else "CREATED"
    )


@pytest.mark.parametrize(
    ("steps", "allowed"),
    [
        (["RECEIVING", "RECEIVED"], True),
        (["RECEIVED"], True),
        (["CANCELED"], True),
        (["RECEIVING", "CANCELED"], False),
        (["RECEIVED", "RECEIVING"], False),
        (["CREATED"], False),
    ],
)
def test_asn_moves_go_forward_or_to_canceled(
    shop: Api, emulator: Emulator, steps: list[str], allowed: bool
) -> None:
    asn_id = create_asn(shop, asn())

    for status in steps[:-1]:
        emulator.advance("asn", asn_id, status)
    if allowed:
        assert emulator.advance("asn", asn_id, steps[-1])["status"] == steps[-1]
    else:
        with pytest.raises(HttpError) as raised:
            emulator.advance("asn", asn_id, steps[-1])
        assert raised.value.errors[0].code == "EMU-BAD-STATE"


def test_advance_finds_objects_by_pb_id_or_client_key(shop: Api, emulator: Emulator) -> None:
    order_id = create_order(shop, order("CO-7"))
    asn_id = create_asn(shop, asn("IN-7"))

    assert emulator.advance("order", "CO-7", "RELEASED")["orderId"] == order_id
    assert emulator.advance("order", order_id, "PICKING")["status"] == "PICKING"
    assert emulator.advance("asn", "IN-7", "RECEIVED")["receivingASNId"] == asn_id


def test_advance_describes_a_forbidden_move(shop: Api, emulator: Emulator) -> None:
    order_id = create_order(shop, order())
    emulator.advance("order", order_id, "SHIPPED")

    with pytest.raises(HttpError) as raised:
        emulator.advance("order", order_id, "RELEASED")

    assert raised.value.status == 400
    assert raised.value.errors[0].description == "Order ORD000001 is SHIPPED and cannot move to RELEASED"


@pytest.mark.parametrize(
    ("resource", "key", "status", "code", "parameter"),
    [
        ("order", "ORD000001", "LOST", "EMU-NOT-ALLOWED", "status"),
        ("invoice", "ORD000001", "SHIPPED", "EMU-NOT-ALLOWED", "resource"),
        ("order", "ORD999999", "SHIPPED", "EMU-NOT-FOUND", "orderId"),
        ("asn", "ASN999999", "RECEIVED", "EMU-NOT-FOUND", "receivingASNId"),
    ],
)
def test_advance_rejects_unknown_resources_statuses_and_objects(
    shop: Api, emulator: Emulator, resource: str, key: str, status: str, code: str, parameter: str
) -> None:
    create_order(shop, order())

    with pytest.raises(HttpError) as raised:
        emulator.advance(resource, key, status)

    assert [(e.code, list(e.parameters)) for e in raised.value.errors] == [(code, [parameter])]


def test_advance_knows_every_resource_with_a_status_chain(emulator: Emulator) -> None:
    assert {"order", "asn"} <= set(emulator.advancing)
    assert "product" not in emulator.advancing


# The admin route ----------------------------------------------------------------------------------


def test_admin_route_takes_basic_credentials_and_spends_no_transaction_id(
    shop: Api, client: httpx.Client
) -> None:
    order_id = create_order(shop, order())

    response = client.post(
        "/emulator/admin/advance",
        json={"resource": "order", "id": order_id, "status": "RELEASED"},
        headers={"X-PB-TransactionId": "admin-1"},
        auth=ADMIN_AUTH,
    )

    assert response.status_code == 200
    assert response.json() == get_order(shop, order_id)
    assert response.json()["status"] == "RELEASED"
    assert (
        shop.call(
            "GET", f"/v1/orders/{order_id}", params={"clientId": CLIENT_ID}, transaction_id="admin-1"
        ).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        (b'{"resource": "order", "id": "ORD000001"}', 400, [("EMU-REQUIRED", ["status"])]),
        (
            b'{"resource": "", "id": "", "status": ""}',
            400,
            [("EMU-REQUIRED", [p]) for p in ("resource", "id", "status")],
        ),
        (b'{"resource": "order", "id": 1, "status": "SHIPPED"}', 400, [("EMU-BAD-TYPE", ["id"])]),
        (
            b'{"resource": "order", "id": "ORD000001", "status": "SHIPPED", "force": true}',
            400,
            [("EMU-UNKNOWN-FIELD", ["force"])],
        ),
        (b"[1]", 400, [("EMU-BAD-TYPE", ["body"])]),
        (b"{", 400, [("EMU-BAD-REQUEST", ["body"])]),
        (b"", 400, [("EMU-REQUIRED", ["body"])]),
        (
            b'{"resource": "order", "id": "ORD000001", "status": "PACKED"}',
            400,
            [("EMU-NOT-ALLOWED", ["status"])],
        ),
        (b'{"resource": "order", "id": "NOPE", "status": "SHIPPED"}', 404, [("EMU-NOT-FOUND", ["orderId"])]),
        (
            b'{"resource": "order", "id": "ORD000001", "status": "CREATED"}',
            400,
            [("EMU-BAD-STATE", ["status"])],
        ),
    ],
)
def test_admin_route_rejects_bad_requests(
    shop: Api, client: httpx.Client, body: bytes, status: int, expected: list[tuple[str, list[str]]]
) -> None:
    create_order(shop, order())

    response = client.post(
        "/emulator/admin/advance", content=body, headers={"Content-Type": "application/json"}, auth=ADMIN_AUTH
    )

    assert response.status_code == status
    assert errors_of(response) == expected
    assert get_order(shop, "ORD000001")["status"] == "CREATED"


def test_admin_route_takes_post_only(client: httpx.Client) -> None:
    assert client.get("/emulator/admin/advance", auth=ADMIN_AUTH).status_code == 405


# Inventory snapshot -------------------------------------------------------------------------------


def seed_stock(emulator: Emulator) -> None:
    for node, sku, qty in (("157", "B", 2), ("157", "A", 1), ("CVG2", "A", 5), ("157", "C", 3)):
        adjust_stock(emulator.store, CLIENT_ID, node, sku, on_hand_delta=qty)


def skus(response: httpx.Response) -> list[tuple[str, str]]:
    assert response.status_code == 200, response.text
    return [(r["sku"], r["node"]) for r in response.json()["content"]]


def test_adjust_stock_adds_deltas_and_returns_the_record(emulator: Emulator) -> None:
    adjust_stock(emulator.store, CLIENT_ID, "157", "A", on_hand_delta=5)

    record = adjust_stock(emulator.store, CLIENT_ID, "157", "A", on_hand_delta=-1, allocated_delta=3)

    assert record == {"sku": "A", "node": "157", "onHand": 4, "allocated": 3, "available": 1}
    assert emulator.stock() == [record]
    assert emulator.stock("someone-else") == []


def test_stock_changes_add_up_as_adjust_stock_would(emulator: Emulator) -> None:
    adjust_stock(emulator.store, CLIENT_ID, "157", "A", on_hand_delta=5, allocated_delta=1)
    changes = StockChanges()
    changes.add("157", 'B"é', allocated_delta=2)  # new; a SKU that JSON must escape
    changes.add("157", "A", on_hand_delta=-1, allocated_delta=3)
    changes.add("157", 'B"é', allocated_delta=1)

    with emulator.store.atomic():
        changes.apply(emulator.store, CLIENT_ID)

    assert emulator.stock() == [  # the stored ones first, new ones in the order first changed
        {"sku": "A", "node": "157", "onHand": 4, "allocated": 4, "available": 0},
        {"sku": 'B"é', "node": "157", "onHand": 0, "allocated": 3, "available": -3},
    ]
    assert adjust_stock(emulator.store, CLIENT_ID, "157", 'B"é', on_hand_delta=1)["available"] == -2


def test_snapshot_sorts_by_sku_then_node(api: Api, emulator: Emulator) -> None:
    seed_stock(emulator)

    assert skus(snapshot(api)) == [("A", "157"), ("A", "CVG2"), ("B", "157"), ("C", "157")]
    assert skus(snapshot(api, {"sort": ["sku-asc"]})) == [
        ("A", "157"),
        ("A", "CVG2"),
        ("B", "157"),
        ("C", "157"),
    ]
    assert skus(snapshot(api, {"sort": ["sku-desc"]})) == [
        ("C", "157"),
        ("B", "157"),
        ("A", "CVG2"),
        ("A", "157"),
    ]


def test_snapshot_pages(api: Api, emulator: Emulator) -> None:
    seed_stock(emulator)

    page = snapshot(api, page=2, size=3).json()

    assert (skus_of(page), page["totalElements"], page["totalPages"], page["first"], page["last"]) == (
        [("C", "157")],
        4,
        2,
        False,
        True,
    )


def skus_of(page: dict[str, Any]) -> list[tuple[str, str]]:
    return [(r["sku"], r["node"]) for r in page["content"]]


def test_snapshot_search_fields(api: Api, emulator: Emulator) -> None:
    seed_stock(emulator)

    def find(*fields: tuple[str, list[str]]) -> list[tuple[str, str]]:
        return skus(snapshot(api, {"searchFields": [{"name": n, "values": v} for n, v in fields]}))

    assert find(("sku", ["A", "C"])) == [("A", "157"), ("A", "CVG2"), ("C", "157")]
    assert find(("node", ["CVG2"])) == [("A", "CVG2")]
    assert find(("sku", ["A"]), ("node", ["157"])) == [("A", "157")]


@pytest.mark.parametrize(
    ("body", "code", "parameter"),
    [
        ({"sort": ["createDate-asc"]}, "EMU-NOT-ALLOWED", "sort[0]"),
        ({"sort": "sku-asc"}, "EMU-BAD-TYPE", "sort"),
        ({"searchFields": [{"name": "onHand", "values": [1]}]}, "EMU-NOT-ALLOWED", "searchFields[0].name"),
    ],
)
def test_snapshot_rejects_unknown_sorts_and_names(
    api: Api, body: dict[str, Any], code: str, parameter: str
) -> None:
    response = snapshot(api, body)

    assert response.status_code == 400
    assert errors_of(response) == [(code, [parameter])]


def test_snapshot_sort_error_names_the_allowed_values(api: Api) -> None:
    response = snapshot(api, {"sort": ["sku-up"]})

    assert response.json()["errors"][0]["errorDescription"] == "sort[0] must be <sku>-<asc|desc>"


def test_snapshot_needs_the_client_id(api: Api) -> None:
    assert errors_of(api.call("POST", "/v1/inventory/snapshot", json={})) == [("EMU-REQUIRED", ["clientId"])]


# Shipments search ---------------------------------------------------------------------------------


@pytest.fixture
def shipped(shop: Api, client: httpx.Client, clock: FakeClock) -> list[str]:
    """Three orders shipped a day apart (A on 06-16, B on 06-17 with brand Acme, C on 06-18)."""
    order_ids = []
    for key, brand in (("A", None), ("B", "Acme"), ("C", None)):
        order_id = create_order(shop, order(key, **({"brand": brand} if brand else {})))
        clock.advance(86_400)
        shop.refresh()  # a day outlives the token
        advance(client, "order", order_id, "SHIPPED")
        order_ids.append(order_id)
    return order_ids


def shipped_keys(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [s["clientOrderId"] for s in response.json()["content"]]


def test_shipments_sort_by_shipped_date(shop: Api, shipped: list[str]) -> None:
    assert shipped_keys(shipments(shop)) == ["A", "B", "C"]
    assert shipped_keys(shipments(shop, {"sort": ["shipppedDate-asc"]})) == ["A", "B", "C"]
    assert shipped_keys(shipments(shop, {"sort": ["shipppedDate-desc"]})) == ["C", "B", "A"]


def test_shipments_search_fields(shop: Api, shipped: list[str]) -> None:
    def find(name: str, *values: Any) -> list[str]:
        return shipped_keys(shipments(shop, {"searchFields": [{"name": name, "values": list(values)}]}))

    assert find("orderIds", shipped[0], shipped[2]) == ["A", "C"]
    assert find("shipmentIds", "SHP000002") == ["B"]
    assert find("brands", "Acme") == ["B"]
    assert find("shippedDate", "2025-06-17", "2025-06-18") == ["B", "C"]
    assert find("shippedDate", "2025-06-18T00:00:00Z") == ["C"]


def test_shipments_page(shop: Api, shipped: list[str]) -> None:
    page = shop.call(
        "POST", "/v1/shipments/search", json={"clientId": CLIENT_ID}, params={"page": 2, "size": 2}
    ).json()

    assert ([s["clientOrderId"] for s in page["content"]], page["totalElements"], page["last"]) == (
        ["C"],
        3,
        True,
    )


@pytest.mark.parametrize(
    ("body", "code", "parameter"),
    [
        ({"sort": ["shippedDate-asc"]}, "EMU-NOT-ALLOWED", "sort[0]"),
        ({"searchFields": [{"name": "orderId", "values": ["X"]}]}, "EMU-NOT-ALLOWED", "searchFields[0].name"),
        ({"searchFields": [{"name": "orderIds", "values": []}]}, "EMU-REQUIRED", "searchFields[0].values"),
        (
            {"searchFields": [{"name": "shippedDate", "values": ["last week"]}]},
            "EMU-BAD-FORMAT",
            "searchFields[0].values",
        ),
    ],
)
def test_shipments_search_rejects_bad_requests(
    shop: Api, body: dict[str, Any], code: str, parameter: str
) -> None:
    response = shipments(shop, body)

    assert response.status_code == 400
    assert errors_of(response) == [(code, [parameter])]
