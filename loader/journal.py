"""The run journal: what each run sent, so that no row is lost and none is loaded twice (DESIGN §4).

SQLite (WAL) in the state directory. Each run is recorded with its input, target and settings; each
item with its client key, a hash of its payload, its state and outcome. An item is marked *in
flight*, with the transaction ID, before its request leaves, and its outcome is committed when the
answer comes back. After a crash the items still in flight are *in doubt*: the next load of the same
target looks every item up at PB before sending anything, and takes a duplicate create of an item
in doubt for its own (`earlier`). `pbload runs` and `pbload resume` read the runs.

Items are keyed by target (server and client ID), resource and client key, across runs.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from loader.errors import SettingsError
from loader.models import LOADED_STATUSES, Item, Outcome, Status

JOURNAL_FILE = "journal.sqlite3"
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT PRIMARY KEY,
    command     TEXT NOT NULL,
    input_path  TEXT NOT NULL,
    input_sha256 TEXT NOT NULL,
    output_path TEXT,
    environment TEXT NOT NULL,
    target      TEXT NOT NULL,
    base_url    TEXT,
    state       TEXT NOT NULL,          -- running, finished, interrupted
    started     TEXT NOT NULL,
    ended       TEXT,
    counts      TEXT,                   -- JSON: status -> rows
    options     TEXT NOT NULL DEFAULT '{}',  -- JSON: the run's settings that `resume` repeats
    resumed_by  TEXT
);
CREATE TABLE IF NOT EXISTS items (
    target       TEXT NOT NULL,
    resource     TEXT NOT NULL,
    key          TEXT NOT NULL,
    run_id       TEXT NOT NULL,
    payload_hash TEXT NOT NULL,
    intent       TEXT NOT NULL,         -- what was asked: CREATE, UPDATE, UPSERT, CANCEL
    state        TEXT NOT NULL,         -- in_flight, settled
    status       TEXT,
    pb_id        TEXT,
    error        TEXT,
    transaction_ids TEXT NOT NULL DEFAULT '[]',
    attempts     INTEGER NOT NULL DEFAULT 0,
    updated      TEXT NOT NULL,
    PRIMARY KEY (target, resource, key)
);
CREATE INDEX IF NOT EXISTS items_by_run ON items (run_id, state);
"""
IN_FLIGHT = "in_flight"
SETTLED = "settled"


