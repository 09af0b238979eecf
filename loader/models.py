"""The plain types passed between the pipeline's stages."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


class Severity(str, enum.Enum):
    """How much a problem matters: errors keep a row from being sent, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in a workbook, pointing at a cell (or a whole row when `column` is None)."""

    sheet: str
    row: int
    column: str | None
    code: str
    message: str
    severity: Severity = Severity.ERROR

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


class Status(str, enum.Enum):
    """The one final status each input row ends with."""

    CREATED = "CREATED"
    UPDATED = "UPDATED"
    UNCHANGED = "UNCHANGED"
    CANCELED = "CANCELED"
    FAILED = "FAILED"
    INVALID = "INVALID"
    BLOCKED = "BLOCKED"
    NOT_SENT = "NOT SENT"
    VALID = "VALID"  # `pbload validate` only: the row passed every check
    WOULD_CREATE = "WOULD CREATE"  # `pbload plan` only: what a load would do with the row
    WOULD_UPDATE = "WOULD UPDATE"
    WOULD_CANCEL = "WOULD CANCEL"


LOADED_STATUSES = frozenset({Status.CREATED, Status.UPDATED, Status.UNCHANGED, Status.CANCELED})
# What `pbload plan` says of a row a load would settle (UNCHANGED is said as it is).
WOULD_STATUSES = frozenset({Status.WOULD_CREATE, Status.WOULD_UPDATE, Status.WOULD_CANCEL})
# Rows that are fine: loaded, valid (validate), or that would load (plan).
GOOD_STATUSES = LOADED_STATUSES | WOULD_STATUSES | {Status.VALID}


class Action(str, enum.Enum):
    """What the user asked pbload to do with a row (the optional Action column)."""

    CREATE = "CREATE"
    UPDATE = "UPDATE"
    UPSERT = "UPSERT"
    CANCEL = "CANCEL"


@dataclass(frozen=True, slots=True)
class Reference:
    """A cell that names another item this one depends on (a SKU that must be a product)."""

    resource: str
    key: str
    row: int
    column: str


@dataclass(frozen=True, slots=True)
class Change:
    """One field an update changes: its column as the user sees it, PB's value and the value sent.

    A line added or removed as a whole is one change too (`what` says which), with `line` its line ID.
    """

    column: str
    old: Any
    new: Any
    row: int | None = None  # the row whose cell holds the new value (a removed line: the group's first row)
    line: Any = None  # the line's ID, for a line field or a whole line
    what: str = "changed"  # "changed", or "added" / "removed" for a whole line


@dataclass(frozen=True)
class Item:
    """One API item built from one or more rows of a sheet.

    `payload` is the API body and `values` the rows' checked values (header row first), each a dict by
    column name; `cleared` holds the cells with the clear marker as (position in the group, column name):
    what an update lays over PB's record (DESIGN §2). Planning gives a `source` instead of the two: each
    is then made the first time it is read, so a sheet's items do not hold every row's values and body at
    once, and `validate` makes none it does not need.
    """

    sheet: str
    key: str
    rows: tuple[int, ...]
    action: Action
    payload: dict[str, Any] = None  # type: ignore[assignment]  # made from `source` when not given
    references: tuple[Reference, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)  # values of columns that steer pbload (Cancel Reason)
    values: tuple[dict[str, Any], ...] = field(default=None, compare=False, repr=False)  # type: ignore[arg-type]
    cleared: frozenset[tuple[int, str]] = frozenset()
    source: ItemSource | None = field(default=None, compare=False, repr=False)


class ItemSource(Protocol):
    """Where an item's rows' values and body come from when they are first read."""

    def values(self) -> tuple[dict[str, Any], ...]: ...

    def payload(self, values: tuple[dict[str, Any], ...]) -> dict[str, Any]: ...


def _made_on_first_read(name: str, make: Callable[[Item], Any]) -> property:
    """An Item field kept in the instance under `_name` and, while it was not given, made by `make` when read.

    A data descriptor over the dataclass field: the generated __init__ and dataclasses.replace set and
    read it as they would the field."""
    kept = f"_{name}"

    def read(item: Item) -> Any:
        value = item.__dict__.get(kept)
        if value is None:
            value = item.__dict__[kept] = make(item)
        return value

    def give(item: Item, value: Any) -> None:
        item.__dict__[kept] = value

    return property(read, give)


Item.values = _made_on_first_read(  # type: ignore[assignment]
    "values", lambda item: item.source.values() if item.source is not None else ()
)
Item.payload = _made_on_first_read(  # type: ignore[assignment]
    "payload", lambda item: item.source.payload(item.values) if item.source is not None else {}
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one item."""

    status: Status
    pb_id: str | None = None
    error_code: str | None = None
    message: str | None = None
    transaction_id: str | None = None
    changes: tuple[Change, ...] = ()  # what an update changed (or, for `plan`, would change)


@dataclass
class SheetReport:
    """The rows of one sheet and the outcome of each (keyed by Excel row number)."""

    sheet: str
    rows: list[int]
    outcomes: dict[int, Outcome] = field(default_factory=dict)

    def counts(self) -> dict[Status, int]:
        """How many rows ended in each status, in the order of `Status`."""
        counts: dict[Status, int] = {}
        for outcome in self.outcomes.values():
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        return {status: counts[status] for status in Status if status in counts}


@dataclass
class RunReport:
    """Everything a run produced: per-row outcomes, problems found, and the audit record."""

    run_id: str
    command: str
    input_path: str
    input_sha256: str
    environment: str
    started: datetime
    template: str | None = None
    ended: datetime | None = None
    sheets: list[SheetReport] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    result_path: str | None = None
    interrupted: bool = False  # stopped (Ctrl-C, SIGTERM, the API gone) before every item was sent
    retries: int = 0
    notes: list[str] = field(default_factory=list)  # lines for the user after the counts (what was skipped)

    def counts(self) -> dict[Status, int]:
        """Rows per status over every sheet, in the order of `Status`."""
        total: dict[Status, int] = {}
        for sheet in self.sheets:
            for status, n in sheet.counts().items():
                total[status] = total.get(status, 0) + n
        return {status: total[status] for status in Status if status in total}

    @property
    def all_ok(self) -> bool:
        """True when every row was loaded (or, for validate, is valid)."""
        return all(s in GOOD_STATUSES for s in self.counts())
