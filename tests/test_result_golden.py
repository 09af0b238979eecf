"""The result writer's output, part by part, against what the writer of an earlier commit wrote.

tests/golden/result/inputs/ holds the samples and a few workbooks of other producers (openpyxl,
xlsxwriter, .NET's `x:` prefix, bare XML, an earlier result with merges and names, comments by others);
tests/golden/result/expected.json the SHA-256 of every part of each one's result, in zip order, as
written by the commit that generated them. Every part must be the same byte for byte, except:

* the parts of the input the writer edits with lxml (the workbook, styles.xml, a comments part, the
  data sheets' heads and tails, a sheet's selected tab): the same XML (canonical form), since lxml
  writes `<a/>` for `<a />`, double quotes, and namespace declarations before other attributes;
* `KNOWN_FIXES`: parts that were wrong at that commit and are expected to change, and `NOW_STREAMED`:
  inputs the stream editor could not write then.

Regenerate (with the writer of the commit to compare with, e.g. a worktree of it):

    cd /tmp/worktree && PYTHONPATH=. python /work/main/tests/test_result_golden.py --write \
        /work/main/tests/golden/result
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

GOLDEN = Path(__file__).resolve().parent / "golden" / "result"
VERSION = "0.0.0-golden"  # the Summary's "pbload version", so that a release does not change the files
SKIPPED_SHEETS = {"instructions", "_pbload", "summary", "errors"}
# Parts of the input the writer re-serialises with lxml: compared as XML, not as bytes.
REWRITTEN = ("xl/workbook.xml", "xl/styles.xml", "xl/comments", "xl/worksheets/sheet")
# Parts that were wrong at the golden commit: the openpyxl-written workbook declared `r` on each <sheet>,
# and the Summary's <sheet> used the prefix unbound (not well-formed).
KNOWN_FIXES = {("openpyxl-plain", "stream"): {"xl/workbook.xml"}}
# Inputs the stream editor handed to openpyxl at the golden commit and writes itself now: openpyxl (with
# lxml installed) writes comments' VML with prefixes declared element by element.
NOW_STREAMED = {("styled", "stream")}
# docProps/core.xml carries the time openpyxl saved the workbook.
UNSTABLE = {"openpyxl": {"docProps/core.xml"}}


# --- the inputs ------------------------------------------------------------------------------


def _openpyxl_plain(path: Path) -> None:
    """A workbook as `pbload export` writes it: openpyxl's own, xmlns:r on each <sheet>."""
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.title = "Products"
    ws.append(["SKU", "Product Type", "Description", "Weight"])
    for n in range(14):
        ws.append([f"SKU-{n}", "ITEM", f"Thing {n} & co <b>", n * 0.5])
    book.create_sheet("Notes").append(["kept as it is"])
    book.save(path)


