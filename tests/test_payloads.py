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
        "00123-BLU-M",
        Description="Merino sweater",
        Brand="Alfama",
        Category="Knitwear",
        Manufacturer="Lisbon Knit",
        UPC="012345678905",
        Other_Identifier_Type="EAN",
        Other_Identifier="5601234567890",
        Unit_Cost=18.5,
        Weight=0.8,
        Weight_Unit="LB",
        Length=12,
        Height=9,
        Width=2.5,
        Dimension_Unit="IN",
        Origin_Country="PT",
        Origin_State="Braga",
        HS_Tariff_Code="611011",
        HS_Country="US",
        DOT_Hazmat_Code="UN3481",
        UN_Hazmat_Code="3481",
        Hazmat_Description="Lithium batteries",
        Vendor_Name="Lisbon Knitwear",
        Vendor_Number="00042",
        Fulfillment_Region="PB_ONLY",
        Active=False,
        Create_Date=datetime(2026, 3, 31, 14, 5, 9),
    )
    [item] = items_for(tmp_path, row)
    assert item.key == "00123-BLU-M" and item.rows == (2,) and item.action.value == "UPSERT"
    assert item.payload == {
        "sku": "00123-BLU-M",
        "productType": "ITEM",
        "details": {
            "description": "Merino sweater",
            "brand": "Alfama",
            "category": "Knitwear",
            "manufacturer": "Lisbon Knit",
            "identifiers": [
                {"number": "012345678905", "source": "UPC"},
                {"source": "EAN", "number": "5601234567890"},
            ],
            "unitCost": 18.5,
            "weight": {"value": 0.8, "unitOfMeasurement": "LB"},
            "dimensions": {"length": 12, "height": 9, "width": 2.5, "dimensionUOM": "IN"},
            "originCountryCode": "PT",
            "originStateProvince": "Braga",
            "hsClassification": [{"hsTariffCode": "611011", "countryCode": "US"}],
            "hazmatClassification": [
                {"dotHazmatCode": "UN3481", "unHazmatCode": "3481", "hazmatDescription": "Lithium batteries"}
            ],
        },
        "vendorDetails": {"name": "Lisbon Knitwear", "number": "00042"},
        "fulfillmentRegion": "PB_ONLY",
        "active": False,
        "createDate": "2026-03-31T14:05:09.000+0000",
    }


def test_another_identifier_without_a_upc_is_the_first(tmp_path):
    row = product_row("A", Other_Identifier_Type="ISBN", Other_Identifier="9780306406157")
    [item] = items_for(tmp_path, row)
    assert item.payload["details"]["identifiers"] == [{"source": "ISBN", "number": "9780306406157"}]


def test_sides_are_sent_longest_first_with_a_warning(tmp_path):
    rows = [
        product_row("A", Length=2.5, Height=12, Width=9, Dimension_Unit="CM"),
        product_row("B", Length=12, Height=9, Width=2.5, Dimension_Unit="CM"),
    ]
    checked = check_sheet(read_workbook(write_products(tmp_path / "p.xlsx", rows)).sheets[0])
    [issue] = checked.issues
    assert (issue.row, issue.column, issue.code, issue.is_error) == (
        2,
        "Length",
        "dimensions-reordered",
        False,
    )
    assert issue.message == (
        "Length 2.5, Height 12, Width 9 were sent as length 12, height 9, width 2.5: PB takes "
        "the longest side as length and the shortest as width."
    )
    items = plan_sheet(checked, checked.invalid_rows()).items
    expected = {"length": 12, "height": 9, "width": 2.5, "dimensionUOM": "CM"}
    assert [i.payload["details"]["dimensions"] for i in items] == [expected, expected]


def test_blank_cells_are_left_out(tmp_path):
    [item] = items_for(tmp_path, product_row("A", Description="Mug"))
    assert item.payload == {"sku": "A", "productType": "ITEM", "details": {"description": "Mug"}}


def test_invalid_rows_make_no_items(tmp_path):
    items = items_for(
        tmp_path, product_row("A"), product_row("B", Product_Type="BOX"), product_row("C", Action="update")
    )
    assert [(i.key, i.action.value) for i in items] == [("A", "UPSERT"), ("C", "UPDATE")]


def test_product_datetime_format():
    assert (
        format_datetime(datetime(2026, 1, 2, 3, 4, 5, 678000), PRODUCT_DATETIME)
        == "2026-01-02T03:04:05.678+0000"
    )


def test_projection_is_the_inverse_of_the_payload():
    payload = {
        "sku": "A",
        "productType": "KIT",
        "details": {
            "description": "x",
            "weight": {"value": 1, "unitOfMeasurement": "KG"},
            "identifiers": [{"number": "012345678905", "source": "UPC"}],
        },
    }
    record = {
        **payload,
        "clientId": "c",
        "status": "PUBLISHED",
        "pbCreateDate": "2026-01-01",
        "unknownField": 1,
    }
    assert PRODUCTS.project(record) == payload
