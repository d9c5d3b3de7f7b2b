"""``jupyter colab url`` / ``token``, and the token surviving real restarts."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tests_support.server_process import JupyterProcess, free_port, isolated_env, run_jupyter

pytestmark = pytest.mark.installed


def token_file(home: Path) -> Path:
    return home / "data" / "colab_local" / "token"


def test_restarts_keep_the_token_and_the_url(tmp_path):
    args = ["--no-browser", "--allow-root", f"--port={free_port()}"]
    tokens = []
    for _ in range(2):
        process = JupyterProcess(tmp_path, args).start()
        try:
            process.wait_ready()
            tokens.append(process.token)
        finally:
            process.stop()
        assert f"?token={process.token}" in process.log
    assert tokens[0] == tokens[1]
    assert token_file(tmp_path).read_text().strip() == tokens[0]
    assert stat.S_IMODE(token_file(tmp_path).stat().st_mode) == 0o600


def test_url_without_a_server_needs_a_token_first(tmp_path):
    result = run_jupyter(tmp_path, "colab", "url")
    assert result.returncode == 1
    assert result.stderr.startswith("jupyter colab: no token yet at ")
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_url_without_a_server_uses_the_persisted_token_and_port(tmp_path):
    run_jupyter(tmp_path, "colab", "token", "--rotate")
    token = token_file(tmp_path).read_text().strip()
    result = run_jupyter(tmp_path, "colab", "url")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"http://localhost:8888/?token={token}"

    as_json = run_jupyter(tmp_path, "colab", "url", "--json")
    info = json.loads(as_json.stdout)
    assert info["url"] == f"http://localhost:8888/?token={token}"
    assert info["running"] is False
    assert info["tunnel_command"].startswith("ssh -N -L 8888:localhost:8888 ")

    # A server on another port: the laptop's end of the tunnel stays Colab's 8888.
    env = isolated_env(tmp_path, JUPYTER_PORT="9100")
    other = run_jupyter(tmp_path, "colab", "url", env=env)
    assert other.stdout.strip() == f"http://localhost:8888/?token={token}"
    assert "ssh -N -L 8888:localhost:9100 " in other.stderr
    laptop = json.loads(
        run_jupyter(tmp_path, "colab", "url", "--json", "--laptop-port=9999").stdout
    )
    assert laptop["url"] == f"http://localhost:9999/?token={token}"
    assert laptop["tunnel_command"].startswith("ssh -N -L 9999:localhost:8888 ")


def test_url_from_the_running_server(tmp_path):
    port = free_port()
    process = JupyterProcess(tmp_path, ["--no-browser", "--allow-root", f"--port={port}"]).start()
    try:
        process.wait_ready()
        result = run_jupyter(tmp_path, "colab", "url", "--json")
    finally:
        process.stop()
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["running"] is True
    assert info["url"] == f"http://localhost:8888/?token={process.token}"
    assert info["server_port"] == port
    assert info["tunnel_command"].startswith(f"ssh -N -L 8888:localhost:{port} ")


def test_token_says_where_it_lives_and_rotates(tmp_path):
    missing = run_jupyter(tmp_path, "colab", "token")
    assert missing.returncode == 1
    assert "no token yet" in missing.stderr

    rotated = run_jupyter(tmp_path, "colab", "token", "--rotate")
    assert rotated.returncode == 0, rotated.stderr
    first = token_file(tmp_path).read_text()
    assert str(token_file(tmp_path)) in rotated.stdout

    shown = run_jupyter(tmp_path, "colab", "token")
    assert shown.returncode == 0
    assert str(token_file(tmp_path)) in shown.stdout
    assert first.strip() not in shown.stdout  # says where it is, does not print it

    run_jupyter(tmp_path, "colab", "token", "--rotate")
    assert token_file(tmp_path).read_text() != first


def test_rotate_while_running_says_the_server_keeps_its_token(tmp_path):
    process = JupyterProcess(
        tmp_path, ["--no-browser", "--allow-root", f"--port={free_port()}"]
    ).start()
    try:
        process.wait_ready()
        result = run_jupyter(tmp_path, "colab", "token", "--rotate")
    finally:
        process.stop()
    assert result.returncode == 0
    assert "keeps its old token until it restarts" in result.stdout


def test_malformed_token_file_is_one_clear_error(tmp_path):
    token_file(tmp_path).parent.mkdir(parents=True, mode=0o700)
    token_file(tmp_path).write_text("nope")
    token_file(tmp_path).chmod(0o600)
    result = run_jupyter(tmp_path, "colab", "url")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "cannot be used" in result.stderr


def test_no_subcommand_is_an_error(tmp_path):
    result = run_jupyter(tmp_path, "colab")
    assert result.returncode == 1
    assert "choose a subcommand: url, token" in result.stderr


def test_help_all_documents_colab_local_settings(tmp_path):
    result = run_jupyter(tmp_path, "colab", "--help-all")
    assert result.returncode == 0
    for name in ("apply_colab_settings", "private_network_access", "persist_token", "token_file"):
        assert f"--ColabLocal.{name}" in result.stdout


def test_url_and_doctor_take_port_and_say_the_banners_url(tmp_path):
    """Two servers of one user: ``--port`` picks one; banner, ``url`` and ``doctor`` give
    the same URL and tunnel command for it (the laptop's end: 8888 unless told); neither
    command imports the server (``python benchmarks/cli_start.py`` times them)."""
    ports = [free_port(), free_port()]
    servers = [
        JupyterProcess(tmp_path, ["--no-browser", "--allow-root", f"--port={port}"])
        for port in ports
    ]
    try:
        for server in servers:
            server.start().wait_ready()
        port = ports[0]
        # Python's import log: what these commands import (not the server, 1.3 s of it).
        imports = isolated_env(tmp_path, PYTHONPROFILEIMPORTTIME="1")
        url_run = run_jupyter(tmp_path, "colab", "url", "--json", f"--port={port}", env=imports)
        url = json.loads(url_run.stdout)
        doctor = run_jupyter(tmp_path, "colab", "doctor", f"--port={port}", env=imports)
        rotated = run_jupyter(tmp_path, "colab", "token", "--rotate")
        after = run_jupyter(tmp_path, "colab", "doctor", f"--port={port}")
    finally:
        for server in servers:
            server.stop()
    assert url["server_port"] == port
    for run in (url_run, doctor):
        assert "| colab_local.cli.app\n" in run.stderr  # the import log is there
        assert "jupyter_server.serverapp" not in run.stderr
        assert "jupyter_events" not in run.stderr
    assert "Unrecognized" not in doctor.stderr
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert f"URL to paste into Colab: {url['url']}" in doctor.stdout
    assert f"On your laptop first:    {url['tunnel_command']}" in doctor.stdout
    assert url["url"] in servers[0].log  # the banner's
    assert f"ssh -N -L 8888:localhost:{port} " in servers[0].log
    assert rotated.returncode == 0
    assert after.returncode == 0, after.stdout  # the running server's token still works
    assert "was rotated since: when the server restarts" in after.stdout
    assert f"URL to paste into Colab: {url['url']}" in after.stdout
