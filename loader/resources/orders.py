"""Orders: the `Orders` sheet, one row per order line (API reference §11, §21.1, §21.3)."""

from __future__ import annotations

from loader.models import Action
from loader.resources.base import ApiSpec, Field, Kind, Resource

API = ApiSpec(
    search_path="/v1/orders/search",
    search_key="clientOrderId",
    pb_id="orderId",
    item_path="/v1/orders/{id}",
    bulk_path="/v1/orders/bulk",
    bulk_array="orders",
    bulk_cancel_path="/v1/orders/bulk/cancel",
    max_bulk_items=200,
)

_ADDRESS = "inputShippingDetails.shipToAddress"
_LINE = "orderItems[]."

FIELDS = (
    Field("Client Order ID", "clientOrderId", Kind.CODE, "Your order number: rows with the same one are one order.",
          required=True, max_length=50, example="SO-100234", width=16),
    Field("Customer Order ID", "customerOrderId", Kind.CODE, "The order number your customer sees (web shop, ERP).",
          max_length=50, example="W-88123", width=16),
    Field("Order Type", "orderType", Kind.CHOICE, "eCom for a consumer order, Retail for a store order; blank is eCom.",
          choices=("eCom", "Retail"), example="eCom", width=11),
    Field("Order Date", "createDate", Kind.DATETIME, "When the order was placed.", required=True,
          example="2026-11-20 14:30", width=17),
    Field("Ship On Date", "shipOnDate", Kind.DATETIME, "The date the order was promised to ship by.", width=17),
    Field("Release Date", "fulfillmentReleaseDate", Kind.DATETIME,
          "When the order may be released to the warehouse (blank: at once).", width=17),
    Field("From Node", "fromNode", Kind.CODE, "The fulfillment centre's ID that ships the order (e.g. 157).",
          example="157", width=10),
    Field("Brand", "brand", Kind.TEXT, "Your brand the order belongs to.", max_length=50, width=14),
    Field("Carrier", "inputShippingDetails.carrier", Kind.TEXT, "The carrier asked for.", max_length=30,
          example="USPS", width=10),
    Field("Service", "inputShippingDetails.serviceId", Kind.TEXT, "The carrier service asked for.", max_length=30,
          example="PRIORITY", width=12),
    Field("Ship-To Name", f"{_ADDRESS}.name", Kind.TEXT, "Who receives the parcel.", required=True, max_length=50,
          example="Maria Silva", width=20),
    Field("Ship-To Company", f"{_ADDRESS}.company", Kind.TEXT, "Company at the address.", max_length=50, width=16),
    Field("Ship-To Address Line 1", f"{_ADDRESS}.addressLines[0]", Kind.TEXT, "Street and number.", required=True,
          max_length=50, example="27 Waterview Drive", width=24),
    Field("Ship-To Address Line 2", f"{_ADDRESS}.addressLines[1]", Kind.TEXT, "Apartment, suite, floor.",
          max_length=50, width=16),
    Field("Ship-To Address Line 3", f"{_ADDRESS}.addressLines[2]", Kind.TEXT, "More of the address.", max_length=50,
          width=16),
    Field("Ship-To City", f"{_ADDRESS}.cityTown", Kind.TEXT, "City or town.", required=True, max_length=50,
          example="Shelton", width=14),
    Field("Ship-To State", f"{_ADDRESS}.stateProvince", Kind.CODE,
          "State or province; required for US and CA addresses.", max_length=50,
          required_if=(f"{_ADDRESS}.countryCode", ("US", "CA")), example="CT", width=10),
    Field("Ship-To Postal Code", f"{_ADDRESS}.postalCode", Kind.CODE, "ZIP or postal code, as text (leading zeros).",
          required=True, max_length=20, example="06484", width=12),
    Field("Ship-To Country", f"{_ADDRESS}.countryCode", Kind.CODE, "Two-letter ISO country code.", required=True,
          pattern=r"[A-Z]{2}", pattern_hint="two capital letters, such as US", example="US", width=10),
    Field("Ship-To Phone", f"{_ADDRESS}.phone", Kind.CODE, "Phone number for the carrier.", max_length=25,
          example="203-555-0147", width=14),
    Field("Ship-To Email", f"{_ADDRESS}.email", Kind.TEXT, "E-mail address for delivery notices.", max_length=100,
          pattern=r"[^@\s]+@[^@\s]+\.[^@\s]+", pattern_hint="an e-mail address such as name@example.com",
          example="maria.silva@example.com", width=24),
    Field("Residential", f"{_ADDRESS}.residential", Kind.BOOLEAN, "TRUE if the address is a home.", example=True,
          width=11),
    Field("Reference Name", "references[0].name", Kind.TEXT, "A name for a reference of your own (with its value).",
          max_length=50, required_with=("references[0].values",), width=14),
    Field("Reference Value", "references[0].values", Kind.TEXT, "The reference's value.", max_length=255,
          required_with=("references[0].name",), width=14),
    Field("Line Number", f"{_LINE}lineNumber", Kind.INTEGER,
          "The line's number within the order; blank lines are numbered in order.", minimum=1, example=1, width=8),
    Field("SKU", f"{_LINE}sku", Kind.CODE, "The product ordered: a SKU of the Products sheet or already at PB.",
          required=True, max_length=30, product_ref=True, example="00123-BLU-M", width=18),
    Field("Quantity", f"{_LINE}quantity", Kind.INTEGER, "How many units.", required=True, minimum=1, example=2,
          width=9),
    Field("Unit Price", f"{_LINE}unitPrice", Kind.DECIMAL, "Price of one unit.", minimum=0, example=39.0, width=10),
    Field("Line Description", f"{_LINE}description", Kind.TEXT, "What the line is, for packing slips.",
          max_length=100, width=24),
    Field("Action", None, Kind.CHOICE,
          "Blank or UPSERT creates the order or updates it if PB has it; CREATE only creates; UPDATE only "
          "updates; CANCEL cancels the whole order.",
          choices=("UPSERT", "CREATE", "UPDATE", "CANCEL"), width=10),
)

ORDERS = Resource(
    name="orders",
    sheet="Orders",
    fields=FIELDS,
    key="clientOrderId",
    template_version=1,
    actions=(Action.UPSERT, Action.CREATE, Action.UPDATE, Action.CANCEL),
    line_number=f"{_LINE}lineNumber",
    unique_lines=(f"{_LINE}lineNumber",),
    api=API,
    instructions=(
        "One row per order line. Rows with the same Client Order ID are one order: fill the order's columns "
        "(date, ship-to address, …) on its first row; on its other rows leave them blank or repeat them exactly.",
        "A SKU must be a product on the Products sheet of the same workbook, or one PB already has.",
        "To cancel an order, give its Client Order ID and Action CANCEL on one row.",
    ),
)
