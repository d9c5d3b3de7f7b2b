"""What the benchmark scripts share: a keep-alive HTTP client, the table (memory readings:
``tests_support.memory``, importable once this module has put ``tests/`` on the path)."""

from __future__ import annotations

import base64
import http.client
import itertools
import json
import statistics
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

MIB = 1024 * 1024


class KeepAliveClient:
    """HTTP/1.1 on one kept-alive connection, as a browser talks to the server directly."""

    def __init__(self, http_root: str, token: str) -> None:
        parts = urlsplit(http_root)
        self.base_path = parts.path
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
        self.headers = {"Authorization": f"token {token}"}

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        self.connection.request(method, self.base_path + path.lstrip("/"), body, headers)
        response = self.connection.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.connection.close()


def ratio_row(what: str, direct: list[float], tunnel: list[float], target: float) -> dict[str, Any]:
    d, t = statistics.median(direct), statistics.median(tunnel)
    return {
        "what": what,
        "direct": f"{d * 1000:.2f} ms",
        "tunnel": f"{t * 1000:.2f} ms",
        "ratio": f"{t / d:.2f}x",
        "target": f"<= {target}x",
        "ok": t / d <= target,
    }


def info_row(what: str, direct: list[float], tunnel: list[float]) -> dict[str, Any]:
    """A ratio shown for information, with no target of its own."""
    row = ratio_row(what, direct, tunnel, 0)
    row.update(target="(info)", ok=True)
    return row


def value_row(what: str, value: float, unit: str, limit: float) -> dict[str, Any]:
    return {
        "what": what,
        "direct": "",
        "tunnel": f"{value:.1f} {unit}",
        "ratio": "",
        "target": f"< {limit:g} {unit}",
        "ok": value < limit,
    }


def print_table(rows: list[dict[str, Any]]) -> int:
    """Print the rows; 0 when every row is within its target, else 1."""
    width = max(len(r["what"]) for r in rows)
    print(f"{'what':<{width}}  {'direct':>12}  {'tunnel':>12}  {'ratio':>7}  {'target':>11}  ok")
    for r in rows:
        print(
            f"{r['what']:<{width}}  {r['direct']:>12}  {r['tunnel']:>12}  {r['ratio']:>7}  "
            f"{r['target']:>11}  {'yes' if r['ok'] else 'NO'}"
        )
    return 0 if all(r["ok"] for r in rows) else 1


class TunnelClient:
    """Colab's tunnel protocol on one WebSocket, lean and synchronous like KeepAliveClient:
    messages encoded and answers decoded with the standard library's json and base64."""

    def __init__(self, http_root: str, token: str) -> None:
        from tests_support.colab_client import COLAB_ORIGIN, auth_url  # noqa: PLC0415
        from tests_support.raw_ws import RawWebSocket  # noqa: PLC0415

        parts = urlsplit(http_root)
        self.base_path = parts.path
        query = urlencode(
            {"min_version": "0.0.7", "jupyter_http_over_ws_auth_url": auth_url(http_root, token)}
        )
        self.ws = RawWebSocket(
            parts.port or 80,
            f"{parts.path}http_over_websocket?{query}",
            {"Origin": COLAB_ORIGIN},
        )
        self._ids = itertools.count()

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, bytes]:
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "method": method,
            "path": self.base_path + path.lstrip("/"),
        }
        if body is not None:
            message["body"] = body
        self.ws.send_frame(json.dumps(message).encode())
        status, pieces = 0, []
        while True:
            opcode, payload = self.ws.read_frame()
            if opcode == 0x8:
                raise ConnectionError("the tunnel closed")
            answer = json.loads(payload)
            status = answer.get("status", status)
            if "data" in answer:
                pieces.append(base64.b64decode(answer["data"]))
            if answer.get("done"):
                return status, b"".join(pieces)

    def close(self) -> None:
        self.ws.close()
