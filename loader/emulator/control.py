"""The emulator's control plane for people and scripts: move an item along, on a state file or over HTTP.

Used by `pbload emulator advance`; it plays the warehouse (receiving, picking, shipping), which PB's
API has no operation for.
"""

from __future__ import annotations

import os
from typing import Any

import httpx

from loader.errors import ControlError

from .app import ADVANCE_PATH, create_app
from .config import EmulatorConfig
from .errors import HttpError

# What a served emulator accepts unless started with --api-key / --api-secret.
DEFAULT_CREDENTIALS = (EmulatorConfig().api_key, EmulatorConfig().api_secret)
# What people type -> the name `Emulator.advance` knows.
ADVANCE_NAMES = {
    "order": "order",
    "orders": "order",
    "asn": "asn",
    "asns": "asn",
    "work-order": "workOrder",
    "work-orders": "workOrder",
    "workorder": "workOrder",
    "return": "return",
    "returns": "return",
}


def advance(
    resource: str,
    key: str,
    status: str,
    db_path: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
    credentials: tuple[str, str] = DEFAULT_CREDENTIALS,
) -> dict[str, Any]:
    """Move `resource` `key` to `status` in the emulator at `base_url`, or in the state file `db_path`.

    Over HTTP the control plane wants the served emulator's `credentials` (API key, API secret).
    """
    name, status = ADVANCE_NAMES[resource.lower()], status.upper()
    if base_url:
        return _advance_served(base_url, name, key, status, credentials)
    app = create_app(db_path)
    try:
        return app.advance(name, key, status)
    except HttpError as exc:
        raise ControlError(" ".join(e.description for e in exc.errors)) from exc
    finally:
        app.close()


def _advance_served(
    base_url: str, name: str, key: str, status: str, credentials: tuple[str, str]
) -> dict[str, Any]:
    url = base_url.rstrip("/") + ADVANCE_PATH
    try:
        response = httpx.post(
            url, json={"resource": name, "id": key, "status": status}, auth=credentials, timeout=30
        )
    except httpx.TransportError as exc:
        raise ControlError(
            f"No answer from {base_url} ({exc}). Is `pbload emulator serve` running there?"
        ) from exc
    if response.status_code == 401:
        raise ControlError(
            f"The emulator at {base_url} refused the API key and secret. Set PB_API_KEY and "
            "PB_API_SECRET to the ones `pbload emulator serve` printed."
        )
    body = response.json() if response.content else {}
    if response.status_code != 200:
        raise ControlError(
            " ".join(e.get("errorDescription", "") for e in body.get("errors", []))
            or f"HTTP {response.status_code} from {url}."
        )
    return body
