"""Checks on each HTTP-over-WebSocket request message before upstream acts on it.

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
from typing import Any
from urllib.parse import urlsplit

#: The HTTP methods Colab's client sends (and Jupyter's REST API serves).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_UNSAFE_IN_PATH = re.compile(r"[\x00-\x20\x7f\\]")


@dataclass(frozen=True)
class Rejection:
    message_id: Any
    reason: str


def _message_id(contents: Any) -> Any:
    if isinstance(contents, dict):
        value = contents.get("message_id")
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return value
    return None


def check_message(raw: str | bytes) -> Rejection | None:
    """None when upstream may handle ``raw``; otherwise why not (sent back as a 400)."""
    try:
        contents = json.loads(raw)
    except ValueError:
        return Rejection(None, "JSON input is required.")
    message_id = _message_id(contents)
    if not isinstance(contents, dict):
        return Rejection(None, "The message must be a JSON object.")
    missing = {"message_id", "method", "path"} - contents.keys()
    if missing:
        return Rejection(
            message_id,
            "Invalid request. The body must contain the following keys: "
            f"{sorted({'message_id', 'method', 'path'})}. Missing: {sorted(missing)}",
        )
    if message_id is None:
        return Rejection(None, "message_id must be a string or an integer.")
    reason = (
        _check_method(contents["method"]) or _check_path(contents["path"]) or _check_body(contents)
    )
    return Rejection(message_id, reason) if reason else None


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


def _check_body(contents: dict[str, Any]) -> str:
    body, body_base64 = contents.get("body"), contents.get("body_base64")
    if body is not None and not isinstance(body, str):
        return "body must be a string."
    if body_base64 is not None:
        if not isinstance(body_base64, str):
            return "body_base64 must be a string."
        try:
            base64.b64decode(body_base64, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return "body_base64 must be base64 of UTF-8 text."
    return ""
