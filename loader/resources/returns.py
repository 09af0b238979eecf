"""Returns to the fulfillment centre: the `Returns` sheet, one row per line (API reference §15, §21.1)."""

from __future__ import annotations

from loader.models import Action
from loader.resources.base import ApiSpec, Field, Kind, Resource

API = ApiSpec(
    search_path="/v1/returns/search",
    search_key="returnOrders",  # the documented name; it takes client return IDs (§15.2, §21)
    pb_id="returnOrderId",
    bulk_path="/v1/returns/bulk",
    bulk_array="returns",
    bulk_operation=True,
    max_bulk_items=200,
)

_LINE = "returnItems[]."

FIELDS = (
    Field("Return Client Order ID", "returnClientOrderId", Kind.CODE,
          "Your ID for the return: rows with the same one are one return.", required=True, max_length=50,
          example="RET-55012", width=18),
    Field("RMA Number", "rmaNumber", Kind.CODE, "The return authorisation number on the parcel.", max_length=35,
          example="RMA-0091", width=12),
    Field("Return Type", "returnType", Kind.CHOICE, "Why the parcel comes back; blank is CUSTOMER_RETURN.",
          choices=("CUSTOMER_RETURN", "REFUSED", "UNDELIVERABLE"), example="CUSTOMER_RETURN", width=18),
    Field("Original Client Order ID", "originalClientOrderId", Kind.CODE, "Your ID of the order being returned.",
          max_length=50, example="SO-100234", width=18),
    Field("Original PB Order ID", "orderId", Kind.CODE, "PB's ID of the order being returned, if you know it.",
          width=16),
    Field("Brand", "brand", Kind.TEXT, "Your brand.", max_length=30, width=14),
    Field("Return Date", "createDate", Kind.DATETIME, "When the return was created in your system.",
          example="2026-11-24 10:00", width=17),
    Field("SKU", f"{_LINE}sku", Kind.CODE, "The product coming back: a SKU of the Products sheet or already at PB.",
          required=True, max_length=30, product_ref=True, example="00123-BLU-M", width=18),
    Field("Quantity", f"{_LINE}quantity", Kind.INTEGER, "Units coming back.", required=True, minimum=1, example=1,
          width=9),
    Field("Return Reason", f"{_LINE}returnReason", Kind.TEXT, "Why the customer sent it back.", max_length=50,
          example="Too small", width=20),
    Field("Action", None, Kind.CHOICE,
          "Blank or UPSERT creates the return or updates it if PB has it; CREATE only creates; UPDATE only updates.",
          choices=("UPSERT", "CREATE", "UPDATE"), width=10),
)

RETURNS = Resource(
    name="returns",
    sheet="Returns",
    fields=FIELDS,
    key="returnClientOrderId",
    template_version=1,
    actions=(Action.UPSERT, Action.CREATE, Action.UPDATE),
    api=API,
    instructions=(
        "One row per returned product. Rows with the same Return Client Order ID are one return: fill its "
        "columns on its first row; on its other rows leave them blank or repeat them exactly.",
    ),
)
