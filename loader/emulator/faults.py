"""Seeded, reproducible faults put in front of the emulator: a WSGI middleware, `FaultInjector`.

What can go wrong with a real API (DESIGN §7, api §7, §21.5), each as a setting of `Faults`:

* ``latency_ms`` — a fixed delay, or one drawn uniformly from a ``(low, high)`` range, before answering;
* ``error_rate`` — 500 (``EMU-INTERNAL``) or 503 (``EMU-UNAVAILABLE``), half each; nothing is changed;
* ``throttle_rate`` — 429 with ``Retry-After: retry_after_s`` and PB's gateway body, a bare
  ``{"errorCode": "PB-APIM-ERR-1006", "errorDescription": "Spike arrest violation"}`` (api §21.4);
  nothing is changed;
* ``drop_rate`` — the connection is closed with no response before the request is processed;
* ``lost_after_commit_rate`` — the request is processed and committed, then the connection is closed
  with no response: the change happened but the caller cannot know;
* ``token_ttl_s`` — tokens issued from now on expire after that many seconds;
* ``rate_limit_per_s`` — more than N requests within one second on one operation (method and route
  template, e.g. ``POST .../v1/products/bulk``) are answered like a throttle, with ``Retry-After``
  in whole seconds; other operations are unaffected, as PB throttles per operation (api §7).

Faults apply to ``/shippingservices/...`` and, with ``include_token``, to ``/oauth/token``; never to
``/emulator/admin/...``, which takes the emulator's credentials and refuses cross-site calls like
the rest of the control plane (`admin.check`). Each faultable request takes a fixed number of draws from one
``random.Random(seed)`` under a lock, so a seeded run gives the same faults for the same request order.
The rates are exclusive: one draw picks at most one of drop, throttle, error and lost-after-commit.

Dropping a connection needs the server's help: the injector raises `DropConnection`, which
`server.EmulatorServer` turns into a closed socket. In-process (``httpx.WSGITransport``) the exception
reaches the caller as is, so the two dropping faults are for served mode; the others work in both.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from http import HTTPStatus
from typing import Any

from . import admin, errors
from .app import Emulator, StartResponse
from .errors import HttpError, detail, error_body, gateway_body

ADMIN_PATH = "/emulator/admin/faults"
FAULTABLE_PREFIX = "/shippingservices/"
TOKEN_PATH = "/oauth/token"
INTERNAL = errors.INTERNAL
UNAVAILABLE = errors.UNAVAILABLE
RATE_WINDOW_S = 1.0  # "within a second" (api §7)
COUNTERS = ("requests", "latency", "error", "throttle", "drop", "lost_after_commit", "rate_limited")

Latency = float | tuple[float, float]


class DropConnection(Exception):
    """Raised by `FaultInjector` to have the server close the connection without any response."""


@dataclass(frozen=True)
class Faults:
    """Which faults to inject, and how often; the default injects nothing."""

    seed: int | None = None
    latency_ms: Latency = 0
    error_rate: float = 0
    throttle_rate: float = 0
    retry_after_s: float = 1
    drop_rate: float = 0
    lost_after_commit_rate: float = 0
    token_ttl_s: float | None = None
    rate_limit_per_s: float | None = None
    include_token: bool = False

    def __post_init__(self) -> None:
        for problem in self._problems():
            raise ValueError(problem)

    def _problems(self) -> Iterable[str]:
        low, high = _latency_range(self.latency_ms)
        if not 0 <= low <= high:
            yield "latency_ms must be a number >= 0, or a range [low, high] with 0 <= low <= high"
        for name in ("error_rate", "throttle_rate", "drop_rate", "lost_after_commit_rate"):
            if not 0 <= getattr(self, name) <= 1:
                yield f"{name} must be between 0 and 1"
        if self.error_rate + self.throttle_rate + self.drop_rate + self.lost_after_commit_rate > 1:
            yield "error_rate, throttle_rate, drop_rate and lost_after_commit_rate must add up to 1 at most"
        if self.retry_after_s < 0:
            yield "retry_after_s must be >= 0"
        for name in ("token_ttl_s", "rate_limit_per_s"):
            if getattr(self, name) is not None and getattr(self, name) <= 0:
                yield f"{name} must be > 0 when given"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Faults:
        """Build faults from JSON-like data (the admin route's body); raise ValueError on a bad field."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"Unknown fault setting {unknown[0]}; known ones: {', '.join(sorted(known))}")
        values = {name: _checked(name, value) for name, value in data.items()}
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as JSON-ready data (a latency range as a list)."""
        data = asdict(self)
        if isinstance(self.latency_ms, tuple):
            data["latency_ms"] = list(self.latency_ms)
        return data

    def describe(self) -> str:
        """Name the settings that differ from the defaults, e.g. ``error_rate=0.05, seed=7``; or ``none``."""
        default = Faults()
        changed = [f"{k}={v}" for k, v in self.to_dict().items() if v != default.to_dict()[k]]
        return ", ".join(changed) or "none"


class FaultInjector:
    """WSGI middleware injecting `Faults` into the requests it passes to ``app``.

    ``clock`` (monotonic seconds) drives the per-operation rate limit and ``sleep`` the latency;
    tests may pass their own. Replace ``injector.faults`` at any time (the random sequence restarts
    from the new seed) or use ``PUT /emulator/admin/faults``.
    """

    def __init__(
        self,
        app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]],
        faults: Faults | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.app = app
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(COUNTERS, 0)
        # The emulator's own token lifetime, restored when token_ttl_s goes back to None.
        self._base_ttl = app.config.token_ttl_seconds if isinstance(app, Emulator) else None
        self.faults = faults or Faults()

    @property
    def faults(self) -> Faults:
        """The faults in force."""
        return self._faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._apply_token_ttl(faults.token_ttl_s)
        with self._lock:
            self._faults = faults
            self._rng = random.Random(faults.seed)
            self._windows: dict[str, deque[float]] = {}

    @property
    def counts(self) -> dict[str, int]:
        """How many faultable requests were seen, and how many of each fault were injected."""
        with self._lock:
            return dict(self._counts)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Answer the admin route, pass unfaultable requests through, fault the others."""
        path = environ.get("PATH_INFO", "") or "/"
        if path == ADMIN_PATH:
            return self._admin(environ, start_response)
        if not self._faultable(path):
            return self.app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET").upper()
        latency, outcome, retry_after = self._decide(method, path)
        if latency > 0:
            self.sleep(latency / 1000)
        return self._answer(outcome, retry_after, environ, start_response)

    # Deciding ----------------------------------------------------------------------------------

    def _faultable(self, path: str) -> bool:
        return path.startswith(FAULTABLE_PREFIX) or (self._faults.include_token and path == TOKEN_PATH)

    def _decide(self, method: str, path: str) -> tuple[float, str, float]:
        """Return (latency in ms, outcome, Retry-After seconds); the same draws for every request."""
        operation = self._operation(method, path) if self._faults.rate_limit_per_s is not None else ""
        with self._lock:
            faults = self._faults
            low, high = _latency_range(faults.latency_ms)
            latency = self._rng.uniform(low, high) if high > low else low
            roll = self._rng.random()
            wait = self._rate_limit_wait(operation, faults.rate_limit_per_s)
            outcome = "rate_limited" if wait is not None else _outcome(faults, roll)
            self._counts["requests"] += 1
            self._counts["latency"] += latency > 0
            if outcome != "pass":
                self._counts[outcome.split(":")[0]] += 1
        return latency, outcome, faults.retry_after_s if wait is None else wait

    def _operation(self, method: str, path: str) -> str:
        """``METHOD template`` for the path, asking the emulator's router; the bare path otherwise."""
        if isinstance(self.app, Emulator):
            try:
                route, _ = self.app.router.resolve(method, path)
            except HttpError:  # 404/405: the app will answer that itself
                return f"{method} {path}"
            return f"{method} {route.template}"
        return f"{method} {path}"

    def _rate_limit_wait(self, operation: str, limit: float | None) -> float | None:
        """Record a request on the operation; return the seconds to wait if it is over the limit."""
        if limit is None:
            return None
        now = self.clock()
        window = self._windows.setdefault(operation, deque())
        while window and window[0] <= now - RATE_WINDOW_S:
            window.popleft()
        if len(window) >= limit:  # refused requests are not counted: they never reached the operation
            return window[0] + RATE_WINDOW_S - now
        window.append(now)
        return None

    def _apply_token_ttl(self, ttl: float | None) -> None:
        if ttl is not None and not isinstance(self.app, Emulator):
            raise ValueError("token_ttl_s works only when the injector wraps the Emulator app itself")
        if isinstance(self.app, Emulator) and self._base_ttl is not None:
            # a whole number of seconds shows in expiresIn as "60", not "60.0"
            seconds = self._base_ttl if ttl is None else int(ttl) if float(ttl).is_integer() else ttl
            self.app.config = replace(self.app.config, token_ttl_seconds=seconds)

    def _admits(self, authorization: str) -> bool:
        # Only the emulator knows its credentials; in front of any other app nobody gets in.
        return isinstance(self.app, Emulator) and self.app.admits(authorization)

    # Answering ---------------------------------------------------------------------------------

    def _answer(
        self, outcome: str, retry_after: float, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        if outcome == "drop":
            raise DropConnection("fault injected: connection dropped before the request was processed")
        if outcome == "lost_after_commit":
            _run_to_completion(self.app, environ)
            raise DropConnection("fault injected: response lost after the request was committed")
        if outcome in ("throttle", "rate_limited"):
            # Throttling is the gateway's, so it answers in the gateway's bare shape (api §21.4, §22.9).
            headers = [("Retry-After", _seconds_header(retry_after, whole=outcome == "rate_limited"))]
            return _json(
                start_response, 429, gateway_body(errors.SPIKE_ARREST, errors.SPIKE_ARREST_TEXT), headers
            )
        if outcome == "error:500":
            return _error(start_response, 500, INTERNAL, "Internal error (injected fault); retry later")
        if outcome == "error:503":
            return _error(
                start_response, 503, UNAVAILABLE, "Service unavailable (injected fault); retry later"
            )
        return self.app(environ, start_response)

    def _admin(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """``GET``/``PUT /emulator/admin/faults``: show, or replace, the faults; never faulted."""
        try:
            admin.check(environ, self._admits)
        except HttpError as refused:
            return _json(start_response, refused.status, error_body(refused.errors))
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if method == "PUT":
            try:
                self.faults = Faults.from_dict(_json_body(environ))
            except (ValueError, TypeError) as error:
                return _error(start_response, 400, errors.BAD_REQUEST, str(error), parameter="body")
        elif method != "GET":
            message = f"{method} is not allowed on {ADMIN_PATH}"
            return _error(start_response, 405, errors.METHOD_NOT_ALLOWED, message, [("Allow", "GET, PUT")])
        return _json(start_response, 200, {"faults": self.faults.to_dict(), "counts": self.counts})


# Helpers ----------------------------------------------------------------------------------------


def _outcome(faults: Faults, roll: float) -> str:
    """Map one uniform draw onto the exclusive bands of the rates."""
    bands = [
        ("drop", faults.drop_rate),
        ("throttle", faults.throttle_rate),
        ("error:500", faults.error_rate / 2),
        ("error:503", faults.error_rate / 2),
        ("lost_after_commit", faults.lost_after_commit_rate),
    ]
    edge = 0.0
    for outcome, rate in bands:
        edge += rate
        if roll < edge:
            return outcome
    return "pass"


def _latency_range(latency: Latency) -> tuple[float, float]:
    return (latency[0], latency[1]) if isinstance(latency, tuple) else (latency, latency)


def _checked(name: str, value: Any) -> Any:
    """Type-check one JSON value for the `Faults` field ``name``; lists become tuples."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if name == "include_token":
        ok = isinstance(value, bool)
    elif name == "seed":
        ok = value is None or (isinstance(value, int) and not isinstance(value, bool))
    elif name == "latency_ms" and isinstance(value, list | tuple):
        ok = len(value) == 2 and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        value = tuple(value)
    elif name in ("token_ttl_s", "rate_limit_per_s"):
        ok = value is None or number
    else:
        ok = number
    if not ok:
        raise ValueError(f"{name} has the wrong type: {value!r}")
    return value


def _seconds_header(seconds: float, whole: bool) -> str:
    """A Retry-After value: whole seconds (rounded up, at least 1) for the rate limit, else as set."""
    if whole:
        return str(max(1, math.ceil(seconds)))
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


def _run_to_completion(
    app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]], env: dict[str, Any]
) -> None:
    """Call ``app`` and consume its whole response, which nobody will see."""

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        return lambda data: None

    result = app(env, start_response)
    try:
        for _ in result:
            pass
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()


def _json_body(environ: dict[str, Any]) -> dict[str, Any]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    try:
        value = json.loads(raw or b"{}")
    except ValueError as error:
        raise ValueError(f"The request body is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise TypeError("The request body must be a JSON object of fault settings")
    return value


def _error(
    start_response: StartResponse,
    status: int,
    code: str,
    message: str,
    headers: list[tuple[str, str]] | None = None,
    parameter: str | None = None,
) -> list[bytes]:
    return _json(start_response, status, error_body([detail(code, message, parameter)]), headers)


def _json(
    start_response: StartResponse, status: int, body: Any, headers: list[tuple[str, str]] | None = None
) -> list[bytes]:
    payload = json.dumps(body).encode("utf-8")
    phrase = HTTPStatus(status).phrase
    start_response(
        f"{status} {phrase}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(payload))), *(headers or [])],
    )
    return [payload]
