"""The facts beside the bets, as pure functions of what PB answered: the error body shape, the token
answer's field names, the clock skew and the throttled calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import parsedate_to_datetime
from typing import Any

from loader.api.auth import TOKEN_PATH
from loader.doctor.answer import Answer, field_names
from loader.doctor.probe import Evidence

TOKEN_FIELDS = ("access_token", "tokenType", "issuedAt", "expiresIn", "clientID", "org")  # api §21.5, §22.9


def error_shape(body: Any) -> str:
    """Which of PB's error body shapes `body` is (api §6.1, §22.9)."""
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return 'standard {"errors": [...]}'
    if isinstance(body, dict) and "errorCode" in body:
        return "bare gateway {errorCode, errorDescription}"
    if isinstance(body, list):
        return "legacy array [{errorCode or key, message}]"
    if isinstance(body, dict):
        return f"other: {field_names(body)}"
    return "other: an empty body" if body in (None, "") else "other: not JSON"


def error_facts(evidence: Evidence) -> str:
    """The error body shape of the GET of a SKU that cannot exist, and any other shape seen."""
    answer = evidence.not_found
    if answer is None or answer.ok:
        status = "no answer" if answer is None else f"HTTP {answer.status}"
        return f"not seen (the GET of a SKU that cannot exist got {status})"
    shape = error_shape(answer.body)
    others = dict.fromkeys(
        error_shape(a.body)
        for a in evidence.answers
        if a.status >= 400 and a is not answer and a.path != TOKEN_PATH
    )
    others.pop(shape, None)
    also = f"; also seen: {', '.join(others)}" if others else ""
    return f"{shape} (GET of a SKU that cannot exist: HTTP {answer.status}){also}"


def token_fields(token: Answer) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The token answer's field names, and the documented ones missing from it."""
    names = tuple(str(k) for k in token.body) if isinstance(token.body, dict) else ()
    return names, tuple(f for f in TOKEN_FIELDS if f not in names)


def clock_skew(token: Answer) -> tuple[float, str] | None:
    """PB's clock minus this machine's, in seconds, from the token's issuedAt or else the Date header."""
    body = token.body if isinstance(token.body, dict) else {}
    issued = _number(body.get("issuedAt"))  # PB may send it as a string (api §21.5)
    if issued is not None:
        seconds = issued / 1000 if issued > 1e11 else issued  # PB sends milliseconds (api §21.5)
        return seconds - token.local_time, "the token's issuedAt"
    if token.date:
        try:
            return parsedate_to_datetime(
                token.date
            ).timestamp() - token.local_time, "the Date header, to the second"
        except (TypeError, ValueError):
            return None
    return None


def _number(value: Any) -> float | None:
    # Not `loader.api.auth.parse_token`: it refuses a whole answer for an odd expiresIn, and doctor
    # reports what it can of any answer.
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def throttles(answers: Sequence[Answer]) -> tuple[str, ...]:
    """Each throttled answer (429 or PB's gateway throttle code), as `METHOD path`."""
    return tuple(f"{a.method} {a.path}" for a in answers if a.throttled)
