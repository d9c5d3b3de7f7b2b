"""Colab's page, as far as ``google.colab`` needs it: runs cells over a kernel channel
(either flow), answers ``colab_request`` messages with ``input_reply`` on stdin the way
the page does (or not at all), and downloads files through the ``download_<uuid>`` comm.

Jupyter's JSON WebSocket protocol sends a message with buffers (a download's chunks) as
a binary frame: a count, offsets, the JSON, then the buffers (jupyter_server's
``serialize_binary_message``); ``decode`` reads it.
"""

from __future__ import annotations

import asyncio
import json
import re
import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests_support.colab_client import TIMEOUT, send_request

#: What the page answers a request with: ``(type, body) -> data``; None: no answer.
Answer = Callable[[str, Any], Any]
_DOWNLOAD_CALL = re.compile(r'download\("(download_[0-9a-f-]+)", "([^"]*)", (\d+)\)')


def decode(raw: str | bytes) -> dict[str, Any]:
    if isinstance(raw, str):
        message: dict[str, Any] = json.loads(raw)
        return message
    (count,) = struct.unpack_from("!I", raw)
    offsets = [*struct.unpack_from(f"!{count}I", raw, 4), len(raw)]
    message = json.loads(raw[offsets[0] : offsets[1]])
    message["buffers"] = [raw[offsets[i] : offsets[i + 1]] for i in range(1, count)]
    return message


@dataclass
class Cell:
    stdout: str = ""
    error: tuple[str, str] | None = None
    displays: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, Any]] = field(default_factory=list)

    def raise_error(self) -> Cell:
        if self.error is not None:
            raise AssertionError(f"the cell failed: {self.error[0]}: {self.error[1]}")
        return self


class FakePage:
    def __init__(self, ws: Any, session: str, answer: Answer | None = None) -> None:
        self.ws, self.session = ws, session
        self.answer = answer

    def _send(self, channel: str, msg_type: str, content: dict[str, Any]) -> str:
        msg_id = uuid.uuid4().hex
        header = {
            "msg_id": msg_id,
            "username": "colab",
            "session": self.session,
            "msg_type": msg_type,
            "version": "5.3",
        }
        self.ws.write_message(
            json.dumps(
                {
                    "header": header,
                    "parent_header": {},
                    "metadata": {},
                    "content": content,
                    "channel": channel,
                    "buffers": [],
                }
            )
        )
        return msg_id

    async def _read(self) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.ws.read_message(), TIMEOUT)
        if raw is None:
            raise ConnectionError(f"kernel channel closed: {self.ws.close_code}")
        return decode(raw)

    def _reply(self, message: dict[str, Any], cell: Cell) -> None:
        """A ``colab_request``, answered as the page answers it (if at all)."""
        metadata = message["metadata"]
        kind, body = metadata["colab_request_type"], message["content"]["request"]
        cell.requests.append((kind, body))
        data = self.answer(kind, body) if self.answer else None
        if data is None:
            return
        value = {"type": "colab_reply", "colab_msg_id": metadata["colab_msg_id"], "data": data}
        self._send("stdin", "input_reply", {"value": value})

    async def run(self, code: str) -> Cell:
        """Run a cell; what it printed, showed, raised and asked of the page."""
        msg_id = send_request(
            self.ws,
            "execute_request",
            {"code": code, "silent": False, "store_history": True, "allow_stdin": True},
            self.session,
        )
        cell = Cell()
        while True:
            message = await self._read()
            kind = message["msg_type"]
            if kind == "colab_request":
                self._reply(message, cell)
                continue
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if kind == "stream" and message["content"]["name"] == "stdout":
                cell.stdout += message["content"]["text"]
            elif kind == "error":
                cell.error = (message["content"]["ename"], message["content"]["evalue"])
            elif kind in ("display_data", "execute_result"):
                cell.displays.append(message["content"]["data"])
            elif kind == "status" and message["content"]["execution_state"] == "idle":
                return cell

    async def download(self, cell: Cell) -> tuple[str, bytes, int]:
        """What the page's download JavaScript does: open the comm, one empty message
        per chunk. The file's name, its bytes, and the size the kernel announced."""
        scripts = [d.get("application/javascript", "") for d in cell.displays]
        (target, name, size) = next(m.groups() for s in scripts if (m := _DOWNLOAD_CALL.search(s)))
        comm_id = uuid.uuid4().hex
        self._send("shell", "comm_open", {"comm_id": comm_id, "target_name": target, "data": {}})
        self._send("shell", "comm_msg", {"comm_id": comm_id, "data": {}})
        chunks: list[bytes] = []
        while True:
            message = await self._read()
            content = message.get("content", {})
            if content.get("comm_id") != comm_id:
                continue
            if message["msg_type"] == "comm_close":
                return name, b"".join(chunks), int(size)
            if message["msg_type"] == "comm_msg":
                chunks.extend(message.get("buffers", []))
                self._send("shell", "comm_msg", {"comm_id": comm_id, "data": {}})
