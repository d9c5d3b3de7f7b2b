from __future__ import annotations

import shutil
import tempfile

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from tests_support.server_process import running_server

pytest_plugins = ["pytest_jupyter.jupyter_server"]
HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="colab-local-hypothesis-")


def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis keeps its examples and constants in a throwaway directory, not the checkout."""
    set_hypothesis_home_dir(HYPOTHESIS_HOME)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(HYPOTHESIS_HOME, ignore_errors=True)


@pytest.fixture
def fresh_server(tmp_path):
    """A real `jupyter notebook` from the installed package, on a free port, stopped after."""
    with running_server(tmp_path) as process:
        yield process


@pytest.fixture
def private_dir(tmp_path):
    """A directory as colab-local makes its own: this user's, 0700."""
    directory = tmp_path / "colab_local"
    directory.mkdir(mode=0o700)
    return directory


@pytest.fixture
def jp_server_config():
    return {"ServerApp": {"jpserver_extensions": {"colab_local": True}}}


@pytest.fixture
def http_root(jp_serverapp, http_server_client, jp_http_port, jp_base_url):
    """The in-process server's root URL, as Colab would reach it."""
    return f"http://localhost:{jp_http_port}{jp_base_url}"


@pytest.fixture
def token(jp_serverapp):
    return jp_serverapp.identity_provider.token
