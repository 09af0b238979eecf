"""The emulator over real HTTP: any WSGI app served by cheroot, CherryPy's threaded HTTP/1.1 server.

`EmulatorServer` runs a WSGI app (normally the emulator wrapped in a `faults.FaultInjector`) on a
socket, with a pool of worker threads and keep-alive: every answer carries ``Content-Length`` and the
connection stays open unless the client asks to close it. Between the server and the app sits
`_Exchange`, which does what the fault injection and the emulator need of the HTTP side:

* the request body is read whole first (``Content-Length`` or chunked, at most `MAX_BODY_BYTES`),
  so the app always sees a plain ``wsgi.input`` of ``CONTENT_LENGTH`` bytes;
* the answer is buffered whole and sent with its ``Content-Length``;
* when the app raises `faults.DropConnection` the connection is closed without a byte of response
  (as a dropped connection, or an answer lost after the commit, looks to a client): the exchange
  raises `ConnectionAbortedError`, which cheroot treats as a peer gone away and closes the socket;
* an app that fails answers a JSON 500 (``EMU-INTERNAL``) and the server goes on serving.

`serve` is what ``pbload emulator serve`` runs.
"""

from __future__ import annotations

import errno
import io
import ipaddress
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self

from cheroot import wsgi

from loader.memory import collected_seldom

from . import errors
from .app import StartResponse, create_app
from .config import EmulatorConfig
from .errors import detail, error_body
from .faults import INTERNAL, DropConnection, FaultInjector, Faults

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8790  # DESIGN §8
SERVER_NAME = "pbload-emulator"  # the Server header
WORKER_THREADS = 80  # requests answered at once: the loader's 64 connections at most, plus its look-ups
KEEP_ALIVE_LIMIT = 256  # idle keep-alive connections held open (cheroot closes the ones beyond)
IDLE_TIMEOUT_S = 30  # a keep-alive connection with no request for this long is closed
POLL_INTERVAL_S = 0.05  # how quickly stop() is noticed
LISTEN_BACKLOG = 128  # many clients may connect at once
MAX_BODY_BYTES = 64 * 1024 * 1024
YOUNG_COLLECTION = 20_000  # new containers between collections of the youngest generation (`serve`)
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer"}

WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
logger = logging.getLogger(__name__)


