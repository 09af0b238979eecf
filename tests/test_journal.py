"""The run journal: items in flight with their transaction IDs, outcomes, which run to resume, the reports
kept until their result is written, and plain words when SQLite or its disk fails."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from loader.codes import Code
from loader.errors import JournalError
from loader.journal import (
    IN_FLIGHT,
    JOURNAL_FILE,
    SETTLED,
    UNWRITTEN,
    Journal,
    payload_hash,
    report_from_json,
    report_to_json,
)
from loader.models import Action, Change, Issue, Item, Outcome, RunReport, Severity, SheetReport, Status

ITEM = Item("Orders", "SO-1", (2, 3), Action.UPSERT, {"clientOrderId": "SO-1"})


def test_an_items_fingerprint_stays_what_earlier_runs_kept():
    """A resumed run compares fingerprints with those its journal kept: the same item, the same digest."""
    item = Item(
        "Orders",
        "SO-1",
        (2, 3),
        Action.CREATE,
        {
            "clientOrderId": "SO-1",
            "shipToAddress": {"name": "Zoë Łukasz", "addressLines": ["1 Main St", "Flat 2"]},
            "orderItems": [{"sku": "A", "orderedQuantity": 2, "unitPrice": 2.5}],
            "createDate": date(2026, 11, 20),
            "cost": Decimal("1.10"),
            "active": True,
            "note": None,
        },
    )
    assert payload_hash(item) == "34d0ba96b7df58244e0a38211def78d1b898f5349e828c7d251950ddd5dffe79"


def start(journal: Journal, run_id: str, path: Path) -> None:
    journal.start_run(run_id, "load", path, "sha", None, "local", "target", None, {"chunk_size": 50})


def test_an_item_is_in_flight_with_every_transaction_id_until_it_settles(tmp_path):
    journal = Journal(tmp_path)
    start(journal, "run-1", tmp_path / "o.xlsx")
    journal.sending("run-1", "target", "orders", [ITEM], "tx-1")
    journal.sending("run-1", "target", "orders", [ITEM], "tx-2")  # a retry
    assert journal.in_flight("run-1") == {("orders", "SO-1")}
    assert journal.earlier("target", "orders", ["SO-1"])["SO-1"].state == IN_FLIGHT
    journal.settled("run-1", "target", "orders", [(ITEM, Outcome(Status.CREATED, pb_id="ORD1"))])
    earlier = journal.earlier("target", "orders", ["SO-1", "SO-2"])
    assert list(earlier) == ["SO-1"]
    assert (earlier["SO-1"].state, earlier["SO-1"].status, earlier["SO-1"].pb_id) == (
        SETTLED,
        "CREATED",
        "ORD1",
    )
    assert journal.in_flight("run-1") == set()
    ids = journal._conn.execute("SELECT transaction_ids, attempts FROM items").fetchone()
    assert ids == ('["tx-1","tx-2"]', 2)


def test_resume_picks_the_newest_run_nobody_finished(tmp_path):
    journal = Journal(tmp_path)
    path = tmp_path / "o.xlsx"
    start(journal, "stopped", path)
    journal.end_run("stopped", "interrupted", {Status.NOT_SENT: 2})
    assert journal.run(None).run_id == "stopped"
    assert journal.run(None).options == {"chunk_size": 50}
    start(journal, "later", path)
    assert sorted(journal.unfinished_runs(path, "target")) == ["later", "stopped"]
    journal.end_run("later", "finished", {Status.CREATED: 2})
    journal.supersede(["stopped"], "later")
    assert journal.run(None) is None  # the later load finished what the stopped one left
    assert journal.run("stopped").state == "interrupted"
    assert [r.run_id for r in journal.runs()] == ["later", "stopped"]
    assert journal.runs()[0].counts == {"CREATED": 2}


def test_a_journal_survives_the_process(tmp_path):
    first = Journal(tmp_path)
    start(first, "run-1", tmp_path / "o.xlsx")
    first.sending("run-1", "target", "orders", [ITEM], "tx-1")
    first.close()  # as after kill -9: nothing but what was committed
    assert Journal(tmp_path).in_flight("run-1") == {("orders", "SO-1")}


def test_a_report_is_kept_until_its_result_is_written(tmp_path):
    journal = Journal(tmp_path)
    start(journal, "run-1", tmp_path / "o.xlsx")
    report = RunReport(
        "run-1",
        "load",
        "o.xlsx",
        "sha",
        "local",
        datetime(2026, 12, 1, 10, tzinfo=UTC),
        template="pbload (orders v1)",
        retries=2,
        interrupted=True,
    )
    sheet = SheetReport("Orders", [np.int64(2), np.int64(3)])  # pandas' row numbers
    sheet.outcomes = {
        np.int64(2): Outcome(Status.CREATED, "ORD1", transaction_id="tx-1"),
        3: Outcome(Status.FAILED, None, "EMU-1", "=no", "tx-2"),
    }
    report.sheets.append(sheet)
    report.issues.append(Issue("Orders", 3, "SKU", "unknown-sku", "No product X", Severity.WARNING))
    journal.keep_result(
        report, "interrupted", tmp_path / "o.result.xlsx", {"Orders": {"SKU": np.int64(4)}}, ["run-0"]
    )
    assert journal.run("run-1").state == UNWRITTEN
    assert journal.run(None).run_id == "run-1"  # resume picks it
    kept = journal.kept_result("run-1")
    assert (kept.final_state, kept.output_path, kept.positions, kept.supersedes) == (
        "interrupted",
        tmp_path / "o.result.xlsx",
        {"Orders": {"SKU": 4}},
        ["run-0"],
    )
    assert kept.report == report
    journal.end_run("run-1", "interrupted", report.counts())
    assert journal.kept_result("run-1") is None
    assert journal.run("run-1").counts == {"CREATED": 1, "FAILED": 1}


def test_a_full_journal_says_so_and_what_to_do(tmp_path):
    journal = Journal(tmp_path)
    start(journal, "run-1", tmp_path / "o.xlsx")
    pages = journal._conn.execute("PRAGMA page_count").fetchone()[0]
    journal._conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "database or disk is full"
    many = [
        Item("Orders", f"SO-{n}", (n,), Action.UPSERT, {"clientOrderId": f"SO-{n}", "pad": "x" * 500})
        for n in range(200)
    ]
    with pytest.raises(JournalError) as full:
        journal.sending("run-1", "target", "orders", many, "tx-1")
    assert str(full.value).startswith(
        f"The disk that holds pbload's journal ({tmp_path / JOURNAL_FILE}) is full. Free some space there"
    )
    assert journal.in_flight("run-1") == set()  # nothing half-kept: the journal still works for reading


def test_a_damaged_journal_says_so_and_what_to_do(tmp_path):
    (tmp_path / JOURNAL_FILE).write_bytes(b"\x00garbage" * 512)
    with pytest.raises(JournalError) as damaged:
        Journal(tmp_path)
    assert str(damaged.value) == (
        f"pbload's journal {tmp_path / JOURNAL_FILE} is damaged (file is not a database). Move it aside (rename it "
        f"to {JOURNAL_FILE}.broken), then run the command again: pbload starts a new journal, and a load looks up "
        "what PB already has, so nothing is sent twice."
    )


def test_a_kept_report_keeps_codes_and_changes_and_reads_one_kept_before_changes_were_named(tmp_path):
    journal = Journal(tmp_path)
    start(journal, "run-1", tmp_path / "p.xlsx")
    report = RunReport("run-1", "load", "p.xlsx", "sha", "local", datetime(2026, 12, 2, 9, tzinfo=UTC))
    sheet = SheetReport("Products", [2, 3])
    sheet.outcomes = {
        2: Outcome(Status.UPDATED, "P1", changes=(Change("Brand", "Acme", "ACME", row=2),)),
        3: Outcome(Status.FAILED, error_code=Code.NO_ANSWER, message="Sent, but no answer came back."),
    }
    report.sheets.append(sheet)
    report.issues.append(Issue("Products", 3, "Brand", Code.WHITESPACE, "Spaces removed.", Severity.WARNING))
    text = report_to_json(report, {})

    kept, _, _ = report_from_json(text)
    assert kept == report
    assert kept.issues[0].code == "whitespace" and kept.sheets[0].outcomes[3].error_code is not None
    assert Code.of(kept.sheets[0].outcomes[3].error_code) is Code.NO_ANSWER

    older = json.loads(text)
    for outcome in older["sheets"][0]["outcomes"]:
        del outcome[6:]  # no changes yet
    kept, _, _ = report_from_json(json.dumps(older))
    assert kept.sheets[0].outcomes[2] == Outcome(Status.UPDATED, "P1")


def test_a_damaged_run_record_reads_as_a_damaged_journal(tmp_path):
    journal = Journal(tmp_path)
    start(journal, "run-1", tmp_path / "o.xlsx")
    journal._conn.execute("UPDATE runs SET options = '{not json'")
    with pytest.raises(JournalError, match="a run record is damaged"):
        journal.run("run-1")


def test_a_chunks_marks_and_outcomes_keep_every_value_as_given(tmp_path):
    """Items are marked and settled by one statement over a JSON array of their rows: keys, hashes and
    messages with quotes, backslashes, non-ASCII letters and blanks come back as given, past a chunk."""
    journal = Journal(tmp_path)
    start(journal, "run-1", tmp_path / "o.xlsx")
    keys = ['SO-"1"', "SO\\2", "Zoë-Łukasz", "SO 4 ", "null", "[0]", *(f"SO-{n}" for n in range(250))]
    items = [Item("Orders", k, (n + 2,), Action.UPSERT, {"clientOrderId": k}) for n, k in enumerate(keys)]
    journal.sending("run-1", "target", "orders", items, "tx-1")
    journal.sending("run-1", "target", "orders", items[:3], "tx-2")  # a retry of three
    assert journal.in_flight("run-1") == {("orders", k) for k in keys}
    outcomes = [
        Outcome(Status.FAILED, error_code="EMU-1", message=f'Refused "{i.key}": naïve \\ note')
        if n % 2
        else Outcome(Status.CREATED, pb_id=None if n % 4 else f"PB-{i.key}")
        for n, i in enumerate(items)
    ]
    journal.settled("run-1", "target", "orders", list(zip(items, outcomes, strict=True)))
    stored = {
        row[0]: row[1:]
        for row in journal._conn.execute(
            "SELECT key, payload_hash, intent, state, status, pb_id, error, transaction_ids, attempts FROM items"
        )
    }
    assert stored == {
        i.key: (
            payload_hash(i),
            "UPSERT",
            SETTLED,
            o.status.value,
            o.pb_id,
            o.message if o.status is Status.FAILED else None,
            '["tx-1","tx-2"]' if n < 3 else '["tx-1"]',
            2 if n < 3 else 1,
        )
        for n, (i, o) in enumerate(zip(items, outcomes, strict=True))
    }
    assert journal.in_flight("run-1") == set()
