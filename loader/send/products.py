"""Send products to `POST /v1/products/bulk` and settle each item's outcome (API reference §8.3).

UPSERT, the default action, is a CREATE first. An item PB refuses to create because its SKU
exists is fetched, compared field by field with what the sheet says, and then either reported
UNCHANGED or sent again as an UPDATE. So loading the same workbook twice creates nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from loader.api import ApiResponse, ErrorDetail, FulfillmentClient
from loader.api.client import parse_errors
from loader.models import Action, Item, Outcome, Status
from loader.resources import Resource
from loader.resources.products import BULK_PATH, ITEM_PATH, MAX_BULK_ITEMS
from loader.send.common import Progress, chunks, failure, no_result, results_by_key

Settled = list[tuple[Item, Outcome, tuple[ErrorDetail, ...]]]


class ProductSender:
    """Loads product items through the bulk endpoint, one chunk at a time."""

    def __init__(self, client: FulfillmentClient, resource: Resource, chunk_size: int = MAX_BULK_ITEMS,
                 progress: Progress = lambda n: None) -> None:
        self.client = client
        self.resource = resource
        self.chunk_size = max(1, min(chunk_size, MAX_BULK_ITEMS))
        self.progress = progress

    def send(self, items: Sequence[Item]) -> dict[str, Outcome]:
        """The outcome of every item, by client key."""
        outcomes: dict[str, Outcome] = {}
        creates = [i for i in items if i.action in (Action.CREATE, Action.UPSERT)]
        updates = [i for i in items if i.action is Action.UPDATE]
        existing: list[tuple[Item, Outcome]] = []
        for chunk in chunks(creates, self.chunk_size):
            for item, outcome, errors in self._bulk(chunk, "CREATE"):
                if item.action is Action.UPSERT and _names_field(errors, self.resource.key):
                    existing.append((item, outcome))
                else:
                    outcomes[item.key] = outcome
                    self.progress(1)
        updates += self._settle_existing(existing, outcomes)
        for chunk in chunks(updates, self.chunk_size):
            for item, outcome, _ in self._bulk(chunk, "UPDATE"):
                outcomes[item.key] = outcome
                self.progress(1)
        return outcomes

    def _bulk(self, chunk: Sequence[Item], operation: str) -> Settled:
        """Send one chunk; each item's outcome and the errors PB gave for it."""
        body = {"products": [self._wire(item, operation) for item in chunk]}
        response = self.client.call("POST", BULK_PATH, body)
        if not response.ok:
            return [(item, failure(response), ()) for item in chunk]
        results = results_by_key(response.body, "products", self.resource.key, chunk)
        done = Status.CREATED if operation == "CREATE" else Status.UPDATED
        settled: Settled = []
        for item in chunk:
            result = results.get(item.key)
            errors = parse_errors({"errors": result.get("errors")}) if result else ()
            settled.append((item, _item_outcome(result, errors, response, done), errors))
        return settled

    def _wire(self, item: Item, operation: str) -> dict[str, Any]:
        return {"clientId": self.client.client_id, **item.payload, "operation": operation}

    def _settle_existing(self, failed: list[tuple[Item, Outcome]], outcomes: dict[str, Outcome]) -> list[Item]:
        """Items whose create failed on their key: UNCHANGED if PB has them as they are, else update."""
        to_update = []
        for item, create_outcome in failed:
            path = ITEM_PATH.format(sku=quote(item.key, safe=""))
            response = self.client.call("GET", path, params={"clientId": self.client.client_id})
            if response.status != 200 or not isinstance(response.body, dict):
                # not there after all: the create's own errors say what is wrong with the item
                outcomes[item.key] = create_outcome if response.status == 404 else failure(response)
                self.progress(1)
            elif self.resource.project(response.body) == item.payload:
                outcomes[item.key] = Outcome(Status.UNCHANGED, transaction_id=response.transaction_id)
                self.progress(1)
            else:
                to_update.append(item)
        return to_update


def known_skus(client: FulfillmentClient, skus: set[str]) -> set[str]:
    """The SKUs of `skus` that PB has as products (one GET each)."""
    found = set()
    for sku in sorted(skus):
        response = client.call("GET", ITEM_PATH.format(sku=quote(sku, safe="")), params={"clientId": client.client_id})
        if response.status == 200:
            found.add(sku)
    return found


def _names_field(errors: Sequence[ErrorDetail], name: str) -> bool:
    """Whether PB's errors point at `name` (how a create of an existing key is recognised, §21.4)."""
    return any(name in e.parameters for e in errors)


def _item_outcome(result: dict | None, errors: Sequence[ErrorDetail], response: ApiResponse,
                  done: Status) -> Outcome:
    if result is None:
        return no_result(response)
    if result.get("errors"):
        return failure(response, errors)
    return Outcome(done, message=result.get("status"), transaction_id=response.transaction_id)
