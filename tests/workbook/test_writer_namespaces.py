"""Every XML part of a result is well-formed and namespace-correct, whichever program wrote the input.

openpyxl (what `pbload export` writes with) declares the relationships' namespace on each <sheet> of
workbook.xml, not on its root: the Summary's and Errors' <sheet r:id="..."> must declare it too.
"""

from __future__ import annotations

import zipfile

import pytest
from lxml import etree
from openpyxl import Workbook

from loader.models import Issue, Outcome, Status
from loader.workbook.result import STREAM, write_result
from tests.workbook.result_cases import report

REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def exported(path):
    """A products workbook as openpyxl saves it (as `pbload export products -o p.xlsx` does)."""
    book = Workbook()
    ws = book.active
    ws.title = "Products"
    ws.append(["SKU", "Product Type", "Description"])
    ws.append(["A-1", "ITEM", "One"])
    ws.append(["B-2", "BOX", "Two"])
    book.create_sheet("Other")
    book.save(path)
    return path


def run_of(path):
    return report(
        path,
        {2: Outcome(Status.CREATED, "PB-1"), 3: Outcome(Status.INVALID, None, "not-allowed", "No.")},
        [Issue("Products", 3, "Product Type", "not-allowed", "BOX is not allowed.")],
    )


def xml_parts(path):
    """Every part but VML (Excel's legacy drawing format, not XML), parsed strictly."""
    with zipfile.ZipFile(path) as z:
        return {n: etree.fromstring(z.read(n)) for n in z.namelist() if not n.endswith(".vml")}


def test_the_input_declares_r_on_each_sheet(tmp_path):
    with zipfile.ZipFile(exported(tmp_path / "p.xlsx")) as z:
        root = z.read("xl/workbook.xml").split(b">", 1)[0]
    assert b"xmlns:r=" not in root  # the case this file is about


def test_a_result_of_an_openpyxl_workbook_is_well_formed(tmp_path):
    source = exported(tmp_path / "p.xlsx")
    written = write_result(
        source, tmp_path / "p.result.xlsx", run_of(source), {"Products": {"Product Type": 1}}
    )
    assert written.method == STREAM
    parts = xml_parts(written.path)  # raises on a prefix that is not declared
    sheets = parts["xl/workbook.xml"].find(f"{MAIN}sheets")
    assert [(s.get("name"), s.get(f"{{{REL}}}id")) for s in sheets] == [
        ("Summary", "rId5"),
        ("Errors", "rId6"),
        ("Products", "rId1"),
        ("Other", "rId2"),
    ]
    rels = parts["xl/_rels/workbook.xml.rels"]
    targets = {r.get("Id"): r.get("Target") for r in rels}
    assert all(s.get(f"{{{REL}}}id") in targets for s in sheets)


@pytest.mark.parametrize("again", [False, True])
def test_a_result_loaded_again_is_well_formed(tmp_path, again):
    source = exported(tmp_path / "p.xlsx")
    first = write_result(
        source, tmp_path / "p.result.xlsx", run_of(source), {"Products": {"Product Type": 1}}
    )
    target = first.path
    if again:
        target = write_result(
            first.path, tmp_path / "p.result-2.xlsx", run_of(first.path), {"Products": {"Product Type": 1}}
        ).path
    names = [s.get("name") for s in xml_parts(target)["xl/workbook.xml"].find(f"{MAIN}sheets")]
    assert names == ["Summary", "Errors", "Products", "Other"]