def _xlsxwriter(path: Path) -> None:
    """xlsxwriter's workbook: Excel's layout, with a comment, a merge, a print area and a defined name."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("Products")
    bold = book.add_format({"bold": True, "bg_color": "#1F4E78", "font_color": "#FFFFFF"})
    ws.write_row(0, 0, ["SKU", "Product Type", "Description", "Weight", "Weight Unit"], bold)
    for n in range(20):
        ws.write_row(n + 1, 0, [f"SKU-{n:02d}", "ITEM", f"Item {n}", n + 0.25, "LB"])
    ws.write_comment("C1", "What the item is.", {"author": "Ana"})
    ws.merge_range("H2:I3", "merged note")
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, 20, 4)
    ws.print_area(0, 0, 20, 4)
    book.define_name("Weights", "=Products!$D$2:$D$21")
    book.add_worksheet("Other").write(0, 0, "other")
    book.close()


def _raw(case: str, path: Path) -> None:
    from tests.workbook import test_writer_oddities as odd
    from tests.workbook.result_cases import raw_workbook

    if case == "x-prefix":
        raw_workbook(path, odd.OTHER_WRITER.format(p="x:"), odd.SHARED, prefix="x:")
    elif case == "bare-xml":
        raw_workbook(path, odd.OTHER_WRITER.format(p=""), odd.SHARED)
    elif case == "again-merges-names":
        raw_workbook(path, odd.AGAIN, defined_names=odd.NAMES)
    elif case == "comments-by-others":
        sheet = odd.OTHER_WRITER.format(p="").replace(
            "</rowBreaks>", '</rowBreaks><legacyDrawing r:id="rId9"/>'
        )
        raw_workbook(
            path,
            sheet,
            odd.SHARED,
            extra_sheet_rels=(
                f'<Relationship Id="rId8" Type="{odd.REL}/comments" Target="../comments1.xml"/>'
                f'<Relationship Id="rId9" Type="{odd.REL}/vmlDrawing" Target="../drawings/vmlDrawing1.vml"/>'
            ),
            extra_parts={
                "xl/comments1.xml": odd.COMMENTS,
                "xl/drawings/vmlDrawing1.vml": odd.EXCEL_VML.format(
                    shapes=odd.SHAPE.format(id=1025, row=1, col=1) + odd.SHAPE.format(id=1026, row=2, col=2)
                ),
            },
            extra_types=(
                '<Default Extension="vml" ContentType="application/vnd.openxmlformats-officedocument.vmlDrawing"/>'
                '<Override PartName="/xl/comments1.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"/>'
            ),
        )


def make_inputs(folder: Path) -> None:
    """The golden inputs: the samples as they are now, and the workbooks of other producers."""
    from tests.helpers import SAMPLES
    from tests.workbook.result_cases import styled_products

    folder.mkdir(parents=True, exist_ok=True)
    for sample in sorted(SAMPLES.glob("*.xlsx")):
        shutil.copy(sample, folder / sample.name)
    _openpyxl_plain(folder / "openpyxl-plain.xlsx")
    _xlsxwriter(folder / "xlsxwriter.xlsx")
    styled_products(folder / "styled.xlsx")
    for case in ("x-prefix", "bare-xml", "again-merges-names", "comments-by-others"):
        _raw(case, folder / f"{case}.xlsx")
    # a result loaded again: pbload's columns, Summary, Errors, comments and marks already there
    source = folder / "all-in-one.xlsx"
    run, positions = golden_report(source)
    _writer()(source, folder / "all-in-one-again.xlsx", run, positions, method="stream")


# --- the run each input gets -----------------------------------------------------------------


def golden_report(path: Path) -> tuple[Any, dict[str, dict[str, int]]]:
    """A run over every data sheet of `path`: its rows in turn created, updated (a change), failed,
    invalid (a cell and a row), blocked, valid with a warning, and not sent."""
    import openpyxl

    from loader.models import Change, Issue, Outcome, RunReport, Severity, SheetReport, Status
    from loader.workbook import RESULT_COLUMNS

    book = openpyxl.load_workbook(path, read_only=True)
    run = RunReport(
        "golden-run",
        "load",
        path.name,
        "ab" * 32,
        "local",
        datetime(2026, 11, 2, 9, 0, 0),
        template="products (products v1)",
        ended=datetime(2026, 11, 2, 9, 1, 30),
    )
    positions: dict[str, dict[str, int]] = {}
    for ws in book.worksheets:
        rows = [[c for c in row] for row in ws.iter_rows(values_only=True)]
        if ws.title.casefold() in SKIPPED_SHEETS or not rows or not any(rows[0]):
            continue
        headers = {
            str(h).strip(): n
            for n, h in enumerate(rows[0])
            if h not in (None, "") and h not in RESULT_COLUMNS
        }
        data = [n + 1 for n, row in enumerate(rows[1:], start=1) if any(v not in (None, "") for v in row)]
        if not headers or not data:
            continue
        positions[ws.title] = headers
        names = list(headers)
        sheet = SheetReport(ws.title, data)
        for i, row in enumerate(data):
            kind = i % 7
            last = names[min(2, len(names) - 1)]
            if kind == 0:
                sheet.outcomes[row] = Outcome(Status.CREATED, f"PB-{i:05d}", transaction_id=f"t-{i // 3}")
            elif kind == 1:
                change = Change(names[-1], "old & <x>", "new", row=row)
                sheet.outcomes[row] = Outcome(Status.UPDATED, f"PB-{i:05d}", changes=(change,))
            elif kind == 2:
                sheet.outcomes[row] = Outcome(
                    Status.FAILED, None, "PB-4001", "Refused: 'x' & <y> =1+2", "t-9"
                )
            elif kind == 3:
                sheet.outcomes[row] = Outcome(Status.INVALID, None, "not-allowed", f"{last}: not allowed.")
                run.issues.append(
                    Issue(ws.title, row, last, "not-allowed", f"{last} _x0041_ is not allowed.")
                )
                if i % 2:
                    run.issues.append(
                        Issue(ws.title, row, None, "duplicate", "The row is twice in the sheet.")
                    )
            elif kind == 4:
                sheet.outcomes[row] = Outcome(Status.BLOCKED, None, "blocked-by", "Its product failed.")
            elif kind == 5:
                sheet.outcomes[row] = Outcome(Status.VALID)
                run.issues.append(
                    Issue(ws.title, row, names[0], "looks-odd", "Looks odd.", severity=Severity.WARNING)
                )
        run.sheets.append(sheet)
    book.close()
    return run, positions


# --- writing and comparing -------------------------------------------------------------------


def _writer() -> Any:
    """`write(source, target, report, positions, method) -> method used`, at this commit or an earlier one."""
    try:
        from loader.workbook.result import content, write_result
    except ImportError:  # the writer before loader/workbook/result/
        from loader.workbook import result_content as content  # type: ignore[no-redef]
        from loader.workbook.writer import write_result_workbook

        def write_result(source, target, report, positions, method=None):  # type: ignore[no-redef]
            return write_result_workbook(source, target, report, positions, method=method)

    def write(*args: Any, **kwargs: Any) -> Any:
        kept = content.__version__  # type: ignore[attr-defined]
        content.__version__ = VERSION  # type: ignore[attr-defined]
        try:
            return write_result(*args, **kwargs)
        finally:
            content.__version__ = kept  # type: ignore[attr-defined]

    return write


def canonical(data: bytes) -> str | None:
    """The SHA-256 of a part's canonical XML (C14N 2.0), or None if it is not well-formed XML."""
    from lxml import etree

    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, remove_blank_text=False))
    except etree.XMLSyntaxError:
        return None
    return hashlib.sha256(etree.tostring(root, method="c14n2")).hexdigest()


