"""A sheet's outcomes kept compactly (`loader.models.Outcomes`): a mapping by Excel row number like the dict
it replaces, every field given back equal, and reports that survive the journal and the result workbook."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest

from loader.codes import Code
from loader.journal import report_from_json, report_to_json
from loader.models import MAX_ROW, Change, Outcome, Outcomes, RunReport, SheetReport, Status
from loader.workbook.result import OPENPYXL, STREAM, write_result
from tests.helpers import read_statuses, write_workbook

CREATED = Outcome(Status.CREATED, "PB-1", transaction_id="pbl-1")
FAILED = Outcome(Status.FAILED, None, "PB-4001", "HS Code is not valid for PT.", "pbl-2")
UPDATED = Outcome(Status.UPDATED, "PB-3", changes=(Change("Brand", "Acme", "ACME", row=4),))


def test_it_reads_and_writes_as_a_dict_by_row_would():
    outcomes = Outcomes()
    outcomes[5] = CREATED
    outcomes[2] = FAILED
    outcomes[9] = UPDATED
    assert len(outcomes) == 3 and list(outcomes) == [5, 2, 9]  # the order rows were first given
    assert outcomes[2] == FAILED and outcomes.get(9) == UPDATED
    assert 5 in outcomes and 3 not in outcomes and "5" not in outcomes and None not in outcomes
    assert outcomes.get(3) is None and outcomes.get(3, CREATED) == CREATED
    with pytest.raises(KeyError):
        outcomes[3]
    outcomes[5] = FAILED  # overwritten: keeps its place
    assert list(outcomes.items()) == [(5, FAILED), (2, FAILED), (9, UPDATED)]
    assert list(outcomes.values()) == [FAILED, FAILED, UPDATED]
    assert sorted(outcomes) == [2, 5, 9] and outcomes == {2: FAILED, 5: FAILED, 9: UPDATED}
    assert outcomes.among([2, 3, 5, 5, 0, MAX_ROW + 7]) == 3  # row 5 twice
    del outcomes[2]
    outcomes[2] = CREATED  # deleted, then given again: now the last
    assert list(outcomes) == [5, 9, 2] and len(outcomes) == 3
    with pytest.raises(KeyError):
        del outcomes[4]
    outcomes[9] = Outcome(Status.NOT_SENT)  # a status only, over one with every field
    assert outcomes[9] == Outcome(Status.NOT_SENT) and outcomes.fields(9) == (
        Status.NOT_SENT,
        None,
        None,
        None,
        None,
        (),
    )
    outcomes.clear()
    assert len(outcomes) == 0 and list(outcomes) == [] and 5 not in outcomes and outcomes == {}


def test_it_is_updated_from_a_dict_pairs_or_another_store():
    outcomes = Outcomes({3: CREATED})
    outcomes.update({4: FAILED, 3: UPDATED})
    outcomes.update([(7, CREATED)])
    other = Outcomes({8: FAILED})
    other.update(outcomes)
    assert dict(other.items()) == {8: FAILED, 3: UPDATED, 4: FAILED, 7: CREATED}
    assert list(other) == [8, 3, 4, 7]


def test_numpy_row_numbers_are_row_numbers():
    np = pytest.importorskip("numpy")
    outcomes = Outcomes({np.int64(2): CREATED})
    assert np.int64(2) in outcomes and outcomes[2] == CREATED and list(outcomes) == [2]
    assert type(next(iter(outcomes))) is int


@pytest.mark.parametrize("row", [0, -1, MAX_ROW + 1, 10**12])
def test_a_row_outside_a_worksheet_is_refused_and_never_found(row):
    outcomes = Outcomes({MAX_ROW: CREATED, 1: FAILED})
    with pytest.raises(ValueError, match=f"row {row} is outside a worksheet"):
        outcomes[row] = CREATED
    assert row not in outcomes and outcomes.get(row) is None
    assert dict(outcomes.items()) == {MAX_ROW: CREATED, 1: FAILED}
    with pytest.raises(TypeError):
        outcomes["2"] = CREATED  # type: ignore[index]


def test_every_combination_of_fields_comes_back_equal_and_of_its_type():
    changes = ((), (Change("Weight", 0.4, 0.45, row=2), Change("Lines", None, None, 3, "L-2", "added")))
    combinations = itertools.product(
        Status,
        (None, "", "PB-0001", "PB-é\ud800"),  # a lone surrogate, as Excel can hold
        (None, "not-allowed", Code.UNKNOWN_SKU),
        (None, "Weight Unit: 'LBS' is not allowed.", "x" * 5000),
        (None, "pbl-000001"),
        changes,
    )
    given = {row: Outcome(*fields) for row, fields in enumerate(combinations, start=2)}
    outcomes = Outcomes(given)
    assert len(outcomes) == len(given) and list(outcomes) == list(given)
    for row, outcome in given.items():
        back = outcomes[row]
        assert back == outcome
        assert type(back.error_code) is type(outcome.error_code)  # a Code stays a Code
    assert dict(outcomes.items()) == given and list(outcomes.values()) == list(given.values())
    assert list(outcomes.by_row()) == sorted(given.items())
    assert list(outcomes.by_row([Status.UPDATED])) == [
        (r, o) for r, o in given.items() if o.status is Status.UPDATED
    ]
    for name in ("status", "pb_id", "error_code", "message", "transaction_id", "changes"):
        assert list(outcomes.column(name)) == [getattr(o, name) for o in given.values()]


def test_a_fields_longest_text_and_each_rows_fields_are_read_without_making_outcomes():
    outcomes = Outcomes({2: Outcome(Status.FAILED, None, Code.REQUIRED, "é" * 7), 3: CREATED, 4: FAILED})
    assert outcomes.longest("error_code") == max(len(str(Code.REQUIRED)), len("PB-4001"))
    assert (outcomes.longest("message"), outcomes.longest("pb_id"), outcomes.longest("transaction_id")) == (
        len(FAILED.message or ""),
        4,
        5,
    )
    outcomes[3] = Outcome(Status.CREATED, "P")  # replaced: its longer texts no longer count
    del outcomes[4]
    assert (outcomes.longest("pb_id"), outcomes.longest("transaction_id"), outcomes.longest("message")) == (
        1,
        0,
        7,
    )
    assert outcomes.fields(2) == (Status.FAILED, None, Code.REQUIRED, "é" * 7, None, ())
    assert (
        outcomes.fields(3) == (Status.CREATED, "P", None, None, None, ())
        and outcomes.fields(4) is None
        and outcomes.fields(5) is None
    )


def test_counts_are_by_status_in_the_order_of_status():
    outcomes = Outcomes({2: FAILED, 3: CREATED, 4: FAILED})
    assert list(outcomes.counts().items()) == [(Status.CREATED, 1), (Status.FAILED, 2)]
    del outcomes[3]
    assert outcomes.counts() == {Status.FAILED: 2}


def test_a_sheet_of_200_000_rows_holds_under_50_bytes_a_row():  # a dict of Outcomes: about 450
    outcomes = Outcomes()
    for n in range(200_000):  # as a load keeps them: a PB ID each, a transaction ID a chunk of 200
        outcomes[n + 2] = Outcome(Status.CREATED, f"PB{n:09d}", transaction_id=f"pbl-{n // 200:06d}")
    assert outcomes.nbytes() < 50 * 200_000
    assert outcomes[200_001] == Outcome(Status.CREATED, "PB000199999", transaction_id="pbl-000999")


def test_a_sheet_report_given_a_dict_keeps_a_store_of_it():
    report = SheetReport("Products", [2, 3], {2: CREATED})
    assert isinstance(report.outcomes, Outcomes) and report.outcomes == {2: CREATED}
    report.outcomes = {3: FAILED}
    assert isinstance(report.outcomes, Outcomes) and dict(report.outcomes.items()) == {3: FAILED}
    assert SheetReport("Products", [2]).outcomes == {}
    assert list(report.rows) == [2, 3] and report.rows[-1] == 3  # kept as an array of ints
    assert report == SheetReport("Products", [2, 3], {3: FAILED})
    assert report.counts() == {Status.FAILED: 1}


SHEETS = {"Products": ("SKU", 250), "Orders": ("Client Order ID", 230), "ASNs": ("Client ASN ID", 3)}


def _outcome(sheet: int, n: int) -> Outcome | None:
    """Row n's outcome on sheet number `sheet`: every status in turn, a few rows of Orders with none."""
    status = list(Status)[(n + sheet) % len(Status)]
    if sheet == 1 and n % 50 == 7:
        return None
    if status is Status.INVALID:
        return Outcome(status, None, Code.REQUIRED, f"Row {n}: SKU is required.")
    if status in (Status.UPDATED, Status.WOULD_UPDATE):
        return Outcome(status, f"PB-{n}", changes=(Change("Description", "old", f"new {n}", row=n + 2),))
    return Outcome(status, f"PB-{n}" if n % 3 else None, None, None, f"pbl-{sheet}-{n // 200}")


