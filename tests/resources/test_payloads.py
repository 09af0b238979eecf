"""Orders, ASNs, BOMs, work orders and returns become API objects of the reference's shape (§9–§15, §21.1)."""

from __future__ import annotations

from datetime import datetime

from loader.checks import check_sheet
from loader.plan import plan_sheet
from loader.resources import BY_NAME
from loader.workbook.reader import read_workbook
from tests.helpers import SHIP_TO, write_workbook

ADDRESS = SHIP_TO


def items_for(tmp_path, sheet, *rows):
    """The items planned from a one-sheet workbook (rows as dicts by header); every row must be valid."""
    checked = check_sheet(read_workbook(write_workbook(tmp_path / "w.xlsx", {sheet: rows})).sheets[0])
    assert [(i.row, i.column, i.code) for i in checked.issues if i.is_error] == []
    return plan_sheet(checked, checked.invalid_rows()).items


ORDER = {"Carrier": "USPS", "Service": "PRIORITY", **ADDRESS}


def test_order_payload_with_address_lines_references_and_lines(tmp_path):
    first = {
        "Client Order ID": "SO-1",
        "Customer Order ID": "W-1",
        "Order Type": "Retail",
        "Order Date": datetime(2026, 11, 20, 9, 15, 30),
        "Ship On Date": datetime(2026, 11, 22, 17, 0),
        "Release Date": datetime(2026, 11, 21, 8, 0),
        "From Node": "157",
        "Brand": "Casa Alma",
        **ORDER,
        "Ship-To Company": "Harbor Books",
        "Ship-To Address Line 2": "Suite 3",
        "Ship-To Phone": "203-555-0147",
        "Ship-To Email": "maria@example.com",
        "Reference Name": "store",
        "Reference Value": "Hebron outlet",
        "Line ID": 1,
        "SKU": "00123-BLU-M",
        "Quantity": 2,
        "Unit Price": 39.5,
        "Line Total": 79,
        "Origin Country": "PT",
        "HS Tariff Code": "6110110000",
        "HS Tariff Country": "US",
        "Inventory Type": "GOOD",
    }
    second = {"Client Order ID": "SO-1", "Line ID": 2, "SKU": "MUG-1", "Quantity": 1, "Unit Price": 14}
    [item] = items_for(tmp_path, "Orders", first, second)
    assert (item.key, item.rows, item.action.value) == ("SO-1", (2, 3), "UPSERT")
    assert item.payload == {
        "clientOrderId": "SO-1",
        "customerOrderId": "W-1",
        "orderType": "Retail",
        "createDate": "2026-11-20T09:15:30Z",
        "shipOnDate": "2026-11-22T17:00:00Z",
        "fulfillmentReleaseDate": "2026-11-21T08:00:00Z",
        "fromNode": "157",
        "brand": "Casa Alma",
        "inputShippingDetails": {"carrier": "USPS", "serviceId": "PRIORITY"},  # PB's object holds no address
        "shipToAddress": {
            "name": "Maria Silva",
            "company": "Harbor Books",
            "addressLines": ["27 Waterview Drive", "Suite 3"],
            "cityTown": "Shelton",
            "stateProvince": "CT",
            "postalCode": "06484",
            "countryCode": "US",
            "phone": "203-555-0147",
            "email": "maria@example.com",
        },
        "references": [{"name": "store", "values": "Hebron outlet"}],
        "orderItems": [
            {
                "lineId": 1,
                "sku": "00123-BLU-M",
                "orderedQuantity": 2,
                "unitPrice": 39.5,
                "lineTotal": 79,
                "originCountryCode": "PT",
                "hSTariffCode": "6110110000",
                "hSTariffCodeCountry": "US",
                "inventoryType": "GOOD",
            },
            {"lineId": 2, "sku": "MUG-1", "orderedQuantity": 1, "unitPrice": 14},
        ],
    }


