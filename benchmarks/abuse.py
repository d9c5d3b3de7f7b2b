"""The tunnel under abuse: memory and latency when clients misbehave, on one real server.

    python benchmarks/abuse.py          # from a venv with colab-local installed

Rows (targets from the abuse issues):
1. a client without the token sends one 64 MiB message of tiny JSON objects: the
   server's peak RSS growth, and the worst latency of an unrelated request meanwhile;
   then long paths of separators (60 KiB directly and through the tunnel, 1 MiB through
   the tunnel), each logged: the worst unrelated request meanwhile, plain jupyter_server
   beside it (colab-local's redaction was once quadratic in such a path: seconds each);
2. 10 authenticated clients request a 200 MB file and never read: RSS growth after 10 s;
3. an authenticated 64 MiB upload (a 47 MiB file, base64 in JSON) still works;
4. a client without the token pipelines requests for 30 s and never reads: the server's
   peak RSS growth, and when it is disconnected (``stalled_client_timeout`` is 10 s here);
   beside it plain jupyter_server (colab-local disabled) with the same GETs pipelined over
   HTTP/1.1;
5. a relay chain (``proxied_ws/`` 2000 times, then ``diagnose``) without the token: the
   sockets the server opens for it (plain Jupyter: 404);
6. one 70 MB kernel output to a client that reads, through ``proxied_ws`` (plain Jupyter:
   the kernel channel directly): delivered, and how long it took.
Exit status 0 when every row is within target.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import notebook
from measuring import MIB, KeepAliveClient, print_table, value_row
from tornado import httpclient, websocket

from tests_support import colab_client as colab
from tests_support.memory import PeakRss, rss_mib
from tests_support.raw_ws import RawWebSocket, frame
from tests_support.server_process import JupyterProcess, running_plain_server, running_server


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
    client = RawWebSocket(
        process.port,
        tunnel_path(process, "not-the-token"),
        {"Origin": colab.COLAB_ORIGIN},
    )

    def attack() -> None:
        # The server may close the connection (1009) before reading it all.
        with contextlib.suppress(OSError):
            client.send_bytes(message)

    with PeakRss(process.proc.pid) as peak:  # type: ignore[union-attr]
        worst_ms = worst_latency_during(process, attack, at_least=3)
    client.close()
    return [
        value_row("no token, 64 MiB of tiny objects: peak RSS growth", peak.growth, "MiB", 300),
        value_row("no token, 64 MiB of tiny objects: worst unrelated request", worst_ms, "ms", 250),
    ]


#: A path of separators as long as a tokenless client can send: tornado's header limit
#: (64 KiB) directly, the same pre-authentication message limit through the tunnel.
SEPARATORS = "/" + ";" * (60 * 1024)
SEPARATOR_ROUNDS = 20


def separator_attack(process: JupyterProcess, *, tunnel: bool) -> None:
    """A tokenless client sending long paths of separators (each answered 403/404 and
    logged); through the tunnel also 1 MiB ones (refused unread)."""
    for _ in range(SEPARATOR_ROUNDS):
        if tunnel:
            ws = RawWebSocket(
                process.port,
                tunnel_path(process, "not-the-token"),
                {"Origin": colab.COLAB_ORIGIN},
            )
            ws.send_frame(json.dumps({"message_id": 1, "path": SEPARATORS}).encode())
            ws.read_frame()  # its answer
            with contextlib.suppress(OSError):
                ws.send_frame(json.dumps({"message_id": 2, "path": "/" + ";" * MIB}).encode())
                ws.read_frame()  # closed: too big before the token
            ws.close()
        else:
            with socket.create_connection(("127.0.0.1", process.port)) as sock:
                sock.sendall(f"GET {SEPARATORS} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
                sock.recv(64)


def worst_latency_during(
    process: JupyterProcess, attack: Callable[[], None], at_least: float = 0.0
) -> float:
    """The worst /api/status latency (ms) of another client while ``attack`` runs (and for
    ``at_least`` seconds)."""
    direct = KeepAliveClient(process.http_root, process.token)
    direct.request("GET", "api/status")
    sender = threading.Thread(target=attack)
    latencies = []
    sender.start()
    deadline = time.monotonic() + at_least
    while time.monotonic() < deadline or sender.is_alive():
        start = time.perf_counter()
        status, _ = direct.request("GET", "api/status")
        latencies.append(time.perf_counter() - start)
        assert status == 200
        time.sleep(0.005)
    sender.join()
    direct.close()
    return max(latencies) * 1000


def separator_rows(process: JupyterProcess, plain: JupyterProcess) -> list[dict]:
    plain_ms = worst_latency_during(plain, lambda: separator_attack(plain, tunnel=False))
    direct_ms = worst_latency_during(process, lambda: separator_attack(process, tunnel=False))
    tunnel_ms = worst_latency_during(process, lambda: separator_attack(process, tunnel=True))
    return [
        {
            "what": "no token, 60 KiB paths of ';' (plain | colab-local): worst other request",
            "direct": f"{plain_ms:.1f} ms",
            "tunnel": f"{direct_ms:.1f} ms",
            "ratio": "",
            "target": "<= 50 ms",
            "ok": direct_ms <= 50,
        },
        {
            "what": "… through the tunnel, and 1 MiB ones: worst other request",
            "direct": "",
            "tunnel": f"{tunnel_ms:.1f} ms",
            "ratio": "",
            "target": "<= 50 ms",
            "ok": tunnel_ms <= 50,
        },
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


AUTH_PARAM = "jupyter_http_over_ws_auth_url"
PIPELINE_SECONDS = 30
STALL_SECONDS = 10
RELAY_DEPTH = 2000
BIG_OUTPUT = 70_000_000


def static_script() -> str:
    """A Notebook 7 static file of some tens of KB: anyone may GET it, token or not."""
    static = Path(notebook.__file__).parent / "static"
    sized = sorted((p.stat().st_size, p) for p in static.rglob("*.js") if p.is_file())
    path = next(p for size, p in sized if size >= 40_000)
    return "/static/notebook/" + path.relative_to(static).as_posix()


def never_reading(process: JupyterProcess, *, tunnel: bool) -> tuple[float, float | None]:
    """Peak RSS growth (MiB) while a tokenless client pipelines GETs of a static file and
    reads nothing; and the seconds until the server closed it (None: still open)."""
    path = static_script()
    if tunnel:
        ws = RawWebSocket(
            process.port, "/http_over_websocket?min_version=0.0.7", {"Origin": colab.COLAB_ORIGIN}
        )
        sock = ws.sock
        payload = frame(json.dumps({"message_id": 1, "method": "GET", "path": path}).encode())
    else:
        sock = socket.create_connection(("127.0.0.1", process.port))
        payload = f"GET {path} HTTP/1.1\r\nHost: localhost:{process.port}\r\n\r\n".encode()
    sock.settimeout(1)
    closed_after = None
    started = time.monotonic()
    with PeakRss(process.proc.pid) as peak:  # type: ignore[union-attr]
        while time.monotonic() - started < PIPELINE_SECONDS:
            try:
                sock.sendall(payload)
            except socket.timeout:
                continue  # the server stopped reading
            except OSError:
                closed_after = time.monotonic() - started
                break
    sock.close()
    return peak.growth, closed_after


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def send_upgrade(process: JupyterProcess, path: str) -> socket.socket:
    """A tokenless WebSocket upgrade to ``path``, from Colab's origin."""
    client = socket.create_connection(("127.0.0.1", process.port))
    client.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: localhost:{process.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: {colab.COLAB_ORIGIN}\r\n\r\n"
        ).encode()
    )
    return client


