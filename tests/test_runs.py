"""loader/runs.py: what `pbload resume` makes of each kind of run the journal keeps, and the run list."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from loader.errors import JournalError, WorkbookError
from loader.journal import Journal
from loader.models import RunReport, Status
from loader.runs import RESUMED_SETTINGS, recent_runs, resumption, without_result

OPTIONS = {"chunk_size": 50, "concurrency": 3, "max_rps": 9.0, "strict": True, "max_attempts": 2,
           "retry_deadline": 30.0, "not_resumed": "x"}  # fmt: skip


def started(state: Path, run_id: str, workbook: Path, output: Path | None = None) -> Journal:
    journal = Journal(state)
    journal.start_run(run_id, "load", workbook, "sha", output, "sandbox", "t", "http://pb.test", OPTIONS)
    return journal


@pytest.fixture
def workbook(tmp_path) -> Path:
    path = tmp_path / "orders.xlsx"
    path.write_bytes(b"a workbook")
    return path


def test_a_run_cut_short_is_loaded_again_with_its_environment_and_settings(tmp_path, workbook):
    started(tmp_path, "cut", workbook, tmp_path / "out.xlsx").end_run(
        "cut", "interrupted", {Status.NOT_SENT: 2}
    )
    found = resumption(tmp_path, None)
    assert (found.run_id, found.nothing, found.write_only) == ("cut", None, False)
    assert (found.input_path, found.output) == (workbook, tmp_path / "out.xlsx")
    assert found.settings_flags() == {
        "env": "sandbox",
        "base_url": "http://pb.test",
        **{name: OPTIONS[name] for name in RESUMED_SETTINGS},
    }


def test_a_run_whose_result_was_not_written_only_gets_it_written(tmp_path, workbook):
    journal = started(tmp_path, "unwritten", workbook)
    report = RunReport("unwritten", "load", str(workbook), "sha", "sandbox", started=datetime.now(UTC))
    journal.keep_result(report, "finished", tmp_path / "r.xlsx", {})
    found = resumption(tmp_path, "unwritten")
    assert (found.nothing, found.write_only, found.output) == (None, True, None)
    assert [r.run_id for r in without_result(recent_runs(tmp_path, 5))] == ["unwritten"]


def test_nothing_to_resume_says_why(tmp_path, workbook):
    assert resumption(tmp_path, None).nothing == (
        "Every run has finished: there is nothing to resume. `pbload runs` lists them."
    )
    journal = started(tmp_path, "done", workbook)
    journal.end_run("done", "finished", {Status.CREATED: 1})
    assert resumption(tmp_path, "done").nothing.startswith("Run done finished at ")
    started(tmp_path, "old", workbook).end_run("old", "interrupted", {})
    journal.supersede(["old"], "done")
    assert resumption(tmp_path, "old").nothing == "Run old was finished by run done: nothing to resume."
    assert without_result(recent_runs(tmp_path, 5)) == []


def test_an_unknown_run_or_a_missing_workbook_is_refused_with_what_to_do(tmp_path, workbook):
    with pytest.raises(JournalError, match=r"^No run nope in the journal; `pbload runs` lists them\.$"):
        resumption(tmp_path, "nope")
    started(tmp_path, "gone", workbook).end_run("gone", "interrupted", {})
    workbook.unlink()
    with pytest.raises(WorkbookError) as refused:
        resumption(tmp_path, "gone")
    assert str(refused.value) == (
        f"Run gone loaded {workbook}, which is no longer there. Put it back, or load the workbook you have."
    )


def test_the_run_list_is_newest_first_and_bounded(tmp_path, workbook):
    for n in range(7):
        started(tmp_path, f"run-{n}", workbook).end_run(f"run-{n}", "finished", {Status.CREATED: n})
    assert [r.run_id for r in recent_runs(tmp_path, 5)] == [f"run-{n}" for n in (6, 5, 4, 3, 2)]
