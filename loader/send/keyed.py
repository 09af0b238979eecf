"""Send every resource: each is found again at PB by its client key (SKU, client order ID, ...).

Every item is first looked up at PB by its client key (one search call per chunk of keys). What the
user asked for is then settled against what PB has: an unchanged item is UNCHANGED and not sent, an
UPDATE of a missing item or a CREATE of an existing one is refused with a message, and the rest is
sent — in bulk where the API has a bulk endpoint, as concurrent single calls where it has not.

An item in doubt is looked up again, and PB holding it as sent means it went through: a bulk
result that does not name its item (§21.3), an item the answer has no result for, a create refused
as a duplicate after an answer was lost (and the request retried) or after an earlier run was cut short.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from typing import Any, NoReturn
from urllib.parse import quote

from loader import bets
from loader.api import ApiResponse, ErrorDetail, FulfillmentClient, parse_errors
from loader.errors import ApiError
from loader.models import Action, Item, Outcome, Status
from loader.resources import Resource
from loader.resources.base import ApiSpec
from loader.send.common import (BulkResults, Recorder, chunks, failure, in_doubt, no_result, refused,
                                results_by_key, state_message)

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
                 concurrency: int, recorder: Recorder | None = None) -> None:
        self.client = client
        self.resource = resource
        self.spec = spec
        self.chunk_size = max(1, min(chunk_size, spec.max_bulk_items))
        self.concurrency = max(1, concurrency)
        self.recorder = recorder or Recorder()

    def send(self, items: Sequence[Item]) -> dict[str, Outcome]:
        """The outcome of every item sent, by client key (items never sent are absent)."""
        existing = self.lookup([i.key for i in items])
        outcomes: dict[str, Outcome] = {}
        steps: list[Step] = []
        settled: list[tuple[Item, Outcome]] = []
        for item in items:
            decided = decide(item, existing.get(item.key), self.resource, self.spec, self.recorder.in_doubt)
            if isinstance(decided, Outcome):
                settled.append((item, decided))
            else:
                steps.append(decided)
        self._settle(outcomes, settled)
        self._run(self.jobs(steps), outcomes)
        return outcomes

    def _settle(self, outcomes: dict[str, Outcome], results: Sequence[tuple[Item, Outcome]]) -> None:
        for item, outcome in results:
            outcomes[item.key] = outcome
        self.recorder.settled(results)

    def _run(self, jobs: list[Callable[[], list[tuple[Item, Outcome]]]], outcomes: dict[str, Outcome]) -> None:
        """Run jobs `concurrency` at a time, committing each job's outcomes as soon as it is answered.

        If one job fails outright (the API gone), no new job starts; the answers of the jobs already
        under way are still committed before the failure is raised.
        """
        failures: list[BaseException] = []
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            for future in as_completed([pool.submit(job) for job in jobs]):
                try:
                    self._settle(outcomes, future.result())
                except ApiError as exc:
                    self.recorder.stop.set()
                    failures.append(exc)
        if failures:
            raise failures[0]

    def lookup(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """PB's records for `keys`, by client key (keys PB does not have are absent)."""
        return find_by_key(self.client, self.resource, keys)

    def jobs(self, steps: list[Step]) -> list[Callable[[], list[tuple[Item, Outcome]]]]:  # pragma: no cover
        raise NotImplementedError

    def _put_body(self, item: Item) -> dict[str, Any]:
        return {"clientId": self.client.client_id, **item.payload}

    def confirm(self, step: Step, outcome: Outcome, done: Status, response: ApiResponse,
                errors: Sequence[ErrorDetail]) -> Outcome:
        """A create refused as a duplicate when it may have been our own: did it go through?"""
        ours = response.uncertain or step.item.key in self.recorder.in_doubt
        if step.verb != "create" or not ours or not any(self.resource.key in e.parameters for e in errors):
            return outcome
        record = self.held_as_sent([step]).get(step.item.key)
        if record is None:
            return outcome
        return self._done(step, record, response, done if response.uncertain else Status.UNCHANGED)

    def held_as_sent(self, steps: Sequence[Step]) -> dict[str, dict[str, Any]]:
        """PB's records of those items that PB holds as they were sent, by client key (one lookup for all).

        This is how an item in doubt is settled — a lost answer, an answer that does not name the
        item, a duplicate that may be our own: what PB holds decides, never the answer alone.
        """
        records = self.lookup([s.item.key for s in steps])
        return {s.item.key: records[s.item.key] for s in steps
                if s.item.key in records and self._as_sent(s, records[s.item.key])}

    def _as_sent(self, step: Step, record: dict[str, Any]) -> bool:
        if step.verb == "cancel":
            return record.get("status") == CANCELED
        return self.resource.project(record) == step.item.payload

    def _done(self, step: Step, source: dict[str, Any], response: ApiResponse, status: Status) -> Outcome:
        """`status` for an item, with PB's ID and state from `source` (a result or a record)."""
        return Outcome(status, pb_id=_pb_id(source, self.spec) or _pb_id(step.record, self.spec),
                       message=state_message(self.resource.name, source), transaction_id=response.transaction_id)


