"""The emulator's state in SQLite: resource records, OAuth tokens, used transaction IDs.

Every resource (products now; ASNs, orders, BOMs, work orders, returns later) keeps its records in
one table, as JSON text keyed by ``(resource, client_id, key)``, so adding a resource needs no new
table. The store knows nothing about the rules of any resource; those live in one module each.

One connection serves all threads, guarded by a re-entrant lock: the emulator is a test double and
a local stand-in, so serialising requests is simpler than being clever and is fast enough.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    resource  TEXT NOT NULL,
    client_id TEXT NOT NULL,
    key       TEXT NOT NULL,
    body      TEXT NOT NULL,
    PRIMARY KEY (resource, client_id, key)
);
CREATE TABLE IF NOT EXISTS tokens (
    token      TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS transaction_ids (
    transaction_id TEXT PRIMARY KEY,
    used_at        REAL NOT NULL
);
"""
TABLES = ("records", "tokens", "transaction_ids")
MAX_KEYS_PER_QUERY = 500  # keys in one ``IN (...)``: well under SQLite's limit on a statement's parameters
# A record's text: `json.dumps`'s, made without looking for circular containers (a record is a tree of
# plain values that came from JSON); a bulk call of 200 orders writes some 800 of them.
_text = json.JSONEncoder(check_circular=False).encode


