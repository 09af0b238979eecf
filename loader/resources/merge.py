"""Blank means keep: an update is PB's record with the row's filled cells laid over it (DESIGN §2).

PB's updates replace the whole object (API reference §2.4), so a row sent as it stands would clear
every optional value it leaves blank. For an item PB already has, the body sent is built field by
field from the columns of the sheet: a filled cell gives its value, a blank one PB's, and a cell
holding `CLEAR` nothing (PB clears a field left out of a full replacement). Clearing a field clears
the fields that must go with it (`Field.required_with`: a weight's unit, a vendor's number).

PB's record is read through the catalogue's paths only, so no response-only field (status, PB's
dates, PB's IDs) is ever sent back. The few request fields the contract names that have no column
(`Resource.carried`, `carried_lines`: an order's tracking number, a return's references) are
carried over from PB's record as they are, since leaving them out would clear them.

Lines are matched by their line ID (`Resource.line_key`): a line of the group is laid over PB's
line with the same ID, and a line PB has that no row of the group lists any more is left out,
which removes it. `changes` names, field by field, what the merged body changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from loader.models import Change
from loader.resources.base import LINE_MARK, Field, Resource, _close_gaps, _paths, _put, _put_field, value_at

Cleared = frozenset[tuple[int, str]]  # (position in the group, column name) of each CLEAR cell


def merge(
    resource: Resource,
    record: dict[str, Any],
    values: Sequence[dict[str, Any]],
    cleared: Cleared = frozenset(),
) -> dict[str, Any]:
    """The body of an update: PB's `record` with the group's filled cells (`values`) laid over it."""
    given = resource.build_payload(values[0], list(values) if resource.lines else None, given_only=True)
    header_cleared = _with_companions(resource.header_fields, {name for _, name in cleared})
    out: dict[str, Any] = {}
    _overlay(out, resource.header_fields, record, given, header_cleared, _header_path)
    _carry(resource.carried, record, out)
    if resource.lines is not None:
        theirs = {_line_id(resource, line): line for line in record.get(resource.lines) or []}
        out[resource.lines] = [
            _merged_line(
                resource,
                theirs.get(_line_id(resource, line), {}),
                line,
                _with_companions(resource.line_fields, {n for p, n in cleared if p == position}),
            )
            for position, line in enumerate(given[resource.lines])
        ]
    _close_gaps(out, resource._slot_arrays)
    if resource.finish is not None:
        resource.finish(out)
    return out


def _merged_line(
    resource: Resource, theirs: dict[str, Any], ours: dict[str, Any], cleared: set[str]
) -> dict[str, Any]:
    line: dict[str, Any] = {}
    _overlay(line, resource.line_fields, theirs, ours, cleared, _line_path)
    _carry(resource.carried_lines, theirs, line)
    _close_gaps(line, resource._line_slot_arrays)
    return line


def pb_view(resource: Resource, record: dict[str, Any]) -> dict[str, Any]:
    """PB's record as an update is compared with it: the sheet's columns and the fields carried over."""
    view = resource.project(record)
    if resource.carried or resource.carried_lines:
        _carry(resource.carried, record, view)
        if resource.lines is not None:  # `project` keeps PB's lines in PB's order
            for mine, theirs in zip(view[resource.lines], record.get(resource.lines) or [], strict=False):
                _carry(resource.carried_lines, theirs, mine)
    return view


def _carry(paths: tuple[str, ...], source: dict[str, Any], target: dict[str, Any]) -> None:
    for path in paths:
        value = value_at(source, path)
        if value is not None:
            _put(target, path, value)


def _header_path(f: Field) -> str:
    return f.path  # type: ignore[return-value]


def _line_path(f: Field) -> str:
    return f.path.split(LINE_MARK, 1)[1]  # type: ignore[union-attr]


def _overlay(
    target: dict[str, Any],
    fields: Iterable[Field],
    theirs: dict[str, Any],
    ours: dict[str, Any],
    cleared: set[str],
    path_of: Any,
) -> None:
    """Each field (with its fixed companions) from our cells if filled, else from PB's record."""
    for f in fields:
        if not f.path or f.name in cleared:
            continue
        path = path_of(f)
        source, value = ours, value_at(ours, path)
        if value is None:
            source, value = theirs, value_at(theirs, path)
        if value is None:
            if f.default is not None:  # neither has it: what a new item would get
                _put_field(target, f, path, None)
            continue
        _put(target, path, value)
        for p in _paths(f, path)[1:] if f.fixed else ():
            companion = value_at(source, p)
            if companion is not None:
                _put(target, p, companion)


def _with_companions(fields: Iterable[Field], names: set[str]) -> set[str]:
    """The cleared columns and those that must go with them (a weight's unit, a vendor's number)."""
    if not names:
        return names
    return names | {other for f in fields if f.name in names for other in f.required_with}


def _line_key(resource: Resource) -> str | None:
    key = resource.line_key or resource.line_number
    return _line_path(resource.by_name[key]) if key else None


def _line_id(resource: Resource, line: dict[str, Any]) -> Any:
    key = _line_key(resource)
    return None if key is None else value_at(line, key)


def changes(
    resource: Resource, old: dict[str, Any], new: dict[str, Any], rows: Sequence[int]
) -> tuple[Change, ...]:
    """What `new` (the body to send) changes of `old` (PB's record, projected), column by column."""
    pairs = ((f, value_at(old, f.path), value_at(new, f.path)) for f in resource.header_fields if f.path)
    found = [Change(f.header, before, after, rows[0]) for f, before, after in pairs if before != after]
    if resource.lines is not None:
        found += _line_changes(resource, old.get(resource.lines) or [], new.get(resource.lines) or [], rows)
    return tuple(found)


def _line_changes(
    resource: Resource, old: list[dict[str, Any]], new: list[dict[str, Any]], rows: Sequence[int]
) -> list[Change]:
    """Lines matched by ID: each changed field, each line added, each line PB has that no row lists."""
    key = _line_key(resource)
    label = resource.by_name[resource.line_key or resource.line_number].header if key else "Line"  # type: ignore
    ids = [value_at(line, key) if key else n + 1 for n, line in enumerate(new)]
    theirs = {value_at(line, key) if key else n + 1: line for n, line in enumerate(old)}
    found: list[Change] = []
    for position, (line_id, line) in enumerate(zip(ids, new, strict=False)):
        row = rows[position] if position < len(rows) else rows[0]
        if line_id not in theirs:
            found.append(Change(label, None, line_id, row, line_id, "added"))
            continue
        found += [
            Change(
                f.header,
                value_at(theirs[line_id], _line_path(f)),
                value_at(line, _line_path(f)),
                row,
                line_id,
            )
            for f in resource.line_fields
            if value_at(theirs[line_id], _line_path(f)) != value_at(line, _line_path(f))
        ]
    found += [
        Change(label, line_id, None, rows[0], line_id, "removed") for line_id in theirs if line_id not in ids
    ]
    return found
