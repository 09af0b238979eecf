"""The stream editor's new parts written the fast way are the parts the general way writes.

The Errors sheet's rows are made with its fixed columns in mind and the comments part of pbload's
notes as text, not as an lxml tree: both must give the bytes the general code gives (`parts._row`,
the lxml tree of `comments_part`), for texts with everything XML and Excel treat specially.
"""

from __future__ import annotations

import random
import re

import pytest
from lxml import etree

from loader.workbook.result.content import MAX_LINKS, Problem, errors_height, errors_widths
from loader.workbook.result.stream import comments, parts

ODD = ["", " ", "a & b <c> d", "  lead", "trail  ", "tab\there", "two\nlines", "cr\rhere", "_x0041_ kept",
       "_x000D_", "é ü 中文 \U0001f600", "q\"uote'", "=SUM(A1)", "x" * 300, "plain", "\u2028"]  # fmt: skip


def _texts(rnd: random.Random, n: int) -> list[str]:
    return ["".join(rnd.choice(ODD) for _ in range(rnd.randint(1, 3))) for _ in range(n)]


def _problems(rnd: random.Random, n: int) -> list[Problem]:
    sheets = ["Products", "Bob's sheet", "A & B", "Orders"]
    found = []
    for row in range(2, n + 2):
        texts = _texts(rnd, 3)
        col = rnd.choice([None, 1, 3, 27, 703])
        found.append(Problem(rnd.choice(sheets), row, col, rnd.choice(["error", "warning", "odd"]), *texts))
    return found


def _general_row(
    number: int, problem: Problem, formats: parts.Formats, note: str | None, sized: tuple
) -> str:
    """The Errors row as `_row` makes it of the problem's values and formats (the writer before)."""
    return parts._row(
        number,
        [
            problem.sheet,
            problem.cell,
            problem.severity,
            problem.code,
            problem.message,
            problem.hint,
            None,
            note,
        ],
        [
            0,
            formats.link if number - 2 < MAX_LINKS else 0,
            formats.severity.get(problem.severity, 0),
            0,
            formats.wrapped,
            formats.wrapped,
            0,
            formats.bold if note else 0,
        ],
        errors_height(problem, sized),
    )


@pytest.mark.parametrize("seed", range(4))
def test_errors_rows_are_the_general_rows(seed):
    rnd = random.Random(seed)
    found = _problems(rnd, 400)
    formats = parts.Formats(5, 6, 7, {"error": 8, "warning": 9})
    notes = ["Header note", "a & <note>", ""] if seed % 2 else []
    sheet = b"".join(parts.errors_sheet(found, formats, notes)).decode()
    sized = errors_widths(found)
    rows = "".join(
        _general_row(n, p, formats, notes[n - 1] if n - 1 < len(notes) else None, sized)
        for n, p in enumerate(found, start=2)
    )
    assert rows in sheet
    links = re.findall(r'<hyperlink ref="B(\d+)" location="([^"]*)" display="([^"]*)"/>', sheet)
    assert [(int(n), loc, cell) for n, loc, cell in links] == [
        (n, parts.attr_escape(p.target), parts.attr_escape(p.cell)) for n, p in enumerate(found, start=2)
    ]


def _tree_part(prefix: str, ours: dict, author: str, monkeypatch: pytest.MonkeyPatch) -> bytes:
    with monkeypatch.context() as m:
        m.setattr(comments, "_NOT_XML", re.compile(".", re.S))  # every text looks odd: the lxml tree
        return comments.comments_part(prefix, None, ours, author)


@pytest.mark.parametrize("prefix", ["", "x:"])
@pytest.mark.parametrize("seed", range(3))
def test_a_new_comments_part_is_what_lxml_writes(prefix, seed, monkeypatch):
    rnd = random.Random(seed)
    cells = {(rnd.randint(2, 9000), rnd.randint(1, 800)) for _ in range(300)}
    ours = dict(zip(cells, _texts(rnd, len(cells)), strict=True))
    for author in ("pbload", "A & <B>"):
        written = comments.comments_part(prefix, None, ours, author)
        assert written == _tree_part(prefix, ours, author, monkeypatch)
    root = etree.fromstring(written)
    ns = {"m": comments._MAIN}
    refs = [c.get("ref") for c in root.iterfind(".//m:comment", ns)]
    assert len(refs) == len(ours)
    assert [a.text for a in root.iterfind(".//m:author", ns)] == ["A & <B>"]


def test_a_note_lxml_cannot_write_fails_as_before():
    with pytest.raises(ValueError):
        comments.comments_part("", None, {(2, 1): "bad\x01"}, "pbload")


