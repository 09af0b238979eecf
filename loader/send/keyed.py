"""Send every resource: each is found again at PB by its client key (SKU, client order ID, ...).

Every item is first looked up at PB by its client key (one search call per chunk of keys). What the
user asked for is then settled against what PB has: an unchanged item is UNCHANGED and not sent, an
UPDATE of a missing item or a CREATE of an existing one is refused with a message, and the rest is
sent — in bulk where the API has a bulk endpoint, as concurrent single calls where it has not.

An item in doubt is looked up again, and PB holding it as sent means it went through: a bulk
result that does not name its item (§21.3), an item the answer has no result for, a create refused
as a duplicate after an answer was lost (and the request retried) or after an earlier run was cut short.

Look-ups go 200 keys a search, every page of each, the chunks several at a time; each chunk's
writes go out as soon as it is settled, while later chunks are still being looked up, all within
`concurrency` requests in flight (for single calls, the adaptive limit of `adaptive.py`). Outcomes
are kept as they arrive (`Recorder.outcomes`): a request that runs out of tries fails its own
items and the rest goes on; only the breaker (the API down as a whole) or Ctrl-C ends a sheet early.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from functools import partial
from typing import Any
from urllib.parse import quote

from loader import bets
from loader.api import ApiResponse, ErrorDetail, FulfillmentClient, NoAnswerError, parse_errors
from loader.memory import collected_seldom
from loader.models import Action, Change, Item, Outcome, Status
from loader.resources import Resource
from loader.resources.base import ApiSpec
from loader.resources.merge import changes, merge, pb_view
from loader.send.adaptive import SINGLE_CALL_CAP, AdaptiveLimit
from loader.send.common import (
    BulkResults,
    Lookup,
    Recorder,
    chunks,
    failure,
    in_doubt,
    lookup_failed,
    no_answer,
    no_result,
    refused,
    results_by_key,
    state_message,
    unchecked,
)
from loader.send.lookup import LOOKUP_CHUNK, find_by_key, look_up_chunk
from loader.send.pool import STOP_GRACE_SECONDS, Pool, Slots, Stopped

WRITES = 1  # the pool's lane for writes; look-ups go in lane 0
# Bulk jobs running beyond --concurrency: each makes its chunk's bodies while the requests in flight
# wait for PB, and then waits for its turn (`pool.Slots`). Making 200
# orders' bodies takes longer than PB's answer to a look-up: without this, one of the four workers was
# seldom in flight at 20,000 order lines (on average 2.5 requests in flight of 4).
PREPARING = 1
# While a sheet is sent, the cycle collector leaves alone what was there before (the planned items, the
# workbook's values) and collects the youngest generation every this many new containers, not 700: each
# bulk call makes and drops thousands of containers, and the collections walked the heap and a chunk's
# kept bodies again and again, up the generations, holding the GIL the requests in flight wait for (a
# quarter second of the send's CPU at 20,000 order lines; with the threshold, 0.07 -> 0.02 s more).
SENDING_GC_THRESHOLD = 10_000

CANCELED = "CANCELED"
Job = Callable[[], list[tuple[Item, Outcome]]]


@dataclass(frozen=True)
class Step:
    """What to do with one item after looking it up."""

    item: Item
    verb: str  # "create", "update" or "cancel"
    record: dict[str, Any] | None
    changes: tuple[Change, ...] = ()  # what an update changes of PB's record


class KeyedSender:
    """Looks items up by client key, settles what needs no call, and sends the rest."""

    def __init__(
        self,
        client: FulfillmentClient,
        resource: Resource,
        spec: ApiSpec,
        chunk_size: int,
        concurrency: int,
        recorder: Recorder | None = None,
        grace_s: float = STOP_GRACE_SECONDS,
    ) -> None:
        self.client = client
        self.resource = resource
        self.spec = spec
        self.chunk_size = max(1, min(chunk_size, spec.max_bulk_items))
        self.concurrency = max(1, concurrency)
        self.recorder = recorder or Recorder()
        self.grace_s = grace_s
        self._lock = threading.Lock()
        self._left = 0  # chunks of this `send` not yet looked up

    def send(self, items: Sequence[Item]) -> dict[str, Outcome]:
        """The outcome of every item settled, by client key (items never answered are absent).

        The outcomes are also in `recorder.outcomes` as they arrive, so that they survive a raise:
        `ApiDownError` when the breaker opens (the API down as a whole), or a refused token. Items
        are looked up 200 at a time, several chunks at once, and each chunk's writes go out as soon as
        it is settled, while later chunks are still being looked up. Ctrl-C before a chunk was looked
        up leaves its items undecided: nothing is decided blind.
        """
        looking = list(chunks(items, LOOKUP_CHUNK))
        with self._lock:
            self._left = len(looking)
            self.start()
        pool: Pool[list[tuple[Item, Outcome]]] = Pool(
            self.workers, self.recorder.stop, self.grace_s, self.allowed, self.slots
        )
        with collected_seldom(SENDING_GC_THRESHOLD):
            pool.run([partial(self._look_up, pool, chunk) for chunk in looking], self.recorder.settled)
        return dict(self.recorder.outcomes)

    def _look_up(
        self, pool: Pool[list[tuple[Item, Outcome]]], chunk: Sequence[Item]
    ) -> list[tuple[Item, Outcome]]:
        """Look one chunk up, settle what needs no call, and queue the writes of the rest.

        The whole job holds its turn: the chunks' writes are queued in the order of their look-ups."""
        with self._turn():
            looked = look_up_chunk(self.client, self.resource, [i.key for i in chunk])
            settled: list[tuple[Item, Outcome]] = []
            steps: list[Step] = []
            for item, decided in self._decide(chunk, looked):
                if isinstance(decided, Outcome):
                    settled.append((item, decided))
                else:
                    steps.append(decided)
            with self._lock:  # the last chunk's jobs send whatever the earlier ones left over
                self._left -= 1
                jobs = self.jobs(steps, last=self._left == 0)
            pool.add(jobs, WRITES)
        return settled

    def _decide(self, items: Sequence[Item], looked: Lookup) -> Iterator[tuple[Item, Step | Outcome]]:
        """Each item settled against what its look-up found: an outcome now, or the call to make."""
        for item in items:
            failed = looked.failed.get(item.key)
            if failed is not None:
                yield item, lookup_failed(failed)
                continue
            record = looked.found.get(item.key)
            yield item, decide(item, record, self.resource, self.spec, self.recorder.in_doubt)

    def preview(self, items: Sequence[Item]) -> dict[str, Outcome]:
        """What `send` would do with every item, by client key, having made only its look-ups.

        This is `pbload plan`: each item is looked up and decided as `send` decides it, and the
        calls it would make are said (WOULD CREATE, WOULD UPDATE with its changes, WOULD CANCEL)
        instead of made. No job is ever built, so no write can leave.
        """
        try:
            looked = self.lookup([i.key for i in items])
        except Stopped:
            return {}
        return {
            item.key: decided if isinstance(decided, Outcome) else self._would(decided)
            for item, decided in self._decide(items, looked)
        }

    def _would(self, step: Step) -> Outcome:
        status = {"create": Status.WOULD_CREATE, "update": Status.WOULD_UPDATE}.get(
            step.verb, Status.WOULD_CANCEL
        )
        return Outcome(status, pb_id=_pb_id(step.record, self.spec), changes=step.changes)

    def lookup(self, keys: list[str]) -> Lookup:
        """PB's records for `keys`, by client key (keys PB does not have are absent)."""
        return find_by_key(
            self.client, self.resource, keys, self.concurrency, self.recorder.stop, self.grace_s
        )

    @property
    def workers(self) -> int:
        """Threads of the pool: the most requests in flight at once."""
        return self.concurrency

    allowed: Callable[[], int] | None = None  # how many may be in flight now, if fewer than `workers`

    slots: Slots | None = None  # where the jobs' requests take turns, if not as the pool runs them

    def _turn(self) -> AbstractContextManager[None]:
        """Around a job's requests: its turn in `slots`, if any."""
        return self.slots.turn() if self.slots is not None else nullcontext()

    def start(self) -> None:
        """Before a `send`: forget what an earlier one left."""

    def jobs(self, steps: list[Step], last: bool = True) -> list[Job]:  # pragma: no cover
        """The jobs that send `steps`; `last` when no more steps will come in this `send`."""
        raise NotImplementedError

    def _put_body(self, item: Item) -> dict[str, Any]:
        return {"clientId": self.client.client_id, **item.payload}

    def confirm(
        self, step: Step, outcome: Outcome, done: Status, response: ApiResponse, errors: Sequence[ErrorDetail]
    ) -> Outcome:
        """A create refused as a duplicate when it may have been our own: did it go through?"""
        ours = response.uncertain or step.item.key in self.recorder.in_doubt
        if step.verb != "create" or not ours or not any(self.resource.key in e.parameters for e in errors):
            return outcome
        record = self.held_as_sent([step]).found.get(step.item.key)
        if record is None:
            return outcome
        return self._done(step, record, response, done if response.uncertain else Status.UNCHANGED)

    def held_as_sent(self, steps: Sequence[Step]) -> Lookup:
        """PB's records of those items that PB holds as they were sent, by client key, and the keys that
        could not be looked up (one look-up for all, in chunks of 200).

        This is how an item in doubt is settled — a lost answer, an answer that does not name the
        item, a duplicate that may be our own: what PB holds decides, never the answer alone.
        """
        looked = self.lookup([s.item.key for s in steps])
        records = looked.found
        return Lookup(
            {
                s.item.key: records[s.item.key]
                for s in steps
                if s.item.key in records and self._as_sent(s, records[s.item.key])
            },
            looked.failed,
        )

    def _as_sent(self, step: Step, record: dict[str, Any]) -> bool:
        if step.verb == "cancel":
            return record.get("status") == CANCELED
        if step.verb == "update":  # sent merged: compared as merged
            return pb_view(self.resource, record) == step.item.payload
        return self.resource.project(record) == step.item.payload

    def _done(self, step: Step, source: dict[str, Any], response: ApiResponse, status: Status) -> Outcome:
        """`status` for an item, with PB's ID and state from `source` (a result or a record)."""
        return Outcome(
            status,
            pb_id=_pb_id(source, self.spec) or _pb_id(step.record, self.spec),
            message=state_message(self.resource.name, source),
            transaction_id=response.transaction_id,
            changes=step.changes if status is Status.UPDATED else (),
        )