def manifest(path: Path, skip: set[str] = frozenset()) -> list[list[Any]]:
    """[name, SHA-256, canonical SHA-256] of every part, in zip order."""
    found = []
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name in skip:
                continue
            data = z.read(name)
            found.append([name, hashlib.sha256(data).hexdigest(), canonical(data)])
    return found


def write_case(source: Path, target: Path, method: str) -> dict[str, Any]:
    write = _writer()
    run, positions = golden_report(source)
    try:
        used = write(source, target, run, positions, method=method)
    except Exception as exc:  # the forced path cannot write this one: that is recorded too
        return {"error": type(exc).__name__}
    return {"method": getattr(used, "method", method), "parts": manifest(target, UNSTABLE.get(method, set()))}


def regenerate(folder: Path) -> None:
    inputs = folder / "inputs"
    if inputs.exists():
        shutil.rmtree(inputs)
    make_inputs(inputs)
    expected: dict[str, dict[str, Any]] = {}
    out = folder / "tmp"
    out.mkdir(exist_ok=True)
    for source in sorted(inputs.glob("*.xlsx")):
        expected[source.stem] = {
            method: write_case(source, out / f"{source.stem}.{method}.xlsx", method)
            for method in ("stream", "openpyxl")
        }
    shutil.rmtree(out)
    (folder / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")


# --- the tests ---------------------------------------------------------------------------------

EXPECTED = json.loads((GOLDEN / "expected.json").read_text()) if (GOLDEN / "expected.json").exists() else {}
CASES = [(case, method) for case in sorted(EXPECTED) for method in ("stream", "openpyxl")]


@pytest.mark.parametrize("case, method", CASES)
def test_every_part_as_the_golden_commit_wrote_it(tmp_path, case, method):
    want = EXPECTED[case][method]
    got = write_case(GOLDEN / "inputs" / f"{case}.xlsx", tmp_path / "out.xlsx", method)
    if (case, method) in NOW_STREAMED:
        assert got.get("method") == "stream", got
        return
    if "error" in want:
        assert got == want
        return
    assert got["method"] == want["method"]
    assert [p[0] for p in got["parts"]] == [p[0] for p in want["parts"]], "the same parts, in the same order"
    fixed = KNOWN_FIXES.get((case, method), set())
    with zipfile.ZipFile(GOLDEN / "inputs" / f"{case}.xlsx") as z:
        edited = {n for n in z.namelist() if n.startswith(REWRITTEN)} if method == "stream" else set()
    for (name, sha, c14n), (_, old_sha, old_c14n) in zip(got["parts"], want["parts"], strict=True):
        if name in fixed:
            assert c14n is not None, f"{name} is well-formed now"
        elif name in edited:
            assert (sha, c14n) == (old_sha, old_c14n) or c14n == old_c14n is not None, f"{name} differs"
        else:
            assert sha == old_sha, f"{name} differs byte for byte"


def test_there_are_golden_files():
    assert len(CASES) >= 2 * 20


if __name__ == "__main__":
    if sys.argv[1:2] != ["--write"] or len(sys.argv) != 3:
        raise SystemExit(__doc__)
    regenerate(Path(sys.argv[2]))
