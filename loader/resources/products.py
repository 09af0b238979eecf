"""Products: the `Products` sheet and `POST /v1/products/bulk` (API reference §8, §21.1)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from loader import bets
from loader.codes import Code
from loader.models import Action, Issue, Severity
from loader.resources.address import COUNTRY_HINT, COUNTRY_PATTERN
from loader.resources.base import PRODUCT_DATETIME, ApiSpec, Field, Kind, Resource

# API limits and paths (§8.3, §21.3).
MAX_BULK_ITEMS = 200
BULK_PATH = "/v1/products/bulk"
ITEM_PATH = "/v1/products/{sku}"
API = ApiSpec(
    search_path="/v1/products/search",
    search_key=bets.PRODUCT_KEY,
    pb_id=None,
    item_path=ITEM_PATH,
    bulk_path=BULK_PATH,
    bulk_array="products",
    bulk_operation=True,
    max_bulk_items=MAX_BULK_ITEMS,
    # product search returns the last six months unless asked otherwise (§8.5): ask for all time
    lookup_fields=({"name": "pbCreateDate", "values": ["2000-01-01T00:00:00Z", None]},),
)

_DIMENSION_SIDES = ("length", "height", "width")  # PB's order: the longest side, the second, the shortest
_DIMENSIONS = tuple(f"{bets.DIMENSIONS}.{side}" for side in _DIMENSION_SIDES)
_DIMENSION_UNIT = f"{bets.DIMENSIONS}.dimensionUOM"
_WEIGHT_VALUE = f"{bets.WEIGHT}.{bets.WEIGHT_VALUE}"
_WEIGHT_UNIT = f"{bets.WEIGHT}.{bets.WEIGHT_UNIT}"
_HS_CODE, _HS_COUNTRY = "details.hsClassification[0].hsTariffCode", "details.hsClassification[0].countryCode"
_OTHER_ID_SOURCE, _OTHER_ID = "details.identifiers[1].source", "details.identifiers[1].number"


def _dimension(header: str, path: str, which: str, example: float) -> Field:
    others = tuple(p for p in _DIMENSIONS if p != path) + (_DIMENSION_UNIT,)
    return Field(
        header,
        path,
        Kind.DECIMAL,
        f"{which} of the packed product, in the Dimension Unit. PB takes the longest side as length, "
        "the second as height and the shortest as width; pbload sends your numbers in that order.",
        minimum=0,
        minimum_exclusive=True,
        required_with=others,
        example=example,
        width=10,
    )


def _text(header: str, path: str, help: str, max_length: int, width: int = 16, **rules: Any) -> Field:
    return Field(header, path, Kind.TEXT, help, max_length=max_length, width=width, **rules)


FIELDS = (
    Field(
        "SKU",
        "sku",
        Kind.CODE,
        "Your stock-keeping unit: the product's key at PB.",
        required=True,
        max_length=30,
        example="00123-BLU-M",
        width=20,
    ),
    Field(
        "Product Type",
        "productType",
        Kind.CHOICE,
        "ITEM for a single product, KIT for a kit built from a bill of materials.",
        required=True,
        choices=("ITEM", "KIT"),
        example="ITEM",
        width=14,
    ),
    _text(
        "Description",
        "details.description",
        "What the product is, as pickers and packers see it.",
        100,
        width=40,
        required=True,
        example="Merino crew-neck sweater, blue, M",
    ),
    _text("Brand", "details.brand", "The product's brand.", 50, width=14, example="Alfama"),
    _text("Category", "details.category", "Your category for the product.", 50, width=14, example="Knitwear"),
    _text("Manufacturer", "details.manufacturer", "Who makes the product.", 255, width=20),
    Field(
        "UPC",
        "details.identifiers[0].number",
        Kind.CODE,
        "Barcode number printed on the product (sent as an identifier of source UPC).",
        max_length=14,
        pattern=r"[0-9]+",
        pattern_hint="digits only",
        fixed=(("details.identifiers[0].source", bets.UPC_SOURCE),),
        example="012345678905",
        width=16,
    ),
    Field(
        "Other Identifier Type",
        _OTHER_ID_SOURCE,
        Kind.CODE,
        "The kind of another identifier, such as EAN or ISBN.",
        max_length=10,
        required_with=(_OTHER_ID,),
        width=12,
    ),
    Field(
        "Other Identifier",
        _OTHER_ID,
        Kind.CODE,
        "The other identifier's number.",
        max_length=100,
        required_with=(_OTHER_ID_SOURCE,),
        width=16,
    ),
    Field(
        "Unit Cost",
        bets.UNIT_COST,
        Kind.DECIMAL,
        "Cost of one unit, in your account currency.",
        minimum=0,
        example=18.5,
        width=11,
    ),
    Field(
        "Weight",
        _WEIGHT_VALUE,
        Kind.DECIMAL,
        "Weight of one packed unit, in the Weight Unit.",
        minimum=0,
        minimum_exclusive=True,
        required_with=(_WEIGHT_UNIT,),
        example=0.8,
        width=10,
    ),
    Field(
        "Weight Unit",
        _WEIGHT_UNIT,
        Kind.CHOICE,
        "Unit of the Weight column.",
        choices=("LB", "OZ", "KG", "G"),
        required_with=(_WEIGHT_VALUE,),
        example="LB",
        width=12,
    ),
    _dimension("Length", _DIMENSIONS[0], "The longest side", 12),
    _dimension("Height", _DIMENSIONS[1], "The second longest side", 9),
    _dimension("Width", _DIMENSIONS[2], "The shortest side", 2.5),
    Field(
        "Dimension Unit",
        _DIMENSION_UNIT,
        Kind.CHOICE,
        "Unit of Length, Height and Width.",
        choices=bets.DIMENSION_UNITS,
        required_with=_DIMENSIONS,
        example="IN",
        width=14,
    ),
    Field(
        "Origin Country",
        "details.originCountryCode",
        Kind.CODE,
        "Where the product was made, as a two-letter ISO country code.",
        pattern=COUNTRY_PATTERN,
        pattern_hint=COUNTRY_HINT,
        example="PT",
        width=12,
    ),
    _text(
        "Origin State",
        "details.originStateProvince",
        "The state or province where the product was made.",
        50,
        width=12,
    ),
    Field(
        "HS Tariff Code",
        _HS_CODE,
        Kind.CODE,
        "Harmonized System tariff code for customs (give its country too).",
        max_length=30,
        required_with=(_HS_COUNTRY,),
        example="611011",
        width=12,
    ),
    Field(
        "HS Country",
        _HS_COUNTRY,
        Kind.CODE,
        "The country whose tariff the HS Tariff Code is, as a two-letter code.",
        pattern=COUNTRY_PATTERN,
        pattern_hint=COUNTRY_HINT,
        required_with=(_HS_CODE,),
        example="US",
        width=10,
    ),
    Field(
        "DOT Hazmat Code",
        "details.hazmatClassification[0].dotHazmatCode",
        Kind.CODE,
        "US Department of Transportation hazardous-material code, for dangerous goods.",
        max_length=10,
        width=12,
    ),
    Field(
        "UN Hazmat Code",
        "details.hazmatClassification[0].unHazmatCode",
        Kind.CODE,
        "UN number of a dangerous good (such as UN3481).",
        max_length=10,
        width=12,
    ),
    _text(
        "Hazmat Description",
        "details.hazmatClassification[0].hazmatDescription",
        "What makes the product dangerous goods.",
        100,
        width=20,
    ),
    Field(
        "Vendor Name",
        "vendorDetails.name",
        Kind.TEXT,
        "Who supplies the product. Give both Vendor Name and Vendor Number, or neither.",
        max_length=50,
        required_with=("vendorDetails.number",),
        example="Lisbon Knitwear Lda",
        width=24,
    ),
    Field(
        "Vendor Number",
        "vendorDetails.number",
        Kind.CODE,
        "The vendor's identifier in your systems.",
        max_length=30,
        required_with=("vendorDetails.name",),
        example="V-0042",
        width=14,
    ),
    Field(
        "Fulfillment Region",
        "fulfillmentRegion",
        Kind.CHOICE,
        "Where the product is fulfilled; blank means PB_ONLY (THIRD_PARTY and ALL are reserved by PB).",
        choices=("PB_ONLY", "THIRD_PARTY", "ALL"),
        example="PB_ONLY",
        width=18,
    ),
    Field(
        "Active",
        "active",
        Kind.BOOLEAN,
        "Whether the product can be ordered.",
        example=True,
        width=9,
    ),
    Field(
        "Create Date",
        "createDate",
        Kind.DATETIME,
        "When the product was created in your own system.",
        datetime_format=PRODUCT_DATETIME,
        width=18,
    ),
    Field(
        "Update Date",
        "updateDate",
        Kind.DATETIME,
        "When the product last changed in your own system.",
        datetime_format=PRODUCT_DATETIME,
        width=18,
    ),
    Field(
        "Action",
        None,
        Kind.CHOICE,
        "What to do with the row: blank or UPSERT creates the product, or updates it if PB has it; "
        "CREATE only creates; UPDATE only updates.",
        choices=("UPSERT", "CREATE", "UPDATE"),
        width=10,
    ),
)


def order_dimensions(payload: dict[str, Any]) -> None:
    """Send the sides as PB defines them: length the longest, height the second, width the shortest (§22.5)."""
    dimensions = payload.get("details", {}).get("dimensions")
    if dimensions and all(side in dimensions for side in _DIMENSION_SIDES):
        ordered = sorted((dimensions[side] for side in _DIMENSION_SIDES), reverse=True)
        dimensions.update(zip(_DIMENSION_SIDES, ordered, strict=False))


def dimensions_reordered(sheet: str, values: pd.DataFrame) -> list[Issue]:
    """A warning on each row whose three sides pbload had to put in PB's order."""
    if not all(path in values for path in _DIMENSIONS):
        return []
    sides = values[list(_DIMENSIONS)].astype(float)
    given = sides.notna().all(axis=1)
    ordered = (sides.iloc[:, 0] >= sides.iloc[:, 1]) & (sides.iloc[:, 1] >= sides.iloc[:, 2])
    issues = []
    for row, (length, height, width) in sides[given & ~ordered].iterrows():
        longest, second, shortest = sorted((length, height, width), reverse=True)
        issues.append(
            Issue(
                sheet,
                int(row),
                "Length",
                Code.DIMENSIONS_REORDERED,
                f"Length {length:g}, Height {height:g}, Width {width:g} were sent as length {longest:g}, height "
                f"{second:g}, width {shortest:g}: PB takes the longest side as length and the shortest as width.",
                Severity.WARNING,
            )
        )
    return issues


PRODUCTS = Resource(
    name="products",
    sheet="Products",
    dependency_label="product {key}",
    fields=FIELDS,
    key="sku",
    template_version=2,
    actions=(Action.UPSERT, Action.CREATE, Action.UPDATE),
    api=API,
    finish=order_dimensions,
    row_checks=(dimensions_reordered,),
    template_changes={
        2: "'Country of Origin' is now 'Origin Country', 'HS Code' is now 'HS Tariff Code' with an 'HS Country'; "
        "Length, Height and Width follow PB (longest side first); new columns Brand, Category, Manufacturer, "
        "Origin State, Other Identifier Type, Other Identifier, DOT Hazmat Code, UN Hazmat Code and "
        "Hazmat Description.",
    },
    instructions=(
        "One row per product. The SKU is the product's key: each SKU may appear only once.",
        "Loading the same workbook again updates changed products and leaves unchanged ones alone.",
    ),
)
