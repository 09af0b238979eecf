"""Search conventions shared by every ``.../search`` operation (api §2.5).

Paging is 1-based (``page``, ``size`` in the query); ``sort`` is a list of
``<createDate|updateDate|pbCreateDate|pbUpdateDate>-<asc|desc>``; ``searchFields`` is a list of
``{"name", "values"}``. A resource says which names it supports by mapping each to a `Matcher`,
which turns the given values into a record predicate. The response envelope follows Spring Data's
page JSON, the records in ``bets.SEARCH_RECORDS`` (BET-12).

A search by a stored key (pbload's look-ups: 200 client keys a page) need not read the whole store:
a resource hands `run` its records as a `Records`, which can fetch the few stored under given keys
(one indexed query per 500 keys) for the fields whose value is the store's key. The same predicates then run over
those few, in stored order, so the answer is the one a full scan gives.

Strict (api §21.7): a search body holds ``clientId``, ``sort`` and ``searchFields`` only, and each
``searchFields`` entry ``name`` and ``values`` only; any other key is ``EMU-UNKNOWN-FIELD``.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import bets, errors
from .errors import HttpError, bad_request, detail
from .timestamps import parse_instant
from .validation import unknown_fields

DEFAULT_PAGE = 1
DEFAULT_SIZE = 20
SORT_PROPERTIES = ("createDate", "updateDate", "pbCreateDate", "pbUpdateDate")
SORT_SYNTAX = "<" + "|".join(SORT_PROPERTIES) + ">-<asc|desc>"
_SORT = re.compile(f"({'|'.join(SORT_PROPERTIES)})-(asc|desc)")
BODY_FIELDS = ("clientId", "sort", "searchFields")
FILTER_FIELDS = ("name", "values")
RECORDS = bets.SEARCH_RECORDS

Record = dict[str, Any]
Predicate = Callable[[Record], bool]
Matcher = Callable[[list[Any], str], Predicate]  # (values, path of values) -> predicate
Lookup = Callable[[list[str]], list[Record]]  # keys -> the records stored under them, in stored order


@dataclass(frozen=True)
class SortKey:
    """Sort by ``field``, newest first when ``descending``."""

    field: str
    descending: bool


@dataclass(frozen=True)
class SearchRequest:
    """A checked search request: the page wanted, the sort keys and the filters, in request order."""

    page: int
    size: int
    keys: list[SortKey]
    filters: list[tuple[str, Predicate]]
    # (record field, values) of each filter made by `exact`, for `candidates`
    equals: list[tuple[str, list[Any]]] = dataclasses.field(default_factory=list)

    def candidates(self, records: Records) -> Sequence[Record]:
        """Return the records the filters need to see: those under the keys one names, else all of them.

        A filter qualifies when it matches a field in ``records.by_key`` and its values are all
        non-blank strings (a stored key is one; a blank or non-string value may match a record that has
        no key, so it is answered by the full scan); of several, the one with the fewest values.
        """
        keyed = [(name, values) for name, values in self.equals if name in records.by_key and _keys(values)]
        if not keyed:
            return records.every()
        name, values = min(keyed, key=lambda pair: len(pair[1]))
        return records.by_key[name](values)

    def matching(self, records: Sequence[Record]) -> list[Record]:
        """Return the records every filter accepts, in their stored order."""
        return [record for record in records if all(test(record) for _, test in self.filters)]

    def names(self) -> set[str]:
        """Return the searchFields names the request used."""
        return {name for name, _ in self.filters}


@dataclass(frozen=True)
class Records:
    """A resource's records for one search: ``every()`` of them, and for each field in ``by_key`` (one
    whose value is what the store keys the record by) a `Lookup` of the records with given values."""

    every: Callable[[], Sequence[Record]]
    by_key: Mapping[str, Lookup] = dataclasses.field(default_factory=dict)


def _keys(values: list[Any]) -> bool:
    return all(isinstance(value, str) and value.strip() for value in values)


def parse_request(
    query: Mapping[str, str],
    body: Mapping[str, Any],
    matchers: Mapping[str, Matcher],
    sort_properties: Sequence[str] = SORT_PROPERTIES,
) -> SearchRequest:
    """Check a search request (unknown body keys, paging, sort, searchFields) and return it parsed."""
    problems = unknown_fields(body, BODY_FIELDS)
    if problems:
        raise HttpError(400, problems)
    page, size = paging(query)
    keys = parse_sort(body.get("sort"), sort_properties)
    fields = body.get("searchFields")
    return SearchRequest(page, size, keys, parse_filters(fields, matchers), _equals(fields, matchers))


def _equals(fields: Any, matchers: Mapping[str, Matcher]) -> list[tuple[str, list[Any]]]:
    """Return ``(record field, values)`` of the searchFields matched by `exact` (already checked)."""
    found = [(matchers[item["name"]], item["values"]) for item in fields or ()]
    return [
        (matcher.field, values) for matcher, values in found if isinstance(matcher, Exact) and matcher.plain
    ]


def paging(query: Mapping[str, str]) -> tuple[int, int]:
    """Return ``(page, size)`` from the query string; each must be a whole number ≥ 1."""
    return _positive(query, "page", DEFAULT_PAGE), _positive(query, "size", DEFAULT_SIZE)


def _positive(query: Mapping[str, str], name: str, default: int) -> int:
    text = query.get(name)
    if text is None:
        return default
    try:
        number = int(text)
    except ValueError:
        raise bad_request(errors.BAD_TYPE, f"{name} must be a whole number", name, f"Given: {text}") from None
    if number < 1:
        raise bad_request(errors.OUT_OF_RANGE, f"{name} must be at least 1", name, f"Given: {text}")
    return number


def parse_sort(value: Any, properties: Sequence[str] = SORT_PROPERTIES) -> list[SortKey]:
    """Return the sort keys of a request's ``sort``; raise 400 naming every bad entry.

    ``properties`` are the sortable names (inventory sorts by ``sku``, shipments by ``shipppedDate``).
    """
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad_request(errors.BAD_TYPE, "sort must be an array of strings", "sort")
    pattern, syntax = _sort_syntax(properties)
    matches = [pattern.fullmatch(item) if isinstance(item, str) else None for item in value]
    problems = [
        detail(errors.NOT_ALLOWED, f"sort[{i}] must be {syntax}", f"sort[{i}]", f"Given: {value[i]}")
        for i, match in enumerate(matches)
        if match is None
    ]
    if problems:
        raise HttpError(400, problems)
    return [SortKey(m.group(1), m.group(2) == "desc") for m in matches if m]


def _sort_syntax(properties: Sequence[str]) -> tuple[re.Pattern[str], str]:
    if tuple(properties) == SORT_PROPERTIES:
        return _SORT, SORT_SYNTAX
    names = "|".join(re.escape(name) for name in properties)
    return re.compile(f"({names})-(asc|desc)"), "<" + "|".join(properties) + ">-<asc|desc>"


def parse_filters(value: Any, matchers: Mapping[str, Matcher]) -> list[tuple[str, Predicate]]:
    """Return ``(name, predicate)`` for each of a request's ``searchFields``; raise 400 if malformed."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad_request(errors.BAD_TYPE, "searchFields must be an array of objects", "searchFields")
    return [_filter(item, f"searchFields[{i}]", matchers) for i, item in enumerate(value)]


