"""Products through the emulated API: rules, single and bulk create/update, get, search."""

from __future__ import annotations

from typing import Any

import pytest

from loader.emulator import Emulator, EmulatorConfig, create_app

from .helpers import (
    CLIENT_ID,
    REMOVE,
    UNKNOWN,
    Api,
    FakeClock,
    errors_of,
    fetch_token,
    http_client,
    item_errors,
    product,
    with_path,
)

DAY = 86_400.0
DELETE = REMOVE  # marks a field to remove in a rule case


FULL_PRODUCT = product(
    "FULL-1",
    vendorDetails={"name": "Acme", "number": "V-1"},
    createDate="2025-06-01T10:00:00.000+0200",
    updateDate="2025-06-02T10:00:00.000-0500",
    fulfillmentRegion="PB_ONLY",
    active=True,
    details={
        "description": "Sweater dress",
        "brand": "Acme",
        "category": "Dresses",
        "manufacturer": "Lisbon Knitwear Lda",
        "originCountryCode": "PT",
        "originStateProvince": "Lisboa",
        "identifiers": [{"source": "UPC", "number": "01234567890123"}],
        "hsClassification": [{"hsTariffCode": "6104.42.0010", "countryCode": "US"}],
        "hazmatClassification": [
            {"dotHazmatCode": "D1", "unHazmatCode": "UN1234", "hazmatDescription": "None"}
        ],
        "dimensions": {"length": 10, "height": 5.5, "width": 2, "dimensionUOM": "IN"},
        "weight": {"value": 1.5, "unitOfMeasurement": "LB"},
        "unitCost": 0,
    },
)

