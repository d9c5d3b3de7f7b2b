"""Both distributions carry the shipped config, so every install auto-enables."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[1]
CONFIG = "jupyter-config/jupyter_server_config.d/colab_local.json"


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """Build both from a copy of the checkout (the build writes next to its sources)."""
    source = tmp_path_factory.mktemp("source") / "colab-local"
    shutil.copytree(
        CHECKOUT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv*", "build", "dist", "*.egg-info", "test-artifacts", "__pycache__"
        ),
    )
    out = tmp_path_factory.mktemp("dist")
    command = [sys.executable, "-m", "build", "--no-isolation", "--skip-dependency-check"]
    built = subprocess.run(
        [*command, "--sdist", "--wheel", "--outdir", out],
        cwd=source,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    return out


def test_wheel_installs_the_config_into_etc_jupyter(dist):
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert any(
        n.endswith(".data/data/etc/jupyter/jupyter_server_config.d/colab_local.json") for n in names
    )


def test_sdist_carries_the_config_license_and_tests(dist):
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {CONFIG, "LICENSE", "README.md", "setup.cfg", "pyproject.toml"} <= names
    assert "tests/conftest.py" in names