def _filter(item: Any, path: str, matchers: Mapping[str, Matcher]) -> tuple[str, Predicate]:
    if not isinstance(item, dict):
        raise bad_request(errors.BAD_TYPE, f"{path} must be an object with name and values", path)
    problems = unknown_fields(item, FILTER_FIELDS, path)
    if problems:
        raise HttpError(400, problems)
    name, values = item.get("name"), item.get("values")
    if not isinstance(name, str) or name not in matchers:
        allowed = ", ".join(sorted(matchers))
        raise bad_request(
            errors.NOT_ALLOWED, f"{path}.name must be one of {allowed}", f"{path}.name", f"Given: {name}"
        )
    if not isinstance(values, list) or not values:
        raise bad_request(errors.REQUIRED, f"{path}.values must be a non-empty array", f"{path}.values")
    return name, matchers[name](values, f"{path}.values")


@dataclass(frozen=True)
class Exact:
    """Match records whose ``field`` (``default`` when absent) equals any of the values."""

    field: str
    default: Any = None

    @property
    def plain(self) -> bool:
        """Tell whether a record lacking the field matches only a null (so a key look-up may answer)."""
        return self.default is None

    def __call__(self, values: list[Any], path: str) -> Predicate:
        name, default = self.field, self.default
        return lambda record: any(_same(record.get(name, default), value) for value in values)


