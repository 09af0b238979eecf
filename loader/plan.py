"""Plan: turn checked rows into API items, and settle the rows that must not be sent (DESIGN §3).

A header/line sheet becomes one item per group of rows sharing a key; an item is sent only if every
one of its rows passed its checks. Items that depend on others loaded in the same run (an order's
SKUs, a kit's components, a work order's kit) are BLOCKED when those failed, items naming a SKU
that neither the workbook nor PB knows are INVALID, and items naming a SKU that could not be looked
up at PB (its search refused or out of tries) are FAILED, to be loaded again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from loader.checks import CheckedSheet
from loader.codes import Code
from loader.models import GOOD_STATUSES, NO_EXTRA, Action, Issue, Item, Outcome, Reference, Status
from loader.resources import BY_NAME, Resource
from loader.resources.base import BodyMaker
from loader.resources.products import PRODUCTS as PRODUCT_RESOURCE

NOTHING_CLEARED: frozenset[tuple[int, str]] = frozenset()
PRODUCTS = PRODUCT_RESOURCE.name  # a SKU reference (Field.product_ref) names one of these
# Asked with SKUs, says which PB knows and which could not be looked up (with why).
ProductLookup = Callable[[set[str]], tuple[set[str], dict[str, str]]]


@dataclass
class Plan:
    """The items of one sheet that may be sent, and the rows settled without sending."""

    items: list[Item]
    settled: dict[int, Outcome] = field(default_factory=dict)


def plan_sheet(rows: CheckedSheet, invalid: set[int], bodies: bool = True) -> Plan:
    """Items for the valid rows (or groups) of a checked sheet.

    Only the columns that decide what an item is (key, action, SKU references, steering columns) are
    converted here, column by column; each item's values and body are made when they are first asked
    for. Without `bodies` (`validate`, which decides by keys and values) an item has no body at all.
    """
    resource = rows.data.resource
    plan = Plan([])
    by_row: dict[int, list[Issue]] = {}  # indexed once: a sheet of many bad rows plans in linear time
    for issue in rows.issues:
        by_row.setdefault(issue.row, []).append(issue)
    for row in invalid:
        plan.settled[row] = invalid_outcome(rows, row, by_row.get(row, []))
    values = SheetValues(rows.values, resource, bodies)
    deciding = _Deciding.of(values)
    if resource.lines is None:
        for at, row in enumerate(values.rows):
            if row not in invalid:
                plan.items.append(_item(rows, values, deciding, (row,), (at,)))
        return plan
    groups: dict[Any, list[int]] = {}  # key -> its rows' positions, in the order the sheet has them
    for at, key in enumerate(values.column(resource.key)):
        if key is not None:
            groups.setdefault(key, []).append(at)
    for key, positions in groups.items():
        numbers = tuple(values.rows[at] for at in positions)
        bad = [r for r in numbers if r in invalid]
        if bad:
            for row in numbers:
                if row not in invalid:
                    plan.settled[row] = _sibling_invalid(resource, key, bad)
            continue
        plan.items.append(_item(rows, values, deciding, numbers, tuple(positions)))
    return plan


class SheetValues:
    """A checked sheet's values as Python objects, blanks as None, converted column by column when first
    needed (number columns hold NaN for blanks in the frame)."""

    def __init__(self, frame: pd.DataFrame, resource: Resource, bodies: bool) -> None:
        self._frame = frame
        self.resource = resource
        self.bodies = bodies
        self.rows = [int(r) for r in frame.index]
        self._columns: dict[str, list[Any]] = {}
        self._all: list[tuple[str, list[Any]]] | None = None
        self._bodies: BodyMaker | None = None
        self._making = threading.Lock()
        # the columns naming what an item depends on: (name, header, a line field, resources it names)
        self.references = tuple(
            (f.name, f.header, f.is_line, ((PRODUCTS,) if f.product_ref else ()) + f.depends_on)
            for f in resource.fields
            if f.product_ref or f.depends_on
        )
        self.steering = tuple(f.name for f in resource.fields if f.path is None)  # Item.extra's columns

    def column(self, name: str) -> list[Any]:
        """The column's values by position; all None for a column the sheet does not have."""
        if name not in self._columns:
            if name in self._frame.columns:
                self._columns[name] = _as_list(self._frame[name])
            else:
                self._columns[name] = [None] * len(self.rows)
        return self._columns[name]

    def body(self, positions: tuple[int, ...]) -> dict[str, Any]:
        """The API body of the item at these positions: `Resource.build_payload` of its rows."""
        maker = self._bodies
        if maker is None:  # once made, the maker is read without the lock
            with self._making:  # the sender's threads ask at once: the maker is made once
                if self._bodies is None:
                    present = set(self._frame.columns)
                    self._bodies = BodyMaker(
                        self.resource, lambda name: self.column(name) if name in present else None
                    )
                maker = self._bodies
        return maker.make(positions)

    def records(self, positions: tuple[int, ...]) -> tuple[dict[str, Any], ...]:
        """The rows at these positions, each a dict by column name."""
        with self._making:
            if self._all is None:  # every column converted, once for the sheet's items
                self._all = [(name, self.column(name)) for name in self._frame.columns]
        return tuple({name: values[at] for name, values in self._all} for at in positions)


