"""What a person sees on the console: progress while a run works, and the summary after it ends.

Progress goes to stderr, phase by phase (read, check, look-ups, send, write), in rows: a live display
(rich) on a terminal, one plain line every `PLAIN_INTERVAL_S` seconds anywhere else (a log, a CI job),
so a file never fills with redraws. rich is imported only when a live display starts: `pbload --help`
and a script's `from loader import ...` do not pay for it.

The summary names, after the per-sheet counts, the problems grouped by code: how many, the first
rows of each (sheet, row, column, message) and what to do. `report_document` is the same run as one
JSON-ready dict for `--json`. Nothing here prints: the CLI decides where each line goes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO

from loader.codes import hint_for
from loader.models import Issue, RunReport, Severity, Status

PLAIN_INTERVAL_S = 5.0  # seconds between two lines of progress on a non-terminal
RATE_AFTER_S = 1.0  # a rate (and the time left) is shown once a phase has run this long
ROWS_SHOWN_PER_CODE = 3  # rows named under each problem code; the result workbook lists them all
DOCUMENT_VERSION = 1  # of the --json document; raised when a field changes meaning or goes away
# Rows no check flagged whose outcome still says what went wrong (the API's answer, a blocked dependency).
OUTCOME_PROBLEMS = (Status.FAILED, Status.BLOCKED, Status.INVALID)

# Called as progress(phase, done, total, failed=0): rows done of total (0: not known) in a phase.
Progress = Callable[..., None]


# --- progress -------------------------------------------------------------------------------------


@dataclass
class _Phase:
    """One phase's figures: what a line of progress, live or plain, is made of."""

    label: str
    started: float
    done: int = 0
    total: int = 0
    failed: int = 0

    def finished(self) -> bool:
        return self.total > 0 and self.done >= self.total

    def describe(self, now: float) -> str:
        """`6,200 of 10,000 rows (62%), 1,240 rows/s, about 3 s left, 4 failed` (what is known of it)."""
        elapsed = now - self.started
        if self.finished():
            parts = [f"{_rows(self.total)} in {_duration(elapsed)}"]
        elif self.total:
            parts = [f"{self.done:,} of {_rows(self.total)} ({100 * self.done // self.total}%)"]
            if elapsed >= RATE_AFTER_S and self.done:
                rate = self.done / elapsed
                parts += [f"{rate:,.0f} rows/s", f"about {_duration((self.total - self.done) / rate)} left"]
        else:
            parts = ([_rows(self.done)] if self.done else []) + [_duration(elapsed)]
        if self.failed:
            parts.append(f"{self.failed:,} failed")
        return ", ".join(parts)


def _rows(n: int) -> str:
    return f"{n:,} row" + ("" if n == 1 else "s")


