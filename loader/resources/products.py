"""Products: the `Products` sheet and `POST /v1/products/bulk` (API reference §8, §21.1)."""

from __future__ import annotations

from loader.models import Action
from loader.resources.base import PRODUCT_DATETIME, ApiSpec, Field, Kind, Resource

# API limits and paths (§8.3, §21.3).
MAX_BULK_ITEMS = 200
BULK_PATH = "/v1/products/bulk"
ITEM_PATH = "/v1/products/{sku}"
API = ApiSpec(
    search_path="/v1/products/search",
    search_key="sku",
    pb_id=None,
    item_path=ITEM_PATH,
    bulk_path=BULK_PATH,
    bulk_array="products",
    bulk_operation=True,
    max_bulk_items=MAX_BULK_ITEMS,
    # product search returns the last six months unless asked otherwise (§8.5): ask for all time
    lookup_fields=({"name": "pbCreateDate", "values": ["2000-01-01T00:00:00Z", None]},),
)

_DIMENSIONS = ("details.dimensions.length", "details.dimensions.width", "details.dimensions.height")


def _dimension(header: str, path: str, example: float) -> Field:
    others = tuple(p for p in _DIMENSIONS if p != path) + ("details.dimensions.unit",)
    return Field(
        header,
        path,
        Kind.DECIMAL,
        f"{header} of the packed product, in the Dimension Unit.",
        minimum=0,
        minimum_exclusive=True,
        required_with=others,
        example=example,
        width=10,
    )


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
    Field(
        "Description",
        "details.description",
        Kind.TEXT,
        "What the product is, as pickers and packers see it.",
        required=True,
        max_length=100,
        example="Merino crew-neck sweater, blue, M",
        width=40,
    ),
    Field(
        "UPC",
        "details.upc",
        Kind.CODE,
        "Barcode number printed on the product.",
        max_length=14,
        pattern=r"[0-9]+",
        pattern_hint="digits only",
        example="012345678905",
        width=16,
    ),
    Field(
        "Unit Cost",
        "details.unitCost",
        Kind.DECIMAL,
        "Cost of one unit, in your account currency.",
        minimum=0,
        example=18.5,
        width=11,
    ),
    Field(
        "Weight",
        "details.weight.value",
        Kind.DECIMAL,
        "Weight of one packed unit, in the Weight Unit.",
        minimum=0,
        minimum_exclusive=True,
        required_with=("details.weight.unit",),
        example=0.8,
        width=10,
    ),
    Field(
        "Weight Unit",
        "details.weight.unit",
        Kind.CHOICE,
        "Unit of the Weight column.",
        choices=("LB", "OZ", "KG", "G"),
        required_with=("details.weight.value",),
        example="LB",
        width=12,
    ),
    _dimension("Length", _DIMENSIONS[0], 12),
    _dimension("Width", _DIMENSIONS[1], 9),
    _dimension("Height", _DIMENSIONS[2], 2.5),
    Field(
        "Dimension Unit",
        "details.dimensions.unit",
        Kind.CHOICE,
        "Unit of Length, Width and Height.",
        choices=("IN", "CM"),
        required_with=_DIMENSIONS,
        example="IN",
        width=14,
    ),
    Field(
        "Country of Origin",
        "details.countryOfOrigin",
        Kind.CODE,
        "Where the product was made, as a two-letter ISO country code.",
        pattern=r"[A-Z]{2}",
        pattern_hint="two capital letters, such as US or PT",
        example="PT",
        width=12,
    ),
    Field(
        "HS Code",
        "details.hsCode",
        Kind.CODE,
        "Harmonized System tariff code for customs.",
        max_length=14,
        example="611011",
        width=12,
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

PRODUCTS = Resource(
    name="products",
    sheet="Products",
    fields=FIELDS,
    key="sku",
    template_version=1,
    actions=(Action.UPSERT, Action.CREATE, Action.UPDATE),
    api=API,
    instructions=(
        "One row per product. The SKU is the product's key: each SKU may appear only once.",
        "Loading the same workbook again updates changed products and leaves unchanged ones alone.",
    ),
)
