"""The rate limiter against a simulated server, on a fake clock: no wall-clock time, no threads."""

from __future__ import annotations

import math
from collections import deque

import pytest

from loader.api.ratelimit import STEP_RPS, RateLimiter

LATENCY_S = 0.010


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class SimulatedServer:
    """Grants `limit` requests in any one second; above it answers with a Retry-After in whole seconds,
    like the emulator's --rate-limit."""

    def __init__(self, clock: FakeClock, limit: float) -> None:
        self.clock = clock
        self.limit = limit
        self.window: deque[float] = deque()
        self.granted: list[float] = []
        self.throttled: list[tuple[float, float]] = []  # (when, Retry-After)

    def request(self) -> float | None:
        """None if granted, else the Retry-After seconds."""
        now = self.clock.now
        while self.window and self.window[0] <= now - 1.0:
            self.window.popleft()
        if len(self.window) >= self.limit:
            retry_after = max(1, math.ceil(self.window[0] + 1.0 - now))
            self.throttled.append((now, retry_after))
            return retry_after
        self.window.append(now)
        self.granted.append(now)
        return None


def run(limit: float, max_rps: float = 100.0, seconds: float = 60.0) -> tuple[SimulatedServer, RateLimiter]:
    """One caller sending as fast as the limiter lets it, retrying a throttled request after Retry-After."""
    clock = FakeClock()
    server = SimulatedServer(clock, limit)
    limiter = RateLimiter(max_rps, clock=clock, sleep=clock.sleep)
    while clock.now < seconds:
        limiter.acquire()
        retry_after = server.request()
        clock.sleep(LATENCY_S)
        if retry_after is None:
            limiter.passed()
        else:
            limiter.throttled(retry_after)
            clock.sleep(retry_after)  # the client's own wait before trying this request again
    return server, limiter


def share_reached(server: SimulatedServer, seconds: float = 60.0) -> float:
    return sum(1 for t in server.granted if t < seconds) / (server.limit * seconds)


@pytest.mark.parametrize("limit", [20, 50, 100])  # below ~10/s the fixed step is too coarse for 90%
def test_a_throttled_operation_keeps_most_of_the_servers_limit(limit):
    server, _ = run(limit)
    assert share_reached(server) >= 0.9


def test_no_request_leaves_before_the_retry_after():
    server, _ = run(20)
    assert server.throttled  # the limit was found by being throttled
    for when, retry_after in server.throttled:
        assert not [t for t in server.granted if when < t < when + retry_after]


def test_a_throttle_slows_down_to_just_under_what_was_granted_not_by_half():
    clock = FakeClock()
    limiter = RateLimiter(100, clock=clock, sleep=clock.sleep)
    for _ in range(20):  # 20 granted in the last second
        clock.sleep(0.05)
        limiter.passed()
    limiter.throttled(1)
    assert limiter.rate == pytest.approx(19)
    limiter.throttled(1)  # a request sent before the pause: answered during it, not counted again
    assert limiter.rate == pytest.approx(19)


def test_the_rate_grows_a_step_per_window_without_a_throttle_up_to_the_users_cap():
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    limiter.rate = 9
    for _ in range(10):
        clock.sleep(1.0)
        limiter.passed()
    assert limiter.rate == pytest.approx(9 + 10 * STEP_RPS)
    for _ in range(1000):
        clock.sleep(1.0)
        limiter.passed()
    assert limiter.rate == 10


def test_the_users_cap_is_a_ceiling_under_a_generous_server():
    server, limiter = run(limit=50, max_rps=10)
    assert not server.throttled
    assert len(server.granted) <= 10 * 60 + 1
    assert limiter.rate == 10


def test_requests_started_together_leave_together_up_to_the_rate():
    clock = FakeClock()
    limiter = RateLimiter(3, clock=clock, sleep=clock.sleep)
    left = []
    for _ in range(7):  # seven asked at once, one after another on this clock
        limiter.acquire()
        left.append(clock.now)
    # three a second, each second's three at once: none waits for a place that is free
    assert left == pytest.approx([0.0, 0.0, 0.0, 1.01, 1.01, 1.01, 2.02])


@pytest.mark.parametrize("limit", [5, 20, 100])
def test_no_second_holds_more_than_the_rate_however_it_is_cut(limit):
    server, limiter = run(limit, max_rps=limit)
    assert not server.throttled  # the server's own window, sliding, never saw more than its limit
    granted = server.granted
    assert max(sum(1 for t in granted[n:] if t < start + 1.0) for n, start in enumerate(granted)) == limit
