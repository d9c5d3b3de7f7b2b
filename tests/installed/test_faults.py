"""Faults, against real servers: a dying kernel, a client that leaves mid-download, a
server restart. Nothing is lost, the token never leaks, and the server stays up."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import uuid

import pytest

from tests_support import colab_client as colab
from tests_support.memory import rss_mib
from tests_support.server_process import JupyterProcess, free_port, unexpected_tracebacks

pytestmark = pytest.mark.installed


async def read_until(ws, predicate, limit=500):
    """Kernel messages until one matches ``predicate``; None if the socket closes first."""
    for _ in range(limit):
        raw = await ws.read_message()
        if raw is None:
            return None
        message = json.loads(raw)
        if predicate(message):
            return message
    raise AssertionError("no matching message")


async def test_kernel_killed_mid_execution_is_reported_and_server_stays_up(fresh_server):
    root, token = fresh_server.http_root, fresh_server.token
    tunnel = await colab.open_tunnel(root, token)
    session = (
        await tunnel.request("POST", "/api/sessions", colab.session_body("dies.ipynb"))
    ).json()
    kernel_id = session["kernel"]["id"]
    channel = await colab.open_proxied_kernel(root, token, kernel_id, uuid.uuid4().hex)
    kernel_pid = int(await colab.execute(channel, "import os; print(os.getpid())", "s"))

    colab.send_execute(channel, "import time; time.sleep(120)", "s")
    await read_until(channel, lambda m: m.get("content", {}).get("execution_state") == "busy")
    os.kill(kernel_pid, signal.SIGKILL)

    def restart_notice(message):
        # The kernel's own restart cycle, as jupyter_server reports it on the channel.
        return message.get("msg_type") == "status" and message["content"].get(
            "execution_state"
        ) in ("restarting", "autorestarting", "dead", "starting")

    # Bounded: either the restart cycle is reported or the channel closes with a code.
    notice = await asyncio.wait_for(read_until(channel, restart_notice), 60)
    assert notice is not None or channel.close_code is not None
    channel.close()

    status = await tunnel.request("GET", "/api/status")
    assert status.status == 200
    fresh = await tunnel.request("POST", "/api/sessions", colab.session_body("fresh.ipynb"))
    assert fresh.status == 201
    again = await colab.open_proxied_kernel(root, token, fresh.json()["kernel"]["id"], "s2")
    assert await colab.execute(again, "print('alive')", "s2") == "alive\n"
    again.close()
    tunnel.close()
    assert fresh_server.proc.poll() is None


async def test_client_leaving_mid_download_leaks_nothing(fresh_server):
    big = fresh_server.root / "big.bin"
    big.write_bytes(os.urandom(50 * 1024 * 1024))
    pid = fresh_server.proc.pid
    warm = await colab.open_tunnel(fresh_server.http_root, fresh_server.token)
    assert (await warm.request("GET", "/files/big.bin")).status == 200
    warm.close()
    rss_before = rss_mib(pid)

    for _ in range(10):
        tunnel = await colab.open_tunnel(fresh_server.http_root, fresh_server.token)
        tunnel.send_raw(json.dumps({"message_id": "m", "method": "GET", "path": "/files/big.bin"}))
        for _ in range(2):
            assert await tunnel.ws.read_message() is not None
        tunnel.ws.stream.close()  # the laptop drops the connection mid-download

    # The server keeps serving, and a full download still arrives intact.
    check = await colab.open_tunnel(fresh_server.http_root, fresh_server.token)
    full = await check.request("GET", "/files/big.bin")
    check.close()
    assert full.body == big.read_bytes()

    # Memory does not grow with the number of interruptions, and nothing is logged as
    # an error. (Open file handles: see the closing note of the hardening issue.)
    assert rss_mib(pid) - rss_before < 30
    assert unexpected_tracebacks(fresh_server.log) == []
    assert fresh_server.token not in "\n".join(
        line for line in fresh_server.log.splitlines() if "?token=" not in line
    )


async def test_restart_closes_clients_and_the_same_url_works_after(tmp_path):
    args = ["--no-browser", "--allow-root", f"--port={free_port()}"]
    first = JupyterProcess(tmp_path, args).start()
    try:
        first.wait_ready()
        url = f"{first.http_root}?token={first.token}"
        tunnel = await colab.open_tunnel(first.http_root, first.token)
        assert (await tunnel.request("GET", "/api/status")).status == 200
    finally:
        first.stop()
    assert await tunnel.ws.read_message() is None  # the client sees the close
    tunnel.close()

    second = JupyterProcess(tmp_path, args).start()
    try:
        second.wait_ready()
        assert f"{second.http_root}?token={second.token}" == url
        token = url.split("token=")[1]
        again = await colab.open_tunnel(second.http_root, token)
        assert (await again.request("GET", "/api/status")).status == 200
        again.close()
    finally:
        second.stop()
