"""The plain types passed between the pipeline's stages."""

from __future__ import annotations

import enum
import itertools
import operator
from array import array
from collections.abc import (
    Callable,
    Collection,
    ItemsView,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
    Sequence,
    ValuesView,
)
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
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


NO_EXTRA: Mapping[str, Any] = MappingProxyType({})


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
    # values of columns that steer pbload (Cancel Reason); items without any share one empty mapping
    extra: Mapping[str, Any] = field(default_factory=lambda: NO_EXTRA)
    values: tuple[dict[str, Any], ...] = field(default=None, compare=False, repr=False)  # type: ignore[arg-type]
    cleared: frozenset[tuple[int, str]] = frozenset()
    source: ItemSource | None = field(default=None, compare=False, repr=False)


class ItemSource(Protocol):
    """Where an item's rows' values and body come from when they are first read."""

    def values(self) -> tuple[dict[str, Any], ...]: ...

    def payload(self) -> dict[str, Any]: ...


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
    "payload", lambda item: item.source.payload() if item.source is not None else {}
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


MAX_ROW = 1_048_576  # a worksheet's last row (Excel's limit): the highest row number an outcome can have
SHARED_TEXTS = 4_096  # equal texts met within this many distinct ones are kept once (and read back as one)
_STATUSES: tuple[Status, ...] = tuple(Status)
_STATUS_CODE = {status: n for n, status in enumerate(_STATUSES, 1)}  # 0: no row at that position


# An outcome's fields as a plain tuple in Outcome's order (`Outcomes.fields`): quicker to make than an
# Outcome, for a reader that reads each row once (the result writer).
OutcomeFields = tuple[Status, str | None, str | None, str | None, str | None, tuple[Change, ...]]


class _Texts:
    """One text field of every row, by position: each text's UTF-8 bytes in one buffer, a row's text the
    number of its entry (0: None). A text met again within `SHARED_TEXTS` distinct ones reuses its entry
    and is read back as one str, so transaction IDs (one a chunk), codes and messages are held about
    once; PB IDs cost their bytes. A value that is not a plain str (a `Code`, a str too) or that UTF-8
    cannot hold (a lone surrogate) is kept as the object it is, equal ones once, under a negative entry."""

    __slots__ = ("refs", "data", "ends", "known", "shared", "objects", "object_refs", "exact")

    def __init__(self) -> None:
        self.refs = array("i")  # by position, only as far as the last one given a value
        self.data = bytearray()
        self.ends = array("q", [0])  # entry k is data[ends[k - 1]:ends[k]]
        self.known: dict[str, int] = {}  # texts stored lately -> their entry
        self.shared: dict[int, str] = {}  # entries given again lately -> their text
        self.objects: list[Any] = []  # entry -k is objects[k - 1]
        self.object_refs: dict[
            tuple[type, Any], int
        ] = {}  # by (type, value): Code.REQUIRED is not "required"
        self.exact = True  # no row's value was replaced or taken away: every entry is some row's

    def put(self, position: int, value: Any) -> None:
        """Give the row at `position` `value`."""
        refs = self.refs
        if value is None:
            if position < len(refs):
                if refs[position]:
                    self.exact = False
                refs[position] = 0
            return
        if type(value) is str:
            ref = self.known.get(value)
            if ref is None:
                ref = self._store(value)
            elif ref not in self.shared:
                if len(self.shared) >= SHARED_TEXTS:
                    self.shared.clear()
                self.shared[ref] = value
        else:
            ref = self._object_ref(value)
        if position < len(refs):
            if refs[position] not in (0, ref):
                self.exact = False
            refs[position] = ref
        else:
            refs.frombytes(bytes(4 * (position - len(refs))))
            refs.append(ref)

    def _store(self, text: str) -> int:
        try:
            encoded = text.encode()
        except UnicodeEncodeError:  # a lone surrogate (a cell can hold one): kept as the str it is
            return self._object_ref(text)
        if len(self.known) >= SHARED_TEXTS:
            self.known.clear()
        self.data += encoded
        self.ends.append(len(self.data))
        ref = self.known[text] = len(self.ends) - 1
        return ref

    def _object_ref(self, value: Any) -> int:
        try:
            key: tuple[type, Any] | None = (type(value), value)
            ref = self.object_refs.get(key)  # type: ignore[arg-type]
        except TypeError:  # unhashable: kept once per row
            key, ref = None, None
        if ref is None:
            self.objects.append(value)
            ref = -len(self.objects)
            if key is not None:
                self.object_refs[key] = ref
        return ref

    def get(self, position: int) -> Any:
        refs = self.refs
        if position < len(refs):
            ref = refs[position]
            if ref > 0:
                if self.shared:
                    text = self.shared.get(ref)
                    if text is not None:
                        return text
                ends = self.ends
                return self.data[ends[ref - 1] : ends[ref]].decode()
            if ref:
                return self.objects[-ref - 1]
        return None

    def _decode(self, ref: int) -> str:
        ends = self.ends
        return self.data[ends[ref - 1] : ends[ref]].decode()

    def longest(self) -> int | None:
        """The length of the longest `str()` of the values rows have (falsy ones left out), or None when
        only reading every row can tell (a row's value was replaced or taken away)."""
        if not self.exact:
            return None
        ends = self.ends
        if self.data.isascii():  # a character a byte: the longest entry is the longest text
            texts = max(map(operator.sub, itertools.islice(ends, 1, None), ends), default=0)
        else:
            texts = max((len(self._decode(k)) for k in range(1, len(ends))), default=0)
        return max(texts, max((len(str(o)) for o in self.objects if o), default=0))

    def nbytes(self) -> int:
        return len(self.data) + self.refs.itemsize * len(self.refs) + self.ends.itemsize * len(self.ends)