# (path, value, errorCode); the error's parameters must be [path].
RULE_CASES = [
    ("sku", DELETE, "EMU-REQUIRED"),
    ("sku", "", "EMU-REQUIRED"),
    ("sku", "S" * 31, "EMU-TOO-LONG"),
    ("sku", 12345, "EMU-BAD-TYPE"),
    ("productType", DELETE, "EMU-REQUIRED"),
    ("productType", "BOX", "EMU-NOT-ALLOWED"),
    ("productType", "item", "EMU-NOT-ALLOWED"),
    ("fulfillmentRegion", "EU", "EMU-NOT-ALLOWED"),
    ("vendorDetails", "Acme", "EMU-BAD-TYPE"),
    ("vendorDetails.number", DELETE, "EMU-REQUIRED"),
    ("vendorDetails.name", DELETE, "EMU-REQUIRED"),
    ("vendorDetails.name", "N" * 51, "EMU-TOO-LONG"),
    ("vendorDetails.number", "N" * 31, "EMU-TOO-LONG"),
    ("createDate", "2025-06-01T10:00:00Z", "EMU-BAD-FORMAT"),
    ("createDate", "2025-06-01", "EMU-BAD-FORMAT"),
    ("updateDate", "2025-02-30T10:00:00.000+0000", "EMU-BAD-FORMAT"),
    ("updateDate", 20250601, "EMU-BAD-TYPE"),
    ("active", "yes", "EMU-BAD-TYPE"),
    ("active", 1, "EMU-BAD-TYPE"),
    ("details", DELETE, "EMU-REQUIRED"),
    ("details", "Mug", "EMU-BAD-TYPE"),
    ("details.description", DELETE, "EMU-REQUIRED"),
    ("details.description", "D" * 101, "EMU-TOO-LONG"),
    ("details.brand", "B" * 51, "EMU-TOO-LONG"),
    ("details.category", "C" * 51, "EMU-TOO-LONG"),
    ("details.manufacturer", "M" * 256, "EMU-TOO-LONG"),
    ("details.originCountryCode", "PRT", "EMU-BAD-FORMAT"),
    ("details.originCountryCode", "pt", "EMU-BAD-FORMAT"),
    ("details.originStateProvince", "S" * 51, "EMU-TOO-LONG"),
    ("details.identifiers", {"source": "UPC"}, "EMU-BAD-TYPE"),
    ("details.identifiers[0]", None, "EMU-REQUIRED"),
    ("details.identifiers[0]", "0123", "EMU-BAD-TYPE"),
    ("details.identifiers[0].number", "0" * 101, "EMU-TOO-LONG"),
    ("details.identifiers[0].number", 1234, "EMU-BAD-TYPE"),
    ("details.identifiers[0].source", "S" * 11, "EMU-TOO-LONG"),
    ("details.hsClassification[0].hsTariffCode", "1" * 31, "EMU-TOO-LONG"),
    ("details.hsClassification[0].countryCode", "USA", "EMU-BAD-FORMAT"),
    ("details.hazmatClassification[0].dotHazmatCode", "D" * 11, "EMU-TOO-LONG"),
    ("details.hazmatClassification[0].unHazmatCode", "U" * 11, "EMU-TOO-LONG"),
    ("details.hazmatClassification[0].hazmatDescription", "H" * 101, "EMU-TOO-LONG"),
    ("details.dimensions", 10, "EMU-BAD-TYPE"),
    ("details.dimensions.length", 0, "EMU-OUT-OF-RANGE"),
    ("details.dimensions.length", "10", "EMU-BAD-TYPE"),
    ("details.dimensions.height", -1, "EMU-OUT-OF-RANGE"),
    ("details.dimensions.width", 1.23456, "EMU-BAD-FORMAT"),  # at most 4 decimals (api §22.5)
    ("details.dimensions.height", 11, "EMU-OUT-OF-RANGE"),  # longer than the length
    ("details.dimensions.width", 6, "EMU-OUT-OF-RANGE"),  # longer than the height
    ("details.dimensions.dimensionUOM", DELETE, "EMU-REQUIRED"),  # sides given
    ("details.dimensions.dimensionUOM", "MM", "EMU-NOT-ALLOWED"),
    ("details.dimensions.dimensionUOM", "in", "EMU-NOT-ALLOWED"),
    ("details.dimensions.unitOfMeasurement", "IN", "EMU-NOT-ALLOWED"),  # one or the other, not both
    ("details.weight", 2, "EMU-BAD-TYPE"),
    ("details.weight.value", 0, "EMU-OUT-OF-RANGE"),
    ("details.weight.value", -1, "EMU-OUT-OF-RANGE"),
    ("details.weight.value", "2", "EMU-BAD-TYPE"),
    ("details.weight.value", True, "EMU-BAD-TYPE"),
    ("details.weight.value", DELETE, "EMU-REQUIRED"),
    ("details.weight.unitOfMeasurement", "TON", "EMU-NOT-ALLOWED"),
    ("details.weight.unitOfMeasurement", DELETE, "EMU-REQUIRED"),
    ("details.unitCost", -0.01, "EMU-OUT-OF-RANGE"),
    ("details.unitCost", "free", "EMU-BAD-TYPE"),
]

# Names of the old contract and PB's reserved fields: each refused where it is sent (api §21.7).
UNKNOWN_CASES = [
    ("details.upc", "012345678905"),
    ("details.upc", None),  # refused whatever its value
    ("details.countryOfOrigin", "US"),
    ("details.hsCode", "611011"),
    ("details.eccn", "EAR99"),
    ("details.image", "https://example.com/a.png"),
    ("details.dimensions.unit", "IN"),
    ("details.weight.unit", "LB"),
    ("details.identifiers[0].type", "UPC"),
    ("details.hsClassification[0].code", "6104"),
    ("details.hazmatClassification[0].class", "3"),
    ("vendorDetails.code", "V-1"),
    ("options", [{"name": "colour", "value": "red"}]),
    ("brand", "Acme"),
    ("operation", "CREATE"),  # a bulk item's field, not a product's
    ("somethingPbAddsLater", {"kept": True}),
]


def results(response: Any) -> list[tuple[str | None, str]]:
    """Return ``(sku, status or first error code)`` of each bulk result."""
    assert response.status_code == 200, response.text
    return [(r["sku"], r.get("status") or r["errors"][0]["errorCode"]) for r in response.json()["products"]]


