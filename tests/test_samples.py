"""Every committed sample, end to end through `pbload load` on a fresh local state."""

from __future__ import annotations

import shutil

import openpyxl
import pytest

from tests.helpers import SAMPLES, read_statuses

ALL_SHEETS = {"Products": 26, "BOMs": 8, "Work Orders": 3, "ASNs": 6, "Orders": 8, "Returns": 4}
SHEET_OF = {
    "products": "Products",
    "boms": "BOMs",
    "work-orders": "Work Orders",
    "asns": "ASNs",
    "orders": "Orders",
    "returns": "Returns",
}


@pytest.fixture
def sample(tmp_path):
    def copy(name: str):
        target = tmp_path / name
        shutil.copy(SAMPLES / name, target)
        return target

    return copy


def result_of(path):
    return path.with_name(path.stem + ".result.xlsx")


def statuses(path, sheet):
    return {row: r["Status"] for row, r in read_statuses(result_of(path), sheet).items()}


def test_all_in_one_loads_on_a_fresh_state_then_reloads_unchanged(cli, sample, local_emulator):
    path = sample("all-in-one.xlsx")
    first = cli("load", path)
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert [line for line in lines if " rows — " in line] == [
        f"{sheet}: {n} rows — {n} created" for sheet, n in ALL_SHEETS.items()
    ]
    for sheet, n in ALL_SHEETS.items():
        assert list(statuses(path, sheet).values()) == ["CREATED"] * n, sheet
    emulator = local_emulator()
    assert (len(emulator.products()), len(emulator.asns()), len(emulator.orders())) == (26, 2, 5)

    second = cli("load", path)
    assert second.exit_code == 0, second.output
    assert [line for line in second.output.splitlines() if " rows — " in line] == [
        f"{sheet}: {n} rows — {n} unchanged" for sheet, n in ALL_SHEETS.items()
    ]
    for sheet, n in ALL_SHEETS.items():
        assert list(statuses(path, sheet).values()) == ["UNCHANGED"] * n, sheet


def test_all_in_one_records_carry_pb_ids(cli, sample):
    path = sample("all-in-one.xlsx")
    assert cli("load", path).exit_code == 0
    ids = {
        sheet: {r["PB ID"] for r in read_statuses(result_of(path), sheet).values()}
        for sheet in ("BOMs", "Work Orders", "ASNs", "Orders", "Returns")
    }
    assert ids == {
        "BOMs": {"BOM-000001", "BOM-000002", "BOM-000003"},
        "Work Orders": {"WO-000001", "WO-000002", "WO-000003"},
        "ASNs": {"ASN000001", "ASN000002"},
        "Orders": {f"ORD00000{n}" for n in range(1, 6)},
        "Returns": {"RET-000001", "RET-000002", "RET-000003"},
    }


def test_each_sample_loads_after_the_ones_it_needs(cli, sample):
    # products first, bills of materials before the work orders that build their kits
    for name in ("products", "boms", "work-orders", "asns", "orders", "returns"):
        path = sample(f"{name}.xlsx")
        result = cli("load", path)
        assert result.exit_code == 0, result.output
        assert set(statuses(path, SHEET_OF[name]).values()) == {"CREATED"}, name


