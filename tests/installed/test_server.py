"""The installed package as users get it: a plain ``jupyter notebook`` that Colab can use.

These tests need colab-local installed from a wheel (``pip install .``, as ``.ci/run``
does), because auto-enabling rides on the wheel's data files. They drive real
``jupyter`` processes started with no flag but ``--no-browser --allow-root``.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError

import colab_local
from tests_support import colab_client as colab
from tests_support.machine_lock import machine_wide
from tests_support.server_process import JupyterProcess, free_port, run_jupyter

pytestmark = pytest.mark.installed

COLAB_PORT = 8888


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``jupyter notebook --no-browser --allow-root``, nothing else: it must land on 8888."""
    process = JupyterProcess(tmp_path_factory.mktemp("home"), ["--no-browser", "--allow-root"])
    with machine_wide("port-8888"):
        process.start()
        try:
            process.wait_ready()
            yield process
        finally:
            process.stop()


def test_package_is_installed_not_imported_from_the_checkout():
    site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()
    assert Path(colab_local.__file__).resolve().is_relative_to(site_packages), (
        "install colab-local from a wheel (pip install .), not editable: "
        "auto-enable needs its data files"
    )


def test_installing_enables_the_extension(tmp_path):
    listed = run_jupyter(tmp_path, "server", "extension", "list")
    output = re.sub(r"\x1b\[[0-9;]*m", "", listed.stdout + listed.stderr)
    assert listed.returncode == 0, output
    assert "colab_local enabled" in output
    assert f"colab_local {colab_local.__version__} OK" in output


def test_shipped_config_is_recorded_so_uninstall_removes_it():
    shown = subprocess.run(
        [sys.executable, "-m", "pip", "show", "--files", "colab-local"],
        capture_output=True,
        text=True,
        check=True,
    )
    files = [line.strip() for line in shown.stdout.splitlines()]
    assert any(f.endswith("etc/jupyter/jupyter_server_config.d/colab_local.json") for f in files)
    location = Path(
        next(
            line.split(":", 1)[1].strip()
            for line in shown.stdout.splitlines()
            if line.startswith("Location:")
        )
    )
    config = next(location / f for f in files if f.endswith("colab_local.json"))
    assert json.loads(config.read_text()) == {
        "ServerApp": {"jpserver_extensions": {"colab_local": True}}
    }


def test_plain_start_listens_on_8888_on_localhost_only(server):
    assert server.port == COLAB_PORT
    assert f"http://localhost:{COLAB_PORT}/?token={server.token}" in server.log
    assert "ssh -N -L 8888:localhost:8888" in server.log
    assert server.info["hostname"] == "localhost"


async def test_notebook_7_still_serves_its_ui(server):
    response = await colab.direct_fetch(server.http_root, "tree", server.token, origin=None)
    assert response.code == 200
    assert b"Jupyter Notebook" in response.body


async def test_legacy_flow_against_real_server(server):
    code = "import os; print(sum(range(10)), os.getpid() > 0)"
    assert await colab.legacy_flow(server.http_root, server.token, "legacy.ipynb", code) == (
        "45 True\n"
    )


async def test_direct_flow_as_a_browser_on_colab_does_it(server):
    root, token = server.http_root, server.token
    # Chrome 139-141 (Private Network Access) asks in its preflight; Colab's origin only.
    preflight = await colab.direct_fetch(
        root,
        "api/sessions",
        None,
        method="OPTIONS",
        headers={
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Private-Network": "true",
        },
    )
    assert preflight.headers["Access-Control-Allow-Private-Network"] == "true"
    code = "print('direct', 2 ** 10)"
    assert await colab.direct_flow(root, token, "direct.ipynb", code) == "direct 1024\n"


async def test_direct_flow_needs_the_token(server):
    response = await colab.direct_fetch(server.http_root, "api/sessions", None)
    assert response.code == 403
    with pytest.raises(HTTPClientError) as refused:
        await colab.open_ws(f"{colab.ws_root(server.http_root)}api/kernels/x/channels?session_id=s")
    assert refused.value.code in (403, 404)


