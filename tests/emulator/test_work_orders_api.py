"""Work orders through the emulated API: rules, create, get, update, cancel, search, status moves."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from loader.emulator import Emulator
from loader.emulator.errors import HttpError
from loader.emulator.inventory import Inventory, adjust_stock
from loader.emulator.work_orders import WorkOrders

from .helpers import (
    ADMIN_AUTH,
    CLIENT_ID,
    REMOVE,
    UNKNOWN,
    Api,
    FakeClock,
    bom,
    errors_of,
    resource_of,
    seed_products,
    with_path,
    work_order,
)

BASE = "/v1/work-orders"
PB_FIELDS = ("workOrderId", "status", "pbCreateDate", "pbUpdateDate")
FULL_ORDER = work_order(
    description="D" * 250,
    brand="B" * 50,
    createDate="2025-06-01T10:00:00Z",
    updateDate="2025-06-02T10:00:00Z",
)

# (path, value, errorCode); the error's parameters must be [path].
RULE_CASES = [
    ("clientWorkOrderId", REMOVE, "EMU-REQUIRED"),
    ("clientWorkOrderId", "W" * 36, "EMU-TOO-LONG"),
    ("workOrderName", REMOVE, "EMU-REQUIRED"),
    ("workOrderName", "N" * 31, "EMU-TOO-LONG"),
    ("description", "D" * 251, "EMU-TOO-LONG"),
    ("type", REMOVE, "EMU-REQUIRED"),
    ("type", "kit", "EMU-NOT-ALLOWED"),
    ("type", "ASSEMBLY", "EMU-NOT-ALLOWED"),
    ("node", REMOVE, "EMU-REQUIRED"),
    ("node", "CVG", "EMU-NOT-ALLOWED"),
    ("sku", REMOVE, "EMU-REQUIRED"),
    ("sku", "S" * 31, "EMU-TOO-LONG"),
    ("sku", "GHOST", "EMU-NOT-FOUND"),
    ("sku", "PART-A", "EMU-BAD-STATE"),
    ("brand", "B" * 51, "EMU-TOO-LONG"),
    ("workOrderQuantity", REMOVE, "EMU-REQUIRED"),
    ("workOrderQuantity", 0, "EMU-OUT-OF-RANGE"),
    ("workOrderQuantity", 2.5, "EMU-BAD-TYPE"),
    ("workOrderQuantity", 5.0, "EMU-BAD-TYPE"),
    ("workOrderQuantity", "5", "EMU-BAD-TYPE"),
    ("createDate", "2025-06-01T10:00:00+02:00", "EMU-BAD-FORMAT"),
    ("updateDate", "2025-06-31T10:00:00Z", "EMU-BAD-FORMAT"),
]

# The old contract's name and fields no work-order page names (api §21.7).
UNKNOWN_CASES = [("quantity", 5), ("workOrderLines", []), ("somethingPbAddsLater", {"kept": True})]

CANCEL_CASES = [
    ("clientWorkOrderId", REMOVE, "EMU-REQUIRED"),
    ("clientWorkOrderId", "W" * 36, "EMU-TOO-LONG"),
    ("brand", "B" * 31, "EMU-TOO-LONG"),
    ("cancelReason", "R" * 51, "EMU-TOO-LONG"),
    ("cancelDate", "yesterday", "EMU-BAD-FORMAT"),
]


@pytest.fixture(autouse=True)
def products(api: Api) -> None:
    seed_products(api, kits=("KIT-1", "KIT-2"))


@pytest.fixture
def orders(emulator: Emulator) -> WorkOrders:
    return resource_of(emulator, WorkOrders)


def create(api: Api, body: dict[str, Any]) -> httpx.Response:
    return api.call("POST", BASE, json=body)


def get(api: Api, work_order_id: str, client_id: str | None = CLIENT_ID) -> httpx.Response:
    return api.call("GET", f"{BASE}/{work_order_id}", params={"clientId": client_id} if client_id else {})


def put(api: Api, work_order_id: str, body: dict[str, Any]) -> httpx.Response:
    return api.call("PUT", f"{BASE}/{work_order_id}", json=body)


def cancel(api: Api, work_order_id: str, **fields: Any) -> httpx.Response:
    body = {"clientId": CLIENT_ID, "clientWorkOrderId": "WO-C-1", **fields}
    return api.call(
        "PUT", f"{BASE}/{work_order_id}/cancel", json={k: v for k, v in body.items() if v is not REMOVE}
    )


def find(
    api: Api, body: dict[str, Any] | None = None, path: str = "/search", **params: Any
) -> httpx.Response:
    return api.call("POST", BASE + path, json={"clientId": CLIENT_ID, **(body or {})}, params=params)


def keys(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [record["clientWorkOrderId"] for record in response.json()["content"]]


# Rules ------------------------------------------------------------------------------------------


def test_full_work_order_is_created_as_sent(api: Api, orders: WorkOrders) -> None:
    response = create(api, FULL_ORDER)

    assert response.status_code == 201
    record = response.json()
    assert {k: v for k, v in record.items() if k not in PB_FIELDS} == FULL_ORDER
    assert (record["workOrderId"], record["status"]) == ("WO-000001", "CREATED")
    assert record["pbCreateDate"] == record["pbUpdateDate"] == "2025-06-15T15:06:40.000+0000"
    assert orders.all() == [record]


@pytest.mark.parametrize(
    ("path", "value", "code"), RULE_CASES, ids=[f"{p}={v!r:.20}" for p, v, _ in RULE_CASES]
)
def test_each_rule_rejects_its_field(api: Api, orders: WorkOrders, path: str, value: Any, code: str) -> None:
    response = create(api, with_path(FULL_ORDER, path, value))

    assert response.status_code == 400
    assert errors_of(response) == [(code, [path])]
    assert orders.all() == []


@pytest.mark.parametrize(("path", "value"), UNKNOWN_CASES, ids=[p for p, _ in UNKNOWN_CASES])
def test_an_undocumented_field_is_refused_with_its_path(
    api: Api, orders: WorkOrders, path: str, value: Any
) -> None:
    response = create(api, with_path(FULL_ORDER, path, value))

    assert (response.status_code, errors_of(response)) == (400, [(UNKNOWN, [path])])
    assert orders.all() == []


@pytest.mark.parametrize(
    ("path", "value"), [("workOrderName", "N" * 30), ("workOrderQuantity", 1), ("brand", REMOVE)]
)
def test_values_at_the_limits_are_accepted(api: Api, path: str, value: Any) -> None:
    assert create(api, with_path(FULL_ORDER, path, value)).status_code == 201


@pytest.mark.parametrize("kind", ["REFURBISHED", "OTHER"])
def test_reserved_types_are_accepted(api: Api, kind: str) -> None:
    assert create(api, work_order(type=kind)).status_code == 201


def test_duplicate_client_work_order_id_is_refused(api: Api, orders: WorkOrders) -> None:
    create(api, work_order())

    response = create(api, work_order(sku="KIT-2"))

    assert (response.status_code, errors_of(response)) == (400, [("EMU-DUPLICATE", ["clientWorkOrderId"])])
    assert [r["sku"] for r in orders.all()] == ["KIT-1"]


def test_client_supplied_status_and_ids_are_refused(api: Api, orders: WorkOrders) -> None:
    response = create(api, work_order(status="COMPLETE", workOrderId="MINE", pbCancelDate="2025-01-01"))

    assert errors_of(response) == [
        (UNKNOWN, ["status"]),
        (UNKNOWN, ["workOrderId"]),
        (UNKNOWN, ["pbCancelDate"]),
    ]
    assert orders.all() == []


# Get and update ---------------------------------------------------------------------------------


def test_get_returns_the_stored_record(api: Api) -> None:
    created = create(api, FULL_ORDER).json()

    response = get(api, created["workOrderId"])

    assert (response.status_code, response.json()) == (200, created)


def test_get_of_a_missing_work_order_is_404(api: Api) -> None:
    response = get(api, "WO-999999")

    assert (response.status_code, errors_of(response)) == (404, [("EMU-NOT-FOUND", ["workOrderId"])])


def test_get_needs_the_client_id_query(api: Api) -> None:
    assert errors_of(get(api, "WO-000001", client_id=None)) == [("EMU-REQUIRED", ["clientId"])]


def test_put_replaces_a_created_work_order(api: Api, clock: FakeClock) -> None:
    work_order_id = create(api, FULL_ORDER).json()["workOrderId"]
    clock.advance(60)
    new = work_order(workOrderQuantity=9, sku="KIT-2")

    response = put(api, work_order_id, new)

    assert response.status_code == 200
    record = get(api, work_order_id).json()
    assert record == response.json()
    assert {k: v for k, v in record.items() if k not in PB_FIELDS} == new
    assert (record["status"], record["pbCreateDate"]) == ("CREATED", "2025-06-15T15:06:40.000+0000")
    assert record["pbUpdateDate"] == "2025-06-15T15:07:40.000+0000"


def test_put_of_a_missing_work_order_is_404(api: Api) -> None:
    response = put(api, "WO-999999", work_order())

    assert (response.status_code, errors_of(response)) == (404, [("EMU-NOT-FOUND", ["workOrderId"])])


def test_put_cannot_change_the_client_work_order_id(api: Api) -> None:
    work_order_id = create(api, work_order()).json()["workOrderId"]

    response = put(api, work_order_id, work_order("WO-C-2"))

    assert (response.status_code, errors_of(response)) == (400, [("EMU-BAD-REQUEST", ["clientWorkOrderId"])])


def test_put_checks_the_rules(api: Api) -> None:
    work_order_id = create(api, work_order()).json()["workOrderId"]

    assert errors_of(put(api, work_order_id, work_order(type="BOX"))) == [("EMU-NOT-ALLOWED", ["type"])]
    assert get(api, work_order_id).json()["type"] == "KIT"


def test_put_refuses_the_old_quantity_name_and_keeps_the_work_order(api: Api) -> None:
    work_order_id = create(api, work_order()).json()["workOrderId"]
    old = {k: v for k, v in work_order().items() if k != "workOrderQuantity"} | {"quantity": 9}

    response = put(api, work_order_id, old)

    assert errors_of(response) == [("EMU-REQUIRED", ["workOrderQuantity"]), (UNKNOWN, ["quantity"])]
    assert get(api, work_order_id).json()["workOrderQuantity"] == 5


@pytest.mark.parametrize("status", ["INPROGRESS", "COMPLETE", "CLOSED", "CANCELED"])
def test_put_is_refused_once_the_work_order_left_created(api: Api, orders: WorkOrders, status: str) -> None:
    work_order_id = create(api, work_order()).json()["workOrderId"]
    orders.advance(CLIENT_ID, work_order_id, status)

    response = put(api, work_order_id, work_order(workOrderQuantity=1))

    assert (response.status_code, errors_of(response)) == (400, [("EMU-BAD-STATE", ["status"])])
    assert response.json()["errors"][0]["errorDescription"] == (
        f"The work order is {status}; it can be updated only while CREATED"
    )
    assert get(api, work_order_id).json()["workOrderQuantity"] == 5


# Cancel -----------------------------------------------------------------------------------------


def test_cancel_answers_the_documented_fields_and_cancels(api: Api, clock: FakeClock) -> None:
    work_order_id = create(api, work_order(brand="Acme")).json()["workOrderId"]
    clock.advance(60)

    response = cancel(api, work_order_id, cancelReason="Not needed", cancelDate="2025-06-15T10:00:00Z")

    assert response.status_code == 200
    assert response.json() == {
        "clientId": CLIENT_ID,
        "clientWorkOrderId": "WO-C-1",
        "workOrderId": work_order_id,
        "brand": "Acme",
        "cancelReason": "Not needed",
        "cancelDate": "2025-06-15T10:00:00Z",
        "pbCancelDate": "2025-06-15T15:07:40.000+0000",
    }
    record = get(api, work_order_id).json()
    assert (record["status"], record["cancelReason"], record["pbUpdateDate"]) == (
        "CANCELED",
        "Not needed",
        "2025-06-15T15:07:40.000+0000",
    )


@pytest.mark.parametrize(("path", "value", "code"), CANCEL_CASES)
def test_cancel_body_rules(api: Api, path: str, value: Any, code: str) -> None:
    work_order_id = create(api, work_order()).json()["workOrderId"]

    response = cancel(api, work_order_id, **{path: value})

    assert (response.status_code, errors_of(response)) == (400, [(code, [path])])
    assert get(api, work_order_id).json()["status"] == "CREATED"


@pytest.mark.parametrize("name", ["workOrderId", "pbCancelDate", "status", "reason"])
def test_cancel_body_holds_the_documented_fields_only(api: Api, name: str) -> None:
    work_order_id = create(api, work_order()).json()["workOrderId"]

    response = cancel(api, work_order_id, **{name: "x"})

    assert (response.status_code, errors_of(response)) == (400, [(UNKNOWN, [name])])
    assert get(api, work_order_id).json()["status"] == "CREATED"


def test_cancel_needs_the_client_id_in_the_body(api: Api) -> None:
    work_order_id = create(api, work_order()).json()["workOrderId"]

    assert errors_of(cancel(api, work_order_id, clientId=REMOVE)) == [("EMU-REQUIRED", ["clientId"])]


def test_cancel_needs_the_work_orders_own_client_id(api: Api) -> None:
    work_order_id = create(api, work_order()).json()["workOrderId"]

    response = cancel(api, work_order_id, clientWorkOrderId="WO-C-2")

    assert errors_of(response) == [("EMU-BAD-REQUEST", ["clientWorkOrderId"])]


def test_cancel_of_a_missing_work_order_is_404(api: Api) -> None:
    assert errors_of(cancel(api, "WO-999999")) == [("EMU-NOT-FOUND", ["workOrderId"])]


@pytest.mark.parametrize("status", ["INPROGRESS", "COMPLETE", "CLOSED", "CANCELED"])
def test_cancel_only_from_created(api: Api, orders: WorkOrders, status: str) -> None:
    work_order_id = create(api, work_order()).json()["workOrderId"]
    orders.advance(CLIENT_ID, work_order_id, status)

    response = cancel(api, work_order_id)

    assert (response.status_code, errors_of(response)) == (400, [("EMU-BAD-STATE", ["status"])])
    assert get(api, work_order_id).json()["status"] == status


# Search -----------------------------------------------------------------------------------------


def test_search_pages_and_sorts(api: Api, clock: FakeClock) -> None:
    for key in ("B", "A", "C"):
        create(api, work_order(key))
        clock.advance(1)

    first, second = (find(api, {"sort": ["pbCreateDate-desc"]}, page=n, size=2).json() for n in (1, 2))

    assert [r["clientWorkOrderId"] for r in first["content"] + second["content"]] == ["C", "A", "B"]
    assert (first["totalElements"], first["totalPages"], first["last"], second["last"]) == (3, 2, False, True)


def test_search_fields(api: Api, orders: WorkOrders) -> None:
    create(api, work_order("A", brand="Acme", createDate="2025-06-01T00:00:00Z"))
    create(api, work_order("B", sku="KIT-2", type="OTHER"))
    orders.advance(CLIENT_ID, "B", "INPROGRESS")

    def search_by(name: str, *values: Any) -> list[str]:
        return keys(find(api, {"searchFields": [{"name": name, "values": list(values)}]}))

    assert search_by("clientWorkOrderId", "B", "Z") == ["B"]
    assert search_by("workOrderId", "WO-000001") == ["A"]
    assert search_by("status", "INPROGRESS") == ["B"]
    assert search_by("type", "KIT") == ["A"]
    assert search_by("sku", "KIT-2") == ["B"]
    assert search_by("node", "157") == ["A", "B"]
    assert search_by("brand", "Acme") == ["A"]
    assert search_by("createDate", "2025-06-01", "2025-06-01") == ["A"]
    assert search_by("pbCreateDate", "2025-06-15") == ["A", "B"]
    assert errors_of(find(api, {"searchFields": [{"name": "colour", "values": ["x"]}]})) == [
        ("EMU-NOT-ALLOWED", ["searchFields[0].name"])
    ]


def test_status_search_returns_the_status_subset(api: Api) -> None:
    created = create(api, FULL_ORDER).json()

    record = find(api, path="/status/search").json()["content"][0]

    assert record["status"] == "CREATED"
    assert {k: record[k] for k in ("clientWorkOrderId", "workOrderId", "sku", "workOrderQuantity")} == {
        "clientWorkOrderId": "WO-C-1",
        "workOrderId": created["workOrderId"],
        "sku": "KIT-1",
        "workOrderQuantity": 5,
    }
    assert "description" not in record


def test_wrong_method_on_search_is_405(api: Api) -> None:
    assert api.call("GET", f"{BASE}/status/search").status_code == 405


# Status moves (the facility's side) -------------------------------------------------------------


def test_advance_moves_forward_by_pb_id_or_client_key(api: Api, orders: WorkOrders, clock: FakeClock) -> None:
    work_order_id = create(api, work_order()).json()["workOrderId"]
    clock.advance(5)

    assert orders.advance(CLIENT_ID, work_order_id, "INPROGRESS")["status"] == "INPROGRESS"
    record = orders.advance(CLIENT_ID, "WO-C-1", "CLOSED")  # steps may be skipped

    assert record["status"] == "CLOSED"
    assert get(api, work_order_id).json() == record
    assert record["pbUpdateDate"] == "2025-06-15T15:06:45.000+0000"


@pytest.mark.parametrize(
    ("path", "target"),
    [
        (["INPROGRESS"], "CREATED"),
        (["COMPLETE"], "INPROGRESS"),
        (["INPROGRESS"], "INPROGRESS"),
        (["INPROGRESS"], "CANCELED"),
        (["CANCELED"], "INPROGRESS"),
        (["CLOSED"], "COMPLETE"),
    ],
)
def test_advance_refuses_other_moves(api: Api, orders: WorkOrders, path: list[str], target: str) -> None:
    create(api, work_order())
    for status in path:
        orders.advance(CLIENT_ID, "WO-C-1", status)

    with pytest.raises(HttpError) as caught:
        orders.advance(CLIENT_ID, "WO-C-1", target)

    assert caught.value.status == 400
    assert [(e.code, e.parameters) for e in caught.value.errors] == [("EMU-BAD-STATE", ("status",))]
    assert orders.all()[0]["status"] == path[-1]


def test_advance_refuses_unknown_statuses_and_work_orders(api: Api, orders: WorkOrders) -> None:
    create(api, work_order())

    with pytest.raises(HttpError) as unknown_status:
        orders.advance(CLIENT_ID, "WO-C-1", "DONE")
    with pytest.raises(HttpError) as unknown_order:
        orders.advance(CLIENT_ID, "WO-C-9", "INPROGRESS")

    assert [e.code for e in unknown_status.value.errors] == ["EMU-NOT-ALLOWED"]
    assert (unknown_order.value.status, unknown_order.value.errors[0].code) == (404, "EMU-NOT-FOUND")


def test_advance_name_is_work_order() -> None:
    assert WorkOrders.ADVANCE_NAME == "workOrder"


def stock(emulator: Emulator, sku: str, node: str = "157") -> int:
    records = Inventory(emulator.store, emulator.config, emulator.clock).all(CLIENT_ID)
    return sum(r["onHand"] for r in records if (r["sku"], r["node"]) == (sku, node))


def test_completing_builds_the_kits_from_their_components(
    api: Api, emulator: Emulator, orders: WorkOrders
) -> None:
    api.call("POST", "/v1/bill-of-materials", json=bom())  # 2 × PART-A + 1 × PART-B per kit
    adjust_stock(emulator.store, CLIENT_ID, "157", "PART-A", on_hand_delta=20)
    create(api, work_order())  # 5 kits
    orders.advance(CLIENT_ID, "WO-C-1", "INPROGRESS")

    assert (stock(emulator, "PART-A"), stock(emulator, "KIT-1")) == (20, 0)
    orders.advance(CLIENT_ID, "WO-C-1", "COMPLETE")
    orders.advance(CLIENT_ID, "WO-C-1", "CLOSED")  # passing COMPLETE again changes nothing

    assert [stock(emulator, sku) for sku in ("PART-A", "PART-B", "KIT-1")] == [10, -5, 5]


def test_closing_straight_from_created_still_builds_once(
    api: Api, emulator: Emulator, orders: WorkOrders
) -> None:
    create(api, work_order())  # no BOM: only the kits appear

    orders.advance(CLIENT_ID, "WO-C-1", "CLOSED")

    assert stock(emulator, "KIT-1") == 5


def test_canceling_moves_no_stock(api: Api, emulator: Emulator, orders: WorkOrders) -> None:
    create(api, work_order())

    orders.advance(CLIENT_ID, "WO-C-1", "CANCELED")

    assert stock(emulator, "KIT-1") == 0


def test_emulator_advance_reaches_work_orders_by_name(api: Api, emulator: Emulator) -> None:
    create(api, work_order())

    assert emulator.advance("workOrder", "WO-C-1", "INPROGRESS")["status"] == "INPROGRESS"
    body = {"resource": "workOrder", "id": "WO-000001", "status": "COMPLETE"}
    response = api.client.post("/emulator/admin/advance", json=body, auth=ADMIN_AUTH)

    assert (response.status_code, response.json()["status"]) == (200, "COMPLETE")
    assert get(api, "WO-000001").json()["status"] == "COMPLETE"
