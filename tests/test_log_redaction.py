"""The redacting filter: no secret survives in a record, nothing else is changed."""

from __future__ import annotations

import logging
import sys

import pytest

from colab_local.workarounds.log_redaction import SecretRedactor, redact

SECRET_TOKEN = "s3cr3t-t0ken-value"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "404 GET /api/contents/a?content=0&token=abc123 (127.0.0.1) 2ms",
            "404 GET /api/contents/a?content=0&token=[secret] (127.0.0.1) 2ms",
        ),
        ("GET /x?_xsrf=2|ab&auth_token=zz", "GET /x?_xsrf=[secret]&auth_token=[secret]"),
        ("http://localhost:8888/tree?token=...", "http://localhost:8888/tree?token=..."),
        ("{'Authorization': 'token abc123'}", "{'Authorization': 'token [secret]'}"),
        ("Authorization: Bearer abc123", "Authorization: Bearer [secret]"),
        (
            "started kernel: k, args: {'kernel_name': 'py', 'env': {'A': {'b': 1}}, 'cwd': '/'}",
            "started kernel: k, args: {'kernel_name': 'py', 'env': {...}, 'cwd': '/'}",
        ),
        (f"plain {SECRET_TOKEN} anywhere", "plain [secret] anywhere"),
        ("nothing to hide here", "nothing to hide here"),
    ],
)
def test_redact(line, expected):
    assert redact(line, [SECRET_TOKEN, "short"]) == expected


def failing() -> None:
    raise ValueError(f"header Authorization: token {SECRET_TOKEN}")


def test_the_filter_rewrites_message_arguments_and_tracebacks():
    redactor = SecretRedactor(lambda: [SECRET_TOKEN])
    try:
        failing()
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "tornado.general", logging.WARNING, __file__, 1, "%s with %s", ("a", SECRET_TOKEN), exc_info
    )
    assert redactor.filter(record)
    formatted = logging.Formatter().format(record)
    assert SECRET_TOKEN not in formatted
    assert "a with [secret]" in formatted
    assert "ValueError" in formatted


TOKEN = "Q2xhdWRlIHdhcyBoZXJlIGFuZCBsZWZ0IGEgdG9rZW4u"
ENCODED_TOKEN = "".join(f"%{ord(c):02X}" if i % 3 == 0 else c for i, c in enumerate(TOKEN))


@pytest.mark.parametrize(
    "line",
    [
        f"403 GET /api/status?%74oken={TOKEN} (127.0.0.1)",  # a percent-encoded name
        f"403 GET /api/status?%74%6F%6B%65%6E={ENCODED_TOKEN} (127.0.0.1)",
        f"403 GET /api/status?TOKEN={TOKEN} (127.0.0.1)",
        f"Referer: http://localhost:8888/tree?next=%2Fapi%3Ftoken%3D{ENCODED_TOKEN}",
        f"404 GET /x;a=1;token={TOKEN}",
        f"404 GET /x?next=/tree?token={TOKEN}",
        f"{{'Authorization': 'Token {TOKEN}'}}",
        f"authorization =  'bearer {TOKEN}'",
    ],
)
def test_a_token_in_any_spelling_jupyter_accepts_is_redacted(line):
    cleaned = redact(line, [TOKEN])
    assert TOKEN not in cleaned
    assert ENCODED_TOKEN not in cleaned
    assert TOKEN[5:30] not in cleaned  # nothing of it is left
    assert "[secret]" in cleaned


@pytest.mark.parametrize(
    "line",
    [
        "GET /" + ";" * (1 << 20),
        "GET /?" + "token" * (1 << 18),
        "authorization:" + " " * (1 << 20),
        "GET /" + "%" * (1 << 20),
        "GET /" + "%25" * (1 << 18),
        "'env': {" * (1 << 17),
    ],
)
def test_a_record_of_a_huge_line_is_cut_and_says_so(line):
    """The lines a tokenless client can make (its path): logged at most 16 KiB."""
    redactor = SecretRedactor(lambda: [TOKEN])
    record = logging.LogRecord("tornado.access", logging.WARNING, __file__, 1, "%s", (line,), None)
    assert redactor.filter(record)
    message = record.getMessage()
    assert len(message) <= 16 * 1024 + 64
    assert message.endswith(("characters not logged]", "'env': {..."))


def test_a_cut_never_leaves_the_beginning_of_a_secret():
    redactor = SecretRedactor(lambda: [TOKEN, "not a token: spaces!"])
    for secret in (TOKEN, "not a token: spaces!"):
        for shift in range(len(secret)):
            line = "x" * (16 * 1024 - shift) + " " + secret + " tail" * 10
            record = logging.LogRecord("t", logging.WARNING, __file__, 1, line, None, None)
            redactor.filter(record)
            message = record.getMessage()
            assert secret[:6] not in message, (secret, shift)
