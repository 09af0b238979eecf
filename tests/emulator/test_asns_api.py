"""ASNs through the emulated API: rules, create, update, get, search, cancel."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from loader.emulator import Emulator, EmulatorConfig, create_app

from .helpers import (
    CLIENT_ID,
    REMOVE,
    UNKNOWN,
    Api,
    FakeClock,
    advance,
    asn,
    errors_of,
    fetch_token,
    http_client,
    product,
    with_path,
)

RESPONSE_ONLY = {"receivingASNId", "status", "pbCreateDate", "pbUpdateDate"}
STATUS_FIELDS = {
    "clientId", "receivingASNId", "clientASNId", "purchaseOrderNumber", "inboundType", "receivingNode", "status",
    "pbCreateDate", "pbUpdateDate",
}  # fmt: skip

FULL_ASN = asn(
    "FULL-ASN",
    ("SKU-1", 10),
    ("SKU-2", 5),
    brand="Acme",
    purchaseOrderNumber="PO-77",
    vendorDetails={"name": "Widgets Ltd", "code": "V-9"},
    shippingDetails={"carrier": "FedEx", "serviceId": "GROUND", "trackingNumber": "7946 1234 5678"},
)
FULL_ASN["asnItems"][0].update(
    purchaseOrderNumberLineId=3,
    unitOfMeasurement="CASE",
    estimatedDeliveryDate="2025-06-20T09:00:00Z",
    costDetails={"retailPrice": 20, "wholeSalePrice": 12.5, "unitCost": 8, "currency": "US"},
    inventoryType="GOOD",
    originCountryCode="PT",
)

# (path, value, errorCode); the error's parameters must be [path].
RULE_CASES = [
    ("brand", "B" * 31, "EMU-TOO-LONG"),
    ("inboundType", "RMA", "EMU-NOT-ALLOWED"),
    ("clientASNId", REMOVE, "EMU-REQUIRED"),  # required when inboundType is ASN
    ("clientASNId", "A" * 36, "EMU-TOO-LONG"),
    ("purchaseOrderNumber", "P" * 36, "EMU-TOO-LONG"),
    ("receivingNode", REMOVE, "EMU-REQUIRED"),
    ("receivingNode", "CVG", "EMU-NOT-ALLOWED"),
    ("receivingNode", 157, "EMU-BAD-TYPE"),
    ("vendorDetails", "Widgets", "EMU-BAD-TYPE"),
    ("vendorDetails.name", REMOVE, "EMU-REQUIRED"),
    ("vendorDetails.name", "N" * 51, "EMU-TOO-LONG"),
    ("vendorDetails.code", REMOVE, "EMU-REQUIRED"),
    ("shippingDetails", "FedEx", "EMU-BAD-TYPE"),
    ("shippingDetails.carrier", REMOVE, "EMU-REQUIRED"),
    ("shippingDetails.carrier", "C" * 31, "EMU-TOO-LONG"),
    ("shippingDetails.serviceId", 7, "EMU-BAD-TYPE"),
    ("shippingDetails.trackingNumber", "T" * 51, "EMU-TOO-LONG"),
    ("asnItems", REMOVE, "EMU-REQUIRED"),
    ("asnItems", [], "EMU-REQUIRED"),
    ("asnItems[0]", "SKU-1", "EMU-BAD-TYPE"),
    ("asnItems[0].lineId", 0, "EMU-OUT-OF-RANGE"),
    ("asnItems[1].lineId", 1, "EMU-DUPLICATE"),
    ("asnItems[0].purchaseOrderNumberLineId", 1.5, "EMU-BAD-TYPE"),
    ("asnItems[0].sku", REMOVE, "EMU-REQUIRED"),
    ("asnItems[0].sku", "S" * 31, "EMU-TOO-LONG"),
    ("asnItems[0].sku", "NOPE", "EMU-NOT-FOUND"),
    ("asnItems[0].expectedQuantity", REMOVE, "EMU-REQUIRED"),
    ("asnItems[0].expectedQuantity", 0, "EMU-OUT-OF-RANGE"),
    ("asnItems[0].expectedQuantity", 10.0, "EMU-BAD-TYPE"),
    ("asnItems[0].unitOfMeasurement", 12, "EMU-BAD-TYPE"),
    ("asnItems[0].estimatedDeliveryDate", "2025-06-20", "EMU-BAD-FORMAT"),
    ("asnItems[0].estimatedDeliveryDate", "2025-06-20T09:00:00+0000", "EMU-BAD-FORMAT"),
    ("asnItems[0].costDetails", 8, "EMU-BAD-TYPE"),
    ("asnItems[0].costDetails.retailPrice", -1, "EMU-OUT-OF-RANGE"),
    ("asnItems[0].costDetails.wholeSalePrice", "12", "EMU-BAD-TYPE"),
    ("asnItems[0].costDetails.unitCost", -0.5, "EMU-OUT-OF-RANGE"),
    ("asnItems[0].costDetails.currency", "USD", "EMU-TOO-LONG"),  # PB's page says at most 2
    ("asnItems[0].inventoryType", True, "EMU-BAD-TYPE"),
    ("asnItems[0].originCountryCode", "PRT", "EMU-BAD-FORMAT"),
]

# The old contract's names, PB's reserved fields and its response-only line fields (api §21.7, §22.6).
UNKNOWN_CASES = [
    ("expectedArrivalDate", "2025-06-20T09:00:00Z"),
    ("invoiceNumber", "INV-1"),
    ("vendorDetails.number", "V-9"),
    ("shippingDetails.serviceName", "Ground"),
    ("asnItems[0].quantity", 10),
    ("asnItems[0].lineNumber", 1),
    ("asnItems[0].lotNumber", "LOT-1"),
    ("asnItems[0].expirationDate", "2026-12-31"),
    ("asnItems[0].alternateSKU", "ALT-1"),
    ("asnItems[0].licensePlateDetails", []),
    ("asnItems[0].PBlineId", 1),
    ("asnItems[0].receivedQuantity", 0),
    ("asnItems[0].costDetails.price", 1),
    ("somethingPbAddsLater", {"kept": True}),
]


@pytest.fixture
def shop(api: Api) -> Api:
    """An account with products SKU-1, SKU-2 and SKU-3 for ASNs to name."""
    for sku in ("SKU-1", "SKU-2", "SKU-3"):
        assert api.create(product(sku)).status_code == 201
    return api


def create(api: Api, body: dict[str, Any]) -> httpx.Response:
    return api.call("POST", "/v1/receiving-asn", json=body)


def get(api: Api, asn_id: str) -> httpx.Response:
    return api.call("GET", f"/v1/receiving-asn/{asn_id}", params={"clientId": CLIENT_ID})


def put(api: Api, asn_id: str, body: dict[str, Any]) -> httpx.Response:
    return api.call("PUT", f"/v1/receiving-asn/{asn_id}", json=body)


def cancel(api: Api, asn_id: str) -> httpx.Response:
    return api.call("PUT", f"/v1/receiving-asn/{asn_id}/cancel", params={"clientId": CLIENT_ID})


def search(
    api: Api, body: dict[str, Any] | None = None, path: str = "/v1/receiving-asn/search", **params: Any
) -> httpx.Response:
    return api.call("POST", path, json={"clientId": CLIENT_ID, **(body or {})}, params=params)


def created_id(api: Api, body: dict[str, Any]) -> str:
    response = create(api, body)
    assert response.status_code == 201, response.text
    return str(response.json()["receivingASNId"])


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [record["receivingASNId"] for record in response.json()["content"]]


# Rules ------------------------------------------------------------------------------------------


def test_full_asn_is_accepted_and_stored_as_sent(shop: Api, emulator: Emulator) -> None:
    response = create(shop, FULL_ASN)

    assert response.status_code == 201
    record = response.json()
    assert {k: v for k, v in record.items() if k not in RESPONSE_ONLY} == FULL_ASN
    assert (record["receivingASNId"], record["status"]) == ("ASN000001", "CREATED")
    assert record["pbCreateDate"] == record["pbUpdateDate"] == "2025-06-15T15:06:40.000+0000"
    assert emulator.asns() == [record]


@pytest.mark.parametrize(
    ("path", "value", "code"), RULE_CASES, ids=[f"{p}={v!r:.20}" for p, v, _ in RULE_CASES]
)
def test_each_rule_rejects_its_field(shop: Api, emulator: Emulator, path: str, value: Any, code: str) -> None:
    response = create(shop, with_path(FULL_ASN, path, value))

    assert response.status_code == 400
    assert errors_of(response) == [(code, [path])]
    assert emulator.asns() == []


@pytest.mark.parametrize(("path", "value"), UNKNOWN_CASES, ids=[p for p, _ in UNKNOWN_CASES])
def test_an_undocumented_field_is_refused_with_its_path(
    shop: Api, emulator: Emulator, path: str, value: Any
) -> None:
    response = create(shop, with_path(FULL_ASN, path, value))

    assert response.status_code == 400
    assert errors_of(response) == [(UNKNOWN, [path])]
    assert emulator.asns() == []


def test_line_response_only_fields_say_pb_sets_them(shop: Api) -> None:
    response = create(shop, with_path(asn(), "asnItems[0].receivedQuantity", 3))

    assert response.json()["errors"][0]["errorDescription"] == (
        "asnItems[0].receivedQuantity is set by PB and cannot be sent"
    )


def test_a_purchase_order_needs_its_number_not_a_client_asn_id(shop: Api) -> None:
    po = with_path(asn(inboundType="PO", purchaseOrderNumber="PO-1"), "clientASNId", REMOVE)

    assert create(shop, po).status_code == 201
    assert create(shop, po).status_code == 201  # no client key, so no duplicate check
    response = create(shop, with_path(po, "purchaseOrderNumber", ""))
    assert errors_of(response) == [("EMU-REQUIRED", ["purchaseOrderNumber"])]
    assert (
        response.json()["errors"][0]["errorDescription"]
        == "purchaseOrderNumber is required when inboundType is PO"
    )


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("clientASNId", "A" * 35),
        ("purchaseOrderNumber", "P" * 35),
        ("brand", "B" * 30),
        ("vendorDetails", REMOVE),
        ("shippingDetails", REMOVE),
        ("shippingDetails.serviceId", "S" * 100),  # no limit is documented
        ("inboundType", REMOVE),
        ("asnItems[0].lineId", REMOVE),
        ("asnItems[0].estimatedDeliveryDate", "2028-02-29T00:00:00Z"),
        ("asnItems[0].costDetails", {}),
        ("asnItems[0].costDetails.currency", "EU"),
        ("asnItems[0].costDetails.unitCost", 0),
    ],
)
def test_values_at_the_limits_are_accepted(shop: Api, path: str, value: Any) -> None:
    assert create(shop, with_path(FULL_ASN, path, value)).status_code == 201


def test_response_only_fields_are_refused(shop: Api, emulator: Emulator) -> None:
    response = create(shop, asn(receivingASNId="MINE", status="RECEIVED", pbCreateDate="2000-01-01"))

    assert errors_of(response) == [
        (UNKNOWN, ["receivingASNId"]),
        (UNKNOWN, ["status"]),
        (UNKNOWN, ["pbCreateDate"]),
    ]
    assert emulator.asns() == []


def test_put_refuses_an_undocumented_field_and_keeps_the_asn(shop: Api) -> None:
    asn_id = created_id(shop, asn())

    response = put(shop, asn_id, asn(expectedArrivalDate="2025-06-20T09:00:00Z"))

    assert errors_of(response) == [(UNKNOWN, ["expectedArrivalDate"])]
    assert "expectedArrivalDate" not in get(shop, asn_id).json()


def test_create_of_an_existing_client_asn_id_is_a_duplicate(shop: Api) -> None:
    created_id(shop, asn("A-1"))

    response = create(shop, asn("A-1", brand="Again"))

    assert response.status_code == 400
    assert errors_of(response) == [("EMU-DUPLICATE", ["clientASNId"])]
    assert response.json()["errors"][0]["additionalInfo"] == "Existing receivingASNId: ASN000001"
    assert "brand" not in get(shop, "ASN000001").json()


# Get, update ------------------------------------------------------------------------------------


def test_get_returns_the_stored_record_or_404(shop: Api) -> None:
    created = create(shop, FULL_ASN).json()

    assert get(shop, created["receivingASNId"]).json() == created
    missing = get(shop, "ASN999999")
    assert (missing.status_code, errors_of(missing)) == (404, [("EMU-NOT-FOUND", ["receivingASNId"])])
    assert errors_of(shop.call("GET", "/v1/receiving-asn/ASN000001")) == [("EMU-REQUIRED", ["clientId"])]


def test_put_replaces_the_whole_asn_and_keeps_pb_create_date(shop: Api, clock: FakeClock) -> None:
    asn_id = created_id(shop, FULL_ASN)
    clock.advance(60)

    response = put(shop, asn_id, asn("FULL-ASN", ("SKU-3", 1)))

    assert response.status_code == 200
    record = get(shop, asn_id).json()
    assert record == response.json()
    assert record["asnItems"] == [{"lineId": 1, "sku": "SKU-3", "expectedQuantity": 1}]
    assert "vendorDetails" not in record
    assert (record["pbCreateDate"], record["pbUpdateDate"]) == (
        "2025-06-15T15:06:40.000+0000",
        "2025-06-15T15:07:40.000+0000",
    )


def test_put_of_a_missing_asn_is_404(shop: Api) -> None:
    assert errors_of(put(shop, "ASN999999", asn())) == [("EMU-NOT-FOUND", ["receivingASNId"])]


def test_put_cannot_change_the_client_asn_id(shop: Api) -> None:
    asn_id = created_id(shop, asn("A-1"))

    response = put(shop, asn_id, asn("A-2"))

    assert errors_of(response) == [("EMU-BAD-REQUEST", ["clientASNId"])]
    assert response.json()["errors"][0]["errorDescription"] == "clientASNId must stay A-1 for ASN ASN000001"


def test_put_checks_the_asn_rules(shop: Api) -> None:
    asn_id = created_id(shop, asn())

    assert errors_of(put(shop, asn_id, asn(receivingNode="999"))) == [("EMU-NOT-ALLOWED", ["receivingNode"])]
    assert get(shop, asn_id).json()["receivingNode"] == "157"


@pytest.mark.parametrize("status", ["RECEIVING", "RECEIVED", "CANCELED"])
def test_update_and_cancel_need_created(shop: Api, client: httpx.Client, status: str) -> None:
    asn_id = created_id(shop, asn())
    assert advance(client, "asn", asn_id, status).status_code == 200

    responses = [put(shop, asn_id, asn(brand="B")), cancel(shop, asn_id)]

    assert [errors_of(r) for r in responses] == [[("EMU-BAD-STATE", ["status"])]] * 2
    assert [r.json()["errors"][0]["errorDescription"] for r in responses] == [
        f"ASN ASN000001 is {status}; it can be updated only while CREATED",
        f"ASN ASN000001 is {status}; it can be canceled only while CREATED",
    ]


# Cancel -------------------------------------------------------------------------------------------


def test_cancel_cancels_the_whole_asn(shop: Api, clock: FakeClock) -> None:
    asn_id = created_id(shop, asn())
    clock.advance(1)

    response = cancel(shop, asn_id)

    assert response.status_code == 200
    assert response.json() == get(shop, asn_id).json()
    assert (response.json()["status"], response.json()["pbUpdateDate"]) == (
        "CANCELED",
        "2025-06-15T15:06:41.000+0000",
    )


def test_cancel_refuses_fields_in_its_empty_body(shop: Api) -> None:
    asn_id = created_id(shop, asn())

    response = shop.call(
        "PUT", f"/v1/receiving-asn/{asn_id}/cancel", params={"clientId": CLIENT_ID}, json={"a": 1}
    )

    assert errors_of(response) == [(UNKNOWN, ["a"])]
    assert get(shop, asn_id).json()["status"] == "CREATED"


def test_cancel_needs_the_client_id_and_an_existing_asn(shop: Api) -> None:
    asn_id = created_id(shop, asn())

    assert errors_of(shop.call("PUT", f"/v1/receiving-asn/{asn_id}/cancel")) == [
        ("EMU-REQUIRED", ["clientId"])
    ]
    assert errors_of(cancel(shop, "ASN999999")) == [("EMU-NOT-FOUND", ["receivingASNId"])]


# Search -----------------------------------------------------------------------------------------


def test_search_pages_and_sorts(shop: Api, clock: FakeClock) -> None:
    for i in range(25):
        created_id(shop, asn(f"A-{i:02d}"))
        clock.advance(1)

    first, second = (search(shop, page=n, size=20).json() for n in (1, 2))
    newest = search(shop, {"sort": ["pbCreateDate-desc"]}, size=3)

    assert (len(first["content"]), len(second["content"]), second["last"], second["totalElements"]) == (
        20,
        5,
        True,
        25,
    )
    assert ids(newest) == ["ASN000025", "ASN000024", "ASN000023"]


def test_search_fields_match_on_any_value(shop: Api, client: httpx.Client) -> None:
    created_id(shop, asn("A", ("SKU-1", 1), brand="Acme"))
    created_id(shop, asn("B", ("SKU-2", 1), ("SKU-3", 1)))
    created_id(shop, with_path(asn(inboundType="PO", purchaseOrderNumber="PO-9"), "clientASNId", REMOVE))
    advance(client, "asn", "B", "RECEIVING")

    def find(name: str, *values: Any) -> list[str]:
        return ids(search(shop, {"searchFields": [{"name": name, "values": list(values)}]}))

    assert find("clientASNId", "A", "Z") == ["ASN000001"]
    assert find("receivingASNId", "ASN000002", "ASN000003") == ["ASN000002", "ASN000003"]
    assert find("purchaseOrderNumber", "PO-9") == ["ASN000003"]
    assert find("inboundType", "PO") == ["ASN000003"]
    assert find("receivingNode", "157") == ["ASN000001", "ASN000002", "ASN000003"]
    assert find("status", "RECEIVING") == ["ASN000002"]
    assert find("brand", "Acme") == ["ASN000001"]
    assert find("sku", "SKU-3") == ["ASN000002"]
    assert find("pbCreateDate", "2025-06-15", "2025-06-15") == ["ASN000001", "ASN000002", "ASN000003"]


def test_status_search_returns_the_status_fields(shop: Api) -> None:
    create(shop, FULL_ASN)

    body = search(shop, path="/v1/receiving-asn/status/search").json()

    assert [set(record) for record in body["content"]] == [STATUS_FIELDS]
    assert body["content"][0]["status"] == "CREATED"


@pytest.mark.parametrize("name", ["vendor", "expectedArrivalDate"])
def test_search_rejects_unknown_names(shop: Api, name: str) -> None:
    response = search(shop, {"searchFields": [{"name": name, "values": ["V"]}]})

    assert errors_of(response) == [("EMU-NOT-ALLOWED", ["searchFields[0].name"])]


def test_nodes_come_from_the_config() -> None:
    with http_client(create_app(config=EmulatorConfig(nodes=("157", "CVG2")))) as client:
        api = Api(client, fetch_token(client))
        api.create(product("SKU-1"))

        assert create(api, asn(receivingNode="CVG2")).status_code == 201
        response = create(api, asn("A-2", receivingNode="999"))

    assert response.json()["errors"][0]["errorDescription"] == "receivingNode must be one of 157, CVG2"
