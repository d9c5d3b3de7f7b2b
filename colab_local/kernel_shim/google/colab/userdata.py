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

from google.colab import _message, _private, _settings, errors


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
    """This server's secrets: a private regular file of this user in a private directory,
    or none (any OSError: a FIFO, a symlink, another user's directory, nothing there)."""
    path = _settings.secrets_file()
    if path is None:
        return {}
    try:
        directory = _private.open_private_directory(path.parent)
        try:
            fd = os.open(path.name, _private.READ_FLAGS, dir_fd=directory)
        finally:
            os.close(directory)
        with os.fdopen(fd, "rb") as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
                return {}  # another user could have written it: not trusted
            if info.st_mode & 0o077:
                return {}  # another user could have read it
            text = f.read().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    try:
        secrets = json.loads(text)
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
