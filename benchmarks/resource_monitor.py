"""What Colab's resource monitor costs a poll, side by side in one run: ``/api/colab/resources``
against Jupyter's own ``/api/status`` (the anchor: an authenticated API answering a few
fields), both through the direct flow and through one open tunnel, on a server that
sees two (fake) GPUs through ``nvidia-smi``, the slow path, polled every 0.5 s.

Targets: the median answer within 3x ``/api/status`` and at most one GPU query a second,
whatever the polling (the exit status: .ci/run gates on them); within 5 ms (printed: an
absolute time depends on the machine).

python benchmarks/resource_monitor.py [-n ROUNDS]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from tests_support import colab_client as colab
from tests_support.fake_gpu import FakeGpus
from tests_support.server_process import JupyterProcess, free_port, isolated_env, started

TARGET_MS = 5.0
TARGET_RATIO = 3.0
POLL_INTERVAL = 0.5


async def direct(process: JupyterProcess, path: str) -> float:
    start = time.perf_counter()
    response = await colab.direct_fetch(process.http_root, path, process.token)
    assert response.code == 200, response.body
    return (time.perf_counter() - start) * 1000


async def tunnelled(tunnel: colab.Tunnel, path: str) -> float:
    start = time.perf_counter()
    response = await tunnel.request("GET", f"/{path}")
    assert response.status == 200, response.body
    return (time.perf_counter() - start) * 1000


async def measure(process: JupyterProcess, rounds: int, polled: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    tunnel = await colab.open_tunnel(process.http_root, process.token)
    paths = ("api/status", "api/colab/resources")
    for path in paths:  # warm up: the first GPU reading, connections
        await direct(process, path)
        await tunnelled(tunnel, path)
    for i in range(rounds):
        for path in paths:  # interleaved, so both see the same machine
            times.setdefault(f"direct {path}", []).append(await direct(process, path))
            times.setdefault(f"tunnel {path}", []).append(await tunnelled(tunnel, path))
        if i < polled:
            await asyncio.sleep(POLL_INTERVAL)  # the page's polling period
    tunnel.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", "--rounds", type=int, default=200)
    parser.add_argument("--polled", type=int, default=10, help="rounds paced at 0.5 s")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="colab-local-monitor-") as tmp:
        home = Path(tmp)
        gpus = FakeGpus(home / "gpus")
        env = isolated_env(home, **gpus.environment(os.environ["PATH"], nvml=False))
        args = ["--no-browser", "--allow-root", f"--port={free_port()}"]
        process = started(JupyterProcess(home, args, env=env))
        try:
            start = time.monotonic()
            times = asyncio.run(measure(process, options.rounds, options.polled))
            elapsed = time.monotonic() - start
        finally:
            process.stop()
        queries = gpus.nvidia_smi_calls()
    medians = {name: statistics.median(values) for name, values in times.items()}
    met = True
    print(f"{'request':40} {'median':>9} {'p95':>9}")
    for name, values in times.items():
        p95 = statistics.quantiles(values, n=20)[-1]
        print(f"{name:40} {medians[name]:7.2f} ms {p95:7.2f} ms")
    for flow in ("direct", "tunnel"):
        monitor, anchor = medians[f"{flow} api/colab/resources"], medians[f"{flow} api/status"]
        ok = monitor <= TARGET_RATIO * anchor
        met &= ok
        fast = "met" if monitor <= TARGET_MS else "not met"
        print(
            f"{flow}: resources / status = {monitor / anchor:.2f}x (target <= {TARGET_RATIO:g}x): "
            f"{'met' if ok else 'NOT MET'}; {monitor:.2f} ms (target <= {TARGET_MS:g} ms): {fast}"
        )
    rate_ok = queries <= elapsed + 2
    met &= rate_ok
    requests = sum(len(values) for name, values in times.items() if "resources" in name)
    print(
        f"GPU queries: {queries} (nvidia-smi) for {requests} requests in {elapsed:.1f} s "
        f"(target <= 1/s): {'met' if rate_ok else 'NOT MET'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
