"""Error codes and the standard error body of the emulated Fulfillment API.

PB's own 80-prefix Fulfillment codes are not in our copies of the docs (api §6.2, §19), so the
emulator uses its own codes, spelled ``EMU-...`` so nobody mistakes them for PB's (api §21.4).
The body shape is PB's standard one (api §6.1)::

    {"errors": [{"errorCode", "errorDescription", "additionalInfo", "parameters"}]}

Rules raise `HttpError`; the WSGI layer turns it into a response. Problems with single items of
a bulk call are not raised: they are returned as `ErrorDetail` lists inside the item's result.
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

ALL_CODES = (
    REQUIRED, TOO_LONG, NOT_ALLOWED, BAD_FORMAT, BAD_TYPE, OUT_OF_RANGE, DUPLICATE, NOT_FOUND,
    BAD_STATE, BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, METHOD_NOT_ALLOWED, TRANSACTION_ID,
)  # fmt: skip


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


def bad_request(code: str, description: str, parameter: str | None = None, info: str | None = None) -> HttpError:
    """Build a 400 `HttpError` with one error object."""
    return HttpError.single(400, code, description, parameter, info)
