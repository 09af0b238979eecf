"""Settings come from flags, then the environment, then pbload.toml, then defaults."""

from __future__ import annotations

import pytest

from loader.errors import SettingsError
from loader.settings import load_settings

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
