"""What pbload sends is what PB's pages document (api §21.1, §22), recorded over real HTTP.

Every sample is loaded into a served (strict) emulator while a recording transport keeps each
request. The bodies are then checked against this file's own reading of PB's object pages — written
out here independently of the loader's catalogue and of the emulator — so a name that drifts on
both sides at once is still caught.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from loader import pipeline
from loader.emulator import create_app
from loader.emulator.config import EmulatorConfig
from loader.emulator.server import EmulatorServer
from loader.models import Status
from loader.settings import load_settings
from tests.helpers import SAMPLES, RecordingTransport

REQUIRED = "!"  # a key ending in ! is required in its object
SCALARS: list[Any] = []  # an array of strings or numbers

ADDRESS = {
    "name": 1,
    "company": 1,
    "addressLines": SCALARS,
    "cityTown": 1,
    "stateProvince": 1,
    "postalCode": 1,
    "countryCode": 1,
    "phone": 1,
    "email": 1,
}  # §22.3
PRODUCT = {
    "clientId!": 1,
    "sku!": 1,
    "productType!": 1,
    "fulfillmentRegion": 1,
    "createDate": 1,
    "updateDate": 1,
    "active": 1,
    "vendorDetails": {"name!": 1, "number!": 1},
    "details!": {  # §22.4, §22.5 and BET-3 … BET-7
        "description!": 1,
        "brand": 1,
        "category": 1,
        "manufacturer": 1,
        "originCountryCode": 1,
        "originStateProvince": 1,
        "identifiers": [{"number": 1, "source": 1}],
        "hsClassification": [{"hsTariffCode": 1, "countryCode": 1}],
        "hazmatClassification": [{"dotHazmatCode": 1, "unHazmatCode": 1, "hazmatDescription": 1}],
        "dimensions": {"length!": 1, "height!": 1, "width!": 1, "dimensionUOM!": 1},
        "weight": {"value!": 1, "unitOfMeasurement!": 1},
        "unitCost": 1,
    },
}
ORDER = {
    "clientId!": 1,
    "clientOrderId!": 1,
    "customerOrderId": 1,
    "brand": 1,
    "references": [{"name": 1, "values": 1}],
    "orderType": 1,
    "createDate!": 1,
    "updateDate": 1,
    "shipOnDate": 1,
    "fulfillmentReleaseDate": 1,
    "fromNode": 1,
    "inputShippingDetails!": {"carrier!": 1, "serviceId!": 1},  # §22.1: no address in it
    "shipToAddress!": ADDRESS,  # BET-1
    "orderItems!": [
        {
            "lineId": 1,
            "sku!": 1,
            "orderedQuantity!": 1,
            "unitPrice": 1,
            "lineTotal": 1,  # §22.2
            "originCountryCode": 1,
            "originStateProvince": 1,
            "hSTariffCode": 1,
            "hSTariffCodeCountry": 1,
            "inventoryType": 1,
        }
    ],
}
ASN = {
    "clientId!": 1,
    "brand": 1,
    "inboundType": 1,
    "clientASNId!": 1,
    "purchaseOrderNumber": 1,
    "receivingNode!": 1,
    "vendorDetails": {"name!": 1, "code!": 1},
    "shippingDetails": {"carrier!": 1, "serviceId": 1, "trackingNumber": 1},
    "asnItems!": [
        {
            "lineId": 1,
            "purchaseOrderNumberLineId": 1,
            "sku!": 1,
            "expectedQuantity!": 1,  # §22.6
            "unitOfMeasurement": 1,
            "estimatedDeliveryDate": 1,
            "costDetails": {"retailPrice": 1, "wholeSalePrice": 1, "unitCost": 1, "currency": 1},
        }
    ],
}
BOM = {
    "clientId!": 1,
    "brand": 1,
    "description!": 1,
    "node": 1,
    "active": 1,
    "createDate": 1,
    "updateDate": 1,
    "sku!": 1,
    "notes": SCALARS,
    "billOfMaterialDetails!": [{"childSku!": 1, "quantity!": 1}],
}
WORK_ORDER = {
    "clientId!": 1,
    "clientWorkOrderId!": 1,
    "workOrderName!": 1,
    "description": 1,
    "type!": 1,
    "node!": 1,
    "createDate": 1,
    "updateDate": 1,
    "sku!": 1,
    "brand": 1,
    "workOrderQuantity!": 1,
}
RETURN = {
    "operation": 1,
    "clientId!": 1,
    "brand": 1,
    "orderId": 1,
    "returnClientOrderId!": 1,
    "originalClientOrderId": 1,
    "rmaNumber": 1,
    "createDate": 1,
    "updateDate": 1,
    "returnType": 1,
    "inputShippingDetails": {"carrier!": 1, "serviceId!": 1},
    "customerAddress": ADDRESS,  # §22.8, §22.3, BET-10
    "returnItems!": [
        {
            "orderLineId": 1,
            "itemDetail!": {"sku!": 1, "unitPrice": 1, "description": 1},  # §22.7
            "lineTotal": 1,
            "returnReason": SCALARS,
            "quantity!": 1,
        }
    ],
}
SEARCH = {"clientId!": 1, "sort": SCALARS, "searchFields": [{"name!": 1, "values": SCALARS}]}
BODIES = {  # (method, path pattern) -> the body's shape
    ("POST", r"/v1/products/bulk"): {"products!": [{**PRODUCT, "operation!": 1}]},
    ("POST", r"/v1/orders/bulk"): {"orders!": [ORDER]},
    ("POST", r"/v1/returns/bulk"): {"returns!": [RETURN]},
    ("POST", r"/v1/receiving-asn"): ASN,
    ("PUT", r"/v1/receiving-asn/[^/]+"): ASN,
    ("POST", r"/v1/bill-of-materials"): BOM,
    ("PUT", r"/v1/bill-of-materials/[^/]+"): BOM,
    ("POST", r"/v1/work-orders"): WORK_ORDER,
    ("PUT", r"/v1/work-orders/[^/]+"): WORK_ORDER,
    ("POST", r"/v1/[a-z-]+/search"): SEARCH,
}
SAMPLE_ORDER = ("products", "boms", "work-orders", "asns", "orders", "returns")


def problems(value: Any, shape: Any, path: str = "") -> Iterator[str]:
    """Each field of `value` that `shape` does not name, and each required field it lacks."""
    if isinstance(shape, list):
        if not isinstance(value, list):
            yield f"{path}: not an array"
            return
        for n, item in enumerate(value):
            yield from problems(item, shape[0] if shape else 1, f"{path}[{n}]")
    elif isinstance(shape, dict):
        if not isinstance(value, dict):
            yield f"{path}: not an object"
            return
        names = {key.rstrip(REQUIRED): key for key in shape}
        for key in value:
            if key not in names:
                yield f"{path}.{key}: not a documented field".lstrip(".")
            else:
                yield from problems(value[key], shape[names[key]], f"{path}.{key}".lstrip("."))
        for name, key in names.items():
            if key.endswith(REQUIRED) and name not in value:
                yield f"{path}.{name}: required, missing".lstrip(".")
    elif isinstance(value, (dict, list)):
        yield f"{path}: an object or array where PB takes a value"


def shape_of(request: httpx.Request) -> Any:
    path = request.url.path.removeprefix("/shippingservices/fulfillment")
    for (method, pattern), shape in BODIES.items():
        if request.method == method and re.fullmatch(pattern, path):
            return shape
    raise AssertionError(f"an operation this test does not know: {request.method} {path}")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """Every sample loaded into one served emulator, all-in-one first: (requests, statuses by file)."""
    tmp = tmp_path_factory.mktemp("contract")
    config = EmulatorConfig()
    environ = {
        "PB_CLIENT_ID": config.client_id,
        "PB_API_KEY": config.api_key,
        "PB_API_SECRET": config.api_secret,
    }
    emulator = create_app(config=config)
    recorder = RecordingTransport(httpx.HTTPTransport())
    statuses: dict[str, list[Status]] = {}
    names = ["all-in-one", *SAMPLE_ORDER, *(f"{n}-with-errors" for n in SAMPLE_ORDER)]
    with EmulatorServer(emulator) as server:
        settings = load_settings(
            {"env": "sandbox", "base_url": server.url, "state_dir": tmp / "state"}, environ
        )
        for name in names:
            report = pipeline.load(
                SAMPLES / f"{name}.xlsx", settings, tmp / f"{name}.result.xlsx", transport=recorder
            )
            statuses[name] = [o.status for sheet in report.sheets for o in sheet.outcomes.values()]
    emulator.close()
    return recorder.requests, statuses


def test_every_sample_loads_with_no_refusal(recorded):
    _, statuses = recorded
    for name, seen in statuses.items():
        assert Status.FAILED not in seen and Status.NOT_SENT not in seen, name
        assert Status.INVALID not in seen or name.endswith("-with-errors"), name
    assert statuses["all-in-one"] == [Status.CREATED] * 55  # every sheet, and the sheets refer to each other
    for name in SAMPLE_ORDER:  # the same items one sheet at a time: PB holds them exactly as sent
        assert set(statuses[name]) == {Status.UNCHANGED}, name


def test_every_body_sent_uses_only_documented_names_and_has_every_required_one(recorded):
    requests, _ = recorded
    writes = [r for r in requests if r.method in ("POST", "PUT") and r.url.path != "/oauth/token"]
    assert {r.url.path.rsplit("/v1/", 1)[1].split("/")[0] for r in writes} >= {
        "products",
        "orders",
        "returns",
        "receiving-asn",
        "bill-of-materials",
        "work-orders",
    }
    found = {
        f"{r.method} {r.url.path}: {p}" for r in writes for p in problems(json.loads(r.content), shape_of(r))
    }
    assert found == set()


def test_dimensions_go_longest_side_first(recorded):
    requests, _ = recorded
    sent = [
        item["details"]["dimensions"]
        for r in requests
        if r.url.path.endswith("/v1/products/bulk")
        for item in json.loads(r.content)["products"]
        if "dimensions" in item["details"]
    ]
    assert (
        len(sent) == 25
    )  # each product with dimensions, sent once: 24 of the valid sample's, 1 of the mistakes'
    assert all(d["length"] >= d["height"] >= d["width"] for d in sent)
    assert {
        "length": 10,
        "height": 8,
        "width": 1,
        "dimensionUOM": "IN",
    } in sent  # typed 1, 8, 10 in the sample


def test_the_checker_catches_an_undocumented_and_a_missing_field():
    order = {
        "clientId": "c",
        "clientOrderId": "SO-1",
        "createDate": "2026-11-20T09:00:00Z",
        "inputShippingDetails": {"carrier": "USPS", "serviceId": "PM", "shipToAddress": {}},
        "orderItems": [{"lineNumber": 1, "sku": "A", "quantity": 1}],
    }
    assert sorted(problems(order, ORDER)) == [
        "inputShippingDetails.shipToAddress: not a documented field",
        "orderItems[0].lineNumber: not a documented field",
        "orderItems[0].orderedQuantity: required, missing",
        "orderItems[0].quantity: not a documented field",
        "shipToAddress: required, missing",
    ]
