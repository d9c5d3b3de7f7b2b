"""The persisted token: one private file, so the URL saved in Colab survives restarts.

The file holds one URL-safe token of 256 random bits. It lives in a 0700 directory and is
0600; it is created and replaced under an exclusive lock, written to a temporary file and
renamed into place, so two servers starting at the same moment end with one token.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

from colab_local.options import data_directory

TOKEN_BYTES = 32  # 256 bits; Colab needs at least 192
_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,}$")
_FILE_MODE = 0o600
_DIR_MODE = 0o700


class TokenFileError(Exception):
    """The token file cannot be used safely; the message says why and what to do."""


def default_token_path() -> Path:
    """``colab_local/token`` in the Jupyter data directory (``jupyter --data-dir``)."""
    return data_directory() / "token"


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def is_valid_token(token: str) -> bool:
    return bool(_TOKEN_PATTERN.match(token))


def _ensure_private_dir(directory: Path) -> None:
    """Create ``directory`` private (0700), or check an existing one is safe to use.

    An existing directory is never changed: it may be shared (like /tmp) or belong to a
    layout the user chose. One that other users can write to is refused, since they could
    replace the token file (or the lock) there.
    """
    with contextlib.suppress(FileExistsError):
        directory.mkdir(mode=_DIR_MODE, parents=True)
    info = os.lstat(directory)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise TokenFileError(f"{directory} is not a directory (a symlink?); remove it")
    if info.st_uid != os.getuid():
        raise TokenFileError(
            f"{directory} belongs to another user; remove it or set ColabLocal.token_file"
        )
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o022:
        raise TokenFileError(
            f"{directory} can be written by other users (mode {mode:04o}), who could replace "
            "the token file; set ColabLocal.token_file to a file in a private directory "
            f"(the default is {default_token_path()}), or make this one private: "
            f"chmod go-w {directory}"
        )


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on the token directory, across processes."""
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, _FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _write_atomically(path: Path, token: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, _FILE_MODE)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)  # replaces a symlink itself, never its target
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _read_existing(path: Path) -> tuple[str | None, str]:
    """The stored token, or None and why it cannot be used ("" when there is no file)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None, ""
    except OSError as e:
        if os.path.islink(path):
            return None, "it is a symlink"
        return None, f"it cannot be read ({e.strerror})"
    with os.fdopen(fd) as f:
        info = os.fstat(f.fileno())
        if info.st_uid != os.getuid():
            return None, "it belongs to another user, who could know the token"
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            return None, (
                f"it was readable by other users (mode {mode:04o}): anyone who read it could "
                "use that token"
            )
        try:
            token = f.read().strip()
        except (OSError, UnicodeDecodeError):
            return None, "it is not text"
    if not token:
        return None, "it is empty"
    if not is_valid_token(token):
        return None, "it is malformed"
    return token, ""


def load_or_create(path: Path, log: logging.Logger) -> tuple[str, bool]:
    """The persisted token, created on first use; and whether it was created just now."""
    _ensure_private_dir(path.parent)
    with _locked(path.parent):
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
        _write_atomically(path, token)
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
    with _locked(path.parent):
        token = new_token()
        _write_atomically(path, token)
        return token