def _run() -> RunReport:
    run = RunReport(
        "run-1",
        "load",
        "in.xlsx",
        "ab" * 32,
        "local",
        datetime(2026, 12, 2, 9),
        ended=datetime(2026, 12, 2, 9, 5),
    )
    for number, (sheet, (_, count)) in enumerate(SHEETS.items()):
        report = SheetReport(sheet, list(range(2, count + 2)))
        for n in range(count):
            outcome = _outcome(number, n)
            if outcome is not None:
                report.outcomes[n + 2] = outcome
        run.sheets.append(report)
    return run


def test_a_report_of_several_sheets_comes_back_from_the_journal_with_every_row():
    run = _run()
    kept, _, _ = report_from_json(report_to_json(run, {}))
    assert kept == run
    for sheet, number in zip(kept.sheets, range(len(SHEETS)), strict=True):
        assert isinstance(sheet.outcomes, Outcomes)
        expected = {n + 2: o for n in range(SHEETS[sheet.sheet][1]) if (o := _outcome(number, n)) is not None}
        assert dict(sheet.outcomes.items()) == expected
    assert kept.sheets[1].outcomes.get(9) is None and 9 in kept.sheets[1].rows  # never settled


@pytest.mark.parametrize("method", [STREAM, OPENPYXL])
def test_the_result_written_from_a_kept_report_shows_each_rows_status(tmp_path, method):
    source = write_workbook(
        tmp_path / "in.xlsx",
        {sheet: [{key: f"K-{n}"} for n in range(count)] for sheet, (key, count) in SHEETS.items()},
    )
    kept, _, _ = report_from_json(report_to_json(_run(), {}))
    positions = {sheet: {key: 0} for sheet, (key, _) in SHEETS.items()}
    written = write_result(source, tmp_path / "out.xlsx", kept, positions, method=method)
    assert written.method == method
    for number, (sheet, (_, count)) in enumerate(SHEETS.items()):
        shown = read_statuses(written.path, sheet)
        expected = {}
        for n in range(count):
            outcome = _outcome(number, n)
            expected[n + 2] = (outcome.status.value, outcome.pb_id) if outcome else ("NOT SENT", None)
        assert {row: (values["Status"], values["PB ID"]) for row, values in shown.items()} == expected
