"""The kernel path's latency, side by side in one run: what each Colab cell waits for.

    python benchmarks/kernel_latency.py [-n 60]     # from a venv with colab-local installed

Round trips of ``kernel_info_request`` (to its reply) and of ``execute_request`` for ``1+1``
(to the kernel's ``idle``), median of ``-n`` each, interleaved, through:
1. jupyter_client straight to a kernel's ZMQ sockets: the limit;
2. plain jupyter_server (colab-local disabled), its kernel WebSocket: the anchor;
3. colab-local, direct flow (the same WebSocket, as Colab's page opens it);
4. colab-local, tunnel flow (``/http_over_websocket/proxied_ws/...``);
5. and 6. flows 3 and 4 through a TCP forwarder, as an ``ssh -L`` tunnel sits in between.
The WebSocket client turns Nagle's algorithm off, as browsers do.
Targets (the kernel-path issue): direct execute <= 1.5x the limit (kernel_info <= 2.5x);
tunnel <= 1.3x direct, also through the forwarder. Exit status 0 when all are met.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import measuring  # noqa: F401 (puts tests/ on the path)
from jupyter_client.manager import KernelManager
from tornado import httpclient, websocket

from tests_support import colab_client as colab
from tests_support.server_process import (
    free_port,
    running_plain_server,
    running_server,
    stop_process_group,
)

TESTS_DIR = str(Path(__file__).resolve().parents[1] / "tests")
RoundTrip = Callable[[], Awaitable[float]]


def ms(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000


class ZmqKernel:
    """A kernel and a jupyter_client on its ZMQ sockets (no server in between)."""

    def __init__(self) -> None:
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel()
        self.client = self.manager.blocking_client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def kernel_info(self) -> float:
        started = time.perf_counter()
        msg_id = self.client.kernel_info()
        while self.client.get_shell_msg(timeout=10)["parent_header"].get("msg_id") != msg_id:
            pass
        return time.perf_counter() - started

    def execute(self) -> float:
        started = time.perf_counter()
        msg_id = self.client.execute("1+1")
        while True:
            message = self.client.get_iopub_msg(timeout=10)
            if (
                message["parent_header"].get("msg_id") == msg_id
                and message["msg_type"] == "status"
                and message["content"]["execution_state"] == "idle"
            ):
                return time.perf_counter() - started

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


class Channel:
    """A kernel WebSocket as Colab's page holds it, with Nagle's algorithm off."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        ws.protocol.stream.set_nodelay(True)

    @classmethod
    async def open(cls, http_root: str, token: str, *, relayed: bool) -> Channel:
        created = await colab.direct_fetch(
            http_root,
            "api/sessions",
            token,
            method="POST",
            body=colab.session_body(f"latency-{relayed}-{time.monotonic_ns()}.ipynb"),
        )
        kernel_id = json.loads(created.body)["kernel"]["id"]
        if relayed:
            query = urlencode(
                {
                    "session_id": "b",
                    "jupyter_http_over_ws_auth_url": colab.auth_url(http_root, token),
                }
            )
            path = f"http_over_websocket/proxied_ws/api/kernels/{kernel_id}/channels"
        else:
            query = urlencode({"session_id": "b", "token": token})
            path = f"api/kernels/{kernel_id}/channels"
        ws = await websocket.websocket_connect(
            httpclient.HTTPRequest(
                f"{colab.ws_root(http_root)}{path}?{query}",
                headers={"Origin": colab.COLAB_ORIGIN},
            )
        )
        await colab.kernel_ready(ws)
        return cls(ws)

    async def _until(self, msg_id: str, done: Callable[[dict[str, Any]], bool]) -> None:
        while True:
            raw = await self.ws.read_message()
            if raw is None:
                raise ConnectionError("the kernel channel closed")
            message = json.loads(raw)
            if message.get("parent_header", {}).get("msg_id") == msg_id and done(message):
                return

    async def kernel_info(self) -> float:
        started = time.perf_counter()
        msg_id = colab.send_request(self.ws, "kernel_info_request", {}, "b")
        await self._until(msg_id, lambda m: m["msg_type"] == "kernel_info_reply")
        return time.perf_counter() - started

    async def execute(self) -> float:
        started = time.perf_counter()
        msg_id = colab.send_execute(self.ws, "1+1", "b")
        await self._until(
            msg_id,
            lambda m: m["msg_type"] == "status" and m["content"]["execution_state"] == "idle",
        )
        return time.perf_counter() - started


