"""Settings come from flags, then the environment, then pbload.toml, then defaults."""

from __future__ import annotations

import shutil
import socket

import pytest

from loader.errors import SettingsError
from loader.resources.products import MAX_BULK_ITEMS
from loader.settings import MAX_CHUNK_SIZE, SMTP_ENV, load_settings, load_smtp_settings
from tests.helpers import SAMPLES

CREDS = {"PB_CLIENT_ID": "client-7", "PB_API_KEY": "key", "PB_API_SECRET": "secret"}


def test_no_credentials_means_the_builtin_emulator(tmp_path):
    s = load_settings({}, environ={}, cwd=tmp_path)
    assert (s.env, s.base_url, s.client_id) == ("local", None, "pbload-local")
    assert s.uses_builtin_emulator


def test_credentials_default_to_sandbox(tmp_path):
    s = load_settings({}, environ=CREDS, cwd=tmp_path)
    assert (s.env, s.base_url, s.client_id) == (
        "sandbox",
        "https://shipping-api-sandbox.pitneybowes.com",
        "client-7",
    )


def test_production_needs_asking_for(tmp_path):
    s = load_settings({"env": "production"}, environ=CREDS, cwd=tmp_path)
    assert s.base_url == "https://shipping-api.pitneybowes.com"


def test_flag_beats_environment_beats_file(tmp_path):
    (tmp_path / "pbload.toml").write_text("[pbload]\nchunk_size = 50\nconcurrency = 2\n")
    s = load_settings({"chunk_size": 10}, environ={"PBLOAD_CONCURRENCY": "3"}, cwd=tmp_path)
    assert (s.chunk_size, s.concurrency) == (10, 3)
    s = load_settings({}, environ={}, cwd=tmp_path)
    assert (s.chunk_size, s.concurrency) == (50, 2)


def test_credentials_are_refused_in_the_file(tmp_path):
    (tmp_path / "pbload.toml").write_text('api_secret = "oops"\n')
    with pytest.raises(
        SettingsError, match="unknown settings: api_secret.*Credentials go in the environment"
    ):
        load_settings({}, environ={}, cwd=tmp_path)


def test_an_unknown_environment_is_named_with_the_known_ones(tmp_path):
    with pytest.raises(SettingsError) as refused:
        load_settings({}, environ={"PBLOAD_ENV": "staging"}, cwd=tmp_path)
    assert str(refused.value) == "PBLOAD_ENV must be one of local, sandbox, production, not 'staging'."


def test_local_against_a_served_emulator_uses_given_credentials(tmp_path):
    s = load_settings({"env": "local", "base_url": "http://127.0.0.1:8790"}, environ=CREDS, cwd=tmp_path)
    assert (s.base_url, s.client_id, s.api_key) == ("http://127.0.0.1:8790", "client-7", "key")
    s = load_settings({"env": "local"}, environ=CREDS, cwd=tmp_path)
    assert s.client_id == "pbload-local"  # the in-process emulator knows only its own account


BARE = "http://127.0.0.1:8790/root"
WITH_SECRET = "http://clerk:pw-9f3k2@127.0.0.1:8790/root"
REFUSED = (
    "The base URL carries a user name or password (user:secret@), which pbload never sends. Give it as "
    f"{BARE} (in --base-url, PBLOAD_BASE_URL or pbload.toml), and the API key and secret in PB_API_KEY "
    "and PB_API_SECRET."
)


@pytest.mark.parametrize("where", ["flag", "environment", "pbload.toml"])
def test_a_base_url_with_credentials_is_refused_without_showing_them(tmp_path, where):
    flags = {"base_url": WITH_SECRET} if where == "flag" else {}
    environ = {"PBLOAD_BASE_URL": WITH_SECRET} if where == "environment" else {}
    if where == "pbload.toml":
        (tmp_path / "pbload.toml").write_text(f'base_url = "{WITH_SECRET}"\n')
    with pytest.raises(SettingsError) as refused:
        load_settings(flags, environ=environ, cwd=tmp_path)
    assert str(refused.value) == REFUSED


