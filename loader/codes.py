"""Every problem code pbload gives a row itself, with its severity and the hint the user reads.

One registry, in the spirit of frictionless's error classes: a check, the reader, the planner or the
sender names a problem by a `Code`, and the Errors sheet and the console summary take
the hint from here. A `Code` is a `str` (`Code.UNKNOWN_SKU == "unknown-sku"`), so codes kept in a
journal or compared as text keep working.

Whatever other code an outcome carries came from the API: PB's own codes (``PB-4001``, the
gateway's ``PB-APIM-ERR-...``) or ``HTTP-nnn``; `hint_for` gives those a hint by family.

A code's `severity` is the one it is reported with; `control-character` is the one code reported
with another severity in some cells: an error in a key column, where an invisible character makes
another item.
"""

from __future__ import annotations

import enum

from loader.gateway_codes import GATEWAY_CODE_PREFIX, THROTTLE_CODES, TOKEN_RENEWAL_CODES
from loader.models import Severity

_ERROR, _WARNING = Severity.ERROR, Severity.WARNING


class Code(str, enum.Enum):
    """A problem code of pbload's own: its text, the severity it is reported with and its hint."""

    severity: Severity
    hint: str

    def __new__(cls, text: str, severity: Severity, hint: str) -> Code:
        member = str.__new__(cls, text)
        member._value_ = text
        member.severity = severity
        member.hint = hint
        return member

    def __str__(self) -> str:
        return str(self.value)  # printed and formatted as its text, as the string it replaces was

    # Checks of a cell's value (loader.checks) --------------------------------------------------
    REQUIRED = "required", _ERROR, "Fill in the cell, then load this workbook again."
    CANNOT_CLEAR = (
        "cannot-clear",
        _ERROR,
        "Give the column a value, or leave the cell blank to keep what PB has.",
    )
    TOO_LONG = "too-long", _ERROR, "Shorten the text to the length the message gives."
    NOT_ALLOWED = (
        "not-allowed",
        _ERROR,
        "Pick one of the values the message lists (the cell's drop-down offers them).",
    )
    OUT_OF_RANGE = "out-of-range", _ERROR, "Enter a value inside the range the message gives."
    BAD_FORMAT = "bad-format", _ERROR, "Retype the value in the format the message describes."
    WRONG_TYPE = (
        "wrong-type",
        _ERROR,
        "Enter the kind of value the column takes (a number, a date, TRUE/FALSE or text).",
    )
    NUMBER_IN_TEXT_COLUMN = (
        "number-in-text-column",
        _ERROR,
        "Format the cell as Text and retype the value, so Excel keeps it exactly as typed.",
    )
    DIGITS_LOST = (
        "digits-lost",
        _ERROR,
        "Excel rounded this long number: format the cell as Text and type the full value again.",
    )
    DUPLICATE_KEY = (
        "duplicate-key",
        _ERROR,
        "Keep one row for each key: delete or correct the other rows with the same value.",
    )
    WHITESPACE = (
        "whitespace",
        _WARNING,
        "Nothing to do: pbload removed the spaces. Delete them in the sheet to silence this warning.",
    )
    NUMBER_STORED_AS_TEXT = (
        "number-stored-as-text",
        _WARNING,
        "Nothing to do: pbload read the number. Convert the cell to a number to silence this.",
    )
    DATE_AS_TEXT = (
        "date-as-text",
        _WARNING,
        "Nothing to do if pbload read the date you meant; otherwise type it as a real date.",
    )
    CONTROL_CHARACTER = (
        "control-character",
        _WARNING,  # an error in a key column
        "Retype the value without the line break or invisible character (it often comes from pasting).",
    )
    MOJIBAKE = (
        "mojibake",
        _WARNING,
        "Retype the quote marks or dashes: the text was converted with the wrong character set on its way here.",
    )
    APOSTROPHE_PREFIX = (
        "apostrophe-prefix",
        _WARNING,
        "Delete the leading apostrophe if it is not part of the value (it often comes from a CSV file).",
    )

    # Checks of a group of rows (an order and its lines, a kit and its bill) ---------------------
    NO_HEADER = (
        "no-header",
        _ERROR,
        "Fill in the key column so pbload knows which group this line belongs to.",
    )
    HEADER_MISMATCH = (
        "header-mismatch",
        _ERROR,
        "Leave the cell blank on the group's other rows, or repeat the first row's value.",
    )
    DUPLICATE_LINE = "duplicate-line", _ERROR, "Combine the two lines into one, or delete one of them."
    SELF_REFERENCE = (
        "self-reference",
        _ERROR,
        "Replace the value with another item: an item cannot contain itself.",
    )

    # A resource's own row checks (loader.resources) ----------------------------------------------
    DIMENSIONS_REORDERED = (
        "dimensions-reordered",
        _WARNING,
        "Nothing to do: pbload sent Length, Height and Width longest first, as PB wants them.",
    )

    # What the reader sees in the workbook (loader.workbook.reader) ------------------------------
    MERGED_CELLS = "merged-cells", _ERROR, "Unmerge the cells and fill in the value on every row."
    BLANK_ROWS = (
        "blank-rows",
        _WARNING,
        "Nothing to do: blank rows are skipped. Delete them to silence this warning.",
    )
    UNKNOWN_COLUMN = (
        "unknown-column",
        _WARNING,
        "Nothing to do if the column is yours; pbload keeps it but does not send it.",
    )
    EMPTY_SHEET = (
        "empty-sheet",
        _WARNING,
        "Nothing to do: the empty sheet was skipped. Fill it in if its rows are meant to load.",
    )
    FORMULA_ERROR = (
        "formula-error",
        _ERROR,
        "Correct the formula in Excel (or type the value itself), save, and load this workbook again.",
    )
    FORMULA_NOT_CALCULATED = (
        "formula-not-calculated",
        _ERROR,
        "Open the workbook in Excel or LibreOffice and save it, so each formula's value is stored; "
        "then load it again.",
    )
    HIDDEN_ROW = (
        "hidden-row",
        _WARNING,
        "Nothing to do if the row is meant to load; otherwise delete it. Unhide it to check it.",
    )
    HIDDEN_COLUMN = (
        "hidden-column",
        _WARNING,
        "Nothing to do if the column's values are right; unhide the column to check them.",
    )
    FILTERED_ROW = (
        "filtered-row",
        _WARNING,
        "Nothing to do if the row is meant to load; otherwise delete it. Clear the filter to see it.",
    )
    HIDDEN_SHEET = (
        "hidden-sheet",
        _WARNING,
        "Nothing to do if this is the sheet to load; unhide it to check its rows.",
    )
    FORMATTING_NOT_KEPT = (
        "formatting-not-kept",
        _WARNING,
        "Nothing to do: work on in the result workbook, or save your file as .xlsx to keep its formatting.",
    )

    # Planning: what one item needs from another (loader.plan) -----------------------------------
    UNKNOWN_SKU = (
        "unknown-sku",
        _ERROR,
        "Add the product to the Products sheet or correct the SKU, then load again.",
    )
    INVALID_GROUP = (
        "invalid-group",
        _ERROR,
        "Fix the rows of the same group that have problems; this row is sent with them.",
    )
    DEPENDENCY_FAILED = (
        "dependency-failed",
        _ERROR,
        "Fix the item this row depends on (see its own row), then load this workbook again.",
    )

    # Sending (loader.send): what became of an item when PB's answer did not say ------------------
    NO_ANSWER = (
        "no-answer",
        _ERROR,
        "Load the same workbook again: pbload finds out what PB has and sends nothing twice.",
    )
    NO_RESULT = (
        "no-result",
        _ERROR,
        "Check the item at PB before loading it again; the API did not say what became of it.",
    )
    UNREACHABLE = (
        "unreachable",
        _ERROR,
        "Nothing reached PB: check the connection to PB, then load this workbook again.",
    )
    LOOKUP_FAILED = (
        "lookup-failed",
        _ERROR,
        "Load the same workbook again: pbload looks the item up at PB first and sends nothing twice.",
    )
    NOT_FOUND = "not-found", _ERROR, "Use CREATE or UPSERT in the Action column, or correct the key."
    ALREADY_EXISTS = (
        "already-exists",
        _ERROR,
        "Use UPDATE or UPSERT in the Action column, or correct the key.",
    )

    @classmethod
    def of(cls, text: str | None) -> Code | None:
        """The code `text` names, or None for a code that is not pbload's (PB's, or none at all)."""
        member = cls._value2member_map_.get(text) if text else None
        return member if isinstance(member, Code) else None


