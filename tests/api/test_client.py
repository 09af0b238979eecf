"""The API client: OAuth renewal, retries, lost answers, rate limits, gateway errors (fakes at the HTTP boundary)."""

from __future__ import annotations

import json
import random

import httpx
import pytest

from loader.api import ApiDownError, FulfillmentClient, NoAnswerError
from loader.api.client import timeout
from loader.api.ratelimit import EDGE_S, RateLimiter
from loader.api.retry import RetryPolicy
from loader.errors import AuthenticationError, UnreachableError
from loader.models import Action, Item, Status
from loader.resources.products import PRODUCTS
from loader.send.keyed import BulkSender

BULK = "/shippingservices/fulfillment/v1/products/bulk"


class FakeApi:
    """Answers from a script: each call takes the next answer for its path (an exception is raised).

    Token requests get `token-1`, `token-2`, ... with the `token` body's other fields.
    """

    def __init__(self, answers: dict[str, list], token: dict | None = None) -> None:
        self.answers = answers
        self.token = {"expiresIn": "3600"} if token is None else token
        self.calls: list[tuple[str, dict[str, str]]] = []  # path and headers as sent (requests are reused)
        self.tokens = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request.url.path, dict(request.headers)))
        if request.url.path == "/oauth/token":
            self.tokens += 1
            return httpx.Response(200, json={"access_token": f"token-{self.tokens}", **self.token})
        answer = self.answers[request.url.path].pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def api_calls(self) -> list[dict[str, str]]:
        """The headers of each API call (token requests left out)."""
        return [headers for path, headers in self.calls if path != "/oauth/token"]


def client_for(api: FakeApi, attempts: int = 4) -> tuple[FulfillmentClient, list[float]]:
    slept: list[float] = []
    client = FulfillmentClient(
        "http://pb.test",
        "c",
        "k",
        "s",
        transport=httpx.MockTransport(api),
        policy=RetryPolicy(max_attempts=attempts),
        sleep=slept.append,
        seed=1,
        max_rps=1e9,
    )
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
    assert str(err.value) == (
        "The API refused the credentials (HTTP 401 from http://pb.test/oauth/token). "
        "Check PB_API_KEY and PB_API_SECRET for this environment."
    )


def test_transient_answers_are_retried_with_backoff_and_retry_after():
    api = FakeApi(
        {
            BULK: [
                httpx.Response(503),
                httpx.Response(429, headers={"Retry-After": "7"}),
                httpx.Response(500),
                ok(),
            ]
        }
    )
    client, slept, _ = timed_client(api)
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
    api = FakeApi(
        {BULK: [httpx.Response(400, json={"errors": [{"errorCode": "X", "errorDescription": "bad"}]})]}
    )
    client, slept = client_for(api)
    response = client.call("POST", "/v1/products/bulk", {})
    assert (response.status, response.attempts, slept) == (400, 1, [])
    assert [(e.code, e.message) for e in response.errors] == [("X", "bad")]


def test_no_answer_at_all_names_the_url():
    api = FakeApi({BULK: [httpx.ConnectError("refused")] * 3})
    client, slept = client_for(api, attempts=3)
    with pytest.raises(UnreachableError) as err:
        client.call("POST", "/v1/products/bulk", {})
    assert str(err.value).startswith(
        "No answer from http://pb.test after 3 attempts (ConnectError: refused)."
    )
    assert len(slept) == 2


@pytest.mark.parametrize(
    "body",
    [
        [{"errorCode": "1000045", "message": "Missing value", "parameters": "sku"}],  # legacy format 1
        {"status": "ERROR", "errors": [{"errorCode": "1000045", "errorDescription": "Missing value"}]},
        [{"key": "1000045", "message": "Missing value"}],  # legacy format 3
        {"errorCode": "1000045", "errorDescription": "Missing value"},  # a bare object, as PB's gateway sends
    ],
)
def test_legacy_error_bodies_are_understood(body):
    api = FakeApi({BULK: [httpx.Response(400, json=body)]})
    client, _ = client_for(api)
    [error] = client.call("POST", "/v1/products/bulk", {}).errors
    assert (error.code, error.message) == ("1000045", "Missing value")


def test_deadline_stops_retrying():
    now = [0.0]
    api = FakeApi({BULK: [httpx.Response(503), httpx.Response(503)]})
    client = FulfillmentClient(
        "http://pb.test",
        "c",
        "k",
        "s",
        transport=httpx.MockTransport(api),
        policy=RetryPolicy(max_attempts=10, deadline_s=5),
        sleep=lambda s: now.__setitem__(0, now[0] + 6),
        clock=lambda: now[0],
    )
    assert client.call("POST", "/v1/products/bulk", {}).status == 503
    assert len(api.api_calls()) == 2


