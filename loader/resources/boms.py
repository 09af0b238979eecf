"""Bills of materials (kits): the `BOMs` sheet, one row per component (API reference §13, §21.1)."""

from __future__ import annotations

from loader import bets
from loader.models import Action
from loader.resources.base import ApiSpec, Field, Kind, Resource

API = ApiSpec(
    search_path="/v1/bill-of-materials/search",
    search_key="parentSku",
    pb_id="billOfMaterialId",
    create_path="/v1/bill-of-materials",
    item_path="/v1/bill-of-materials/{id}",
    lookup_fields=({"name": "includeInactive", "values": [True]},),  # else an inactive bill is not found
)

_LINE = "billOfMaterialDetails[]."

FIELDS = (
    Field(
        "Kit SKU",
        "sku",
        Kind.CODE,
        "The kit's SKU (a KIT product): rows with the same one are one bill.",
        required=True,
        max_length=30,
        product_ref=True,
        example="KIT-BRKFST-2",
        width=18,
    ),
    Field(
        "Description",
        "description",
        Kind.TEXT,
        "What the bill of materials builds.",
        required=True,
        max_length=30,
        example="Breakfast set for two",
        width=24,
    ),
    Field(
        "Node",
        "node",
        Kind.CODE,
        "The fulfillment centre's ID where kits are built (e.g. 157).",
        example="157",
        width=8,
    ),
    Field("Brand", "brand", Kind.TEXT, "Your brand.", max_length=30, width=14),
    Field(
        "Active", "active", Kind.BOOLEAN, "FALSE to keep the bill but stop using it; blank is TRUE.", width=9
    ),
    Field("Notes", "notes[0]", Kind.TEXT, "A note for the kitting team.", max_length=50, width=24),
    Field(
        "Component SKU",
        f"{_LINE}{bets.BOM_COMPONENT_SKU}",
        Kind.CODE,
        "A product that goes into the kit: a SKU of the Products sheet or already at PB.",
        required=True,
        max_length=30,
        product_ref=True,
        example="MUG-STN-12OZ",
        width=18,
    ),
    Field(
        "Component Quantity",
        f"{_LINE}{bets.BOM_COMPONENT_QUANTITY}",
        Kind.INTEGER,
        "How many of the component one kit takes.",
        required=True,
        minimum=1,
        example=2,
        width=10,
    ),
    Field(
        "Action",
        None,
        Kind.CHOICE,
        "Blank or UPSERT creates the bill or updates it if PB has one for the kit; CREATE only creates; "
        "UPDATE only updates.",
        choices=("UPSERT", "CREATE", "UPDATE"),
        width=10,
    ),
)

BOMS = Resource(
    name="boms",
    sheet="BOMs",
    dependency_label="the bill of materials for {key}",
    fields=FIELDS,
    key="sku",
    template_version=1,
    actions=(Action.UPSERT, Action.CREATE, Action.UPDATE),
    unique_lines=(f"{_LINE}{bets.BOM_COMPONENT_SKU}",),
    line_key=f"{_LINE}{bets.BOM_COMPONENT_SKU}",  # a bill's lines are its components, one per SKU
    not_key=(f"{_LINE}{bets.BOM_COMPONENT_SKU}",),
    api=API,
    instructions=(
        "One row per component. Rows with the same Kit SKU are one bill of materials: fill its columns on its "
        "first row; on its other rows leave them blank or repeat them exactly.",
        "A component may appear once per kit, and never the kit itself.",
    ),
)
