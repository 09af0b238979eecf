"""The API client: OAuth renewal, retries, lost answers, rate limits (fakes at the HTTP boundary)."""

from __future__ import annotations

import json
import random

import httpx
import pytest

from loader.api import FulfillmentClient
from loader.api.ratelimit import RateLimiter
from loader.api.retry import RetryPolicy
from loader.errors import AuthenticationError, UnreachableError
from loader.models import Action, Item, Status
from loader.resources.products import PRODUCTS
from loader.send.keyed import BulkSender

BULK = "/shippingservices/fulfillment/v1/products/bulk"


class FakeApi:
    """Answers from a script: each call takes the next answer for its path (an exception is raised)."""

    def __init__(self, answers: dict[str, list]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, dict[str, str]]] = []  # path and headers as sent (requests are reused)
        self.tokens = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request.url.path, dict(request.headers)))
        if request.url.path == "/oauth/token":
            self.tokens += 1
            return httpx.Response(200, json={"access_token": f"token-{self.tokens}", "expiresIn": "3600"})
        answer = self.answers[request.url.path].pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def api_calls(self) -> list[dict[str, str]]:
        """The headers of each API call (token requests left out)."""
        return [headers for path, headers in self.calls if path != "/oauth/token"]


def client_for(api: FakeApi, attempts: int = 4) -> tuple[FulfillmentClient, list[float]]:
    slept: list[float] = []
    client = FulfillmentClient("http://pb.test", "c", "k", "s", transport=httpx.MockTransport(api),
                               policy=RetryPolicy(max_attempts=attempts), sleep=slept.append, seed=1,
                               max_rps=1e9)
    return client, slept


def ok(body=None) -> httpx.Response:
    return httpx.Response(200, json=body or {"products": []})


def test_a_401_renews_the_token_once_with_a_new_transaction_id():
    api = FakeApi({BULK: [httpx.Response(401), ok()]})
    client, _ = client_for(api)
    response = client.call("POST", "/v1/products/bulk", {"products": []})
    assert response.status == 200
    first, second = api.api_calls()
    assert (first["authorization"], second["authorization"]) == ("Bearer token-1", "Bearer token-2")
    assert first["x-pb-transactionid"] != second["x-pb-transactionid"]
    assert api.tokens == 2


def test_a_second_401_is_an_answer_not_a_loop():
    api = FakeApi({BULK: [httpx.Response(401), httpx.Response(401)]})
    client, _ = client_for(api)
    assert client.call("POST", "/v1/products/bulk", {}).status == 401
    assert api.tokens == 2 and len(api.api_calls()) == 2


def test_refused_credentials_say_what_to_check():
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401)

    client = FulfillmentClient("http://pb.test", "c", "k", "s", transport=httpx.MockTransport(refuse))
    with pytest.raises(AuthenticationError) as err:
        client.call("GET", "/v1/products/A")
    assert str(err.value) == ("The API refused the credentials (HTTP 401 from http://pb.test/oauth/token). "
                              "Check PB_API_KEY and PB_API_SECRET for this environment.")


def test_transient_answers_are_retried_with_backoff_and_retry_after():
    api = FakeApi({BULK: [httpx.Response(503), httpx.Response(429, headers={"Retry-After": "7"}),
                          httpx.Response(500), ok()]})
    client, slept = client_for(api)
    seen: list[str] = []
    response = client.call("POST", "/v1/products/bulk", {}, on_attempt=seen.append)
    assert response.status == 200 and response.attempts == 4
    assert 0.25 <= slept[0] <= 0.5 and slept[1] == 7 and 1.0 <= slept[2] <= 2.0
    assert seen == [c["x-pb-transactionid"] for c in api.api_calls()] and len(set(seen)) == 4
    assert response.uncertain  # the 500 may have been carried out
    assert client.stats.retries == {"HTTP 503": 1, "HTTP 429": 1, "HTTP 500": 1}


def test_throttling_alone_is_not_uncertain():
    api = FakeApi({BULK: [httpx.Response(429), httpx.Response(503), ok()]})
    client, _ = client_for(api)
    assert not client.call("POST", "/v1/products/bulk", {}).uncertain


def test_a_lost_answer_is_retried_and_flagged():
    api = FakeApi({BULK: [httpx.ReadTimeout("lost"), ok()]})
    client, _ = client_for(api)
    response = client.call("POST", "/v1/products/bulk", {})
    assert response.status == 200 and response.uncertain


