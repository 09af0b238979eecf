"""The compiled rules refuse what the declared ones refuse: deep in the last item of a full bulk call, and
value by value (a leaf's ``ok`` and any rule's predicate say yes exactly when its ``check`` finds nothing)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from loader.emulator import bets, errors
from loader.emulator.addresses import address_fields
from loader.emulator.config import EmulatorConfig
from loader.emulator.errors import detail
from loader.emulator.orders import LINE_RULES, SHIPPING_RULES, order_rules
from loader.emulator.products import BULK_ITEM_RULES, DETAILS_RULES, PRODUCT_FIELDS
from loader.emulator.validation import (
    Arr,
    Bool,
    Checked,
    Int,
    Num,
    Obj,
    Str,
    _predicate,
    is_blank,
    is_zulu_date,
    join_path,
    unknown_fields,
)

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


def _variants(value: Any) -> Iterator[Any]:
    """``value`` with each field, at every depth, set in turn to each of VALUES, dropped, or joined by a stranger."""
    yield value
    if isinstance(value, dict):
        yield {**value, "stranger": 1}
        for name, inner in value.items():
            for changed in [*VALUES, *_variants(inner)]:
                yield {**value, name: changed}
            yield {key: v for key, v in value.items() if key != name}
    elif isinstance(value, list) and value:
        yield [*value, *value]  # repeated lines
        for changed in [*VALUES, *_variants(value[0])]:
            yield [changed, *value[1:]]


def _declared(rule: Any, value: Any, path: str) -> list[Any]:
    """The problems as the declarations spell them, walked plainly: each leaf's ``check``, nothing compiled."""
    if isinstance(rule, Checked):
        checks = rule.checks if isinstance(value, dict) else ()
        return _declared(rule.rule, value, path) + [p for check in checks for p in check(value, path)]
    if isinstance(rule, Arr):
        if not rule.fits(value):
            return rule.shape_problems(value, path)
        return [
            p
            for i, item in enumerate(value)
            for p in (
                [detail(errors.REQUIRED, f"{path}[{i}] must not be blank", f"{path}[{i}]")]
                if is_blank(item)
                else _declared(rule.item, item, f"{path}[{i}]")
            )
        ]
    if isinstance(rule, Obj):
        if not isinstance(value, dict):
            return [
                detail(errors.BAD_TYPE, f"{path or 'the request body'} must be an object", path or "body")
            ]
        problems = []
        for name, inner in rule.rules.items():
            field = join_path(path, name)
            if is_blank(value.get(name)):
                problems += [detail(errors.REQUIRED, f"{field} is required", field)] if inner.required else []
            else:
                problems += _declared(inner, value[name], field)
        return problems + unknown_fields(value, rule.rules, path, rule.response_only)
    return rule.check(value, path)


@pytest.mark.parametrize(
    ("rule", "example"),
    [
        (BULK_ITEM_RULES, {"operation": "CREATE", **product("P-1")}),
        (order_rules(EmulatorConfig().nodes), order("O-1", ("SKU-1", 1), ("SKU-2", 2))),
    ],
    ids=["product", "order"],
)
def test_compiled_rules_find_what_the_declared_ones_find(rule: Any, example: Any) -> None:
    ok = _predicate(rule)
    variants = list(_variants(copy.deepcopy(example)))
    assert [v for v in variants if rule.check(v, "") != _declared(rule, v, "")] == []
    assert [v for v in variants if ok(v) != (_declared(rule, v, "") == [])] == []


def test_a_zulu_date_is_what_strptime_reads() -> None:
    texts = [
        "2026-06-15T15:06:40Z", "2024-02-29T23:59:59Z", "2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z", "2026-01-00T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z",
        "2026-01-01T00:00:60Z", "0000-01-01T00:00:00Z", "\u0662\u0660\u0662\u0666-01-01T00:00:00Z",
        "2026-1-01T00:00:00Z", "2026-01-01 00:00:00Z", "2026-01-01T00:00:00",
    ]  # fmt: skip

    def strptime_reads(text: str) -> bool:
        try:
            datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            return False
        return len(text) == 20

    assert [is_zulu_date(text) for text in texts] == [strptime_reads(text) for text in texts]


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
