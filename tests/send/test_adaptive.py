"""Adaptive concurrency of single calls against simulated servers, on a fake clock: no threads, no
wall-clock time. Each simulation keeps as many requests in flight as the limit allows and answers
them in the order of their (simulated) finishing times, ties by the order they left."""

from __future__ import annotations

import heapq
import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from loader.send.adaptive import SINGLE_CALL_CAP, AdaptiveLimit

BASE_S = 0.050
Server = Callable[[int, float], tuple[float, bool]]  # (in flight, now) -> (seconds, pushed back)


@dataclass
class Run:
    limits: list[int] = field(default_factory=list)  # the limit after each answer
    in_flight: list[int] = field(default_factory=list)  # requests in flight as each one left
    latencies: list[float] = field(default_factory=list)
    pushbacks: int = 0
    seconds: float = 0.0


def simulate(server: Server, calls: int = 3000, start: int = 4) -> Run:
    limit = AdaptiveLimit(start)
    run = Run()
    flying: list[tuple[float, int, int, float, bool]] = []
    now, sent = 0.0, 0
    while sent < calls or flying:
        while sent < calls and len(flying) < limit.allowed():
            seconds, pushed = server(len(flying) + 1, now)
            heapq.heappush(flying, (now + seconds, sent, limit.leaving(), seconds, pushed))
            run.in_flight.append(len(flying))
            sent += 1
        now, _, left_in, seconds, pushed = heapq.heappop(flying)
        limit.answered(left_in, seconds, pushed)
        run.limits.append(limit.allowed())
        run.latencies.append(seconds)
        run.pushbacks += pushed
    run.seconds = now
    return run


def flat(in_flight: int, now: float) -> tuple[float, bool]:
    return BASE_S, False


def queueing(slots: int) -> Server:
    """A server that works on `slots` requests at once: more in flight wait their turn."""
    return lambda in_flight, now: (BASE_S * max(1.0, in_flight / slots), False)


def refusing_above(most: int) -> Server:
    """A server that answers 503 (at once) to a request beyond `most` in flight, like an overloaded one."""
    return lambda in_flight, now: (0.005, True) if in_flight > most else (BASE_S, False)


def second_half(values: list) -> list:
    return values[len(values) // 2 :]


def test_flat_latency_grows_the_limit_to_the_cap_and_never_past_it():
    run = simulate(flat)
    assert run.limits[-1] == SINGLE_CALL_CAP
    assert max(run.in_flight) == SINGLE_CALL_CAP
    assert run.limits[0] == 4  # it starts at --concurrency


def test_it_starts_at_concurrency_and_a_higher_concurrency_is_the_cap():
    run = simulate(flat, start=24)
    assert max(run.in_flight) == 24 and run.limits[-1] == 24


@pytest.mark.parametrize("slots", [6, 10])
def test_growing_latency_holds_the_limit_a_few_requests_above_what_the_server_works_on(slots):
    run = simulate(queueing(slots))
    steady = second_half(run.in_flight)
    assert slots + 1 <= statistics.median(steady) <= slots + 5  # a short queue at PB, not a flood
    assert max(steady) <= slots + 6
    assert len(run.latencies) / run.seconds >= 0.9 * slots / BASE_S  # and PB kept busy


def test_growing_latency_never_takes_the_limit_below_concurrency():
    run = simulate(queueing(1), start=4)
    assert min(run.limits) == 4 and statistics.median(second_half(run.in_flight)) <= 6


def test_noisy_latency_keeps_at_least_concurrency():
    draws = random.Random(7)
    run = simulate(lambda in_flight, now: (draws.uniform(0.02, 0.2), False))
    assert min(run.limits) >= 4


@pytest.mark.parametrize("most", [3, 8])
def test_503s_above_a_number_in_flight_back_the_limit_off_below_it(most):
    run = simulate(refusing_above(most))
    assert run.pushbacks <= 0.15 * len(run.latencies)  # few requests refused
    assert statistics.median(second_half(run.in_flight)) <= most
    assert statistics.median(second_half(run.in_flight)) >= most / 2  # and most of what it allows used


def test_a_throttle_cuts_the_limit_once_per_round():
    limit = AdaptiveLimit(10)
    rounds = [limit.leaving() for _ in range(10)]  # ten requests leave at a limit of 10
    limit.answered(rounds[0], 0.05, pushback=True)
    cut = limit.allowed()
    assert cut < 10
    for left_in in rounds[1:]:  # the other nine throttles were sent before the cut: no second cut
        limit.answered(left_in, 0.05, pushback=True)
    assert limit.allowed() == cut
    limit.answered(limit.leaving(), 0.05, pushback=True)  # a request sent after the cut, throttled too
    assert limit.allowed() < cut


def test_no_answer_is_pushback_and_the_limit_never_drops_below_one():
    limit = AdaptiveLimit(2)
    for _ in range(10):
        limit.answered(limit.leaving(), None)
    assert limit.allowed() == 1


def test_answers_from_before_a_cut_do_not_grow_the_limit():
    limit = AdaptiveLimit(8)
    old = limit.leaving()
    limit.answered(limit.leaving(), 0.05, pushback=True)
    after = limit.limit
    for _ in range(20):
        limit.answered(old, 0.05)
    assert limit.limit == after
