"""`pbload doctor`: the write guard, the judging, and whole runs against a fake PB and the served emulator.

The fake PB (`FakePB`, a WSGI app) answers either under the contract's names or under OTHER names, as a
real account might; it runs in-process behind `httpx.WSGITransport` or on loopback behind wsgiref. The
served emulator is `pbload emulator serve` in a subprocess, seeded with raw JSON in the contract's shapes
(api/fulfillment-api.md §21.1).
"""

from __future__ import annotations

import copy
import itertools
import json
import socket
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
import pytest

from loader import doctor
from loader.bets import (
    ASN_LINES,
    BOM_COMPONENT_QUANTITY,
    BOM_COMPONENT_SKU,
    DIMENSION_UNITS,
    DIMENSIONS,
    ORDER_LINES,
    RETURN_ADDRESS,
    RETURN_LINES,
    RETURN_SHIPPING,
    SHIP_TO_ADDRESS,
    UNIT_COST,
    UPC_SOURCE,
    WEIGHT,
    WEIGHT_UNIT,
    WEIGHT_VALUE,
    WORK_ORDER_QUANTITY,
)
from loader.doctor import CONFIRMED, CONTRADICTED, NOT_SEEN, WriteRefused
from loader.settings import Settings
from tests.faultsuite import CLIENT, ServedEmulator

FULFILLMENT = "/shippingservices/fulfillment"
CREDS = {"PB_CLIENT_ID": "fake-client", "PB_API_KEY": "fake-key-7f3a", "PB_API_SECRET": "fake-secret-9c1e"}
FAKE_TOKEN = "fake-access-token-never-printed"
PROBE_KEY = doctor.PROBE_PREFIX + "000000000001"
NOW = 1_800_000_000.0  # this machine's clock in the in-process runs
ADDRESS = {
    "name": "Maria Silva",
    "addressLines": ["27 Waterview Drive"],
    "cityTown": "Shelton",
    "stateProvince": "CT",
    "postalCode": "06484",
    "countryCode": "US",
}
PATHS = {
    "products": "/v1/products/search",
    "orders": "/v1/orders/search",
    "asns": "/v1/receiving-asn/search",
    "boms": "/v1/bill-of-materials/search",
    "work-orders": "/v1/work-orders/search",
    "returns": "/v1/returns/search",
}
ALL_BETS = range(1, 15)


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """An object from dotted paths, so bodies can use the bets' paths (`details.dimensions`) as they are."""
    out: dict[str, Any] = {}
    for path, value in flat.items():
        *parents, last = path.split(".")
        node = out
        for name in parents:
            node = node.setdefault(name, {})
        node[last] = value
    return out


def contract_bodies(client_id: str) -> dict[str, list[dict[str, Any]]]:
    """One create body per resource (two products: an item and its kit), in the contract's shapes."""

    def product(sku: str, product_type: str) -> dict[str, Any]:
        return nest(
            {
                "clientId": client_id,
                "sku": sku,
                "productType": product_type,
                "details.description": f"Doctor {sku}",
                "details.identifiers": [{"source": UPC_SOURCE, "number": "012345678905"}],
                DIMENSIONS: {"length": 10.5, "height": 5, "width": 2, "dimensionUOM": DIMENSION_UNITS[0]},
                WEIGHT: {WEIGHT_VALUE: 1.25, WEIGHT_UNIT: "LB"},
                UNIT_COST: 4.5,
            }
        )

    shipping = {"carrier": "USPS", "serviceId": "PM"}
    return {
        "products": [product("DR-ITEM-1", "ITEM"), product("DR-KIT-1", "KIT")],
        "orders": [
            {
                "clientId": client_id,
                "clientOrderId": "DR-ORDER-1",
                "createDate": "2026-01-05T10:00:00Z",
                "inputShippingDetails": shipping,
                SHIP_TO_ADDRESS: ADDRESS,
                ORDER_LINES: [{"lineId": 1, "sku": "DR-ITEM-1", "orderedQuantity": 2}],
            }
        ],
        "asns": [
            {
                "clientId": client_id,
                "inboundType": "ASN",
                "clientASNId": "DR-ASN-1",
                "receivingNode": "157",
                ASN_LINES: [{"lineId": 1, "sku": "DR-ITEM-1", "expectedQuantity": 10}],
            }
        ],
        "boms": [
            {
                "clientId": client_id,
                "sku": "DR-KIT-1",
                "description": "Doctor kit",
                "billOfMaterialDetails": [{BOM_COMPONENT_SKU: "DR-ITEM-1", BOM_COMPONENT_QUANTITY: 2}],
            }
        ],
        "work-orders": [
            {
                "clientId": client_id,
                "clientWorkOrderId": "DR-WO-1",
                "workOrderName": "Doctor kits",
                "type": "KIT",
                "node": "157",
                "sku": "DR-KIT-1",
                WORK_ORDER_QUANTITY: 3,
            }
        ],
        "returns": [
            {
                "clientId": client_id,
                "returnClientOrderId": "DR-RET-1",
                "originalClientOrderId": "DR-ORDER-1",
                RETURN_LINES: [
                    {
                        "orderLineId": 1,
                        "itemDetail": {"sku": "DR-ITEM-1"},
                        "quantity": 1,
                        "returnReason": ["DAMAGED"],
                    }
                ],
                RETURN_SHIPPING: shipping,
                RETURN_ADDRESS: ADDRESS,
            }
        ],
    }


