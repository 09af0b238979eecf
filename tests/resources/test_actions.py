"""Each resource's actions reach the right API calls and end in the right status, PB ID and stored record."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import openpyxl
import pytest

from loader import pipeline
from loader.emulator import create_app
from loader.emulator.boms import BillsOfMaterials
from loader.emulator.returns import Returns
from loader.emulator.work_orders import WorkOrders
from loader.models import Status
from loader.settings import load_settings
from tests.emulator.helpers import CLIENT_ID, Api, fetch_token, http_client
from tests.helpers import (
    ASN_ROW,
    BOM_ROW,
    ORDER_ROW,
    SHIP_TO,
    RecordingTransport,
    product_row,
    read_statuses,
    write_workbook,
)

ADDRESS, ORDER, ASN, BOM = SHIP_TO, ORDER_ROW, ASN_ROW, BOM_ROW
WORK_ORDER = {
    "Client Work Order ID": "WO-1",
    "Work Order Name": "Kits",
    "Type": "KIT",
    "Kit SKU": "KIT-1",
    "Quantity": 5,
    "Node": "157",
}
RETURN = {"Return Client Order ID": "RET-1", "SKU": "A", "Quantity": 1}
PRODUCTS = {"A": "ITEM", "B": "ITEM", "KIT-1": "KIT"}  # at PB before each test
API = "/shippingservices/fulfillment/v1"


@dataclass(frozen=True)
class Case:
    sheet: str
    row: dict[str, Any]
    key: str
    pb_id: str
    change: dict[str, Any]  # a changed cell
    changed: Callable[[dict[str, Any]], Any]  # where the change shows in PB's record
    before: Any
    after: Any


CASES = [
    Case(
        "Orders",
        ORDER,
        "SO-1",
        "ORD000001",
        {"Quantity": 3},
        lambda r: r["orderItems"][0]["orderedQuantity"],
        1,
        3,
    ),
    Case(
        "ASNs",
        ASN,
        "ASN-1",
        "ASN000001",
        {"Quantity": 12},
        lambda r: r["asnItems"][0]["expectedQuantity"],
        10,
        12,
    ),
    Case(
        "BOMs",
        BOM,
        "KIT-1",
        "BOM-000001",
        {"Description": "Kit v2"},
        lambda r: r["description"],
        "Kit",
        "Kit v2",
    ),
    Case(
        "Work Orders",
        WORK_ORDER,
        "WO-1",
        "WO-000001",
        {"Quantity": 8},
        lambda r: r["workOrderQuantity"],
        5,
        8,
    ),
    Case(
        "Returns",
        RETURN,
        "RET-1",
        "RET-000001",
        {"Quantity": 2},
        lambda r: r["returnItems"][0]["quantity"],
        1,
        2,
    ),
]
IDS = [c.sheet for c in CASES]
KEY_HEADERS = {
    "Orders": "Client Order ID",
    "ASNs": "Client ASN ID",
    "BOMs": "Kit SKU",
    "Work Orders": "Client Work Order ID",
    "Returns": "Return Client Order ID",
}


class Loader:
    """Loads small workbooks into one in-memory emulator and keeps the requests of the last run."""

    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.emulator = create_app(None)
        self.recorder = RecordingTransport(httpx.WSGITransport(app=self.emulator))
        self.state_dir = tmp_path / "state"
        self.settings = load_settings({"state_dir": self.state_dir}, environ={})
        self.runs = 0

    def elsewhere(self):
        """Load from now on with a journal of its own (another computer), into the same PB account."""
        self.state_dir = self.tmp_path / f"state{self.runs}"
        self.settings = load_settings({"state_dir": self.state_dir}, environ={})

    def __call__(self, sheets):
        self.runs += 1
        return self.load_file(write_workbook(self.tmp_path / f"w{self.runs}.xlsx", sheets))

    def load_file(self, path):
        self.recorder.requests.clear()
        report = pipeline.load(path, self.settings, transport=self.recorder)
        self.result = path.with_name(path.stem + ".result.xlsx")
        return report

    def statuses(self, sheet):
        """(Status, PB ID, Error Code, Message) of every row of the last result workbook."""
        return {
            row: (r["Status"], r["PB ID"], r["Error Code"], r["Message"])
            for row, r in read_statuses(self.result, sheet).items()
        }

    def calls(self):
        """(method, path below /v1) of the last run's API requests, product lookups left out."""
        return [
            (r.method, r.url.path.removeprefix(API))
            for r in self.recorder.requests
            if r.url.path.startswith(API) and not r.url.path.endswith("/products/search")
        ]

    def bodies(self, method, path):
        return [
            json.loads(r.content)
            for r in self.recorder.requests
            if r.method == method and r.url.path == API + path
        ]

    def stored(self, sheet):
        """PB's records of a sheet's resource, as the emulator keeps them."""
        if sheet == "Orders":
            return self.emulator.orders()
        if sheet == "ASNs":
            return self.emulator.asns()
        cls = {"BOMs": BillsOfMaterials, "Work Orders": WorkOrders, "Returns": Returns}[sheet]
        return next(r for r in self.emulator.resources if isinstance(r, cls)).all()


