"""Helpers for the emulator tests: a movable clock, a client that speaks PB, sample products."""

from __future__ import annotations

import itertools
from typing import Any

import httpx

from loader.emulator import Emulator, EmulatorConfig

BASE_URL = "http://emulator.local"
FULFILLMENT = "/shippingservices/fulfillment"
CLIENT_ID = EmulatorConfig().client_id
START = 1_750_000_000.0  # 2025-06-15T15:06:40Z


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

    def call(self, method: str, path: str, *, transaction_id: str | None = None, **kwargs: Any) -> httpx.Response:
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
        return self.call("POST", "/v1/products/search", json={"clientId": CLIENT_ID, **(body or {})}, params=params)


def product(sku: str = "SKU-1", **fields: Any) -> dict[str, Any]:
    """Return a minimal valid product, with ``fields`` added or replaced."""
    return {"clientId": CLIENT_ID, "sku": sku, "productType": "ITEM", "details": {"description": "Mug"}, **fields}


def errors_of(response: httpx.Response) -> list[tuple[str, list[str]]]:
    """Return ``(errorCode, parameters)`` of each error in a standard error body."""
    body = response.json()
    for error in body["errors"]:
        assert set(error) == {"errorCode", "errorDescription", "additionalInfo", "parameters"}
    return [(error["errorCode"], error["parameters"]) for error in body["errors"]]
