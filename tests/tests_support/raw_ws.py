"""A bare WebSocket client on a plain socket: it sends exactly the frames it is told to,
and reads only when asked, unlike library clients, which read eagerly. For clients that
misbehave on purpose: that never read, send fragment floods, bad UTF-8 or huge frames."""

from __future__ import annotations

import base64
import os
import socket
import struct

from tornado.util import _websocket_mask as websocket_mask  # tornado's C speedup

TEXT, BINARY, CONTINUATION = 0x1, 0x2, 0x0


class RawWebSocket:
    def __init__(self, port: int, path: str, headers: dict[str, str] | None = None) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        # As browsers do: a frame's header and payload, sent apart, go out at once
        # (with Nagle's algorithm the payload would wait for the header's ACK, ~40 ms).
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: localhost:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *(f"{name}: {value}" for name, value in (headers or {}).items()),
        ]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.reader = self.sock.makefile("rb")
        status = self.reader.readline()
        while self.reader.readline() not in (b"\r\n", b""):
            pass
        if b" 101 " not in status:
            raise ConnectionError(f"handshake refused: {status!r}")

    def send_frame(self, payload: bytes, opcode: int = TEXT, fin: bool = True) -> None:
        """One masked frame, as a client must send (header and payload sent apart, so a
        large payload is not copied once more)."""
        head, mask = _header(len(payload), opcode, fin), os.urandom(4)
        self.sock.sendall(head + mask)
        self.sock.sendall(_masked(payload, mask))

    def send_bytes(self, data: bytes) -> None:
        """Bytes as they are: frames made beforehand with ``frame``."""
        self.sock.sendall(data)

    def send_header_only(self, length: int, opcode: int = TEXT) -> None:
        """Announce a frame of ``length`` bytes and send none of them."""
        head = bytes([0x80 | opcode, 0x80 | 127]) + struct.pack(">Q", length) + os.urandom(4)
        self.sock.sendall(head)

    def read_frame(self) -> tuple[int, bytes]:
        """The next frame from the server: (opcode, payload); (8, b"") if the socket closed."""
        head = self._read_exactly(2)
        if not head:
            return 0x8, b""
        length = head[1] & 0x7F
        if length == 126:
            length = struct.unpack(">H", self._read_exactly(2))[0]
        elif length == 127:
            length = struct.unpack(">Q", self._read_exactly(8))[0]
        return head[0] & 0x0F, self._read_exactly(length)

    def _read_exactly(self, n: int) -> bytes:
        return self.reader.read(n)  # buffered: short only when the socket closed

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


def frame(payload: bytes, opcode: int = TEXT, fin: bool = True) -> bytes:
    """A masked frame of ``payload``, as a client must send it."""
    mask = os.urandom(4)
    return _header(len(payload), opcode, fin) + mask + _masked(payload, mask)


def _header(length: int, opcode: int, fin: bool) -> bytes:
    """A client frame's header, up to the mask: the payload length, marked masked."""
    head = bytes([(0x80 if fin else 0) | opcode])
    if length < 126:
        return head + bytes([0x80 | length])
    if length < 1 << 16:
        return head + bytes([0x80 | 126]) + struct.pack(">H", length)
    return head + bytes([0x80 | 127]) + struct.pack(">Q", length)


def _masked(payload: bytes, mask: bytes) -> bytes:
    return websocket_mask(mask, payload) if payload else b""