PB_IDS = {
    "orders": "orderId",
    "asns": "receivingASNId",
    "boms": "billOfMaterialId",
    "work-orders": "workOrderId",
    "returns": "returnOrderId",
}


def contract_records(client_id: str) -> dict[str, list[dict[str, Any]]]:
    """What a PB that follows the contract would store for `contract_bodies`: the bodies plus PB's IDs."""
    records = contract_bodies(client_id)
    for resource, id_field in PB_IDS.items():
        for n, record in enumerate(records[resource], 1):
            record[id_field] = f"PB-{resource}-{n}"
    return records


def other_records(client_id: str) -> dict[str, list[dict[str, Any]]]:
    """Records under OTHER names than the contract's, as a real account might answer."""
    return {
        "products": [
            {
                "clientId": client_id,
                "sku": "FK-1",
                "productType": "ITEM",
                "details": {
                    "description": "Fake",
                    "identifiers": [{"source": "UPC-A", "number": "0123"}],
                    "size": {"length": 10, "height": 5, "width": 2, "unit": "INCH"},
                    "weight": {"value": 1.5, "unit": "LB"},
                    "cost": 4.25,
                },
            }
        ],
        "orders": [
            {
                "clientId": client_id,
                "clientOrderId": "FK-O-1",
                "orderId": "O-9",
                "shippingAddress": ADDRESS,
                "lines": [{"sku": "FK-1", "orderedQuantity": 1}],
            },
            {"clientId": client_id, "clientOrderId": "FK-O-2", "orderId": "O-10"},
        ],
        "asns": [
            {
                "clientId": client_id,
                "clientASNId": "FK-A-1",
                "receivingASNId": "A-9",
                "items": [{"sku": "FK-1", "expectedQuantity": 3}],
            }
        ],
        "boms": [
            {
                "clientId": client_id,
                "sku": "FK-KIT",
                "billOfMaterialDetails": [{"componentSku": "FK-1", "qty": 2}],
            }
        ],
        "work-orders": [
            {
                "clientId": client_id,
                "clientWorkOrderId": "FK-W-1",
                "workOrderId": "W-9",
                "workOrderName": "Fake kits",
                "quantityToBuild": 3,
            }
        ],
        "returns": [
            {
                "clientId": client_id,
                "returnClientOrderId": "FK-R-1",
                "returnOrderId": "R-9",
                "returnLines": [{"itemDetail": {"sku": "FK-1"}, "quantity": 1}],
                "shippingDetails": {"carrier": "UPS", "serviceId": "GND"},
                "returnAddress": ADDRESS,
            }
        ],
    }


