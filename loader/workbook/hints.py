"""The hints by problem code, now kept in `loader.codes` (the registry); this module re-exports them.

Imported by `loader.console`, `loader.workbook.result_content` and their tests; new code imports
`loader.codes`.
"""

from __future__ import annotations

from loader.codes import (
    API_FAILURE_HINT,
    GATEWAY_HINT,
    SERVER_FAILURE_HINT,
    THROTTLE_HINT,
    TOKEN_HINT,
    UNKNOWN_HINT,
    Code,
    hint_for,
)

# One hint per code of pbload's own, by its text.
HINTS: dict[str, str] = {code.value: code.hint for code in Code}

__all__ = [
    "API_FAILURE_HINT",
    "GATEWAY_HINT",
    "HINTS",
    "SERVER_FAILURE_HINT",
    "THROTTLE_HINT",
    "TOKEN_HINT",
    "UNKNOWN_HINT",
    "hint_for",
]
