"""Products end to end: the CLI, the emulator, the result workbook, exit codes and messages."""

from __future__ import annotations

import json
import shutil

import httpx
import openpyxl
import pytest

from loader import pipeline
from loader.emulator import create_app
from loader.emulator.server import EmulatorServer
from loader.settings import load_settings
from loader.workbook.result.fallback import set_text
from tests.helpers import SAMPLES, RecordingTransport, product_row, read_statuses, write_products

FIRST_LINE = "Environment local: the built-in emulator of the Fulfillment API"


@pytest.fixture
def sample(tmp_path):
    def copy(name: str):
        target = tmp_path / name
        shutil.copy(SAMPLES / name, target)
        return target

    return copy


def test_sample_loads_then_reloads_unchanged(cli, sample, local_emulator):
    path = sample("products.xlsx")
    before = path.read_bytes()
    first = cli("load", path)
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert lines[0].startswith(FIRST_LINE)
    assert "Products: 26 rows — 26 created" in lines
    result = path.with_name("products.result.xlsx")
    statuses = read_statuses(result)
    assert len(statuses) == 26 and {r["Status"] for r in statuses.values()} == {"CREATED"}
    assert all(r["Transaction ID"].startswith("pbl-") for r in statuses.values())
    stored = {p["sku"]: p for p in local_emulator().products()}
    assert len(stored) == 26
    details = stored["00123-BLU-M"]["details"]
    assert details["identifiers"] == [{"number": "012345678912", "source": "UPC"}]  # zeros kept all the way
    assert details["weight"] == {"value": 0.8, "unitOfMeasurement": "LB"}
    assert path.read_bytes() == before  # the input is never modified

    second = cli("load", path)
    assert second.exit_code == 0, second.output
    assert "Products: 26 rows — 26 unchanged" in second.output.splitlines()
    assert {r["Status"] for r in read_statuses(result).values()} == {"UNCHANGED"}
    assert len(local_emulator().products()) == 26


def test_changed_rows_are_updated(cli, tmp_path, local_emulator):
    path = write_products(tmp_path / "p.xlsx", [product_row("A"), product_row("B")])
    assert cli("load", path).exit_code == 0
    write_products(path, [product_row("A", Description="New words"), product_row("B")])
    result = cli("load", path)
    assert result.exit_code == 0
    assert "Products: 2 rows — 1 updated, 1 unchanged" in result.output
    statuses = read_statuses(tmp_path / "p.result.xlsx")
    assert (statuses[2]["Status"], statuses[3]["Status"]) == ("UPDATED", "UNCHANGED")
    stored = {p["sku"]: p for p in local_emulator().products()}
    assert stored["A"]["details"]["description"] == "New words"


def test_sample_with_errors(cli, sample, local_emulator):
    path = sample("products-with-errors.xlsx")
    result = cli("load", path)
    assert result.exit_code == 1
    assert "Products: 12 rows — 2 created, 10 invalid" in result.output
    statuses = read_statuses(path.with_name("products-with-errors.result.xlsx"))
    invalid = {
        row: (r["Error Code"], r["Message"]) for row, r in statuses.items() if r["Status"] == "INVALID"
    }
    assert {row: code for row, (code, _) in invalid.items()} == {
        2: "duplicate-key",
        3: "number-in-text-column",
        4: "required",
        5: "not-allowed",
        6: "bad-format",
        7: "required",
        8: "out-of-range",
        9: "too-long",
        10: "bad-format",
        11: "duplicate-key",
    }
    assert invalid[7][1] == "Weight Unit: Weight Unit is required when Weight is filled in."
    assert {r["Status"] for row, r in statuses.items() if row not in invalid} == {"CREATED"}
    assert sorted(p["sku"] for p in local_emulator().products()) == ["0071-TEE-GRN-L", "0071-TEE-GRN-M"]