def test_a_user_name_alone_is_refused_too(tmp_path):
    with pytest.raises(SettingsError, match="carries a user name or password"):
        load_settings(
            {"base_url": "https://clerk@shipping-api-sandbox.pitneybowes.com"}, environ=CREDS, cwd=tmp_path
        )


def test_a_plain_base_url_is_kept_as_given(tmp_path):
    assert load_settings({"base_url": BARE}, environ={}, cwd=tmp_path).base_url == BARE


@pytest.mark.parametrize("debug", [[], ["--debug"]])
def test_a_base_url_with_credentials_never_reaches_the_output_nor_the_journal(
    cli, state_dir, tmp_path, debug
):
    shutil.copy(SAMPLES / "products.xlsx", tmp_path / "products.xlsx")
    assert cli("load", "products.xlsx").exit_code == 0  # a run in the journal, against the built-in emulator
    result = cli(*debug, "load", "products.xlsx", "--env", "local", "--base-url", WITH_SECRET)
    resumed = cli(*debug, "resume", env={"PBLOAD_BASE_URL": WITH_SECRET})
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"Error: {REFUSED}"
    for shown in (result.output, result.stderr, resumed.output, resumed.stderr):
        assert "pw-9f3k2" not in shown
    kept = [path.read_bytes() for path in state_dir.rglob("*") if path.is_file()]
    assert kept and not any(b"pw-9f3k2" in data or b"clerk" in data for data in kept)


# --- every setting is checked, past each bound (issue 13, item 5) --------------------------------------


def refusal(flags=None, environ=None, cwd=None) -> str:
    with pytest.raises(SettingsError) as refused:
        load_settings(flags or {}, environ=environ or {}, cwd=cwd)
    return str(refused.value)


CHUNK = "must be a whole number from 1 to 200 (Pitney Bowes takes at most 200 items in one bulk call)"


def test_the_chunk_size_bound_is_the_apis_bulk_limit():
    assert MAX_CHUNK_SIZE == MAX_BULK_ITEMS == 200  # the messages here spell the number out


@pytest.mark.parametrize("size", [1, 200, "200", " 7 "])
def test_chunk_sizes_up_to_the_bulk_limit_are_taken(tmp_path, size):
    assert load_settings({"chunk_size": size}, environ={}, cwd=tmp_path).chunk_size == int(size)


@pytest.mark.parametrize("size", [0, 201, -1, "abc", "50.5", 50.5, "", True])
def test_chunk_sizes_past_the_bounds_are_refused(tmp_path, size):
    assert refusal({"chunk_size": size}, cwd=tmp_path) == f"--chunk-size {CHUNK}, not '{size}'."


def test_a_refusal_names_where_the_value_came_from(tmp_path):
    assert (
        refusal(environ={"PBLOAD_CHUNK_SIZE": "500"}, cwd=tmp_path)
        == f"PBLOAD_CHUNK_SIZE {CHUNK}, not '500'."
    )
    (tmp_path / "pbload.toml").write_text("chunk_size = 50.5\n")
    assert refusal(cwd=tmp_path) == f"chunk_size in {tmp_path / 'pbload.toml'} {CHUNK}, not '50.5'."


@pytest.mark.parametrize(
    ("name", "good", "bad", "allowed"),
    [
        ("concurrency", 64, 65, "a whole number from 1 to 64"),
        ("max_attempts", 20, 21, "a whole number from 1 to 20"),
    ],
)
def test_whole_numbers_past_their_bounds(tmp_path, name, good, bad, allowed):
    assert getattr(load_settings({name: good}, environ={}, cwd=tmp_path), name) == good
    variable = f"PBLOAD_{name.upper()}"
    for value in (str(bad), "0", "two"):
        assert (
            refusal(environ={variable: value}, cwd=tmp_path)
            == f"{variable} must be {allowed}, not '{value}'."
        )


