"""The emulator's bets (api §21.8): declared once in `loader.emulator.bets`, spelled nowhere else."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import loader.emulator as emulator_package
from loader.emulator import bets

SOURCES = sorted(Path(emulator_package.__file__).parent.glob("*.py"))
# The bet values no documented name shares: a string equal to one of them outside bets.py is a second
# declaration. (`unitCost`, `childSku`, `inputShippingDetails`, `sku`... are also documented names.)
DISTINCTIVE = {
    bets.SHIP_TO,
    bets.LINES.order,
    bets.LINES.asn,
    bets.LINES.returns,
    bets.UPC_SOURCE,
    bets.DIMENSIONS,
    bets.WEIGHT.holder,
    *bets.DIMENSION_UNITS,
    *bets.WEIGHT.units,
    bets.WORK_ORDER_QUANTITY,
    bets.RETURN_HOLDERS.address,
    bets.SEARCH_RECORDS,
}


def test_bets_are_numbered_1_to_14_with_a_value_and_a_clue() -> None:
    assert [bet.number for bet in bets.BETS] == list(range(1, 15))
    assert [bet.name for bet in bets.BETS][:2] == ["BET-1", "BET-2"]
    assert all(bet.what and bet.clue and bet.value for bet in bets.BETS)


def test_the_values_are_the_contracts_choices() -> None:
    assert (bets.SHIP_TO, bets.UPC_SOURCE, bets.DIMENSIONS, bets.UNIT_COST) == (
        "shipToAddress", "UPC", "dimensions", "unitCost",
    )  # fmt: skip
    assert (bets.LINES.order, bets.LINES.asn, bets.LINES.returns) == ("orderItems", "asnItems", "returnItems")
    assert (bets.WEIGHT.holder, bets.WEIGHT.value, bets.WEIGHT.unit) == (
        "weight",
        "value",
        "unitOfMeasurement",
    )
    assert bets.DIMENSION_UNITS == ("IN", "CM")
    assert (bets.COMPONENT.child_sku, bets.COMPONENT.quantity) == ("childSku", "quantity")
    assert bets.WORK_ORDER_QUANTITY == "workOrderQuantity"
    assert (bets.RETURN_HOLDERS.shipping, bets.RETURN_HOLDERS.address) == (
        "inputShippingDetails",
        "customerAddress",
    )
    assert (bets.BULK_RESULT.status, bets.BULK_RESULT.errors) == ("status", "errors")
    assert bets.SEARCH_RECORDS == "content"
    keys = bets.LOOKUP_KEYS
    assert (keys.product, keys.order, keys.asn, keys.work_order) == (
        "sku",
        "clientOrderId",
        "clientASNId",
        "clientWorkOrderId",
    )
    assert (bets.RETURN_ORDERS_SEARCH.name, bets.RETURN_ORDERS_SEARCH.matches) == (
        "returnOrders",
        "returnClientOrderId",
    )


def _literals(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string constant of a module except docstrings, and each literal piece of an f-string."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


@pytest.mark.parametrize("source", [s for s in SOURCES if s.name != "bets.py"], ids=lambda s: s.name)
def test_no_other_module_spells_a_bet(source: Path) -> None:
    tree = ast.parse(source.read_text(encoding="utf-8"))

    # An f-string piece such as "orderItems[" counts too: it starts a path with the bet's name.
    spelled = [
        (line, text)
        for line, text in _literals(tree)
        if text in DISTINCTIVE
        or any(text.startswith(f"{value}[") or text.startswith(f"{value}.") for value in DISTINCTIVE)
    ]

    assert spelled == []


def test_the_check_would_see_a_spelled_bet() -> None:
    tree = ast.parse(
        '"""shipToAddress in a docstring is fine."""\nHOLDER = "shipToAddress"\nPATH = f"asnItems[{0}]"\n'
    )

    found = [text for _, text in _literals(tree) if text in DISTINCTIVE or text.startswith("asnItems[")]

    assert found == ["shipToAddress", "asnItems["]
