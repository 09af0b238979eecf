"""One run per workbook and target at a time: a second load (or resume) of a workbook that is being loaded
into the same API is refused at once, naming the run that is going on; the lock dies with its process.

The concurrent load runs in a subprocess against `pbload emulator serve`, which is kept from answering
(SIGSTOP) until the second load has been refused: the first is then still running, whatever the timing.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from loader.errors import BusyError
from loader.journal import JOURNAL_FILE
from loader.runlock import RunLock, holder, lock_path
from loader.settings import load_settings
from tests.faultsuite import CLIENT, ServedEmulator, loader_env, start_loader
from tests.helpers import product_row, write_products

WAIT_TIMEOUT = 120.0  # only a guard against a hang; nothing waits for time to pass


def test_a_second_lock_on_the_same_workbook_and_target_is_refused_naming_the_first(tmp_path):
    book = tmp_path / "p.xlsx"
    first = RunLock(tmp_path, book, "https://pb|client")
    first.acquire("run-1", "2026-12-01T10:11:12.345+00:00")
    with pytest.raises(BusyError) as busy:
        RunLock(tmp_path, book, "https://pb|client").acquire("run-2", "2026-12-01T10:20:00+00:00")
    assert str(busy.value) == (
        f"Run run-1 (started 2026-12-01 10:11:12, process {holder(first.path)['pid']}) is loading p.xlsx into the "
        "same API right now. Wait for it to end (or stop it with Ctrl-C where it runs), then run this command "
        "again; `pbload runs` lists the runs."
    )
    with (
        RunLock(tmp_path, book, "https://other|client") as other,
        RunLock(tmp_path, tmp_path / "q.xlsx", "https://pb|client") as another,
    ):
        other.acquire("run-3", "now")  # another target, another workbook: no conflict
        another.acquire("run-4", "now")
    first.release()
    with RunLock(tmp_path, book, "https://pb|client") as again:
        again.acquire("run-5", "now")
        assert holder(again.path)["run_id"] == "run-5"


def test_the_lock_of_a_process_that_dies_is_free(tmp_path):
    book = tmp_path / "p.xlsx"
    code = (
        "import sys; from pathlib import Path; from loader.runlock import RunLock; "
        f"lock = RunLock(Path({str(tmp_path)!r}), Path({str(book)!r}), 't'); lock.acquire('doomed', 'now'); "
        "print('locked', flush=True); sys.stdin.read()"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == "locked\n"
        with pytest.raises(BusyError, match="Run doomed"):
            RunLock(tmp_path, book, "t").acquire("next", "now")
    finally:
        process.kill()  # as kill -9: no code of its own runs
        process.wait()
        process.stdin.close()  # type: ignore[union-attr]
        process.stdout.close()  # type: ignore[union-attr]
    with RunLock(tmp_path, book, "t") as lock:
        lock.acquire("next", "now")


def test_a_second_load_of_a_workbook_being_loaded_is_refused_and_leaves_the_first_alone(
    cli, tmp_path, state_dir
):
    book = write_products(tmp_path / "p.xlsx", [product_row(f"SKU-{n}") for n in range(3)])
    with ServedEmulator() as emulator:
        api = ["--env", "sandbox", "--base-url", emulator.url]
        target = load_settings(
            {"env": "sandbox", "base_url": emulator.url, "state_dir": state_dir}, CLIENT
        ).target
        emulator.process.send_signal(signal.SIGSTOP)  # it accepts connections but answers nothing
        try:
            first = start_loader(["load", str(book), *api, "--no-progress"], loader_env(state_dir))
            run_id = wait_until_running(state_dir, lock_path(state_dir, book, target), first)
            second = cli("load", book, *api, env=CLIENT)
            resumed = cli("resume", run_id, env=CLIENT)
            runs = journal_runs(state_dir)
        finally:
            emulator.process.send_signal(signal.SIGCONT)
        output, _ = first.communicate(timeout=WAIT_TIMEOUT)
        after = cli("load", book, *api, env=CLIENT)
    busy = (
        "is loading p.xlsx into the same API right now. Wait for it to end (or stop it with Ctrl-C where it "
        "runs), then run this command again; `pbload runs` lists the runs.\n"
    )
    assert second.exit_code == 2
    assert second.output.splitlines()[-1].startswith(f"Error: Run {run_id} (started ")
    assert second.output.endswith(f", process {first.pid}) {busy}")
    assert resumed.exit_code == 2
    assert resumed.output.splitlines()[-1].startswith(f"Error: Run {run_id} (started ")
    assert runs == [(run_id, "running", None)]  # neither the refused load nor the resume touched it
    assert first.returncode == 0, output
    [(first_id, first_state, _), (_, after_state, _)] = journal_runs(state_dir)
    assert (first_id, first_state, after_state) == (run_id, "finished", "finished")
    assert after.exit_code == 0, after.output
    assert "Products: 3 rows — 3 unchanged" in after.output


def wait_until_running(state_dir: Path, lock: Path, process: subprocess.Popen) -> str:
    """The run ID of the load in `process`, once it holds the lock and the journal has its run (bounded)."""
    deadline = time.monotonic() + WAIT_TIMEOUT
    while True:
        note = holder(lock)
        if note and (note["run_id"], "running", None) in journal_runs(state_dir):
            return str(note["run_id"])
        if process.poll() is not None:
            raise AssertionError(f"the first load ended early: {process.communicate()[0]}")
        if time.monotonic() > deadline:
            raise TimeoutError("the first load never started")
        time.sleep(0.01)


def journal_runs(state_dir: Path) -> list[tuple[str, str, str | None]]:
    """(run ID, state, resumed by) of every run, oldest first."""
    if not (state_dir / JOURNAL_FILE).exists():
        return []
    with closing(sqlite3.connect(state_dir / JOURNAL_FILE)) as conn:
        try:
            return [
                tuple(r) for r in conn.execute("SELECT run_id, state, resumed_by FROM runs ORDER BY rowid")
            ]
        except sqlite3.OperationalError:  # the file is there, its tables not yet
            return []
