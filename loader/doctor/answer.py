"""One HTTP answer as doctor saw it, and the pure functions that read the JSON in it.

PB's answers may use other names than the contract's, so these read loosely: a search's records are
in `content` (BET-12) if there, else in the first array of objects; any path inside a record can be
walked (`json_paths`) to find a field PB put elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeGuard

from loader.api.error_body import parse_errors
from loader.api.retry import is_throttled
from loader.bets import SEARCH_RECORDS

MAX_DEPTH = 4  # how deep the search for a field PB put elsewhere goes


@dataclass(frozen=True)
class Answer:
    """One HTTP answer as doctor saw it: what it said, how long it took, and PB's clock."""

    method: str
    path: str
    status: int
    body: Any
    seconds: float
    local_time: float = 0.0  # this machine's clock (seconds since 1970) halfway through the call
    date: str | None = None  # the HTTP Date header
    retry_after: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def throttled(self) -> bool:
        """429, or PB's gateway throttle code whatever the status (api §22.9)."""
        return is_throttled(self.status, error_codes(self.body))


def error_codes(body: Any) -> list[str]:
    """The error codes in an error body of any shape (standard, bare gateway, legacy array)."""
    return [error.code for error in parse_errors(body) if error.code]


def records_of(body: Any) -> list[dict[str, Any]]:
    """A search answer's records: in `content` (BET-12) if there, else in its first array of objects."""
    if isinstance(body, list):
        return [r for r in body if isinstance(r, dict)]
    if not isinstance(body, dict):
        return []
    if isinstance(body.get(SEARCH_RECORDS), list):
        return [r for r in body[SEARCH_RECORDS] if isinstance(r, dict)]
    return next((value for value in body.values() if is_objects(value)), [])


def first_record(answer: Answer | None) -> dict[str, Any] | None:
    """The first record of a search answered 2xx, if any."""
    if answer is None or not answer.ok:
        return None
    records = records_of(answer.body)
    return records[0] if records else None


def finds(answer: Answer | None, field_name: str, value: Any) -> bool:
    """Whether a search answer holds a record whose `field_name` is `value`."""
    return (
        answer is not None and answer.ok and any(r.get(field_name) == value for r in records_of(answer.body))
    )


def at(record: Any, path: str) -> Any:
    """The value at a dotted path (`details.dimensions`), or None."""
    value = record
    for key in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def json_paths(value: Any, prefix: str = "", depth: int = 0) -> Iterator[tuple[str, Any]]:
    """Every `(path, value)` inside a JSON value; an array's elements share the path `name[]`."""
    if depth > MAX_DEPTH:
        return
    if isinstance(value, dict):
        for key, child in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            yield path, child
            yield from json_paths(child, path, depth + 1)
    elif isinstance(value, list):
        for child in value:
            if isinstance(child, (dict, list)):
                yield from json_paths(child, prefix + "[]", depth + 1)


def first_paths(record: Any) -> dict[str, Any]:
    """Each path of `json_paths` once, with its first value (an array's first element, not its last)."""
    paths: dict[str, Any] = {}
    for path, value in json_paths(record):
        paths.setdefault(path, value)
    return paths


def is_objects(value: Any) -> TypeGuard[list[dict[str, Any]]]:
    """Whether `value` is a non-empty array of objects."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def last_name(path: str) -> str:
    """The last name of a path of `json_paths`, without its `[]`."""
    return path.rsplit(".", 1)[-1].replace("[]", "")


def path_depth(path: str) -> int:
    """How many objects and arrays deep a path of `json_paths` goes."""
    return path.count(".") + path.count("[]")


def is_number(value: Any) -> bool:
    """A JSON number (not a boolean)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def field_names(obj: dict[str, Any]) -> str:
    """An object's field names as `{a, b}`, for evidence."""
    return "{" + ", ".join(str(k) for k in obj) + "}"
