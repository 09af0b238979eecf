"""Declarative field rules shared by every emulated resource.

A resource describes its JSON object as a mapping of field name to rule (`Str`, `Num`, `Bool`,
`Obj`, `Int`, `Arr`) and calls `check_object`, which returns *every* problem as an `ErrorDetail` whose
``parameters`` hold the field's JSON path (``details.weight.unit``). Fields not in the mapping are
accepted untouched, because the real API has fields our copies of the docs do not show.

A value of ``null`` or a blank string counts as "not given": the natural reading of an empty cell.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from . import errors
from .errors import ErrorDetail, detail


class Rule(Protocol):
    """What `check_object` needs from a field rule."""

    @property
    def required(self) -> bool:
        """Whether the field must be given."""
        ...

    def check(self, value: Any, path: str) -> list[ErrorDetail]:
        """Return the problems with a given (non-blank) value at ``path``."""
        ...


def is_blank(value: Any) -> bool:
    """Tell whether a JSON value counts as not given."""
    return value is None or (isinstance(value, str) and not value.strip())


def join_path(prefix: str, name: str) -> str:
    """Return the JSON path of ``name`` inside the object at ``prefix``."""
    return f"{prefix}.{name}" if prefix else name


def check_object(obj: Mapping[str, Any], rules: Mapping[str, Rule], prefix: str = "") -> list[ErrorDetail]:
    """Check each ruled field of ``obj``; return all problems, in rule order."""
    problems: list[ErrorDetail] = []
    for name, rule in rules.items():
        path, value = join_path(prefix, name), obj.get(name)
        if is_blank(value):
            if rule.required:
                problems.append(detail(errors.REQUIRED, f"{path} is required", path))
            continue
        problems.extend(rule.check(value, path))
    return problems


@dataclass(frozen=True)
class Str:
    """A string, optionally bounded in length, limited to ``choices``, or in a ``fmt`` (see ``hint``)."""

    required: bool = False
    max_len: int | None = None
    choices: tuple[str, ...] | None = None
    fmt: Callable[[str], bool] | None = None
    hint: str = ""  # completes "<path> must ...", e.g. "contain digits only"

    def check(self, value: Any, path: str) -> list[ErrorDetail]:
        """Return at most one problem: the first of type, length, choice, format."""
        if not isinstance(value, str):
            return [detail(errors.BAD_TYPE, f"{path} must be a string", path)]
        if self.max_len is not None and len(value) > self.max_len:
            return [
                detail(
                    errors.TOO_LONG,
                    f"{path} must be at most {self.max_len} characters",
                    path,
                    f"{len(value)} characters given",
                )
            ]
        if self.choices is not None and value not in self.choices:
            allowed = ", ".join(self.choices)
            return [detail(errors.NOT_ALLOWED, f"{path} must be one of {allowed}", path, f"Given: {value}")]
        if self.fmt is not None and not self.fmt(value):
            return [detail(errors.BAD_FORMAT, f"{path} must {self.hint}", path, f"Given: {value}")]
        return []


@dataclass(frozen=True)
class Num:
    """A JSON number (not a boolean), optionally above ``gt`` or at least ``ge``."""

    required: bool = False
    gt: float | None = None
    ge: float | None = None

    def check(self, value: Any, path: str) -> list[ErrorDetail]:
        """Return at most one problem: wrong type or out of range."""
        # bool is an int in Python, but `true` is not a number in JSON.
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return [detail(errors.BAD_TYPE, f"{path} must be a number", path)]
        if self.gt is not None and not value > self.gt:
            return [detail(errors.OUT_OF_RANGE, f"{path} must be greater than {self.gt:g}", path, f"Given: {value}")]
        if self.ge is not None and not value >= self.ge:
            return [detail(errors.OUT_OF_RANGE, f"{path} must be at least {self.ge:g}", path, f"Given: {value}")]
        return []


@dataclass(frozen=True)
class Bool:
    """A JSON boolean."""

    required: bool = False

    def check(self, value: Any, path: str) -> list[ErrorDetail]:
        """Return a problem unless the value is true or false."""
        if not isinstance(value, bool):
            return [detail(errors.BAD_TYPE, f"{path} must be true or false", path)]
        return []


@dataclass(frozen=True)
class Obj:
    """A nested JSON object whose fields follow ``rules``."""

    rules: Mapping[str, Rule] = field(default_factory=dict)
    required: bool = False

    def check(self, value: Any, path: str) -> list[ErrorDetail]:
        """Return a type problem, or every problem of the nested fields."""
        if not isinstance(value, dict):
            return [detail(errors.BAD_TYPE, f"{path} must be an object", path)]
        return check_object(value, self.rules, path)



@dataclass(frozen=True)
class Int:
    """A JSON whole number (not a boolean, not ``1.0``), optionally at least ``ge``."""

    required: bool = False
    ge: int | None = None

    def check(self, value: Any, path: str) -> list[ErrorDetail]:
        """Return at most one problem: wrong type or out of range."""
        if isinstance(value, bool) or not isinstance(value, int):
            return [detail(errors.BAD_TYPE, f"{path} must be a whole number", path)]
        if self.ge is not None and value < self.ge:
            return [detail(errors.OUT_OF_RANGE, f"{path} must be at least {self.ge}", path, f"Given: {value}")]
        return []


@dataclass(frozen=True)
class Arr:
    """A JSON array of ``min_items`` or more values, each following ``item`` (paths ``name[i]``)."""

    item: Rule
    required: bool = False
    min_items: int = 0
    max_items: int | None = None

    def check(self, value: Any, path: str) -> list[ErrorDetail]:
        """Return a type or count problem, or every problem of the items."""
        if not isinstance(value, list):
            return [detail(errors.BAD_TYPE, f"{path} must be an array", path)]
        if not value and self.min_items:
            return [detail(errors.REQUIRED, f"{path} must hold at least {self.min_items} item(s)", path)]
        if len(value) < self.min_items or (self.max_items is not None and len(value) > self.max_items):
            bounds = f"at least {self.min_items}"
            if self.max_items is not None:
                bounds = f"between {self.min_items} and {self.max_items}"
            return [detail(errors.OUT_OF_RANGE, f"{path} must hold {bounds} items", path, f"{len(value)} given")]
        problems: list[ErrorDetail] = []
        for i, item in enumerate(value):
            item_path = f"{path}[{i}]"
            if is_blank(item):  # an array entry cannot be "not given"
                problems.append(detail(errors.REQUIRED, f"{item_path} must not be blank", item_path))
            else:
                problems.extend(self.item.check(item, item_path))
        return problems

# Formats ---------------------------------------------------------------------------------------

_PRODUCT_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}")


def is_product_date(text: str) -> bool:
    """Tell whether text is a real instant in the Products format ``YYYY-MM-DDThh:mm:ss.sss±hhmm``."""
    if not _PRODUCT_DATE.fullmatch(text):
        return False
    try:
        datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:  # e.g. month 13: right shape, not a date
        return False
    return True



_ZULU_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
ZULU_DATE_HINT = "match YYYY-MM-DDThh:mm:ssZ"
ISO_DATE_HINT = "be an ISO 8601 date or date-time"


def is_zulu_date(text: str) -> bool:
    """Tell whether text is a real instant in the ``YYYY-MM-DDThh:mm:ssZ`` format (orders, BOMs, work orders)."""
    if not _ZULU_DATE.fullmatch(text):
        return False
    try:
        datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return False
    return True


def is_iso_date(text: str) -> bool:
    """Tell whether text is an ISO 8601 date or date-time (the docs' plain "ISO 8601" fields)."""
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True

def matches(pattern: str) -> Callable[[str], bool]:
    """Return a format check that the whole text matches ``pattern``."""
    compiled = re.compile(pattern)
    return lambda text: compiled.fullmatch(text) is not None


# Checks across the fields of one object ---------------------------------------------------------

ObjectCheck = Callable[[Mapping[str, Any], str], list[ErrorDetail]]  # (object, its path) -> problems


@dataclass(frozen=True)
class Checked:
    """``rule`` (usually an `Obj`) plus ``checks`` that look at several of its fields at once."""

    rule: Rule
    checks: tuple[ObjectCheck, ...] = ()

    @property
    def required(self) -> bool:
        """Whether the wrapped field must be given."""
        return self.rule.required

    def check(self, value: Any, path: str) -> list[ErrorDetail]:
        """Return the wrapped rule's problems, then each cross-field check's (objects only)."""
        problems = self.rule.check(value, path)
        if isinstance(value, dict):
            problems += [problem for check in self.checks for problem in check(value, path)]
        return problems


def required_when(name: str, other: str, values: tuple[str, ...]) -> ObjectCheck:
    """Require field ``name`` when field ``other`` holds one of ``values`` (e.g. a US address's state)."""

    def check(obj: Mapping[str, Any], prefix: str) -> list[ErrorDetail]:
        given = obj.get(other)
        if given not in values or not is_blank(obj.get(name)):
            return []
        path = join_path(prefix, name)
        return [detail(errors.REQUIRED, f"{path} is required when {join_path(prefix, other)} is {given}", path)]

    return check


def unique_within(array: str, field: str) -> ObjectCheck:
    """Report each element of the list ``array`` whose ``field`` repeats an earlier element's."""

    def check(obj: Mapping[str, Any], prefix: str) -> list[ErrorDetail]:
        items = obj.get(array)
        seen: set[Any] = set()
        problems: list[ErrorDetail] = []
        for i, item in enumerate(items if isinstance(items, list) else []):
            value = item.get(field) if isinstance(item, dict) else None
            if is_blank(value) or isinstance(value, (dict, list)):
                continue
            path = f"{join_path(prefix, array)}[{i}].{field}"
            if value in seen:
                message = f"{path} repeats {value}; it must be unique within {join_path(prefix, array)}"
                problems.append(detail(errors.DUPLICATE, message, path, f"Given: {value}"))
            seen.add(value)
        return problems

    return check