def test_backoff_grows_and_is_capped():
    policy = RetryPolicy(base_delay_s=1, max_delay_s=8)
    rng = random.Random(0)
    assert [round(policy.delay(a, None, rng) / (2 ** (a - 1)), 2) <= 1 for a in (1, 2, 3)] == [True] * 3
    assert policy.delay(10, None, rng) <= 8
    assert policy.delay(1, "120", rng) == 8  # a Retry-After beyond the cap waits the cap


def test_rate_limiter_lets_its_rate_leave_each_second():
    now, waits = [0.0], []
    limiter = RateLimiter(2, clock=lambda: now[0], sleep=waits.append)
    for _ in range(3):
        limiter.acquire()
    # two leave at once, the third a second later (with EDGE_S to spare); how it backs off:
    # tests/api/test_ratelimit.py
    assert waits == pytest.approx([1.0 + EDGE_S])


def test_a_bulk_call_rejected_whole_is_halved_until_the_bad_item_is_found():
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "expiresIn": "3600"})
        if request.url.path.endswith("/search"):
            return httpx.Response(200, json={"content": [], "last": True})
        products = json.loads(request.content)["products"]
        if any(p["sku"] == "BAD" for p in products):
            return httpx.Response(400, json={"errors": [{"errorCode": "E", "errorDescription": "rejected"}]})
        return httpx.Response(
            200, json={"products": [{"sku": p["sku"], "status": "PUBLISHED"} for p in products]}
        )

    client = FulfillmentClient("http://pb.test", "c", "k", "s", transport=httpx.MockTransport(answer))
    skus = [f"S{n}" for n in range(7)] + ["BAD"]
    items = [Item("Products", s, (n + 2,), Action.CREATE, {"sku": s}) for n, s in enumerate(skus)]
    outcomes = BulkSender(client, PRODUCTS, PRODUCTS.api, chunk_size=8, concurrency=1).send(items)
    assert {k: o.status for k, o in outcomes.items()} == {
        **{s: Status.CREATED for s in skus[:-1]},
        "BAD": Status.FAILED,
    }
    assert outcomes["BAD"].message == "rejected"


# PB's gateway answers (§21.4, §22.9): bare error objects, spike arrest, refused tokens.

SPIKE = {"errorCode": "PB-APIM-ERR-1006", "errorDescription": "Spike arrest violation"}


def gateway(status: int, code: str, text: str, headers: dict | None = None) -> httpx.Response:
    return httpx.Response(status, json={"errorCode": code, "errorDescription": text}, headers=headers)


def timed_client(
    api: FakeApi, attempts: int = 4, max_rps: float = 1e9
) -> tuple[FulfillmentClient, list[float], list[float]]:
    """A client whose clock (`now[0]`) moves only when it sleeps or a test moves it, so waits read off exactly."""
    now, slept = [0.0], []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    client = FulfillmentClient(
        "http://pb.test",
        "c",
        "k",
        "s",
        transport=httpx.MockTransport(api),
        policy=RetryPolicy(max_attempts=attempts),
        sleep=sleep,
        clock=lambda: now[0],
        seed=1,
        max_rps=max_rps,
    )
    return client, slept, now


def test_a_bare_gateway_error_is_understood_and_described():
    api = FakeApi({BULK: [gateway(403, "PB-APIM-ERR-1001", "Invalid request")]})
    client, _ = client_for(api)
    response = client.call("POST", "/v1/products/bulk", {})
    assert [(e.code, e.message) for e in response.errors] == [("PB-APIM-ERR-1001", "Invalid request")]
    assert response.describe() == "HTTP 403, PB-APIM-ERR-1001: Invalid request"
    assert response.from_gateway and not response.throttled


@pytest.mark.parametrize("status", [429, 500])
def test_spike_arrest_is_a_throttle_whatever_its_status(status):
    api = FakeApi({BULK: [httpx.Response(status, json=SPIKE, headers={"Retry-After": "2"})] + [ok()] * 6})
    client, slept, _ = timed_client(api, max_rps=10)
    seen: list[str] = []
    response = client.call("POST", "/v1/products/bulk", {}, on_attempt=seen.append)
    assert (response.status, response.attempts, response.uncertain) == (200, 2, False)  # never carried out
    assert slept == [2.0]  # Retry-After honoured
    assert client.stats.retries == {"PB-APIM-ERR-1006": 1}
    assert len(set(seen)) == 2 and seen == [c["x-pb-transactionid"] for c in api.api_calls()]
    for _ in range(5):
        client.call("POST", "/v1/products/bulk", {})
    # the operation slowed down: 5 requests a second (the one sent again and four more), not 10
    assert slept == [2.0, pytest.approx(1.0 + EDGE_S)]


