"""Work orders (kitting jobs): the `Work Orders` sheet, one row per work order (API reference §14)."""

from __future__ import annotations

from loader import bets
from loader.models import Action
from loader.resources.base import ApiSpec, Field, Kind, Resource

API = ApiSpec(
    search_path="/v1/work-orders/search",
    search_key=bets.WORK_ORDER_KEY,
    pb_id="workOrderId",
    create_path="/v1/work-orders",
    item_path="/v1/work-orders/{id}",
    cancel_path="/v1/work-orders/{id}/cancel",
    cancel_body=True,
    cancel_fields=(("cancelreason", "cancelReason"),),
)

FIELDS = (
    Field(
        "Client Work Order ID",
        "clientWorkOrderId",
        Kind.CODE,
        "Your ID for the work order.",
        required=True,
        max_length=35,
        example="WO-2026-031",
        width=18,
    ),
    Field(
        "Work Order Name",
        "workOrderName",
        Kind.TEXT,
        "A short name for the job.",
        required=True,
        max_length=30,
        example="December breakfast sets",
        width=22,
    ),
    Field(
        "Type",
        "type",
        Kind.CHOICE,
        "KIT to build kits (REFURBISHED and OTHER are reserved by PB).",
        required=True,
        choices=("KIT", "REFURBISHED", "OTHER"),
        example="KIT",
        width=8,
    ),
    Field(
        "Kit SKU",
        "sku",
        Kind.CODE,
        "The kit to build: a KIT product with a bill of materials.",
        required=True,
        max_length=30,
        product_ref=True,
        depends_on=("boms",),
        example="KIT-BRKFST-2",
        width=18,
    ),
    Field(
        "Quantity",
        bets.WORK_ORDER_QUANTITY,
        Kind.INTEGER,
        "How many kits to build.",
        required=True,
        minimum=1,
        example=50,
        width=9,
    ),
    Field(
        "Node",
        "node",
        Kind.CODE,
        "The fulfillment centre's ID that builds them (e.g. 157).",
        required=True,
        example="157",
        width=8,
    ),
    Field(
        "Description",
        "description",
        Kind.TEXT,
        "Instructions or notes for the job.",
        max_length=250,
        width=30,
    ),
    Field("Brand", "brand", Kind.TEXT, "Your brand.", max_length=50, width=14),
    Field(
        "Cancel Reason",
        None,
        Kind.TEXT,
        "Why the work order is cancelled (with Action CANCEL).",
        max_length=50,
        width=20,
    ),
    Field(
        "Action",
        None,
        Kind.CHOICE,
        "Blank or UPSERT creates the work order or updates it if PB has it; CREATE only creates; UPDATE only "
        "updates; CANCEL cancels it.",
        choices=("UPSERT", "CREATE", "UPDATE", "CANCEL"),
        width=10,
    ),
)

WORK_ORDERS = Resource(
    name="work-orders",
    sheet="Work Orders",
    fields=FIELDS,
    key="clientWorkOrderId",
    template_version=1,
    actions=(Action.UPSERT, Action.CREATE, Action.UPDATE, Action.CANCEL),
    api=API,
    instructions=("One row per work order. PB can change or cancel a work order only until it has started.",),
)
