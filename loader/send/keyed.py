"""Send resources that are found again by client key: orders, returns, ASNs, BOMs, work orders.

Every item is first looked up at PB by its client key (one search call per chunk of keys). What the
user asked for is then settled against what PB has: an unchanged item is UNCHANGED and not sent, an
UPDATE of a missing item or a CREATE of an existing one is refused with a message, and the rest is
sent — in bulk where the API has a bulk endpoint, as concurrent single calls where it has not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from loader.api import ApiResponse, FulfillmentClient
from loader.api.client import parse_errors
from loader.models import Action, Item, Outcome, Status
from loader.resources import Resource
from loader.resources.base import ApiSpec
from loader.send.common import Progress, chunks, failure, no_result, refused, results_by_key

CANCELED = "CANCELED"
LOOKUP_CHUNK = 200


@dataclass(frozen=True)
class Step:
    """What to do with one item after looking it up."""

    item: Item
    verb: str  # "create", "update" or "cancel"
    record: dict[str, Any] | None


class KeyedSender:
    """Looks items up by client key, settles what needs no call, and sends the rest."""

    def __init__(self, client: FulfillmentClient, resource: Resource, spec: ApiSpec, chunk_size: int,
                 concurrency: int, progress: Progress) -> None:
        self.client = client
        self.resource = resource
        self.spec = spec
        self.chunk_size = max(1, min(chunk_size, spec.max_bulk_items))
        self.concurrency = max(1, concurrency)
        self.progress = progress

    def send(self, items: Sequence[Item]) -> dict[str, Outcome]:
        """The outcome of every item, by client key."""
        existing = self.lookup([i.key for i in items])
        outcomes: dict[str, Outcome] = {}
        steps: list[Step] = []
        for item in items:
            decided = decide(item, existing.get(item.key), self.resource, self.spec)
            if isinstance(decided, Outcome):
                outcomes[item.key] = decided
                self.progress(1)
            else:
                steps.append(decided)
        outcomes.update(self.perform(steps))
        return outcomes

    def lookup(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """PB's records for `keys`, by client key (keys PB does not have are absent)."""
        found: dict[str, dict[str, Any]] = {}
        for chunk in chunks(sorted(set(keys)), LOOKUP_CHUNK):
            page = 1
            while True:
                body = {"clientId": self.client.client_id,
                        "searchFields": [{"name": self.spec.search_key, "values": list(chunk)},
                                         *self.spec.lookup_fields]}
                response = self.client.call("POST", self.spec.search_path, body,
                                            params={"page": page, "size": len(chunk)})
                if not response.ok or not isinstance(response.body, dict):
                    raise_lookup_failure(self.client, self.spec, response)
                for record in response.body.get("content") or []:
                    key = record.get(self.resource.key)
                    if key is not None and str(key) in chunk:
                        found[str(key)] = record
                if response.body.get("last", True):
                    break
                page += 1
        return found

    def perform(self, steps: list[Step]) -> dict[str, Outcome]:  # pragma: no cover - overridden
        raise NotImplementedError

    def _put_body(self, item: Item) -> dict[str, Any]:
        return {"clientId": self.client.client_id, **item.payload}


def decide(item: Item, record: dict[str, Any] | None, resource: Resource, spec: ApiSpec) -> Step | Outcome:
    """Settle an item against PB's record of it: an outcome now, or the call to make."""
    name = resource.key_field.header
    if item.action is Action.CANCEL:
        if record is None:
            return refused("not-found", f"PB has no {name} {item.key} to cancel.")
        if record.get("status") == CANCELED:
            return Outcome(Status.UNCHANGED, pb_id=_pb_id(record, spec), message="Already cancelled.")
        return Step(item, "cancel", record)
    if record is None:
        if item.action is Action.UPDATE:
            return refused("not-found", f"PB has no {name} {item.key} to update; use CREATE or UPSERT.")
        return Step(item, "create", None)
    if item.action is Action.CREATE:
        return refused("already-exists", f"PB already has {name} {item.key}; use UPDATE or UPSERT to change it.")
    if resource.project(record) == item.payload:
        return Outcome(Status.UNCHANGED, pb_id=_pb_id(record, spec))
    return Step(item, "update", record)


def _pb_id(record: dict[str, Any] | None, spec: ApiSpec) -> str | None:
    if record is None or spec.pb_id is None:
        return None
    value = record.get(spec.pb_id)
    return None if value is None else str(value)


