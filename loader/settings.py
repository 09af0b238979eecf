"""pbload's settings: one frozen dataclass, from flags > environment > pbload.toml > defaults.

Credentials come from the environment only (`PB_CLIENT_ID`, `PB_API_KEY`, `PB_API_SECRET`), never
from flags or files that may be shared: they would end up in shell histories and repositories. The
same holds for the mail server's password (`PBLOAD_SMTP_PASSWORD`); the rest of the e-mail settings
(`SmtpSettings`) may also sit in an `[smtp]` table of pbload.toml. A base URL with `user:secret@` is
refused: pbload never sends credentials that way, and it would show them and keep them in the journal.
`known_secrets` names the values every printed text is masked for (`loader.redact`).

Every value is checked as it is read, never guessed: a boolean is true/false/yes/no/1/0, a number lies
within its bounds (a chunk at most PB's bulk limit), the base URL is http(s) with a host, the sender is an
address. A bad one is a SettingsError naming where it came from (`--chunk-size`, `PBLOAD_STRICT`, `strict
in …/pbload.toml`), the value and what is allowed, so the run stops before it starts.
"""

from __future__ import annotations

import base64
import math
import os
import socket
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import getaddresses
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

import platformdirs

# the credentials the built-in emulator accepts (shown by `pbload emulator serve`)
from loader.choices import LOCAL_API_KEY, LOCAL_API_SECRET, LOCAL_CLIENT_ID
from loader.errors import SettingsError
from loader.resources import RESOURCES

APP_NAME = "pbload"
CONFIG_FILE = "pbload.toml"
BASE_URLS = {
    "sandbox": "https://shipping-api-sandbox.pitneybowes.com",
    "production": "https://shipping-api.pitneybowes.com",
}
ENVIRONMENTS = ("local", *BASE_URLS)
URL_SCHEMES = ("http", "https")
DEFAULT_CHUNK_SIZE = 200
DEFAULT_CONCURRENCY = 4
_CREDENTIALS = ("PB_CLIENT_ID", "PB_API_KEY", "PB_API_SECRET")
DEFAULT_MAX_RPS = 100.0
DEFAULT_MAX_ATTEMPTS = 6
DEFAULT_RETRY_DEADLINE = 300.0
DEFAULT_CONNECT_TIMEOUT = 10.0  # seconds to connect to the API, for every request, the token request too
DEFAULT_READ_TIMEOUT = 60.0  # seconds to wait for each read of an answer
# The bounds of the numeric settings. Each resource declares PB's bulk limit; a bigger chunk would only be
# cut down by the sender. The other upper bounds are far past any sensible value: beyond them a number is
# a slip of the keyboard (an hour-long time-out, a thousand requests at once), not a wish. max-rps is a
# ceiling, not a target: a million (per second) is how a run against a local emulator says "unthrottled".
MAX_CHUNK_SIZE = max(r.api.max_bulk_items for r in RESOURCES if r.api and r.api.bulk_path)
MAX_CONCURRENCY = 64
MAX_RPS_LIMIT = 1_000_000.0
MAX_ATTEMPTS_LIMIT = 20
MAX_RETRY_DEADLINE = 3600.0
MAX_TIMEOUT = 600.0
BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
_TOML_KEYS = frozenset(
    {
        "env",
        "base_url",
        "chunk_size",
        "concurrency",
        "state_dir",
        "strict",
        "max_rps",
        "max_attempts",
        "retry_deadline",
        "connect_timeout",
        "read_timeout",
    }
)


@dataclass(frozen=True)
class _Given:
    """A setting's value and where it came from, as messages name it: `--chunk-size`, `PBLOAD_STRICT`,
    `strict in /path/pbload.toml`."""

    value: Any
    where: str


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


