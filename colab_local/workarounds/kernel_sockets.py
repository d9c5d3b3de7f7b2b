"""Kernel messages without Nagle's delay: TCP_NODELAY on every socket that carries them.

A kernel answers a request with several small WebSocket frames (status busy, the reply,
status idle). tornado turns Nagle's algorithm off only while it finishes an HTTP response,
and jupyter_server never does on its kernel WebSockets, so the second small frame of each
burst waits for the client's delayed ACK: 40 ms on Linux, on every cell (measured:
kernel_info 41-44 ms through ``/api/kernels/<id>/channels`` against 2.3 ms to the kernel's
ZMQ sockets; with TCP_NODELAY 2.2 ms). Through an SSH tunnel the peer of that socket is
sshd on loopback, so every user pays it; plain Jupyter has the same stall.

Jupyter's kernel WebSocket gets it through its connection class (the one configured, or
the gateway's, whatever it is: subclassed, never replaced), colab-local's own sockets
(tunnel, relayed, and the relay's connection to this server) where they open.
"""

from __future__ import annotations

import contextlib
import functools
from typing import TYPE_CHECKING, Any

from tornado.iostream import IOStream

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

SETTING = "kernel_websocket_connection_class"


def set_nodelay(stream: IOStream | None) -> None:
    """Turn Nagle's algorithm off on ``stream`` (tornado leaves unix sockets alone)."""
    if stream is None or stream.closed():
        return
    with contextlib.suppress(OSError):  # the peer may be gone already
        stream.set_nodelay(True)


def handler_stream(handler: Any) -> IOStream | None:
    """The stream of a WebSocket handler's open connection, if any."""
    connection = getattr(handler, "ws_connection", None)
    return getattr(connection, "stream", None)


@functools.cache
def without_nagle(connection_class: type) -> type:
    """``connection_class`` whose sockets send each frame at once."""
    if getattr(connection_class, "_colab_local_nodelay", False):
        return connection_class

    class NoDelayKernelWebsocketConnection(connection_class):  # type: ignore[misc]
        _colab_local_nodelay = True

        async def connect(self, *args: Any, **kwargs: Any) -> Any:
            set_nodelay(handler_stream(self.websocket_handler))
            return await super().connect(*args, **kwargs)

    NoDelayKernelWebsocketConnection.__name__ = f"NoDelay{connection_class.__name__}"
    NoDelayKernelWebsocketConnection.__qualname__ = NoDelayKernelWebsocketConnection.__name__
    return NoDelayKernelWebsocketConnection


def kernel_websockets_without_nagle(serverapp: ServerApp) -> None:
    """At load time: the web application's kernel WebSocket connection class, subclassed."""
    settings = serverapp.web_app.settings
    configured = settings.get(SETTING)
    if isinstance(configured, type):
        settings[SETTING] = without_nagle(configured)
