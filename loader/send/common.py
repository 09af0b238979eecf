"""What every sender shares: chunks, per-item results matched by key, outcomes from answers."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from loader import bets
from loader.api import ApiResponse, ErrorDetail, NoAnswerError, describe_errors, parse_errors
from loader.api.retry import is_transient
from loader.journal import Journal
from loader.models import Item, Outcome, Status
from loader.payloads import PayloadLog
from loader.send.pool import Stopped

Progress = Callable[[int, int], None]  # called with the rows just settled, and how many of them failed
NO_RESULT = "no-result"  # the code of an item in doubt: PB did not say what became of it
# A request that got no answer after all its tries and may have been carried out: the item stays in
# the journal as in flight, so that the next load looks it up before sending it again.
NO_ANSWER = "no-answer"
UNREACHABLE = "unreachable"  # no attempt of the request reached PB: certainly not carried out
LOOKUP_FAILED = "lookup-failed"  # the item could not be looked up at PB, so it was not sent
AGAIN = (
    "Load the same workbook again: pbload checks what PB has and finishes it without sending anything twice."
)
# What a result's `status` tells, by resource, where PB documents it (§4, §21.3): for products it is
# the product's state in PB's catalogue (PUBLISHED or UNPUBLISHED), not the outcome of the call.
STATE_MESSAGES = {"products": "PB lists the product as {status}."}


class Sender(Protocol):
    """Loads items and says what became of each, by client key."""

    def send(self, items: Sequence[Item]) -> dict[str, Outcome]: ...

    def preview(self, items: Sequence[Item]) -> dict[str, Outcome]: ...


class Recorder:
    """Where a sender reports what it does: the journal, the progress display, and the stop signal.

    Items are marked in flight with each attempt's transaction ID before the request leaves, and
    their outcomes are committed, and kept in `outcomes`, as they come back: whatever stops a sheet,
    every answered item keeps its answer. Once `stop` is set no new request — not even a retry —
    starts. Each item's body goes to the `--payloads` file, when there is one, as it is sent.
    """

    def __init__(
        self,
        journal: Journal | None = None,
        run_id: str = "",
        target: str = "",
        resource: str = "",
        progress: Progress = lambda rows, failed: None,
        stop: threading.Event | None = None,
        in_doubt: frozenset[str] = frozenset(),
        payloads: PayloadLog | None = None,
    ) -> None:
        self.journal = journal
        self.payloads = payloads
        self.run_id = run_id
        self.target = target
        self.resource = resource
        self.progress = progress
        self.stop = stop or threading.Event()
        self.in_doubt = in_doubt  # keys an earlier run sent without hearing back
        self.outcomes: dict[str, Outcome] = {}  # every outcome settled so far, by client key

    @property
    def stopped(self) -> bool:
        return self.stop.is_set()

    def sending(self, items: Sequence[Item]) -> Callable[[str], None]:
        """The callback that marks `items` in flight with an attempt's transaction ID."""

        def mark(transaction_id: str) -> None:
            if self.stopped:  # stopped (Ctrl-C): no attempt leaves any more, the job ends here
                raise Stopped()
            if self.journal is not None:
                self.journal.sending(self.run_id, self.target, self.resource, items, transaction_id)

        return mark

    def prepare(self, items: Sequence[Item]) -> None:
        """Make the items' bodies and journal fingerprints now, before the request that sends them
        waits for its turn, so that its turn is spent on the request alone."""
        for item in items:
            item.payload  # noqa: B018 (made on first read)
        if self.journal is not None:
            self.journal.fingerprint(items)

    def body(self, item: Item, body: dict[str, Any], operation: str) -> dict[str, Any]:
        """`body`, once written to the payloads file as what `operation` sends for `item`."""
        if self.payloads is not None:
            self.payloads.record(item, body, operation)
        return body

    def settled(self, results: Sequence[tuple[Item, Outcome]]) -> None:
        """Keep and commit outcomes, and move the progress display on.

        An item whose request got no answer stays in the journal as in flight: it may have been
        carried out, and the next load finds out by looking it up.
        """
        for item, outcome in results:
            self.outcomes[item.key] = outcome
        answered = [(i, o) for i, o in results if o.error_code != NO_ANSWER]
        if self.journal is not None and answered:
            self.journal.settled(self.run_id, self.target, self.resource, answered)
        self.progress(
            sum(len(i.rows) for i, _ in results),
            sum(len(i.rows) for i, o in results if o.status is Status.FAILED),
        )


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class BulkResults:
    """A bulk answer's per-item results, as far as they can be tied to items (§21.3)."""

    by_key: dict[str, dict]  # results that name their item's client key
    unnamed: int = 0  # how many results carry no client key
    beside: dict[str, dict] = field(default_factory=dict)  # those, by the item at their position

    def doubtful(self, key: str) -> bool:
        """An item the answer did not name although it held results that name no item."""
        return key not in self.by_key and self.unnamed > 0


