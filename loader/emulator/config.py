"""Settings of one emulated Fulfillment API account."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EmulatorConfig:
    """The single client account the emulator serves, and its limits.

    ``nodes`` are the fulfillment centre IDs the API accepts (api §16, §21.6); the docs list only
    CVG, ID ``157``. ``max_bulk_items`` is the documented bulk limit (api §4). ``org`` is what the
    token answer's ``org`` says (api §21.5; PB's value for an account is not in our copies).
    """

    client_id: str = "pbload-local"
    api_key: str = "local-key"
    api_secret: str = "local-secret"
    org: str = "pbload-local-org"
    token_ttl_seconds: float = 35999
    nodes: tuple[str, ...] = ("157",)
    max_bulk_items: int = 200
