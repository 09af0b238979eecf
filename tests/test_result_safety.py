"""The result is never lost: a result path that cannot be written is refused before anything is sent; a
result that cannot be written after sending is written later by `pbload resume RUN_ID` from the journal,
sending nothing; a damaged or full journal is a message with exit code 2, never a traceback; no temporary
file stays behind.

Disks fail as real ones do: a folder at the result path, a file where its folder should be, a read-only
or full tmpfs (mounted where the runner may; root in CI may).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from loader import pipeline
from loader.errors import JournalError, ResultError
from loader.journal import JOURNAL_FILE
from loader.settings import load_settings
from tests.disks import fill, leftovers, mount_error, served, tmpfs
from tests.faultsuite import CLIENT
from tests.helpers import product_row, read_statuses, write_products

WRITES = "/shippingservices/fulfillment/v1/"  # every Fulfillment call (the token is /oauth/token)


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """Two valid products and one invalid (no Product Type)."""
    rows = [product_row("A"), product_row("B"), product_row("C", Product_Type=None)]
    return write_products(tmp_path / "p.xlsx", rows)


@pytest.fixture
def can_mount(tmp_path: Path) -> None:
    why = mount_error(tmp_path)
    if why:
        pytest.skip(why)


def sandbox(url: str) -> list[str]:
    return ["--env", "sandbox", "--base-url", url]


def state(state_dir: Path, run_id: str) -> str:
    with sqlite3.connect(state_dir / JOURNAL_FILE) as conn:
        return conn.execute("SELECT state FROM runs WHERE run_id = ?", (run_id,)).fetchone()[0]


def only_run(state_dir: Path) -> str:
    with sqlite3.connect(state_dir / JOURNAL_FILE) as conn:
        [(run_id,)] = conn.execute("SELECT run_id FROM runs").fetchall()
    return run_id


# Found before sending ---------------------------------------------------------------------------


def test_a_folder_at_the_result_path_is_refused_before_anything_is_sent(cli, book, tmp_path):
    (tmp_path / "p.result.xlsx").mkdir()  # where the result goes by default
    with served() as (url, app):
        result = cli("load", book, *sandbox(url), env=CLIENT)
        given = cli("load", book, "-o", tmp_path / "p.result.xlsx", *sandbox(url), env=CLIENT)
    assert result.exit_code == 2
    assert result.output.endswith(
        f"Error: The result path {tmp_path / 'p.result.xlsx'} is a folder. Give -o a "
        f"file name, e.g. -o {tmp_path / 'p.result.xlsx' / 'result.xlsx'}.\n"
    )
    assert given.exit_code == 2
    assert "Invalid value for '-o' / '--output'" in given.output and "is a directory" in given.output
    assert app.paths == []


def test_a_file_where_the_result_folder_should_be_is_refused_before_anything_is_sent(cli, book, tmp_path):
    (tmp_path / "reports").write_text("a file, not a folder")
    target = tmp_path / "reports" / "p.result.xlsx"
    with served() as (url, app):
        result = cli("load", book, "-o", target, *sandbox(url), env=CLIENT)
    assert result.exit_code == 2
    assert result.output.endswith(
        f"Error: Cannot write the result workbook {target}: {tmp_path / 'reports'} is "
        "a file, not a folder. Fix that, or choose another place with -o; nothing was "
        "sent.\n"
    )
    assert app.paths == []


def test_a_read_only_result_folder_is_refused_before_anything_is_sent(cli, book, tmp_path):
    with read_only_folder(tmp_path / "ro") as (folder, why), served() as (url, app):
        result = cli("load", book, "-o", folder / "p.result.xlsx", *sandbox(url), env=CLIENT)
    assert result.exit_code == 2
    assert f"Error: Cannot write the result workbook {folder / 'p.result.xlsx'}: {why}" in result.output
    assert result.output.endswith(". Fix that, or choose another place with -o; nothing was sent.\n")
    assert app.paths == []


@contextmanager
def read_only_folder(folder: Path) -> Iterator[tuple[Path, str]]:
    """A folder nobody may write in, and the words pbload uses for it.

    chmod stops an ordinary user; root ignores it, so as root a read-only tmpfs; where that cannot be
    mounted, /proc, where nobody may create a file.
    """
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder, f"pbload may not write in {folder}, or the file is open in another program"
    elif mount_error(folder) is None:
        with tmpfs(folder, readonly=True):
            yield folder, f"{folder} is on a read-only disk"
    elif sys.platform.startswith("linux"):
        yield Path("/proc"), "pbload cannot create files in /proc"
    else:  # pragma: no cover
        pytest.skip("as root without mount privileges and without /proc, no folder is read-only")


def test_validate_refuses_an_unwritable_result_before_reading(cli, book, tmp_path):
    (tmp_path / "p.result.xlsx").mkdir()
    result = cli("validate", book)
    assert result.exit_code == 2
    assert "is a folder. Give -o a file name" in result.output


# Found after sending ----------------------------------------------------------------------------


def folder_becomes_a_file(folder: Path) -> pipeline.Progress:
    """A progress display that, once every item of the sheet is settled, turns the result's folder into a file
    (as a folder removed, or a drive unplugged, between sending and writing)."""

    def progress(phase: str, done: int, total: int, failed: int = 0) -> None:
        if phase.startswith("Sending") and total and done == total and folder.is_dir():
            shutil.rmtree(folder)
            folder.write_text("in the way")

    return progress


def test_a_result_that_cannot_be_written_after_sending_is_written_by_resume_sending_nothing(
    cli, book, tmp_path, state_dir
):
    out = tmp_path / "out"
    target = out / "p.result.xlsx"
    with served() as (url, app):
        settings = load_settings({"env": "sandbox", "base_url": url, "state_dir": state_dir}, CLIENT)
        with pytest.raises(ResultError) as failed:
            pipeline.load(book, settings, target, progress=folder_becomes_a_file(out))
        run_id = only_run(state_dir)
        assert str(failed.value) == (
            f"Cannot write the result workbook {target}: {out} is a file, not a folder. Every row's outcome is "
            f"kept in pbload's journal: once that is fixed, run `pbload resume {run_id}` to write the result "
            "workbook (nothing is sent again; add -o PATH to write it elsewhere)."
        )
        assert state(state_dir, run_id) == "unwritten"
        assert "has no result workbook yet: `pbload resume" in cli("runs").output
        sent = len(app.paths)

        still = cli("resume", run_id)  # the folder is still a file: the same problem, said again
        assert still.exit_code == 2
        assert (
            f"{out} is a file, not a folder. Fix that and run `pbload resume {run_id}` again" in still.output
        )
        out.unlink()
        resumed = cli("resume", run_id)
        assert len(app.paths) == sent  # nothing sent, not even a look-up
    assert resumed.exit_code == 1, resumed.output  # one row is invalid
    assert resumed.output.startswith(
        f"Writing the result workbook of run {run_id} from the journal; nothing is sent.\n"
    )
    assert f"Result: {target}" in resumed.output
    rows = read_statuses(target)
    assert [rows[r]["Status"] for r in (2, 3, 4)] == ["CREATED", "CREATED", "INVALID"]
    assert all(rows[r]["Transaction ID"] for r in (2, 3))
    assert state(state_dir, run_id) == "finished"
    assert (
        cli("resume", run_id).output == f"Run {run_id} finished at {finished_at(state_dir, run_id)}: nothing "
        "to resume.\n"
    )
    assert leftovers(tmp_path) == []


def finished_at(state_dir: Path, run_id: str) -> str:
    with sqlite3.connect(state_dir / JOURNAL_FILE) as conn:
        return conn.execute("SELECT ended FROM runs WHERE run_id = ?", (run_id,)).fetchone()[0]


def test_resume_can_write_the_result_elsewhere(cli, book, tmp_path, state_dir):
    out = tmp_path / "out"
    with served() as (url, app):
        settings = load_settings({"env": "sandbox", "base_url": url, "state_dir": state_dir}, CLIENT)
        with pytest.raises(ResultError):
            pipeline.load(book, settings, out / "p.result.xlsx", progress=folder_becomes_a_file(out))
        resumed = cli("resume", "-o", tmp_path / "elsewhere.xlsx")  # the newest unfinished run
    assert resumed.exit_code == 1, resumed.output
    assert [r["Status"] for r in read_statuses(tmp_path / "elsewhere.xlsx").values()] == [
        "CREATED",
        "CREATED",
        "INVALID",
    ]


def test_a_full_result_disk_leaves_no_temporary_file_and_resume_writes_it(
    cli, book, tmp_path, state_dir, can_mount
):
    out = tmp_path / "small"
    with served() as (url, app), tmpfs(out, size="8k"):
        settings = load_settings({"env": "sandbox", "base_url": url, "state_dir": state_dir}, CLIENT)
        with pytest.raises(ResultError) as failed:
            pipeline.load(book, settings, out / "p.result.xlsx")
        assert (
            f"Cannot write the result workbook {out / 'p.result.xlsx'}: the disk holding {out} is full. "
            in str(failed.value)
        )
        assert leftovers(out) == []
        resumed = cli("resume", "-o", tmp_path / "p.result.xlsx")
    assert resumed.exit_code == 1, resumed.output
    assert len(read_statuses(tmp_path / "p.result.xlsx")) == 3


# The journal ------------------------------------------------------------------------------------


def test_a_damaged_journal_is_a_message_from_every_command(cli, book, state_dir):
    state_dir.mkdir()
    (state_dir / JOURNAL_FILE).write_bytes(b"this is not SQLite " * 100)
    said = (
        f"Error: pbload's journal {state_dir / JOURNAL_FILE} is damaged (file is not a database). Move it "
        f"aside (rename it to {JOURNAL_FILE}.broken), then run the command again: pbload starts a new journal, "
        "and a load looks up what PB already has, so nothing is sent twice.\n"
    )
    for args in (["runs"], ["resume"], ["resume", "abc"], ["load", book]):
        result = cli(*args)
        assert (result.exit_code, result.output.splitlines()[-1] + "\n") == (2, said), args
    (state_dir / JOURNAL_FILE).rename(state_dir / f"{JOURNAL_FILE}.broken")
    assert cli("load", book).exit_code == 1  # a new journal; the invalid row makes it 1


def test_a_full_journal_disk_before_the_run_is_a_message(cli, book, tmp_path, state_dir, can_mount):
    with tmpfs(state_dir, size="1m"):
        assert cli("runs").output == "No runs yet.\n"  # the journal exists, then the disk fills up
        fill(state_dir)
        with served() as (url, app):
            result = cli("load", book, *sandbox(url), env=CLIENT)
            assert result.exit_code == 2
            assert result.output.splitlines()[-1] == (
                f"Error: The disk that holds pbload's journal ({state_dir / JOURNAL_FILE}) is full. Free some space "
                "there (or keep the journal elsewhere with --state-dir or PBLOAD_STATE_DIR), then run the command "
                "again; loading the same workbook again looks up what PB already has and sends nothing twice."
            )
            assert [p for p in app.paths if p.startswith(WRITES)] == []
            (state_dir / "filler").unlink()
            again = cli("load", book, *sandbox(url), env=CLIENT)
    assert again.exit_code == 1, again.output  # space again: the run goes (one row is invalid)


def test_a_journal_disk_that_fills_up_while_sending_still_gives_the_result(
    book, tmp_path, state_dir, can_mount
):
    with tmpfs(state_dir, size="1m"), served() as (url, app):
        settings = load_settings({"env": "sandbox", "base_url": url, "state_dir": state_dir}, CLIENT)

        def fill_when_sending_starts(phase: str, done: int, total: int, failed: int = 0) -> None:
            if phase.startswith("Sending") and done == 0:
                fill(state_dir)

        with pytest.raises(JournalError) as failed:
            pipeline.load(book, settings, tmp_path / "p.result.xlsx", progress=fill_when_sending_starts)
    message = str(failed.value)
    assert message.startswith(f"The disk that holds pbload's journal ({state_dir / JOURNAL_FILE}) is full.")
    assert message.endswith(
        f"The result workbook, with every row's status, is at {tmp_path / 'p.result.xlsx'}."
    )
    statuses = [r["Status"] for r in read_statuses(tmp_path / "p.result.xlsx").values()]
    assert statuses[2] == "INVALID" and len(statuses) == 3


def test_a_state_folder_that_is_a_file_is_a_message_from_every_command(cli, book, tmp_path):
    (tmp_path / "f").write_text("not a folder")
    for args in (["runs"], ["resume"], ["load", book]):
        result = cli(*args, env={"PBLOAD_STATE_DIR": str(tmp_path / "f")})
        assert result.exit_code == 2, args
        assert result.output.splitlines()[-1].startswith(
            f"Error: Cannot keep pbload's journal in {tmp_path / 'f'} "
        )
        assert result.output.endswith(" Choose another folder with --state-dir or PBLOAD_STATE_DIR.\n")
