"""Senders reading PB's answers: catalogue states, results that name no item, gateway errors.

PB is faked at the HTTP boundary (`httpx.MockTransport`): it keeps the products it accepted, answers
searches from them, and answers bulk calls the way each test shapes it. Every test runs one call at
a time (concurrency 1) and no test waits on a clock.
"""

from __future__ import annotations

import gc
import json
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import pytest

from loader.api import ApiDownError, FulfillmentClient
from loader.api.retry import RetryPolicy
from loader.models import Action, Item, Outcome, Status
from loader.resources.products import PRODUCTS
from loader.send.common import Recorder
from loader.send.keyed import SENDING_GC_THRESHOLD, BulkSender

SEARCH = "/shippingservices/fulfillment/v1/products/search"
BULK = "/shippingservices/fulfillment/v1/products/bulk"
SPIKE = {"errorCode": "PB-APIM-ERR-1006", "errorDescription": "Spike arrest violation"}
IN_DOUBT = (
    "In doubt: PB's answer did not name this item (no SKU in its results), and PB does not hold it as "
    "sent. Check it at PB before loading it again."
)
NO_RESULT = "The API answered without a result for this item; check it at PB before loading it again."

Answer = Callable[[list[dict[str, Any]]], httpx.Response]


def named(state: str = "PUBLISHED") -> Answer:
    """PB's documented products result: one `{clientId, sku, status}` per item."""
    return lambda items: httpx.Response(
        200, json={"products": [{"clientId": i["clientId"], "sku": i["sku"], "status": state} for i in items]}
    )


def unnamed(items: list[dict[str, Any]]) -> httpx.Response:
    """One result per item, in order, none of them saying which SKU it is about."""
    return httpx.Response(
        200, json={"products": [{"clientId": i["clientId"], "status": "PUBLISHED"} for i in items]}
    )


class FakePb:
    """Products by SKU; a bulk call stores the items `keeps` accepts, then `answers` shapes the reply.

    `bulk` holds the scripted answers that come before the shaped ones (throttles, errors).
    """

    def __init__(
        self,
        answers: Answer = named(),  # noqa: B008 - an immutable answer, made once
        keeps: Callable[[str], bool] = lambda sku: True,
        bulk: Sequence[httpx.Response] = (),
        search: Sequence[httpx.Response] = (),
    ) -> None:
        self.products: dict[str, dict[str, Any]] = {}
        self.answers, self.keeps = answers, keeps
        self.scripted = {BULK: list(bulk), SEARCH: list(search)}
        self.log: list[tuple[str, Any]] = []  # path and body of each API call
        self.tokens = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            self.tokens += 1
            return httpx.Response(200, json={"access_token": f"token-{self.tokens}", "expiresIn": "3600"})
        body = json.loads(request.content)
        self.log.append((request.url.path, body))
        if self.scripted[request.url.path]:
            return self.scripted[request.url.path].pop(0)
        return self._search(body) if request.url.path == SEARCH else self._bulk(body["products"])

    def _search(self, body: dict[str, Any]) -> httpx.Response:
        skus = body["searchFields"][0]["values"]
        return httpx.Response(
            200,
            json={
                "content": [self.products[s] for s in skus if s in self.products],
                "totalPages": 1,
                "first": True,
                "last": True,
            },
        )

    def _bulk(self, items: list[dict[str, Any]]) -> httpx.Response:
        for item in items:
            if self.keeps(item["sku"]):
                record = {k: v for k, v in item.items() if k != "operation"}
                self.products[item["sku"]] = {**record, "status": "PUBLISHED"}
        return self.answers(items)

    def calls(self, path: str) -> int:
        return sum(1 for p, _ in self.log if p == path)


def payload(sku: str, description: str = "Widget") -> dict[str, Any]:
    return {"sku": sku, "details": {"description": description}}


def items(count: int, action: Action = Action.CREATE, description: str = "Widget") -> list[Item]:
    return [
        Item("Products", f"S-{n:03}", (n + 2,), action, payload(f"S-{n:03}", description))
        for n in range(count)
    ]


def send(
    pb: FakePb, to_send: list[Item], attempts: int = 3, recorder: Recorder | None = None
) -> dict[str, Outcome]:
    client = FulfillmentClient(
        "http://pb.test",
        "c",
        "k",
        "s",
        transport=httpx.MockTransport(pb),
        policy=RetryPolicy(max_attempts=attempts),
        sleep=lambda s: None,
        seed=1,
        max_rps=1e9,
    )
    return BulkSender(client, PRODUCTS, PRODUCTS.api, chunk_size=200, concurrency=1, recorder=recorder).send(
        to_send
    )


