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
    # What the suite, the README's benchmarks and a contributor need.
    assert "tests/notebooks/from_hosted_colab.ipynb" in names
    assert {"benchmarks/abuse.py", "benchmarks/measuring.py", ".ci/run"} <= names
    assert {"CONTRIBUTING.md", "CHANGELOG.md"} <= names


def test_an_editable_install_enables_the_extension_as_the_wheel_does(dist, tmp_path):
    """setuptools leaves data files out of editable wheels: the backend adds the config
    (and the old recipe's hook), so ``pip install -e .`` gives the same server."""
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path, filter="data")
    (source,) = tmp_path.iterdir()
    build = (
        "import sys; sys.path.insert(0, 'build_backend'); import colab_local_build as b; "
        f"print(b.build_editable({str(tmp_path)!r}))"
    )
    built = subprocess.run(
        [sys.executable, "-c", build],
        cwd=source,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    editable = tmp_path / built.stdout.strip().splitlines()[-1]
    with zipfile.ZipFile(editable) as archive:
        names = archive.namelist()
        record = next(archive.read(n) for n in names if n.endswith(".dist-info/RECORD"))
        config = next(n for n in names if n.endswith("jupyter_server_config.d/colab_local.json"))
        assert archive.read(config) == (source / CONFIG).read_bytes()
    assert config.split("/", 1)[1] == "data/etc/jupyter/jupyter_server_config.d/colab_local.json"
    assert f"{config},sha256=".encode() in record
    assert b"colab_local_old_recipe.pth,sha256=" in record
    assert names[-1].endswith(".dist-info/RECORD")