def test_an_address_line_left_blank_leaves_no_gap(tmp_path):
    row = {
        "Client Order ID": "SO-9",
        "Order Date": datetime(2026, 11, 20),
        **ORDER,
        "Ship-To Address Line 3": "Building C",
        "SKU": "A",
        "Quantity": 1,
    }
    [item] = items_for(tmp_path, "Orders", row)
    assert item.payload["shipToAddress"]["addressLines"] == ["27 Waterview Drive", "Building C"]


def test_order_header_values_come_from_the_first_row(tmp_path):
    first = {
        "Client Order ID": "SO-2",
        "Order Date": datetime(2026, 11, 20, 9, 0),
        **ORDER,
        "SKU": "A",
        "Quantity": 1,
    }
    repeated = {**first, "SKU": "B", "Quantity": 2}  # header repeated exactly
    blank = {"Client Order ID": "SO-2", "SKU": "C", "Quantity": 3}  # header inherited
    [item] = items_for(tmp_path, "Orders", first, repeated, blank)
    assert item.payload["shipToAddress"]["addressLines"] == ["27 Waterview Drive"]
    assert item.payload["createDate"] == "2026-11-20T09:00:00Z"
    lines = item.payload["orderItems"]
    assert [(line["sku"], line["orderedQuantity"]) for line in lines] == [("A", 1), ("B", 2), ("C", 3)]


def test_blank_line_numbers_are_numbered_in_order(tmp_path):
    first = {
        "Client Order ID": "SO-3",
        "Order Date": datetime(2026, 11, 20),
        **ORDER,
        "SKU": "A",
        "Quantity": 1,
    }
    rows = [
        first,
        {"Client Order ID": "SO-3", "SKU": "B", "Quantity": 1},
        {"Client Order ID": "SO-3", "SKU": "C", "Quantity": 1},
    ]
    [item] = items_for(tmp_path, "Orders", *rows)
    assert [(line["lineId"], line["sku"]) for line in item.payload["orderItems"]] == [
        (1, "A"),
        (2, "B"),
        (3, "C"),
    ]


def test_blank_line_numbers_follow_the_given_ones(tmp_path):
    first = {
        "Client Order ID": "SO-4",
        "Order Date": datetime(2026, 11, 20),
        **ORDER,
        "Line ID": 5,
        "SKU": "A",
        "Quantity": 1,
    }
    [item] = items_for(tmp_path, "Orders", first, {"Client Order ID": "SO-4", "SKU": "B", "Quantity": 1})
    assert [line["lineId"] for line in item.payload["orderItems"]] == [5, 6]


def test_each_order_is_one_item(tmp_path):
    one = {
        "Client Order ID": "SO-5",
        "Order Date": datetime(2026, 11, 20),
        **ORDER,
        "SKU": "A",
        "Quantity": 1,
    }
    two = {**one, "Client Order ID": "SO-6"}
    items = items_for(tmp_path, "Orders", one, two, {"Client Order ID": "SO-5", "SKU": "B", "Quantity": 1})
    assert [(i.key, i.rows) for i in items] == [("SO-5", (2, 4)), ("SO-6", (3,))]


