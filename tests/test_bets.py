"""Each bet of api §21.8 is declared once on each side, and the two declarations agree."""

from __future__ import annotations

import ast
from pathlib import Path

from loader import bets
from loader.emulator import bets as emulator_bets
from tests.helpers import REPO

# Bet values no documented name shares, so a literal of one anywhere else is a second declaration.
DISTINCTIVE = {
    bets.SHIP_TO_ADDRESS,
    bets.ORDER_LINES,
    bets.ASN_LINES,
    bets.RETURN_LINES,
    bets.WORK_ORDER_QUANTITY,
    bets.RETURN_ADDRESS,
    bets.RETURN_LOOKUP,
    bets.SEARCH_RECORDS,
    bets.DIMENSIONS,
    bets.WEIGHT,
    bets.UNIT_COST,
}


def test_every_bet_is_declared_once_with_its_clue():
    assert [bet.number for bet in bets.BETS] == list(range(1, 15))
    assert all(bet.choice and bet.clue for bet in bets.BETS)
    assert bets.BY_NUMBER[9].name == "BET-9"


def _literals(path: Path) -> set[str]:
    """The string constants of a module, f-string parts included, docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    }


def test_no_other_loader_module_spells_a_bet():
    modules = [
        p for p in (REPO / "loader").rglob("*.py") if "emulator" not in p.parts and p.name != "bets.py"
    ]
    spelled = {
        (p.relative_to(REPO).as_posix(), value)
        for p in modules
        for value in _literals(p)
        if value in DISTINCTIVE
        or any(value.startswith(v + ".") or value.startswith(v + "[") for v in DISTINCTIVE)
    }
    assert spelled == set()


def test_the_loader_and_the_emulator_bet_the_same():
    e = {bet.number: bet.value for bet in emulator_bets.BETS}
    assert e[1] == bets.SHIP_TO_ADDRESS
    assert (e[2].order, e[2].asn, e[2].returns) == (bets.ORDER_LINES, bets.ASN_LINES, bets.RETURN_LINES)
    assert e[3] == bets.UPC_SOURCE
    assert f"details.{e[4]}" == bets.DIMENSIONS
    assert (f"details.{e[5].holder}", e[5].value, e[5].unit) == (
        bets.WEIGHT,
        bets.WEIGHT_VALUE,
        bets.WEIGHT_UNIT,
    )
    assert f"details.{e[6]}" == bets.UNIT_COST
    assert tuple(e[7]) == bets.DIMENSION_UNITS
    assert (e[8].child_sku, e[8].quantity) == (bets.BOM_COMPONENT_SKU, bets.BOM_COMPONENT_QUANTITY)
    assert e[9] == bets.WORK_ORDER_QUANTITY
    assert (e[10].shipping, e[10].address) == (bets.RETURN_SHIPPING, bets.RETURN_ADDRESS)
    assert e[11].errors == bets.BULK_RESULT_ERRORS
    assert e[12] == bets.SEARCH_RECORDS
    assert (e[13].product, e[13].order, e[13].asn, e[13].work_order) == (
        bets.PRODUCT_KEY,
        bets.ORDER_KEY,
        bets.ASN_KEY,
        bets.WORK_ORDER_KEY,
    )
    assert e[14].name == bets.RETURN_LOOKUP