def decide(
    item: Item,
    record: dict[str, Any] | None,
    resource: Resource,
    spec: ApiSpec,
    in_doubt: frozenset[str] = frozenset(),
) -> Step | Outcome:
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
        return replace(
            refused(
                "already-exists", f"PB already has {name} {item.key}; use UPDATE or UPSERT to change it."
            ),
            pb_id=_pb_id(record, spec),
        )
    theirs, body = _update_body(item, record, resource)
    if theirs == body:
        return Outcome(Status.UNCHANGED, pb_id=_pb_id(record, spec))
    return Step(replace(item, payload=body), "update", record, changes(resource, theirs, body, item.rows))


def _update_body(
    item: Item, record: dict[str, Any], resource: Resource
) -> tuple[dict[str, Any], dict[str, Any]]:
    """PB's record as compared, and what an update sends: that record with the row's filled cells
    over it (blank means keep, DESIGN §2).

    A CREATE sent again after its answer was lost is compared as it was sent, unmerged.
    """
    if item.action is Action.CREATE or not item.values:
        return resource.project(record), item.payload
    return pb_view(resource, record), merge(resource, record, item.values, item.cleared)


def _pb_id(record: dict[str, Any] | None, spec: ApiSpec) -> str | None:
    if record is None or spec.pb_id is None:
        return None
    value = record.get(spec.pb_id)
    return None if value is None else str(value)


