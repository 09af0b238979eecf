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