def load_settings(
    flags: Mapping[str, Any], environ: Mapping[str, str] = os.environ, cwd: Path | None = None
) -> Settings:
    """Settings from command-line flags (None = not given), the environment and pbload.toml, each checked."""
    path = _config_path(cwd or Path.cwd())
    config = _parse_config(path) if path else {}

    def pick(name: str, default: Any = None) -> _Given:
        variable = f"PBLOAD_{name.upper()}"
        if flags.get(name) is not None:
            return _Given(flags[name], f"--{name.replace('_', '-')}")
        if environ.get(variable) not in (None, ""):
            return _Given(environ[variable], variable)
        if name in config:
            return _Given(config[name], f"{name} in {path}")
        return _Given(default, variable)

    creds = {name: environ.get(name, "") for name in _CREDENTIALS}
    base_url = _base_url(pick("base_url"))
    env = _environment(pick("env"), any(creds.values()))
    if env != "local":
        _require_credentials(creds, env)
    elif base_url is None or not any(creds.values()):
        # the built-in emulator only knows its own credentials
        creds = dict(zip(_CREDENTIALS, (LOCAL_CLIENT_ID, LOCAL_API_KEY, LOCAL_API_SECRET), strict=False))
    return Settings(
        env=env,
        base_url=base_url or BASE_URLS.get(env),
        client_id=creds["PB_CLIENT_ID"],
        api_key=creds["PB_API_KEY"],
        api_secret=creds["PB_API_SECRET"],
        state_dir=Path(str(pick("state_dir").value or platformdirs.user_data_dir(APP_NAME))).expanduser(),
        chunk_size=_whole_number(
            pick("chunk_size", DEFAULT_CHUNK_SIZE),
            MAX_CHUNK_SIZE,
            f" (Pitney Bowes takes at most {MAX_CHUNK_SIZE} items in one bulk call)",
        ),
        concurrency=_whole_number(pick("concurrency", DEFAULT_CONCURRENCY), MAX_CONCURRENCY),
        strict=_boolean(pick("strict", False)),
        max_rps=_positive_number(pick("max_rps", DEFAULT_MAX_RPS), MAX_RPS_LIMIT, "requests per second"),
        max_attempts=_whole_number(pick("max_attempts", DEFAULT_MAX_ATTEMPTS), MAX_ATTEMPTS_LIMIT),
        retry_deadline=_positive_number(pick("retry_deadline", DEFAULT_RETRY_DEADLINE), MAX_RETRY_DEADLINE),
        connect_timeout=_positive_number(pick("connect_timeout", DEFAULT_CONNECT_TIMEOUT), MAX_TIMEOUT),
        read_timeout=_positive_number(pick("read_timeout", DEFAULT_READ_TIMEOUT), MAX_TIMEOUT),
    )


def _base_url(given: _Given) -> str | None:
    """The base URL as given: http(s) with a host, and never with `user:secret@` (never shown, never kept)."""
    if given.value is None:
        return None
    text = str(given.value).strip()
    parts = urlsplit(text if "//" in text else f"//{text}")
    if "@" in parts.netloc:
        bare = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2])).removeprefix("//")
        raise SettingsError(
            "The base URL carries a user name or password (user:secret@), which pbload never sends. "
            f"Give it as {bare} (in --base-url, PBLOAD_BASE_URL or pbload.toml), and the API key and secret "
            "in PB_API_KEY and PB_API_SECRET."
        )
    if parts.scheme.lower() not in URL_SCHEMES or not parts.hostname or not _has_valid_port(parts):
        raise SettingsError(
            f"{given.where} must be an http:// or https:// address with a host, like "
            f"{BASE_URLS['sandbox']}, not '{text}'."
        )
    return text


def _has_valid_port(parts: SplitResult) -> bool:
    try:
        parts.port  # noqa: B018 (urlsplit checks the port only when asked for it)
    except ValueError:
        return False
    return True


