"""PB's error bodies, in every shape they come in, as `ErrorDetail`s (API reference §6.1, §21.4, §22.9).

* the standard `{"errors": [{"errorCode", "errorDescription", "additionalInfo", "parameters"}]}`;
* PB's gateway (APIM) errors, a bare `{"errorCode": "PB-APIM-ERR-…", "errorDescription": "…"}`;
* the Shipping APIs' legacy formats: a top-level array of `{errorCode, message, …}` or of
  `{key, message}`, and `{"status": "ERROR", "errors": [{errorCode, errorDescription, userMessage}]}`;
* anything else that is text: the text itself (cut), so the user sees what came back.

Codes are opaque strings: they are shown as they came. Kept apart from the client so that the
auth flow, which the client imports, can read error bodies too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from loader.gateway_codes import GATEWAY_CODE_PREFIX

MAX_TEXT_BODY = 500  # characters of a non-JSON error body worth showing


@dataclass(frozen=True)
class ErrorDetail:
    """One error object from an error body, whatever format it came in."""

    code: str
    message: str
    parameters: tuple[str, ...] = ()

    def describe(self) -> str:
        """`CODE: text` as a user should see it (either part alone when the other is missing)."""
        return ": ".join(part for part in (self.code, self.message) if part)


def parse_errors(body: Any) -> tuple[ErrorDetail, ...]:
    """Error objects from any of PB's error body formats."""
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        entries = body["errors"]
    elif isinstance(body, dict) and ("errorCode" in body or "errorDescription" in body):
        entries = [body]  # a gateway error: one bare error object
    elif isinstance(body, list):
        entries = body
    elif isinstance(body, str) and body.strip():
        return (ErrorDetail("", body.strip()[:MAX_TEXT_BODY]),)
    else:
        return ()
    return tuple(_detail(e) for e in entries if isinstance(e, dict))


def response_errors(response: httpx.Response) -> tuple[ErrorDetail, ...]:
    """The error objects of an answer that has been read, JSON or not."""
    return parse_errors(response_body(response))


def response_body(response: httpx.Response) -> Any:
    """An answer's body: parsed JSON, its text when it is not JSON, None when empty."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def describe_errors(errors: Iterable[ErrorDetail]) -> str:
    """Every error as `CODE: text`, joined, for a message (empty when there are none)."""
    return "; ".join(filter(None, (e.describe() for e in errors)))


def is_gateway_error(errors: Iterable[ErrorDetail]) -> bool:
    """Whether PB's gateway answered (about the request as a whole, never about one item in it)."""
    return any(e.code.startswith(GATEWAY_CODE_PREFIX) for e in errors)


def _detail(entry: dict[str, Any]) -> ErrorDetail:
    code = entry.get("errorCode") or entry.get("key") or ""
    message = (
        entry.get("errorDescription")
        or entry.get("message")
        or entry.get("userMessage")
        or entry.get("additionalInfo")
        or ""
    )
    params = entry.get("parameters") or ()
    if isinstance(params, str):
        params = (params,)
    return ErrorDetail(str(code), str(message), tuple(str(p) for p in params))
