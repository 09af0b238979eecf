"""Check a sheet's rows and report every problem at once, as data.

Two stages, both over frames indexed by Excel row number:

* hygiene: turn raw cell values into typed values, reporting what Excel did to them (a SKU typed
  as a number, a date typed as text, stray spaces) and what the eye does not see in a text (a line
  break, a character-set mix-up, a literal leading apostrophe);
* schema: a pandera schema derived from the resource catalogue, validated lazily, so every
  required, length, choice, range, format, uniqueness and conditional rule is reported together
  (its failures are mostly found without running pandera: see `schema_issues`).

Each problem becomes an `Issue(sheet, row, column, code, message)` with a stable code.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from loader.codes import Code
from loader.models import Action, Issue, Severity
from loader.resources import Field, Kind, Resource
from loader.resources.base import CLEAR
from loader.workbook.reader import SheetData

if TYPE_CHECKING:
    import pandera.pandas as pa

# Excel keeps 15 significant digits; a longer number typed into a cell has already changed.
EXCEL_DIGITS = 15
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})
_NBSP = "\u00a0"
_NONE_TYPE = type(None)
MAX_ROWS_NAMED = 5  # other rows a duplicate-key message lists


@dataclass
class CheckedSheet:
    """A sheet after checking: typed values and every problem found."""

    data: SheetData
    values: pd.DataFrame
    issues: list[Issue] = field(default_factory=list)
    cleared: dict[int, set[str]] = field(default_factory=dict)  # row -> columns whose cell says CLEAR

    def invalid_rows(self, strict: bool = False) -> set[int]:
        """Rows with an error (with `strict`, with any problem at all)."""
        return {i.row for i in self.issues if i.is_error or strict}


def check_sheet(data: SheetData) -> CheckedSheet:
    """Type and check every row of one sheet."""
    cleared, problems = take_clears(data)
    values, coerced, distinct = coerce(data)
    problems += coerced
    first_rows: set[int] | None = None
    if data.resource.lines is not None:
        values, first_rows, group_problems = check_groups(data, values)
        problems += group_problems
    # a cell the reader reported (a formula's #REF!, read as blank) gets no second error, such as `required`
    already = {(i.row, i.column) for i in data.issues + problems if i.is_error}
    header = {f.header for f in data.resource.header_fields if f.name != data.resource.key}
    for issue in schema_issues(data, values, already, distinct):
        # a group's header problems are reported on its first row only
        if first_rows is None or issue.column not in header or issue.row in first_rows:
            problems.append(issue)
    for row_check in data.resource.row_checks:
        problems += row_check(data.sheet, values)
    order = _column_order(data.resource)
    problems.sort(key=lambda i: (i.row, order.get(i.column, -1)))
    return CheckedSheet(data, values, data.issues + problems, cleared)


def take_clears(data: SheetData) -> tuple[dict[int, set[str]], list[Issue]]:
    """Blank out the cells holding the clear marker, and say which they were (DESIGN §2).

    A cleared cell is checked as a blank one, so a number column may hold CLEAR and a column that
    requires it tells the user to fill it in too; a required column cannot be cleared at all.
    """
    cleared: dict[int, set[str]] = {}
    issues: list[Issue] = []
    for name, raw in data.frame.items():
        f = data.resource.by_name[name]
        if f.path is None:  # columns that steer pbload take no marker
            continue
        marked = np.asarray(raw.to_numpy() == CLEAR, dtype=bool)  # elementwise, as `v == CLEAR`
        if not marked.any():
            continue
        rows = raw.index[marked]
        data.frame.loc[rows, name] = None
        for row in map(int, rows):
            if f.required:
                issues.append(
                    Issue(
                        data.sheet,
                        row,
                        f.header,
                        Code.CANNOT_CLEAR,
                        f"{f.header} is required, so it cannot be cleared: give a value, or leave the "
                        f"cell blank to keep PB's.",
                    )
                )
            else:
                cleared.setdefault(row, set()).add(name)
    return cleared, issues


def _column_order(resource: Resource) -> dict[str | None, int]:
    """Each column's place in the catalogue (a problem of the whole row, column None, comes first)."""
    order: dict[str | None, int] = {}
    for n, f in enumerate(resource.fields):
        order.setdefault(f.header, n)
    return order


# ---------------------------------------------------------------------------------------------
# Hygiene: raw cells to typed values


@dataclass(frozen=True)
class _Problem:
    code: Code
    message: str
    given: Severity | None = None  # a severity other than the code's own (a control character in a key)

    @property
    def severity(self) -> Severity:
        return self.given or self.code.severity


Coercer = Callable[[Field, Any], "tuple[Any, _Problem | None]"]
Cells = Sequence[Any] | np.ndarray  # a column's values


def coerce(data: SheetData) -> tuple[pd.DataFrame, list[Issue], dict[str, list[str]]]:
    """Typed values for every column of the sheet, the hygiene problems met on the way, and the
    distinct texts of each text column that needed no change (blanks left out)."""
    typed: dict[str, Cells] = {}
    columns: dict[str, pd.Series] = {}
    joined: dict[str, str] = {}  # the texts of each clean text column, joined (for `text_traps`)
    distinct: dict[str, list[str]] = {}
    issues: list[Issue] = []
    index = data.frame.index
    for name, raw in data.frame.items():
        f = data.resource.by_name[name]
        values = raw.tolist()
        clean, texts = _clean_column(f, values, raw, name in data.texts)
        if clean is not None:
            if texts is not None:
                joined[name] = texts.joined
                distinct[name] = texts.present
            # a column that needs no change keeps the reader's array (copy-on-write keeps the two
            # frames apart should either be edited)
            typed[name] = raw.array
            columns[name] = _series(f, values, index) if f.kind is Kind.DECIMAL else raw
            continue
        typed[name] = _coerce_cells(f, raw, values, data.sheet, issues)
        columns[name] = _series(f, typed[name], index)
    frame = pd.DataFrame(columns, index=index, copy=False)
    return frame, issues + text_traps(data, frame, typed, joined), distinct


