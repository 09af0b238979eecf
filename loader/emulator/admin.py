"""Who may use the emulator's control plane (``/emulator/admin/...``), and from where.

The emulator has no real security: its credentials are printed when it starts and the defaults are
public. These checks are there so that a web page open in the user's browser cannot drive it (a
cross-site ``text/plain`` form post once cancelled an order). In this order:

1. ``Host`` must name this server as a loopback name, an IP address or the name it was reached by
   when built (``SERVER_NAME``); otherwise a page on a DNS name rebound to 127.0.0.1 would count as
   same-origin. 403.
2. ``Origin``, when a browser sends one, must be the server's own (``http://`` + ``Host``). 403.
3. Credentials: HTTP Basic with the emulator's API key and secret, or a bearer token from
   ``/oauth/token``. 401.
4. A ``POST`` or ``PUT`` must say ``Content-Type: application/json``: a form cannot send that to
   another site without the browser asking first (a CORS preflight, which the emulator never grants). 415.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from typing import Any

from . import errors
from .errors import HttpError

PREFIX = "/emulator/admin/"
JSON_TYPE = "application/json"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
LOOPBACK_NAMES = frozenset({"localhost"})
CREDENTIALS_TEXT = (
    "The emulator's control plane needs its credentials: HTTP Basic with its API key and "
    "secret, or a bearer token from /oauth/token"
)

# Whether an Authorization header value carries the emulator's credentials.
Admits = Callable[[str], bool]


def is_admin(path: str) -> bool:
    """Whether ``path`` belongs to the control plane."""
    return path.startswith(PREFIX)


def check(environ: Mapping[str, Any], admits: Admits) -> None:
    """Raise `HttpError` (403, 401 or 415) unless the WSGI request may use the control plane."""
    host = str(environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or "")
    if not _own_host(host, str(environ.get("SERVER_NAME") or "")):
        raise HttpError.single(
            403, errors.FORBIDDEN, f"Host {host or '(none)'} does not name this emulator", "Host"
        )
    origin = environ.get("HTTP_ORIGIN")
    if (
        origin is not None
        and origin.rstrip("/").lower() != f"{environ.get('wsgi.url_scheme', 'http')}://{host}".lower()
    ):
        raise HttpError.single(403, errors.FORBIDDEN, "Requests from other origins are refused", "Origin")
    if not admits(str(environ.get("HTTP_AUTHORIZATION") or "")):
        raise HttpError.single(401, errors.UNAUTHORIZED, CREDENTIALS_TEXT, "Authorization")
    method = str(environ.get("REQUEST_METHOD") or "GET").upper()
    content_type = str(environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
    if method in BODY_METHODS and content_type != JSON_TYPE:
        raise HttpError.single(
            415,
            errors.BAD_REQUEST,
            f"Content-Type must be {JSON_TYPE}",
            "Content-Type",
            f"Given: {content_type or 'none'}",
        )


def _own_host(host: str, server_name: str) -> bool:
    """A loopback name, an IP address, or the server's own name (the port is not checked)."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]").lower()
    if name in LOOPBACK_NAMES or name.endswith(".localhost") or name == server_name.lower():
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
