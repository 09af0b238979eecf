"""ASNs (advance shipment notices): the `ASNs` sheet, one row per line (API reference §9, §21.1)."""

from __future__ import annotations

from loader import bets
from loader.models import Action
from loader.resources.base import ApiSpec, Field, Kind, Resource

API = ApiSpec(
    search_path="/v1/receiving-asn/search",
    search_key=bets.ASN_KEY,
    pb_id="receivingASNId",
    create_path="/v1/receiving-asn",
    item_path="/v1/receiving-asn/{id}",
    cancel_path="/v1/receiving-asn/{id}/cancel",
)

_LINE = f"{bets.ASN_LINES}[]."

FIELDS = (
    Field(
        "Client ASN ID",
        "clientASNId",
        Kind.CODE,
        "Your ID for the inbound shipment: rows with the same one are one ASN.",
        required=True,
        max_length=35,
        example="ASN-2026-0412",
        width=16,
    ),
    Field(
        "Inbound Type",
        "inboundType",
        Kind.CHOICE,
        "ASN for an advance shipment notice, PO for a purchase order.",
        choices=("ASN", "PO"),
        default="ASN",
        example="ASN",
        width=12,
    ),
    Field(
        "Purchase Order Number",
        "purchaseOrderNumber",
        Kind.CODE,
        "Required when Inbound Type is PO.",
        max_length=35,
        required_if=("inboundType", ("PO",)),
        example="PO-7781",
        width=16,
    ),
    Field(
        "Receiving Node",
        "receivingNode",
        Kind.CODE,
        "The fulfillment centre's ID that receives it (e.g. 157).",
        required=True,
        example="157",
        width=12,
    ),
    Field("Brand", "brand", Kind.TEXT, "Your brand.", max_length=30, width=14),
    Field(
        "Vendor Name",
        "vendorDetails.name",
        Kind.TEXT,
        "Who ships the goods; give Vendor Code too.",
        max_length=50,
        required_with=("vendorDetails.code",),
        example="Lisbon Knitwear Lda",
        width=20,
    ),
    Field(
        "Vendor Code",
        "vendorDetails.code",
        Kind.CODE,
        "The vendor's code.",
        required_with=("vendorDetails.name",),
        example="V-0042",
        width=12,
    ),
    Field(
        "Carrier",
        "shippingDetails.carrier",
        Kind.TEXT,
        "The carrier bringing the shipment.",
        max_length=30,
        required_with=("shippingDetails.serviceId", "shippingDetails.trackingNumber"),
        example="UPS",
        width=10,
    ),
    Field(
        "Carrier Service",
        "shippingDetails.serviceId",
        Kind.TEXT,
        "The carrier's service.",
        max_length=30,
        width=12,
    ),
    Field(
        "Tracking Number",
        "shippingDetails.trackingNumber",
        Kind.CODE,
        "The inbound shipment's tracking number.",
        max_length=50,
        example="1Z999AA10123456784",
        width=20,
    ),
    Field(
        "Line ID",
        f"{_LINE}lineId",
        Kind.INTEGER,
        "The line's number; blank lines are numbered in order.",
        minimum=1,
        example=1,
        width=8,
    ),
    Field(
        "PO Line ID",
        f"{_LINE}purchaseOrderNumberLineId",
        Kind.INTEGER,
        "The line's number on your purchase order.",
        minimum=1,
        width=8,
    ),
    Field(
        "SKU",
        f"{_LINE}sku",
        Kind.CODE,
        "The product arriving: a SKU of the Products sheet or already at PB.",
        required=True,
        max_length=30,
        product_ref=True,
        example="00123-BLU-M",
        width=18,
    ),
    Field(
        "Quantity",
        f"{_LINE}expectedQuantity",
        Kind.INTEGER,
        "Units expected.",
        required=True,
        minimum=1,
        example=120,
        width=9,
    ),
    Field(
        "Unit of Measure",
        f"{_LINE}unitOfMeasurement",
        Kind.TEXT,
        "The unit the goods arrive in (the container), as agreed with PB.",
        max_length=30,
        width=10,
    ),
    Field(
        "Estimated Delivery Date",
        f"{_LINE}estimatedDeliveryDate",
        Kind.DATETIME,
        "When this line should arrive.",
        example="2026-12-01 09:00",
        width=17,
    ),
    Field(
        "Retail Price",
        f"{_LINE}costDetails.retailPrice",
        Kind.DECIMAL,
        "Retail price of one unit.",
        minimum=0,
        width=10,
    ),
    Field(
        "Wholesale Price",
        f"{_LINE}costDetails.wholeSalePrice",
        Kind.DECIMAL,
        "Wholesale price of one unit.",
        minimum=0,
        width=10,
    ),
    Field(
        "Unit Cost", f"{_LINE}costDetails.unitCost", Kind.DECIMAL, "Cost of one unit.", minimum=0, width=10
    ),
    Field(
        "Currency",
        f"{_LINE}costDetails.currency",
        Kind.CODE,
        "The currency of the prices, in at most 2 characters as PB's page prints it.",
        max_length=2,
        width=9,
    ),
    Field(
        "Action",
        None,
        Kind.CHOICE,
        "Blank or UPSERT creates the ASN or updates it if PB has it; CREATE only creates; UPDATE only updates; "
        "CANCEL cancels the whole ASN.",
        choices=("UPSERT", "CREATE", "UPDATE", "CANCEL"),
        width=10,
    ),
)

ASNS = Resource(
    name="asns",
    sheet="ASNs",
    fields=FIELDS,
    key="clientASNId",
    template_version=2,
    actions=(Action.UPSERT, Action.CREATE, Action.UPDATE, Action.CANCEL),
    line_number=f"{_LINE}lineId",
    unique_lines=(f"{_LINE}lineId",),
    api=API,
    instructions=(
        "One row per line of an inbound shipment. Rows with the same Client ASN ID are one ASN: fill its "
        "columns on its first row; on its other rows leave them blank or repeat them exactly.",
        "PB can change or cancel an ASN only until the warehouse starts receiving it.",
    ),
    template_changes={
        2: "'Expected Arrival' is gone: PB dates each line ('Estimated Delivery Date'); 'Lot Number' and "
        "'Expiration Date' are gone (PB does not take them); 'Line Number' is now 'Line ID'; Inbound Type may "
        "be blank (ASN); new columns PO Line ID, Unit of Measure, Retail Price, Wholesale Price, Unit Cost "
        "and Currency.",
    },
)
