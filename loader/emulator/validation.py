"""Declarative field rules shared by every emulated resource, and the emulator's strictness (api §21.7).

A resource describes its JSON object as an `Obj`: a mapping of field name to rule (`Str`, `Num`,
`Int`, `Bool`, `Obj`, `Arr`) plus the names of the object's response-only fields. Checking returns
*every* problem as an `ErrorDetail` whose ``parameters`` hold the field's JSON path
(``details.weight.value``, ``orderItems[0].sku``), relative to the object checked.

Strict: because an `Obj` knows all its fields, any other key is refused with ``EMU-UNKNOWN-FIELD``
naming its path, at every depth (a line, an address, a details object). PB may silently drop a field
it does not know; at a merchant that is lost data, so the emulator makes a drifting client fail its
own tests instead. A response-only field sent back (``status``, ``pbCreateDate``...) is refused the
same way, with a description saying PB sets it: a request carries request fields only.

A value of ``null`` or a blank string counts as "not given": the natural reading of an empty cell.
That applies to known fields only; an unknown key is refused whatever its value.

Compiled once per schema: an `Obj`, `Arr` or `Checked` turns its rules into two closures the first
time it checks, with each field's name, Required flag and test looked up in advance: a ``predicate``
that says yes or no and builds nothing, and ``compiled``, which lists the problems. A leaf rule (`Str`,
`Num`, `Int`, `Bool`) offers ``ok``, the same yes/no test, specialised to the bounds it has. Checking
runs the predicate first; only a value it refuses is walked again by ``compiled``, which itself
skips the fields and items whose predicate says yes. So a valid bulk item costs one walk with no
path strings and no lists, and the problems (and their paths) of a bad one are exactly what the
leaves' ``check`` say. Unknown keys are found with one set test per object; only an object that has
some is scanned key by key.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Any, Protocol

from . import errors
from .errors import ErrorDetail, detail

Checker = Callable[[Any, str], list[ErrorDetail]]  # (value, its path) -> problems
Predicate = Callable[[Any], bool]


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


def check_object(
    obj: Mapping[str, Any], rules: Mapping[str, Rule], prefix: str = "", response_only: Collection[str] = ()
) -> list[ErrorDetail]:
    """Check each ruled field of ``obj`` (in rule order), then refuse every other key (in body order)."""
    problems: list[ErrorDetail] = []
    for name, rule in rules.items():
        path, value = join_path(prefix, name), obj.get(name)
        if is_blank(value):
            if rule.required:
                problems.append(detail(errors.REQUIRED, f"{path} is required", path))
            continue
        problems.extend(rule.check(value, path))
    return problems + unknown_fields(obj, rules, prefix, response_only)


def unknown_fields(
    obj: Mapping[str, Any], known: Iterable[str], prefix: str = "", response_only: Collection[str] = ()
) -> list[ErrorDetail]:
    """Return an ``EMU-UNKNOWN-FIELD`` problem for each key of ``obj`` that is not in ``known``.

    ``response_only`` names fields PB sets in its answers; they are refused too, with a description
    that says so (one rule: a request may carry request fields only).
    """
    names = list(known)
    problems = []
    for name in obj:
        if name in names:
            continue
        path = join_path(prefix, name)
        if name in response_only:
            problems.append(detail(errors.UNKNOWN_FIELD, f"{path} is set by PB and cannot be sent", path))
        else:
            info = "Known fields: " + (", ".join(names) or "none")
            message = f"{path} is not a field of the API; remove it or correct its name"
            problems.append(detail(errors.UNKNOWN_FIELD, message, path, info))
    return problems


@dataclass(frozen=True)
class Str:
    """A string, optionally bounded in length, limited to ``choices``, or in a ``fmt`` (see ``hint``)."""

    required: bool = False
    max_len: int | None = None
    choices: tuple[str, ...] | None = None
    fmt: Callable[[str], bool] | None = None
    hint: str = ""  # completes "<path> must ...", e.g. "contain digits only"

    def ok(self, value: Any) -> bool:
        """Tell, building nothing, whether ``check`` would find no problem."""
        return (
            isinstance(value, str)
            and (self.max_len is None or len(value) <= self.max_len)
            and (self.choices is None or value in self.choices)
            and (self.fmt is None or bool(self.fmt(value)))
        )

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
    """A JSON number (not a boolean), optionally above ``gt`` or at least ``ge``, with at most ``decimals``."""

    required: bool = False
    gt: float | None = None
    ge: float | None = None
    decimals: int | None = None

    def ok(self, value: Any) -> bool:
        """Tell, building nothing, whether ``check`` would find no problem."""
        return (
            not isinstance(value, bool)
            and isinstance(value, (int, float))
            and math.isfinite(value)
            and (self.gt is None or value > self.gt)
            and (self.ge is None or value >= self.ge)
            and (self.decimals is None or _decimals(value) <= self.decimals)
        )

    def check(self, value: Any, path: str) -> list[ErrorDetail]:
        """Return at most one problem: wrong type, out of range or too many decimals."""
        # bool is an int in Python, but `true` is not a number in JSON.
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return [detail(errors.BAD_TYPE, f"{path} must be a number", path)]
        if self.gt is not None and not value > self.gt:
            return [
                detail(
                    errors.OUT_OF_RANGE, f"{path} must be greater than {self.gt:g}", path, f"Given: {value}"
                )
            ]
        if self.ge is not None and not value >= self.ge:
            return [
                detail(errors.OUT_OF_RANGE, f"{path} must be at least {self.ge:g}", path, f"Given: {value}")
            ]
        if self.decimals is not None and _decimals(value) > self.decimals:
            message = f"{path} must have at most {self.decimals} decimals"
            return [detail(errors.BAD_FORMAT, message, path, f"Given: {value}")]
        return []


def _decimals(value: float) -> int:
    # repr is the shortest text that reads back as the same float: what the client's JSON said.
    if isinstance(value, int):
        return 0
    text = repr(value)
    if "e" not in text and "E" not in text:  # plain "12.25": the digits after the point
        return len(text) - text.index(".") - 1
    exponent = Decimal(repr(value)).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


@dataclass(frozen=True)
class Bool:
    """A JSON boolean."""

    required: bool = False

    def ok(self, value: Any) -> bool:
        """Tell whether the value is true or false."""
        return isinstance(value, bool)

    def check(self, value: Any, path: str) -> list[ErrorDetail]:
        """Return a problem unless the value is true or false."""
        if not isinstance(value, bool):
            return [detail(errors.BAD_TYPE, f"{path} must be true or false", path)]
        return []


@dataclass(frozen=True)
class Obj:
    """A JSON object whose fields are exactly ``rules``; ``response_only`` names the fields PB adds."""

    rules: Mapping[str, Rule] = field(default_factory=dict)
    required: bool = False
    response_only: tuple[str, ...] = ()

    def check(self, value: Any, path: str) -> list[ErrorDetail]:
        """Return a type problem, or every problem of the fields, unknown ones included.

        The same problems, in the same order, as `check_object`; compiled once (see the module).
        """
        return [] if self.predicate(value) else self.compiled(value, path)

    @cached_property
    def compiled(self) -> Checker:
        """This object's check as one closure over its fields, built on first use."""
        return _compile_object(self)

    @cached_property
    def predicate(self) -> Predicate:
        """Whether `check` would find nothing, as one closure that builds nothing (built on first use)."""
        return _object_predicate(self)