def test_result_workbook_points_at_cells_and_has_a_summary(cli, tmp_path):
    path = write_products(tmp_path / "p.xlsx", [product_row("A"), product_row("B", Product_Type="BOX")])
    assert cli("load", path, "-o", tmp_path / "out" / "r.xlsx").exit_code == 1
    book = openpyxl.load_workbook(tmp_path / "out" / "r.xlsx")
    assert book.sheetnames[:2] == ["Summary", "Errors"]
    assert book["Products"]["B3"].comment.text == "Product Type 'BOX' is not allowed; use one of ITEM, KIT."
    errors = list(book["Errors"].iter_rows(values_only=True))
    assert errors[1][:5] == (
        "Products",
        "B3",
        "error",
        "not-allowed",
        "Product Type 'BOX' is not allowed; use one of ITEM, KIT.",
    )
    summary = {r[0]: r[1] for r in book["Summary"].iter_rows(values_only=True) if r[0]}
    assert summary["Products"] == 2
    assert summary["Input file"] == "p.xlsx" and len(summary["Input SHA-256"]) == 64
    assert summary["Environment"] == "local" and summary["Template"] == "products (products v2)"


def test_result_workbook_loads_again(cli, tmp_path):
    path = write_products(tmp_path / "p.xlsx", [product_row("A"), product_row("B", Product_Type="BOX")])
    cli("load", path)
    result = tmp_path / "p.result.xlsx"
    book = openpyxl.load_workbook(result)
    book["Products"]["B3"] = "KIT"  # fix the invalid row in the result workbook
    book.save(result)
    again = cli("load", result)
    assert again.exit_code == 0, again.output
    statuses = read_statuses(tmp_path / "p.result-2.xlsx")
    assert (statuses[2]["Status"], statuses[3]["Status"]) == ("UNCHANGED", "CREATED")
    # and again: the next number, never a longer name
    assert cli("load", tmp_path / "p.result-2.xlsx").exit_code == 0
    assert sorted(p.name for p in tmp_path.glob("p.*")) == [
        "p.result-2.xlsx",
        "p.result-3.xlsx",
        "p.result.xlsx",
        "p.xlsx",
    ]


