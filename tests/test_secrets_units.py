"""Secrets stay masked; the three lifetime units are read right (no network)."""

from __future__ import annotations

import email.utils
import logging
import pickle

import pytest
import requests

from arctoken_core.errors import ResponseFormatError
from arctoken_core.secrets import MASK, Secret, get_logger, mask_token, redact
from arctoken_core.tokens.token import Token, clock_skew, epoch_seconds, token_document


def test_secret_never_shows_itself() -> None:
    secret = Secret("correct horse battery staple")
    shown = (repr(secret), str(secret), f"{secret}", "%s" % secret, repr([secret]))  # noqa: UP031
    for text in shown:
        assert "horse" not in text
    assert secret.reveal() == "correct horse battery staple"
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_redact_masks_registered_values_and_token_shapes() -> None:
    Secret("hunter2-very-secret")
    text = redact(
        "password=hunter2-very-secret&token=abc.def-ghi "
        '{"token": "zzz", "access_token": "yyy"} X-Esri-Authorization: Bearer qqq.rrr'
    )
    for value in ("hunter2-very-secret", "abc.def-ghi", "zzz", "yyy", "qqq.rrr"):
        assert value not in text
    assert MASK in text


def test_mask_token_shows_at_most_four_characters() -> None:
    assert mask_token("a" * 40 + "WXYZ") == "…WXYZ"
    assert mask_token("short") == MASK
    assert mask_token(None) == "<none>"
    token = Token(value="t" * 30 + "1234", expires_at=2.0, issued_at=1.0)
    assert "t" * 30 not in repr(token)


def test_package_logs_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    Secret("pa55word-in-a-log")
    log = get_logger("arctoken_core.test")
    with caplog.at_level(logging.INFO, "arctoken_core"):
        log.info("signing in with %s", "pa55word-in-a-log")
    assert "pa55word-in-a-log" not in caplog.text
    assert MASK in caplog.text


@pytest.mark.parametrize(
    "value, seconds",
    [
        (1_800_000_000_000, 1_800_000_000.0),  # epoch ms, number (portal)
        ("1800000000000", 1_800_000_000.0),  # epoch ms, numeric string (server admin docs)
        (1_800_000_000, 1_800_000_000.0),  # epoch seconds (arcpy.GetSigninToken)
        ("1800000000.5", 1_800_000_000.5),
    ],
)
def test_expires_in_ms_or_seconds_number_or_string(value: object, seconds: float) -> None:
    assert epoch_seconds(value) == seconds  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [None, "", "soon", True, -5, float("nan")])
def test_unusable_expires_is_a_typed_error(value: object) -> None:
    with pytest.raises(ResponseFormatError):
        epoch_seconds(value)  # type: ignore[arg-type]


def test_clock_skew_from_date_header() -> None:
    headers = requests.structures.CaseInsensitiveDict({"Date": "Fri, 15 Jan 2027 08:00:00 GMT"})
    server = email.utils.parsedate_to_datetime(headers["Date"]).timestamp()
    assert clock_skew(headers, server - 3 * 3600) == pytest.approx(3 * 3600)
    assert clock_skew(headers, server - 1) == 0.0  # header resolution, not skew
    assert clock_skew({}, server) == 0.0
    assert clock_skew({"Date": "garbage"}, server) == 0.0


def test_token_document_units() -> None:
    token = Token("t" * 40, expires_at=1_800_000_600.25, issued_at=1_800_000_000.0, referer="r")
    payload = token_document(token, "https://gis.example.com/portal")
    assert payload["expires"] == 1_800_000_600_250
    assert payload["expires_iso"] == "2027-01-15T08:10:00.250Z"
    assert payload["referer"] == "r" and payload["url"] == "https://gis.example.com/portal"


def test_only_recent_tokens_are_remembered_for_redaction() -> None:
    from arctoken_core import secrets as registry

    first = "first-token-" + "f" * 30
    Token(first, 2.0, 1.0)
    assert redact(f"value {first}") == f"value {MASK}"
    for number in range(registry.RECENT_TOKENS):
        Token(f"later-token-{number:05d}-" + "x" * 20, 2.0, 1.0)
    assert first not in registry._recent_tokens  # bounded: long runs stay fast
    assert redact(f"token={first}") == f"token={MASK}"  # still masked where token-shaped