def _as_list(column: pd.Series) -> list[Any]:
    """`column.astype(object).where(column.notna(), None).tolist()`, made without a second Series: a
    numpy column's objects, blanks as None (a column blank throughout, as most of a sheet's are, at once)."""
    if not isinstance(column.dtype, np.dtype):  # an extension type: its objects as astype makes them
        return column.astype(object).where(column.notna(), None).tolist()
    blank = column.isna().to_numpy()
    if blank.all():
        return [None] * len(blank)
    values = column.to_numpy(dtype=object, copy=True)
    values[blank] = None
    return values.tolist()


@dataclass(frozen=True, slots=True)
class _Rows:
    """An item's rows in its sheet: where its values and body come from (models.ItemSource)."""

    sheet: SheetValues
    positions: tuple[int, ...]

    def values(self) -> tuple[dict[str, Any], ...]:
        return self.sheet.records(self.positions)

    def payload(self) -> dict[str, Any]:
        return self.sheet.body(self.positions) if self.sheet.bodies else {}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))


_ACTIONS = {action.value: action for action in Action}


@dataclass(frozen=True, slots=True)
class _Deciding:
    """The columns that decide what each item is (key, action, references, steering), converted once."""

    keys: list[Any]
    actions: list[Any]
    # each: the column, its header, whether it is a line field, the resources it names
    references: tuple[tuple[list[Any], str, bool, tuple[str, ...]], ...]
    steering: tuple[tuple[str, list[Any]], ...]

    @classmethod
    def of(cls, values: SheetValues) -> _Deciding:
        return cls(
            values.column(values.resource.key),
            values.column("action"),
            tuple(
                (values.column(name), header, line, targets)
                for name, header, line, targets in values.references
            ),
            tuple((name, values.column(name)) for name in values.steering),
        )


def _item(
    rows: CheckedSheet,
    values: SheetValues,
    deciding: _Deciding,
    numbers: tuple[int, ...],
    positions: tuple[int, ...],
) -> Item:
    first = positions[0]
    # a header field's SKU (a kit's) is the group's, named once on its first row like its other problems
    refs: list[Reference] = []
    for n, (row, at) in enumerate(zip(numbers, positions, strict=True)):
        for column, header, is_line, targets in deciding.references:
            if (n == 0 or is_line) and (value := column[at]) is not None:
                key = str(value)
                refs.extend(Reference(target, key, row, header) for target in targets)
    extra = {name: value for name, column in deciding.steering if (value := column[first]) is not None}
    action = deciding.actions[first]
    cleared = (
        frozenset((n, name) for n, row in enumerate(numbers) for name in rows.cleared.get(row, ()))
        if rows.cleared
        else NOTHING_CLEARED
    )
    return Item(
        rows.data.sheet,
        str(deciding.keys[first]),
        numbers,
        _ACTIONS[action] if action in _ACTIONS else Action(action or Action.UPSERT.value),
        references=tuple(refs),
        extra=extra or NO_EXTRA,
        cleared=cleared,
        source=_Rows(values, positions),
    )


def invalid_outcome(rows: CheckedSheet, row: int, problems: list[Issue] | None = None) -> Outcome:
    """INVALID, with the row's own problems (`problems`, when the caller has them) as the message."""
    problems = [i for i in rows.issues if i.row == row] if problems is None else problems
    errors = [i for i in problems if i.is_error] or problems
    message = "; ".join(f"{i.column}: {i.message}" if i.column else i.message for i in errors)
    return Outcome(Status.INVALID, error_code=errors[0].code if errors else None, message=message)


def _sibling_invalid(resource: Resource, key: Any, bad: list[int]) -> Outcome:
    where = f"row {bad[0]}" if len(bad) == 1 else "rows " + ", ".join(str(r) for r in bad)
    return Outcome(
        Status.INVALID,
        error_code=Code.INVALID_GROUP,
        message=f"Not sent: {where} of {resource.key_field.header} {key} "
        f"{'has a problem' if len(bad) == 1 else 'have problems'}.",
    )


