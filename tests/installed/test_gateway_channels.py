"""Colab's kernel channel when the kernel runs on a gateway, against both real gateways
(Jupyter Kernel Gateway and Jupyter Enterprise Gateway, each in its own environment).

A kernel the gateway no longer has (culled, deleted, lost with the gateway) must reach
the notebook as a dead kernel and a closed channel, never as a channel that stays open
and silent; a restart through this server must leave the channel working.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests_support import colab_client as colab
from tests_support.gateway import ENTERPRISE_GATEWAY, KERNEL_GATEWAY, Gateway, running_gateway
from tests_support.server_process import JupyterProcess, free_port, started, wait_for

pytestmark = pytest.mark.installed

BOTH_GATEWAYS = pytest.mark.parametrize(
    "served", [KERNEL_GATEWAY, ENTERPRISE_GATEWAY], indirect=True
)
FLOWS = pytest.mark.parametrize("flow", ["direct", "tunnel"])
#: How often the front server asks the gateway about an open channel's kernel, here.
CHECK_INTERVAL = 1
CLOSE_TIMEOUT = 30


def front(home: Path, gateway: Gateway, *extra: str) -> JupyterProcess:
    args = ["--no-browser", "--allow-root", f"--port={free_port()}", *gateway.front_args()]
    check = f"--ColabLocal.gateway_kernel_check_interval={CHECK_INTERVAL}"
    return started(JupyterProcess(home, [*args, check, *extra]))


@pytest.fixture
def served(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Gateway, Any]]:
    kind, args = request.param if isinstance(request.param, tuple) else (request.param, [])
    with running_gateway(tmp_path / "gateway", kind=kind, args=args) as gateway:
        process = front(tmp_path / "front", gateway)
        try:
            yield gateway, process
        finally:
            process.stop()


async def new_session(process: JupyterProcess, notebook: str) -> str:
    body = colab.session_body(notebook)
    created = await colab.direct_fetch(
        process.http_root, "api/sessions", process.token, method="POST", body=body
    )
    assert created.code == 201, created.body
    kernel_id: str = json.loads(created.body)["kernel"]["id"]
    return kernel_id


async def open_channel(process: JupyterProcess, flow: str, kernel_id: str, session: str) -> Any:
    if flow == "direct":
        return await colab.open_direct_kernel(process.http_root, process.token, kernel_id, session)
    return await colab.open_proxied_kernel(process.http_root, process.token, kernel_id, session)


async def until_closed(channel: Any) -> list[str]:
    """The execution states the notebook is told until its channel closes."""
    states: list[str] = []

    async def read() -> None:
        while (raw := await channel.read_message()) is not None:
            message = json.loads(raw)
            if message["msg_type"] == "status":
                states.append(message["content"]["execution_state"])

    await asyncio.wait_for(read(), CLOSE_TIMEOUT)
    return states


async def gets_a_working_kernel(process: JupyterProcess, notebook: str, lost: str) -> None:
    kernel_id = await new_session(process, notebook)
    assert kernel_id != lost
    channel = await open_channel(process, "direct", kernel_id, "after")
    try:
        assert await colab.execute(channel, "print('new kernel')", "after") == "new kernel\n"
    finally:
        channel.close()


@BOTH_GATEWAYS
@FLOWS
async def test_an_open_channel_whose_kernel_the_gateway_lost_says_dead_and_closes(served, flow):
    gateway, process = served
    kernel_id = await new_session(process, "lost.ipynb")
    channel = await open_channel(process, flow, kernel_id, "s")
    assert await colab.execute(channel, "print(1)", "s") == "1\n"

    gateway.delete_kernel(kernel_id)  # the gateway keeps its socket open: no news
    states = await until_closed(channel)

    assert states[-1] == "dead"
    assert channel.close_code == 1001
    assert channel.close_reason == f"kernel {kernel_id} is gone from the gateway"
    assert f"kernel {kernel_id} is gone from the gateway" in process.log
    await gets_a_working_kernel(process, "lost.ipynb", kernel_id)


CULLING = [
    "--RemoteMappingKernelManager.cull_idle_timeout=2",
    "--RemoteMappingKernelManager.cull_interval=1",
]


@pytest.mark.parametrize("served", [(ENTERPRISE_GATEWAY, CULLING)], indirect=True)
async def test_a_kernel_enterprise_gateway_culled_while_colab_was_away_is_not_reopened(served):
    """The laptop slept: the channel closed, the gateway culled the idle kernel. Colab
    reopening the channel is told the kernel is dead; its next session gets a new one."""
    gateway, process = served
    kernel_id = await new_session(process, "away.ipynb")
    channel = await open_channel(process, "tunnel", kernel_id, "s")
    assert await colab.execute(channel, "x = 1", "s") == ""
    channel.close()
    wait_for(
        lambda: f"({kernel_id}) with 0 connections due to" in gateway.log,
        CLOSE_TIMEOUT,
        "Enterprise Gateway to cull the idle kernel",
    )

    url = f"{colab.ws_root(process.http_root)}api/kernels/{kernel_id}/channels"
    reopened = await colab.open_ws(f"{url}?session_id=s&token={process.token}")
    states = await until_closed(reopened)

    assert states == ["dead"]
    assert reopened.close_code == 1001
    await gets_a_working_kernel(process, "away.ipynb", kernel_id)


CULLING_CONNECTED = [*CULLING, "--RemoteMappingKernelManager.cull_connected=True"]


@pytest.mark.parametrize("served", [(ENTERPRISE_GATEWAY, CULLING_CONNECTED)], indirect=True)
async def test_a_kernel_culled_with_colab_connected_closes_colabs_channel(served):
    gateway, process = served
    kernel_id = await new_session(process, "connected.ipynb")
    channel = await open_channel(process, "direct", kernel_id, "s")
    assert await colab.execute(channel, "x = 1", "s") == ""

    states = await until_closed(channel)  # idle for 2 s, and the culler runs

    assert f"({kernel_id}) with 1 connections due to" in gateway.log
    assert states[-1] == "dead"
    assert channel.close_code == 1001
    await gets_a_working_kernel(process, "connected.ipynb", kernel_id)


@BOTH_GATEWAYS
async def test_a_restart_through_colab_local_keeps_colabs_open_channel_working(served):
    _, process = served
    kernel_id = await new_session(process, "restart.ipynb")
    channel = await open_channel(process, "tunnel", kernel_id, "s")
    assert await colab.execute(channel, "x = 1; print(x)", "s") == "1\n"
    tunnel = await colab.open_tunnel(process.http_root, process.token)
    restarted = await tunnel.request("POST", f"/api/kernels/{kernel_id}/restart", {})
    tunnel.close()
    assert restarted.status == 200, restarted.body

    # The same channel, the restarted kernel: no x any more.
    assert await colab.execute(channel, "print('x' in dir())", "s") == "False\n"
    channel.close()
    assert f"reopening the gateway's channel to kernel {kernel_id}" in process.log


async def test_a_gateway_that_stays_away_closes_the_channel_and_keeps_the_kernel(tmp_path):
    with running_gateway(tmp_path / "gateway") as gateway:
        process = front(tmp_path / "front", gateway, "--GatewayClient.gateway_retry_max=1")
        try:
            kernel_id = await new_session(process, "away.ipynb")
            channel = await open_channel(process, "direct", kernel_id, "s")
            gateway.stop()
            states = await until_closed(channel)
            assert states[-1] == "dead"
            assert channel.close_code == 1001
            assert "did not answer for kernel" in channel.close_reason
            assert "is gone from the gateway" not in process.log  # it may come back
        finally:
            process.stop()