def known_keys(client: FulfillmentClient, resource: Resource, keys: set[str]) -> set[str]:
    """The keys of `keys` that PB has (for products: the SKUs it knows), 200 per search."""
    return set(find_by_key(client, resource, sorted(keys)))


def find_by_key(client: FulfillmentClient, resource: Resource, keys: list[str]) -> dict[str, dict[str, Any]]:
    """PB's records of `resource` for `keys`, found by search, one call per chunk of keys."""
    found: dict[str, dict[str, Any]] = {}
    for chunk in chunks(sorted(set(keys)), LOOKUP_CHUNK):
        found.update(_find_chunk(client, resource, chunk))
    return found


def _find_chunk(client: FulfillmentClient, resource: Resource, chunk: Sequence[str]) -> dict[str, dict[str, Any]]:
    """PB's records for one chunk of keys, page after page until PB says it was the last."""
    spec = resource.api
    assert spec is not None
    wanted = set(chunk)
    found: dict[str, dict[str, Any]] = {}
    for page in itertools.count(1):
        body = {"clientId": client.client_id,
                "searchFields": [{"name": spec.search_key, "values": list(chunk)}, *spec.lookup_fields]}
        response = client.call("POST", spec.search_path, body, params={"page": page, "size": len(chunk)})
        if not response.ok or not isinstance(response.body, dict):
            raise_lookup_failure(client, spec, response)
        for record in response.body.get(bets.SEARCH_RECORDS) or []:
            key = record.get(resource.key)
            if key is not None and str(key) in wanted:
                found[str(key)] = record
        if response.body.get("last", True):
            break
    return found


def decide(item: Item, record: dict[str, Any] | None, resource: Resource, spec: ApiSpec,
           in_doubt: frozenset[str] = frozenset()) -> Step | Outcome:
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
    if item.action is Action.CREATE and item.key not in in_doubt:
        return replace(refused("already-exists", f"PB already has {name} {item.key}; use UPDATE or UPSERT to "
                                                 "change it."), pb_id=_pb_id(record, spec))
    if resource.project(record) == item.payload:
        return Outcome(Status.UNCHANGED, pb_id=_pb_id(record, spec))
    return Step(item, "update", record)


def _pb_id(record: dict[str, Any] | None, spec: ApiSpec) -> str | None:
    if record is None or spec.pb_id is None:
        return None
    value = record.get(spec.pb_id)
    return None if value is None else str(value)


def raise_lookup_failure(client: FulfillmentClient, spec: ApiSpec, response: ApiResponse) -> NoReturn:
    """A failed lookup stops the sheet: without it pbload could create items twice."""
    raise ApiError(f"Could not look items up at {client.path_for(spec.search_path)} ({response.describe()}). "
                   "Nothing more was sent; run the command again later.")


