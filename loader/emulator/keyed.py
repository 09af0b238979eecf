"""Records that have both a PB-assigned ID and a client-chosen key (BOMs, work orders, returns).

The store keeps one row per ``(resource, clientId, key)``. Such a resource keeps each record under
its PB ID, which is what paths address, plus an index row under the client key (resource
``<resource>:key``) pointing at the ID. The store's primary key then rules out a second record with
the same client key, and either lookup is a single row. The client key of a record never changes
(updates must repeat it), so an index row is never rewritten.

PB IDs come from a counter row per resource, so they are short, readable, in creation order and
never reused (ASSUMPTION: PB's ID formats are not in our copies of the docs).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from .search import Records
from .store import Store

SEQUENCES = "sequence"  # the counters' resource name; their client_id is blank (IDs are global)


class KeyedRecords:
    """The records of one resource, found by PB ID (``id_field``) or by client key."""

    def __init__(self, store: Store, resource: str, id_field: str, id_prefix: str) -> None:
        self.store = store
        self.resource = resource
        self.index = f"{resource}:key"
        self.id_field = id_field
        self.id_prefix = id_prefix

    def create(self, client_id: str, key: str, record: dict[str, Any]) -> dict[str, Any] | None:
        """Store ``record`` under a new PB ID and return it with the ID; None if the key is taken."""
        with self.store.atomic():
            if self.store.get(self.index, client_id, key) is not None:
                return None
            pb_id = self._next_id()
            stored = {self.id_field: pb_id, **record}
            self.store.insert(self.index, client_id, key, {self.id_field: pb_id})
            self.store.insert(self.resource, client_id, pb_id, stored)
        return stored

    def get(self, client_id: str, pb_id: str) -> dict[str, Any] | None:
        """Return the record with this PB ID, or None."""
        return self.store.get(self.resource, client_id, pb_id)

    def by_key(self, client_id: str, key: str) -> dict[str, Any] | None:
        """Return the record with this client key, or None."""
        entry = self.store.get(self.index, client_id, key)
        return None if entry is None else self.get(client_id, entry[self.id_field])

    def by_keys(self, client_id: str, keys: Collection[str]) -> dict[str, dict[str, Any]]:
        """Return ``{key: record}`` for those of the client keys that have a record, in two queries."""
        ids = self.store.fields(self.index, client_id, keys, self.id_field)
        records = self.store.many(self.resource, client_id, list(ids.values()))
        return {key: records[pb_id] for key, pb_id in ids.items() if pb_id in records}

    def pending(self, client_id: str, keys: Collection[str]) -> Pending:
        """Start one operation's writes, knowing the records (if any) of the client keys it will touch."""
        return Pending(self, client_id, self.by_keys(client_id, keys))

    def find(self, client_id: str, id_or_key: str) -> dict[str, Any] | None:
        """Return the record with this PB ID or, failing that, this client key."""
        return self.get(client_id, id_or_key) or self.by_key(client_id, id_or_key)

    def save(self, client_id: str, record: dict[str, Any]) -> None:
        """Overwrite the stored record that has ``record``'s PB ID."""
        self.store.replace(self.resource, client_id, record[self.id_field], record)

    def all(self, client_id: str | None = None) -> list[dict[str, Any]]:
        """Return every record (of one client, or of all), oldest first."""
        return self.store.records(self.resource, client_id)

    def searched(self, client_id: str, key_field: str) -> Records:
        """Return the client's records for a search, found by PB ID or by client key (``key_field``) when
        a filter names them, else all read."""
        return Records(
            lambda: self.all(client_id),
            {
                self.id_field: lambda ids: self.with_ids(client_id, ids),
                key_field: lambda keys: self.with_keys(client_id, keys),
            },
        )

    def with_ids(self, client_id: str, pb_ids: Collection[str]) -> list[dict[str, Any]]:
        """Return the records with those of the PB IDs that are stored, oldest first."""
        return self.store.under(self.resource, client_id, pb_ids)

    def with_keys(self, client_id: str, keys: Collection[str]) -> list[dict[str, Any]]:
        """Return the records with those of the client keys that are stored, oldest first."""
        ids = self.store.fields(self.index, client_id, keys, self.id_field)
        return self.with_ids(client_id, list(ids.values()))

    def _next_id(self) -> str:
        number = self.store.increment(SEQUENCES, "", self.resource, "last")
        return f"{self.id_prefix}{number:06d}"


class Pending:
    """One operation's creates and saves, held in memory and written by `flush` in a few statements.

    A bulk call of 200 orders then costs one read and one write of the ID counter and one statement
    each for the index rows, the new records and the changed ones, instead of five per order.
    ``by_key`` is the record of each client key looked up (see `KeyedRecords.pending`) as this
    operation has left it so far; a key not in it had no record when the operation began, nor since.
    """

    def __init__(self, records: KeyedRecords, client_id: str, found: Mapping[str, dict[str, Any]]) -> None:
        self.records = records
        self.client_id = client_id
        self.by_key: dict[str, dict[str, Any]] = dict(found)
        self._created: dict[str, tuple[str, dict[str, Any]]] = {}  # PB ID -> (key, record), in order
        self._saved: dict[str, dict[str, Any]] = {}  # PB ID -> record
        self._last: int | None = None

    def create(self, key: str, record: dict[str, Any]) -> dict[str, Any]:
        """Give ``record`` the next PB ID and return it with the ID; the key must be free (not in ``by_key``)."""
        pb_id = self._next_id()
        stored = {self.records.id_field: pb_id, **record}
        self._created[pb_id] = (key, stored)
        self.by_key[key] = stored
        return stored

    def save(self, key: str, record: dict[str, Any]) -> None:
        """Overwrite the record with ``record``'s PB ID (stored, or created by this operation)."""
        pb_id = record[self.records.id_field]
        if pb_id in self._created:
            self._created[pb_id] = (key, record)
        else:
            self._saved[pb_id] = record
        self.by_key[key] = record

    def flush(self) -> None:
        """Write what was created and saved; call it inside the operation's store transaction."""
        store, resource = self.records.store, self.records.resource
        if self._created:
            store.increment(SEQUENCES, "", resource, "last", by=len(self._created))
            index_rows = [(key, {self.records.id_field: pb_id}) for pb_id, (key, _) in self._created.items()]
            store.insert_many(self.records.index, self.client_id, index_rows)
            store.insert_many(
                resource, self.client_id, [(pb_id, rec) for pb_id, (_, rec) in self._created.items()]
            )
        if self._saved:
            store.replace_many(resource, self.client_id, list(self._saved.items()))
        self._created, self._saved = {}, {}
        self._last = None

    def _next_id(self) -> str:
        if self._last is None:  # read once; the store's lock is held until the flush writes it back
            resource = self.records.resource
            self._last = int(self.records.store.fields(SEQUENCES, "", [resource], "last").get(resource) or 0)
        self._last += 1
        return f"{self.records.id_prefix}{self._last:06d}"