class Store:
    """SQLite-backed state; ``db_path=None`` keeps it in memory for the life of the object."""

    def __init__(self, db_path: str | os.PathLike[str] | None = None) -> None:
        self.db_path = None if db_path is None else Path(db_path)
        self._lock = threading.RLock()
        self._depth = 0
        self._conn = self._connect()

    def _connect(self) -> sqlite3.Connection:
        if self.db_path is None:
            target = ":memory:"
        else:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
            target = str(self.db_path)
        # Autocommit mode: `atomic` issues BEGIN/COMMIT itself, so nesting is under our control.
        conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        if self.db_path is not None:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=5000")  # another process may hold the file briefly
        conn.executescript(SCHEMA)
        return conn

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Hold the lock and one transaction for the block; nested blocks join the outer one."""
        with self._lock:
            outermost = self._depth == 0
            if outermost:
                self._conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outermost:
                    self._conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outermost:
                self._conn.execute("COMMIT")

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        # One statement is its own transaction in autocommit mode, and inside `atomic` it joins the
        # open one; either way only the lock is needed (a BEGIN/COMMIT per statement cost a third of
        # a bulk call's CPU).
        with self._lock:
            return self._conn.execute(sql, params)

    # Records ------------------------------------------------------------------------------------

    def get(self, resource: str, client_id: str, key: str) -> dict[str, Any] | None:
        """Return the record stored under the key, or None."""
        row = self._execute(
            "SELECT body FROM records WHERE resource = ? AND client_id = ? AND key = ?",
            (resource, client_id, key),
        ).fetchone()
        return None if row is None else json.loads(row[0])

    def insert(self, resource: str, client_id: str, key: str, record: dict[str, Any]) -> bool:
        """Store a new record; return False (storing nothing) when the key is taken."""
        cursor = self._execute(
            "INSERT OR IGNORE INTO records (resource, client_id, key, body) VALUES (?, ?, ?, ?)",
            (resource, client_id, key, _text(record)),
        )
        return cursor.rowcount == 1

    def replace(self, resource: str, client_id: str, key: str, record: dict[str, Any]) -> bool:
        """Overwrite an existing record; return False (storing nothing) when there is none."""
        cursor = self._execute(
            "UPDATE records SET body = ? WHERE resource = ? AND client_id = ? AND key = ?",
            (_text(record), resource, client_id, key),
        )
        return cursor.rowcount == 1

    def many(self, resource: str, client_id: str, keys: Collection[str]) -> dict[str, dict[str, Any]]:
        """Return ``{key: record}`` for those of ``keys`` that are stored, in one query (per 500 keys)."""
        rows = self._select_in("SELECT key, body FROM records", (), resource, client_id, keys)
        return {key: json.loads(body) for key, body in rows}

    def under(self, resource: str, client_id: str, keys: Collection[str]) -> list[dict[str, Any]]:
        """Return the records stored under those of ``keys`` that are stored, oldest first, as `records` would.

        One indexed query per 500 keys (the primary key's index); only these records are parsed.
        """
        rows = self._select_in("SELECT rowid, body FROM records", (), resource, client_id, keys)
        return [json.loads(body) for _, body in sorted(rows)]

    def fields(self, resource: str, client_id: str, keys: Collection[str], name: str) -> dict[str, Any]:
        """Return ``{key: record[name]}`` for those of ``keys`` that are stored, in one query (per 500 keys).

        For checks that need one field of many records (is each SKU a product, and a KIT?); the
        records are not parsed in Python. A stored record without the field maps to None.
        """
        sql = "SELECT key, json_extract(body, '$.' || ?) FROM records"
        return dict(self._select_in(sql, (name,), resource, client_id, keys))

    def insert_many(self, resource: str, client_id: str, rows: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Store new records ``(key, record)`` in one statement; a taken key is a bug (IntegrityError)."""
        params = [(resource, client_id, key, _text(record)) for key, record in rows]
        with self._lock:
            self._conn.executemany(
                "INSERT INTO records (resource, client_id, key, body) VALUES (?, ?, ?, ?)", params
            )

    def replace_many(self, resource: str, client_id: str, rows: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Overwrite existing records ``(key, record)`` in one statement (a missing key is skipped)."""
        params = [(_text(record), resource, client_id, key) for key, record in rows]
        with self._lock:
            self._conn.executemany(
                "UPDATE records SET body = ? WHERE resource = ? AND client_id = ? AND key = ?", params
            )

    def add_many(
        self,
        resource: str,
        client_id: str,
        rows: Iterable[tuple[str, dict[str, Any]]],
        numbers: Sequence[str],
    ) -> None:
        """For each ``(key, record)``: store ``record`` when the key has none, else add its ``numbers``
        to the stored record's (the rest of that record kept), in one statement run by SQLite.

        For running totals (stock): ``record`` holds the changes, which is what a new key starts with.
        """
        if not all(name.isidentifier() for name in numbers):
            raise ValueError(f"number names must be plain names: {list(numbers)}")
        # the changes are bound beside the record (?5...), not read back out of its text by SQLite
        sums = ", ".join(
            f"'$.{name}', json_extract(body, '$.{name}') + ?{5 + n}" for n, name in enumerate(numbers)
        )  # only checked names are spliced in
        params = [
            (resource, client_id, key, _text(record), *[record.get(name) for name in numbers])
            for key, record in rows
        ]
        with self._lock:
            self._conn.executemany(
                "INSERT INTO records (resource, client_id, key, body) VALUES (?1, ?2, ?3, ?4)"
                f" ON CONFLICT (resource, client_id, key) DO UPDATE SET body = json_set(body, {sums})",
                params,
            )

    def _select_in(
        self, select: str, leading: Sequence[Any], resource: str, client_id: str, keys: Collection[str]
    ) -> list[tuple[Any, ...]]:
        """Run ``select ... WHERE resource, client_id and key IN keys``, 500 keys at a time."""
        unique = list(dict.fromkeys(keys))
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(unique), MAX_KEYS_PER_QUERY):
            part = unique[start : start + MAX_KEYS_PER_QUERY]
            marks = ", ".join("?" * len(part))  # only placeholders are spliced in
            sql = f"{select} WHERE resource = ? AND client_id = ? AND key IN ({marks})"
            rows += self._execute(sql, (*leading, resource, client_id, *part)).fetchall()
        return rows

    def increment(self, resource: str, client_id: str, key: str, name: str, by: int = 1) -> int:
        """Add ``by`` to the number ``name`` of the record at the key (created at ``by``) and return it, in one statement."""
        row = self._execute(
            "INSERT INTO records (resource, client_id, key, body) VALUES (?, ?, ?, json_object(?, ?))"
            " ON CONFLICT (resource, client_id, key)"
            " DO UPDATE SET body = json_set(body, '$.' || ?, json_extract(body, '$.' || ?) + ?)"
            " RETURNING json_extract(body, '$.' || ?)",
            (resource, client_id, key, name, by, name, name, by, name),
        ).fetchone()
        return int(row[0])

    def records(self, resource: str, client_id: str | None = None) -> list[dict[str, Any]]:
        """Return a resource's records (of one client, or of all), oldest first."""
        sql, params = "SELECT body FROM records WHERE resource = ?", [resource]
        if client_id is not None:
            sql, params = sql + " AND client_id = ?", [resource, client_id]
        rows = self._execute(sql + " ORDER BY rowid", params).fetchall()
        return [json.loads(body) for (body,) in rows]

    # Tokens and transaction IDs -----------------------------------------------------------------

    def add_token(self, token: str, client_id: str, expires_at: float) -> None:
        """Remember an issued access token until ``expires_at`` (epoch seconds)."""
        self._execute(
            "INSERT INTO tokens (token, client_id, expires_at) VALUES (?, ?, ?)",
            (token, client_id, expires_at),
        )

    def token_expiry(self, token: str) -> float | None:
        """Return when the token expires (epoch seconds), or None if it was never issued."""
        row = self._execute("SELECT expires_at FROM tokens WHERE token = ?", (token,)).fetchone()
        return None if row is None else float(row[0])

    def use_transaction_id(self, transaction_id: str, now: float) -> bool:
        """Record a transaction ID as used; return False if it had been used before."""
        cursor = self._execute(
            "INSERT OR IGNORE INTO transaction_ids (transaction_id, used_at) VALUES (?, ?)",
            (transaction_id, now),
        )
        return cursor.rowcount == 1

    # Housekeeping -------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything: records, tokens and used transaction IDs."""
        with self.atomic():
            for table in TABLES:
                self._conn.execute(f"DELETE FROM {table}")  # table names are our constants, not input

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._conn.close()