@dataclass(frozen=True)
class Int:
    """A JSON whole number (not a boolean, not ``1.0``), optionally at least ``ge``."""

    required: bool = False
    ge: int | None = None

    def ok(self, value: Any) -> bool:
        """Tell, building nothing, whether ``check`` would find no problem."""
        return (
            not isinstance(value, bool) and isinstance(value, int) and (self.ge is None or value >= self.ge)
        )

    def check(self, value: Any, path: str) -> list[ErrorDetail]:
        """Return at most one problem: wrong type or out of range."""
        if isinstance(value, bool) or not isinstance(value, int):
            return [detail(errors.BAD_TYPE, f"{path} must be a whole number", path)]
        if self.ge is not None and value < self.ge:
            return [
                detail(errors.OUT_OF_RANGE, f"{path} must be at least {self.ge}", path, f"Given: {value}")
            ]
        return []


@dataclass(frozen=True)
class Arr:
    """A JSON array of ``min_items`` or more values, each following ``item`` (paths ``name[i]``)."""

    item: Rule
    required: bool = False
    min_items: int = 0
    max_items: int | None = None

    def check(self, value: Any, path: str) -> list[ErrorDetail]:
        """Return a type or count problem, or every problem of the items (compiled once)."""
        return [] if self.predicate(value) else self.compiled(value, path)

    @cached_property
    def compiled(self) -> Checker:
        """This array's check as one closure, built on first use."""
        return _compile_array(self)

    @cached_property
    def predicate(self) -> Predicate:
        """Whether `check` would find nothing, as one closure that builds nothing (built on first use)."""
        return _array_predicate(self)

    def fits(self, value: Any) -> bool:
        """Tell whether the value is a list of an allowed length."""
        return (
            isinstance(value, list)
            and len(value) >= self.min_items
            and (self.max_items is None or len(value) <= self.max_items)
        )

    def shape_problems(self, value: Any, path: str) -> list[ErrorDetail]:
        """Return the type or count problem of a value that does not `fit`."""
        if not isinstance(value, list):
            return [detail(errors.BAD_TYPE, f"{path} must be an array", path)]
        if not value and self.min_items:
            return [detail(errors.REQUIRED, f"{path} must hold at least {self.min_items} item(s)", path)]
        if len(value) < self.min_items or (self.max_items is not None and len(value) > self.max_items):
            bounds = f"at least {self.min_items}"
            if self.max_items is not None:
                bounds = f"between {self.min_items} and {self.max_items}"
            return [
                detail(errors.OUT_OF_RANGE, f"{path} must hold {bounds} items", path, f"{len(value)} given")
            ]
        return []