@pytest.fixture
def load(tmp_path):
    loader = Loader(tmp_path)
    client = http_client(loader.emulator)
    api = Api(client, fetch_token(client))
    products = [
        {
            "clientId": CLIENT_ID,
            "sku": sku,
            "productType": kind,
            "details": {"description": sku},
            "operation": "CREATE",
        }
        for sku, kind in PRODUCTS.items()
    ]
    assert api.call("POST", "/v1/products/bulk", json={"products": products}).status_code == 200
    return loader


def one(case: Case, **cells) -> dict[str, list[dict[str, Any]]]:
    return {case.sheet: [{**case.row, **cells}]}


# --- CREATE, UPSERT, UPDATE for every resource ---------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_create_then_create_again_fails(load, case):
    assert load(one(case, Action="CREATE")).all_ok
    assert load.statuses(case.sheet) == {2: ("CREATED", case.pb_id, None, None)}

    assert load(one(case, Action="CREATE", **case.change)).counts() == {Status.FAILED: 1}
    assert load.statuses(case.sheet) == {
        2: (
            "FAILED",
            case.pb_id,
            "already-exists",
            f"PB already has {KEY_HEADERS[case.sheet]} {case.key}; use UPDATE or UPSERT to change it.",
        )
    }
    assert len(load.stored(case.sheet)) == 1
    assert case.changed(load.stored(case.sheet)[0]) == case.before


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_same_create_again_is_refused_without_a_write(load, case):
    load(one(case, Action="CREATE"))
    assert load(one(case, Action="CREATE")).counts() == {Status.FAILED: 1}
    assert load.statuses(case.sheet)[2][:3] == ("FAILED", case.pb_id, "already-exists")
    assert [call for call in load.calls() if "search" not in call[1]] == []  # looked up, nothing sent


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_upsert_creates_then_is_unchanged_then_updates(load, case):
    load(one(case))
    assert load.statuses(case.sheet) == {2: ("CREATED", case.pb_id, None, None)}
    [record] = load.stored(case.sheet)
    assert case.changed(record) == case.before

    load.elsewhere()  # no journal to say so: PB's record is compared with the row
    load(one(case, Action="UPSERT"))
    assert load.statuses(case.sheet) == {2: ("UNCHANGED", case.pb_id, None, None)}
    assert [m for m, _ in load.calls()] == ["POST"]  # the lookup only

    assert load(one(case, **case.change)).all_ok
    assert load.statuses(case.sheet) == {2: ("UPDATED", case.pb_id, None, None)}
    [record] = load.stored(case.sheet)
    assert case.changed(record) == case.after


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_update_of_a_missing_item_fails(load, case):
    assert not load(one(case, Action="UPDATE")).all_ok
    assert load.statuses(case.sheet) == {
        2: (
            "FAILED",
            None,
            "not-found",
            f"PB has no {KEY_HEADERS[case.sheet]} {case.key} to update; use CREATE or UPSERT.",
        )
    }
    assert load.stored(case.sheet) == []


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_update_of_an_existing_item(load, case):
    load(one(case))
    load(one(case, Action="UPDATE", **case.change))
    assert load.statuses(case.sheet) == {2: ("UPDATED", case.pb_id, None, None)}
    assert case.changed(load.stored(case.sheet)[0]) == case.after


# --- CANCEL -----------------------------------------------------------------------------------------------


CANCELLABLE = [c for c in CASES if c.sheet in ("Orders", "ASNs", "Work Orders")]


