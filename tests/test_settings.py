"""Settings come from flags, then the environment, then pbload.toml, then defaults."""

from __future__ import annotations

import shutil

import pytest

from loader.errors import SettingsError
from loader.settings import load_settings
from tests.helpers import SAMPLES

CREDS = {"PB_CLIENT_ID": "client-7", "PB_API_KEY": "key", "PB_API_SECRET": "secret"}


def test_no_credentials_means_the_builtin_emulator(tmp_path):
    s = load_settings({}, environ={}, cwd=tmp_path)
    assert (s.env, s.base_url, s.client_id) == ("local", None, "pbload-local")
    assert s.uses_builtin_emulator


def test_credentials_default_to_sandbox(tmp_path):
    s = load_settings({}, environ=CREDS, cwd=tmp_path)
    assert (s.env, s.base_url, s.client_id) == ("sandbox", "https://shipping-api-sandbox.pitneybowes.com", "client-7")


def test_production_needs_asking_for(tmp_path):
    s = load_settings({"env": "production"}, environ=CREDS, cwd=tmp_path)
    assert s.base_url == "https://shipping-api.pitneybowes.com"


def test_flag_beats_environment_beats_file(tmp_path):
    (tmp_path / "pbload.toml").write_text('[pbload]\nchunk_size = 50\nconcurrency = 2\n')
    s = load_settings({"chunk_size": 10}, environ={"PBLOAD_CONCURRENCY": "3"}, cwd=tmp_path)
    assert (s.chunk_size, s.concurrency) == (10, 3)
    s = load_settings({}, environ={}, cwd=tmp_path)
    assert (s.chunk_size, s.concurrency) == (50, 2)


def test_credentials_are_refused_in_the_file(tmp_path):
    (tmp_path / "pbload.toml").write_text('api_secret = "oops"\n')
    with pytest.raises(SettingsError, match="unknown settings: api_secret.*Credentials go in the environment"):
        load_settings({}, environ={}, cwd=tmp_path)


def test_bad_values(tmp_path):
    with pytest.raises(SettingsError, match="chunk-size must be a whole number of 1 or more, not '0'"):
        load_settings({"chunk_size": 0}, environ={}, cwd=tmp_path)
    with pytest.raises(SettingsError, match="Unknown environment 'staging'"):
        load_settings({}, environ={"PBLOAD_ENV": "staging"}, cwd=tmp_path)


def test_local_against_a_served_emulator_uses_given_credentials(tmp_path):
    s = load_settings({"env": "local", "base_url": "http://127.0.0.1:8790"}, environ=CREDS, cwd=tmp_path)
    assert (s.base_url, s.client_id, s.api_key) == ("http://127.0.0.1:8790", "client-7", "key")
    s = load_settings({"env": "local"}, environ=CREDS, cwd=tmp_path)
    assert s.client_id == "pbload-local"  # the in-process emulator knows only its own account


BARE = "http://127.0.0.1:8790/root"
WITH_SECRET = "http://clerk:pw-9f3k2@127.0.0.1:8790/root"
REFUSED = ("The base URL carries a user name or password (user:secret@), which pbload never sends. Give it as "
           f"{BARE} (in --base-url, PBLOAD_BASE_URL or pbload.toml), and the API key and secret in PB_API_KEY "
           "and PB_API_SECRET.")


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
        load_settings({"base_url": "https://clerk@shipping-api-sandbox.pitneybowes.com"}, environ=CREDS, cwd=tmp_path)


def test_a_plain_base_url_is_kept_as_given(tmp_path):
    assert load_settings({"base_url": BARE}, environ={}, cwd=tmp_path).base_url == BARE


@pytest.mark.parametrize("debug", [[], ["--debug"]])
def test_a_base_url_with_credentials_never_reaches_the_output_nor_the_journal(cli, state_dir, tmp_path, debug):
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
