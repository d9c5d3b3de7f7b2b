"""The persisted token: one private file, so the URL saved in Colab survives restarts.

The file holds one URL-safe token of 256 random bits. It lives in a 0700 directory and is
0600; it is created and replaced under an exclusive lock, written to a temporary file and
renamed into place, so two servers starting at the same moment end with one token.
"""

from __future__ import annotations

import logging
import re
import secrets
from pathlib import Path

from colab_local.private_files import (
    PrivateFileError,
    ensure_private_directory,
    locked,
    read_private,
    write_private,
)

TOKEN_BYTES = 32  # 256 bits; Colab needs at least 192
_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,}$")


#: The token file's errors are the private-file rule's.
TokenFileError = PrivateFileError


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def is_valid_token(token: str) -> bool:
    return bool(_TOKEN_PATTERN.match(token))


def _ensure_private_dir(directory: Path) -> None:
    ensure_private_directory(directory, "ColabLocal.token_file")


def _read_existing(path: Path) -> tuple[str | None, str]:
    """The stored token, or None and why it cannot be used ("" when there is no file)."""
    text, problem = read_private(path)
    if text is None:
        return None, problem
    token = text.strip()
    if not token:
        return None, "it is empty"
    if not is_valid_token(token):
        return None, "it is malformed"
    return token, ""


def load_or_create(path: Path, log: logging.Logger) -> tuple[str, bool]:
    """The persisted token, created on first use; and whether it was created just now."""
    _ensure_private_dir(path.parent)
    with locked(path.parent):
        token, problem = _read_existing(path)
        if token is not None:
            return token, False
        if problem:
            log.warning(
                "colab_local | cannot use token file %s: %s. Wrote a new token there, so the "
                "URL to paste into Colab changed: `jupyter colab url` prints it.",
                path,
                problem,
            )
        token = new_token()
        write_private(path, token + "\n")
        return token, True


def read(path: Path) -> str:
    """The persisted token, for the CLI; raises TokenFileError with a one-line reason."""
    if not path.exists() and not path.is_symlink():
        raise TokenFileError(
            f"no token yet at {path}: start the server once (jupyter notebook) or run "
            "`jupyter colab token --rotate`"
        )
    token, problem = _read_existing(path)
    if token is None:
        raise TokenFileError(
            f"the token file {path} cannot be used: {problem}; "
            "`jupyter colab token --rotate` writes a new one"
        )
    return token


def rotate(path: Path) -> str:
    """Write a new token, replacing any old one."""
    _ensure_private_dir(path.parent)
    with locked(path.parent):
        token = new_token()
        write_private(path, token + "\n")
        return token
