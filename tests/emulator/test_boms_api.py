"""Bills of materials through the emulated API: rules, create, get, update, search."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from loader.emulator import Emulator, EmulatorConfig, create_app
from loader.emulator.boms import BillsOfMaterials

from .helpers import (
    CLIENT_ID,
    REMOVE,
    UNKNOWN,
    Api,
    FakeClock,
    bom,
    errors_of,
    fetch_token,
    http_client,
    resource_of,
    seed_products,
    with_path,
)

BASE = "/v1/bill-of-materials"
PB_FIELDS = ("billOfMaterialId", "pbCreateDate", "pbUpdateDate")
FULL_BOM = bom(
    node="157",
    active=True,
    brand="Acme",
    notes=["Wrap in tissue", "Fragile"],
    createDate="2025-06-01T10:00:00Z",
    updateDate="2025-06-02T10:00:00Z",
)

# (path, value, errorCode); the error's parameters must be [path].
RULE_CASES = [
    ("description", REMOVE, "EMU-REQUIRED"),
    ("description", " ", "EMU-REQUIRED"),
    ("description", "D" * 31, "EMU-TOO-LONG"),
    ("description", 7, "EMU-BAD-TYPE"),
    ("sku", REMOVE, "EMU-REQUIRED"),
    ("sku", "K" * 31, "EMU-TOO-LONG"),
    ("node", "CVG", "EMU-NOT-ALLOWED"),
    ("node", 157, "EMU-BAD-TYPE"),
    ("active", "true", "EMU-BAD-TYPE"),
    ("brand", "B" * 31, "EMU-TOO-LONG"),
    ("notes", "Fragile", "EMU-BAD-TYPE"),
    ("notes[1]", "N" * 51, "EMU-TOO-LONG"),
    ("notes[0]", 3, "EMU-BAD-TYPE"),
    ("notes[0]", "", "EMU-REQUIRED"),
    ("createDate", "2025-06-01T10:00:00.000+0000", "EMU-BAD-FORMAT"),
    ("createDate", "2025-06-01", "EMU-BAD-FORMAT"),
    ("updateDate", "2025-13-01T10:00:00Z", "EMU-BAD-FORMAT"),
    ("billOfMaterialDetails", REMOVE, "EMU-REQUIRED"),
    ("billOfMaterialDetails", [], "EMU-REQUIRED"),
    ("billOfMaterialDetails", {"childSku": "PART-A"}, "EMU-BAD-TYPE"),
    ("billOfMaterialDetails[0]", "PART-A", "EMU-BAD-TYPE"),
    ("billOfMaterialDetails[0].childSku", REMOVE, "EMU-REQUIRED"),
    ("billOfMaterialDetails[0].childSku", "C" * 31, "EMU-TOO-LONG"),
    ("billOfMaterialDetails[0].childSku", "KIT-1", "EMU-NOT-ALLOWED"),
    ("billOfMaterialDetails[1].childSku", "PART-A", "EMU-DUPLICATE"),
    ("billOfMaterialDetails[1].childSku", "GHOST", "EMU-NOT-FOUND"),
    ("billOfMaterialDetails[0].quantity", REMOVE, "EMU-REQUIRED"),
    ("billOfMaterialDetails[0].quantity", 0, "EMU-OUT-OF-RANGE"),
    ("billOfMaterialDetails[0].quantity", 1.5, "EMU-BAD-TYPE"),
    ("billOfMaterialDetails[0].quantity", "2", "EMU-BAD-TYPE"),
    ("billOfMaterialDetails[0].quantity", True, "EMU-BAD-TYPE"),
]


# The old contract's names and PB's reserved fields, each refused where it is sent (api §21.7).
UNKNOWN_CASES = [
    ("instructions", [{"instruction": "reserved", "active": True}]),
    ("components", [{"childSku": "PART-A", "quantity": 2}]),
    ("billOfMaterialDetails[0].sku", "PART-A"),
    ("billOfMaterialDetails[0].qty", 2),
    ("kitSku", "KIT-1"),
]


@pytest.fixture(autouse=True)
def products(api: Api) -> None:
    seed_products(api, kits=("KIT-1", "KIT-2", "KIT-3"), items=("PART-A", "PART-B", "PART-C"))


def create(api: Api, body: dict[str, Any]) -> httpx.Response:
    return api.call("POST", BASE, json=body)


def get(api: Api, bom_id: str, client_id: str | None = CLIENT_ID) -> httpx.Response:
    return api.call("GET", f"{BASE}/{bom_id}", params={"clientId": client_id} if client_id else {})


def put(api: Api, bom_id: str, body: dict[str, Any]) -> httpx.Response:
    return api.call("PUT", f"{BASE}/{bom_id}", json=body)


def find(
    api: Api, body: dict[str, Any] | None = None, path: str = "/search", **params: Any
) -> httpx.Response:
    return api.call("POST", BASE + path, json={"clientId": CLIENT_ID, **(body or {})}, params=params)


def kits(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [record["sku"] for record in response.json()["content"]]


# Rules ------------------------------------------------------------------------------------------


def test_full_bom_is_created_and_stored_as_sent(api: Api, emulator: Emulator) -> None:
    response = create(api, FULL_BOM)

    assert response.status_code == 201
    record = response.json()
    assert record["billOfMaterialId"] == "BOM-000001"
    assert {k: v for k, v in record.items() if k not in PB_FIELDS} == FULL_BOM
    assert record["pbCreateDate"] == record["pbUpdateDate"] == "2025-06-15T15:06:40.000+0000"
    assert resource_of(emulator, BillsOfMaterials).all() == [record]


@pytest.mark.parametrize(
    ("path", "value", "code"), RULE_CASES, ids=[f"{p}={v!r:.20}" for p, v, _ in RULE_CASES]
)
def test_each_rule_rejects_its_field(api: Api, emulator: Emulator, path: str, value: Any, code: str) -> None:
    response = create(api, with_path(FULL_BOM, path, value))

    assert response.status_code == 400
    assert errors_of(response) == [(code, [path])]
    assert resource_of(emulator, BillsOfMaterials).all() == []


@pytest.mark.parametrize(("path", "value"), UNKNOWN_CASES, ids=[p for p, _ in UNKNOWN_CASES])
def test_an_undocumented_field_is_refused_with_its_path(
    api: Api, emulator: Emulator, path: str, value: Any
) -> None:
    response = create(api, with_path(FULL_BOM, path, value))

    assert (response.status_code, errors_of(response)) == (400, [(UNKNOWN, [path])])
    assert resource_of(emulator, BillsOfMaterials).all() == []


def test_put_refuses_an_undocumented_field_and_keeps_the_bom(api: Api) -> None:
    bom_id = create(api, bom()).json()["billOfMaterialId"]

    response = put(api, bom_id, bom(instructions=[]))

    assert errors_of(response) == [(UNKNOWN, ["instructions"])]
    assert "instructions" not in get(api, bom_id).json()


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("description", "D" * 30),
        ("sku", "KIT-2"),
        ("brand", "B" * 30),
        ("notes[0]", "N" * 50),
        ("active", False),
        ("node", None),
        ("billOfMaterialDetails", [{"childSku": "PART-C", "quantity": 1}]),
        ("billOfMaterialDetails[0].childSku", "KIT-2"),  # a kit may hold another kit
    ],
)
def test_values_at_the_limits_are_accepted(api: Api, path: str, value: Any) -> None:
    assert create(api, with_path(FULL_BOM, path, value)).status_code == 201


def test_kit_sku_must_be_a_kit_product_of_the_client(api: Api) -> None:
    missing = create(api, bom("NOPE"))
    item = create(api, bom("PART-C"))

    assert (missing.status_code, errors_of(missing)) == (400, [("EMU-NOT-FOUND", ["sku"])])
    assert (item.status_code, errors_of(item)) == (400, [("EMU-BAD-STATE", ["sku"])])
    assert item.json()["errors"][0]["errorDescription"] == "sku PART-C is a product of type ITEM, not KIT"


def test_every_problem_is_reported_at_once_but_once_per_field(api: Api) -> None:
    body = bom(
        "NOPE",
        description="D" * 31,
        billOfMaterialDetails=[{"childSku": "GHOST", "quantity": 0}, {"childSku": "C" * 31, "quantity": 1}],
    )

    assert errors_of(create(api, body)) == [
        ("EMU-TOO-LONG", ["description"]),
        ("EMU-OUT-OF-RANGE", ["billOfMaterialDetails[0].quantity"]),
        ("EMU-TOO-LONG", ["billOfMaterialDetails[1].childSku"]),
        ("EMU-NOT-FOUND", ["sku"]),
        ("EMU-NOT-FOUND", ["billOfMaterialDetails[0].childSku"]),
    ]


def test_nodes_come_from_the_config() -> None:
    config = EmulatorConfig(nodes=("157", "900"))
    with http_client(create_app(config=config)) as client:
        api = Api(client, fetch_token(client))
        seed_products(api)

        assert create(api, bom(node="900")).status_code == 201
        assert errors_of(create(api, bom("KIT-1", node="901"))) == [("EMU-NOT-ALLOWED", ["node"])]


def test_second_bom_for_the_same_kit_is_a_duplicate(api: Api, emulator: Emulator) -> None:
    create(api, bom())

    response = create(api, bom(description="Other"))

    assert response.status_code == 400
    assert errors_of(response) == [("EMU-DUPLICATE", ["sku"])]
    assert [r["description"] for r in resource_of(emulator, BillsOfMaterials).all()] == ["Gift set"]


def test_bom_of_another_client_is_forbidden(api: Api) -> None:
    response = create(api, bom(clientId="someone-else"))

    assert (response.status_code, errors_of(response)) == (403, [("EMU-FORBIDDEN", ["clientId"])])


def test_response_only_fields_are_refused(api: Api, emulator: Emulator) -> None:
    response = create(api, bom(billOfMaterialId="MINE", pbCreateDate="2000-01-01T00:00:00Z"))

    assert errors_of(response) == [(UNKNOWN, ["billOfMaterialId"]), (UNKNOWN, ["pbCreateDate"])]
    assert resource_of(emulator, BillsOfMaterials).all() == []


def test_ids_follow_each_other(api: Api) -> None:
    ids = [create(api, bom(sku)).json()["billOfMaterialId"] for sku in ("KIT-1", "KIT-2")]

    assert ids == ["BOM-000001", "BOM-000002"]


# Get and update ---------------------------------------------------------------------------------


def test_get_returns_the_stored_record(api: Api) -> None:
    created = create(api, FULL_BOM).json()

    response = get(api, created["billOfMaterialId"])

    assert (response.status_code, response.json()) == (200, created)


def test_get_of_a_missing_bom_is_404(api: Api) -> None:
    response = get(api, "BOM-999999")

    assert (response.status_code, errors_of(response)) == (404, [("EMU-NOT-FOUND", ["billOfMaterialId"])])


def test_get_needs_the_client_id_query(api: Api) -> None:
    bom_id = create(api, bom()).json()["billOfMaterialId"]

    assert errors_of(get(api, bom_id, client_id=None)) == [("EMU-REQUIRED", ["clientId"])]


def test_put_replaces_the_whole_bom_and_keeps_id_and_pb_create_date(api: Api, clock: FakeClock) -> None:
    bom_id = create(api, FULL_BOM).json()["billOfMaterialId"]
    clock.advance(60)
    new = bom(description="Bigger set", billOfMaterialDetails=[{"childSku": "PART-C", "quantity": 3}])

    response = put(api, bom_id, new)

    assert response.status_code == 200
    record = get(api, bom_id).json()
    assert record == response.json()
    assert {k: v for k, v in record.items() if k not in PB_FIELDS} == new
    assert (record["billOfMaterialId"], record["pbCreateDate"]) == (bom_id, "2025-06-15T15:06:40.000+0000")
    assert record["pbUpdateDate"] == "2025-06-15T15:07:40.000+0000"


def test_put_of_a_missing_bom_is_404(api: Api) -> None:
    response = put(api, "BOM-999999", bom())

    assert (response.status_code, errors_of(response)) == (404, [("EMU-NOT-FOUND", ["billOfMaterialId"])])


def test_put_cannot_move_a_bom_to_another_kit(api: Api) -> None:
    bom_id = create(api, bom()).json()["billOfMaterialId"]

    response = put(api, bom_id, bom("KIT-2"))

    assert (response.status_code, errors_of(response)) == (400, [("EMU-BAD-REQUEST", ["sku"])])
    assert get(api, bom_id).json()["sku"] == "KIT-1"


def test_put_checks_the_rules_and_changes_nothing_on_failure(api: Api) -> None:
    bom_id = create(api, bom()).json()["billOfMaterialId"]

    response = put(api, bom_id, bom(billOfMaterialDetails=[{"childSku": "GHOST", "quantity": 1}]))

    assert errors_of(response) == [("EMU-NOT-FOUND", ["billOfMaterialDetails[0].childSku"])]
    assert get(api, bom_id).json()["billOfMaterialDetails"][0]["childSku"] == "PART-A"


# Search -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/search", "/search/"])
def test_search_answers_on_both_documented_paths(api: Api, path: str) -> None:
    create(api, bom())

    body = find(api, path=path).json()

    assert [r["sku"] for r in body["content"]] == ["KIT-1"]
    assert {k: body[k] for k in ("totalElements", "totalPages", "first", "last", "size", "page")} == {
        "totalElements": 1,
        "totalPages": 1,
        "first": True,
        "last": True,
        "size": 20,
        "page": 1,
    }


def test_search_pages_are_1_based(api: Api) -> None:
    for sku in ("KIT-1", "KIT-2", "KIT-3"):
        create(api, bom(sku))

    pages = [find(api, page=n, size=2).json() for n in (1, 2)]

    assert [([r["sku"] for r in p["content"]], p["page"], p["first"], p["last"]) for p in pages] == [
        (["KIT-1", "KIT-2"], 1, True, False),
        (["KIT-3"], 2, False, True),
    ]
    assert errors_of(find(api, page=0)) == [("EMU-OUT-OF-RANGE", ["page"])]


def test_search_hides_inactive_boms_unless_asked(api: Api) -> None:
    create(api, bom("KIT-1"))
    create(api, bom("KIT-2", active=False))
    create(api, bom("KIT-3", active=True))

    def with_inactive(*values: Any) -> httpx.Response:
        return find(api, {"searchFields": [{"name": "includeInactive", "values": list(values)}]})

    assert kits(find(api)) == ["KIT-1", "KIT-3"]
    assert kits(with_inactive(True)) == ["KIT-1", "KIT-2", "KIT-3"]
    assert kits(with_inactive(False)) == ["KIT-1", "KIT-3"]
    assert errors_of(with_inactive("yes")) == [("EMU-BAD-TYPE", ["searchFields[0].values"])]


def test_search_fields_use_the_documented_names(api: Api, clock: FakeClock) -> None:
    first = create(api, bom("KIT-1", brand="Acme", createDate="2025-06-01T00:00:00Z")).json()
    clock.advance(86_400)
    api.refresh()
    details = [{"childSku": "PART-C", "quantity": 1}]
    create(api, bom("KIT-2", billOfMaterialDetails=details, updateDate="2025-06-05T00:00:00Z"))
    put(api, first["billOfMaterialId"], bom("KIT-1", brand="Acme", createDate="2025-06-01T00:00:00Z"))

    def search_by(name: str, *values: Any) -> list[str]:
        return kits(find(api, {"searchFields": [{"name": name, "values": list(values)}]}))

    assert search_by("parentSku", "KIT-2", "KIT-9") == ["KIT-2"]
    assert search_by("childSku", "PART-A") == ["KIT-1"]
    assert search_by("childSku", "PART-C", "PART-B") == ["KIT-1", "KIT-2"]
    assert search_by("brand", "Acme") == ["KIT-1"]
    assert search_by("billOfMaterialId", first["billOfMaterialId"]) == ["KIT-1"]
    assert search_by("createDate", "2025-06-01", "2025-06-01") == ["KIT-1"]
    assert search_by("updateDate", "2025-06-05") == ["KIT-2"]
    assert search_by("pbCreateDate", "2025-06-16") == ["KIT-2"]
    assert search_by("pbupdateDate", "2025-06-16") == ["KIT-1", "KIT-2"]  # (sic) as the docs spell it


@pytest.mark.parametrize("name", ["pbUpdateDate", "sku", "active"])
def test_search_refuses_names_the_docs_do_not_list(api: Api, name: str) -> None:
    response = find(api, {"searchFields": [{"name": name, "values": ["x"]}]})

    assert (response.status_code, errors_of(response)) == (
        400,
        [("EMU-NOT-ALLOWED", ["searchFields[0].name"])],
    )


def test_search_sorts_by_pb_create_date(api: Api, clock: FakeClock) -> None:
    for sku in ("KIT-2", "KIT-1", "KIT-3"):
        create(api, bom(sku))
        clock.advance(1)

    assert kits(find(api, {"sort": ["pbCreateDate-desc"]})) == ["KIT-3", "KIT-1", "KIT-2"]
    assert errors_of(find(api, {"sort": ["pcreateDate-asc"]})) == [("EMU-NOT-ALLOWED", ["sort[0]"])]


def test_search_sees_only_this_clients_boms(api: Api) -> None:
    create(api, bom())

    response = find(api, {"clientId": "someone-else"})

    assert response.status_code == 403
