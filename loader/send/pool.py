"""Run a sender's jobs a few at a time, hand each answer over as it arrives, and stop in seconds.

The jobs run in daemon threads, not a `ThreadPoolExecutor`: a request that never gets an answer must
not hold up a Ctrl-C (an executor joins its threads on the way out, and so does the interpreter).
Once `stop` is set, no new job starts, the jobs in flight get `grace_s` seconds to finish, and then
they are abandoned: whatever they would say later is dropped, their items stay in the journal as in
flight, and the next load reconciles them by looking them up at PB.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

# Seconds the requests in flight get to finish after the first Ctrl-C before they are abandoned.
STOP_GRACE_SECONDS = 3.0
POLL_SECONDS = 0.1  # how often a wait for answers looks at the stop signal

T = TypeVar("T")


class Stopped(Exception):
    """The run was stopped (Ctrl-C) before this work was done; nothing of it may be taken as an answer."""


class _Done:
    """What a worker puts on the queue when it has no more jobs to run."""


class Pool(Generic[T]):
    """Runs jobs at most `workers` at a time; `on_result` is called in the caller's thread, one result at a time."""

    def __init__(self, workers: int, stop: threading.Event, grace_s: float = STOP_GRACE_SECONDS) -> None:
        self.workers = max(1, workers)
        self.stop = stop
        self.grace_s = grace_s
        self.abandoned = False  # jobs in flight were given up on after the grace period
        self.unstarted = 0  # jobs that never started because the pool stopped

    @property
    def complete(self) -> bool:
        """Whether every job of the last `run` ran to its end and was handed over."""
        return not self.abandoned and self.unstarted == 0

    def run(self, jobs: Sequence[Callable[[], T]], on_result: Callable[[T], None]) -> None:
        """Run `jobs`; the first exception of a job (other than `Stopped`) stops the rest and is raised.

        A failed job (the API down) stops the pool like `stop` does: no new job, a grace period for
        the jobs in flight, which may be waiting for an API that no longer answers.
        """
        halt = threading.Event()  # set by a failed job; the caller's `stop` by Ctrl-C
        answers: queue.Queue[object] = queue.Queue()
        pending = iter(jobs)
        lock = threading.Lock()
        count = min(self.workers, len(jobs))
        for _ in range(count):
            threading.Thread(target=self._work, args=(pending, lock, halt, answers), daemon=True).start()
        failure = self._collect(answers, count, halt, on_result)
        with lock:
            self.unstarted = sum(1 for _ in pending)
        if failure is not None:
            raise failure

    def _work(
        self, pending: object, lock: threading.Lock, halt: threading.Event, answers: queue.Queue
    ) -> None:
        while not (halt.is_set() or self.stop.is_set()):
            with lock:
                job = next(pending, None)  # type: ignore[call-overload]
            if job is None:
                break
            try:
                answers.put(job())
            except BaseException as exc:  # handed to the caller's thread, which decides
                answers.put(exc)
        answers.put(_Done())

    def _collect(
        self, answers: queue.Queue, running: int, halt: threading.Event, on_result: Callable[[T], None]
    ) -> BaseException | None:
        failure: BaseException | None = None
        deadline: float | None = None
        while running:
            if deadline is None and (self.stop.is_set() or halt.is_set()):
                deadline = time.monotonic() + self.grace_s
            wait = POLL_SECONDS if deadline is None else min(POLL_SECONDS, deadline - time.monotonic())
            if wait <= 0:
                self.abandoned = True
                break
            try:
                answer = answers.get(timeout=wait)
            except queue.Empty:
                continue
            if isinstance(answer, _Done):
                running -= 1
            elif isinstance(answer, Stopped):
                continue
            elif isinstance(answer, BaseException):
                halt.set()
                failure = failure or answer
            else:
                on_result(answer)  # type: ignore[arg-type]
        return failure