class FakePB:
    """A WSGI stand-in for PB that answers doctor's calls from fixed records, in a chosen dialect.

    `array` names the search answers' record array; search names in `refuse` are answered 400, those in
    `ignore` are skipped (every record matches); `lookup` maps a search name to the record field it
    matches (by default the name itself). The first call to each path in `throttle_first` is answered
    429 with PB's spike-arrest code. Every request is kept in `requests`.
    """

    def __init__(
        self,
        records: Mapping[str, list[dict[str, Any]]],
        *,
        array: str = "content",
        refuse: frozenset[str] = frozenset(),
        ignore: frozenset[str] = frozenset(),
        lookup: Mapping[str, str] | None = None,
        bulk_item: Callable[[dict], dict] | None = None,
        not_found: Any = None,
        token: Mapping[str, Any] | None = None,
        throttle_first: frozenset[str] = frozenset(),
        date: str | None = None,
    ) -> None:
        self.records = {PATHS[name]: copy.deepcopy(list(rs)) for name, rs in records.items()}
        self.array, self.refuse, self.ignore = array, refuse, ignore
        self.lookup = dict(lookup or {"returnOrders": "returnClientOrderId"})
        self.bulk_item = bulk_item or (
            lambda item: {
                "clientId": item["clientId"],
                "sku": item["sku"],
                "errors": [{"errorCode": "FAKE-REQUIRED", "errorDescription": "details is required"}],
            }
        )
        self.not_found = (
            not_found
            if not_found is not None
            else {"errors": [{"errorCode": "FAKE-NOT-FOUND", "errorDescription": "No such product"}]}
        )
        self.token = dict(
            token
            or {
                "access_token": FAKE_TOKEN,
                "tokenType": "BearerToken",
                "expiresIn": "3599",
                "issuedAt": str(int(NOW * 1000)),
                "clientID": CREDS["PB_API_KEY"],
                "org": "o",
            }
        )
        self.throttle_first, self.date = throttle_first, date
        self.requests: list[tuple[str, str, Any]] = []
        self._throttled: set[str] = set()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        status, body, headers = self.answer(environ["REQUEST_METHOD"], environ["PATH_INFO"], raw)
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Content-Length": str(len(data)), **headers}
        if self.date:
            headers["Date"] = self.date
        start_response(f"{status} Fake", list(headers.items()))
        return [data]

    def answer(self, method: str, path: str, raw: bytes) -> tuple[int, Any, dict[str, str]]:
        body = json.loads(raw) if raw and path != "/oauth/token" else None
        self.requests.append((method, path, body))
        if path == "/oauth/token":
            return 200, self.token, {}
        path = path.removeprefix(FULFILLMENT)
        if path in self.throttle_first and path not in self._throttled:
            self._throttled.add(path)
            return (
                429,
                {"errorCode": doctor.THROTTLE_CODE, "errorDescription": "Spike arrest violation"},
                {"Retry-After": "0"},
            )
        if method == "POST" and path in self.records:
            return self.search(path, body)
        if method == "GET" and path.startswith("/v1/products/"):
            return 404, self.not_found, {}
        if method == "POST" and path == "/v1/products/bulk":
            return 200, {"products": [self.bulk_item(item) for item in body["products"]]}, {}
        return 405, {"errors": [{"errorCode": "FAKE-METHOD", "errorDescription": f"{method} {path}"}]}, {}

    def search(self, path: str, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        found = self.records[path]
        for given in body.get("searchFields") or []:
            name = given["name"]
            if name in self.refuse:
                return (
                    400,
                    {
                        "errors": [
                            {
                                "errorCode": "FAKE-BAD-NAME",
                                "errorDescription": f"searchFields name {name} is not supported",
                            }
                        ]
                    },
                    {},
                )
            if name not in self.ignore:
                found = [r for r in found if r.get(self.lookup.get(name, name)) in given["values"]]
        return (
            200,
            {
                self.array: found[:1],
                "totalElements": len(found),
                "totalPages": 1,
                "first": True,
                "last": True,
                "size": 1,
            },
            {},
        )


def other_pb() -> FakePB:
    """A PB whose every answer uses other names than the contract's."""
    return FakePB(
        other_records(CREDS["PB_CLIENT_ID"]),
        array="results",
        refuse=frozenset({"clientASNId"}),
        ignore=frozenset({"clientOrderId"}),
        lookup={"returnOrders": "returnOrderId"},
        bulk_item=lambda item: {
            "clientId": item["clientId"],
            "sku": item["sku"],
            "status": "UNPUBLISHED",
            "errorMessages": ["details is required"],
        },
        not_found={"errorCode": "PB-FAKE-404", "errorDescription": "Not found"},
        token={"access_token": FAKE_TOKEN, "expiresIn": "3599", "issuedAt": str(int((NOW + 2.5) * 1000))},
        throttle_first=frozenset({"/v1/orders/search"}),
    )


def settings(tmp_path: Path, base_url: str = "http://fake-pb.test") -> Settings:
    return Settings(
        env="sandbox",
        base_url=base_url,
        client_id=CREDS["PB_CLIENT_ID"],
        api_key=CREDS["PB_API_KEY"],
        api_secret=CREDS["PB_API_SECRET"],
        state_dir=tmp_path,
    )


class Ticks:
    """A clock that moves 10 ms each time it is read: every call then takes exactly 10 ms."""

    def __init__(self) -> None:
        self._ticks = itertools.count()

    def __call__(self) -> float:
        return next(self._ticks) * 0.010


def run_in_process(fake: FakePB, tmp_path: Path, sleeps: list[float] | None = None) -> doctor.DoctorReport:
    """Doctor against `fake` in-process, with this machine's clock fixed at NOW."""
    waits = sleeps if sleeps is not None else []
    return doctor.run_doctor(
        settings(tmp_path),
        httpx.WSGITransport(app=fake),
        probe_key=PROBE_KEY,
        clock=Ticks(),
        wall=lambda: NOW,
        sleep=waits.append,
    )


def outcomes(report: doctor.DoctorReport) -> dict[int, str]:
    return {v.bet.number: v.outcome for v in report.verdicts}


def evidence(report: doctor.DoctorReport, number: int) -> str:
    return next(v.evidence for v in report.verdicts if v.bet.number == number)


# (d) The write guard ---------------------------------------------------------------------------


WRITES = [
    ("POST", "/v1/products", {"clientId": "c", "sku": "S", "productType": "ITEM", "details": {}}),
    ("POST", "/v1/orders", {"clientId": "c"}),
    ("POST", "/v1/orders/bulk", {"orders": []}),
    ("PUT", "/v1/products/S", {"clientId": "c"}),
    ("PUT", "/v1/orders/O-1/cancel", None),
    ("PUT", "/v1/orders/bulk/cancel", {"CancelOrdersRequest": []}),
    ("POST", "/v1/returns/bulk", {"returns": []}),
    ("DELETE", "/v1/products/S", None),
    ("POST", "/v1/inventory/snapshot/../../products", {"clientId": "c"}),
    # the bulk path only with exactly the refused-update probe
    ("POST", "/v1/products/bulk", doctor.refused_update_probe("c", "REAL-SKU")),
    (
        "POST",
        "/v1/products/bulk",
        {"products": [{**doctor.refused_update_probe("c", PROBE_KEY)["products"][0], "operation": "CREATE"}]},
    ),
    (
        "POST",
        "/v1/products/bulk",
        {
            "products": [
                {
                    **doctor.refused_update_probe("c", PROBE_KEY)["products"][0],
                    "details": {"description": "x"},
                }
            ]
        },
    ),
    ("POST", "/v1/products/bulk", {"products": doctor.refused_update_probe("c", PROBE_KEY)["products"] * 2}),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=[f"{m} {p}" for m, p, _ in WRITES])
def test_the_guard_refuses_every_write(method, path, body):
    with pytest.raises(WriteRefused, match="read-only calls only"):
        doctor.check_read_only(method, path, body)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/oauth/token", None),
        ("GET", "/v1/products/ANY", None),
        ("POST", "/v1/receiving-asn/search", {"clientId": "c"}),
        ("POST", "/v1/bill-of-materials/search", {"clientId": "c"}),
        ("POST", "/v1/products/bulk", doctor.refused_update_probe("c", PROBE_KEY)),
    ],
)
def test_the_guard_lets_reads_and_the_refused_update_through(method, path, body):
    doctor.check_read_only(method, path, body)