def payload_hash(item: Item) -> str:
    """A stable fingerprint of what an item asks PB to hold (its action and payload)."""
    text = json.dumps([item.action.value, item.payload], sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class RunRecord:
    """One run as the journal keeps it."""

    run_id: str
    command: str
    input_path: str
    input_sha256: str
    output_path: str | None
    environment: str
    target: str
    base_url: str | None
    state: str
    started: str
    ended: str | None
    counts: dict[str, int]
    options: dict[str, Any]


@dataclass(frozen=True)
class Earlier:
    """What an earlier run left for one item."""

    payload_hash: str
    intent: str
    state: str
    status: str | None
    pb_id: str | None
    run_id: str


class Journal:
    """The journal in `state_dir`; one connection shared by the sending threads, behind a lock."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / JOURNAL_FILE
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise SettingsError(f"Cannot keep pbload's journal in {state_dir} ({exc}). Choose another folder with "
                                "--state-dir or PBLOAD_STATE_DIR.") from exc
        self._lock = threading.Lock()

    def close(self) -> None:
        self._conn.close()

    def _write(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(sql, rows)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    # Runs ------------------------------------------------------------------------------------

    def start_run(self, run_id: str, command: str, input_path: Path, input_sha256: str, output_path: Path | None,
                  environment: str, target: str, base_url: str | None, options: dict[str, Any]) -> None:
        """Record a new run, with the settings a resume of it should use again."""
        self._write("INSERT INTO runs (run_id, command, input_path, input_sha256, output_path, environment, target,"
                    " base_url, state, started, options) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)",
                    [(run_id, command, str(input_path.resolve()), input_sha256,
                      None if output_path is None else str(output_path.resolve()), environment, target, base_url,
                      _now(), json.dumps(options))])

    def end_run(self, run_id: str, state: str, counts: dict[Status, int]) -> None:
        """Mark a run finished or interrupted, with its row counts."""
        self._write("UPDATE runs SET state = ?, ended = ?, counts = ? WHERE run_id = ?",
                    [(state, _now(), json.dumps({s.value: n for s, n in counts.items()}), run_id)])

    def supersede(self, old_run_ids: Iterable[str], new_run_id: str) -> None:
        """Earlier unfinished runs of the same input whose work a new run finished."""
        self._write("UPDATE runs SET resumed_by = ? WHERE run_id = ? AND state != 'finished'",
                    [(new_run_id, r) for r in old_run_ids])

    def runs(self, limit: int = 20) -> list[RunRecord]:
        """The most recent runs, newest first."""
        return self._runs("1", (), limit)

    def run(self, run_id: str | None) -> RunRecord | None:
        """A run by ID, or the newest run that did not finish and that no later run finished."""
        if run_id:
            found = self._runs("run_id = ?", (run_id,), 1)
        else:
            found = self._runs("state != 'finished' AND resumed_by IS NULL", (), 1)
        return found[0] if found else None

    def _runs(self, where: str, params: tuple[Any, ...], limit: int) -> list[RunRecord]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT run_id, command, input_path, input_sha256, output_path, environment, target, base_url,"
                f" state, started, ended, counts, options FROM runs WHERE {where}"
                " ORDER BY started DESC, rowid DESC LIMIT ?", (*params, limit)).fetchall()
        return [RunRecord(*r[:11], json.loads(r[11] or "{}"), json.loads(r[12] or "{}")) for r in rows]

    def unfinished_runs(self, input_path: Path, target: str) -> list[str]:
        """Runs of this input on this target that did not finish (crashed or stopped)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT run_id FROM runs WHERE input_path = ? AND target = ? AND state != 'finished'"
                " AND resumed_by IS NULL", (str(input_path.resolve()), target)).fetchall()
        return [r[0] for r in rows]

    # Items -----------------------------------------------------------------------------------

    def earlier(self, target: str, resource: str, keys: Iterable[str]) -> dict[str, Earlier]:
        """What earlier runs left for these keys."""
        found: dict[str, Earlier] = {}
        keys = list(keys)
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                marks = ",".join("?" * len(chunk))
                for row in self._conn.execute(
                    f"SELECT key, payload_hash, intent, state, status, pb_id, run_id FROM items"
                    f" WHERE target = ? AND resource = ? AND key IN ({marks})", (target, resource, *chunk)
                ):
                    found[row[0]] = Earlier(*row[1:])
        return found

    def sending(self, run_id: str, target: str, resource: str, items: Sequence[Item], transaction_id: str) -> None:
        """Mark items in flight with the transaction ID of the request about to leave."""
        now = _now()
        self._write(
            "INSERT INTO items (target, resource, key, run_id, payload_hash, intent, state, transaction_ids, attempts,"
            " updated) VALUES (?, ?, ?, ?, ?, ?, 'in_flight', json_array(?), 1, ?)"
            " ON CONFLICT (target, resource, key) DO UPDATE SET run_id = excluded.run_id,"
            " payload_hash = excluded.payload_hash, intent = excluded.intent, state = 'in_flight',"
            " status = NULL, error = NULL,"
            " transaction_ids = CASE WHEN items.run_id = excluded.run_id"
            "   THEN json_insert(items.transaction_ids, '$[#]', ?) ELSE json_array(?) END,"
            " attempts = CASE WHEN items.run_id = excluded.run_id THEN items.attempts + 1 ELSE 1 END,"
            " updated = excluded.updated",
            [(target, resource, i.key, run_id, payload_hash(i), i.action.value, transaction_id, now,
              transaction_id, transaction_id) for i in items],
        )

    def settled(self, run_id: str, target: str, resource: str, results: Sequence[tuple[Item, Outcome]]) -> None:
        """Commit the outcomes of items (sent or settled without a call)."""
        now = _now()
        self._write(
            "INSERT INTO items (target, resource, key, run_id, payload_hash, intent, state, status, pb_id, error,"
            " updated) VALUES (?, ?, ?, ?, ?, ?, 'settled', ?, ?, ?, ?)"
            " ON CONFLICT (target, resource, key) DO UPDATE SET run_id = excluded.run_id,"
            " payload_hash = excluded.payload_hash, intent = excluded.intent, state = 'settled',"
            " status = excluded.status, pb_id = COALESCE(excluded.pb_id, items.pb_id), error = excluded.error,"
            " updated = excluded.updated",
            [(target, resource, i.key, run_id, payload_hash(i), i.action.value, o.status.value, o.pb_id,
              o.message if o.status not in LOADED_STATUSES else None, now) for i, o in results],
        )

    def in_flight(self, run_id: str) -> set[tuple[str, str]]:
        """(resource, key) of this run's items still waiting for an answer."""
        with self._lock:
            rows = self._conn.execute("SELECT resource, key FROM items WHERE run_id = ? AND state = 'in_flight'",
                                      (run_id,)).fetchall()
        return {(r[0], r[1]) for r in rows}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")
