"""Persistence: closing Colab's sockets mid-run costs nothing. Reconnecting the way Colab
does (a session request for the same notebook path) finds the same kernel, its variables,
and the work that went on while nobody was connected."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from tests_support import colab_client as colab
from tests_support.server_process import JupyterProcess, free_port

pytestmark = pytest.mark.installed

LONG_CELL = "import time\ncounter = 0\nfor _ in range(30):\n    counter += 1\n    time.sleep(0.1)\n"


@pytest.fixture
def server(tmp_path):
    process = JupyterProcess(tmp_path, ["--no-browser", "--allow-root", f"--port={free_port()}"])
    process.start()
    try:
        yield process.wait_ready()
    finally:
        process.stop()


def start_cell(channel, code: str) -> None:
    """Send an execute request without waiting for it, as a cell that keeps running."""
    channel.write_message(
        json.dumps(
            {
                "header": {
                    "msg_id": uuid.uuid4().hex,
                    "username": "colab",
                    "session": "s",
                    "msg_type": "execute_request",
                    "version": "5.3",
                },
                "parent_header": {},
                "metadata": {},
                "content": {"code": code, "silent": False},
                "channel": "shell",
            }
        )
    )


async def kernel_state(server, kernel_id: str) -> str:
    response = await colab.direct_fetch(server.http_root, f"api/kernels/{kernel_id}", server.token)
    return json.loads(response.body)["execution_state"]


async def wait_until_idle(server, kernel_id: str) -> None:
    """Nobody is connected: ask the server (REST) until the kernel has finished."""
    for _ in range(600):
        if await kernel_state(server, kernel_id) == "idle":
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the kernel never went idle")


async def test_legacy_flow_reconnect_resumes_the_kernel(server):
    root, token = server.http_root, server.token
    tunnel = await colab.open_tunnel(root, token)
    created = await tunnel.request("POST", "/api/sessions", colab.session_body("train.ipynb"))
    kernel_id = created.json()["kernel"]["id"]
    channel = await colab.open_proxied_kernel(root, token, kernel_id, uuid.uuid4().hex)
    assert await colab.execute(channel, "x = 41", "s") == ""
    start_cell(channel, LONG_CELL)
    assert await colab.read_until_busy(channel)
    channel.close()  # the tab closes, the tunnel drops: every socket goes
    tunnel.close()

    await wait_until_idle(server, kernel_id)

    tunnel = await colab.open_tunnel(root, token)
    again = await tunnel.request("POST", "/api/sessions", colab.session_body("train.ipynb"))
    assert again.json()["kernel"]["id"] == kernel_id
    channel = await colab.open_proxied_kernel(root, token, kernel_id, uuid.uuid4().hex)
    assert await colab.execute(channel, "print(x + 1, counter)", "s2") == "42 30\n"
    channel.close()
    tunnel.close()


async def test_direct_flow_reconnect_resumes_the_kernel(server):
    root, token = server.http_root, server.token
    created = await colab.direct_fetch(
        root, "api/sessions", token, method="POST", body=colab.session_body("direct.ipynb")
    )
    kernel_id = json.loads(created.body)["kernel"]["id"]
    channel = await colab.open_direct_kernel(root, token, kernel_id, uuid.uuid4().hex)
    assert await colab.execute(channel, "x = 41", "s") == ""
    start_cell(channel, LONG_CELL)
    assert await colab.read_until_busy(channel)
    channel.close()

    await wait_until_idle(server, kernel_id)

    again = await colab.direct_fetch(
        root, "api/sessions", token, method="POST", body=colab.session_body("direct.ipynb")
    )
    assert json.loads(again.body)["kernel"]["id"] == kernel_id
    channel = await colab.open_direct_kernel(root, token, kernel_id, uuid.uuid4().hex)
    assert await colab.execute(channel, "print(x + 1, counter)", "s2") == "42 30\n"
    channel.close()