@pytest.mark.parametrize("case", CANCELLABLE, ids=[c.sheet for c in CANCELLABLE])
def test_cancel_then_cancel_again(load, case):
    load(one(case))
    cancel = {case.sheet: [{KEY_HEADERS[case.sheet]: case.key, "Action": "CANCEL"}]}
    first = load(cancel)
    assert first.all_ok
    assert load.statuses(case.sheet) == {2: ("CANCELED", case.pb_id, None, None)}
    assert load.stored(case.sheet)[0]["status"] == "CANCELED"

    assert load(cancel).all_ok
    assert load.statuses(case.sheet) == {2: ("UNCHANGED", case.pb_id, None, "Already cancelled.")}
    assert [p for _, p in load.calls() if "cancel" in p] == []  # only looked up, not cancelled twice


@pytest.mark.parametrize(
    "resource, case",
    [("order", CASES[0]), ("asn", CASES[1]), ("workOrder", CASES[3])],
    ids=["Orders", "ASNs", "Work Orders"],
)
def test_cancel_of_an_item_cancelled_at_pb_is_unchanged(load, resource, case):
    load(one(case))
    load.emulator.advance(resource, case.key, "CANCELED")
    assert load({case.sheet: [{KEY_HEADERS[case.sheet]: case.key, "Action": "CANCEL"}]}).all_ok
    assert load.statuses(case.sheet) == {2: ("UNCHANGED", case.pb_id, None, "Already cancelled.")}


def test_cancel_of_a_missing_item_fails(load):
    assert not load({"Orders": [{"Client Order ID": "SO-404", "Action": "CANCEL"}]}).all_ok
    assert load.statuses("Orders") == {
        2: ("FAILED", None, "not-found", "PB has no Client Order ID SO-404 to cancel.")
    }


def test_orders_are_cancelled_through_bulk_cancel(load):
    load({"Orders": [ORDER, {**ORDER, "Client Order ID": "SO-2"}]})
    load(
        {
            "Orders": [
                {"Client Order ID": "SO-1", "Action": "CANCEL"},
                {"Client Order ID": "SO-2", "Action": "CANCEL"},
            ]
        }
    )
    assert load.calls() == [("POST", "/orders/search"), ("PUT", "/orders/bulk/cancel")]
    [body] = load.bodies("PUT", "/orders/bulk/cancel")
    assert body == {
        "CancelOrdersRequest": [
            {"clientId": load.settings.client_id, "clientOrderId": "SO-1", "orderId": "ORD000001"},
            {"clientId": load.settings.client_id, "clientOrderId": "SO-2", "orderId": "ORD000002"},
        ]
    }
    assert [o["status"] for o in load.emulator.orders()] == ["CANCELED", "CANCELED"]


def test_cancelling_a_shipped_order_fails_with_pbs_message(load):
    load({"Orders": [ORDER]})
    load.emulator.advance("order", "SO-1", "SHIPPED")
    assert not load({"Orders": [{"Client Order ID": "SO-1", "Action": "CANCEL"}]}).all_ok
    assert load.statuses("Orders") == {
        2: (
            "FAILED",
            "ORD000001",
            "EMU-BAD-STATE",
            "Order ORD000001 is SHIPPED; it can be canceled only while CREATED or RELEASED",
        )
    }
    assert load.emulator.orders()[0]["status"] == "SHIPPED"


def test_asn_cancel_is_a_single_call_on_its_pb_id(load):
    load({"ASNs": [ASN]})
    load({"ASNs": [{"Client ASN ID": "ASN-1", "Action": "CANCEL"}]})
    assert load.calls() == [("POST", "/receiving-asn/search"), ("PUT", "/receiving-asn/ASN000001/cancel")]


def test_work_order_cancel_sends_its_reason(load):
    load({"Work Orders": [WORK_ORDER]})
    load(
        {
            "Work Orders": [
                {"Client Work Order ID": "WO-1", "Cancel Reason": "Kits not needed", "Action": "CANCEL"}
            ]
        }
    )
    assert load.calls() == [("POST", "/work-orders/search"), ("PUT", "/work-orders/WO-000001/cancel")]
    assert load.bodies("PUT", "/work-orders/WO-000001/cancel") == [
        {"clientId": load.settings.client_id, "clientWorkOrderId": "WO-1", "cancelReason": "Kits not needed"},
    ]
    assert load.statuses("Work Orders") == {2: ("CANCELED", "WO-000001", None, None)}


