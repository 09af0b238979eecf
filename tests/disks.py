"""Disks that fail as real ones do, for the tests of results and the journal: a tiny or a read-only tmpfs.

Mounting needs privileges (root in CI has them). Where mounting is impossible, `tmpfs` says why, and
the test that needs it says so in its skip reason; the tests that can use a fallback do.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from loader.emulator import create_app
from loader.emulator.server import EmulatorServer


def mount_error(folder: Path) -> str | None:
    """None if a tmpfs can be mounted on `folder` here, else why not."""
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True, text=True
        )
    except OSError as exc:
        return f"cannot run mount ({exc})"
    if done.returncode != 0:
        return f"mounting a tmpfs needs privileges this test runner lacks: {done.stderr.strip()}"
    subprocess.run(["umount", str(folder)], check=True)
    return None


@contextmanager
def tmpfs(folder: Path, size: str = "64k", readonly: bool = False) -> Iterator[Path]:
    """A tmpfs of `size` mounted on `folder` (made if missing) while the block runs."""
    folder.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if readonly else "")
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], check=True, capture_output=True
    )
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def fill(folder: Path) -> None:
    """Write into `folder` until its disk is full."""
    try:
        with open(folder / "filler", "ab") as handle:
            while True:
                handle.write(b"\0" * 4096)
                handle.flush()
    except OSError:
        pass  # full


def leftovers(folder: Path) -> list[str]:
    """pbload's temporary files (results not renamed into place) under `folder`."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*.tmp"))


class RecordingApp:
    """The emulator's WSGI app, noting the path of every request that reaches it."""

    def __init__(self) -> None:
        self.app = create_app(None)
        self.paths: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        self.paths.append(environ["PATH_INFO"])
        return self.app(environ, start_response)


@contextmanager
def served() -> Iterator[tuple[str, RecordingApp]]:
    """The emulator over real HTTP on loopback, in this process: (root URL, its request log)."""
    app = RecordingApp()
    with EmulatorServer(app) as server:
        yield server.url, app
