"""Return orders through the emulated API: rules, create, get, update, bulk, search, status moves."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from loader.emulator import Emulator, EmulatorConfig, create_app
from loader.emulator.errors import HttpError
from loader.emulator.inventory import Inventory
from loader.emulator.returns import Returns

from .helpers import (
    ADMIN_AUTH,
    CLIENT_ID,
    REMOVE,
    UNKNOWN,
    Api,
    FakeClock,
    errors_of,
    fetch_token,
    http_client,
    item_errors,
    resource_of,
    return_line,
    return_order,
    seed_products,
    with_path,
)

BASE = "/v1/returns"
PB_FIELDS = ("returnOrderId", "status", "pbCreateDate", "pbUpdateDate")
FULL_RETURN = return_order(
    brand="B" * 30,
    orderId="ORD-000001",
    originalClientOrderId="SO-1",
    rmaNumber="R" * 35,
    references=[{"name": "N" * 50, "values": "V" * 255}],
    createDate="2025-06-01T10:00:00+02:00",
    updateDate="2025-06-02",
    returnType="REFUSED",
    inputShippingDetails={
        "carrier": "UPS",
        "serviceId": "03",
        "serviceName": "Ground",
        "trackingNumber": "1Z999",
    },
    customerAddress={
        "name": "Ada Lovelace",
        "company": "Analytical Engines",
        "addressLines": ["1 Main St", "Suite 2"],
        "cityTown": "Hebron",
        "stateProvince": "KY",
        "postalCode": "01234",
        "countryCode": "US",
        "phone": "+1 555 0100",
        "email": "ada@example.com",
    },
    returnItems=[
        return_line("PART-A", 2, orderLineId=1, lineTotal=19.98, returnReason=["Damaged", "Late"]),
        return_line("PART-B"),
    ],
)
FULL_RETURN["returnItems"][0]["itemDetail"].update(unitPrice=9.99, description="Mug")

LINE = "returnItems[0]"
ADDRESS = "customerAddress"
SHIPPING = "inputShippingDetails"
# (path, value, errorCode); the error's parameters must be [path].
RULE_CASES = [
    ("returnClientOrderId", REMOVE, "EMU-REQUIRED"),
    ("returnClientOrderId", "R" * 51, "EMU-TOO-LONG"),
    ("brand", "B" * 31, "EMU-TOO-LONG"),
    ("orderId", 17, "EMU-BAD-TYPE"),
    ("rmaNumber", "R" * 36, "EMU-TOO-LONG"),
    ("references", {"name": "a"}, "EMU-BAD-TYPE"),
    ("references[0].name", "N" * 51, "EMU-TOO-LONG"),
    ("references[0].values", "V" * 256, "EMU-TOO-LONG"),
    ("createDate", "01/06/2025", "EMU-BAD-FORMAT"),
    ("updateDate", "2025-02-30", "EMU-BAD-FORMAT"),
    ("returnType", 3, "EMU-BAD-TYPE"),
    (SHIPPING, "UPS", "EMU-BAD-TYPE"),
    (f"{SHIPPING}.carrier", REMOVE, "EMU-REQUIRED"),
    (f"{SHIPPING}.carrier", "C" * 31, "EMU-TOO-LONG"),
    (f"{SHIPPING}.serviceId", REMOVE, "EMU-REQUIRED"),
    (f"{SHIPPING}.serviceId", "S" * 31, "EMU-TOO-LONG"),
    (f"{SHIPPING}.serviceName", "S" * 31, "EMU-TOO-LONG"),
    (f"{SHIPPING}.trackingNumber", "T" * 41, "EMU-TOO-LONG"),
    (ADDRESS, "1 Main St", "EMU-BAD-TYPE"),
    (f"{ADDRESS}.name", "N" * 101, "EMU-TOO-LONG"),
    (f"{ADDRESS}.company", "C" * 51, "EMU-TOO-LONG"),
    (f"{ADDRESS}.addressLines", [], "EMU-REQUIRED"),
    (f"{ADDRESS}.addressLines", ["a", "b", "c", "d"], "EMU-OUT-OF-RANGE"),
    (f"{ADDRESS}.addressLines[1]", "L" * 101, "EMU-TOO-LONG"),
    (f"{ADDRESS}.cityTown", "C" * 51, "EMU-TOO-LONG"),
    (f"{ADDRESS}.stateProvince", REMOVE, "EMU-REQUIRED"),  # a US address
    (f"{ADDRESS}.stateProvince", "S" * 51, "EMU-TOO-LONG"),
    (f"{ADDRESS}.postalCode", 1234, "EMU-BAD-TYPE"),
    (f"{ADDRESS}.postalCode", "P" * 21, "EMU-TOO-LONG"),
    (f"{ADDRESS}.countryCode", "USA", "EMU-BAD-FORMAT"),
    (f"{ADDRESS}.phone", "1" * 26, "EMU-TOO-LONG"),
    (f"{ADDRESS}.email", "a" * 59 + "@example.com", "EMU-TOO-LONG"),
    (f"{ADDRESS}.email", "ada", "EMU-BAD-FORMAT"),
    ("returnItems", REMOVE, "EMU-REQUIRED"),
    ("returnItems", [], "EMU-REQUIRED"),
    ("returnItems[1]", None, "EMU-REQUIRED"),
    ("returnItems[1]", "PART-B", "EMU-BAD-TYPE"),
    (f"{LINE}.orderLineId", 0, "EMU-OUT-OF-RANGE"),
    (f"{LINE}.orderLineId", "1", "EMU-BAD-TYPE"),
    (f"{LINE}.itemDetail", REMOVE, "EMU-REQUIRED"),
    (f"{LINE}.itemDetail", "PART-A", "EMU-BAD-TYPE"),
    (f"{LINE}.itemDetail.sku", REMOVE, "EMU-REQUIRED"),
    (f"{LINE}.itemDetail.sku", "S" * 31, "EMU-TOO-LONG"),
    ("returnItems[1].itemDetail.sku", "GHOST", "EMU-NOT-FOUND"),
    (f"{LINE}.itemDetail.unitPrice", -1, "EMU-OUT-OF-RANGE"),
    (f"{LINE}.itemDetail.description", "D" * 101, "EMU-TOO-LONG"),
    (f"{LINE}.lineTotal", -0.01, "EMU-OUT-OF-RANGE"),
    (f"{LINE}.quantity", REMOVE, "EMU-REQUIRED"),
    (f"{LINE}.quantity", 0, "EMU-OUT-OF-RANGE"),
    (f"{LINE}.quantity", 1.0, "EMU-BAD-TYPE"),
    (f"{LINE}.returnReason", "Damaged", "EMU-BAD-TYPE"),  # an array of strings (api §22.7)
    (f"{LINE}.returnReason[0]", 3, "EMU-BAD-TYPE"),
    (f"{LINE}.returnReason[1]", "", "EMU-REQUIRED"),
]

# The old contract's names and fields no return page names (api §21.7).
UNKNOWN_CASES = [
    (f"{LINE}.sku", "PART-A"),
    (f"{LINE}.itemDetail.quantity", 1),
    (f"{LINE}.reason", "Damaged"),
    (f"{SHIPPING}.service", "03"),
    (f"{ADDRESS}.residential", True),
    ("shippingDetails", {"carrier": "UPS", "serviceId": "03"}),
    ("returnAddress", {}),
    ("operation", "CREATE"),  # a bulk item's field, not a return's
]


@pytest.fixture(autouse=True)
def products(api: Api) -> None:
    seed_products(api, kits=(), items=("PART-A", "PART-B"))


@pytest.fixture
def returns(emulator: Emulator) -> Returns:
    return resource_of(emulator, Returns)


def create(api: Api, body: dict[str, Any]) -> httpx.Response:
    return api.call("POST", BASE, json=body)


def get(api: Api, return_order_id: str, **params: Any) -> httpx.Response:
    return api.call("GET", f"{BASE}/{return_order_id}", params=params)


def put(api: Api, return_order_id: str, body: dict[str, Any]) -> httpx.Response:
    return api.call("PUT", f"{BASE}/{return_order_id}", json=body)


def bulk(api: Api, *items: dict[str, Any]) -> httpx.Response:
    return api.call("POST", f"{BASE}/bulk", json={"returns": list(items)})


def find(api: Api, body: dict[str, Any] | None = None, **params: Any) -> httpx.Response:
    return api.call("POST", f"{BASE}/search", json={"clientId": CLIENT_ID, **(body or {})}, params=params)


def results(response: httpx.Response) -> list[tuple[str | None, str]]:
    """Return ``(returnClientOrderId, status or first error code)`` of each bulk result."""
    assert response.status_code == 200, response.text
    body = response.json()["returns"]
    return [(r["returnClientOrderId"], r.get("status") or r["errors"][0]["errorCode"]) for r in body]


def keys(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [record["returnClientOrderId"] for record in response.json()["content"]]


# Rules ------------------------------------------------------------------------------------------


def test_full_return_is_created_as_sent(api: Api, returns: Returns) -> None:
    response = create(api, FULL_RETURN)

    assert response.status_code == 201
    record = response.json()
    assert {k: v for k, v in record.items() if k not in PB_FIELDS} == FULL_RETURN
    assert (record["returnOrderId"], record["status"]) == ("RET-000001", "CREATED")
    assert record["pbCreateDate"] == record["pbUpdateDate"] == "2025-06-15T15:06:40.000+0000"
    assert returns.all() == [record]


@pytest.mark.parametrize(
    ("path", "value", "code"), RULE_CASES, ids=[f"{p}={v!r:.20}" for p, v, _ in RULE_CASES]
)
def test_each_rule_rejects_its_field(api: Api, returns: Returns, path: str, value: Any, code: str) -> None:
    response = create(api, with_path(FULL_RETURN, path, value))

    assert response.status_code == 400
    assert errors_of(response) == [(code, [path])]
    assert returns.all() == []


@pytest.mark.parametrize(("path", "value"), UNKNOWN_CASES, ids=[p for p, _ in UNKNOWN_CASES])
def test_an_undocumented_field_is_refused_with_its_path(
    api: Api, returns: Returns, path: str, value: Any
) -> None:
    response = create(api, with_path(FULL_RETURN, path, value))

    assert (response.status_code, errors_of(response)) == (400, [(UNKNOWN, [path])])
    assert returns.all() == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (SHIPPING, REMOVE),
        (f"{SHIPPING}.serviceName", "S" * 30),
        (f"{SHIPPING}.trackingNumber", "T" * 40),
        (ADDRESS, REMOVE),
        (ADDRESS, {}),  # PB's Address object has no required field
        (f"{ADDRESS}.countryCode", "GB"),
        (f"{ADDRESS}.addressLines", ["L" * 100] * 3),
        (f"{LINE}.returnReason", []),
        (f"{LINE}.itemDetail.description", "D" * 100),
        (f"{LINE}.orderLineId", REMOVE),
    ],
)
def test_values_at_the_limits_are_accepted(api: Api, path: str, value: Any) -> None:
    body = with_path(
        with_path(FULL_RETURN, f"{ADDRESS}.stateProvince", REMOVE), f"{ADDRESS}.countryCode", "GB"
    )

    response = create(api, with_path(body, path, value))

    assert response.status_code == 201, response.text


@pytest.mark.parametrize("return_type", ["CUSTOMER_RETURN", "UNDELIVERABLE", "anything at all", None])
def test_return_type_is_free_text(api: Api, return_type: str | None) -> None:
    assert create(api, return_order(returnType=return_type)).status_code == 201


def test_duplicate_return_client_order_id_is_refused(api: Api, returns: Returns) -> None:
    create(api, return_order())

    response = create(api, return_order(rmaNumber="other"))

    assert (response.status_code, errors_of(response)) == (400, [("EMU-DUPLICATE", ["returnClientOrderId"])])
    assert len(returns.all()) == 1


def test_client_supplied_status_and_id_are_refused(api: Api, returns: Returns) -> None:
    response = create(api, return_order(status="CLOSED", returnOrderId="MINE"))

    assert errors_of(response) == [(UNKNOWN, ["status"]), (UNKNOWN, ["returnOrderId"])]
    assert returns.all() == []


# Get and update ---------------------------------------------------------------------------------


def test_get_needs_no_client_id_but_checks_one_given(api: Api) -> None:
    created = create(api, FULL_RETURN).json()

    assert get(api, created["returnOrderId"]).json() == created
    assert get(api, created["returnOrderId"], clientId=CLIENT_ID).json() == created
    assert get(api, created["returnOrderId"], clientId="someone-else").status_code == 403


def test_get_of_a_missing_return_is_404(api: Api) -> None:
    response = get(api, "RET-999999")

    assert (response.status_code, errors_of(response)) == (404, [("EMU-NOT-FOUND", ["returnOrderId"])])


def test_put_replaces_a_created_return(api: Api, clock: FakeClock) -> None:
    return_order_id = create(api, FULL_RETURN).json()["returnOrderId"]
    clock.advance(60)
    new = return_order(returnItems=[return_line("PART-B", 4)])

    response = put(api, return_order_id, new)

    assert response.status_code == 200
    record = get(api, return_order_id).json()
    assert record == response.json()
    assert {k: v for k, v in record.items() if k not in PB_FIELDS} == new
    assert (record["pbCreateDate"], record["pbUpdateDate"]) == (
        "2025-06-15T15:06:40.000+0000",
        "2025-06-15T15:07:40.000+0000",
    )


def test_put_of_a_missing_return_is_404(api: Api) -> None:
    assert put(api, "RET-999999", return_order()).status_code == 404


def test_put_cannot_change_the_return_client_order_id(api: Api) -> None:
    return_order_id = create(api, return_order()).json()["returnOrderId"]

    response = put(api, return_order_id, return_order("RMA-2"))

    assert errors_of(response) == [("EMU-BAD-REQUEST", ["returnClientOrderId"])]


def test_put_checks_the_rules(api: Api) -> None:
    return_order_id = create(api, return_order()).json()["returnOrderId"]

    assert errors_of(put(api, return_order_id, return_order(rmaNumber="R" * 36))) == [
        ("EMU-TOO-LONG", ["rmaNumber"])
    ]
    unknown = put(api, return_order_id, return_order(returnItems=[{"sku": "PART-A", "quantity": 1}]))
    assert errors_of(unknown) == [
        ("EMU-REQUIRED", ["returnItems[0].itemDetail"]),
        (UNKNOWN, ["returnItems[0].sku"]),
    ]
    assert get(api, return_order_id).json()["returnItems"] == [return_line()]


@pytest.mark.parametrize("status", ["RECEIVED", "CLOSED"])
def test_put_is_refused_once_the_return_left_created(api: Api, returns: Returns, status: str) -> None:
    return_order_id = create(api, return_order()).json()["returnOrderId"]
    returns.advance(CLIENT_ID, return_order_id, status)

    response = put(api, return_order_id, return_order(rmaNumber="X"))

    assert (response.status_code, errors_of(response)) == (400, [("EMU-BAD-STATE", ["status"])])
    assert "rmaNumber" not in get(api, return_order_id).json()


# Bulk -------------------------------------------------------------------------------------------


def test_bulk_creates_every_item(api: Api, returns: Returns) -> None:
    response = bulk(api, *(return_order(f"R-{i}") for i in range(3)))

    assert response.json() == {
        "returns": [
            {"returnClientOrderId": f"R-{i}", "returnOrderId": f"RET-00000{i + 1}", "status": "CREATED"}
            for i in range(3)
        ]
    }
    assert [r["returnClientOrderId"] for r in returns.all()] == ["R-0", "R-1", "R-2"]


def test_bulk_items_succeed_or_fail_independently_in_order(api: Api, returns: Returns) -> None:
    create(api, return_order("OLD"))
    create(api, return_order("DONE"))
    returns.advance(CLIENT_ID, "DONE", "RECEIVED")

    response = bulk(
        api,
        return_order("NEW", operation="CREATE"),
        return_order("OLD", operation="CREATE"),
        return_order("GHOST", operation="UPDATE"),
        return_order("OLD", operation="UPDATE", rmaNumber="X"),
        return_order("BAD", rmaNumber="R" * 36),
        return_order("DEL", operation="DELETE"),
        return_order("DONE", rmaNumber="X"),
        return_order("UPSERT-NEW"),
        return_order("NEW", rmaNumber="Y"),  # upsert of one created earlier in this request
    )

    assert results(response) == [
        ("NEW", "CREATED"),
        ("OLD", "EMU-DUPLICATE"),
        ("GHOST", "EMU-NOT-FOUND"),
        ("OLD", "CREATED"),
        ("BAD", "EMU-TOO-LONG"),
        ("DEL", "EMU-NOT-ALLOWED"),
        ("DONE", "EMU-BAD-STATE"),
        ("UPSERT-NEW", "CREATED"),
        ("NEW", "CREATED"),
    ]
    stored = {r["returnClientOrderId"]: r for r in returns.all()}
    assert sorted(stored) == ["DONE", "NEW", "OLD", "UPSERT-NEW"]
    assert (
        stored["OLD"].get("rmaNumber"),
        stored["NEW"].get("rmaNumber"),
        stored["DONE"].get("rmaNumber"),
    ) == (
        "X",
        "Y",
        None,
    )
    assert all("operation" not in r for r in stored.values())


def test_bulk_update_keeps_the_pb_id(api: Api) -> None:
    created = create(api, return_order()).json()

    result = bulk(api, return_order(operation="UPDATE", rmaNumber="X")).json()["returns"][0]

    assert result == {
        "returnClientOrderId": "RMA-1",
        "returnOrderId": created["returnOrderId"],
        "status": "CREATED",
    }


def test_bulk_failure_carries_all_item_errors_with_item_relative_paths(api: Api) -> None:
    item = return_order(operation="UPSERT", rmaNumber="R" * 36, returnItems=[return_line("GHOST", 0)])

    result = bulk(api, item).json()["returns"][0]

    assert set(result) == {"returnClientOrderId", "errors"}
    assert item_errors(result) == [
        ("EMU-NOT-ALLOWED", ["operation"]),
        ("EMU-TOO-LONG", ["rmaNumber"]),
        ("EMU-OUT-OF-RANGE", ["returnItems[0].quantity"]),
        ("EMU-NOT-FOUND", ["returnItems[0].itemDetail.sku"]),
    ]


def test_an_undocumented_field_fails_its_bulk_item_only(api: Api, returns: Returns) -> None:
    old_line = return_order("OLD-LINE", returnItems=[{**return_line(), "returnReason": ["x"], "reason": "x"}])
    old_address = return_order("OLD-ADDRESS", customerAddress={"residential": True})

    body = bulk(api, return_order("OK"), old_line, old_address).json()["returns"]

    assert body[0]["status"] == "CREATED"
    assert item_errors(body[1]) == [(UNKNOWN, ["returnItems[0].reason"])]
    assert item_errors(body[2]) == [(UNKNOWN, ["customerAddress.residential"])]
    assert [r["returnClientOrderId"] for r in returns.all()] == ["OK"]


def test_bulk_of_exactly_200_items_is_accepted(api: Api) -> None:
    assert len(results(bulk(api, *(return_order(f"R-{i}") for i in range(200))))) == 200


@pytest.mark.parametrize(
    ("body", "code", "parameter"),
    [
        ({"returns": []}, "EMU-OUT-OF-RANGE", "returns"),
        ({"returns": [return_order(f"R-{i}") for i in range(201)]}, "EMU-OUT-OF-RANGE", "returns"),
        ({}, "EMU-REQUIRED", "returns"),
        ({"returns": {"returnClientOrderId": "A"}}, "EMU-BAD-TYPE", "returns"),
        ({"returns": [return_order(), "RMA-2"]}, "EMU-BAD-TYPE", "returns[1]"),
        ({"returns": [return_order(), with_path(return_order("B"), "clientId", REMOVE)]}, "EMU-REQUIRED",
         "returns[1].clientId"),
    ],
    ids=["empty", "201-items", "no-array", "not-an-array", "item-not-object", "item-without-clientId"],
)  # fmt: skip
def test_malformed_bulk_is_rejected_whole(
    api: Api, returns: Returns, body: dict[str, Any], code: str, parameter: str
) -> None:
    response = api.call("POST", f"{BASE}/bulk", json=body)

    assert response.status_code == 400
    assert errors_of(response) == [(code, [parameter])]
    assert returns.all() == []


def test_bulk_with_bad_json_is_rejected_whole(api: Api) -> None:
    response = api.call(
        "POST", f"{BASE}/bulk", content=b'{"returns": [', headers={"Content-Type": "application/json"}
    )

    assert (response.status_code, errors_of(response)) == (400, [("EMU-BAD-REQUEST", ["body"])])


def test_bulk_item_of_another_client_is_forbidden(api: Api, returns: Returns) -> None:
    response = bulk(api, return_order("A"), return_order("B", clientId="other"))

    assert (response.status_code, errors_of(response)) == (403, [("EMU-FORBIDDEN", ["returns[1].clientId"])])
    assert returns.all() == []


def test_bulk_limit_comes_from_the_config() -> None:
    with http_client(create_app(config=EmulatorConfig(max_bulk_items=2))) as client:
        api = Api(client, fetch_token(client))
        seed_products(api, kits=(), items=("PART-A",))

        response = bulk(api, *(return_order(f"R-{i}") for i in range(3)))

    assert response.json()["errors"][0]["errorDescription"] == "returns must hold between 1 and 2 items"


# Search -----------------------------------------------------------------------------------------


def test_search_pages_and_sorts(api: Api, clock: FakeClock) -> None:
    for key in ("B", "A", "C"):
        create(api, return_order(key))
        clock.advance(1)

    first, second = (find(api, {"sort": ["pbCreateDate-desc"]}, page=n, size=2).json() for n in (1, 2))

    assert [r["returnClientOrderId"] for r in first["content"] + second["content"]] == ["C", "A", "B"]
    assert (first["totalElements"], first["totalPages"], first["first"], second["last"]) == (3, 2, True, True)


def test_search_fields_use_the_documented_names(api: Api) -> None:
    create(api, return_order("A", orderId="ORD-1", createDate="2025-06-01T00:00:00Z"))
    create(
        api, return_order("B", originalClientOrderId="SO-2", returnType="REFUSED", updateDate="2025-06-03")
    )
    create(api, return_order("C", returnItems=[return_line("PART-B")], returnType="CUSTOMER_RETURN"))

    def search_by(name: str, *values: Any) -> list[str]:
        return keys(find(api, {"searchFields": [{"name": name, "values": list(values)}]}))

    assert search_by("returnOrders", "B", "C", "Z") == ["B", "C"]
    assert search_by("returnOrders", "RET-000002") == []  # client return IDs only (BET-14)
    assert search_by("orders", "ORD-1", "SO-2") == ["A", "B"]
    assert search_by("sku", "PART-B") == ["C"]  # any line's itemDetail.sku
    assert search_by("returnType", "CUSTOMER_RETURN") == ["C"]  # free text: no default
    assert search_by("returnType", "REFUSED") == ["B"]
    assert search_by("createDate", "2025-06-01", "2025-06-01") == ["A"]
    assert search_by("updateDate", "2025-06-02") == ["B"]
    assert search_by("pbCreateDate", "2025-06-15", "2025-06-15") == ["A", "B", "C"]
    assert search_by("pbUpdateDate", "2025-06-16") == []
    assert errors_of(find(api, {"searchFields": [{"name": "status", "values": ["CREATED"]}]})) == [
        ("EMU-NOT-ALLOWED", ["searchFields[0].name"])
    ]


# Status moves (the facility's side) -------------------------------------------------------------


def test_advance_moves_forward_by_pb_id_or_client_key(api: Api, returns: Returns) -> None:
    return_order_id = create(api, return_order()).json()["returnOrderId"]

    assert returns.advance(CLIENT_ID, return_order_id, "RECEIVED")["status"] == "RECEIVED"
    assert returns.advance(CLIENT_ID, "RMA-1", "CLOSED") == get(api, return_order_id).json()


@pytest.mark.parametrize(
    ("path", "target", "code"),
    [
        ([], "CREATED", "EMU-BAD-STATE"),
        (["RECEIVED"], "CREATED", "EMU-BAD-STATE"),
        (["CLOSED"], "RECEIVED", "EMU-BAD-STATE"),
        ([], "CANCELED", "EMU-NOT-ALLOWED"),
    ],
)
def test_advance_refuses_other_moves(
    api: Api, returns: Returns, path: list[str], target: str, code: str
) -> None:
    create(api, return_order())
    for status in path:
        returns.advance(CLIENT_ID, "RMA-1", status)

    with pytest.raises(HttpError) as caught:
        returns.advance(CLIENT_ID, "RMA-1", target)

    assert [e.code for e in caught.value.errors] == [code]


def test_advance_of_a_missing_return_is_404(returns: Returns) -> None:
    with pytest.raises(HttpError) as caught:
        returns.advance(CLIENT_ID, "RMA-9", "RECEIVED")

    assert caught.value.status == 404


def test_advance_name_is_return() -> None:
    assert Returns.ADVANCE_NAME == "return"


def test_receiving_puts_the_items_on_hand_at_the_first_node(
    api: Api, emulator: Emulator, returns: Returns
) -> None:
    create(api, FULL_RETURN)  # 2 × PART-A, 1 × PART-B

    returns.advance(CLIENT_ID, "RMA-1", "CLOSED")  # passes RECEIVED once

    stock = Inventory(emulator.store, emulator.config, emulator.clock).all(CLIENT_ID)
    assert sorted((r["sku"], r["node"], r["onHand"]) for r in stock) == [
        ("PART-A", "157", 2),
        ("PART-B", "157", 1),
    ]


def test_emulator_advance_reaches_returns_by_name(api: Api, emulator: Emulator) -> None:
    create(api, return_order())

    assert emulator.advance("return", "RMA-1", "RECEIVED")["status"] == "RECEIVED"
    body = {"resource": "return", "id": "RET-000001", "status": "CLOSED"}
    response = api.client.post("/emulator/admin/advance", json=body, auth=ADMIN_AUTH)

    assert (response.status_code, response.json()["status"]) == (200, "CLOSED")
    assert get(api, "RET-000001").json()["status"] == "CLOSED"