def test_text_that_looks_like_a_formula_stays_text(tmp_path):
    book = openpyxl.Workbook()
    for n, text in enumerate(['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)"], start=1):
        set_text(book.active.cell(row=n, column=1), text)
    book.save(tmp_path / "f.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "f.xlsx").active
    assert [(c.value, c.data_type) for c in ws["A"]] == [
        ('=HYPERLINK("http://x")', "s"),
        ("+1", "s"),
        ("-2", "s"),
        ("@SUM(A1)", "s"),
    ]


def test_validate_sends_nothing(cli, sample, local_emulator):
    result = cli("validate", sample("products-with-errors.xlsx"))
    assert result.exit_code == 1
    assert "Products: 12 rows — 10 invalid, 2 valid" in result.output
    assert "Products row 3, SKU: SKU 4471 was typed as a number" in result.output
    assert local_emulator().products() == []
    assert cli("validate", sample("products.xlsx")).exit_code == 0


def test_wrong_credentials_exit_2(cli, sample):
    env = {"PB_CLIENT_ID": "pbload-local", "PB_API_KEY": "local-key", "PB_API_SECRET": "Not-The-S3cret"}
    # an emulator served over real HTTP checks the credentials it is given, as PB does
    with EmulatorServer(create_app(None)) as server:
        result = cli("load", sample("products.xlsx"), "--env", "local", "--base-url", server.url, env=env)
    assert result.exit_code == 2
    assert result.output.splitlines()[-1].startswith(
        f"Error: The API refused the credentials (HTTP 401 from {server.url}/oauth/token). "
        "Check PB_API_KEY and PB_API_SECRET for this environment."
    )
    assert "Not-The-S3cret" not in result.output  # the secret itself is never shown


def test_missing_credentials_exit_2(cli, sample):
    result = cli("load", sample("products.xlsx"), "--env", "sandbox", env={"PB_API_KEY": "k"})
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        "Error: The sandbox environment needs credentials, but PB_CLIENT_ID, PB_API_SECRET are not set. "
        "Set PB_CLIENT_ID, PB_API_KEY and PB_API_SECRET in the environment, or use --env local to try the "
        "built-in emulator."
    )


def test_unreachable_api_exit_2(cli, sample):
    env = {"PB_CLIENT_ID": "c", "PB_API_KEY": "k", "PB_API_SECRET": "s", "PBLOAD_MAX_ATTEMPTS": "2"}
    result = cli("load", sample("products.xlsx"), "--base-url", "http://127.0.0.1:9", env=env)
    assert result.exit_code == 2
    assert "Error: No answer from http://127.0.0.1:9 after 2 attempts (ConnectError" in result.output
    assert "Check the network connection and --base-url" in result.output


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("nope.xlsx", None, "Error: Cannot find"),
        (
            "orders.csv",
            b"a,b\n",
            "Error: orders.csv is a text or CSV file, not an Excel workbook (.xlsx). Open it in Excel or LibreOffice and save it as an Excel Workbook (.xlsx).",
        ),
    ],
)
def test_unreadable_file_exit_2(cli, tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = cli("load", path)
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.parametrize("count, sizes", [(200, [200]), (201, [1, 200]), (401, [1, 200, 200])])
def test_no_bulk_call_carries_more_than_200_items(tmp_path, state_dir, count, sizes):
    # the bulk calls go concurrently, so they may arrive in any order: only what they carry is asserted
    emulator = create_app(None)
    recorder = RecordingTransport(httpx.WSGITransport(app=emulator))
    settings = load_settings({"state_dir": state_dir}, environ={})
    skus = [f"S{count}-{n:04d}" for n in range(count)]
    path = write_products(tmp_path / f"p{count}.xlsx", [product_row(sku) for sku in skus])
    report = pipeline.load(path, settings, transport=recorder)
    assert report.all_ok
    bodies = [json.loads(r.content) for r in recorder.requests if r.url.path.endswith("/v1/products/bulk")]
    assert sorted(len(b["products"]) for b in bodies) == sizes
    sent = sorted(p["sku"] for b in bodies for p in b["products"])
    assert sent == skus  # each row in exactly one call
    assert sorted(p["sku"] for p in emulator.products()) == skus


def test_requests_carry_auth_and_unique_transaction_ids(tmp_path, state_dir):
    emulator = create_app(None)
    recorder = RecordingTransport(httpx.WSGITransport(app=emulator))
    settings = load_settings({"state_dir": state_dir, "chunk_size": 2}, environ={})
    path = write_products(tmp_path / "p.xlsx", [product_row(f"S{n}") for n in range(5)])
    pipeline.load(path, settings, transport=recorder)
    token_calls = [r for r in recorder.requests if r.url.path == "/oauth/token"]
    api_calls = [r for r in recorder.requests if r.url.path.startswith("/shippingservices/fulfillment/v1/")]
    assert len(token_calls) == 1  # fetched once and reused
    assert [r.url.path.rsplit("/", 1)[1] for r in api_calls] == ["search", "bulk", "bulk", "bulk"]
    ids = [r.headers["X-PB-TransactionId"] for r in api_calls]
    assert len(set(ids)) == 4 and all(len(i) <= 25 for i in ids)
    assert all(r.headers["Authorization"].startswith("Bearer ") for r in api_calls)


def test_a_reload_asks_pb_rather_than_trusting_the_last_run(cli, sample, state_dir, local_emulator):
    path = sample("products.xlsx")
    assert cli("load", path).exit_code == 0
    for leftover in state_dir.glob("emulator.sqlite3*"):  # PB lost everything (a sandbox reset)
        leftover.unlink()
    again = cli("load", path)
    assert again.exit_code == 0
    assert "Products: 26 rows — 26 created" in again.output
    assert len(local_emulator().products()) == 26


def test_an_emptied_sheet_is_skipped_with_a_warning(cli, tmp_path):
    path = write_products(tmp_path / "p.xlsx", [product_row("A")])
    book = openpyxl.load_workbook(path)
    book.create_sheet("Returns")  # an unused sheet of the all-in-one template, emptied
    book.save(path)
    result = cli("validate", path)
    assert result.exit_code == 0
    assert "Returns row 1: warning: Sheet 'Returns' is empty; it was skipped." in result.output


def test_the_result_never_overwrites_the_input(cli, tmp_path):
    path = write_products(tmp_path / "p.xlsx", [product_row("A")])
    before = path.read_bytes()
    result = cli("load", path, "-o", path)
    assert result.exit_code == 2
    assert "Error: The result would overwrite the input p.xlsx, which pbload never changes." in result.output
    assert path.read_bytes() == before


def test_an_unusable_state_directory_says_what_to_do(cli, tmp_path):
    path = write_products(tmp_path / "p.xlsx", [product_row("A")])
    (tmp_path / "file").write_text("not a folder")
    result = cli("load", path, env={"PBLOAD_STATE_DIR": str(tmp_path / "file")})
    assert result.exit_code == 2
    assert "Choose another folder with --state-dir or PBLOAD_STATE_DIR." in result.output
