"""How fast ``/colab/connect`` answers (target: within 200 ms), against a real server.

python benchmarks/connect_latency.py
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from tornado import httpclient

from tests_support.server_process import JupyterProcess, running_server

TARGET_MS = 200


async def measure(process: JupyterProcess, rounds: int) -> list[float]:
    client = httpclient.AsyncHTTPClient()
    headers = {"Authorization": f"token {process.token}"}
    times = []
    for i in range(rounds):
        query = "?format=json" if i % 2 else ""  # the JSON and the page, alternately
        start = time.perf_counter()
        await client.fetch(f"{process.http_root}colab/connect{query}", headers=headers)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> int:
    with (
        tempfile.TemporaryDirectory(prefix="colab-local-connect-") as tmp,
        running_server(Path(tmp)) as process,
    ):
        times = asyncio.run(measure(process, 200))
    worst = max(times)
    print(
        f"/colab/connect x{len(times)}: median {statistics.median(times):.1f} ms, "
        f"max {worst:.1f} ms, target {TARGET_MS} ms: {'yes' if worst < TARGET_MS else 'NO'}"
    )
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