@pytest.mark.parametrize("status", [429, 500])
def test_a_spike_arrest_that_never_stops_is_the_answer(status):
    api = FakeApi({BULK: [httpx.Response(status, json=SPIKE)] * 3})
    client, slept = client_for(api, attempts=3)
    response = client.call("POST", "/v1/products/bulk", {})
    assert (response.status, response.attempts, response.uncertain, len(slept)) == (status, 3, False, 2)
    assert (
        response.throttled
        and response.describe() == f"HTTP {status}, PB-APIM-ERR-1006: Spike arrest violation"
    )


@pytest.mark.parametrize("code", ["PB-APIM-ERR-1002", "PB-APIM-ERR-1003"])
@pytest.mark.parametrize("status", [401, 400])
def test_a_refused_token_is_renewed_once_whatever_the_status(code, status):
    api = FakeApi({BULK: [gateway(status, code, "Invalid Access Token"), ok()]})
    client, slept = client_for(api)
    seen: list[str] = []
    response = client.call("POST", "/v1/products/bulk", {}, on_attempt=seen.append)
    assert (response.status, response.attempts, slept) == (200, 1, [])
    first, second = api.api_calls()
    assert (first["authorization"], second["authorization"]) == ("Bearer token-1", "Bearer token-2")
    # the resend has its own transaction ID, and the journal hears of it before it leaves
    assert seen == [first["x-pb-transactionid"], second["x-pb-transactionid"]] and seen[0] != seen[1]
    assert response.transaction_id == seen[1]


@pytest.mark.parametrize("status", [401, 400])
def test_a_second_expired_token_answer_is_not_renewed_again(status):
    api = FakeApi({BULK: [gateway(status, "PB-APIM-ERR-1003", "Expired token")] * 2})
    client, _ = client_for(api)
    response = client.call("POST", "/v1/products/bulk", {})
    assert api.tokens == 2 and len(api.api_calls()) == 2
    assert response.describe() == f"HTTP {status}, PB-APIM-ERR-1003: Expired token"


def test_a_400_without_a_token_code_keeps_the_token():
    api = FakeApi({BULK: [gateway(400, "PB-APIM-ERR-1001", "Invalid request")]})
    client, _ = client_for(api)
    assert client.call("POST", "/v1/products/bulk", {}).status == 400
    assert api.tokens == 1 and len(api.api_calls()) == 1


@pytest.mark.parametrize(
    "token",
    [
        {"expiresIn": "120", "issuedAt": "1700000000000"},  # strings, as PB's field table prints them
        {"expiresIn": 120, "issuedAt": 1700000000000},
        {"expiresIn": 120.0},  # no issuedAt at all
    ],
)
def test_the_token_answer_takes_numbers_as_strings_or_numbers(token):
    api = FakeApi(
        {BULK: [ok(), ok(), ok()]}, token={"tokenType": "BearerToken", "clientID": "key", "org": "o", **token}
    )
    client, _, now = timed_client(api)
    client.call("POST", "/v1/products/bulk", {})
    assert client.token is not None
    assert (client.token.expires_in_s, client.token.token_type, client.token.client_id, client.token.org) == (
        120.0,
        "BearerToken",
        "key",
        "o",
    )
    assert client.token.issued_at_ms == (1700000000000 if "issuedAt" in token else None)
    now[0] = 59  # within its lifetime less the margin: reused
    client.call("POST", "/v1/products/bulk", {})
    assert api.tokens == 1
    now[0] = 61  # within a minute of expiring: renewed before the request leaves
    client.call("POST", "/v1/products/bulk", {})
    assert api.tokens == 2


@pytest.mark.parametrize("lifetime", ["soon", "NaN", True])
def test_a_token_answer_with_a_bad_lifetime_is_not_understood(lifetime):
    api = FakeApi({BULK: []}, token={"expiresIn": lifetime})
    client, _ = client_for(api)
    with pytest.raises(AuthenticationError) as err:
        client.call("GET", "/v1/products/A")
    assert str(err.value) == (
        "The token answer from http://pb.test/oauth/token is not understood "
        f"(expiresIn is not a number ({lifetime!r}))."
    )


