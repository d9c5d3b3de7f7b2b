"""google.colab.drive: ``<mountpoint>/MyDrive`` is a directory on this server.

There is no Google Drive on your own server; what notebooks need is the path. ``mount``
makes ``<mountpoint>/MyDrive`` (``/content/drive/MyDrive``) a link to a private directory
of yours (``ColabLocal.drive_directory``, by default ``~/colab-drive``), so the
notebook's ``/content/drive/MyDrive/data.csv`` paths work unchanged and its files stay
on this machine across sessions. Copy your data there once (scp, rsync, rclone).
"""

from __future__ import annotations

import getpass
import os
import stat
from pathlib import Path

from google.colab import _private, _settings

_MY_DRIVE = "MyDrive"
#: Where this kernel mounted (a kernel that restarts forgets: unmount finds none).
_mountpoints: list[Path] = []


def _drive_directory() -> Path:
    """The drive directory, made private (0700, whatever the umask) where it is missing,
    and refused when another user could have replaced it."""
    directory = _settings.drive_directory()
    _private.make_private_directories(directory, exist_ok=True)  # checked just below
    os.close(_private.open_private_directory(directory))
    return directory


def _mountpoint_problem(where: Path) -> str:
    """Why another user could take ``where`` over ("" if they cannot): it is a symlink or
    theirs, or a directory on its way lets others rename what is in it."""
    if where.is_symlink():
        return "Mountpoint must not be a symlink"
    if where.exists() and where.stat().st_uid != os.getuid():
        return f"Mountpoint {where} belongs to another user; choose one of yours"
    for parent in where.parents:
        if not parent.exists():
            continue
        info = parent.stat()
        if info.st_uid not in (0, os.getuid()) or _private.replaceable_by_others(info):
            return (
                f"Mountpoint {where} is inside {parent}, which other users can write "
                f"(mode {stat.S_IMODE(info.st_mode):04o}) without the sticky bit protecting "
                "what is yours: they could replace the mount; choose a mountpoint in a "
                "directory only you (or root) can write"
            )
    return ""


def _is_mounted(mountpoint: Path) -> bool:
    link = mountpoint / _MY_DRIVE
    return link.is_symlink() and Path(os.readlink(link)) == _drive_directory()


def _create(mountpoint: Path) -> None:
    try:
        _private.make_private_directories(mountpoint)  # others can never replace the mount
    except PermissionError:
        top = Path(mountpoint.parts[0], *mountpoint.parts[1:2])
        user = getpass.getuser()
        raise PermissionError(
            f"cannot create {mountpoint}: {top} is not yours to write. Once, as root: "
            f"sudo install -d -o {user} {top}  (the files live in "
            f"{_settings.drive_directory()}: ColabLocal.drive_directory)"
        ) from None


def mount(
    mountpoint: str | os.PathLike[str],
    force_remount: bool = False,
    timeout_ms: int = 120000,
    readonly: bool = False,
) -> None:
    """Make ``<mountpoint>/MyDrive`` this server's drive directory."""
    if " " in str(mountpoint):
        raise ValueError("Mountpoint must not contain a space.")
    where = Path(os.path.expanduser(str(mountpoint))).absolute()
    if readonly:
        raise ValueError(
            "readonly=True: a local runtime's drive directory is your own files; it cannot "
            "be mounted read-only. Mount it without readonly."
        )
    problem = _mountpoint_problem(where)
    if problem:
        raise ValueError(problem)
    if where.exists() and not where.is_dir():
        raise ValueError("Mountpoint must either be a directory or not exist")
    if _is_mounted(where):
        if not force_remount:
            print(
                f"Drive already mounted at {where}; to attempt to forcibly remount, "
                f'call drive.mount("{where}", force_remount=True).'
            )
            return
        (where / _MY_DRIVE).unlink()
    elif where.is_dir() and any(where.iterdir()):
        raise ValueError("Mountpoint must not already contain files")
    _create(where)
    (where / _MY_DRIVE).symlink_to(_drive_directory(), target_is_directory=True)
    _mountpoints.append(where)
    print(f"Mounted at {where}")


def flush_and_unmount(timeout_ms: int = 24 * 60 * 60 * 1000) -> None:
    """Unmount every mountpoint ``mount`` made (files are on disk already: nothing to flush)."""
    mounted = [m for m in dict.fromkeys(_mountpoints) if _is_mounted(m)]
    if not mounted:
        raise ValueError("Drive is not mounted, so cannot be flushed and unmounted.")
    for mountpoint in mounted:
        (mountpoint / _MY_DRIVE).unlink()
        if not any(mountpoint.iterdir()):
            mountpoint.rmdir()
    _mountpoints.clear()
    print("All changes made in this colab session should now be visible in Drive.")