def _series(f: Field, values: Cells, index: pd.Index) -> pd.Series:
    # numbers as float64 (blank = NaN) make the schema's checks on them vectorised; the rest stay
    # Python objects, exactly as typed
    if f.kind is Kind.DECIMAL:
        return pd.Series(np.array(values, dtype=float), index=index)  # None becomes NaN
    return pd.Series(values, index=index, dtype=object)


_CLEAN_TYPES: dict[Kind, set[type]] = {
    Kind.DECIMAL: {float, int},
    Kind.BOOLEAN: {bool},
    Kind.DATETIME: {datetime, pd.Timestamp},
    Kind.DATE: {date},
}


class _Texts(NamedTuple):
    """The distinct texts of a column of texts only (blanks left out), and the same joined, `_JOIN`
    before each (which `text_traps` screens)."""

    present: list[str]
    joined: str


def _clean_column(
    f: Field, values: list[Any], raw: pd.Series, texts_only: bool
) -> tuple[list[Any] | None, _Texts | None]:
    """The column's values if it has nothing to convert or report, else None; and, for a text column
    of texts only, its distinct texts. `texts_only`: the reader found every cell a text or empty.

    Most columns are clean; recognising that in a few C-speed passes, instead of looking at every
    cell in Python, is what keeps checking 100,000 rows within the time calamine takes to read them.
    A column of texts repeats them (a carrier, a city): what holds for its distinct texts holds for
    all its cells.
    """
    if f.is_text:
        if not (texts_only or set(map(type, values)) <= {str, _NONE_TYPE}):
            return None, None
        present = [v for v in pd.unique(raw.to_numpy()).tolist() if v is not None]
        texts = _Texts(present, _JOIN + _JOIN.join(present))
        if list(map(str.strip, present)) != present or _NBSP in texts.joined:
            return None, texts
        if f.kind is Kind.CHOICE and not set(present) <= set(f.choices):
            return None, texts  # needs case-folding, or holds a value the schema will report
        return values, texts
    allowed = _CLEAN_TYPES.get(f.kind)
    if allowed is None:
        return None, None
    if texts_only:  # a text is never of a clean type here: clean only if blank throughout
        return (values if values.count(None) == len(values) else None), None
    return (values if set(map(type, values)) - {_NONE_TYPE} <= allowed else None), None


def _coerce_cells(f: Field, raw: pd.Series, values: list[Any], sheet: str, issues: list[Issue]) -> np.ndarray:
    """Convert a column, reporting each cell that needed it.

    A column repeats its values (a carrier, a quantity, an order's date on each of its lines): each
    distinct value is converted, and its message written, once, and the cells that already hold their
    kind's type are not looked at. Values are told apart by type first, as 1, 1.0 and True are equal
    but convert differently; -0.0 and 0.0 (equal too) convert alike outside a number column, where a
    float is never converted.
    """
    cells = raw.to_numpy(dtype=object, copy=True)
    rows = raw.index
    types = np.fromiter(map(type, values), dtype=object, count=len(values))
    todo = types != _NONE_TYPE  # elementwise, over the cells' types
    for typed in _TYPED.get(f.kind, ()):
        todo &= types != typed
    for kind in dict.fromkeys(types[todo].tolist()):
        at = np.flatnonzero(todo & (types == kind))
        codes, distinct = pd.factorize(cells[at], use_na_sentinel=False)
        done = [_COERCERS[f.kind](f, value) for value in distinct]
        converted = np.empty(len(done), dtype=object)
        converted[:] = [value for value, _ in done]
        cells[at] = converted[codes]
        for i in np.flatnonzero(np.array([p is not None for _, p in done])[codes]).tolist():
            p = done[codes[i]][1]
            assert p is not None
            message = p.message.format(header=f.header, value=_show(distinct[codes[i]]))
            issues.append(Issue(sheet, int(rows[at[i]]), f.header, p.code, message, p.severity))
    return cells


def _text(f: Field, value: Any) -> tuple[Any, _Problem | None]:
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, (datetime, date)):
        return None, _Problem(Code.WRONG_TYPE, "{header} holds a date ({value}), not text.")
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), None
    return _number_text(value), None


def _show(value: Any) -> str:
    """A cell value as a person would write it in a message."""
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    return str(value)


def _clean_text(value: str) -> tuple[str | None, _Problem | None]:
    cleaned = value.replace(_NBSP, " ").strip()
    if cleaned == value:
        return value, None
    problem = _Problem(
        Code.WHITESPACE,
        "{header} '{value}' had spaces at its start or end (or non-breaking spaces); pbload removed them.",
    )
    return cleaned or None, problem


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _code(f: Field, value: Any) -> tuple[Any, _Problem | None]:
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if abs(value) >= 10**EXCEL_DIGITS:
            return None, _Problem(
                Code.DIGITS_LOST,
                "{header} was typed as a number, and Excel keeps only "
                f"{EXCEL_DIGITS} digits, so it has changed ({{value}}). Format the column "
                "as Text and type the value again.",
            )
        return None, _Problem(
            Code.NUMBER_IN_TEXT_COLUMN,
            f"{{header}} {_number_text(value)} was typed as a "
            "number, which loses leading zeros. Format the cell as Text and type the "
            "value again.",
        )
    return _text(f, value)


def _choice(f: Field, value: Any) -> tuple[Any, _Problem | None]:
    text, problem = _text(f, value)
    if text is None:
        return text, problem
    for choice in f.choices:
        if choice.lower() == text.lower():
            return choice, problem
    return text, problem  # the schema reports it as not allowed


