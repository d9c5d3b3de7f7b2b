"""Persistence: closing Colab's sockets mid-run costs nothing. Reconnecting the way Colab
does (a session request for the same notebook path) finds the same kernel, its variables,
and the work that went on while nobody was connected."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from tests_support import colab_client as colab

pytestmark = pytest.mark.installed

LONG_CELL = "import time\ncounter = 0\nfor _ in range(30):\n    counter += 1\n    time.sleep(0.1)\n"


async def kernel_state(process, kernel_id: str) -> str:
    response = await colab.direct_fetch(
        process.http_root, f"api/kernels/{kernel_id}", process.token
    )
    return json.loads(response.body)["execution_state"]


async def wait_until_idle(process, kernel_id: str) -> None:
    """Nobody is connected: ask the server (REST) until the kernel has finished."""
    for _ in range(600):
        if await kernel_state(process, kernel_id) == "idle":
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the kernel never went idle")


async def test_legacy_flow_reconnect_resumes_the_kernel(fresh_server):
    root, token = fresh_server.http_root, fresh_server.token
    tunnel = await colab.open_tunnel(root, token)
    created = await tunnel.request("POST", "/api/sessions", colab.session_body("train.ipynb"))
    kernel_id = created.json()["kernel"]["id"]
    channel = await colab.open_proxied_kernel(root, token, kernel_id, uuid.uuid4().hex)
    assert await colab.execute(channel, "x = 41", "s") == ""
    colab.send_execute(channel, LONG_CELL, "s")
    assert await colab.read_until_busy(channel)
    channel.close()  # the tab closes, the tunnel drops: every socket goes
    tunnel.close()

    await wait_until_idle(fresh_server, kernel_id)

    tunnel = await colab.open_tunnel(root, token)
    again = await tunnel.request("POST", "/api/sessions", colab.session_body("train.ipynb"))
    assert again.json()["kernel"]["id"] == kernel_id
    channel = await colab.open_proxied_kernel(root, token, kernel_id, uuid.uuid4().hex)
    assert await colab.execute(channel, "print(x + 1, counter)", "s2") == "42 30\n"
    channel.close()
    tunnel.close()


async def test_direct_flow_reconnect_resumes_the_kernel(fresh_server):
    root, token = fresh_server.http_root, fresh_server.token
    created = await colab.direct_fetch(
        root, "api/sessions", token, method="POST", body=colab.session_body("direct.ipynb")
    )
    kernel_id = json.loads(created.body)["kernel"]["id"]
    channel = await colab.open_direct_kernel(root, token, kernel_id, uuid.uuid4().hex)
    assert await colab.execute(channel, "x = 41", "s") == ""
    colab.send_execute(channel, LONG_CELL, "s")
    assert await colab.read_until_busy(channel)
    channel.close()

    await wait_until_idle(fresh_server, kernel_id)

    again = await colab.direct_fetch(
        root, "api/sessions", token, method="POST", body=colab.session_body("direct.ipynb")
    )
    assert json.loads(again.body)["kernel"]["id"] == kernel_id
    channel = await colab.open_direct_kernel(root, token, kernel_id, uuid.uuid4().hex)
    assert await colab.execute(channel, "print(x + 1, counter)", "s2") == "42 30\n"
    channel.close()