class BulkSender(KeyedSender):
    """Products, orders and returns: creates and updates in bulk calls, order cancels in bulk cancel calls.

    Its pool runs `PREPARING` more jobs than `concurrency`, and their requests take turns in
    `concurrency` slots (`pool.Slots`), in the order the jobs started: a write job makes its chunk's
    bodies before its turn, while others' requests are in flight.
    """

    def start(self) -> None:
        self.slots = Slots(self.concurrency, self.recorder.stop)
        self._writes: list[Step] = []  # creates and updates waiting for a full chunk
        self._cancels: list[Step] = []

    @property
    def workers(self) -> int:
        return self.concurrency + PREPARING

    def jobs(self, steps: list[Step], last: bool = True) -> list[Job]:
        """Full chunks of writes, and of cancels; with `last`, what is left too (so that a sheet takes
        as many bulk calls as if it had been looked up whole)."""
        self._writes.extend(s for s in steps if s.verb in ("create", "update"))
        self._cancels.extend(s for s in steps if s.verb == "cancel")
        return self._chunked(self._writes, self._write, last) + self._chunked(
            self._cancels, self._cancel, last
        )

    def _chunked(
        self,
        waiting: list[Step],
        send: Callable[[Sequence[Step]], tuple[ApiResponse, Callable[[Step], Status]]],
        last: bool,
    ) -> list[Job]:
        cut = len(waiting) if last else len(waiting) - len(waiting) % self.chunk_size
        ready = waiting[:cut]
        del waiting[:cut]
        return [partial(self._halving, chunk, send) for chunk in chunks(ready, self.chunk_size)]

    def _halving(
        self,
        chunk: Sequence[Step],
        send: Callable[[Sequence[Step]], tuple[ApiResponse, Callable[[Step], Status]]],
    ) -> list[tuple[Item, Outcome]]:
        """Send one chunk, halving it while PB rejects it whole with a 400, until the bad items are alone."""
        if self.recorder.stopped:
            return []
        self.recorder.prepare([s.item for s in chunk])
        try:
            with self._turn():
                response, done = send(chunk)
        except Stopped:
            return []  # stopped while waiting for a slot: not sent
        except NoAnswerError as exc:  # this request is out of tries; the API is not down (no breaker)
            return [(s.item, no_answer(exc)) for s in chunk]
        # a 400 from PB's gateway is about the request as a whole (a token, a throttle): halving cannot help
        if response.status == 400 and len(chunk) > 1 and not response.from_gateway:
            half = len(chunk) // 2
            return self._halving(chunk[:half], send) + self._halving(chunk[half:], send)
        return self._results(chunk, response, done)

    def _write(self, chunk: Sequence[Step]) -> tuple[ApiResponse, Callable[[Step], Status]]:
        operation = f"POST {self.spec.bulk_path}"
        body = {
            self.spec.bulk_array: [self.recorder.body(s.item, self._bulk_item(s), operation) for s in chunk]
        }
        response = self.client.call(
            "POST", self.spec.bulk_path or "", body, on_attempt=self.recorder.sending([s.item for s in chunk])
        )
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
        response = self.client.call(
            "PUT",
            self.spec.bulk_cancel_path or "",
            {self.spec.bulk_cancel_array: requests},
            on_attempt=self.recorder.sending([s.item for s in chunk]),
        )
        return response, lambda s: Status.CANCELED

    def _results(
        self, chunk: Sequence[Step], response: ApiResponse, done: Callable[[Step], Status]
    ) -> list[tuple[Item, Outcome]]:
        if not response.ok:
            return [(s.item, replace(failure(response), pb_id=_pb_id(s.record, self.spec))) for s in chunk]
        results = results_by_key(
            response.body, self.spec.bulk_array, self.resource.key, [s.item for s in chunk]
        )
        unmatched = [s for s in chunk if s.item.key not in results.by_key]
        held = self.held_as_sent(unmatched) if unmatched else Lookup()
        return [(s.item, self._item_outcome(s, results, held, response, done(s))) for s in chunk]

    def _item_outcome(
        self, step: Step, results: BulkResults, held: Lookup, response: ApiResponse, done: Status
    ) -> Outcome:
        key = step.item.key
        result = results.by_key.get(key)
        if result is None:  # in doubt: what PB holds decides
            if key in held.found:
                return self._done(step, held.found[key], response, done)
            if key in held.failed:
                return unchecked(response, held.failed[key])
            if results.doubtful(key):
                return in_doubt(response, self.resource.key_field.header, results.beside.get(key))
            return no_result(response)
        if result.get(bets.BULK_RESULT_ERRORS):
            errors = parse_errors({"errors": result[bets.BULK_RESULT_ERRORS]})
            outcome = replace(failure(response, errors), pb_id=_pb_id(step.record, self.spec))
            return self.confirm(step, outcome, done, response, errors)
        return self._done(step, result, response, done)


