"""The pool: jobs that add jobs, lanes, a limit below the workers, and Ctrl-C. No clock is read."""

from __future__ import annotations

import threading

import pytest

from loader.send.pool import Pool


def test_jobs_added_by_running_jobs_run_too_and_every_result_is_handed_over():
    pool: Pool[str] = Pool(3, threading.Event())
    results: list[str] = []

    def look_up(n: int) -> str:
        pool.add([lambda n=n, k=k: f"write {n}.{k}" for k in range(2)], lane=1)
        return f"look-up {n}"

    pool.run([lambda n=n: look_up(n) for n in range(5)], results.append)
    assert sorted(results) == sorted(
        [f"look-up {n}" for n in range(5)] + [f"write {n}.{k}" for n in range(5) for k in range(2)]
    )
    assert pool.complete


def test_one_worker_takes_the_first_lane_first():
    pool: Pool[str] = Pool(1, threading.Event())
    order: list[str] = []

    def look_up(n: int) -> str:
        pool.add([lambda: f"write {n}"], lane=1)
        return f"look-up {n}"

    pool.run([lambda n=n: look_up(n) for n in range(3)], order.append)
    assert order == ["look-up 0", "look-up 1", "look-up 2", "write 0", "write 1", "write 2"]


@pytest.mark.parametrize("limit", [1, 2])
def test_no_more_jobs_run_at_once_than_the_limit_allows(limit):
    lock = threading.Lock()
    running = [0, 0]  # now, most

    def job() -> int:
        with lock:
            running[0] += 1
            running[1] = max(running[1], running[0])
        with lock:
            running[0] -= 1
        return 1

    Pool(8, threading.Event(), limit=lambda: limit).run([job] * 50, lambda r: None)
    assert running[1] <= limit


def test_a_stopped_pool_starts_nothing_more_and_says_it_is_incomplete():
    stop = threading.Event()
    pool: Pool[int] = Pool(1, stop)
    results: list[int] = []

    def first() -> int:
        stop.set()
        return 1

    pool.run([first, lambda: 2, lambda: 3], results.append)
    assert results == [1] and pool.unstarted == 2 and not pool.complete


def test_a_failing_job_stops_the_rest_and_is_raised():
    pool: Pool[int] = Pool(1, threading.Event())

    def fail() -> int:
        raise RuntimeError("API down")

    with pytest.raises(RuntimeError, match="API down"):
        pool.run([fail, lambda: 2], lambda r: None)
    assert pool.unstarted == 1