def upgrade_status(process: JupyterProcess, path: str) -> str:
    """The HTTP status the server answers a tokenless upgrade to ``path`` with."""
    with send_upgrade(process, path) as client:
        return client.recv(64).split(b" ")[1].decode()


def upgrade_descriptors(process: JupyterProcess, path: str) -> int:
    """Peak of the server's extra descriptors in the second after a tokenless upgrade to
    ``path`` (its connection held open meanwhile)."""
    pid = process.proc.pid  # type: ignore[union-attr]
    before = open_fds(pid)
    client = send_upgrade(process, path)
    peak, deadline = before, time.monotonic() + 1
    while time.monotonic() < deadline:
        peak = max(peak, open_fds(pid))
        time.sleep(0.01)
    client.close()
    return peak - before


CHAIN = "/http_over_websocket/proxied_ws/" + (
    "http_over_websocket/proxied_ws/" * (RELAY_DEPTH - 1) + "http_over_websocket/diagnose"
)


def relay_chain_sockets(process: JupyterProcess) -> int:
    """Descriptors one tokenless relay chain makes the server open, beyond what the same
    client's upgrade to ``diagnose`` (no relay) costs."""
    control = upgrade_descriptors(process, "/http_over_websocket/diagnose")
    relayed = upgrade_descriptors(process, CHAIN)
    return max(0, relayed - control)


