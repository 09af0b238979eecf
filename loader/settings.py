"""pbload's settings: one frozen dataclass, from flags > environment > pbload.toml > defaults.

Credentials come from the environment only (`PB_CLIENT_ID`, `PB_API_KEY`, `PB_API_SECRET`), never
from flags or files that may be shared: they would end up in shell histories and repositories. The
same holds for the mail server's password (`PBLOAD_SMTP_PASSWORD`); the rest of the e-mail settings
(`SmtpSettings`) may also sit in an `[smtp]` table of pbload.toml. A base URL with `user:secret@` is
refused: pbload never sends credentials that way, and it would show them and keep them in the journal.
`known_secrets` names the values every printed text is masked for (`loader.redact`).
"""

from __future__ import annotations

import base64
import os
import socket
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

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
DEFAULT_CONNECT_TIMEOUT = 10.0  # seconds to connect to the API, for every request, the token request too
DEFAULT_READ_TIMEOUT = 60.0  # seconds to wait for each read of an answer
_TOML_KEYS = frozenset({"env", "base_url", "chunk_size", "concurrency", "state_dir", "strict", "max_rps",
                        "max_attempts", "retry_deadline", "connect_timeout", "read_timeout"})


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know besides the workbook."""

    env: str
    base_url: str | None  # None for `local` without --base-url: the in-process emulator
    client_id: str
    api_key: str = field(repr=False)  # secrets never show in a repr, a log or a traceback
    api_secret: str = field(repr=False)
    state_dir: Path
    chunk_size: int = DEFAULT_CHUNK_SIZE
    concurrency: int = DEFAULT_CONCURRENCY
    strict: bool = False
    max_rps: float = DEFAULT_MAX_RPS  # requests per second per operation
    max_attempts: int = DEFAULT_MAX_ATTEMPTS  # tries of one request, transient failures included
    retry_deadline: float = DEFAULT_RETRY_DEADLINE  # seconds one request may take, retries included
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT  # seconds, per attempt
    read_timeout: float = DEFAULT_READ_TIMEOUT  # seconds, per read of an answer

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
    base_url = _without_credentials(pick("base_url"))
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
        connect_timeout=_positive_float("connect_timeout", pick("connect_timeout", DEFAULT_CONNECT_TIMEOUT)),
        read_timeout=_positive_float("read_timeout", pick("read_timeout", DEFAULT_READ_TIMEOUT)),
    )


def _without_credentials(url: Any) -> str | None:
    """The base URL as given, refused when it carries `user:secret@` (never shown, never kept)."""
    if url is None:
        return None
    text = str(url)
    parts = urlsplit(text if "//" in text else f"//{text}")
    if "@" not in parts.netloc:
        return text
    bare = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2])).removeprefix("//")
    raise SettingsError(
        "The base URL carries a user name or password (user:secret@), which pbload never sends. "
        f"Give it as {bare} (in --base-url, PBLOAD_BASE_URL or pbload.toml), and the API key and secret "
        "in PB_API_KEY and PB_API_SECRET."
    )


def known_secrets(environ: Mapping[str, str] = os.environ) -> tuple[str, ...]:
    """The secret values in the environment, and the Basic credentials made of them: what no output shows."""
    key, secret = environ.get("PB_API_KEY", ""), environ.get("PB_API_SECRET", "")
    values = [key, secret, environ.get(SMTP_PASSWORD_ENV, "")]
    if key and secret:
        values.append(base64.b64encode(f"{key}:{secret}".encode()).decode("ascii"))
    return tuple(v for v in values if v)


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
    smtp = _smtp_table(path, table.get("smtp", data.get("smtp", {})))
    unknown = sorted(set(table) - _TOML_KEYS - {"smtp"})
    if unknown:
        raise SettingsError(
            f"{path} has unknown settings: {', '.join(unknown)}. Known: {', '.join(sorted(_TOML_KEYS))}. "
            "(Credentials go in the environment, not in this file.)"
        )
    return {**table, "smtp": smtp}


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


# E-mail (DESIGN §6). The password is read from the environment only, like the PB credentials.
SMTP_TLS_MODES = ("none", "starttls", "ssl")
SMTP_DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
DEFAULT_SMTP_TLS = "starttls"
DEFAULT_ZIP_ABOVE_MB = 10.0
# [smtp] key in pbload.toml -> environment variable
SMTP_ENV = {"host": "PBLOAD_SMTP_HOST", "port": "PBLOAD_SMTP_PORT", "user": "PBLOAD_SMTP_USER",
            "tls": "PBLOAD_SMTP_TLS", "from": "PBLOAD_MAIL_FROM", "zip_above_mb": "PBLOAD_MAIL_ZIP_ABOVE_MB"}
SMTP_PASSWORD_ENV = "PBLOAD_SMTP_PASSWORD"


@dataclass(frozen=True)
class SmtpSettings:
    """How to send e-mail: the mail server, its TLS mode and login, the sender, when to zip."""

    host: str | None = None  # None: no e-mail can be sent
    port: int = SMTP_DEFAULT_PORTS[DEFAULT_SMTP_TLS]
    user: str | None = None
    password: str = field(default="", repr=False)
    tls: str = DEFAULT_SMTP_TLS
    sender: str | None = None
    zip_above_mb: float = DEFAULT_ZIP_ABOVE_MB

    @property
    def mail_from(self) -> str:
        """The sender: `from`, else the user when it is an address, else pbload@this-host."""
        if self.sender:
            return self.sender
        if self.user and "@" in self.user:
            return self.user
        return f"pbload@{socket.gethostname()}"


def load_smtp_settings(environ: Mapping[str, str] = os.environ, cwd: Path | None = None) -> SmtpSettings:
    """E-mail settings from the environment (`PBLOAD_SMTP_*`, `PBLOAD_MAIL_*`), then [smtp] in pbload.toml."""
    table = _read_config(cwd or Path.cwd()).get("smtp", {})

    def pick(key: str) -> Any:
        value = environ.get(SMTP_ENV[key])
        return value if value not in (None, "") else table.get(key)

    tls = str(pick("tls") or DEFAULT_SMTP_TLS).strip().lower()
    if tls not in SMTP_TLS_MODES:
        raise SettingsError(f"SMTP TLS mode must be one of {', '.join(SMTP_TLS_MODES)}, not '{tls}'.")
    port = pick("port")
    zip_above = pick("zip_above_mb")
    return SmtpSettings(
        host=str(pick("host")).strip() if pick("host") else None,
        port=SMTP_DEFAULT_PORTS[tls] if port in (None, "") else _port(port),
        user=str(pick("user")) if pick("user") else None,
        password=environ.get(SMTP_PASSWORD_ENV, ""),
        tls=tls,
        sender=str(pick("from")) if pick("from") else None,
        zip_above_mb=DEFAULT_ZIP_ABOVE_MB if zip_above in (None, "") else _megabytes(zip_above),
    )


def _smtp_table(path: Path, table: Any) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise SettingsError(f"{path}: smtp must be a table ([smtp] with host, port, ...). Fix or remove it.")
    unknown = sorted(set(table) - set(SMTP_ENV))
    if unknown:
        raise SettingsError(
            f"{path} has unknown [smtp] settings: {', '.join(unknown)}. Known: {', '.join(sorted(SMTP_ENV))}. "
            f"(The password goes in the environment as {SMTP_PASSWORD_ENV}, not in this file.)"
        )
    return table


def _port(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if not 1 <= number <= 65535:
        raise SettingsError(f"SMTP port must be a whole number from 1 to 65535, not '{value}'.")
    return number


def _megabytes(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if number < 0:
        raise SettingsError(f"zip-above-mb must be a number of megabytes, 0 or more, not '{value}'.")
    return number