class SingleSender(KeyedSender):
    """ASNs, bills of materials and work orders: one call per item, as many at a time as PB keeps up with
    (`adaptive.AdaptiveLimit`: from `concurrency` up to its cap)."""

    def __init__(
        self,
        client: FulfillmentClient,
        resource: Resource,
        spec: ApiSpec,
        chunk_size: int,
        concurrency: int,
        recorder: Recorder | None = None,
        grace_s: float = STOP_GRACE_SECONDS,
        cap: int = SINGLE_CALL_CAP,
    ) -> None:
        super().__init__(client, resource, spec, chunk_size, concurrency, recorder, grace_s)
        self.adaptive = AdaptiveLimit(self.concurrency, cap)
        self.allowed = self.adaptive.allowed

    @property
    def workers(self) -> int:
        return self.adaptive.cap

    def jobs(self, steps: list[Step], last: bool = True) -> list[Job]:
        return [partial(self._one, step) for step in steps]

    def _one(self, step: Step) -> list[tuple[Item, Outcome]]:
        if self.recorder.stopped:
            return []
        self.recorder.prepare([step.item])
        left_in = self.adaptive.leaving()
        try:
            response, done = self._call(step)
        except NoAnswerError as exc:  # this request is out of tries; the API is not down (no breaker)
            self.adaptive.answered(left_in, None)
            return [(step.item, no_answer(exc))]
        self.adaptive.answered(left_in, response.seconds, response.pushback > 0)
        return [(step.item, self._outcome(step, response, done))]

    def _call(self, step: Step) -> tuple[ApiResponse, Status]:
        """Create, update or cancel one item: PB's answer, and the status it gives if it went through."""
        mark = self.recorder.sending([step.item])
        if step.verb == "create":
            body = self.recorder.body(step.item, self._put_body(step.item), f"POST {self.spec.create_path}")
            return self.client.call(
                "POST", self.spec.create_path or "", body, on_attempt=mark
            ), Status.CREATED
        if step.verb == "update":
            body = self.recorder.body(step.item, self._put_body(step.item), f"PUT {self.spec.item_path}")
            response = self.client.call(
                "PUT",
                self._path(self.spec.item_path, step.record),
                body,
                operation=f"PUT {self.spec.item_path}",
                on_attempt=mark,
            )
            return response, Status.UPDATED
        return self._cancel(step, mark), Status.CANCELED

    def _outcome(self, step: Step, response: ApiResponse, done: Status) -> Outcome:
        """What came of one item's call (a refused create may be confirmed by a look-up)."""
        if not response.ok:
            outcome = replace(failure(response), pb_id=_pb_id(step.record, self.spec))
            return self.confirm(step, outcome, done, response, response.errors)
        body = response.body if isinstance(response.body, dict) else {}
        return self._done(step, body, response, done)

    def _cancel(self, step: Step, mark: Callable[[str], None]) -> ApiResponse:
        path = self._path(self.spec.cancel_path, step.record)
        operation = f"PUT {self.spec.cancel_path}"
        if not self.spec.cancel_body:
            self.recorder.body(step.item, {}, operation)  # an empty body, the client ID in the query
            return self.client.call(
                "PUT", path, params={"clientId": self.client.client_id}, operation=operation, on_attempt=mark
            )
        body = {"clientId": self.client.client_id, self.resource.key: step.item.key}
        body.update(
            {
                field: step.item.extra[column]
                for column, field in self.spec.cancel_fields
                if step.item.extra.get(column) is not None
            }
        )
        return self.client.call(
            "PUT", path, self.recorder.body(step.item, body, operation), operation=operation, on_attempt=mark
        )

    def _path(self, template: str | None, record: dict[str, Any] | None) -> str:
        return (template or "").format(id=quote(_pb_id(record, self.spec) or "", safe=""))