async def big_output(process: JupyterProcess, *, relayed: bool) -> float | None:
    """Seconds to receive one 70 MB display output, None if the channel closed first."""
    created = await colab.direct_fetch(
        process.http_root,
        "api/sessions",
        process.token,
        method="POST",
        body=colab.session_body(f"big-{relayed}.ipynb"),
    )
    kernel_id = json.loads(created.body)["kernel"]["id"]
    if relayed:
        query = urlencode(
            {"session_id": "big", AUTH_PARAM: colab.auth_url(process.http_root, process.token)}
        )
        path = f"http_over_websocket/proxied_ws/api/kernels/{kernel_id}/channels"
    else:
        query = urlencode({"session_id": "big", "token": process.token})
        path = f"api/kernels/{kernel_id}/channels"
    ws = await websocket.websocket_connect(
        httpclient.HTTPRequest(
            f"{colab.ws_root(process.http_root)}{path}?{query}",
            headers={"Origin": colab.COLAB_ORIGIN},
            request_timeout=60,
        ),
        max_message_size=200 * MIB,
    )
    try:
        await colab.kernel_ready(ws)
        started = time.perf_counter()
        msg_id = colab.send_execute(
            ws, f"display({{'text/plain': 'z' * {BIG_OUTPUT}}}, raw=True)", "big"
        )
        while True:
            raw = await ws.read_message()
            if raw is None:
                return None
            message = json.loads(raw)
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if message["msg_type"] == "display_data":
                return time.perf_counter() - started
    finally:
        ws.close()


def pipelining_rows(colab_server: JupyterProcess, plain: JupyterProcess) -> list[dict]:
    plain_growth, plain_closed = never_reading(plain, tunnel=False)
    growth, closed = never_reading(colab_server, tunnel=True)
    return [
        {
            "what": f"no token, pipelining {PIPELINE_SECONDS} s, never reading: peak RSS growth",
            "direct": f"{plain_growth:.1f} MiB",
            "tunnel": f"{growth:.1f} MiB",
            "ratio": "",
            "target": "< 50 MiB",
            "ok": growth < 50,
        },
        {
            "what": "… and disconnected after",
            "direct": "open" if plain_closed is None else f"{plain_closed:.1f} s",
            "tunnel": "open" if closed is None else f"{closed:.1f} s",
            "ratio": "",
            "target": f"~{STALL_SECONDS} s stall",
            "ok": closed is not None and closed < STALL_SECONDS + 10,
        },
    ]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="colab-local-abuse-") as tmp:
        stall = f"--ColabLocal.stalled_client_timeout={STALL_SECONDS}"
        plain_server = running_plain_server(Path(tmp) / "plain")
        with running_server(Path(tmp) / "colab", stall) as process, plain_server as plain:
            rows = unauthenticated_amplification(process)
            rows += separator_rows(process, plain)
            rows.append(stuck_readers(process))
            rows.append(asyncio.run(authenticated_upload(process)))
            rows += pipelining_rows(process, plain)
            opened = relay_chain_sockets(process)
            rows.append(
                {
                    "what": f"no token, a {RELAY_DEPTH}-deep relay chain: sockets opened",
                    "direct": f"HTTP {upgrade_status(plain, CHAIN)}",
                    "tunnel": str(opened),
                    "ratio": "",
                    "target": "0",
                    "ok": opened == 0,
                }
            )
            plain_seconds = asyncio.run(big_output(plain, relayed=False))
            seconds = asyncio.run(big_output(process, relayed=True))
            rows.append(
                {
                    "what": "one 70 MB output to a reading client (proxied_ws)",
                    "direct": "closed" if plain_seconds is None else f"{plain_seconds:.2f} s",
                    "tunnel": "closed" if seconds is None else f"{seconds:.2f} s",
                    "ratio": "",
                    "target": "delivered",
                    "ok": seconds is not None,
                }
            )
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
