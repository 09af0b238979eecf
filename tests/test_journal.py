"""The run journal: items in flight with their transaction IDs, outcomes, and which run to resume."""

from __future__ import annotations

from pathlib import Path

from loader.journal import IN_FLIGHT, SETTLED, Journal
from loader.models import Action, Item, Outcome, Status

ITEM = Item("Orders", "SO-1", (2, 3), Action.UPSERT, {"clientOrderId": "SO-1"})


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
    assert (earlier["SO-1"].state, earlier["SO-1"].status, earlier["SO-1"].pb_id) == (SETTLED, "CREATED", "ORD1")
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
