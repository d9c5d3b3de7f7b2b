"""Users of Colab's old recipe: whatever it left enabled, the server starts clean, with a
one-line hint, and ``jupyter colab tidy`` really removes it."""

from __future__ import annotations

import json

import pytest

from tests_support import colab_client as colab
from tests_support.server_process import (
    JupyterProcess,
    free_port,
    isolated_env,
    run_jupyter,
    unexpected_tracebacks,
)

pytestmark = pytest.mark.installed

ENABLED = {"jupyter_http_over_ws": True}


def write(path, content):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content))


@pytest.fixture
def old_recipe_config(tmp_path):
    """Everything the old recipe's ways of enabling left in the user's config."""
    config = tmp_path / "config"
    # `jupyter server extension enable --user` / hand-written: listed before colab_local,
    # jupyter_server imports it first (this was the startup traceback).
    write(
        config / "jupyter_server_config.json",
        {"ServerApp": {"jpserver_extensions": ENABLED, "iopub_msg_rate_limit": 1000}},
    )
    write(
        config / "jupyter_server_config.d" / "jupyter_http_over_ws.json",
        {"ServerApp": {"jpserver_extensions": ENABLED}},
    )
    # `jupyter serverextension enable --py jupyter_http_over_ws` (Notebook < 7).
    write(
        config / "jupyter_notebook_config.json", {"NotebookApp": {"nbserver_extensions": ENABLED}}
    )
    (config / "jupyter_notebook_config.py").write_text(
        "c = get_config()\nc.NotebookApp.port_retries = 0  # jupyter_http_over_ws recipe\n"
    )
    return config


async def start_and_stop(tmp_path):
    args = ["--no-browser", "--allow-root", f"--port={free_port()}"]
    process = JupyterProcess(tmp_path, args, env=isolated_env(tmp_path)).start()
    try:
        process.wait_ready()
        assert await colab.tunnel_status(process.http_root, process.token) == 200
    finally:
        process.stop()
    return process.log


async def test_an_old_recipe_starts_clean_with_a_hint_and_tidy_removes_it(
    tmp_path, old_recipe_config
):
    log = await start_and_stop(tmp_path)
    assert unexpected_tracebacks(log) == []
    assert "error adding extension" not in log
    hints = [line for line in log.splitlines() if "jupyter colab tidy" in line]
    assert len(hints) == 1

    preview = run_jupyter(tmp_path, "colab", "tidy", "--dry-run")
    assert "would remove jupyter_http_over_ws" in preview.stdout
    assert (old_recipe_config / "jupyter_server_config.d" / "jupyter_http_over_ws.json").exists()

    tidied = run_jupyter(tmp_path, "colab", "tidy")
    # The Python config file mentions it in a comment only: pointed out, never edited.
    assert tidied.returncode == 1
    assert "jupyter_notebook_config.py: mentions jupyter_http_over_ws on line 2" in tidied.stdout
    assert "some settings must be removed by hand" in tidied.stderr
    assert not (
        old_recipe_config / "jupyter_server_config.d" / "jupyter_http_over_ws.json"
    ).exists()
    assert json.loads((old_recipe_config / "jupyter_server_config.json").read_text()) == {
        "ServerApp": {"iopub_msg_rate_limit": 1000}
    }
    assert json.loads((old_recipe_config / "jupyter_notebook_config.json").read_text()) == {}

    (old_recipe_config / "jupyter_notebook_config.py").unlink()
    again = run_jupyter(tmp_path, "colab", "tidy")
    assert again.returncode == 0
    assert "Nothing to tidy" in again.stdout
    log = await start_and_stop(tmp_path)
    assert "jupyter_http_over_ws" not in log


def test_tidy_reports_what_it_cannot_read_and_changes_nothing_there(tmp_path, old_recipe_config):
    broken = old_recipe_config / "jupyter_server_config.json"
    broken.write_text('{"ServerApp": {"jpserver_extensions": {"jupyter_http_over_ws": true}')
    result = run_jupyter(tmp_path, "colab", "tidy")
    assert result.returncode == 1
    assert f"{broken}: cannot be read" in result.stdout
    assert "Traceback" not in result.stderr
    assert broken.read_text().endswith("true}")  # left as it was
