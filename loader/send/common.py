"""What every sender shares: chunks, per-item results matched by key, outcomes from answers."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from loader.api import ApiResponse, ErrorDetail
from loader.journal import Journal
from loader.models import Item, Outcome, Status

Progress = Callable[[int], None]  # called with the number of items just settled


class Sender(Protocol):
    """Loads items and says what became of each, by client key."""

    def send(self, items: Sequence[Item]) -> dict[str, Outcome]: ...


class Recorder:
    """Where a sender reports what it does: the journal, the progress display, and the stop signal.

    Items are marked in flight with each attempt's transaction ID before the request leaves, and
    their outcomes are committed as they come back. Once `stop` is set no new request starts.
    """

    def __init__(self, journal: Journal | None = None, run_id: str = "", target: str = "", resource: str = "",
                 progress: Progress = lambda n: None, stop: threading.Event | None = None,
                 in_doubt: frozenset[str] = frozenset()) -> None:
        self.journal = journal
        self.run_id = run_id
        self.target = target
        self.resource = resource
        self.progress = progress
        self.stop = stop or threading.Event()
        self.in_doubt = in_doubt  # keys an earlier run sent without hearing back

    @property
    def stopped(self) -> bool:
        return self.stop.is_set()

    def sending(self, items: Sequence[Item]) -> Callable[[str], None]:
        """The callback that marks `items` in flight with an attempt's transaction ID."""
        def mark(transaction_id: str) -> None:
            if self.journal is not None:
                self.journal.sending(self.run_id, self.target, self.resource, items, transaction_id)
        return mark

    def settled(self, results: Sequence[tuple[Item, Outcome]]) -> None:
        """Commit outcomes and move the progress display on."""
        if self.journal is not None and results:
            self.journal.settled(self.run_id, self.target, self.resource, results)
        self.progress(len(results))


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def results_by_key(body: Any, array: str, key: str, chunk: Sequence[Item]) -> dict[str, dict]:
    """Per-item results matched by client key; by position only where a result has no key (§21.3)."""
    if isinstance(body, list):
        results = body
    else:
        results = body.get(array) if isinstance(body, dict) else None
    if not isinstance(results, list):
        return {}
    matched: dict[str, dict] = {}
    for position, result in enumerate(results):
        if not isinstance(result, dict):
            continue
        result_key = result.get(key)
        if result_key is None and len(results) == len(chunk):
            result_key = chunk[position].key
        if result_key is not None:
            matched.setdefault(str(result_key), result)
    return matched


def failure(response: ApiResponse, errors: Sequence[ErrorDetail] = ()) -> Outcome:
    """FAILED, with PB's first error code and all its messages."""
    errors = tuple(errors) or response.errors
    if not errors:
        errors = (ErrorDetail(f"HTTP-{response.status}", f"The API answered HTTP {response.status}."),)
    return Outcome(Status.FAILED, error_code=errors[0].code, message="; ".join(e.message for e in errors),
                   transaction_id=response.transaction_id)


def no_result(response: ApiResponse) -> Outcome:
    """An item the API said nothing about: in doubt, never silently OK (§21.3)."""
    return Outcome(Status.FAILED, error_code="no-result",
                   message="The API answered without a result for this item; check it at PB before loading it again.",
                   transaction_id=response.transaction_id)


def refused(code: str, message: str) -> Outcome:
    """FAILED without a call: what the user asked for cannot be done (e.g. UPDATE of a missing item)."""
    return Outcome(Status.FAILED, error_code=code, message=message)