def optional(rule: Rule) -> Rule:
    """Return ``rule`` with its own Required flag cleared (what it checks inside stays as it is)."""
    if isinstance(rule, Checked):
        return Checked(optional(rule.rule), rule.checks)
    return replace(rule, required=False)  # type: ignore[type-var]


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
    try:  # what strptime("%Y-%m-%dT%H:%M:%SZ") accepts after the shape check, at a tenth of its cost
        datetime(
            int(text[:4]),
            int(text[5:7]),
            int(text[8:10]),
            int(text[11:13]),
            int(text[14:16]),
            int(text[17:19]),
        )
    except ValueError:  # e.g. month 13 or second 60: right shape, not an instant
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


def country_code(required: bool = False) -> Str:
    """An ISO 3166-1 alpha-2 country code (``US``), as PB's ``...CountryCode`` fields take."""
    return Str(
        required=required, fmt=matches(r"[A-Z]{2}"), hint="be two upper-case letters (ISO 3166-1 alpha-2)"
    )


def zulu_date(required: bool = False) -> Str:
    """A date-time written ``YYYY-MM-DDThh:mm:ssZ`` (orders, ASN lines, BOMs, work orders)."""
    return Str(required=required, fmt=is_zulu_date, hint=ZULU_DATE_HINT)