def test_the_call_function_refuses_a_create_before_anything_is_sent(tmp_path):
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(201, json={}))
    with doctor.Prober(settings(tmp_path), transport) as prober:
        with pytest.raises(WriteRefused):
            prober.call("POST", "/v1/orders", {"clientId": CREDS["PB_CLIENT_ID"], "clientOrderId": "X"})
        with pytest.raises(WriteRefused):
            prober.call("PUT", "/v1/work-orders/W-1/cancel", {"clientId": CREDS["PB_CLIENT_ID"]})
    assert sent == []


def test_doctor_sends_nothing_but_reads_and_the_refused_update(tmp_path):
    fake = other_pb()
    run_in_process(fake, tmp_path)
    writes = [
        (m, p, b)
        for m, p, b in fake.requests
        if not (p == "/oauth/token" or m == "GET" or p.endswith("/search"))
    ]
    assert writes == [
        (
            "POST",
            f"{FULFILLMENT}/v1/products/bulk",
            doctor.refused_update_probe(CREDS["PB_CLIENT_ID"], PROBE_KEY),
        )
    ]
    assert "details" not in writes[0][2]["products"][0]


# (a) A PB that answers under other names -------------------------------------------------------


def test_other_names_contradict_every_bet_and_name_what_pb_used(tmp_path):
    sleeps: list[float] = []
    report = run_in_process(other_pb(), tmp_path, sleeps)
    assert outcomes(report) == {n: CONTRADICTED for n in ALL_BETS}
    assert report.exit_code == 1
    assert evidence(report, 1) == f"order ship-to address in `shippingAddress`, not `{SHIP_TO_ADDRESS}`"
    assert evidence(report, 2) == (
        f"order lines in `lines`, not `{ORDER_LINES}`; ASN lines in `items`, not "
        f"`{ASN_LINES}`; return lines in `returnLines`, not `{RETURN_LINES}`"
    )
    assert evidence(report, 3) == f"the product's UPC has source `UPC-A`, not `{UPC_SOURCE}`"
    assert evidence(report, 4) == f"product dimensions in `details.size`, not `{DIMENSIONS}`"
    assert (
        evidence(report, 5) == f"product weight in `{WEIGHT}` holds {{value, unit}}, not "
        f"{{{WEIGHT_VALUE}, {WEIGHT_UNIT}}}"
    )
    assert evidence(report, 6) == f"product cost in `details.cost`, not `{UNIT_COST}`"
    assert evidence(report, 7) == "the product's dimensions are in `INCH` (in `unit`), not `IN` or `CM`"
    assert evidence(report, 8) == (
        f"BOM components hold {{componentSku, qty}}, not {{{BOM_COMPONENT_SKU}, {BOM_COMPONENT_QUANTITY}}}"
    )
    assert evidence(report, 9) == f"the work order has `quantityToBuild`, not `{WORK_ORDER_QUANTITY}`"
    assert evidence(report, 10) == (
        f"return shipping details in `shippingDetails`, not `{RETURN_SHIPPING}`; "
        f"return address in `returnAddress`, not `{RETURN_ADDRESS}`"
    )
    assert evidence(report, 11) == "the refused item's result holds `errorMessages`, not `errors`"
    assert (
        evidence(report, 12) == "records in `results` (product, order, ASN, BOM, work order, return search)"
    )
    assert evidence(report, 13) == (
        "product FK-1 found again by `sku`; PB seems to ignore `clientOrderId`: a search for a key that cannot "
        "exist returned records; PB refused the search name `clientASNId` (HTTP 400, FAKE-BAD-NAME: searchFields "
        "name clientASNId is not supported); work order FK-W-1 found again by `clientWorkOrderId`"
    )
    assert (
        evidence(report, 14) == "`returnOrders` found the return by PB's `returnOrderId`, not by its "
        "`returnClientOrderId`"
    )
    assert sleeps == [0.0]  # the throttled search was asked again after its Retry-After