def statuses(outcomes: dict[str, Outcome]) -> dict[Status, int]:
    counted: dict[Status, int] = {}
    for outcome in outcomes.values():
        counted[outcome.status] = counted.get(outcome.status, 0) + 1
    return counted


# PB's catalogue state (§4, §21.3): shown, never taken for the outcome.


@pytest.mark.parametrize("state", ["PUBLISHED", "UNPUBLISHED"])
def test_a_products_result_shows_pbs_catalogue_state(state):
    outcomes = send(FakePb(named(state)), items(2))
    assert {(o.status, o.message) for o in outcomes.values()} == {
        (Status.CREATED, f"PB lists the product as {state}.")
    }


# Results that do not name their item (§21.3): what PB holds decides.


@pytest.mark.parametrize("count", [201, 401])
def test_results_without_the_sku_are_settled_by_what_pb_holds(count):
    lost = {"S-007", "S-199", "S-200", f"S-{count - 1:03}"}  # in each chunk, on both sides of its edges
    pb = FakePb(unnamed, keeps=lambda sku: sku not in lost)
    outcomes = send(pb, items(count))
    assert {k for k, o in outcomes.items() if o.status is Status.FAILED} == lost
    assert {(o.error_code, o.message) for k, o in outcomes.items() if k in lost} == {("no-result", IN_DOUBT)}
    assert {o.message for k, o in outcomes.items() if k not in lost} == {"PB lists the product as PUBLISHED."}
    assert statuses(outcomes) == {Status.CREATED: count - len(lost), Status.FAILED: len(lost)}
    chunks = -(-count // 200)
    assert (pb.calls(BULK), pb.calls(SEARCH)) == (
        chunks,
        2 * chunks,
    )  # one lookup before, one to confirm, per chunk


def test_an_update_answered_without_the_sku_counts_only_if_pb_holds_it_as_sent():
    pb = FakePb(unnamed, keeps=lambda sku: sku != "S-001")
    pb.products = {
        i.key: {"clientId": "c", **i.payload, "status": "PUBLISHED"} for i in items(3, description="Old")
    }
    outcomes = send(pb, items(3, Action.UPDATE))
    assert {k: o.status for k, o in outcomes.items()} == {
        "S-000": Status.UPDATED,
        "S-001": Status.FAILED,
        "S-002": Status.UPDATED,
    }
    assert outcomes["S-001"].message == IN_DOUBT


def test_an_unnamed_result_with_errors_is_shown_beside_its_item():
    def refuse_second(sent: list[dict[str, Any]]) -> httpx.Response:
        results: list[dict[str, Any]] = [{"status": "PUBLISHED"} for _ in sent]
        results[1] = {
            "errors": [{"errorCode": "EMU-REQUIRED", "errorDescription": "details.description is required"}]
        }
        return httpx.Response(200, json={"products": results})

    outcomes = send(FakePb(refuse_second, keeps=lambda sku: sku != "S-001"), items(3))
    assert outcomes["S-001"] == Outcome(
        Status.FAILED,
        error_code="no-result",
        transaction_id=outcomes["S-001"].transaction_id,
        message="In doubt: PB's answer did not name this item (no SKU in its results), and PB does not hold it as "
        "sent; the result in its place said EMU-REQUIRED: details.description is required. Check it at PB "
        "before loading it again.",
    )
    assert outcomes["S-000"].status is outcomes["S-002"].status is Status.CREATED


def test_an_item_without_any_result_is_looked_up_and_stays_in_doubt_unless_pb_holds_it():
    def forget(sent: list[dict[str, Any]]) -> httpx.Response:
        return named()([i for i in sent if i["sku"] not in ("S-001", "S-002")])

    pb = FakePb(forget, keeps=lambda sku: sku != "S-002")
    outcomes = send(pb, items(4))
    assert {k: (o.status, o.message) for k, o in outcomes.items()} == {
        "S-000": (Status.CREATED, "PB lists the product as PUBLISHED."),
        "S-001": (Status.CREATED, "PB lists the product as PUBLISHED."),  # PB holds it as sent
        "S-002": (Status.FAILED, NO_RESULT),
        "S-003": (Status.CREATED, "PB lists the product as PUBLISHED."),
    }


@pytest.mark.parametrize("count", [201, 401])
def test_items_past_the_first_200_keys_are_looked_up_too(count):
    pb = FakePb()
    pb.products = {i.key: {"clientId": "c", **i.payload, "status": "PUBLISHED"} for i in items(count)}
    outcomes = send(pb, items(count))  # CREATE of what PB already holds as sent, as after a lost answer
    assert {o.error_code for o in outcomes.values()} == {"already-exists"}
    assert (pb.calls(BULK), pb.calls(SEARCH)) == (0, -(-count // 200))


def test_results_that_name_every_item_need_no_second_lookup():
    pb = FakePb()
    send(pb, items(201))
    assert (pb.calls(BULK), pb.calls(SEARCH)) == (2, 2)


# PB's gateway: spike arrest, token codes, bare error bodies (§21.4, §22.9).


@pytest.mark.parametrize("status", [429, 500, 400])
def test_a_spike_arrest_to_the_end_fails_the_chunk_with_pbs_code_and_is_not_halved(status):
    pb = FakePb(bulk=[httpx.Response(status, json=SPIKE)] * 3)
    outcomes = send(pb, items(4), attempts=3)
    message = (
        "Spike arrest violation (PB throttled the request 3 times; load this workbook again later: rows "
        "already loaded stay loaded)"
    )
    assert {(o.status, o.error_code, o.message) for o in outcomes.values()} == {
        (Status.FAILED, "PB-APIM-ERR-1006", message)
    }
    assert (pb.calls(BULK), pb.calls(SEARCH)) == (3, 1)  # not halved, nothing to reconcile


@pytest.mark.parametrize(
    "first, expected",
    [
        (
            httpx.Response(500),
            Status.CREATED,
        ),  # may have been carried out: the duplicate is looked up, and ours
        (httpx.Response(500, json=SPIKE), Status.FAILED),  # throttled, so never carried out: someone else's
    ],
)
def test_only_an_answer_that_may_have_been_carried_out_makes_a_duplicate_our_own(first, expected):
    duplicate = {
        "sku": "S-000",
        "errors": [
            {"errorCode": "EMU-DUPLICATE", "errorDescription": "SKU S-000 exists", "parameters": ["sku"]}
        ],
    }
    pb = FakePb(lambda sent: httpx.Response(200, json={"products": [duplicate]}), bulk=[first])
    outcome = send(pb, items(1))["S-000"]
    assert outcome.status is expected
    assert pb.calls(SEARCH) == (2 if expected is Status.CREATED else 1)


class Marks(Recorder):
    """A recorder that notes each transaction ID it is told of before a request leaves."""

    def __init__(self) -> None:
        super().__init__()
        self.marked: list[str] = []

    def sending(self, sent: Sequence[Item]) -> Callable[[str], None]:
        return self.marked.append


@pytest.mark.parametrize("status", [401, 400])
def test_an_expired_token_is_renewed_once_and_a_second_refusal_fails_the_chunk_unhalved(status):
    expired = httpx.Response(
        status, json={"errorCode": "PB-APIM-ERR-1003", "errorDescription": "Expired token"}
    )
    pb = FakePb(bulk=[expired, expired])
    recorder = Marks()
    outcomes = send(pb, items(4), recorder=recorder)
    assert {(o.status, o.error_code, o.message) for o in outcomes.values()} == {
        (Status.FAILED, "PB-APIM-ERR-1003", "Expired token")
    }
    assert pb.tokens == 2 and pb.calls(BULK) == 2
    assert len(set(recorder.marked)) == 2  # the resend left under a transaction ID of its own, noted first


def test_a_renewed_token_lets_the_chunk_through():
    pb = FakePb(
        bulk=[httpx.Response(401, json={"errorCode": "PB-APIM-ERR-1002", "errorDescription": "Invalid"})]
    )
    outcomes = send(pb, items(3))
    assert statuses(outcomes) == {Status.CREATED: 3} and pb.tokens == 2


def test_a_bare_gateway_error_reaches_every_row_with_code_and_text():
    refused = httpx.Response(
        403, json={"errorCode": "PB-APIM-ERR-1001", "errorDescription": "Invalid request"}
    )
    outcomes = send(FakePb(bulk=[refused]), items(2))
    assert {(o.status, o.error_code, o.message) for o in outcomes.values()} == {
        (Status.FAILED, "PB-APIM-ERR-1001", "Invalid request")
    }


def test_a_failed_lookup_fails_its_items_with_pbs_code_and_text_and_sends_nothing():
    refused = httpx.Response(
        403, json={"errorCode": "PB-APIM-ERR-1001", "errorDescription": "Invalid request"}
    )
    pb = FakePb(search=[refused])
    outcomes = send(pb, items(1))
    assert outcomes["S-000"] == Outcome(
        Status.FAILED,
        error_code="lookup-failed",
        message="Not sent: it could not be looked up at PB first (http://pb.test/shippingservices/fulfillment/v1/"
        "products/search answered HTTP 403, PB-APIM-ERR-1001: Invalid request). Load the same workbook "
        "again: pbload checks what PB has and finishes it without sending anything twice.",
    )
    assert pb.calls(BULK) == 0  # sent blind, it could be created twice


# Outcomes kept as they arrive; Ctrl-C abandons a request that never gets its answer.


def test_ctrl_c_keeps_the_answered_chunks_and_abandons_a_request_that_never_answers():
    stop, release = threading.Event(), threading.Event()
    answered = named()
    seen: list[int] = []

    def hang_on_the_second(sent: list[dict[str, Any]]) -> httpx.Response:
        seen.append(len(sent))
        if len(seen) == 2:
            stop.set()  # Ctrl-C while this request waits for an answer that does not come
            release.wait(timeout=30)  # bounded: the test lets it go once the sender has given up on it
        return answered(sent)

    pb = FakePb(hang_on_the_second)
    recorder = Recorder(stop=stop)
    client = FulfillmentClient(
        "http://pb.test",
        "c",
        "k",
        "s",
        transport=httpx.MockTransport(pb),
        policy=RetryPolicy(max_attempts=1),
        sleep=lambda s: None,
        max_rps=1e9,
    )
    sender = BulkSender(
        client, PRODUCTS, PRODUCTS.api, chunk_size=100, concurrency=1, recorder=recorder, grace_s=0.01
    )
    try:
        outcomes = sender.send(items(300))
    finally:
        release.set()
    assert statuses(outcomes) == {
        Status.CREATED: 100
    }  # the first chunk; the second abandoned, the third never sent
    assert sorted(outcomes) == [f"S-{n:03}" for n in range(100)] and recorder.outcomes == outcomes
    assert seen == [100, 100]


def test_the_breaker_opening_mid_sheet_raises_with_every_answer_kept():
    gone = [httpx.Response(200, json={"content": [], "last": True})]  # the look-up answers; then PB is gone
    pb = FakePb(search=gone, bulk=[httpx.Response(503)] * 2)
    recorder = Recorder()
    client = FulfillmentClient(
        "http://pb.test",
        "c",
        "k",
        "s",
        transport=httpx.MockTransport(pb),
        policy=RetryPolicy(max_attempts=1),
        sleep=lambda s: None,
        max_rps=1e9,
        breaker_threshold=2,
    )
    sender = BulkSender(client, PRODUCTS, PRODUCTS.api, chunk_size=100, concurrency=1, recorder=recorder)
    pb.scripted[BULK] = [
        httpx.Response(
            200,
            json={
                "products": [{"clientId": "c", "sku": f"S-{n:03}", "status": "PUBLISHED"} for n in range(100)]
            },
        ),
        httpx.Response(503),
        httpx.Response(503),
    ]
    with pytest.raises(ApiDownError):
        sender.send(items(400))
    assert Counter((o.status, o.error_code) for o in recorder.outcomes.values()) == {
        (Status.CREATED, None): 100,
        (Status.FAILED, "HTTP-503"): 100,
    }  # the 3rd chunk opened it: no outcome
    assert recorder.outcomes["S-150"].message == (
        "The API answered HTTP 503 (tried 1 time; load this workbook again "
        "later: rows already loaded stay loaded)"
    )
    assert pb.calls(BULK) == 3  # the 4th chunk never left


def test_a_send_collects_young_containers_less_often_and_leaves_the_collector_as_it_was():
    seen: list[tuple[int, int, int]] = []

    def answer(sent: list[dict[str, Any]]) -> httpx.Response:
        seen.append(gc.get_threshold())
        return named()(sent)

    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        assert statuses(send(FakePb(answer), items(3))) == {Status.CREATED: 3}
        assert seen == [(SENDING_GC_THRESHOLD, 10, 10)]
        assert gc.get_threshold() == (700, 10, 10)
        gc.set_threshold(0, 10, 10)  # automatic collection turned off stays off
        assert statuses(send(FakePb(answer), items(3))) == {Status.CREATED: 3}
        assert seen[-1] == (0, 10, 10) and gc.get_threshold() == (0, 10, 10)
    finally:
        gc.set_threshold(*before)
