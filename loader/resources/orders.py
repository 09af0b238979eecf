"""Orders: the `Orders` sheet, one row per order line (API reference §11, §21.1, §22.1–§22.3)."""

from __future__ import annotations

from loader import bets
from loader.models import Action
from loader.resources.address import COUNTRY_HINT, COUNTRY_PATTERN, address_fields
from loader.resources.base import ApiSpec, Field, Kind, Resource

API = ApiSpec(
    search_path="/v1/orders/search",
    search_key=bets.ORDER_KEY,
    pb_id="orderId",
    item_path="/v1/orders/{id}",
    bulk_path="/v1/orders/bulk",
    bulk_array="orders",
    bulk_cancel_path="/v1/orders/bulk/cancel",
    bulk_cancel_array="CancelOrdersRequest",  # the documented name (§11.2); the client sends the object form
    max_bulk_items=200,
)

_LINE = f"{bets.ORDER_LINES}[]."

FIELDS = (
    Field(
        "Client Order ID",
        "clientOrderId",
        Kind.CODE,
        "Your order number: rows with the same one are one order.",
        required=True,
        max_length=50,
        example="SO-100234",
        width=16,
    ),
    Field(
        "Customer Order ID",
        "customerOrderId",
        Kind.CODE,
        "The order number your customer sees (web shop, ERP).",
        max_length=50,
        example="W-88123",
        width=16,
    ),
    Field(
        "Order Type",
        "orderType",
        Kind.CHOICE,
        "eCom for a consumer order, Retail for a store order; blank is eCom.",
        choices=("eCom", "Retail"),
        example="eCom",
        width=11,
    ),
    Field(
        "Order Date",
        "createDate",
        Kind.DATETIME,
        "When the order was placed.",
        required=True,
        example="2026-11-20 14:30",
        width=17,
    ),
    Field(
        "Ship On Date", "shipOnDate", Kind.DATETIME, "The date the order was promised to ship by.", width=17
    ),
    Field(
        "Release Date",
        "fulfillmentReleaseDate",
        Kind.DATETIME,
        "When the order may be released to the warehouse (blank: at once).",
        width=17,
    ),
    Field(
        "From Node",
        "fromNode",
        Kind.CODE,
        "The fulfillment centre's ID that ships the order (e.g. 157).",
        example="157",
        width=10,
    ),
    Field("Brand", "brand", Kind.TEXT, "Your brand the order belongs to.", max_length=50, width=14),
    Field(
        "Carrier",
        "inputShippingDetails.carrier",
        Kind.TEXT,
        "The carrier asked for.",
        required=True,
        max_length=50,
        example="USPS",
        width=10,
    ),
    Field(
        "Service",
        "inputShippingDetails.serviceId",
        Kind.TEXT,
        "The carrier's service ID asked for.",
        required=True,
        max_length=50,
        example="PRIORITY",
        width=12,
    ),
    *address_fields("Ship-To", bets.SHIP_TO_ADDRESS, "Who receives the parcel", required=True),
    Field(
        "Reference Name",
        "references[0].name",
        Kind.TEXT,
        "A name for a reference of your own (with its value).",
        max_length=50,
        required_with=("references[0].values",),
        width=14,
    ),
    Field(
        "Reference Value",
        "references[0].values",
        Kind.TEXT,
        "The reference's value.",
        max_length=255,
        required_with=("references[0].name",),
        width=14,
    ),
    Field(
        "Line ID",
        f"{_LINE}lineId",
        Kind.INTEGER,
        "The line's number within the order; blank lines are numbered in order.",
        minimum=1,
        example=1,
        width=8,
    ),
    Field(
        "SKU",
        f"{_LINE}sku",
        Kind.CODE,
        "The product ordered: a SKU of the Products sheet or already at PB.",
        required=True,
        max_length=60,
        product_ref=True,
        example="00123-BLU-M",
        width=18,
    ),
    Field(
        "Quantity",
        f"{_LINE}orderedQuantity",
        Kind.INTEGER,
        "How many units are ordered.",
        required=True,
        minimum=1,
        example=2,
        width=9,
    ),
    Field(
        "Unit Price",
        f"{_LINE}unitPrice",
        Kind.DECIMAL,
        "Price of one unit.",
        minimum=0,
        example=39.0,
        width=10,
    ),
    Field(
        "Line Total",
        f"{_LINE}lineTotal",
        Kind.DECIMAL,
        "The line's total, without shipping and taxes.",
        minimum=0,
        example=78.0,
        width=10,
    ),
    Field(
        "Origin Country",
        f"{_LINE}originCountryCode",
        Kind.CODE,
        "Where the product was made, as a two-letter ISO country code (for customs).",
        pattern=COUNTRY_PATTERN,
        pattern_hint=COUNTRY_HINT,
        width=10,
    ),
    Field(
        "HS Tariff Code",
        f"{_LINE}hSTariffCode",
        Kind.CODE,
        "The destination country's tariff number (customs).",
        max_length=14,
        width=14,
    ),
    Field(
        "HS Tariff Country",
        f"{_LINE}hSTariffCodeCountry",
        Kind.CODE,
        "The destination country of the tariff number, as a two-letter ISO code.",
        pattern=COUNTRY_PATTERN,
        pattern_hint=COUNTRY_HINT,
        width=10,
    ),
    Field(
        "Inventory Type",
        f"{_LINE}inventoryType",
        Kind.TEXT,
        "PB's inventory type for the line, if PB gave you one.",
        max_length=50,
        width=12,
    ),
    Field(
        "Action",
        None,
        Kind.CHOICE,
        "Blank or UPSERT creates the order or updates it if PB has it; CREATE only creates; UPDATE only "
        "updates; CANCEL cancels the whole order.",
        choices=("UPSERT", "CREATE", "UPDATE", "CANCEL"),
        width=10,
    ),
)

ORDERS = Resource(
    name="orders",
    sheet="Orders",
    fields=FIELDS,
    key="clientOrderId",
    template_version=2,
    actions=(Action.UPSERT, Action.CREATE, Action.UPDATE, Action.CANCEL),
    line_number=f"{_LINE}lineId",
    unique_lines=(f"{_LINE}lineId",),
    # on PB's pages (§22.1, §22.2) but not on the sheet: an update keeps PB's values
    carried=("inputShippingDetails.serviceName", "inputShippingDetails.trackingNumber", "updateDate"),
    carried_lines=("originStateProvince",),
    api=API,
    instructions=(
        "One row per order line. Rows with the same Client Order ID are one order: fill the order's columns "
        "(date, ship-to address, …) on its first row; on its other rows leave them blank or repeat them exactly.",
        "A SKU must be a product on the Products sheet of the same workbook, or one PB already has.",
        "To cancel an order, give its Client Order ID and Action CANCEL on one row.",
    ),
    template_changes={
        2: "Carrier and Service are now required; 'Line Number' is now 'Line ID'; 'Line Description' and "
        "'Residential' are gone (PB has no such fields); new columns Line Total, Origin Country, HS Tariff Code, "
        "HS Tariff Country and Inventory Type; ship-to name and address lines take up to 100 characters.",
    },
)