def known_secrets(environ: Mapping[str, str] = os.environ) -> tuple[str, ...]:
    """The secret values in the environment, and the Basic credentials made of them: what no output shows."""
    key, secret = environ.get("PB_API_KEY", ""), environ.get("PB_API_SECRET", "")
    values = [key, secret, environ.get(SMTP_PASSWORD_ENV, "")]
    if key and secret:
        values.append(base64.b64encode(f"{key}:{secret}".encode()).decode("ascii"))
    return tuple(v for v in values if v)


def _environment(given: _Given, has_credentials: bool) -> str:
    if given.value is None:
        # No credentials means nothing could reach PB: use the built-in emulator.
        return "sandbox" if has_credentials else "local"
    env = str(given.value).strip().lower()
    if env not in ENVIRONMENTS:
        raise SettingsError(f"{given.where} must be one of {', '.join(ENVIRONMENTS)}, not '{given.value}'.")
    return env


def _require_credentials(creds: Mapping[str, str], env: str) -> None:
    missing = [name for name, value in creds.items() if not value]
    if missing:
        raise SettingsError(
            f"The {env} environment needs credentials, but {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set. Set PB_CLIENT_ID, PB_API_KEY and "
            "PB_API_SECRET in the environment, or use --env local to try the built-in emulator."
        )


def _config_path(cwd: Path) -> Path | None:
    """The first pbload.toml found in the current directory, then the user config directory."""
    for path in (cwd / CONFIG_FILE, Path(platformdirs.user_config_dir(APP_NAME)) / CONFIG_FILE):
        if path.is_file():
            return path
    return None


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


def _whole_number(given: _Given, highest: int, why: str = "") -> int:
    """A whole number from 1 to `highest`."""
    number = _as_int(given.value)
    if number is None or not 1 <= number <= highest:
        raise SettingsError(
            f"{given.where} must be a whole number from 1 to {highest}{why}, not '{_shown(given.value)}'."
        )
    return number


def _positive_number(given: _Given, highest: float, unit: str = "seconds") -> float:
    """A number above 0 and at most `highest`."""
    number = _as_float(given.value)
    if number is None or not 0 < number <= highest:
        raise SettingsError(
            f"{given.where} must be a number of {unit} above 0 and at most {_shown(highest)}, "
            f"not '{_shown(given.value)}'."
        )
    return number


