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
