"""Hiding credentials in text that pbload shows or keeps (DESIGN §5, §6): the one place masking lives.

`redact(text, secrets)` is what the result workbook's text from outside, messages on the terminal,
`--debug` tracebacks and e-mail errors all go through. It hides, as `[hidden]`:

* the values the caller knows are secret (`settings.known_secrets()`: PB_API_KEY, PB_API_SECRET, the
  Basic credentials made of them, PBLOAD_SMTP_PASSWORD), only where one stands as a whole token and
  only when it is `MIN_SECRET_LENGTH` characters or more, so that a password "pass" leaves "password"
  and "passwords are" alone, and a one-letter one does not eat every word;
* what looks like a credential wherever it comes from: `password=…`, `"access_token": "…"`,
  `Authorization: …`, `token: …` and `Bearer …`/`Basic …` followed by something random-looking (a
  digit or symbol, or a capital after a small letter: "Basic settings" and "access token: HTTP 500"
  stay), JSON Web Tokens, and the password of a URL's `user:password@`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

HIDDEN = "[hidden]"
MIN_SECRET_LENGTH = 4
_KEY_VALUE = re.compile(
    r"(?i)(\"?)\b(access_token|refresh_token|id_token|token|api[_-]?key|api[_-]?secret|client[_-]?secret"
    r"|secret|password|passwd|authorization)(\"?\s*[:=]\s*\"?)((?:(?:bearer|basic)\s+)?[^\s\"',;&}]+)"
)
_SCHEME_VALUE = re.compile(r"(?i)\b(bearer|basic)(\s+)([A-Za-z0-9._~+/=-]{8,})")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*")
_URL_PASSWORD = re.compile(r"(://[^/\s:@]*:)[^/\s@]+@")
# Text with none of these cannot hold a credential the patterns know: nearly every value stops here.
_SUSPECT = re.compile(r"(?i)bearer|basic|token|key|secret|passw|authorization|eyJ|://")
_RANDOM_LOOKING = re.compile(
    r"[0-9+/=_~-]|[a-z][A-Z]"
)  # a digit or symbol, or a capital after a small letter


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with the known `secrets` (as whole tokens) and credential-like values replaced by `[hidden]`."""
    known = (
        _known_pattern(tuple(sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH})))
        if secrets
        else None
    )
    if known is not None:
        text = known.sub(HIDDEN, text)
    if _SUSPECT.search(text) is None:
        return text
    text = _KEY_VALUE.sub(_key_value, text)
    text = _SCHEME_VALUE.sub(_scheme_value, text)
    text = _JWT.sub(HIDDEN, text)
    return _URL_PASSWORD.sub(rf"\1{HIDDEN}@", text)


@functools.lru_cache(maxsize=32)
def _known_pattern(secrets: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern for the secrets, longest first, each only where no letter or digit touches it."""
    if not secrets:
        return None
    longest_first = sorted(secrets, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(s) for s in longest_first) + r")(?!\w)")


def _key_value(match: re.Match[str]) -> str:
    # `"token": …`, `token=…` and `Authorization: …` are credentials; in prose ("access token: HTTP 500")
    # only a random-looking value is.
    quote, key, separator, value = match.groups()
    if quote or "=" in separator or key.lower() == "authorization" or _RANDOM_LOOKING.search(value):
        return f"{quote}{key}{separator}{HIDDEN}"
    return match.group(0)


def _scheme_value(match: re.Match[str]) -> str:
    # "Basic settings" and "Bearer authentication" are words, not credentials: only a random-looking value goes.
    scheme, space, value = match.groups()
    if _RANDOM_LOOKING.search(value) is None:
        return match.group(0)
    return f"{scheme}{space}{HIDDEN}"
