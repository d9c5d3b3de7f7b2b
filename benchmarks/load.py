"""Many Colab-protocol clients at once against one real server, all on loopback.

    python benchmarks/load.py              # 50 clients x 20 executions (the default)
    python benchmarks/load.py -c 10 -e 5   # smaller

Each client opens the tunnel (/http_over_websocket), creates its own session through it,
opens the proxied kernel channel, runs its executions (each result checked), deletes the
session and leaves. Prints errors, wrong results, and p50/p99 execute round trips.
Bounded: gives up after --timeout seconds. Exit status 0 only with zero errors.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from tests_support import colab_client as colab
from tests_support.server_process import running_server


async def one_client(root: str, token: str, index: int, executions: int, rtts: list[float]) -> int:
    """Run one client; return the number of wrong results."""
    wrong = 0
    tunnel = await colab.open_tunnel(root, token)
    try:
        created = await tunnel.request(
            "POST", "/api/sessions", colab.session_body(f"load-{index}.ipynb")
        )
        if created.status != 201:
            raise RuntimeError(f"client {index}: session answered {created.status}")
        session = created.json()
        channel = await colab.open_proxied_kernel(
            root, token, session["kernel"]["id"], uuid.uuid4().hex
        )
        try:
            for k in range(executions):
                start = time.perf_counter()
                out = await colab.execute(channel, f"print({index} * 1000 + {k})", "load")
                rtts.append(time.perf_counter() - start)
                wrong += out != f"{index * 1000 + k}\n"
        finally:
            channel.close()
        deleted = await tunnel.request("DELETE", f"/api/sessions/{session['id']}")
        if deleted.status != 204:
            raise RuntimeError(f"client {index}: delete answered {deleted.status}")
    finally:
        tunnel.close()
    return wrong


async def run(root: str, token: str, clients: int, executions: int, timeout: float) -> int:
    rtts: list[float] = []
    start = time.perf_counter()
    results = await asyncio.wait_for(
        asyncio.gather(
            *(one_client(root, token, i, executions, rtts) for i in range(clients)),
            return_exceptions=True,
        ),
        timeout,
    )
    elapsed = time.perf_counter() - start
    errors = [r for r in results if isinstance(r, BaseException)]
    wrong = sum(r for r in results if isinstance(r, int))
    for error in errors[:5]:
        print(f"error: {error!r}")
    ordered = sorted(rtts)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("nan")
    print(f"clients {clients}, executions each {executions}, elapsed {elapsed:.1f} s")
    print(f"errors {len(errors)}, wrong results {wrong}, executions done {len(rtts)}")
    if rtts:
        p50 = statistics.median(rtts)
        print(f"execute round trip p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
    return len(errors) + wrong


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--clients", type=int, default=50)
    parser.add_argument("-e", "--executions", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="colab-local-load-") as tmp:
        with running_server(Path(tmp)) as process:
            failures = asyncio.run(
                run(process.http_root, process.token, args.clients, args.executions, args.timeout)
            )
        tracebacks = process.log.count("Traceback")
        print(f"server tracebacks in log {tracebacks}")
    return 0 if failures == 0 and tracebacks == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