def iso_date(required: bool = False) -> Str:
    """Any ISO 8601 date or date-time (the docs' plain "ISO 8601" fields)."""
    return Str(required=required, fmt=is_iso_date, hint=ISO_DATE_HINT)


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
        return [] if self.predicate(value) else self.compiled(value, path)

    @cached_property
    def predicate(self) -> Predicate:
        """Whether `check` would find nothing: the wrapped rule's predicate, then no cross-field problem."""
        inner, checks = _predicate(self.rule), self.checks

        def ok(value: Any) -> bool:
            if not inner(value):
                return False
            return not isinstance(value, dict) or not any(check(value, "") for check in checks)

        return ok

    @cached_property
    def compiled(self) -> Checker:
        """This check as one closure, built on first use."""
        inner, checks = _checker(self.rule), self.checks

        def run(value: Any, path: str) -> list[ErrorDetail]:
            problems = list(inner(value, path))
            if isinstance(value, dict):
                for check in checks:
                    problems += check(value, path)
            return problems

        return run


def required_when(name: str, other: str, values: tuple[str, ...]) -> ObjectCheck:
    """Require field ``name`` when field ``other`` holds one of ``values`` (e.g. a US address's state)."""

    def check(obj: Mapping[str, Any], prefix: str) -> list[ErrorDetail]:
        given = obj.get(other)
        if given not in values or not is_blank(obj.get(name)):
            return []
        path = join_path(prefix, name)
        return [
            detail(errors.REQUIRED, f"{path} is required when {join_path(prefix, other)} is {given}", path)
        ]

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
            if value in seen:
                path = f"{join_path(prefix, array)}[{i}].{field}"
                message = f"{path} repeats {value}; it must be unique within {join_path(prefix, array)}"
                problems.append(detail(errors.DUPLICATE, message, path, f"Given: {value}"))
            seen.add(value)
        return problems

    return check


def required_with_any(name: str, others: tuple[str, ...], alternative: str | None = None) -> ObjectCheck:
    """Require ``name`` (or ``alternative``) once any of ``others`` is given (a dimension's unit)."""

    def check(obj: Mapping[str, Any], prefix: str) -> list[ErrorDetail]:
        given = [other for other in others if not is_blank(obj.get(other))]
        if not given or not is_blank(obj.get(name)) or (alternative and not is_blank(obj.get(alternative))):
            return []
        path = join_path(prefix, name)
        either = f" (or {join_path(prefix, alternative)})" if alternative else ""
        message = f"{path}{either} is required when {join_path(prefix, given[0])} is given"
        return [detail(errors.REQUIRED, message, path)]

    return check


def not_both(first: str, second: str) -> ObjectCheck:
    """Refuse ``second`` when ``first`` is given too: PB takes one or the other (a dimension's unit)."""

    def check(obj: Mapping[str, Any], prefix: str) -> list[ErrorDetail]:
        if is_blank(obj.get(first)) or is_blank(obj.get(second)):
            return []
        path = join_path(prefix, second)
        message = f"{path} must not be given with {join_path(prefix, first)}; send one of them"
        return [detail(errors.NOT_ALLOWED, message, path)]

    return check


def descending(*names: str) -> ObjectCheck:
    """Require the positive numbers ``names`` to be given in non-increasing order (PB's length ≥ height ≥ width).

    Values that are not positive numbers are left to their own rules, so one mistake gives one error.
    """

    def check(obj: Mapping[str, Any], prefix: str) -> list[ErrorDetail]:
        given = [(name, obj.get(name)) for name in names]
        numbers: list[tuple[str, float]] = [
            (n, v) for n, v in given if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0
        ]
        for (bigger, high), (smaller, low) in zip(numbers, numbers[1:], strict=False):
            if low > high:
                path = join_path(prefix, smaller)
                message = (
                    f"{path} must not exceed {join_path(prefix, bigger)}: {', '.join(names)} go longest first"
                )
                return [detail(errors.OUT_OF_RANGE, message, path, f"Given: {low} > {high}")]
        return []

    return check


# Compiling --------------------------------------------------------------------------------------


