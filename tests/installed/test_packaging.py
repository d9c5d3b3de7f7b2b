"""Both distributions carry the shipped config, so every install auto-enables."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[2]
CONFIG = "jupyter-config/jupyter_server_config.d/colab_local.json"


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """Build both from a copy of the checkout (the build writes next to its sources): the
    sdist, then the wheel from the sdist, as pip builds a wheel from PyPI's sdist."""
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
        [*command, "--outdir", out],
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


def test_wheel_installs_the_old_recipes_import_hook_and_records_it(dist):
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        hook = archive.read("colab_local_old_recipe.pth")
        record = next(archive.read(n) for n in names if n.endswith(".dist-info/RECORD"))
    assert hook == b"import colab_local.http_over_ws.old_recipe_hook\n"
    assert b"colab_local_old_recipe.pth,sha256=" in record  # pip uninstall removes it
    assert names[-1].endswith(".dist-info/RECORD")


def test_sdist_carries_the_config_license_and_tests(dist):
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {CONFIG, "LICENSE", "README.md", "setup.cfg", "pyproject.toml"} <= names
    assert "build_backend/colab_local_build.py" in names
    assert "tests/conftest.py" in names