def test_asn_payload(tmp_path):
    first = {
        "Client ASN ID": "ASN-1",
        "Inbound Type": "PO",
        "Purchase Order Number": "PO-7781",
        "Receiving Node": "157",
        "Brand": "Casa Alma",
        "Vendor Name": "Lisbon Knitwear Lda",
        "Vendor Code": "V-0042",
        "Carrier": "UPS",
        "Carrier Service": "GROUND",
        "Tracking Number": "1Z999AA10123456784",
        "Line ID": 1,
        "PO Line ID": 10,
        "SKU": "00123-BLU-S",
        "Quantity": 120,
        "Unit of Measure": "CARTON",
        "Estimated Delivery Date": datetime(2026, 12, 1, 9, 0),
        "Retail Price": 59,
        "Wholesale Price": 30.5,
        "Unit Cost": 18.5,
        "Currency": "US",
    }
    second = {"Client ASN ID": "ASN-1", "SKU": "00123-BLU-M", "Quantity": 180}
    [item] = items_for(tmp_path, "ASNs", first, second)
    assert (item.key, item.rows) == ("ASN-1", (2, 3))
    assert item.payload == {
        "clientASNId": "ASN-1",
        "inboundType": "PO",
        "purchaseOrderNumber": "PO-7781",
        "receivingNode": "157",
        "brand": "Casa Alma",
        "vendorDetails": {"name": "Lisbon Knitwear Lda", "code": "V-0042"},
        "shippingDetails": {"carrier": "UPS", "serviceId": "GROUND", "trackingNumber": "1Z999AA10123456784"},
        "asnItems": [
            {
                "lineId": 1,
                "purchaseOrderNumberLineId": 10,
                "sku": "00123-BLU-S",
                "expectedQuantity": 120,
                "unitOfMeasurement": "CARTON",
                "estimatedDeliveryDate": "2026-12-01T09:00:00Z",
                "costDetails": {
                    "retailPrice": 59,
                    "wholeSalePrice": 30.5,
                    "unitCost": 18.5,
                    "currency": "US",
                },
            },
            {"lineId": 2, "sku": "00123-BLU-M", "expectedQuantity": 180},
        ],
    }


def test_a_blank_inbound_type_is_sent_as_asn(tmp_path):
    row = {"Client ASN ID": "ASN-2", "Receiving Node": "157", "SKU": "A", "Quantity": 1}
    [item] = items_for(tmp_path, "ASNs", row)
    assert item.payload["inboundType"] == "ASN"


def test_bom_payload(tmp_path):
    first = {
        "Kit SKU": "KIT-BRKFST-2",
        "Description": "Breakfast set for two",
        "Node": "157",
        "Brand": "Casa Alma",
        "Active": True,
        "Notes": "Wrap mugs in tissue",
        "Component SKU": "MUG-STN-12OZ",
        "Component Quantity": 2,
    }
    second = {"Kit SKU": "KIT-BRKFST-2", "Component SKU": "BWL-STN-6IN", "Component Quantity": 2}
    [item] = items_for(tmp_path, "BOMs", first, second)
    assert (item.key, item.rows) == ("KIT-BRKFST-2", (2, 3))
    assert item.payload == {
        "sku": "KIT-BRKFST-2",
        "description": "Breakfast set for two",
        "node": "157",
        "brand": "Casa Alma",
        "active": True,
        "notes": ["Wrap mugs in tissue"],
        "billOfMaterialDetails": [
            {"childSku": "MUG-STN-12OZ", "quantity": 2},
            {"childSku": "BWL-STN-6IN", "quantity": 2},
        ],
    }


def test_work_order_payload(tmp_path):
    row = {
        "Client Work Order ID": "WO-2026-031",
        "Work Order Name": "December breakfast sets",
        "Type": "KIT",
        "Kit SKU": "KIT-BRKFST-2",
        "Quantity": 40,
        "Node": "157",
        "Description": "For the catalogue",
        "Brand": "Casa Alma",
        "Cancel Reason": "not yet",
    }
    [item] = items_for(tmp_path, "Work Orders", row)
    assert item.payload == {
        "clientWorkOrderId": "WO-2026-031",
        "workOrderName": "December breakfast sets",
        "type": "KIT",
        "sku": "KIT-BRKFST-2",
        "workOrderQuantity": 40,
        "node": "157",
        "description": "For the catalogue",
        "brand": "Casa Alma",
    }
    assert item.extra == {"cancelreason": "not yet"}  # a steering column left blank is not kept


def test_each_work_order_row_is_one_item(tmp_path):
    row = {
        "Client Work Order ID": "WO-1",
        "Work Order Name": "n",
        "Type": "KIT",
        "Kit SKU": "K",
        "Quantity": 1,
        "Node": "157",
    }
    items = items_for(
        tmp_path, "Work Orders", row, {**row, "Client Work Order ID": "WO-2", "Action": "CREATE"}
    )
    assert [(i.key, i.rows, i.action.value) for i in items] == [
        ("WO-1", (2,), "UPSERT"),
        ("WO-2", (3,), "CREATE"),
    ]


