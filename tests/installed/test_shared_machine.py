"""Another user of the machine (uid 65534) against colab-local's private directories,
with the server started under umask 000 and 002: nothing on the way to the download
links (where kernels write the one-time link ids) can be renamed away and replaced by
them. Needs root (setpriv)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests_support.server_process import JupyterProcess, free_port, started

pytestmark = [
    pytest.mark.installed,
    pytest.mark.skipif(os.getuid() != 0, reason="acting as another user needs root"),
]

STRANGER = 65534
RENAME = "import os, sys; os.rename(sys.argv[1], sys.argv[2])"


@pytest.fixture
def reachable_home() -> Iterator[Path]:
    """A home other users can reach (as /home/<user> is), unlike pytest's 0700 tmp."""
    top = Path(tempfile.mkdtemp(prefix="colab-local-shared-", dir="/tmp"))
    top.chmod(0o755)
    home = top / "victim"
    home.mkdir(mode=0o755)
    try:
        yield home
    finally:
        shutil.rmtree(top)


def as_stranger(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["setpriv", f"--reuid={STRANGER}", f"--regid={STRANGER}", "--clear-groups", *argv],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.mark.parametrize("umask", ["000", "002"])
def test_no_directory_on_the_way_to_the_links_can_be_replaced_by_another_user(
    reachable_home, umask
):
    args = ["--no-browser", "--allow-root", f"--port={free_port()}"]
    process = JupyterProcess(reachable_home, args)
    process.argv = ["sh", "-c", f'umask {umask} && exec "$@"', "sh", *process.argv]
    process = started(process)
    try:
        links = reachable_home / "data" / "colab_local" / "download-links"
        assert links.is_dir()
        for directory in (links, links.parent, links.parent.parent):
            mode = stat.S_IMODE(directory.stat().st_mode)
            assert mode & 0o022 == 0, f"{directory} is {mode:04o}"
        for directory in (links.parent, links.parent.parent):
            moved = as_stranger("/usr/bin/python3", "-c", RENAME, str(directory), f"{directory}.x")
            assert moved.returncode != 0
            assert "Permission denied" in moved.stderr
            assert directory.is_dir()
    finally:
        process.stop()


def test_a_data_directory_made_open_by_an_older_start_is_repaired(reachable_home):
    data = reachable_home / "data"
    data.mkdir()
    data.chmod(0o777)  # as Path.mkdir(parents=True) left it under umask 000
    args = ["--no-browser", "--allow-root", f"--port={free_port()}"]
    process = started(JupyterProcess(reachable_home, args))
    process.stop()
    assert stat.S_IMODE(data.stat().st_mode) == 0o755
    assert f"{data} could be written by other users (mode 0777)" in process.log
