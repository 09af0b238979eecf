"""loader/resources/base.py: `BodyMaker` makes, from a sheet's columns, the bodies `build_payload` makes from
its rows: the same fields, values, defaults, numbered lines and slots, in the same order, for every resource."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from loader.resources import RESOURCES
from loader.resources.base import BodyMaker, Field, Kind, Resource
from loader.resources.products import PRODUCTS

# what a checked cell of each kind holds (blank: None), a few values each so that groups repeat them
_VALUES = {
    Kind.TEXT: st.sampled_from(["A", "Widget", "12"]),
    Kind.CODE: st.sampled_from(["SKU-1", "007", "X"]),
    Kind.INTEGER: st.integers(1, 3),
    Kind.DECIMAL: st.sampled_from([1.0, 2.5, 0.25, 12.0]),
    Kind.BOOLEAN: st.booleans(),
    Kind.DATE: st.sampled_from([date(2026, 12, 1), date(2027, 1, 31)]),
    Kind.DATETIME: st.sampled_from([datetime(2026, 11, 20, 9, 30), datetime(2027, 2, 1, 0, 0, 5, 123000)]),
}


def cell(f: Field) -> st.SearchStrategy[Any]:
    if f.choices:
        given = st.sampled_from(f.choices)
    elif f.separator:
        given = st.sampled_from(["Damaged", f"Damaged{f.separator} Too small", f" {f.separator}Late"])
    else:
        given = _VALUES[f.kind]
    return st.none() | given


@st.composite
def sheets(draw: st.DrawFn) -> tuple[Resource, dict[str, list[Any]], list[tuple[int, ...]]]:
    """A resource, some of its columns (each blank in places, some blank throughout) and its items' rows."""
    resource = draw(st.sampled_from(RESOURCES))
    rows = draw(st.integers(1, 7))
    columns = {
        f.name: draw(st.lists(cell(f), min_size=rows, max_size=rows))
        for f in resource.fields
        if f.path and draw(st.booleans())
    }
    if resource.lines is None:
        return resource, columns, [(at,) for at in range(rows)]
    cuts = sorted(draw(st.sets(st.integers(1, rows - 1), max_size=rows - 1))) if rows > 1 else []
    bounds = [0, *cuts, rows]
    return resource, columns, [tuple(range(a, b)) for a, b in zip(bounds, bounds[1:], strict=False)]


@settings(max_examples=400, deadline=None)
@given(sheets())
def test_bodies_from_columns_are_build_payloads_bodies(sheet):
    resource, columns, items = sheet
    maker = BodyMaker(resource, columns.get)
    for positions in items:
        rows = [{name: values[at] for name, values in columns.items()} for at in positions]
        want = resource.build_payload(rows[0], rows if resource.lines else None)
        # the same keys in the same order: the bodies sent, and their fingerprints, are the same bytes
        assert json.dumps(maker.make(positions)) == json.dumps(want)


def test_dates_formatted_once_are_told_apart_by_zone_and_type():
    """A sheet's repeated dates are formatted once; equal values written differently are not taken for one."""
    utc, plus_two = UTC, timezone(timedelta(hours=2))
    noon = datetime(2026, 11, 20, 12, 0)
    column = [
        noon,
        noon,
        pd.Timestamp(noon),
        noon.replace(tzinfo=utc),
        datetime(2026, 11, 20, 14, 0, tzinfo=plus_two),  # the same instant as the one before
        noon.replace(tzinfo=utc),
    ]
    columns = {"sku": [f"S{n}" for n in range(len(column))], "createDate": column}
    maker = BodyMaker(PRODUCTS, columns.get)
    for at in range(len(column)):
        row = {name: values[at] for name, values in columns.items()}
        assert json.dumps(maker.make((at,))) == json.dumps(PRODUCTS.build_payload(row))
    assert [maker.make((at,))["createDate"] for at in (0, 3, 4)] == [
        "2026-11-20T12:00:00.000+0000",
        "2026-11-20T12:00:00.000+0000",
        "2026-11-20T14:00:00.000+0200",
    ]
