"""This server's secrets (``jupyter colab secret``): one private file, changed under the
directory's lock through the directory's descriptor, none lost to concurrent changes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from colab_local.kernel_support.secret_store import change, load
from colab_local.private_files import PrivateFileError

SET = "import sys; from pathlib import Path; from colab_local.kernel_support.secret_store import change; change(Path(sys.argv[1]), sys.argv[2], 'v')"  # noqa: E501


def test_concurrent_changes_lose_nothing(tmp_path):
    path = tmp_path / "colab_local" / "secrets.json"
    setters = [subprocess.Popen([sys.executable, "-c", SET, str(path), f"S{i}"]) for i in range(20)]
    assert [setter.wait(timeout=120) for setter in setters] == [0] * 20
    assert sorted(load(path)) == sorted(f"S{i}" for i in range(20))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_directory_others_can_write_is_refused_before_anything_is_written(tmp_path):
    directory = tmp_path / "colab_local"
    directory.mkdir()
    directory.chmod(0o777)
    with pytest.raises(PrivateFileError, match="can be written by other users"):
        change(directory / "secrets.json", "HF_TOKEN", "x")
    assert os.listdir(directory) == []
