"""The emulator's side of the project's bets (api §21.8): one declaration each, nowhere else.

PB's docs stop short of some names (api §19). Where the project had to guess, the guess is a
numbered bet, ``BET-1`` … ``BET-14``, with the value chosen and the documented clue it rests on.
Every other emulator module takes these names from here, so when a real account contradicts a
bet (``pbload doctor``), the correction is one line in this file. The loader keeps its own
declaration (``loader.bets``); the emulator never imports it, because the two sides must agree by
contract, not by sharing code.

Only the bet's *choice* lives here. A documented name that happens to be spelled the same (the
``unitCost`` of an ASN line's ``costDetails``, the ``childSku`` search name, the orders'
``inputShippingDetails``) is the documented name, spelled where it is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

V = TypeVar("V")


@dataclass(frozen=True)
class Bet(Generic[V]):
    """One bet: its number, what it decides, the value chosen, and the clue it rests on."""

    number: int
    what: str
    value: V
    clue: str

    @property
    def name(self) -> str:
        """``BET-<number>``, as api §21.8 writes it."""
        return f"BET-{self.number}"


@dataclass(frozen=True)
class LineArrays:
    """The names of the arrays that hold an order's, an ASN's and a return's lines."""

    order: str
    asn: str
    returns: str


@dataclass(frozen=True)
class Weight:
    """Where a product's weight lives in ``details``, its two fields, and the units it takes."""

    holder: str
    value: str
    unit: str
    units: tuple[str, ...]


@dataclass(frozen=True)
class Component:
    """The fields of one line of a BOM's ``billOfMaterialDetails``."""

    child_sku: str
    quantity: str


@dataclass(frozen=True)
class ReturnHolders:
    """Which return fields hold the Return Shipping Details and the Address objects."""

    shipping: str
    address: str


@dataclass(frozen=True)
class BulkResult:
    """A bulk item's result: its client key plus ``status`` and the PB ID, or plus ``errors`` and no PB ID."""

    status: str
    errors: str


@dataclass(frozen=True)
class LookupKeys:
    """The search names that find an item by the client's own key."""

    product: str
    order: str
    asn: str
    work_order: str


@dataclass(frozen=True)
class ReturnOrdersSearch:
    """The documented search name ``returnOrders`` and the record field its values are matched with."""

    name: str
    matches: str


BET_1 = Bet(
    1,
    "order ship-to address holder (top level of the order)",
    "shipToAddress",
    "Shipping Details has no address; no Orders address page",
)
BET_2 = Bet(
    2,
    "line arrays of orders, ASNs and returns",
    LineArrays("orderItems", "asnItems", "returnItems"),
    "the order-items path segment orderItems",
)
BET_3 = Bet(3, "identifier source of a UPC in details.identifiers", "UPC", "identifier source examples lost")
BET_4 = Bet(
    4, "Dimensions object holder in details", "dimensions", "the Dimensions page belongs to the Products API"
)
BET_5 = Bet(
    5,
    "weight in details",
    Weight("weight", "value", "unitOfMeasurement", ("LB", "OZ", "KG", "G")),
    "no Weight page",
)
BET_6 = Bet(6, "unit cost in details", "unitCost", "ASN lines carry costDetails.unitCost")
BET_7 = Bet(7, "dimension units (dimensionUOM or unitOfMeasurement)", ("IN", "CM"), "values lost")
BET_8 = Bet(
    8, "BOM component fields", Component("childSku", "quantity"), "childSku is a documented BOM search name"
)
BET_9 = Bet(
    9, "work order quantity (kits to build)", "workOrderQuantity", "the field after brand begins workOrde…"
)
BET_10 = Bet(
    10,
    "return shipping details and address holders",
    ReturnHolders("inputShippingDetails", "customerAddress"),
    "Returns pages name both objects, not their holders",
)
BET_11 = Bet(
    11,
    "bulk results: key + PB ID + status, or key + errors",
    BulkResult("status", "errors"),
    "only the products bulk result is documented",
)
BET_12 = Bet(12, "array of records in a search answer", "content", "PB's paging fields are Spring's")
BET_13 = Bet(
    13,
    "lookup search keys",
    LookupKeys("sku", "clientOrderId", "clientASNId", "clientWorkOrderId"),
    "cut from every search page",
)
BET_14 = Bet(
    14,
    "what returnOrders takes: client return order IDs",
    ReturnOrdersSearch("returnOrders", "returnClientOrderId"),
    "the name is documented, its values are not",
)

BETS = (BET_1, BET_2, BET_3, BET_4, BET_5, BET_6, BET_7, BET_8, BET_9, BET_10, BET_11, BET_12, BET_13, BET_14)

# The names the other modules use, one per choice.
SHIP_TO = BET_1.value
LINES = BET_2.value
UPC_SOURCE = BET_3.value  # declared only: the emulator does not restrict identifier sources
DIMENSIONS = BET_4.value
WEIGHT = BET_5.value
UNIT_COST = BET_6.value
DIMENSION_UNITS = BET_7.value
COMPONENT = BET_8.value
WORK_ORDER_QUANTITY = BET_9.value
RETURN_HOLDERS = BET_10.value
BULK_RESULT = BET_11.value
SEARCH_RECORDS = BET_12.value
LOOKUP_KEYS = BET_13.value
RETURN_ORDERS_SEARCH = BET_14.value
