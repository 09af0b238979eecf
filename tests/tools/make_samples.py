"""Write the sample workbooks under samples/ from the current templates.

Run `python -m tests.tools.make_samples` from the repository root after changing a template.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from loader.resources.products import PRODUCTS
from loader.workbook.templates import build_template

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
HEADERS = [f.header for f in PRODUCTS.fields]


def upc(body: str) -> str:
    """A UPC-A code: 11 digits and their check digit."""
    odd = sum(int(d) for d in body[0::2])
    even = sum(int(d) for d in body[1::2])
    return body + str((10 - (odd * 3 + even) % 10) % 10)


def product(sku: str, kind: str, description: str, upc_body: str | None, cost: float, weight: float,
            dims: tuple[float, float, float] | None, origin: str, hs: str, vendor: tuple[str, str] | None,
            active: bool = True) -> dict:
    row = {
        "SKU": sku, "Product Type": kind, "Description": description,
        "UPC": upc(upc_body) if upc_body else None, "Unit Cost": cost,
        "Weight": weight, "Weight Unit": "LB",
        "Country of Origin": origin, "HS Code": hs,
        "Fulfillment Region": "PB_ONLY", "Active": active,
        "Create Date": datetime(2026, 10, 1, 9, 30),
    }
    if dims:
        row.update({"Length": dims[0], "Width": dims[1], "Height": dims[2], "Dimension Unit": "IN"})
    if vendor:
        row.update({"Vendor Name": vendor[0], "Vendor Number": vendor[1]})
    return row


KNIT = ("Lisbon Knitwear Lda", "V-0042")
MILL = ("Porto Cotton Mill", "00917")
CERAMICS = ("Alcobaça Ceramics", "V-0108")

VALID = [
    product("00123-BLU-S", "ITEM", "Merino crew-neck sweater, blue, S", "01234567890", 18.5, 0.75, (12, 9, 2.5), "PT", "611011", KNIT),
    product("00123-BLU-M", "ITEM", "Merino crew-neck sweater, blue, M", "01234567891", 18.5, 0.8, (12, 9, 2.5), "PT", "611011", KNIT),
    product("00123-BLU-L", "ITEM", "Merino crew-neck sweater, blue, L", "01234567892", 18.5, 0.85, (12, 9, 2.75), "PT", "611011", KNIT),
    product("00123-GRY-M", "ITEM", "Merino crew-neck sweater, grey, M", "01234567893", 18.5, 0.8, (12, 9, 2.5), "PT", "611011", KNIT),
    product("00124-NAV-M", "ITEM", "Cable-knit cardigan, navy, M", "01234567894", 26.0, 1.1, (13, 10, 3), "PT", "611030", KNIT),
    product("00124-NAV-L", "ITEM", "Cable-knit cardigan, navy, L", "01234567895", 26.0, 1.2, (13, 10, 3.25), "PT", "611030", KNIT),
    product("0071-TEE-WHT-S", "ITEM", "Organic cotton T-shirt, white, S", "07123400011", 4.2, 0.3, (10, 8, 1), "PT", "610910", MILL),
    product("0071-TEE-WHT-M", "ITEM", "Organic cotton T-shirt, white, M", "07123400012", 4.2, 0.32, (10, 8, 1), "PT", "610910", MILL),
    product("0071-TEE-WHT-L", "ITEM", "Organic cotton T-shirt, white, L", "07123400013", 4.2, 0.34, (10, 8, 1), "PT", "610910", MILL),
    product("0071-TEE-BLK-M", "ITEM", "Organic cotton T-shirt, black, M", "07123400014", 4.2, 0.32, (10, 8, 1), "PT", "610910", MILL),
    product("0071-TEE-BLK-L", "ITEM", "Organic cotton T-shirt, black, L", "07123400015", 4.2, 0.34, (10, 8, 1), "PT", "610910", MILL),
    product("TWL-BATH-SAND", "ITEM", "Bath towel 70x140, sand", "07123400021", 9.75, 1.4, (14, 10, 4), "PT", "630260", MILL),
    product("TWL-HAND-SAND", "ITEM", "Hand towel 50x90, sand", "07123400022", 5.1, 0.6, (10, 8, 3), "PT", "630260", MILL),
    product("TWL-BATH-SAGE", "ITEM", "Bath towel 70x140, sage", "07123400023", 9.75, 1.4, (14, 10, 4), "PT", "630260", MILL),
    product("MUG-STN-12OZ", "ITEM", "Stoneware mug 12 oz, speckled", "08567100101", 3.9, 0.9, (5, 5, 4.5), "PT", "691200", CERAMICS),
    product("MUG-STN-16OZ", "ITEM", "Stoneware mug 16 oz, speckled", "08567100102", 4.4, 1.05, (5.5, 5.5, 5), "PT", "691200", CERAMICS),
    product("BWL-STN-6IN", "ITEM", "Stoneware cereal bowl 6 in", "08567100103", 4.1, 1.0, (6.5, 6.5, 3), "PT", "691200", CERAMICS),
    product("PLT-STN-10IN", "ITEM", "Stoneware dinner plate 10 in", "08567100104", 5.6, 1.6, (10.5, 10.5, 1.5), "PT", "691200", CERAMICS),
    product("0009-CNDL-FIG", "ITEM", "Soy candle in glass, fig & cedar", "08567100201", 6.3, 0.95, (4, 4, 4.5), "US", "340600", None),
    product("0009-CNDL-SEA", "ITEM", "Soy candle in glass, sea salt", "08567100202", 6.3, 0.95, (4, 4, 4.5), "US", "340600", None),
    product("GFT-BOX-SMALL", "ITEM", "Kraft gift box, small, with tissue", None, 0.85, 0.2, (9, 7, 3), "US", "481920", None),
    product("KIT-BRKFST-2", "KIT", "Breakfast set: 2 mugs and 2 bowls, boxed", "08567100301", 17.2, 4.3, (13, 13, 6), "PT", "691200", None),
    product("KIT-TOWEL-TRIO", "KIT", "Towel trio gift set, sand", "07123400031", 21.0, 3.5, (15, 11, 9), "PT", "630260", None),
    product("KIT-CNDL-DUO", "KIT", "Candle duo gift box", None, 13.4, 2.2, (9, 7, 5), "US", "340600", None),
    product("SCRF-WOOL-RUST", "ITEM", "Wool scarf, rust", "01234567896", 11.0, 0.4, None, "PT", "611710", KNIT),
    product("SCRF-WOOL-OAT", "ITEM", "Wool scarf, oatmeal", "01234567897", 11.0, 0.4, None, "PT", "611710", KNIT, active=False),
]

# Each row below carries one realistic mistake (and one row repeats a SKU).
MISTAKES = [
    product("00125-RED-M", "ITEM", "Fisherman rib beanie, red", "01234567898", 7.5, 0.25, None, "PT", "611720", KNIT),
    {**product("X", "ITEM", "Fisherman rib beanie, grey", "01234567899", 7.5, 0.25, None, "PT", "611720", KNIT),
     "SKU": 4471},  # pasted from another system: a number, its leading zeros gone
    {**product("TWL-BEACH-STR", "ITEM", "", "07123400024", 12.0, 1.8, None, "PT", "630260", MILL),
     "Description": None},  # description forgotten
    product("MUG-STN-SET4", "BUNDLE", "Stoneware mugs, set of 4", "08567100105", 14.0, 3.8, None, "PT", "691200", CERAMICS),
    {**product("BWL-STN-8IN", "ITEM", "Stoneware serving bowl 8 in", None, 6.9, 1.9, None, "PT", "691200", CERAMICS),
     "UPC": "0856710O1061"},  # a letter O typed for a zero
    {**product("0009-CNDL-PINE", "ITEM", "Soy candle in glass, pine", "08567100203", 6.3, 0.95, None, "US", "340600", None),
     "Weight Unit": None},  # weight without its unit
    {**product("PLT-STN-8IN", "ITEM", "Stoneware side plate 8 in", "08567100106", -4.8, 1.1, None, "PT", "691200", CERAMICS)},
    {**product("TEE-LONG-DESC", "ITEM", "Organic cotton long-sleeve T-shirt in heavyweight jersey with ribbed cuffs, "
               "relaxed fit, garment dyed, black, size M", "07123400016", 6.1, 0.4, None, "PT", "610910", MILL)},
    {**product("SCRF-WOOL-MOSS", "ITEM", "Wool scarf, moss", "01234567801", 11.0, 0.4, None, "Portugal", "611710", KNIT)},
    product("00125-RED-M", "ITEM", "Fisherman rib beanie, red (again)", "01234567802", 7.5, 0.25, None, "PT", "611720", KNIT),
    product("0071-TEE-GRN-M", "ITEM", "Organic cotton T-shirt, green, M", "07123400017", 4.2, 0.32, None, "PT", "610910", MILL),
    product("0071-TEE-GRN-L", "ITEM", "Organic cotton T-shirt, green, L", "07123400018", 4.2, 0.34, None, "PT", "610910", MILL),
]


def write(rows: list[dict], path: Path) -> Path:
    """A products template holding `rows`."""
    book = build_template((PRODUCTS,))
    ws = book[PRODUCTS.sheet]
    for row in rows:
        ws.append([row.get(h) for h in HEADERS])
    book.properties.creator = "pbload"
    book.save(path)
    return path


def main() -> None:
    SAMPLES.mkdir(exist_ok=True)
    print(write(VALID, SAMPLES / "products.xlsx"))
    print(write(MISTAKES, SAMPLES / "products-with-errors.xlsx"))


if __name__ == "__main__":
    main()
