"""PB's Address object (api §22.3) as sheet columns: an order's ship-to address, a return's customer.

PB's page flags no field as required; an order cannot be shipped without a name, a street, a city,
a postal code and a country, so the Orders sheet requires them (and a state for US and CA).
"""

from __future__ import annotations

from loader.resources.base import Field, Kind

STATE_COUNTRIES = ("US", "CA")
COUNTRY_PATTERN = r"[A-Z]{2}"
COUNTRY_HINT = "two capital letters, such as US or PT"
EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[^@\s]+"


def address_fields(label: str, path: str, who: str, required: bool) -> tuple[Field, ...]:
    """The columns of an address held at `path`, headed `<label> Name`, `<label> City`, …"""
    return (
        Field(
            f"{label} Name",
            f"{path}.name",
            Kind.TEXT,
            f"{who}: the person's name.",
            required=required,
            max_length=100,
            example="Maria Silva",
            width=20,
        ),
        Field(
            f"{label} Company",
            f"{path}.company",
            Kind.TEXT,
            "Company at the address.",
            max_length=50,
            width=16,
        ),
        Field(
            f"{label} Address Line 1",
            f"{path}.addressLines[0]",
            Kind.TEXT,
            "Street and number.",
            required=required,
            max_length=100,
            example="27 Waterview Drive",
            width=24,
        ),
        Field(
            f"{label} Address Line 2",
            f"{path}.addressLines[1]",
            Kind.TEXT,
            "Apartment, suite, floor.",
            max_length=100,
            width=16,
        ),
        Field(
            f"{label} Address Line 3",
            f"{path}.addressLines[2]",
            Kind.TEXT,
            "More of the address.",
            max_length=100,
            width=16,
        ),
        Field(
            f"{label} City",
            f"{path}.cityTown",
            Kind.TEXT,
            "City or town.",
            required=required,
            max_length=50,
            example="Shelton",
            width=14,
        ),
        Field(
            f"{label} State",
            f"{path}.stateProvince",
            Kind.CODE,
            "State or province; required for US and CA addresses.",
            max_length=50,
            required_if=(f"{path}.countryCode", STATE_COUNTRIES),
            example="CT",
            width=10,
        ),
        Field(
            f"{label} Postal Code",
            f"{path}.postalCode",
            Kind.CODE,
            "ZIP or postal code, as text (leading zeros).",
            required=required,
            max_length=20,
            example="06484",
            width=12,
        ),
        Field(
            f"{label} Country",
            f"{path}.countryCode",
            Kind.CODE,
            "Two-letter ISO country code.",
            required=required,
            pattern=COUNTRY_PATTERN,
            pattern_hint=COUNTRY_HINT,
            example="US",
            width=10,
        ),
        Field(
            f"{label} Phone",
            f"{path}.phone",
            Kind.CODE,
            "Phone number for the carrier.",
            max_length=25,
            example="203-555-0147",
            width=14,
        ),
        Field(
            f"{label} Email",
            f"{path}.email",
            Kind.TEXT,
            "E-mail address for delivery notices.",
            max_length=70,
            pattern=EMAIL_PATTERN,
            pattern_hint="an e-mail address such as name@example.com",
            example="maria.silva@example.com",
            width=24,
        ),
    )
