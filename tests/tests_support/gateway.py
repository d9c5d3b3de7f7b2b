"""Real Jupyter gateways, where kernels run "on the cluster" for the tests.

Each runs from its own environment, as a gateway on another host would: ``bash .ci/run``
makes ``.venv-gateway`` (jupyter_kernel_gateway and ipykernel) and ``.venv-enterprise``
(jupyter_enterprise_gateway and ipykernel) and points ``COLAB_LOCAL_TEST_GATEWAY`` and
``COLAB_LOCAL_TEST_ENTERPRISE_GATEWAY`` at their programs. Kernels they start run with
that environment's Python, not the front server's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.request import Request, urlopen

from tests_support.forwarder import pipe
from tests_support.server_process import (
    JupyterProcess,
    free_port,
    isolated_env,
    port_accepts,
    wait_for,
)

READY_TIMEOUT = 60


KERNEL_GATEWAY = "kernelgateway"
ENTERPRISE_GATEWAY = "enterprisegateway"
_PROGRAMS = {
    KERNEL_GATEWAY: ("COLAB_LOCAL_TEST_GATEWAY", "jupyter_kernel_gateway"),
    ENTERPRISE_GATEWAY: ("COLAB_LOCAL_TEST_ENTERPRISE_GATEWAY", "jupyter_enterprise_gateway"),
}
_APPS = {KERNEL_GATEWAY: "KernelGatewayApp", ENTERPRISE_GATEWAY: "EnterpriseGatewayApp"}


def gateway_program(kind: str = KERNEL_GATEWAY) -> str:
    """The ``jupyter-<kind>`` to run; a clear failure when there is none."""
    variable, package = _PROGRAMS[kind]
    configured = os.environ.get(variable)
    if configured:
        return configured
    program = f"jupyter-{kind}"
    beside = Path(sys.executable).with_name(program)
    if beside.exists():
        return str(beside)
    found = shutil.which(program)
    if found:
        return found
    raise RuntimeError(
        f"no {program}: run the tests with `bash .ci/run`, or set {variable} to a "
        f"{program} (pip install {package})"
    )


class Gateway(JupyterProcess):
    """``jupyter kernelgateway`` (or ``enterprisegateway``) on a free loopback port, with
    an auth token."""

    def __init__(
        self,
        home: Path,
        kernel_env: dict[str, str] | None = None,
        *,
        port: int | None = None,
        prefix: list[str] | None = None,
        kind: str = KERNEL_GATEWAY,
        args: list[str] | None = None,
    ) -> None:
        """``prefix``: run it elsewhere (another network namespace, another user);
        ``args``: more of the gateway's own flags."""
        self.kind = kind
        self.gateway_port = port or free_port()
        self.auth_token = secrets.token_urlsafe(24)
        # Variables for the kernels it starts (e.g. a fake nvidia-smi on PATH): a gateway
        # passes its kernels only PATH, and what its admin allows.
        env = {**isolated_env(home), **(kernel_env or {})}
        allowed = ",".join(sorted(set(kernel_env or {}) - {"PATH"}))
        env["KG_ENV_PROCESS_WHITELIST"] = env["EG_ENV_PROCESS_WHITELIST"] = allowed
        # Enterprise Gateway refuses kernels for root (KERNEL_USERNAME, which the front
        # server sends) unless its admin empties the list: CI runs as root.
        env["EG_UNAUTHORIZED_USERS"] = ""
        app = _APPS[kind]
        super().__init__(
            home,
            [
                f"--{app}.port={self.gateway_port}",
                f"--{app}.ip=127.0.0.1",
                f"--{app}.auth_token={self.auth_token}",
                *(args or []),
            ],
            command=kind,
            env=env,
            prefix=prefix,
        )
        self.argv = [*self.prefix, gateway_program(kind), *self.argv[len(self.prefix) + 2 :]]

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

        wait_for(ready, READY_TIMEOUT, f"the {self.kind} to listen")
        return self

    def delete_kernel(self, kernel_id: str) -> None:
        """What the gateway's admin (or its culler) does, on the gateway itself."""
        gone = Request(
            f"{self.url}/api/kernels/{kernel_id}",
            method="DELETE",
            headers={"Authorization": f"token {self.auth_token}"},
        )
        with urlopen(gone, timeout=30) as answer:
            assert answer.status == 204

    def front_args(self) -> list[str]:
        """The flags a user gives the front server: the gateway's URL and its token."""
        return [f"--gateway-url={self.url}", f"--GatewayClient.auth_token={self.auth_token}"]


@contextlib.contextmanager
def running_gateway(
    home: Path,
    kernel_env: dict[str, str] | None = None,
    *,
    kind: str = KERNEL_GATEWAY,
    args: list[str] | None = None,
) -> Iterator[Gateway]:
    gateway = Gateway(home, kernel_env, kind=kind, args=args)
    gateway.start()
    try:
        yield gateway.wait_ready()
    finally:
        gateway.stop()


class FlakyGatewayLink:
    """A TCP forwarder to a gateway, in the test's event loop, that answers every new
    connection with 503 while ``failing`` is set: a gateway blip, as a load balancer in
    front of a restarting gateway shows it."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.failing = False
        self.refused = 0
        self.server: asyncio.Server | None = None
        self.port = 0
        self.connections: set[asyncio.Task[None]] = set()

    async def start(self) -> FlakyGatewayLink:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def front_args(self) -> list[str]:
        """The front server's flags: the gateway through this link."""
        return [
            f"--gateway-url=http://127.0.0.1:{self.port}",
            f"--GatewayClient.auth_token={self.gateway.auth_token}",
        ]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.connections.add(task)  # type: ignore[arg-type]
        try:
            await self._serve(reader, writer)
        finally:
            self.connections.discard(task)  # type: ignore[arg-type]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.failing:
            self.refused += 1
            with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, OSError):
                await reader.readuntil(b"\r\n\r\n")
                writer.write(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                    b"Connection: close\r\n\r\n"
                )
                await writer.drain()
            writer.close()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", self.gateway.gateway_port
            )
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    async def close(self) -> None:
        """Stop listening and end every connection still piped."""
        if self.server is not None:
            self.server.close()
        for task in list(self.connections):
            task.cancel()
        await asyncio.gather(*self.connections, return_exceptions=True)
        if self.server is not None:
            await self.server.wait_closed()
