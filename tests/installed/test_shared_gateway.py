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

from colab_local.cli.service_units import kernel_gateway_port
from tests_support import colab_client as colab
from tests_support.gateway import Gateway
from tests_support.server_process import JupyterProcess, free_port, isolated_env, wait_for
from tests_support.topology import Bystander, as_user, server_machine, ssh_tunnel

STRANGER = 65534
GATEWAY_TOKEN = "the-victims-gateway-token-" + "g" * 16


@pytest.fixture
def shared_dir():
    """A directory another user can reach (pytest's tmp_path is root's alone)."""
    directory = Path(tempfile.mkdtemp(prefix="colab-shared-"))
    directory.chmod(0o755)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def other_user_venv() -> Path:
    """An environment with colab-local, Kernel Gateway and ipykernel that uid 65534 can run:
    made from the system's Python (pyenv's interpreters live in /root, which only root may
    enter). ``bash .ci/run`` makes it."""
    configured = os.environ.get("COLAB_LOCAL_TEST_OTHER_USER_VENV")
    if not configured:
        raise RuntimeError(
            "set COLAB_LOCAL_TEST_OTHER_USER_VENV to a venv of /usr/bin/python3 with "
            "'colab-local[gateway]' and ipykernel installed (bash .ci/run makes one)"
        )
    return Path(configured)


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


async def test_two_users_who_each_run_their_kernel_gateway_both_get_their_own_kernels(shared_dir):
    """What `jupyter colab service --install --kernel-gateway` sets up, for root and for uid
    65534 on one machine: each user's Kernel Gateway on that user's port with its own
    token, each user's server using it. Both run code, each in a kernel of its own user."""
    processes: list[JupyterProcess] = []
    with server_machine(shared_dir) as machine:
        try:
            roots = {}
            for uid, server_port in ((os.getuid(), 8888), (STRANGER, 8890)):
                home = shared_dir / f"user-{uid}"
                home.mkdir()
                stranger = uid != os.getuid()
                prefix = machine.prefix + (as_user(uid) if stranger else [])
                venv = other_user_venv() if stranger else None
                path = {"PATH": f"{venv}/bin:/usr/bin:/bin"} if venv else {}
                gateway = Gateway(home, path, port=kernel_gateway_port(uid), prefix=prefix)
                if venv:
                    gateway.argv[len(prefix)] = str(venv / "bin" / "jupyter-kernelgateway")
                gateway.argv.append("--KernelGatewayApp.port_retries=0")
                processes.append(gateway)
                args = ["--no-browser", "--allow-root", f"--port={server_port}"]
                front = JupyterProcess(
                    home,
                    [*args, *gateway.front_args()],
                    prefix=prefix,
                    env=isolated_env(home, **path),
                )
                if venv:
                    front.argv[len(prefix)] = str(venv / "bin" / "jupyter")
                processes.append(front)
                for path in (home, home / "root"):
                    os.chown(path, uid, uid)
                gateway.start().wait_ready()
                front.start().wait_ready()
                laptop_port = free_port()
                ssh_tunnel(machine, laptop_port, server_port)
                roots[uid] = (f"http://127.0.0.1:{laptop_port}/", front.token)
            for uid, (root, token) in roots.items():
                seen = await colab.direct_flow(
                    root, token, "who.ipynb", "import os; print(os.getuid())"
                )
                assert seen == f"{uid}\n"
        finally:
            for process in reversed(processes):
                process.stop()