# Any other code on a FAILED row is PB's answer to what was sent.
API_FAILURE_HINT = "PB refused this row: correct it as the message says, then load this workbook again."
SERVER_FAILURE_HINT = (
    "PB's service had a problem; load this workbook again later (rows already loaded stay loaded)."
)
UNKNOWN_HINT = "Correct the row as the message says, then load this workbook again."
THROTTLE_HINT = (
    "PB was busy and throttled the request: load this workbook again later (loaded rows stay loaded)."
)
TOKEN_HINT = (
    "PB refused the access token even after a new one: check PB_API_KEY and PB_API_SECRET for this "
    "environment (--env), then load this workbook again."
)
GATEWAY_HINT = (
    "PB's gateway refused the request before PB saw it: see the message, then load this workbook again."
)


def hint_for(code: str | None, from_api: bool = False) -> str:
    """The hint for `code`; `from_api` when the code came back from the API rather than a check."""
    known = Code.of(code)
    if known is not None:
        return known.hint
    if code in THROTTLE_CODES:
        return THROTTLE_HINT
    if code in TOKEN_RENEWAL_CODES:
        return TOKEN_HINT
    if code and code.startswith(GATEWAY_CODE_PREFIX):
        return GATEWAY_HINT
    if code and code.upper().startswith("HTTP-5"):
        return SERVER_FAILURE_HINT
    return API_FAILURE_HINT if from_api else UNKNOWN_HINT
