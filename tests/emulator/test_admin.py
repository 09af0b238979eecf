"""The control plane (/emulator/admin/...) over real HTTP: credentials, other origins, content types."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from loader.emulator.faults import Faults

from .helpers import ADMIN_AUTH, Api, errors_of, fetch_token, order, product
from .serving import Served, served

ADVANCE = "/emulator/admin/advance"
FAULTS = "/emulator/admin/faults"
CREDENTIALS_TEXT = (
    "The emulator's control plane needs its credentials: HTTP Basic with its API key and "
    "secret, or a bearer token from /oauth/token"
)


@pytest.fixture
def http() -> Iterator[Served]:
    with served() as s:
        yield s


def _order(s: Served) -> str:
    api = s.api()
    assert api.create(product("SKU-1")).status_code == 201
    response = api.call("POST", "/v1/orders", json=order())
    assert response.status_code == 201, response.text
    return str(response.json()["orderId"])


def _cancel(s: Served, order_id: str, **kwargs: object) -> httpx.Response:
    return s.client.post(ADVANCE, json={"resource": "order", "id": order_id, "status": "CANCELED"}, **kwargs)


def _status(s: Served, order_id: str) -> str:
    [record] = [o for o in s.emulator.orders() if o["orderId"] == order_id]
    return str(record["status"])


@pytest.mark.parametrize("auth", [None, ("local-key", "wrong"), ("someone", "local-secret")])
def test_anonymous_and_wrong_credentials_are_refused(http: Served, auth: tuple[str, str] | None) -> None:
    order_id = _order(http)

    advanced = _cancel(http, order_id, auth=auth)
    shown = http.client.get(FAULTS, auth=auth)
    replaced = http.client.put(FAULTS, json={"error_rate": 1}, auth=auth)

    for response in (advanced, shown, replaced):
        assert response.status_code == 401
        assert response.json()["errors"][0]["errorDescription"] == CREDENTIALS_TEXT
    assert _status(http, order_id) == "CREATED"
    assert http.injector.faults == Faults()


def test_unknown_or_expired_bearer_tokens_are_refused(http: Served) -> None:
    token = fetch_token(http.client)
    unknown = http.client.get(FAULTS, headers={"Authorization": "Bearer not-a-token"})
    http.clock.advance(36_000)  # past the token's lifetime
    expired = http.client.get(FAULTS, headers={"Authorization": f"Bearer {token}"})

    assert (unknown.status_code, expired.status_code) == (401, 401)


def test_basic_credentials_or_a_bearer_token_open_it(http: Served) -> None:
    order_id = _order(http)
    bearer = {"Authorization": f"Bearer {fetch_token(http.client)}"}

    assert http.client.get(FAULTS, auth=ADMIN_AUTH).status_code == 200
    assert http.client.put(FAULTS, json={"seed": 4}, headers=bearer).status_code == 200
    assert _cancel(http, order_id, headers=bearer).status_code == 200
    assert _status(http, order_id) == "CANCELED"
    assert http.injector.faults == Faults(seed=4)


@pytest.mark.parametrize("path", [ADVANCE, FAULTS])
def test_another_origin_is_refused_even_with_credentials(http: Served, path: str) -> None:
    order_id = _order(http)
    evil = {"Origin": "http://evil.example", "Content-Type": "application/json"}
    body = b'{"resource": "order", "id": "%s", "status": "CANCELED"}' % order_id.encode()

    response = http.client.request(
        "POST" if path == ADVANCE else "PUT", path, content=body, headers=evil, auth=ADMIN_AUTH
    )

    assert response.status_code == 403
    assert errors_of(response) == [("EMU-FORBIDDEN", ["Origin"])]
    assert _status(http, order_id) == "CREATED"


def test_the_servers_own_origin_is_accepted(http: Served) -> None:
    own = {"Origin": http.server.url}

    assert http.client.get(FAULTS, headers=own, auth=ADMIN_AUTH).status_code == 200


def test_a_host_that_does_not_name_the_emulator_is_refused(http: Served) -> None:
    # A page on a DNS name rebound to 127.0.0.1 is same-origin for the browser; its Host gives it away.
    rebound = {"Host": "evil.example:8790", "Origin": "http://evil.example:8790"}

    response = http.client.get(FAULTS, headers=rebound, auth=ADMIN_AUTH)

    assert response.status_code == 403
    assert errors_of(response) == [("EMU-FORBIDDEN", ["Host"])]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_that_is_not_declared_json_is_refused(http: Served, content_type: str | None) -> None:
    # What a cross-site form can send without the browser asking first: text/plain, a form, nothing.
    order_id = _order(http)
    headers = {"Content-Type": content_type} if content_type else {}
    body = b'{"resource": "order", "id": "%s", "status": "CANCELED"}' % order_id.encode()

    advanced = http.client.post(ADVANCE, content=body, headers=headers, auth=ADMIN_AUTH)
    replaced = http.client.put(FAULTS, content=b'{"error_rate": 1}', headers=headers, auth=ADMIN_AUTH)

    for response in (advanced, replaced):
        assert response.status_code == 415
        assert errors_of(response) == [("EMU-BAD-REQUEST", ["Content-Type"])]
    assert _status(http, order_id) == "CREATED"
    assert http.injector.faults == Faults()


def test_in_process_the_advance_route_is_guarded_too(api: Api) -> None:
    anonymous = api.client.post(ADVANCE, json={"resource": "order", "id": "ORD000001", "status": "SHIPPED"})

    assert anonymous.status_code == 401