def raise_lookup_failure(client: FulfillmentClient, spec: ApiSpec, response: ApiResponse) -> None:
    """A failed lookup stops the sheet: without it pbload could create items twice."""
    from loader.errors import ApiError

    detail = "; ".join(e.message for e in response.errors) or f"HTTP {response.status}"
    raise ApiError(f"Could not look items up at {client.path_for(spec.search_path)} ({detail}). "
                   "Nothing more was sent; run the command again later.")


class BulkSender(KeyedSender):
    """Orders and returns: creates and updates through the bulk endpoint, cancels through bulk cancel."""

    def perform(self, steps: list[Step]) -> dict[str, Outcome]:
        outcomes: dict[str, Outcome] = {}
        writes = [s for s in steps if s.verb in ("create", "update")]
        cancels = [s for s in steps if s.verb == "cancel"]
        for chunk in chunks(writes, self.chunk_size):
            outcomes.update(self._bulk(chunk))
        for chunk in chunks(cancels, self.chunk_size):
            outcomes.update(self._bulk_cancel(chunk))
        return outcomes

    def _bulk(self, chunk: Sequence[Step]) -> dict[str, Outcome]:
        body = {self.spec.bulk_array: [self._bulk_item(s) for s in chunk]}
        response = self.client.call("POST", self.spec.bulk_path or "", body)
        return self._settle(chunk, response, lambda s: Status.CREATED if s.verb == "create" else Status.UPDATED)

    def _bulk_item(self, step: Step) -> dict[str, Any]:
        wire = self._put_body(step.item)
        if self.spec.bulk_operation:
            wire["operation"] = "CREATE" if step.verb == "create" else "UPDATE"
        return wire

    def _bulk_cancel(self, chunk: Sequence[Step]) -> dict[str, Outcome]:
        requests = [{"clientId": self.client.client_id, self.resource.key: s.item.key,
                     **({self.spec.pb_id: _pb_id(s.record, self.spec)} if self.spec.pb_id else {})} for s in chunk]
        response = self.client.call("PUT", self.spec.bulk_cancel_path or "", {"CancelOrdersRequest": requests})
        return self._settle(chunk, response, lambda s: Status.CANCELED)

    def _settle(self, chunk: Sequence[Step], response: ApiResponse,
                done: Callable[[Step], Status]) -> dict[str, Outcome]:
        outcomes: dict[str, Outcome] = {}
        if not response.ok:
            outcomes = {s.item.key: failure(response) for s in chunk}
        else:
            results = results_by_key(response.body, self.spec.bulk_array or "CancelOrdersRequest",
                                     self.resource.key, [s.item for s in chunk])
            for step in chunk:
                outcomes[step.item.key] = self._item_outcome(step, results.get(step.item.key), response, done(step))
        self.progress(len(chunk))
        return outcomes

    def _item_outcome(self, step: Step, result: dict | None, response: ApiResponse, done: Status) -> Outcome:
        if result is None:
            return no_result(response)
        if result.get("errors"):
            return failure(response, parse_errors({"errors": result["errors"]}))
        pb_id = _pb_id(result, self.spec) or _pb_id(step.record, self.spec)
        return Outcome(done, pb_id=pb_id, transaction_id=response.transaction_id)


class SingleSender(KeyedSender):
    """ASNs, bills of materials and work orders: one call per item, several at a time."""

    def perform(self, steps: list[Step]) -> dict[str, Outcome]:
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return dict(zip((s.item.key for s in steps), pool.map(self._one, steps)))

    def _one(self, step: Step) -> Outcome:
        try:
            if step.verb == "create":
                response = self.client.call("POST", self.spec.create_path or "", self._put_body(step.item))
                done = Status.CREATED
            elif step.verb == "update":
                response = self.client.call("PUT", self._path(self.spec.item_path, step.record),
                                            self._put_body(step.item))
                done = Status.UPDATED
            else:
                response = self._cancel(step)
                done = Status.CANCELED
        finally:
            self.progress(1)
        if not response.ok:
            return failure(response)
        body = response.body if isinstance(response.body, dict) else {}
        return Outcome(done, pb_id=_pb_id(body, self.spec) or _pb_id(step.record, self.spec),
                       transaction_id=response.transaction_id)

    def _cancel(self, step: Step) -> ApiResponse:
        path = self._path(self.spec.cancel_path, step.record)
        if not self.spec.cancel_body:
            return self.client.call("PUT", path, params={"clientId": self.client.client_id})
        body = {"clientId": self.client.client_id, self.resource.key: step.item.key}
        body.update({field: step.item.extra[column] for column, field in self.spec.cancel_fields
                     if step.item.extra.get(column) is not None})
        return self.client.call("PUT", path, body)

    def _path(self, template: str | None, record: dict[str, Any] | None) -> str:
        return (template or "").format(id=quote(_pb_id(record, self.spec) or "", safe=""))
