"""The loader's one declaration of every guess about PB's API (api/fulfillment-api.md §21.8).

PB's pages fix most field names (§22); what no page shows is a numbered bet. Each bet's value is
spelled here and nowhere else in the loader: the catalogue, the senders and `pbload doctor` import
it. When a real account settles a bet the other way, the fix is one line in this module (and one in
the emulator's own declaration, `loader/emulator/bets.py`, which it keeps separately on purpose).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bet:
    """One guess: its number, what we chose, and the documented clue it rests on."""

    number: int
    choice: str
    clue: str

    @property
    def name(self) -> str:
        return f"BET-{self.number}"


# The values, one constant each (the catalogue builds its JSON paths from these).
SHIP_TO_ADDRESS = "shipToAddress"  # BET-1: top-level holder of an order's ship-to address
ORDER_LINES, ASN_LINES, RETURN_LINES = "orderItems", "asnItems", "returnItems"  # BET-2
UPC_SOURCE = "UPC"  # BET-3: `details.identifiers[].source` of a UPC
DIMENSIONS = "details.dimensions"  # BET-4
WEIGHT, WEIGHT_VALUE, WEIGHT_UNIT = "details.weight", "value", "unitOfMeasurement"  # BET-5
UNIT_COST = "details.unitCost"  # BET-6
DIMENSION_UNITS = ("IN", "CM")  # BET-7
BOM_COMPONENT_SKU, BOM_COMPONENT_QUANTITY = (
    "childSku",
    "quantity",
)  # BET-8 (array `billOfMaterialDetails` is DOC)
WORK_ORDER_QUANTITY = "workOrderQuantity"  # BET-9
RETURN_SHIPPING, RETURN_ADDRESS = "inputShippingDetails", "customerAddress"  # BET-10
BULK_RESULT_ERRORS = "errors"  # BET-11: a failed bulk item's result holds its key and this array
SEARCH_RECORDS = "content"  # BET-12: the array of records in a search answer
PRODUCT_KEY, ORDER_KEY, ASN_KEY, WORK_ORDER_KEY = (
    "sku",
    "clientOrderId",
    "clientASNId",
    "clientWorkOrderId",
)  # BET-13
RETURN_LOOKUP = "returnOrders"  # BET-14: the documented search name, taking client return IDs

BETS: tuple[Bet, ...] = (
    Bet(
        1,
        f"order ship-to address in a top-level `{SHIP_TO_ADDRESS}`",
        "Shipping Details has no address; no Orders address page",
    ),
    Bet(
        2,
        f"line arrays `{ORDER_LINES}`, `{ASN_LINES}`, `{RETURN_LINES}`",
        "the order-items path segment `orderItems`",
    ),
    Bet(3, f"UPC sent as identifier source `{UPC_SOURCE}`", "identifier `source` examples lost"),
    Bet(4, f"dimensions in `{DIMENSIONS}`", "Dimensions page belongs to the Products API"),
    Bet(5, f"weight in `{WEIGHT}` `{{{WEIGHT_VALUE}, {WEIGHT_UNIT}}}`", "no Weight page"),
    Bet(6, f"unit cost in `{UNIT_COST}`", "ASN lines carry `costDetails.unitCost`"),
    Bet(7, "dimension units " + ", ".join(f"`{u}`" for u in DIMENSION_UNITS), "values lost"),
    Bet(
        8,
        f"BOM components `{{{BOM_COMPONENT_SKU}, {BOM_COMPONENT_QUANTITY}}}`",
        "`childSku` is a documented BOM search name",
    ),
    Bet(9, f"work order `{WORK_ORDER_QUANTITY}`", "the field after `brand` begins `workOrde…`"),
    Bet(
        10,
        f"return shipping details in `{RETURN_SHIPPING}`, address in `{RETURN_ADDRESS}`",
        "Returns pages name both objects, not their holders",
    ),
    Bet(
        11,
        f"bulk results: key + PB ID, or key + `{BULK_RESULT_ERRORS}`",
        "only the products bulk result is documented",
    ),
    Bet(12, f"search records in `{SEARCH_RECORDS}`", "PB's paging fields are Spring's"),
    Bet(
        13,
        f"lookup keys `{PRODUCT_KEY}`, `{ORDER_KEY}`, `{ASN_KEY}`, `{WORK_ORDER_KEY}`",
        "cut from every search page",
    ),
    Bet(14, f"`{RETURN_LOOKUP}` takes client return order IDs", "the name is documented, its values are not"),
)
BY_NUMBER = {bet.number: bet for bet in BETS}