class Dependencies:
    """What this run did with each key of each sheet, to block items whose dependencies failed."""

    def __init__(self, lookup_products: ProductLookup | None) -> None:
        self._lookup = lookup_products  # SKUs PB knows, out of those asked; None: do not ask PB
        self._known_at_pb: set[str] = set()
        self._asked: set[str] = set()
        self._unchecked: dict[str, str] = {}  # SKUs whose look-up failed, with why (asked again next sheet)
        self._settled: dict[str, dict[str, tuple[int, Status]]] = {}

    def record(self, resource: Resource, rows: CheckedSheet, outcomes: Mapping[int, Outcome]) -> None:
        """Remember the status each key of a sheet ended with (its first row's with one, for a group)."""
        keys = rows.values[resource.key]
        seen: dict[str, tuple[int, Status]] = {}
        for row, key in zip(keys.index.tolist(), keys.tolist(), strict=False):
            if key is None or _blank(key) or (key := str(key)) in seen:
                continue
            outcome = outcomes.get(row)
            if outcome is not None:
                seen[key] = (row, outcome.status)
        self._settled[resource.name] = seen

    def resolve(
        self, resource: Resource, items: list[Item]
    ) -> tuple[list[Item], dict[int, Outcome], list[Issue]]:
        """Items ready to send; the rows of blocked or invalid items; issues for unknown SKUs."""
        self._ask_pb({r.key for item in items for r in item.references if self._at_pb(r)})
        ready, settled, issues = [], {}, []
        for item in items:
            blocked = self._blocked_by(item)
            unchecked = [r for r in item.references if self._at_pb(r) and r.key in self._unchecked]
            unknown = [
                r
                for r in item.references
                if self._at_pb(r) and r.key not in self._known_at_pb and self._lookup is not None
            ]
            if blocked:
                settled.update({row: blocked for row in item.rows})
            elif unchecked:
                settled.update({row: self._not_checked(unchecked[0]) for row in item.rows})
            elif unknown:
                found = [_unknown_sku(item.sheet, r) for r in unknown]
                issues += found
                settled.update(_unknown_outcomes(resource, item, found))
            else:
                ready.append(item)
        return ready, settled, issues

    def _absent(self, ref: Reference) -> bool:
        return ref.key not in self._settled.get(ref.resource, {})

    def _at_pb(self, ref: Reference) -> bool:
        """A SKU the run has no product for: it must be one PB knows."""
        return ref.resource == PRODUCTS and self._absent(ref)

    def _ask_pb(self, skus: set[str]) -> None:
        wanted = skus - self._asked
        if wanted and self._lookup is not None:
            known, failed = self._lookup(wanted)
            self._known_at_pb |= known
            self._asked |= wanted - set(failed)
            self._unchecked = {**{k: v for k, v in self._unchecked.items() if k not in wanted}, **failed}

    def _not_checked(self, ref: Reference) -> Outcome:
        return Outcome(
            Status.FAILED,
            error_code=Code.LOOKUP_FAILED,
            message=f"Not sent: SKU {ref.key} could not be looked up at PB ({self._unchecked[ref.key]}). "
            "Load the same workbook again: pbload checks what PB has and finishes it without "
            "sending anything twice.",
        )

    def _blocked_by(self, item: Item) -> Outcome | None:
        """BLOCKED when an item this one depends on was in the run and did not load."""
        for ref in item.references:
            if not self._absent(ref):
                row, status = self._settled[ref.resource][ref.key]
                if status not in GOOD_STATUSES:
                    needed = BY_NAME[ref.resource]
                    name = needed.dependency_label.format(key=ref.key)
                    return _blocked(f"{name} ({needed.sheet} row {row}) is {status.value}")
        return None


def _unknown_sku(sheet: str, ref: Reference) -> Issue:
    return Issue(
        sheet,
        ref.row,
        ref.column,
        Code.UNKNOWN_SKU,
        f"SKU {ref.key} is neither on the Products sheet nor known to PB. Add the product or correct the SKU.",
    )


def _unknown_outcomes(resource: Resource, item: Item, issues: list[Issue]) -> dict[int, Outcome]:
    """INVALID for each row naming an unknown SKU, with its own cells; the group's other rows as siblings."""
    bad = sorted({i.row for i in issues})
    outcomes = {row: _sibling_invalid(resource, item.key, bad) for row in item.rows if row not in bad}
    for row in bad:
        message = "; ".join(f"{i.column}: {i.message}" for i in issues if i.row == row)
        outcomes[row] = Outcome(Status.INVALID, error_code=Code.UNKNOWN_SKU, message=message)
    return outcomes


def _blocked(reason: str) -> Outcome:
    return Outcome(Status.BLOCKED, error_code=Code.DEPENDENCY_FAILED, message=f"Not sent: {reason}.")
