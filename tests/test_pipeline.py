"""loader/pipeline.py as a library: the `local` environment's emulator is given by the caller."""

from __future__ import annotations

import httpx
import pytest

from loader import pipeline
from loader.emulator import create_app
from loader.errors import SettingsError
from loader.settings import load_settings
from tests.helpers import product_row, read_statuses, write_products


def test_the_local_environment_needs_its_emulator_given_and_offline_needs_none(tmp_path, state_dir):
    path = write_products(tmp_path / "p.xlsx", [product_row("A")])
    settings = load_settings({"env": "local", "state_dir": state_dir})
    with pytest.raises(SettingsError) as refused:
        pipeline.load(path, settings)
    assert str(refused.value) == (
        "The local environment's API is pbload's built-in emulator, which runs in the caller's process: give "
        "its transport, httpx.WSGITransport(app=loader.emulator.create_app(settings.emulator_db))."
    )
    assert not (tmp_path / "p.result.xlsx").exists()
    assert not (state_dir / "journal.sqlite3").exists()  # refused before the run began
    pipeline.validate(path, settings, offline=True)
    assert read_statuses(tmp_path / "p.result.xlsx")[2]["Status"] == "VALID"

    made = []

    def emulator() -> httpx.BaseTransport:  # made when the run first calls the API, as the CLI gives it
        made.append(1)
        return httpx.WSGITransport(app=create_app(settings.emulator_db))

    assert pipeline.load(path, settings, transport=emulator).all_ok
    assert made == [1]
    assert read_statuses(tmp_path / "p.result.xlsx")[2]["Status"] == "CREATED"