def _number(f: Field, value: Any) -> tuple[Any, _Problem | None]:
    if isinstance(value, bool) or isinstance(value, (datetime, date)):
        return None, _Problem(Code.WRONG_TYPE, "{header} must be a number, not '{value}'.")
    stored_as_text = None
    if isinstance(value, str):
        try:
            value = float(value.replace(_NBSP, "").strip())
        except ValueError:
            return None, _Problem(Code.WRONG_TYPE, "{header} must be a number, not '{value}'.")
        stored_as_text = _Problem(
            Code.NUMBER_STORED_AS_TEXT,
            "{header} '{value}' is a number stored as text; pbload read it as a number.",
        )
    if f.kind is Kind.INTEGER:
        if not float(value).is_integer():
            return None, _Problem(Code.WRONG_TYPE, "{header} must be a whole number, not {value}.")
        return int(value), stored_as_text
    return float(value), stored_as_text


def _boolean(f: Field, value: Any) -> tuple[Any, _Problem | None]:
    if isinstance(value, bool):
        return value, None
    text = _number_text(value) if isinstance(value, (int, float)) else str(value).strip().lower()
    if text in _TRUE:
        return True, None
    if text in _FALSE:
        return False, None
    return None, _Problem(Code.WRONG_TYPE, "{header} must be TRUE or FALSE, not '{value}'.")


def _date(f: Field, value: Any) -> tuple[Any, _Problem | None]:
    if isinstance(value, datetime):
        return (value if f.kind is Kind.DATETIME else value.date()), None
    if isinstance(value, date):
        return (datetime(value.year, value.month, value.day) if f.kind is Kind.DATETIME else value), None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None, _Problem(
                Code.WRONG_TYPE,
                "{header} '{value}' is not a date. Type it as a date, such "
                "as 2026-03-31, in a cell formatted as a date.",
            )
        typed, _ = _date(f, parsed)
        return typed, _Problem(
            Code.DATE_AS_TEXT,
            "{header} '{value}' is a date typed as text; pbload read it as a date.",
        )
    return None, _Problem(
        Code.WRONG_TYPE,
        "{header} holds the number {value}, not a date. Format the cell as "
        "a date (an Excel serial number shows that the format was lost).",
    )


_COERCERS: dict[Kind, Coercer] = {
    Kind.TEXT: _text,
    Kind.CODE: _code,
    Kind.CHOICE: _choice,
    Kind.INTEGER: _number,
    Kind.DECIMAL: _number,
    Kind.BOOLEAN: _boolean,
    Kind.DATE: _date,
    Kind.DATETIME: _date,
}

# The values each kind's coercer returns as they are, reporting nothing
_TYPED: dict[Kind, tuple[type, ...]] = {
    Kind.INTEGER: (int,),
    Kind.DECIMAL: (float,),
    Kind.BOOLEAN: (bool,),
    Kind.DATE: (date,),
    Kind.DATETIME: (datetime, pd.Timestamp),
}


# ---------------------------------------------------------------------------------------------
# Text traps: what the eye does not see in a cell's text


# `unicodedata.name` has no name for a control character: these are Unicode's own names (aliases) for them
_C0_NAMES = (
    "NULL",
    "START OF HEADING",
    "START OF TEXT",
    "END OF TEXT",
    "END OF TRANSMISSION",
    "ENQUIRY",
    "ACKNOWLEDGE",
    "ALERT",
    "BACKSPACE",
    "CHARACTER TABULATION",
    "LINE FEED",
    "LINE TABULATION",
    "FORM FEED",
    "CARRIAGE RETURN",
    "SHIFT OUT",
    "SHIFT IN",
    "DATA LINK ESCAPE",
    "DEVICE CONTROL ONE",
    "DEVICE CONTROL TWO",
    "DEVICE CONTROL THREE",
    "DEVICE CONTROL FOUR",
    "NEGATIVE ACKNOWLEDGE",
    "SYNCHRONOUS IDLE",
    "END OF TRANSMISSION BLOCK",
    "CANCEL",
    "END OF MEDIUM",
    "SUBSTITUTE",
    "ESCAPE",
    "INFORMATION SEPARATOR FOUR",
    "INFORMATION SEPARATOR THREE",
    "INFORMATION SEPARATOR TWO",
    "INFORMATION SEPARATOR ONE",
)
CONTROL_NAMES = {chr(n): name for n, name in enumerate(_C0_NAMES)} | {"\x7f": "DELETE"}
_CONTROL_KINDS = {"\n": "a line break", "\r": "a line break", "\t": "a tab"}
_SHOWN_BEFORE = 20  # characters of text before a control character that its message quotes
_SHOWN_VALUE = 40  # characters of a value that a message quotes

# What each byte 0x80-0xFF means in Windows-1252; its five unused bytes read as the C1 characters
# Windows itself maps them to
_CP1252 = {b: bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(0x80, 0x100)}
_BYTE = {char: b for b, char in _CP1252.items()}


def _chars(low: int, high: int) -> str:
    return "".join(re.escape(_CP1252[b]) for b in range(low, high + 1))


# UTF-8 read as Windows-1252: é as Ã©, ° as Â°, ’ as â€™. Only these leads, each followed by what
# can only be a UTF-8 continuation byte, so that real names (SÃO PAULO, Château) never match.
_MOJIBAKE = f"Ã[{_chars(0x80, 0xBF)}]|Â[{_chars(0xA0, 0xBF)}]|â[{_chars(0x80, 0xBF)}]{{2}}"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc: C0, DEL and C1
_C1 = re.compile(r"[\x80-\x9f]")
_SEQUENCE = re.compile(_MOJIBAKE)
_CELL = re.compile(rf"{_MOJIBAKE}|[\x00-\x1f\x7f-\x9f]|^'")
_LEADS = "ÂÃâ"
_JOIN = "~"  # printable ASCII, so that a column of plain text stays ASCII once joined