def test_the_facts_beside_the_bets(tmp_path):
    lines = doctor.format_report(run_in_process(other_pb(), tmp_path))
    facts = lines[lines.index("") + 1 :]
    assert facts == [
        "Error body: bare gateway {errorCode, errorDescription} (GET of a SKU that cannot exist: HTTP 404); "
        'also seen: standard {"errors": [...]}',
        "Token answer fields: access_token, expiresIn, issuedAt (missing: tokenType, clientID, org)",
        "Clock skew: +2.5 s (PB's clock minus this machine's, from the token's issuedAt)",
        "Latency: median 10 ms, max 10 ms over 19 calls",
        "Throttling: 1 answer throttled (429 or PB-APIM-ERR-1006) on POST /v1/orders/search; doctor waited and "
        "asked again",
        "",
        "0 confirmed, 14 contradicted, 0 not seen. Each contradicted bet is a one-line change in loader/bets.py "
        "(and loader/emulator/bets.py).",
    ]


def test_a_bet_line_says_verdict_choice_and_evidence(tmp_path):
    lines = doctor.format_report(run_in_process(other_pb(), tmp_path))
    assert lines[0] == (
        f"BET-1   contradicted  order ship-to address in a top-level `{SHIP_TO_ADDRESS}` — "
        f"order ship-to address in `shippingAddress`, not `{SHIP_TO_ADDRESS}`"
    )
    assert lines[8] == (
        f"BET-9   contradicted  work order `{WORK_ORDER_QUANTITY}` — "
        f"the work order has `quantityToBuild`, not `{WORK_ORDER_QUANTITY}`"
    )


