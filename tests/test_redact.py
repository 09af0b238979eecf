"""The one mask (loader/redact.py): known secrets as whole tokens, credential-like values, nothing else."""

from __future__ import annotations

import pytest

from loader.redact import HIDDEN, redact
from loader.settings import known_secrets


def test_a_known_secret_is_hidden_and_the_words_around_it_are_not():
    text = "password: wrong; passwords are case-sensitive; the password pass was refused (pass)."
    assert redact(text, ["pass"]) == (
        "password: wrong; passwords are case-sensitive; the password [hidden] was refused ([hidden])."
    )


def test_a_secret_inside_a_longer_word_is_left_alone():
    assert redact("passport bypass pass_word pass", ["pass"]) == "passport bypass pass_word [hidden]"


@pytest.mark.parametrize("short", ["p", "ab", "s3c"])
def test_values_too_short_to_mask_never_eat_ordinary_words(short: str):
    text = "the password is wrong; passwords are case-sensitive"
    assert redact(text, [short]) == text


def test_longest_secret_first_and_symbols_taken_literally():
    assert redact("key s3cret-Pa55 and s3cret-Pa55.x and a.b*c", ["s3cret-Pa55", "s3cret", "a.b*c"]) == (
        "key [hidden] and [hidden].x and [hidden]"
    )


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Authorization: Basic a2V5OnNlY3JldA==", "Authorization: [hidden]"),
        ("sent Basic a2V5OnNlY3JldA== and Bearer abcDEF123456", "sent Basic [hidden] and Bearer [hidden]"),
        (
            '{"access_token": "tok", "password": "hunter"}',
            '{"access_token": "[hidden]", "password": "[hidden]"}',
        ),
        ("token=abc&x=1", "token=[hidden]&x=1"),
        ("jwt eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl here", "jwt [hidden] here"),
        ("http://clerk:pw123@127.0.0.1:8790/x", "http://clerk:[hidden]@127.0.0.1:8790/x"),
    ],
)
def test_credential_like_values_are_hidden_wherever_they_come_from(text: str, masked: str):
    assert redact(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "Basic settings are missing; Bearer authentication failed",
        "Could not get an access token: HTTP 500 from http://127.0.0.1:8790/oauth/token. Try again later.",
        "Check PBLOAD_SMTP_USER and PBLOAD_SMTP_PASSWORD.",
        "The password is wrong and passwords are case-sensitive.",
    ],
)
def test_ordinary_words_are_never_altered(text: str):
    assert redact(text, ["local-secret"]) == text


def test_known_secrets_are_the_environments_and_the_basic_credentials_made_of_them():
    environ = {
        "PB_API_KEY": "key-1",
        "PB_API_SECRET": "secret-2",
        "PBLOAD_SMTP_PASSWORD": "mail-3",
        "PB_CLIENT_ID": "client-4",
    }
    assert known_secrets(environ) == ("key-1", "secret-2", "mail-3", "a2V5LTE6c2VjcmV0LTI=")
    assert known_secrets({}) == ()
    assert HIDDEN not in redact("client-4", known_secrets(environ))  # the client ID is no secret
