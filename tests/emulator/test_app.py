"""The emulator's HTTP layer: OAuth, bearer tokens, transaction IDs, clientId, routing, persistence."""

from __future__ import annotations

import base64
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

import loader.emulator as emulator_package
from loader.emulator import Emulator, EmulatorConfig, create_app
from loader.emulator.errors import ALL_CODES, GATEWAY_CODES

from .helpers import (
    CLIENT_ID,
    FULFILLMENT,
    START,
    UNKNOWN,
    Api,
    FakeClock,
    errors_of,
    fetch_token,
    http_client,
    product,
)

FORM = {"grant_type": "client_credentials"}
INVALID_TOKEN = {"errorCode": "PB-APIM-ERR-1002", "errorDescription": "Invalid Access Token"}
EXPIRED_TOKEN = {"errorCode": "PB-APIM-ERR-1003", "errorDescription": "Access Token Expired"}


# OAuth ------------------------------------------------------------------------------------------


def test_token_is_issued_for_the_configured_key_and_secret(client: httpx.Client) -> None:
    response = client.post("/oauth/token", auth=("local-key", "local-secret"), data=FORM)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "tokenType", "issuedAt", "expiresIn", "clientID", "org"}
    assert body["tokenType"] == "BearerToken"
    assert body["expiresIn"] == "35999"  # seconds, as a string (api §21.5)
    assert body["issuedAt"] == str(int(START * 1000))  # milliseconds since 1970, as a string
    assert body["clientID"] == "local-key"
    assert body["org"] == "pbload-local-org"
    assert len(body["access_token"]) >= 20


def test_token_answer_names_the_configured_org_and_lifetime() -> None:
    config = EmulatorConfig(org="acme-org", token_ttl_seconds=60)
    with http_client(create_app(config=config)) as client:
        body = client.post("/oauth/token", auth=("local-key", "local-secret"), data=FORM).json()

    assert (body["org"], body["expiresIn"]) == ("acme-org", "60")