class Outcomes(MutableMapping[int, Outcome]):
    """The outcomes of one sheet's rows, by Excel row number: a mapping as a dict of them would be, held
    in arrays instead (a million rows take about 45 MB, not 450).

    Rows keep the order they were first given an outcome, as a dict's keys do. Each row's status is one
    byte; its texts are entries in per-field buffers (`_Texts`) and its changes, when it has any, a
    tuple. An `Outcome` is made each time one is read: equal to the one given, never the same object.
    Rows are 1 to `MAX_ROW`; another number is refused (ValueError) and never found.
    """

    __slots__ = (
        "_at",
        "_rows",
        "_status",
        "_pb_id",
        "_error_code",
        "_message",
        "_transaction_id",
        "_changes",
    )

    def __init__(self, outcomes: Mapping[int, Outcome] | Iterable[tuple[int, Outcome]] = ()) -> None:
        self._empty()
        self.update(outcomes)

    def _empty(self) -> None:
        self._at = array("i")  # by row: its position + 1, 0 for a row without an outcome
        self._rows = array("i")  # by position: the row, 0 once it was deleted
        self._status = bytearray()  # by position: _STATUS_CODE of its status, 0 once it was deleted
        self._pb_id = _Texts()
        self._error_code = _Texts()
        self._message = _Texts()
        self._transaction_id = _Texts()
        self._changes: dict[int, tuple[Change, ...]] = {}  # by position, for the rows with changes

    def _position(self, row: Any) -> int:
        """Where `row`'s outcome is kept, -1 if it has none (or is no row number)."""
        if type(row) is not int:
            try:
                row = operator.index(row)
            except TypeError:
                return -1
        at = self._at
        return at[row] - 1 if 0 < row < len(at) else -1

    def among(self, rows: Iterable[int]) -> int:
        """How many of `rows` have an outcome."""
        at = self._at
        end = len(at)
        return sum(1 for row in map(operator.index, rows) if 0 < row < end and at[row])

    def _positions(self) -> Iterable[int]:
        """The positions that hold a row, in order."""
        status = self._status
        return range(len(status)) if 0 not in status else (p for p, code in enumerate(status) if code)

    def __getitem__(self, row: int) -> Outcome:
        position = self._position(row)
        if position < 0:
            raise KeyError(row)
        return self._outcome(position)

    def get(self, row: int, default: Any = None) -> Any:  # a dict's get, without a KeyError
        position = self._position(row)
        return self._outcome(position) if position >= 0 else default

    def fields(self, row: int) -> OutcomeFields | None:
        """`row`'s outcome as a tuple of its fields in Outcome's order, None if it has none."""
        at = self._at
        position = at[row] - 1 if type(row) is int and 0 < row < len(at) else self._position(row)
        return self._fields(position) if position >= 0 else None

    def __contains__(self, row: object) -> bool:
        return self._position(row) >= 0

    def _fields(self, position: int) -> OutcomeFields:
        return (
            _STATUSES[self._status[position] - 1],
            self._pb_id.get(position),
            self._error_code.get(position),
            self._message.get(position),
            self._transaction_id.get(position),
            self._changes.get(position, ()),
        )

    def _outcome(self, position: int) -> Outcome:
        return Outcome(*self._fields(position))

    def __setitem__(self, row: int, outcome: Outcome) -> None:
        try:
            row = operator.index(row)
        except TypeError:
            raise TypeError(f"a row number is an int, not {type(row).__name__}") from None
        if not 0 < row <= MAX_ROW:
            raise ValueError(f"row {row} is outside a worksheet (rows 1 to {MAX_ROW:,})")
        code = _STATUS_CODE[outcome.status]
        at = self._at
        if row >= len(at):
            at.frombytes(bytes(4 * (min(MAX_ROW + 1, max(row + 1, 2 * len(at))) - len(at))))
        position = at[row] - 1
        if position < 0:
            position = len(self._rows)
            at[row] = position + 1
            self._rows.append(row)
            self._status.append(code)
            if (  # a new row with a status only (VALID, NOT SENT): no field has anything to keep
                outcome.pb_id is None
                and outcome.error_code is None
                and outcome.message is None
                and outcome.transaction_id is None
                and not outcome.changes
            ):
                return
        else:
            self._status[position] = code
        self._pb_id.put(position, outcome.pb_id)
        self._error_code.put(position, outcome.error_code)
        self._message.put(position, outcome.message)
        self._transaction_id.put(position, outcome.transaction_id)
        if outcome.changes:
            self._changes[position] = outcome.changes
        elif self._changes:
            self._changes.pop(position, None)

    def __delitem__(self, row: int) -> None:
        position = self._position(row)
        if position < 0:
            raise KeyError(row)
        self._at[self._rows[position]] = 0
        self._rows[position] = self._status[position] = 0
        for texts in (self._pb_id, self._error_code, self._message, self._transaction_id):
            texts.put(position, None)
        self._changes.pop(position, None)

    def __iter__(self) -> Iterator[int]:
        return (row for row in self._rows if row) if 0 in self._status else iter(self._rows)

    def __len__(self) -> int:
        return len(self._status) - self._status.count(0)

    def items(self) -> ItemsView[int, Outcome]:
        return _Items(self)

    def values(self) -> ValuesView[Outcome]:
        return _Values(self)

    def clear(self) -> None:
        self._empty()

    def by_row(self, statuses: Collection[Status] | None = None) -> Iterator[tuple[int, Outcome]]:
        """(row, outcome) in ascending row order, only of rows in `statuses` when given; none made ahead."""
        status, make = self._status, self._outcome
        wanted = {_STATUS_CODE[s] for s in statuses} if statuses is not None else None
        for row, at in enumerate(self._at):
            if at and (wanted is None or status[at - 1] in wanted):
                yield row, make(at - 1)

    def column(self, name: str) -> Iterator[Any]:
        """One field (an Outcome's attribute name) of every row, in the mapping's order, making no Outcome."""
        if name == "status":
            return (_STATUSES[code - 1] for code in self._status if code)
        if name == "changes":
            return map(self._changes.get, self._positions(), itertools.repeat(()))
        texts: _Texts = getattr(self, f"_{name}")
        return map(texts.get, self._positions())

    def longest(self, name: str) -> int:
        """The length of the longest `str()` of a text field (pb_id, error_code, message, transaction_id)
        over the rows, leaving out empty values (0 when no row has one)."""
        texts: _Texts = getattr(self, f"_{name}")
        found = texts.longest()
        if found is None:
            found = max((len(str(t)) for t in self.column(name) if t), default=0)
        return found

    def counts(self) -> dict[Status, int]:
        """How many rows have each status, in the order of `Status`."""
        counts = {status: self._status.count(code) for status, code in _STATUS_CODE.items()}
        return {status: n for status, n in counts.items() if n}

    def nbytes(self) -> int:
        """About what the store holds, in bytes (its changes counted as the dict's pointers only)."""
        texts = (self._pb_id, self._error_code, self._message, self._transaction_id)
        return (
            4 * (len(self._at) + len(self._rows))
            + len(self._status)
            + sum(t.nbytes() for t in texts)
            + 100 * len(self._changes)
        )

    def __repr__(self) -> str:
        return f"Outcomes({dict(self.items())!r})"


class _Items(ItemsView[int, Outcome]):
    _mapping: Outcomes

    def __iter__(self) -> Iterator[tuple[int, Outcome]]:
        outcomes = self._mapping
        return zip(iter(outcomes), map(outcomes._outcome, outcomes._positions()), strict=True)


class _Values(ValuesView[Outcome]):
    _mapping: Outcomes

    def __iter__(self) -> Iterator[Outcome]:
        outcomes = self._mapping
        return map(outcomes._outcome, outcomes._positions())


@dataclass
class SheetReport:
    """The rows of one sheet and the outcome of each (keyed by Excel row number).

    Both are kept compactly whatever they are given as: `rows` as an array of ints (4 bytes a row, not a
    list's 36), `outcomes` as an `Outcomes` (a dict given, or assigned later, is copied into one)."""

    sheet: str
    rows: Sequence[int]
    outcomes: Outcomes = field(default_factory=Outcomes)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "outcomes" and not isinstance(value, Outcomes):
            value = Outcomes(value)
        elif name == "rows" and not isinstance(value, array):
            value = array("i", value)
        object.__setattr__(self, name, value)

    def counts(self) -> dict[Status, int]:
        """How many rows ended in each status, in the order of `Status`."""
        return self.outcomes.counts()


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