# Rules ------------------------------------------------------------------------------------------


def test_full_product_is_accepted_and_stored_as_sent(api: Api, emulator: Emulator) -> None:
    response = api.create(FULL_PRODUCT)

    assert response.status_code == 201
    record = response.json()
    assert {
        k: v for k, v in record.items() if k not in ("pbCreateDate", "pbUpdateDate", "status")
    } == FULL_PRODUCT
    assert record["pbCreateDate"] == record["pbUpdateDate"] == "2025-06-15T15:06:40.000+0000"
    assert record["status"] == "PUBLISHED"
    assert emulator.products() == [record]


@pytest.mark.parametrize(
    ("path", "value", "code"), RULE_CASES, ids=[f"{p}={v!r:.20}" for p, v, _ in RULE_CASES]
)
def test_each_rule_rejects_its_field(api: Api, path: str, value: Any, code: str) -> None:
    response = api.create(with_path(FULL_PRODUCT, path, REMOVE if value is DELETE else value))

    assert response.status_code == 400
    assert errors_of(response) == [(code, [path])]
    assert api.get(FULL_PRODUCT["sku"]).status_code == 404


@pytest.mark.parametrize(("path", "value"), UNKNOWN_CASES, ids=[p for p, _ in UNKNOWN_CASES])
def test_an_undocumented_field_is_refused_with_its_path(api: Api, path: str, value: Any) -> None:
    response = api.create(with_path(FULL_PRODUCT, path, value))

    assert response.status_code == 400
    assert errors_of(response) == [(UNKNOWN, [path])]
    assert api.get(FULL_PRODUCT["sku"]).status_code == 404


def test_unknown_field_error_names_the_known_ones(api: Api) -> None:
    error = api.create(with_path(product(), "details.upc", "0123")).json()["errors"][0]

    assert error["errorDescription"] == "details.upc is not a field of the API; remove it or correct its name"
    assert error["additionalInfo"] == (
        "Known fields: description, brand, category, manufacturer, originCountryCode, originStateProvince, "
        "identifiers, hsClassification, hazmatClassification, dimensions, weight, unitCost"
    )


def test_put_refuses_an_undocumented_field_and_keeps_the_product(api: Api) -> None:
    api.create(product())

    response = api.put("SKU-1", with_path(product(), "details.upc", "0123"))

    assert (response.status_code, errors_of(response)) == (400, [(UNKNOWN, ["details.upc"])])
    assert api.get("SKU-1").json()["details"] == {"description": "Mug"}


@pytest.mark.parametrize("field", ["status", "pbCreateDate", "pbUpdateDate"])
def test_response_only_fields_sent_back_are_refused(api: Api, field: str) -> None:
    created = api.create(product()).json()

    response = api.put("SKU-1", {**product(), field: created[field]})

    assert (response.status_code, errors_of(response)) == (400, [(UNKNOWN, [field])])
    assert response.json()["errors"][0]["errorDescription"] == f"{field} is set by PB and cannot be sent"


def test_a_product_read_back_cannot_be_put_back_as_it_is(api: Api) -> None:
    record = api.create(FULL_PRODUCT).json()

    response = api.put("FULL-1", record)

    assert errors_of(response) == [(UNKNOWN, [name]) for name in ("pbCreateDate", "pbUpdateDate", "status")]


def test_dimensions_take_the_unit_in_either_name_and_may_be_partial(api: Api) -> None:
    other_name = {"length": 3, "height": 2, "width": 1, "unitOfMeasurement": "CM"}
    only_length = {"length": 3, "dimensionUOM": "CM"}
    square = {"length": 2, "height": 2, "width": 2, "dimensionUOM": "IN"}

    for i, dimensions in enumerate((other_name, only_length, square)):
        response = api.create(product(f"D-{i}", details={"description": "Box", "dimensions": dimensions}))
        assert response.status_code == 201, response.text