def results_by_key(body: Any, array: str, key: str, chunk: Sequence[Item]) -> BulkResults:
    """Per-item results matched by client key (§21.3).

    A result without the key proves nothing about any item on its own: it is kept beside the item at
    its position (when there is one result per item) only as evidence for a message, and the caller
    confirms such items by looking them up.
    """
    results = body if isinstance(body, list) else body.get(array) if isinstance(body, dict) else None
    if not isinstance(results, list):
        return BulkResults({})
    by_key: dict[str, dict] = {}
    beside: dict[str, dict] = {}
    unnamed = 0
    for position, result in enumerate(results):
        if not isinstance(result, dict):
            continue
        if result.get(key) is not None:
            by_key.setdefault(str(result[key]), result)
            continue
        unnamed += 1
        if len(results) == len(chunk):
            beside[chunk[position].key] = result
    return BulkResults(by_key, unnamed, beside)


def failure(response: ApiResponse, errors: Sequence[ErrorDetail] = ()) -> Outcome:
    """FAILED, with PB's first error code and all its messages."""
    errors = tuple(errors) or response.errors
    if not errors:
        errors = (ErrorDetail(f"HTTP-{response.status}", f"The API answered HTTP {response.status}."),)
    message = "; ".join(e.message or e.code for e in errors)
    times = f"{response.attempts} time{'s' if response.attempts > 1 else ''}"
    later = "load this workbook again later: rows already loaded stay loaded"
    if response.throttled:  # PB's gateway kept saying "too many requests" until pbload gave up
        message += f" (PB throttled the request {times}; {later})"
    elif is_transient(response.status, response.codes):  # out of tries: worth another go later
        message = message.rstrip(".") + f" (tried {times}; {later})"
    return Outcome(
        Status.FAILED, error_code=errors[0].code, message=message, transaction_id=response.transaction_id
    )


def no_result(response: ApiResponse) -> Outcome:
    """An item the API said nothing about: in doubt, never silently OK (§21.3)."""
    return Outcome(
        Status.FAILED,
        error_code=NO_RESULT,
        message="The API answered without a result for this item; check it at PB before loading it again.",
        transaction_id=response.transaction_id,
    )


def in_doubt(response: ApiResponse, key_name: str, beside: dict | None = None) -> Outcome:
    """An item PB's answer did not name, which a lookup does not find at PB as sent (§21.3)."""
    errors = beside.get(bets.BULK_RESULT_ERRORS) if beside else None
    said = describe_errors(parse_errors({"errors": errors})) if errors else ""
    return Outcome(
        Status.FAILED,
        error_code=NO_RESULT,
        message=f"In doubt: PB's answer did not name this item (no {key_name} in its results), and "
        "PB does not hold it as sent"
        + (f"; the result in its place said {said}" if said else "")
        + ". Check it at PB before loading it again.",
        transaction_id=response.transaction_id,
    )


def state_message(resource: str, source: dict[str, Any] | None) -> str | None:
    """What PB says of an item's state in a result or record, where PB documents what it means."""
    template = STATE_MESSAGES.get(resource)
    status = source.get("status") if source else None
    return template.format(status=status) if template and isinstance(status, str) and status else None


def no_answer(exc: NoAnswerError) -> Outcome:
    """FAILED for an item whose request ran out of tries without an answer (the run goes on)."""
    tries = f"{exc.attempts} attempt{'s' if exc.attempts > 1 else ''}"
    cause = exc.__cause__.__class__.__name__ if exc.__cause__ is not None else "no answer"
    if exc.uncertain:
        return Outcome(
            Status.FAILED,
            error_code=NO_ANSWER,
            transaction_id=exc.transaction_id or None,
            message=f"Sent, but no answer came back after {tries} ({cause}). {AGAIN}",
        )
    return Outcome(
        Status.FAILED,
        error_code=UNREACHABLE,
        transaction_id=exc.transaction_id or None,
        message=f"Not sent: PB could not be reached in {tries} ({cause}). {AGAIN}",
    )


def lookup_failed(reason: str) -> Outcome:
    """FAILED for an item that could not be looked up at PB: sending it blind could create it twice."""
    return Outcome(
        Status.FAILED,
        error_code=LOOKUP_FAILED,
        message=f"Not sent: it could not be looked up at PB first ({reason}). {AGAIN}",
    )


def unchecked(response: ApiResponse, reason: str) -> Outcome:
    """An item in doubt after an answer that did not name it, which could not be looked up either."""
    return Outcome(
        Status.FAILED,
        error_code=NO_ANSWER,
        transaction_id=response.transaction_id,
        message=f"In doubt: PB's answer did not name this item, and looking it up failed ({reason}). {AGAIN}",
    )


@dataclass(frozen=True)
class Lookup:
    """What a look-up by client key found: PB's records, and the keys that could not be looked up."""

    found: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # key -> why its chunk of the look-up failed


def refused(code: str, message: str) -> Outcome:
    """FAILED without a call: what the user asked for cannot be done (e.g. UPDATE of a missing item)."""
    return Outcome(Status.FAILED, error_code=code, message=message)
