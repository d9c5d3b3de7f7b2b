"""drive.mount's errors, as hosted Colab's where the situation is the same, and the one
a local runtime adds (no /content); run in a fresh interpreter with the kernels'
PYTHONPATH (tests/installed/test_google_colab.py runs it in real kernels)."""

from __future__ import annotations

import json
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
        "import pathlib\n"
        "def refused(self, *a, **k):\n"
        "    raise PermissionError(13, 'Permission denied', str(self))\n"
        "pathlib.Path.mkdir, keep = refused, pathlib.Path.mkdir\n"
        "try:\n"
        "    drive.mount('/content/drive')\n"
        "finally:\n"
        "    pathlib.Path.mkdir = keep",
    )
    assert outcomes[0].startswith("PermissionError: cannot create /content/drive: /content is ")
    assert "sudo install -d -o " in outcomes[0]
    assert " /content " in outcomes[0]
    assert "ColabLocal.drive_directory" in outcomes[0]
