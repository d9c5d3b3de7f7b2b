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
import errno
import fcntl
import logging
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


class PrivateFileError(Exception):
    """A directory or file cannot be used safely; the message says why and what to do."""


#: Opening one step of a directory chain: never through a symlink, never blocking.
_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _others_can_write(info: os.stat_result) -> bool:
    """Whether users other than the owner can write into this directory (its group
    counts: whether others share it cannot be known from here)."""
    return bool(info.st_mode & 0o022)


def _under_home(path: Path) -> bool:
    home = Path(os.path.realpath(Path.home()))
    return home in path.parents


def open_private_directory(directory: Path, *, repair: bool = False, setting: str = "") -> int:
    """``directory`` opened (``O_DIRECTORY|O_NOFOLLOW``, step by step from ``/``), after
    checking that no other user can replace it or anything on its way: every directory on
    the way belongs to root or this user and others cannot write into it (unless its
    sticky bit keeps them from renaming what is not theirs, as /tmp's does), and the
    directory itself is this user's and only theirs to write. Files are then created,
    read and removed relative to the descriptor (``dir_fd``), so a rename anywhere on the
    way after the check changes nothing. ``repair``: a directory of this user's inside
    their home that others can write (made under a umask of 000 or 002) is made private,
    with a warning; anything else is refused (PrivateFileError). The caller closes it."""
    elsewhere = f", or set {setting} to a file in a private directory" if setting else ""
    real = Path(os.path.realpath(directory))
    fd, walked = os.open("/", _DIRECTORY_FLAGS), Path("/")
    for name in real.parts[1:]:
        problem = _replaceable_below(fd, walked, repair)
        step = -1
        if not problem:
            try:
                step = os.open(name, _DIRECTORY_FLAGS, dir_fd=fd)
            except OSError as e:
                problem = f"{walked / name} is not a directory (a symlink?): {e.strerror}"
        os.close(fd)
        if problem:
            raise PrivateFileError(f"{problem}{elsewhere}")
        fd, walked = step, walked / name
        if os.fstat(fd).st_uid not in (0, os.getuid()):
            os.close(fd)
            raise PrivateFileError(f"{walked} belongs to another user; remove it{elsewhere}")
    info = os.fstat(fd)
    problem = ""
    if info.st_uid != os.getuid():
        problem = f"{real} belongs to another user; remove it"
    elif _others_can_write(info):
        mode = stat.S_IMODE(info.st_mode)
        problem = (
            f"{directory} can be written by other users (mode {mode:04o}), who could "
            f"replace the files in it; make it private: chmod go-w {directory}"
        )
    if problem:
        os.close(fd)
        raise PrivateFileError(f"{problem}{elsewhere}")
    return fd


def _replaceable_below(fd: int, walked: Path, repair: bool) -> str:
    """Why others could replace what is in the directory ``fd`` ("" if they cannot, or once
    it is repaired)."""
    info = os.fstat(fd)
    if not _others_can_write(info) or info.st_mode & stat.S_ISVTX:
        return ""
    mode = stat.S_IMODE(info.st_mode)
    if repair and info.st_uid == os.getuid() and _under_home(walked):
        os.fchmod(fd, mode & ~0o022)
        logging.getLogger("colab_local").warning(
            "colab_local | %s could be written by other users (mode %04o), who could replace "
            "colab-local's files below it: made it %04o",
            walked,
            mode,
            mode & ~0o022,
        )
        return ""
    return (
        f"{walked} can be written by other users (mode {mode:04o}), who could replace what "
        f"is below it; make it private: chmod go-w {walked}"
    )


@contextlib.contextmanager
def private_directory(directory: Path) -> Iterator[int]:
    """``open_private_directory`` for one use (a request, a command), closed after."""
    fd = open_private_directory(directory)
    try:
        yield fd
    finally:
        os.close(fd)


def ensure_private_directory(directory: Path, setting: str = "") -> None:
    """Create ``directory`` and its missing parents private (0700 whatever the umask), or
    check that an existing one is safe to use (``open_private_directory``, repairing
    what is this user's inside their home).

    ``setting``: the option that chooses another place, named in the refusal.
    """
    directory = Path(os.path.abspath(directory))
    missing = []
    for path in (directory, *directory.parents):
        if os.path.lexists(path):
            break
        missing.append(path)
    for path in reversed(missing):
        try:
            os.mkdir(path, DIRECTORY_MODE)
        except FileExistsError:
            continue  # made meanwhile: checked below like any existing one
        created = os.open(path, _DIRECTORY_FLAGS)
        try:
            os.fchmod(created, DIRECTORY_MODE)  # the umask may have taken more away
        finally:
            os.close(created)
    os.close(open_private_directory(directory, repair=True, setting=setting))


def _open_private(path: Path | str, dir_fd: int | None = None) -> tuple[int | None, str]:
    """``path`` (relative to ``dir_fd`` if given) opened for reading, or None and why it
    cannot be used ("" when absent)."""
    try:
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        fd = os.open(path, flags, dir_fd=dir_fd)
    except FileNotFoundError:
        return None, ""
    except OSError as e:
        if e.errno == errno.ELOOP:
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


def read_private(path: Path | str, dir_fd: int | None = None) -> tuple[str | None, str]:
    """The text of ``path`` (relative to ``dir_fd`` if given), or None and why it cannot be
    used ("" when there is no file)."""
    fd, problem = _open_private(path, dir_fd)
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
def locked(directory: Path | int) -> Iterator[None]:
    """Hold an exclusive lock on a private ``directory`` (a path, or its descriptor),
    across processes."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    if isinstance(directory, int):
        fd = os.open(".lock", flags, FILE_MODE, dir_fd=directory)
    else:
        fd = os.open(directory / ".lock", flags, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def write_private(path: Path | str, text: str, dir_fd: int | None = None) -> None:
    """Write ``text`` to ``path`` (0600; a name in the directory ``dir_fd`` if given)
    atomically: a temporary file renamed into place, which replaces a symlink or FIFO there
    itself, never its target."""
    name = Path(path)
    temporary = str(name.with_name(f".{name.name}.{os.getpid()}.{secrets.token_hex(4)}"))
    fd = os.open(
        temporary,
        os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
        FILE_MODE,
        dir_fd=dir_fd,
    )
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, str(path), src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary, dir_fd=dir_fd)
        raise