def test_a_dimension_without_a_unit_names_both_unit_fields(api: Api) -> None:
    body = product(details={"description": "Box", "dimensions": {"width": 1}})

    error = api.create(body).json()["errors"][0]

    assert error["errorDescription"] == (
        "details.dimensions.dimensionUOM (or details.dimensions.unitOfMeasurement) is required when "
        "details.dimensions.width is given"
    )


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("sku", "S" * 30),
        ("vendorDetails.name", "N" * 50),
        ("details.description", "D" * 100),
        ("details.brand", "B" * 50),
        ("details.manufacturer", "M" * 255),
        ("details.identifiers[0].number", "0" * 100),
        ("details.identifiers[0].source", "S" * 10),  # the emulator does not restrict sources (BET-3)
        ("details.identifiers", []),
        ("details.hsClassification[0].hsTariffCode", "1" * 30),
        ("details.hazmatClassification[0].hazmatDescription", "H" * 100),
        ("details.weight.value", 0.001),
        ("details.weight.unitOfMeasurement", "G"),
        ("details.dimensions.dimensionUOM", "CM"),
        ("details.dimensions.width", 1.2345),
        ("details.dimensions", REMOVE),
        ("productType", "KIT"),
        ("fulfillmentRegion", "ALL"),
        ("details.brand", None),  # null counts as not given
    ],
)
def test_values_at_the_limits_are_accepted(api: Api, path: str, value: Any) -> None:
    response = api.create(with_path(FULL_PRODUCT, path, value))

    assert response.status_code == 201, response.text


def test_all_problems_of_a_product_are_reported_with_plain_sentences(api: Api) -> None:
    body = {
        "clientId": CLIENT_ID,
        "sku": "S" * 31,
        "productType": "BOX",
        "details": {"weight": {"unitOfMeasurement": "LB", "unit": "LB"}, "upc": "1"},
        "status": "PUBLISHED",
    }

    errors = api.create(body).json()["errors"]

    assert [(e["errorDescription"], e["parameters"]) for e in errors] == [
        ("sku must be at most 30 characters", ["sku"]),
        ("productType must be one of ITEM, KIT", ["productType"]),
        ("details.description is required", ["details.description"]),
        ("details.weight.value is required", ["details.weight.value"]),
        (
            "details.weight.unit is not a field of the API; remove it or correct its name",
            ["details.weight.unit"],
        ),
        ("details.upc is not a field of the API; remove it or correct its name", ["details.upc"]),
        ("status is set by PB and cannot be sent", ["status"]),
    ]
    assert errors[0]["additionalInfo"] == "31 characters given"


# Single create, get, update ---------------------------------------------------------------------


def test_get_returns_the_stored_record(api: Api) -> None:
    created = api.create(product()).json()

    response = api.get("SKU-1")

    assert response.status_code == 200
    assert response.json() == created


def test_get_of_a_missing_product_is_404(api: Api) -> None:
    response = api.get("NOPE")

    assert response.status_code == 404
    assert errors_of(response) == [("EMU-NOT-FOUND", ["sku"])]


def test_create_of_an_existing_sku_is_a_duplicate(api: Api) -> None:
    api.create(product())

    response = api.create(product(productType="KIT"))

    assert response.status_code == 400
    assert errors_of(response) == [("EMU-DUPLICATE", ["sku"])]
    assert response.json()["errors"][0]["errorDescription"] == "A product with sku SKU-1 already exists"
    assert api.get("SKU-1").json()["productType"] == "ITEM"


def test_put_replaces_the_whole_product_and_keeps_pb_create_date(api: Api, clock: FakeClock) -> None:
    api.create(product(active=True, details={"description": "Mug", "unitCost": 2}))
    clock.advance(60)

    response = api.put("SKU-1", product(productType="KIT", details={"description": "Mug set"}))

    assert response.status_code == 200
    record = api.get("SKU-1").json()
    assert record == response.json()
    assert record["productType"] == "KIT"
    assert record["details"] == {"description": "Mug set"}
    assert "active" not in record
    assert record["pbCreateDate"] == "2025-06-15T15:06:40.000+0000"
    assert record["pbUpdateDate"] == "2025-06-15T15:07:40.000+0000"