def _duration(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


class PlainProgress:
    """Progress for a non-terminal: a line per phase every `interval` seconds, none for quick phases.

    A phase that was shown gets a last line when it ends, so a log says how long it took. Callable
    from several threads (the senders' workers report as answers arrive).
    """

    def __init__(
        self,
        write: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
        interval: float = PLAIN_INTERVAL_S,
    ) -> None:
        self._write, self._clock, self._interval = write, clock, interval
        self._phase: _Phase | None = None
        self._shown_at: float | None = None  # when the current phase's last line was written
        self._lock = threading.Lock()

    def __call__(self, phase: str, done: int, total: int, failed: int = 0) -> None:
        with self._lock:
            now = self._clock()
            current = self._phase
            if current is None or current.label != phase or (done == 0 and current.done > 0):
                current = self._phase = _Phase(phase, now)
                self._shown_at = None
            current.done, current.total, current.failed = done, total, failed
            if current.finished():
                if self._shown_at is not None:
                    self._write(f"{phase}: {current.describe(now)}")
                self._phase = None
            elif now - (self._shown_at if self._shown_at is not None else current.started) >= self._interval:
                self._write(f"{phase}: {current.describe(now)}")
                self._shown_at = now


class _LiveProgress:
    """Progress on a terminal: rich redraws one line per phase in place; finished phases stay on screen."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console  # here, not at the top: see the module's docstring
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

        self._progress = Progress(
            SpinnerColumn(finished_text="✓"),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[figures]}"),
            console=Console(file=stream),
            refresh_per_second=4,
        )
        self._phase: _Phase | None = None
        self._task: Any = None
        self._lock = threading.Lock()

    def __enter__(self) -> _LiveProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def __call__(self, phase: str, done: int, total: int, failed: int = 0) -> None:
        with self._lock:
            now = time.monotonic()
            current = self._phase
            if current is None or current.label != phase or (done == 0 and current.done > 0):
                current = self._phase = _Phase(phase, now)
                self._task = self._progress.add_task(phase, total=None, figures="")
            current.done, current.total, current.failed = done, total, failed
            self._progress.update(
                self._task, completed=done, total=total or None, figures=current.describe(now)
            )
            if current.finished():
                self._phase = None


def _silent(phase: str, done: int, total: int, failed: int = 0) -> None:
    pass


@contextmanager
def progress_display(stream: TextIO, enabled: bool = True) -> Iterator[Progress]:
    """A progress callback drawing on `stream` (stderr): live on a terminal, plain lines elsewhere."""
    if not enabled:
        yield _silent
    elif stream.isatty():
        with _LiveProgress(stream) as live:
            yield live
    else:
        yield PlainProgress(lambda line: print(line, file=stream, flush=True))


# --- the summary ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One row's problem as the summary names it: a check's issue, or what became of a row that failed."""

    sheet: str
    row: int
    column: str | None
    code: str
    severity: str  # "error" or "warning"
    message: str
    status: str | None = None  # FAILED, BLOCKED, ...: for a row's outcome rather than a check's issue

    @property
    def line(self) -> str:
        """`Products row 3, SKU: warning: …` — the form the console has always used for one problem."""
        where = f"{self.sheet} row {self.row}" + (f", {self.column}" if self.column else "")
        label = (
            f"{self.status.lower()}: " if self.status else ("warning: " if self.severity == "warning" else "")
        )
        return f"{where}: {label}{self.message}"


@dataclass(frozen=True)
class ProblemGroup:
    """The problems of one code, with the hint that tells what to do about them."""

    code: str
    hint: str
    problems: tuple[Problem, ...]

    @property
    def severity(self) -> str:
        return "error" if any(p.severity == "error" for p in self.problems) else "warning"

    def heading(self) -> str:
        count = len(self.problems)
        status = self.problems[0].status
        if status:  # `no-answer: 3 failed rows`
            return f"{self.code}: {count:,} {status.lower()} row" + ("" if count == 1 else "s")
        return f"{self.code}: {count:,} {self.severity}" + ("" if count == 1 else "s")


def problems(report: RunReport) -> list[Problem]:
    """Every problem of a run: the checks' issues, then rows that failed or were blocked that no check flagged."""
    found = [_from_issue(issue) for issue in report.issues]
    flagged = {(i.sheet, i.row) for i in report.issues if i.is_error}
    for sheet in report.sheets:
        for row, outcome in sheet.outcomes.by_row(OUTCOME_PROBLEMS):
            if (sheet.sheet, row) not in flagged:
                found.append(
                    Problem(
                        sheet.sheet,
                        row,
                        None,
                        outcome.error_code or outcome.status.value.lower(),
                        Severity.ERROR.value,
                        outcome.message or "",
                        outcome.status.value,
                    )
                )
    return found


def _from_issue(issue: Issue) -> Problem:
    return Problem(issue.sheet, issue.row, issue.column, issue.code, issue.severity.value, issue.message)


def grouped(found: Iterable[Problem]) -> list[ProblemGroup]:
    """Problems by code: codes with errors first, then the most frequent; rows in the order found."""
    by_code: dict[str, list[Problem]] = {}
    for problem in found:
        by_code.setdefault(problem.code, []).append(problem)
    groups = [
        ProblemGroup(code, hint_for(code, from_api=rows[0].status == Status.FAILED.value), tuple(rows))
        for code, rows in by_code.items()
    ]
    return sorted(groups, key=lambda g: (g.severity != "error", -len(g.problems)))


def count_lines(report: RunReport) -> list[str]:
    """`Products: 12 rows — 2 created, 10 invalid`, one line per sheet."""
    lines = []
    for sheet in report.sheets:
        counts = ", ".join(f"{n:,} {s.value.lower()}" for s, n in sheet.counts().items())
        lines.append(f"{sheet.sheet}: {_rows(len(sheet.rows))} — {counts or 'no data rows'}")
    return lines


def problem_lines(groups: list[ProblemGroup], shown: int = ROWS_SHOWN_PER_CODE) -> list[str]:
    """The grouped problems as the summary prints them; empty when there are none."""
    if not groups:
        return []
    warnings = sum(len(g.problems) for g in groups if g.severity == "warning")
    errors = sum(len(g.problems) for g in groups) - warnings
    counted = [
        f"{n:,} {noun}{'' if n == 1 else 's'}" for n, noun in ((errors, "error"), (warnings, "warning")) if n
    ]
    lines = [f"Problems by code ({', '.join(counted)}):"]
    for group in groups:
        lines.append(f"  {group.heading()}")
        lines += [f"    {p.line}" for p in group.problems[:shown]]
        if len(group.problems) > shown:
            lines.append(
                f"    … and {len(group.problems) - shown:,} more; the result workbook lists them all."
            )
        lines.append(f"    What to do: {group.hint}")
    return lines


def summary_lines(report: RunReport, notes: Iterable[str] = (), then: Iterable[str] = ()) -> list[str]:
    """What a run says when it ends: retries, counts per sheet, notes, `then`, the problems, the result."""
    lines = []
    if report.retries:
        lines.append(
            f"{report.retries} request{'s were' if report.retries > 1 else ' was'} retried after "
            "transient failures."
        )
    lines += count_lines(report)
    lines += [*notes, *then]
    lines += problem_lines(grouped(problems(report)))
    lines.append(f"Result: {report.result_path}")
    return lines


def report_document(
    report: RunReport, exit_code: int, notes: Iterable[str] = (), extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The whole run as one JSON-ready dict: what `--json` prints (its fields are in the CLI's help)."""
    groups = grouped(problems(report))
    return {
        "version": DOCUMENT_VERSION,
        "command": report.command,
        "run_id": report.run_id,
        "exit_code": exit_code,
        "ok": report.all_ok,
        "input": report.input_path,
        "input_sha256": report.input_sha256,
        "template": report.template,
        "environment": report.environment,
        "started": report.started.isoformat(),
        "ended": report.ended.isoformat() if report.ended else None,
        "result": report.result_path,
        "interrupted": report.interrupted,
        "retries": report.retries,
        "counts": {s.value: n for s, n in report.counts().items()},
        "sheets": [
            {"sheet": s.sheet, "rows": len(s.rows), "counts": {st.value: n for st, n in s.counts().items()}}
            for s in report.sheets
        ],
        "notes": list(notes),
        "problems": [
            {
                "code": g.code,
                "severity": g.severity,
                "count": len(g.problems),
                "hint": g.hint,
                "rows": [
                    {
                        "sheet": p.sheet,
                        "row": p.row,
                        "column": p.column,
                        "severity": p.severity,
                        "status": p.status,
                        "message": p.message,
                    }
                    for p in g.problems
                ],
            }
            for g in groups
        ],
        **(extra or {}),
    }
