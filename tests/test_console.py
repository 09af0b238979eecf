"""The console's pieces without the CLI: plain progress lines on a clock of our own, problems grouped by code."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from loader.console import PlainProgress, grouped, problem_lines, problems, progress_display, report_document
from loader.models import Issue, Outcome, RunReport, Severity, SheetReport, Status


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _plain() -> tuple[PlainProgress, Clock, list[str]]:
    clock, lines = Clock(), []
    return PlainProgress(lines.append, clock=clock, interval=5), clock, lines


def test_a_quick_phase_prints_nothing():
    progress, clock, lines = _plain()
    progress("Reading orders.xlsx", 0, 0)
    clock.now += 1
    progress("Reading orders.xlsx", 20_000, 20_000)
    assert lines == []


def test_a_long_phase_prints_a_line_every_interval_and_one_when_it_ends():
    progress, clock, lines = _plain()
    progress("Sending Orders", 0, 20_000)
    for done in range(1_000, 10_001, 1_000):  # 1,000 rows a second
        clock.now += 1
        progress("Sending Orders", done, 20_000, failed=done // 1_000 - 1)
    clock.now += 10
    progress("Sending Orders", 20_000, 20_000, failed=12)
    assert lines == [
        "Sending Orders: 5,000 of 20,000 rows (25%), 1,000 rows/s, about 15 s left, 4 failed",
        "Sending Orders: 10,000 of 20,000 rows (50%), 1,000 rows/s, about 10 s left, 9 failed",
        "Sending Orders: 20,000 rows in 20 s, 12 failed",
    ]


def test_an_unknown_total_shows_the_time_spent():
    progress, clock, lines = _plain()
    progress("Checking Orders", 0, 0)
    clock.now += 6
    progress("Checking Orders", 0, 0)
    clock.now += 6
    progress("Looking up Orders", 0, 300)  # a new phase starts its own clock
    clock.now += 0.5
    progress("Looking up Orders", 300, 300)
    assert lines == ["Checking Orders: 6.0 s"]


def test_the_old_callback_of_three_arguments_is_taken():
    progress, clock, lines = _plain()
    progress("Orders", 0, 10)
    clock.now += 7
    progress("Orders", 4, 10)
    assert lines == ["Orders: 4 of 10 rows (40%), 1 rows/s, about 10 s left"]


def test_progress_off_and_on_a_non_terminal():
    stream = io.StringIO()
    with progress_display(stream, enabled=False) as progress:
        progress("Sending Orders", 0, 10)
    with progress_display(stream) as progress:
        assert isinstance(progress, PlainProgress)
    assert stream.getvalue() == ""


def _report() -> RunReport:
    report = RunReport(
        "r1",
        "load",
        "o.xlsx",
        "abc",
        "local",
        datetime(2026, 1, 2, tzinfo=UTC),
        result_path="o.result.xlsx",
    )
    products = SheetReport("Products", [2, 3, 4, 5, 6])
    products.outcomes = {
        2: Outcome(Status.INVALID, error_code="required"),
        3: Outcome(Status.INVALID, error_code="required"),
        4: Outcome(Status.INVALID, error_code="required"),
        5: Outcome(Status.INVALID, error_code="required"),
        6: Outcome(Status.CREATED),
    }
    orders = SheetReport("Orders", [2, 3])
    orders.outcomes = {
        2: Outcome(Status.BLOCKED, error_code="dependency-failed", message="Not sent: product P1."),
        3: Outcome(Status.FAILED, error_code="PB-4001", message="Carrier unknown."),
    }
    report.sheets = [products, orders]
    report.issues = [
        Issue("Products", row, "Description", "required", "Description is required.") for row in (2, 3, 4, 5)
    ]
    report.issues.append(Issue("Products", 6, "Brand", "whitespace", "Spaces removed.", Severity.WARNING))
    return report


def test_problems_are_grouped_by_code_with_the_first_rows_and_the_hint():
    assert problem_lines(grouped(problems(_report()))) == [
        "Problems by code (6 errors, 1 warning):",
        "  required: 4 errors",
        "    Products row 2, Description: Description is required.",
        "    Products row 3, Description: Description is required.",
        "    Products row 4, Description: Description is required.",
        "    … and 1 more; the result workbook lists them all.",
        "    What to do: Fill in the cell, then load this workbook again.",
        "  dependency-failed: 1 blocked row",
        "    Orders row 2: blocked: Not sent: product P1.",
        "    What to do: Fix the item this row depends on (see its own row), then load this workbook again.",
        "  PB-4001: 1 failed row",
        "    Orders row 3: failed: Carrier unknown.",
        "    What to do: PB refused this row: correct it as the message says, then load this workbook again.",
        "  whitespace: 1 warning",
        "    Products row 6, Brand: warning: Spaces removed.",
        "    What to do: Nothing to do: pbload removed the spaces. Delete them in the sheet to silence this warning.",
    ]


def test_the_document_has_every_problem_and_the_counts():
    document = report_document(_report(), 1, notes=["SKUs were not looked up (--offline)."])
    assert document["counts"] == {"CREATED": 1, "FAILED": 1, "INVALID": 4, "BLOCKED": 1}
    assert document["sheets"][1] == {"sheet": "Orders", "rows": 2, "counts": {"FAILED": 1, "BLOCKED": 1}}
    assert [(g["code"], g["severity"], g["count"]) for g in document["problems"]] == [
        ("required", "error", 4),
        ("dependency-failed", "error", 1),
        ("PB-4001", "error", 1),
        ("whitespace", "warning", 1),
    ]
    assert document["problems"][2]["rows"] == [
        {
            "sheet": "Orders",
            "row": 3,
            "column": None,
            "severity": "error",
            "status": "FAILED",
            "message": "Carrier unknown.",
        }
    ]
    assert (document["exit_code"], document["ok"], document["notes"]) == (
        1,
        False,
        ["SKUs were not looked up (--offline)."],
    )