class EmulatorServer:
    """Serve ``app`` over HTTP on ``host``:``port`` (0: a free port); bound as soon as it is built.

    Use ``start()``/``stop()`` (or ``with``) to serve from a background thread, or ``serve_forever()``
    to serve from the calling thread until ``stop()`` or KeyboardInterrupt. Raises OSError when the
    address cannot be bound.
    """

    def __init__(
        self, app: WsgiApp, host: str = DEFAULT_HOST, port: int = 0, *, verbose: bool = False
    ) -> None:
        self._server = _Server((host, port), _Exchange(app, host, verbose))
        self._server.bind_now()
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._done = threading.Event()

    @property
    def host(self) -> str:
        """The address listened on."""
        return str(self._server.bind_addr[0])

    @property
    def port(self) -> int:
        """The port listened on (the one picked, when built with port 0)."""
        return int(self._server.bind_addr[1])

    @property
    def url(self) -> str:
        """The root URL, e.g. ``http://127.0.0.1:54321``; pbload appends ``/oauth/token`` and the rest."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> Self:
        """Serve from a daemon thread; return self."""
        self._thread = threading.Thread(
            target=self._server.serve, name=f"emulator-server-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve until `stop` is called from another thread, or KeyboardInterrupt (which stops first).

        cheroot runs in its own thread even here, so that a Ctrl+C interrupts this wait and never
        cheroot halfway through handing over a connection.
        """
        self.start()
        try:
            while not self._done.wait(POLL_INTERVAL_S):
                pass
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop accepting, close open connections (kept-alive ones too) and the listening socket; safe
        to call twice."""
        if self._stopped:
            return
        self._stopped = True
        self._server.stop()
        if self._thread is not None:
            self._thread.join()
        self._done.set()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def serve(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    db_path: str | os.PathLike[str] | None = None,
    config: EmulatorConfig | None = None,
    faults: Faults | None = None,
    out: Callable[[str], Any] = print,
    *,
    verbose: bool = False,
) -> None:
    """Serve an emulator (state in ``db_path``, or memory) until KeyboardInterrupt; say how to reach it.

    Raises OSError when the address cannot be bound (e.g. the port is in use).
    """
    config = config or EmulatorConfig()
    app = create_app(db_path, config)
    try:
        server = EmulatorServer(FaultInjector(app, faults), host, port, verbose=verbose)
        for line in banner(server.url, config, db_path, faults or Faults()):
            out(line)
        try:
            # each bulk call parses and drops thousands of containers, next to none in a cycle, and with
            # several in flight the default collector walked them again and again, up the generations (a
            # tenth of the served emulator's time)
            with collected_seldom(YOUNG_COLLECTION):
                server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
    finally:
        app.close()
    out("Emulator stopped.")


def banner(
    url: str, config: EmulatorConfig, db_path: str | os.PathLike[str] | None, faults: Faults
) -> list[str]:
    """The lines `serve` prints: where it listens, its state, faults, and the credentials to use."""
    credentials = (
        f"PB_CLIENT_ID={config.client_id} PB_API_KEY={config.api_key} PB_API_SECRET={config.api_secret}"
    )
    return [
        f"Fulfillment API emulator listening on {url}",
        f"State: {db_path if db_path is not None else 'in memory (lost when stopped)'}",
        f"Faults: {faults.describe()} (change them with PUT {url}/emulator/admin/faults, as Basic auth the "
        "API key and secret below)",
        f"Client ID: {config.client_id}  API key: {config.api_key}  API secret: {config.api_secret}",
        f"Try: {credentials} pbload load FILE --env local --base-url {url}",
        "Press Ctrl+C to stop.",
    ]


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable only from this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name that may resolve to anything


def exposure_warning(host: str) -> str | None:
    """What `pbload emulator serve` says on stderr when ``host`` lets other machines in; None on loopback."""
    if is_loopback(host):
        return None
    return (
        f"Warning: listening on {host}, so other machines can reach the emulator. It has no real security: "
        "its credentials are printed below and anyone who can reach it can read and change its data. "
        f"Use --host {DEFAULT_HOST} unless that is what you want."
    )


# The HTTP side ----------------------------------------------------------------------------------


class _Server(wsgi.Server):
    """cheroot's WSGI server with the emulator's sizes, its errors in the log, and bind errors as they are."""

    expiration_interval = (
        POLL_INTERVAL_S  # the connection loop's tick: how soon stop() and idle time-outs act
    )
    keep_alive_conn_limit = KEEP_ALIVE_LIMIT

    def __init__(self, address: tuple[str, int], app: WsgiApp) -> None:
        super().__init__(
            address,
            app,
            numthreads=WORKER_THREADS,
            max=WORKER_THREADS,
            server_name=SERVER_NAME,
            request_queue_size=LISTEN_BACKLOG,
            timeout=IDLE_TIMEOUT_S,
        )
        self._bind_error: OSError | None = None

    def bind_now(self) -> None:
        """Bind and listen (cheroot's ``prepare``); raise the OSError of the bind itself if it fails."""
        try:
            self.prepare()
        except OSError as error:
            # cheroot folds the cause into a message; the caller wants its errno and strerror
            raise (self._bind_error or error) from None

    def bind(self, family: Any, type: Any, proto: int = 0) -> Any:
        try:
            return super().bind(family, type, proto)
        except OSError as error:
            self._bind_error = error
            raise

    def error_log(self, msg: str = "", level: int = 20, traceback: bool = False) -> None:
        logger.log(level, "%s", msg, exc_info=traceback)


class _Exchange:
    """The WSGI layer between cheroot and the app: a whole body in, a whole answer out (see the module)."""

    def __init__(self, app: WsgiApp, host: str, verbose: bool) -> None:
        self.app = app
        self.host = host
        self.verbose = verbose

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        # The control plane's own-host check compares the Host header with the address listened on.
        environ["SERVER_NAME"] = self.host
        status, headers, payload = self._answer(environ)
        kept = [(name, value) for name, value in headers if name.lower() not in HOP_BY_HOP]
        if not any(name.lower() == "content-length" for name, _ in kept):
            kept.append(("Content-Length", str(len(payload))))
        if self.verbose:
            _log_request(environ, status, len(payload))
        start_response(status, kept)
        return [payload]

    def _answer(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        try:
            body = _read_body(environ)
        except _BadRequest as problem:
            return _error_response(problem.status, str(problem))
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)  # the body is now a plain one
        try:
            return _call(self.app, environ)
        except DropConnection as drop:
            # cheroot closes a connection whose peer is gone (ECONNABORTED) without answering
            raise ConnectionAbortedError(errno.ECONNABORTED, str(drop)) from None
        except Exception:
            logger.exception(
                "The emulator failed on %s %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
            )
            return _error_response(500, "The emulator failed; see its log")


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _read_body(environ: dict[str, Any]) -> bytes:
    """The whole request body, by its Content-Length or its chunks; raise `_BadRequest` if it is too big."""
    stream = environ["wsgi.input"]
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        try:
            body = stream.read(MAX_BODY_BYTES + 1)
        except ValueError:  # cheroot's word for a malformed chunk
            raise _BadRequest(400, "Malformed chunked body") from None
        if len(body) > MAX_BODY_BYTES:
            raise _BadRequest(413, f"The body must be 0 to {MAX_BODY_BYTES} bytes")
        return bytes(body)
    length = int(environ.get("CONTENT_LENGTH") or 0)  # cheroot has refused one that is not a number
    if length > MAX_BODY_BYTES:
        raise _BadRequest(413, f"The body must be 0 to {MAX_BODY_BYTES} bytes")
    return bytes(stream.read(length)) if length > 0 else b""


def _call(app: WsgiApp, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """Run the WSGI app to completion; return its status, headers and whole body."""
    started: list[tuple[str, list[tuple[str, str]]]] = []
    chunks: list[bytes] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], Any]:
        if exc_info is not None and started:
            raise exc_info[1].with_traceback(exc_info[2])
        started[:] = [(status, headers)]
        return chunks.append

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if not started:
        raise RuntimeError("The WSGI app returned without calling start_response")
    return started[0][0], started[0][1], b"".join(chunks)


def _error_response(status: int, message: str) -> tuple[str, list[tuple[str, str]], bytes]:
    code = errors.BAD_REQUEST if status < 500 else INTERNAL
    payload = json.dumps(error_body([detail(code, message)])).encode("utf-8")
    return f"{status} {HTTPStatus(status).phrase}", [("Content-Type", "application/json")], payload


def _log_request(environ: dict[str, Any], status: str, size: int) -> None:
    """One line per request on stderr, as ``--verbose`` promises (the common log format)."""
    when = time.strftime("%d/%b/%Y %H:%M:%S")
    query = f"?{environ['QUERY_STRING']}" if environ.get("QUERY_STRING") else ""
    line = (
        f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}{query} {environ.get('SERVER_PROTOCOL')}"
    )
    sys.stderr.write(
        f'{environ.get("REMOTE_ADDR", "-")} - - [{when}] "{line}" {status.split(" ")[0]} {size}\n'
    )