def text_traps(
    data: SheetData,
    values: pd.DataFrame,
    typed: dict[str, Cells],
    joined: dict[str, str] | None = None,
) -> list[Issue]:
    """Control characters, character-set mix-ups and literal leading apostrophes in the sheet's texts.

    An error in a key column (the resource's key, and columns naming another item, such as a line's
    SKU), where an invisible character makes another item; a warning elsewhere, where the text is
    sent as it is. Each column is screened at once, its texts joined (`joined` holds them already
    for the columns whose cells needed no change); only a column that may hold a trap is looked at
    cell by cell.
    """
    joined = joined or {}
    keys = {data.resource.key} | {f.name for f in data.resource.fields if f.product_ref}
    issues: list[Issue] = []
    for name, column in typed.items():
        f = data.resource.by_name[name]
        if not f.is_text:
            continue
        text = joined.get(name)
        if not _may_hold_trap(text if text is not None else _JOIN + _JOIN.join(filter(None, column))):
            continue
        hits = values[name].str.contains(_CELL, na=False)
        for row, value in values.loc[hits.to_numpy(dtype=bool), name].items():
            issues += [
                Issue(data.sheet, int(row), f.header, p.code, p.message, p.severity)
                for p in _traps(f, value, name in keys)
            ]
    return issues


def _may_hold_trap(joined: str) -> bool:
    """Whether a column's texts, joined, may hold a trap: a false yes only costs a look at each cell.

    A regular expression looks at each character in Python's regex engine, several times slower
    than the C loops of `str.isascii` (free), `isprintable` (false for any control character, and
    for a few other characters) and `in`; they settle nearly every column.
    """
    if _JOIN + "'" in joined:
        return True
    if joined.isascii():
        return not joined.isprintable()  # C0 or DEL
    if not joined.isprintable() and _CONTROL.search(joined):
        return True
    return any(lead in joined for lead in _LEADS) and _SEQUENCE.search(joined) is not None


def _traps(f: Field, value: str, key: bool) -> list[_Problem]:
    """The problems of one text: at most one of each code (in a key, C1 characters are control characters)."""
    controls = [m.start() for m in _CONTROL.finditer(value)]
    problems = []
    if key and controls:
        problems.append(_control_problem(f.header, value, controls, Severity.ERROR))
    else:
        c0 = [at for at in controls if value[at] < "\x80"]
        if c0:
            problems.append(_control_problem(f.header, value, c0, Severity.WARNING))
        mojibake = (
            _mojibake_problem(f.header, value) if len(c0) < len(controls) or _SEQUENCE.search(value) else None
        )
        if mojibake:
            problems.append(mojibake)
    if value.startswith("'"):
        problems.append(_apostrophe_problem(f.header, value, key))
    return problems


def _control_problem(header: str, value: str, at: list[int], severity: Severity) -> _Problem:
    before = value[: at[0]]
    where = f"after '{_tail(before)}'" if before else "at the start"
    more = f", and {len(at) - 1} more control character{'s' if len(at) > 2 else ''}" if len(at) > 1 else ""
    if severity is Severity.ERROR:
        end = "retype it without them." if more else "retype it without one."
    else:
        end = "pbload sends the text as it is."
    return _Problem(
        Code.CONTROL_CHARACTER,
        f"{header} contains {describe_control(value[at[0]])} {where}{more}; {end}",
        severity,
    )


def describe_control(char: str) -> str:
    """A control character as a message names it: "a line break (LINE FEED)"."""
    if char in CONTROL_NAMES:
        return f"{_CONTROL_KINDS.get(char, 'a control character')} ({CONTROL_NAMES[char]})"
    meant = _CP1252[ord(char)]
    guess = f", probably {meant} converted with the wrong character set" if meant != char else ""
    return f"an invisible control character (U+{ord(char):04X}{guess})"


def _mojibake_problem(header: str, value: str) -> _Problem | None:
    """C1 characters (Windows-1252 read as Latin-1) and UTF-8 read as Windows-1252, with what was meant."""
    meant: dict[str, str] = {}  # what the text holds -> what was probably meant ("" for no guess)
    inside: set[int] = set()
    for m in _SEQUENCE.finditer(value):
        seen = _C1.sub("", m.group())  # as the cell shows it: ” read as â€ and an invisible U+009D
        meant.setdefault(f"'{seen}'", bytes(_BYTE[c] for c in m.group()).decode("utf-8"))
        inside.update(range(m.start(), m.end()))
    codes: dict[str, str] = {}
    for m in _C1.finditer(value):
        if m.start() not in inside:
            guess = _CP1252[ord(m.group())]
            codes.setdefault(f"U+{ord(m.group()):04X}", "" if guess == m.group() else guess)
    if not meant and not codes:
        return None
    shown = (
        [f"the invisible character{'s' if len(codes) > 1 else ''} {_and_list(list(codes))}"] if codes else []
    )
    shown += list(meant)
    guesses = list(dict.fromkeys(g for g in [*codes.values(), *meant.values()] if g))
    if guesses:
        why = (
            f"it looks like {_and_list(guesses)} {'was' if len(guesses) == 1 else 'were'} converted with the "
            "wrong character set"
        )
    else:
        why = "it looks like the text was converted with the wrong character set"
    return _Problem(
        Code.MOJIBAKE,
        f"{header} holds {_and_list(shown)}: {why}. pbload sends the text as it is.",
    )


def _apostrophe_problem(header: str, value: str, key: bool) -> _Problem:
    unless = f", so it does not match {_head(value[1:])}" if key and value[1:] else ""
    return _Problem(
        Code.APOSTROPHE_PREFIX,
        f'{header} "{_head(value)}" begins with an apostrophe, which is part of the '
        f"value: pbload sends it with the apostrophe{unless}.",
    )