class BulkSender(KeyedSender):
    """Products, orders and returns: creates and updates in bulk calls, order cancels in bulk cancel calls."""

    def jobs(self, steps: list[Step]) -> list[Callable[[], list[tuple[Item, Outcome]]]]:
        writes = [s for s in steps if s.verb in ("create", "update")]
        cancels = [s for s in steps if s.verb == "cancel"]
        return ([lambda c=chunk: self._halving(c, self._write) for chunk in chunks(writes, self.chunk_size)]
                + [lambda c=chunk: self._halving(c, self._cancel) for chunk in chunks(cancels, self.chunk_size)])

    def _halving(self, chunk: Sequence[Step],
                 send: Callable[[Sequence[Step]], tuple[ApiResponse, Callable[[Step], Status]]]
                 ) -> list[tuple[Item, Outcome]]:
        """Send one chunk, halving it while PB rejects it whole with a 400, until the bad items are alone."""
        if self.recorder.stopped:
            return []
        response, done = send(chunk)
        # a 400 from PB's gateway is about the request as a whole (a token, a throttle): halving cannot help
        if response.status == 400 and len(chunk) > 1 and not response.from_gateway:
            half = len(chunk) // 2
            return self._halving(chunk[:half], send) + self._halving(chunk[half:], send)
        return self._results(chunk, response, done)

    def _write(self, chunk: Sequence[Step]) -> tuple[ApiResponse, Callable[[Step], Status]]:
        operation = f"POST {self.spec.bulk_path}"
        body = {self.spec.bulk_array: [self.recorder.body(s.item, self._bulk_item(s), operation) for s in chunk]}
        response = self.client.call("POST", self.spec.bulk_path or "", body,
                                    on_attempt=self.recorder.sending([s.item for s in chunk]))
        return response, lambda s: Status.CREATED if s.verb == "create" else Status.UPDATED

    def _bulk_item(self, step: Step) -> dict[str, Any]:
        wire = self._put_body(step.item)
        if self.spec.bulk_operation:
            wire["operation"] = "CREATE" if step.verb == "create" else "UPDATE"
        return wire

    def _cancel_item(self, step: Step) -> dict[str, Any]:
        pb_id = {self.spec.pb_id: _pb_id(step.record, self.spec)} if self.spec.pb_id else {}
        return {"clientId": self.client.client_id, self.resource.key: step.item.key, **pb_id}

    def _cancel(self, chunk: Sequence[Step]) -> tuple[ApiResponse, Callable[[Step], Status]]:
        operation = f"PUT {self.spec.bulk_cancel_path}"
        requests = [self.recorder.body(s.item, self._cancel_item(s), operation) for s in chunk]
        response = self.client.call("PUT", self.spec.bulk_cancel_path or "", {self.spec.bulk_cancel_array: requests},
                                    on_attempt=self.recorder.sending([s.item for s in chunk]))
        return response, lambda s: Status.CANCELED

    def _results(self, chunk: Sequence[Step], response: ApiResponse,
                 done: Callable[[Step], Status]) -> list[tuple[Item, Outcome]]:
        if not response.ok:
            return [(s.item, replace(failure(response), pb_id=_pb_id(s.record, self.spec))) for s in chunk]
        results = results_by_key(response.body, self.spec.bulk_array, self.resource.key, [s.item for s in chunk])
        unmatched = [s for s in chunk if s.item.key not in results.by_key]
        held = self.held_as_sent(unmatched) if unmatched else {}
        return [(s.item, self._item_outcome(s, results, held, response, done(s))) for s in chunk]

    def _item_outcome(self, step: Step, results: BulkResults, held: dict[str, dict[str, Any]],
                      response: ApiResponse, done: Status) -> Outcome:
        key = step.item.key
        result = results.by_key.get(key)
        if result is None:  # in doubt: what PB holds decides
            if key in held:
                return self._done(step, held[key], response, done)
            if results.doubtful(key):
                return in_doubt(response, self.resource.key_field.header, results.beside.get(key))
            return no_result(response)
        if result.get(bets.BULK_RESULT_ERRORS):
            errors = parse_errors({"errors": result[bets.BULK_RESULT_ERRORS]})
            outcome = replace(failure(response, errors), pb_id=_pb_id(step.record, self.spec))
            return self.confirm(step, outcome, done, response, errors)
        return self._done(step, result, response, done)


class SingleSender(KeyedSender):
    """ASNs, bills of materials and work orders: one call per item, several at a time."""

    def jobs(self, steps: list[Step]) -> list[Callable[[], list[tuple[Item, Outcome]]]]:
        return [lambda s=step: self._one(s) for step in steps]

    def _one(self, step: Step) -> list[tuple[Item, Outcome]]:
        if self.recorder.stopped:
            return []
        mark = self.recorder.sending([step.item])
        if step.verb == "create":
            body = self.recorder.body(step.item, self._put_body(step.item), f"POST {self.spec.create_path}")
            response = self.client.call("POST", self.spec.create_path or "", body, on_attempt=mark)
            done = Status.CREATED
        elif step.verb == "update":
            body = self.recorder.body(step.item, self._put_body(step.item), f"PUT {self.spec.item_path}")
            response = self.client.call("PUT", self._path(self.spec.item_path, step.record), body,
                                        operation=f"PUT {self.spec.item_path}", on_attempt=mark)
            done = Status.UPDATED
        else:
            response = self._cancel(step, mark)
            done = Status.CANCELED
        if not response.ok:
            outcome = replace(failure(response), pb_id=_pb_id(step.record, self.spec))
            return [(step.item, self.confirm(step, outcome, done, response, response.errors))]
        body = response.body if isinstance(response.body, dict) else {}
        return [(step.item, self._done(step, body, response, done))]

    def _cancel(self, step: Step, mark: Callable[[str], None]) -> ApiResponse:
        path = self._path(self.spec.cancel_path, step.record)
        operation = f"PUT {self.spec.cancel_path}"
        if not self.spec.cancel_body:
            self.recorder.body(step.item, {}, operation)  # an empty body, the client ID in the query
            return self.client.call("PUT", path, params={"clientId": self.client.client_id},
                                    operation=operation, on_attempt=mark)
        body = {"clientId": self.client.client_id, self.resource.key: step.item.key}
        body.update({field: step.item.extra[column] for column, field in self.spec.cancel_fields
                     if step.item.extra.get(column) is not None})
        return self.client.call("PUT", path, self.recorder.body(step.item, body, operation), operation=operation,
                                on_attempt=mark)

    def _path(self, template: str | None, record: dict[str, Any] | None) -> str:
        return (template or "").format(id=quote(_pb_id(record, self.spec) or "", safe=""))
