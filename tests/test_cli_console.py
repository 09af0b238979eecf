"""What the command line says: the summary's problems, --json, --quiet, files it refuses to overwrite."""

from __future__ import annotations

import json
import shutil

from tests.helpers import SAMPLES, product_row, write_products, write_workbook
from tests.resources.test_merge import _order_rows

FIRST_LINE = "Environment local: the built-in emulator of the Fulfillment API"
RUN_KEYS = {
    "version",
    "command",
    "run_id",
    "exit_code",
    "ok",
    "input",
    "input_sha256",
    "template",
    "environment",
    "started",
    "ended",
    "result",
    "interrupted",
    "retries",
    "counts",
    "sheets",
    "notes",
    "problems",
}


def test_the_summary_groups_the_problems_after_the_counts(cli, tmp_path):
    path = write_products(
        tmp_path / "p.xlsx",
        [product_row("A"), product_row("B", Product_Type="BOX"), product_row("C", Product_Type="BOX")],
    )
    result = cli("validate", path)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "Products: 3 rows — 2 invalid, 1 valid",
        "Problems by code (2 errors):",
        "  not-allowed: 2 errors",
        "    Products row 3, Product Type: Product Type 'BOX' is not allowed; use one of ITEM, KIT.",
        "    Products row 4, Product Type: Product Type 'BOX' is not allowed; use one of ITEM, KIT.",
        "    What to do: Pick one of the values the message lists (the cell's drop-down offers them).",
        f"Result: {tmp_path / 'p.result.xlsx'}",
    ]


def test_blocked_and_failed_rows_are_named(cli, tmp_path):
    path = write_workbook(
        tmp_path / "o.xlsx",
        {
            "Products": [product_row("P1", Product_Type="BOX"), product_row("P2", Action="UPDATE")],
            "Orders": _order_rows([(1, "P1", 1)]),
        },
    )
    result = cli("load", path)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert "  dependency-failed: 1 blocked row" in lines
    assert "    Orders row 2: blocked: Not sent: product P1 (Products row 2) is INVALID." in lines
    failed = [line for line in lines if line.startswith("    Products row 3: failed: ")]
    assert len(failed) == 1, lines


def test_json_is_the_whole_report_and_alone_on_stdout(cli, tmp_path):
    shutil.copy(SAMPLES / "products-with-errors.xlsx", tmp_path)
    result = cli("load", "products-with-errors.xlsx", "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)  # nothing but the document
    assert set(document) == RUN_KEYS
    assert (document["command"], document["exit_code"], document["ok"]) == ("load", 1, False)
    assert document["result"] == "products-with-errors.result.xlsx"
    assert document["counts"] == {"CREATED": 2, "INVALID": 10}
    assert document["sheets"] == [{"sheet": "Products", "rows": 12, "counts": {"CREATED": 2, "INVALID": 10}}]
    assert sum(g["count"] for g in document["problems"]) == 11
    required = next(g for g in document["problems"] if g["code"] == "required")
    assert required["hint"] == "Fill in the cell, then load this workbook again."
    assert required["rows"][0] == {
        "sheet": "Products",
        "row": 4,
        "column": "Description",
        "severity": "error",
        "status": None,
        "message": "Description is required.",
    }
    assert result.stderr.startswith(FIRST_LINE)  # what is not the report goes to stderr
    assert document["run_id"] in cli("runs").output


def test_validate_and_plan_json(cli, tmp_path):
    path = write_products(tmp_path / "p.xlsx", [product_row("A")])
    checked = cli("validate", path, "--offline", "--json")
    assert checked.exit_code == 0
    document = json.loads(checked.stdout)
    assert (document["command"], document["counts"], document["problems"]) == ("validate", {"VALID": 1}, [])
    planned = cli("plan", path, "--json")
    assert planned.exit_code == 0
    assert json.loads(planned.stdout)["counts"] == {"WOULD CREATE": 1}
    assert json.loads(planned.stdout)["changes"] == []


def test_json_says_when_nothing_ran(cli, tmp_path):
    result = cli("load", tmp_path / "missing.xlsx", "--json")
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert (document["command"], document["exit_code"]) == ("load", 2)
    assert document["error"] in result.stderr


def test_quiet_keeps_the_counts_and_the_result(cli, tmp_path):
    path = write_products(tmp_path / "p.xlsx", [product_row("A"), product_row("B", Product_Type="BOX")])
    result = cli("load", path, "--quiet")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Products: 2 rows — 1 created, 1 invalid",
        f"Result: {tmp_path / 'p.result.xlsx'}",
    ]


def test_debug_after_the_command(cli, tmp_path):
    path = write_products(tmp_path / "p.xlsx", [product_row("A")])
    result = cli("validate", path, "--offline", "--debug")
    assert result.exit_code == 0
    assert result.stderr.startswith("Seconds: read ")


def test_template_refuses_to_overwrite_without_force(cli, tmp_path):
    filled = write_products(tmp_path / "filled.xlsx", [product_row("A")])
    before = filled.read_bytes()
    result = cli("template", "products", "-o", filled)
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {filled} already exists, and pbload never overwrites a file unasked. "
        "Add --force to replace it, or give another file name with -o.\n"
    )
    assert filled.read_bytes() == before
    assert cli("template", "products", "-o", filled, "--force").exit_code == 0
    assert filled.read_bytes() != before


def test_export_refuses_to_overwrite_without_force(cli, tmp_path):
    mine = tmp_path / "products-export.xlsx"
    mine.write_bytes(b"my work")
    result = cli("export", "products")
    assert result.exit_code == 2
    assert result.output.startswith("Error: products-export.xlsx already exists")
    assert mine.read_bytes() == b"my work"
    assert cli("export", "products", "--force").exit_code == 0
    assert mine.read_bytes() != b"my work"


def test_offline_validate_says_what_it_skipped_after_the_counts(cli, tmp_path):
    path = write_workbook(tmp_path / "o.xlsx", {"Orders": _order_rows([(1, "NOT-AT-PB", 1)])})
    result = cli("validate", path, "--offline")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Orders: 1 row — 1 valid"
    assert lines[1].startswith("--offline: pbload checked the rows without looking them up at PB")
    looked_up = cli("validate", path)
    assert looked_up.exit_code == 1
    assert "  unknown-sku: 1 error" in looked_up.stdout.splitlines()


def test_resume_json(cli, tmp_path):
    result = cli("resume", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "version": 1,
        "command": "resume",
        "run_id": None,
        "exit_code": 0,
        "message": "Every run has finished: there is nothing to resume. `pbload runs` lists them.",
    }
