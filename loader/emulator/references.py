"""Checks that SKUs named in a request body are products of the client (BOMs, work orders, returns).

A reference is checked only when the field passed its own rules, so one mistake gives one error.
An unknown SKU is reported as ``EMU-NOT-FOUND`` inside the request's 400 (the request is wrong, the
path is fine); a kit SKU that names an ITEM product as ``EMU-BAD-STATE``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import errors, products
from .errors import ErrorDetail, detail
from .store import Store

KIT = "KIT"


def flagged(problems: Iterable[ErrorDetail]) -> set[str]:
    """Return the JSON paths that already have a problem."""
    return {path for problem in problems for path in problem.parameters}


def product_problems(
    store: Store, client_id: str, named: Iterable[tuple[str, Any]], skip: set[str], kit: bool = False
) -> list[ErrorDetail]:
    """Return a problem for each ``(path, sku)`` not in ``skip`` whose sku is no product (or no KIT)."""
    wanted = checked_names(named, skip)
    return problems_of(wanted, product_types(store, client_id, [sku for _, sku in wanted]), kit)


def checked_names(named: Iterable[tuple[str, Any]], skip: set[str]) -> list[tuple[str, str]]:
    """The ``(path, sku)`` pairs to look up: a string SKU whose path has no problem yet."""
    return [(path, sku) for path, sku in named if path not in skip and isinstance(sku, str)]


def product_types(store: Store, client_id: str, skus: Iterable[str]) -> dict[str, Any]:
    """Return ``{sku: productType}`` for those of ``skus`` that are products of the client, in one query."""
    return store.fields(products.RESOURCE, client_id, list(skus), "productType")


def problems_of(
    wanted: Iterable[tuple[str, str]], types: dict[str, Any], kit: bool = False
) -> list[ErrorDetail]:
    """Return a problem for each ``(path, sku)`` whose sku is not in ``types`` (or, with ``kit``, no KIT)."""
    problems: list[ErrorDetail] = []
    for path, sku in wanted:
        if sku not in types:
            problems.append(detail(errors.NOT_FOUND, f"{path} {sku} is not a product of this client", path))
        elif kit and types[sku] != KIT:
            message = f"{path} {sku} is a product of type {types[sku]}, not {KIT}"
            problems.append(detail(errors.BAD_STATE, message, path))
    return problems
