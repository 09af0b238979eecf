"""Write the sample workbooks under samples/ from the current templates.

Run `python -m tests.tools.make_samples` from the repository root after changing a template. Each
resource has a valid sample and one with realistic mistakes (one per row group, each different);
all-in-one.xlsx loads products, kits, work orders, ASNs, orders and returns that refer to each other.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from loader.resources.products import PRODUCTS
from tests.helpers import write_workbook

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
HEADERS = [f.header for f in PRODUCTS.fields]


def upc(body: str) -> str:
    """A UPC-A code: 11 digits and their check digit."""
    odd = sum(int(d) for d in body[0::2])
    even = sum(int(d) for d in body[1::2])
    return body + str((10 - (odd * 3 + even) % 10) % 10)


def product(
    sku: str,
    kind: str,
    description: str,
    upc_body: str | None,
    cost: float,
    weight: float,
    dims: tuple[float, float, float] | None,
    origin: str,
    hs: str,
    vendor: tuple[str, str] | None,
    active: bool = True,
) -> dict:
    row = {
        "SKU": sku,
        "Product Type": kind,
        "Description": description,
        "Brand": "Casa Alma",
        "Category": CATEGORIES[vendor],
        "UPC": upc(upc_body) if upc_body else None,
        "Unit Cost": cost,
        "Weight": weight,
        "Weight Unit": "LB",
        "Origin Country": origin,
        "HS Tariff Code": hs,
        "HS Country": "US",
        "Fulfillment Region": "PB_ONLY",
        "Active": active,
        "Create Date": datetime(2026, 10, 1, 9, 30),
    }
    if dims:
        row.update({"Length": dims[0], "Height": dims[1], "Width": dims[2], "Dimension Unit": "IN"})
    if vendor:
        row.update({"Vendor Name": vendor[0], "Vendor Number": vendor[1]})
    return row


KNIT = ("Lisbon Knitwear Lda", "V-0042")
MILL = ("Porto Cotton Mill", "00917")
CERAMICS = ("Alcobaça Ceramics", "V-0108")
CATEGORIES = {KNIT: "Knitwear", MILL: "Textiles", CERAMICS: "Tableware", None: "Home"}

VALID = [
    product(
        "00123-BLU-S",
        "ITEM",
        "Merino crew-neck sweater, blue, S",
        "01234567890",
        18.5,
        0.75,
        (12, 9, 2.5),
        "PT",
        "611011",
        KNIT,
    ),
    product(
        "00123-BLU-M",
        "ITEM",
        "Merino crew-neck sweater, blue, M",
        "01234567891",
        18.5,
        0.8,
        (12, 9, 2.5),
        "PT",
        "611011",
        KNIT,
    ),
    product(
        "00123-BLU-L",
        "ITEM",
        "Merino crew-neck sweater, blue, L",
        "01234567892",
        18.5,
        0.85,
        (12, 9, 2.75),
        "PT",
        "611011",
        KNIT,
    ),
    product(
        "00123-GRY-M",
        "ITEM",
        "Merino crew-neck sweater, grey, M",
        "01234567893",
        18.5,
        0.8,
        (12, 9, 2.5),
        "PT",
        "611011",
        KNIT,
    ),
    product(
        "00124-NAV-M",
        "ITEM",
        "Cable-knit cardigan, navy, M",
        "01234567894",
        26.0,
        1.1,
        (13, 10, 3),
        "PT",
        "611030",
        KNIT,
    ),
    product(
        "00124-NAV-L",
        "ITEM",
        "Cable-knit cardigan, navy, L",
        "01234567895",
        26.0,
        1.2,
        (13, 10, 3.25),
        "PT",
        "611030",
        KNIT,
    ),
    product(
        "0071-TEE-WHT-S",
        "ITEM",
        "Organic cotton T-shirt, white, S",
        "07123400011",
        4.2,
        0.3,
        (10, 8, 1),
        "PT",
        "610910",
        MILL,
    ),
    product(
        "0071-TEE-WHT-M",
        "ITEM",
        "Organic cotton T-shirt, white, M",
        "07123400012",
        4.2,
        0.32,
        (10, 8, 1),
        "PT",
        "610910",
        MILL,
    ),
    product(
        "0071-TEE-WHT-L",
        "ITEM",
        "Organic cotton T-shirt, white, L",
        "07123400013",
        4.2,
        0.34,
        (10, 8, 1),
        "PT",
        "610910",
        MILL,
    ),
    product(
        "0071-TEE-BLK-M",
        "ITEM",
        "Organic cotton T-shirt, black, M",
        "07123400014",
        4.2,
        0.32,
        (10, 8, 1),
        "PT",
        "610910",
        MILL,
    ),
    product(
        "0071-TEE-BLK-L",
        "ITEM",
        "Organic cotton T-shirt, black, L",
        "07123400015",
        4.2,
        0.34,
        (10, 8, 1),
        "PT",
        "610910",
        MILL,
    ),
    product(
        "TWL-BATH-SAND",
        "ITEM",
        "Bath towel 70x140, sand",
        "07123400021",
        9.75,
        1.4,
        (14, 10, 4),
        "PT",
        "630260",
        MILL,
    ),
    product(
        "TWL-HAND-SAND",
        "ITEM",
        "Hand towel 50x90, sand",
        "07123400022",
        5.1,
        0.6,
        (10, 8, 3),
        "PT",
        "630260",
        MILL,
    ),
    product(
        "TWL-BATH-SAGE",
        "ITEM",
        "Bath towel 70x140, sage",
        "07123400023",
        9.75,
        1.4,
        (14, 10, 4),
        "PT",
        "630260",
        MILL,
    ),
    product(
        "MUG-STN-12OZ",
        "ITEM",
        "Stoneware mug 12 oz, speckled",
        "08567100101",
        3.9,
        0.9,
        (5, 5, 4.5),
        "PT",
        "691200",
        CERAMICS,
    ),
    product(
        "MUG-STN-16OZ",
        "ITEM",
        "Stoneware mug 16 oz, speckled",
        "08567100102",
        4.4,
        1.05,
        (5.5, 5.5, 5),
        "PT",
        "691200",
        CERAMICS,
    ),
    product(
        "BWL-STN-6IN",
        "ITEM",
        "Stoneware cereal bowl 6 in",
        "08567100103",
        4.1,
        1.0,
        (6.5, 6.5, 3),
        "PT",
        "691200",
        CERAMICS,
    ),
    product(
        "PLT-STN-10IN",
        "ITEM",
        "Stoneware dinner plate 10 in",
        "08567100104",
        5.6,
        1.6,
        (10.5, 10.5, 1.5),
        "PT",
        "691200",
        CERAMICS,
    ),
    product(
        "0009-CNDL-FIG",
        "ITEM",
        "Soy candle in glass, fig & cedar",
        "08567100201",
        6.3,
        0.95,
        (4.5, 4, 4),
        "US",
        "340600",
        None,
    ),
    product(
        "0009-CNDL-SEA",
        "ITEM",
        "Soy candle in glass, sea salt",
        "08567100202",
        6.3,
        0.95,
        (4.5, 4, 4),
        "US",
        "340600",
        None,
    ),
    product(
        "GFT-BOX-SMALL",
        "ITEM",
        "Kraft gift box, small, with tissue",
        None,
        0.85,
        0.2,
        (9, 7, 3),
        "US",
        "481920",
        None,
    ),
    product(
        "KIT-BRKFST-2",
        "KIT",
        "Breakfast set: 2 mugs and 2 bowls, boxed",
        "08567100301",
        17.2,
        4.3,
        (13, 13, 6),
        "PT",
        "691200",
        None,
    ),
    product(
        "KIT-TOWEL-TRIO",
        "KIT",
        "Towel trio gift set, sand",
        "07123400031",
        21.0,
        3.5,
        (15, 11, 9),
        "PT",
        "630260",
        None,
    ),
    product("KIT-CNDL-DUO", "KIT", "Candle duo gift box", None, 13.4, 2.2, (9, 7, 5), "US", "340600", None),
    product(
        "SCRF-WOOL-RUST", "ITEM", "Wool scarf, rust", "01234567896", 11.0, 0.4, None, "PT", "611710", KNIT
    ),
    product(
        "SCRF-WOOL-OAT",
        "ITEM",
        "Wool scarf, oatmeal",
        "01234567897",
        11.0,
        0.4,
        None,
        "PT",
        "611710",
        KNIT,
        active=False,
    ),
]

# Each row below carries one realistic mistake (and one row repeats a SKU).
MISTAKES = [
    product(
        "00125-RED-M",
        "ITEM",
        "Fisherman rib beanie, red",
        "01234567898",
        7.5,
        0.25,
        None,
        "PT",
        "611720",
        KNIT,
    ),
    {
        **product(
            "X", "ITEM", "Fisherman rib beanie, grey", "01234567899", 7.5, 0.25, None, "PT", "611720", KNIT
        ),
        "SKU": 4471,
    },  # pasted from another system: a number, its leading zeros gone
    {
        **product("TWL-BEACH-STR", "ITEM", "", "07123400024", 12.0, 1.8, None, "PT", "630260", MILL),
        "Description": None,
    },  # description forgotten
    product(
        "MUG-STN-SET4",
        "BUNDLE",
        "Stoneware mugs, set of 4",
        "08567100105",
        14.0,
        3.8,
        None,
        "PT",
        "691200",
        CERAMICS,
    ),
    {
        **product(
            "BWL-STN-8IN",
            "ITEM",
            "Stoneware serving bowl 8 in",
            None,
            6.9,
            1.9,
            None,
            "PT",
            "691200",
            CERAMICS,
        ),
        "UPC": "0856710O1061",
    },  # a letter O typed for a zero
    {
        **product(
            "0009-CNDL-PINE",
            "ITEM",
            "Soy candle in glass, pine",
            "08567100203",
            6.3,
            0.95,
            None,
            "US",
            "340600",
            None,
        ),
        "Weight Unit": None,
    },  # weight without its unit
    {
        **product(
            "PLT-STN-8IN",
            "ITEM",
            "Stoneware side plate 8 in",
            "08567100106",
            -4.8,
            1.1,
            None,
            "PT",
            "691200",
            CERAMICS,
        )
    },
    {
        **product(
            "TEE-LONG-DESC",
            "ITEM",
            "Organic cotton long-sleeve T-shirt in heavyweight jersey with ribbed cuffs, "
            "relaxed fit, garment dyed, black, size M",
            "07123400016",
            6.1,
            0.4,
            None,
            "PT",
            "610910",
            MILL,
        )
    },
    {
        **product(
            "SCRF-WOOL-MOSS",
            "ITEM",
            "Wool scarf, moss",
            "01234567801",
            11.0,
            0.4,
            None,
            "Portugal",
            "611710",
            KNIT,
        )
    },
    product(
        "00125-RED-M",
        "ITEM",
        "Fisherman rib beanie, red (again)",
        "01234567802",
        7.5,
        0.25,
        None,
        "PT",
        "611720",
        KNIT,
    ),
    # sides typed shortest first: loaded, with a warning that pbload sent them longest first
    product(
        "0071-TEE-GRN-M",
        "ITEM",
        "Organic cotton T-shirt, green, M",
        "07123400017",
        4.2,
        0.32,
        (1, 8, 10),
        "PT",
        "610910",
        MILL,
    ),
    product(
        "0071-TEE-GRN-L",
        "ITEM",
        "Organic cotton T-shirt, green, L",
        "07123400018",
        4.2,
        0.34,
        None,
        "PT",
        "610910",
        MILL,
    ),
]


ADDRESSES = [
    {
        "Ship-To Name": "Maria Silva",
        "Ship-To Address Line 1": "27 Waterview Drive",
        "Ship-To City": "Shelton",
        "Ship-To State": "CT",
        "Ship-To Postal Code": "06484",
        "Ship-To Country": "US",
        "Ship-To Email": "maria.silva@example.com",
    },
    {
        "Ship-To Name": "James O'Neill",
        "Ship-To Company": "Harbor Books",
        "Ship-To Address Line 1": "410 Atlantic Ave",
        "Ship-To Address Line 2": "Suite 3",
        "Ship-To City": "Boston",
        "Ship-To State": "MA",
        "Ship-To Postal Code": "02110",
        "Ship-To Country": "US",
        "Ship-To Phone": "617-555-0199",
    },
    {
        "Ship-To Name": "Chloé Tremblay",
        "Ship-To Address Line 1": "88 Rue Sainte-Catherine",
        "Ship-To City": "Montréal",
        "Ship-To State": "QC",
        "Ship-To Postal Code": "H2X 1K4",
        "Ship-To Country": "CA",
    },
    {
        "Ship-To Name": "Priya Raman",
        "Ship-To Address Line 1": "1200 Worldwide Blvd",
        "Ship-To City": "Hebron",
        "Ship-To State": "KY",
        "Ship-To Postal Code": "41048",
        "Ship-To Country": "US",
    },
]


def order(number: int, address: int, lines: list[tuple[str, int, float]], **header) -> list[dict]:
    """The rows of one order: its header on the first row, one row per line."""
    first = {
        "Client Order ID": f"SO-{100230 + number}",
        "Customer Order ID": f"W-{88120 + number}",
        "Order Type": "eCom",
        "Order Date": datetime(2026, 11, 20, 9 + number % 8, 15),
        "From Node": "157",
        "Carrier": "USPS",
        "Service": "PRIORITY",
        **ADDRESSES[address],
        **header,
    }
    rows = []
    for n, (sku, quantity, price) in enumerate(lines, start=1):
        row = dict(first) if n == 1 else {"Client Order ID": first["Client Order ID"]}
        row.update(
            {
                "Line ID": n,
                "SKU": sku,
                "Quantity": quantity,
                "Unit Price": price,
                "Line Total": round(quantity * price, 2),
            }
        )
        rows.append(row)
    return rows


ORDERS = (
    order(1, 0, [("00123-BLU-M", 1, 39.0), ("0071-TEE-WHT-M", 2, 12.0)])
    + order(2, 1, [("MUG-STN-12OZ", 4, 14.0)])
    + order(3, 2, [("SCRF-WOOL-RUST", 1, 29.0), ("0009-CNDL-FIG", 2, 18.0)])
    + order(
        4,
        3,
        [("KIT-BRKFST-2", 1, 59.0)],
        **{"Order Type": "Retail", "Reference Name": "store", "Reference Value": "Hebron outlet"},
    )
    + order(5, 0, [("TWL-BATH-SAND", 2, 24.0), ("TWL-HAND-SAND", 2, 14.0)])
)
ORDER_MISTAKES = (
    order(11, 0, [("00123-BLU-S", 1, 39.0), ("00123-BLU-M", 1, 39.0)])
    + [
        {**r, "Ship-To Postal Code": None} for r in order(12, 1, [("MUG-STN-16OZ", 2, 16.0)])
    ]  # postal code lost
    + [
        {**r, "Ship-To State": None} for r in order(13, 2, [("0009-CNDL-SEA", 1, 18.0)])
    ]  # CA address, no province
    + order(14, 3, [("BWL-STN-6IN", 2, 12.0), ("PLT-STN-10IN", 0, 19.0)])  # quantity 0
    + [
        {**r, "Ship-To Postal Code": 6484} if n == 0 else r
        for n, r in enumerate(order(15, 0, [("GFT-BOX-SMALL", 1, 3.0)]))
    ]  # ZIP typed as a number
    + [
        r if n == 0 else {**r, "Ship-To City": "Cambridge"}
        for n, r in enumerate(order(16, 1, [("TWL-BATH-SAGE", 1, 24.0), ("TWL-HAND-SAND", 1, 14.0)]))
    ]  # differs
    + [{"SKU": "0071-TEE-BLK-M", "Quantity": 1}]  # a line with no order
    + order(17, 0, [("0071-TEE-BLK-L", 1, 12.0), ("0071-TEE-WHT-L", 1, 12.0)])[:1]
    + [{"Client Order ID": "SO-100247", "Line ID": 1, "SKU": "0071-TEE-WHT-L", "Quantity": 1}]  # line 1 twice
    + order(18, 1, [("KIT-CNDL-DUO", 1, 36.0)])
    + order(19, 2, [("TWL-BATH-SAND", 1, 24.0)], Carrier=None)  # no carrier
)

BOMS = [
    {
        "Kit SKU": "KIT-BRKFST-2",
        "Description": "Breakfast set for two",
        "Node": "157",
        "Active": True,
        "Notes": "Wrap mugs in tissue",
        "Component SKU": "MUG-STN-12OZ",
        "Component Quantity": 2,
    },
    {"Kit SKU": "KIT-BRKFST-2", "Component SKU": "BWL-STN-6IN", "Component Quantity": 2},
    {"Kit SKU": "KIT-BRKFST-2", "Component SKU": "GFT-BOX-SMALL", "Component Quantity": 1},
    {
        "Kit SKU": "KIT-TOWEL-TRIO",
        "Description": "Towel trio, sand",
        "Node": "157",
        "Component SKU": "TWL-BATH-SAND",
        "Component Quantity": 1,
    },
    {"Kit SKU": "KIT-TOWEL-TRIO", "Component SKU": "TWL-HAND-SAND", "Component Quantity": 2},
    {
        "Kit SKU": "KIT-CNDL-DUO",
        "Description": "Candle duo gift box",
        "Node": "157",
        "Component SKU": "0009-CNDL-FIG",
        "Component Quantity": 1,
    },
    {"Kit SKU": "KIT-CNDL-DUO", "Component SKU": "0009-CNDL-SEA", "Component Quantity": 1},
    {"Kit SKU": "KIT-CNDL-DUO", "Component SKU": "GFT-BOX-SMALL", "Component Quantity": 1},
]
BOM_MISTAKES = [
    {
        "Kit SKU": "KIT-MUG-4",
        "Description": "Four mugs",
        "Component SKU": "MUG-STN-12OZ",
        "Component Quantity": 4,
    },
    {"Kit SKU": "KIT-MUG-4", "Component SKU": "KIT-MUG-4", "Component Quantity": 1},  # the kit itself
    {
        "Kit SKU": "KIT-BOWL-4",
        "Description": "Four cereal bowls and a gift box",
        "Component SKU": "BWL-STN-6IN",
        "Component Quantity": 4,
    },  # description longer than 30
    {
        "Kit SKU": "KIT-PLATE-2",
        "Description": "Two plates",
        "Component SKU": "PLT-STN-10IN",
        "Component Quantity": 2,
    },
    {"Kit SKU": "KIT-PLATE-2", "Component SKU": "PLT-STN-10IN", "Component Quantity": 1},  # listed twice
    {
        "Kit SKU": "KIT-SCARF-2",
        "Description": "Scarf pair",
        "Component SKU": "SCRF-WOOL-RUST",
        "Component Quantity": 0,
    },  # quantity 0
    {
        "Kit SKU": "KIT-TOWEL-TRIO",
        "Description": "Towel trio, sand",
        "Component SKU": "TWL-BATH-SAND",
        "Component Quantity": 1,
    },
    {"Kit SKU": "KIT-TOWEL-TRIO", "Component SKU": "TWL-HAND-SAND", "Component Quantity": 2},
]

WORK_ORDERS = [
    {
        "Client Work Order ID": "WO-2026-031",
        "Work Order Name": "December breakfast sets",
        "Type": "KIT",
        "Kit SKU": "KIT-BRKFST-2",
        "Quantity": 40,
        "Node": "157",
        "Description": "For the holiday catalogue",
    },
    {
        "Client Work Order ID": "WO-2026-032",
        "Work Order Name": "Towel trios",
        "Type": "KIT",
        "Kit SKU": "KIT-TOWEL-TRIO",
        "Quantity": 25,
        "Node": "157",
    },
    {
        "Client Work Order ID": "WO-2026-033",
        "Work Order Name": "Candle duos",
        "Type": "KIT",
        "Kit SKU": "KIT-CNDL-DUO",
        "Quantity": 60,
        "Node": "157",
        "Brand": "Casa Alma",
    },
]
WORK_ORDER_MISTAKES = [
    {**WORK_ORDERS[0], "Client Work Order ID": "WO-2026-041", "Quantity": 0},
    {**WORK_ORDERS[1], "Client Work Order ID": "WO-2026-042", "Node": None},
    {**WORK_ORDERS[2], "Client Work Order ID": "WO-2026-043", "Type": "ASSEMBLY"},
    {
        **WORK_ORDERS[0],
        "Client Work Order ID": "WO-2026-044",
        "Work Order Name": "Breakfast sets for the December holiday catalogue",
    },
    {**WORK_ORDERS[1], "Client Work Order ID": "WO-2026-045"},
]


def asn_line(line: int, sku: str, quantity: int, arrival: datetime, cost: float | None = None) -> dict:
    """One line of an ASN: PB dates each line, not the shipment."""
    row = {"Line ID": line, "SKU": sku, "Quantity": quantity, "Estimated Delivery Date": arrival}
    if cost is not None:
        row["Unit Cost"] = cost
    return row


DEC_1, DEC_3 = datetime(2026, 12, 1, 9, 0), datetime(2026, 12, 3, 13, 0)
ASNS = [
    {
        "Client ASN ID": "ASN-2026-0412",
        "Inbound Type": "ASN",
        "Receiving Node": "157",
        "Vendor Name": "Lisbon Knitwear Lda",
        "Vendor Code": "V-0042",
        "Carrier": "UPS",
        "Carrier Service": "GROUND",
        "Tracking Number": "1Z999AA10123456784",
        **asn_line(1, "00123-BLU-S", 120, DEC_1, 18.5),
    },
    {"Client ASN ID": "ASN-2026-0412", **asn_line(2, "00123-BLU-M", 180, DEC_1, 18.5)},
    {"Client ASN ID": "ASN-2026-0412", **asn_line(3, "00123-BLU-L", 120, DEC_1, 18.5)},
    {
        "Client ASN ID": "ASN-2026-0413",
        "Inbound Type": "PO",
        "Purchase Order Number": "PO-7781",
        "Receiving Node": "157",
        "Vendor Name": "Alcobaça Ceramics",
        "Vendor Code": "V-0108",
        "PO Line ID": 10,
        **asn_line(1, "MUG-STN-12OZ", 400, DEC_3),
    },
    {"Client ASN ID": "ASN-2026-0413", "PO Line ID": 20, **asn_line(2, "BWL-STN-6IN", 300, DEC_3)},
    {"Client ASN ID": "ASN-2026-0413", "PO Line ID": 30, **asn_line(3, "GFT-BOX-SMALL", 500, DEC_3)},
]
ASN_MISTAKES = [
    {**ASNS[3], "Client ASN ID": "ASN-2026-0421", "Purchase Order Number": None},  # PO without its number
    {"Client ASN ID": "ASN-2026-0421", **asn_line(2, "BWL-STN-6IN", 300, DEC_3)},
    {**ASNS[0], "Client ASN ID": "ASN-2026-0422"},
    {"Client ASN ID": "ASN-2026-0422", **asn_line(1, "00123-BLU-M", 180, DEC_1)},  # line 1 twice
    {**ASNS[0], "Client ASN ID": "ASN-2026-0423", "Receiving Node": "157", "Line ID": 1},
    {"Client ASN ID": "ASN-2026-0423", "Receiving Node": "212", **asn_line(2, "00123-BLU-L", 10, DEC_1)},
    # another node on a later row
    {**ASNS[3], "Client ASN ID": "ASN-2026-0424", "Estimated Delivery Date": "next Tuesday"},
    {**ASNS[3], "Client ASN ID": "ASN-2026-0425", "Purchase Order Number": "PO-7790"},
]

CUSTOMER = {
    "Customer Name": "Maria Silva",
    "Customer Address Line 1": "27 Waterview Drive",
    "Customer City": "Shelton",
    "Customer State": "CT",
    "Customer Postal Code": "06484",
    "Customer Country": "US",
}
RETURNS = [
    {
        "Return Client Order ID": "RET-55012",
        "RMA Number": "RMA-0091",
        "Original Client Order ID": "SO-100231",
        "Return Date": datetime(2026, 11, 24, 10, 0),
        "Carrier": "USPS",
        "Service ID": "GROUND",
        **CUSTOMER,
        "Original Order Line": 1,
        "SKU": "00123-BLU-M",
        "Quantity": 1,
        "Unit Price": 39.0,
        "Line Total": 39.0,
        "Return Reason": "Too small; Changed mind",
    },
    {
        "Return Client Order ID": "RET-55013",
        "RMA Number": "RMA-0092",
        "Original Client Order ID": "SO-100232",
        "Return Date": datetime(2026, 11, 25, 16, 30),
        "Original Order Line": 1,
        "SKU": "MUG-STN-12OZ",
        "Quantity": 4,
        "Return Reason": "Address unknown",
    },
    {
        "Return Client Order ID": "RET-55014",
        "RMA Number": "RMA-0093",
        "Original Client Order ID": "SO-100233",
        "Return Date": datetime(2026, 11, 25, 17, 0),
        "Original Order Line": 1,
        "SKU": "SCRF-WOOL-RUST",
        "Item Description": "Wool scarf, rust",
        "Quantity": 1,
        "Return Reason": "Changed mind",
    },
    {
        "Return Client Order ID": "RET-55014",
        "Original Order Line": 2,
        "SKU": "0009-CNDL-FIG",
        "Quantity": 1,
        "Return Reason": "Changed mind",
    },
]
RETURN_MISTAKES = [
    {**RETURNS[0], "Return Client Order ID": "RET-55021", "Quantity": -1},
    {**RETURNS[1], "Return Client Order ID": "RET-55022", "Carrier": "USPS"},  # carrier without its service
    {
        **RETURNS[2],
        "Return Client Order ID": "RET-55023",
        "RMA Number": "RMA-2026-11-25-SCARF-RUST-0001234567",
    },
    {**RETURNS[3], "Return Client Order ID": None},  # a line with no return
    {**RETURNS[0], "Return Client Order ID": "RET-55024"},
]


def write(rows: list[dict], path: Path) -> Path:
    """A products template holding `rows`."""
    return write_workbook(path, {"Products": rows})


def main() -> None:
    SAMPLES.mkdir(exist_ok=True)
    made = [
        write_workbook(SAMPLES / "products.xlsx", {"Products": VALID}),
        write_workbook(SAMPLES / "products-with-errors.xlsx", {"Products": MISTAKES}),
        write_workbook(SAMPLES / "boms.xlsx", {"BOMs": BOMS}),
        write_workbook(SAMPLES / "boms-with-errors.xlsx", {"BOMs": BOM_MISTAKES}),
        write_workbook(SAMPLES / "work-orders.xlsx", {"Work Orders": WORK_ORDERS}),
        write_workbook(SAMPLES / "work-orders-with-errors.xlsx", {"Work Orders": WORK_ORDER_MISTAKES}),
        write_workbook(SAMPLES / "asns.xlsx", {"ASNs": ASNS}),
        write_workbook(SAMPLES / "asns-with-errors.xlsx", {"ASNs": ASN_MISTAKES}),
        write_workbook(SAMPLES / "orders.xlsx", {"Orders": ORDERS}),
        write_workbook(SAMPLES / "orders-with-errors.xlsx", {"Orders": ORDER_MISTAKES}),
        write_workbook(SAMPLES / "returns.xlsx", {"Returns": RETURNS}),
        write_workbook(SAMPLES / "returns-with-errors.xlsx", {"Returns": RETURN_MISTAKES}),
        write_workbook(
            SAMPLES / "all-in-one.xlsx",
            {
                "Products": VALID,
                "BOMs": BOMS,
                "Work Orders": WORK_ORDERS,
                "ASNs": ASNS,
                "Orders": ORDERS,
                "Returns": RETURNS,
            },
        ),
    ]
    for path in made:
        print(path.relative_to(SAMPLES.parent))


if __name__ == "__main__":
    main()
