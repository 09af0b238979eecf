"""A local stand-in for the Pitney Bowes Fulfillment API, in the spirit of moto.

It models the API (api/fulfillment-api.md and our §21 contract), never the loader's spreadsheets,
so it imports nothing from the rest of ``loader`` (but for the one exception its control client raises,
``loader.errors.ControlError``). Reach it in-process with::

    emulator = create_app()                      # or create_app("state.db") to keep state
    client = httpx.Client(transport=httpx.WSGITransport(app=emulator), base_url="http://emulator.local")

Layout: ``store`` keeps state in SQLite; one module per resource (``products``, ``orders``,
``asns``, ``inventory``, ``shipments``, ...) holds that resource's rules and routes; ``app`` is the
WSGI layer (routing, OAuth, headers, error bodies) and ``Emulator.advance`` plays the fulfillment
centre, moving orders, ASNs... along their status chains.
"""

from .app import Emulator, create_app
from .config import EmulatorConfig

__all__ = ["Emulator", "EmulatorConfig", "create_app"]
