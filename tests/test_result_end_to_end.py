"""The whole journey of a result workbook: a mixed all-in-one load with mistakes, the workbook people
forward (Summary and chart, Errors with links, tinted rows, commented cells), opened by LibreOffice,
and e-mailed to a real SMTP server on loopback."""

from __future__ import annotations

import re

import openpyxl

from tests.helpers import write_workbook
from tests.test_notify import attachment, mail_env, smtp_server  # noqa: F401 (a fixture)
from tests.tools import make_samples as s
from tests.workbook.result_cases import soffice_csv

SHEETS = {
    "Products": s.VALID + s.MISTAKES,
    "BOMs": s.BOMS + s.BOM_MISTAKES,
    "Work Orders": s.WORK_ORDERS + s.WORK_ORDER_MISTAKES,
    "ASNs": s.ASNS + s.ASN_MISTAKES,
    "Orders": s.ORDERS + s.ORDER_MISTAKES,
    "Returns": s.RETURNS + s.RETURN_MISTAKES,
}


def test_all_in_one_with_mistakes_result_opens_everywhere_and_is_mailed(cli, tmp_path, smtp_server):  # noqa: F811
    server = smtp_server()
    workbook = write_workbook(tmp_path / "all-in-one-mixed.xlsx", SHEETS)
    result = cli("load", workbook, "--email-to", "ops@example.com", env=mail_env(server.port))
    assert result.exit_code == 1, result.output
    path = tmp_path / "all-in-one-mixed.result.xlsx"

    book = openpyxl.load_workbook(path)
    assert book.sheetnames[:2] == ["Summary", "Errors"]
    assert book["Summary"]._charts, "the Summary sheet has a chart of the counts"
    errors = list(book["Errors"].iter_rows(min_row=2))
    assert len(errors) >= 30
    for row in errors:
        if row[1].hyperlink is not None:
            sheet, cell = re.fullmatch(r"'(.+)'!([A-Z]+\d+)", row[1].hyperlink.location).groups()
            # a cell ("B3"), or a whole row ("row 5", linking to its first cell)
            assert sheet == row[0].value and row[1].value in (cell, "row " + cell.lstrip("A"))
    orders = book["Orders"]
    headers = [c.value for c in orders[1]]
    status = headers.index("Status")
    statuses = {row[status].value for row in orders.iter_rows(min_row=2)}
    assert {"CREATED", "INVALID"} <= statuses
    notes = {c.coordinate: c.comment.text for row in orders.iter_rows() for c in row if c.comment}
    assert notes["R16"].startswith("Ship-To Postal Code 6484 was typed as a number")  # the 7th order's ZIP
    tints = [rule for cf in orders.conditional_formatting for rule in cf.rules]
    assert len(tints) >= 2, "rows are tinted by status and invalid cells marked"

    converted = soffice_csv([path], tmp_path / "csv")[path.stem]
    assert {"Summary", "Errors", "Products", "Orders", "Returns"} <= set(converted)
    assert "INVALID" in converted["Orders"] and "CREATED" in converted["Orders"]

    message = server.handler.only()
    assert message["Subject"].startswith("pbload: all-in-one-mixed.xlsx — ")
    name, _, content = attachment(message)
    assert name == "all-in-one-mixed.result.xlsx" and content == path.read_bytes()
