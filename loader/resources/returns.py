"""Returns to the fulfillment centre: the `Returns` sheet, one row per line (API reference §15, §21.1, §22.7)."""

from __future__ import annotations

from loader import bets
from loader.models import Action
from loader.resources.address import address_fields
from loader.resources.base import ApiSpec, Field, Kind, Resource

API = ApiSpec(
    search_path="/v1/returns/search",
    search_key=bets.RETURN_LOOKUP,
    pb_id="returnOrderId",
    bulk_path="/v1/returns/bulk",
    bulk_array="returns",
    bulk_operation=True,
    max_bulk_items=200,
)

_LINE = f"{bets.RETURN_LINES}[]."
_CARRIER, _SERVICE = f"{bets.RETURN_SHIPPING}.carrier", f"{bets.RETURN_SHIPPING}.serviceId"
REASON_SEPARATOR = ";"

FIELDS = (
    Field(
        "Return Client Order ID",
        "returnClientOrderId",
        Kind.CODE,
        "Your ID for the return: rows with the same one are one return.",
        required=True,
        max_length=50,
        example="RET-55012",
        width=18,
    ),
    Field(
        "RMA Number",
        "rmaNumber",
        Kind.CODE,
        "The return authorisation number on the parcel.",
        max_length=35,
        example="RMA-0091",
        width=12,
    ),
    Field(
        "Return Type",
        "returnType",
        Kind.TEXT,
        "PB's type of the return, if PB gave you the values to use.",
        max_length=50,
        width=14,
    ),
    Field(
        "Original Client Order ID",
        "originalClientOrderId",
        Kind.CODE,
        "Your ID of the order being returned.",
        max_length=50,
        example="SO-100234",
        width=18,
    ),
    Field(
        "Original PB Order ID",
        "orderId",
        Kind.CODE,
        "PB's ID of the order being returned, if you know it.",
        width=16,
    ),
    Field("Brand", "brand", Kind.TEXT, "Your brand.", max_length=30, width=14),
    Field(
        "Return Date",
        "createDate",
        Kind.DATETIME,
        "When the return was created in your system.",
        example="2026-11-24 10:00",
        width=17,
    ),
    Field(
        "Carrier",
        _CARRIER,
        Kind.TEXT,
        "The carrier bringing the return; give its Service ID too.",
        max_length=30,
        required_with=(_SERVICE,),
        example="USPS",
        width=10,
    ),
    Field(
        "Service ID",
        _SERVICE,
        Kind.TEXT,
        "The carrier's service for the return.",
        max_length=30,
        required_with=(_CARRIER,),
        example="GROUND",
        width=12,
    ),
    *address_fields("Customer", bets.RETURN_ADDRESS, "Who sends the return back", required=False),
    Field(
        "Original Order Line",
        f"{_LINE}orderLineId",
        Kind.INTEGER,
        "The Line ID of the returned product on the original order.",
        minimum=1,
        example=1,
        width=10,
    ),
    Field(
        "SKU",
        f"{_LINE}itemDetail.sku",
        Kind.CODE,
        "The product coming back: a SKU of the Products sheet or already at PB.",
        required=True,
        max_length=30,
        product_ref=True,
        example="00123-BLU-M",
        width=18,
    ),
    Field(
        "Item Description",
        f"{_LINE}itemDetail.description",
        Kind.TEXT,
        "What the returned product is.",
        max_length=100,
        width=24,
    ),
    Field(
        "Unit Price", f"{_LINE}itemDetail.unitPrice", Kind.DECIMAL, "Price of one unit.", minimum=0, width=10
    ),
    Field(
        "Quantity",
        f"{_LINE}quantity",
        Kind.INTEGER,
        "Units coming back.",
        required=True,
        minimum=1,
        example=1,
        width=9,
    ),
    Field("Line Total", f"{_LINE}lineTotal", Kind.DECIMAL, "The line's total.", minimum=0, width=10),
    Field(
        "Return Reason",
        f"{_LINE}returnReason",
        Kind.TEXT,
        "Why the customer sent it back.",
        separator=REASON_SEPARATOR,
        example="Too small",
        width=20,
    ),
    Field(
        "Action",
        None,
        Kind.CHOICE,
        "Blank or UPSERT creates the return or updates it if PB has it; CREATE only creates; UPDATE only updates.",
        choices=("UPSERT", "CREATE", "UPDATE"),
        width=10,
    ),
)

RETURNS = Resource(
    name="returns",
    sheet="Returns",
    fields=FIELDS,
    key="returnClientOrderId",
    template_version=2,
    actions=(Action.UPSERT, Action.CREATE, Action.UPDATE),
    line_key=f"{_LINE}orderLineId",  # an update matches PB's lines by the original order's line
    # on PB's pages (§15, §22.7) but not on the sheet: an update keeps PB's values
    carried=(f"{bets.RETURN_SHIPPING}.serviceName", "references", "updateDate"),
    api=API,
    instructions=(
        "One row per returned product. Rows with the same Return Client Order ID are one return: fill its "
        "columns on its first row; on its other rows leave them blank or repeat them exactly.",
        f"Return Reason may list several reasons separated by '{REASON_SEPARATOR}' (Too small; Damaged).",
    ),
    template_changes={
        2: "Return Type is free text (PB's values are not published); new columns Carrier, Service ID, the "
        "customer's address (Customer Name … Customer Email), Original Order Line, Item Description, Unit "
        "Price and Line Total; Return Reason may list several reasons separated by ';'.",
    },
)