def test_no_token_or_secret_is_kept(tmp_path):
    fake = FakePB(contract_records(CREDS["PB_CLIENT_ID"]))  # its token answer echoes the API key as clientID
    sent: list[httpx.Request] = []
    inner = httpx.WSGITransport(app=fake)

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return inner.handle_request(request)

    with doctor.Prober(settings(tmp_path), httpx.MockTransport(record)) as prober:
        found = doctor.collect(prober, PROBE_KEY)
    assert found.token.body["access_token"] == doctor.HIDDEN
    kept = repr(found) + "\n".join(doctor.format_report(doctor.report_of(found)))
    for secret in (FAKE_TOKEN, CREDS["PB_API_KEY"], CREDS["PB_API_SECRET"]):
        assert secret not in kept
    assert {r.headers["Authorization"] for r in sent[1:]} == {
        f"Bearer {FAKE_TOKEN}"
    }  # it was used, not shown


@contextmanager
def on_loopback(app: Callable[..., Any]) -> Iterator[str]:
    """Serve a WSGI app on a free loopback port; yield its root URL."""

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_cli_against_other_names_exits_1_and_never_prints_a_secret(cli):
    with on_loopback(other_pb()) as url:
        result = cli("doctor", "--env", "sandbox", "--base-url", url, env=CREDS)
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"Environment sandbox: {url} as client {CREDS['PB_CLIENT_ID']}. Read-only calls only."
    assert lines[1].startswith("BET-1   contradicted  ") and "`shippingAddress`" in lines[1]
    assert sum(line.split()[1] == CONTRADICTED for line in lines if line.startswith("BET-")) == 14
    for secret in (FAKE_TOKEN, CREDS["PB_API_KEY"], CREDS["PB_API_SECRET"]):
        assert secret not in result.output


# (c) Our names, and an empty account -----------------------------------------------------------


def test_a_pb_that_follows_the_contract_confirms_every_bet(tmp_path):
    report = run_in_process(FakePB(contract_records(CREDS["PB_CLIENT_ID"])), tmp_path)
    assert outcomes(report) == {n: CONFIRMED for n in ALL_BETS}, doctor.format_report(report)
    assert report.exit_code == 0
    assert evidence(report, 14) == "return DR-RET-1 found again by `returnOrders` = its `returnClientOrderId`"


def test_an_empty_account_leaves_the_record_bets_not_seen(tmp_path):
    report = run_in_process(FakePB({name: [] for name in PATHS}), tmp_path)
    # The bulk probe and the (empty) search arrays still show their shapes; every other bet needs a record.
    assert outcomes(report) == {**{n: NOT_SEEN for n in ALL_BETS}, 11: CONFIRMED, 12: CONFIRMED}
    assert report.exit_code == 0
    assert evidence(report, 1) == "no order came back"
    assert (
        evidence(report, 3) == "no product came back (PB's product search sees only products created in the "
        "last six months)"
    )
    assert evidence(report, 2) == "no order came back; no ASN came back; no return came back"


