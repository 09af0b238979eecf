"""The plain types passed between the pipeline's stages."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Severity(str, enum.Enum):
    """How much a problem matters: errors keep a row from being sent, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
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


LOADED_STATUSES = frozenset({Status.CREATED, Status.UPDATED, Status.UNCHANGED, Status.CANCELED})


class Action(str, enum.Enum):
    """What the user asked pbload to do with a row (the optional Action column)."""

    CREATE = "CREATE"
    UPDATE = "UPDATE"
    UPSERT = "UPSERT"
    CANCEL = "CANCEL"


@dataclass(frozen=True)
class Reference:
    """A cell that names another item this one depends on (a SKU that must be a product)."""

    resource: str
    key: str
    row: int
    column: str


@dataclass(frozen=True)
class Item:
    """One API item built from one or more rows of a sheet."""

    sheet: str
    key: str
    rows: tuple[int, ...]
    action: Action
    payload: dict[str, Any]
    references: tuple[Reference, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)  # values of columns that steer pbload (Cancel Reason)


@dataclass(frozen=True)
class Outcome:
    """What became of one item."""

    status: Status
    pb_id: str | None = None
    error_code: str | None = None
    message: str | None = None
    transaction_id: str | None = None


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
        ok = LOADED_STATUSES | {Status.VALID}
        return all(s in ok for s in self.counts())
