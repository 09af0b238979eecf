"""Payloads have the shape of the API reference (§8.1, §8.3, §21.1)."""

from __future__ import annotations

from datetime import datetime

from loader.checks import check_sheet
from loader.plan import plan_sheet
from loader.resources.base import PRODUCT_DATETIME, format_datetime
from loader.resources.products import PRODUCTS
from loader.workbook.reader import read_workbook
from tests.helpers import product_row, write_products


def items_for(tmp_path, *rows):
    checked = check_sheet(read_workbook(write_products(tmp_path / "p.xlsx", rows)).sheets[0])
    return plan_sheet(checked, checked.invalid_rows()).items


def test_full_product_payload(tmp_path):
    row = product_row(
        "00123-BLU-M", Description="Merino sweater", UPC="012345678905", Unit_Cost=18.5, Weight=0.8,
        Weight_Unit="LB", Length=12, Width=9, Height=2.5, Dimension_Unit="IN", Country_of_Origin="PT",
        HS_Code="611011", Vendor_Name="Lisbon Knitwear", Vendor_Number="00042", Fulfillment_Region="PB_ONLY",
        Active=False, Create_Date=datetime(2026, 3, 31, 14, 5, 9),
    )
    [item] = items_for(tmp_path, row)
    assert item.key == "00123-BLU-M" and item.rows == (2,) and item.action.value == "UPSERT"
    assert item.payload == {
        "sku": "00123-BLU-M",
        "productType": "ITEM",
        "details": {
            "description": "Merino sweater",
            "upc": "012345678905",
            "unitCost": 18.5,
            "weight": {"value": 0.8, "unit": "LB"},
            "dimensions": {"length": 12, "width": 9, "height": 2.5, "unit": "IN"},
            "countryOfOrigin": "PT",
            "hsCode": "611011",
        },
        "vendorDetails": {"name": "Lisbon Knitwear", "number": "00042"},
        "fulfillmentRegion": "PB_ONLY",
        "active": False,
        "createDate": "2026-03-31T14:05:09.000+0000",
    }


def test_blank_cells_are_left_out(tmp_path):
    [item] = items_for(tmp_path, product_row("A", Description="Mug"))
    assert item.payload == {"sku": "A", "productType": "ITEM", "details": {"description": "Mug"}}


def test_invalid_rows_make_no_items(tmp_path):
    items = items_for(tmp_path, product_row("A"), product_row("B", Product_Type="BOX"), product_row("C", Action="update"))
    assert [(i.key, i.action.value) for i in items] == [("A", "UPSERT"), ("C", "UPDATE")]


def test_product_datetime_format():
    assert format_datetime(datetime(2026, 1, 2, 3, 4, 5, 678000), PRODUCT_DATETIME) == "2026-01-02T03:04:05.678+0000"


def test_projection_is_the_inverse_of_the_payload():
    payload = {"sku": "A", "productType": "KIT", "details": {"description": "x", "weight": {"value": 1, "unit": "KG"}}}
    record = {**payload, "clientId": "c", "status": "PUBLISHED", "pbCreateDate": "2026-01-01", "unknownField": 1}
    assert PRODUCTS.project(record) == payload