# Judging, case by case -------------------------------------------------------------------------


def sample(record: dict[str, Any] | None, noun: str = "order") -> doctor.Sample:
    return doctor.Sample(noun, record, "" if record else f"no {noun} came back")


def test_an_address_inside_the_shipping_details_contradicts_bet_1():
    order = {
        "inputShippingDetails": {"carrier": "USPS", "serviceId": "PM", "shipToAddress": ADDRESS},
        "billToAddress": ADDRESS,
    }
    found = doctor.holder(sample(order), SHIP_TO_ADDRESS, doctor.ADDRESS, "ship-to address", prefer="ship")
    assert found == doctor.Finding(
        CONTRADICTED,
        f"order ship-to address in `inputShippingDetails.shipToAddress`, not `{SHIP_TO_ADDRESS}`",
    )


def test_an_order_without_an_address_leaves_bet_1_not_seen():
    found = doctor.holder(sample({"clientOrderId": "X"}), SHIP_TO_ADDRESS, doctor.ADDRESS, "ship-to address")
    assert found == doctor.Finding(NOT_SEEN, "no ship-to address in the order")


def answer(status: int, body: Any, path: str = "/v1/orders/search") -> doctor.Answer:
    return doctor.Answer("POST", path, status, body, 0.01)


def test_a_bulk_probe_refused_whole_is_not_seen():
    found = doctor.bulk_result(answer(400, {"errors": [{"errorCode": "X-400"}]}), PROBE_KEY)
    assert found == doctor.Finding(
        NOT_SEEN, "PB refused the whole bulk probe (HTTP 400 (X-400)), so no per-item result came back"
    )


def test_a_bulk_probe_accepted_without_errors_is_contradicted():
    found = doctor.bulk_result(
        answer(200, {"products": [{"sku": PROBE_KEY, "status": "PUBLISHED"}]}), PROBE_KEY
    )
    assert found.outcome == CONTRADICTED
    assert f"look for product {PROBE_KEY} at PB" in found.evidence


def test_search_records_in_a_bare_array_contradict_bet_12():
    found = doctor.search_records({"orders": answer(200, [{"clientOrderId": "X"}])})
    assert found == doctor.Finding(CONTRADICTED, "records in `a bare array` (order search)")


def test_an_empty_content_array_still_confirms_bet_12():
    found = doctor.search_records({"orders": answer(200, {"content": [], "totalElements": 0})})
    assert found.outcome == CONFIRMED


@pytest.mark.parametrize(
    ("work_order", "outcome", "text"),
    [
        ({"workOrderId": "W", "workOrderName": "n", "workOrderQty": 2}, CONTRADICTED, "`workOrderQty`"),
        ({"workOrderId": "W", "workOrderName": "n", "workOrderLines": []}, CONTRADICTED, "`workOrderLines`"),
        ({"workOrderId": "W", "workOrderName": "n"}, NOT_SEEN, "no quantity in the work order"),
    ],
)
def test_work_order_quantity_under_other_names(work_order, outcome, text):
    found = doctor.work_order_quantity(sample(work_order, "work order"))
    assert found.outcome == outcome and text in found.evidence


def test_the_error_body_shapes():
    assert doctor.error_shape({"errors": []}) == 'standard {"errors": [...]}'
    assert (
        doctor.error_shape({"errorCode": "PB-APIM-ERR-1002", "errorDescription": "x"})
        == "bare gateway {errorCode, errorDescription}"
    )
    assert doctor.error_shape([{"key": "k", "message": "m"}]) == "legacy array [{errorCode or key, message}]"
    assert doctor.error_shape({"fault": "x"}) == "other: {fault}"


def test_clock_skew_from_the_date_header_when_there_is_no_issued_at():
    date = "Fri, 15 Jan 2027 08:00:00 GMT"
    pb_time = parsedate_to_datetime(date).timestamp()
    token = doctor.Answer(
        "POST", "/oauth/token", 200, {"access_token": doctor.HIDDEN}, 0.01, local_time=pb_time - 3, date=date
    )
    assert doctor.clock_skew(token) == (3.0, "the Date header, to the second")