@pytest.mark.parametrize("status", [401, 200])
def test_a_gateway_refusal_of_the_keys_shows_pbs_code_and_what_to_do(status):
    def refuse(request: httpx.Request) -> httpx.Response:
        return gateway(status, "PB-APIM-ERR-1002", "Invalid Access Token")

    client = FulfillmentClient("http://pb.test", "c", "k", "s", transport=httpx.MockTransport(refuse))
    with pytest.raises(AuthenticationError) as err:
        client.call("GET", "/v1/products/A")
    assert str(err.value) == (
        f"The API refused the credentials (HTTP {status} from http://pb.test/oauth/token). Check PB_API_KEY and "
        "PB_API_SECRET for this environment. PB answered PB-APIM-ERR-1002: Invalid Access Token. PB gives this "
        "code for keys of the other environment: sandbox and production keys differ, so check --env too."
    )


def test_a_token_endpoint_in_trouble_says_what_pb_answered():
    def busy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json=SPIKE)

    client = FulfillmentClient("http://pb.test", "c", "k", "s", transport=httpx.MockTransport(busy))
    with pytest.raises(AuthenticationError) as err:
        client.call("GET", "/v1/products/A")
    assert str(err.value) == (
        "Could not get an access token: HTTP 500 from http://pb.test/oauth/token (PB answered "
        "PB-APIM-ERR-1006: Spike arrest violation). Try again later."
    )


# Time-outs and the breaker (issue 10): every request waits a bounded time; a dead API stops the run.


def test_the_token_request_has_the_clients_time_outs():
    seen: dict[str, dict] = {}

    def api(request: httpx.Request) -> httpx.Response:
        seen[request.url.path] = request.extensions.get("timeout")
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "expiresIn": 3600})
        return ok()

    client = FulfillmentClient(
        "http://pb.test",
        "c",
        "k",
        "s",
        transport=httpx.MockTransport(api),
        max_rps=1e9,
        timeouts=timeout(connect_s=2.5, read_s=7.0),
    )
    client.call("POST", "/v1/products/bulk", {})
    expected = {"connect": 2.5, "read": 7.0, "write": 7.0, "pool": 7.0}
    assert seen == {"/oauth/token": expected, BULK: expected}


def down_client(answers: list, threshold: int = 3) -> tuple[FulfillmentClient, FakeApi]:
    api = FakeApi({BULK: answers})
    client = FulfillmentClient(
        "http://pb.test",
        "c",
        "k",
        "s",
        transport=httpx.MockTransport(api),
        policy=RetryPolicy(max_attempts=1),
        sleep=lambda s: None,
        max_rps=1e9,
        breaker_threshold=threshold,
    )
    return client, api


def test_one_request_out_of_tries_is_its_own_failure_then_the_breaker_opens_and_nothing_leaves():
    client, api = down_client(
        [ok(), httpx.ReadTimeout("lost"), httpx.Response(503), httpx.ConnectError("gone")]
    )
    client.call("POST", "/v1/products/bulk", {})  # the API answered once: it is there
    with pytest.raises(NoAnswerError) as lost:
        client.call("POST", "/v1/products/bulk", {})
    assert (lost.value.attempts, lost.value.uncertain) == (1, True)
    assert client.call("POST", "/v1/products/bulk", {}).status == 503  # a transient answer to the last try
    with pytest.raises(ApiDownError) as down:
        client.call("POST", "/v1/products/bulk", {})
    assert str(down.value) == (
        "The API at http://pb.test stopped answering: 3 requests in a row failed, the last one "
        "with no answer after 1 attempt (ConnectError). Nothing more was sent, and rows "
        "already answered keep their answers; run the command again later: pbload finishes "
        "what was left and sends nothing twice."
    )
    sent = len(api.calls)
    with pytest.raises(ApiDownError):
        client.call("POST", "/v1/products/bulk", {})
    assert len(api.calls) == sent  # open: nothing leaves any more


def test_a_usable_answer_ends_a_run_of_failures():
    client, _ = down_client(
        [ok(), httpx.Response(503), httpx.Response(503), ok(), httpx.Response(503), httpx.Response(503)]
    )
    statuses = [client.call("POST", "/v1/products/bulk", {}).status for _ in range(6)]
    assert statuses == [200, 503, 503, 200, 503, 503] and not client.breaker.is_open


def test_no_answer_before_the_api_ever_answered_opens_the_breaker_at_once():
    client, _ = down_client([httpx.ConnectError("refused"), ok()])
    with pytest.raises(ApiDownError) as down:
        client.call("POST", "/v1/products/bulk", {})
    assert str(down.value).startswith(
        "No answer from http://pb.test after 1 attempt (ConnectError: refused)."
    )
    with pytest.raises(ApiDownError):
        client.call("POST", "/v1/products/bulk", {})