# --- which endpoints ---------------------------------------------------------------------------------------


def test_orders_go_in_bulk_chunks_of_at_most_200(load):
    orders = [{**ORDER, "Client Order ID": f"SO-{n:03d}"} for n in range(201)]
    report = load({"Orders": orders})
    assert report.all_ok
    assert sorted(len(b["orders"]) for b in load.bodies("POST", "/orders/bulk")) == [
        1,
        200,
    ]  # chunks go at once
    assert ("POST", "/orders") not in load.calls()
    assert len(load.emulator.orders()) == 201
    statuses = load.statuses("Orders")
    assert {s for s, _, _, _ in statuses.values()} == {"CREATED"}
    assert sorted(pb_id for _, pb_id, _, _ in statuses.values()) == [f"ORD{n:06d}" for n in range(1, 202)]
    assert {o["clientOrderId"]: o["orderId"] for o in load.emulator.orders()} == {
        row["Client Order ID*"]: row["PB ID"] for row in read_statuses(load.result, "Orders").values()
    }


def test_orders_are_updated_through_bulk_too(load):
    load({"Orders": [ORDER]})
    load({"Orders": [{**ORDER, "Quantity": 2}]})
    assert load.calls() == [("POST", "/orders/search"), ("POST", "/orders/bulk")]


def test_asns_are_single_calls(load):
    second = {**ASN, "Client ASN ID": "ASN-2"}
    load({"ASNs": [ASN, second]})
    assert sorted(load.calls()) == [
        ("POST", "/receiving-asn"),
        ("POST", "/receiving-asn"),
        ("POST", "/receiving-asn/search"),
    ]
    pb_id = load.statuses("ASNs")[3][1]  # the two were created at once: either may have the first ID
    assert pb_id in ("ASN000001", "ASN000002")
    load({"ASNs": [ASN, {**second, "Quantity": 11}]})
    assert load.calls() == [("POST", "/receiving-asn/search"), ("PUT", f"/receiving-asn/{pb_id}")]
    assert load.bodies("PUT", f"/receiving-asn/{pb_id}")[0]["asnItems"] == [
        {"lineId": 1, "sku": "A", "expectedQuantity": 11, "estimatedDeliveryDate": "2026-12-01T09:00:00Z"}
    ]


def test_boms_and_work_orders_are_single_calls(load):
    load({"BOMs": [BOM], "Work Orders": [WORK_ORDER]})
    assert load.calls() == [
        ("POST", "/bill-of-materials/search"),
        ("POST", "/bill-of-materials"),
        ("POST", "/work-orders/search"),
        ("POST", "/work-orders"),
    ]
    load({"BOMs": [{**BOM, "Component Quantity": 2}], "Work Orders": [{**WORK_ORDER, "Quantity": 6}]})
    assert load.calls() == [
        ("POST", "/bill-of-materials/search"),
        ("PUT", "/bill-of-materials/BOM-000001"),
        ("POST", "/work-orders/search"),
        ("PUT", "/work-orders/WO-000001"),
    ]


def test_returns_go_in_bulk_with_their_operation(load):
    load({"Returns": [RETURN]})
    load({"Returns": [{**RETURN, "Quantity": 2}, {**RETURN, "Return Client Order ID": "RET-2"}]})
    assert load.calls() == [("POST", "/returns/search"), ("POST", "/returns/bulk")]
    [body] = load.bodies("POST", "/returns/bulk")
    assert [(r["returnClientOrderId"], r["operation"]) for r in body["returns"]] == [
        ("RET-1", "UPDATE"),
        ("RET-2", "CREATE"),
    ]


def test_sheets_load_in_dependency_order_whatever_their_order_in_the_workbook(load, tmp_path):
    path = write_workbook(
        tmp_path / "mixed.xlsx",
        {
            "Products": [product_row("C"), product_row("KIT-2", Product_Type="KIT")],
            "BOMs": [{**BOM, "Kit SKU": "KIT-2", "Component SKU": "C"}],
            "Work Orders": [{**WORK_ORDER, "Kit SKU": "KIT-2"}],
            "ASNs": [{**ASN, "SKU": "C"}],
            "Orders": [{**ORDER, "SKU": "C"}],
            "Returns": [{**RETURN, "SKU": "C"}],
        },
    )
    book = openpyxl.load_workbook(path)
    for sheet in ("Returns", "Orders", "ASNs", "Work Orders", "BOMs", "Products"):
        book.move_sheet(sheet, offset=-book.index(book[sheet]))  # reverse: Products last
    book.save(path)
    assert load.load_file(path).all_ok
    writes = [(m, p) for m, p in load.calls() if not p.endswith("/search")]
    assert writes == [
        ("POST", "/products/bulk"),
        ("POST", "/bill-of-materials"),
        ("POST", "/work-orders"),
        ("POST", "/receiving-asn"),
        ("POST", "/orders/bulk"),
        ("POST", "/returns/bulk"),
    ]


