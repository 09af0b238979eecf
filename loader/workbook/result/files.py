"""The result's file: its name beside the input, written atomically, checked writable before a run.

The input file is never touched: the result is saved to a temporary file beside the target and
renamed into place, so a crash never leaves a half-written workbook; the temporary file is removed on
every way out that runs code (`discard_temporaries` for a process that must exit at once).
`check_writable` tries the target's folder before a run, so a result that cannot be written is found
before anything is sent.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from loader.errors import ResultError

# Temporary results not yet renamed into place, removed by `discard_temporaries` on a hard exit.
_temporaries: set[str] = set()
_temporaries_lock = threading.Lock()


def result_path_for(input_path: Path) -> Path:
    """`orders.xlsx` -> `orders.result.xlsx`, beside the input; a result loaded again gets the next number,
    never a longer name: `orders.result.xlsx` -> `orders.result-2.xlsx` -> `orders.result-3.xlsx`."""
    again = re.fullmatch(r"(.*\.result)(?:-(\d+))?", input_path.stem, re.IGNORECASE)
    if again:
        return input_path.with_name(f"{again.group(1)}-{int(again.group(2) or 1) + 1}.xlsx")
    return input_path.with_name(input_path.stem + ".result.xlsx")


def save_atomically(book: Any, output: Path) -> Path:
    """Save to a temporary file in the target folder, then rename it into place."""
    with atomic(output) as tmp:
        book.save(tmp)
    return output


def check_writable(output: Path) -> None:
    """Refuse, before a run, a result path that cannot be written (raise ResultError saying what to do).

    Tries what writing does: make the folder if it is missing, create a temporary file there and
    remove it. An existing result is replaced by a rename, which on Windows fails while Excel has
    the file open, so there it must also open for writing.
    """
    if output.is_dir():
        raise ResultError(
            f"The result path {output} is a folder. Give -o a file name, e.g. -o {output / 'result.xlsx'}."
        )
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{output.stem}.", suffix=".tmp", dir=output.parent)
        os.close(fd)
        os.unlink(tmp)
        if os.name == "nt" and output.exists():  # pragma: no cover - CI runs on Linux
            output.open("r+b").close()
    except OSError as exc:
        raise ResultError(
            f"Cannot write the result workbook {output}: {write_problem(exc, output)}. Fix that, "
            "or choose another place with -o; nothing was sent."
        ) from exc


def write_problem(exc: OSError, output: Path) -> str:
    """Why `output` could not be written, in plain words."""
    folder = output.parent
    if exc.errno == errno.ENOSPC:
        return f"the disk holding {folder} is full"
    if exc.errno == errno.EROFS:
        return f"{folder} is on a read-only disk"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (
            f"pbload may not write in {folder}, or the file is open in another program (close it in Excel) "
            f"({exc.strerror})"
        )
    if exc.errno == errno.EISDIR or output.is_dir():
        return "a folder has that name"
    if (
        exc.errno in (errno.ENOTDIR, errno.EEXIST)
        or any(p.exists() and not p.is_dir() for p in folder.parents)
        or (folder.exists() and not folder.is_dir())
    ):
        return f"{_first_file(folder)} is a file, not a folder"
    if exc.errno == errno.ENOENT and folder.is_dir():
        return f"pbload cannot create files in {folder}"
    if exc.errno == errno.ENOENT:
        return f"the folder {folder} is not there"
    return exc.strerror or str(exc)


def _first_file(folder: Path) -> Path:
    """The part of a folder path that is a file (or the folder itself)."""
    for part in [*reversed(folder.parents), folder]:
        if part.exists() and not part.is_dir():
            return part
    return folder


def discard_temporaries() -> None:
    """Remove the temporary files of results still being written: for a process about to exit at once."""
    with _temporaries_lock:
        for tmp in list(_temporaries):
            try:
                os.unlink(tmp)
            except OSError:
                pass
        _temporaries.clear()


@contextmanager
def atomic(output: Path, like: Path | None = None) -> Iterator[Path]:
    """A temporary path beside `output`, renamed to it on success; with the permissions of `like`
    (the result is as private, or as shared, as the workbook it came from)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{output.stem}.", suffix=".tmp", dir=output.parent)
    os.close(fd)
    with _temporaries_lock:
        _temporaries.add(tmp)
    try:
        yield Path(tmp)
        if like is not None:
            os.chmod(tmp, stat.S_IMODE(like.stat().st_mode))
        os.replace(tmp, output)
    finally:
        with _temporaries_lock:
            _temporaries.discard(tmp)
        try:
            os.unlink(tmp)
        except OSError:
            pass  # renamed into place, or its folder is gone: either way no temporary file is left to remove
