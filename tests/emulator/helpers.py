"""Helpers for the emulator tests: a movable clock, a client that speaks PB, sample products."""

from __future__ import annotations

import copy
import itertools
import re
from typing import Any, TypeVar

import httpx

from loader.emulator import Emulator, EmulatorConfig

BASE_URL = "http://emulator.local"
FULFILLMENT = "/shippingservices/fulfillment"
CLIENT_ID = EmulatorConfig().client_id
# The control plane (/emulator/admin/...) takes the emulator's own credentials, as HTTP Basic.
ADMIN_AUTH = (EmulatorConfig().api_key, EmulatorConfig().api_secret)
START = 1_750_000_000.0  # 2025-06-15T15:06:40Z
T = TypeVar("T")


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def http_client(emulator: Emulator) -> httpx.Client:
    """Return an httpx client talking to ``emulator`` in-process."""
    return httpx.Client(transport=httpx.WSGITransport(app=emulator), base_url=BASE_URL)


def fetch_token(client: httpx.Client, config: EmulatorConfig | None = None) -> str:
    """Get an access token with the config's credentials."""
    config = config or EmulatorConfig()
    response = client.post(
        "/oauth/token", auth=(config.api_key, config.api_secret), data={"grant_type": "client_credentials"}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


class Api:
    """Calls Fulfillment operations with a bearer token and a fresh transaction ID each time."""

    _ids = itertools.count(1)

    def __init__(self, client: httpx.Client, token: str) -> None:
        self.client = client
        self.token = token

    def refresh(self) -> None:
        """Get a new token, e.g. after the test moved the clock past the old one's expiry."""
        self.token = fetch_token(self.client)

    def headers(self, transaction_id: str | None = None) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token}",
            "X-PB-TransactionId": transaction_id or f"t-{next(self._ids)}",
        }

    def call(
        self, method: str, path: str, *, transaction_id: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = {**self.headers(transaction_id), **kwargs.pop("headers", {})}
        return self.client.request(method, FULFILLMENT + path, headers=headers, **kwargs)

    def create(self, product: dict[str, Any]) -> httpx.Response:
        return self.call("POST", "/v1/products", json=product)

    def get(self, sku: str, client_id: str = CLIENT_ID) -> httpx.Response:
        return self.call("GET", f"/v1/products/{sku}", params={"clientId": client_id})

    def put(self, sku: str, product: dict[str, Any]) -> httpx.Response:
        return self.call("PUT", f"/v1/products/{sku}", json=product)

    def bulk(self, *items: dict[str, Any]) -> httpx.Response:
        return self.call("POST", "/v1/products/bulk", json={"products": list(items)})

    def search(self, body: dict[str, Any] | None = None, **params: Any) -> httpx.Response:
        return self.call(
            "POST", "/v1/products/search", json={"clientId": CLIENT_ID, **(body or {})}, params=params
        )


def product(sku: str = "SKU-1", **fields: Any) -> dict[str, Any]:
    """Return a minimal valid product, with ``fields`` added or replaced."""
    return {
        "clientId": CLIENT_ID,
        "sku": sku,
        "productType": "ITEM",
        "details": {"description": "Mug"},
        **fields,
    }


def errors_of(response: httpx.Response) -> list[tuple[str, list[str]]]:
    """Return ``(errorCode, parameters)`` of each error in a standard error body."""
    body = response.json()
    return item_errors(body)


def item_errors(result: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Return ``(errorCode, parameters)`` of each error of an error body or of a failed bulk result."""
    for error in result["errors"]:
        assert set(error) == {"errorCode", "errorDescription", "additionalInfo", "parameters"}
    return [(error["errorCode"], error["parameters"]) for error in result["errors"]]


UNKNOWN = "EMU-UNKNOWN-FIELD"


# Kits, work orders and returns (added with boms.py, work_orders.py, returns.py) -------------------


def resource_of(emulator: Emulator, cls: type[T]) -> T:
    """Return the emulator's instance of a resource class, e.g. to read its records or advance one."""
    return next(resource for resource in emulator.resources if isinstance(resource, cls))


def seed_products(
    api: Api, kits: tuple[str, ...] = ("KIT-1",), items: tuple[str, ...] = ("PART-A", "PART-B")
) -> None:
    """Create KIT and ITEM products for BOMs, work orders and returns to refer to."""
    for sku in kits:
        assert api.create(product(sku, productType="KIT")).status_code == 201
    for sku in items:
        assert api.create(product(sku)).status_code == 201


def bom(sku: str = "KIT-1", **fields: Any) -> dict[str, Any]:
    """Return a minimal valid bill of materials for kit ``sku`` (two of PART-A, one of PART-B)."""
    details = [{"childSku": "PART-A", "quantity": 2}, {"childSku": "PART-B", "quantity": 1}]
    return {
        "clientId": CLIENT_ID,
        "sku": sku,
        "description": "Gift set",
        "billOfMaterialDetails": details,
        **fields,
    }


def work_order(key: str = "WO-C-1", **fields: Any) -> dict[str, Any]:
    """Return a minimal valid work order building 5 of KIT-1 at node 157."""
    return {
        "clientId": CLIENT_ID,
        "clientWorkOrderId": key,
        "workOrderName": "Build gift sets",
        "type": "KIT",
        "node": "157",
        "sku": "KIT-1",
        "workOrderQuantity": 5,
        **fields,
    }


def return_line(sku: str = "PART-A", quantity: int = 1, **fields: Any) -> dict[str, Any]:
    """Return one return line: ``quantity`` of ``sku``, with ``fields`` added."""
    return {"itemDetail": {"sku": sku}, "quantity": quantity, **fields}


def return_order(key: str = "RMA-1", **fields: Any) -> dict[str, Any]:
    """Return a minimal valid return of one PART-A."""
    return {"clientId": CLIENT_ID, "returnClientOrderId": key, "returnItems": [return_line()], **fields}


REMOVE = object()  # in `with_path`: delete the field


def with_path(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Return a deep copy of ``body`` with the JSON ``path`` (``a.b[1].c``) set to ``value`` or REMOVEd."""
    result = copy.deepcopy(body)
    *parents, last = re.findall(r"[^.\[\]]+", path)
    target: Any = result
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target.setdefault(part, {})
    if isinstance(target, list):
        target[int(last)] = value
    elif value is REMOVE:
        target.pop(last, None)
    else:
        target[last] = value
    return result


# Orders, ASNs, inventory and shipments (added with orders.py, asns.py, inventory.py, shipments.py) --


def ship_to(**fields: Any) -> dict[str, Any]:
    """Return a valid US ship-to address, with ``fields`` added or replaced."""
    return {
        "name": "Ada Lovelace",
        "addressLines": ["1 Main St"],
        "cityTown": "Hebron",
        "stateProvince": "KY",
        "postalCode": "01234",
        "countryCode": "US",
        **fields,
    }


def order_lines(*lines: tuple[str, int]) -> list[dict[str, Any]]:
    """Return order lines numbered from 1; ``lines`` are ``(sku, orderedQuantity)``."""
    return [{"lineId": n, "sku": sku, "orderedQuantity": qty} for n, (sku, qty) in enumerate(lines, 1)]


def order(key: str = "CO-1", *lines: tuple[str, int], **fields: Any) -> dict[str, Any]:
    """Return a minimal valid order; ``lines`` are ``(sku, orderedQuantity)``, by default one SKU-1."""
    return {
        "clientId": CLIENT_ID,
        "clientOrderId": key,
        "createDate": "2025-06-15T10:00:00Z",
        "inputShippingDetails": {"carrier": "USPS", "serviceId": "PM"},
        "shipToAddress": ship_to(),
        "orderItems": order_lines(*(lines or [("SKU-1", 1)])),
        **fields,
    }


def asn_lines(*lines: tuple[str, int]) -> list[dict[str, Any]]:
    """Return ASN lines numbered from 1; ``lines`` are ``(sku, expectedQuantity)``."""
    return [{"lineId": n, "sku": sku, "expectedQuantity": qty} for n, (sku, qty) in enumerate(lines, 1)]


def asn(key: str = "ASN-C-1", *lines: tuple[str, int], **fields: Any) -> dict[str, Any]:
    """Return a minimal valid ASN-type ASN to node 157; ``lines`` are ``(sku, expectedQuantity)``, by default 10 SKU-1."""
    return {
        "clientId": CLIENT_ID,
        "inboundType": "ASN",
        "clientASNId": key,
        "receivingNode": "157",
        "asnItems": asn_lines(*(lines or [("SKU-1", 10)])),
        **fields,
    }


def advance(client: httpx.Client, resource: str, key: str, status: str) -> httpx.Response:
    """Move an object along its status chain through the emulator's admin route (Basic credentials)."""
    body = {"resource": resource, "id": key, "status": status}
    return client.post("/emulator/admin/advance", json=body, auth=ADMIN_AUTH)
