"""The WSGI face of the emulator: routing, OAuth, the common headers, JSON in and out, error bodies.

Order of checks on a Fulfillment call (api §2.2, §20): route (404/405), bearer token (401, answered
as PB's gateway does: a bare ``PB-APIM-ERR-1002`` for a missing or unknown token, ``PB-APIM-ERR-1003``
for an expired one, api §21.4), ``X-PB-TransactionId`` (400; the ID is spent even if the request then
fails, so a retry must use a new one), JSON body (400), ``clientId`` (400 missing / 403 another
account), then the resource's own rules. Each request runs in one store transaction, so a rejected
request changes nothing.

Outside ``/shippingservices`` the emulator has its own control plane, which needs no transaction ID
but the emulator's credentials (Basic API key and secret, or a bearer token) and refuses cross-site
requests (`admin.check`): ``POST /emulator/admin/advance`` with ``{"resource", "id", "status"}`` plays
the fulfillment centre and moves an object along its status chain (`Emulator.advance`).
"""

from __future__ import annotations

import base64
import hmac
import json
import os
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from http import HTTPStatus
from typing import Any, Protocol, TypeVar, runtime_checkable
from urllib.parse import parse_qs

from . import admin, errors
from .asns import Asns
from .boms import BillsOfMaterials
from .config import EmulatorConfig
from .errors import GatewayError, HttpError, bad_request, error_body
from .inventory import Inventory
from .orders import Orders
from .products import Products
from .returns import Returns
from .routing import Reply, Request, Route, Router, parse_json, require_client_id
from .shipments import Shipments
from .store import Store
from .timestamps import Clock
from .validation import Str, check_object, is_blank
from .work_orders import WorkOrders

FULFILLMENT_BASE = "/shippingservices/fulfillment"
TOKEN_PATH = "/oauth/token"
ADVANCE_PATH = "/emulator/admin/advance"  # the emulator's control plane, not PB's API
TRANSACTION_HEADER = "X-PB-TransactionId"
TRANSACTION_ID = re.compile(r"[A-Za-z0-9_-]{1,25}")
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
GRANT_TYPE = "client_credentials"
TOKEN_TYPE = "BearerToken"  # as PB's token answers spell it (api §21.5, §22.9)

R = TypeVar("R")
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class Resource(Protocol):
    """What the app needs from a resource module's class: its operations."""

    def routes(self) -> list[Route]:
        """Return the resource's routes, paths relative to the Fulfillment base."""
        ...


@runtime_checkable
class Advancing(Protocol):
    """A resource whose objects the fulfillment centre moves along a status chain (orders, ASNs...).

    ``ADVANCE_NAME`` is the resource's name in `Emulator.advance`; ``advance`` finds the object by
    its PB ID or its client key, checks the move and puts its effects (stock, shipments) into force.
    """

    ADVANCE_NAME: str

    def advance(self, client_id: str, key: str, status: str) -> dict[str, Any]:
        """Move the object to ``status`` and return its record; raise `HttpError` if it may not."""
        ...


# One entry per emulated resource; each is built as cls(store, config, clock).
RESOURCES = (Products, Orders, Asns, Inventory, Shipments, BillsOfMaterials, WorkOrders, Returns)
ADVANCE_RULES = {"resource": Str(required=True), "id": Str(required=True), "status": Str(required=True)}


