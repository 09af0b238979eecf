"""`pbload emulator advance` and `pbload emulator serve`, as a person uses them."""

from __future__ import annotations

import queue
import shutil
import subprocess
import sys
import threading
from typing import IO

import httpx

from loader.emulator import create_app
from loader.emulator.server import EmulatorServer
from tests.helpers import SAMPLES


def test_advance_on_the_local_state_ships_an_order(cli, tmp_path, local_emulator):
    shutil.copy(SAMPLES / "all-in-one.xlsx", tmp_path / "all.xlsx")
    assert cli("load", tmp_path / "all.xlsx").exit_code == 0
    result = cli("emulator", "advance", "order", "SO-100231", "shipped")
    assert (result.exit_code, result.output) == (0, "order SO-100231 is now SHIPPED.\n")
    [shipment] = local_emulator().shipments()
    assert shipment["clientOrderId"] == "SO-100231" and shipment["trackingNumber"].startswith("1Z")
    back = cli("emulator", "advance", "order", "SO-100231", "CREATED")
    assert back.exit_code == 2
    assert "SHIPPED and cannot move to CREATED" in back.output


def test_advance_over_http(cli):
    emulator = create_app(None)
    with EmulatorServer(emulator) as server:
        missing = cli("emulator", "advance", "asn", "ASN-404", "RECEIVED", "--base-url", server.url)
    assert missing.exit_code == 2
    assert missing.output == "Error: No ASN ASN-404 exists\n"


def test_advance_over_http_with_other_credentials_is_refused(cli):
    emulator = create_app(None)
    with EmulatorServer(emulator) as server:
        refused = cli(
            "emulator",
            "advance",
            "asn",
            "ASN-404",
            "RECEIVED",
            "--base-url",
            server.url,
            env={"PB_CLIENT_ID": "pbload-local", "PB_API_KEY": "local-key", "PB_API_SECRET": "guess"},
        )
    assert refused.exit_code == 2
    assert refused.output == (
        f"Error: The emulator at {server.url} refused the API key and secret. Set PB_API_KEY "
        "and PB_API_SECRET to the ones `pbload emulator serve` printed.\n"
    )


def _lines(stream: IO[str], count: int, timeout: float = 30) -> list[str]:
    """The first `count` lines of a child's output, or a failure after `timeout` seconds (never a hang)."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(stream.readline()) for _ in range(count)], daemon=True).start()
    return [lines.get(timeout=timeout) for _ in range(count)]


def test_serve_on_every_interface_warns_that_it_has_no_real_security():
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loader",
            "emulator",
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            "0",
            "--db",
            ":memory:",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        [warning] = _lines(process.stderr, 1)
        [listening] = _lines(process.stdout, 1)
        port = listening.strip().rsplit(":", 1)[1]
        anonymous = httpx.get(f"http://127.0.0.1:{port}/emulator/admin/faults", timeout=10)
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
        process.stderr.close()
    assert warning == (
        "Warning: listening on 0.0.0.0, so other machines can reach the emulator. It has no real "
        "security: its credentials are printed below and anyone who can reach it can read and "
        "change its data. Use --host 127.0.0.1 unless that is what you want.\n"
    )
    assert listening == f"Fulfillment API emulator listening on http://0.0.0.0:{port}\n"
    assert anonymous.status_code == 401


def test_serve_prints_where_it_listens_and_the_credentials():
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loader",
            "emulator",
            "serve",
            "--port",
            "0",
            "--db",
            ":memory:",
            "--seed",
            "3",
            "--fail-rate",
            "0.1",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [process.stdout.readline() for _ in range(6)]
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
    assert lines[0].startswith("Fulfillment API emulator listening on http://127.0.0.1:")
    assert lines[2].startswith("Faults: seed=3, error_rate=0.1")
    assert lines[3] == "Client ID: pbload-local  API key: local-key  API secret: local-secret\n"


def test_fault_rates_beyond_one_are_refused(cli):
    result = cli("emulator", "serve", "--fail-rate", "0.7", "--throttle-rate", "0.5")
    assert result.exit_code == 2
    assert "the fault rates add up to more than 1" in result.output
