"""Fixtures for the emulator tests: a movable clock, an emulator, and an authenticated client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from loader.emulator import Emulator, create_app

from .helpers import Api, FakeClock, fetch_token, http_client


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(clock: FakeClock) -> Iterator[Emulator]:
    app = create_app(clock=clock)
    yield app
    app.close()


@pytest.fixture
def client(emulator: Emulator) -> Iterator[httpx.Client]:
    with http_client(emulator) as client:
        yield client


@pytest.fixture
def api(client: httpx.Client) -> Api:
    return Api(client, fetch_token(client))