# --- dependencies that failed in this run ------------------------------------------------------------------


def test_an_invalid_product_blocks_everything_that_uses_it(load):
    report = load(
        {
            "Products": [product_row("NEW", Product_Type="BOX"), product_row("KIT-9", Product_Type="KIT")],
            "BOMs": [{**BOM, "Kit SKU": "KIT-9", "Component SKU": "NEW"}],
            "ASNs": [ASN, {"Client ASN ID": "ASN-1", "SKU": "NEW", "Quantity": 1}],
            "Orders": [{**ORDER, "SKU": "NEW"}, {**ORDER, "Client Order ID": "SO-2"}],
            "Returns": [{**RETURN, "SKU": "NEW"}],
        }
    )
    blocked = ("BLOCKED", None, "dependency-failed", "Not sent: product NEW (Products row 2) is INVALID.")
    assert load.statuses("BOMs") == {2: blocked}
    assert load.statuses("ASNs") == {2: blocked, 3: blocked}
    assert load.statuses("Orders") == {2: blocked, 3: ("CREATED", "ORD000001", None, None)}
    assert load.statuses("Returns") == {2: blocked}
    assert load.stored("BOMs") == [] and load.emulator.asns() == [] and load.stored("Returns") == []
    assert [o["clientOrderId"] for o in load.emulator.orders()] == ["SO-2"]
    assert not any(
        p.startswith(("/bill-of-materials", "/receiving-asn", "/returns"))
        for _, p in load.calls()
        if not p.endswith("/search")
    )
    assert not report.all_ok


def test_a_failed_bom_blocks_its_work_order(load):
    # PB refuses the bill: its kit is an ITEM, not a KIT product
    load(
        {
            "Products": [product_row("NOT-A-KIT")],
            "BOMs": [{**BOM, "Kit SKU": "NOT-A-KIT"}],
            "Work Orders": [
                {**WORK_ORDER, "Kit SKU": "NOT-A-KIT"},
                {**WORK_ORDER, "Client Work Order ID": "WO-2"},
            ],
        }
    )
    assert load.statuses("BOMs") == {
        2: ("FAILED", None, "EMU-BAD-STATE", "sku NOT-A-KIT is a product of type ITEM, not KIT")
    }
    assert load.statuses("Work Orders") == {
        2: (
            "BLOCKED",
            None,
            "dependency-failed",
            "Not sent: the bill of materials for NOT-A-KIT (BOMs row 2) is FAILED.",
        ),
        3: ("CREATED", "WO-000001", None, None),
    }
    assert [w["clientWorkOrderId"] for w in load.stored("Work Orders")] == ["WO-2"]


def test_a_blocked_bom_blocks_its_work_order(load):
    load(
        {
            "Products": [product_row("NEW", Product_Type="BOX")],
            "BOMs": [{**BOM, "Component SKU": "NEW"}],
            "Work Orders": [WORK_ORDER],
        }
    )
    assert load.statuses("Work Orders") == {
        2: (
            "BLOCKED",
            None,
            "dependency-failed",
            "Not sent: the bill of materials for KIT-1 (BOMs row 2) is BLOCKED.",
        ),
    }
    assert load.stored("Work Orders") == []


def test_a_product_that_failed_at_pb_blocks_its_orders(load):
    # a product UPDATE of a SKU PB does not have fails at PB, not in the checks
    load({"Products": [product_row("GONE", Action="UPDATE")], "Orders": [{**ORDER, "SKU": "GONE"}]})
    [(status, _, _, _)] = load.statuses("Products").values()
    assert status == "FAILED"
    assert load.statuses("Orders") == {
        2: ("BLOCKED", None, "dependency-failed", "Not sent: product GONE (Products row 2) is FAILED."),
    }
    assert load.emulator.orders() == []
