"""Kernels on a cluster: colab-local in front of a real Jupyter Kernel Gateway.

The user's only flags are ``--gateway-url`` and ``--GatewayClient.auth_token``. The gateway
runs from its own environment (tests_support.gateway), so a kernel that reports the
gateway's Python really runs there. Without a gateway, the same checks and probe run
locally, with no ``python`` on the server's PATH.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from urllib.request import Request, urlopen

import pytest

from tests_support import colab_client as colab
from tests_support.fake_gpu import FAKE_GPU, FAKE_TORCH_VERSION, fake_gpu_environment
from tests_support.gateway import (
    ENTERPRISE_GATEWAY,
    FlakyGatewayLink,
    Gateway,
    gateway_program,
    running_gateway,
)
from tests_support.server_process import (
    JupyterProcess,
    free_port,
    isolated_env,
    run_jupyter,
    started,
)

pytestmark = pytest.mark.installed

WHICH_PYTHON = "import sys; print(sys.executable)"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    home = tmp_path_factory.mktemp("gateway")
    kernel_env = fake_gpu_environment(home / "fake-gpu", os.environ["PATH"])
    with running_gateway(home, kernel_env) as gateway:
        yield gateway


def front(home: Path, gateway: Gateway, port: int | None = None, *extra: str) -> JupyterProcess:
    args = ["--no-browser", "--allow-root", f"--port={port or free_port()}"]
    return started(JupyterProcess(home, [*args, *gateway.front_args(), *extra]))


def runs_in(executable: str, environment_program: str) -> bool:
    """Whether ``executable`` is the interpreter of the environment ``environment_program``
    belongs to (compared unresolved: environments link to the same base interpreter)."""
    return Path(executable).parent == Path(environment_program).parent


def kernel_probe(process: JupyterProcess) -> dict:
    """The probe's answer, asked as a script asks (token in the header)."""
    request = Request(
        f"{process.http_root}colab/connect/kernel-probe",
        method="POST",
        headers={"Authorization": f"token {process.token}"},
    )
    with urlopen(request, timeout=180) as response:
        answer: dict = json.load(response)
    return answer


async def connect_report(process: JupyterProcess) -> dict:
    response = await colab.direct_fetch(
        process.http_root, "colab/connect?format=json", process.token, origin=None
    )
    assert response.code == 200, response.body
    return json.loads(response.body)


def checks_by_name(report: dict) -> dict:
    return {check["name"]: check for check in report["checks"]}


@pytest.fixture(scope="module")
def front_server(tmp_path_factory, gateway):
    process = front(tmp_path_factory.mktemp("front"), gateway)
    yield process
    process.stop()


async def test_both_colab_flows_run_their_kernels_on_the_gateway(front_server, gateway):
    root, token = front_server.http_root, front_server.token
    legacy = await colab.legacy_flow(root, token, "legacy.ipynb", WHICH_PYTHON)
    direct = await colab.direct_flow(root, token, "direct.ipynb", WHICH_PYTHON)
    assert legacy.strip() == direct.strip()
    assert runs_in(legacy.strip(), gateway.argv[0])
    assert not runs_in(legacy.strip(), sys.executable)


async def test_the_page_says_where_kernels_run_and_checks_the_gateway(front_server, gateway):
    report = await connect_report(front_server)
    assert report["healthy"] is True, report["checks"]
    assert report["kernels"] == f"on the gateway at {gateway.url}"
    checks = checks_by_name(report)
    assert checks["gateway"]["ok"] is True
    assert gateway.url in checks["gateway"]["detail"]
    assert "python3" in checks["gateway"]["detail"]
    assert checks["kernel"]["ok"] is True
    assert "on the gateway's host" in checks["kernel"]["detail"]
    assert "kernels run on the gateway" in checks["accelerators"]["detail"]
    doctor = run_jupyter(front_server.home, "colab", "doctor", env=front_server.env)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert f"[  ok] gateway: kernels run on the gateway at {gateway.url}" in doctor.stdout


async def test_the_kernel_probe_asks_a_kernel_on_the_gateway(front_server, gateway):
    probe = kernel_probe(front_server)
    assert probe["ok"] is True, probe
    assert probe["where"] == f"on the gateway at {gateway.url}"
    assert runs_in(probe["python"]["executable"], gateway.argv[0])
    assert probe["nvidia_smi"] == [FAKE_GPU]
    assert probe["frameworks"]["torch"] == {
        "installed": True,
        "version": FAKE_TORCH_VERSION,
        "gpus": 1,
    }
    assert probe["frameworks"]["jax"] == {"installed": False}
    doctor = run_jupyter(front_server.home, "colab", "doctor", "--kernel", env=front_server.env)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert f"nvidia-smi -L: {FAKE_GPU}" in doctor.stdout
    assert f"torch: {FAKE_TORCH_VERSION}, GPUs seen: 1" in doctor.stdout
    # The probe's kernel is gone again, on the gateway itself.
    for answer in (probe, kernel_probe(front_server)):
        gone = await colab.direct_fetch(
            gateway.url + "/",
            f"api/kernels/{answer['kernel_id']}",
            None,
            origin=None,
            headers={"Authorization": f"token {gateway.auth_token}"},
        )
        assert gone.code == 404


