"""One rule for every file colab-local writes or reads back: private to this user.

The token, the gateway's environment file (a token too), the gateway sessions database
(which notebook re-attaches to which kernel) and the systemd units all live in
directories this rule checks and files it opens:

- a directory is created 0700; an existing one is never changed, and is refused when it is
  not a real directory, belongs to another user or others can write to it (they could
  replace the file);
- a file is opened without following a symlink and without blocking (a FIFO or device
  planted there must not hang the server), and must be a regular file of this user's that
  others cannot read or write; otherwise its content is not used, and the caller replaces
  it, saying so;
- files are written 0600 to a temporary name and renamed into place, under a lock.

Every refusal says why in the same words, wherever it happens.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


class PrivateFileError(Exception):
    """A directory or file cannot be used safely; the message says why and what to do."""


def ensure_private_directory(directory: Path, setting: str = "") -> None:
    """Create ``directory`` private (0700), or check that an existing one is safe to use.

    ``setting``: the option that chooses another place, named in the refusal.
    """
    elsewhere = f", or set {setting} to a file in a private directory" if setting else ""
    with contextlib.suppress(FileExistsError):
        directory.mkdir(mode=DIRECTORY_MODE, parents=True)
    info = os.lstat(directory)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise PrivateFileError(f"{directory} is not a directory (a symlink?); remove it{elsewhere}")
    if info.st_uid != os.getuid():
        raise PrivateFileError(f"{directory} belongs to another user; remove it{elsewhere}")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o022:
        raise PrivateFileError(
            f"{directory} can be written by other users (mode {mode:04o}), who could replace "
            f"the files in it; make it private: chmod go-w {directory}{elsewhere}"
        )


def _open_private(path: Path) -> tuple[int | None, str]:
    """``path`` opened for reading, or None and why it cannot be used ("" when absent)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None, ""
    except OSError as e:
        if os.path.islink(path):
            return None, "it is a symlink"
        return None, f"it cannot be read ({e.strerror})"
    info = os.fstat(fd)
    problem = ""
    if not stat.S_ISREG(info.st_mode):
        problem = "it is not a regular file (a FIFO, a device or a directory)"
    elif info.st_uid != os.getuid():
        problem = "it belongs to another user, who could know or change it"
    elif stat.S_IMODE(info.st_mode) & 0o077:
        mode = stat.S_IMODE(info.st_mode)
        could = "readable" if mode & 0o044 else "writable"
        problem = (
            f"it was {could} by other users (mode {mode:04o}): anyone could have "
            f"{'read' if could == 'readable' else 'changed'} it"
        )
    if problem:
        os.close(fd)
        return None, problem
    return fd, ""


def read_private(path: Path) -> tuple[str | None, str]:
    """The text of ``path``, or None and why it cannot be used ("" when there is no file)."""
    fd, problem = _open_private(path)
    if fd is None:
        return None, problem
    with os.fdopen(fd, "rb") as f:
        try:
            return f.read().decode(), ""
        except (OSError, UnicodeDecodeError):
            return None, "it is not text"


def check_private(path: Path) -> str:
    """Why the existing ``path`` is not a private regular file ("" when it is, or is absent);
    nothing is read."""
    fd, problem = _open_private(path)
    if fd is not None:
        os.close(fd)
    return problem


def create_private(path: Path) -> None:
    """Create ``path`` empty and 0600 unless it exists (for files another library fills)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE))


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on a private ``directory``, across processes."""
    fd = os.open(
        directory / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, FILE_MODE
    )
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (0600) atomically: a temporary file renamed into place,
    which replaces a symlink or FIFO there itself, never its target."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
