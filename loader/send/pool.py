"""Run a sender's jobs a few at a time, hand each answer over as it arrives, and stop in seconds.

Jobs wait in lanes (a sheet's look-ups in one, the writes they lead to in the next) and a job may
add more while it runs: a look-up adds the writes of the items it settled, so that they go out
while later chunks are still being looked up. A free worker takes from the first lane that has a
job waiting: every write waits on a look-up, so look-ups go first and keep the workers fed, and
they search a store not yet busy with this sheet's writes (the emulator's searches scan its
records: looked up between writes, 10,000 orders cost its process three times the CPU). How many
jobs run at once is `workers`, or fewer when `limit` says so (the adaptive concurrency of
single-call resources).

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
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Generic, TypeVar

# Seconds the requests in flight get to finish after the first Ctrl-C before they are abandoned.
STOP_GRACE_SECONDS = 3.0
POLL_SECONDS = 0.1  # how often a wait for answers, or for a job, looks at the stop signal

T = TypeVar("T")
Job = Callable[[], T]


class Stopped(Exception):
    """The run was stopped (Ctrl-C) before this work was done; nothing of it may be taken as an answer."""


class _Done:
    """What a worker puts on the queue when it has no more jobs to run."""


class Pool(Generic[T]):
    """Runs jobs at most `workers` (or `limit()`) at a time; `on_result` is called in the caller's thread,
    one result at a time."""

    def __init__(
        self,
        workers: int,
        stop: threading.Event,
        grace_s: float = STOP_GRACE_SECONDS,
        limit: Callable[[], int] | None = None,
        slots: Slots | None = None,
    ) -> None:
        self.workers = max(1, workers)
        self.slots = slots  # the jobs' requests take turns in these, in the order the jobs started
        self.stop = stop
        self.grace_s = grace_s
        self.limit = limit
        self.abandoned = False  # jobs in flight were given up on after the grace period
        self.unstarted = 0  # jobs that never started because the pool stopped
        self._ready = threading.Condition()
        self._lanes: list[deque[Job[T]]] = []
        self._running: list[int] = []
        self._halt = threading.Event()  # set by a failed job; the caller's `stop` by Ctrl-C
        self._answers: queue.Queue[object] | None = None  # while `run` runs
        self._started = 0  # workers started by this run

    @property
    def complete(self) -> bool:
        """Whether every job of the last `run` ran to its end and was handed over."""
        return not self.abandoned and self.unstarted == 0

    def add(self, jobs: Iterable[Job[T]], lane: int = 0) -> None:
        """Queue more jobs in `lane` (0 first); a running job may call this before it returns."""
        with self._ready:
            while len(self._lanes) <= lane:
                self._lanes.append(deque())
                self._running.append(0)
            self._lanes[lane].extend(jobs)
            self._spawn()
            self._ready.notify_all()

    def _spawn(self) -> None:
        """Start workers for the jobs waiting, up to `workers` (with `_ready` held)."""
        if self._answers is None:
            return
        wanted = min(self.workers, sum(self._running) + sum(len(lane) for lane in self._lanes))
        while self._started < wanted:
            self._started += 1
            threading.Thread(target=self._work, args=(self._answers,), daemon=True).start()

    def run(self, jobs: Sequence[Job[T]], on_result: Callable[[T], None]) -> None:
        """Run `jobs`, and every job they add, until none is left; the first exception of a job (other
        than `Stopped`) stops the rest and is raised.

        A failed job (the API down) stops the pool like `stop` does: no new job, a grace period for
        the jobs in flight, which may be waiting for an API that no longer answers.
        """
        self._halt.clear()
        answers: queue.Queue[object] = queue.Queue()
        with self._ready:
            self._answers, self._started = answers, 0
        self.add(jobs)
        failure = self._collect(answers, on_result)
        with self._ready:
            self._answers = None
            self.unstarted = sum(len(lane) for lane in self._lanes)
            for lane in self._lanes:
                lane.clear()
        if failure is not None:
            raise failure

    def _work(self, answers: queue.Queue) -> None:
        while (taken := self._next()) is not None:
            lane, job = taken
            try:
                answers.put(job())
            except BaseException as exc:  # handed to the caller's thread, which decides
                if not isinstance(exc, Stopped):
                    self._halt.set()
                answers.put(exc)
            finally:
                if self.slots is not None:
                    self.slots.leave()
                with self._ready:
                    self._running[lane] -= 1
                    self._ready.notify_all()
        answers.put(_Done())

    def _next(self) -> tuple[int, Job[T]] | None:
        """The next job to run, once one may start; None when the pool stops or no job is left."""
        with self._ready:
            while not (self._halt.is_set() or self.stop.is_set()):
                running = sum(self._running)
                waiting = [n for n, lane in enumerate(self._lanes) if lane]
                if waiting and running < max(1, self.limit() if self.limit else self.workers):
                    lane = waiting[0]
                    self._running[lane] += 1
                    if self.slots is not None:
                        self.slots.enter()
                    return lane, self._lanes[lane].popleft()
                if not waiting and not running:
                    return None  # nothing left, and no job running that could add more
                self._ready.wait(POLL_SECONDS)
            return None

    def _collect(self, answers: queue.Queue, on_result: Callable[[T], None]) -> BaseException | None:
        failure: BaseException | None = None
        deadline: float | None = None
        finished = 0
        while finished < self._started:  # a worker starts only while another job runs, or in `run`
            if deadline is None and (self.stop.is_set() or self._halt.is_set()):
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
                finished += 1
            elif isinstance(answer, Stopped):
                continue
            elif isinstance(answer, BaseException):
                self._halt.set()
                failure = failure or answer
            else:
                on_result(answer)
        return failure


class Slots:
    """At most `size` requests in flight, taken in the order the pool started the jobs.

    The pool gives each job a place as it starts it (`enter`, in the worker's thread); the job may
    then make its bodies, and waits for its turn (`turn`): the first job started goes first once a
    slot is free, so a sheet's chunks leave in the order the pool started them, as they did when each
    worker sent as soon as it started. A job that sends again (a chunk halved) queues at the back. A
    Ctrl-C (`stop`) while waiting raises `Stopped`: nothing of the job leaves.
    """

    def __init__(self, size: int, stop: threading.Event) -> None:
        self.free = max(1, size)
        self.stop = stop
        self._waiting: deque[object] = deque()
        self._changed = threading.Condition()
        self._mine = threading.local()  # the place of the job this thread runs

    def enter(self) -> None:
        """Give the job this thread starts now a place in the queue."""
        place = self._mine.place = object()
        with self._changed:
            self._waiting.append(place)

    def leave(self) -> None:
        """The job this thread ran ended: give up its place if it never took its turn."""
        place, self._mine.place = getattr(self._mine, "place", None), None
        with self._changed:
            if place is not None and place in self._waiting:
                self._waiting.remove(place)
                self._changed.notify_all()

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for this job's turn and a free slot, and hold the slot for the block."""
        place, self._mine.place = getattr(self._mine, "place", None), None
        with self._changed:
            if place is None:
                place = object()
                self._waiting.append(place)
            try:
                while not (self.free and self._waiting[0] is place):
                    if self.stop.is_set():
                        raise Stopped()
                    self._changed.wait(POLL_SECONDS)
            except BaseException:
                self._waiting.remove(place)
                self._changed.notify_all()
                raise
            self._waiting.popleft()
            self.free -= 1
            self._changed.notify_all()
        try:
            yield
        finally:
            with self._changed:
                self.free += 1
                self._changed.notify_all()