class Emulator:
    """A WSGI application emulating the PB Fulfillment API for one client account."""

    def __init__(self, store: Store, config: EmulatorConfig | None = None, clock: Clock = time.time) -> None:
        self.store = store
        self.config = config or EmulatorConfig()
        self.clock = clock
        self.resources: list[Resource] = [cls(store, self.config, clock) for cls in RESOURCES]
        self.advancing = {r.ADVANCE_NAME: r for r in self.resources if isinstance(r, Advancing)}
        public = [
            Route("POST", TOKEN_PATH, self._token, client_id_from=None, body=False, public=True),
            Route("POST", ADVANCE_PATH, self._advance, client_id_from=None, body=False, public=True),
        ]
        routes = [
            route.prefixed(FULFILLMENT_BASE) for resource in self.resources for route in resource.routes()
        ]
        self.router = Router([*public, *routes])

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Answer one WSGI request."""
        request = _read_request(environ)
        try:
            if admin.is_admin(request.path):
                admin.check(environ, self.admits)
            reply = self.handle(request)
        except HttpError as error:
            reply = Reply(error.status, error_body(error.errors))
        except GatewayError as error:
            reply = Reply(error.status, error.body)
        return _respond(start_response, reply, _echo_headers(request))

    def handle(self, request: Request) -> Reply:
        """Route, authenticate and run one request; raise `HttpError` to reject it."""
        route, params = self.router.resolve(request.method, request.path)
        request = replace(request, path_params=params)
        if route.public:
            return route.handler(request)
        self._authenticate(request)
        self._spend_transaction_id(request)
        # The body is read before the store is held, which it does not need: the requests waiting for
        # the store (a look-up behind a bulk call) wait only for what uses it.
        request = self._with_body_and_client(route, request)
        if not route.atomic:
            return route.handler(request)
        with self.store.atomic():
            return route.handler(request)

    # The fulfillment centre ----------------------------------------------------------------------

    def advance(self, resource: str, key: str, status: str) -> dict[str, Any]:
        """Move one object of the account to ``status`` as the facility would, and return its record.

        ``resource`` is a resource's ``ADVANCE_NAME`` (``order``, ``asn``, ...); ``key`` its PB ID or
        client key. Moves go forward along the chain, one or more steps (each step's effects happen),
        or to ``CANCELED`` where allowed. Raise `HttpError` (400 ``EMU-NOT-ALLOWED`` for an unknown
        resource or status, ``EMU-BAD-STATE`` for a forbidden move; 404 for a missing object).
        """
        target = self.advancing.get(resource)
        if target is None:
            allowed = ", ".join(sorted(self.advancing))
            message = f"resource must be one of {allowed}"
            raise bad_request(errors.NOT_ALLOWED, message, "resource", f"Given: {resource}")
        with self.store.atomic():
            return target.advance(self.config.client_id, key, status)

    def _advance(self, request: Request) -> Reply:
        """``POST /emulator/admin/advance`` with ``{"resource", "id", "status"}``: `advance` over HTTP."""
        body = _json_object(request.raw_body)
        problems = check_object(body, ADVANCE_RULES)
        if problems:
            raise HttpError(400, problems)
        return Reply(200, self.advance(body["resource"], body["id"], body["status"]))

    # Test helpers -------------------------------------------------------------------------------

    def products(self, client_id: str | None = None) -> list[dict[str, Any]]:
        """Return the stored product records (of one client, or of all), oldest first."""
        return self._resource(Products).all(client_id)

    def orders(self, client_id: str | None = None) -> list[dict[str, Any]]:
        """Return the stored order records (of one client, or of all), oldest first."""
        return self._resource(Orders).all(client_id)

    def asns(self, client_id: str | None = None) -> list[dict[str, Any]]:
        """Return the stored ASN records (of one client, or of all), oldest first."""
        return self._resource(Asns).all(client_id)

    def stock(self, client_id: str | None = None) -> list[dict[str, Any]]:
        """Return the stock records ``{sku, node, onHand, allocated, available}``, in order of first use."""
        return self._resource(Inventory).all(client_id)

    def shipments(self, client_id: str | None = None) -> list[dict[str, Any]]:
        """Return the stored shipment records (of one client, or of all), oldest first."""
        return self._resource(Shipments).all(client_id)

    def reset(self) -> None:
        """Forget all state: records, tokens and used transaction IDs."""
        self.store.reset()

    def close(self) -> None:
        """Close the underlying database."""
        self.store.close()

    def _resource(self, cls: type[R]) -> R:
        return next(resource for resource in self.resources if isinstance(resource, cls))

    # OAuth --------------------------------------------------------------------------------------

    def _token(self, request: Request) -> Reply:
        """``POST /oauth/token`` (api §2.1): Basic credentials in, a bearer token out."""
        self._check_basic(request.headers.get("authorization", ""))
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != FORM_CONTENT_TYPE:
            message = f"Content-Type must be {FORM_CONTENT_TYPE}"
            raise bad_request(errors.BAD_REQUEST, message, "Content-Type", f"Given: {content_type or 'none'}")
        grant_type = parse_qs(request.raw_body.decode("utf-8", "replace")).get("grant_type", [""])[0]
        if is_blank(grant_type):
            raise bad_request(errors.REQUIRED, "grant_type is required", "grant_type")
        if grant_type != GRANT_TYPE:
            raise bad_request(errors.NOT_ALLOWED, f"grant_type must be {GRANT_TYPE}", "grant_type")
        return Reply(200, self._issue_token())

    def _issue_token(self) -> dict[str, Any]:
        """The token answer (api §21.5): times as strings, as PB prints them."""
        now, ttl = self.clock(), self.config.token_ttl_seconds
        token = secrets.token_urlsafe(24)
        self.store.add_token(token, self.config.client_id, now + ttl)
        return {
            "access_token": token,
            "tokenType": TOKEN_TYPE,
            "issuedAt": str(int(now * 1000)),  # milliseconds since 1970
            "expiresIn": _seconds(ttl),
            "clientID": self.config.api_key,
            "org": self.config.org,
        }

    def _check_basic(self, header: str) -> None:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic" or not encoded.strip():
            raise _unauthorized("Authorization must be Basic base64(API key:API secret)")
        if not self._basic_matches(encoded):
            raise _unauthorized("The API key and secret are not valid")

    def _basic_matches(self, encoded: str) -> bool:
        try:
            given = base64.b64decode(encoded.strip(), validate=True)
        except ValueError:  # binascii.Error is a ValueError
            given = b""
        expected = f"{self.config.api_key}:{self.config.api_secret}".encode()
        return hmac.compare_digest(given, expected)

    def admits(self, authorization: str) -> bool:
        """Whether an Authorization header opens the control plane: Basic key:secret or a live bearer token."""
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "basic" and value.strip():
            return self._basic_matches(value)
        if scheme.lower() == "bearer" and value.strip():
            expires_at = self.store.token_expiry(value.strip())
            return expires_at is not None and self.clock() < expires_at
        return False

    # Checks on every Fulfillment call -----------------------------------------------------------

    def _authenticate(self, request: Request) -> None:
        """Refuse a missing, unknown or expired bearer token as PB's gateway does (api §21.4, §22.9)."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        expires_at = (
            self.store.token_expiry(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
        )
        if expires_at is None:
            raise GatewayError(401, errors.INVALID_TOKEN, errors.INVALID_TOKEN_TEXT)
        if self.clock() >= expires_at:
            raise GatewayError(401, errors.EXPIRED_TOKEN, errors.EXPIRED_TOKEN_TEXT)

    def _spend_transaction_id(self, request: Request) -> None:
        value = request.headers.get(TRANSACTION_HEADER.lower(), "")
        if not value:
            raise _transaction_error(f"{TRANSACTION_HEADER} header is required")
        if not TRANSACTION_ID.fullmatch(value):
            raise _transaction_error(
                f"{TRANSACTION_HEADER} must be 1 to 25 letters, digits, hyphens or underscores"
            )
        if not self.store.use_transaction_id(value, self.clock()):
            raise _transaction_error(
                f"{TRANSACTION_HEADER} {value} has already been used; send a new one per request"
            )

    def _with_body_and_client(self, route: Route, request: Request) -> Request:
        body = _json_object(request.raw_body) if route.body else None
        # Any clientId the request carries must be the account's, wherever it is (403 otherwise).
        for value in (request.query.get("clientId"), (body or {}).get("clientId")):
            if not is_blank(value):
                require_client_id(value, self.config.client_id)
        client_id = ""
        if route.client_id_from is not None:
            source = request.query if route.client_id_from == "query" else (body or {})
            client_id = require_client_id(source.get("clientId"), self.config.client_id)
        return replace(request, body=body, client_id=client_id)


def create_app(
    db_path: str | os.PathLike[str] | None = None,
    config: EmulatorConfig | None = None,
    clock: Clock = time.time,
) -> Emulator:
    """Return an emulator over SQLite at ``db_path`` (None: in memory), serving ``config``'s account."""
    return Emulator(Store(db_path), config, clock)


# WSGI plumbing ----------------------------------------------------------------------------------


def _read_request(environ: dict[str, Any]) -> Request:
    query = {name: values[0] for name, values in parse_qs(environ.get("QUERY_STRING", ""), True).items()}
    headers = {
        name[5:].replace("_", "-").lower(): value
        for name, value in environ.items()
        if name.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    return Request(
        method=environ.get("REQUEST_METHOD", "GET").upper(),
        path=_path(environ),
        query=query,
        headers=headers,
        raw_body=_read_body(environ),
    )


def _path(environ: dict[str, Any]) -> str:
    raw = environ.get("PATH_INFO", "") or "/"
    try:  # PEP 3333 servers hand over UTF-8 bytes as latin-1 text
        return raw.encode("latin-1").decode("utf-8")
    except UnicodeError:  # some (httpx's WSGITransport) already give real text
        return raw


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _json_object(raw: bytes) -> dict[str, Any]:
    value = parse_json(raw)
    if not isinstance(value, dict):
        raise bad_request(errors.BAD_TYPE, "The request body must be a JSON object", "body")
    return value


def _echo_headers(request: Request) -> list[tuple[str, str]]:
    # ASSUMPTION: echoing a well-formed transaction ID helps match logs; PB's docs do not say.
    value = request.headers.get(TRANSACTION_HEADER.lower(), "")
    return [(TRANSACTION_HEADER, value)] if TRANSACTION_ID.fullmatch(value) else []


def _respond(start_response: StartResponse, reply: Reply, extra: list[tuple[str, str]]) -> list[bytes]:
    payload = json.dumps(reply.body).encode("utf-8")
    status = HTTPStatus(reply.status)
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(payload))), *extra]
    start_response(f"{status.value} {status.phrase}", headers)
    return [payload]


def _unauthorized(message: str) -> HttpError:
    return HttpError.single(401, errors.UNAUTHORIZED, message, "Authorization")


def _seconds(ttl: float) -> str:
    """``expiresIn`` text: whole seconds as ``35999``, not ``35999.0``."""
    return str(int(ttl)) if float(ttl).is_integer() else str(ttl)


def _transaction_error(message: str) -> HttpError:
    return bad_request(errors.TRANSACTION_ID, message, TRANSACTION_HEADER)
