"""Look items up at PB by client key: every chunk of 200 keys, every page of each (issue 10).

The sender settles what a row asks against what PB holds, the plan checks the SKUs other sheets
name, and an item in doubt is reconciled — all through `find_by_key`. It must be right at any
size: a look-up that stopped after the first chunk or the first page would send items twice.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from functools import partial
from typing import Any

from loader import bets
from loader.api import FulfillmentClient, NoAnswerError
from loader.resources import Resource
from loader.send.common import Lookup, chunks
from loader.send.pool import STOP_GRACE_SECONDS, Pool, Stopped

LOOKUP_CHUNK = 200  # keys per search: PB's bulk limit, and what one search body names at most
Answer = tuple[Sequence[str], "dict[str, dict[str, Any]] | str"]  # a chunk, and its records or why not


def known_keys(
    client: FulfillmentClient,
    resource: Resource,
    keys: set[str],
    concurrency: int = 1,
    stop: threading.Event | None = None,
) -> tuple[set[str], dict[str, str]]:
    """The keys of `keys` that PB has (for products: the SKUs it knows), and those that could not be
    looked up, with why; 200 per search, `concurrency` searches at a time."""
    looked = find_by_key(client, resource, sorted(keys), concurrency, stop)
    return set(looked.found), looked.failed


def find_by_key(
    client: FulfillmentClient,
    resource: Resource,
    keys: Sequence[str],
    concurrency: int = 1,
    stop: threading.Event | None = None,
    grace_s: float = STOP_GRACE_SECONDS,
) -> Lookup:
    """PB's records of `resource` for `keys`, found by search: every chunk of 200 keys, every page of each.

    The chunks go `concurrency` at a time; the result is the same whatever order they come back
    in. A chunk whose search is refused or gets no answer leaves its keys in `failed`, with why,
    and the other chunks count; the breaker opening (`ApiDownError`) is raised, and so is
    `Stopped` when `stop` (Ctrl-C) cut the look-up short.
    """
    found: dict[str, dict[str, Any]] = {}
    failed: dict[str, str] = {}

    def merge(answer: Answer) -> None:
        chunk, result = answer
        if isinstance(result, str):
            failed.update(dict.fromkeys(chunk, result))
        else:
            found.update(result)

    pool: Pool[Answer] = Pool(concurrency, stop or threading.Event(), grace_s)
    pool.run(
        [partial(_look_up, client, resource, chunk) for chunk in chunks(sorted(set(keys)), LOOKUP_CHUNK)],
        merge,
    )
    if not pool.complete:
        raise Stopped()
    return Lookup(dict(sorted(found.items())), dict(sorted(failed.items())))


def look_up_chunk(client: FulfillmentClient, resource: Resource, keys: Sequence[str]) -> Lookup:
    """PB's records for one chunk of at most 200 keys, every page; or, if its search is refused or
    gets no answer, the keys in `failed` with why (`ApiDownError` is raised)."""
    chunk, result = _look_up(client, resource, sorted(set(keys)))
    return Lookup(failed=dict.fromkeys(chunk, result)) if isinstance(result, str) else Lookup(found=result)


def _look_up(client: FulfillmentClient, resource: Resource, chunk: Sequence[str]) -> Answer:
    """One chunk's records, or why it could not be looked up (its search out of tries, or refused)."""
    try:
        return chunk, _find_chunk(client, resource, chunk)
    except NoAnswerError as exc:
        spec = resource.api
        assert spec is not None
        cause = exc.__cause__.__class__.__name__ if exc.__cause__ is not None else "no answer"
        return chunk, (
            f"no answer from {client.path_for(spec.search_path)} after {exc.attempts} "
            f"attempt{'s' if exc.attempts > 1 else ''}, {cause}"
        )


def _find_chunk(
    client: FulfillmentClient, resource: Resource, chunk: Sequence[str]
) -> dict[str, dict[str, Any]] | str:
    """PB's records for one chunk of keys, page after page until PB says it was the last.

    A page without records ends the search too, whatever it says: a server that says "not the
    last" for ever must not keep pbload asking.
    """
    spec = resource.api
    assert spec is not None
    wanted = set(chunk)
    found: dict[str, dict[str, Any]] = {}
    body = {
        "clientId": client.client_id,
        "searchFields": [{"name": spec.search_key, "values": list(chunk)}, *spec.lookup_fields],
    }
    for page in itertools.count(1):
        response = client.call("POST", spec.search_path, body, params={"page": page, "size": len(chunk)})
        if not response.ok or not isinstance(response.body, dict):
            return f"{client.path_for(spec.search_path)} answered {response.describe()}"
        records = response.body.get(bets.SEARCH_RECORDS) or []
        for record in records:
            key = record.get(resource.key) if isinstance(record, dict) else None
            if key is not None and str(key) in wanted:
                found[str(key)] = record
        if response.body.get("last", True) or not records:
            break
    return found
