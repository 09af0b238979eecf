"""The Address object (api §22.3): an order's ship-to address and a return's customer address.

PB's page gives the fields and their limits but no Required flags, and no ``residential`` field.
pbload's own rules (api §21.1) add two: a ship-to address needs a name, a first address line, a
city, a postal code and a country; and any address in the US or Canada needs its state or province.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from .validation import Arr, Checked, Obj, Rule, Str, country_code, matches, required_when

STATE_COUNTRIES = ("US", "CA")
SHIP_TO_REQUIRED = (
    "name",
    "addressLines",
    "cityTown",
    "postalCode",
    "countryCode",
)  # pbload's rule (api §21.1)
MAX_ADDRESS_LINES = 3
EMAIL = matches(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def address_fields(required: Collection[str] = ()) -> dict[str, Rule]:
    """The Address object's fields; those named in ``required`` must be given."""
    fields: dict[str, Str | Arr] = {
        "name": Str(max_len=100),
        "company": Str(max_len=50),
        "addressLines": Arr(Str(max_len=100), min_items=1, max_items=MAX_ADDRESS_LINES),
        "cityTown": Str(max_len=50),
        "stateProvince": Str(max_len=50),
        "postalCode": Str(max_len=20),  # a string: a number would lose leading zeros
        "countryCode": country_code(),
        "phone": Str(max_len=25),
        "email": Str(max_len=70, fmt=EMAIL, hint="be an e-mail address"),
    }
    return {name: replace(rule, required=True) if name in required else rule for name, rule in fields.items()}


def address_rule(required: bool = False, required_fields: Collection[str] = ()) -> Checked:
    """An Address object, itself required or not, whose ``required_fields`` must be given."""
    state = required_when("stateProvince", "countryCode", STATE_COUNTRIES)
    return Checked(Obj(address_fields(required_fields), required=required), (state,))
