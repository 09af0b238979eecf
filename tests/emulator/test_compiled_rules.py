"""The compiled rules refuse what the declared ones refuse: deep in the last item of a full bulk call, and
value by value (a leaf's ``ok`` says yes exactly when its ``check`` finds nothing)."""

from __future__ import annotations

from typing import Any

import pytest

from loader.emulator import bets
from loader.emulator.addresses import address_fields
from loader.emulator.orders import LINE_RULES, SHIPPING_RULES
from loader.emulator.products import DETAILS_RULES, PRODUCT_FIELDS
from loader.emulator.validation import Bool, Int, Num, Str

from .helpers import UNKNOWN, Api, item_errors, order, product

VALUES: list[Any] = [
    None, "", " ", "x", "A" * 31, "US", "us", "ITEM", "KIT", "2026-06-15T15:06:40Z", "2026-13-15T15:06:40Z",
    "2024-05-01T12:00:00.000+0000", "a@b.co", "12345", 0, 1, -1, 2, 0.5, 1.25, 1.0, 1.23456, 1e-7, 1e21,
    float("nan"), float("inf"), True, False, [], {}, ["x"],
]  # fmt: skip
LEAVES = [
    rule
    for rules in (PRODUCT_FIELDS, DETAILS_RULES, LINE_RULES, SHIPPING_RULES, address_fields())
    for rule in rules.values()
    if isinstance(rule, (Str, Num, Int, Bool))
] + [Num(gt=0, decimals=4), Num(ge=0, decimals=2), Int(ge=1)]


@pytest.mark.parametrize("rule", LEAVES, ids=repr)
def test_a_leaf_is_ok_exactly_when_its_check_finds_nothing(rule: Any) -> None:
    assert [value for value in VALUES if rule.ok(value) != (rule.check(value, "p") == [])] == []


def test_an_unknown_nested_field_in_the_200th_product_of_a_bulk_call_is_refused(api: Api) -> None:
    items = [{"operation": "CREATE", **product(f"SKU-{n}")} for n in range(200)]
    items[199]["details"][bets.WEIGHT.holder] = {bets.WEIGHT.value: 1, bets.WEIGHT.unit: "LB", "grams": 450}
    results = api.bulk(*items).json()["products"]
    assert [item_errors(result) for result in results if "errors" in result] == [
        [(UNKNOWN, [f"details.{bets.WEIGHT.holder}.grams"])]
    ]


def test_an_unknown_field_in_a_line_of_the_200th_order_of_a_bulk_call_is_refused(api: Api) -> None:
    api.create(product("SKU-1"))
    orders = [order(f"CO-{n}", ("SKU-1", 1)) for n in range(200)]
    orders[199][bets.LINES.order][0]["colour"] = "red"
    results = api.call("POST", "/v1/orders/bulk", json={"orders": orders}).json()["orders"]
    assert [item_errors(result) for result in results if "errors" in result] == [
        [(UNKNOWN, [f"{bets.LINES.order}[0].colour"])]
    ]
    assert sum(1 for result in results if "errors" not in result) == 199
