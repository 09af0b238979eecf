"""Routes, and the plain request/reply values passed between the WSGI layer and resource modules.

A resource module declares its operations as `Route`s (method, PB path template, handler). The
handler receives a `Request` that the WSGI layer has already authenticated and parsed, and returns a
`Reply`; it never sees WSGI. Adding a resource therefore means adding routes, not touching HTTP code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from . import errors
from .errors import HttpError, bad_request, detail
from .validation import is_blank, unknown_fields

ClientIdFrom = Literal["query", "body"] | None


@dataclass(frozen=True)
class Request:
    """One parsed request: path parameters, query (first value of each), headers, JSON body."""

    method: str
    path: str
    path_params: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    raw_body: bytes = b""
    body: Any = None  # the parsed JSON object, for routes that take one
    client_id: str = ""  # the account's clientId, once checked, on routes that name where it is


@dataclass(frozen=True)
class Reply:
    """What a handler answers: an HTTP status and a JSON-serialisable body."""

    status: int
    body: Any


Handler = Callable[[Request], Reply]


@dataclass(frozen=True)
class Route:
    """One operation: ``template`` is a PB path such as ``/v1/products/{sku}``.

    ``client_id_from`` says where the required ``clientId`` lives (None: the handler checks it, as
    in bulk calls where every item carries its own); ``body`` says whether a JSON object is expected;
    ``public`` routes (the token endpoint) skip bearer and transaction-ID checks. The handler runs
    inside one store transaction (`Store.atomic`), unless ``atomic`` is False: then it holds the
    store itself for the part that uses it, and checks what needs no store before (a bulk call's
    items), so that other requests wait for the store only while it is used.
    """

    method: str
    template: str
    handler: Handler
    client_id_from: ClientIdFrom = "body"
    body: bool = True
    public: bool = False
    atomic: bool = True

    @property
    def pattern(self) -> re.Pattern[str]:
        """The template as a regular expression; a placeholder matches one path segment."""
        parts = re.split(r"\{(\w+)\}", self.template)
        regex = "".join(
            re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)" for i, part in enumerate(parts)
        )
        return re.compile(regex)

    @property
    def placeholders(self) -> int:
        """How many path segments are variables; fewer means a more specific route."""
        return self.template.count("{")

    def prefixed(self, prefix: str) -> Route:
        """Return this route mounted under ``prefix``."""
        return replace(self, template=prefix + self.template)


class Router:
    """Finds the route for a method and path, or raises the 404/405 the API would answer."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self._routes = [(route, route.pattern) for route in routes]

    def resolve(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """Return the route and its path parameters for ``method`` and ``path``."""
        found = [(route, m.groupdict()) for route, pattern in self._routes if (m := pattern.fullmatch(path))]
        if not found:
            raise HttpError.single(404, errors.NOT_FOUND, f"No operation exists at {path}")
        # A literal segment beats a placeholder: POST /v1/products/bulk is the bulk call, not a SKU.
        fewest = min(route.placeholders for route, _ in found)
        best = [(route, params) for route, params in found if route.placeholders == fewest]
        for route, params in best:
            if route.method == method:
                return route, params
        allowed = ", ".join(sorted({route.method for route, _ in best}))
        raise HttpError.single(
            405, errors.METHOD_NOT_ALLOWED, f"{method} is not allowed on {path}", info=f"Allowed: {allowed}"
        )


def parse_json(raw: bytes) -> Any:
    """Return the JSON value of a request body; raise 400 if it is blank or not JSON.

    Most operations then insist on an object; bulk cancel also takes a bare array (api §11.2).
    """
    if not raw.strip():
        raise bad_request(errors.REQUIRED, "The request body must be a JSON object", "body")
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError alike
        raise bad_request(
            errors.BAD_REQUEST, "The request body is not valid JSON", "body", str(error)
        ) from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")  # Python accepts NaN and Infinity; JSON does not


def require_client_id(value: Any, expected: str, parameter: str = "clientId") -> str:
    """Return ``value`` if it is the account's clientId; raise 400 if missing, 403 if another."""
    if is_blank(value):
        raise bad_request(errors.REQUIRED, f"{parameter} is required", parameter)
    if value != expected:
        raise HttpError.single(
            403, errors.FORBIDDEN, f"{parameter} {value} is not enabled for these credentials", parameter
        )
    return str(value)


def require_empty(raw: bytes) -> None:
    """Refuse a body on an operation whose body is empty (api §20: cancel order, cancel ASN).

    Nothing or ``{}`` is accepted; every key of a JSON object is refused as unknown (api §21.7).
    """
    if not raw.strip():
        return
    value = parse_json(raw)
    if not isinstance(value, dict):
        raise bad_request(errors.BAD_TYPE, "The request body must be empty", "body")
    problems = unknown_fields(value, ())
    if problems:
        raise HttpError(400, problems)


def bulk_array(body: Mapping[str, Any], name: str) -> Any:
    """Return the array ``name`` of a bulk body; raise 400 if the body holds any other key (api §21.7)."""
    problems = unknown_fields(body, (name,))
    if problems:
        raise HttpError(400, problems)
    return body.get(name)


def bulk_items(items: Any, name: str, what: str, limit: int, client_id: str) -> list[dict[str, Any]]:
    """The items of a well-formed bulk body (api §21.3); raise 400 for a malformed one, 403 for another account.

    Only what makes the whole request malformed is checked here: the array itself, and each item
    being an object with this account's clientId. Each item's own rules (unknown fields included)
    are its result's business.
    """
    if not isinstance(items, list):
        code = errors.REQUIRED if items is None else errors.BAD_TYPE
        raise bad_request(code, f"{name} must be an array of {what}", name)
    if not 1 <= len(items) <= limit:
        message = f"{name} must hold between 1 and {limit} items"
        raise bad_request(errors.OUT_OF_RANGE, message, name, f"{len(items)} items given")
    problems = []
    for index, item in enumerate(items):
        path = f"{name}[{index}]"
        if not isinstance(item, dict):
            problems.append(detail(errors.BAD_TYPE, f"{path} must be an object", path))
        elif is_blank(item.get("clientId")):
            problems.append(detail(errors.REQUIRED, f"{path}.clientId is required", f"{path}.clientId"))
        else:
            require_client_id(item["clientId"], client_id, f"{path}.clientId")
    if problems:
        raise HttpError(400, problems)
    return items
