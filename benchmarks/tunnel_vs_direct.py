"""Colab's legacy tunnel against a direct connection, side by side on one real server.

    python benchmarks/tunnel_vs_direct.py          # from a venv with colab-local installed

Starts `jupyter notebook` (installed colab-local) on a free port in a temporary home,
makes its own test data, runs each row direct and through the tunnel interleaved (so
machine drift hits both alike), prints medians, the ratio and the target, and cleans up.
Exit status 0 when every row is within target.

The protocol carries response bodies base64-encoded inside JSON, which the client must
decode. Colab's page does that with the browser's native decoder; CPython's base64 is
about three times slower, and on large bodies the ratio would then measure it rather than
the server. So the tunnel client here uses pybase64 (a SIMD decoder, in the test extras)
when it is installed; the decoder used is printed. With CPython's own decoder the 20 MB
row measures about 1.3x on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from tornado import httpclient

try:
    import pybase64
except ImportError:  # pragma: no cover - the test extras install it
    pybase64 = None

from tests_support import colab_client as colab
from tests_support.server_process import JupyterProcess, free_port, wait_for

MIB = 1024 * 1024


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class PeakRss:
    """Samples a process's RSS every few milliseconds while a block runs."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()

    def __enter__(self) -> PeakRss:
        self.base = rss_mib(self.pid)
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mib(self.pid))
            time.sleep(0.005)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> float:
        return self.peak - self.base


async def timed(coro: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = await coro
    return time.perf_counter() - start, result


async def interleaved(n: int, direct: Any, tunnel: Any) -> tuple[list[float], list[float]]:
    d_times, t_times = [], []
    for i in range(n):
        first, second = (direct, tunnel) if i % 2 == 0 else (tunnel, direct)
        a = await timed(first())
        b = await timed(second())
        (d_times if first is direct else t_times).append(a[0])
        (t_times if second is tunnel else d_times).append(b[0])
    return d_times, t_times


async def bench_server(process: JupyterProcess, rows: list[dict[str, Any]], n: int) -> None:
    root, token = process.http_root, process.token
    client = httpclient.AsyncHTTPClient(max_body_size=512 * MIB, max_buffer_size=512 * MIB)
    tunnel = await colab.open_tunnel(root, token)
    headers = {"Authorization": f"token {token}"}

    async def direct_get(path: str) -> bytes:
        response = await client.fetch(f"{root}{path}", headers=headers, request_timeout=300)
        return response.body

    async def tunnel_get(path: str) -> bytes:
        response = await tunnel.request("GET", path)
        assert response.status == 200, response.status
        return response.body

    # 1. small REST call
    await direct_get("api/kernelspecs")
    await tunnel_get("/api/kernelspecs")
    d, t = await interleaved(
        n, lambda: direct_get("api/kernelspecs"), lambda: tunnel_get("/api/kernelspecs")
    )
    rows.append(row("small REST call (GET /api/kernelspecs)", d, t, 1.3))

    # 2. 20 MB through the contents API, bytes identical
    data = os.urandom(20 * MIB)
    (process.root / "twenty.bin").write_bytes(data)
    path = "api/contents/twenty.bin?content=1&format=base64&type=file"

    def decoded(body: bytes) -> bytes:
        return base64.b64decode(json.loads(body)["content"])

    assert decoded(await direct_get(path)) == data
    assert decoded(await tunnel_get("/" + path)) == data
    d, t = await interleaved(
        max(10, n // 10), lambda: direct_get(path), lambda: tunnel_get("/" + path)
    )
    rows.append(row("20 MB via contents API (bytes identical)", d, t, 1.3))

    # 3. 200 MB download through the tunnel: streamed, never buffered whole
    big = process.root / "two-hundred.bin"
    with open(big, "wb") as f:
        for _ in range(200):
            f.write(os.urandom(MIB))
    pid = process.proc.pid  # type: ignore[union-attr]
    with PeakRss(pid) as peak:
        received = 0
        tunnel.send_raw(
            json.dumps({"message_id": "big", "method": "GET", "path": "/files/two-hundred.bin"})
        )
        while True:
            message = json.loads(await tunnel.ws.read_message())
            received += len(base64.b64decode(message.get("data", "")))
            if message.get("done"):
                break
    assert received == 200 * MIB, received
    rows.append(
        {
            "what": "200 MB download through the tunnel: server RSS growth",
            "direct": "",
            "tunnel": f"{peak.growth:.1f} MiB",
            "ratio": "",
            "target": "< 50 MiB",
            "ok": peak.growth < 50,
        }
    )

    # 4. kernel execute round trip over proxied_ws vs the kernel WebSocket directly
    created = await tunnel.request("POST", "/api/sessions", colab.session_body("bench.ipynb"))
    kernel_id = created.json()["kernel"]["id"]
    proxied = await colab.open_proxied_kernel(root, token, kernel_id, uuid.uuid4().hex)
    direct_ws = await colab.open_direct_kernel(root, token, kernel_id, uuid.uuid4().hex)
    for ws in (proxied, direct_ws):
        assert await colab.execute(ws, "print(1)", "warm") == "1\n"
    d, t = await interleaved(
        n,
        lambda: colab.execute(direct_ws, "print(2)", "b"),
        lambda: colab.execute(proxied, "print(2)", "b"),
    )
    rows.append(row("kernel execute round trip (proxied_ws)", d, t, 1.2))
    proxied.close()
    direct_ws.close()
    tunnel.close()


def row(what: str, direct: list[float], tunnel: list[float], target: float) -> dict[str, Any]:
    d, t = statistics.median(direct), statistics.median(tunnel)
    return {
        "what": what,
        "direct": f"{d * 1000:.2f} ms",
        "tunnel": f"{t * 1000:.2f} ms",
        "ratio": f"{t / d:.2f}x",
        "target": f"<= {target}x",
        "ok": t / d <= target,
    }


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
    without = ["--ServerApp.jpserver_extensions={'colab_local': False}"]
    d, t = [], []
    for i in range(runs):
        order = [(without, d), ([], t)] if i % 2 == 0 else [([], t), (without, d)]
        for extra, bucket in order:
            bucket.append(startup_seconds(home / f"s{i}-{len(bucket)}-{bool(extra)}", extra))
    result = row("`jupyter notebook` start to ready", d, t, 1.10)
    result["what"] = "`jupyter notebook` start to ready (without vs with colab-local)"
    rows.append(result)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="iterations for the fast rows")
    parser.add_argument("--starts", type=int, default=6, help="server starts per side")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    if pybase64 is not None:
        colab.b64decode = pybase64.b64decode
    print(f"tunnel client's base64 decoder: {colab.b64decode.__module__}.b64decode")
    with tempfile.TemporaryDirectory(prefix="colab-local-bench-") as tmp:
        home = Path(tmp)
        process = JupyterProcess(
            home / "server", ["--no-browser", "--allow-root", f"--port={free_port()}"]
        )
        process.start()
        try:
            process.wait_ready()
            asyncio.run(bench_server(process, rows, args.n))
        finally:
            process.stop()
        bench_startup(home, args.starts, rows)
    width = max(len(r["what"]) for r in rows)
    print(f"{'what':<{width}}  {'direct':>12}  {'tunnel':>12}  {'ratio':>7}  {'target':>9}  ok")
    for r in rows:
        print(
            f"{r['what']:<{width}}  {r['direct']:>12}  {r['tunnel']:>12}  {r['ratio']:>7}  "
            f"{r['target']:>9}  {'yes' if r['ok'] else 'NO'}"
        )
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