def test_put_of_a_missing_product_is_404(api: Api) -> None:
    response = api.put("SKU-1", product())

    assert response.status_code == 404
    assert errors_of(response) == [("EMU-NOT-FOUND", ["sku"])]


def test_put_needs_the_body_sku_to_match_the_path(api: Api) -> None:
    api.create(product())

    response = api.put("SKU-1", product("SKU-2"))

    assert response.status_code == 400
    assert errors_of(response) == [("EMU-BAD-REQUEST", ["sku"])]


def test_put_checks_the_product_rules(api: Api) -> None:
    api.create(product())

    response = api.put("SKU-1", product(productType="BOX"))

    assert errors_of(response) == [("EMU-NOT-ALLOWED", ["productType"])]
    assert api.get("SKU-1").json()["productType"] == "ITEM"


def test_sku_with_spaces_and_unicode_round_trips(api: Api) -> None:
    assert api.create(product("Mug blue ü")).status_code == 201

    assert api.get("Mug blue ü").json()["sku"] == "Mug blue ü"


# Bulk -------------------------------------------------------------------------------------------


def test_bulk_creates_every_item(api: Api, emulator: Emulator) -> None:
    response = api.bulk(*(product(f"B-{i}", operation="CREATE") for i in range(3)))

    assert response.json() == {
        "products": [{"clientId": CLIENT_ID, "sku": f"B-{i}", "status": "PUBLISHED"} for i in range(3)]
    }
    assert [p["sku"] for p in emulator.products()] == ["B-0", "B-1", "B-2"]
    assert all("operation" not in p for p in emulator.products())


def test_bulk_update_replaces_and_keeps_pb_create_date(api: Api, clock: FakeClock) -> None:
    api.create(product(active=False))
    clock.advance(DAY)
    api.refresh()

    assert results(api.bulk(product(operation="UPDATE", productType="KIT"))) == [("SKU-1", "PUBLISHED")]

    record = api.get("SKU-1").json()
    assert (record["productType"], "active" in record) == ("KIT", False)
    assert record["pbCreateDate"] == "2025-06-15T15:06:40.000+0000"
    assert record["pbUpdateDate"] == "2025-06-16T15:06:40.000+0000"


def test_bulk_items_succeed_or_fail_independently_in_order(api: Api, emulator: Emulator) -> None:
    api.create(product("OLD"))

    response = api.bulk(
        product("NEW", operation="CREATE"),
        product("OLD", operation="CREATE"),
        product("GHOST", operation="UPDATE"),
        product("OLD", operation="UPDATE", productType="KIT"),
        product("BAD", operation="CREATE", productType="BOX"),
        product("NO-OP"),
        product("DEL", operation="DELETE"),
        product("NEW", operation="UPDATE", active=False),  # created earlier in this same request
    )

    assert results(response) == [
        ("NEW", "PUBLISHED"),
        ("OLD", "EMU-DUPLICATE"),
        ("GHOST", "EMU-NOT-FOUND"),
        ("OLD", "PUBLISHED"),
        ("BAD", "EMU-NOT-ALLOWED"),
        ("NO-OP", "EMU-REQUIRED"),
        ("DEL", "EMU-NOT-ALLOWED"),
        ("NEW", "PUBLISHED"),
    ]
    stored = {p["sku"]: p for p in emulator.products()}
    assert sorted(stored) == ["NEW", "OLD"]
    assert (stored["OLD"]["productType"], stored["NEW"]["active"]) == ("KIT", False)


