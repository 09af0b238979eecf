"""Look-ups concurrent with each other and with the writes they lead to, every guarantee kept.

PB is faked at the HTTP boundary (`httpx.MockTransport`). Where a test needs two requests to be in
flight at once, the fake makes one wait (bounded) for the other: a sender that did them one after
the other would fail the test, not hang it. No test depends on the order in which concurrent
requests arrive, and none reads a clock.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from loader.api import ApiDownError, FulfillmentClient
from loader.api.retry import RetryPolicy
from loader.models import Action, Item, Status
from loader.resources.asns import ASNS
from loader.resources.products import PRODUCTS
from loader.send import sender_for
from loader.send.adaptive import SINGLE_CALL_CAP
from loader.send.common import Recorder
from loader.send.keyed import BulkSender, SingleSender

SEARCH = "/shippingservices/fulfillment/v1/products/search"
BULK = "/shippingservices/fulfillment/v1/products/bulk"
BOUND_S = 30.0  # how long a fake request waits for another at most: only a failing test waits it out

Hook = Callable[[str, dict[str, Any]], "int | None"]  # may wait; a status to answer with instead


class FakePb:
    """Products by SKU, answering searches one page at a time (`page_size`) and bulk writes; `hook`
    runs first for every request, and may wait, or give a status to answer with."""

    def __init__(self, page_size: int = 1000, hook: Hook = lambda path, body: None) -> None:
        self.products: dict[str, dict[str, Any]] = {}
        self.page_size, self.hook = page_size, hook
        self.log: list[tuple[str, Any]] = []
        self.lock = threading.Lock()
        self.flying = self.most_flying = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "expiresIn": "3600"})
        body = json.loads(request.content)
        with self.lock:
            self.log.append((request.url.path, body))
            self.flying += 1
            self.most_flying = max(self.most_flying, self.flying)
        try:
            status = self.hook(request.url.path, body)
            if status is not None:
                return httpx.Response(status)
            if request.url.path == SEARCH:
                return self._search(body, int(request.url.params["page"]))
            return self._bulk(body["products"])
        finally:
            with self.lock:
                self.flying -= 1

    def _search(self, body: dict[str, Any], page: int) -> httpx.Response:
        skus = body["searchFields"][0]["values"]
        held = [self.products[s] for s in skus if s in self.products]
        start = (page - 1) * self.page_size
        content = held[start : start + self.page_size]
        return httpx.Response(200, json={"content": content, "last": start + self.page_size >= len(held)})

    def _bulk(self, items: list[dict[str, Any]]) -> httpx.Response:
        with self.lock:
            for item in items:
                self.products[item["sku"]] = {**item, "status": "PUBLISHED"}
        return httpx.Response(
            200, json={"products": [{"sku": i["sku"], "status": "PUBLISHED"} for i in items]}
        )

    def bulk_skus(self) -> Counter:
        return Counter(i["sku"] for path, body in self.log if path == BULK for i in body["products"])

    def calls(self, path: str) -> int:
        return sum(1 for p, _ in self.log if p == path)


def items(count: int, description: str = "Widget") -> list[Item]:
    return [
        Item(
            "Products",
            f"S-{n:04}",
            (n + 2,),
            Action.UPSERT,
            {"sku": f"S-{n:04}", "details": {"description": description}},
        )
        for n in range(count)
    ]


def client(pb: FakePb, **options: Any) -> FulfillmentClient:
    return FulfillmentClient(
        "http://pb.test",
        "c",
        "k",
        "s",
        transport=httpx.MockTransport(pb),
        policy=RetryPolicy(max_attempts=options.pop("attempts", 3)),
        sleep=lambda s: None,
        max_rps=1e9,
        **options,
    )


def bulk_sender(pb: FakePb, concurrency: int, recorder: Recorder | None = None, **options: Any) -> BulkSender:
    return BulkSender(client(pb, **options), PRODUCTS, PRODUCTS.api, 200, concurrency, recorder, grace_s=10)


def keys_of(body: dict[str, Any]) -> set[str]:
    return set(body["searchFields"][0]["values"])


def test_the_first_chunks_writes_go_out_while_a_later_chunk_is_still_being_looked_up():
    first_write = threading.Event()
    answered_after_a_write: list[bool] = []

    def hold_the_second_chunk(path: str, body: dict[str, Any]) -> None:
        if path == BULK:
            first_write.set()
        elif "S-0200" in keys_of(body):  # the second chunk's search answers only once a write has left
            answered_after_a_write.append(first_write.wait(BOUND_S))
        return None

    pb = FakePb(hook=hold_the_second_chunk)
    outcomes = bulk_sender(pb, concurrency=2).send(items(400))
    assert answered_after_a_write == [True]
    assert Counter(o.status for o in outcomes.values()) == {Status.CREATED: 400}


def test_the_chunks_are_looked_up_at_the_same_time():
    together = threading.Barrier(3, timeout=BOUND_S)
    met: list[bool] = []

    def meet(path: str, body: dict[str, Any]) -> None:
        if path == SEARCH:
            try:
                together.wait()
                met.append(True)
            except threading.BrokenBarrierError:
                met.append(False)
        return None

    bulk_sender(FakePb(hook=meet), concurrency=3).send(items(600))
    assert met == [True, True, True]


@pytest.mark.parametrize("concurrency", [1, 4])
def test_no_more_requests_in_flight_than_concurrency_and_nothing_sent_twice(concurrency):
    pb = FakePb(page_size=50)  # more than one page of results per search
    held = items(1001, "Old")[::3]  # a third at PB already: UPSERT updates them
    unchanged = items(1001)[1::3]  # and a third at PB as the row says: UNCHANGED, not sent
    pb.products = {i.key: {**i.payload, "clientId": "c", "status": "PUBLISHED"} for i in held + unchanged}
    outcomes = bulk_sender(pb, concurrency).send(items(1001))
    assert Counter(o.status for o in outcomes.values()) == {
        Status.UPDATED: len(held),
        Status.UNCHANGED: len(unchanged),
        Status.CREATED: 1001 - len(held) - len(unchanged),
    }
    sent = pb.bulk_skus()
    assert set(sent.values()) == {1} and len(sent) == 1001 - len(unchanged)  # each write once
    assert pb.calls(BULK) == -(-len(sent) // 200)  # full chunks of 200, whatever order the look-ups end in
    assert pb.most_flying <= concurrency


def test_ctrl_c_during_the_look_ups_sends_nothing_undecided_and_keeps_what_was_settled():
    stop = threading.Event()
    pb = FakePb()
    at_pb = items(600)[::2]  # every other item is at PB as the row says: UNCHANGED once looked up
    pb.products = {i.key: {**i.payload, "clientId": "c", "status": "PUBLISHED"} for i in at_pb}

    def ctrl_c_on_the_first_search(path: str, body: dict[str, Any]) -> None:
        if path == SEARCH and "S-0000" in keys_of(body):
            stop.set()
        return None

    pb.hook = ctrl_c_on_the_first_search
    recorder = Recorder(stop=stop)
    outcomes = bulk_sender(pb, concurrency=2, recorder=recorder).send(items(600))
    assert pb.calls(BULK) == 0  # no write starts once stopped
    looked_up = {k for _, body in pb.log for k in keys_of(body)}
    assert "S-0000" in looked_up
    # only items whose chunk was looked up to the end are settled, and they keep their outcomes
    assert outcomes == recorder.outcomes
    assert set(outcomes) <= {i.key for i in at_pb} & looked_up
    assert {i.key for i in at_pb[:100]} <= set(outcomes)  # the first chunk's unchanged items
    assert {o.status for o in outcomes.values()} == {Status.UNCHANGED}


def test_the_breaker_opening_during_a_later_look_up_keeps_the_first_chunks_answers():
    written = threading.Event()

    def later_searches_fail_once_the_first_chunk_is_written(path: str, body: dict[str, Any]) -> int | None:
        if path == BULK:
            written.set()
        elif "S-0000" not in keys_of(body):
            written.wait(BOUND_S)
            return 503
        return None

    pb = FakePb(hook=later_searches_fail_once_the_first_chunk_is_written)
    recorder = Recorder()
    sender = bulk_sender(pb, concurrency=2, recorder=recorder, attempts=1, breaker_threshold=1)
    with pytest.raises(ApiDownError):
        sender.send(items(400))
    assert Counter(o.status for o in recorder.outcomes.values()) == {Status.CREATED: 200}
    assert set(recorder.outcomes) == {f"S-{n:04}" for n in range(200)}
    assert pb.calls(BULK) == 1


def asns(count: int) -> list[Item]:
    return [
        Item("ASNs", f"A-{n:04}", (n + 2,), Action.CREATE, {"clientASNId": f"A-{n:04}", "asnLines": []})
        for n in range(count)
    ]


class FakeAsnPb:
    """Receiving ASNs: searches find nothing, each create is stored; counts requests in flight."""

    def __init__(self, throttle_every: int = 0) -> None:
        self.created: Counter = Counter()
        self.lock = threading.Lock()
        self.flying = self.most_flying = self.posts = 0
        self.throttle_every = throttle_every

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "expiresIn": "3600"})
        body = json.loads(request.content)
        with self.lock:
            self.flying += 1
            self.most_flying = max(self.most_flying, self.flying)
        try:
            if request.url.path.endswith("/search"):
                return httpx.Response(200, json={"content": [], "last": True})
            with self.lock:
                self.posts += 1
                if self.throttle_every and self.posts % self.throttle_every == 0:
                    return httpx.Response(429, headers={"Retry-After": "0"})
                self.created[body["clientASNId"]] += 1
            return httpx.Response(201, json={**body, "receivingASNId": f"R-{body['clientASNId']}"})
        finally:
            with self.lock:
                self.flying -= 1


def asn_sender(pb: FakeAsnPb, concurrency: int = 4) -> SingleSender:
    fake_clock = FulfillmentClient(  # a clock that never moves: every answer as fast as the first
        "http://pb.test",
        "c",
        "k",
        "s",
        transport=httpx.MockTransport(pb),
        sleep=lambda s: None,
        max_rps=1e9,
        clock=lambda: 0.0,
    )
    sender = sender_for(ASNS, fake_clock, 200, concurrency, Recorder())
    assert isinstance(sender, SingleSender)
    return sender


def test_single_calls_grow_to_the_cap_while_pb_keeps_up_and_never_past_it():
    pb = FakeAsnPb()
    sender = asn_sender(pb)
    outcomes = sender.send(asns(400))
    assert Counter(o.status for o in outcomes.values()) == {Status.CREATED: 400}
    assert set(pb.created.values()) == {1}
    assert sender.adaptive.allowed() == SINGLE_CALL_CAP
    assert pb.most_flying <= SINGLE_CALL_CAP


def test_throttled_single_calls_are_retried_and_back_the_limit_off():
    pb = FakeAsnPb(throttle_every=5)
    sender = asn_sender(pb)
    outcomes = sender.send(asns(100))
    assert Counter(o.status for o in outcomes.values()) == {Status.CREATED: 100}
    assert set(pb.created.values()) == {1} and len(pb.created) == 100
    assert sender.adaptive.round > 0  # each throttle told the limit; at least one cut it
    assert pb.most_flying <= SINGLE_CALL_CAP


def test_a_user_concurrency_above_the_cap_is_kept():
    sender = asn_sender(FakeAsnPb(), concurrency=24)
    assert sender.adaptive.allowed() == 24 and sender.workers == 24


def test_at_concurrency_one_the_requests_leave_one_at_a_time_in_the_sheets_order():
    # the bulk sender runs a job more than --concurrency, to make a chunk's bodies while a request is
    # in flight; the requests still take their turns one at a time, in the order the jobs started
    pb = FakePb()
    outcomes = bulk_sender(pb, concurrency=1).send(items(450))
    assert Counter(o.status for o in outcomes.values()) == {Status.CREATED: 450}
    assert pb.most_flying == 1
    searched = [min(keys_of(body)) for path, body in pb.log if path == SEARCH]
    written = [body["products"][0]["sku"] for path, body in pb.log if path == BULK]
    assert searched == ["S-0000", "S-0200", "S-0400"]
    assert written == ["S-0000", "S-0200", "S-0400"]