@pytest.mark.parametrize(
    ("name", "good", "bad", "allowed"),
    [
        ("max_rps", 1_000_000, 1_000_000.5, "a number of requests per second above 0 and at most 1000000"),
        ("retry_deadline", 3600, 3600.5, "a number of seconds above 0 and at most 3600"),
        ("connect_timeout", 600, 600.5, "a number of seconds above 0 and at most 600"),
        ("read_timeout", 0.5, 601, "a number of seconds above 0 and at most 600"),
    ],
)
def test_numbers_past_their_bounds(tmp_path, name, good, bad, allowed):
    assert getattr(load_settings({name: str(good)}, environ={}, cwd=tmp_path), name) == good
    flag = f"--{name.replace('_', '-')}"
    for value in (bad, 0.0, -1, "nan", "inf", "fast"):
        shown = "0" if value == 0.0 else value
        assert refusal({name: value}, cwd=tmp_path) == f"{flag} must be {allowed}, not '{shown}'."


@pytest.mark.parametrize(
    ("given", "strict"),
    [
        ("true", True),
        ("TRUE", True),
        (" Yes ", True),
        ("1", True),
        ("false", False),
        ("No", False),
        (" 0", False),
    ],
)
def test_booleans_in_words_or_digits(tmp_path, given, strict):
    assert load_settings({}, environ={"PBLOAD_STRICT": given}, cwd=tmp_path).strict is strict


@pytest.mark.parametrize("given", ["maybe", "on", "off", "y", "2", "truee"])
def test_any_other_boolean_is_refused_not_taken_as_false(tmp_path, given):
    assert refusal(environ={"PBLOAD_STRICT": given}, cwd=tmp_path) == (
        f"PBLOAD_STRICT must be one of true, false, yes, no, 1 or 0, not '{given}'."
    )


def test_booleans_in_pbload_toml(tmp_path):
    (tmp_path / "pbload.toml").write_text("strict = true\n")
    assert load_settings({}, environ={}, cwd=tmp_path).strict is True
    (tmp_path / "pbload.toml").write_text('strict = "maybe"\n')
    assert refusal(cwd=tmp_path) == (
        f"strict in {tmp_path / 'pbload.toml'} must be one of true, false, yes, no, 1 or 0, not 'maybe'."
    )
    assert load_settings({"strict": False}, environ={}, cwd=tmp_path).strict is False  # the flag wins


URL_RULE = (
    "must be an http:// or https:// address with a host, like https://shipping-api-sandbox.pitneybowes.com"
)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8790", "https://api.example.com/root", "HTTPS://API.EXAMPLE.COM"]
)
def test_http_and_https_base_urls_with_a_host_are_taken(tmp_path, url):
    assert load_settings({"base_url": url}, environ=CREDS, cwd=tmp_path).base_url == url


@pytest.mark.parametrize(
    "url",
    ["notaurl", "ftp://x", "http://", "https://:8790", "http://host:99999", "file:///etc", "127.0.0.1:8790"],
)
def test_other_base_urls_are_refused(tmp_path, url):
    assert refusal({"base_url": url}, environ=CREDS, cwd=tmp_path) == f"--base-url {URL_RULE}, not '{url}'."
    environ = {**CREDS, "PBLOAD_BASE_URL": url}
    assert refusal(environ=environ, cwd=tmp_path) == f"PBLOAD_BASE_URL {URL_RULE}, not '{url}'."


# --- the e-mail sender -----------------------------------------------------------------------------------

SMTP_HOST = {"PBLOAD_SMTP_HOST": "mail.example.com"}


@pytest.fixture
def machine_named(monkeypatch: pytest.MonkeyPatch):
    """Give this machine a fully qualified name (the one input pbload takes from the system here)."""
    return lambda name: monkeypatch.setattr(socket, "getfqdn", lambda *args: name)


@pytest.mark.parametrize(
    "sender", ["pbload@example.com", "Ops Desk <ops@mail.example.com>", '"Smith, J" <j@x.co.uk>']
)
def test_a_sender_address_is_taken(tmp_path, sender):
    assert load_smtp_settings({**SMTP_HOST, "PBLOAD_MAIL_FROM": sender}, cwd=tmp_path).mail_from == sender