def test_bulk_failure_carries_all_item_errors_with_item_relative_paths(api: Api) -> None:
    item = product(operation="UPSERT", sku="S" * 31, details={"description": "Mug", "weight": {"value": 0}})

    result = api.bulk(item).json()["products"][0]

    assert "status" not in result
    assert (result["clientId"], result["sku"]) == (CLIENT_ID, "S" * 31)
    assert item_errors(result) == [
        ("EMU-NOT-ALLOWED", ["operation"]),
        ("EMU-TOO-LONG", ["sku"]),
        ("EMU-OUT-OF-RANGE", ["details.weight.value"]),
        ("EMU-REQUIRED", ["details.weight.unitOfMeasurement"]),
    ]


def test_an_undocumented_field_fails_its_bulk_item_only(api: Api, emulator: Emulator) -> None:
    bad = with_path(product("BAD", operation="CREATE"), "details.upc", "0123")
    nested = with_path(
        product("NESTED", operation="CREATE"), "details.identifiers", [{"number": "1", "kind": "x"}]
    )

    response = api.bulk(product("OK-1", operation="CREATE"), bad, nested, product("OK-2", operation="CREATE"))

    body = response.json()["products"]
    assert [r.get("status") for r in body] == ["PUBLISHED", None, None, "PUBLISHED"]
    assert item_errors(body[1]) == [(UNKNOWN, ["details.upc"])]  # relative to the item, not products[1]
    assert item_errors(body[2]) == [(UNKNOWN, ["details.identifiers[0].kind"])]
    assert (body[1]["sku"], body[2]["sku"]) == ("BAD", "NESTED")
    assert [p["sku"] for p in emulator.products()] == ["OK-1", "OK-2"]


def test_a_bulk_item_may_not_send_response_only_fields(api: Api) -> None:
    result = api.bulk(product(operation="CREATE", status="PUBLISHED")).json()["products"][0]

    assert item_errors(result) == [(UNKNOWN, ["status"])]


def test_bulk_duplicate_and_not_found_name_the_sku(api: Api) -> None:
    api.create(product("OLD"))

    body = api.bulk(product("OLD", operation="CREATE"), product("GHOST", operation="UPDATE")).json()

    assert [r["errors"][0]["parameters"] for r in body["products"]] == [["sku"], ["sku"]]


def test_bulk_of_exactly_200_items_is_accepted(api: Api) -> None:
    response = api.bulk(*(product(f"B-{i}", operation="CREATE") for i in range(200)))

    assert len(results(response)) == 200


@pytest.mark.parametrize(
    ("body", "code", "parameter"),
    [
        ({"products": []}, "EMU-OUT-OF-RANGE", "products"),
        (
            {"products": [product(f"B-{i}", operation="CREATE") for i in range(201)]},
            "EMU-OUT-OF-RANGE",
            "products",
        ),
        ({}, "EMU-REQUIRED", "products"),
        ({"products": {"sku": "A"}}, "EMU-BAD-TYPE", "products"),
        ({"products": [product(operation="CREATE"), "SKU-2"]}, "EMU-BAD-TYPE", "products[1]"),
        (
            {"products": [product(operation="CREATE"), with_path(product("B"), "clientId", REMOVE)]},
            "EMU-REQUIRED",
            "products[1].clientId",
        ),
    ],
    ids=["empty", "201-items", "no-array", "not-an-array", "item-not-object", "item-without-clientId"],
)
def test_malformed_bulk_is_rejected_whole(
    api: Api, emulator: Emulator, body: dict[str, Any], code: str, parameter: str
) -> None:
    response = api.call("POST", "/v1/products/bulk", json=body)

    assert response.status_code == 400
    assert errors_of(response) == [(code, [parameter])]
    assert emulator.products() == []