async def test_a_restart_keeps_the_notebooks_kernel_and_its_variables(tmp_path, gateway):
    port = free_port()
    first = front(tmp_path, gateway, port)
    try:
        tunnel = await colab.open_tunnel(first.http_root, first.token)
        created = await tunnel.request("POST", "/api/sessions", colab.session_body("keep.ipynb"))
        tunnel.close()
        kernel_id = created.json()["kernel"]["id"]
        channel = await colab.open_proxied_kernel(first.http_root, first.token, kernel_id, "s")
        await colab.execute(channel, "x = 42", "s")
        channel.close()
    finally:
        first.stop()  # the upgrade, the systemd restart
    assert "leaving 1 kernel(s) running on the gateway" in first.log

    second = front(tmp_path, gateway, port)
    try:
        # Colab reconnects the same notebook, as it does: a session request for its path.
        tunnel = await colab.open_tunnel(second.http_root, second.token)
        again = await tunnel.request("POST", "/api/sessions", colab.session_body("keep.ipynb"))
        tunnel.close()
        assert again.json()["kernel"]["id"] == kernel_id
        channel = await colab.open_proxied_kernel(second.http_root, second.token, kernel_id, "t")
        assert await colab.execute(channel, "print(x)", "t") == "42\n"
        channel.close()
    finally:
        second.stop()
    assert f"re-attached kernel {kernel_id}" in second.log


async def test_a_gateway_blip_after_a_restart_keeps_the_session_and_its_kernel(tmp_path, gateway):
    """After a restart, Colab lists its sessions while the gateway answers 503: the
    session is kept (the listing answers 503, so Colab asks again), and once the gateway
    is back the same kernel, variables and all, serves the notebook; nothing is orphaned."""
    link = await FlakyGatewayLink(gateway).start()
    args = ["--no-browser", "--allow-root", f"--port={free_port()}", *link.front_args()]
    try:
        first = started(JupyterProcess(tmp_path, args))
        try:
            tunnel = await colab.open_tunnel(first.http_root, first.token)
            body = colab.session_body("blip.ipynb")
            kernel_id = (await tunnel.request("POST", "/api/sessions", body)).json()["kernel"]["id"]
            tunnel.close()
            channel = await colab.open_proxied_kernel(first.http_root, first.token, kernel_id, "s")
            await colab.execute(channel, "x = 42", "s")
            channel.close()
        finally:
            first.stop()
        second = started(JupyterProcess(tmp_path, args))
        try:
            tunnel = await colab.open_tunnel(second.http_root, second.token)
            link.failing = True
            during = await tunnel.request("GET", "/api/sessions")
            link.failing = False
            after = await tunnel.request("GET", "/api/sessions")
            tunnel.close()
            assert link.refused > 0
            assert during.status == 503, during.body
            assert after.status == 200
            assert [session["kernel"]["id"] for session in after.json()] == [kernel_id]
            channel = await colab.open_proxied_kernel(
                second.http_root, second.token, kernel_id, "t"
            )
            assert await colab.execute(channel, "print(x)", "t") == "42\n"
            channel.close()
        finally:
            second.stop()
    finally:
        await link.close()
    assert "the session is kept" in second.log


@pytest.mark.parametrize("problem", ["wrong token", "gateway away"])
async def test_gateway_problems_are_failed_checks_not_a_broken_page(tmp_path, gateway, problem):
    if problem == "wrong token":
        flags = [f"--gateway-url={gateway.url}", "--GatewayClient.auth_token=wrong"]
        expected, fix = "refused this server's credentials", "auth_token"
    else:
        flags = [f"--gateway-url=http://127.0.0.1:{free_port()}"]
        expected, fix = "is not reachable", "--gateway-url"
    args = ["--no-browser", "--allow-root", f"--port={free_port()}", *flags]
    process = JupyterProcess(tmp_path, args).start()
    try:
        process.wait_ready()
        report = await connect_report(process)
        doctor = run_jupyter(tmp_path, "colab", "doctor", env=process.env)
    finally:
        process.stop()
    check = checks_by_name(report)["gateway"]
    assert check["ok"] is False
    assert expected in check["detail"]
    assert fix in check["fix"]
    assert report["healthy"] is False
    assert doctor.returncode == 1
    assert "[FAIL] gateway:" in doctor.stdout


# Kernels on this server.


async def test_locally_the_kernel_check_and_probe_name_the_interpreter_jupyter_runs(tmp_path):
    """No ``python`` on the server's PATH (systemd's PATH, a login shell): jupyter_client
    runs the server's own interpreter, and the page says so, and is healthy."""
    empty_bin = tmp_path / "empty-bin"
    empty_bin.mkdir()
    kernel_env = fake_gpu_environment(tmp_path / "fake-gpu", str(empty_bin))
    env = isolated_env(tmp_path, **kernel_env)
    args = ["--no-browser", "--allow-root", f"--port={free_port()}"]
    process = started(JupyterProcess(tmp_path, args, env=env))
    try:
        report = await connect_report(process)
        probe = kernel_probe(process)
    finally:
        process.stop()
    kernel = checks_by_name(report)["kernel"]
    assert kernel["ok"] is True, kernel
    assert sys.executable in kernel["detail"]
    assert report["kernels"] == "on this server"
    assert probe["ok"] is True, probe
    assert probe["python"]["executable"] == sys.executable
    assert probe["nvidia_smi"] == [FAKE_GPU]
    assert probe["frameworks"]["torch"]["gpus"] == 1