def exact(field: str, default: Any = None) -> Matcher:
    """Match records whose ``field`` (``default`` when absent) equals any of the values."""
    return Exact(field, default)


def any_item(array: str, field: str) -> Matcher:
    """Match records where some element of the list ``array`` has ``field`` (dotted: ``itemDetail.sku``)
    equal to any of the values."""

    def build(values: list[Any], path: str) -> Predicate:
        def predicate(record: Record) -> bool:
            items = record.get(array)
            found = [_dig(item, field) for item in items] if isinstance(items, list) else []
            return any(_same(have, value) for have in found for value in values)

        return predicate

    return build


def _dig(value: Any, dotted: str) -> Any:
    for name in dotted.split("."):
        value = value.get(name) if isinstance(value, dict) else None
    return value


def _same(a: Any, b: Any) -> bool:
    # In Python True == 1; in JSON a boolean and a number are different values.
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def date_range(field: str) -> Matcher:
    """Match records whose ``field`` lies in ``[from, to]`` (inclusive; a blank bound is open)."""

    def build(values: list[Any], path: str) -> Predicate:
        if len(values) > 2:
            raise bad_request(errors.BAD_FORMAT, f"{path} must be [from, to]", path)
        bounds = [_bound(value, path, end_of_day=i == 1) for i, value in enumerate(values)]
        low, high = [*bounds, None][:2]
        return lambda record: _within(parse_instant(record.get(field)), low, high)

    return build


def _bound(value: Any, path: str, end_of_day: bool) -> datetime | None:
    if value is None or value == "":
        return None
    moment = parse_instant(value, end_of_day)
    if moment is None:
        raise bad_request(errors.BAD_FORMAT, f"{path} must hold ISO 8601 dates", path, f"Given: {value}")
    return moment


def since(field: str, start: datetime) -> Predicate:
    """Match records whose ``field`` is at or after ``start``."""
    return lambda record: _within(parse_instant(record.get(field)), start, None)


def _within(moment: datetime | None, low: datetime | None, high: datetime | None) -> bool:
    if moment is None:
        return False
    return (low is None or moment >= low) and (high is None or moment <= high)


def run(
    records: Records,
    query: Mapping[str, str],
    body: Mapping[str, Any],
    matchers: Mapping[str, Matcher],
    defaults: Mapping[str, Predicate] | None = None,
    view: Callable[[Record], Record] | None = None,
) -> dict[str, Any]:
    """One page of `records` matching a search request's ``searchFields``, sorted by its ``sort``.

    Only the records under the keys of a keyed filter are read when there is one (`SearchRequest.candidates`).

    `defaults` are filters that apply unless the request names the same field itself; `view`
    turns each record of the page into what is answered (the status searches' smaller records).
    """
    request = parse_request(query, body, matchers)
    given = request.names()
    request.filters.extend((name, test) for name, test in (defaults or {}).items() if name not in given)
    found = request.matching(request.candidates(records))
    return page_of(sort_records(found, request.keys), request.page, request.size, view)


def sort_records(records: Sequence[Record], keys: Sequence[SortKey]) -> list[Record]:
    """Sort by the keys, first key first; records lacking a key's date go last either way."""
    ordered = list(records)
    for key in reversed(keys):  # stable sorts applied last-key-first give a multi-key order
        dated = [(parse_instant(record.get(key.field)), record) for record in ordered]
        present = [pair for pair in dated if pair[0] is not None]
        present.sort(key=lambda pair: pair[0], reverse=key.descending)  # type: ignore[arg-type, return-value]
        ordered = [record for _, record in present] + [record for moment, record in dated if moment is None]
    return ordered


def page_of(
    records: Sequence[Record], page: int, size: int, view: Callable[[Record], Record] | None = None
) -> dict[str, Any]:
    """Return one page of ``records`` (each through ``view``, if given) in the search response envelope."""
    total_pages = math.ceil(len(records) / size)
    start = (page - 1) * size
    shown = records[start : start + size]
    return {
        RECORDS: [view(record) for record in shown] if view else list(shown),
        "totalElements": len(records),
        "totalPages": total_pages,
        "first": page == 1,
        "last": page >= total_pages,
        "size": size,
        "page": page,
    }
