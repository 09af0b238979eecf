"""One run per workbook and target at a time (DESIGN §4).

Two loads of one workbook into one API at once would each take the other's creations for
duplicates. So a load (and a resume) holds an OS file lock in the state directory, keyed by the
workbook's path and the target: `fcntl.flock` on POSIX, `msvcrt.locking` on Windows. The operating
system releases it when the process ends, however it ends (even `kill -9`), so a crashed run never
leaves a stale lock behind. The lock file says which run holds it, for the message the next one shows.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from loader.errors import BusyError, JournalError
from loader.journal import JOURNAL_FILE, journal_problem

LOCKS_DIR = "locks"
# Windows locks byte ranges, and a locked range cannot be read: lock one byte far past the holder's
# note, which stays readable at the start of the file.
_WINDOWS_LOCK_OFFSET = 1 << 30

if sys.platform == "win32":  # pragma: no cover - CI runs on Linux (a platform test mypy follows)
    import msvcrt

    def _try_lock(handle: IO[bytes]) -> bool:
        handle.seek(_WINDOWS_LOCK_OFFSET)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(handle: IO[bytes]) -> None:
        handle.seek(_WINDOWS_LOCK_OFFSET)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(handle: IO[bytes]) -> bool:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def lock_path(state_dir: Path, input_path: Path, target: str) -> Path:
    """The lock file of one workbook (by its full path) loaded into one target."""
    key = hashlib.sha256(f"{input_path.resolve()}\n{target}".encode()).hexdigest()[:24]
    return state_dir / LOCKS_DIR / f"{key}.lock"


def holder(path: Path) -> dict[str, Any] | None:
    """Who holds (or last held) the lock at `path`, as its note says; None if it says nothing."""
    try:
        text = path.read_text(encoding="utf-8")
        note = json.loads(text[: text.index("\n")]) if "\n" in text else None
    except (OSError, ValueError):
        return None
    return note if isinstance(note, dict) else None


class RunLock:
    """The lock of one workbook and target, held by one run from `acquire` to `release` (or `with`)."""

    def __init__(self, state_dir: Path, input_path: Path, target: str) -> None:
        self.state_dir = state_dir
        self.path = lock_path(state_dir, input_path, target)
        self.input_path = input_path
        self._handle: IO[bytes] | None = None

    def acquire(self, run_id: str, started: str) -> None:
        """Take the lock for run `run_id`, or raise BusyError naming the run that has it."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(
                self.path, "a+b", buffering=0
            )  # unbuffered: nothing left to flush when the disk is full
        except OSError as exc:
            raise JournalError(journal_problem(self.state_dir / JOURNAL_FILE, exc)) from exc
        if not _try_lock(handle):
            handle.close()
            raise BusyError(busy_message(self.input_path, holder(self.path)))
        self._handle = handle
        self._note(run_id, started)

    def _note(self, run_id: str, started: str) -> None:
        """Say in the lock file which run holds it (one JSON line)."""
        assert self._handle is not None
        note = {
            "run_id": run_id,
            "started": started,
            "pid": os.getpid(),
            "input": str(self.input_path.resolve()),
        }
        try:
            self._handle.truncate(0)
            os.write(self._handle.fileno(), (json.dumps(note) + "\n").encode())
        except OSError:
            pass  # the lock holds without its note; the next run's message is only less precise

    def release(self) -> None:
        """Let the next run have the workbook (the OS does the same if this process dies)."""
        if self._handle is None:
            return
        handle, self._handle = self._handle, None
        try:
            _unlock(handle)
        except OSError:
            pass  # closing the file below releases it all the same
        finally:
            handle.close()

    def __enter__(self) -> RunLock:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def busy_message(input_path: Path, note: dict[str, Any] | None) -> str:
    """The words for a load refused because another run holds the workbook."""
    if not note or not note.get("run_id"):
        who = "Another pbload run is"
    else:
        started = str(note.get("started", ""))[:19].replace("T", " ")
        who = f"Run {note['run_id']} (started {started}, process {note.get('pid', '?')}) is"
    return (
        f"{who} loading {input_path.name} into the same API right now. Wait for it to end (or stop it with "
        "Ctrl-C where it runs), then run this command again; `pbload runs` lists the runs."
    )
