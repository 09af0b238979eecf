"""`--payloads FILE.jsonl`: every body pbload sends (or, from validate, would send), one line per item."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from tests.helpers import SHIP_TO, product_row, write_products, write_workbook

ORDER = {"Order Date": datetime(2026, 11, 20, 9, 0), "Carrier": "USPS", "Service": "PRIORITY", **SHIP_TO}


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_validate_writes_each_valid_item_with_its_sheet_and_rows(cli, tmp_path):
    rows = [product_row(f"P-{n:03d}", Length=1, Height=5, Width=3, Dimension_Unit="CM") for n in range(250)]
    rows[7]["Product Type"] = "BOX"  # invalid: not written
    book = write_products(tmp_path / "p.xlsx", rows)
    result = cli("validate", book, "--payloads", tmp_path / "p.jsonl")
    assert result.exit_code == 1, result.output
    written = lines(tmp_path / "p.jsonl")
    assert len(written) == 249 and "P-007" not in {w["key"] for w in written}
    first = written[0]
    assert (first["sheet"], first["rows"], first["key"], first["operation"]) == (
        "Products",
        [2],
        "P-000",
        None,
    )
    assert first["body"] == {
        "clientId": "pbload-local",
        "sku": "P-000",
        "productType": "ITEM",
        "details": {
            "description": "Product P-000",
            "dimensions": {"length": 5, "height": 3, "width": 1, "dimensionUOM": "CM"},
        },
    }


def test_load_writes_the_bodies_as_sent_and_nothing_for_what_is_not_sent(cli, tmp_path):
    products = [product_row(f"P-{n:03d}") for n in range(401)]  # three bulk calls
    orders = [
        {"Client Order ID": "SO-1", **ORDER, "SKU": "P-000", "Quantity": 2},
        {"Client Order ID": "SO-1", "SKU": "P-400", "Quantity": 1},
    ]
    book = write_workbook(tmp_path / "w.xlsx", {"Products": products, "Orders": orders})
    log = tmp_path / "sent.jsonl"
    assert cli("load", book, "--payloads", log).exit_code == 0
    written = lines(log)
    assert [w["operation"] for w in written] == ["POST /v1/products/bulk"] * 401 + ["POST /v1/orders/bulk"]
    assert {w["body"]["operation"] for w in written[:401]} == {"CREATE"}  # the bulk item's own field
    order = written[-1]
    assert (order["sheet"], order["rows"], order["key"]) == ("Orders", [2, 3], "SO-1")
    assert [
        (line["lineId"], line["sku"], line["orderedQuantity"]) for line in order["body"]["orderItems"]
    ] == [(1, "P-000", 2), (2, "P-400", 1)]

    assert cli("load", book, "--payloads", log).exit_code == 0  # everything unchanged: nothing sent
    assert lines(log) == []


def test_an_update_and_a_cancel_are_written_with_their_operation(cli, tmp_path, local_emulator):
    asn = {"Client ASN ID": "ASN-1", "Receiving Node": "157", "SKU": "A", "Quantity": 10}
    book = write_workbook(tmp_path / "w.xlsx", {"Products": [product_row("A")], "ASNs": [asn]})
    assert cli("load", book).exit_code == 0
    [record] = local_emulator().asns()
    changed = write_workbook(tmp_path / "c.xlsx", {"ASNs": [{**asn, "Quantity": 12}]})
    assert cli("load", changed, "--payloads", tmp_path / "u.jsonl").exit_code == 0
    [update] = lines(tmp_path / "u.jsonl")
    assert update["operation"] == "PUT /v1/receiving-asn/{id}"
    assert update["body"]["asnItems"] == [{"lineId": 1, "sku": "A", "expectedQuantity": 12}]
    cancel = write_workbook(tmp_path / "x.xlsx", {"ASNs": [{"Client ASN ID": "ASN-1", "Action": "CANCEL"}]})
    assert cli("load", cancel, "--payloads", tmp_path / "x.jsonl").exit_code == 0
    assert lines(tmp_path / "x.jsonl") == [
        {
            "sheet": "ASNs",
            "rows": [2],
            "key": "ASN-1",
            "operation": "PUT /v1/receiving-asn/{id}/cancel",
            "body": {},
        }
    ]
    assert record["receivingASNId"]


def test_no_credential_reaches_the_file(cli, tmp_path):
    book = write_products(tmp_path / "p.xlsx", [product_row("A")])
    secret = "s3cr3t-value-for-the-test"
    env = {"PB_CLIENT_ID": "pbload-local", "PB_API_KEY": "local-key", "PB_API_SECRET": secret}
    cli("validate", book, "--payloads", tmp_path / "p.jsonl", env=env)
    text = (tmp_path / "p.jsonl").read_text(encoding="utf-8")
    assert secret not in text and "local-key" not in text and '"sku": "A"' in text


def test_a_payloads_path_that_is_a_workbook_is_refused(cli, tmp_path):
    book = write_products(tmp_path / "p.xlsx", [product_row("A")])
    before = book.read_bytes()
    result = cli("validate", book, "--payloads", book)
    assert result.exit_code == 2
    assert (
        result.output == f"Error: --payloads {book} would overwrite a workbook. Give it a .jsonl file name.\n"
    )
    assert book.read_bytes() == before