def test_each_token_is_new(client: httpx.Client) -> None:
    assert fetch_token(client) != fetch_token(client)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Basic " + base64.b64encode(b"local-key:wrong").decode(),
        "Basic " + base64.b64encode(b"other:local-secret").decode(),
        "Basic not-base64!",
        "Bearer " + base64.b64encode(b"local-key:local-secret").decode(),
    ],
)
def test_token_refuses_bad_credentials(client: httpx.Client, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    response = client.post("/oauth/token", headers=headers, data=FORM)

    assert response.status_code == 401
    assert errors_of(response) == [("EMU-UNAUTHORIZED", ["Authorization"])]


def test_token_needs_a_form_body(client: httpx.Client) -> None:
    response = client.post("/oauth/token", auth=("local-key", "local-secret"), json=FORM)

    assert response.status_code == 400
    assert errors_of(response) == [("EMU-BAD-REQUEST", ["Content-Type"])]
    assert response.json()["errors"][0]["errorDescription"] == (
        "Content-Type must be application/x-www-form-urlencoded"
    )


@pytest.mark.parametrize(
    ("form", "code"), [({"scope": "all"}, "EMU-REQUIRED"), ({"grant_type": "password"}, "EMU-NOT-ALLOWED")]
)
def test_token_needs_grant_type_client_credentials(
    client: httpx.Client, form: dict[str, str], code: str
) -> None:
    response = client.post("/oauth/token", auth=("local-key", "local-secret"), data=form)

    assert response.status_code == 400
    assert errors_of(response) == [(code, ["grant_type"])]


# Bearer token -------------------------------------------------------------------------------------


@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer nonsense", "Basic abc"])
def test_a_missing_or_unknown_bearer_token_is_the_gateways_1002(
    client: httpx.Client, emulator: Emulator, authorization: str | None
) -> None:
    headers = {"X-PB-TransactionId": "t1", **({"Authorization": authorization} if authorization else {})}

    response = client.post(f"{FULFILLMENT}/v1/products", headers=headers, json=product())

    assert response.status_code == 401
    assert response.json() == INVALID_TOKEN  # bare, as PB's gateway answers (api §22.9)
    assert emulator.products() == []


def test_token_expires_after_its_ttl_with_the_gateways_1003(api: Api, clock: FakeClock) -> None:
    clock.advance(35998)
    assert api.get("NONE").status_code == 404

    clock.advance(1)
    response = api.get("NONE")

    assert (response.status_code, response.json()) == (401, EXPIRED_TOKEN)


def test_a_token_of_another_emulator_is_unknown(api: Api) -> None:
    with http_client(create_app()) as other:
        response = Api(other, api.token).get("NONE")

    assert (response.status_code, response.json()) == (401, INVALID_TOKEN)


def test_token_with_zero_ttl_is_expired_at_once() -> None:
    config = EmulatorConfig(token_ttl_seconds=0)
    with http_client(create_app(config=config)) as client:
        api = Api(client, fetch_token(client, config))

        response = api.get("NONE")

    assert (response.status_code, response.json()) == (401, EXPIRED_TOKEN)


def test_a_refused_token_spends_no_transaction_id(api: Api, clock: FakeClock) -> None:
    clock.advance(35999)
    assert api.call("POST", "/v1/products", json=product(), transaction_id="after-expiry").status_code == 401
    api.refresh()

    assert api.call("POST", "/v1/products", json=product(), transaction_id="after-expiry").status_code == 201


# X-PB-TransactionId -----------------------------------------------------------------------------


def test_transaction_id_is_required(api: Api) -> None:
    response = api.client.get(
        f"{FULFILLMENT}/v1/products/X",
        params={"clientId": CLIENT_ID},
        headers={"Authorization": f"Bearer {api.token}"},
    )

    assert response.status_code == 400
    assert errors_of(response) == [("EMU-TRANSACTION-ID", ["X-PB-TransactionId"])]


@pytest.mark.parametrize("transaction_id", ["x" * 26, "has space", "dot.ted", "slash/ed", "plus+sign", ""])
def test_transaction_id_must_be_25_safe_characters(api: Api, transaction_id: str) -> None:
    headers = {"X-PB-TransactionId": transaction_id}
    response = api.call("POST", "/v1/products", json=product(), headers=headers)

    assert response.status_code == 400
    assert errors_of(response) == [("EMU-TRANSACTION-ID", ["X-PB-TransactionId"])]
    assert api.get("SKU-1").status_code == 404


def test_transaction_id_of_25_allowed_characters_is_accepted_and_echoed(api: Api) -> None:
    transaction_id = "Az09_-" + "x" * 19

    response = api.call("POST", "/v1/products", json=product(), transaction_id=transaction_id)

    assert response.status_code == 201
    assert response.headers["X-PB-TransactionId"] == transaction_id


def test_transaction_id_cannot_be_reused(api: Api) -> None:
    assert api.call("POST", "/v1/products", json=product("A"), transaction_id="same").status_code == 201

    response = api.call("POST", "/v1/products", json=product("B"), transaction_id="same")

    assert response.status_code == 400
    assert errors_of(response) == [("EMU-TRANSACTION-ID", ["X-PB-TransactionId"])]
    assert api.get("B").status_code == 404


def test_transaction_id_is_spent_even_when_the_request_fails(api: Api) -> None:
    assert (
        api.call("POST", "/v1/products", json={"clientId": CLIENT_ID}, transaction_id="retry").status_code
        == 400
    )

    response = api.call("POST", "/v1/products", json=product(), transaction_id="retry")

    assert errors_of(response) == [("EMU-TRANSACTION-ID", ["X-PB-TransactionId"])]


# clientId ---------------------------------------------------------------------------------------


def test_another_client_id_in_the_body_is_forbidden(api: Api) -> None:
    response = api.create(product(clientId="someone-else"))

    assert response.status_code == 403
    assert errors_of(response) == [("EMU-FORBIDDEN", ["clientId"])]


def test_another_client_id_in_the_query_is_forbidden(api: Api) -> None:
    response = api.get("SKU-1", client_id="someone-else")

    assert response.status_code == 403
    assert errors_of(response) == [("EMU-FORBIDDEN", ["clientId"])]


def test_missing_client_id_is_a_bad_request(api: Api) -> None:
    body = product()
    del body["clientId"]

    assert errors_of(api.create(body)) == [("EMU-REQUIRED", ["clientId"])]
    assert errors_of(api.call("GET", "/v1/products/SKU-1")) == [("EMU-REQUIRED", ["clientId"])]
    assert errors_of(api.call("POST", "/v1/products/search", json={})) == [("EMU-REQUIRED", ["clientId"])]


# Strictness on every operation -------------------------------------------------------------------

SEARCH_PATHS = [
    "/v1/products/search",
    "/v1/orders/search",
    "/v1/orders/status/search",
    "/v1/receiving-asn/search",
    "/v1/receiving-asn/status/search",
    "/v1/inventory/snapshot",
    "/v1/shipments/search",
    "/v1/bill-of-materials/search",
    "/v1/bill-of-materials/search/",
    "/v1/work-orders/search",
    "/v1/work-orders/status/search",
    "/v1/returns/search",
]


@pytest.mark.parametrize("path", SEARCH_PATHS)
def test_search_bodies_take_client_id_sort_and_search_fields_only(api: Api, path: str) -> None:
    body = {"clientId": CLIENT_ID, "sort": [], "searchFields": [], "query": "x", "pageSize": 5}

    response = api.call("POST", path, json=body)

    assert response.status_code == 400
    assert errors_of(response) == [(UNKNOWN, ["query"]), (UNKNOWN, ["pageSize"])]
    assert response.json()["errors"][0]["additionalInfo"] == "Known fields: clientId, sort, searchFields"


@pytest.mark.parametrize("path", SEARCH_PATHS)
def test_search_fields_entries_take_name_and_values_only(api: Api, path: str) -> None:
    fields = [{"name": "sku", "values": ["A"], "operator": "eq"}]

    response = api.call("POST", path, json={"clientId": CLIENT_ID, "searchFields": fields})

    assert errors_of(response) == [(UNKNOWN, ["searchFields[0].operator"])]


@pytest.mark.parametrize("path", SEARCH_PATHS)
def test_an_empty_search_body_of_the_account_is_fine(api: Api, path: str) -> None:
    response = api.call("POST", path, json={"clientId": CLIENT_ID})

    assert response.status_code == 200, response.text
    assert response.json()["content"] == []


@pytest.mark.parametrize(
    ("path", "array"),
    [("/v1/products/bulk", "products"), ("/v1/orders/bulk", "orders"), ("/v1/returns/bulk", "returns")],
)
def test_bulk_envelopes_hold_their_array_only(api: Api, path: str, array: str) -> None:
    response = api.call("POST", path, json={array: [], "clientId": CLIENT_ID})

    assert response.status_code == 400
    assert errors_of(response) == [(UNKNOWN, ["clientId"])]


# Bodies and routing ----------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"{not json", b"[1, 2]", b'{"a": NaN}', b"\xff\xfe\x00"])
def test_body_must_be_a_json_object(api: Api, content: bytes) -> None:
    response = api.call("POST", "/v1/products", content=content, headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert errors_of(response)[0][1] == ["body"]


@pytest.mark.parametrize(
    "path",
    ["/nothing", f"{FULFILLMENT}/v1/unknown", f"{FULFILLMENT}/v2/products", f"{FULFILLMENT}/v1/products/a/b"],
)
def test_unknown_path_is_404(client: httpx.Client, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 404
    assert errors_of(response) == [("EMU-NOT-FOUND", [])]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/oauth/token"),
        ("GET", f"{FULFILLMENT}/v1/products"),
        ("DELETE", f"{FULFILLMENT}/v1/products/SKU-1"),
        ("GET", f"{FULFILLMENT}/v1/products/bulk"),
        ("PUT", f"{FULFILLMENT}/v1/products/search"),
    ],
)
def test_wrong_method_on_a_known_path_is_405(client: httpx.Client, method: str, path: str) -> None:
    response = client.request(method, path)

    assert response.status_code == 405
    assert errors_of(response) == [("EMU-METHOD-NOT-ALLOWED", [])]


def test_every_response_is_json(api: Api) -> None:
    for response in (api.create(product()), api.get("SKU-1"), api.client.get("/nothing")):
        assert response.headers["Content-Type"] == "application/json"
        assert response.json()


# State ------------------------------------------------------------------------------------------


def test_file_database_keeps_state_across_instances(tmp_path: Path) -> None:
    db_path = tmp_path / "nested" / "dir" / "emulator.db"
    first = create_app(db_path)
    with http_client(first) as client:
        api = Api(client, fetch_token(client))
        assert (
            api.call("POST", "/v1/products", json=product(), transaction_id="first-call").status_code == 201
        )
    first.close()

    second = create_app(db_path)
    with http_client(second) as client:
        api.client = client  # the token issued by the first instance is still good
        assert api.get("SKU-1").json()["sku"] == "SKU-1"
        reused = api.call(
            "GET", "/v1/products/SKU-1", params={"clientId": CLIENT_ID}, transaction_id="first-call"
        )
        assert errors_of(reused) == [("EMU-TRANSACTION-ID", ["X-PB-TransactionId"])]
    assert [p["sku"] for p in second.products()] == ["SKU-1"]
    second.close()
    assert sqlite3.connect(db_path).execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_reset_forgets_products_tokens_and_transaction_ids(api: Api, emulator: Emulator) -> None:
    api.call("POST", "/v1/products", json=product(), transaction_id="before-reset")

    emulator.reset()

    assert emulator.products() == []
    assert api.get("SKU-1").status_code == 401
    api.token = fetch_token(api.client)
    again = api.call(
        "GET", "/v1/products/SKU-1", params={"clientId": CLIENT_ID}, transaction_id="before-reset"
    )
    assert again.status_code == 404


def test_emulator_imports_nothing_else_from_loader() -> None:
    code = "import json, sys, loader.emulator; print(json.dumps([m for m in sys.modules if m.startswith('loader')]))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    modules = json.loads(result.stdout)
    assert [m for m in modules if m != "loader" and not m.startswith("loader.emulator")] == []


def test_readme_documents_every_error_code() -> None:
    readme = (Path(emulator_package.__file__).parent / "README.md").read_text(encoding="utf-8")

    assert [code for code in ALL_CODES + GATEWAY_CODES if f"`{code}`" not in readme] == []
