"""Seeded faults over real HTTP: errors, throttling, drops, lost responses, token expiry, rate limits."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from loader.emulator import create_app
from loader.emulator.faults import DropConnection, FaultInjector, Faults

from .helpers import ADMIN_AUTH, errors_of, fetch_token, http_client, product
from .serving import served

TRANSPORT_ERRORS = (httpx.RemoteProtocolError, httpx.ReadError)
SPIKE_ARREST = {"errorCode": "PB-APIM-ERR-1006", "errorDescription": "Spike arrest violation"}


def _statuses(faults: Faults, requests: int) -> list[int]:
    with served() as s:
        api = s.api()
        s.injector.faults = faults
        return [api.get("NONE").status_code for _ in range(requests)]


# Errors and throttling --------------------------------------------------------------------------


def test_seeded_errors_are_reproducible() -> None:
    faults = Faults(seed=7, error_rate=0.6)

    first, second = _statuses(faults, 30), _statuses(faults, 30)

    assert first == second
    assert set(first) == {404, 500, 503}  # 404: passed through to the app, which has no such product
    assert _statuses(Faults(seed=8, error_rate=0.6), 30) != first


def test_errors_use_the_standard_body_and_change_nothing() -> None:
    with served() as s:
        api = s.api()
        s.injector.faults = Faults(seed=1, error_rate=1)

        responses = [api.create(product(f"E-{n}")) for n in range(6)]

        assert {r.status_code for r in responses} == {500, 503}
        codes = {r.status_code: errors_of(r) for r in responses}
        assert codes == {500: [("EMU-INTERNAL", [])], 503: [("EMU-UNAVAILABLE", [])]}
        assert s.emulator.products() == []
        assert s.injector.counts["error"] == 6


def test_throttle_answers_the_gateways_bare_429_with_retry_after_and_changes_nothing() -> None:
    with served(Faults(throttle_rate=1, retry_after_s=2)) as s:
        api = s.api()

        response = api.create(product())

        assert response.status_code == 429
        assert response.headers["Retry-After"] == "2"
        assert response.json() == SPIKE_ARREST  # no "errors" wrapper (api §21.4, §22.9)
        assert s.emulator.products() == []
        assert s.injector.counts["throttle"] == 1


# Connections dropped ----------------------------------------------------------------------------


def test_dropped_connection_is_a_transport_error_and_changes_nothing() -> None:
    with served() as s:
        api = s.api()
        s.injector.faults = Faults(drop_rate=1)

        with pytest.raises(TRANSPORT_ERRORS):
            api.call("POST", "/v1/products", json=product(), transaction_id="drop-1")

        assert s.emulator.products() == []
        s.injector.faults = Faults()
        retried = api.call("POST", "/v1/products", json=product(), transaction_id="drop-1")
        assert retried.status_code == 201  # the transaction ID was not spent
        assert s.injector.counts["drop"] == 1


def test_response_lost_after_commit_is_a_transport_error_but_the_product_is_stored() -> None:
    with served(Faults(lost_after_commit_rate=1)) as s:
        api = s.api()

        with pytest.raises(TRANSPORT_ERRORS):
            api.create(product("LOST-1"))

        assert [record["sku"] for record in s.emulator.products()] == ["LOST-1"]
        assert s.injector.counts["lost_after_commit"] == 1


def test_in_process_a_drop_reaches_the_caller_as_drop_connection() -> None:
    emulator = create_app()
    with http_client(FaultInjector(emulator, Faults(drop_rate=1))) as client:  # type: ignore[arg-type]
        token = fetch_token(client)
        with pytest.raises(DropConnection):
            client.get(
                "/shippingservices/fulfillment/v1/products/X", headers={"Authorization": f"Bearer {token}"}
            )
    emulator.close()


# Token lifetime ---------------------------------------------------------------------------------


def test_tokens_expire_after_the_fault_ttl() -> None:
    with served(Faults(token_ttl_s=5)) as s:
        api = s.api()
        assert api.get("NONE").status_code == 404

        s.clock.advance(5)

        response = api.get("NONE")
        assert response.status_code == 401
        assert response.json() == {
            "errorCode": "PB-APIM-ERR-1003",
            "errorDescription": "Access Token Expired",
        }


def test_token_ttl_shows_in_expires_in_and_is_restored() -> None:
    with served(Faults(token_ttl_s=5)) as s:
        expires = _token(s.client).json()["expiresIn"]
        s.set_faults()

        assert (expires, _token(s.client).json()["expiresIn"]) == ("5", "35999")


def test_token_ttl_needs_the_emulator_itself() -> None:
    with pytest.raises(ValueError, match="token_ttl_s"):
        FaultInjector(lambda environ, start_response: [], Faults(token_ttl_s=1))


# Rate limit per operation -----------------------------------------------------------------------


def test_rate_limit_applies_per_operation_within_one_second() -> None:
    with served(Faults(rate_limit_per_s=3)) as s:
        api = s.api()

        bulks = [api.bulk(product(f"R-{n}", operation="CREATE")) for n in range(4)]
        other = api.get("R-0")
        s.fault_clock.advance(1)
        later = api.bulk(product("R-9", operation="CREATE"))

        assert [r.status_code for r in bulks] == [200, 200, 200, 429]
        assert bulks[3].headers["Retry-After"] == "1"
        assert bulks[3].json() == SPIKE_ARREST
        assert other.status_code == 200  # GET /v1/products/{sku} has its own budget
        assert later.status_code == 200
        assert [record["sku"] for record in s.emulator.products()] == ["R-0", "R-1", "R-2", "R-9"]
        assert s.injector.counts["rate_limited"] == 1


def test_rate_limit_groups_paths_by_route_template() -> None:
    with served(Faults(rate_limit_per_s=2)) as s:
        api = s.api()

        statuses = [api.get(f"SKU-{n}").status_code for n in range(3)]

        assert statuses == [404, 404, 429]


# Latency ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("latency_ms", [60, (40, 50)])
def test_latency_delays_the_answer(latency_ms: Any) -> None:
    with served() as s:
        api = s.api()
        s.injector.faults = Faults(latency_ms=latency_ms)
        slept: list[float] = []
        s.injector.sleep = slept.append  # the delay asked for, not a clock read

        api.get("NONE")

        low, high = (latency_ms, latency_ms) if isinstance(latency_ms, int) else latency_ms
        assert len(slept) == 1 and low / 1000 <= slept[0] <= high / 1000
        assert s.injector.counts["latency"] == 1


# Scope and the admin route ----------------------------------------------------------------------


def test_token_endpoint_is_faulted_only_when_asked() -> None:
    with served(Faults(seed=3, error_rate=1)) as s:
        assert _token(s.client).status_code == 200
        s.set_faults(seed=3, error_rate=1, include_token=True)
        assert _token(s.client).status_code in (500, 503)


def test_admin_route_shows_and_replaces_faults_and_is_never_faulted() -> None:
    with served(Faults(drop_rate=0.5, error_rate=0.5, latency_ms=500)) as s:
        slept: list[float] = []
        s.injector.sleep = slept.append
        shown = s.client.get("/emulator/admin/faults", auth=ADMIN_AUTH)
        body = {"seed": 9, "latency_ms": [1, 2], "throttle_rate": 0.25}
        replaced = s.client.put("/emulator/admin/faults", json=body, auth=ADMIN_AUTH)
        assert slept == []  # no latency: the admin route is never faulted

        assert shown.status_code == 200
        assert shown.json()["faults"]["drop_rate"] == 0.5
        assert shown.json()["counts"] == dict.fromkeys(
            ("requests", "latency", "error", "throttle", "drop", "lost_after_commit", "rate_limited"), 0
        )
        assert replaced.status_code == 200
        assert replaced.json()["faults"] == Faults(seed=9, latency_ms=(1, 2), throttle_rate=0.25).to_dict()
        assert s.injector.faults == Faults(seed=9, latency_ms=(1, 2), throttle_rate=0.25)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"error_rate": 2}, "error_rate must be between 0 and 1"),
        ({"error_rate": 0.6, "drop_rate": 0.6}, "must add up to 1 at most"),
        ({"latency_ms": [5, 1]}, "latency_ms must be"),
        ({"seed": "x"}, "seed has the wrong type"),
        ({"nonsense": 1}, "Unknown fault setting nonsense"),
    ],
)
def test_admin_route_rejects_bad_faults_and_keeps_the_old_ones(body: dict[str, Any], message: str) -> None:
    with served(Faults(seed=1)) as s:
        response = s.client.put("/emulator/admin/faults", json=body, auth=ADMIN_AUTH)

        assert response.status_code == 400
        assert message in response.json()["errors"][0]["errorDescription"]
        assert s.injector.faults == Faults(seed=1)


def test_admin_route_refuses_other_methods() -> None:
    with served() as s:
        response = s.client.delete("/emulator/admin/faults", auth=ADMIN_AUTH)

        assert response.status_code == 405
        assert errors_of(response) == [("EMU-METHOD-NOT-ALLOWED", [])]


def test_faults_round_trip_through_json() -> None:
    faults = Faults(seed=4, latency_ms=(1.5, 3), error_rate=0.1, token_ttl_s=2, rate_limit_per_s=100)

    assert Faults.from_dict(faults.to_dict()) == faults
    assert (
        faults.describe()
        == "seed=4, latency_ms=[1.5, 3], error_rate=0.1, token_ttl_s=2, rate_limit_per_s=100"
    )
    assert Faults().describe() == "none"


def _token(client: httpx.Client) -> httpx.Response:
    return client.post(
        "/oauth/token", auth=("local-key", "local-secret"), data={"grant_type": "client_credentials"}
    )
