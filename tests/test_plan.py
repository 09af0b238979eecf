"""loader/plan.py: rows into items, past a chunk of 200 — each item's values and body as its rows give them,
the rows that must not be sent settled, and what an item depends on named by the resources."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from loader.checks import check_sheet
from loader.models import Reference, Status
from loader.plan import _as_list, plan_sheet
from loader.resources import BY_NAME
from loader.workbook.reader import read_workbook
from tests.helpers import write_workbook
from tests.resources.test_actions import WORK_ORDER

ORDERS = 230  # groups past one chunk of 200


def order_rows() -> list[dict]:
    rows = []
    for n in range(ORDERS):
        for line in (1, 2):
            row = {"SKU": f"P{line}", "Quantity": line + n % 3, "Line ID": line}
            if line == 1:  # header values on the group's first row; some optional cells left blank
                row |= {
                    "Client Order ID": f"SO-{n:04}",
                    "Order Date": datetime(2026, 11, 20, 9, n % 60),
                    "Carrier": "USPS",
                    "Service": "PRIORITY",
                    "Ship-To Name": f"Customer {n}",
                    "Ship-To Address Line 1": f"{n} Main Street",
                    "Ship-To Address Line 2": "Suite 4" if n % 2 else None,
                    "Ship-To City": "Shelton",
                    "Ship-To State": "CT",
                    "Ship-To Postal Code": "06484",
                    "Ship-To Country": "US",
                }
            else:
                row["Client Order ID"] = f"SO-{n:04}"
            rows.append(row)
    return rows


def checked(tmp_path, sheet, rows):
    return check_sheet(read_workbook(write_workbook(tmp_path / "w.xlsx", {sheet: rows})).sheets[0])


def records(frame: pd.DataFrame) -> dict[int, dict]:
    """Each row's values the way planning once made them: the whole frame at once, blanks None."""
    plain = frame.astype(object).where(frame.notna(), None)
    return dict(zip((int(r) for r in frame.index), plain.to_dict("records"), strict=True))


def test_each_items_values_and_body_are_its_rows_past_a_chunk(tmp_path):
    rows = checked(tmp_path, "Orders", order_rows())
    plan = plan_sheet(rows, rows.invalid_rows())
    assert (len(plan.items), plan.settled) == (ORDERS, {})
    resource, by_row = rows.data.resource, records(rows.values)
    for item in plan.items:
        values = tuple(by_row[r] for r in item.rows)
        assert item.values == values
        assert item.payload == resource.build_payload(values[0], list(values))
    last = plan.items[-1]
    assert (last.key, last.rows) == (f"SO-{ORDERS - 1:04}", (2 * ORDERS, 2 * ORDERS + 1))
    assert [line["sku"] for line in last.payload["orderItems"]] == ["P1", "P2"]
    assert last.references == (
        Reference("products", "P1", 2 * ORDERS, "SKU"),
        Reference("products", "P2", 2 * ORDERS + 1, "SKU"),
    )


def test_without_bodies_items_keep_their_values_and_make_no_body(tmp_path):
    rows = checked(tmp_path, "Orders", order_rows())
    plan = plan_sheet(rows, rows.invalid_rows(), bodies=False)
    assert len(plan.items) == ORDERS
    assert all(item.payload == {} for item in plan.items)
    assert plan.items[201].values[0]["clientOrderId"] == "SO-0201"


def test_a_bad_line_settles_its_whole_group_and_no_other(tmp_path):
    bad = order_rows()
    bad[2 * 210 + 1]["Quantity"] = "lots"  # order 210's second line, past the first chunk
    rows = checked(tmp_path, "Orders", bad)
    plan = plan_sheet(rows, rows.invalid_rows())
    assert len(plan.items) == ORDERS - 1
    first, second = 2 * 210 + 2, 2 * 210 + 3
    assert plan.settled[second].status is Status.INVALID
    assert plan.settled[first].error_code == "invalid-group"
    assert plan.settled[first].message == f"Not sent: row {second} of Client Order ID SO-0210 has a problem."
    assert set(plan.settled) == {first, second}


def test_a_work_orders_kit_is_a_product_and_the_bill_of_materials_it_waits_for(tmp_path):
    rows = checked(tmp_path, "Work Orders", [WORK_ORDER])
    (item,) = plan_sheet(rows, rows.invalid_rows()).items
    assert item.references == (
        Reference("products", "KIT-1", 2, "Kit SKU"),
        Reference("boms", "KIT-1", 2, "Kit SKU"),
    )
    assert BY_NAME["boms"].dependency_label.format(key="KIT-1") == "the bill of materials for KIT-1"


def test_a_columns_values_are_its_objects_with_blanks_as_none():
    """Every kind of column a checked frame can hold converts as `astype(object)` and `where` convert it."""
    columns = [
        pd.Series([1.5, np.nan, 2.0]),
        pd.Series([1, 2, 3]),
        pd.Series([True, False]),
        pd.Series(["a", None, np.nan, pd.NA, pd.NaT]),
        pd.Series([datetime(2026, 1, 1), None]),
        pd.Series(pd.to_datetime(["2026-01-01", None])),
        pd.Series([None, None]),
        pd.Series([np.nan, np.nan]),
        pd.Series([], dtype=object),
        pd.Series(["a", None], dtype="string"),
        pd.Series([1, None], dtype="Int64"),
        pd.Series(["x", "y", "x"], dtype="category"),
    ]
    for column in columns:
        want = column.astype(object).where(column.notna(), None).tolist()
        got = _as_list(column)
        assert [type(v) for v in got] == [type(v) for v in want]
        assert [v if v == v else "NaN" for v in got] == [v if v == v else "NaN" for v in want]