@pytest.mark.parametrize(
    "sender",
    [
        "bad",
        "pbload@vm",
        "@example.com",
        "pbload@example.",
        "a b@example.com",
        "a@example.com, b@example.com",
        "pbload@localhost.localdomain",
        "pbload@10.0.0.1",
    ],
)
def test_anything_else_as_sender_is_refused(tmp_path, sender):
    with pytest.raises(SettingsError) as refused:
        load_smtp_settings(
            {"PBLOAD_MAIL_FROM": sender}, cwd=tmp_path
        )  # refused with or without a mail server
    assert str(refused.value) == (
        f"PBLOAD_MAIL_FROM must be an e-mail address such as pbload@example.com, not '{sender}'."
    )


def test_a_bad_sender_in_pbload_toml_is_named_there(tmp_path):
    (tmp_path / "pbload.toml").write_text('[smtp]\nhost = "mail.example.com"\nfrom = "ops"\n')
    with pytest.raises(SettingsError) as refused:
        load_smtp_settings({}, cwd=tmp_path)
    assert str(refused.value) == (
        f"from under [smtp] in {tmp_path / 'pbload.toml'} must be an e-mail address such as pbload@example.com, "
        "not 'ops'."
    )


def test_the_default_sender_is_the_machines_full_name(tmp_path, machine_named):
    machine_named("build7.example.com")
    assert load_smtp_settings(SMTP_HOST, cwd=tmp_path).mail_from == "pbload@build7.example.com"
    assert load_smtp_settings(
        {**SMTP_HOST, "PBLOAD_SMTP_USER": "clerk@example.com"}, cwd=tmp_path
    ).mail_from == ("clerk@example.com")  # a user that is an address comes first


NO_SENDER = (
    "The e-mail needs a sender, and this machine's name ({}) is not a full domain name. Set PBLOAD_MAIL_FROM "
    "(or from under [smtp] in pbload.toml) to the address it should come from."
)


@pytest.mark.parametrize("name", ["vm", "localhost", "localhost.localdomain", "10.0.0.7"])
def test_without_a_full_machine_name_a_mail_server_needs_a_sender(tmp_path, machine_named, name):
    machine_named(name)
    smtp = load_smtp_settings({}, cwd=tmp_path)  # no mail server: no e-mail, so no sender needed yet
    assert smtp.host is None
    for environ in (SMTP_HOST, {**SMTP_HOST, "PBLOAD_SMTP_USER": "clerk"}):
        with pytest.raises(SettingsError) as refused:
            load_smtp_settings(environ, cwd=tmp_path)
        assert str(refused.value) == NO_SENDER.format(name)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("port", "0", "SMTP port must be a whole number from 1 to 65535, not '0' (from PBLOAD_SMTP_PORT)."),
        (
            "port",
            "65536",
            "SMTP port must be a whole number from 1 to 65535, not '65536' (from PBLOAD_SMTP_PORT).",
        ),
        (
            "port",
            "25.5",
            "SMTP port must be a whole number from 1 to 65535, not '25.5' (from PBLOAD_SMTP_PORT).",
        ),
        ("tls", "tls", "SMTP TLS mode must be one of none, starttls, ssl, not 'tls' (from PBLOAD_SMTP_TLS)."),
        (
            "zip_above_mb",
            "nan",
            "zip-above-mb must be a number of megabytes, 0 or more, not 'nan' (from PBLOAD_MAIL_ZIP_ABOVE_MB).",
        ),
    ],
)
def test_smtp_numbers_and_modes_name_their_variable(tmp_path, key, value, message):
    with pytest.raises(SettingsError) as refused:
        load_smtp_settings(
            {**SMTP_HOST, "PBLOAD_MAIL_FROM": "pbload@example.com", SMTP_ENV[key]: value}, cwd=tmp_path
        )
    assert str(refused.value) == message
    good = {"port": "65535", "tls": "SSL", "zip_above_mb": "0"}[key]
    load_smtp_settings(
        {**SMTP_HOST, "PBLOAD_MAIL_FROM": "pbload@example.com", SMTP_ENV[key]: good}, cwd=tmp_path
    )
