"""Health reflects real misconfiguration; ``jupyter colab doctor`` says so from a terminal."""

from __future__ import annotations

import json
import socket

import pytest

from tests_support import colab_client as colab
from tests_support.server_process import JupyterProcess, free_port, run_jupyter

pytestmark = pytest.mark.installed


@pytest.mark.parametrize(
    ("flags", "check", "in_fix"),
    [
        (["--ServerApp.allow_origin=*"], "allowed origin", "https://colab.research.google.com"),
        (["--ServerApp.port_retries=5"], "port", "free port"),
        (["--ip=0.0.0.0"], "listens on localhost only", "restart without --ip"),
    ],
    ids=["wildcard-origin", "moved-off-its-port", "all-interfaces"],
)
async def test_misconfigured_server_reports_the_failing_check(tmp_path, flags, check, in_fix):
    port = free_port()
    holder = socket.socket()  # someone holds the port: only port_retries moves the server
    holder.bind(("127.0.0.1", port))
    holder.listen()
    if check != "port":
        holder.close()
    process = JupyterProcess(tmp_path, ["--no-browser", "--allow-root", f"--port={port}", *flags])
    process.start()
    try:
        process.wait_ready()
        response = await colab.direct_fetch(
            process.http_root, "colab/connect?format=json", process.token, origin=None
        )
        doctor = run_jupyter(tmp_path, "colab", "doctor", env=process.env)
    finally:
        process.stop()
        holder.close()
    report = json.loads(response.body)
    assert report["healthy"] is False
    failing = {c["name"]: c for c in report["checks"] if not c["ok"]}
    assert check in failing
    assert in_fix in failing[check]["fix"]
    assert doctor.returncode == 1
    assert f"[FAIL] {check}:" in doctor.stdout
    assert in_fix in doctor.stdout
    banner = process.log[process.log.index("colab-local: connect Google Colab") :]
    if check != "port":  # a moved port is in the banner's command: nothing to warn of
        warning = banner[banner.index("WARNING: ") : banner.index("1. On your laptop")]
        assert in_fix in warning


def test_doctor_without_a_server_says_so(tmp_path):
    result = run_jupyter(tmp_path, "colab", "doctor")
    assert result.returncode == 2
    assert result.stderr == (
        "jupyter colab: no Jupyter server is running for this user; start one: jupyter notebook\n"
    )
