"""A served emulator for the over-HTTP tests: real sockets on 127.0.0.1, a fault injector, clocks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from loader.emulator import Emulator, create_app
from loader.emulator.faults import FaultInjector, Faults
from loader.emulator.server import EmulatorServer

from .helpers import ADMIN_AUTH, Api, FakeClock, fetch_token


@dataclass
class Served:
    """One emulator behind a fault injector behind a server, and a client that talks to it."""

    emulator: Emulator
    injector: FaultInjector
    server: EmulatorServer
    client: httpx.Client
    clock: FakeClock  # the emulator's clock (token expiry, record dates)
    fault_clock: FakeClock  # the injector's clock (rate-limit windows)

    def api(self) -> Api:
        """An `Api` with a fresh token, fetched while no faults are set."""
        return Api(self.client, fetch_token(self.client))

    def set_faults(self, **settings: object) -> None:
        """Replace the faults through the admin route, as a user of the served emulator would."""
        response = self.client.put("/emulator/admin/faults", json=settings, auth=ADMIN_AUTH)
        assert response.status_code == 200, response.text


@contextmanager
def served(faults: Faults | None = None) -> Iterator[Served]:
    """Serve a fresh in-memory emulator on a free port; stop it and close everything afterwards."""
    clock, fault_clock = FakeClock(), FakeClock(0.0)
    emulator = create_app(clock=clock)
    injector = FaultInjector(emulator, faults, clock=fault_clock)
    with EmulatorServer(injector) as server, httpx.Client(base_url=server.url, timeout=5) as client:
        yield Served(emulator, injector, server, client, clock, fault_clock)
    emulator.close()
