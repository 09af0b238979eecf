"""Send products to `POST /v1/products/bulk` and settle each item's outcome (API reference §8.3).

UPSERT, the default action, is a CREATE first. An item PB refuses to create because its SKU
exists is fetched, compared field by field with what the sheet says, and then either reported
UNCHANGED or sent again as an UPDATE. So loading the same workbook twice creates nothing twice, and
a create whose answer was lost (and was retried) is recognised as our own.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

from loader.api import ApiResponse, ErrorDetail, FulfillmentClient
from loader.api.client import parse_errors
from loader.models import Action, Item, Outcome, Status
from loader.resources import Resource
from loader.resources.products import BULK_PATH, ITEM_PATH, MAX_BULK_ITEMS, PRODUCTS
from loader.send.common import Recorder, chunks, failure, no_result, results_by_key
from loader.send.keyed import find_by_key

GET_OPERATION = "GET /v1/products/{sku}"
Settled = list[tuple[Item, Outcome, tuple[ErrorDetail, ...]]]


class ProductSender:
    """Loads product items through the bulk endpoint, several chunks at a time."""

    def __init__(self, client: FulfillmentClient, resource: Resource, chunk_size: int = MAX_BULK_ITEMS,
                 concurrency: int = 1, recorder: Recorder | None = None) -> None:
        self.client = client
        self.resource = resource
        self.chunk_size = max(1, min(chunk_size, MAX_BULK_ITEMS))
        self.concurrency = max(1, concurrency)
        self.recorder = recorder or Recorder()

    def send(self, items: Sequence[Item]) -> dict[str, Outcome]:
        """The outcome of every item sent, by client key (items never sent are absent)."""
        outcomes: dict[str, Outcome] = {}
        creates = [i for i in items if i.action in (Action.CREATE, Action.UPSERT)]
        updates = [i for i in items if i.action is Action.UPDATE]
        existing: list[tuple[Item, Outcome, ApiResponse | None]] = []
        for item, outcome, errors, response in self._phase(creates, "CREATE"):
            ours = response is not None and (response.uncertain or item.key in self.recorder.in_doubt)
            if _names_field(errors, self.resource.key) and (item.action is Action.UPSERT or ours):
                existing.append((item, outcome, response))
            else:
                self._settle(outcomes, item, outcome)
        updates += self._settle_existing(existing, outcomes)
        for item, outcome, _, _ in self._phase(updates, "UPDATE"):
            self._settle(outcomes, item, outcome)
        return outcomes

    def _settle(self, outcomes: dict[str, Outcome], item: Item, outcome: Outcome) -> None:
        outcomes[item.key] = outcome
        self.recorder.settled([(item, outcome)])

    def _phase(self, items: Sequence[Item], operation: str) -> list[tuple[Item, Outcome, tuple, ApiResponse | None]]:
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            done = pool.map(lambda chunk: self._bulk(chunk, operation), chunks(items, self.chunk_size))
            return [entry for settled in done for entry in settled]

    def _bulk(self, chunk: Sequence[Item], operation: str) -> list[tuple[Item, Outcome, tuple, ApiResponse | None]]:
        """Send one chunk (halving it while PB rejects it whole); each item's outcome and errors."""
        if self.recorder.stopped:
            return []
        body = {"products": [self._wire(item, operation) for item in chunk]}
        response = self.client.call("POST", BULK_PATH, body, on_attempt=self.recorder.sending(chunk))
        if response.status == 400 and len(chunk) > 1:
            half = len(chunk) // 2
            return self._bulk(chunk[:half], operation) + self._bulk(chunk[half:], operation)
        if not response.ok:
            return [(item, failure(response), response.errors, response) for item in chunk]
        results = results_by_key(response.body, "products", self.resource.key, chunk)
        done = Status.CREATED if operation == "CREATE" else Status.UPDATED
        settled = []
        for item in chunk:
            result = results.get(item.key)
            errors = parse_errors({"errors": result.get("errors")}) if result else ()
            settled.append((item, _item_outcome(result, errors, response, done), errors, response))
        return settled

    def _wire(self, item: Item, operation: str) -> dict[str, Any]:
        return {"clientId": self.client.client_id, **item.payload, "operation": operation}

    def _settle_existing(self, failed: list[tuple[Item, Outcome, ApiResponse | None]],
                         outcomes: dict[str, Outcome]) -> list[Item]:
        """Items whose create failed on their key: UNCHANGED if PB has them as they are, else update.

        When this very create may have gone through before its answer was lost (and it was retried),
        PB holding the product exactly as sent means it was created: CREATED. One an earlier run
        sent without hearing back is already loaded: UNCHANGED.
        """
        to_update = []
        for item, create_outcome, response in failed:
            if self.recorder.stopped:
                break
            record = fetch_product(self.client, item.key)
            if record is None:
                self._settle(outcomes, item, create_outcome)  # not there after all: the create's own errors
            elif self.resource.project(record) == item.payload:
                status = Status.CREATED if response is not None and response.uncertain else Status.UNCHANGED
                self._settle(outcomes, item, Outcome(status, transaction_id=create_outcome.transaction_id))
            elif item.action is Action.UPSERT:
                to_update.append(item)
            else:
                self._settle(outcomes, item, create_outcome)
        return to_update


def fetch_product(client: FulfillmentClient, sku: str) -> dict[str, Any] | None:
    """PB's record of a product, or None if PB has no such SKU."""
    response = client.call("GET", ITEM_PATH.format(sku=quote(sku, safe="")), params={"clientId": client.client_id},
                           operation=GET_OPERATION)
    return response.body if response.status == 200 and isinstance(response.body, dict) else None


def known_skus(client: FulfillmentClient, skus: set[str]) -> set[str]:
    """The SKUs of `skus` that PB has as products (searched for, 200 at a time)."""
    return set(find_by_key(client, PRODUCTS, sorted(skus)))


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