def test_bulk_with_bad_json_is_rejected_whole(api: Api) -> None:
    response = api.call(
        "POST", "/v1/products/bulk", content=b'{"products": [', headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert errors_of(response) == [("EMU-BAD-REQUEST", ["body"])]


def test_bulk_item_of_another_client_is_forbidden(api: Api, emulator: Emulator) -> None:
    response = api.bulk(product("A", operation="CREATE"), product("B", operation="CREATE", clientId="other"))

    assert response.status_code == 403
    assert errors_of(response) == [("EMU-FORBIDDEN", ["products[1].clientId"])]
    assert emulator.products() == []


def test_bulk_limit_comes_from_the_config() -> None:
    config = EmulatorConfig(max_bulk_items=2)
    with http_client(create_app(config=config)) as client:
        api = Api(client, fetch_token(client))

        response = api.bulk(*(product(f"B-{i}", operation="CREATE") for i in range(3)))

    assert response.json()["errors"][0]["errorDescription"] == "products must hold between 1 and 2 items"


# Search -----------------------------------------------------------------------------------------


def skus(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [record["sku"] for record in response.json()["content"]]


def test_search_pages_are_1_based(api: Api) -> None:
    api.bulk(*(product(f"P-{i:02d}", operation="CREATE") for i in range(45)))

    pages = [api.search(page=n, size=20).json() for n in (1, 2, 3, 4)]

    envelope = [(p["page"], p["size"], len(p["content"]), p["first"], p["last"]) for p in pages]
    assert envelope == [
        (1, 20, 20, True, False),
        (2, 20, 20, False, False),
        (3, 20, 5, False, True),
        (4, 20, 0, False, True),
    ]
    assert {(p["totalElements"], p["totalPages"]) for p in pages} == {(45, 3)}
    assert [sku for p in pages for sku in (r["sku"] for r in p["content"])] == [
        f"P-{i:02d}" for i in range(45)
    ]


def test_search_defaults_to_page_1_of_20(api: Api) -> None:
    api.bulk(*(product(f"P-{i:02d}", operation="CREATE") for i in range(21)))

    body = api.search().json()

    assert (body["page"], body["size"], len(body["content"]), body["totalPages"]) == (1, 20, 20, 2)


def test_search_of_nothing_is_one_empty_page(api: Api) -> None:
    body = api.search().json()

    assert body == {
        "content": [],
        "totalElements": 0,
        "totalPages": 0,
        "first": True,
        "last": True,
        "size": 20,
        "page": 1,
    }


@pytest.mark.parametrize(
    ("params", "code", "parameter"),
    [
        ({"page": 0}, "EMU-OUT-OF-RANGE", "page"),
        ({"size": 0}, "EMU-OUT-OF-RANGE", "size"),
        ({"page": "two"}, "EMU-BAD-TYPE", "page"),
    ],
)
def test_search_paging_must_be_positive(api: Api, params: dict[str, Any], code: str, parameter: str) -> None:
    response = api.search(**params)

    assert response.status_code == 400
    assert errors_of(response) == [(code, [parameter])]


def test_search_sorts_by_pb_create_date(api: Api, clock: FakeClock) -> None:
    for sku in ("B", "A", "C"):
        api.create(product(sku))
        clock.advance(1)

    assert skus(api.search({"sort": ["pbCreateDate-desc"]})) == ["C", "A", "B"]
    assert skus(api.search({"sort": ["pbCreateDate-asc"]})) == ["B", "A", "C"]


def test_search_sorts_by_several_keys_and_puts_missing_dates_last(api: Api, clock: FakeClock) -> None:
    api.create(product("NO-DATE"))
    api.create(product("EARLY", createDate="2025-06-01T10:00:00.000+0000"))
    api.create(product("LATE-1", createDate="2025-06-03T10:00:00.000+0000"))
    clock.advance(1)
    api.create(product("LATE-2", createDate="2025-06-03T12:00:00.000+0200"))  # same instant as LATE-1

    sort = ["createDate-desc", "pbCreateDate-desc"]

    assert skus(api.search({"sort": sort})) == ["LATE-2", "LATE-1", "EARLY", "NO-DATE"]


def test_search_rejects_unknown_sort(api: Api) -> None:
    response = api.search({"sort": ["pbCreateDate-asc", "sku-asc", "createDate"]})

    assert response.status_code == 400
    assert errors_of(response) == [("EMU-NOT-ALLOWED", ["sort[1]"]), ("EMU-NOT-ALLOWED", ["sort[2]"])]


def test_search_fields_match_exactly_on_any_value(api: Api) -> None:
    api.create(product("A"))
    api.create(product("B", productType="KIT", active=False))
    api.create(product("C", fulfillmentRegion="ALL", active=True))

    def find(name: str, *values: Any) -> list[str]:
        return skus(api.search({"searchFields": [{"name": name, "values": list(values)}]}))

    assert find("sku", "A", "C", "Z") == ["A", "C"]
    assert find("productType", "KIT") == ["B"]
    assert find("active", True) == ["A", "C"]  # active unless told otherwise
    assert find("active", False) == ["B"]
    assert find("fulfillmentRegion", "PB_ONLY") == ["A", "B"]  # the documented default
    assert find("fulfillmentRegion", "ALL", "THIRD_PARTY") == ["C"]


def test_search_fields_combine_with_and(api: Api) -> None:
    api.create(product("A"))
    api.create(product("B", productType="KIT"))
    fields = [{"name": "productType", "values": ["KIT"]}, {"name": "sku", "values": ["A", "B"]}]

    assert skus(api.search({"searchFields": fields})) == ["B"]


def test_search_by_create_date_range_is_inclusive(api: Api) -> None:
    for day in ("01", "02", "03", "04"):
        api.create(product(f"D{day}", createDate=f"2025-06-{day}T00:00:00.000+0000"))
    api.create(product("UNDATED"))

    def between(*values: Any) -> list[str]:
        return skus(api.search({"searchFields": [{"name": "createDate", "values": list(values)}]}))

    assert between("2025-06-02T00:00:00.000+0000", "2025-06-03T00:00:00.000+0000") == ["D02", "D03"]
    assert between("2025-06-02", "2025-06-03") == ["D02", "D03"]  # a bare "to" date includes its day
    assert between("2025-06-03T00:00:00Z") == ["D03", "D04"]
    assert between(None, "2025-06-01") == ["D01"]


def test_search_hides_products_older_than_six_months_unless_dates_are_given(
    api: Api, clock: FakeClock
) -> None:
    api.create(product("OLD", createDate="2025-06-15T00:00:00.000+0000"))
    clock.advance(1)
    api.create(product("EDGE"))
    clock.advance(183 * DAY)
    api.refresh()
    api.create(product("NEW"))

    assert skus(api.search()) == ["EDGE", "NEW"]  # EDGE is exactly 183 days old, OLD a second more
    window = [{"name": "pbCreateDate", "values": ["2025-01-01T00:00:00Z", "2030-01-01T00:00:00Z"]}]
    assert skus(api.search({"searchFields": window})) == ["OLD", "EDGE", "NEW"]
    assert skus(api.search({"searchFields": [{"name": "createDate", "values": ["2025-01-01"]}]})) == ["OLD"]


@pytest.mark.parametrize(
    ("fields", "code", "parameter"),
    [
        ("sku", "EMU-BAD-TYPE", "searchFields"),
        (["sku"], "EMU-BAD-TYPE", "searchFields[0]"),
        ([{"name": "colour", "values": ["red"]}], "EMU-NOT-ALLOWED", "searchFields[0].name"),
        ([{"name": ["sku"], "values": ["A"]}], "EMU-NOT-ALLOWED", "searchFields[0].name"),
        ([{"name": "sku", "values": []}], "EMU-REQUIRED", "searchFields[0].values"),
        ([{"name": "sku", "values": "A"}], "EMU-REQUIRED", "searchFields[0].values"),
        ([{"name": "createDate", "values": ["yesterday"]}], "EMU-BAD-FORMAT", "searchFields[0].values"),
        (
            [{"name": "createDate", "values": ["2025-01-01", "2025-02-01", "2025-03-01"]}],
            "EMU-BAD-FORMAT",
            "searchFields[0].values",
        ),
    ],
)
def test_search_rejects_malformed_search_fields(api: Api, fields: Any, code: str, parameter: str) -> None:
    response = api.search({"searchFields": fields})

    assert response.status_code == 400
    assert errors_of(response) == [(code, [parameter])]
