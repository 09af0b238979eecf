"""The Errors sheet's hint says what to do next, for PB's gateway codes too."""

from __future__ import annotations

from loader.workbook.hints import API_FAILURE_HINT, GATEWAY_HINT, THROTTLE_HINT, TOKEN_HINT, hint_for


def test_gateway_codes_get_their_own_hint():
    assert hint_for("PB-APIM-ERR-1006", from_api=True) == THROTTLE_HINT
    assert hint_for("PB-APIM-ERR-1002", from_api=True) == hint_for("PB-APIM-ERR-1003", from_api=True) == TOKEN_HINT
    assert hint_for("PB-APIM-ERR-1010", from_api=True) == GATEWAY_HINT
    assert hint_for("EMU-REQUIRED", from_api=True) == API_FAILURE_HINT