def _shown(value: Any) -> str:
    """A value as the user wrote it, near enough: 0 for the 0.0 a float flag makes of it."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _as_int(value: Any) -> int | None:
    """50 or " 50 ", not 50.5 (never silently 50), "5O" or True."""
    if isinstance(value, (bool, float)):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _as_float(value: Any) -> float | None:
    """2, 2.5 or "2.5", not True, "nan" or "inf"."""
    if isinstance(value, bool):
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _boolean(given: _Given) -> bool:
    """true/false, yes/no, 1/0 in any case: anything else is refused, never taken as false."""
    if isinstance(given.value, bool):
        return given.value
    answer = BOOLEANS.get(str(given.value).strip().lower())
    if answer is None:
        raise SettingsError(
            f"{given.where} must be one of true, false, yes, no, 1 or 0, not '{given.value}'."
        )
    return answer


# E-mail (DESIGN §6). The password is read from the environment only, like the PB credentials.
SMTP_TLS_MODES = ("none", "starttls", "ssl")
SMTP_DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
DEFAULT_SMTP_TLS = "starttls"
DEFAULT_ZIP_ABOVE_MB = 10.0
# [smtp] key in pbload.toml -> environment variable
SMTP_ENV = {
    "host": "PBLOAD_SMTP_HOST",
    "port": "PBLOAD_SMTP_PORT",
    "user": "PBLOAD_SMTP_USER",
    "tls": "PBLOAD_SMTP_TLS",
    "from": "PBLOAD_MAIL_FROM",
    "zip_above_mb": "PBLOAD_MAIL_ZIP_ABOVE_MB",
}
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
        """The sender: `from`, else the user when it is an address, else pbload@ this machine's full name;
        a SettingsError when there is none (raised only where an e-mail is to go)."""
        if self.sender:
            return self.sender
        if self.user and _is_address(self.user):
            return self.user
        return _default_sender()


def load_smtp_settings(environ: Mapping[str, str] = os.environ, cwd: Path | None = None) -> SmtpSettings:
    """E-mail settings from the environment (`PBLOAD_SMTP_*`, `PBLOAD_MAIL_*`), then [smtp] in pbload.toml.

    With a mail server set, the sender is worked out now, so that a run that is to e-mail its result stops
    before it starts when there is none."""
    path = _config_path(cwd or Path.cwd())
    table = _parse_config(path)["smtp"] if path else {}

    def pick(key: str) -> _Given:
        value = environ.get(SMTP_ENV[key])
        if value in (None, "") and key in table:
            return _Given(table[key], f"{key} under [smtp] in {path}")
        return _Given(value, SMTP_ENV[key])

    tls = pick("tls")
    mode = str(tls.value or DEFAULT_SMTP_TLS).strip().lower()
    if mode not in SMTP_TLS_MODES:
        raise SettingsError(
            f"SMTP TLS mode must be one of {', '.join(SMTP_TLS_MODES)}, not '{mode}' (from {tls.where})."
        )
    port, zip_above, host, user = pick("port"), pick("zip_above_mb"), pick("host").value, pick("user").value
    smtp = SmtpSettings(
        host=str(host).strip() if host else None,
        port=SMTP_DEFAULT_PORTS[mode] if port.value in (None, "") else _port(port),
        user=str(user) if user else None,
        password=environ.get(SMTP_PASSWORD_ENV, ""),
        tls=mode,
        sender=_sender(pick("from")),
        zip_above_mb=DEFAULT_ZIP_ABOVE_MB if zip_above.value in (None, "") else _megabytes(zip_above),
    )
    if smtp.host:
        _ = smtp.mail_from  # raises when there is no sender
    return smtp


def _is_address(text: str) -> bool:
    """Whether `text` is one e-mail address (`name@example.com`, `Name <name@example.com>`): a local part
    and a domain of two or more labels, on one line."""
    found = getaddresses([text])  # parseaddr alone would take the first of `a@x.com, b@y.com`
    if "\r" in text or "\n" in text or len(found) != 1:
        return False
    local, at, domain = found[0][1].rpartition("@")
    return bool(at and local) and not any(c.isspace() for c in local + domain) and _is_domain(domain)


def _is_domain(name: str) -> bool:
    """A full domain name (`host.example.com`), not `vm`, `localhost.localdomain` or an IP address."""
    labels = name.lower().split(".")
    return len(labels) > 1 and all(labels) and labels[0] != "localhost" and not labels[-1].isdigit()


def _sender(given: _Given) -> str | None:
    if given.value in (None, ""):
        return None
    text = str(given.value).strip()
    if not _is_address(text):
        raise SettingsError(
            f"{given.where} must be an e-mail address such as pbload@example.com, not '{text}'."
        )
    return text


def _default_sender() -> str:
    """pbload@ this machine's fully qualified name, when it has one a mail server could accept."""
    name = socket.getfqdn()
    if not _is_domain(name):
        raise SettingsError(
            f"The e-mail needs a sender, and this machine's name ({name}) is not a full domain name. Set "
            "PBLOAD_MAIL_FROM (or from under [smtp] in pbload.toml) to the address it should come from."
        )
    return f"pbload@{name}"


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


def _port(given: _Given) -> int:
    number = _as_int(given.value)
    if number is None or not 1 <= number <= 65535:
        raise SettingsError(
            f"SMTP port must be a whole number from 1 to 65535, not '{given.value}' (from {given.where})."
        )
    return number


def _megabytes(given: _Given) -> float:
    number = _as_float(given.value)
    if number is None or number < 0:
        raise SettingsError(
            f"zip-above-mb must be a number of megabytes, 0 or more, not '{given.value}' "
            f"(from {given.where})."
        )
    return number