@contextlib.contextmanager
def forwarder(target_port: int) -> Iterator[int]:
    """A TCP forwarder (as ``ssh -L``) to ``target_port``; yields its own port."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests_support.forwarder",
            f"tcp:127.0.0.1:{port}",
            f"tcp:127.0.0.1:{target_port}",
        ],
        stdout=subprocess.PIPE,
        env={"PYTHONPATH": TESTS_DIR},
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        yield port
    finally:
        stop_process_group(proc, grace=5)


async def measure(paths: dict[str, Channel], zmq: ZmqKernel, runs: int) -> dict[str, list[float]]:
    """Interleaved samples: each round visits every path once, kernel_info then execute."""
    samples: dict[str, list[float]] = {}
    for _ in range(runs):
        samples.setdefault("limit kernel_info", []).append(zmq.kernel_info())
        samples.setdefault("limit execute", []).append(zmq.execute())
        for name, channel in paths.items():
            samples.setdefault(f"{name} kernel_info", []).append(await channel.kernel_info())
            samples.setdefault(f"{name} execute", []).append(await channel.execute())
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=60, help="round trips per path and kind")
    runs = parser.parse_args().n
    with tempfile.TemporaryDirectory(prefix="colab-local-latency-") as tmp:
        zmq = ZmqKernel()
        try:
            with contextlib.ExitStack() as servers:
                plain = servers.enter_context(running_plain_server(Path(tmp) / "plain"))
                server = servers.enter_context(running_server(Path(tmp) / "colab"))
                forwarded = servers.enter_context(forwarder(server.port))
                tunnelled_root = f"http://localhost:{forwarded}/"

                async def run() -> dict[str, list[float]]:
                    paths = {
                        "plain jupyter_server": await Channel.open(
                            plain.http_root, plain.token, relayed=False
                        ),
                        "colab-local direct": await Channel.open(
                            server.http_root, server.token, relayed=False
                        ),
                        "colab-local tunnel": await Channel.open(
                            server.http_root, server.token, relayed=True
                        ),
                        "direct via forwarder": await Channel.open(
                            tunnelled_root, server.token, relayed=False
                        ),
                        "tunnel via forwarder": await Channel.open(
                            tunnelled_root, server.token, relayed=True
                        ),
                    }
                    for channel in paths.values():  # warm up
                        await channel.kernel_info()
                        await channel.execute()
                    zmq.kernel_info()
                    zmq.execute()
                    return await measure(paths, zmq, runs)

                samples = asyncio.run(run())
        finally:
            zmq.close()
    medians = {name: ms(values) for name, values in samples.items()}
    print(f"median of {runs} round trips each, interleaved (ms)")
    print(f"{'path':<24}{'kernel_info':>13}{'execute 1+1':>13}")
    for name in (
        "limit",
        "plain jupyter_server",
        "colab-local direct",
        "colab-local tunnel",
        "direct via forwarder",
        "tunnel via forwarder",
    ):
        label = "jupyter_client (ZMQ)" if name == "limit" else name
        print(
            f"{label:<24}{medians[name + ' kernel_info']:>13.2f}{medians[name + ' execute']:>13.2f}"
        )
    checks = [
        ("direct execute / limit", "colab-local direct execute", "limit execute", 1.5),
        ("direct kernel_info / limit", "colab-local direct kernel_info", "limit kernel_info", 2.5),
        (
            "tunnel / direct, execute",
            "colab-local tunnel execute",
            "colab-local direct execute",
            1.3,
        ),
        (
            "tunnel / direct, kernel_info",
            "colab-local tunnel kernel_info",
            "colab-local direct kernel_info",
            1.3,
        ),
        (
            "via forwarder: tunnel / direct, execute",
            "tunnel via forwarder execute",
            "direct via forwarder execute",
            1.3,
        ),
        (
            "via forwarder: tunnel / direct, kernel_info",
            "tunnel via forwarder kernel_info",
            "direct via forwarder kernel_info",
            1.3,
        ),
    ]
    print()
    met = True
    for label, measured, against, target in checks:
        ratio = medians[measured] / medians[against]
        ok = ratio <= target
        met = met and ok
        print(f"{label:<44}{ratio:>7.2f}x  <= {target}x  {'met' if ok else 'NOT MET'}")
    anchor = medians["plain jupyter_server execute"] / medians["colab-local direct execute"]
    print(f"{'(plain jupyter_server / colab-local direct, execute)':<44}{anchor:>7.2f}x")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