def test_other_4xx_are_final():
    api = FakeApi({BULK: [httpx.Response(400, json={"errors": [{"errorCode": "X", "errorDescription": "bad"}]})]})
    client, slept = client_for(api)
    response = client.call("POST", "/v1/products/bulk", {})
    assert (response.status, response.attempts, slept) == (400, 1, [])
    assert [(e.code, e.message) for e in response.errors] == [("X", "bad")]


def test_no_answer_at_all_names_the_url():
    api = FakeApi({BULK: [httpx.ConnectError("refused")] * 3})
    client, slept = client_for(api, attempts=3)
    with pytest.raises(UnreachableError) as err:
        client.call("POST", "/v1/products/bulk", {})
    assert str(err.value).startswith("No answer from http://pb.test after 3 attempts (ConnectError: refused).")
    assert len(slept) == 2


@pytest.mark.parametrize("body", [
    [{"errorCode": "1000045", "message": "Missing value", "parameters": "sku"}],  # legacy format 1
    {"status": "ERROR", "errors": [{"errorCode": "1000045", "errorDescription": "Missing value"}]},
    [{"key": "1000045", "message": "Missing value"}],  # legacy format 3
])
def test_legacy_error_bodies_are_understood(body):
    api = FakeApi({BULK: [httpx.Response(400, json=body)]})
    client, _ = client_for(api)
    [error] = client.call("POST", "/v1/products/bulk", {}).errors
    assert (error.code, error.message) == ("1000045", "Missing value")


def test_deadline_stops_retrying():
    now = [0.0]
    api = FakeApi({BULK: [httpx.Response(503), httpx.Response(503)]})
    client = FulfillmentClient("http://pb.test", "c", "k", "s", transport=httpx.MockTransport(api),
                               policy=RetryPolicy(max_attempts=10, deadline_s=5),
                               sleep=lambda s: now.__setitem__(0, now[0] + 6), clock=lambda: now[0])
    assert client.call("POST", "/v1/products/bulk", {}).status == 503
    assert len(api.api_calls()) == 2


def test_backoff_grows_and_is_capped():
    policy = RetryPolicy(base_delay_s=1, max_delay_s=8)
    rng = random.Random(0)
    assert [round(policy.delay(a, None, rng) / (2 ** (a - 1)), 2) <= 1 for a in (1, 2, 3)] == [True] * 3
    assert policy.delay(10, None, rng) <= 8
    assert policy.delay(1, "120", rng) == 8  # a Retry-After beyond the cap waits the cap


def test_rate_limiter_spaces_requests_and_backs_off():
    now, waits = [0.0], []
    limiter = RateLimiter(10, clock=lambda: now[0], sleep=waits.append)
    for _ in range(3):
        limiter.acquire()
    assert waits == pytest.approx([0.1, 0.2])
    limiter.throttled()
    assert limiter.rate == 5
    for _ in range(100):
        limiter.passed()
    assert limiter.rate == 10


def test_a_bulk_call_rejected_whole_is_halved_until_the_bad_item_is_found():
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "expiresIn": "3600"})
        if request.url.path.endswith("/search"):
            return httpx.Response(200, json={"content": [], "last": True})
        products = json.loads(request.content)["products"]
        if any(p["sku"] == "BAD" for p in products):
            return httpx.Response(400, json={"errors": [{"errorCode": "E", "errorDescription": "rejected"}]})
        return httpx.Response(200, json={"products": [{"sku": p["sku"], "status": "PUBLISHED"} for p in products]})

    client = FulfillmentClient("http://pb.test", "c", "k", "s", transport=httpx.MockTransport(answer))
    skus = [f"S{n}" for n in range(7)] + ["BAD"]
    items = [Item("Products", s, (n + 2,), Action.CREATE, {"sku": s}) for n, s in enumerate(skus)]
    outcomes = BulkSender(client, PRODUCTS, PRODUCTS.api, chunk_size=8, concurrency=1).send(items)
    assert {k: o.status for k, o in outcomes.items()} == {**{s: Status.CREATED for s in skus[:-1]},
                                                           "BAD": Status.FAILED}
    assert outcomes["BAD"].message == "rejected"
