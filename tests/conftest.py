"""Shared fixtures: real workbooks in tmp_path, the emulator, and the CLI."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from loader.cli import main
from loader.emulator import create_app
from tests.helpers import CREDENTIALS


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def cli(state_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Run `pbload ARGS` with a private state directory and no credentials from this machine."""
    for name in CREDENTIALS:
        monkeypatch.delenv(name, raising=False)
    for name in ("PBLOAD_ENV", "PBLOAD_BASE_URL", "PBLOAD_CHUNK_SIZE", "PBLOAD_STRICT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PBLOAD_STATE_DIR", str(state_dir))
    monkeypatch.chdir(tmp_path)

    def run(*args: str, env: Mapping[str, str] | None = None) -> Result:
        return CliRunner().invoke(main, [str(a) for a in args], env=dict(env or {}), catch_exceptions=False)

    return run


@pytest.fixture
def local_emulator(state_dir: Path):
    """The emulator whose state the CLI's `local` environment uses, opened beside it."""
    return lambda: create_app(state_dir / "emulator.sqlite3")
