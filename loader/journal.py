"""The run journal: what each run sent, so that no row is lost and none is loaded twice (DESIGN §4).

SQLite (WAL) in the state directory. Each run is recorded with its input, target and settings; each
item with its client key, a hash of its payload, its state and outcome. An item is marked *in
flight*, with the transaction ID, before its request leaves, and its outcome is committed when the
answer comes back. After a crash the items still in flight are *in doubt*: the next load of the same
target looks every item up at PB before sending anything, and takes a duplicate create of an item
in doubt for its own (`earlier`). `pbload runs` and `pbload resume` read the runs.

A run is *finished* only once its result workbook is in place. Before writing it, the run's whole
report (every row's outcome, the problems found, the audit record) is kept with the run, which is
then *unwritten*; if the workbook cannot be written, `pbload resume RUN_ID` writes it from there
without sending anything.

Items are keyed by target (server and client ID), resource and client key, across runs. Any failure
of SQLite or of the disk under it is a `JournalError` that says what to do (disk full, damaged file,
folder not writable), never a traceback.
"""

from __future__ import annotations

import errno
import hashlib
import json
import shutil
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loader.errors import JournalError
from loader.models import (
    LOADED_STATUSES,
    Change,
    Issue,
    Item,
    Outcome,
    Outcomes,
    RunReport,
    Severity,
    SheetReport,
    Status,
)

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
    state       TEXT NOT NULL,          -- running, unwritten (result not yet in place), finished, interrupted
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
CREATE TABLE IF NOT EXISTS unwritten (
    run_id      TEXT PRIMARY KEY,
    final_state TEXT NOT NULL,          -- what the run becomes once its result is in place
    output_path TEXT NOT NULL,
    report      TEXT NOT NULL           -- JSON: every row's outcome, the problems, the audit record
);
"""
IN_FLIGHT = "in_flight"
SETTLED = "settled"
UNWRITTEN = "unwritten"
# SQLite's primary result codes that pbload explains (https://sqlite.org/rescode.html)
SQLITE_BUSY, SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_NOTADB = 5, 10, 11, 13, 26
# A disk with less free space than this is full for the journal: SQLite reports a full disk while it
# grows its write-ahead log as a plain "disk I/O error", so the free space says what happened.
LOW_SPACE_BYTES = 1 << 20


# A chunk's items are marked in flight, and settled, by one statement each over a JSON array of their
# rows (`_rows`), not by `executemany`: that releases the GIL for every row and takes it back, and
# beside a thread that keeps the GIL busy each row waited its turn (marking 200 orders took 1.1 s there,
# 17 ms as one statement). SQLite reads the rows with json_each; "WHERE true" is what its upsert needs
# after a SELECT (https://sqlite.org/lang_upsert.html).
MARK_IN_FLIGHT = (
    "INSERT INTO items (target, resource, key, run_id, payload_hash, intent, state, transaction_ids, attempts,"
    " updated) SELECT ?1, ?2, json_extract(value, '$[0]'), ?3, json_extract(value, '$[1]'),"
    " json_extract(value, '$[2]'), 'in_flight', json_array(?4), 1, ?5 FROM json_each(?6) WHERE true"
    " ON CONFLICT (target, resource, key) DO UPDATE SET run_id = excluded.run_id,"
    " payload_hash = excluded.payload_hash, intent = excluded.intent, state = 'in_flight',"
    " status = NULL, error = NULL,"
    " transaction_ids = CASE WHEN items.run_id = excluded.run_id"
    "   THEN json_insert(items.transaction_ids, '$[#]', ?4) ELSE json_array(?4) END,"
    " attempts = CASE WHEN items.run_id = excluded.run_id THEN items.attempts + 1 ELSE 1 END,"
    " updated = excluded.updated"
)
SETTLE = (
    "INSERT INTO items (target, resource, key, run_id, payload_hash, intent, state, status, pb_id, error,"
    " updated) SELECT ?1, ?2, json_extract(value, '$[0]'), ?3, json_extract(value, '$[1]'),"
    " json_extract(value, '$[2]'), 'settled', json_extract(value, '$[3]'), json_extract(value, '$[4]'),"
    " json_extract(value, '$[5]'), ?4 FROM json_each(?5) WHERE true"
    " ON CONFLICT (target, resource, key) DO UPDATE SET run_id = excluded.run_id,"
    " payload_hash = excluded.payload_hash, intent = excluded.intent, state = 'settled',"
    " status = excluded.status, pb_id = COALESCE(excluded.pb_id, items.pb_id), error = excluded.error,"
    " updated = excluded.updated"
)


# One encoder for every fingerprint: json.dumps with options builds a new one per call, which was
# almost half of the cost of a fingerprint (the text, and so the hash, is the same). It does not look
# for circular containers, which cost a seventh of each encoding: a payload is a tree of fresh dicts and
# lists, and the text of one is the same either way.
_FINGERPRINT = json.JSONEncoder(sort_keys=True, default=str, separators=(",", ":"), check_circular=False)


def payload_hash(item: Item) -> str:
    """A stable fingerprint of what an item asks PB to hold (its action and payload)."""
    text = _FINGERPRINT.encode([item.action.value, item.payload])
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
    resumed_by: str | None = None


# The columns of the runs table that make a RunRecord, in the order of its fields.
RUN_COLUMNS = tuple(f.name for f in fields(RunRecord))


@dataclass(frozen=True)
class KeptResult:
    """A run's report kept in the journal until its result workbook is in place."""

    final_state: str
    output_path: Path
    report: RunReport
    positions: dict[str, dict[str, int]]
    supersedes: list[str]  # the earlier unfinished runs this one finishes, once it is finished


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
        self._lock = threading.Lock()
        # payload_hash of each item in flight, by the item object (kept, so its id is not reused): an
        # item is hashed once when its first attempt is marked, not again by each retry and its outcome
        self._hashes: dict[int, tuple[Item, str]] = {}
        with self._guard():
            state_dir.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
            try:
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
                self._conn.executescript(SCHEMA)
            except BaseException:
                self._conn.close()
                raise

    def close(self) -> None:
        with self._guard():
            self._conn.close()

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """SQLite's and the disk's failures as a JournalError that says what to do."""
        try:
            yield
        except (OSError, sqlite3.Error) as exc:
            raise JournalError(journal_problem(self.path, exc)) from exc

    def _write(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._transaction([(sql, rows)])

    def _transaction(self, steps: Sequence[tuple[str, Iterable[Sequence[Any]]]]) -> None:
        """Run statements in one transaction: all of them are kept, or none."""
        with self._lock, self._guard():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for sql, rows in steps:
                    self._conn.executemany(sql, rows)
                self._conn.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise

    def _rollback(self) -> None:
        try:
            self._conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # a COMMIT that failed (disk full) has rolled back already: its error is the one to report

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock, self._guard():
            return self._conn.execute(sql, params).fetchall()

    # Runs ------------------------------------------------------------------------------------

    def start_run(
        self,
        run_id: str,
        command: str,
        input_path: Path,
        input_sha256: str,
        output_path: Path | None,
        environment: str,
        target: str,
        base_url: str | None,
        options: dict[str, Any],
    ) -> None:
        """Record a new run, with the settings a resume of it should use again."""
        self._write(
            "INSERT INTO runs (run_id, command, input_path, input_sha256, output_path, environment, target,"
            " base_url, state, started, options) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)",
            [
                (
                    run_id,
                    command,
                    str(input_path.resolve()),
                    input_sha256,
                    None if output_path is None else str(output_path.resolve()),
                    environment,
                    target,
                    base_url,
                    _now(),
                    json.dumps(options),
                )
            ],
        )

    def end_run(self, run_id: str, state: str, counts: dict[Status, int]) -> None:
        """Mark a run finished or interrupted, with its row counts (its result workbook is in place)."""
        self._transaction(
            [
                (
                    "UPDATE runs SET state = ?, ended = ?, counts = ? WHERE run_id = ?",
                    [(state, _now(), _counts(counts), run_id)],
                ),
                ("DELETE FROM unwritten WHERE run_id = ?", [(run_id,)]),
            ]
        )

    def keep_result(
        self,
        report: RunReport,
        final_state: str,
        output: Path,
        positions: dict[str, dict[str, int]],
        supersedes: Sequence[str] = (),
    ) -> None:
        """Keep the run's report until its result workbook is in place; the run is `unwritten` till then."""
        text = report_to_json(report, positions, supersedes)
        self._transaction(
            [
                (
                    "INSERT OR REPLACE INTO unwritten (run_id, final_state, output_path, report) VALUES (?, ?, ?, ?)",
                    [(report.run_id, final_state, str(output.resolve()), text)],
                ),
                (
                    "UPDATE runs SET state = ?, ended = ?, counts = ? WHERE run_id = ?",
                    [(UNWRITTEN, _now(), _counts(report.counts()), report.run_id)],
                ),
            ]
        )

    def kept_result(self, run_id: str) -> KeptResult | None:
        """The report kept for a run whose result workbook was not written, if any."""
        rows = self._read(
            "SELECT final_state, output_path, report FROM unwritten WHERE run_id = ?", (run_id,)
        )
        if not rows:
            return None
        final_state, output, text = rows[0]
        try:
            report, positions, supersedes = report_from_json(text)
        except (ValueError, KeyError, TypeError) as exc:
            raise JournalError(
                journal_problem(self.path, sqlite3.DatabaseError(f"run {run_id} is damaged: {exc}"))
            ) from exc
        return KeptResult(final_state, Path(output), report, positions, supersedes)

    def supersede(self, old_run_ids: Iterable[str], new_run_id: str) -> None:
        """Earlier unfinished runs of the same input whose work a new run finished."""
        self._write(
            "UPDATE runs SET resumed_by = ? WHERE run_id = ? AND state != 'finished'",
            [(new_run_id, r) for r in old_run_ids],
        )

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
        rows = self._read(
            f"SELECT {', '.join(RUN_COLUMNS)} FROM runs WHERE {where}"
            " ORDER BY started DESC, rowid DESC LIMIT ?",
            (*params, limit),
        )
        try:
            return [_run_record(r) for r in rows]
        except ValueError as exc:  # a damaged record reads as a damaged file
            raise JournalError(
                journal_problem(self.path, sqlite3.DatabaseError(f"a run record is damaged: {exc}"))
            ) from exc

    def unfinished_runs(self, input_path: Path, target: str) -> list[str]:
        """Runs of this input on this target that did not finish (crashed, stopped, or result unwritten).

        Call it holding the run lock (`loader.runlock`): then none of them is still running.
        """
        rows = self._read(
            "SELECT run_id FROM runs WHERE input_path = ? AND target = ? AND state != 'finished'"
            " AND resumed_by IS NULL",
            (str(input_path.resolve()), target),
        )
        return [r[0] for r in rows]

    # Items -----------------------------------------------------------------------------------

    def earlier(self, target: str, resource: str, keys: Iterable[str]) -> dict[str, Earlier]:
        """What earlier runs left for these keys."""
        found: dict[str, Earlier] = {}
        keys = list(keys)
        with self._lock, self._guard():
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for row in self._conn.execute(
                    f"SELECT key, payload_hash, intent, state, status, pb_id, run_id FROM items"
                    f" WHERE target = ? AND resource = ? AND key IN ({marks})",
                    (target, resource, *chunk),
                ):
                    found[row[0]] = Earlier(*row[1:])
        return found

    def sending(
        self, run_id: str, target: str, resource: str, items: Sequence[Item], transaction_id: str
    ) -> None:
        """Mark items in flight with the transaction ID of the request about to leave."""
        rows = [(i.key, self._hash_in_flight(i), i.action.value) for i in items]
        self._write(MARK_IN_FLIGHT, [(target, resource, run_id, transaction_id, _now(), _rows(rows))])

    def settled(
        self, run_id: str, target: str, resource: str, results: Sequence[tuple[Item, Outcome]]
    ) -> None:
        """Commit the outcomes of items (sent or settled without a call)."""
        rows = [
            (
                i.key,
                self._hash_settled(i),
                i.action.value,
                o.status.value,
                o.pb_id,
                o.message if o.status not in LOADED_STATUSES else None,
            )
            for i, o in results
        ]
        self._write(SETTLE, [(target, resource, run_id, _now(), _rows(rows))])

    def fingerprint(self, items: Sequence[Item]) -> None:
        """Make the items' fingerprints ahead of `sending`, which then only reads them: a sender makes
        them while other requests are in flight, not while its own request holds a place."""
        for item in items:
            self._hash_in_flight(item)

    def _hash_in_flight(self, item: Item) -> str:
        kept = self._hashes.get(id(item))
        if kept is not None and kept[0] is item:
            return kept[1]
        digest = payload_hash(item)
        self._hashes[id(item)] = (item, digest)
        return digest

    def _hash_settled(self, item: Item) -> str:
        kept = self._hashes.pop(id(item), None)
        return kept[1] if kept is not None and kept[0] is item else payload_hash(item)

    def in_flight(self, run_id: str) -> set[tuple[str, str]]:
        """(resource, key) of this run's items still waiting for an answer."""
        rows = self._read(
            "SELECT resource, key FROM items WHERE run_id = ? AND state = 'in_flight'", (run_id,)
        )
        return {(r[0], r[1]) for r in rows}


def _run_record(row: Any) -> RunRecord:
    """A run as `Journal._runs` selects it (`RUN_COLUMNS`), its counts and options kept as JSON."""
    record = dict(zip(RUN_COLUMNS, row, strict=True))
    record["counts"] = json.loads(record["counts"] or "{}")
    record["options"] = json.loads(record["options"] or "{}")
    return RunRecord(**record)


def journal_problem(path: Path, exc: BaseException) -> str:
    """What went wrong with the journal at `path`, and what to do, in plain words."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = None if code is None else code & 0xFF
    text = str(exc).lower()
    full = primary == SQLITE_FULL or getattr(exc, "errno", None) == errno.ENOSPC or "disk is full" in text
    if full or (primary == SQLITE_IOERR and _low_on_space(path.parent)):
        return (
            f"The disk that holds pbload's journal ({path}) is full. Free some space there (or keep the "
            "journal elsewhere with --state-dir or PBLOAD_STATE_DIR), then run the command again; loading "
            "the same workbook again looks up what PB already has and sends nothing twice."
        )
    if (
        primary in (SQLITE_CORRUPT, SQLITE_NOTADB)
        or "not a database" in text
        or "malformed" in text
        or "damaged" in text
    ):
        return (
            f"pbload's journal {path} is damaged ({exc}). Move it aside (rename it to {path.name}.broken), "
            "then run the command again: pbload starts a new journal, and a load looks up what PB already "
            "has, so nothing is sent twice."
        )
    if primary == SQLITE_BUSY:
        return (
            f"pbload's journal {path} is busy ({exc}): another pbload is writing to it. Wait for it to "
            "end, then run the command again."
        )
    return (
        f"Cannot keep pbload's journal in {path.parent} ({exc}). Choose another folder with --state-dir or "
        "PBLOAD_STATE_DIR."
    )


def _low_on_space(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < LOW_SPACE_BYTES
    except OSError:
        return False


def report_to_json(
    report: RunReport, positions: dict[str, dict[str, int]], supersedes: Sequence[str] = ()
) -> str:
    """A run's report (and the sheets' column positions) as the JSON the journal keeps."""
    return json.dumps(
        {
            "run_id": report.run_id,
            "command": report.command,
            "input_path": report.input_path,
            "input_sha256": report.input_sha256,
            "environment": report.environment,
            "started": _iso(report.started),
            "ended": _iso(report.ended),
            "template": report.template,
            "interrupted": report.interrupted,
            "retries": report.retries,
            "sheets": [
                {
                    "sheet": s.sheet,
                    "rows": list(s.rows),
                    "outcomes": [
                        [
                            row,
                            o.status.value,
                            o.pb_id,
                            o.error_code,
                            o.message,
                            o.transaction_id,
                            [[c.column, c.old, c.new, c.row, c.line, c.what] for c in o.changes],
                        ]
                        for row, o in s.outcomes.items()
                    ],
                }
                for s in report.sheets
            ],
            "issues": [
                [i.sheet, i.row, i.column, i.code, i.message, i.severity.value] for i in report.issues
            ],
            "positions": positions,
            "supersedes": list(supersedes),
        },
        separators=(",", ":"),
        default=_plain,
    )


def report_from_json(text: str) -> tuple[RunReport, dict[str, dict[str, int]], list[str]]:
    """The report, column positions and superseded runs `report_to_json` kept."""
    data = json.loads(text)
    report = RunReport(
        run_id=data["run_id"],
        command=data["command"],
        input_path=data["input_path"],
        input_sha256=data["input_sha256"],
        environment=data["environment"],
        started=datetime.fromisoformat(data["started"]),
        template=data["template"],
        ended=datetime.fromisoformat(data["ended"]) if data["ended"] else None,
        interrupted=data["interrupted"],
        retries=data["retries"],
    )
    for sheet in data["sheets"]:
        outcomes = Outcomes((row, _outcome(status, rest)) for row, status, *rest in sheet["outcomes"])
        report.sheets.append(SheetReport(sheet["sheet"], sheet["rows"], outcomes))
    report.issues.extend(Issue(s, r, c, code, m, Severity(sev)) for s, r, c, code, m, sev in data["issues"])
    return report, data["positions"], data["supersedes"]


def _outcome(status: str, rest: list[Any]) -> Outcome:
    """An outcome as `report_to_json` kept it (reports kept before changes were named have none)."""
    pb_id, error_code, message, transaction_id = rest[:4]
    changes = tuple(Change(*c) for c in rest[4]) if len(rest) > 4 else ()
    return Outcome(
        Status(status),
        pb_id=pb_id,
        error_code=error_code,
        message=message,
        transaction_id=transaction_id,
        changes=changes,
    )


def _plain(value: Any) -> Any:
    """numpy's integers (pandas row numbers) as plain ones."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _counts(counts: dict[Status, int]) -> str:
    return json.dumps({s.value: n for s, n in counts.items()})


def _rows(rows: Sequence[Sequence[str | None]]) -> str:
    """Items' rows as the JSON array `MARK_IN_FLIGHT` and `SETTLE` read."""
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
