"""Colab's resource monitor on a real ``jupyter notebook`` from the wheel: the GPUs of a
fake NVML and of a fake ``nvidia-smi``, through both Colab flows, polled as the page polls;
a server with no GPU; kernels on a gateway."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest

from colab_local.monitor.handlers import XSSI_PREFIX
from tests_support import colab_client as colab
from tests_support.fake_gpu import FakeGpus
from tests_support.gateway import running_gateway
from tests_support.server_process import JupyterProcess, free_port, isolated_env, started

pytestmark = pytest.mark.installed

#: Colab's page polls every few seconds; twice a second is harder.
POLL_INTERVAL = 0.5
POLLS = 8


def serve(home: Path, env: dict[str, str], *extra: str) -> JupyterProcess:
    args = ["--no-browser", "--allow-root", f"--port={free_port()}", *extra]
    return started(JupyterProcess(home, args, env=isolated_env(home, **env)))


def parsed(body: bytes) -> Any:
    text = body.decode()
    assert text.startswith(XSSI_PREFIX), text[:40]
    return json.loads(text[len(XSSI_PREFIX) :])


async def direct_resources(process: JupyterProcess) -> Any:
    response = await colab.direct_fetch(process.http_root, "api/colab/resources", process.token)
    assert response.code == 200, response.body
    assert response.headers["Access-Control-Allow-Origin"] == colab.COLAB_ORIGIN
    return parsed(response.body)


async def tunnel_resources(tunnel: colab.Tunnel) -> Any:
    response = await tunnel.request("GET", "/api/colab/resources")
    assert response.status == 200, response.body
    return parsed(response.body)


@pytest.mark.parametrize("nvml", [True, False], ids=["nvml", "nvidia-smi"])
async def test_colab_sees_the_servers_gpus_memory_disk_and_kernels_in_both_flows(tmp_path, nvml):
    gpus = FakeGpus(tmp_path / "gpus")
    process = serve(tmp_path, gpus.environment(os.environ["PATH"], nvml=nvml))
    try:
        tunnel = await colab.open_tunnel(process.http_root, process.token)
        created = await tunnel.request("POST", "/api/sessions", colab.session_body("m.ipynb"))
        kernel_id = created.json()["kernel"]["id"]
        direct, tunnelled = await direct_resources(process), await tunnel_resources(tunnel)
        tunnel.close()
    finally:
        process.stop()
    expected = gpus.expected(ever_used=[True, False])
    for answer in (direct, tunnelled):
        assert answer["gpus"] == expected
        assert answer["memory"]["totalBytes"] > answer["memory"]["freeBytes"] > 0
        assert kernel_id in {kernel["uuid"] for kernel in answer["memory"]["kernels"]}
        assert answer["disks"][0]["filesystem"]["label"] == "kernel"
    assert "resource monitor shows no GPUs" not in process.log


async def test_polling_from_both_flows_never_runs_a_query_per_request(tmp_path):
    gpus = FakeGpus(tmp_path / "gpus")
    process = serve(tmp_path, gpus.environment(os.environ["PATH"], nvml=False))
    try:
        tunnel = await colab.open_tunnel(process.http_root, process.token)
        answers = []
        for _ in range(POLLS):
            answers.append(await direct_resources(process))
            answers.append(await tunnel_resources(tunnel))
            await asyncio.sleep(POLL_INTERVAL)  # the page's polling period
        tunnel.close()
    finally:
        process.stop()
    assert all(answer["gpus"] == answers[0]["gpus"] for answer in answers)
    # One query a second (ColabLocal's sampling) for 2 x POLLS requests over 4 s.
    assert 1 <= gpus.nvidia_smi_calls() <= POLLS * POLL_INTERVAL + 2 < len(answers)


async def test_a_server_without_gpus_reports_none_and_says_so_once(tmp_path):
    empty = tmp_path / "no-gpu-bin"
    empty.mkdir()
    process = serve(tmp_path, {"PATH": os.pathsep.join([str(empty), "/usr/bin", "/bin"])})
    try:
        first, second = await direct_resources(process), await direct_resources(process)
    finally:
        process.stop()
    assert first["gpus"] == second["gpus"] == []
    assert process.log.count("resource monitor: no GPU here") == 1


async def test_with_kernels_on_a_gateway_their_memory_is_not_claimed(tmp_path):
    with running_gateway(tmp_path / "gateway") as gateway:
        process = serve(tmp_path / "front", {}, *gateway.front_args())
        try:
            body = colab.session_body("gw.ipynb")
            created = await colab.direct_fetch(
                process.http_root, "api/sessions", process.token, method="POST", body=body
            )
            assert created.code == 201
            answer = await direct_resources(process)
        finally:
            process.stop()
    assert "kernels" not in answer["memory"]
    assert answer["memory"]["totalBytes"] > 0