def test_row_cells_kept_for_repeated_values_carry_each_rows_number():
    from loader.workbook.result.stream.ooxml import t_element
    from loader.workbook.result.stream.rows import SheetEdit, SheetRewriter

    names = ("Status", "PB ID", "Error Code", "Message", "Transaction ID")
    edit = SheetEdit(27, None, names, 3, (10,) * 5, 9, lambda tail, prefix: tail)
    rnd = random.Random(5)
    pool = [tuple(rnd.choice([None, "", *ODD]) for _ in names) for _ in range(30)]
    for prefix in (b"", b"x:"):
        rewriter = SheetRewriter(edit, prefix)
        p = prefix.decode()
        for row in rnd.sample(range(2, 1_048_576), 3000):
            values, style = rnd.choice(pool), rnd.choice([0, 0, 0, 3])
            s = f' s="{style}"' if style else ""
            expected = "".join(
                f'<{p}c r="{letter}{row}"{s} t="inlineStr"><{p}is>{t_element(v, p)}</{p}is></{p}c>'
                for letter, v in zip(("AA", "AB", "AC", "AD", "AE"), values, strict=True)
                if v
            )
            assert rewriter._cells(row, values, style) == expected.encode()


# A comments part as Excel writes one: the user's notes on the header (author "Ann"), pbload's notes of an
# earlier result below it, a prefix on every element or none.
_EXCEL_COMMENTS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    '<{p}comments xmlns{colon}{name}="{main}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'mc:Ignorable="xr" xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision">'
    "<{p}authors><{p}author>Ann</{p}author>{pbload}</{p}authors><{p}commentList>"
    '<{p}comment ref="A1" authorId="0" shapeId="0" xr:uid="{{0A}}"><{p}text><{p}r><{p}t>What the SKU is</{p}t>'
    "</{p}r></{p}text></{p}comment>"
    '<{p}comment ref="C1" authorId="0" shapeId="0"><{p}text><{p}t xml:space="preserve"> Weight </{p}t></{p}text>'
    "</{p}comment>{old}</{p}commentList></{p}comments>"
)


def _excel_comments(prefix: str, pbload_known: bool, old: bool = False, below: str = "") -> bytes:
    p = prefix
    old_notes = (
        f'<{p}comment ref="B7" authorId="1"><{p}text><{p}t>an old note</{p}t></{p}text></{p}comment>'
        if old
        else ""
    )
    return _EXCEL_COMMENTS.format(
        p=p,
        colon=":" if p else "",
        name=p[:-1],
        main=comments._MAIN,
        pbload=f"<{p}author>pbload</{p}author>" if pbload_known else "",
        old=old_notes + below.format(p=p),
    ).encode()


def _merged(data: bytes, ours: dict) -> tuple[bytes, bytes, bool]:
    """`merged_comments`' bytes, the lxml tree's (`comments_part`), and whether the former came as pieces."""
    fast = comments.merged_comments(comments.ExistingComments.parse(data, "pbload", 1), ours, "pbload")
    tree = comments.comments_part("", comments.ExistingComments.parse(data, "pbload", 1), ours, "pbload")
    return (b"".join(fast()) if callable(fast) else fast), tree, callable(fast)


@pytest.mark.parametrize("prefix", ["", "x:"])
@pytest.mark.parametrize("seed", range(3))
def test_notes_merged_into_a_users_comments_are_what_lxml_writes(prefix, seed):
    rnd = random.Random(seed)
    cells = {(rnd.randint(2, 9000), rnd.randint(1, 800)) for _ in range(1200)}  # three batches and more
    ours = dict(zip(cells, _texts(rnd, len(cells)), strict=True))
    for known in (True, False):
        data = _excel_comments(prefix, known, old=known and bool(seed % 2))  # an old note needs its author
        merged, tree, pieces = _merged(data, ours)
        assert pieces  # written as text, a batch at a time
        assert merged == tree
        root = etree.fromstring(merged)
        ns = {"m": comments._MAIN}
        refs = [c.get("ref") for c in root.iterfind(".//m:comment", ns)]
        assert len(refs) == 2 + len(ours) and refs[:2] == ["A1", "C1"]
        assert "B7" not in refs  # the earlier result's note is gone
        assert [a.text for a in root.iterfind(".//m:author", ns)] == ["Ann", "pbload"]


