"""drive.mount's errors, as hosted Colab's where the situation is the same, and the one
a local runtime adds (no /content); run in a fresh interpreter with the kernels'
PYTHONPATH (tests/installed/test_google_colab.py runs it in real kernels)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import colab_local

SHIM = Path(colab_local.__file__).parent / "kernel_shim"

SCRIPT = """
import json, sys
from pathlib import Path
from google.colab import drive
outcomes = []
for call in json.loads(sys.argv[1]):
    try:
        exec(call)
        outcomes.append("ok")
    except Exception as e:
        outcomes.append(f"{type(e).__name__}: {e}")
print(json.dumps(outcomes))
"""


def run(tmp_path: Path, *calls: str) -> tuple[list[str], str]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(calls)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=tmp_path,
        env={
            "PYTHONPATH": str(SHIM),
            "HOME": str(tmp_path),
            "COLAB_LOCAL_DRIVE_DIRECTORY": str(tmp_path / "drive-files"),
        },
    )
    *printed, outcomes = done.stdout.strip().splitlines()
    return json.loads(outcomes), "\n".join(printed)


def test_mount_links_my_drive_and_unmount_removes_it(tmp_path):
    outcomes, printed = run(
        tmp_path,
        "drive.mount('mnt/drive')",
        "Path('mnt/drive/MyDrive/a.txt').write_text('kept')",
        "drive.mount('mnt/drive')",
        "drive.mount('mnt/drive', force_remount=True)",
        "drive.flush_and_unmount()",
        "drive.flush_and_unmount()",
    )
    assert outcomes[:5] == ["ok"] * 5
    assert outcomes[5] == "ValueError: Drive is not mounted, so cannot be flushed and unmounted."
    mountpoint = tmp_path / "mnt" / "drive"
    assert printed.splitlines() == [
        f"Mounted at {mountpoint}",
        f"Drive already mounted at {mountpoint}; to attempt to forcibly remount, call "
        f'drive.mount("{mountpoint}", force_remount=True).',
        f"Mounted at {mountpoint}",
        "All changes made in this colab session should now be visible in Drive.",
    ]
    assert (tmp_path / "drive-files" / "a.txt").read_text() == "kept"
    assert oct((tmp_path / "drive-files").stat().st_mode & 0o777) == "0o700"
    assert not mountpoint.exists()


@pytest.mark.parametrize(
    ("prepare", "error"),
    [
        (
            "Path('m').mkdir(); Path('m/x').write_text('')",
            "Mountpoint must not already contain files",
        ),
        ("Path('m').write_text('')", "Mountpoint must either be a directory or not exist"),
        ("", "readonly=True: a local runtime's drive directory is your own files"),
    ],
)
def test_mount_refuses_as_hosted_colab_does(tmp_path, prepare, error):
    readonly = ", readonly=True" if not prepare else ""
    outcomes, _ = run(tmp_path, prepare or "pass", f"drive.mount('m'{readonly})")
    assert outcomes[0] == "ok"
    assert outcomes[1].startswith("ValueError: " + error)


def test_no_content_directory_names_the_command_that_makes_it(tmp_path):
    """Not root: /content cannot be created. (Here: mkdir refused, as for a user.)"""
    outcomes, _ = run(
        tmp_path,
        "import os\n"
        "def refused(path, *a, **k):\n"
        "    if not str(path).startswith('/content'):\n"
        "        return keep(path, *a, **k)\n"
        "    raise PermissionError(13, 'Permission denied', str(path))\n"
        "os.mkdir, keep = refused, os.mkdir\n"
        "try:\n"
        "    drive.mount('/content/drive')\n"
        "finally:\n"
        "    os.mkdir = keep",
    )
    assert outcomes[0].startswith("PermissionError: cannot create /content/drive: /content is ")
    assert "sudo install -d -o " in outcomes[0]
    assert " /content " in outcomes[0]
    assert "ColabLocal.drive_directory" in outcomes[0]


needs_root = pytest.mark.skipif(os.getuid() != 0, reason="another user's directory needs root")


def test_a_mountpoint_that_is_a_symlink_is_refused(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "mnt").symlink_to(tmp_path / "elsewhere")
    outcomes, _ = run(tmp_path, f"drive.mount({str(tmp_path / 'mnt')!r})")
    assert outcomes == ["ValueError: Mountpoint must not be a symlink"]


@needs_root
def test_a_mountpoint_another_user_prepared_in_a_sticky_directory_is_refused(tmp_path):
    """/content world-writable and sticky, as an admin may set it: the stranger's
    ``drive`` there is not used (they could swap MyDrive for their own directory)."""
    content = tmp_path / "content"
    content.mkdir()
    os.chmod(content, 0o1777)
    (content / "drive").mkdir()
    os.chown(content / "drive", 65534, 65534)
    outcomes, _ = run(tmp_path, f"drive.mount({str(content / 'drive')!r})")
    assert outcomes[0].startswith(f"ValueError: Mountpoint {content / 'drive'} belongs to another")
    assert not (content / "drive" / "MyDrive").exists()


def test_a_mountpoint_of_ones_own_in_a_sticky_directory_is_made_private(tmp_path):
    content = tmp_path / "content"
    content.mkdir()
    os.chmod(content, 0o1777)
    outcomes, _ = run(tmp_path, f"drive.mount({str(content / 'drive')!r})")
    assert outcomes == ["ok"]
    assert stat.S_IMODE((content / "drive").stat().st_mode) == 0o700
    assert (content / "drive" / "MyDrive").is_symlink()


def test_a_mountpoint_inside_a_directory_anyone_can_write_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)  # no sticky bit: anyone can rename what is in it
    outcomes, _ = run(tmp_path, f"drive.mount({str(shared / 'drive')!r})")
    assert outcomes[0].startswith(f"ValueError: Mountpoint {shared / 'drive'} is inside {shared}")
    assert "(mode 0777)" in outcomes[0]
    assert not (shared / "drive").exists()


def test_the_drive_directory_is_made_private_under_any_umask(tmp_path):
    outcomes, _ = run(tmp_path, "import os\nos.umask(0)", "drive.mount('mnt/drive')")
    assert outcomes == ["ok", "ok"]
    assert stat.S_IMODE((tmp_path / "drive-files").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "mnt").stat().st_mode) == 0o700
