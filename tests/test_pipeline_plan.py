"""`pbload plan`: the look-ups of a load and nothing else, and what each row would change."""

from __future__ import annotations

import httpx

from loader import pipeline
from loader.emulator import EmulatorConfig, create_app
from loader.emulator.server import EmulatorServer
from loader.models import Status
from loader.settings import load_settings
from tests.helpers import RecordingTransport, product_row, read_statuses, write_products, write_workbook
from tests.resources.test_merge import _full, _order_rows, _sparse

FIRST_LINE = "Environment local: the built-in emulator of the Fulfillment API"


def _only_reads(requests: list[httpx.Request]) -> None:
    """Every request was the token or a search: nothing was written."""
    paths = [(r.method, r.url.path.rsplit("/", 1)[-1]) for r in requests]
    assert paths and set(paths) <= {("POST", "token"), ("POST", "search")}, paths


def test_plan_names_the_changes_and_writes_nothing(cli, tmp_path, local_emulator):
    full = write_products(tmp_path / "full.xlsx", [_full("A"), _full("B")])
    assert cli("load", full).exit_code == 0
    before = {p["sku"]: p for p in local_emulator().products()}
    path = write_products(
        tmp_path / "p.xlsx",
        [_sparse("A", Weight=0.45, Weight_Unit="LB", Brand="CLEAR"), _sparse("B"), _sparse("C")],
    )
    result = cli("plan", path)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(FIRST_LINE)
    assert lines[1:] == [
        "Products: 3 rows — 1 unchanged, 1 would create, 1 would update",
        "Products: 1 row would change Brand",
        "Products: 1 row would change Weight",
        f"Result: {tmp_path / 'p.result.xlsx'}",
    ]
    statuses = read_statuses(tmp_path / "p.result.xlsx")
    assert [(r["Status"], r["Changes"]) for r in statuses.values()] == [
        ("WOULD UPDATE", "Brand: Alfama → —; Weight: 0.4 → 0.45"),
        ("UNCHANGED", None),
        ("WOULD CREATE", None),
    ]
    assert {p["sku"]: p for p in local_emulator().products()} == before


def test_plan_exits_1_with_a_problem(cli, tmp_path):
    path = write_products(tmp_path / "p.xlsx", [product_row("A"), product_row("B", Product_Type="BOX")])
    result = cli("plan", path)
    assert result.exit_code == 1
    assert "Products: 2 rows — 1 invalid, 1 would create" in result.output.splitlines()


def test_plan_sends_only_the_token_and_searches(tmp_path, state_dir):
    emulator = create_app(None)
    recorder = RecordingTransport(httpx.WSGITransport(app=emulator))
    settings = load_settings({"state_dir": state_dir}, environ={})
    products = [_full(f"S{n:03d}") for n in range(210)] + [product_row(s) for s in ("P1", "P2", "P3", "P4")]
    first = write_workbook(
        tmp_path / "o.xlsx", {"Products": products, "Orders": _order_rows([(1, "P1", 1), (2, "P2", 1)])}
    )
    assert pipeline.load(first, settings, transport=recorder).all_ok
    again = write_workbook(
        tmp_path / "o2.xlsx",
        {
            "Products": [_sparse(f"S{n:03d}", Unit_Cost=20) for n in range(210)],
            "Orders": _order_rows([(1, "P1", 2), (3, "P3", 1)]),
        },
    )
    recorder.requests.clear()
    report = pipeline.plan(again, settings, transport=recorder)
    _only_reads(recorder.requests)
    assert report.all_ok
    products_sheet, orders_sheet = report.sheets
    assert products_sheet.counts() == {Status.WOULD_UPDATE: 210}
    changes = {c.column: (c.old, c.new) for c in products_sheet.outcomes[2].changes}
    assert changes == {"Unit Cost": (18.5, 20)}
    order = orders_sheet.outcomes[2]
    assert order.status is Status.WOULD_UPDATE
    assert [(c.column, c.line, c.what, c.old, c.new) for c in order.changes] == [
        ("Quantity", 1, "changed", 1, 2),
        ("Line ID", 3, "added", None, 3),
        ("Line ID", 2, "removed", 2, None),
    ]


def test_plan_over_a_served_emulator(tmp_path):
    config = EmulatorConfig()
    environ = {
        "PB_CLIENT_ID": config.client_id,
        "PB_API_KEY": config.api_key,
        "PB_API_SECRET": config.api_secret,
    }
    recorder = RecordingTransport(httpx.HTTPTransport())
    with EmulatorServer(create_app(config=config)) as server:
        settings = load_settings(
            {"env": "sandbox", "base_url": server.url, "state_dir": tmp_path / "state"}, environ
        )
        full = write_products(tmp_path / "full.xlsx", [_full("A")])
        assert pipeline.load(full, settings, transport=recorder).all_ok
        recorder.requests.clear()
        path = write_products(tmp_path / "p.xlsx", [_sparse("A", Category="Tops")])
        report = pipeline.plan(path, settings, tmp_path / "plan.xlsx", transport=recorder)
        _only_reads(recorder.requests)
        assert [(c.column, c.old, c.new) for c in report.sheets[0].outcomes[2].changes] == [
            ("Category", "Knitwear", "Tops")
        ]
        loaded = pipeline.load(path, settings, transport=recorder)
        assert loaded.sheets[0].outcomes[2].changes == report.sheets[0].outcomes[2].changes