# (b) The served emulator, seeded in the contract's shapes ---------------------------------------


SEED_PATHS = {
    "products": "/v1/products",
    "orders": "/v1/orders",
    "asns": "/v1/receiving-asn",
    "boms": "/v1/bill-of-materials",
    "work-orders": "/v1/work-orders",
    "returns": "/v1/returns",
}


def seed(emulator: ServedEmulator) -> None:
    """Create one of each resource (two products) by posting raw JSON bodies to the served emulator."""
    token = emulator._token()
    for resource, bodies in contract_bodies(CLIENT["PB_CLIENT_ID"]).items():
        for body in bodies:
            response = emulator.http.post(
                FULFILLMENT + SEED_PATHS[resource],
                json=body,
                headers={"Authorization": f"Bearer {token}", "X-PB-TransactionId": uuid.uuid4().hex[:24]},
            )
            assert response.status_code in (200, 201), f"{resource}: {response.status_code} {response.text}"


def product_count(emulator: ServedEmulator) -> int:
    response = emulator.http.post(
        FULFILLMENT + "/v1/products/search",
        json={"clientId": CLIENT["PB_CLIENT_ID"]},
        headers={"Authorization": f"Bearer {emulator._token()}", "X-PB-TransactionId": uuid.uuid4().hex[:24]},
    )
    response.raise_for_status()
    return int(response.json()["totalElements"])


def test_against_the_served_emulator_every_bet_is_confirmed(cli):
    with ServedEmulator() as emulator:
        empty = cli("doctor", "--env", "sandbox", "--base-url", emulator.url, env=CLIENT)
        seed(emulator)
        seeded = cli("doctor", "--env", "sandbox", "--base-url", emulator.url, env=CLIENT)
        products_after = product_count(emulator)
    assert empty.exit_code == 0, empty.output
    assert verdict_words(empty.output) == {**{n: NOT_SEEN for n in ALL_BETS}, 11: CONFIRMED, 12: CONFIRMED}
    assert seeded.exit_code == 0, seeded.output
    assert verdict_words(seeded.output) == {n: CONFIRMED for n in ALL_BETS}, seeded.output
    assert "14 confirmed, 0 contradicted, 0 not seen." in seeded.output
    assert products_after == 2  # doctor's refused update created nothing


def verdict_words(output: str) -> dict[int, str]:
    """BET number -> verdict, from doctor's printed lines."""
    verdicts = {}
    for line in output.splitlines():
        if line.startswith("BET-"):
            name, rest = line.split(maxsplit=1)
            verdicts[int(name[4:])] = NOT_SEEN if rest.startswith(NOT_SEEN) else rest.split()[0]
    return verdicts


# When doctor cannot run ------------------------------------------------------------------------


def test_no_credentials_is_exit_2_with_what_to_do(cli):
    result = cli("doctor")
    assert result.exit_code == 2
    assert "no credentials are set. Set PB_CLIENT_ID, PB_API_KEY and PB_API_SECRET" in result.output
    assert "Traceback" not in result.output


def test_sandbox_without_credentials_is_exit_2(cli):
    result = cli("doctor", "--env", "sandbox")
    assert result.exit_code == 2
    assert "needs credentials" in result.output


def test_an_unreachable_api_is_exit_2_with_what_to_do(cli):
    with socket.socket() as sock:  # a port nobody listens on once this socket is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = cli("doctor", "--env", "sandbox", "--base-url", f"http://127.0.0.1:{port}", env=CREDS)
    assert result.exit_code == 2
    assert f"No answer from http://127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output


def test_refused_credentials_are_exit_2(cli):
    def refuse(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("401 Unauthorized", [("Content-Type", "application/json")])
        return [b'{"errorCode": "PB-APIM-ERR-1002", "errorDescription": "Invalid Access Token"}']

    with on_loopback(refuse) as url:
        result = cli("doctor", "--env", "sandbox", "--base-url", url, env=CREDS)
    assert result.exit_code == 2
    assert "PB refused the credentials (HTTP 401" in result.output
    assert CREDS["PB_API_SECRET"] not in result.output
