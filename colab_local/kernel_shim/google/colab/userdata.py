"""google.colab.userdata: secrets, from this server first, then from Colab's page.

This server's secrets: ``jupyter colab secret set NAME`` (the value from standard input),
kept in one private file. Then Colab's own Secrets, asked of the page (``GetSecret``): a
page that never answered this kernel is waited for a bounded time. The exceptions are
hosted Colab's, so ``except userdata.SecretNotFoundError`` keeps working.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from typing import Any

from google.colab import _message, _settings, errors


class NotebookAccessError(Exception):
    """The notebook has no access to the secret (Colab's page said so)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"Notebook does not have access to secret {key}")


class SecretNotFoundError(errors.Error):
    """No such secret."""

    def __init__(self, key: str, hint: str = "") -> None:
        super().__init__(f"Secret {key} does not exist.{hint}")


_lock = threading.Lock()


def _server_secrets() -> dict[str, Any]:
    """This server's secrets: a private regular file of this user, or none."""
    path = _settings.secrets_file()
    if path is None:
        return {}
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return {}
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
            return {}  # another user could have written or read it: not trusted
        try:
            secrets = json.loads(f.read().decode("utf-8"))
        except ValueError:
            return {}
    return secrets if isinstance(secrets, dict) else {}


def get(key: str) -> Any:
    """The secret ``key``: this server's, else Colab's (through the page)."""
    local = _server_secrets()
    if key in local:
        return local[key]
    with _lock:
        try:
            reply = _message.blocking_request("GetSecret", request={"key": key}, timeout_sec=None)
        except _message.PageNotAnsweringError:
            raise SecretNotFoundError(
                key,
                f" (not among this server's secrets: `jupyter colab secret set {key}`; "
                "Colab's page did not answer)",
            ) from None
    reply = reply or {}
    if not reply.get("exists", False):
        raise SecretNotFoundError(key)
    if not reply.get("access", False):
        raise NotebookAccessError(key)
    return reply.get("payload", "")
