"""`validate` makes the read-only look-ups of a load: it finds SKUs PB does not have, UPDATE and CANCEL
of items PB does not have, CREATE of items it has; `offline` skips them and says so; a PB that cannot
be reached is said, and the rows are still checked. And the run's progress, phase by phase, in rows."""

from __future__ import annotations

import httpx

from loader import pipeline
from loader.emulator import create_app
from loader.settings import load_settings
from tests.helpers import RecordingTransport, product_row, read_statuses, write_products, write_workbook
from tests.resources.test_merge import _order_rows

ROWS = 230  # past a chunk of 200 and a page of search results


def _settings(state_dir, **more):
    return load_settings({"state_dir": state_dir, **more}, environ={})


def _loaded(tmp_path, state_dir, skus):
    """An emulator holding the products `skus`, and a transport to it that records every request."""
    emulator = create_app(None)
    transport = RecordingTransport(httpx.WSGITransport(app=emulator))
    first = write_products(tmp_path / "first.xlsx", [product_row(s) for s in skus])
    assert pipeline.load(first, _settings(state_dir), transport=transport).all_ok
    transport.requests.clear()
    return emulator, transport


def test_validate_finds_what_only_pb_can_say_past_a_chunk(tmp_path, state_dir):
    have = [f"H-{n:03d}" for n in range(ROWS)]
    emulator, transport = _loaded(tmp_path, state_dir, have)
    rows = [product_row(s, Action="UPDATE") for s in have]  # all known: valid
    rows[215] = product_row("MISSING-1", Action="UPDATE")  # row 217
    rows[220] = product_row("H-220", Action="CREATE")  # row 222: PB has it
    path = write_products(tmp_path / "p.xlsx", rows)

    report = pipeline.validate(path, _settings(state_dir), transport=transport)

    statuses = read_statuses(tmp_path / "p.result.xlsx")
    assert len(statuses) == ROWS
    assert (statuses[217]["Status"], statuses[217]["Error Code"]) == ("INVALID", "not-found")
    assert (statuses[222]["Status"], statuses[222]["Error Code"]) == ("INVALID", "already-exists")
    assert sum(s["Status"] == "VALID" for s in statuses.values()) == ROWS - 2
    assert report.notes == []
    paths = {(r.method, r.url.path.rsplit("/", 1)[-1]) for r in transport.requests}
    assert paths <= {("POST", "token"), ("POST", "search")}, paths  # looked up, nothing written


def test_validate_finds_unknown_skus_of_order_lines(tmp_path, state_dir):
    emulator, transport = _loaded(tmp_path, state_dir, ["KNOWN"])
    orders = [row for n in range(12) for row in _order_rows([(1, "KNOWN" if n != 7 else "TYPO", 1)])]
    for n, row in enumerate(orders):
        row["Client Order ID"] = f"SO-{n}"
    orders.append({"Client Order ID": "SO-GONE", "Action": "CANCEL"})  # row 14: PB has no such order
    path = write_workbook(tmp_path / "o.xlsx", {"Orders": orders})

    pipeline.validate(path, _settings(state_dir), transport=transport)

    statuses = read_statuses(tmp_path / "o.result.xlsx", "Orders")
    bad = {r: (s["Status"], s["Error Code"]) for r, s in statuses.items() if s["Status"] != "VALID"}
    assert bad == {9: ("INVALID", "unknown-sku"), 14: ("INVALID", "not-found")}


def test_offline_skips_the_look_ups_and_says_so(tmp_path, state_dir):
    emulator, transport = _loaded(tmp_path, state_dir, ["A"])
    path = write_products(tmp_path / "p.xlsx", [product_row("A", Action="CREATE")])

    report = pipeline.validate(path, _settings(state_dir), transport=transport, offline=True)

    assert transport.requests == []
    assert read_statuses(tmp_path / "p.result.xlsx")[2]["Status"] == "VALID"
    assert report.notes == [pipeline.OFFLINE_NOTE]


def test_a_pb_that_cannot_be_reached_is_said_and_the_rows_are_still_checked(tmp_path, state_dir):
    dead = httpx.MockTransport(
        lambda request: (_ for _ in ()).throw(httpx.ConnectError("refused", request=request))
    )
    path = write_products(tmp_path / "p.xlsx", [product_row("A"), product_row("B", Product_Type="BOX")])
    settings = _settings(state_dir, max_attempts=1)

    report = pipeline.validate(path, settings, transport=dead)

    assert [s.value for s in report.counts()] == ["INVALID", "VALID"]
    assert len(report.notes) == 1 and report.notes[0].endswith(
        "So pbload checked the rows without looking them up: " + pipeline.LOOKUPS_SKIPPED
    )


def test_a_load_that_sent_nothing_leaves_the_earlier_result_as_it_was(tmp_path, state_dir):
    emulator = create_app(None)
    path = write_products(tmp_path / "p.xlsx", [product_row("A")])
    assert pipeline.load(path, _settings(state_dir), transport=httpx.WSGITransport(app=emulator)).all_ok
    result = tmp_path / "p.result.xlsx"
    before = result.read_bytes()
    dead = httpx.MockTransport(
        lambda request: (_ for _ in ()).throw(httpx.ConnectError("refused", request=request))
    )
    try:
        pipeline.load(path, _settings(state_dir, max_attempts=1), transport=dead)
    except pipeline.ApiError as exc:
        message = str(exc)
    else:
        raise AssertionError("the load should have stopped")
    assert message.endswith(
        f"Nothing was sent, so the result workbook {result} of an earlier run is left as it was."
    )
    assert result.read_bytes() == before
    assert read_statuses(result)[2]["Status"] == "CREATED"


def test_progress_goes_phase_by_phase_in_rows(tmp_path, state_dir):
    calls = []
    path = write_products(
        tmp_path / "p.xlsx",
        [product_row(f"P-{n}") for n in range(ROWS)] + [product_row("BAD", Product_Type="BOX")],
    )
    pipeline.load(
        path,
        _settings(state_dir),
        transport=httpx.WSGITransport(app=create_app(None)),
        progress=lambda *call: calls.append(call),
    )
    phases = list(dict.fromkeys(c[0] for c in calls))
    assert phases == [
        "Reading p.xlsx",
        "Checking Products",
        "Looking up Products",
        "Sending Products",
        "Writing p.result.xlsx",
    ]
    ends = {phase: [c for c in calls if c[0] == phase][-1] for phase in phases}
    assert ends["Reading p.xlsx"] == ("Reading p.xlsx", ROWS + 1, ROWS + 1, 0)
    assert ends["Checking Products"] == ("Checking Products", ROWS + 1, ROWS + 1, 1)
    assert ends["Sending Products"] == ("Sending Products", ROWS, ROWS, 0)
    sends = [c[1] for c in calls if c[0] == "Sending Products"]
    assert sends[0] == 0 and sends == sorted(sends) and len(sends) >= 3  # at least two bulk calls said
