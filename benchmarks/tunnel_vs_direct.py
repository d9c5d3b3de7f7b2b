"""Colab's legacy tunnel against a direct connection, side by side on one real server.

    python benchmarks/tunnel_vs_direct.py          # from a venv with colab-local installed

Starts `jupyter notebook` (installed colab-local) on a free port in a temporary home,
makes its own test data, runs each row direct and through the tunnel interleaved (so
machine drift hits both alike), prints medians, the ratio and the target, and cleans up.
Exit status 0 when every row is within target.

The direct client keeps its connection alive, as a browser does; the tunnel client is
as lean (a plain socket) and encodes and decodes with the standard library's json and
base64 (a browser's are native, and faster). File rows time what a user waits for: from
request to the file's bytes in hand (download), from the file's bytes to saved (upload),
each including the contents API's own base64-in-JSON on both sides; the indented rows
show the protocol's share alone (the tunnel carries bodies as base64, or as a JSON
string, inside JSON).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from measuring import (
    MIB,
    KeepAliveClient,
    TunnelClient,
    info_row,
    print_table,
    ratio_row,
    value_row,
)

from tests_support import colab_client as colab
from tests_support.memory import PeakRss
from tests_support.server_process import WITHOUT_COLAB_LOCAL, JupyterProcess, free_port, wait_for


def measure_pairs(n: int, direct: Any, tunnel: Any) -> tuple[list[float], list[float]]:
    """``n`` timings of each, interleaved (which goes first alternates)."""
    d_times, t_times = [], []
    for i in range(n):
        for call, times in [(direct, d_times), (tunnel, t_times)][:: 1 if i % 2 == 0 else -1]:
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
    return d_times, t_times


def bench_http(process: JupyterProcess, rows: list[dict[str, Any]], n: int) -> None:
    """REST, download and upload: a keep-alive HTTP client against the lean tunnel client."""
    root, token = process.http_root, process.token
    direct, tunnel = KeepAliveClient(root, token), TunnelClient(root, token)

    def call(client: Any, method: str, path: str, body: Any = None) -> bytes:
        status, content = client.request(method, path, body)
        assert status in (200, 201), (status, content[:200])
        return content

    # 1. a small REST call
    d, t = measure_pairs(
        n,
        lambda: call(direct, "GET", "api/kernelspecs"),
        lambda: call(tunnel, "GET", "api/kernelspecs"),
    )
    rows.append(ratio_row("small REST call (GET /api/kernelspecs)", d, t, 1.1))

    # 2. a 20 MB file down through the contents API, until the client holds its bytes
    data = os.urandom(20 * MIB)
    (process.root / "twenty.bin").write_bytes(data)
    path = "api/contents/twenty.bin?content=1&format=base64&type=file"
    rounds = max(10, n // 10)

    def file_bytes(body: bytes) -> bytes:
        return base64.b64decode(json.loads(body)["content"])

    for client in (direct, tunnel):
        assert file_bytes(call(client, "GET", path)) == data
    d, t = measure_pairs(
        rounds,
        lambda: file_bytes(call(direct, "GET", path)),
        lambda: file_bytes(call(tunnel, "GET", path)),
    )
    rows.append(ratio_row("20 MB file download (contents API), to its bytes", d, t, 1.4))
    d, t = measure_pairs(
        rounds, lambda: call(direct, "GET", path), lambda: call(tunnel, "GET", path)
    )
    rows.append(info_row("  of which the response alone (protocol: base64 in JSON)", d, t))

    # 3. the same file up through the contents API, from its bytes until saved
    def model(content: bytes) -> str:
        return json.dumps(
            {"type": "file", "format": "base64", "content": base64.b64encode(content).decode()}
        )

    def upload(client: Any, name: str, body: Any) -> None:
        call(client, "PUT", f"api/contents/{name}", body)

    d, t = measure_pairs(
        rounds,
        lambda: upload(direct, "up-direct.bin", model(data).encode()),
        lambda: upload(tunnel, "up-tunnel.bin", model(data)),
    )
    for name in ("up-direct.bin", "up-tunnel.bin"):
        assert (process.root / name).read_bytes() == data
    rows.append(ratio_row("20 MB file upload (contents API), from its bytes", d, t, 1.3))
    body = model(data)
    d, t = measure_pairs(
        rounds,
        lambda: upload(direct, "up-direct.bin", body.encode()),
        lambda: upload(tunnel, "up-tunnel.bin", body),
    )
    rows.append(info_row("  of which the request alone (protocol: JSON in JSON)", d, t))

    # 4. 200 MB download through the tunnel: streamed, never buffered whole
    big = process.root / "two-hundred.bin"
    with open(big, "wb") as f:
        for _ in range(200):
            f.write(os.urandom(MIB))
    with PeakRss(process.proc.pid) as peak:  # type: ignore[union-attr]
        received = len(call(tunnel, "GET", "files/two-hundred.bin"))
    assert received == 200 * MIB, received
    rows.append(value_row("200 MB download through the tunnel: RSS growth", peak.growth, "MiB", 50))
    direct.close()
    tunnel.close()


async def bench_kernel(process: JupyterProcess, rows: list[dict[str, Any]], n: int) -> None:
    """Kernel execute round trips: proxied_ws against the kernel WebSocket directly."""
    root, token = process.http_root, process.token
    created = await colab.direct_fetch(
        root, "api/sessions", token, method="POST", body=colab.session_body("bench.ipynb")
    )
    kernel_id = json.loads(created.body)["kernel"]["id"]
    proxied = await colab.open_proxied_kernel(root, token, kernel_id, uuid.uuid4().hex)
    direct_ws = await colab.open_direct_kernel(root, token, kernel_id, uuid.uuid4().hex)
    for ws in (proxied, direct_ws):
        assert await colab.execute(ws, "print(1)", "warm") == "1\n"
    d, t = [], []
    for i in range(n):
        for ws, times in [(direct_ws, d), (proxied, t)][:: 1 if i % 2 == 0 else -1]:
            start = time.perf_counter()
            await colab.execute(ws, "print(2)", "b")
            times.append(time.perf_counter() - start)
    rows.append(ratio_row("kernel execute round trip (proxied_ws)", d, t, 1.1))
    proxied.close()
    direct_ws.close()


def startup_seconds(home: Path, extra: list[str]) -> float:
    process = JupyterProcess(
        home, ["--no-browser", "--allow-root", f"--port={free_port()}", *extra]
    )
    start = time.perf_counter()
    process.start()
    try:
        wait_for(lambda: "is running at" in process.log, 120, "the server to start", 0.005)
        return time.perf_counter() - start
    finally:
        process.stop()


def bench_startup(home: Path, runs: int, rows: list[dict[str, Any]]) -> None:
    without = [WITHOUT_COLAB_LOCAL]
    d, t = [], []
    for i in range(runs):
        order = [(without, d), ([], t)] if i % 2 == 0 else [([], t), (without, d)]
        for extra, bucket in order:
            bucket.append(startup_seconds(home / f"s{i}-{len(bucket)}-{bool(extra)}", extra))
    result = ratio_row("`jupyter notebook` start to ready", d, t, 1.10)
    result["what"] = "`jupyter notebook` start to ready (without vs with colab-local)"
    rows.append(result)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="iterations for the fast rows")
    parser.add_argument("--starts", type=int, default=6, help="server starts per side")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="colab-local-bench-") as tmp:
        home = Path(tmp)
        process = JupyterProcess(
            home / "server", ["--no-browser", "--allow-root", f"--port={free_port()}"]
        )
        process.start()
        try:
            process.wait_ready()
            bench_http(process, rows, args.n)
            asyncio.run(bench_kernel(process, rows, args.n))
        finally:
            process.stop()
        bench_startup(home, args.starts, rows)
    return print_table(rows)


if __name__ == "__main__":
    sys.exit(main())