def test_notes_among_a_users_comments_below_the_header_take_lxml_and_give_the_same():
    ours = {(5, 2): "Weight: too heavy", (9001, 3): "SKU: missing"}
    below = (
        '<{p}comment ref="C40" authorId="0"><{p}text><{p}t>the user keeps this</{p}t></{p}text></{p}comment>'
    )
    merged, tree, pieces = _merged(_excel_comments("", True, below=below), ours)
    assert not pieces and merged == tree
    refs = [c.get("ref") for c in etree.fromstring(merged).iterfind(".//{*}comment")]
    assert refs == ["A1", "C1", "B5", "C40", "C9001"]


def _openpyxl_vml() -> bytes:
    """The drawing openpyxl writes for a header note (its root declares none of VML's prefixes)."""
    import io
    import zipfile

    from openpyxl import Workbook
    from openpyxl.comments import Comment

    book = Workbook()
    book.active["A1"] = "SKU"
    book.active["A1"].comment = Comment("What the SKU is", "Ann")
    saved = io.BytesIO()
    book.save(saved)
    with zipfile.ZipFile(saved) as z:
        return z.read(next(n for n in z.namelist() if n.endswith(".vml")))


def _vml_at_once(data: bytes, ours: dict) -> bytes:
    """The drawing with every new shape added at once (the writer before it wrote them a batch at a time)."""
    from loader.workbook.result.stream.xml import parse_part

    v, o, x = "v:", "o:", "x:"
    first = max(int(n) for n in re.findall(rb"_x0000_s(\d+)", data)) + 1
    shapes = "".join(
        comments._note_shape(v, o, x, first + n, r, c, t)
        for n, ((r, c), t) in enumerate(sorted(ours.items()))
    )
    if b'id="_x0000_t202"' not in data:
        shapes = comments._SHAPETYPE.format(v=v, o=o) + shapes
    if re.search(rb"<xml\b[^>]*xmlns:v=", data):  # Excel's: edited as text
        end = data.rfind(b"</xml>")
        return data[:end] + shapes.encode() + data[end:]
    part = parse_part(data, "a drawing")
    wrapper = etree.fromstring(
        f'<wrap xmlns:v="{comments._VML_NS}" xmlns:o="{comments._OFFICE_NS}" xmlns:x="{comments._EXCEL_NS}">'
        f"{shapes}</wrap>"
    )
    for element in list(wrapper):
        part.root.append(element)
    return part.render()


@pytest.mark.parametrize("made_by", ["openpyxl", "openpyxl without its shape type", "excel"])
def test_shapes_merged_into_a_drawing_are_the_bytes_of_adding_them_at_once(made_by):
    rnd = random.Random(7)
    cells = {(rnd.randint(2, 9000), rnd.randint(1, 800)) for _ in range(1200)}
    ours = dict(zip(cells, _texts(rnd, len(cells)), strict=True))
    if made_by.startswith("openpyxl"):
        data = _openpyxl_vml()
        if made_by != "openpyxl":  # the shape type comes with the new shapes
            data = re.sub(rb"<(\w+):shapetype\b.*?</\1:shapetype>", b"", data, flags=re.S)
            assert b'id="_x0000_t202"' not in data
    else:  # Excel's VML, prefixes on its root, a note on A1 (shape 1025), an unclosed <br> as Excel writes
        data = b"".join(comments.new_vml_parts({(1, 1): "What the SKU is"})).replace(b"</xml>", b"<br></xml>")
    written, shapes = comments.merged_vml(data, set(), ours)
    pieces = list(written())
    assert b"".join(pieces) == _vml_at_once(data, ours)
    assert shapes == 1 + len(ours)
    assert max(map(len, pieces)) < len(b"".join(pieces)) / 2  # made a batch of shapes at a time
    assert b"".join(written()) == b"".join(pieces)  # a second write (the writer may write twice) is the same


def test_a_plain_text_is_what_the_pattern_for_one_said():
    # `is_plain` replaced this pattern: the same answer for texts of everything it looks at
    from loader.workbook.result.stream.ooxml import is_plain, t_element

    pattern = re.compile(r"(?:[^\s&<>_\r]|_(?!x))(?:[^&<>_\r]|_(?!x))*(?<!\s)")
    rnd = random.Random(3)
    alphabet = [
        "a",
        " ",
        "\t",
        "\n",
        "\r",
        "&",
        "<",
        ">",
        "_",
        "x",
        "_x",
        "\u00a0",
        "\u2028",
        "\x1c",
        "é",
        "X",
        "1",
    ]
    for _ in range(20_000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 6)))
        assert is_plain(text) == bool(pattern.fullmatch(text)), repr(text)
    assert (
        t_element("a & b") == "<t>a &amp; b</t>"
        and t_element(" lead", "x:") == '<x:t xml:space="preserve"> lead</x:t>'
    )