def test_return_payload(tmp_path):
    first = {
        "Return Client Order ID": "RET-1",
        "RMA Number": "RMA-0093",
        "Return Type": "REFUSED",
        "Original Client Order ID": "SO-100233",
        "Original PB Order ID": "ORD000003",
        "Brand": "Casa Alma",
        "Return Date": datetime(2026, 11, 25, 17, 0),
        "Carrier": "USPS",
        "Service ID": "GROUND",
        "Customer Name": "Maria Silva",
        "Customer Address Line 1": "27 Waterview Drive",
        "Customer City": "Shelton",
        "Customer Postal Code": "06484",
        "Customer Country": "PT",
        "Original Order Line": 3,
        "SKU": "SCRF-WOOL-RUST",
        "Item Description": "Wool scarf",
        "Unit Price": 29,
        "Quantity": 1,
        "Line Total": 29,
        "Return Reason": "Changed mind;  Too small ;",
    }
    second = {"Return Client Order ID": "RET-1", "SKU": "0009-CNDL-FIG", "Quantity": 2}
    [item] = items_for(tmp_path, "Returns", first, second)
    assert (item.key, item.rows) == ("RET-1", (2, 3))
    assert item.payload == {
        "returnClientOrderId": "RET-1",
        "rmaNumber": "RMA-0093",
        "returnType": "REFUSED",
        "originalClientOrderId": "SO-100233",
        "orderId": "ORD000003",
        "brand": "Casa Alma",
        "createDate": "2026-11-25T17:00:00Z",
        "inputShippingDetails": {"carrier": "USPS", "serviceId": "GROUND"},
        "customerAddress": {
            "name": "Maria Silva",
            "addressLines": ["27 Waterview Drive"],
            "cityTown": "Shelton",
            "postalCode": "06484",
            "countryCode": "PT",
        },
        "returnItems": [
            {
                "orderLineId": 3,
                "itemDetail": {"sku": "SCRF-WOOL-RUST", "description": "Wool scarf", "unitPrice": 29},
                "quantity": 1,
                "lineTotal": 29,
                "returnReason": ["Changed mind", "Too small"],
            },
            {"itemDetail": {"sku": "0009-CNDL-FIG"}, "quantity": 2},
        ],
    }


def test_references_name_every_sku_cell(tmp_path):
    first = {"Kit SKU": "KIT-1", "Description": "d", "Component SKU": "A", "Component Quantity": 1}
    [item] = items_for(
        tmp_path, "BOMs", first, {"Kit SKU": "KIT-1", "Component SKU": "B", "Component Quantity": 1}
    )
    assert [(r.resource, r.key, r.row, r.column) for r in item.references] == [
        ("products", "KIT-1", 2, "Kit SKU"),
        ("products", "A", 2, "Component SKU"),
        ("products", "B", 3, "Component SKU"),
    ]


def test_projection_of_a_stored_order_equals_its_payload(tmp_path):
    first = {
        "Client Order ID": "SO-7",
        "Order Date": datetime(2026, 11, 20),
        **ORDER,
        "SKU": "A",
        "Quantity": 1,
        "Ship-To Address Line 2": "Suite 3",
    }
    [item] = items_for(tmp_path, "Orders", first)
    stored = {
        **item.payload,
        "clientId": "c",
        "orderId": "ORD000001",
        "status": "CREATED",
        "isOnHold": False,
        "actualShippingDetails": None,
        "pbCreateDate": "2026-11-20T09:00:00.000+0000",
    }
    assert BY_NAME["orders"].project(stored) == item.payload


def test_projection_of_a_stored_return_equals_its_payload(tmp_path):
    row = {"Return Client Order ID": "RET-2", "SKU": "A", "Quantity": 1, "Return Reason": "Damaged; Late"}
    [item] = items_for(tmp_path, "Returns", row)
    stored = {**item.payload, "clientId": "c", "returnOrderId": "RET-000001", "status": "CREATED"}
    assert BY_NAME["returns"].project(stored) == item.payload
