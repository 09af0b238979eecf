"""The emulator served over real HTTP on 127.0.0.1: keep-alive, concurrency, shutdown, `serve`."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from loader.emulator.server import EmulatorServer
from tests.faultsuite import ctrl_c_as_in_a_terminal

from .helpers import ADMIN_AUTH, CLIENT_ID, errors_of, fetch_token, product
from .serving import Served, served


@pytest.fixture
def http() -> Iterator[Served]:
    with served() as s:
        yield s


def test_token_and_products_bulk_over_http(http: Served) -> None:
    api = http.api()

    response = api.bulk(*(product(f"B-{i}", operation="CREATE") for i in range(3)))

    assert response.status_code == 200
    assert [item["status"] for item in response.json()["products"]] == ["PUBLISHED"] * 3
    assert response.headers["Content-Length"] == str(len(response.content))
    assert [record["sku"] for record in http.emulator.products()] == ["B-0", "B-1", "B-2"]


def test_url_names_the_picked_port(http: Served) -> None:
    assert http.server.port > 0
    assert http.server.url == f"http://127.0.0.1:{http.server.port}"


def test_connections_are_kept_alive(http: Served) -> None:
    api = http.api()

    ports = {_client_port(api.get("NONE")) for _ in range(5)}

    assert len(ports) == 1


def test_connection_close_is_honoured(http: Served) -> None:
    response = http.client.get("/emulator/admin/faults", headers={"Connection": "close"}, auth=ADMIN_AUTH)

    assert response.status_code == 200
    assert response.headers["Connection"] == "close"


def test_concurrent_requests_all_succeed(http: Served) -> None:
    api, workers = http.api(), 48
    start = threading.Barrier(workers)

    def create(n: int) -> int:
        start.wait(timeout=5)
        return api.create(product(f"C-{n}")).status_code

    with ThreadPoolExecutor(workers) as pool:
        statuses = list(pool.map(create, range(workers)))

    assert statuses == [201] * workers
    assert len(http.emulator.products()) == workers


def test_utf8_path_reaches_the_app_as_text(http: Served) -> None:
    api = http.api()
    api.create(product("Müg-1"))

    response = api.get("Müg-1")

    assert response.status_code == 200
    assert response.json()["sku"] == "Müg-1"


def test_chunked_request_body_is_read(http: Served) -> None:
    api = http.api()
    body = b'{"products": [{"clientId": "%s", "sku": "CH-1", "operation": "CREATE", "productType": "ITEM", '
    rest = b'"details": {"description": "Mug"}}]}'

    response = api.call("POST", "/v1/products/bulk", content=iter([body % CLIENT_ID.encode(), rest]))

    assert response.status_code == 200, response.text
    assert [record["sku"] for record in http.emulator.products()] == ["CH-1"]


def test_a_crashing_app_answers_500_and_keeps_serving() -> None:
    calls = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        calls.append(environ["PATH_INFO"])
        if len(calls) == 1:
            raise RuntimeError("boom")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"fine"]

    with EmulatorServer(app) as server, httpx.Client(base_url=server.url) as client:
        failed, fine = client.get("/a"), client.get("/b")

    assert failed.status_code == 500
    assert errors_of(failed) == [("EMU-INTERNAL", [])]
    assert (fine.status_code, fine.text, fine.headers["Content-Length"]) == (200, "fine", "4")


def test_a_dropped_connection_ends_without_a_byte_and_the_server_goes_on() -> None:
    with served() as s:
        s.set_faults(drop_rate=1)
        with socket.create_connection((s.server.host, s.server.port), timeout=5) as raw:
            raw.sendall(
                b"GET /shippingservices/fulfillment/v1/products/X HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            )
            answer = raw.recv(1024)
        s.set_faults()

        assert answer == b""
        assert fetch_token(s.client)  # a new connection is served as usual


def test_a_body_over_the_limit_is_refused_with_413(http: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    api = http.api()
    monkeypatch.setattr("loader.emulator.server.MAX_BODY_BYTES", 100)

    response = api.call(
        "POST", "/v1/products/bulk", json={"products": [product(f"BIG-{n}") for n in range(3)]}
    )

    assert response.status_code == 413
    assert errors_of(response) == [("EMU-BAD-REQUEST", [])]
    assert response.headers["Connection"] == "close"


def test_stop_closes_kept_alive_connections() -> None:
    with served() as s:
        fetch_token(s.client)
        s.server.stop()

        with pytest.raises(httpx.TransportError):
            fetch_token(s.client)


def test_serve_prints_how_to_reach_it_and_stops_cleanly_on_ctrl_c() -> None:
    code = "from loader.emulator.server import serve; serve(port=0)"
    process = subprocess.Popen(
        [sys.executable, "-u", "-c", code],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=ctrl_c_as_in_a_terminal,
    )
    assert process.stdout is not None
    lines = [process.stdout.readline().rstrip("\n") for _ in range(6)]
    url = lines[0].rsplit(" ", 1)[1]
    try:
        with httpx.Client(base_url=url) as client:
            token_status = client.post(
                "/oauth/token", auth=("local-key", "local-secret"), data={"grant_type": "client_credentials"}
            ).status_code
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)  # a bound for a stuck process, not a timing

    assert token_status == 200
    assert lines == [
        f"Fulfillment API emulator listening on {url}",
        "State: in memory (lost when stopped)",
        f"Faults: none (change them with PUT {url}/emulator/admin/faults, as Basic auth the API key and "
        "secret below)",
        "Client ID: pbload-local  API key: local-key  API secret: local-secret",
        (
            "Try: PB_CLIENT_ID=pbload-local PB_API_KEY=local-key PB_API_SECRET=local-secret "
            f"pbload load FILE --env local --base-url {url}"
        ),
        "Press Ctrl+C to stop.",
    ]
    assert (rest, process.returncode) == ("Emulator stopped.\n", 0)


def _client_port(response: httpx.Response) -> int:
    return int(response.extensions["network_stream"].get_extra_info("client_addr")[1])
