"""One plain hint per problem code: what to do about it, for the Errors sheet of a result workbook.

Codes are those of `loader.checks`, `loader.workbook.reader` and `loader.plan`; whatever else an
outcome carries came from the API (PB's own codes, or pbload's `no-answer`, `no-result`, `HTTP-nnn`).
"""

from __future__ import annotations

from loader.api.auth import TOKEN_RENEWAL_CODES
from loader.api.error_body import GATEWAY_CODE_PREFIX
from loader.api.retry import THROTTLE_CODES

HINTS: dict[str, str] = {
    "required": "Fill in the cell, then load this workbook again.",
    "cannot-clear": "Give the column a value, or leave the cell blank to keep what PB has.",
    "too-long": "Shorten the text to the length the message gives.",
    "not-allowed": "Pick one of the values the message lists (the cell's drop-down offers them).",
    "out-of-range": "Enter a value inside the range the message gives.",
    "bad-format": "Retype the value in the format the message describes.",
    "wrong-type": "Enter the kind of value the column takes (a number, a date, TRUE/FALSE or text).",
    "number-in-text-column": "Format the cell as Text and retype the value, so Excel keeps it exactly as typed.",
    "digits-lost": "Excel rounded this long number: format the cell as Text and type the full value again.",
    "duplicate-key": "Keep one row for each key: delete or correct the other rows with the same value.",
    "merged-cells": "Unmerge the cells and fill in the value on every row.",
    "whitespace": "Nothing to do: pbload removed the spaces. Delete them in the sheet to silence this warning.",
    "number-stored-as-text": "Nothing to do: pbload read the number. Convert the cell to a number to silence this.",
    "date-as-text": "Nothing to do if pbload read the date you meant; otherwise type it as a real date.",
    "dimensions-reordered": "Nothing to do: pbload sent Length, Height and Width longest first, as PB wants them.",
    "blank-rows": "Nothing to do: blank rows are skipped. Delete them to silence this warning.",
    "unknown-column": "Nothing to do if the column is yours; pbload keeps it but does not send it.",
    "no-header": "Fill in the key column so pbload knows which group this line belongs to.",
    "header-mismatch": "Leave the cell blank on the group's other rows, or repeat the first row's value.",
    "duplicate-line": "Combine the two lines into one, or delete one of them.",
    "self-reference": "Replace the value with another item: an item cannot contain itself.",
    "unknown-sku": "Add the product to the Products sheet or correct the SKU, then load again.",
    "invalid-group": "Fix the rows of the same group that have problems; this row is sent with them.",
    "dependency-failed": "Fix the item this row depends on (see its own row), then load this workbook again.",
    "formula-error": "Correct the formula in Excel (or type the value itself), save, and load this workbook again.",
    "formula-not-calculated": (
        "Open the workbook in Excel or LibreOffice and save it, so each formula's value is stored; "
        "then load it again."
    ),
    "hidden-row": "Nothing to do if the row is meant to load; otherwise delete it. Unhide it to check it.",
    "hidden-column": "Nothing to do if the column's values are right; unhide the column to check them.",
    "filtered-row": "Nothing to do if the row is meant to load; otherwise delete it. Clear the filter to see it.",
    "hidden-sheet": "Nothing to do if this is the sheet to load; unhide it to check its rows.",
    "control-character": "Retype the value without the line break or invisible character (it often comes from pasting).",
    "mojibake": "Retype the quote marks or dashes: the text was converted with the wrong character set on its way here.",
    "apostrophe-prefix": "Delete the leading apostrophe if it is not part of the value (it often comes from a CSV file).",
    "formatting-not-kept": "Nothing to do: work on in the result workbook, or save your file as .xlsx to keep its formatting.",
    "no-answer": "Load the same workbook again: pbload finds out what PB has and sends nothing twice.",
    "no-result": "Check the item at PB before loading it again; the API did not say what became of it.",
    "not-found": "Use CREATE or UPSERT in the Action column, or correct the key.",
    "already-exists": "Use UPDATE or UPSERT in the Action column, or correct the key.",
}

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
    if code and code in HINTS:
        return HINTS[code]
    if code in THROTTLE_CODES:
        return THROTTLE_HINT
    if code in TOKEN_RENEWAL_CODES:
        return TOKEN_HINT
    if code and code.startswith(GATEWAY_CODE_PREFIX):
        return GATEWAY_HINT
    if code and code.upper().startswith("HTTP-5"):
        return SERVER_FAILURE_HINT
    return API_FAILURE_HINT if from_api else UNKNOWN_HINT