def _tail(text: str) -> str:
    return text if len(text) <= _SHOWN_BEFORE else "…" + text[-_SHOWN_BEFORE:]


def _head(text: str) -> str:
    return text if len(text) <= _SHOWN_VALUE else text[:_SHOWN_VALUE] + "…"


def _and_list(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


# ---------------------------------------------------------------------------------------------
# Groups: header/line resources, one row per line


def check_groups(data: SheetData, values: pd.DataFrame) -> tuple[pd.DataFrame, set[int], list[Issue]]:
    """Check each group of rows (one order, ASN, bill or return) and fill its header values in.

    Returns the values with blank header cells filled from the group; the first row of each group
    (where its header problems are reported); and the problems: a line naming no group, header
    values that differ within a group, repeated lines.
    """
    resource = data.resource
    key = values[resource.key]
    issues = [
        Issue(
            data.sheet,
            int(row),
            resource.key_field.header,
            Code.NO_HEADER,
            f"This line has no {resource.key_field.header}: fill it in to say which one it belongs to.",
        )
        # a key typed wrongly (a number) is already reported: only a blank one means "no header"
        for row in values.index[data.frame[resource.key].isna()]
    ]
    grouped = key.where(key.notna(), None)
    groups = _Groups(grouped)
    filled: dict[str, pd.Series] = {}  # only the header columns a group fills in; the rest are shared
    for f in resource.header_fields:
        if f.name not in values.columns or f.name == resource.key:
            continue
        column = values[f.name]
        header = _GroupHeader(groups, column)
        for at in header.differing():
            issues.append(_mismatch(data, f, int(groups.rows[at]), *header.mismatch(at)))
        if header.blank.any():
            filled[f.name] = header.filled()
    values = values.assign(**filled)
    issues += _repeated_lines(data, values, grouped)
    return values, groups.first_rows(), issues


class _Groups:
    """The groups of a sheet's rows: each row's group number (-1 for a row naming none)."""

    def __init__(self, grouped: pd.Series) -> None:
        self.keys = grouped.to_numpy()
        self.codes, uniques = pd.factorize(self.keys)
        self.count = len(uniques)
        self.grouped = self.codes >= 0
        self.rows = grouped.index.to_numpy()

    def first_rows(self) -> set[int]:
        """The lowest row number of each group."""
        return set(self.min_rows(self.grouped).tolist())

    def min_rows(self, where: np.ndarray) -> np.ndarray:
        """For each group, the lowest row number among the rows `where` holds."""
        lowest = np.full(self.count, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(lowest, self.codes[where], self.rows[where])
        return lowest

    def first_of(self, where: np.ndarray) -> np.ndarray:
        """For each group, the position of its first row `where` holds (-1 if none), and -1 last, for
        the rows of no group (group number -1)."""
        at = np.flatnonzero(where & self.grouped)
        numbers, first = np.unique(self.codes[at], return_index=True)
        positions = np.full(self.count + 1, -1, dtype=np.int64)
        positions[numbers] = at[first]
        return positions


class _GroupHeader:
    """One header column over the groups: each row's group value (its first filled cell), and what
    differs from it or is blank.

    The same as pandas' `groupby(...).transform("first")` and `where`, down to the type of a filled-in
    value (a group's date is filled in as a pandas Timestamp), with the groups found once for all the
    header columns and each cell compared in one pass.
    """

    def __init__(self, groups: _Groups, column: pd.Series) -> None:
        self.groups, self.column = groups, column
        self.cells = column.to_numpy()
        self.present = column.notna().to_numpy()
        self.first = groups.first_of(self.present)  # group number -> position of its first filled cell
        self.at = self.first[groups.codes]  # row -> that position
        self.blank = ~self.present & (self.at >= 0)
        self._inferred: pd.Series | None = None
        self._min_rows: np.ndarray | None = None

    def differing(self) -> list[int]:
        """Positions of the filled cells whose value differs from their group's first."""
        others = np.flatnonzero(self.present & (self.at >= 0) & (self.at != np.arange(len(self.at))))
        differs = np.asarray(self.cells[others] != self.cells[self.at[others]], dtype=bool)
        return others[differs].tolist()

    def group_values(self, groups: np.ndarray) -> np.ndarray:
        """The first values of these groups as pandas infers them: dates become Timestamps."""
        if self.cells.dtype != object:
            return self.cells[self.first[groups]]
        if self._inferred is None:
            # each group's first value, NaN for a group with none; and NaN last, for the rows of no
            # group (which take part in pandas' inference)
            firsts = np.full(self.groups.count + 1, np.nan, dtype=object)
            has = self.first >= 0
            firsts[has] = self.cells[self.first[has]]
            self._inferred = pd.Series(firsts if (self.groups.codes < 0).any() else firsts[:-1])
        return self._inferred.iloc[groups].to_numpy(dtype=object)

    def mismatch(self, at: int) -> tuple[Any, Any, int, Any]:
        """What the message of a differing cell names: its value, the group's, where that is, the key."""
        group = self.groups.codes[at]
        if self._min_rows is None:
            self._min_rows = self.groups.min_rows(self.present & self.groups.grouped)
        first = self.group_values(np.array([group]))[0]
        return self.cells[at], first, int(self._min_rows[group]), self.groups.keys[at]

    def filled(self) -> pd.Series:
        """The column with its blank cells filled in from their group."""
        cells = self.cells.copy()
        blank = np.flatnonzero(self.blank)
        groups, which = np.unique(self.groups.codes[blank], return_inverse=True)
        cells[blank] = self.group_values(groups)[which]
        return pd.Series(cells, index=self.column.index, dtype=cells.dtype, name=self.column.name)


def _mismatch(data: SheetData, f: Field, row: int, value: Any, first: Any, first_row: int, key: Any) -> Issue:
    return Issue(
        data.sheet,
        int(row),
        f.header,
        Code.HEADER_MISMATCH,
        f"{f.header} '{_show(value)}' differs from '{_show(first)}' on row {first_row}, the first row of "
        f"{data.resource.key_field.header} {key}. Leave it blank or repeat the same value.",
    )


def _repeated_lines(data: SheetData, values: pd.DataFrame, grouped: pd.Series) -> list[Issue]:
    resource = data.resource
    issues = []
    for name in resource.unique_lines:
        if name not in values.columns:
            continue
        f = resource.by_name[name]
        pairs = pd.DataFrame({"group": grouped, "line": values[name]})
        repeated = (
            pairs["group"].notna() & pairs["line"].notna() & pairs.duplicated(["group", "line"], keep="first")
        )
        for row in values.index[repeated]:
            issues.append(
                Issue(
                    data.sheet,
                    int(row),
                    f.header,
                    Code.DUPLICATE_LINE,
                    f"{f.header} {_show(values.at[row, name])} appears twice in "
                    f"{resource.key_field.header} {grouped[row]}; each may appear once.",
                )
            )
    for name in resource.not_key:
        if name not in values.columns:
            continue
        f = resource.by_name[name]
        for row in values.index[values[name].notna() & (values[name] == grouped)]:
            issues.append(
                Issue(
                    data.sheet,
                    int(row),
                    f.header,
                    Code.SELF_REFERENCE,
                    f"{f.header} {values.at[row, name]} is the {resource.key_field.header} itself; "
                    "a kit cannot contain itself.",
                )
            )
    return issues


# ---------------------------------------------------------------------------------------------
# Schema: the catalogue's rules as a pandera schema


ColumnRule = Callable[[pd.Series], pd.Series]  # a column's non-blank values -> which pass
FrameRule = Callable[[pd.DataFrame], pd.Series]  # the frame -> which rows pass


def build_schema(resource: Resource, columns: list[str], screen: _Screen | None = None) -> pa.DataFrameSchema:
    """The pandera schema for the columns a sheet has; check names are pbload's issue codes.

    With a `screen`, only the rules it found may fail are in it (the others would pass).
    """
    import pandera.pandas as pa  # 0.35 s to import, and most sheets are checked without it

    def kept(column: str, rule: str) -> bool:
        return screen is None or screen.may_fail(column, rule)

    schema_columns = {
        f.name: pa.Column(
            float if f.kind is Kind.DECIMAL else object,
            nullable=not (f.required and kept(f.name, NOT_NULLABLE)),
            unique=_unique(resource, f) and kept(f.name, UNIQUE),
            report_duplicates="all",
            checks=[
                pa.Check(rule, name=code, ignore_na=True)
                for code, rule in _column_rules(f)
                if kept(f.name, code)
            ],
        )
        for f in resource.fields
        if f.name in columns and (screen is None or screen.may_fail(f.name))
    }
    frame_checks = [
        pa.Check(rule, name=name, ignore_na=False)
        for name, rule in _frame_rules(resource, columns, _FilledMasks())
        if kept("", name)
    ]
    return pa.DataFrameSchema(schema_columns, checks=frame_checks, coerce=False)


def _unique(resource: Resource, f: Field) -> bool:
    return f.name == resource.key and resource.lines is None


def _column_rules(f: Field) -> list[tuple[str, ColumnRule]]:
    """The rules of one column's values, each named by the code it reports."""
    rules: list[tuple[str, ColumnRule]] = []
    longest, choices, low, pattern = f.max_length, f.choices, f.minimum, f.pattern
    if longest:
        rules.append((Code.TOO_LONG, lambda s: s.str.len() <= longest))
    if choices:
        rules.append((Code.NOT_ALLOWED, lambda s: s.isin(choices)))
    if low is not None:
        strict = f.minimum_exclusive
        rules.append(
            (Code.OUT_OF_RANGE, lambda s: s.astype(float) > low if strict else s.astype(float) >= low)
        )
    if pattern:
        rules.append((Code.BAD_FORMAT, lambda s: s.str.fullmatch(pattern)))
    return rules


def _frame_rules(resource: Resource, columns: list[str], filled: _FilledMasks) -> list[tuple[str, FrameRule]]:
    rules = [
        (f"required-with:{f.name}", _required_with(f, [o for o in f.required_with if o in columns], filled))
        for f in resource.fields
        if f.required_with and f.name in columns
    ]
    rules += [
        (f"required-if:{f.name}", _required_if(f, f.required_if[0], f.required_if[1], filled))
        for f in resource.fields
        if f.required_if and f.name in columns and f.required_if[0] in columns
    ]
    return rules


class _FilledMasks:
    """Which cells of a column are filled in, worked out once per column for all conditional rules."""

    def __init__(self) -> None:
        self._masks: dict[str, np.ndarray] = {}

    def __call__(self, frame: pd.DataFrame, name: str) -> np.ndarray:
        if name not in self._masks:
            self._masks[name] = frame[name].notna().to_numpy()
        return self._masks[name]


def _required_with(f: Field, others: list[str], filled: _FilledMasks) -> FrameRule:
    def check(frame: pd.DataFrame) -> pd.Series:
        needed = np.zeros(len(frame), dtype=bool)
        for other in others:
            needed |= filled(frame, other)
        return pd.Series(~needed | filled(frame, f.name), index=frame.index)

    return check


def _required_if(f: Field, other: str, values: tuple[str, ...], filled: _FilledMasks) -> FrameRule:
    def check(frame: pd.DataFrame) -> pd.Series:
        needed = frame[other].isin(values).to_numpy()
        return pd.Series(~needed | filled(frame, f.name), index=frame.index)

    return check


def schema_issues(
    data: SheetData,
    values: pd.DataFrame,
    already: set[tuple[int, str | None]],
    distinct: dict[str, list[str]] | None = None,
) -> list[Issue]:
    """The schema's failures, each an Issue (skipping cells already reported). `distinct` holds the
    distinct texts of columns already known (`coerce`'s).

    A screen finds which cells may fail which rule. Where it knows they do fail, and no cell fails
    two rules, its cells are the failures pandera would report, found without it. Otherwise the
    schema is run lazily over only the rows, and with only the rules, that the screen found may fail.
    """
    screen = _Screen(data.resource, values, distinct or {})
    if not screen.rows.any():
        return []
    found = screen.failure_cases(values)
    if found is not None:
        issues = _issues(data, values, found, already)
        # pandera orders its failures with an unstable sort: when two issues meet at one cell, only it
        # says which comes first
        if len({(row, column) for row, column, _ in issues}) == len(issues):
            return list(issues.values())
    return list(_issues(data, values, _pandera_cases(data, values, screen), already).values())


def _pandera_cases(data: SheetData, values: pd.DataFrame, screen: _Screen) -> Iterator[_Case]:
    """The schema's failures as pandera reports them."""
    import pandera.pandas as pa

    rows = values if screen.rows.all() else values.iloc[np.flatnonzero(screen.rows)]
    schema = build_schema(data.resource, list(values.columns), screen)
    try:
        # without coercion the schema changes nothing, so it may look at the frame itself, not a copy
        schema.validate(rows, lazy=True, inplace=True)
        return iter(())
    except pa.errors.SchemaErrors as exc:
        return _failure_cases(exc.failure_cases)


def _issues(
    data: SheetData, values: pd.DataFrame, cases: Iterable[_Case], already: set[tuple[int, str | None]]
) -> dict[tuple[int, str | None, str], Issue]:
    """One issue per cell and code, the first case's (skipping cells already reported)."""
    issues: dict[tuple[int, str | None, str], Issue] = {}
    cancels = _cancel_rows(data.resource, values)
    rows_of = _RowsOf(values)
    for case in cases:
        issue = _issue_for(data, values, case, rows_of)
        # frame-wide checks report a failing row once per column; keep one issue per cell and code
        if (
            issue
            and (issue.row, issue.column) not in already
            and not _needless(data.resource, issue, cancels)
        ):
            issues.setdefault((issue.row, issue.column, issue.code), issue)
    return issues


NOT_NULLABLE, UNIQUE = "not_nullable", "field_uniqueness"  # pandera's names for its own checks


class _Screen:
    """Which rows of a sheet's values, and which rules of its schema, may fail: found in a few passes
    over each column, so that pandera validates only those rows against only those rules.

    A column's rule is tried on each distinct value of the column; a row can fail only if it holds a
    value that fails, a blank in a required column, a repeated key, or fails a conditional rule.
    Taking in more (rows or rules) than fail is harmless, leaving one out is not; `exact` says
    whether the screen took in only cells that fail.
    """

    def __init__(self, resource: Resource, values: pd.DataFrame, distinct: dict[str, list[str]]) -> None:
        self.rows = np.zeros(len(values), dtype=bool)
        # (column name, "" for the frame; rule name) -> the cells that may fail it
        self.failing: dict[tuple[str, str], np.ndarray] = {}
        self.exact = True
        self._rules: dict[tuple[str, str], ColumnRule] = {}
        for f in resource.fields:
            if f.name not in values.columns:
                continue
            column = values[f.name]
            if f.required:
                self._mark(f.name, NOT_NULLABLE, column.isna().to_numpy())
            if _unique(resource, f):
                # pandera leaves repeated blanks out (a blank key is reported as required)
                repeated = column.duplicated(keep=False).to_numpy() & column.notna().to_numpy()
                self._mark(f.name, UNIQUE, repeated)
            rules = _column_rules(f)
            if rules:
                # a text column's distinct texts are the same once a group's blanks are filled in
                known = distinct.get(f.name)
                present = _distinct(column) if known is None else pd.Series(known, dtype=object)
                for code, rule in rules:
                    cells, exact = _failing_cells(column, present, rule)
                    if self._mark(f.name, code, cells):
                        self._rules[f.name, code] = rule
                        self.exact &= exact
        for name, frame_rule in _frame_rules(resource, list(values.columns), _FilledMasks()):
            self._mark("", name, ~frame_rule(values).to_numpy(dtype=bool))

    def _mark(self, column: str, rule: str, cells: np.ndarray) -> bool:
        if not cells.any():
            return False
        self.rows |= cells
        self.failing[column, rule] = cells
        return True

    def may_fail(self, column: str, rule: str | None = None) -> bool:
        """Whether the rule of the column (with no rule: any rule of it) may fail on some row."""
        return any(c == column and rule in (None, r) for c, r in self.failing)

    def failure_cases(self, values: pd.DataFrame) -> list[_Case] | None:
        """The failures pandera would find, as it reports them; None where the screen cannot tell.

        The frame's conditional rules come first, as pandera sorts them first: where one and a
        column's own rule report the same cell (both say it is required), the conditional rule's
        message is the one kept. Two conditional rules of one column failing on one row are left
        to pandera, whose order decides which message is kept.
        """
        if not self.exact:
            return None
        index = values.index.to_numpy()
        cases: list[_Case] = []
        conditional: dict[str, np.ndarray] = {}  # column -> rows failing one of its conditional rules
        for (column, rule), cells in self.failing.items():
            if column:
                continue
            name = rule.split(":", 1)[1]
            if name in conditional and (conditional[name] & cells).any():
                return None
            conditional[name] = conditional.get(name, cells) | cells
            cases += (_Case(None, rule, None, row) for row in index[cells].tolist())
        for (column, rule), cells in self.failing.items():
            if not column:
                continue
            at = np.flatnonzero(cells)
            cell_values = values[column].iloc[at]
            if (column, rule) in self._rules:
                # the cells hold values equal to failing ones: ask the rule of each cell's own value
                try:
                    fails = ~self._rules[column, rule](cell_values).to_numpy(dtype=bool, na_value=False)
                except Exception:  # the schema reports what becomes of it
                    return None
                at, cell_values = at[fails], cell_values[fails]
            shown = [None] * len(at) if rule == NOT_NULLABLE else cell_values.tolist()
            cases += map(_Case, itertools.repeat(column), itertools.repeat(rule), shown, index[at].tolist())
        return cases


def _distinct(column: pd.Series) -> pd.Series | None:
    """The distinct values of a column of objects, blanks left out (a number column's values as they
    are); None for values of several types, which may fare differently though equal (1 and True)."""
    if column.dtype != object:
        return column.dropna()
    distinct = pd.unique(column.to_numpy())
    present = pd.Series(distinct[~pd.isna(distinct)], dtype=object)
    return present if len(set(map(type, present))) <= 1 else None


def _failing_cells(
    column: pd.Series, distinct: pd.Series | None, rule: ColumnRule
) -> tuple[np.ndarray, bool]:
    """The cells of a column whose value fails the rule (every filled one where that is not known),
    and whether that is known."""
    if distinct is None:
        return column.notna().to_numpy(), False
    try:
        failing = ~rule(distinct).to_numpy(dtype=bool, na_value=False)
    except Exception:  # the schema reports what becomes of it
        return column.notna().to_numpy(), False
    if not failing.any():
        return np.zeros(len(column), dtype=bool), True
    return column.isin(distinct[failing]).to_numpy(), True


class _Case(NamedTuple):
    """One of pandera's failure cases."""

    column: Any
    check: Any
    failure_case: Any
    index: Any


def _failure_cases(cases: pd.DataFrame) -> Iterator[_Case]:
    # by columns, as Python values: `itertuples` over a column of str looks at every cell in Python
    columns = [cases[name].tolist() for name in _Case._fields]
    return map(_Case._make, zip(*columns, strict=True))


def _cancel_rows(resource: Resource, values: pd.DataFrame) -> set[int]:
    """Rows that cancel an item (where the resource can be cancelled)."""
    if Action.CANCEL not in resource.actions or "action" not in values.columns:
        return set()
    return {int(row) for row in values.index[values["action"] == Action.CANCEL.value]}


def _needless(resource: Resource, issue: Issue, cancels: set[int]) -> bool:
    """A cancel names only the item's key: its other required columns may stay blank."""
    return issue.code == Code.REQUIRED and issue.row in cancels and issue.column != resource.key_field.header


class _RowsOf:
    """The rows holding each value of a column, worked out once per column (for duplicate keys)."""

    def __init__(self, values: pd.DataFrame) -> None:
        self._values = values
        self._rows: dict[str, dict[Any, list[int]]] = {}

    def __call__(self, name: str, value: Any) -> list[int]:
        if name not in self._rows:
            column = self._values[name].dropna()
            self._rows[name] = {
                v: [int(r) for r in rows] for v, rows in column.groupby(column).groups.items()
            }
        return self._rows[name].get(value, [])


def _issue_for(data: SheetData, values: pd.DataFrame, case: Any, rows_of: _RowsOf) -> Issue | None:
    if case.index is None or pd.isna(case.index):
        return None
    row = int(case.index)
    check = str(case.check)
    if check.startswith("required-with:"):
        name = check.split(":", 1)[1]
        f = data.resource.by_name[name]
        return Issue(data.sheet, row, f.header, Code.REQUIRED, _required_with_message(data, f))
    if check.startswith("required-if:"):
        f = data.resource.by_name[check.split(":", 1)[1]]
        other, allowed = f.required_if  # type: ignore[misc]
        value = values.at[row, other]
        return Issue(
            data.sheet,
            row,
            f.header,
            Code.REQUIRED,
            f"{f.header} is required when {data.resource.by_name[other].header} is {value}.",
        )
    f = data.resource.by_name[case.column]
    header = f.header
    code, message = _describe(check, f, header, case.failure_case, rows_of, row)
    return Issue(data.sheet, row, header, code, message)


def _required_with_message(data: SheetData, f: Field) -> str:
    others = [data.resource.by_name[o].header for o in f.required_with]
    return f"{f.header} is required when {_or_list(others)} is filled in."


def _or_list(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _describe(check: str, f: Field, header: str, value: Any, rows_of: _RowsOf, row: int) -> tuple[str, str]:
    if check == "not_nullable":
        return Code.REQUIRED, f"{header} is required."
    if check == "field_uniqueness":
        rows = rows_of(f.name, value)
        count = len(rows) - 1  # the other rows holding the same value
        others = [str(r) for r in itertools.islice((r for r in rows if r != row), MAX_ROWS_NAMED)]
        more = [f"{count - MAX_ROWS_NAMED:,} more"] if count > MAX_ROWS_NAMED else []
        where = f"row {others[0]}" if count == 1 else "rows " + ", ".join(others + more)
        return Code.DUPLICATE_KEY, (
            f"{header} '{value}' appears more than once (also on {where}); "
            f"each {header} may appear only once."
        )
    if check == Code.TOO_LONG:
        return Code.TOO_LONG, f"{header} is {len(value)} characters long; at most {f.max_length} are allowed."
    if check == Code.NOT_ALLOWED:
        return Code.NOT_ALLOWED, f"{header} '{value}' is not allowed; use one of {', '.join(f.choices)}."
    if check == Code.OUT_OF_RANGE:
        bound = "greater than" if f.minimum_exclusive else "at least"
        return Code.OUT_OF_RANGE, f"{header} must be {bound} {f.minimum:g}, not {value:g}."
    if check == Code.BAD_FORMAT:
        return Code.BAD_FORMAT, f"{header} '{value}' is not valid: it must be {f.pattern_hint}."
    return check, f"{header} failed the check {check}."
