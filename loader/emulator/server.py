"""The emulator over real HTTP: a threaded HTTP/1.1 server for any WSGI app, standard library only.

`EmulatorServer` runs a WSGI app (normally the emulator wrapped in a `faults.FaultInjector`) on a
socket, one daemon thread per connection, with keep-alive: every response carries ``Content-Length``
and the connection stays open unless the client asks to close it. ``wsgiref`` is not used because its
handler answers one request per connection. The app's response is buffered whole and written in one
``send``, which with ``TCP_NODELAY`` avoids the delayed-ACK stall of a header-then-body write.

When the app raises `faults.DropConnection` the socket is shut down without a byte of response, as a
dropped connection looks to a client. `serve` is what ``pbload emulator serve`` runs.
"""

from __future__ import annotations

import io
import ipaddress
import json
import logging
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import unquote

from . import errors
from .app import StartResponse, create_app
from .config import EmulatorConfig
from .errors import detail, error_body
from .faults import INTERNAL, DropConnection, FaultInjector, Faults

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8790  # DESIGN §8
IDLE_TIMEOUT_S = 30  # a keep-alive connection with no request for this long is closed
POLL_INTERVAL_S = 0.05  # how quickly stop() is noticed
LISTEN_BACKLOG = 128  # many clients may connect at once
MAX_BODY_BYTES = 64 * 1024 * 1024
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer"}

WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
logger = logging.getLogger(__name__)


class EmulatorServer:
    """Serve ``app`` over HTTP on ``host``:``port`` (0: a free port); bound as soon as it is built.

    Use ``start()``/``stop()`` (or ``with``) to serve from a background thread, or ``serve_forever()``
    to serve from the calling thread until ``stop()`` or KeyboardInterrupt.
    """

    def __init__(
        self, app: WsgiApp, host: str = DEFAULT_HOST, port: int = 0, *, verbose: bool = False
    ) -> None:
        self._httpd = _HttpServer((host, port), app, verbose)
        self._thread: threading.Thread | None = None
        self._serving = False
        self._stopped = False

    @property
    def host(self) -> str:
        """The address listened on."""
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        """The port listened on (the one picked, when built with port 0)."""
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The root URL, e.g. ``http://127.0.0.1:54321``; pbload appends ``/oauth/token`` and the rest."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> Self:
        """Serve from a daemon thread; return self."""
        self._serving = True  # before the thread runs, so an immediate stop() still waits for it
        self._thread = threading.Thread(target=self._loop, name=f"emulator-server-{self.port}", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve from the calling thread until `stop` is called from another one (or an exception)."""
        self._serving = True
        self._loop()

    def stop(self) -> None:
        """Stop accepting, close open connections and the listening socket; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        if self._serving:
            self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()

    def _loop(self) -> None:
        try:
            self._httpd.serve_forever(poll_interval=POLL_INTERVAL_S)
        finally:
            self._serving = False

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


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, address: tuple[str, int], app: WsgiApp, verbose: bool) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.app = app
        self.verbose = verbose
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can stall on DNS; the address will do.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that goes away mid-answer is normal (time-outs, dropped faults); anything else is a bug.
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            logger.exception("The emulator's server failed on a connection from %s", client_address)

    def close_connections(self) -> None:
        """Shut down every open connection, so keep-alive clients cannot reach a stopped server."""
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            _shut(connection)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "pbload-emulator"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT_S
    server: _HttpServer

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except _BadRequest as problem:
            self.close_connection = True  # the rest of the stream cannot be trusted
            self._write(*_error_response(problem.status, str(problem)))
            return
        try:
            status, headers, payload = _call(self.server.app, self._environ(body))
        except DropConnection:
            self.close_connection = True
            _shut(self.connection)
            return
        except Exception:
            logger.exception("The emulator failed on %s %s", self.command, self.path)
            status, headers, payload = _error_response(500, "The emulator failed; see its log")
        self._write(status, headers, payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise _BadRequest(400, "Content-Length is not a number") from None
        if length < 0 or length > MAX_BODY_BYTES:
            raise _BadRequest(413 if length > 0 else 400, f"The body must be 0 to {MAX_BODY_BYTES} bytes")
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            try:
                size = int(self.rfile.readline(1024).split(b";")[0].strip() or b"x", 16)
            except ValueError:
                raise _BadRequest(400, "Malformed chunked body") from None
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers, up to the blank line
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                raise _BadRequest(413, f"The body must be 0 to {MAX_BODY_BYTES} bytes")
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _environ(self, body: bytes) -> dict[str, Any]:
        path, _, query = self.path.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(path, "latin-1"),  # PEP 3333: bytes as latin-1 text
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "SERVER_NAME": self.server.server_name,
            "SERVER_PORT": str(self.server.server_port),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ

    def _write(self, status: str, headers: list[tuple[str, str]], payload: bytes) -> None:
        kept = [(name, value) for name, value in headers if name.lower() not in HOP_BY_HOP]
        names = {name.lower() for name, _ in kept}
        if "content-length" not in names:
            kept.append(("Content-Length", str(len(payload))))
        if "date" not in names:
            kept.append(("Date", self.date_time_string()))
        kept.append(("Server", self.server_version))
        if self.close_connection:
            kept.append(("Connection", "close"))
        head = f"{self.protocol_version} {status}\r\n" + "".join(f"{n}: {v}\r\n" for n, v in kept) + "\r\n"
        self.wfile.write(head.encode("latin-1") + (b"" if self.command == "HEAD" else payload))
        if self.server.verbose:
            self.log_request(status.split(" ")[0], len(payload))

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


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


def _shut(connection: socket.socket) -> None:
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed by the other side
        pass
