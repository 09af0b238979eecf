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

from typing import Any

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

    def find(self, client_id: str, id_or_key: str) -> dict[str, Any] | None:
        """Return the record with this PB ID or, failing that, this client key."""
        return self.get(client_id, id_or_key) or self.by_key(client_id, id_or_key)

    def save(self, client_id: str, record: dict[str, Any]) -> None:
        """Overwrite the stored record that has ``record``'s PB ID."""
        self.store.replace(self.resource, client_id, record[self.id_field], record)

    def all(self, client_id: str | None = None) -> list[dict[str, Any]]:
        """Return every record (of one client, or of all), oldest first."""
        return self.store.records(self.resource, client_id)

    def _next_id(self) -> str:
        number = self.store.increment(SEQUENCES, "", self.resource, "last")
        return f"{self.id_prefix}{number:06d}"
