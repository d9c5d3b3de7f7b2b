"""The tunnel under abuse: memory and latency when clients misbehave, on one real server.

    python benchmarks/abuse.py          # from a venv with colab-local installed

Rows (targets from the abuse issue):
1. a client without the token sends one 64 MiB message of tiny JSON objects: the
   server's peak RSS growth, and the worst latency of an unrelated request meanwhile;
2. 10 authenticated clients request a 200 MB file and never read: RSS growth after 10 s;
3. an authenticated 64 MiB upload (a 47 MiB file, base64 in JSON) still works.
Exit status 0 when every row is within target.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from measuring import MIB, KeepAliveClient, print_table, value_row

from tests_support import colab_client as colab
from tests_support.memory import PeakRss, rss_mib
from tests_support.raw_ws import RawWebSocket, frame
from tests_support.server_process import JupyterProcess, running_server


def tunnel_path(process: JupyterProcess, token: str) -> str:
    auth = colab.auth_url(process.http_root, token)
    query = urlencode({"min_version": "0.0.7", "jupyter_http_over_ws_auth_url": auth})
    return f"/http_over_websocket?{query}"


def amplification_message(size: int) -> bytes:
    head = b'{"message_id":1,"method":"GET","path":"/api/status","pad":['
    pads = (size - len(head) - 2) // 3
    return head + b",".join([b"{}"] * pads) + b"]}"


def unauthenticated_amplification(process: JupyterProcess) -> list[dict]:
    message = frame(amplification_message(64 * MIB))  # masked now, not while measuring
    direct = KeepAliveClient(process.http_root, process.token)
    direct.request("GET", "api/status")
    client = RawWebSocket(
        process.port,
        tunnel_path(process, "not-the-token"),
        {"Origin": colab.COLAB_ORIGIN},
    )

    def attack() -> None:
        # The server may close the connection (1009) before reading it all.
        with contextlib.suppress(OSError):
            client.send_bytes(message)

    latencies = []
    with PeakRss(process.proc.pid) as peak:  # type: ignore[union-attr]
        sender = threading.Thread(target=attack)
        sender.start()
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline or sender.is_alive():
            start = time.perf_counter()
            status, _ = direct.request("GET", "api/status")
            latencies.append(time.perf_counter() - start)
            assert status == 200
            time.sleep(0.01)
        sender.join()
    client.close()
    direct.close()
    return [
        value_row("no token, 64 MiB of tiny objects: peak RSS growth", peak.growth, "MiB", 300),
        value_row(
            "no token, 64 MiB of tiny objects: worst unrelated request",
            max(latencies) * 1000,
            "ms",
            250,
        ),
    ]


def stuck_readers(process: JupyterProcess) -> dict:
    big = process.root / "big.bin"
    with open(big, "wb") as f:
        for _ in range(200):
            f.write(os.urandom(MIB))
    pid = process.proc.pid  # type: ignore[union-attr]
    before = rss_mib(pid)
    clients = []
    for i in range(10):
        client = RawWebSocket(
            process.port, tunnel_path(process, process.token), {"Origin": colab.COLAB_ORIGIN}
        )
        request = {"message_id": i, "method": "GET", "path": "/files/big.bin"}
        client.send_frame(json.dumps(request).encode())
        clients.append(client)  # and never read
    time.sleep(10)  # the target is what they hold after 10 s
    held = rss_mib(pid) - before
    for client in clients:
        client.close()
    return value_row("10 clients never reading a 200 MB file: RSS after 10 s", held, "MiB", 200)


async def authenticated_upload(process: JupyterProcess) -> dict:
    content = os.urandom(47 * MIB)
    body = json.dumps(
        {"type": "file", "format": "base64", "content": base64.b64encode(content).decode()}
    )
    tunnel = await colab.open_tunnel(process.http_root, process.token)
    try:
        saved = await tunnel.request("PUT", "/api/contents/upload.bin", body)
    finally:
        tunnel.close()
    ok = saved.status in (200, 201) and (process.root / "upload.bin").read_bytes() == content
    size = len(json.dumps({"message_id": 1, "method": "PUT", "body": body})) / MIB
    return {
        "what": f"authenticated upload of a {size:.1f} MiB message",
        "direct": "",
        "tunnel": f"status {saved.status}",
        "ratio": "",
        "target": "saved intact",
        "ok": ok,
    }


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="colab-local-abuse-") as tmp:
        with running_server(Path(tmp)) as process:
            rows = unauthenticated_amplification(process)
            rows.append(stuck_readers(process))
            rows.append(asyncio.run(authenticated_upload(process)))
        tracebacks = process.log.count("Traceback")
    rows.append(
        {
            "what": "tracebacks in the server log",
            "direct": "",
            "tunnel": str(tracebacks),
            "ratio": "",
            "target": "0",
            "ok": tracebacks == 0,
        }
    )
    return print_table(rows)


if __name__ == "__main__":
    sys.exit(main())