def _predicate(rule: Rule) -> Predicate:
    """Whether ``rule.check`` would find nothing in a (non-blank) value, as a closure that builds nothing.

    A leaf's is its ``ok`` specialised to the bounds it has; a container's is its ``predicate``.
    """
    if isinstance(rule, Str):
        return _str_predicate(rule)
    if isinstance(rule, Int):
        ge = rule.ge
        if ge is None:
            return lambda value: value.__class__ is not bool and isinstance(value, int)
        return lambda value: value.__class__ is not bool and isinstance(value, int) and value >= ge
    if isinstance(rule, (Num, Bool)):
        return rule.ok
    if isinstance(rule, (Obj, Arr, Checked)):
        return rule.predicate
    return lambda value: not rule.check(value, "")


def _str_predicate(rule: Str) -> Predicate:
    max_len, fmt = rule.max_len, rule.fmt
    choices = None if rule.choices is None else frozenset(rule.choices)
    if fmt is None and choices is None:
        if max_len is None:
            return lambda value: isinstance(value, str)
        return lambda value: isinstance(value, str) and len(value) <= max_len
    if fmt is None and max_len is None and choices is not None:
        return lambda value: isinstance(value, str) and value in choices
    return rule.ok


def _object_predicate(obj: Obj) -> Predicate:
    tests = {name: _predicate(rule) for name, rule in obj.rules.items()}
    required = tuple(name for name, rule in obj.rules.items() if rule.required)

    def ok(value: Any) -> bool:
        if not isinstance(value, dict):
            return False
        for name in required:
            given = value.get(name)
            if given is None or (isinstance(given, str) and not given.strip()):  # is_blank, inlined
                return False
        for name, given in value.items():
            test = tests.get(name)
            if test is None:  # an unknown or response-only field
                return False
            if not (given is None or (isinstance(given, str) and not given.strip()) or test(given)):
                return False
        return True

    return ok


def _array_predicate(arr: Arr) -> Predicate:
    test, fits = _predicate(arr.item), arr.fits

    def ok(value: Any) -> bool:
        if not fits(value):
            return False
        for item in value:
            if item is None or (isinstance(item, str) and not item.strip()) or not test(item):
                return False
        return True

    return ok


def _checker(rule: Rule) -> Checker:
    compiled = getattr(rule, "compiled", None)
    return compiled if callable(compiled) else rule.check


def _compile_object(obj: Obj) -> Checker:
    fields = tuple(
        (name, rule.required, _predicate(rule), _checker(rule)) for name, rule in obj.rules.items()
    )
    known, names, response_only = frozenset(obj.rules), tuple(obj.rules), obj.response_only

    def run(value: Any, path: str) -> list[ErrorDetail]:
        if not isinstance(value, dict):
            what = "the request body" if not path else path
            return [detail(errors.BAD_TYPE, f"{what} must be an object", path or "body")]
        problems: list[ErrorDetail] = []
        for name, required, ok, check in fields:
            given = value.get(name)
            if given is None or (isinstance(given, str) and not given.strip()):  # is_blank, inlined
                if required:
                    field_path = join_path(path, name)
                    problems.append(detail(errors.REQUIRED, f"{field_path} is required", field_path))
            elif not ok(given):
                problems.extend(check(given, join_path(path, name)))
        if not known.issuperset(value):
            problems += unknown_fields(value, names, path, response_only)
        return problems

    return run


def _compile_array(arr: Arr) -> Checker:
    ok, check, fits, shape_problems = _predicate(arr.item), _checker(arr.item), arr.fits, arr.shape_problems

    def run(value: Any, path: str) -> list[ErrorDetail]:
        if not fits(value):
            return shape_problems(value, path)
        problems: list[ErrorDetail] = []
        for i, item in enumerate(value):
            if item is None or (isinstance(item, str) and not item.strip()):  # an entry cannot be "not given"
                item_path = f"{path}[{i}]"
                problems.append(detail(errors.REQUIRED, f"{item_path} must not be blank", item_path))
            elif not ok(item):
                problems.extend(check(item, f"{path}[{i}]"))
        return problems

    return run
