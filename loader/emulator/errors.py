"""Error codes and the standard error body of the emulated Fulfillment API.

PB's own 80-prefix Fulfillment codes are not in our copies of the docs (api §6.2, §19), so the
emulator uses its own codes, spelled ``EMU-...`` so nobody mistakes them for PB's (api §21.4).
The body shape is PB's standard one (api §6.1)::

    {"errors": [{"errorCode", "errorDescription", "additionalInfo", "parameters"}]}

Rules raise `HttpError`; the WSGI layer turns it into a response. Problems with single items of
a bulk call are not raised: they are returned as `ErrorDetail` lists inside the item's result.

PB's API gateway (APIM) answers some errors itself, before a request reaches the Fulfillment
service, and documents them as a *bare* object with no ``errors`` wrapper (api §21.4, §22.9)::

    {"errorCode": "PB-APIM-ERR-1006", "errorDescription": "Spike arrest violation"}

The emulator answers throttling and bad bearer tokens that way: raise `GatewayError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

REQUIRED = "EMU-REQUIRED"
TOO_LONG = "EMU-TOO-LONG"
NOT_ALLOWED = "EMU-NOT-ALLOWED"
BAD_FORMAT = "EMU-BAD-FORMAT"
BAD_TYPE = "EMU-BAD-TYPE"
OUT_OF_RANGE = "EMU-OUT-OF-RANGE"
DUPLICATE = "EMU-DUPLICATE"
NOT_FOUND = "EMU-NOT-FOUND"
BAD_STATE = "EMU-BAD-STATE"
BAD_REQUEST = "EMU-BAD-REQUEST"
UNAUTHORIZED = "EMU-UNAUTHORIZED"
FORBIDDEN = "EMU-FORBIDDEN"
METHOD_NOT_ALLOWED = "EMU-METHOD-NOT-ALLOWED"
TRANSACTION_ID = "EMU-TRANSACTION-ID"
UNKNOWN_FIELD = "EMU-UNKNOWN-FIELD"
INTERNAL = "EMU-INTERNAL"  # injected faults and crashes of the served app
UNAVAILABLE = "EMU-UNAVAILABLE"  # injected faults

ALL_CODES = (
    REQUIRED, TOO_LONG, NOT_ALLOWED, BAD_FORMAT, BAD_TYPE, OUT_OF_RANGE, DUPLICATE, NOT_FOUND,
    BAD_STATE, BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, METHOD_NOT_ALLOWED, TRANSACTION_ID, UNKNOWN_FIELD,
    INTERNAL, UNAVAILABLE,
)  # fmt: skip

# PB's gateway codes and texts (api §22.9); the texts of 1002 and 1006 are PB's, 1003's is ours.
INVALID_TOKEN = "PB-APIM-ERR-1002"
INVALID_TOKEN_TEXT = "Invalid Access Token"
EXPIRED_TOKEN = "PB-APIM-ERR-1003"
EXPIRED_TOKEN_TEXT = "Access Token Expired"
SPIKE_ARREST = "PB-APIM-ERR-1006"
SPIKE_ARREST_TEXT = "Spike arrest violation"
GATEWAY_CODES = (INVALID_TOKEN, EXPIRED_TOKEN, SPIKE_ARREST)


@dataclass(frozen=True)
class ErrorDetail:
    """One standard error object: a code, a plain sentence, and the fields it is about."""

    code: str
    description: str
    parameters: tuple[str, ...] = ()
    additional_info: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the error object as PB spells it."""
        return {
            "errorCode": self.code,
            "errorDescription": self.description,
            "additionalInfo": self.additional_info,
            "parameters": list(self.parameters),
        }


def detail(code: str, description: str, parameter: str | None = None, info: str | None = None) -> ErrorDetail:
    """Build an `ErrorDetail` about at most one field (the common case)."""
    return ErrorDetail(code, description, (parameter,) if parameter else (), info)


def error_body(errors: Iterable[ErrorDetail]) -> dict[str, Any]:
    """Return the standard error body holding ``errors``."""
    return {"errors": [error.to_json() for error in errors]}


class HttpError(Exception):
    """A request the emulated API rejects as a whole with ``status`` and a standard error body."""

    def __init__(self, status: int, errors: Iterable[ErrorDetail]) -> None:
        self.status = status
        self.errors = tuple(errors)
        super().__init__(f"{status}: " + "; ".join(error.description for error in self.errors))

    @classmethod
    def single(
        cls, status: int, code: str, description: str, parameter: str | None = None, info: str | None = None
    ) -> HttpError:
        """Build an `HttpError` carrying one error object."""
        return cls(status, [detail(code, description, parameter, info)])


def bad_request(
    code: str, description: str, parameter: str | None = None, info: str | None = None
) -> HttpError:
    """Build a 400 `HttpError` with one error object."""
    return HttpError.single(400, code, description, parameter, info)


def gateway_body(code: str, description: str) -> dict[str, str]:
    """Return a gateway error as PB's gateway prints it: a bare code and description (api §22.9)."""
    return {"errorCode": code, "errorDescription": description}


class GatewayError(Exception):
    """A request PB's gateway refuses before the Fulfillment service sees it (bad token, throttling)."""

    def __init__(self, status: int, code: str, description: str) -> None:
        self.status = status
        self.code = code
        self.description = description
        super().__init__(f"{status}: {code} {description}")

    @property
    def body(self) -> dict[str, str]:
        """The bare error object the gateway answers."""
        return gateway_body(self.code, self.description)
