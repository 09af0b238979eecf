"""No damaged workbook gives a traceback: real workbooks mutated byte-wise and part-wise (a property
test with hypothesis) end in exit 2 with a plain message, or in a normal run whose result opens (in
openpyxl, when openpyxl opens the damaged input; in pbload's reader always).

Derandomized, so CI runs the same examples every time; the number of examples keeps it to seconds.
"""

from __future__ import annotations

import io
import tempfile
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loader.cli import main
from loader.workbook.reader import read_workbook
from tests.helpers import SAMPLES, product_row, write_products

# What a damaged or hostile part tends to hold where it breaks.
TOKENS = [
    b"<",
    b">",
    b"&",
    b"&foo;",
    b"&#0;",
    b'"',
    b"\x00",
    b"\xff\xfe",
    b"</row>",
    b"<row>",
    b"</sheetData>",
    b'<c r="ZZZZ99999999">',
    b'<c r="A0" t="e"><v>#REF!</v></c>',
    b' hidden="1"',
    b"<f>1/0</f>",
    b'r="0"',
    b' t="s"><v>999999</v>',
    b"<!DOCTYPE x>",
    b'<!ENTITY e SYSTEM "file:///etc/passwd">',
    b"99999999999999999999",
    b"<is><t>\x0b</t></is>",
    b"\r\n",
    b"]]>",
    b"<![CDATA[",
    b'xmlns="urn:x"',
    b'<mergeCell ref="A1:ZZ9"/>',
]


def _base(kind: str, folder: Path) -> bytes:
    if kind == "template":
        rows = [product_row("A", Brand="#REF!"), product_row("B", Product_Type="BOX"), product_row("C")]
        return write_products(folder / "base.xlsx", rows).read_bytes()
    return (SAMPLES / kind).read_bytes()


BASES = ["template", "orders.xlsx", "products-with-errors.xlsx"]


@st.composite
def damaged(draw: st.DrawFn) -> tuple[str, list]:
    """A base workbook and the mutations to apply to it."""
    base = draw(st.sampled_from(BASES))
    steps = draw(
        st.lists(
            st.one_of(
                st.tuples(st.just("bytes"), st.integers(0, 10**6), st.binary(min_size=1, max_size=8)),
                st.tuples(st.just("truncate"), st.integers(0, 10**6)),
                st.tuples(st.just("part-truncate"), st.integers(0, 50), st.integers(0, 10**6)),
                st.tuples(
                    st.just("part-insert"), st.integers(0, 50), st.integers(0, 10**6), st.sampled_from(TOKENS)
                ),
                st.tuples(
                    st.just("part-delete"), st.integers(0, 50), st.integers(0, 10**6), st.integers(1, 64)
                ),
                st.tuples(st.just("part-drop"), st.integers(0, 50)),
                st.tuples(
                    st.just("part-rename"),
                    st.integers(0, 50),
                    st.sampled_from(["../x.xml", "xl/worksheets/sheet9.xml", "XL/WORKBOOK.XML", "a" * 300]),
                ),
            ),
            min_size=1,
            max_size=3,
        )
    )
    return base, steps


def _mutate(data: bytes, steps: list) -> bytes:
    for step in steps:
        kind = step[0]
        if kind == "bytes":
            at = step[1] % max(len(data), 1)
            data = data[:at] + step[2] + data[at + len(step[2]) :]
        elif kind == "truncate":
            data = data[: step[1] % max(len(data), 1)]
        else:
            data = _mutate_part(data, step)
    return data


def _mutate_part(data: bytes, step: tuple) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            parts = [(i.filename, z.read(i)) for i in z.infolist()]
    except Exception:
        return data  # already no zip: the part steps have nothing to work on
    if not parts:
        return data
    n = step[1] % len(parts)
    name, body = parts[n]
    kind = step[0]
    if kind == "part-truncate":
        parts[n] = (name, body[: step[2] % max(len(body), 1)])
    elif kind == "part-insert":
        at = step[2] % max(len(body), 1)
        parts[n] = (name, body[:at] + step[3] + body[at:])
    elif kind == "part-delete":
        at = step[2] % max(len(body), 1)
        parts[n] = (name, body[:at] + body[at + step[3] :])
    elif kind == "part-drop":
        del parts[n]
    elif kind == "part-rename":
        parts[n] = (step[2], body)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a renamed part may take another's name: that is one of the damages
        for part, content in parts:
            z.writestr(part, content)
    return out.getvalue()


@pytest.fixture(scope="module")
def bases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("bases")
    return {kind: _base(kind, folder) for kind in BASES}


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(case=damaged())
def test_a_damaged_workbook_never_gives_a_traceback(bases, case):
    base, steps = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.xlsx"
        path.write_bytes(_mutate(bases[base], steps))
        out = Path(tmp) / "out.xlsx"
        result = CliRunner().invoke(
            main, ["validate", str(path), "-o", str(out)], env={"PBLOAD_STATE_DIR": str(Path(tmp) / "state")}
        )
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            f"{type(result.exception).__name__}: {result.exception}"
        )
        assert "Traceback" not in result.output
        assert result.exit_code in (0, 1, 2), result.output
        if result.exit_code == 2:
            assert result.output.startswith("Error: "), result.output
            assert len(result.output.strip().splitlines()) <= 12, result.output  # a message, not a dump
        elif _opens(path):
            openpyxl.load_workbook(out)  # a normal run of a file openpyxl reads: its result opens the same
        else:  # damage inside a part (a style's number out of range, say) is kept as it was: the cells still read
            assert read_workbook(out).sheets


def _opens(path: Path) -> bool:
    try:
        openpyxl.load_workbook(path)
        return True
    except Exception:
        return False