# The mistakes written by tests/tools/make_samples.py: (row, Error Code) of each INVALID row; the rows of a
# group with a mistake that are themselves fine are `invalid-group`.
MISTAKES = {
    "products": {
        2: "duplicate-key",
        3: "number-in-text-column",
        4: "required",
        5: "not-allowed",
        6: "bad-format",
        7: "required",
        8: "out-of-range",
        9: "too-long",
        10: "bad-format",
        11: "duplicate-key",
    },
    "boms": {
        2: "invalid-group",
        3: "self-reference",
        4: "too-long",
        5: "invalid-group",
        6: "duplicate-line",
        7: "out-of-range",
    },
    "work-orders": {2: "out-of-range", 3: "required", 4: "not-allowed", 5: "too-long"},
    "asns": {
        2: "required",
        3: "invalid-group",
        4: "invalid-group",
        5: "duplicate-line",
        6: "invalid-group",
        7: "header-mismatch",
        8: "wrong-type",
    },
    "orders": {
        4: "required",
        5: "required",
        6: "invalid-group",
        7: "out-of-range",
        8: "number-in-text-column",
        9: "invalid-group",
        10: "header-mismatch",
        11: "no-header",
        12: "invalid-group",
        13: "duplicate-line",
        15: "required",
    },
    "returns": {2: "out-of-range", 3: "required", 4: "too-long", 5: "no-header"},
}
LOADED = {
    "products": [12, 13],
    "boms": [8, 9],
    "work-orders": [6],
    "asns": [9],
    "orders": [2, 3, 14],
    "returns": [6],
}
SUMMARIES = {
    "products": "Products: 12 rows — 2 created, 10 invalid",
    "boms": "BOMs: 8 rows — 2 created, 6 invalid",
    "work-orders": "Work Orders: 5 rows — 1 created, 4 invalid",
    "asns": "ASNs: 8 rows — 1 created, 7 invalid",
    "orders": "Orders: 14 rows — 3 created, 11 invalid",
    "returns": "Returns: 5 rows — 1 created, 4 invalid",
}
# One mistake per sample: the cell and the comment pbload puts on it.
COMMENTS = {
    "products": (5, "Product Type", "Product Type 'BUNDLE' is not allowed; use one of ITEM, KIT."),
    "boms": (
        3,
        "Component SKU",
        "Component SKU KIT-MUG-4 is the Kit SKU itself; a kit cannot contain itself.",
    ),
    "work-orders": (4, "Type", "Type 'ASSEMBLY' is not allowed; use one of KIT, REFURBISHED, OTHER."),
    "asns": (
        7,
        "Receiving Node",
        "Receiving Node '212' differs from '157' on row 6, the first row of Client ASN ID "
        "ASN-2026-0423. Leave it blank or repeat the same value.",
    ),
    "orders": (5, "Ship-To State", "Ship-To State is required when Ship-To Country is CA."),
    "returns": (
        5,
        "Return Client Order ID",
        "This line has no Return Client Order ID: fill it in to say which one it belongs to.",
    ),
}


def comment_on(path, sheet, row, header):
    ws = openpyxl.load_workbook(path)[sheet]
    headers = [str(c.value).rstrip("*") for c in ws[1]]
    comment = ws.cell(row=row, column=headers.index(header) + 1).comment
    return comment.text if comment else None


@pytest.mark.parametrize("name", list(MISTAKES))
def test_each_sample_with_errors_points_at_its_mistakes(cli, sample, name):
    assert cli("load", sample("products.xlsx")).exit_code == 0
    path = sample(f"{name}-with-errors.xlsx")
    result = cli("load", path)
    assert result.exit_code == 1, result.output
    assert SUMMARIES[name] in result.output.splitlines()
    rows = read_statuses(result_of(path), SHEET_OF[name])
    assert {row: r["Error Code"] for row, r in rows.items() if r["Status"] == "INVALID"} == MISTAKES[name]
    assert sorted(row for row, r in rows.items() if r["Status"] == "CREATED") == LOADED[name]
    row, header, message = COMMENTS[name]
    assert comment_on(result_of(path), SHEET_OF[name], row, header) == message
    assert f"{SHEET_OF[name]} row {row}, {header}: {message}" in result.output


def test_the_rest_of_a_group_names_the_row_with_the_mistake(cli, sample):
    cli("load", sample("products.xlsx"))
    path = sample("orders-with-errors.xlsx")
    cli("load", path)
    rows = read_statuses(result_of(path), "Orders")
    assert rows[6]["Message"] == "Not sent: row 7 of Client Order ID SO-100244 has a problem."
    assert rows[7]["Message"] == "Quantity: Quantity must be at least 1, not 0."
