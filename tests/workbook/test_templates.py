"""Templates are derived from the catalogue, and the committed ones are current."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from loader.resources import RESOURCES
from tests.helpers import REPO


def describe(path: Path) -> dict:
    """What a person sees of a template: values, notes, formats, drop-downs, panes, sheet states."""
    book = openpyxl.load_workbook(path)
    out = {}
    for ws in book.worksheets:
        out[ws.title] = {
            "state": ws.sheet_state,
            "cells": [[c.value for c in row] for row in ws.iter_rows()],
            "notes": {c.coordinate: c.comment.text for row in ws.iter_rows() for c in row if c.comment},
            "formats": {k: d.number_format for k, d in ws.column_dimensions.items()},
            "validations": sorted((str(v.sqref), v.formula1) for v in ws.data_validations.dataValidation),
            "freeze": ws.freeze_panes,
        }
    return out


@pytest.mark.parametrize("name", [r.name for r in RESOURCES] + ["all"])
def test_committed_template_matches_the_catalogue(cli, tmp_path, name):
    fresh = tmp_path / f"{name}.xlsx"
    result = cli("template", name, "-o", fresh)
    assert result.exit_code == 0, result.output
    assert describe(REPO / "templates" / f"{name}.xlsx") == describe(fresh), (
        f"templates/{name}.xlsx is out of date: run `pbload template {name} -o templates/{name}.xlsx`"
    )


def test_products_template_anatomy(cli, tmp_path):
    path = tmp_path / "p.xlsx"
    assert cli("template", "products", "-o", path).output == f"Wrote {path}\n"
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Products", "Instructions", "_pbload"]
    ws = book["Products"]
    headers = [c.value for c in ws[1]]
    assert headers[:3] == ["SKU*", "Product Type*", "Description*"]
    assert "UPC" in headers and "UPC*" not in headers
    assert all(c.comment is not None for c in ws[1])
    assert "At most 30 characters" in ws["A1"].comment.text
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["A"].number_format == "@"  # SKU as text
    assert ws.column_dimensions["D"].number_format == "@"  # UPC as text
    lists = {v.formula1 for v in ws.data_validations.dataValidation}
    assert '"ITEM,KIT"' in lists and '"LB,OZ,KG,G"' in lists and '"TRUE,FALSE"' in lists
    meta = book["_pbload"]
    assert meta.sheet_state == "hidden"
    assert [[c.value for c in r] for r in meta.iter_rows()] == [["template", "products"], ["products", 2]]
    instructions = [r[0] for r in book["Instructions"].iter_rows(values_only=True)]
    assert "Example row for Products:" in instructions


def test_template_all_and_unknown_resource(cli, tmp_path):
    assert cli("template", "all", "-o", tmp_path / "all.xlsx").exit_code == 0
    book = openpyxl.load_workbook(tmp_path / "all.xlsx")
    assert book.sheetnames == [
        "Products",
        "BOMs",
        "Work Orders",
        "ASNs",
        "Orders",
        "Returns",
        "Instructions",
        "_pbload",
    ]
    assert [[c.value for c in r] for r in book["_pbload"].iter_rows()][:3] == [
        ["template", "all"],
        ["products", 2],
        ["boms", 1],
    ]
    orders = [c.value for c in book["Orders"][1]]
    assert orders[:2] == ["Client Order ID*", "Customer Order ID"] and "SKU*" in orders
    assert book["Orders"].column_dimensions["R"].number_format == "@"  # postal code keeps its zeros
    result = cli("template", "widgets")
    assert result.exit_code == 2
    assert "unknown resource widgets" in result.output


def test_default_template_file_name(cli, tmp_path):
    result = cli("template", "products")
    assert result.exit_code == 0
    assert (tmp_path / "products.xlsx").exists()
