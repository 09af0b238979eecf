"""The Errors sheet's hint says what to do next, for PB's gateway codes too."""

from __future__ import annotations

from loader.codes import (
    API_FAILURE_HINT,
    GATEWAY_HINT,
    THROTTLE_HINT,
    TOKEN_HINT,
    UNKNOWN_HINT,
    Code,
    hint_for,
)


def test_gateway_codes_get_their_own_hint():
    assert hint_for("PB-APIM-ERR-1006", from_api=True) == THROTTLE_HINT
    assert (
        hint_for("PB-APIM-ERR-1002", from_api=True)
        == hint_for("PB-APIM-ERR-1003", from_api=True)
        == TOKEN_HINT
    )
    assert hint_for("PB-APIM-ERR-1010", from_api=True) == GATEWAY_HINT
    assert hint_for("EMU-REQUIRED", from_api=True) == API_FAILURE_HINT


TRAP_CODES = [
    "formula-error",
    "formula-not-calculated",
    "hidden-row",
    "hidden-column",
    "filtered-row",
    "hidden-sheet",
    "control-character",
    "mojibake",
    "apostrophe-prefix",
    "formatting-not-kept",
]


def test_each_trap_has_a_hint_of_its_own_and_a_line_in_the_readme():
    from tests.helpers import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for code in TRAP_CODES:
        assert code in {c.value for c in Code} and hint_for(code) != UNKNOWN_HINT
        assert f"`{code}`" in readme, code
