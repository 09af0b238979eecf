"""Bad settings stop a run before it starts, where the user meets them: exit 2, one message, nothing sent.

"Nothing sent" is shown by what the run leaves behind: no "Environment ..." line (printed just before a run
starts), no result workbook, no run in the journal, and no connection at a port the mail would go to.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import SAMPLES

CHUNK = "must be a whole number from 1 to 200 (Pitney Bowes takes at most 200 items in one bulk call)"
URL_RULE = (
    "must be an http:// or https:// address with a host, like https://shipping-api-sandbox.pitneybowes.com"
)
BOOLEAN_RULE = "must be one of true, false, yes, no, 1 or 0"


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    return Path(shutil.copy(SAMPLES / "products.xlsx", tmp_path / "products.xlsx"))


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A port on 127.0.0.1 that listens and is never answered: a connection to it waits in its backlog."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        sock.setblocking(False)
        yield sock


def connections(sock: socket.socket) -> int:
    count = 0
    while True:
        try:
            sock.accept()[0].close()
        except BlockingIOError:
            return count
        count += 1


def assert_refused_before_the_run(cli, result, message: str, workbook: Path) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""  # not even the "Environment ..." line that starts a run
    assert result.stderr == f"Error: {message}\n"
    assert not workbook.with_name("products.result.xlsx").exists()
    assert cli("runs").stdout == "No runs yet.\n"


@pytest.mark.parametrize("command", ["validate", "load"])
def test_strict_maybe_is_refused(cli, workbook, command):
    result = cli(command, workbook, env={"PBLOAD_STRICT": "maybe"})
    assert_refused_before_the_run(cli, result, f"PBLOAD_STRICT {BOOLEAN_RULE}, not 'maybe'.", workbook)


@pytest.mark.parametrize("size", ["0", "201", "500", "ten"])
def test_a_chunk_size_past_the_bulk_limit_is_refused(cli, workbook, size):
    result = (
        cli("load", workbook, "--chunk-size", size)
        if size != "ten"
        else cli("load", workbook, env={"PBLOAD_CHUNK_SIZE": size})
    )
    where = "PBLOAD_CHUNK_SIZE" if size == "ten" else "--chunk-size"
    assert_refused_before_the_run(cli, result, f"{where} {CHUNK}, not '{size}'.", workbook)


def test_the_bulk_limit_itself_is_taken(cli, workbook):
    assert cli("load", workbook, "--chunk-size", "200").exit_code == 0


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--concurrency", "0", "--concurrency must be a whole number from 1 to 64, not '0'."),
        (
            "--max-rps",
            "0",
            "--max-rps must be a number of requests per second above 0 and at most 1000000, not '0'.",
        ),
    ],
)
def test_other_numbers_past_their_bounds_are_refused(cli, workbook, option, value, message):
    assert_refused_before_the_run(cli, cli("load", workbook, option, value), message, workbook)


@pytest.mark.parametrize("url", ["notaurl", "ftp://127.0.0.1:{port}", "http://", "http://:{port}"])
def test_a_base_url_that_is_not_http_with_a_host_stops_at_once(cli, workbook, listener, url):
    url = url.format(port=listener.getsockname()[1])
    result = cli("load", workbook, "--env", "local", "--base-url", url)
    assert_refused_before_the_run(cli, result, f"--base-url {URL_RULE}, not '{url}'.", workbook)
    assert "attempts" not in result.output  # not taken for a network fault and retried
    assert connections(listener) == 0


def test_a_base_url_from_the_environment_is_named_so(cli, workbook):
    result = cli("load", workbook, env={"PBLOAD_BASE_URL": "ftp://x"})
    assert_refused_before_the_run(cli, result, f"PBLOAD_BASE_URL {URL_RULE}, not 'ftp://x'.", workbook)


def mail_to(port: int, **extra: str) -> dict[str, str]:
    return {
        "PBLOAD_SMTP_HOST": "127.0.0.1",
        "PBLOAD_SMTP_PORT": str(port),
        "PBLOAD_SMTP_TLS": "none",
        "PBLOAD_SMTP_USER": "",
        "PBLOAD_SMTP_PASSWORD": "",
        **extra,
    }


@pytest.mark.parametrize("command", ["validate", "load"])
def test_a_sender_that_is_not_an_address_stops_the_run_before_it_starts(cli, workbook, listener, command):
    env = mail_to(listener.getsockname()[1], PBLOAD_MAIL_FROM="bad")
    result = cli(command, workbook, "--email-to", "ops@example.com", env=env)
    message = "PBLOAD_MAIL_FROM must be an e-mail address such as pbload@example.com, not 'bad'."
    assert_refused_before_the_run(cli, result, message, workbook)
    assert connections(listener) == 0


def test_pbload_email_refuses_a_bad_sender_without_connecting(cli, workbook, listener):
    assert cli("validate", workbook).exit_code == 0
    result_path = workbook.with_name("products.result.xlsx")
    env = mail_to(listener.getsockname()[1], PBLOAD_MAIL_FROM="pbload@vm")
    result = cli("email", result_path, "--to", "ops@example.com", env=env)
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: PBLOAD_MAIL_FROM must be an e-mail address such as pbload@example.com, not 'pbload@vm'.\n"
    )
    assert connections(listener) == 0


def test_without_a_full_machine_name_the_run_asks_for_a_sender(cli, workbook, listener, monkeypatch):
    monkeypatch.setattr(socket, "getfqdn", lambda *args: "vm")  # a machine without a domain, as many VMs are
    result = cli(
        "load",
        workbook,
        "--email-to",
        "ops@example.com",
        env=mail_to(listener.getsockname()[1], PBLOAD_MAIL_FROM=""),
    )
    assert_refused_before_the_run(
        cli,
        result,
        (
            "The e-mail needs a sender, and this machine's name (vm) is not a full domain name. Set PBLOAD_MAIL_FROM "
            "(or from under [smtp] in pbload.toml) to the address it should come from."
        ),
        workbook,
    )
    assert connections(listener) == 0
    assert cli("load", workbook).exit_code == 0  # without --email-to no sender is needed