async def test_no_token_in_the_log_when_kernels_start_on_the_gateway(tmp_path, gateway):
    """jupyter_server logs a gateway kernel's start with the whole environment; the tokens
    given through it (as the connect page's fix suggests) stay out of the log."""
    token = "environment-token-" + "x" * 24
    env = {
        **isolated_env(tmp_path),
        "JUPYTER_GATEWAY_AUTH_TOKEN": gateway.auth_token,
        "JUPYTER_TOKEN": token,
    }
    args = ["--no-browser", "--allow-root", f"--port={free_port()}", "--debug"]
    process = started(JupyterProcess(tmp_path, [*args, f"--gateway-url={gateway.url}"], env=env))
    try:
        assert await colab.direct_flow(process.http_root, token, "env.ipynb", "print(1)") == "1\n"
        missing = await colab.direct_fetch(  # a 404 whose URI carries the token
            process.http_root, "api/contents/missing.ipynb?content=0", token
        )
        assert missing.code == 404
    finally:
        process.stop()
    log = process.log
    assert "GatewayKernelManager started kernel" in log
    assert "'env': {...}" in log
    assert gateway.auth_token not in log
    leaked = [line for line in log.splitlines() if token in line]
    assert all(line.strip().startswith("http://localhost:8888/?token=") for line in leaked), leaked
    assert "missing.ipynb?content=0&token=[secret]" in log


async def test_a_kernel_the_gateway_lost_is_replaced_not_handed_to_colab(tmp_path, gateway):
    """Culled on the gateway while Colab was away (here: shut down on the gateway itself):
    the notebook's next session request gets a new, working kernel, not the dead one."""
    process = front(tmp_path, gateway)
    try:
        root, token = process.http_root, process.token
        body = colab.session_body("lost.ipynb")
        first = await colab.direct_fetch(root, "api/sessions", token, method="POST", body=body)
        lost = json.loads(first.body)["kernel"]["id"]
        gateway.delete_kernel(lost)
        again = await colab.direct_fetch(root, "api/sessions", token, method="POST", body=body)
        assert again.code == 201
        kernel = json.loads(again.body)["kernel"]["id"]
        assert kernel != lost
        channel = await colab.open_direct_kernel(root, token, kernel, "after")
        try:
            assert await colab.execute(channel, "print('new kernel')", "after") == "new kernel\n"
        finally:
            channel.close()
        assert f"kernel {lost} is gone from the gateway" in process.log
    finally:
        process.stop()


def gpu_kernelspec(gateway_home: Path, name: str) -> None:
    """A kernelspec on Enterprise Gateway's host that is not called python3, as a cluster's
    admin names the kernels they offer (a GPU image)."""
    python = Path(gateway_program(ENTERPRISE_GATEWAY)).with_name("python")
    spec = gateway_home / "data" / "kernels" / name
    spec.mkdir(parents=True)
    argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "Python 3 (GPU)", "language": "python"})
    )


@pytest.mark.parametrize(
    ("allowed", "colab_gets_python3"),
    [("python3-gpu", False), ("python3,python3-gpu", True)],
)
async def test_the_page_says_when_enterprise_gateway_does_not_offer_python3(
    tmp_path, allowed, colab_gets_python3
):
    """Colab asks for its kernel by name, ``python3``: the README's Helm values allow it
    (``kernel.allowedKernels``: EG_ALLOWED_KERNELS, which Enterprise Gateway's image
    passes as the flag here); without it the page says so."""
    gpu_kernelspec(tmp_path / "gateway", "python3-gpu")
    # EG 3.3 pins jupyter_client 6, where the list is `whitelist` (later allowed_kernelspecs).
    args = [f"--KernelSpecManager.whitelist={allowed.split(',')!r}"]
    with running_gateway(tmp_path / "gateway", kind=ENTERPRISE_GATEWAY, args=args) as gateway:
        process = front(tmp_path / "front", gateway)
        try:
            report = await connect_report(process)
            doctor = run_jupyter(process.home, "colab", "doctor", env=process.env)
        finally:
            process.stop()
    checks = checks_by_name(report)
    if colab_gets_python3:
        assert "colab kernel" not in checks
        assert report["healthy"] is True, report["checks"]
        assert doctor.returncode == 0, doctor.stdout
    else:
        check = checks["colab kernel"]
        assert check["ok"] is False
        assert "offers no kernel 'python3', the name Colab asks for" in check["detail"]
        assert "kernel.allowedKernels" in check["fix"]
        assert report["healthy"] is False
        assert "[FAIL] colab kernel:" in doctor.stdout