async def test_diagnose_answers_with_protocol_version(server):
    ws = await colab.open_ws(
        f"{colab.ws_root(server.http_root)}http_over_websocket/diagnose?min_version=0.0.7"
    )
    ws.write_message("hello")
    answer = json.loads(await ws.read_message())
    ws.close()
    assert answer["message_id"] == "hello"
    assert answer["extension_version"] == "0.0.7"
    assert answer["is_outdated_extension"] is False


async def test_foreign_origin_is_refused_on_the_tunnel(server):
    with pytest.raises(HTTPClientError) as refused:
        await colab.open_tunnel(server.http_root, server.token, origin="https://evil.example")
    assert refused.value.code == 403


async def test_bad_messages_get_400_and_the_connection_keeps_working(server):
    tunnel = await colab.open_tunnel(server.http_root, server.token)
    try:
        tunnel.send_raw("{this is not json")
        assert (await tunnel.read_response()).status == 400
        tunnel.send_raw(json.dumps({"message_id": "no-path", "method": "GET"}))
        assert (await tunnel.read_response()).status == 400
        assert (await tunnel.request("GET", "/api/status")).status == 200
    finally:
        tunnel.close()


async def test_auth_url_on_another_host_port_is_refused(server):
    evil = f"http://127.0.0.1:{free_port()}/?token={server.token}"
    response = await colab.tunnel_get(server.http_root, server.token, auth=evil)
    assert response.status == 500
    assert "must be the URL this server was reached at" in response.status_text


def test_token_is_persisted_privately_and_logged_only_in_the_url(server):
    token_file = Path(server.env["JUPYTER_DATA_DIR"]) / "colab_local" / "token"
    assert token_file.read_text().strip() == server.token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(token_file.parent.stat().st_mode) == 0o700
    lines_with_token = [line for line in server.log.splitlines() if server.token in line]
    assert lines_with_token, "the banner shows the URL to paste"
    assert all(f"?token={server.token}" in line for line in lines_with_token)


@pytest.mark.parametrize("command", ["server", "lab"])
async def test_jupyter_server_and_lab_behave_the_same(tmp_path, command):
    process = JupyterProcess(
        tmp_path, ["--no-browser", "--allow-root", f"--port={free_port()}"], command=command
    )
    process.start()
    try:
        process.wait_ready()
        assert await colab.tunnel_status(process.http_root, process.token) == 200
        specs = await colab.direct_fetch(process.http_root, "api/kernelspecs", process.token)
        assert specs.headers["Access-Control-Allow-Origin"] == colab.COLAB_ORIGIN
        assert specs.headers["Access-Control-Allow-Credentials"] == "true"
    finally:
        process.stop()


async def test_connect_json_on_a_plain_start_is_healthy(server):
    response = await colab.direct_fetch(
        server.http_root, "colab/connect?format=json", server.token, origin=None
    )
    report = json.loads(response.body)
    assert report["healthy"] is True, report["checks"]
    assert report["url"] == f"http://localhost:8888/?token={server.token}"
    token_check = next(c for c in report["checks"] if c["name"] == "token")
    assert "persisted privately" in token_check["detail"]
    assert "0600" in token_check["detail"]
    # The reported URL is the one that works for Colab.
    tunnel = await colab.open_tunnel(server.http_root, report["url"].split("token=")[1])
    try:
        assert (await tunnel.request("GET", "/api/kernelspecs")).status == 200
    finally:
        tunnel.close()


def test_doctor_on_a_healthy_server_exits_0(server):
    result = run_jupyter(server.home, "colab", "doctor", env=server.env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"URL to paste into Colab: http://localhost:8888/?token={server.token}" in result.stdout
    assert "FAIL" not in result.stdout


def test_as_root_without_allow_root_only_jupyter_speaks(tmp_path):
    """Jupyter refuses to run as root without --allow-root; colab-local announces nothing
    for a server that will not run."""
    assert os.geteuid() == 0, "CI runs as root"
    process = JupyterProcess(tmp_path, ["--no-browser", f"--port={free_port()}"]).start()
    try:
        returncode = process.wait_exit(timeout=60)
    finally:
        process.stop()
    assert returncode != 0
    assert "Running as root is not recommended. Use --allow-root to bypass." in process.log
    for announcement in ("applied Colab settings", "persisted token", "serving Colab's"):
        assert announcement not in process.log
    assert "colab-local: connect Google Colab" not in process.log
