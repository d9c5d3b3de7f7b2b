"""A shared machine and a gateway on loopback: another user gets neither the gateway token
nor Colab's kernels, and two users who both run their own gateway both work.

The "server machine" is a network namespace of its own; the other user is uid 65534,
listening on the victim's gateway port as ``setpriv --reuid=65534`` would. Needs root.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from colab_local.service.units import kernel_gateway_port
from tests_support import colab_client as colab
from tests_support.server_process import JupyterProcess, free_port, wait_for
from tests_support.topology import Bystander, server_machine, ssh_tunnel

STRANGER = 65534
GATEWAY_TOKEN = "the-victims-gateway-token-" + "g" * 16


@pytest.fixture
def shared_dir():
    """A directory another user can reach (pytest's tmp_path is root's alone)."""
    directory = Path(tempfile.mkdtemp(prefix="colab-shared-"))
    directory.chmod(0o755)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def front_args(port: int, gateway_port: int) -> list[str]:
    return [
        "--no-browser",
        "--allow-root",
        f"--port={port}",
        f"--gateway-url=http://127.0.0.1:{gateway_port}",
        f"--GatewayClient.auth_token={GATEWAY_TOKEN}",
        "--GatewayClient.request_timeout=5",
    ]


def test_each_user_has_a_gateway_port_of_their_own():
    assert kernel_gateway_port(0) != kernel_gateway_port(STRANGER)
    assert kernel_gateway_port(1000) != kernel_gateway_port(1001)


def test_a_server_does_not_start_against_another_users_gateway_port(tmp_path, shared_dir):
    gateway_port = kernel_gateway_port(os.getuid())
    with server_machine(shared_dir) as machine:
        stranger = Bystander(machine, f"127.0.0.1:{gateway_port}", uid=STRANGER)
        process = JupyterProcess(tmp_path, front_args(8888, gateway_port), prefix=machine.prefix)
        process.start()
        assert process.proc is not None
        assert process.proc.wait(timeout=60) != 0
        assert f"held by another user (uid {STRANGER})" in process.log
        assert stranger.contacts() == []


async def test_a_stranger_who_takes_the_port_later_gets_no_request(tmp_path, shared_dir):
    gateway_port = kernel_gateway_port(os.getuid())
    laptop_port = free_port()
    with server_machine(shared_dir) as machine:
        process = JupyterProcess(tmp_path, front_args(8888, gateway_port), prefix=machine.prefix)
        process.start()
        try:
            process.wait_ready()
            ssh_tunnel(machine, laptop_port, 8888)
            stranger = Bystander(machine, f"127.0.0.1:{gateway_port}", uid=STRANGER)
            root = f"http://127.0.0.1:{laptop_port}/"
            for path in ("api/kernelspecs", "api/kernels"):
                answer = await colab.direct_fetch(root, path, process.token)
                assert answer.code == 503, (path, answer.code)
            started = await colab.direct_fetch(
                root,
                "api/sessions",
                process.token,
                method="POST",
                body=colab.session_body("stolen.ipynb"),
            )
            assert started.code >= 500
            assert stranger.contacts() == []
            wait_for(lambda: "refused to contact the gateway" in process.log, 10, "the refusal")
            assert GATEWAY_TOKEN not in process.log
        finally:
            process.stop()


async def test_two_users_with_their_own_gateways_both_work(tmp_path, shared_dir):
    """Root's server on its own gateway port, while the other user holds theirs."""
    mine, theirs = kernel_gateway_port(os.getuid()), kernel_gateway_port(STRANGER)
    laptop_port = free_port()
    with server_machine(shared_dir) as machine:
        stranger = Bystander(machine, f"127.0.0.1:{theirs}", uid=STRANGER)
        own = Bystander(machine, f"127.0.0.1:{mine}")  # root's "gateway": answers 200
        process = JupyterProcess(tmp_path, front_args(8888, mine), prefix=machine.prefix)
        process.start()
        try:
            process.wait_ready()
            ssh_tunnel(machine, laptop_port, 8888)
            answer = await colab.direct_fetch(
                f"http://127.0.0.1:{laptop_port}/", "api/kernelspecs", process.token
            )
            assert answer.code != 503
            wait_for(lambda: own.contacts() != [], 10, "the server to reach its own gateway")
            contact = json.dumps(own.contacts())
            assert f"token {GATEWAY_TOKEN}" in contact
            assert stranger.contacts() == []
        finally:
            process.stop()
