"""pbload's settings: one frozen dataclass, from flags > environment > pbload.toml > defaults.

Credentials come from the environment only (`PB_CLIENT_ID`, `PB_API_KEY`, `PB_API_SECRET`), never
from flags or files that may be shared: they would end up in shell histories and repositories.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from loader.errors import SettingsError

APP_NAME = "pbload"
CONFIG_FILE = "pbload.toml"
BASE_URLS = {
    "sandbox": "https://shipping-api-sandbox.pitneybowes.com",
    "production": "https://shipping-api.pitneybowes.com",
}
ENVIRONMENTS = ("local", *BASE_URLS)
# The credentials the built-in emulator accepts (shown by `pbload emulator serve`).
LOCAL_CLIENT_ID = "pbload-local"
LOCAL_API_KEY = "local-key"
LOCAL_API_SECRET = "local-secret"
DEFAULT_CHUNK_SIZE = 200
DEFAULT_CONCURRENCY = 4
_CREDENTIALS = ("PB_CLIENT_ID", "PB_API_KEY", "PB_API_SECRET")
DEFAULT_MAX_RPS = 100.0
DEFAULT_MAX_ATTEMPTS = 6
DEFAULT_RETRY_DEADLINE = 300.0
_TOML_KEYS = frozenset({"env", "base_url", "chunk_size", "concurrency", "state_dir", "strict", "max_rps",
                        "max_attempts", "retry_deadline"})


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know besides the workbook."""

    env: str
    base_url: str | None  # None for `local` without --base-url: the in-process emulator
    client_id: str
    api_key: str
    api_secret: str
    state_dir: Path
    chunk_size: int = DEFAULT_CHUNK_SIZE
    concurrency: int = DEFAULT_CONCURRENCY
    strict: bool = False
    max_rps: float = DEFAULT_MAX_RPS  # requests per second per operation
    max_attempts: int = DEFAULT_MAX_ATTEMPTS  # tries of one request, transient failures included
    retry_deadline: float = DEFAULT_RETRY_DEADLINE  # seconds one request may take, retries included

    @property
    def target(self) -> str:
        """Which account on which server: items loaded to one target say nothing about another."""
        return f"{self.base_url or 'local:' + str(self.emulator_db)}#{self.client_id}"

    @property
    def uses_builtin_emulator(self) -> bool:
        return self.base_url is None

    @property
    def emulator_db(self) -> Path:
        """Where the built-in emulator keeps its state between runs."""
        return self.state_dir / "emulator.sqlite3"


def load_settings(flags: Mapping[str, Any], environ: Mapping[str, str] = os.environ,
                  cwd: Path | None = None) -> Settings:
    """Settings from command-line flags (None = not given), the environment and pbload.toml."""
    config = _read_config(cwd or Path.cwd())

    def pick(name: str, default: Any = None) -> Any:
        if flags.get(name) is not None:
            return flags[name]
        env_value = environ.get(f"PBLOAD_{name.upper()}")
        if env_value not in (None, ""):
            return env_value
        return config.get(name, default)

    creds = {name: environ.get(name, "") for name in _CREDENTIALS}
    base_url = pick("base_url")
    env = _environment(pick("env"), base_url, any(creds.values()))
    if env != "local":
        _require_credentials(creds, env)
    elif base_url is None or not any(creds.values()):
        # the built-in emulator only knows its own credentials
        creds = dict(zip(_CREDENTIALS, (LOCAL_CLIENT_ID, LOCAL_API_KEY, LOCAL_API_SECRET)))
    return Settings(
        env=env,
        base_url=base_url or BASE_URLS.get(env),
        client_id=creds["PB_CLIENT_ID"],
        api_key=creds["PB_API_KEY"],
        api_secret=creds["PB_API_SECRET"],
        state_dir=Path(pick("state_dir") or platformdirs.user_data_dir(APP_NAME)).expanduser(),
        chunk_size=_positive_int("chunk_size", pick("chunk_size", DEFAULT_CHUNK_SIZE)),
        concurrency=_positive_int("concurrency", pick("concurrency", DEFAULT_CONCURRENCY)),
        strict=_boolean(pick("strict", False)),
        max_rps=_positive_float("max_rps", pick("max_rps", DEFAULT_MAX_RPS)),
        max_attempts=_positive_int("max_attempts", pick("max_attempts", DEFAULT_MAX_ATTEMPTS)),
        retry_deadline=_positive_float("retry_deadline", pick("retry_deadline", DEFAULT_RETRY_DEADLINE)),
    )


def _environment(env: str | None, base_url: str | None, has_credentials: bool) -> str:
    if env is None:
        # No credentials means nothing could reach PB: use the built-in emulator.
        return "sandbox" if has_credentials else "local"
    env = env.lower()
    if env not in ENVIRONMENTS:
        raise SettingsError(f"Unknown environment '{env}'. Use one of: {', '.join(ENVIRONMENTS)}.")
    return env


def _require_credentials(creds: Mapping[str, str], env: str) -> None:
    missing = [name for name, value in creds.items() if not value]
    if missing:
        raise SettingsError(
            f"The {env} environment needs credentials, but {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set. Set PB_CLIENT_ID, PB_API_KEY and "
            "PB_API_SECRET in the environment, or use --env local to try the built-in emulator."
        )


def _read_config(cwd: Path) -> dict[str, Any]:
    """The first pbload.toml found in the current directory, then the user config directory."""
    for path in (cwd / CONFIG_FILE, Path(platformdirs.user_config_dir(APP_NAME)) / CONFIG_FILE):
        if path.is_file():
            return _parse_config(path)
    return {}


def _parse_config(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path} cannot be read ({exc}). Fix or remove it.") from exc
    table = data.get("pbload", data)
    unknown = sorted(set(table) - _TOML_KEYS)
    if unknown:
        raise SettingsError(
            f"{path} has unknown settings: {', '.join(unknown)}. Known: {', '.join(sorted(_TOML_KEYS))}. "
            "(Credentials go in the environment, not in this file.)"
        )
    return table


def _positive_int(name: str, value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1:
        raise SettingsError(f"{name.replace('_', '-')} must be a whole number of 1 or more, not '{value}'.")
    return number


def _positive_float(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = 0.0
    if number <= 0:
        raise SettingsError(f"{name.replace('_', '-')} must be a number greater than 0, not '{value}'.")
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")
