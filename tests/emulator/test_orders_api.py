"""Orders through the emulated API: rules, create/update/items/bulk, get/status, search, cancel, bulk cancel."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from loader.emulator import Emulator, EmulatorConfig, create_app
from loader.emulator.orders import Orders

from .helpers import (
    CLIENT_ID,
    REMOVE,
    UNKNOWN,
    Api,
    FakeClock,
    advance,
    errors_of,
    fetch_token,
    http_client,
    item_errors,
    order,
    order_lines,
    product,
    ship_to,
    with_path,
)

STATUS_FIELDS = {
    "clientId", "clientOrderId", "orderId", "customerOrderId", "status", "isOnHold", "holdReason", "createDate",
    "pbCreateDate",
}  # fmt: skip
RESPONSE_ONLY = {
    "orderId",
    "status",
    "isOnHold",
    "holdReason",
    "pbCreateDate",
    "pbUpdateDate",
    "actualShippingDetails",
}

FULL_ORDER = order(
    "FULL-1",
    ("SKU-1", 2),
    ("SKU-2", 1),
    customerOrderId="WEB-1001",
    brand="Acme",
    references=[{"name": "channel", "values": "web"}],
    orderType="Retail",
    updateDate="2025-06-15T11:00:00Z",
    fromNode="157",
    shipOnDate="2025-06-17T00:00:00Z",
    fulfillmentReleaseDate="2025-06-16T08:00:00.000+0200",
    inputShippingDetails={
        "carrier": "USPS",
        "serviceId": "PM",
        "serviceName": "Priority Mail",
        "trackingNumber": "T1",
    },
    shipToAddress=ship_to(
        company="Analytical Engines",
        addressLines=["1 Main St", "Suite 2", "Floor 3"],
        phone="+1 555 0100",
        email="ada@example.com",
    ),
)
FULL_ORDER["orderItems"][0].update(
    unitPrice=9.99,
    lineTotal=19.98,
    originCountryCode="PT",
    originStateProvince="Lisboa",
    hSTariffCode="6104.42.0010",
    hSTariffCodeCountry="US",
    inventoryType="GOOD",
)

ADDRESS = "shipToAddress"
SHIPPING = "inputShippingDetails"
# (path, value, errorCode); the error's parameters must be [path].
RULE_CASES = [
    ("clientOrderId", REMOVE, "EMU-REQUIRED"),
    ("clientOrderId", "C" * 51, "EMU-TOO-LONG"),
    ("clientOrderId", 42, "EMU-BAD-TYPE"),
    ("customerOrderId", "C" * 51, "EMU-TOO-LONG"),
    ("brand", "B" * 51, "EMU-TOO-LONG"),
    ("references", {"name": "a"}, "EMU-BAD-TYPE"),
    ("references[0]", None, "EMU-REQUIRED"),
    ("references[0].name", "N" * 51, "EMU-TOO-LONG"),
    ("references[0].values", "V" * 256, "EMU-TOO-LONG"),
    ("orderType", "B2B", "EMU-NOT-ALLOWED"),
    ("orderType", "ecom", "EMU-NOT-ALLOWED"),
    ("createDate", REMOVE, "EMU-REQUIRED"),
    ("createDate", "2025-06-15T10:00:00.000+0000", "EMU-BAD-FORMAT"),
    ("createDate", "2025-06-15", "EMU-BAD-FORMAT"),
    ("createDate", "2025-13-15T10:00:00Z", "EMU-BAD-FORMAT"),
    ("updateDate", "2025-06-15 10:00:00", "EMU-BAD-FORMAT"),
    ("shipOnDate", "tomorrow", "EMU-BAD-FORMAT"),
    ("fulfillmentReleaseDate", "soon", "EMU-BAD-FORMAT"),
    ("fromNode", "999", "EMU-NOT-ALLOWED"),
    (SHIPPING, REMOVE, "EMU-REQUIRED"),
    (SHIPPING, "USPS", "EMU-BAD-TYPE"),
    (f"{SHIPPING}.carrier", REMOVE, "EMU-REQUIRED"),
    (f"{SHIPPING}.carrier", "C" * 51, "EMU-TOO-LONG"),
    (f"{SHIPPING}.serviceId", REMOVE, "EMU-REQUIRED"),
    (f"{SHIPPING}.serviceId", "S" * 51, "EMU-TOO-LONG"),
    (f"{SHIPPING}.serviceName", "S" * 65, "EMU-TOO-LONG"),
    (f"{SHIPPING}.trackingNumber", "T" * 51, "EMU-TOO-LONG"),
    (ADDRESS, REMOVE, "EMU-REQUIRED"),
    (ADDRESS, ["1 Main St"], "EMU-BAD-TYPE"),
    (f"{ADDRESS}.name", REMOVE, "EMU-REQUIRED"),
    (f"{ADDRESS}.name", "N" * 101, "EMU-TOO-LONG"),
    (f"{ADDRESS}.company", "C" * 51, "EMU-TOO-LONG"),
    (f"{ADDRESS}.addressLines", REMOVE, "EMU-REQUIRED"),
    (f"{ADDRESS}.addressLines", [], "EMU-REQUIRED"),
    (f"{ADDRESS}.addressLines", "1 Main St", "EMU-BAD-TYPE"),
    (f"{ADDRESS}.addressLines", ["a", "b", "c", "d"], "EMU-OUT-OF-RANGE"),
    (f"{ADDRESS}.addressLines[0]", "", "EMU-REQUIRED"),
    (f"{ADDRESS}.addressLines[0]", "L" * 101, "EMU-TOO-LONG"),
    (f"{ADDRESS}.cityTown", REMOVE, "EMU-REQUIRED"),
    (f"{ADDRESS}.cityTown", "C" * 51, "EMU-TOO-LONG"),
    (f"{ADDRESS}.stateProvince", REMOVE, "EMU-REQUIRED"),  # required for US
    (f"{ADDRESS}.stateProvince", "S" * 51, "EMU-TOO-LONG"),
    (f"{ADDRESS}.postalCode", REMOVE, "EMU-REQUIRED"),
    (f"{ADDRESS}.postalCode", 1234, "EMU-BAD-TYPE"),  # a number would lose leading zeros
    (f"{ADDRESS}.postalCode", "P" * 21, "EMU-TOO-LONG"),
    (f"{ADDRESS}.countryCode", REMOVE, "EMU-REQUIRED"),
    (f"{ADDRESS}.countryCode", "USA", "EMU-BAD-FORMAT"),
    (f"{ADDRESS}.countryCode", "us", "EMU-BAD-FORMAT"),
    (f"{ADDRESS}.phone", "1" * 26, "EMU-TOO-LONG"),
    (f"{ADDRESS}.email", "ada-at-example.com", "EMU-BAD-FORMAT"),
    (f"{ADDRESS}.email", "a" * 59 + "@example.com", "EMU-TOO-LONG"),
    ("orderItems", REMOVE, "EMU-REQUIRED"),
    ("orderItems", [], "EMU-REQUIRED"),
    ("orderItems", {"sku": "SKU-1"}, "EMU-BAD-TYPE"),
    ("orderItems[0]", None, "EMU-REQUIRED"),
    ("orderItems[0]", "SKU-1", "EMU-BAD-TYPE"),
    ("orderItems[0].sku", REMOVE, "EMU-REQUIRED"),
    ("orderItems[0].sku", "S" * 61, "EMU-TOO-LONG"),
    ("orderItems[0].sku", "NO-SUCH-SKU", "EMU-NOT-FOUND"),
    ("orderItems[1].sku", "sku-1", "EMU-NOT-FOUND"),  # SKUs are case-sensitive
    ("orderItems[0].orderedQuantity", REMOVE, "EMU-REQUIRED"),
    ("orderItems[0].orderedQuantity", 0, "EMU-OUT-OF-RANGE"),
    ("orderItems[0].orderedQuantity", 1.5, "EMU-BAD-TYPE"),
    (
        "orderItems[0].orderedQuantity",
        2.0,
        "EMU-BAD-TYPE",
    ),  # what a spreadsheet cell gives; the API wants an integer
    ("orderItems[0].orderedQuantity", "2", "EMU-BAD-TYPE"),
    ("orderItems[0].lineId", 0, "EMU-OUT-OF-RANGE"),
    ("orderItems[0].lineId", 1.0, "EMU-BAD-TYPE"),
    ("orderItems[1].lineId", 1, "EMU-DUPLICATE"),
    ("orderItems[0].unitPrice", -0.01, "EMU-OUT-OF-RANGE"),
    ("orderItems[0].unitPrice", "free", "EMU-BAD-TYPE"),
    ("orderItems[0].lineTotal", -1, "EMU-OUT-OF-RANGE"),
    ("orderItems[0].originCountryCode", "PRT", "EMU-BAD-FORMAT"),
    ("orderItems[0].originStateProvince", "S" * 51, "EMU-TOO-LONG"),
    ("orderItems[0].hSTariffCode", "1" * 15, "EMU-TOO-LONG"),
    ("orderItems[0].hSTariffCodeCountry", "usa", "EMU-BAD-FORMAT"),
    ("orderItems[0].inventoryType", 3, "EMU-BAD-TYPE"),
]

# The old contract's names and PB's reserved fields, each refused where it is sent (api §21.7).
UNKNOWN_CASES = [
    ("orderItems[0].quantity", 1),
    ("orderItems[0].lineNumber", 1),
    ("orderItems[0].description", "Mug"),
    ("orderItems[0].additionalDetails", {}),
    (f"{SHIPPING}.shipToAddress", ship_to()),  # Shipping Details hold no address (api §22.1)
    (f"{SHIPPING}.service", "PM"),
    (f"{ADDRESS}.residential", True),
    (f"{ADDRESS}.addressLine1", "1 Main St"),
    ("references[0].value", "web"),
    ("salesChannel", {"name": "web"}),
    ("shippingDetails", {"carrier": "USPS"}),  # the "coming soon" name
    ("somethingPbAddsLater", [1, 2]),
]


@pytest.fixture
def shop(api: Api) -> Api:
    """An account with products SKU-1, SKU-2 and SKU-3 for orders to name."""
    for sku in ("SKU-1", "SKU-2", "SKU-3"):
        assert api.create(product(sku)).status_code == 201
    return api


def create(api: Api, body: dict[str, Any]) -> httpx.Response:
    return api.call("POST", "/v1/orders", json=body)


def get(api: Api, order_id: str, client_id: str = CLIENT_ID) -> httpx.Response:
    return api.call("GET", f"/v1/orders/{order_id}", params={"clientId": client_id})


def put(api: Api, order_id: str, body: dict[str, Any]) -> httpx.Response:
    return api.call("PUT", f"/v1/orders/{order_id}", json=body)


def cancel(api: Api, order_id: str) -> httpx.Response:
    return api.call("PUT", f"/v1/orders/{order_id}/cancel", params={"clientId": CLIENT_ID})


def bulk(api: Api, *orders: dict[str, Any]) -> httpx.Response:
    return api.call("POST", "/v1/orders/bulk", json={"orders": list(orders)})


def search(
    api: Api, body: dict[str, Any] | None = None, path: str = "/v1/orders/search", **params: Any
) -> httpx.Response:
    return api.call("POST", path, json={"clientId": CLIENT_ID, **(body or {})}, params=params)


def keys(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [record["clientOrderId"] for record in response.json()["content"]]


def results(response: httpx.Response) -> list[tuple[str | None, str]]:
    """Return ``(clientOrderId, status or first error code)`` of each bulk result."""
    assert response.status_code == 200, response.text
    return [
        (r["clientOrderId"], r.get("status") or r["errors"][0]["errorCode"])
        for r in response.json()["orders"]
    ]


def created_id(api: Api, body: dict[str, Any]) -> str:
    response = create(api, body)
    assert response.status_code == 201, response.text
    return str(response.json()["orderId"])


# Rules ------------------------------------------------------------------------------------------


def test_full_order_is_accepted_and_stored_as_sent(shop: Api, emulator: Emulator) -> None:
    response = create(shop, FULL_ORDER)

    assert response.status_code == 201
    record = response.json()
    assert {k: v for k, v in record.items() if k not in RESPONSE_ONLY} == FULL_ORDER
    assert record["orderId"] == "ORD000001"
    assert (record["status"], record["isOnHold"], record["holdReason"]) == ("CREATED", False, [])
    assert record["pbCreateDate"] == record["pbUpdateDate"] == "2025-06-15T15:06:40.000+0000"
    assert record["actualShippingDetails"] is None
    assert emulator.orders() == [record]


def test_minimal_order_is_accepted(shop: Api) -> None:
    assert create(shop, order()).status_code == 201


@pytest.mark.parametrize(("path", "value"), UNKNOWN_CASES, ids=[p for p, _ in UNKNOWN_CASES])
def test_an_undocumented_field_is_refused_with_its_path(
    shop: Api, emulator: Emulator, path: str, value: Any
) -> None:
    response = create(shop, with_path(FULL_ORDER, path, value))

    assert response.status_code == 400
    assert errors_of(response) == [(UNKNOWN, [path])]
    assert emulator.orders() == []


@pytest.mark.parametrize("name", sorted(RESPONSE_ONLY))
def test_response_only_fields_are_refused(shop: Api, name: str) -> None:
    response = create(shop, {**order(), name: None})

    assert errors_of(response) == [(UNKNOWN, [name])]
    assert response.json()["errors"][0]["errorDescription"] == f"{name} is set by PB and cannot be sent"


def test_an_order_read_back_cannot_be_put_back_as_it_is(shop: Api) -> None:
    record = create(shop, order()).json()

    response = put(shop, record["orderId"], record)

    assert sorted(path for _, [path] in errors_of(response)) == sorted(RESPONSE_ONLY)


@pytest.mark.parametrize(
    ("path", "value", "code"), RULE_CASES, ids=[f"{p}={v!r:.20}" for p, v, _ in RULE_CASES]
)
def test_each_rule_rejects_its_field(shop: Api, emulator: Emulator, path: str, value: Any, code: str) -> None:
    response = create(shop, with_path(FULL_ORDER, path, value))

    assert response.status_code == 400
    assert errors_of(response) == [(code, [path])]
    assert emulator.orders() == []
    assert all(record["allocated"] == 0 for record in emulator.stock())


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("clientOrderId", "C" * 50),
        ("customerOrderId", "C" * 50),
        ("brand", "B" * 50),
        ("orderType", "eCom"),
        ("fromNode", REMOVE),
        ("fulfillmentReleaseDate", "2025-06-16"),
        ("references[0].values", "V" * 255),
        (f"{ADDRESS}.stateProvince", REMOVE),  # not required outside the US and Canada
        (f"{ADDRESS}.addressLines", ["1 Main St"]),
        (f"{ADDRESS}.addressLines[2]", "L" * 100),
        (f"{ADDRESS}.name", "N" * 100),
        (f"{ADDRESS}.postalCode", "P" * 20),
        (f"{ADDRESS}.email", "a" * 58 + "@example.com"),
        (f"{SHIPPING}.carrier", "C" * 50),
        (f"{SHIPPING}.serviceId", "S" * 50),
        (f"{SHIPPING}.serviceName", "S" * 64),
        (f"{SHIPPING}.trackingNumber", REMOVE),
        ("orderItems[0].unitPrice", 0),
        ("orderItems[0].lineTotal", 0),
        ("orderItems[0].lineId", REMOVE),
        ("orderItems[0].hSTariffCode", "1" * 14),
    ],
)
def test_values_at_the_limits_are_accepted(shop: Api, path: str, value: Any) -> None:
    body = with_path(with_path(FULL_ORDER, f"{ADDRESS}.countryCode", "GB"), path, value)

    response = create(shop, body)

    assert response.status_code == 201, response.text


def test_canada_needs_a_province_too(shop: Api) -> None:
    body = with_path(with_path(order(), f"{ADDRESS}.countryCode", "CA"), f"{ADDRESS}.stateProvince", "")

    errors = create(shop, body).json()["errors"]

    assert [(e["errorCode"], e["errorDescription"]) for e in errors] == [
        ("EMU-REQUIRED", f"{ADDRESS}.stateProvince is required when {ADDRESS}.countryCode is CA")
    ]


def test_all_problems_of_an_order_are_reported_with_plain_sentences(shop: Api) -> None:
    body = order("C" * 51, ("NOPE", 1), ("SKU-1", 0), orderType="B2B")
    body["orderItems"][1]["lineId"] = 1

    errors = create(shop, body).json()["errors"]

    assert [(e["errorDescription"], e["parameters"]) for e in errors] == [
        ("clientOrderId must be at most 50 characters", ["clientOrderId"]),
        ("orderType must be one of eCom, Retail", ["orderType"]),
        ("orderItems[1].orderedQuantity must be at least 1", ["orderItems[1].orderedQuantity"]),
        ("orderItems[1].lineId repeats 1; it must be unique within orderItems", ["orderItems[1].lineId"]),
        ("orderItems[0].sku NOPE is not a product of this client", ["orderItems[0].sku"]),
    ]


def test_forged_response_only_fields_are_each_refused(shop: Api, emulator: Emulator) -> None:
    forged = order(
        orderId="MINE-1",
        status="SHIPPED",
        isOnHold=True,
        holdReason=["FRAUD"],
        pbCreateDate="2000-01-01T00:00:00.000+0000",
        actualShippingDetails={"trackingNumber": "X"},
    )

    response = create(shop, forged)

    assert errors_of(response) == [
        (UNKNOWN, [name])
        for name in ("orderId", "status", "isOnHold", "holdReason", "pbCreateDate", "actualShippingDetails")
    ]
    assert emulator.orders() == []


def test_unknown_fields_in_lines_and_nested_objects_are_all_reported(shop: Api) -> None:
    body = order(orderItems=[{"sku": "SKU-1", "quantity": 1, "orderedQuantity": 1}])
    body["inputShippingDetails"]["shipToAddress"] = ship_to()
    body["shipToAddress"]["residential"] = False

    response = create(shop, body)

    assert errors_of(response) == [
        (UNKNOWN, ["inputShippingDetails.shipToAddress"]),
        (UNKNOWN, ["shipToAddress.residential"]),
        (UNKNOWN, ["orderItems[0].quantity"]),
    ]


def test_order_ids_are_strings_in_creation_order(shop: Api) -> None:
    assert [created_id(shop, order(f"CO-{i}")) for i in range(3)] == ["ORD000001", "ORD000002", "ORD000003"]


# Create, get, status ------------------------------------------------------------------------------


def test_create_of_an_existing_client_order_id_is_a_duplicate(shop: Api) -> None:
    created_id(shop, order())

    response = create(shop, order(customerOrderId="AGAIN"))

    assert response.status_code == 400
    assert errors_of(response) == [("EMU-DUPLICATE", ["clientOrderId"])]
    error = response.json()["errors"][0]
    assert error["errorDescription"] == "An order with clientOrderId CO-1 already exists"
    assert error["additionalInfo"] == "Existing orderId: ORD000001"
    assert "customerOrderId" not in get(shop, "ORD000001").json()


def test_get_returns_the_stored_record(shop: Api) -> None:
    created = create(shop, FULL_ORDER).json()

    response = get(shop, created["orderId"])

    assert response.status_code == 200
    assert response.json() == created


def test_get_of_a_missing_order_is_404(shop: Api) -> None:
    response = get(shop, "ORD999999")

    assert response.status_code == 404
    assert errors_of(response) == [("EMU-NOT-FOUND", ["orderId"])]


def test_get_needs_the_client_id_in_the_query(shop: Api) -> None:
    order_id = created_id(shop, order())

    assert errors_of(shop.call("GET", f"/v1/orders/{order_id}")) == [("EMU-REQUIRED", ["clientId"])]
    assert errors_of(get(shop, order_id, client_id="other")) == [("EMU-FORBIDDEN", ["clientId"])]


def test_status_returns_the_status_fields_only(shop: Api) -> None:
    order_id = created_id(shop, FULL_ORDER)

    response = shop.call("GET", f"/v1/orders/{order_id}/status", params={"clientId": CLIENT_ID})

    assert response.status_code == 200
    assert response.json() == {
        "clientId": CLIENT_ID,
        "clientOrderId": "FULL-1",
        "orderId": order_id,
        "customerOrderId": "WEB-1001",
        "status": "CREATED",
        "isOnHold": False,
        "holdReason": [],
        "createDate": "2025-06-15T10:00:00Z",
        "pbCreateDate": "2025-06-15T15:06:40.000+0000",
    }


def test_status_of_a_missing_order_is_404(shop: Api) -> None:
    response = shop.call("GET", "/v1/orders/ORD999999/status", params={"clientId": CLIENT_ID})

    assert errors_of(response) == [("EMU-NOT-FOUND", ["orderId"])]


# Update ---------------------------------------------------------------------------------------


def test_put_replaces_the_whole_order_and_keeps_pb_create_date(shop: Api, clock: FakeClock) -> None:
    order_id = created_id(shop, FULL_ORDER)
    clock.advance(60)

    response = put(shop, order_id, order("FULL-1", ("SKU-3", 4), brand="Other"))

    assert response.status_code == 200
    record = get(shop, order_id).json()
    assert record == response.json()
    assert (record["orderId"], record["brand"], record["orderItems"]) == (
        order_id,
        "Other",
        [{"lineId": 1, "sku": "SKU-3", "orderedQuantity": 4}],
    )
    assert "customerOrderId" not in record
    assert record["pbCreateDate"] == "2025-06-15T15:06:40.000+0000"
    assert record["pbUpdateDate"] == "2025-06-15T15:07:40.000+0000"


def test_put_of_a_missing_order_is_404(shop: Api) -> None:
    response = put(shop, "ORD999999", order())

    assert response.status_code == 404
    assert errors_of(response) == [("EMU-NOT-FOUND", ["orderId"])]


def test_put_cannot_change_the_client_order_id(shop: Api) -> None:
    order_id = created_id(shop, order("CO-1"))

    response = put(shop, order_id, order("CO-2"))

    assert response.status_code == 400
    assert errors_of(response) == [("EMU-BAD-REQUEST", ["clientOrderId"])]
    assert (
        response.json()["errors"][0]["errorDescription"] == "clientOrderId must stay CO-1 for order ORD000001"
    )


def test_put_checks_the_order_rules(shop: Api) -> None:
    order_id = created_id(shop, order())

    response = put(shop, order_id, order(orderType="B2B"))

    assert errors_of(response) == [("EMU-NOT-ALLOWED", ["orderType"])]
    assert "orderType" not in get(shop, order_id).json()


# Status rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["PICKING", "SHIPPED", "CANCELED"])
def test_update_items_and_cancel_need_created_or_released(
    shop: Api, client: httpx.Client, status: str
) -> None:
    order_id = created_id(shop, order())
    assert advance(client, "order", order_id, status).status_code == 200

    responses = [
        put(shop, order_id, order(brand="B")),
        shop.call(
            "PUT",
            f"/v1/orders/{order_id}/orderItems",
            json=order(orderItems=[{"sku": "SKU-2", "orderedQuantity": 1}]),
        ),
        cancel(shop, order_id),
    ]

    assert [errors_of(r) for r in responses] == [[("EMU-BAD-STATE", ["status"])]] * 3
    assert [r.json()["errors"][0]["errorDescription"] for r in responses] == [
        f"Order ORD000001 is {status}; it can be updated only while CREATED or RELEASED",
        f"Order ORD000001 is {status}; it can be updated only while CREATED or RELEASED",
        f"Order ORD000001 is {status}; it can be canceled only while CREATED or RELEASED",
    ]
    assert get(shop, order_id).json()["status"] == status


def test_released_orders_can_still_be_updated_and_canceled(shop: Api, client: httpx.Client) -> None:
    order_id = created_id(shop, order())
    advance(client, "order", order_id, "RELEASED")

    assert put(shop, order_id, order(brand="B")).json()["status"] == "RELEASED"
    assert cancel(shop, order_id).json()["status"] == "CANCELED"


# Change order items -------------------------------------------------------------------------------


@pytest.mark.parametrize("segment", ["orderItems", "order-items"])
def test_change_items_replaces_the_lines_only(shop: Api, clock: FakeClock, segment: str) -> None:
    order_id = created_id(shop, FULL_ORDER)
    clock.advance(5)
    lines = [
        {"lineId": 1, "sku": "SKU-2", "orderedQuantity": 7},
        {"lineId": 2, "sku": "SKU-3", "orderedQuantity": 1},
    ]
    body = order("FULL-1", brand="Ignored", orderItems=lines)

    response = shop.call("PUT", f"/v1/orders/{order_id}/{segment}", json=body)

    assert response.status_code == 200
    record = get(shop, order_id).json()
    assert record == response.json()
    assert record["orderItems"] == lines
    assert (record["brand"], record["customerOrderId"]) == ("Acme", "WEB-1001")  # the header is not changed
    assert record["pbUpdateDate"] == "2025-06-15T15:06:45.000+0000"


def test_change_items_needs_only_the_key_and_the_lines(shop: Api) -> None:
    order_id = created_id(shop, order())
    body = {
        "clientId": CLIENT_ID,
        "clientOrderId": "CO-1",
        "orderItems": [{"sku": "SKU-2", "orderedQuantity": 3}],
    }

    response = shop.call("PUT", f"/v1/orders/{order_id}/orderItems", json=body)

    assert response.status_code == 200
    assert response.json()["orderItems"] == [{"sku": "SKU-2", "orderedQuantity": 3}]


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ({"clientOrderId": "CO-1"}, 400, [("EMU-REQUIRED", ["orderItems"])]),
        ({"clientOrderId": "CO-1", "orderItems": []}, 400, [("EMU-REQUIRED", ["orderItems"])]),
        (
            {"clientOrderId": "CO-1", "orderItems": [{"sku": "SKU-2", "orderedQuantity": -1}]},
            400,
            [("EMU-OUT-OF-RANGE", ["orderItems[0].orderedQuantity"])],
        ),
        (
            {"clientOrderId": "CO-1", "orderItems": [{"sku": "GHOST", "orderedQuantity": 1}]},
            400,
            [("EMU-NOT-FOUND", ["orderItems[0].sku"])],
        ),
        (
            {"orderItems": [{"sku": "SKU-2", "orderedQuantity": 1}]},
            400,
            [("EMU-REQUIRED", ["clientOrderId"])],
        ),
        (
            {"clientOrderId": "CO-9", "orderItems": [{"sku": "SKU-2", "orderedQuantity": 1}]},
            400,
            [("EMU-BAD-REQUEST", ["clientOrderId"])],
        ),
    ],
    ids=["no-lines", "empty-lines", "bad-quantity", "unknown-sku", "no-key", "other-key"],
)
def test_change_items_rejects_bad_bodies(
    shop: Api, body: dict[str, Any], status: int, expected: list[tuple[str, list[str]]]
) -> None:
    order_id = created_id(shop, order())

    response = shop.call("PUT", f"/v1/orders/{order_id}/orderItems", json={"clientId": CLIENT_ID, **body})

    assert response.status_code == status
    assert errors_of(response) == expected
    assert get(shop, order_id).json()["orderItems"] == order()["orderItems"]


def test_change_items_checks_the_header_it_ignores_and_refuses_unknown_fields(shop: Api) -> None:
    order_id = created_id(shop, order())
    lines = order_lines(("SKU-2", 1))

    bad_header = shop.call(
        "PUT", f"/v1/orders/{order_id}/orderItems", json=order(orderType="B2B", orderItems=lines)
    )
    unknown = shop.call(
        "PUT", f"/v1/orders/{order_id}/orderItems", json={**order(orderItems=lines), "note": "x"}
    )
    described = [{"sku": "SKU-2", "orderedQuantity": 1, "description": "Mug"}]
    old_line = shop.call("PUT", f"/v1/orders/{order_id}/orderItems", json=order(orderItems=described))

    assert errors_of(bad_header) == [("EMU-NOT-ALLOWED", ["orderType"])]
    assert errors_of(unknown) == [(UNKNOWN, ["note"])]
    assert errors_of(old_line) == [(UNKNOWN, ["orderItems[0].description"])]
    assert get(shop, order_id).json()["orderItems"] == order()["orderItems"]


def test_change_items_of_a_missing_order_is_404(shop: Api) -> None:
    response = shop.call("PUT", "/v1/orders/ORD999999/orderItems", json=order())

    assert response.status_code == 404


# Bulk -------------------------------------------------------------------------------------------


def test_bulk_creates_every_order(shop: Api, emulator: Emulator) -> None:
    response = bulk(shop, *(order(f"B-{i}") for i in range(3)))

    assert response.json() == {
        "orders": [
            {"clientOrderId": f"B-{i}", "orderId": f"ORD00000{i + 1}", "status": "CREATED"} for i in range(3)
        ]
    }
    assert [o["clientOrderId"] for o in emulator.orders()] == ["B-0", "B-1", "B-2"]


def test_bulk_checks_its_orders_rules_before_it_holds_the_store(
    shop: Api, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    orders = next(r for r in emulator.resources if isinstance(r, Orders))
    rules, held = orders.rules, []

    class Watched:  # the orders' rules, noting whether the store is held as they check
        def check(self, value: Any, path: str) -> Any:
            held.append(emulator.store._depth)
            return rules.check(value, path)

    monkeypatch.setattr(orders, "rules", Watched())
    response = bulk(shop, order("B-0"), order("B-1", ("NOPE", 1)))

    assert held == [0, 0]
    assert [r.get("status") for r in response.json()["orders"]] == ["CREATED", None]
    assert [o["clientOrderId"] for o in emulator.orders()] == ["B-0"]


def test_bulk_updates_an_existing_client_order_id(shop: Api, client: httpx.Client, clock: FakeClock) -> None:
    order_id = created_id(shop, order("OLD"))
    advance(client, "order", order_id, "RELEASED")
    clock.advance(10)

    response = bulk(shop, order("OLD", ("SKU-2", 5)))

    assert response.json()["orders"] == [{"clientOrderId": "OLD", "orderId": order_id, "status": "RELEASED"}]
    record = get(shop, order_id).json()
    assert record["orderItems"] == [{"lineId": 1, "sku": "SKU-2", "orderedQuantity": 5}]
    assert (record["pbCreateDate"], record["pbUpdateDate"]) == (
        "2025-06-15T15:06:40.000+0000",
        "2025-06-15T15:06:50.000+0000",
    )


def test_bulk_items_succeed_or_fail_independently_in_order(
    shop: Api, client: httpx.Client, emulator: Emulator
) -> None:
    shipped = created_id(shop, order("SHIPPED"))
    advance(client, "order", shipped, "SHIPPED")

    response = bulk(
        shop,
        order("NEW"),
        order("BAD", orderType="B2B"),
        order("SHIPPED", brand="late"),
        order("GHOST-SKU", ("NOPE", 1)),
        order("NEW", ("SKU-3", 2)),  # created earlier in this same request
    )

    assert results(response) == [
        ("NEW", "CREATED"),
        ("BAD", "EMU-NOT-ALLOWED"),
        ("SHIPPED", "EMU-BAD-STATE"),
        ("GHOST-SKU", "EMU-NOT-FOUND"),
        ("NEW", "CREATED"),
    ]
    stored = {o["clientOrderId"]: o for o in emulator.orders()}
    assert sorted(stored) == ["NEW", "SHIPPED"]
    assert stored["NEW"]["orderItems"] == [{"lineId": 1, "sku": "SKU-3", "orderedQuantity": 2}]
    assert "brand" not in stored["SHIPPED"]


def test_bulk_failure_carries_all_item_errors_and_no_order_id(shop: Api) -> None:
    result = bulk(shop, order("C" * 51, ("SKU-1", 0))).json()["orders"][0]

    assert set(result) == {"clientOrderId", "errors"}
    assert [(e["errorCode"], e["parameters"]) for e in result["errors"]] == [
        ("EMU-TOO-LONG", ["clientOrderId"]),
        ("EMU-OUT-OF-RANGE", ["orderItems[0].orderedQuantity"]),
    ]


def test_an_undocumented_field_fails_its_bulk_item_only(shop: Api, emulator: Emulator) -> None:
    old_line = order("OLD-LINE", orderItems=[{"sku": "SKU-1", "quantity": 1}])
    nested = with_path(order("NESTED"), "shipToAddress.residential", True)

    body = bulk(shop, order("OK"), old_line, nested).json()["orders"]

    assert body[0]["status"] == "CREATED"
    assert item_errors(body[1]) == [
        ("EMU-REQUIRED", ["orderItems[0].orderedQuantity"]),  # the known fields' problems first
        (UNKNOWN, ["orderItems[0].quantity"]),
    ]
    assert item_errors(body[2]) == [(UNKNOWN, ["shipToAddress.residential"])]
    assert [o["clientOrderId"] for o in emulator.orders()] == ["OK"]


def test_bulk_of_exactly_200_orders_is_accepted(shop: Api) -> None:
    assert len(results(bulk(shop, *(order(f"B-{i}") for i in range(200))))) == 200


@pytest.mark.parametrize(
    ("body", "code", "parameter"),
    [
        ({"orders": []}, "EMU-OUT-OF-RANGE", "orders"),
        ({"orders": [order(f"B-{i}") for i in range(201)]}, "EMU-OUT-OF-RANGE", "orders"),
        ({}, "EMU-REQUIRED", "orders"),
        ({"orders": order()}, "EMU-BAD-TYPE", "orders"),
        ({"orders": [order(), "CO-2"]}, "EMU-BAD-TYPE", "orders[1]"),
        (
            {"orders": [order(), with_path(order("B"), "clientId", REMOVE)]},
            "EMU-REQUIRED",
            "orders[1].clientId",
        ),
    ],
    ids=["empty", "201-items", "no-array", "not-an-array", "item-not-object", "item-without-clientId"],
)
def test_malformed_bulk_is_rejected_whole(
    shop: Api, emulator: Emulator, body: dict[str, Any], code: str, parameter: str
) -> None:
    response = shop.call("POST", "/v1/orders/bulk", json=body)

    assert response.status_code == 400
    assert errors_of(response) == [(code, [parameter])]
    assert emulator.orders() == []


def test_bulk_with_bad_json_is_rejected_whole(shop: Api) -> None:
    response = shop.call(
        "POST", "/v1/orders/bulk", content=b'{"orders": [', headers={"Content-Type": "application/json"}
    )

    assert errors_of(response) == [("EMU-BAD-REQUEST", ["body"])]


def test_bulk_item_of_another_client_is_forbidden(shop: Api, emulator: Emulator) -> None:
    response = bulk(shop, order("A"), order("B", clientId="other"))

    assert response.status_code == 403
    assert errors_of(response) == [("EMU-FORBIDDEN", ["orders[1].clientId"])]
    assert emulator.orders() == []


def test_bulk_limit_comes_from_the_config() -> None:
    with http_client(create_app(config=EmulatorConfig(max_bulk_items=2))) as client:
        api = Api(client, fetch_token(client))

        response = bulk(api, *(order(f"B-{i}") for i in range(3)))

    assert response.json()["errors"][0]["errorDescription"] == "orders must hold between 1 and 2 items"


# Search -----------------------------------------------------------------------------------------


def test_search_pages_are_1_based(shop: Api) -> None:
    bulk(shop, *(order(f"P-{i:02d}") for i in range(45)))

    pages = [search(shop, page=n, size=20).json() for n in (1, 2, 3)]

    assert [(p["page"], len(p["content"]), p["first"], p["last"]) for p in pages] == [
        (1, 20, True, False),
        (2, 20, False, False),
        (3, 5, False, True),
    ]
    assert {(p["totalElements"], p["totalPages"]) for p in pages} == {(45, 3)}
    assert [r["clientOrderId"] for p in pages for r in p["content"]] == [f"P-{i:02d}" for i in range(45)]


def test_search_sorts_by_dates(shop: Api, clock: FakeClock) -> None:
    for key, day in (("B", "03"), ("A", "01"), ("C", "02")):
        create(shop, order(key, createDate=f"2025-06-{day}T00:00:00Z"))
        clock.advance(1)

    assert keys(search(shop, {"sort": ["pbCreateDate-desc"]})) == ["C", "A", "B"]
    assert keys(search(shop, {"sort": ["createDate-asc"]})) == ["A", "C", "B"]


def test_search_fields_match_on_any_value_and_combine_with_and(shop: Api, client: httpx.Client) -> None:
    create(
        shop, order("A", ("SKU-1", 1), customerOrderId="W-1", brand="Acme", createDate="2025-06-01T00:00:00Z")
    )
    create(shop, order("B", ("SKU-2", 1), ("SKU-3", 1), brand="Acme", createDate="2025-06-02T00:00:00Z"))
    create(shop, order("C", ("SKU-3", 1), createDate="2025-06-03T00:00:00Z"))
    advance(client, "order", "B", "RELEASED")

    def find(*fields: tuple[str, list[Any]]) -> list[str]:
        return keys(search(shop, {"searchFields": [{"name": n, "values": v} for n, v in fields]}))

    assert find(("clientOrderId", ["A", "C", "Z"])) == ["A", "C"]
    assert find(("orderId", ["ORD000002"])) == ["B"]
    assert find(("customerOrderId", ["W-1"])) == ["A"]
    assert find(("status", ["RELEASED"])) == ["B"]
    assert find(("brand", ["Acme"])) == ["A", "B"]
    assert find(("sku", ["SKU-3"])) == ["B", "C"]
    assert find(("sku", ["SKU-3"]), ("brand", ["Acme"])) == ["B"]
    assert find(("createDate", ["2025-06-02", "2025-06-03"])) == ["B", "C"]
    assert find(("pbCreateDate", ["2025-06-15T00:00:00Z", None])) == ["A", "B", "C"]


def test_status_search_returns_the_status_fields(shop: Api) -> None:
    create(shop, FULL_ORDER)

    body = search(shop, path="/v1/orders/status/search").json()

    assert body["totalElements"] == 1
    assert set(body["content"][0]) == STATUS_FIELDS


@pytest.mark.parametrize(
    ("body", "code", "parameter"),
    [
        ({"sort": ["sku-asc"]}, "EMU-NOT-ALLOWED", "sort[0]"),
        (
            {"searchFields": [{"name": "colour", "values": ["red"]}]},
            "EMU-NOT-ALLOWED",
            "searchFields[0].name",
        ),
        ({"searchFields": [{"name": "status", "values": []}]}, "EMU-REQUIRED", "searchFields[0].values"),
    ],
)
def test_search_rejects_unknown_sorts_and_names(
    shop: Api, body: dict[str, Any], code: str, parameter: str
) -> None:
    for path in ("/v1/orders/search", "/v1/orders/status/search"):
        response = search(shop, body, path=path)

        assert response.status_code == 400
        assert errors_of(response) == [(code, [parameter])]


# Cancel -------------------------------------------------------------------------------------------


def test_cancel_cancels_the_whole_order(shop: Api, clock: FakeClock) -> None:
    order_id = created_id(shop, order())
    clock.advance(1)

    response = cancel(shop, order_id)

    assert response.status_code == 200
    assert response.json() == get(shop, order_id).json()
    assert (response.json()["status"], response.json()["pbUpdateDate"]) == (
        "CANCELED",
        "2025-06-15T15:06:41.000+0000",
    )


def test_cancel_takes_an_empty_body_and_needs_the_client_id(shop: Api) -> None:
    order_id = created_id(shop, order())

    assert errors_of(shop.call("PUT", f"/v1/orders/{order_id}/cancel")) == [("EMU-REQUIRED", ["clientId"])]
    assert errors_of(cancel(shop, "ORD999999")) == [("EMU-NOT-FOUND", ["orderId"])]


@pytest.mark.parametrize("content", [b"", b"{}"])
def test_cancel_takes_no_body_or_an_empty_object(shop: Api, content: bytes) -> None:
    order_id = created_id(shop, order())

    response = shop.call(
        "PUT",
        f"/v1/orders/{order_id}/cancel",
        params={"clientId": CLIENT_ID},
        content=content,
        headers={"Content-Type": "application/json"},
    )

    assert (response.status_code, response.json()["status"]) == (200, "CANCELED")


def test_cancel_refuses_fields_in_its_empty_body(shop: Api) -> None:
    order_id = created_id(shop, order())

    response = shop.call(
        "PUT", f"/v1/orders/{order_id}/cancel", params={"clientId": CLIENT_ID}, json={"cancelReason": "late"}
    )

    assert errors_of(response) == [(UNKNOWN, ["cancelReason"])]
    assert get(shop, order_id).json()["status"] == "CREATED"


def test_cancel_of_a_canceled_order_names_its_state(shop: Api) -> None:
    order_id = created_id(shop, order())
    cancel(shop, order_id)

    response = cancel(shop, order_id)

    assert errors_of(response) == [("EMU-BAD-STATE", ["status"])]
    assert "is CANCELED" in response.json()["errors"][0]["errorDescription"]


# Bulk cancel --------------------------------------------------------------------------------------


def bulk_cancel(api: Api, body: Any) -> httpx.Response:
    return api.call("PUT", "/v1/orders/bulk/cancel", json=body)


@pytest.mark.parametrize(
    "wrap", [lambda items: {"CancelOrdersRequest": items}, lambda items: items], ids=["object", "array"]
)
def test_bulk_cancel_accepts_both_body_forms(shop: Api, wrap: Any) -> None:
    ids = [created_id(shop, order(f"C-{i}")) for i in range(3)]
    items = [
        {"clientId": CLIENT_ID, "clientOrderId": "C-0"},
        {"clientId": CLIENT_ID, "orderId": ids[1]},
        {"clientId": CLIENT_ID, "clientOrderId": "C-2", "orderId": ids[2]},
    ]

    response = bulk_cancel(shop, wrap(items))

    assert response.status_code == 200
    assert response.json() == {
        "orders": [{"clientOrderId": f"C-{i}", "orderId": ids[i], "status": "CANCELED"} for i in range(3)]
    }
    assert {get(shop, order_id).json()["status"] for order_id in ids} == {"CANCELED"}


def test_bulk_cancel_items_fail_independently(shop: Api, client: httpx.Client) -> None:
    ok, shipped = created_id(shop, order("OK")), created_id(shop, order("SHIPPED"))
    advance(client, "order", shipped, "SHIPPED")
    items = [
        {"clientId": CLIENT_ID, "clientOrderId": "GHOST"},
        {"clientId": CLIENT_ID, "orderId": "ORD999999"},
        {"clientId": CLIENT_ID, "clientOrderId": "SHIPPED"},
        {"clientId": CLIENT_ID},
        {"clientId": CLIENT_ID, "clientOrderId": "OTHER", "orderId": ok},
        {"clientId": CLIENT_ID, "clientOrderId": "C" * 51},
        {"clientId": CLIENT_ID, "clientOrderId": "OK"},
        {"clientId": CLIENT_ID, "clientOrderId": "OK"},  # canceled by the item before
    ]

    body = bulk_cancel(shop, {"CancelOrdersRequest": items}).json()

    assert [
        (r["clientOrderId"], r.get("status") or [(e["errorCode"], e["parameters"]) for e in r["errors"]])
        for r in body["orders"]
    ] == [
        ("GHOST", [("EMU-NOT-FOUND", ["clientOrderId"])]),
        (None, [("EMU-NOT-FOUND", ["orderId"])]),
        ("SHIPPED", [("EMU-BAD-STATE", ["status"])]),
        (None, [("EMU-REQUIRED", ["clientOrderId", "orderId"])]),
        ("OTHER", [("EMU-BAD-REQUEST", ["clientOrderId"])]),
        ("C" * 51, [("EMU-TOO-LONG", ["clientOrderId"])]),
        ("OK", "CANCELED"),
        ("OK", [("EMU-BAD-STATE", ["status"])]),
    ]
    assert body["orders"][1]["orderId"] == "ORD999999"  # a failure echoes the keys it was given


@pytest.mark.parametrize(
    ("body", "code", "parameter"),
    [
        ({"CancelOrdersRequest": []}, "EMU-OUT-OF-RANGE", "CancelOrdersRequest"),
        ([], "EMU-OUT-OF-RANGE", "CancelOrdersRequest"),
        (
            [{"clientId": CLIENT_ID, "clientOrderId": f"C-{i}"} for i in range(201)],
            "EMU-OUT-OF-RANGE",
            "CancelOrdersRequest",
        ),
        ({}, "EMU-REQUIRED", "CancelOrdersRequest"),
        ({"orders": []}, "EMU-UNKNOWN-FIELD", "orders"),
        ({"CancelOrdersRequest": "C-1"}, "EMU-BAD-TYPE", "CancelOrdersRequest"),
        ("C-1", "EMU-BAD-TYPE", "CancelOrdersRequest"),
        (["C-1"], "EMU-BAD-TYPE", "CancelOrdersRequest[0]"),
        ([{"clientOrderId": "C-1"}], "EMU-REQUIRED", "CancelOrdersRequest[0].clientId"),
    ],
    ids=["empty", "empty-array", "201-items", "no-array", "other-array", "not-an-array", "string", "item-not-object",
         "no-clientId"],
)  # fmt: skip
def test_malformed_bulk_cancel_is_rejected_whole(shop: Api, body: Any, code: str, parameter: str) -> None:
    order_id = created_id(shop, order("C-1"))

    response = bulk_cancel(shop, body)

    assert response.status_code == 400
    assert errors_of(response) == [(code, [parameter])]
    assert get(shop, order_id).json()["status"] == "CREATED"


def test_bulk_cancel_items_name_an_order_and_nothing_else(shop: Api) -> None:
    order_id = created_id(shop, order("C-1"))
    items = [
        {"clientId": CLIENT_ID, "clientOrderId": "C-1", "cancelReason": "late"},
        {"clientId": CLIENT_ID, "orderId": order_id, "status": "CANCELED"},
    ]

    body = bulk_cancel(shop, {"CancelOrdersRequest": items}).json()

    assert [item_errors(r) for r in body["orders"]] == [
        [(UNKNOWN, ["cancelReason"])],
        [(UNKNOWN, ["status"])],
    ]
    assert get(shop, order_id).json()["status"] == "CREATED"


def test_bulk_cancel_of_exactly_200_items_is_processed(shop: Api) -> None:
    items = [{"clientId": CLIENT_ID, "clientOrderId": f"C-{i}"} for i in range(200)]

    response = bulk_cancel(shop, items)

    assert response.status_code == 200
    assert len(response.json()["orders"]) == 200


def test_bulk_cancel_bad_json_and_other_clients_are_rejected_whole(shop: Api) -> None:
    order_id = created_id(shop, order("C-1"))
    other = [{"clientId": CLIENT_ID, "clientOrderId": "C-1"}, {"clientId": "other", "clientOrderId": "C-1"}]

    bad_json = shop.call(
        "PUT", "/v1/orders/bulk/cancel", content=b"[{", headers={"Content-Type": "application/json"}
    )
    forbidden = bulk_cancel(shop, other)

    assert errors_of(bad_json) == [("EMU-BAD-REQUEST", ["body"])]
    assert (forbidden.status_code, errors_of(forbidden)) == (
        403,
        [("EMU-FORBIDDEN", ["CancelOrdersRequest[1].clientId"])],
    )
    assert get(shop, order_id).json()["status"] == "CREATED"


# Routing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/orders/bulk"),
        ("PUT", "/v1/orders/search"),
        ("POST", "/v1/orders/bulk/cancel"),
        ("DELETE", "/v1/orders/ORD1"),
    ],
)
def test_wrong_method_on_an_order_path_is_405(shop: Api, method: str, path: str) -> None:
    assert shop.call(method, path).status_code == 405
