"""Tunnel request messages, parsed once and checked before anything acts on them.

Upstream turns a message into a request to this server without checking its fields: a
non-object message, a non-string path, or a ``body_base64`` that is not base64 raises
inside its handler, the client never gets an answer, and the server logs a traceback.
Here every such message gets a 400 answer that says what is wrong, and a ``path`` can
only name a resource on this server: no scheme, no ``//host``, no control characters.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any, Union
from urllib.parse import quote, urlsplit

#: The HTTP methods Colab's client sends (and Jupyter's REST API serves).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
REQUIRED_KEYS = ("message_id", "method", "path")
#: A message_id is echoed in every answer: a long one would be copied into each.
MAX_MESSAGE_ID_CHARS = 256
_UNSAFE_IN_PATH = re.compile(r"[\x00-\x20\x7f\\]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


@dataclass(frozen=True)
class TunnelMessage:
    """One request to dispatch: checked, with the body decoded to bytes."""

    message_id: str | int
    method: str
    path: str
    body: bytes


@dataclass(frozen=True)
class Rejection:
    """Why a message cannot be answered, sent back as a 400."""

    message_id: str | int | None
    reason: str


Parsed = Union[TunnelMessage, Rejection]


def _message_id(contents: Any) -> str | int | None:
    if isinstance(contents, dict):
        value = contents.get("message_id")
        if isinstance(value, str) and len(value) <= MAX_MESSAGE_ID_CHARS:
            return value
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**53:
            return value
    return None


def parse_message(raw: str | bytes) -> Parsed:
    """The request ``raw`` stands for, or why it cannot be answered."""
    try:
        contents = json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return Rejection(None, "JSON input is required.")
    if not isinstance(contents, dict):
        return Rejection(None, "The message must be a JSON object.")
    message_id = _message_id(contents)
    missing = [key for key in REQUIRED_KEYS if key not in contents]
    if missing:
        return Rejection(
            message_id,
            "Invalid request. The body must contain the following keys: "
            f"{sorted(REQUIRED_KEYS)}. Missing: {missing}",
        )
    if message_id is None:
        return Rejection(
            None,
            f"message_id must be a string of at most {MAX_MESSAGE_ID_CHARS} characters "
            "or an integer of at most 2**53.",
        )
    method, path = contents["method"], contents["path"]
    reason = _check_method(method) or _check_path(path)
    if reason:
        return Rejection(message_id, reason)
    try:
        # As a browser does with a URL: other characters travel percent-encoded UTF-8.
        path = _NON_ASCII.sub(lambda m: quote(m.group()), path)
    except UnicodeEncodeError:
        return Rejection(message_id, "path must be valid Unicode text (it has a lone surrogate).")
    body = _body(contents)
    if isinstance(body, str):
        return Rejection(message_id, body)
    return TunnelMessage(message_id, method.upper(), path, body)


def _check_method(method: Any) -> str:
    if not isinstance(method, str) or method.upper() not in METHODS:
        return f"method must be one of {', '.join(sorted(METHODS))}."
    return ""


def _check_path(path: Any) -> str:
    if not isinstance(path, str):
        return "path must be a string."
    if not path.startswith("/") or path.startswith("//") or _UNSAFE_IN_PATH.search(path):
        return "path must be an absolute path on this server, without spaces or control characters."
    parts = urlsplit(path)
    if parts.scheme or parts.netloc:
        return "path must not name another server."
    return ""


def _body(contents: dict[str, Any]) -> bytes | str:
    """The request body as bytes, or why the message's body fields are wrong."""
    body, body_base64 = contents.get("body"), contents.get("body_base64")
    if body is not None and not isinstance(body, str):
        return "body must be a string."
    if body_base64 is not None and not isinstance(body_base64, str):
        return "body_base64 must be a string."
    if body_base64:  # as upstream: a non-empty body_base64 wins over body
        try:
            return base64.b64decode(body_base64, validate=True)
        except (binascii.Error, ValueError):
            return "body_base64 must be base64."
    if not body:
        return b""
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError:
        return "body must be valid Unicode text (it has a lone surrogate)."
