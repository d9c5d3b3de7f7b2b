"""A real Jupyter Kernel Gateway, where kernels run "on the cluster" for the tests.

It runs from its own environment, as a gateway on another host would: ``bash .ci/run``
makes ``.venv-gateway`` (jupyter_kernel_gateway and ipykernel) and points
``COLAB_LOCAL_TEST_GATEWAY`` at its ``jupyter-kernelgateway``. Kernels it starts run with
that environment's Python, not the front server's.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

from tests_support.server_process import (
    JupyterProcess,
    free_port,
    isolated_env,
    port_accepts,
    wait_for,
)

READY_TIMEOUT = 60


def gateway_program() -> str:
    """The ``jupyter-kernelgateway`` to run; a clear failure when there is none."""
    configured = os.environ.get("COLAB_LOCAL_TEST_GATEWAY")
    if configured:
        return configured
    beside = Path(sys.executable).with_name("jupyter-kernelgateway")
    if beside.exists():
        return str(beside)
    found = shutil.which("jupyter-kernelgateway")
    if found:
        return found
    raise RuntimeError(
        "no Jupyter Kernel Gateway: run the tests with `bash .ci/run`, or set "
        "COLAB_LOCAL_TEST_GATEWAY to a jupyter-kernelgateway (pip install jupyter_kernel_gateway)"
    )


class Gateway(JupyterProcess):
    """``jupyter kernelgateway`` on a free loopback port, with an auth token."""

    def __init__(
        self,
        home: Path,
        kernel_env: dict[str, str] | None = None,
        *,
        port: int | None = None,
        prefix: list[str] | None = None,
    ) -> None:
        """``prefix``: run it elsewhere (another network namespace, another user)."""
        self.gateway_port = port or free_port()
        self.auth_token = secrets.token_urlsafe(24)
        # Variables for the kernels it starts (e.g. a fake nvidia-smi on PATH): Kernel
        # Gateway passes its kernels only PATH, and what its admin allows.
        env = {**isolated_env(home), **(kernel_env or {})}
        env["KG_ENV_PROCESS_WHITELIST"] = ",".join(sorted(set(kernel_env or {}) - {"PATH"}))
        super().__init__(
            home,
            [
                f"--KernelGatewayApp.port={self.gateway_port}",
                "--KernelGatewayApp.ip=127.0.0.1",
                f"--KernelGatewayApp.auth_token={self.auth_token}",
            ],
            command="kernelgateway",
            env=env,
            prefix=prefix,
        )
        self.argv = [*self.prefix, gateway_program(), *self.argv[len(self.prefix) + 2 :]]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def wait_ready(self) -> Gateway:
        def ready() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"the gateway exited: {self.log}")
            # Elsewhere (a prefix) its port is not reachable from here: its word is enough.
            listening = bool(self.prefix) or port_accepts(self.gateway_port)
            return "is available at" in self.log and listening

        wait_for(ready, READY_TIMEOUT, "the kernel gateway to listen")
        return self

    def front_args(self) -> list[str]:
        """The flags a user gives the front server: the gateway's URL and its token."""
        return [f"--gateway-url={self.url}", f"--GatewayClient.auth_token={self.auth_token}"]


@contextlib.contextmanager
def running_gateway(home: Path, kernel_env: dict[str, str] | None = None) -> Iterator[Gateway]:
    gateway = Gateway(home, kernel_env)
    gateway.start()
    try:
        yield gateway.wait_ready()
    finally:
        gateway.stop()
