"""Private directories, checked at every use, in the kernel (the server's rule, in
``colab_local.private_files``; kernels of other environments cannot import colab_local).

A directory is used only through a descriptor opened step by step from ``/`` without
following a symlink, after checking that no other user could have replaced it: every
directory on the way belongs to root or this user and others cannot write into it
(unless its sticky bit keeps them from renaming what is not theirs), and the directory
itself is this user's, writable by nobody else. Files are then created, read and removed
relative to the descriptor.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
#: Reading a file: never through a symlink, never blocking on a FIFO put in its place.
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def replaceable_by_others(info: os.stat_result) -> bool:
    """Whether others can write into this directory without the sticky bit stopping them
    from renaming what is not theirs."""
    return bool(info.st_mode & 0o022) and not info.st_mode & stat.S_ISVTX


def make_private_directories(directory: Path, exist_ok: bool = False) -> None:
    """``directory`` and its missing parents made 0700 whatever the umask (others can never
    replace what is below them); ``exist_ok``: one made meanwhile by another process is
    left to the caller's check instead of failing (FileExistsError)."""
    missing = [p for p in (directory, *directory.parents) if not os.path.lexists(p)]
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            if not exist_ok:
                raise
            continue
        os.chmod(path, 0o700)


def open_private_directory(directory: str | os.PathLike[str]) -> int:
    """``directory`` opened as described above; PermissionError (an OSError) saying why
    when another user could have replaced it. The caller closes the descriptor."""
    real = Path(os.path.realpath(directory))
    fd, walked = os.open("/", _DIRECTORY_FLAGS), Path("/")
    for name in real.parts[1:]:
        if replaceable_by_others(os.fstat(fd)):
            os.close(fd)
            raise PermissionError(f"{walked} can be written by other users: {real} is not used")
        try:
            step = os.open(name, _DIRECTORY_FLAGS, dir_fd=fd)
        finally:
            os.close(fd)
        fd, walked = step, walked / name
        if os.fstat(fd).st_uid not in (0, os.getuid()):
            os.close(fd)
            raise PermissionError(f"{walked} belongs to another user: {real} is not used")
    info = os.fstat(fd)
    if info.st_uid != os.getuid() or info.st_mode & 0o022:
        os.close(fd)
        raise PermissionError(f"{real} is not private to this user: it is not used")
    return fd
