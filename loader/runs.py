"""The runs pbload's journal keeps: the list `pbload runs` shows, and what `pbload resume` makes of one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from loader.errors import JournalError, WorkbookError
from loader.journal import UNWRITTEN, Journal, RunRecord

# The settings of a run that `pbload resume` uses again (credentials always come from the environment).
RESUMED_SETTINGS = ("chunk_size", "concurrency", "max_rps", "strict", "max_attempts", "retry_deadline")


@dataclass(frozen=True)
class Resumption:
    """What resuming a run comes to: nothing (`nothing` says why), writing the result workbook it kept in
    the journal (`write_only`: it sent all it was going to), or loading its workbook again as it did."""

    run: RunRecord | None
    nothing: str | None = None
    write_only: bool = False

    @property
    def run_id(self) -> str:
        return self._run.run_id

    @property
    def input_path(self) -> Path:
        return Path(self._run.input_path)

    @property
    def output(self) -> Path | None:
        """Where the run was to write its result workbook, when it was told (-o)."""
        return Path(self._run.output_path) if self._run.output_path else None

    def settings_flags(self) -> dict[str, Any]:
        """The settings that load the run again as it was: its environment, API root and options."""
        run = self._run
        options = {k: v for k, v in run.options.items() if k in RESUMED_SETTINGS}
        return {"env": run.environment, "base_url": run.base_url, **options}

    @property
    def _run(self) -> RunRecord:
        if self.run is None:
            raise ValueError("no run to resume")
        return self.run


def resumption(state_dir: Path, run_id: str | None) -> Resumption:
    """What `pbload resume [RUN_ID]` does: with no RUN_ID, for the newest run that did not finish."""
    run = _with_journal(state_dir, lambda journal: journal.run(run_id))
    if run is None and run_id:
        raise JournalError(f"No run {run_id} in the journal; `pbload runs` lists them.")
    if run is None:
        return Resumption(
            None, "Every run has finished: there is nothing to resume. `pbload runs` lists them."
        )
    if run.state == "finished":
        return Resumption(run, f"Run {run.run_id} finished at {run.ended}: nothing to resume.")
    if run.resumed_by:
        return Resumption(run, f"Run {run.run_id} was finished by run {run.resumed_by}: nothing to resume.")
    if not Path(run.input_path).exists():
        raise WorkbookError(
            f"Run {run.run_id} loaded {run.input_path}, which is no longer there. "
            "Put it back, or load the workbook you have."
        )
    return Resumption(run, write_only=run.state == UNWRITTEN)


def recent_runs(state_dir: Path, limit: int) -> list[RunRecord]:
    """The most recent runs, newest first."""
    return _with_journal(state_dir, lambda journal: journal.runs(limit))


def without_result(runs: list[RunRecord]) -> list[RunRecord]:
    """The runs whose result workbook is still to be written (`pbload resume RUN_ID` writes it)."""
    return [r for r in runs if r.state == UNWRITTEN and not r.resumed_by]


T = TypeVar("T")


def _with_journal(state_dir: Path, read: Callable[[Journal], T]) -> T:
    journal = Journal(state_dir)
    try:
        return read(journal)
    finally:
        journal.close()
