"""The resource catalogue's building blocks.

Each column of a sheet is declared once, as a `Field`: its header, where its value goes in the API
payload, its type and limits, and a line of help. Templates, checks and payloads are all derived from
these declarations, so a column is changed in one place only.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from loader.models import Action, Issue

if TYPE_CHECKING:
    import pandas as pd


class Kind(str, enum.Enum):
    """The type of a column, as the user types it and as the API receives it."""

    TEXT = "text"  # free text; a number typed here is taken as its text
    CODE = "code"  # an identifier (SKU, UPC, vendor number): text only, leading zeros matter
    CHOICE = "choice"  # one of a fixed list of values
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"


# Wire formats of date-time fields differ by resource (API reference §2.3).
PRODUCT_DATETIME = "product"  # YYYY-MM-DDThh:mm:ss.sss±hhmm
ORDER_DATETIME = "order"  # YYYY-MM-DDThh:mm:ssZ


# The word a cell holds to clear PB's value on an update, where a blank cell keeps it (DESIGN §2).
# In capitals and alone in the cell; no column takes it as a value (a required column refuses it).
CLEAR = "CLEAR"


def normalize_header(text: str) -> str:
    """Headers match case-, space- and punctuation-insensitively."""
    return re.sub(r"[^0-9a-z]", "", str(text).lower())


@dataclass(frozen=True)
class Field:
    """One column of a sheet."""

    header: str
    path: str | None  # dotted JSON path in the payload; None for columns that steer pbload
    kind: Kind
    help: str
    required: bool = False
    max_length: int | None = None
    minimum: float | None = None
    minimum_exclusive: bool = False
    choices: tuple[str, ...] = ()
    pattern: str | None = None  # a regular expression the whole value must match
    pattern_hint: str = ""  # how to say the pattern to a person
    required_with: tuple[str, ...] = ()  # required when any of these columns (by name) has a value
    # required when that column has one of these values
    required_if: tuple[str, tuple[str, ...]] | None = None
    product_ref: bool = False  # the value is a SKU that must be a product (in the workbook or at PB)
    # other sheets (resource names) whose item of this value, when the run has one, must not have failed:
    # a work order's kit waits for its bill of materials
    depends_on: tuple[str, ...] = ()
    example: Any = None
    width: int = 16
    datetime_format: str = ORDER_DATETIME
    default: Any = None  # sent when the cell is blank (PB's or pbload's documented default)
    # (path, value) sent beside a given value, e.g. an identifier's source
    fixed: tuple[tuple[str, Any], ...] = ()
    # the cell lists several values (sent as an array), e.g. "Damaged; Too small"
    separator: str | None = None

    @property
    def name(self) -> str:
        """The column's name inside pbload: its payload path, or the header's normal form."""
        return self.path or normalize_header(self.header)

    @property
    def is_text(self) -> bool:
        return self.kind in (Kind.TEXT, Kind.CODE, Kind.CHOICE)

    @property
    def is_line(self) -> bool:
        """A line field takes one value per row of a group (its path holds `[]`)."""
        return self.path is not None and LINE_MARK in self.path

    def describe(self) -> str:
        """The note shown on the header: meaning, type, limits and allowed values."""
        parts = [self.help]
        parts.append("Required." if self.required else "Optional.")
        parts.append(_KIND_WORDS[self.kind] + ".")
        if self.max_length:
            parts.append(f"At most {self.max_length} characters.")
        if self.minimum is not None:
            op = "greater than" if self.minimum_exclusive else "at least"
            parts.append(f"Must be {op} {self.minimum:g}.")
        if self.choices:
            parts.append("One of: " + ", ".join(self.choices) + ".")
        if self.pattern_hint:
            parts.append(self.pattern_hint[0].upper() + self.pattern_hint[1:] + ".")
        if self.separator:
            parts.append(f"Several values may be given, separated by '{self.separator}'.")
        if self.default is not None:
            parts.append(f"Blank means {self.default} for a new item.")
        if self.path is not None:
            parts.append(
                f"On an update a blank cell keeps PB's value; {CLEAR} clears it."
                if not self.required
                else "On an update a blank cell keeps PB's value."
            )
        return " ".join(parts)


_KIND_WORDS = {
    Kind.TEXT: "Text",
    Kind.CODE: "Text (keep leading zeros; the column is formatted as text)",
    Kind.CHOICE: "Pick from the list",
    Kind.INTEGER: "Whole number",
    Kind.DECIMAL: "Number",
    Kind.BOOLEAN: "TRUE or FALSE",
    Kind.DATE: "Date",
    Kind.DATETIME: "Date and time",
}


@dataclass(frozen=True)
class ApiSpec:
    """How a resource is sent and found again: its operations' paths and limits (API reference §3).

    Paths are relative to the Fulfillment base and may hold `{id}` for the PB ID. Searching by client
    key (`search_key` as a `searchFields` name) is our contract (§21), not PB's documented behaviour.
    """

    search_path: str
    search_key: str
    pb_id: str | None  # the field holding PB's ID; None for products, which PB keys by SKU
    create_path: str | None = None  # single create (resources without a bulk endpoint)
    item_path: str | None = None  # single full-replacement update
    cancel_path: str | None = None
    cancel_body: bool = False  # False: an empty body and `clientId` in the query (orders, ASNs)
    cancel_fields: tuple[tuple[str, str], ...] = ()  # (column name, body field) added to a cancel body
    bulk_path: str | None = None
    bulk_array: str = ""
    bulk_operation: bool = False  # bulk items say CREATE or UPDATE themselves
    bulk_cancel_path: str | None = None
    bulk_cancel_array: str = ""
    max_bulk_items: int = 200
    lookup_fields: tuple[dict[str, Any], ...] = ()  # searchFields added to every lookup by key


# completes a built payload in place (e.g. a product's sides, longest first)
PayloadFinish = Callable[[dict[str, Any]], None]
# (sheet, typed values) -> problems found across a row
RowCheck = Callable[[str, "pd.DataFrame"], list[Issue]]


@dataclass(frozen=True)
class Resource:
    """One kind of thing loaded from one sheet: its columns, key, actions and API limits.

    A resource whose fields include line fields (paths such as `orderItems[].sku`) is a header/line
    resource: one row per line, rows grouped by the key, header fields on the group's first row.
    """

    name: str
    sheet: str
    fields: tuple[Field, ...]
    key: str  # the name of the field that identifies an item (the client key)
    template_version: int
    actions: tuple[Action, ...]
    instructions: tuple[str, ...] = ()
    line_number: str | None = None  # the line field numbering lines; blank ones are numbered in order
    line_key: str | None = None  # the line field an update matches PB's lines by (default: line_number)
    # request fields with no column that an update carries over from PB's record, which a full
    # replacement would otherwise clear (header paths, and paths inside each line)
    carried: tuple[str, ...] = ()
    carried_lines: tuple[str, ...] = ()
    unique_lines: tuple[str, ...] = ()  # line fields whose values may appear once per group
    # line fields that must differ from the group's key (a kit is not its own part)
    not_key: tuple[str, ...] = ()
    api: ApiSpec | None = None
    finish: PayloadFinish | None = None
    row_checks: tuple[RowCheck, ...] = ()
    template_changes: dict[int, str] = field(default_factory=dict)  # version -> what changed to reach it
    # how an item this run failed is named to the items that depend on it ("product {key}")
    dependency_label: str = "{key}"
    by_name: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})

    @property
    def key_field(self) -> Field:
        return self.by_name[self.key]

    @functools.cached_property
    def lines(self) -> str | None:
        """The payload array that holds the lines, for a header/line resource."""
        for f in self.fields:
            if f.is_line:
                return f.path.split(LINE_MARK)[0]  # type: ignore[union-attr]
        return None

    @functools.cached_property
    def header_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not f.is_line)

    @functools.cached_property
    def line_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.is_line)

    def build_payload(
        self, values: dict[str, Any], lines: list[dict[str, Any]] | None = None, given_only: bool = False
    ) -> dict[str, Any]:
        """The API object for checked values: one row's, or a group's header values and its lines.

        `given_only` builds what the cells hold and nothing else, for laying over PB's record: no
        defaults for blank cells, numbered slots left where their columns put them, no finishing.
        """
        payload: dict[str, Any] = {}
        for f, path in self._header_paths:
            value = values.get(f.name)
            if value is not None or (f.default is not None and not given_only):
                _put_field(payload, f, path, value)
        if self.lines is not None:
            payload[self.lines] = self._lines(lines if lines is not None else [values], given_only)
        if not given_only:
            _close_gaps(payload, self._slot_arrays)
            if self.finish is not None:
                self.finish(payload)
        return payload

    @functools.cached_property
    def _header_paths(self) -> tuple[tuple[Field, str], ...]:
        return tuple((f, f.path) for f in self.header_fields if f.path)

    @functools.cached_property
    def _slot_arrays(self) -> tuple[str, ...]:
        """The arrays filled slot by slot (`shipToAddress.addressLines` from `…addressLines[1]`), header level."""
        return tuple(
            dict.fromkeys(m.group(1) for f in self.header_fields if f.path for m in _SLOT.finditer(f.path))
        )

    @functools.cached_property
    def _line_slot_arrays(self) -> tuple[str, ...]:
        """The same inside each line."""
        return tuple(
            dict.fromkeys(
                m.group(1)
                for f in self.line_fields
                for m in _SLOT.finditer(f.path.split(LINE_MARK, 1)[1])  # type: ignore[union-attr]
            )
        )

    def _lines(self, rows: list[dict[str, Any]], given_only: bool = False) -> list[dict[str, Any]]:
        numbers = [r.get(self.line_number) for r in rows] if self.line_number else []
        next_number = max((n for n in numbers if n is not None), default=0) + 1
        out = []
        for row in rows:
            line: dict[str, Any] = {}
            for f in self.line_fields:
                value = row.get(f.name)
                if f.name == self.line_number and value is None:
                    value, next_number = next_number, next_number + 1
                if value is not None or (f.default is not None and not given_only):
                    _put_field(line, f, f.path.split(LINE_MARK, 1)[1], value)  # type: ignore[union-attr]
            if not given_only:
                _close_gaps(line, self._line_slot_arrays)
            out.append(line)
        return out

    def project(self, record: dict[str, Any]) -> dict[str, Any]:
        """The part of an API record that this sheet's columns describe, shaped like a payload."""
        projected: dict[str, Any] = {}
        for f in self.header_fields:
            for path in _paths(f, f.path):
                value = value_at(record, path)
                if value is not None:
                    _put(projected, path, value)
        if self.lines is not None:
            projected[self.lines] = [self._project_line(line) for line in record.get(self.lines) or []]
        _close_gaps(projected, self._slot_arrays)
        return projected

    def _project_line(self, line: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in self.line_fields:
            for sub in _paths(f, f.path.split(LINE_MARK, 1)[1]):  # type: ignore[union-attr]
                value = value_at(line, sub)
                if value is not None:
                    _put(out, sub, value)
        _close_gaps(out, self._line_slot_arrays)
        return out


# One field's place in a body, worked out once for a sheet (BodyMaker): its column (None where the sheet
# has none), its default, its wire conversion (None: the value as it is), how it is put, and the fixed
# values put beside it.
_Putter = Callable[[dict[str, Any], Any], None]
_Place = tuple[list[Any] | None, Any, Callable[[Any], Any] | None, _Putter, tuple[tuple[_Putter, Any], ...]]


class BodyMaker:
    """`Resource.build_payload` compiled for one sheet's columns: the same bodies, made from the columns.

    `column(name)` gives a column's values by position, or None where the sheet has no such column.
    Fields whose column is missing or blank throughout, and which have no default, are left out once
    here instead of being looked at for every item. `make(positions)` is
    `build_payload(rows[0], rows)` for the rows at those positions (`build_payload(rows[0])` for a
    resource without lines), built without making each row's dict of values.
    """

    def __init__(self, resource: Resource, column: Callable[[str], list[Any] | None]) -> None:
        self.resource = resource
        header, filled = [], []
        for f, path in resource._header_paths:
            if (place := _place(f, path, column(f.name))) is not None:
                header.append(place)
                filled += [path, *(p for p, _ in f.fixed)]
        self._header = tuple(header)
        numbering = resource.line_number
        lines, line_filled = [], []
        for f in resource.line_fields:
            numbered = f.name == numbering
            path = f.path.split(LINE_MARK, 1)[1]  # type: ignore[union-attr]
            if (place := _place(f, path, column(f.name), numbered)) is not None:
                lines.append((place, numbered))
                line_filled += [path, *(p for p, _ in f.fixed)]
        self._lines = tuple(lines)
        # the slot arrays whose gaps are closed: only where a kept field fills more than the first slot
        self._gapped = _gapped(resource._slot_arrays, filled)
        self._gapped_lines = _gapped(resource._line_slot_arrays, line_filled)
        self._numbers = column(numbering) if numbering else None

    def make(self, positions: tuple[int, ...]) -> dict[str, Any]:
        resource = self.resource
        payload: dict[str, Any] = {}
        _fill(payload, self._header, positions[0])
        if resource.lines is not None:
            payload[resource.lines] = self._make_lines(positions)
        if self._gapped:
            _close_gaps(payload, self._gapped)
        if resource.finish is not None:
            resource.finish(payload)
        return payload

    def _make_lines(self, positions: tuple[int, ...]) -> list[dict[str, Any]]:
        numbers = self._numbers
        given = [n for at in positions if (n := numbers[at]) is not None] if numbers is not None else []
        next_number = max(given, default=0) + 1
        gapped = self._gapped_lines
        out = []
        for at in positions:
            line: dict[str, Any] = {}
            for (values, default, wire, put, fixed), numbered in self._lines:
                value = values[at] if values is not None else None
                if value is None:
                    if numbered:
                        value, next_number = next_number, next_number + 1
                    elif (value := default) is None:
                        continue
                put(line, wire(value) if wire is not None else value)
                if fixed:  # seldom: looping over no fixed values was a tenth of a line's time
                    for put_fixed, fixed_value in fixed:
                        put_fixed(line, fixed_value)
            if gapped:
                _close_gaps(line, gapped)
            out.append(line)
        return out


def _fill(target: dict[str, Any], places: tuple[_Place, ...], at: int) -> None:
    for values, default, wire, put, fixed in places:
        value = values[at] if values is not None else None
        if value is None and (value := default) is None:
            continue
        put(target, wire(value) if wire is not None else value)
        if fixed:  # seldom: looping over no fixed values was a tenth of a field's time
            for put_fixed, fixed_value in fixed:
                put_fixed(target, fixed_value)


def _place(f: Field, path: str, values: list[Any] | None, always: bool = False) -> _Place | None:
    """A field's place in the bodies of a sheet whose column is `values`; None where it never fills one."""
    # blank throughout: a column whose first value is given is not, and needs no count
    if values is not None and (not values or values[0] is None) and values.count(None) == len(values):
        values = None
    if values is None and f.default is None and not always:
        return None
    wire: Callable[[Any], Any] | None = None
    if f.separator or f.kind is Kind.DECIMAL:
        wire = functools.partial(to_wire, f)
    elif f.kind in (Kind.DATETIME, Kind.DATE):
        wire = _formatted_once(f)
    return values, f.default, wire, _putter(path), tuple((_putter(p), v) for p, v in f.fixed)


def _formatted_once(f: Field) -> Callable[[Any], Any]:
    """`to_wire` for a date or date-time field, each naive value formatted once for the sheet: its dates
    repeat (the day's orders), and strftime was the dearest step of an order's body.

    A value is known again by its type as well as its value (a pandas Timestamp equals its datetime); an
    aware one is formatted each time, as equal instants in other zones are written apart.
    """
    made: dict[tuple[type, Any], Any] = {}

    def wire(value: Any) -> Any:
        if getattr(value, "tzinfo", None) is not None:
            return to_wire(f, value)
        key = (type(value), value)
        text = made.get(key)
        if text is None:
            text = made[key] = to_wire(f, value)
        return text

    return wire


def _putter(path: str) -> _Putter:
    """What puts a value at `path`: a key set where the path is one or two names, else `_put` of its
    segments, cut once."""
    segments = _segments(path)
    if any(index is not None for _, index in segments) or len(segments) > 2:
        *parents, (name, index) = segments
        return functools.partial(_put_in, tuple(parents), name, index)
    if len(segments) == 1:
        name = segments[0][0]

        def put_key(target: dict[str, Any], value: Any) -> None:
            target[name] = value

        return put_key
    (parent, _), (child, _) = segments

    def put_inside(target: dict[str, Any], value: Any) -> None:
        target.setdefault(parent, {})[child] = value

    return put_inside


def _put_field(target: dict[str, Any], f: Field, path: str, value: Any) -> None:
    """Put a field's value (or its default) at its path, with the fixed values that go beside it."""
    if value is None:
        value = f.default
        if value is None:
            return
    _put(target, path, to_wire(f, value))
    for fixed_path, fixed_value in f.fixed:
        _put(target, fixed_path, fixed_value)


def _paths(f: Field, path: str | None) -> list[str]:
    """The paths a field fills: its own and its fixed companions' (line fields: relative to the line)."""
    if not path:
        return []
    return [path, *(p.split(LINE_MARK, 1)[-1] for p, _ in f.fixed)]


def _gapped(arrays: tuple[str, ...], paths: list[str]) -> tuple[str, ...]:
    """Those of `arrays` that `paths` fill beyond their first slot: a gap opens only where a later slot is
    filled and an earlier one is not."""
    beyond = {m.group(1) for path in paths for m in _SLOT_AT.finditer(path) if int(m.group(2)) > 0}
    return tuple(a for a in arrays if a in beyond)


def _close_gaps(target: dict[str, Any], arrays: tuple[str, ...]) -> None:
    """Close the gaps numbered slots leave (Address Line 2 without Line 1): PB takes no null in an array."""
    for path in arrays:
        items = value_at(target, path)
        if isinstance(items, list) and None in items:
            items[:] = [item for item in items if item is not None]


def to_wire(f: Field, value: Any) -> Any:
    """A checked cell value as the API wants it."""
    if f.separator:
        return [part.strip() for part in str(value).split(f.separator) if part.strip()]
    if f.kind is Kind.DATETIME:
        return format_datetime(value, f.datetime_format)
    if f.kind is Kind.DATE:
        return value.isoformat()
    if f.kind is Kind.DECIMAL:
        return int(value) if float(value).is_integer() else float(value)
    return value


def format_datetime(value: datetime | date, style: str) -> str:
    """Render a date-time in the resource's documented wire format (API reference §2.3)."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if style == PRODUCT_DATETIME:
        offset = value.strftime("%z") or "+0000"
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}" + offset
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


LINE_MARK = "[]."
# the array before a numbered slot: `details.identifiers` of `[0]`
_SLOT = re.compile(r"([\w.\[\]]*?\w)\[\d+\]")
_SLOT_AT = re.compile(r"([\w.\[\]]*?\w)\[(\d+)\]")  # the same, and the slot's number
_SEGMENT = re.compile(r"^(\w+)(?:\[(\d+)\])?$")


@functools.cache
def _segments(path: str) -> tuple[tuple[str, int | None], ...]:
    """`references[0].name` -> (("references", 0), ("name", None)); parsed once per path."""
    parsed = []
    for part in path.split("."):
        name, index = _SEGMENT.match(part).groups()  # type: ignore[union-attr]
        parsed.append((name, None if index is None else int(index)))
    return tuple(parsed)


def _put(target: dict[str, Any], path: str, value: Any) -> None:
    """Set a value at a dotted path such as `details.weight.value` or `references[0].name`."""
    *parents, (name, index) = _segments(path)
    _put_in(parents, name, index, target, value)


def _put_in(
    parents: Sequence[tuple[str, int | None]],
    name: str,
    index: int | None,
    target: dict[str, Any],
    value: Any,
) -> None:
    """`_put` of a path already cut into its segments: the parents', and the last one's name and index."""
    node: dict[str, Any] = target
    for parent, position in parents:
        if position is None:
            node = node.setdefault(parent, {})
        else:
            node = _slot(node.setdefault(parent, []), position, {})
    if index is None:
        node[name] = value
    else:
        _slot(node.setdefault(name, []), index, None)
        node[name][index] = value


def _slot(items: list[Any], index: int, empty: Any) -> Any:
    """The item at `index` of a list, padding the list (with `empty` at that place) as needed."""
    items.extend([None] * (index + 1 - len(items)))
    if items[index] is None:
        items[index] = empty
    return items[index]


def value_at(source: dict[str, Any], path: str) -> Any:
    """The value at a dotted path of an API record (None where there is none)."""
    node: Any = source
    for name, index in _segments(path):
        if not isinstance(node, dict):
            return None
        node = node.get(name)
        if index is not None:
            node = node[index] if isinstance(node, list) and index < len(node) else None
    return node
